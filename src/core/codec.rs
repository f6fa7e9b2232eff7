//! Registration <-> stored bytes: the value model, its limits, and the stored entry format.
//!
//! A stored entry is `1:<registered_at µs>:<unique key length or ->:<unique key bytes><data as JSON>`, or the same
//! with `w` for `1` when the registration is waitlisted (an event's seats were taken: push.lua rewrites the tag); the legacy
//! snippet's elements, which the import reads, are `{"timestamp": <s>, "registration_details": {…}}`. The JSON
//! keeps the registration's key order (serde_json `preserve_order`) and round-trips floats exactly
//! (`float_roundtrip`), so flush hands back what push was given.
use serde_json::{Map, Number, Value};

use crate::core::config::{MAX_DEPTH, MAX_UNIQUE_KEY_BYTES};
use crate::core::error::{Error, Result};

pub type Registration = Map<String, Value>;

/// A registration as it left Redis.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRegistration {
    pub registered_at_micros: u64,
    /// Booked past an event's capacity onto its waitlist (tag `w`), not to a seat.
    pub waitlisted: bool,
    pub unique_key: Option<Vec<u8>>,
    /// The data exactly as stored: a JSON array or object (checked when the entry was decoded).
    pub json: String,
    /// The same data as a value, parsed on first use: a flusher that stores `json` as it is never pays for it.
    value: std::cell::OnceCell<Value>,
}

impl StoredRegistration {
    pub fn data(&self) -> &Value {
        // decode() checked that `json` parses, so the fallback is never taken.
        self.value.get_or_init(|| serde_json::from_str(&self.json).unwrap_or(Value::Null))
    }
}

/// A float PHP can hand us, or the reason it cannot be buffered.
pub fn float(f: f64) -> Result<Value> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| Error::invalid("registration values must be finite: INF and NAN cannot be buffered"))
}

/// Checks the nesting depth while building: `depth` is 1 for the registration itself.
pub fn check_depth(depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::invalid(format!("registration is nested deeper than {MAX_DEPTH} levels")));
    }
    Ok(())
}

pub fn check_unique_key(key: &[u8]) -> Result<()> {
    if key.is_empty() {
        return Err(Error::invalid("unique key must not be empty (pass null for none)"));
    }
    if key.len() > MAX_UNIQUE_KEY_BYTES {
        return Err(Error::invalid(format!("unique key is longer than {MAX_UNIQUE_KEY_BYTES} bytes")));
    }
    // The flush stores the key in a utf8mb4 column, which refuses anything else: refused here, before it is accepted.
    if std::str::from_utf8(key).is_err() {
        return Err(Error::invalid("unique key must be valid UTF-8"));
    }
    Ok(())
}

/// Encodes a registration for storage, refusing one over `max_bytes`.
pub fn encode(data: &Value, registered_at_micros: u64, unique_key: Option<&[u8]>, max_bytes: usize) -> Result<Vec<u8>> {
    let json = to_json(data)?;
    check_size(&json, max_bytes)?;
    let mut out = Vec::with_capacity(json.len() + 40 + unique_key.map_or(0, <[u8]>::len));
    write_header(&mut out, registered_at_micros, unique_key);
    out.extend_from_slice(&json);
    Ok(out)
}

/// A registration as the JSON text a stored entry carries.
pub fn to_json(data: &Value) -> Result<Vec<u8>> {
    serde_json::to_vec(data).map_err(|e| Error::invalid(format!("registration cannot be encoded: {e}")))
}

/// Refuses encoded data over `max_bytes` (reg_buffer.max_payload_bytes).
pub fn check_size(json: &[u8], max_bytes: usize) -> Result<()> {
    if json.len() > max_bytes {
        return Err(Error::invalid(format!(
            "registration is {} bytes encoded, over reg_buffer.max_payload_bytes ({max_bytes})",
            json.len()
        )));
    }
    Ok(())
}

