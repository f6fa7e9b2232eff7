//! Statistics: the buffer's figures summed over its shards (stats.lua), and what the server tells of itself (run id,
//! uptime, persistence, eviction policy) for a watcher that must tell a restart or a flush from a quiet buffer.
use once_cell::sync::Lazy;
use redis::Script;

use super::{script, Buffer};
use crate::core::config::{Durability, Topology};
use crate::core::error::ErrorKind;
use crate::core::error::{connection_is_unusable, Result};
use crate::core::id;
use crate::core::keys::digest_hex;
use crate::core::pool::{open_breakers, with_connection_for, Link, Scope};

type ShardStats = (Vec<(String, i64)>, i64, Option<f64>, i64, f64, String, Vec<String>);

// Writes only the epoch, once: allowed at maxmemory.
static STATS: Lazy<Script> = Lazy::new(|| script(Some("allow-oom"), include_str!("stats.lua")));

#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub pending: i64,
    pub in_flight: i64,
    pub buffered: i64,
    pub events: i64,
    pub oldest_pending_age: Option<f64>,
    pub quarantined: i64,
    /// What the server (every master of a cluster) tells of itself, each None where Redis refuses to tell.
    pub server: ServerFacts,
    /// Seconds since any flusher last acknowledged a batch (None: never): how long the flush has been silent.
    pub last_ack_age: Option<f64>,
    /// Lifetime counters, shared by every process using this prefix: pushed, duplicates, claimed, acked, …
    pub counters: Vec<(String, i64)>,
    /// Names the buffered data (of every shard): it changes exactly when Redis lost the data (restarted without
    /// persistence, FLUSHALL), so a watcher that remembers it can tell that registrations may be gone. Empty when
    /// `partial`.
    pub epoch: String,
    /// Some shard could not be read (its master is down or failing over): the figures are the other shards', and
    /// no epoch is given — a watcher must not compare this with a whole answer.
    pub partial: bool,
    /// Shards (None: the whole server) that cannot take or keep registrations as the settings ask right now, and
    /// why: unreachable in this call, kept away by this process's breaker, or short of the replicas
    /// `durability = replica:N` needs.
    pub degraded: Vec<Degraded>,
}

/// One shard (None: the server as a whole) that is degraded, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Degraded {
    pub shard: Option<u16>,
    pub why: String,
}

/// How a server keeps its data across a restart, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Persistence {
    None,
    Rdb,
    AofNo,
    AofEverysec,
    AofAlways,
}

impl Persistence {
    pub fn name(self) -> &'static str {
        match self {
            Persistence::None => "none",
            Persistence::Rdb => "rdb",
            Persistence::AofNo => "aof-no",
            Persistence::AofEverysec => "aof-everysec",
            Persistence::AofAlways => "aof-always",
        }
    }
}

/// The server's own facts; on a cluster, of all its masters together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerFacts {
    /// INFO's run_id: changes at every restart. A cluster's masters' run ids, sorted, joined by ",".
    pub run_id: Option<String>,
    /// INFO's uptime_in_seconds; on a cluster the smallest.
    pub uptime: Option<i64>,
    /// From INFO's aof_enabled and CONFIG GET appendfsync / save; on a cluster the weakest master's.
    pub persistence: Option<Persistence>,
    /// CONFIG GET maxmemory-policy (on a cluster, the first master's by address).
    pub maxmemory_policy: Option<String>,
}

/// How many times stats() calls stats.lua on one shard at most while it corrects the shard's `oldest` index
/// (each call corrects up to 256 events for good: the claims left them behind; this covers ~100k events).
const STATS_CALLS_PER_SHARD: usize = 400;

pub const COUNTERS: [&str; 7] = ["pushed", "duplicates", "claimed", "acked", "redelivered", "lost", "retried"];

