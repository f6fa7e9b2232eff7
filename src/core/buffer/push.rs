//! Push: one registration buffered in one round trip, written with its data and named in the shard's inbox (claim
//! and stats file it: file.rs). A push with a limit or seats runs push.lua (rate.lua and seats.lua before it),
//! counted against them in the same step; any other on a single server is a MULTI of HSET and RPUSH (with the cap's
//! counters read in it), the cost of a peer queue's push. With a unique key the HSET is the marker's SET NX, the
//! marker holding the registration until filing moves it (filing.lua), and the RPUSH names it in the held list: SET
//! NX's reply tells a duplicate, whose held entry the push then removes (unhold.lua). The hot path: the command is
//! written straight into a packed buffer (no prelude, every key in KEYS) instead of going through `invoke`.
use once_cell::sync::Lazy;
use redis::Script;
use serde_json::Value;

use super::seats::{seat_count, sold_out, unknown_count, SeatCount, Seats};
use super::{breaker_scope, check_event, push_score_ms, Buffer, PushOutcome, RateLimit};
use crate::core::codec;
use crate::core::config::Durability;
use crate::core::config::Topology;
use crate::core::error::{Error, Result};
use crate::core::id;
use crate::core::keys::{push_inbox_member, EventKey, PUSH_KEYS};
use crate::core::metrics;
use crate::core::packed::with_packed;
use crate::core::pool::{check_held_off, with_connection_for};
use room::Written;

/// push.lua with the fragments it calls (public for the tests that run it by hand).
pub const PUSH_LUA: &str = concat!(include_str!("rate.lua"), include_str!("seats.lua"), include_str!("push.lua"));
static PUSH: Lazy<Script> = Lazy::new(|| Script::new(PUSH_LUA));
static UNHOLD: Lazy<Script> = Lazy::new(|| Script::new(include_str!("unhold.lua")));

/// A token (a signed form's nonce) that may carry at most `uses` registrations of one event; its count is
/// kept until `expires_at` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseLimit<'t> {
    pub token: &'t [u8],
    pub uses: u32,
    pub expires_at: u64,
}

impl UseLimit<'_> {
    fn check(&self) -> Result<()> {
        if self.token.is_empty() || self.token.len() > 1024 {
            return Err(Error::invalid(format!(
                "a use limit's token must be 1 to 1024 bytes, got {}",
                self.token.len()
            )));
        }
        if self.uses == 0 {
            return Err(Error::invalid("a use limit's uses must be at least 1"));
        }
        if self.expires_at == 0 {
            return Err(Error::invalid("a use limit's expires_at must be a Unix time in seconds"));
        }
        Ok(())
    }
}

/// The limits one push is counted against, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushLimits<'a> {
    pub uses: Option<UseLimit<'a>>,
    pub rate: Option<RateLimit<'a>>,
    /// The event's seats: a booking takes one (or a waitlist place) in the same step, or is refused.
    pub seats: Option<Seats>,
}

/// What a booking got: the push's outcome, its place, and the event's count after it (None for a duplicate whose
/// event has no known count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    pub outcome: PushOutcome,
    pub waitlisted: bool,
    pub count: Option<SeatCount>,
}

