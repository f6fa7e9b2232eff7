//! Settings and their defaults, parsed once per change: the one place that knows their names and limits.
use std::time::Duration;

use crate::core::error::{Error, Result};

/// Every setting with its default, in the order phpinfo() shows them. The binding registers these as ini entries.
pub const SETTINGS: [(&std::ffi::CStr, &std::ffi::CStr); 12] = [
    (c"reg_buffer.redis_url", c"redis://127.0.0.1:6379"),
    (c"reg_buffer.key_prefix", c"regbuf:"),
    (c"reg_buffer.connect_timeout_ms", c"1000"),
    (c"reg_buffer.timeout_ms", c"1000"),
    // ~124 MB of Redis for typical registrations (620 bytes each with its marker): bench/NOTES.md, "Default cap".
    (c"reg_buffer.max_pending", c"200000"),
    (c"reg_buffer.max_payload_bytes", c"65536"),
    (c"reg_buffer.dedupe_ttl", c"2592000"),
    (c"reg_buffer.retry_interval_ms", c"1000"),
    (c"reg_buffer.durability", c"local"),
    (c"reg_buffer.tls_ca_file", c""),
    (c"reg_buffer.tls_cert_file", c""),
    (c"reg_buffer.tls_key_file", c""),
];

/// Deepest nesting of arrays inside one registration.
pub const MAX_DEPTH: usize = 64;
/// Largest `$limit` one flush may claim: bounds the work of one Lua call (Laravel #43310).
pub const MAX_CLAIM: i64 = 10_000;
/// Longest unique key, in bytes.
pub const MAX_UNIQUE_KEY_BYTES: usize = 1024;
/// Shards of the buffer on a Redis Cluster: each is one hash slot holding its events and their indexes. Fixed, so
/// that every process agrees where an event lives; 16 spread over the masters of any usual cluster.
pub const CLUSTER_SHARDS: u16 = 16;

/// Where the buffer lives: one Redis server, or a Redis Cluster reached through any of its nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    Single,
    /// `redis://…` URLs of the seed nodes, each with the credentials of the cluster URL.
    Cluster(Vec<String>),
}

/// When a write counts as done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Acknowledged by the master alone (a failover may lose the last writes).
    Local,
    /// Acknowledged once `replicas` replicas have it (WAIT), within `timeout`.
    Replica { replicas: u32, timeout: Duration },
}

/// PEM files for TLS (rediss://): a CA to trust instead of the system's roots, and a client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

/// The longest `reg_buffer.dedupe_ttl` (seconds): ten years. Redis refuses an expiry past ~2^63 ms, and a held
/// marker gets its TTL only when filed, where a refused one would stop the filing.
pub const MAX_DEDUPE_TTL: u64 = 10 * 365 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub redis_url: String,
    pub topology: Topology,
    pub key_prefix: String,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_pending: u64,
    pub max_payload_bytes: usize,
    pub dedupe_ttl: u64,
    pub retry_interval: Duration,
    pub durability: Durability,
    pub tls: TlsFiles,
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
        let topology = parse_topology(&redis_url)?;
        // An empty prefix is a choice (keys without prefix), not a missing value.
        let key_prefix = lookup(SETTINGS[1].0.to_str().unwrap_or_default())
            .unwrap_or_else(|| SETTINGS[1].1.to_str().unwrap_or_default().to_owned());
        if topology != Topology::Single && (key_prefix.contains('{') || key_prefix.contains('}')) {
            // The shards' hash tags follow the prefix: a brace in it would put every shard in one slot.
            return Err(Error::invalid(format!(
                "reg_buffer.key_prefix \"{key_prefix}\" must not contain {{ or }} on a Redis Cluster"
            )));
        }
        let file = |i: usize| Some(get(i).1).filter(|v| !v.is_empty());
        let tls = TlsFiles { ca_file: file(9), cert_file: file(10), key_file: file(11) };
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            return Err(Error::invalid(
                "reg_buffer.tls_cert_file and reg_buffer.tls_key_file go together: set both or neither",
            ));
        }
        Ok(Config {
            redis_url,
            topology,
            key_prefix,
            connect_timeout: Duration::from_millis(number(2, 1)?),
            timeout: Duration::from_millis(number(3, 1)?),
            max_pending: number(4, 0)?,
            max_payload_bytes: number(5, 16)? as usize,
            dedupe_ttl: match number(6, 1)? {
                ttl if ttl <= MAX_DEDUPE_TTL => ttl,
                ttl => {
                    return Err(Error::invalid(format!(
                        "reg_buffer.dedupe_ttl must be at most {MAX_DEDUPE_TTL} seconds (ten years), got {ttl}"
                    )))
                }
            },
            retry_interval: Duration::from_millis(number(7, 0)?),
            durability: parse_durability(&get(8).1)?,
            tls,
        })
    }

    /// How long one reply may take: the timeout, plus the replicas' time when a write waits for them.
    pub fn reply_timeout(&self) -> Duration {
        match self.durability {
            Durability::Local => self.timeout,
            Durability::Replica { timeout, .. } => self.timeout + timeout,
        }
    }

    /// How many shards the buffer has: 1 on a single server.
    pub fn shards(&self) -> u16 {
        match self.topology {
            Topology::Single => 1,
            Topology::Cluster(_) => CLUSTER_SHARDS,
        }
    }

    /// The Redis URL with any password replaced, for messages, logs and phpinfo().
    pub fn redacted_url(&self) -> String {
        redact_url(&self.redis_url)
    }

    /// `text` without any secret of the Redis URL (see `scrub_secrets`).
    pub fn scrub(&self, text: &str) -> String {
        scrub_secrets(text, &self.redis_url)
    }
}