impl Buffer<'_> {
    pub fn stats(&self) -> Result<Stats> {
        let mut counters: Vec<(String, i64)> = Vec::new();
        let (mut events, mut oldest, mut quarantined, mut now_ms) = (0i64, None::<f64>, 0i64, 0f64);
        let mut epochs: Vec<String> = Vec::new();
        let mut degraded: Vec<Degraded> = Vec::new();
        let mut first_error: Option<crate::core::error::Error> = None;
        let shards = self.cfg.shards();
        for k in 0..shards {
            let shard = match self.shard_stats(k) {
                Ok(shard) => shard,
                // On a cluster the other shards still answer: their figures, and this shard named as degraded.
                Err(e) if shards > 1 && e.kind == ErrorKind::Connection => {
                    degraded.push(Degraded { shard: Some(k), why: e.message.clone() });
                    first_error.get_or_insert(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            let (shard_counters, shard_events, shard_oldest, shard_quarantined, shard_now, shard_epoch, _) = shard;
            epochs.push(shard_epoch);
            for (name, value) in shard_counters {
                match counters.iter_mut().find(|(n, _)| *n == name) {
                    // last_ack_ms is a time, not a count: the latest one.
                    Some((_, v)) if name == "last_ack_ms" => *v = (*v).max(value),
                    Some((_, v)) => *v += value,
                    None => counters.push((name, value)),
                }
            }
            events += shard_events;
            oldest = match (oldest, shard_oldest) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            quarantined += shard_quarantined;
            now_ms = now_ms.max(shard_now);
        }
        if epochs.is_empty() {
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        let partial = !degraded.is_empty();
        let get = |name: &str| counters.iter().find(|(k, _)| k == name).map_or(0, |(_, v)| *v);
        let buffered = (get("pushed") - get("acked") - get("lost") - get("dropped")).max(0);
        let in_flight = get("in_flight").max(0);
        // A cluster's facts come from every master: with one down they are unknown, not an error.
        let server = if shards > 1 {
            with_connection_for(self.cfg, Scope::Inform, server_facts).unwrap_or_default()
        } else {
            with_connection_for(self.cfg, Scope::Server, server_facts)?
        };
        self.short_of_replicas(&mut degraded);
        for open in open_breakers(self.cfg) {
            if !degraded.iter().any(|d| d.shard == open.shard) {
                degraded.push(Degraded {
                    shard: open.shard,
                    why: format!("{} (for {} ms more, in this process)", open.why, open.retry_in_ms),
                });
            }
        }
        degraded.sort_by_key(|d| d.shard.map_or(-1, i32::from));
        Ok(Stats {
            pending: (buffered - in_flight).max(0),
            in_flight,
            buffered,
            events,
            oldest_pending_age: oldest.map(|ms| ((now_ms - ms) / 1000.0).max(0.0)),
            quarantined,
            server,
            last_ack_age: counters
                .iter()
                .find(|(k, _)| k == "last_ack_ms")
                .map(|(_, ms)| ((now_ms - *ms as f64) / 1000.0).max(0.0)),
            counters: COUNTERS.iter().map(|&n| (n.to_owned(), get(n))).collect(),
            // One shard's epoch is the epoch; a cluster's shards' together, as one digest of fixed length.
            epoch: match epochs.len() {
                _ if partial => String::new(),
                1 => epochs.remove(0),
                _ => digest_hex(epochs.join(",").as_bytes()),
            },
            partial,
            degraded,
        })
    }

    /// Under `durability = replica:N`, each reachable shard whose master has fewer than N replicas connected
    /// (INFO replication): its pushes cannot be kept as asked.
    fn short_of_replicas(&self, degraded: &mut Vec<Degraded>) {
        let Durability::Replica { replicas, .. } = self.cfg.durability else { return };
        let shards: Vec<Option<u16>> = match self.cfg.topology {
            Topology::Single => vec![None],
            Topology::Cluster(_) => (0..self.cfg.shards()).map(Some).collect(),
        };
        for shard in shards {
            if degraded.iter().any(|d| d.shard == shard) {
                continue;
            }
            let keys = self.shard(shard.unwrap_or(0));
            let info = with_connection_for(self.cfg, Scope::Inform, |c| c.info_of_master(&keys.stats(), "replication"));
            let Ok(info) = info else { continue };
            let connected: u32 = info_field(&info, "connected_slaves").and_then(|n| n.parse().ok()).unwrap_or(0);
            if connected < replicas {
                degraded.push(Degraded {
                    shard,
                    why: format!(
                        "its master has {connected} of the {replicas} replica(s) reg_buffer.durability asks for: \
                         pushes to it fail (and fall back) until a replica is back"
                    ),
                });
            }
        }
    }

    /// One shard's figures (see stats.lua): counters, events, oldest pending (ms), quarantined, Redis's now (ms),
    /// epoch.
    fn shard_stats(&self, k: u16) -> Result<ShardStats> {
        let keys = self.shard(k);
        let (scope, sharded) = keys.script_args();
        let candidate = id::new_id(id::now_micros());
        // The shard's `oldest` index is corrected from its top by stats.lua itself, which may only read the
        // events it declares: it names the ones it needs, and is called again declaring them, until it settles
        // (one call on an empty shard, usually two otherwise). Each call corrects for good what it read, so the
        // walk ends; the cap only bounds a shard whose indexes keep changing under it, and then its oldest is
        // a bound at or before the real one.
        let mut declare: Vec<String> = Vec::new();
        let mut shard: ShardStats;
        // A cluster shard's read trips no breaker (a slow status page must not hold pushes off); a single server's
        // does, as any call: it is the whole buffer.
        let scope_of_read = if self.cfg.shards() > 1 { Scope::Inform } else { Scope::Server };
        // Filed first, so the events and the oldest registration count what waits in the inbox and held list too.
        self.file_inbox(&keys, scope_of_read)?;
        let mut calls = 0;
        loop {
            shard = self.invoke_for(scope_of_read, &STATS, |call| {
                call.key(keys.ready())
                    .key(keys.oldest())
                    .key(keys.stats())
                    .key(keys.quarantine())
                    .key(keys.epoch())
                    .key(keys.inbox())
                    .key(keys.held());
                for e in &declare {
                    let e: i64 = e.parse().unwrap_or(0);
                    call.key(keys.queue(e)).key(keys.data(e));
                }
                call.arg(scope).arg(sharded).arg(&candidate);
                for e in &declare {
                    call.arg(e);
                }
            })?;
            calls += 1;
            if shard.6.is_empty() || calls >= STATS_CALLS_PER_SHARD {
                break;
            }
            declare = std::mem::take(&mut shard.6);
        }
        Ok(shard)
    }
}

/// INFO and CONFIG of the server (every master), two round trips. Managed Redis services often refuse or rename
/// CONFIG and may refuse INFO: what they refuse is unknown (None), not an error; a broken connection is one.
fn server_facts(c: &mut Link) -> redis::RedisResult<ServerFacts> {
    let refused_as_none = |r: redis::RedisResult<Vec<(String, redis::Value)>>| match r {
        Ok(answers) => Ok(Some(answers)),
        Err(e) if !connection_is_unusable(&e) => Ok(None),
        Err(e) => Err(e),
    };
    let info = refused_as_none(c.on_every_master(redis::cmd("INFO").arg("server").arg("persistence")))?;
    let config = refused_as_none(
        c.on_every_master(redis::cmd("CONFIG").arg("GET").arg("maxmemory-policy").arg("appendfsync").arg("save")),
    )?;
    let info: Option<Vec<(String, String)>> = info.map(|answers| {
        answers.into_iter().map(|(addr, v)| (addr, redis::from_redis_value::<String>(v).unwrap_or_default())).collect()
    });
    let config: Option<Vec<(String, Vec<String>)>> = config.map(|answers| {
        answers
            .into_iter()
            .map(|(addr, v)| (addr, redis::from_redis_value::<Vec<String>>(v).unwrap_or_default()))
            .collect()
    });
    Ok(combine(info.as_deref(), config.as_deref()))
}

/// One field of INFO's `name:value` lines.
fn info_field<'i>(info: &'i str, name: &str) -> Option<&'i str> {
    info.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(':')).map(str::trim)
}