/// The tag that replaces a stored entry's leading `1` when its registration is waitlisted (push.lua writes it).
pub const WAITLISTED_TAG: u8 = b'w';

/// Appends what a stored entry holds before its JSON: `1:<registered_at µs>:<unique key length or ->:<key>`.
pub fn write_header(out: &mut Vec<u8>, registered_at_micros: u64, unique_key: Option<&[u8]>) {
    let mut digits = itoa::Buffer::new();
    out.extend_from_slice(b"1:");
    out.extend_from_slice(digits.format(registered_at_micros).as_bytes());
    out.push(b':');
    match unique_key {
        Some(k) => {
            out.extend_from_slice(digits.format(k.len()).as_bytes());
            out.push(b':');
            out.extend_from_slice(k);
        }
        None => out.extend_from_slice(b"-:"),
    }
}

/// Appends what a unique key's marker holds while its registration waits in the inbox (a plain push with a key on
/// one server): `<registration id>:<dedupe ttl in s>:<stored entry>`. Filing moves the entry into the event's data
/// and leaves the id with the TTL (keys.rs's `held_parts` reads it); the marker has no TTL until then.
pub fn write_held(
    out: &mut Vec<u8>,
    id: &str,
    dedupe_ttl: u64,
    registered_at_micros: u64,
    unique_key: &[u8],
    json: &[u8],
) {
    out.extend_from_slice(id.as_bytes());
    out.push(b':');
    out.extend_from_slice(itoa::Buffer::new().format(dedupe_ttl).as_bytes());
    out.push(b':');
    write_header(out, registered_at_micros, Some(unique_key));
    out.extend_from_slice(json);
}

/// A stored entry's time (µs) read from its header alone, without decoding the rest; None when unreadable.
pub fn registered_at_micros(stored: &[u8]) -> Option<u64> {
    let (_, micros, _) = header_time(stored).ok()?;
    Some(micros)
}

/// The start of a stored entry's header: waitlisted or not, its time (µs), and the rest after them.
fn header_time(stored: &[u8]) -> Result<(bool, u64, &[u8])> {
    let bad = |why: &str| Error::invalid(format!("stored registration is malformed: {why}"));
    let (waitlisted, rest) = match stored {
        [b'1', b':', rest @ ..] => (false, rest),
        [WAITLISTED_TAG, b':', rest @ ..] => (true, rest),
        _ => return Err(bad("unknown format version")),
    };
    let (micros, rest) = split_field(rest).ok_or_else(|| bad("no timestamp"))?;
    let registered_at_micros: u64 =
        std::str::from_utf8(micros).ok().and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad timestamp"))?;
    Ok((waitlisted, registered_at_micros, rest))
}

/// Decodes a stored entry; an error here sends the entry to quarantine.
pub fn decode(stored: &[u8]) -> Result<StoredRegistration> {
    let bad = |why: &str| Error::invalid(format!("stored registration is malformed: {why}"));
    let (waitlisted, registered_at_micros, rest) = header_time(stored)?;
    let (klen, rest) = split_field(rest).ok_or_else(|| bad("no unique key length"))?;
    let (unique_key, json) = if klen == b"-" {
        (None, rest)
    } else {
        let n: usize =
            std::str::from_utf8(klen).ok().and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad unique key length"))?;
        if rest.len() < n {
            return Err(bad("truncated unique key"));
        }
        (Some(rest[..n].to_vec()), &rest[n..])
    };
    let json = std::str::from_utf8(json).map_err(|_| bad("data is not UTF-8"))?;
    // Checked now (without building the value), so that a registration that cannot be handed back is quarantined
    // instead of failing a flush.
    if !matches!(json.trim_start().as_bytes().first(), Some(b'{' | b'[')) {
        return Err(bad("data is not an array"));
    }
    serde_json::from_str::<Checked>(json).map_err(|e| bad(&format!("data is not JSON ({e})")))?;
    Ok(StoredRegistration {
        registered_at_micros,
        waitlisted,
        unique_key,
        json: json.to_owned(),
        value: std::cell::OnceCell::new(),
    })
}

