//! Settings and their defaults, parsed once per change: the one place that knows their names and limits.
use std::time::Duration;

use crate::core::error::{Error, Result};

/// Every setting with its default, in the order phpinfo() shows them. The binding registers these as ini entries.
pub const SETTINGS: [(&std::ffi::CStr, &std::ffi::CStr); 8] = [
    (c"reg_buffer.redis_url", c"redis://127.0.0.1:6379"),
    (c"reg_buffer.key_prefix", c"regbuf:"),
    (c"reg_buffer.connect_timeout_ms", c"1000"),
    (c"reg_buffer.timeout_ms", c"1000"),
    (c"reg_buffer.max_pending", c"0"),
    (c"reg_buffer.max_payload_bytes", c"65536"),
    (c"reg_buffer.dedupe_ttl", c"2592000"),
    (c"reg_buffer.retry_interval_ms", c"1000"),
];

/// Deepest nesting of arrays inside one registration.
pub const MAX_DEPTH: usize = 64;
/// Largest `$limit` one flush may claim: bounds the work of one Lua call (Laravel #43310).
pub const MAX_CLAIM: i64 = 10_000;
/// Longest unique key, in bytes.
pub const MAX_UNIQUE_KEY_BYTES: usize = 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub redis_url: String,
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_pending: u64,
    pub max_payload_bytes: usize,
    pub dedupe_ttl: u64,
    pub retry_interval: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config::from_lookup(|_| None).expect("defaults are valid")
    }
}

impl Config {
    /// Builds the settings from a lookup by name (the binding reads php.ini; tests pass a closure). Missing or
    /// empty values take their default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config> {
        let get = |i: usize| -> (String, String) {
            let name = SETTINGS[i].0.to_str().unwrap_or_default().to_owned();
            let value = lookup(&name)
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| SETTINGS[i].1.to_str().unwrap_or_default().to_owned());
            (name, value.trim().to_owned())
        };
        let number = |i: usize, min: u64| -> Result<u64> {
            let (name, value) = get(i);
            match value.parse::<u64>() {
                Ok(n) if n >= min => Ok(n),
                _ => Err(Error::invalid(format!("{name} must be a whole number >= {min}, got \"{value}\""))),
            }
        };
        let (_, redis_url) = get(0);
        parse_url(&redis_url)?;
        // An empty prefix is a choice (keys without prefix), not a missing value.
        let key_prefix = lookup(SETTINGS[1].0.to_str().unwrap_or_default())
            .unwrap_or_else(|| SETTINGS[1].1.to_str().unwrap_or_default().to_owned());
        Ok(Config {
            redis_url,
            key_prefix,
            connect_timeout: Duration::from_millis(number(2, 1)?),
            timeout: Duration::from_millis(number(3, 1)?),
            max_pending: number(4, 0)?,
            max_payload_bytes: number(5, 16)? as usize,
            dedupe_ttl: number(6, 1)?,
            retry_interval: Duration::from_millis(number(7, 0)?),
        })
    }

    /// The Redis URL with any password replaced, for messages, logs and phpinfo().
    pub fn redacted_url(&self) -> String {
        redact_url(&self.redis_url)
    }
}

/// Checks that redis-rs understands the URL, without echoing a password in the error.
pub fn parse_url(url: &str) -> Result<redis::ConnectionInfo> {
    use redis::IntoConnectionInfo;
    url.into_connection_info()
        .map_err(|e| Error::server(format!("reg_buffer.redis_url \"{}\" is not usable: {}", redact_url(url), e.kind_name())))
}

trait KindName {
    fn kind_name(&self) -> String;
}
impl KindName for redis::RedisError {
    fn kind_name(&self) -> String {
        // The detail of a URL parse error may quote the URL: keep only its category.
        format!("{:?}", self.kind())
    }
}

/// `redis://user:secret@host` → `redis://user:***@host`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let masked = if userinfo.contains(':') { format!("{user}:***") } else { "***".to_owned() };
            format!("{}{}{}", &url[..scheme_end + 3], masked, &rest[at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::default();
        assert_eq!(c.redis_url, "redis://127.0.0.1:6379");
        assert_eq!(c.key_prefix, "regbuf:");
        assert_eq!(c.timeout, Duration::from_millis(1000));
        assert_eq!(c.max_pending, 0);
        assert_eq!(c.max_payload_bytes, 65536);
        assert_eq!(c.dedupe_ttl, 30 * 24 * 3600);
    }

    #[test]
    fn refuses_a_malformed_number_naming_the_setting() {
        let err = Config::from_lookup(|n| (n == "reg_buffer.timeout_ms").then(|| "soon".to_owned())).unwrap_err();
        assert!(err.message.contains("reg_buffer.timeout_ms"), "{}", err.message);
    }

    #[test]
    fn never_shows_a_password() {
        assert_eq!(redact_url("redis://app:s3cret@host:6379/2"), "redis://app:***@host:6379/2");
        assert_eq!(redact_url("redis://:s3cret@host"), "redis://:***@host");
        assert_eq!(redact_url("redis://host:6379"), "redis://host:6379");
        let err = Config::from_lookup(|n| (n == "reg_buffer.redis_url").then(|| "nope://u:s3cret@h".to_owned()));
        assert!(!format!("{err:?}").contains("s3cret"));
    }
}
