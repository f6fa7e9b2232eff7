//! No Redis password ever appears where the extension renders a URL or reports an error about one (issue 13, item
//! 10): a seeded generator over passwords made of `/ @ : % # ?` and letters, put into every URL form (valid or
//! not), checked against redact_url, scrub_secrets, the settings' errors and the errors of a connection attempt.
//!
//! Reproduce a failure with URL_SECRETS_SEED=<seed printed in the message>; URL_SECRETS_CASES sets the count.
use reg_buffer::core::buffer::Buffer;
use reg_buffer::core::config::{redact_url, scrub_secrets, Config};

#[allow(dead_code)] // each test binary uses part of it
#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

/// A password: a marker no message holds by chance ("Zq"), then 2..12 characters, mostly the troublesome ones.
fn password(rng: &mut Rng) -> String {
    // Not '&': in a query (`?pass=`) it starts the next parameter, so no password there can hold one unencoded.
    const SPECIAL: &[char] = &['/', '@', ':', '%', '#', '?', '='];
    const PLAIN: &[char] = &['k', 'r', 'i', 't', '7', 'X'];
    let mut p = String::from("Zq");
    for _ in 0..2 + rng.below(11) {
        let c = if rng.below(3) < 2 { rng.pick(SPECIAL) } else { rng.pick(PLAIN) };
        p.push(c);
    }
    if rng.below(4) == 0 {
        p.push_str("%2F"); // a percent-encoded '/', which the client decodes
    }
    p
}

/// Every URL form the setting takes, with `p` as the password (raw, as a user would paste it).
fn urls(p: &str) -> Vec<String> {
    vec![
        format!("redis://app:{p}@127.0.0.1:1"),
        format!("redis://app:{p}@127.0.0.1:1/2"),
        format!("redis://:{p}@127.0.0.1:1"),
        format!("redis://ops%40site:{p}@127.0.0.1:1"),
        format!("rediss://app:{p}@127.0.0.1:1/0"),
        format!("redis+cluster://app:{p}@127.0.0.1:1,127.0.0.1:2"),
        format!("rediss+cluster://:{p}@127.0.0.1:1"),
        format!("redis+unix:///tmp/regbuf-none.sock?db=1&pass={p}"),
        format!("redis+unix:///tmp/regbuf-none.sock?password={p}"),
        format!("redis://app:{p}@"),
        format!("redis://app:{p}@127.0.0.1:notaport"),
        format!("redis+cluster://app:{p}@127.0.0.1:1/5"),
        format!("mysql://app:{p}@127.0.0.1:1"),
    ]
}

/// The forms of `p` that must never show: as written, and percent-decoded.
fn forms(p: &str) -> Vec<String> {
    let decoded = percent_decoded(p);
    // The marker plus the first character after it is enough to tell a leak (and survives a partial mask).
    vec![p.to_owned(), decoded, p[..3].to_owned()]
}

/// `p` as a client decodes it: every valid `%XX` as its byte.
fn percent_decoded(p: &str) -> String {
    let b = p.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
        if let (b'%', Some(h), Some(l)) = (b[i], hex(b.get(i + 1)), hex(b.get(i + 2))) {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn assert_hidden(what: &str, text: &str, p: &str, url: &str, seed: u64) {
    for form in forms(p) {
        assert!(!text.contains(&form), "{what} shows {form:?} of the password (url {url:?}, seed {seed}): {text}");
    }
}

fn config_for(url: &str) -> Result<Config, reg_buffer::core::error::Error> {
    Config::from_lookup(|name| match name {
        "reg_buffer.redis_url" => Some(url.to_owned()),
        "reg_buffer.connect_timeout_ms" => Some("200".to_owned()),
        "reg_buffer.timeout_ms" => Some("200".to_owned()),
        "reg_buffer.retry_interval_ms" => Some("0".to_owned()),
        _ => None,
    })
}

#[test]
fn no_password_shows_in_any_rendering_or_error_of_any_url() {
    let seed: u64 = std::env::var("URL_SECRETS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x005E_C2E7);
    let cases: usize = std::env::var("URL_SECRETS_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(60);
    let mut rng = Rng(seed);
    let mut fixed = vec!["se/krit".to_owned(), "Zq@/:%#?".to_owned(), "Zq%40p:a/b#c?d".to_owned()];
    fixed.iter_mut().for_each(|p| {
        if !p.starts_with("Zq") {
            p.insert_str(0, "Zq")
        }
    });
    let passwords: Vec<String> = fixed.into_iter().chain((0..cases).map(|_| password(&mut rng))).collect();
    for p in &passwords {
        for url in urls(p) {
            assert_hidden("redact_url", &redact_url(&url), p, &url, seed);
            // A message that quotes the URL, or the password alone (as a library might), is scrubbed.
            let quoted = format!("could not use {url}: auth {p} failed; {}", percent_decoded(p));
            assert_hidden("scrub_secrets", &scrub_secrets(&quoted, &url), p, &url, seed);
            match config_for(&url) {
                Err(e) => assert_hidden("the settings' error", &e.message, p, &url, seed),
                Ok(cfg) => {
                    assert_hidden("Config::redacted_url", &cfg.redacted_url(), p, &url, seed);
                    // Nothing listens on port 1 or at the socket (or the host a broken URL names does not resolve): the
                    // connection error, through the whole path.
                    let err = Buffer::new(&cfg).stats().expect_err("nothing listens there");
                    assert_hidden("a connection error", &err.message, p, &url, seed);
                }
            }
        }
    }
}

#[test]
fn a_url_without_a_password_is_shown_as_it_is() {
    for url in [
        "redis://127.0.0.1:6379",
        "redis://127.0.0.1:6379/2",
        "redis+unix:///run/redis.sock?db=1",
        "redis+cluster://a:1,b:2",
    ] {
        assert_eq!(redact_url(url), url);
        assert_eq!(scrub_secrets("at redis://127.0.0.1:6379", url), "at redis://127.0.0.1:6379");
    }
    assert_eq!(redact_url("redis://app:se/krit@host:6379/2"), "redis://app:***@host:6379/2");
    assert_eq!(redact_url("redis://app@host"), "redis://***@host");
    assert_eq!(redact_url("redis+unix:///s.sock?db=1&pass=x/y&z=1"), "redis+unix:///s.sock?db=1&pass=***&z=1");
}
