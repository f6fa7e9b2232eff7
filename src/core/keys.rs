//! The Redis key layout: the one place that knows key names, for Rust and (through `lua_prelude`) for the scripts.
//!
//! Every key of one event shares the hash tag `{<event_id>}` so each per-event step is single-slot on a cluster.
//!
//! | key                                 | type   | holds                                                   |
//! |-------------------------------------|--------|---------------------------------------------------------|
//! | `<p>ev:{<e>}:q`                     | list   | ids of the event's pending registrations, oldest first  |
//! | `<p>ev:{<e>}:d`                     | hash   | id → stored registration (pending and in flight)        |
//! | `<p>ev:{<e>}:t`                     | zset   | id by registered_at (ms): the time-range index          |
//! | `<p>ev:{<e>}:u:<sha256(key)>`       | string | a unique key's marker (value: the id), expires at TTL   |
//! | `<p>ready`                          | zset   | events with pending data, by when last served (fairness) |
//! | `<p>oldest`                         | zset   | events with pending data, by their oldest pending (ms)   |
//! | `<p>leases`                         | zset   | batch id by lease deadline (ms, Redis clock)            |
//! | `<p>batch:<b>`                      | list   | `<e>:<id>` of each registration in a claimed batch      |
//! | `<p>quarantine`                     | hash   | `<e>:<id>` → reason + stored bytes that did not decode  |
//! | `<p>stats`                          | hash   | counters: buffered, in_flight, pushed, duplicates, …    |
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    prefix: String,
}

impl Keys {
    pub fn new(prefix: &str) -> Self {
        Keys { prefix: prefix.to_owned() }
    }
    pub fn prefix(&self) -> &str {
        &self.prefix
    }
    fn event(&self, event_id: i64, part: &str) -> String {
        // Built by hand, not with format!: six of these are made on every push.
        let mut key = String::with_capacity(self.prefix.len() + 27 + part.len());
        key.push_str(&self.prefix);
        key.push_str("ev:{");
        push_int(&mut key, event_id);
        key.push_str("}:");
        key.push_str(part);
        key
    }
    pub fn queue(&self, event_id: i64) -> String {
        self.event(event_id, "q")
    }
    pub fn data(&self, event_id: i64) -> String {
        self.event(event_id, "d")
    }
    pub fn time_index(&self, event_id: i64) -> String {
        self.event(event_id, "t")
    }
    /// Only a digest of the unique key is kept for the dedupe TTL, never the key (an e-mail address) itself.
    pub fn unique_marker(&self, event_id: i64, unique_key: &[u8]) -> String {
        let digest = Sha256::digest(unique_key);
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.event(event_id, &format!("u:{hex}"))
    }
    pub fn ready(&self) -> String {
        format!("{}ready", self.prefix)
    }
    pub fn oldest(&self) -> String {
        format!("{}oldest", self.prefix)
    }
    pub fn leases(&self) -> String {
        format!("{}leases", self.prefix)
    }
    pub fn batch(&self, batch: &str) -> String {
        format!("{}batch:{}", self.prefix, batch)
    }
    pub fn quarantine(&self) -> String {
        format!("{}quarantine", self.prefix)
    }
    pub fn stats(&self) -> String {
        format!("{}stats", self.prefix)
    }

    /// Lua functions building the same keys from the prefix in ARGV[1], prepended to the scripts that touch
    /// keys they learn only inside Redis (the events of a claim, the entries of a batch).
    pub fn lua_prelude() -> &'static str {
        r#"
local P = ARGV[1]
local function k_queue(e) return P .. 'ev:{' .. e .. '}:q' end
local function k_data(e) return P .. 'ev:{' .. e .. '}:d' end
local function k_time(e) return P .. 'ev:{' .. e .. '}:t' end
local function k_batch(b) return P .. 'batch:' .. b end
local K_READY = P .. 'ready'
local K_OLDEST = P .. 'oldest'
local K_LEASES = P .. 'leases'
local K_QUARANTINE = P .. 'quarantine'
local K_STATS = P .. 'stats'
local function split_member(m)
  local i = string.find(m, ':', 1, true)
  return string.sub(m, 1, i - 1), string.sub(m, i + 1)
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"#
    }
}

/// Appends the decimal digits of `n` without the formatting machinery.
pub fn push_int(out: &mut String, n: i64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&digits[i..]).unwrap_or("0"));
}

/// The member naming one registration inside a batch or the quarantine.
pub fn member(event_id: i64, id: &str) -> String {
    format!("{event_id}:{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_an_event_shares_one_hash_tag() {
        let k = Keys::new("site1:");
        for key in [k.queue(42), k.data(42), k.time_index(42), k.unique_marker(42, b"a@example.com")] {
            assert!(key.starts_with("site1:ev:{42}:"), "{key}");
        }
    }

    #[test]
    fn a_unique_marker_never_holds_the_key_itself() {
        let k = Keys::new("p:");
        let marker = k.unique_marker(1, b"ada@example.com");
        assert!(!marker.contains("ada"));
        assert_eq!(marker, k.unique_marker(1, b"ada@example.com"));
        assert_ne!(marker, k.unique_marker(2, b"ada@example.com"));
        assert_ne!(marker, k.unique_marker(1, b"bob@example.com"));
    }

    #[test]
    fn integers_are_written_like_format_does() {
        for n in [0, 7, -7, 42, i64::MAX, i64::MIN, 1_000_000] {
            let mut s = String::new();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn the_lua_prelude_builds_the_same_names() {
        let k = Keys::new("P");
        let lua = Keys::lua_prelude();
        assert_eq!(k.queue(7), "Pev:{7}:q");
        assert!(lua.contains("P .. 'ev:{' .. e .. '}:q'"));
        assert!(lua.contains("P .. 'batch:' .. b"));
        assert_eq!(k.batch("B"), "Pbatch:B");
    }
}
