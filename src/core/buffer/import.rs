//! Import: the legacy snippet's lists (`event_reg_buffer:<event_id>`) moved into the buffer a step at a time, each
//! step atomic (import.lua); elements it cannot read go to the quarantine.
use once_cell::sync::Lazy;
use redis::Script;

use super::{score_ms, script, Buffer};
use crate::core::codec;
use crate::core::config::Topology;
use crate::core::error::{Error, Result};
use crate::core::id;
use crate::core::pool::with_connection;

/// One legacy element as import.lua takes it: (element, id, stored entry or empty, score, why it cannot be stored or
/// empty).
type Element<'a> = (&'a [u8], String, Vec<u8>, String, String);

static IMPORT: Lazy<Script> = Lazy::new(|| script(None, include_str!("import.lua")));

impl Buffer<'_> {
    /// Moves the legacy snippet's lists (`event_reg_buffer:<event_id>`, JSON elements LPUSHed) into the buffer,
    /// oldest first, a few at a time, each step atomic. Uses SCAN, never KEYS.
    pub fn import_legacy(&self, pattern: &str) -> Result<u64> {
        if self.cfg.topology != Topology::Single {
            // A legacy list and the event's keys live in different slots: no script could move an element
            // atomically, and a half-done move would store it twice or lose it.
            return Err(Error::server(
                "reg_buffer_import_legacy() needs a single Redis server: import before moving to a cluster, or point \
                 reg_buffer.redis_url at the server that holds the legacy lists",
            ));
        }
        let mut moved = 0u64;
        let mut cursor: u64 = 0;
        loop {
            let (next, lists): (u64, Vec<String>) = with_connection(self.cfg, |c| {
                redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(pattern)
                    .arg("COUNT")
                    .arg(500)
                    .arg("TYPE")
                    .arg("list")
                    .query(c)
            })?;
            for list in lists {
                let Some(event_id) = list.rsplit(':').next().and_then(|s| s.parse::<i64>().ok()).filter(|&e| e > 0)
                else {
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
        let k = &self.shard(0);
        let mut moved = 0u64;
        loop {
            let tail: Vec<Vec<u8>> =
                with_connection(self.cfg, |c| redis::cmd("LRANGE").arg(list).arg(-STEP).arg(-1).query(c))?;
            if tail.is_empty() {
                return Ok(moved);
            }
            // Oldest first.
            let elements: Vec<Element> = tail
                .iter()
                .rev()
                .map(|element| {
                    let (micros, entry, reason) = match codec::legacy(element) {
                        Ok((micros, data)) => match codec::encode(&data, micros, None, usize::MAX) {
                            Ok(entry) => (micros, entry, String::new()),
                            Err(e) => (micros, Vec::new(), e.message),
                        },
                        Err(e) => (id::now_micros(), Vec::new(), e.message),
                    };
                    (element.as_slice(), id::id_at(micros), entry, score_ms(micros), reason)
                })
                .collect();
            let (scope, sharded) = k.script_args();
            let n: i64 = self.invoke(k, &IMPORT, |call| {
                call.key(list)
                    .key(k.queue(event_id))
                    .key(k.data(event_id))
                    .key(k.ready())
                    .key(k.oldest())
                    .key(k.stats())
                    .key(k.quarantine());
                call.arg(scope).arg(sharded).arg(event_id).arg(elements.len());
                for (element, reg_id, entry, score, reason) in &elements {
                    call.arg(*element).arg(reg_id).arg(entry).arg(score).arg(reason);
                }
            })?;
            if n > 0 {
                moved += n as u64;
            }
        }
    }
}