impl Buffer<'_> {
    /// Buffers one registration. Errors carry the registration id that was tried.
    pub fn push(&self, event_id: i64, data: &Value, unique_key: Option<&[u8]>) -> Result<PushOutcome> {
        self.push_limited(event_id, data, unique_key, None)
    }

    /// Buffers one registration, counting it against `limit` in the same step: once the token carried
    /// `limit.uses` registrations, the push is refused with a Limit error and nothing is written.
    pub fn push_limited(
        &self,
        event_id: i64,
        data: &Value,
        unique_key: Option<&[u8]>,
        limit: Option<&UseLimit>,
    ) -> Result<PushOutcome> {
        let limits = PushLimits { uses: limit.cloned(), ..PushLimits::default() };
        self.push_json(event_id, &codec::to_json(data)?, unique_key, &limits)
    }

    /// `push_limited` for a registration already encoded, with every limit: `json` is the JSON text of an array
    /// or object, as `codec::to_json` writes it (the binding writes it straight from the PHP array).
    pub fn push_json(
        &self,
        event_id: i64,
        json: &[u8],
        unique_key: Option<&[u8]>,
        limits: &PushLimits,
    ) -> Result<PushOutcome> {
        self.book_json(event_id, json, unique_key, limits).map(|b| b.outcome)
    }

    /// `push_json` that also tells the registration's place when `limits.seats` is set: one seat (or waitlist place)
    /// taken in the same step as the write, or a SoldOut / SeatsUnknown error and nothing written.
    pub fn book_json(
        &self,
        event_id: i64,
        json: &[u8],
        unique_key: Option<&[u8]>,
        limits: &PushLimits,
    ) -> Result<Booking> {
        check_event(event_id)?;
        if let Some(k) = unique_key {
            codec::check_unique_key(k)?;
        }
        let (limit, rate, seats) = (limits.uses.as_ref(), limits.rate.as_ref(), limits.seats.as_ref());
        if let Some(l) = limit {
            l.check()?;
        }
        if let Some(r) = rate {
            r.check()?;
        }
        let micros = id::now_micros();
        let id = id::new_id(micros);
        codec::check_size(json, self.cfg.max_payload_bytes)?;
        let k = &self.shard_of_event(event_id);
        let keys = PUSH_KEYS.len()
            + usize::from(unique_key.is_some())
            + usize::from(limit.is_some())
            + usize::from(rate.is_some())
            + usize::from(seats.is_some());
        // On a cluster each shard enforces the whole cap, so one event (one shard) can use all of it.
        let max_pending = self.cfg.max_pending;
        // A push with no limit and no seats is a transaction of two native writes, not a script (see `room`). With a
        // unique key the first is the marker's SET NX, holding the registration until it is filed (filing.lua).
        let unlimited = limit.is_none() && rate.is_none() && seats.is_none();
        let fast = unlimited && self.cfg.topology == Topology::Single && room::allows_unchecked_push(self.cfg);
        let mut attempt = 0;
        check_held_off(self.cfg, breaker_scope(k)).map_err(|e| e.with_registration_id(&id))?;
        let (reply, shortfall): (redis::Value, Option<Error>) = with_connection_for(self.cfg, breaker_scope(k), |c| {
            attempt += 1;
            let reply = with_packed(|p| {
                let member = |m: &mut String| push_inbox_member(m, event_id, &id, micros / 1000, unique_key);
                let entry_of = || {
                    let mut m = String::new();
                    member(&mut m);
                    m
                };
                let entry = |e: &mut Vec<u8>| {
                    codec::write_header(e, micros, unique_key);
                    e.extend_from_slice(json);
                };
                // A push sent again on a new connection runs the script, which tells whether the first got through.
                if fast && attempt == 1 {
                    // A held registration is named in a list of its own: a build from before it would drop its entry.
                    let (list, other) = match unique_key {
                        None => (EventKey::Inbox, EventKey::Held),
                        Some(_) => (EventKey::Held, EventKey::Inbox),
                    };
                    p.begin(1).arg(b"MULTI");
                    match unique_key {
                        None => {
                            p.then(4).arg(b"HSET").arg_text(|s| k.push_key(s, event_id, EventKey::Data));
                            p.arg(id.as_bytes()).arg_bytes(entry);
                        }
                        Some(key) => {
                            p.then(4).arg(b"SET").arg_text(|s| k.push_key(s, event_id, EventKey::UniqueMarker(key)));
                            p.arg_bytes(|v| codec::write_held(v, &id, self.cfg.dedupe_ttl, micros, key, json));
                            p.arg(b"NX");
                        }
                    }
                    p.then(3).arg(b"RPUSH").arg_text(|s| k.push_key(s, event_id, list)).arg_text(member);
                    if max_pending > 0 {
                        p.then(6).arg(b"HMGET").arg_text(|s| k.push_key(s, event_id, EventKey::Stats));
                        p.arg(b"pushed").arg(b"acked").arg(b"lost").arg(b"dropped");
                        p.then(2).arg(b"LLEN").arg_text(|s| k.push_key(s, event_id, other));
                    }
                    p.then(1).arg(b"EXEC");
                    let commands = if max_pending > 0 { 6 } else { 4 };
                    if let Some(replies) = c.transact_packed(p, commands) {
                        match room::after_transaction(self.cfg, replies?)? {
                            Written::Done(redis::Value::Int(0)) => {
                                // A duplicate: its entry names nothing; removed now rather than weigh on the cap
                                // until a filing drops it.
                                unhold(c, k, &entry_of(), true)?;
                                return Ok(redis::Value::Int(0));
                            }
                            Written::Done(done) => return Ok::<_, redis::RedisError>(done),
                            Written::Nothing => {}
                            Written::Half(e, entry_written) => {
                                // One of the two writes was refused: the other is taken back, so that nothing
                                // half-written outlives the error. Were the removal's connection to drop, the push must
                                // not be sent again (the script would find its marker and answer buffered): its error
                                // is one that is not retried.
                                let mut undo = redis::Cmd::new();
                                match (entry_written, unique_key) {
                                    (true, _) => {
                                        let mut named_in = String::new();
                                        k.push_key(&mut named_in, event_id, list);
                                        undo.arg("LREM").arg(named_in).arg(-1).arg(entry_of())
                                    }
                                    (false, None) => undo.arg("HDEL").arg(k.data(event_id)).arg(&id),
                                    (false, Some(key)) => undo.arg("DEL").arg(k.unique_marker(event_id, key)),
                                };
                                if let Err(u) = undo.query::<()>(c) {
                                    let detail = format!("{e}; removing what it wrote failed: {u}");
                                    return Err(
                                        (redis::ErrorKind::UnexpectedReturnType, "push half written", detail).into()
                                    );
                                }
                                return Err(e);
                            }
                        }
                    }
                }
                // push.lua's arguments: the limits' six are empty when not set (see its header).
                p.begin(3 + keys + 13).arg(b"EVALSHA").arg(PUSH.get_hash().as_bytes()).arg_int(keys);
                for which in PUSH_KEYS {
                    p.arg_text(|s| k.push_key(s, event_id, which));
                }
                if let Some(key) = unique_key {
                    p.arg_text(|s| k.push_key(s, event_id, EventKey::UniqueMarker(key)));
                }
                if let Some(l) = limit {
                    p.arg_text(|s| k.push_key(s, event_id, EventKey::UseCounter(l.token)));
                }
                if let Some(r) = rate {
                    p.arg_text(|s| k.push_key(s, event_id, EventKey::RateCounter(r.client)));
                }
                if seats.is_some() {
                    p.arg_text(|s| k.push_key(s, event_id, EventKey::Seats));
                }
                p.arg(id.as_bytes())
                    .arg_bytes(entry)
                    .arg_text(|score| push_score_ms(score, micros))
                    .arg_int(event_id)
                    .arg_int(max_pending)
                    .arg(if attempt > 1 { b"1" } else { b"0" })
                    .arg_int(self.cfg.dedupe_ttl);
                match limit {
                    Some(l) => p.arg_int(l.uses).arg_int(l.expires_at),
                    None => p.arg(b"").arg(b""),
                };
                match rate {
                    Some(r) => p.arg_int(r.limit).arg_int(r.window),
                    None => p.arg(b"").arg(b""),
                };
                match seats {
                    Some(s) => p.arg_int(s.capacity).arg(if s.waitlist { b"1" } else { b"0" }),
                    None => p.arg(b"").arg(b""),
                };
                let reply = c.eval_packed(&PUSH, p)?;
                if let (true, Some(_), redis::Value::Int(0)) = (fast && attempt > 1, unique_key, &reply) {
                    // A duplicate whose first attempt, a transaction, may have named an entry: removed, uncounted
                    // (the script counted it).
                    unhold(c, k, &entry_of(), false)?;
                }
                // {1, buffered now}: a push under a cap tells how much room is left.
                Ok(match reply {
                    redis::Value::Array(parts) if seats.is_none() && parts.first() == Some(&redis::Value::Int(1)) => {
                        if let Some(redis::Value::Int(n)) = parts.get(1) {
                            room::observe(self.cfg, *n);
                        }
                        redis::Value::Int(1)
                    }
                    other => other,
                })
            })?;
            // WAIT is routed by the event's key; made only when durability asks for replicas.
            let buffered = match &reply {
                redis::Value::Int(1) => true,
                redis::Value::Array(parts) => parts.first() == Some(&redis::Value::Int(1)),
                _ => false,
            };
            let shortfall = match self.cfg.durability {
                Durability::Replica { .. } if buffered => self.replicate(c, &k.data(event_id))?,
                _ => None,
            };
            Ok((reply, shortfall))
        })
        .map_err(|e| e.with_registration_id(&id))?;
        if let Some(e) = shortfall {
            // The next pushes to this shard would wait out WAIT's timeout too: they fail at once for a while.
            self.hold_off_short_of_replicas(k, &e);
            return Err(e.with_registration_id(&id));
        }
        let plain = |outcome| Booking { outcome, waitlisted: false, count: None };
        match reply {
            redis::Value::Int(1) => {
                metrics::count(|m| m.pushed += 1);
                Ok(plain(PushOutcome::Buffered(id)))
            }
            redis::Value::Int(0) => {
                metrics::count(|m| m.duplicates += 1);
                Ok(plain(PushOutcome::Duplicate))
            }
            redis::Value::Array(parts) if matches!(parts.first(), Some(redis::Value::Int(0 | 1))) => {
                let buffered = parts[0] == redis::Value::Int(1);
                metrics::count(|m| if buffered { m.pushed += 1 } else { m.duplicates += 1 });
                Ok(Booking {
                    outcome: if buffered { PushOutcome::Buffered(id) } else { PushOutcome::Duplicate },
                    waitlisted: parts.get(1) == Some(&redis::Value::Int(1)),
                    count: seat_count(parts.get(2), parts.get(3)),
                })
            }
            redis::Value::Int(-6) => Err(unknown_count(event_id)),
            redis::Value::Array(parts) if parts.first() == Some(&redis::Value::Int(-5)) => {
                Err(sold_out(event_id, seats, seat_count(parts.get(1), parts.get(2))))
            }
            redis::Value::Int(-2) => Err(Error::limit(format!(
                "this token already carried the {} registration(s) it allows, or it has expired",
                limit.map_or(0, |l| l.uses)
            ))),
            redis::Value::Int(-1) => Err(Error::capacity(format!(
                "the buffer holds reg_buffer.max_pending ({}) registrations{}",
                self.cfg.max_pending,
                if self.cfg.shards() > 1 { " in this event's shard" } else { "" }
            ))
            .with_registration_id(&id)),
            redis::Value::Array(parts) if parts.first() == Some(&redis::Value::Int(-3)) => {
                let retry_after = match parts.get(1) {
                    Some(redis::Value::Int(n)) => u64::try_from(*n).unwrap_or(0),
                    _ => 0,
                };
                Err(Error::rate_limit(
                    format!(
                        "this client already made the {} push(es) its rate limit allows in {} s; retry after {retry_after} s",
                        rate.map_or(0, |r| r.limit),
                        rate.map_or(0, |r| r.window)
                    ),
                    retry_after,
                ))
            }
            other => Err(Error::server(format!("push.lua answered {other:?}")).with_registration_id(&id)),
        }
    }
}

