//! The quarantine: registrations a claim could not decode (quarantine.lua moves them out of their batch) and legacy
//! elements the import could not read; listed with what can still be read of them, retried (retry.lua, with
//! enqueue.lua before it) or purged.
use once_cell::sync::Lazy;
use redis::Script;
use serde_json::Value;

use super::{lossy, score_ms, script, Buffer, PushOutcome};
use crate::core::codec;
use crate::core::error::{Error, Result};
use crate::core::id;
use crate::core::keys::{member_parts, Keys};
use crate::core::pool::{with_connection_for, Scope};

/// One HSCAN reply: the next cursor, then (field, value) pairs.
type ScanPage = (u64, Vec<(Vec<u8>, Vec<u8>)>);

static QUARANTINE: Lazy<Script> = Lazy::new(|| script(Some("allow-oom"), include_str!("quarantine.lua")));
static RETRY: Lazy<Script> = Lazy::new(|| Script::new(concat!(include_str!("enqueue.lua"), include_str!("retry.lua"))));

/// A registration the flush could not decode, set aside with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedEntry {
    /// `<event id>:<registration id>`: names the entry for retry and purge.
    pub entry: String,
    pub event_id: i64,
    pub id: String,
    pub reason: String,
    /// The bytes as they were stored (a damaged registration, or a legacy element the import could not read).
    pub stored: Vec<u8>,
    /// What the codec can still read of them: enough to retry the registration, or why not.
    pub recovered: codec::Recovered,
}

impl Buffer<'_> {
    /// Up to `limit` quarantined entries (of every shard), ordered by their names.
    pub fn quarantined(&self, limit: usize) -> Result<Vec<QuarantinedEntry>> {
        let mut all: Vec<QuarantinedEntry> = Vec::new();
        for k in 0..self.cfg.shards() {
            let key = self.shard(k).quarantine();
            let mut cursor: u64 = 0;
            loop {
                let (next, pairs): ScanPage = with_connection_for(self.cfg, Scope::Shard(k), |c| {
                    redis::cmd("HSCAN").arg(&key).arg(cursor).arg("COUNT").arg(500).query(c)
                })?;
                all.extend(pairs.into_iter().map(|(field, value)| quarantined_entry(lossy(field), value)));
                if next == 0 {
                    break;
                }
                cursor = next;
            }
        }
        all.sort_by(|a, b| (a.event_id, &a.id).cmp(&(b.event_id, &b.id)));
        all.truncate(limit);
        Ok(all)
    }

    /// Deletes a quarantined entry for good; false when there is no such entry (already retried or purged).
    pub fn purge_quarantined(&self, entry: &str) -> Result<bool> {
        let (event_id, _) = parse_entry(entry)?;
        let keys = self.shard_of_event(event_id);
        let key = keys.quarantine();
        let removed: i64 = with_connection_for(self.cfg, super::breaker_scope(&keys), |c| {
            redis::cmd("HDEL").arg(&key).arg(entry).query(c)
        })?;
        Ok(removed == 1)
    }

    /// Buffers a quarantined registration again — `data` and `unique_key` as the caller recovered them from its
    /// stored bytes — under its own id and time (the id's millisecond), and removes the entry, in one step: a crash
    /// leaves it either quarantined or buffered, never both. Its own id, because the registration may already be
    /// stored (a flusher stored it, then died before its ack and the redelivery was damaged; or the caller wrote it
    /// elsewhere after a failed push): the flush's store by id then keeps one. An entry whose id is no registration
    /// id (not one reg_buffer made) gets a new one. A unique-key marker held by another registration makes it a
    /// duplicate, and the entry stays.
    pub fn retry_quarantined(&self, entry: &str, data: &Value, unique_key: Option<&[u8]>) -> Result<PushOutcome> {
        let (event_id, old_id) = parse_entry(entry)?;
        if let Some(k) = unique_key {
            codec::check_unique_key(k)?;
        }
        let (micros, new_id) = match id::id_millis(old_id) {
            Some(ms) if old_id.len() == 26 => (ms * 1000, old_id.to_owned()),
            _ => {
                let now = id::now_micros();
                (now, id::new_id(now))
            }
        };
        let stored = codec::encode(data, micros, unique_key, self.cfg.max_payload_bytes)?;
        let k = self.shard_of_event(event_id);
        let mut keys = k.enqueue_keys(event_id);
        keys.push(k.quarantine());
        if let Some(key) = unique_key {
            keys.push(k.unique_marker(event_id, key));
        }
        let reply: i64 = self.invoke(&k, &RETRY, |call| {
            for key in &keys {
                call.key(key);
            }
            call.arg(k.script_args().0)
                .arg(entry)
                .arg(old_id)
                .arg(&new_id)
                .arg(&stored)
                .arg(score_ms(micros))
                .arg(event_id)
                .arg(self.cfg.dedupe_ttl);
        })?;
        match reply {
            1 => Ok(PushOutcome::Buffered(new_id)),
            0 => Ok(PushOutcome::Duplicate),
            _ => Err(Error::invalid(format!("no quarantined entry \"{entry}\": it was already retried or purged"))),
        }
    }

    /// Moves a claim's undecodable registrations (member, reason) out of its batch into the quarantine.
    pub(super) fn quarantine(&self, keys: &Keys, batch_id: &str, rejected: &[(String, String)]) -> Result<usize> {
        let (scope, sharded) = keys.script_args();
        let mut events: Vec<i64> = rejected.iter().filter_map(|(m, _)| member_parts(m)?.0.parse().ok()).collect();
        events.sort_unstable();
        events.dedup();
        let moved: i64 = self.invoke(keys, &QUARANTINE, |call| {
            call.key(keys.batch(batch_id)).key(keys.quarantine()).key(keys.stats());
            for &e in &events {
                call.key(keys.data(e)).key(keys.time_index(e));
            }
            call.arg(scope).arg(sharded).arg(batch_id);
            for (m, reason) in rejected {
                call.arg(m).arg(reason);
            }
        })?;
        Ok(moved as usize)
    }
}

/// `<event id>:<registration id>` → its parts.
fn parse_entry(entry: &str) -> Result<(i64, &str)> {
    let parsed = member_parts(entry).and_then(|(e, id)| Some((e.parse::<i64>().ok().filter(|&e| e > 0)?, id)));
    match parsed {
        Some((e, id)) if !id.is_empty() => Ok((e, id)),
        _ => Err(Error::invalid(format!("\"{entry}\" names no quarantined entry (<event id>:<registration id>)"))),
    }
}

/// A quarantine hash field and value (`<reason>\n<stored bytes>`) → the entry.
fn quarantined_entry(entry: String, value: Vec<u8>) -> QuarantinedEntry {
    let (event_id, id) = match member_parts(&entry) {
        Some((e, id)) => (e.parse().unwrap_or(0), id.to_owned()),
        None => (0, String::new()),
    };
    let (reason, stored) = match value.iter().position(|&b| b == b'\n') {
        Some(nl) => (lossy(value[..nl].to_vec()), value[nl + 1..].to_vec()),
        None => (lossy(value), Vec::new()),
    };
    let mut recovered = codec::recover(&stored);
    if event_id <= 0 {
        recovered.json = None;
        recovered.unique_key = None;
        recovered.problem = Some("the entry names no event".to_owned());
    }
    QuarantinedEntry { entry, event_id, id, reason, stored, recovered }
}