/// What a quarantined entry's bytes are, by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A stored registration (`1:` …), damaged somewhere.
    Stored,
    /// An element of the legacy snippet's lists (a JSON object) the import could not read.
    Legacy,
    /// Neither.
    Unreadable,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Stored => "stored",
            Kind::Legacy => "legacy",
            Kind::Unreadable => "unreadable",
        }
    }
}

/// What can still be read from a quarantined entry's bytes, read as leniently as is safe: a damaged timestamp only
/// loses `registered_at`; the data must be intact JSON of an array, and a unique key intact, for `json` to be given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovered {
    pub kind: Kind,
    pub registered_at_micros: Option<u64>,
    /// Only with `json`: a registration is recovered whole or not at all.
    pub unique_key: Option<Vec<u8>>,
    /// The registration's JSON text as stored (a legacy element's `registration_details`); None when it cannot be
    /// recovered whole, and then `problem` says why.
    pub json: Option<String>,
    pub problem: Option<String>,
}

/// Reads a quarantined entry's bytes (a stored entry or a legacy element) as far as they can be read.
pub fn recover(bytes: &[u8]) -> Recovered {
    let trimmed = bytes.iter().position(|b| !b" \t\n\r\x0b\0".contains(b)).map_or(&[][..], |i| &bytes[i..]);
    let kind = if bytes.starts_with(b"1:") || bytes.starts_with(&[WAITLISTED_TAG, b':']) {
        Kind::Stored
    } else if trimmed.starts_with(b"{") {
        Kind::Legacy
    } else {
        Kind::Unreadable
    };
    let mut out = Recovered { kind, registered_at_micros: None, unique_key: None, json: None, problem: None };
    let read = match kind {
        Kind::Stored => recover_stored(&bytes[2..], &mut out),
        Kind::Legacy => recover_legacy(bytes, &mut out),
        Kind::Unreadable => Err("the bytes are in no format reg_buffer knows".to_owned()),
    };
    match read {
        Ok((json, key)) => {
            out.json = Some(json);
            out.unique_key = key;
        }
        Err(problem) => out.problem = Some(problem),
    }
    out
}

type RecoveredParts = std::result::Result<(String, Option<Vec<u8>>), String>;

/// `<µs>:<klen|->:<key><json>` (after the version): the timestamp read if it can be.
fn recover_stored(rest: &[u8], out: &mut Recovered) -> RecoveredParts {
    let (micros, rest) = split_field(rest).ok_or("the stored registration has no timestamp field")?;
    out.registered_at_micros = std::str::from_utf8(micros).ok().and_then(|s| s.parse().ok());
    let (klen, rest) = split_field(rest).ok_or("the stored registration has no unique-key field")?;
    let (key, json) = if klen == b"-" {
        (None, rest)
    } else {
        let n = std::str::from_utf8(klen)
            .ok()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse::<usize>().ok())
            .filter(|&n| n <= rest.len())
            .ok_or("the unique key is truncated")?;
        (Some(&rest[..n]), &rest[n..])
    };
    let json = std::str::from_utf8(json).map_err(|_| "the data is not valid UTF-8")?;
    check_recovered_json(json)?;
    if let Some(k) = key {
        if k.is_empty() || std::str::from_utf8(k).is_err() {
            return Err("the unique key is empty or not valid UTF-8".to_owned());
        }
    }
    Ok((json.to_owned(), key.map(<[u8]>::to_vec)))
}