/// Removes a duplicate's entry from the held list (unhold.lua), counting the duplicate when `count`.
fn unhold(
    c: &mut crate::core::pool::Link,
    k: &crate::core::keys::Keys,
    entry: &str,
    count: bool,
) -> redis::RedisResult<()> {
    super::invoke::<i64>(c, &UNHOLD, |call| {
        call.key(k.held()).key(k.stats()).arg(entry).arg(u8::from(count));
    })
    .map(drop)
}

/// How full the buffer was when this process last pushed, for `reg_buffer.max_pending`: the cap is checked inside
/// push.lua, but a plain push is a transaction that cannot refuse. It is sent only while the last figure this
/// process saw leaves room for it (with no cap, always); every plain push reads the figure afresh in the same
/// transaction, and a scripted one returns it. So one process alone stops exactly at the cap, and with many the
/// buffer passes it by at most one registration per process whose figure was stale.
mod room {
    use std::cell::RefCell;

    use crate::core::config::Config;

    thread_local! {
        /// (Redis URL, key prefix, registrations buffered then).
        static SEEN: RefCell<Option<(String, String, i64)>> = const { RefCell::new(None) };
        /// (Redis URL, key prefix) where Redis refused MULTI and ran the writes one by one: pushes there run the
        /// script, which is atomic and checks the cap itself.
        static NO_TRANSACTIONS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
    }

