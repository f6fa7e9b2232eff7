//! The Redis key layout: the one place that knows key names, for Rust and (through `lua_prelude`) for the scripts.
//!
//! On a single server every key of one event shares the hash tag `{<event_id>}`, and the indexes over all events
//! are global (`<sha256(x)>` is the first 16 bytes of x's SHA-256, in hex: a digest, never x itself):
//!
//! | key                                 | type   | holds                                                   |
//! |-------------------------------------|--------|---------------------------------------------------------|
//! | `<p>ev:{<e>}:q`                     | list   | ids of the event's pending registrations, oldest first  |
//! | `<p>ev:{<e>}:d`                     | hash   | id → stored registration (pending and in flight)        |
//! | `<p>ev:{<e>}:t`                     | zset   | the previous layout's time index (id by ms): no longer  |
//! |                                     |        | written; acks and the quarantine still clear it         |
//! | `<p>ev:{<e>}:u:<sha256(key)>`       | string | a unique key's marker (value: the id), expires at TTL;  |
//! |                                     |        | a plain push with a key writes the registration here    |
//! |                                     |        | instead (codec.rs `write_held`, no TTL) until it is     |
//! |                                     |        | filed                                                   |
//! | `<p>ev:{<e>}:n:<sha256(token)>`     | string | registrations a use-limited token (a form's) carried     |
//! | `<p>ev:{<e>}:s`                     | hash   | the event's seats: taken, waiting, and the run_id of the |
//! |                                     |        | server whose data they count (`run`): a count from      |
//! |                                     |        | another run (a restart, a failover) is not trusted      |
//! | `<p>rate:<sha256(client)>`          | string | pushes one client (an IP, a /64) made in the current     |
//! |                                     |        | fixed window; expires when the window ends (also the    |
//! |                                     |        | counts of `rate_hit`, e.g. the plugin's REST route)     |
//! | `<p>inbox`                          | list   | `<e>:<id>:<ms>` of each pushed registration not yet     |
//! | `<p>held`                           | list   | the same, `<e>:<id>:<ms>:u<sha256(key)>`, for a push    |
//! |                                     |        | whose unique key's marker holds the registration (a     |
//! |                                     |        | list of its own: a build from before it never reads it) |
//! |                                     |        | filed into its event's queue and the indexes (a push    |
//! |                                     |        | writes only the data and this; claim and stats file it  |
//! |                                     |        | first, a few thousand at a time)                        |
//! | `<p>ready`                          | zset   | events with pending data, by when last served (fairness) |
//! | `<p>oldest`                         | zset   | events with pending data, by a bound at or below their   |
//! |                                     |        | oldest pending (ms): claims leave it behind, stats fixes |
//! | `<p>leases`                         | zset   | batch id by lease deadline (ms, Redis clock)            |
//! | `<p>batch:<b>`                      | list   | `<e>:<id>` of each registration in a claimed batch      |
//! | `<p>quarantine`                     | hash   | `<e>:<id>` → reason + stored bytes that did not decode  |
//! | `<p>stats`                          | hash   | counters: pushed, acked, in_flight, duplicates, …       |
//! | `<p>epoch`                          | string | names the data; gone only with it (a loss detector)     |
//!
//! On a Redis Cluster a script may only touch keys of one hash slot, and the indexes are written by every push
//! that makes an event ready. So the buffer is split into `CLUSTER_SHARDS` shards, each one slot with the hash tag
//! `{s<k>}`: event e lives in shard `shard_of(e)`, and a shard holds its events' keys and its own copy of every
//! index (`<p>{s<k>}:ev:<e>:q`, `<p>{s<k>}:ready`, `<p>{s<k>}:stats`, …). A push and a claim each touch one shard;
//! a flush walks the shards; stats add them up. A client's rate counter lives in the shard of the event it pushes
//! to (`<p>{s<k>}:rate:…`: the push's own slot), so on a cluster a client is counted per shard; a count kept outside
//! a push (`rate_hit`) lives in the shard the client's digest picks. One busy event
//! still lives in one slot: its registrations must be claimed in order and atomically with its indexes.
use sha2::{Digest, Sha256};

