//! Range: the still-buffered registrations of one event between two times. The shard's inbox is filed first (a push
//! with a unique key waits there, held by its marker, until filed); then the event's data hash is read by HSCAN (a
//! thousand entries a round trip, so a large event never blocks Redis) and each entry's own time decides: pushes
//! keep no time index.
use std::collections::{BinaryHeap, HashSet};

use super::{breaker_scope, check_event, lossy, Buffer, BufferedRegistration};
use crate::core::codec;
use crate::core::error::{Error, Result};
use crate::core::pool::with_connection_for;

impl Buffer<'_> {
    /// Still-buffered registrations of one event pushed between `from` and `to` (Unix seconds, inclusive), oldest
    /// first, at most `limit`. A registration buffered for the whole call is returned; one pushed or acknowledged
    /// during it may be or not.
    pub fn range(&self, event_id: i64, from: f64, to: f64, limit: i64) -> Result<Vec<BufferedRegistration>> {
        check_event(event_id)?;
        if limit <= 0 {
            return Err(Error::invalid(format!("limit must be greater than 0, got {limit}")));
        }
        if from.is_nan() || to.is_nan() {
            return Err(Error::invalid("from and to must be numbers, not NAN"));
        }
        // Exact bounds in µs, as the entries hold their time.
        let micros = |s: f64| (s * 1e6).round();
        let (low, high) = (micros(from), micros(to));
        let keys = self.shard_of_event(event_id);
        self.file_inbox(&keys, breaker_scope(&keys))?;
        let data = keys.data(event_id);
        // The `limit` oldest found so far, by (ms, id) — within one millisecond in id order (the stubs' promise, as
        // the time index ordered them) — the newest on top, so a large event costs the memory of `limit` entries.
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut best: BinaryHeap<(u64, Vec<u8>, Vec<u8>)> = BinaryHeap::new();
        // HSCAN may return an entry twice while the hash is rehashed.
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut cursor = String::from("0");
        loop {
            let (next, flat): (String, Vec<Vec<u8>>) = with_connection_for(self.cfg, breaker_scope(&keys), |c| {
                redis::cmd("HSCAN").arg(&data).arg(&cursor).arg("COUNT").arg(1000).query(c)
            })?;
            for pair in flat.chunks_exact(2) {
                // An entry whose time cannot be read is left for the flush to quarantine; a read-only query skips it.
                if let Some(us) = codec::registered_at_micros(&pair[1]) {
                    if (us as f64) >= low && (us as f64) <= high && seen.insert(pair[0].clone()) {
                        best.push((us / 1000, pair[0].clone(), pair[1].clone()));
                        if best.len() > limit {
                            best.pop();
                        }
                    }
                }
            }
            if next == "0" {
                break;
            }
            cursor = next;
        }
        let mut out = Vec::with_capacity(best.len());
        for (_, reg_id, entry) in best.into_sorted_vec() {
            if let Ok(stored) = codec::decode(&entry) {
                out.push(BufferedRegistration { id: lossy(reg_id), event_id, stored });
            }
        }
        Ok(out)
    }
}