/// One setting of CONFIG GET's flat name/value list.
fn config_field<'c>(config: &'c [String], name: &str) -> Option<&'c str> {
    config.chunks(2).find(|pair| pair[0] == name).and_then(|pair| pair.get(1)).map(String::as_str)
}

/// The facts of every master (by address) together: a fact unknown on one master is unknown.
fn combine(info: Option<&[(String, String)]>, config: Option<&[(String, Vec<String>)]>) -> ServerFacts {
    let config_of = |addr: &str| config.and_then(|c| c.iter().find(|(a, _)| a == addr)).map(|(_, c)| c.as_slice());
    let mut facts = ServerFacts {
        maxmemory_policy: config
            .and_then(|c| c.first())
            .and_then(|(_, c)| config_field(c, "maxmemory-policy"))
            .map(str::to_owned),
        ..ServerFacts::default()
    };
    let Some(info) = info.filter(|i| !i.is_empty()) else { return facts };
    let run_ids: Option<Vec<&str>> = info.iter().map(|(_, i)| info_field(i, "run_id")).collect();
    facts.run_id = run_ids.map(|mut ids| {
        ids.sort_unstable();
        ids.join(",")
    });
    let uptimes: Option<Vec<i64>> =
        info.iter().map(|(_, i)| info_field(i, "uptime_in_seconds")?.parse().ok()).collect();
    facts.uptime = uptimes.and_then(|u| u.into_iter().min());
    let modes: Option<Vec<Persistence>> = info.iter().map(|(addr, i)| persistence(i, config_of(addr)?)).collect();
    facts.persistence = modes.and_then(|m| m.into_iter().min());
    facts
}