/// Checks that redis-rs understands the URL, without echoing a password in the error.
pub fn parse_url(url: &str) -> Result<redis::ConnectionInfo> {
    use redis::IntoConnectionInfo;
    url.into_connection_info().map_err(|e| {
        Error::server(format!("reg_buffer.redis_url \"{}\" is not usable: {}", redact_url(url), e.kind_name()))
    })
}

/// `redis+cluster://[user:pass@]host1:port1,host2:port2` (or `rediss+cluster://`) is a cluster reached through
/// any of the listed nodes; any other URL is one server.
fn parse_topology(url: &str) -> Result<Topology> {
    let refuse =
        |why: &str| Error::server(format!("reg_buffer.redis_url \"{}\" is not usable: {why}", redact_url(url)));
    let Some((scheme, rest)) = url.split_once("+cluster://") else {
        parse_url(url)?;
        return Ok(Topology::Single);
    };
    if scheme != "redis" && scheme != "rediss" {
        return Err(refuse("a cluster URL starts with redis+cluster:// or rediss+cluster://"));
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !path.is_empty() && path != "0" {
        return Err(refuse("a Redis Cluster has only database 0"));
    }
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (format!("{u}@"), h),
        None => (String::new(), authority),
    };
    let nodes: Vec<String> = hosts
        .split(',')
        .filter(|h| !h.trim().is_empty())
        .map(|h| format!("{scheme}://{userinfo}{}", h.trim()))
        .collect();
    if nodes.is_empty() {
        return Err(refuse("no node listed"));
    }
    for node in &nodes {
        parse_url(node)?;
    }
    Ok(Topology::Cluster(nodes))
}