/// The keys a push names, by what they hold (see the table above).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKey<'a> {
    Queue,
    Data,
    TimeIndex,
    Ready,
    Oldest,
    Stats,
    /// The shard's pushed registrations not yet filed into their events' queues.
    Inbox,
    /// The same for registrations their unique key's marker holds until filed.
    Held,
    UniqueMarker(&'a [u8]),
    UseCounter(&'a [u8]),
    /// The event's seats (a push to an event with a capacity).
    Seats,
    /// A client's push counter for the rate limit (per shard on a cluster), named by a digest of the client.
    RateCounter(&'a [u8]),
}

/// KEYS[1..4] of push.lua: a push writes the registration and names it in the inbox (the cap reads the stats and
/// the held list's length).
pub const PUSH_KEYS: [EventKey<'static>; 4] = [EventKey::Data, EventKey::Inbox, EventKey::Stats, EventKey::Held];

/// KEYS[1..5] of enqueue.lua.
pub const ENQUEUE_KEYS: [EventKey<'static>; 5] =
    [EventKey::Queue, EventKey::Data, EventKey::Ready, EventKey::Oldest, EventKey::Stats];

/// The keys of one shard of the buffer: the whole buffer on a single server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    /// What every key of the shard starts with: the prefix, then `{s<k>}:` on a cluster.
    scope: String,
    shard: Option<u16>,
}

impl Keys {
    /// The keys on a single server.
    pub fn new(prefix: &str) -> Self {
        Keys { scope: prefix.to_owned(), shard: None }
    }
    /// The keys of shard `k` on a cluster.
    pub fn shard(prefix: &str, k: u16) -> Self {
        Keys { scope: format!("{prefix}{{s{k}}}:"), shard: Some(k) }
    }
    /// Which of `shards` shards holds an event: a multiplicative hash, so consecutive or evenly spaced ids spread.
    pub fn shard_of(event_id: i64, shards: u16) -> u16 {
        ((event_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u16 % shards.max(1)
    }
    /// Which of `shards` shards holds the rate counter a caller keeps for `client` outside a push (no event to
    /// follow): picked by the client's digest, so clients spread.
    pub fn shard_of_client(client: &[u8], shards: u16) -> u16 {
        let digest = Sha256::digest(client);
        (u16::from_be_bytes([digest[0], digest[1]])) % shards.max(1)
    }
    pub fn shard_number(&self) -> Option<u16> {
        self.shard
    }
    /// The scripts' first two arguments: the scope, and "1" when events take the shard's hash tag.
    pub fn script_args(&self) -> (&str, &str) {
        (&self.scope, if self.shard.is_some() { "1" } else { "" })
    }
    fn event(&self, event_id: i64, part: &str) -> String {
        let mut key = String::with_capacity(self.scope.len() + 27 + part.len());
        self.push_event_prefix(&mut key, event_id);
        key.push_str(part);
        key
    }
    /// Appends what every key of the event starts with (`<scope>ev:{<e>}:`, or `<scope>ev:<e>:` in a shard). Built
    /// by hand, not with format!: the push builds seven keys on every call.
    fn push_event_prefix(&self, key: &mut String, event_id: i64) {
        key.push_str(&self.scope);
        if self.shard.is_some() {
            key.push_str("ev:");
            push_int(key, event_id);
            key.push(':');
        } else {
            key.push_str("ev:{");
            push_int(key, event_id);
            key.push_str("}:");
        }
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
    /// How many of the event's seats are taken, and how many wait (see the table).
    pub fn seats(&self, event_id: i64) -> String {
        self.event(event_id, "s")
    }
    /// Only a digest of the unique key is kept for the dedupe TTL, never the key (an e-mail address) itself.
    pub fn unique_marker(&self, event_id: i64, unique_key: &[u8]) -> String {
        let mut key = String::new();
        self.push_key(&mut key, event_id, EventKey::UniqueMarker(unique_key));
        key
    }
    /// How many registrations one use-limited token carried; like the marker, named by a digest only.
    pub fn use_counter(&self, event_id: i64, token: &[u8]) -> String {
        let mut key = String::new();
        self.push_key(&mut key, event_id, EventKey::UseCounter(token));
        key
    }
    /// How many pushes one client made in the current rate-limit window: a digest, never the address itself.
    pub fn rate_counter(&self, client: &[u8]) -> String {
        let mut key = String::new();
        self.push_key(&mut key, 0, EventKey::RateCounter(client));
        key
    }
    /// KEYS[1..3] of push.lua for a registration of `event_id`.
    pub fn push_keys(&self, event_id: i64) -> Vec<String> {
        self.keys_of(event_id, &PUSH_KEYS)
    }
    /// The keys enqueue.lua writes one registration of an event to, in the order it takes them (KEYS[1..5] of the
    /// retry script).
    pub fn enqueue_keys(&self, event_id: i64) -> Vec<String> {
        self.keys_of(event_id, &ENQUEUE_KEYS)
    }
    fn keys_of(&self, event_id: i64, which: &[EventKey]) -> Vec<String> {
        which
            .iter()
            .map(|&which| {
                let mut key = String::new();
                self.push_key(&mut key, event_id, which);
                key
            })
            .collect()
    }
    /// Appends one key of `event_id` (or of its shard) to `out`: the push writes its keys straight into the
    /// command it sends, without a String of their own.
    pub fn push_key(&self, out: &mut String, event_id: i64, which: EventKey) {
        let part = match which {
            EventKey::Queue => "q",
            EventKey::Data => "d",
            EventKey::TimeIndex => "t",
            EventKey::Seats => "s",
            EventKey::UniqueMarker(_) => "u:",
            EventKey::UseCounter(_) => "n:",
            EventKey::RateCounter(client) => {
                out.push_str(&self.scope);
                out.push_str("rate:");
                push_digest_hex(out, client);
                return;
            }
            EventKey::Ready | EventKey::Oldest | EventKey::Stats | EventKey::Inbox | EventKey::Held => {
                out.push_str(&self.scope);
                out.push_str(match which {
                    EventKey::Ready => "ready",
                    EventKey::Oldest => "oldest",
                    EventKey::Inbox => "inbox",
                    EventKey::Held => "held",
                    _ => "stats",
                });
                return;
            }
        };
        self.push_event_prefix(out, event_id);
        out.push_str(part);
        if let EventKey::UniqueMarker(bytes) | EventKey::UseCounter(bytes) = which {
            push_digest_hex(out, bytes);
        }
    }
    pub fn ready(&self) -> String {
        let mut key = String::new();
        self.push_key(&mut key, 0, EventKey::Ready);
        key
    }
    pub fn oldest(&self) -> String {
        let mut key = String::new();
        self.push_key(&mut key, 0, EventKey::Oldest);
        key
    }
    pub fn inbox(&self) -> String {
        let mut key = String::new();
        self.push_key(&mut key, 0, EventKey::Inbox);
        key
    }
    pub fn held(&self) -> String {
        let mut key = String::new();
        self.push_key(&mut key, 0, EventKey::Held);
        key
    }
    pub fn leases(&self) -> String {
        format!("{}leases", self.scope)
    }
    pub fn batch(&self, batch: &str) -> String {
        format!("{}batch:{}", self.scope, batch)
    }
    pub fn quarantine(&self) -> String {
        format!("{}quarantine", self.scope)
    }
    pub fn epoch(&self) -> String {
        format!("{}epoch", self.scope)
    }
    pub fn stats(&self) -> String {
        let mut key = String::new();
        self.push_key(&mut key, 0, EventKey::Stats);
        key
    }

    /// Lua functions building the same keys from `script_args` (ARGV[1], ARGV[2]), prepended to the scripts that
    /// touch keys they learn only inside Redis (the events of a claim, the entries of a batch).
    pub fn lua_prelude() -> &'static str {
        r#"
local P = ARGV[1]
local SHARDED = ARGV[2] == '1'
local function k_event(e, part)
  if SHARDED then return P .. 'ev:' .. e .. ':' .. part end
  return P .. 'ev:{' .. e .. '}:' .. part
end
local function k_queue(e) return k_event(e, 'q') end
local function k_data(e) return k_event(e, 'd') end
local function k_time(e) return k_event(e, 't') end
local function k_batch(b) return P .. 'batch:' .. b end
local function k_marker(e, digest) return k_event(e, 'u:' .. digest) end
local K_READY = P .. 'ready'
local K_OLDEST = P .. 'oldest'
local K_INBOX = P .. 'inbox'
local K_HELD = P .. 'held'
local K_LEASES = P .. 'leases'
local K_QUARANTINE = P .. 'quarantine'
local K_STATS = P .. 'stats'
local K_EPOCH = P .. 'epoch'
local function split_member(m)
  local i = string.find(m, ':', 1, true)
  return string.sub(m, 1, i - 1), string.sub(m, i + 1)
end
-- A stored entry's time in whole ms (codec.rs's header `1:<µs>:…`, `w:` when waitlisted), or nil.
local function entry_ms(entry)
  local us = entry and string.match(entry, '^[1w]:(%d+):')
  return us and string.format('%d', math.floor(tonumber(us) / 1000))
end
-- A marker holding its registration (codec.rs's write_held, `<id>:<ttl s>:<stored entry>`) → id, ttl, entry; nil
-- for anything else (a marker that holds only its id, which has no colon).
local function held_parts(v)
  if type(v) ~= 'string' then return nil end
  local a = string.find(v, ':', 1, true)
  local b = a and string.find(v, ':', a + 1, true)
  local ttl = b and string.sub(v, a + 1, b - 1)
  if not ttl or #ttl > 10 or not string.match(ttl, '^[1-9]%d*$') then return nil end
  return string.sub(v, 1, a - 1), ttl, string.sub(v, b + 1)
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"#
    }
}

/// The first 16 bytes of a SHA-256 digest, in hex.
pub fn digest_hex(bytes: &[u8]) -> String {
    let mut hex = String::with_capacity(32);
    push_digest_hex(&mut hex, bytes);
    hex
}

/// Appends `digest_hex(bytes)`: by table, not a format! per byte (every push with a unique key makes one).
fn push_digest_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in &Sha256::digest(bytes)[..16] {
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
    }
}

/// Appends the decimal digits of `n` without the formatting machinery.
pub fn push_int(out: &mut String, n: i64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// The member naming one registration inside a batch or the quarantine.
pub fn member(event_id: i64, id: &str) -> String {
    format!("{event_id}:{id}")
}

/// Appends a registration's inbox entry, `<event id>:<registration id>:<time in whole ms>` (the oldest index's bound,
/// so filing needs nothing but the entry), then `:u<digest>` when the unique key's marker holds the registration
/// until it is filed (the held list's entries: filing.lua moves it into the event's data).
pub fn push_inbox_member(out: &mut String, event_id: i64, id: &str, score_ms: u64, held_by: Option<&[u8]>) {
    out.push_str(itoa::Buffer::new().format(event_id));
    out.push(':');
    out.push_str(id);
    out.push(':');
    out.push_str(itoa::Buffer::new().format(score_ms));
    if let Some(key) = held_by {
        out.push_str(":u");
        push_digest_hex(out, key);
    }
}

/// A `member()`'s parts as written: the event id and the registration id (neither holds a colon).
pub fn member_parts(member: &str) -> Option<(&str, &str)> {
    member.split_once(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_of_an_event_shares_one_hash_tag() {
        let k = Keys::new("site1:");
        for key in [k.queue(42), k.data(42), k.time_index(42), k.seats(42), k.unique_marker(42, b"a@example.com")] {
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
        assert!(!k.rate_counter(b"203.0.113.7").contains("203.0"), "a rate counter never names the client");
    }

    #[test]
    fn keys_written_into_a_buffer_are_the_keys() {
        for k in [Keys::new("p:"), Keys::shard("p:", 3)] {
            let mut out = String::from("x");
            k.push_key(&mut out, -12, EventKey::UniqueMarker(b"ada@example.com"));
            assert_eq!(out, format!("x{}", k.unique_marker(-12, b"ada@example.com")));
            assert!(out.ends_with(&format!(":u:{}", digest_hex(b"ada@example.com"))), "{out}");
            assert_eq!(k.enqueue_keys(9), [k.queue(9), k.data(9), k.ready(), k.oldest(), k.stats()]);
            assert_eq!(k.push_keys(9), [k.data(9), k.inbox(), k.stats(), k.held()]);
        }
        assert_eq!(Keys::new("p:").use_counter(4, b"t"), format!("p:ev:{{4}}:n:{}", digest_hex(b"t")));
        assert_eq!(Keys::new("p:").stats(), "p:stats");
        assert_eq!(Keys::new("p:").rate_counter(b"203.0.113.7"), format!("p:rate:{}", digest_hex(b"203.0.113.7")));
    }

    #[test]
    fn a_digest_is_its_first_16_bytes_in_lowercase_hex() {
        let expected: String = Sha256::digest(b"ada@example.com").iter().take(16).map(|b| format!("{b:02x}")).collect();
        assert_eq!(digest_hex(b"ada@example.com"), expected);
        assert_eq!(digest_hex(b"").len(), 32);
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
        assert!(lua.contains("P .. 'ev:{' .. e .. '}:' .. part"));
        assert!(lua.contains("P .. 'ev:' .. e .. ':' .. part"));
        assert!(lua.contains("P .. 'batch:' .. b"));
        assert_eq!(k.batch("B"), "Pbatch:B");
        let s = Keys::shard("P", 3);
        assert_eq!(s.script_args(), ("P{s3}:", "1"));
        assert_eq!(s.queue(7), "P{s3}:ev:7:q");
        assert_eq!(s.batch("B"), "P{s3}:batch:B");
    }

    #[test]
    fn on_a_cluster_every_key_of_a_shard_shares_its_hash_tag() {
        let s = Keys::shard("site1:", 5);
        for key in [
            s.queue(42),
            s.data(42),
            s.time_index(42),
            s.seats(42),
            s.unique_marker(42, b"x"),
            s.rate_counter(b"::1"),
            s.ready(),
            s.oldest(),
            s.leases(),
            s.stats(),
            s.quarantine(),
            s.batch("b"),
        ] {
            assert!(key.starts_with("site1:{s5}:"), "{key}");
        }
    }

    #[test]
    fn events_spread_over_the_shards() {
        let mut counts = [0u32; 16];
        for e in 1..=1600 {
            counts[Keys::shard_of(e, 16) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| (60..=140).contains(&c)), "{counts:?}");
        let mut even = [0u32; 16];
        for e in (2..=3200).step_by(2) {
            even[Keys::shard_of(e, 16) as usize] += 1;
        }
        assert!(even.iter().all(|&c| c > 0), "{even:?}");
        assert_eq!(Keys::shard_of(99, 1), 0);
    }
}