fn recover_legacy(bytes: &[u8], out: &mut Recovered) -> RecoveredParts {
    let not_legacy = "the legacy element is not JSON with registration_details";
    let fields: std::collections::HashMap<String, Box<serde_json::value::RawValue>> =
        serde_json::from_slice(bytes).map_err(|_| not_legacy)?;
    out.registered_at_micros = fields.get("timestamp").and_then(|t| legacy_seconds(t.get()));
    let details = fields.get("registration_details").ok_or(not_legacy)?.get();
    if !matches!(details.as_bytes().first(), Some(b'{' | b'[')) {
        return Err("registration_details is not an array".to_owned());
    }
    check_recovered_json(details)?;
    Ok((details.to_owned(), None))
}

/// Data a retry can push again: JSON of an array, nested no deeper than a registration may be.
fn check_recovered_json(json: &str) -> std::result::Result<(), String> {
    let not_array = || "the data is not JSON of an array".to_owned();
    if !matches!(json.trim_start().as_bytes().first(), Some(b'{' | b'[')) {
        return Err(not_array());
    }
    serde_json::from_str::<Checked>(json).map_err(|_| not_array())?;
    if json_depth(json) > MAX_DEPTH {
        return Err(format!("the data is nested deeper than {MAX_DEPTH} levels"));
    }
    Ok(())
}

/// The deepest nesting of arrays and objects in valid JSON text.
fn json_depth(json: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for b in json.bytes() {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A legacy element's `timestamp` (Unix seconds, a JSON number) in µs.
fn legacy_seconds(json: &str) -> Option<u64> {
    let seconds: f64 = serde_json::from_str::<Value>(json).ok()?.as_f64()?;
    (seconds.is_finite() && seconds >= 0.0).then_some((seconds * 1e6) as u64)
}

/// A legacy snippet's element, `{"timestamp": <Unix seconds>, "registration_details": {…}}`, as (µs, data).
pub fn legacy(element: &[u8]) -> Result<(u64, Value)> {
    let bad = |why: &str| Error::invalid(format!("legacy element is malformed: {why}"));
    let value: Value = serde_json::from_slice(element).map_err(|e| bad(&e.to_string()))?;
    let Value::Object(mut fields) = value else { return Err(bad("not a JSON object")) };
    let seconds = fields
        .get("timestamp")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| bad("no timestamp"))?;
    let data = fields.remove("registration_details").ok_or_else(|| bad("no registration_details"))?;
    if !(data.is_object() || data.is_array()) {
        return Err(bad("registration_details is not an array"));
    }
    Ok(((seconds * 1e6) as u64, data))
}

/// JSON that would parse into a `Value` — numbers in range included, which `IgnoredAny` does not check — read
/// without building one.
struct Checked;

impl<'de> serde::Deserialize<'de> for Checked {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(Checked)
    }
}