/// `local`, `replica:N` or `replica:N:timeout_ms` (the timeout defaults to 1000 ms).
fn parse_durability(value: &str) -> Result<Durability> {
    let bad = || {
        Error::invalid(format!(
            "reg_buffer.durability must be local, replica:N or replica:N:timeout_ms, got \"{value}\""
        ))
    };
    if value == "local" {
        return Ok(Durability::Local);
    }
    let mut parts = value.strip_prefix("replica:").ok_or_else(bad)?.split(':');
    let replicas: u32 = parts.next().and_then(|n| n.parse().ok()).filter(|&n| n >= 1).ok_or_else(bad)?;
    let timeout = match parts.next() {
        Some(ms) => ms.parse::<u64>().ok().filter(|&ms| ms >= 1).ok_or_else(bad)?,
        None => 1000,
    };
    if parts.next().is_some() {
        return Err(bad());
    }
    Ok(Durability::Replica { replicas, timeout: Duration::from_millis(timeout) })
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

/// Where a URL's secrets are, as byte ranges: the password of its userinfo (everything between the first ':' and
/// the last '@' after the scheme, or the whole userinfo without a ':'), and the value of a `pass=` or `password=`
/// query parameter. Read from the raw text, not a URL parser: an invalid URL (`u:se/krit@host`, where '/' ends
/// the authority) must be masked as well as a valid one, so a '/', '?' or '#' inside a password is still inside.
fn secret_spans(url: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    if let Some(scheme_end) = url.find("://") {
        let start = scheme_end + 3;
        if let Some(at) = url[start..].rfind('@') {
            let userinfo = &url[start..start + at];
            // The user is shown only when it is plainly one: a '@', '/', '?', '#' or '%' before the ':' may be a
            // password's (a user name has none), so then the whole userinfo is masked.
            let secret_start = match userinfo.find(':') {
                Some(colon) if !userinfo[..colon].contains(['@', '/', '?', '#', '%']) => start + colon + 1,
                _ => start,
            };
            spans.push((secret_start, start + at));
        }
    }
    for name in ["pass=", "password="] {
        let mut from = 0;
        while let Some(i) = url[from..].find(name) {
            let at = from + i;
            from = at + name.len();
            if at > 0 && matches!(url.as_bytes()[at - 1], b'?' | b'&') {
                // To the next '&' (a '#' may be the password's own).
                let end = url[from..].find('&').map_or(url.len(), |e| from + e);
                spans.push((from, end));
            }
        }
    }
    spans
}

/// `secret_spans`, overlapping ones merged, in order.
fn merged_secret_spans(url: &str) -> Vec<(usize, usize)> {
    let mut spans = secret_spans(url);
    spans.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(spans.len());
    for (a, b) in spans {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    merged
}

/// `redis://user:secret@host` → `redis://user:***@host`, for any text given as a URL, valid or not.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_owned();
    for (a, b) in merged_secret_spans(url).into_iter().rev() {
        out.replace_range(a..b, "***");
    }
    out
}

/// The secrets of `url` as they may appear in a message: as written, and percent-decoded (how the client sends them).
fn secrets_of(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    for (a, b) in secret_spans(url) {
        let raw = &url[a..b];
        let mut candidates = vec![raw];
        if url[..a].ends_with("://") {
            // A whole userinfo masked (its user was not plainly one): either side of any ':' may be the password.
            for (i, _) in raw.match_indices(':') {
                candidates.extend([&raw[..i], &raw[i + 1..]]);
            }
        }
        for candidate in candidates.into_iter().filter(|c| !c.is_empty()) {
            let decoded = percent_decode(candidate);
            if !decoded.is_empty() && decoded != candidate {
                secrets.push(decoded);
            }
            secrets.push(candidate.to_owned());
        }
    }
    // Longest first, so a secret inside another is not left half-masked.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `text` with every secret of `url` (see `redact_url`) replaced by `***`: the last guard on every message that
/// leaves the extension, whatever a library put into it.
pub fn scrub_secrets(text: &str, url: &str) -> String {
    let mut out = redact_url_mentions(text, url);
    for secret in secrets_of(url) {
        if out.contains(&secret) {
            out = out.replace(&secret, "***");
        }
    }
    out
}

/// Replaces the URL itself, when quoted whole, by its redacted form (keeps the message readable).
fn redact_url_mentions(text: &str, url: &str) -> String {
    if url.is_empty() || !text.contains(url) {
        return text.to_owned();
    }
    text.replace(url, &redact_url(url))
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
        assert_eq!(c.max_pending, 200_000);
        assert_eq!(c.max_payload_bytes, 65536);
        assert_eq!(c.dedupe_ttl, 30 * 24 * 3600);
    }

    #[test]
    fn refuses_a_malformed_number_naming_the_setting() {
        let err = Config::from_lookup(|n| (n == "reg_buffer.timeout_ms").then(|| "soon".to_owned())).unwrap_err();
        assert!(err.message.contains("reg_buffer.timeout_ms"), "{}", err.message);
    }

    #[test]
    fn refuses_a_dedupe_ttl_past_ten_years() {
        let ttl = |v: u64| Config::from_lookup(|n| (n == "reg_buffer.dedupe_ttl").then(|| v.to_string()));
        assert_eq!(ttl(MAX_DEDUPE_TTL).unwrap().dedupe_ttl, MAX_DEDUPE_TTL);
        let err = ttl(MAX_DEDUPE_TTL + 1).unwrap_err();
        assert!(err.message.contains("reg_buffer.dedupe_ttl must be at most"), "{}", err.message);
        assert!(ttl(u64::MAX).is_err());
    }

    #[test]
    fn reads_a_cluster_url_into_its_seed_nodes() {
        let c = Config::from_lookup(|n| {
            (n == "reg_buffer.redis_url").then(|| "redis+cluster://app:pw@10.0.0.1:7000,10.0.0.2:7001".to_owned())
        })
        .unwrap();
        assert_eq!(
            c.topology,
            Topology::Cluster(vec![
                "redis://app:pw@10.0.0.1:7000".to_owned(),
                "redis://app:pw@10.0.0.2:7001".to_owned()
            ])
        );
        assert_eq!(c.shards(), CLUSTER_SHARDS);
        assert_eq!(Config::default().shards(), 1);
        let db = Config::from_lookup(|n| (n == "reg_buffer.redis_url").then(|| "redis+cluster://h:1/3".to_owned()));
        assert!(db.unwrap_err().message.contains("database 0"));
        let brace = Config::from_lookup(|n| match n {
            "reg_buffer.redis_url" => Some("redis+cluster://h:1".to_owned()),
            "reg_buffer.key_prefix" => Some("site{1}:".to_owned()),
            _ => None,
        });
        assert!(brace.is_err());
    }

    #[test]
    fn reads_durability() {
        let d = |v: &str| {
            Config::from_lookup(|n| (n == "reg_buffer.durability").then(|| v.to_owned())).map(|c| c.durability)
        };
        assert_eq!(d("local").unwrap(), Durability::Local);
        assert_eq!(d("replica:2").unwrap(), Durability::Replica { replicas: 2, timeout: Duration::from_millis(1000) });
        assert_eq!(
            d("replica:1:250").unwrap(),
            Durability::Replica { replicas: 1, timeout: Duration::from_millis(250) }
        );
        for bad in ["replica", "replica:0", "replica:x", "replica:1:0", "replica:1:2:3", "remote"] {
            assert!(d(bad).unwrap_err().message.contains("reg_buffer.durability"), "{bad}");
        }
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
