//! Push: one registration buffered in one round trip (push.lua, with enqueue.lua and rate.lua before it), counted
//! against its optional limits in the same step. The hot path: it writes its EVALSHA straight into a packed command
//! (no prelude, every key in KEYS) instead of going through `invoke`.
use once_cell::sync::Lazy;
use redis::Script;
use serde_json::Value;

use super::seats::{seat_count, sold_out, unknown_count, SeatCount, Seats};
use super::{breaker_scope, check_event, push_score_ms, Buffer, PushOutcome, RateLimit};
use crate::core::codec;
use crate::core::config::Durability;
use crate::core::error::{Error, Result};
use crate::core::id;
use crate::core::keys::{EventKey, ENQUEUE_KEYS};
use crate::core::metrics;
use crate::core::packed::with_packed;
use crate::core::pool::{check_held_off, with_connection_for};

/// push.lua with the fragments it calls (public for the tests that run it by hand).
pub const PUSH_LUA: &str =
    concat!(include_str!("enqueue.lua"), include_str!("rate.lua"), include_str!("seats.lua"), include_str!("push.lua"));
static PUSH: Lazy<Script> = Lazy::new(|| Script::new(PUSH_LUA));

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
        let keys = ENQUEUE_KEYS.len()
            + usize::from(unique_key.is_some())
            + usize::from(limit.is_some())
            + usize::from(rate.is_some())
            + usize::from(seats.is_some());
        // On a cluster each shard enforces the whole cap, so one event (one shard) can use all of it.
        let max_pending = self.cfg.max_pending;
        let mut attempt = 0;
        check_held_off(self.cfg, breaker_scope(k)).map_err(|e| e.with_registration_id(&id))?;
        let (reply, shortfall): (redis::Value, Option<Error>) = with_connection_for(self.cfg, breaker_scope(k), |c| {
            attempt += 1;
            let reply = with_packed(|p| {
                // push.lua's arguments: the limits' six are empty when not set (see its header).
                p.begin(3 + keys + 13).arg(b"EVALSHA").arg(PUSH.get_hash().as_bytes()).arg_int(keys);
                for which in ENQUEUE_KEYS {
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
                    .arg_bytes(|entry| {
                        codec::write_header(entry, micros, unique_key);
                        entry.extend_from_slice(json);
                    })
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
                c.eval_packed(&PUSH, p)
            })?;
            // WAIT is routed by the event's queue key; made only when durability asks for replicas.
            let buffered = match &reply {
                redis::Value::Int(1) => true,
                redis::Value::Array(parts) => parts.first() == Some(&redis::Value::Int(1)),
                _ => false,
            };
            let shortfall = match self.cfg.durability {
                Durability::Replica { .. } if buffered => self.replicate(c, &k.queue(event_id))?,
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