impl<'de> serde::de::Visitor<'de> for Checked {
    type Value = Checked;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> std::result::Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Checked, A::Error> {
        while map.next_entry::<serde::de::IgnoredAny, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

fn split_field(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let i = s.iter().position(|&b| b == b':')?;
    Some((&s[..i], &s[i + 1..]))
}

/// PHP turns a string key that is a canonical decimal integer ("7", "-3", not "07" or "-0") into an int key.
/// Decoding applies the same rule, so a map comes back with the key types it went in with.
pub fn php_integer_key(key: &str) -> Option<i64> {
    let digits = key.strip_prefix('-').unwrap_or(key);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if (digits.len() > 1 && digits.starts_with('0')) || key == "-0" {
        return None;
    }
    key.parse::<i64>().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_waitlisted_entry_is_the_same_entry_tagged_w() {
        let mut entry = encode(&json!({"a": 1}), 42, Some(b"k"), 1000).unwrap();
        let registered = decode(&entry).unwrap();
        assert!(!registered.waitlisted);
        entry[0] = WAITLISTED_TAG;
        let waitlisted = decode(&entry).unwrap();
        assert!(waitlisted.waitlisted);
        assert_eq!(
            (waitlisted.registered_at_micros, waitlisted.unique_key.clone(), waitlisted.json.clone()),
            (42, Some(b"k".to_vec()), registered.json.clone())
        );
        assert_eq!(recover(&entry).kind, Kind::Stored);
        assert_eq!(recover(&entry).json.as_deref(), Some("{\"a\":1}"));
        assert!(decode(b"x:1:-:{}").is_err());
    }

    #[test]
    fn decode_checks_the_json_as_parsing_it_would_without_building_it() {
        assert!(decode(b"1:5:-:{\"a\":[1,2.5,\"x\",null,true]}").is_ok());
        for bad in [&b"1:5:-:[1e999]"[..], b"1:5:-:{\"a\":}", b"1:5:-:[1] x", b"1:5:-:\"text\"", b"1:5:-:7"] {
            assert!(decode(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let lazy = decode(b"1:5:2:ab[\"x\"]").unwrap();
        assert_eq!(lazy.json, "[\"x\"]");
        assert_eq!(lazy.data(), &json!(["x"]));
    }

    #[test]
    fn an_entry_comes_back_exactly_as_given() {
        let data = json!({"z": 1, "a": [1.5, -0.0, 1e-300, "é\u{0}x", true, null], "m": {"10": 2, "k": {"x": 0.1}}});
        let stored = encode(&data, 1_700_000_000_123_456, Some(b"ada@example.com"), 65536).unwrap();
        let back = decode(&stored).unwrap();
        assert_eq!(back.registered_at_micros, 1_700_000_000_123_456);
        assert_eq!(back.unique_key.as_deref(), Some(&b"ada@example.com"[..]));
        let value = back.data().clone();
        assert_eq!(value, data);
        assert_eq!(serde_json::to_string(&value).unwrap(), serde_json::to_string(&data).unwrap());
        let keys: Vec<_> = value.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn floats_keep_every_bit_and_stay_floats() {
        for f in [0.1, 1.0, -0.0, f64::MAX, f64::MIN_POSITIVE, 5e-324, 123_456_789.123_456_79, 1e21] {
            let data = json!([float(f).unwrap()]);
            let back = decode(&encode(&data, 1, None, 1000).unwrap()).unwrap().data().clone();
            let g = back[0].as_f64().unwrap();
            assert_eq!(g.to_bits(), f.to_bits(), "{f}");
            assert!(back[0].is_f64(), "{f} came back as an int");
        }
        assert!(float(f64::NAN).is_err());
        assert!(float(f64::INFINITY).is_err());
    }

    #[test]
    fn a_unique_key_may_hold_any_bytes() {
        let key = b"a:b\x00\xff:".to_vec();
        let back = decode(&encode(&json!({}), 5, Some(&key), 100).unwrap()).unwrap();
        assert_eq!(back.unique_key, Some(key));
        assert_eq!(back.json, "{}");
    }

    #[test]
    fn a_unique_key_must_be_utf8() {
        for bad in [&b"a@x.org\xff"[..], b"\xc3", b"\xed\xa0\x80", b"\xc0\xaf"] {
            assert!(check_unique_key(bad).unwrap_err().message.contains("UTF-8"), "{bad:?}");
        }
        assert!(check_unique_key("a:b\0Zoë 😀".as_bytes()).is_ok());
    }

    #[test]
    fn refuses_a_payload_over_the_limit() {
        let data = json!({"x": "a".repeat(100)});
        let err = encode(&data, 1, None, 50).unwrap_err();
        assert!(err.message.contains("max_payload_bytes"));
    }

    #[test]
    fn malformed_entries_are_errors_not_panics() {
        for bad in [&b""[..], b"2:1:-:{}", b"1:x:-:{}", b"1:1:9:abc", b"1:1:-:{", b"1:1:-:5", b"1:1:-:\xff"] {
            assert!(decode(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_damaged_entry_gives_back_what_can_still_be_read() {
        let r = recover(b"1:1700000000123456:3:abc{\"a\":1}");
        assert_eq!((r.kind, r.registered_at_micros), (Kind::Stored, Some(1_700_000_000_123_456)));
        assert_eq!(
            (r.unique_key.as_deref(), r.json.as_deref(), r.problem),
            (Some(&b"abc"[..]), Some("{\"a\":1}"), None)
        );
        let r = recover(b"1:xx:-:[1,2]");
        assert_eq!(
            (r.registered_at_micros, r.json.as_deref()),
            (None, Some("[1,2]")),
            "a damaged time only loses the time"
        );
        let problem = |bytes: &[u8]| {
            let r = recover(bytes);
            assert_eq!((r.json, r.unique_key), (None, None), "{:?}", String::from_utf8_lossy(bytes));
            r.problem.unwrap()
        };
        assert!(problem(b"1:12345").contains("no timestamp field"));
        assert!(problem(b"1:12345:-").contains("no unique-key field"));
        assert!(problem(b"1:5:9:abc{}").contains("truncated"), "a key length past the end");
        assert!(problem(b"1:5:x:abc{}").contains("truncated"));
        assert!(problem(b"1:5:0:{}").contains("empty or not valid UTF-8"));
        assert!(problem(b"1:5:1:\xff{}").contains("empty or not valid UTF-8"));
        assert!(problem(b"1:5:-:\xff").contains("UTF-8"));
        assert!(problem(b"1:5:-:{\"a\":").contains("not JSON of an array"));
        assert!(problem(b"1:5:-:\"text\"").contains("not JSON of an array"));
        let deep = format!("1:5:-:{}{}", "[".repeat(65), "]".repeat(65));
        assert!(problem(deep.as_bytes()).contains("deeper"));
        assert_eq!(recover(b"1:5:-:{}").kind, Kind::Stored);
    }

    #[test]
    fn a_legacy_element_gives_back_its_registration_details_as_written() {
        let r = recover(b" {\"timestamp\": 1700000000.5, \"registration_details\": {\"b\": 2, \"a\": [1.0, \"x\"]}}");
        assert_eq!(r.kind, Kind::Legacy);
        assert_eq!(r.registered_at_micros, Some(1_700_000_000_500_000));
        assert_eq!(r.json.as_deref(), Some("{\"b\": 2, \"a\": [1.0, \"x\"]}"));
        assert_eq!((r.unique_key, r.problem), (None, None));
        let r = recover(b"{\"registration_details\": [1]}");
        assert_eq!(
            (r.registered_at_micros, r.json.as_deref()),
            (None, Some("[1]")),
            "no timestamp: only the time is lost"
        );
        for (bad, why) in [
            (&b"{\"timestamp\": 5}"[..], "registration_details"),
            (b"{\"registration_details\": \"x\"}", "not an array"),
            (b"{not json", "registration_details"),
        ] {
            let r = recover(bad);
            assert_eq!((r.kind, r.json), (Kind::Legacy, None));
            assert!(r.problem.unwrap().contains(why), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn bytes_in_no_known_format_are_unreadable() {
        for bad in [&b""[..], b"garbage", b"2:5:-:{}", b"[1]"] {
            let r = recover(bad);
            assert_eq!((r.kind, r.json, r.registered_at_micros), (Kind::Unreadable, None, None));
            assert!(r.problem.unwrap().contains("no format"));
        }
    }

    #[test]
    fn integer_keys_follow_php() {
        assert_eq!(php_integer_key("7"), Some(7));
        assert_eq!(php_integer_key("-3"), Some(-3));
        assert_eq!(php_integer_key("0"), Some(0));
        for s in ["07", "-0", "", "-", "1.0", " 1", "+1", "9223372036854775808", "a"] {
            assert_eq!(php_integer_key(s), None, "{s}");
        }
        assert_eq!(php_integer_key("-9223372036854775808"), Some(i64::MIN));
    }
}