    /// Whether a figure noted under (url, prefix) is this site's.
    fn of_site(cfg: &Config, url: &str, prefix: &str) -> bool {
        url == cfg.redis_url && prefix == cfg.key_prefix
    }

    pub fn allows_unchecked_push(cfg: &Config) -> bool {
        if NO_TRANSACTIONS.with(|n| n.borrow().iter().any(|(url, prefix)| of_site(cfg, url, prefix))) {
            return false;
        }
        let max = cfg.max_pending as i64;
        max <= 0
            || SEEN.with(|s| {
                matches!(&*s.borrow(), Some((url, prefix, buffered)) if of_site(cfg, url, prefix) && buffered + 1 < max)
            })
    }

    pub fn observe(cfg: &Config, buffered: i64) {
        SEEN.with(|s| {
            let mut seen = s.borrow_mut();
            match &mut *seen {
                Some((url, prefix, b)) if of_site(cfg, url, prefix) => *b = buffered,
                _ => *seen = Some((cfg.redis_url.clone(), cfg.key_prefix.clone(), buffered)),
            }
        });
    }

    /// What a transaction push's replies say was written.
    pub enum Written {
        /// Buffered (1) or a duplicate (0: the marker was held; its entry in the held list names nothing).
        Done(redis::Value),
        /// EXEC discarded the transaction (a command refused while queued, EXEC itself refused): nothing was written,
        /// the caller runs the script.
        Nothing,
        /// One write was refused: the caller takes the other back — the list's entry (true), or the data or the
        /// marker (false).
        Half(redis::RedisError, bool),
    }

