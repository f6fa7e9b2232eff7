//! Property tests of the core codec (issue 5, hostile input): seeded, bounded, no extra dependency.
//!
//! - encode -> decode gives back the same data (key order, integer vs float, float bits incl. -0.0 and
//!   subnormals, strings with NUL and any Unicode), the same unique key bytes (including ':' and digits) and time;
//! - an entry over max_bytes is refused, one at or under it accepted;
//! - decode never panics on mutated or random bytes (it returns Ok or an error), and what it accepts is an
//!   array or an object;
//! - php_integer_key follows PHP's canonical-integer-string rule.
//!
//! Reproduce a failure with CODEC_PROPS_SEED=<seed printed in the message>; CODEC_PROPS_CASES sets the count.
use reg_buffer::core::codec::{decode, encode, php_integer_key};
use serde_json::{Map, Number, Value};

#[allow(dead_code)] // each test binary uses part of it
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

fn seed() -> u64 {
    std::env::var("CODEC_PROPS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_abcd_0001)
}

fn cases() -> u64 {
    std::env::var("CODEC_PROPS_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(4000)
}

fn any_string(r: &mut Rng) -> String {
    const POOL: &[&str] = &[
        "",
        "\0",
        "a\0b",
        "Zoë",
        "東京",
        "🎉",
        "\u{FEFF}",
        "\u{10FFFF}",
        "\"",
        "\\",
        "'; DROP TABLE x; --",
        "1:2:",
        "-:",
        "0123",
        "-0",
        "7",
    ];
    if r.chance(40) {
        return POOL[r.below(POOL.len() as u64) as usize].to_string();
    }
    let n = if r.chance(3) { r.below(5000) } else { r.below(24) };
    (0..n)
        .map(|_| loop {
            let c = match r.below(4) {
                0 => r.below(0x80) as u32,
                1 => r.below(0x800) as u32,
                2 => r.below(0x1_0000) as u32,
                _ => r.below(0x11_0000) as u32,
            };
            if let Some(c) = char::from_u32(c) {
                break c;
            }
        })
        .collect()
}

fn any_float(r: &mut Rng) -> f64 {
    const POOL: &[f64] = &[
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.1,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        f64::MAX,
        f64::MIN,
        9007199254740993.0,
        1e21,
        1e-7,
    ];
    if r.chance(40) {
        return POOL[r.below(POOL.len() as u64) as usize];
    }
    loop {
        let f = f64::from_bits(r.next());
        if f.is_finite() {
            return f;
        }
    }
}

fn any_value(r: &mut Rng, depth: usize) -> Value {
    let roll = r.below(100);
    if depth < 64 && (roll < 20 || depth < 3 && roll < 40) {
        return any_container(r, depth + 1);
    }
    match r.below(6) {
        0 => Value::Null,
        1 => Value::Bool(r.chance(50)),
        2 => Value::Number(match r.below(4) {
            0 => (r.next() as i64).into(),
            1 => [i64::MIN, i64::MAX, 0, -1][r.below(4) as usize].into(),
            _ => Number::from_f64(any_float(r)).unwrap(),
        }),
        _ => Value::String(any_string(r)),
    }
}

fn any_container(r: &mut Rng, depth: usize) -> Value {
    let n = r.below(6);
    if r.chance(50) {
        Value::Array((0..n).map(|_| any_value(r, depth)).collect())
    } else {
        let mut m = Map::new();
        for _ in 0..n {
            let k = if r.chance(30) { (r.next() as i64).to_string() } else { any_string(r) };
            m.insert(k, any_value(r, depth));
        }
        Value::Object(m)
    }
}

/// Equal including key order, integer-vs-float and float bits.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), x.is_f64(), y.is_f64()) {
            (_, true, true) => x.as_f64().unwrap().to_bits() == y.as_f64().unwrap().to_bits(),
            (_, false, false) => x == y,
            _ => false,
        },
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|((ka, va), (kb, vb))| ka == kb && same(va, vb))
        }
        _ => a == b,
    }
}

#[test]
fn encode_then_decode_gives_back_exactly_what_was_given() {
    let s = seed();
    let mut r = Rng(s);
    for case in 0..cases() {
        let data = any_container(&mut r, 1);
        let micros = r.next() >> r.below(64);
        let key: Option<Vec<u8>> =
            if r.chance(50) { Some((0..1 + r.below(40)).map(|_| r.below(256) as u8).collect()) } else { None };
        let stored = encode(&data, micros, key.as_deref(), usize::MAX)
            .unwrap_or_else(|e| panic!("seed {s} case {case}: encode refused: {e}"));
        let back =
            decode(&stored).unwrap_or_else(|e| panic!("seed {s} case {case}: decode refused its own entry: {e}"));
        assert!(same(&data, back.data()), "seed {s} case {case}: data changed\n  in:  {data}\n  out: {}", back.json);
        assert_eq!(back.json, serde_json::to_string(&data).unwrap(), "seed {s} case {case}: json text changed");
        assert_eq!(back.unique_key, key, "seed {s} case {case}: unique key changed");
        assert_eq!(back.registered_at_micros, micros, "seed {s} case {case}: time changed");
    }
}

#[test]
fn max_bytes_is_a_sharp_limit() {
    let s = seed() ^ 0x55;
    let mut r = Rng(s);
    for case in 0..cases() / 4 {
        let data = any_container(&mut r, 1);
        let len = serde_json::to_vec(&data).unwrap().len();
        assert!(encode(&data, 1, None, len).is_ok(), "seed {s} case {case}: refused at exactly max_bytes");
        assert!(encode(&data, 1, None, len - 1).is_err(), "seed {s} case {case}: accepted over max_bytes");
    }
}

#[test]
fn decode_never_panics_on_damaged_or_random_bytes() {
    let s = seed() ^ 0xdead;
    let mut r = Rng(s);
    for _ in 0..cases() {
        let data = any_container(&mut r, 1);
        let mut bytes = if r.chance(80) {
            encode(&data, r.next(), if r.chance(50) { Some(b"k:1:x".as_slice()) } else { None }, usize::MAX).unwrap()
        } else {
            (0..r.below(200)).map(|_| r.below(256) as u8).collect()
        };
        for _ in 0..r.below(4) {
            if bytes.is_empty() {
                break;
            }
            let i = r.below(bytes.len() as u64) as usize;
            match r.below(3) {
                0 => bytes[i] = r.below(256) as u8,
                1 => bytes.truncate(i),
                _ => bytes.insert(i, b":0123456789-{}[]\""[r.below(17) as usize]),
            }
        }
        if let Ok(back) = decode(&bytes) {
            assert!(back.data().is_array() || back.data().is_object(), "seed {s}: decode accepted a scalar");
        }
    }
}

#[test]
fn php_integer_key_follows_php() {
    let s = seed() ^ 0xbeef;
    let mut r = Rng(s);
    for _ in 0..cases() {
        let i = match r.below(3) {
            0 => r.next() as i64,
            1 => (r.below(2001) as i64) - 1000,
            _ => [i64::MIN, i64::MAX, 0][r.below(3) as usize],
        };
        assert_eq!(php_integer_key(&i.to_string()), Some(i), "{i}");
    }
    for k in
        ["", "-", "-0", "00", "01", "+1", " 1", "1 ", "1e3", "1.0", "9223372036854775808", "-9223372036854775809", "０"]
    {
        assert_eq!(php_integer_key(k), None, "{k:?} is not a PHP integer key");
    }
}
