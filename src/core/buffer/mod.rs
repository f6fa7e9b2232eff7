//! The buffer: shard routing, and one file per operation beside the script whose KEYS/ARGV it builds — push, file,
//! claim, ack, quarantine (and retry), import, stats, rate, seats — each one Redis script per round trip over the
//! layout in `keys`; range reads with HSCAN. Every script but push's runs through `invoke`; push writes its EVALSHA
//! (or, plain, its MULTI) by hand (push.rs).
use redis::{FromRedisValue, Script, ScriptInvocation};

use crate::core::codec::StoredRegistration;
use crate::core::config::{Config, Durability, Topology};
use crate::core::error::{Error, Result};
use crate::core::keys::Keys;
use crate::core::pool::{hold_off, with_connection_for, Link, Scope};

mod ack;
mod claim;
mod file;
mod import;
mod push;
mod quarantine;
mod range;
mod rate;
mod seats;
mod stats;
pub use push::{Booking, PushLimits, UseLimit, PUSH_LUA};
pub use quarantine::QuarantinedEntry;
pub use rate::{RateHit, RateLimit, MAX_RATE_CLIENT_BYTES, MAX_RATE_WINDOW};
pub use seats::{BufferedIds, Release, SeatCount, Seats, MAX_CAPACITY};
pub use stats::{Degraded, Persistence, ServerFacts, Stats, COUNTERS};

/// A script with the key prelude. `flags` (Redis 7 shebang flags) let the scripts that drain the buffer, or only
/// read it, run while Redis is at its maxmemory; push and import stay refused there (OOM → CapacityException).
fn script(flags: Option<&str>, body: &str) -> Script {
    let shebang = flags.map(|f| format!("#!lua flags={f}\n")).unwrap_or_default();
    Script::new(&format!("{shebang}{}{}", Keys::lua_prelude(), body))
}

/// Runs `script` on `link` with the keys and arguments `build` gives it (EVALSHA, loading the script once where the
/// server does not have it): the one way an operation calls a script.
fn invoke<T: FromRedisValue>(
    link: &mut Link,
    script: &Script,
    build: impl FnOnce(&mut ScriptInvocation),
) -> redis::RedisResult<T> {
    let mut call = script.prepare_invoke();
    build(&mut call);
    call.invoke(link)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    Buffered(String),
    Duplicate,
}

impl PushOutcome {
    pub fn is_duplicate(&self) -> bool {
        *self == PushOutcome::Duplicate
    }
}

/// One registration handed out by a claim or a range query.
#[derive(Debug, Clone, PartialEq)]
pub struct BufferedRegistration {
    pub id: String,
    pub event_id: i64,
    pub stored: StoredRegistration,
}

/// A claimed batch: its id (for ack) and its registrations. An empty batch has an empty id.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub id: String,
    pub registrations: Vec<BufferedRegistration>,
    /// Registrations of this claim that could not be decoded and were moved to the quarantine.
    pub quarantined: usize,
}

pub struct Buffer<'a> {
    cfg: &'a Config,
}

impl<'a> Buffer<'a> {
    pub fn new(cfg: &'a Config) -> Self {
        Buffer { cfg }
    }

    fn shard(&self, k: u16) -> Keys {
        match self.cfg.topology {
            Topology::Single => Keys::new(&self.cfg.key_prefix),
            Topology::Cluster(_) => Keys::shard(&self.cfg.key_prefix, k),
        }
    }

    fn shard_of_event(&self, event_id: i64) -> Keys {
        self.shard(Keys::shard_of(event_id, self.cfg.shards()))
    }

    /// The shard a batch came from: its id starts with `<k>-` on a cluster. None for an id no claim gave.
    fn shard_of_batch(&self, batch_id: &str) -> Option<Keys> {
        match self.cfg.topology {
            Topology::Single => Some(self.shard(0)),
            Topology::Cluster(_) => {
                let (k, _) = batch_id.split_once('-')?;
                k.parse::<u16>().ok().filter(|&k| k < self.cfg.shards()).map(|k| self.shard(k))
            }
        }
    }

    /// `invoke` on this process's connection, for a call on the shard `keys` names (its failure trips that shard's
    /// breaker alone on a cluster); `build` runs again for an attempt on a new connection.
    fn invoke<T: FromRedisValue>(
        &self,
        keys: &Keys,
        script: &Script,
        build: impl Fn(&mut ScriptInvocation),
    ) -> Result<T> {
        self.invoke_for(breaker_scope(keys), script, build)
    }

    /// `invoke` with the breaker scope given (stats read with `Scope::Inform`: a status page trips no breaker).
    fn invoke_for<T: FromRedisValue>(
        &self,
        scope: Scope,
        script: &Script,
        build: impl Fn(&mut ScriptInvocation),
    ) -> Result<T> {
        with_connection_for(self.cfg, scope, |c| invoke(c, script, &build))
    }

    /// A write's replication fell short (see `replicate`): the shard fails fast for reg_buffer.retry_interval_ms
    /// instead of making every push wait out WAIT's timeout again.
    fn hold_off_short_of_replicas(&self, keys: &Keys, shortfall: &Error) {
        hold_off(self.cfg, breaker_scope(keys), &shortfall.message);
    }

    /// After a write on `link`: under `durability = replica:N`, waits for N replicas to have it. Returns the
    /// shortfall as an error value (the write itself happened; the caller decides what that means).
    fn replicate(&self, link: &mut Link, key: &str) -> redis::RedisResult<Option<Error>> {
        let Durability::Replica { replicas, timeout } = self.cfg.durability else { return Ok(None) };
        let got = link.wait_for_replicas(key, replicas, timeout)?;
        Ok((got < replicas as i64).then(|| {
            Error::connection(format!(
                "only {got} of the {replicas} replicas reg_buffer.durability asks for acknowledged the write within {} ms; \
                 it is on the master but may not survive a failover",
                timeout.as_millis()
            ))
        }))
    }
}

/// The breaker scope of a call on the shard `keys` names.
fn breaker_scope(keys: &Keys) -> Scope {
    keys.shard_number().map_or(Scope::Server, Scope::Shard)
}

fn check_event(event_id: i64) -> Result<()> {
    if event_id <= 0 {
        return Err(Error::invalid(format!("event_id must be greater than 0, got {event_id}")));
    }
    Ok(())
}

/// A registration's time as the index's score: whole milliseconds. An integer score keeps a small sorted set
/// (a listpack) fast: Redis stores it as an integer, where a fractional one is text that every insert parses again.
/// `range()` reads the exact time from the entry.
fn score_ms(micros: u64) -> String {
    let mut score = String::with_capacity(24);
    push_score_ms(&mut score, micros);
    score
}

/// Appends `score_ms(micros)`.
fn push_score_ms(out: &mut String, micros: u64) {
    out.push_str(itoa::Buffer::new().format(micros / 1000));
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}
