//! The buffer operations — push, claim, ack, quarantine, stats, range, import — each one Redis script (one round
//! trip) over the layout in `keys`.
use once_cell::sync::Lazy;
use redis::Script;
use serde_json::Value;

use crate::core::codec::{self, StoredRegistration};
use crate::core::config::{Config, MAX_CLAIM};
use crate::core::error::{Error, Result};
use crate::core::id;
use crate::core::keys::{member, Keys};
use crate::core::metrics;
use crate::core::pool::with_connection;

/// A script with the key prelude. `flags` (Redis 7 shebang flags) let the scripts that drain the buffer, or only
/// read it, run while Redis is at its maxmemory; push and import stay refused there (OOM → CapacityException).
fn script(flags: Option<&str>, body: &str) -> Script {
    let shebang = flags.map(|f| format!("#!lua flags={f}\n")).unwrap_or_default();
    Script::new(&format!("{shebang}{}{}", Keys::lua_prelude(), body))
}

// The hot path: no prelude, every key passed in KEYS.
static PUSH: Lazy<Script> = Lazy::new(|| Script::new(include_str!("lua/push.lua")));
static CLAIM: Lazy<Script> = Lazy::new(|| script(Some("allow-oom"), include_str!("lua/claim.lua")));
static ACK: Lazy<Script> = Lazy::new(|| script(Some("allow-oom"), include_str!("lua/ack.lua")));
static QUARANTINE: Lazy<Script> = Lazy::new(|| script(Some("allow-oom"), include_str!("lua/quarantine.lua")));
static STATS: Lazy<Script> = Lazy::new(|| script(Some("no-writes"), include_str!("lua/stats.lua")));
static RANGE: Lazy<Script> = Lazy::new(|| script(Some("no-writes"), include_str!("lua/range.lua")));
static IMPORT: Lazy<Script> = Lazy::new(|| script(None, include_str!("lua/import.lua")));

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Buffered(String),
    Duplicate,
}

/// One registration handed out by a claim or a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct BufferedRegistration {
    pub id: String,
    pub event_id: i64,
    pub stored: StoredRegistration,
}

/// A claimed batch: its id (for ack) and its registrations. An empty batch has an empty id.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub id: String,
    pub registrations: Vec<BufferedRegistration>,
    /// Registrations of this claim that could not be decoded and were moved to the quarantine.
    pub quarantined: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub pending: i64,
    pub in_flight: i64,
    pub buffered: i64,
    pub events: i64,
    pub oldest_pending_age: Option<f64>,
    pub quarantined: i64,
    pub maxmemory_policy: Option<String>,
    /// Seconds since any flusher last acknowledged a batch (None: never): how long the flush has been silent.
    pub last_ack_age: Option<f64>,
    /// Lifetime counters, shared by every process using this prefix: pushed, duplicates, claimed, acked, …
    pub counters: Vec<(String, i64)>,
}

pub const COUNTERS: [&str; 6] = ["pushed", "duplicates", "claimed", "acked", "redelivered", "lost"];

pub struct Buffer<'a> {
    cfg: &'a Config,
    keys: Keys,
}

impl<'a> Buffer<'a> {
    pub fn new(cfg: &'a Config) -> Self {
        Buffer { cfg, keys: Keys::new(&cfg.key_prefix) }
    }

    /// Buffers one registration. Errors carry the registration id that was tried.
    pub fn push(&self, event_id: i64, data: &Value, unique_key: Option<&[u8]>) -> Result<PushOutcome> {
        check_event(event_id)?;
        if let Some(k) = unique_key {
            codec::check_unique_key(k)?;
        }
        let micros = id::now_micros();
        let id = id::new_id(micros);
        let entry = codec::encode(data, micros, unique_key, self.cfg.max_payload_bytes)?;
        let k = &self.keys;
        let mut keys = vec![k.queue(event_id), k.data(event_id), k.time_index(event_id), k.ready(), k.oldest(), k.stats()];
        if let Some(key) = unique_key {
            keys.push(k.unique_marker(event_id, key));
        }
        let score = score_ms(micros);
        let mut attempt = 0;
        let reply: i64 = with_connection(self.cfg, |c| {
            attempt += 1;
            let mut call = PUSH.prepare_invoke();
            for key in &keys {
                call.key(key);
            }
            call.arg(k.prefix())
                .arg(&id)
                .arg(&entry)
                .arg(&score)
                .arg(event_id)
                .arg(self.cfg.max_pending)
                .arg(self.cfg.dedupe_ttl)
                .arg(if attempt > 1 { "1" } else { "0" });
            call.invoke(c)
        })
        .map_err(|e| e.with_registration_id(&id))?;
        match reply {
            1 => {
                metrics::count(|m| m.pushed += 1);
                Ok(PushOutcome::Buffered(id))
            }
            0 => {
                metrics::count(|m| m.duplicates += 1);
                Ok(PushOutcome::Duplicate)
            }
            _ => Err(Error::capacity(format!(
                "the buffer holds reg_buffer.max_pending ({}) registrations",
                self.cfg.max_pending
            ))
            .with_registration_id(&id)),
        }
    }