    /// The replies to a transaction push's MULTI, HSET (or the marker's SET NX), RPUSH[, HMGET, LLEN], EXEC, with the
    /// figure noted. A refused MULTI (an ACL without it, a proxy without transactions) let the writes run one by one:
    /// their replies say the same, and the site's pushes run the script from then on.
    pub fn after_transaction(cfg: &Config, replies: Vec<redis::Value>) -> redis::RedisResult<Written> {
        let mut replies = replies.into_iter();
        let (first, list, counters, other) = match replies.next() {
            Some(redis::Value::ServerError(refused)) => match replies.next() {
                Some(first @ (redis::Value::Int(_) | redis::Value::Okay | redis::Value::Nil)) => {
                    NO_TRANSACTIONS.with(|n| n.borrow_mut().push((cfg.redis_url.clone(), cfg.key_prefix.clone())));
                    (first, replies.next(), replies.next(), replies.next())
                }
                _ => return Err(refused.into()),
            },
            _ => {
                let exec = match replies.last() {
                    Some(redis::Value::ServerError(e)) if e.code() == "EXECABORT" => return Ok(Written::Nothing),
                    Some(redis::Value::ServerError(e)) => return Err(e.into()),
                    Some(exec) => exec,
                    None => return Ok(Written::Nothing),
                };
                let redis::Value::Array(parts) = exec else {
                    return Err((redis::ErrorKind::UnexpectedReturnType, "EXEC answered", format!("{exec:?}")).into());
                };
                let mut parts = parts.into_iter();
                (parts.next().unwrap_or(redis::Value::Nil), parts.next(), parts.next(), parts.next())
            }
        };
        let named = match list {
            Some(redis::Value::Int(n)) => Ok(n),
            Some(redis::Value::ServerError(e)) => Err(e.into()),
            other => Err((redis::ErrorKind::UnexpectedReturnType, "RPUSH answered", format!("{other:?}")).into()),
        };
        let list = match (first, named) {
            (redis::Value::Int(_) | redis::Value::Okay, Ok(n)) => n,
            (redis::Value::Int(_) | redis::Value::Okay, Err(e)) => return Ok(Written::Half(e, false)),
            // SET NX found the key taken: a duplicate (whatever became of its entry).
            (redis::Value::Nil, _) => return Ok(Written::Done(redis::Value::Int(0))),
            (first, Ok(_)) => return Ok(Written::Half(refusal(first), true)),
            (first, Err(_)) => return Err(refusal(first)),
        };
        if let (Some(redis::Value::Array(counters)), Some(redis::Value::Int(other))) = (counters, other) {
            observe_counters(cfg, list + other, &counters);
        }
        Ok(Written::Done(redis::Value::Int(1)))
    }

    /// The error a refused first write (HSET, SET NX) answered.
    fn refusal(reply: redis::Value) -> redis::RedisError {
        match reply {
            redis::Value::ServerError(e) => e.into(),
            other => {
                (redis::ErrorKind::UnexpectedReturnType, "the transaction's first write answered", format!("{other:?}"))
                    .into()
            }
        }
    }

    /// Notes the figure from the inbox's and the held list's lengths and HMGET's pushed, acked, lost, dropped.
    fn observe_counters(cfg: &Config, unfiled: i64, counters: &[redis::Value]) {
        let n = |i: usize| match counters.get(i) {
            Some(redis::Value::BulkString(b)) => std::str::from_utf8(b).ok().and_then(|t| t.parse().ok()).unwrap_or(0),
            _ => 0i64,
        };
        observe(cfg, n(0) + unfiled - n(1) - n(2) - n(3));
    }
}
