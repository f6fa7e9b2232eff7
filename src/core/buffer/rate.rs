//! Rate limits: a client's hits counted in fixed windows on Redis's clock, by push's `$rate_limit` (inside push.lua)
//! and by `rate_hit` for callers that count requests of their own (the plugin's REST route). One counting fragment,
//! rate.lua, serves both.
use once_cell::sync::Lazy;
use redis::Script;

use super::Buffer;
use crate::core::config::Topology;
use crate::core::error::{Error, Result};
use crate::core::keys::Keys;

/// Counts a hit; allowed at maxmemory (a counter that expires with its window), so the limit holds when Redis is full.
static RATE_HIT: Lazy<Script> = Lazy::new(|| {
    Script::new(concat!("#!lua flags=allow-oom\n", include_str!("rate.lua"), include_str!("rate_hit.lua")))
});

/// A client (an IP address, a /64 bucket) may push at most `limit` times per `window` seconds: counted in the
/// push's own script, per shard on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit<'c> {
    pub client: &'c [u8],
    pub limit: u32,
    pub window: u32,
}

/// Longest client name a rate limit takes, in bytes (an IPv6 address is 45).
pub const MAX_RATE_CLIENT_BYTES: usize = 256;
/// Longest rate-limit window: a day.
pub const MAX_RATE_WINDOW: u32 = 86_400;

impl RateLimit<'_> {
    pub(super) fn check(&self) -> Result<()> {
        if self.client.is_empty() || self.client.len() > MAX_RATE_CLIENT_BYTES {
            return Err(Error::invalid(format!(
                "a rate limit's client must be 1 to {MAX_RATE_CLIENT_BYTES} bytes, got {}",
                self.client.len()
            )));
        }
        if self.limit == 0 {
            return Err(Error::invalid("a rate limit's limit must be at least 1"));
        }
        if !(1..=MAX_RATE_WINDOW).contains(&self.window) {
            return Err(Error::invalid(format!(
                "a rate limit's window must be 1 to {MAX_RATE_WINDOW} seconds, got {}",
                self.window
            )));
        }
        Ok(())
    }
}

/// One counted hit: the count in the window including it, and when the window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateHit {
    pub count: u64,
    pub limit: u32,
    /// Unix second the window ends (Redis's clock): the counter starts again from 0 then.
    pub reset: u64,
    /// Seconds until then (at least 1).
    pub retry_after: u64,
}

impl RateHit {
    pub fn allowed(&self) -> bool {
        self.count <= u64::from(self.limit)
    }
    pub fn remaining(&self) -> u64 {
        u64::from(self.limit).saturating_sub(self.count)
    }
}

impl Buffer<'_> {
    /// Counts one hit of `rate.client` in its current window, with the key and counting code of push's rate limit.
    /// Every hit counts, allowed or not. The client must be valid UTF-8. On a cluster the counter lives in the shard
    /// the client's digest picks.
    pub fn rate_hit(&self, rate: &RateLimit) -> Result<RateHit> {
        rate.check()?;
        if std::str::from_utf8(rate.client).is_err() {
            return Err(Error::invalid("a rate limit's client must be valid UTF-8"));
        }
        let shard = match self.cfg.topology {
            Topology::Single => 0,
            Topology::Cluster(_) => Keys::shard_of_client(rate.client, self.cfg.shards()),
        };
        let keys = self.shard(shard);
        let key = keys.rate_counter(rate.client);
        let (count, reset, now): (u64, u64, u64) = self.invoke(&keys, &RATE_HIT, |call| {
            call.key(&key).arg(rate.window);
        })?;
        Ok(RateHit { count, limit: rate.limit, reset, retry_after: reset.saturating_sub(now).max(1) })
    }
}