    /// Claims up to `limit` registrations for `lease_seconds`.
    pub fn claim(&self, limit: i64, lease_seconds: i64) -> Result<Batch> {
        if !(1..=MAX_CLAIM).contains(&limit) {
            return Err(Error::invalid(format!("limit must be between 1 and {MAX_CLAIM}, got {limit}")));
        }
        if !(1..=366 * 24 * 3600).contains(&lease_seconds) {
            return Err(Error::invalid(format!("lease_seconds must be between 1 and one year, got {lease_seconds}")));
        }
        let batch_id = id::new_id(id::now_micros());
        let reply: Vec<Vec<u8>> = with_connection(self.cfg, |c| {
            CLAIM.arg(self.keys.prefix()).arg(limit).arg(lease_seconds * 1000).arg(&batch_id).invoke(c)
        })?;
        let mut parts = reply.into_iter();
        let id = parts.next().map(lossy).unwrap_or_default();
        let mut batch = Batch { id, registrations: Vec::new(), quarantined: 0 };
        let mut rejected: Vec<(String, String)> = Vec::new();
        let rest: Vec<Vec<u8>> = parts.collect();
        for triple in rest.chunks(3) {
            let [event, reg_id, entry] = triple else { break };
            let event_id: i64 = lossy(event.clone()).parse().unwrap_or(0);
            let reg_id = lossy(reg_id.clone());
            match codec::decode(entry) {
                Ok(stored) => batch.registrations.push(BufferedRegistration { id: reg_id, event_id, stored }),
                Err(e) => rejected.push((member(event_id, &reg_id), e.message)),
            }
        }
        if !rejected.is_empty() {
            batch.quarantined = self.quarantine(&batch.id, &rejected)?;
        }
        metrics::count(|m| m.claimed += batch.registrations.len() as u64);
        Ok(batch)
    }

    fn quarantine(&self, batch_id: &str, rejected: &[(String, String)]) -> Result<usize> {
        let mut call = QUARANTINE.prepare_invoke();
        call.arg(self.keys.prefix()).arg(batch_id);
        for (m, reason) in rejected {
            call.arg(m).arg(reason);
        }
        let moved: i64 = with_connection(self.cfg, |c| call.invoke(c))?;
        Ok(moved as usize)
    }

    /// Acknowledges a stored batch; returns how many registrations left Redis.
    pub fn ack(&self, batch_id: &str) -> Result<i64> {
        if batch_id.is_empty() {
            return Ok(0);
        }
        let removed: i64 = with_connection(self.cfg, |c| ACK.arg(self.keys.prefix()).arg(batch_id).invoke(c))?;
        metrics::count(|m| m.acked += removed.max(0) as u64);
        Ok(removed)
    }

    pub fn stats(&self) -> Result<Stats> {
        let (counters, events, oldest, quarantined, now_ms): (Vec<(String, i64)>, i64, Option<f64>, i64, f64) =
            with_connection(self.cfg, |c| STATS.arg(self.keys.prefix()).invoke(c))?;
        let get = |name: &str| counters.iter().find(|(k, _)| k == name).map_or(0, |(_, v)| *v);
        let buffered = (get("pushed") - get("acked") - get("lost") - get("dropped")).max(0);
        let in_flight = get("in_flight").max(0);
        // Managed Redis services often refuse CONFIG: the policy is then unknown, not an error.
        let policy: Option<String> = with_connection(self.cfg, |c| {
            let pair: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG").arg("GET").arg("maxmemory-policy").query(c);
            Ok(pair.ok().and_then(|p| p.into_iter().nth(1)))
        })?;
        Ok(Stats {
            pending: (buffered - in_flight).max(0),
            in_flight,
            buffered,
            events,
            oldest_pending_age: oldest.map(|ms| ((now_ms - ms) / 1000.0).max(0.0)),
            quarantined,
            maxmemory_policy: policy,
            last_ack_age: counters.iter().find(|(k, _)| k == "last_ack_ms").map(|(_, ms)| ((now_ms - *ms as f64) / 1000.0).max(0.0)),
            counters: COUNTERS.iter().map(|&n| (n.to_owned(), get(n))).collect(),
        })
    }

