//! Connections: made lazily, one per process and thread, rebuilt after a fork, discarded after any error that is
//! not a plain error reply, and guarded by a circuit breaker so a site whose Redis is down does not wait on every
//! call. Nothing connects at module startup.
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::Connection;

use crate::core::config::Config;
use crate::core::error::{connection_is_unusable, Error, Result};
use crate::core::metrics;

struct Pooled {
    pid: u32,
    /// What the connection was made for: a change of URL or timeouts means a new connection.
    made_for: (String, Duration, Duration),
    connection: Connection,
}

/// When a server last failed; how long that keeps the breaker open is read from the settings at each call, so an
/// ini_set() of reg_buffer.retry_interval_ms takes effect at once.
#[derive(Clone, Copy)]
struct Failure {
    at: Instant,
}

thread_local! {
    static CONNECTION: RefCell<Option<Pooled>> = const { RefCell::new(None) };
    /// Last failure per server URL, for the circuit breaker.
    static FAILURES: RefCell<HashMap<String, Failure>> = RefCell::new(HashMap::new());
}

/// What the process knows about its connection, for phpinfo() and stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    NotConnected,
    Connected,
    /// The breaker is open: calls fail at once for this many more milliseconds.
    BackingOff(u64),
}

pub fn connection_state(cfg: &Config) -> ConnectionState {
    let now = Instant::now();
    if let Some(f) = open_breaker(cfg, now) {
        return ConnectionState::BackingOff((f.at + cfg.retry_interval - now).as_millis() as u64);
    }
    let pid = std::process::id();
    CONNECTION.with(|c| match &*c.borrow() {
        Some(p) if p.pid == pid && p.made_for.0 == cfg.redis_url => ConnectionState::Connected,
        _ => ConnectionState::NotConnected,
    })
}

/// Runs `op` on this process's connection to the configured Redis.
///
/// A pooled connection that Redis closed while it sat idle (its `timeout`, a restart, CLIENT KILL) only shows it
/// when used: then `op` runs once more on a new connection. Every operation is safe to repeat — push is idempotent
/// by its id, a repeated claim leaves the first batch to come back when its lease ends — and a timeout is never
/// retried, so a stalled Redis costs one timeout, not two.
pub fn with_connection<T>(cfg: &Config, mut op: impl FnMut(&mut Connection) -> redis::RedisResult<T>) -> Result<T> {
    let server = || cfg.redacted_url();
    let pid = std::process::id();

    let mut pooled = CONNECTION.with(|c| c.borrow_mut().take());
    if let Some(p) = &pooled {
        if p.pid != pid {
            // Inherited from the parent across a fork: the socket is the parent's. Forget it without a goodbye.
            std::mem::forget(pooled.take());
        } else if p.made_for.0 != cfg.redis_url || (p.made_for.1, p.made_for.2) != (cfg.connect_timeout, cfg.timeout) {
            pooled = None;
        }
    }
    let mut reused = pooled.is_some();
    loop {
        let mut current = match pooled.take() {
            Some(p) => p,
            None => {
                check_breaker(cfg, &server())?;
                match connect(cfg) {
                    Ok(connection) => {
                        Pooled { pid, made_for: (cfg.redis_url.clone(), cfg.connect_timeout, cfg.timeout), connection }
                    }
                    Err(e) => {
                        trip_breaker(cfg);
                        return Err(Error::from_redis(&e, &server()));
                    }
                }
            }
        };
        match op(&mut current.connection) {
            Ok(value) => {
                CONNECTION.with(|c| *c.borrow_mut() = Some(current));
                FAILURES.with(|f| {
                    let mut failures = f.borrow_mut();
                    if !failures.is_empty() {
                        failures.remove(&cfg.redis_url);
                    }
                });
                return Ok(value);
            }
            Err(e) if reused && e.is_connection_dropped() && !e.is_timeout() => {
                // Closed while idle: drop it and try once on a new connection.
                reused = false;
            }
            Err(e) => {
                if connection_is_unusable(&e) {
                    // Dropped here, never reused: its next reply could be this command's (redis-rs #1252).
                    trip_breaker(cfg);
                } else {
                    CONNECTION.with(|c| *c.borrow_mut() = Some(current));
                }
                return Err(Error::from_redis(&e, &server()));
            }
        }
    }
}

fn connect(cfg: &Config) -> redis::RedisResult<Connection> {
    static TLS_PROVIDER: std::sync::Once = std::sync::Once::new();
    // rediss://: rustls needs a process-wide crypto provider; ring's, installed once (a no-op if one is set).
    TLS_PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    use redis::IntoConnectionInfo;
    let info = cfg.redis_url.as_str().into_connection_info()?;
    // No CLIENT SETINFO: without a password or db a new connection then needs no set-up round trip, and a hung
    // server costs one connect timeout, not one per pipelined set-up reply.
    let settings = info.redis_settings().clone().set_skip_set_lib_name();
    let client = redis::Client::open(info.set_redis_settings(settings))?;
    let connection = client.get_connection_with_timeout(cfg.connect_timeout)?;
    connection.set_read_timeout(Some(cfg.timeout))?;
    connection.set_write_timeout(Some(cfg.timeout))?;
    Ok(connection)
}

fn check_breaker(cfg: &Config, server: &str) -> Result<()> {
    let now = Instant::now();
    match open_breaker(cfg, now) {
        Some(f) => {
            metrics::count(|m| m.fast_failures += 1);
            Err(Error::connection(format!(
            "Redis at {server} failed {} ms ago; not retrying before reg_buffer.retry_interval_ms ({} ms) has passed",
            (now - f.at).as_millis(),
            cfg.retry_interval.as_millis()
        )))
        }
        _ => Ok(()),
    }
}

/// The last failure of the configured server while it still keeps calls away, read against the current
/// reg_buffer.retry_interval_ms.
fn open_breaker(cfg: &Config, now: Instant) -> Option<Failure> {
    FAILURES.with(|f| f.borrow().get(&cfg.redis_url).copied()).filter(|f| f.at + cfg.retry_interval > now)
}

fn trip_breaker(cfg: &Config) {
    metrics::count(|m| m.connection_failures += 1);
    FAILURES.with(|f| f.borrow_mut().insert(cfg.redis_url.clone(), Failure { at: Instant::now() }));
}
