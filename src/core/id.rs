//! Registration and batch ids: 26-character ULIDs (48-bit milliseconds + 80 random bits), made before the write so
//! a caller can store a registration elsewhere under the same id. Monotonic within a process; fresh randomness
//! after a fork so a parent and its children never share a sequence.
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct Last {
    pid: u32,
    ms: u64,
    random: u128,
}

static LAST: Mutex<Last> = Mutex::new(Last { pid: 0, ms: 0, random: 0 });

/// Microseconds since the Unix epoch.
pub fn now_micros() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_micros() as u64).unwrap_or(0)
}

/// Random bytes from the OS, fetched 24 ids' worth at a time (a getrandom() system call on every new millisecond
/// was a quarter of all pushes'), and thrown away in a forked child, which must not use its parent's.
struct Pool {
    pid: u32,
    bytes: [u8; 240],
    used: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool { pid: 0, bytes: [0; 240], used: 240 });

fn random80() -> u128 {
    POOL.lock().unwrap_or_else(|p| p.into_inner()).take(crate::core::process::id())
}

impl Pool {
    /// 80 random bits for process `pid`.
    fn take(&mut self, pid: u32) -> u128 {
        let mut out = [0u8; 16];
        if self.pid != pid || self.used + 10 > self.bytes.len() {
            self.used = self.bytes.len();
            // getrandom only fails when the OS has no entropy source at all; the clock still keeps ids apart then.
            if getrandom::getrandom(&mut self.bytes).is_err() {
                out[6..14].copy_from_slice(&now_micros().to_le_bytes());
                return u128::from_be_bytes(out);
            }
            self.pid = pid;
            self.used = 0;
        }
        out[6..].copy_from_slice(&self.bytes[self.used..self.used + 10]);
        self.used += 10;
        u128::from_be_bytes(out)
    }
}

/// A new id for time `micros`, greater than every id this process made before.
pub fn new_id(micros: u64) -> String {
    let ms = micros / 1000;
    let pid = crate::core::process::id();
    let mut last = LAST.lock().unwrap_or_else(|p| p.into_inner());
    let (ms, random) = if last.pid == pid && ms <= last.ms {
        // Same millisecond (or the clock went back): count up from the last id.
        let next = (last.random + 1) & ((1u128 << 80) - 1);
        if next == 0 {
            (last.ms + 1, random80())
        } else {
            (last.ms, next)
        }
    } else {
        (ms, random80())
    };
    *last = Last { pid, ms, random };
    encode(ms, random)
}

fn encode(ms: u64, random: u128) -> String {
    let value: u128 = ((ms as u128 & ((1u128 << 48) - 1)) << 80) | random;
    let mut text = [0u8; 26];
    for (i, c) in text.iter_mut().rev().enumerate() {
        *c = ALPHABET[((value >> (i * 5)) & 31) as usize];
    }
    // Every byte is from ALPHABET: ASCII, so the fallback is never taken.
    String::from_utf8(text.to_vec()).unwrap_or_default()
}

/// The millisecond timestamp inside an id, or None for something that is not an id.
pub fn id_millis(id: &str) -> Option<u64> {
    // 26 characters of 5 bits hold 130: an id's first is at most '7', or its time would not fit 48 bits.
    if id.len() != 26 || id.as_bytes()[0] > b'7' {
        return None;
    }
    let mut value: u128 = 0;
    for c in id.bytes() {
        let digit = ALPHABET.iter().position(|&a| a == c)? as u128;
        value = (value << 5) | digit;
    }
    Some((value >> 80) as u64)
}

/// An id for a registration made at an earlier time (an import): random within its millisecond, not monotonic.
pub fn id_at(micros: u64) -> String {
    encode(micros / 1000, random80())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_ordered_by_time_within_a_process() {
        let t = now_micros();
        let mut ids: Vec<String> = (0..10_000).map(|_| new_id(t)).collect();
        let sorted = ids.clone();
        ids.sort();
        assert_eq!(ids, sorted);
        ids.dedup();
        assert_eq!(ids.len(), 10_000);
        let later = new_id(t + 5_000);
        assert!(later > sorted[9_999]);
    }

    #[test]
    fn a_forked_child_does_not_reuse_its_parents_random_bytes() {
        // A child starts with a copy of its parent's pool; its own pid makes it fetch fresh bytes.
        let mut parent = Pool { pid: 0, bytes: [0; 240], used: 240 };
        parent.take(100);
        let mut child = Pool { pid: parent.pid, bytes: parent.bytes, used: parent.used };
        assert_ne!(child.take(101), parent.take(100));
        assert_eq!(child.pid, 101);
    }

    #[test]
    fn an_id_carries_its_millisecond() {
        // id_at for a past time; new_id (monotonic, shared with the tests running beside this one) for a future one.
        let past = 1_732_572_000_123_456;
        assert_eq!(id_millis(&id_at(past)), Some(past / 1000));
        let future = now_micros() + 3_600_000_000;
        assert_eq!(id_millis(&new_id(future)), Some(future / 1000));
        assert_eq!(id_millis("not an id"), None);
    }
}