    /// Still-buffered registrations of one event pushed between `from` and `to` (Unix seconds), oldest first.
    pub fn range(&self, event_id: i64, from: f64, to: f64, limit: i64) -> Result<Vec<BufferedRegistration>> {
        check_event(event_id)?;
        if limit <= 0 {
            return Err(Error::invalid(format!("limit must be greater than 0, got {limit}")));
        }
        if from.is_nan() || to.is_nan() {
            return Err(Error::invalid("from and to must be numbers, not NAN"));
        }
        let bound = |s: f64| {
            if s == f64::INFINITY { "+inf".to_owned() } else if s == f64::NEG_INFINITY { "-inf".to_owned() } else { format!("{:.3}", s * 1000.0) }
        };
        let reply: Vec<Vec<u8>> = with_connection(self.cfg, |c| {
            RANGE
                .key(self.keys.time_index(event_id))
                .key(self.keys.data(event_id))
                .arg(self.keys.prefix())
                .arg(bound(from))
                .arg(bound(to))
                .arg(limit)
                .invoke(c)
        })?;
        let mut out = Vec::with_capacity(reply.len() / 2);
        for pair in reply.chunks(2) {
            let [reg_id, entry] = pair else { break };
            // An undecodable entry is left for the flush to quarantine; a read-only query skips it.
            if let Ok(stored) = codec::decode(entry) {
                out.push(BufferedRegistration { id: lossy(reg_id.clone()), event_id, stored });
            }
        }
        Ok(out)
    }

    /// Moves the legacy snippet's lists (`event_reg_buffer:<event_id>`, JSON elements LPUSHed) into the buffer,
    /// oldest first, a few at a time, each step atomic. Uses SCAN, never KEYS.
    pub fn import_legacy(&self, pattern: &str) -> Result<u64> {
        let mut moved = 0u64;
        let mut cursor: u64 = 0;
        loop {
            let (next, lists): (u64, Vec<String>) = with_connection(self.cfg, |c| {
                redis::cmd("SCAN").arg(cursor).arg("MATCH").arg(pattern).arg("COUNT").arg(500).arg("TYPE").arg("list").query(c)
            })?;
            for list in lists {
                let Some(event_id) = list.rsplit(':').next().and_then(|s| s.parse::<i64>().ok()).filter(|&e| e > 0) else {
                    continue;
                };
                moved += self.import_list(&list, event_id)?;
            }
            if next == 0 {
                return Ok(moved);
            }
            cursor = next;
        }
    }

    fn import_list(&self, list: &str, event_id: i64) -> Result<u64> {
        const STEP: i64 = 200;
        let k = &self.keys;
        let mut moved = 0u64;
        loop {
            let tail: Vec<Vec<u8>> = with_connection(self.cfg, |c| redis::cmd("LRANGE").arg(list).arg(-STEP).arg(-1).query(c))?;
            if tail.is_empty() {
                return Ok(moved);
            }
            let mut call = IMPORT.prepare_invoke();
            call.key(list)
                .key(k.queue(event_id))
                .key(k.data(event_id))
                .key(k.time_index(event_id))
                .key(k.ready())
                .key(k.oldest())
                .key(k.stats())
                .key(k.quarantine());
            call.arg(k.prefix()).arg(event_id).arg(tail.len());
            for element in tail.iter().rev() {
                let (micros, entry, reason) = match legacy_registration(element) {
                    Ok((micros, data)) => match codec::encode(&data, micros, None, usize::MAX) {
                        Ok(entry) => (micros, entry, String::new()),
                        Err(e) => (micros, Vec::new(), e.message),
                    },
                    Err(e) => (id::now_micros(), Vec::new(), e.message),
                };
                call.arg(element).arg(id::id_at(micros)).arg(entry).arg(score_ms(micros)).arg(reason);
            }
            let n: i64 = with_connection(self.cfg, |c| call.invoke(c))?;
            if n > 0 {
                moved += n as u64;
            }
        }
    }
}

/// `{"timestamp": <unix seconds>, "registration_details": {…}}` → (µs, data).
fn legacy_registration(element: &[u8]) -> Result<(u64, Value)> {
    let bad = |why: &str| Error::invalid(format!("legacy element is malformed: {why}"));
    let value: Value = serde_json::from_slice(element).map_err(|e| bad(&e.to_string()))?;
    let Value::Object(mut fields) = value else { return Err(bad("not a JSON object")) };
    let seconds = fields.get("timestamp").and_then(Value::as_f64).filter(|s| s.is_finite() && *s >= 0.0).ok_or_else(|| bad("no timestamp"))?;
    let data = fields.remove("registration_details").ok_or_else(|| bad("no registration_details"))?;
    if !(data.is_object() || data.is_array()) {
        return Err(bad("registration_details is not an array"));
    }
    Ok(((seconds * 1e6) as u64, data))
}

fn check_event(event_id: i64) -> Result<()> {
    if event_id <= 0 {
        return Err(Error::invalid(format!("event_id must be greater than 0, got {event_id}")));
    }
    Ok(())
}

/// A registration's time as the index's score: milliseconds with microsecond decimals.
fn score_ms(micros: u64) -> String {
    format!("{}.{:03}", micros / 1000, micros % 1000)
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
