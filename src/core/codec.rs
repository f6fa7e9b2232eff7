//! Registration <-> stored bytes: the value model, its limits, and the stored entry format.
//!
//! A stored entry is `1:<registered_at µs>:<unique key length or ->:<unique key bytes><data as JSON>`. The JSON
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

/// Decodes a stored entry; an error here sends the entry to quarantine.
pub fn decode(stored: &[u8]) -> Result<StoredRegistration> {
    let bad = |why: &str| Error::invalid(format!("stored registration is malformed: {why}"));
    let rest = stored.strip_prefix(b"1:").ok_or_else(|| bad("unknown format version"))?;
    let (micros, rest) = split_field(rest).ok_or_else(|| bad("no timestamp"))?;
    let registered_at_micros: u64 = std::str::from_utf8(micros).ok().and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad timestamp"))?;
    let (klen, rest) = split_field(rest).ok_or_else(|| bad("no unique key length"))?;
    let (unique_key, json) = if klen == b"-" {
        (None, rest)
    } else {
        let n: usize = std::str::from_utf8(klen).ok().and_then(|s| s.parse().ok()).ok_or_else(|| bad("bad unique key length"))?;
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
    Ok(StoredRegistration { registered_at_micros, unique_key, json: json.to_owned(), value: std::cell::OnceCell::new() })
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
        for f in [0.1, 1.0, -0.0, f64::MAX, f64::MIN_POSITIVE, 5e-324, 123456789.123456789, 1e21] {
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