/// A server's persistence: with AOF on, by its fsync policy; else RDB when it has save points, none without.
fn persistence(info: &str, config: &[String]) -> Option<Persistence> {
    if info_field(info, "aof_enabled")? == "1" {
        return match config_field(config, "appendfsync")? {
            "always" => Some(Persistence::AofAlways),
            "everysec" => Some(Persistence::AofEverysec),
            "no" => Some(Persistence::AofNo),
            _ => None,
        };
    }
    Some(if config_field(config, "save")?.trim().is_empty() { Persistence::None } else { Persistence::Rdb })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Vec<String> {
        pairs.iter().flat_map(|(n, v)| [n.to_string(), v.to_string()]).collect()
    }

    #[test]
    fn persistence_follows_aof_then_save_points() {
        let aof = "# Persistence\r\naof_enabled:1\r\n";
        let no_aof = "aof_enabled:0\r\n";
        assert_eq!(persistence(aof, &config(&[("appendfsync", "everysec")])), Some(Persistence::AofEverysec));
        assert_eq!(persistence(aof, &config(&[("appendfsync", "always")])), Some(Persistence::AofAlways));
        assert_eq!(persistence(aof, &config(&[("appendfsync", "no")])), Some(Persistence::AofNo));
        assert_eq!(persistence(aof, &[]), None, "CONFIG refused");
        assert_eq!(persistence(no_aof, &config(&[("save", "")])), Some(Persistence::None));
        assert_eq!(persistence(no_aof, &config(&[("save", "3600 1 300 100")])), Some(Persistence::Rdb));
        assert_eq!(persistence("", &config(&[("save", "")])), None, "INFO without aof_enabled");
    }

    #[test]
    fn a_cluster_is_as_weak_as_its_weakest_master_and_as_young_as_its_youngest() {
        let info = |id: &str, up: u32, aof: u8| {
            (format!("n{id}"), format!("run_id:{id}\r\nuptime_in_seconds:{up}\r\naof_enabled:{aof}\r\n"))
        };
        let masters = [info("bb", 50, 1), info("aa", 7, 1), info("cc", 90, 0)];
        let configs: Vec<(String, Vec<String>)> = vec![
            ("naa".into(), config(&[("maxmemory-policy", "noeviction"), ("appendfsync", "always"), ("save", "")])),
            ("nbb".into(), config(&[("maxmemory-policy", "noeviction"), ("appendfsync", "everysec"), ("save", "")])),
            ("ncc".into(), config(&[("maxmemory-policy", "noeviction"), ("appendfsync", "always"), ("save", "60 1")])),
        ];
        let facts = combine(Some(&masters), Some(&configs));
        assert_eq!(facts.run_id.as_deref(), Some("aa,bb,cc"));
        assert_eq!(facts.uptime, Some(7));
        assert_eq!(facts.persistence, Some(Persistence::Rdb));
        assert_eq!(facts.maxmemory_policy.as_deref(), Some("noeviction"));
        let refused = combine(Some(&masters), None);
        assert_eq!((refused.persistence, refused.maxmemory_policy), (None, None));
        assert_eq!(refused.run_id.as_deref(), Some("aa,bb,cc"), "INFO still tells the run ids");
        assert_eq!(combine(None, None), ServerFacts::default());
    }
}
