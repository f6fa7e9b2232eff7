//! Range: the still-buffered registrations of one event between two times (range.lua), read only.
use once_cell::sync::Lazy;
use redis::Script;

use super::{check_event, lossy, script, Buffer, BufferedRegistration};
use crate::core::codec;
use crate::core::error::{Error, Result};

static RANGE: Lazy<Script> = Lazy::new(|| script(Some("no-writes"), include_str!("range.lua")));

impl Buffer<'_> {
    /// Still-buffered registrations of one event pushed between `from` and `to` (Unix seconds), oldest first.
    pub fn range(&self, event_id: i64, from: f64, to: f64, limit: i64) -> Result<Vec<BufferedRegistration>> {
        check_event(event_id)?;
        if limit <= 0 {
            return Err(Error::invalid(format!("limit must be greater than 0, got {limit}")));
        }
        if from.is_nan() || to.is_nan() {
            return Err(Error::invalid("from and to must be numbers, not NAN"));
        }
        // The index's scores are whole milliseconds (older entries: with microsecond decimals), at or below each
        // registration's time: scan from the millisecond `from` falls in, and let the script compare the exact
        // microseconds each entry holds.
        let scan = |s: f64, lower: bool| {
            if s == f64::INFINITY {
                "+inf".to_owned()
            } else if s == f64::NEG_INFINITY {
                "-inf".to_owned()
            } else if lower {
                format!("{:.0}", (s * 1000.0).floor())
            } else {
                format!("{:.3}", s * 1000.0)
            }
        };
        let exact = |s: f64| if s.is_finite() { format!("{:.0}", (s * 1e6).round()) } else { String::new() };
        let keys = self.shard_of_event(event_id);
        let (scope, sharded) = keys.script_args();
        // What pushes named in the inbox is filed first: the time index then holds every buffered registration.
        self.file_inbox(&keys, super::breaker_scope(&keys))?;
        let (low, high, exact_from, exact_to) = (scan(from, true), scan(to, false), exact(from), exact(to));
        let reply: Vec<Vec<u8>> = self.invoke(&keys, &RANGE, |call| {
            call.key(keys.time_index(event_id))
                .key(keys.data(event_id))
                .arg(scope)
                .arg(sharded)
                .arg(&low)
                .arg(&high)
                .arg(&exact_from)
                .arg(&exact_to)
                .arg(limit);
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
}
