//! Connections: made lazily, one per process and thread, rebuilt after a fork, discarded after any error that is
//! not a plain error reply, and guarded by a circuit breaker so a site whose Redis is down does not wait on every
//! call. Nothing connects at module startup. On a Redis Cluster the one connection is redis-rs's cluster client,
//! which follows MOVED/ASK redirections and refreshes the slot map itself.
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use redis::cluster::{ClusterClient, ClusterConnection};
use redis::cluster_routing::{MultipleNodeRoutingInfo, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Connection, ConnectionLike, RedisResult, TlsCertificates, Value};

use crate::core::config::{Config, TlsFiles, Topology};
use crate::core::error::{connection_is_unusable, Error, Result};
use crate::core::metrics;
use crate::core::packed::Packed;

/// A connection to one server or to a cluster: what every operation runs on.
// One per process, made once and kept: its size costs nothing, a box would cost a pointer chase on every call.
#[allow(clippy::large_enum_variant)]
pub enum Link {
    Single(Connection),
    Cluster(ClusterConnection),
}

impl Link {
    /// Waits until `replicas` replicas have every write this connection made to the master owning `key`'s slot,
    /// or `timeout` passed; returns how many did.
    pub fn wait_for_replicas(&mut self, key: &str, replicas: u32, timeout: Duration) -> RedisResult<i64> {
        let mut wait = redis::cmd("WAIT");
        wait.arg(replicas).arg(timeout.as_millis() as u64);
        // It must reach the master that took the write, on the connection that wrote.
        self.on_master_of(key, &wait)
    }

    /// INFO `section` of the master that owns `key`'s slot (the server itself when it is one).
    pub fn info_of_master(&mut self, key: &str, section: &str) -> RedisResult<String> {
        let mut info = redis::cmd("INFO");
        info.arg(section);
        self.on_master_of(key, &info)
    }

    /// Sends a command that names no key (WAIT, INFO) to the master owning `key`'s slot: left to redis-rs it
    /// would go to every node.
    fn on_master_of<T: redis::FromRedisValue>(&mut self, key: &str, cmd: &Cmd) -> RedisResult<T> {
        match self {
            Link::Single(c) => cmd.query(c),
            Link::Cluster(c) => {
                let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(Route::with_key(
                    key,
                    SlotAddr::Master,
                )));
                Ok(redis::from_redis_value(c.route_command(cmd, route)?)?)
            }
        }
    }

    /// Sends `cmd` to the server, or to every master of a cluster: each answer with the address it came from
    /// (sorted by address; "" on a single server).
    pub fn on_every_master(&mut self, cmd: &Cmd) -> RedisResult<Vec<(String, Value)>> {
        match self {
            Link::Single(c) => Ok(vec![(String::new(), cmd.query(c)?)]),
            Link::Cluster(c) => {
                let route = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
                let Value::Map(answers) = c.route_command(cmd, route)? else {
                    return Err(redis::RedisError::from((redis::ErrorKind::UnexpectedReturnType, "no answer by node")));
                };
                let mut answers: Vec<(String, Value)> = answers
                    .into_iter()
                    .map(|(addr, v)| (redis::from_redis_value::<String>(addr).unwrap_or_default(), v))
                    .collect();
                answers.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(answers)
            }
        }
    }

    /// Runs a script by the EVALSHA packed in `command`, loading the script first where Redis does not know it yet
    /// (a new server, SCRIPT FLUSH). Redis's error replies come back as errors.
    pub fn eval_packed(&mut self, script: &redis::Script, command: &Packed) -> RedisResult<Value> {
        let mut reply = self.send_packed(command);
        if matches!(&reply, Err(e) if e.kind() == redis::ErrorKind::Server(redis::ServerErrorKind::NoScript)) {
            script.load(self)?;
            reply = self.send_packed(command);
        }
        reply
    }

    /// Sends the `count` commands packed in `command` (MULTI … EXEC) in one write on a single server and returns
    /// their replies, error replies as values (the caller tells a refused MULTI from a refused command). None on a
    /// cluster, whose client routes one command at a time: the caller runs a script there instead.
    pub fn transact_packed(&mut self, command: &Packed, count: usize) -> Option<RedisResult<Vec<Value>>> {
        let Link::Single(c) = self else { return None };
        Some(c.req_packed_commands(command.bytes(), 0, count))
    }

    fn send_packed(&mut self, command: &Packed) -> RedisResult<Value> {
        match self {
            Link::Single(c) => c.req_packed_command(command.bytes())?.extract_error(),
            Link::Cluster(c) => {
                // The cluster client routes a command by its keys: it must see the arguments, not their bytes.
                let mut args = command.args();
                let mut cmd = redis::cmd(std::str::from_utf8(args.next().unwrap_or_default()).unwrap_or_default());
                for arg in args {
                    cmd.arg(arg);
                }
                cmd.query(c)
            }
        }
    }

    fn inner(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Link::Single(c) => c,
            Link::Cluster(c) => c,
        }
    }
    fn inner_ref(&self) -> &dyn ConnectionLike {
        match self {
            Link::Single(c) => c,
            Link::Cluster(c) => c,
        }
    }
}

impl ConnectionLike for Link {
    fn req_packed_command(&mut self, cmd: &[u8]) -> RedisResult<Value> {
        self.inner().req_packed_command(cmd)
    }
    fn req_packed_commands(&mut self, cmd: &[u8], offset: usize, count: usize) -> RedisResult<Vec<Value>> {
        self.inner().req_packed_commands(cmd, offset, count)
    }
    fn req_command(&mut self, cmd: &Cmd) -> RedisResult<Value> {
        // The cluster client routes a command by its keys: it must see the command, not its packed bytes.
        self.inner().req_command(cmd)
    }
    fn get_db(&self) -> i64 {
        self.inner_ref().get_db()
    }
    fn supports_pipelining(&self) -> bool {
        self.inner_ref().supports_pipelining()
    }
    fn check_connection(&mut self) -> bool {
        self.inner().check_connection()
    }
    fn is_open(&self) -> bool {
        self.inner_ref().is_open()
    }
}

/// What a connection was made for: a change of any of these means a new connection.
#[derive(PartialEq)]
struct MadeFor {
    url: String,
    connect_timeout: Duration,
    reply_timeout: Duration,
    tls: TlsFiles,
}

impl MadeFor {
    fn of(cfg: &Config) -> Self {
        MadeFor {
            url: cfg.redis_url.clone(),
            connect_timeout: cfg.connect_timeout,
            reply_timeout: cfg.reply_timeout(),
            tls: cfg.tls.clone(),
        }
    }
    /// `*self == MadeFor::of(cfg)`, without copying the settings (every call asks).
    fn is_for(&self, cfg: &Config) -> bool {
        self.url == cfg.redis_url
            && self.connect_timeout == cfg.connect_timeout
            && self.reply_timeout == cfg.reply_timeout()
            && self.tls == cfg.tls
    }
}

struct Pooled {
    pid: u32,
    made_for: MadeFor,
    connection: Link,
}

/// When a server (or one shard of a cluster) last failed, and why; how long that keeps the breaker open is read from
/// the settings at each call, so an ini_set() of reg_buffer.retry_interval_ms takes effect at once.
#[derive(Clone)]
struct Failure {
    at: Instant,
    why: String,
    /// A push hold-off's: the replicas `durability` asked for when a write fell short. A setting that asks for
    /// fewer is not held off by it.
    needed: u32,
}

/// What a call's failure says is broken, and so which breaker it trips and which it must find closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The whole server or cluster (a connect, a call that spans every master).
    Server,
    /// One shard of a cluster (`Keys::shard`): its master alone may be down or short of replicas, and the other
    /// shards go on. On a single server the same as `Server`.
    Shard(u16),
    /// A call that only informs (stats' server facts): a failure trips no breaker, so a status page never takes the
    /// buffer down.
    Inform,
}

/// A breaker of this process that is open: which shard (None: the whole server), why, and for how much longer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenBreaker {
    pub shard: Option<u16>,
    pub why: String,
    pub retry_in_ms: u64,
}

thread_local! {
    static CONNECTION: RefCell<Option<Pooled>> = const { RefCell::new(None) };
    /// Last failure per server URL and shard (None: the server as a whole), for the circuit breakers.
    static FAILURES: RefCell<HashMap<(String, Option<u16>), Failure>> = RefCell::new(HashMap::new());
    /// Shards (None: the server) whose writes fell short of `durability = replica:N`, by URL: pushes to them fail
    /// at once for a while; everything else (claims, acks, stats) goes on.
    static HELD_OFF: RefCell<HashMap<(String, Option<u16>), Failure>> = RefCell::new(HashMap::new());
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
    if let Some(f) = open_breaker(cfg, None, now) {
        return ConnectionState::BackingOff((f.at + cfg.retry_interval - now).as_millis() as u64);
    }
    let pid = crate::core::process::id();
    CONNECTION.with(|c| match &*c.borrow() {
        Some(p) if p.pid == pid && p.made_for.url == cfg.redis_url => ConnectionState::Connected,
        _ => ConnectionState::NotConnected,
    })
}

/// Runs `op` on this process's connection to the configured Redis.
///
/// A pooled connection that Redis closed while it sat idle (its `timeout`, a restart, CLIENT KILL) only shows it
/// when used: then `op` runs once more on a new connection. Every operation is safe to repeat — push is idempotent
/// by its id, a repeated claim leaves the first batch to come back when its lease ends — and a timeout is never
/// retried, so a stalled Redis costs one timeout, not two.
pub fn with_connection<T>(cfg: &Config, op: impl FnMut(&mut Link) -> redis::RedisResult<T>) -> Result<T> {
    with_connection_for(cfg, Scope::Server, op)
}

/// `with_connection` for a call whose failure says only `scope` is broken: on a cluster a shard's breaker keeps
/// calls away from that shard alone.
pub fn with_connection_for<T>(
    cfg: &Config,
    scope: Scope,
    mut op: impl FnMut(&mut Link) -> redis::RedisResult<T>,
) -> Result<T> {
    let server = || cfg.redacted_url();
    let shard = shard_of(cfg, scope);
    check_breaker(cfg, None, &server())?;
    if shard.is_some() {
        check_breaker(cfg, shard, &server())?;
    }
    let pid = crate::core::process::id();

    let mut pooled = CONNECTION.with(|c| c.borrow_mut().take());
    if let Some(p) = &pooled {
        if p.pid != pid {
            // Inherited from the parent across a fork: the socket is the parent's. Forget it without a goodbye.
            std::mem::forget(pooled.take());
        } else if !p.made_for.is_for(cfg) {
            pooled = None;
        }
    }
    let mut reused = pooled.is_some();
    loop {
        let mut current = match pooled.take() {
            Some(p) => p,
            None => match connect(cfg) {
                Ok(connection) => Pooled { pid, made_for: MadeFor::of(cfg), connection },
                Err(e) => {
                    let error = Error::from_redis(&e, &server()).scrubbed(cfg);
                    if scope != Scope::Inform {
                        trip_breaker(cfg, None, &error.message);
                    }
                    return Err(error);
                }
            },
        };
        match op(&mut current.connection) {
            Ok(value) => {
                CONNECTION.with(|c| *c.borrow_mut() = Some(current));
                FAILURES.with(|f| {
                    let mut failures = f.borrow_mut();
                    if !failures.is_empty() && scope != Scope::Inform {
                        failures.remove(&(cfg.redis_url.clone(), shard));
                    }
                });
                return Ok(value);
            }
            Err(e) if reused && e.is_connection_dropped() && !e.is_timeout() => {
                // Closed while idle: drop it and try once on a new connection.
                reused = false;
            }
            Err(e) => {
                let e = match &cfg.topology {
                    // redis-rs says only "no connections found" when no seed gave the slot map: ask one seed why.
                    Topology::Cluster(nodes) if e.kind() == redis::ErrorKind::ClusterConnectionNotFound => {
                        seed_refusal(cfg, &nodes[0]).unwrap_or(e)
                    }
                    _ => e,
                };
                let error = Error::from_redis(&e, &server()).scrubbed(cfg);
                if connection_is_unusable(&e) {
                    // Dropped here, never reused: its next reply could be this command's (redis-rs #1252).
                    if scope != Scope::Inform {
                        trip_breaker(cfg, shard, &error.message);
                    }
                } else {
                    CONNECTION.with(|c| *c.borrow_mut() = Some(current));
                }
                return Err(error);
            }
        }
    }
}

fn connect(cfg: &Config) -> redis::RedisResult<Link> {
    static TLS_PROVIDER: std::sync::Once = std::sync::Once::new();
    // rediss://: rustls needs a process-wide crypto provider; ring's, installed once (a no-op if one is set).
    TLS_PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    let certificates = tls_certificates(&cfg.tls)?;
    match &cfg.topology {
        Topology::Single => {
            use redis::IntoConnectionInfo;
            let info = cfg.redis_url.as_str().into_connection_info()?;
            // No CLIENT SETINFO: without a password or db a new connection then needs no set-up round trip, and a
            // hung server costs one connect timeout, not one per pipelined set-up reply.
            let settings = info.redis_settings().clone().set_skip_set_lib_name();
            let info = info.set_redis_settings(settings);
            let client = match certificates {
                Some(certs) => redis::Client::build_with_tls(info, certs)?,
                None => redis::Client::open(info)?,
            };
            // A signal that lands during connect (EINTR) says nothing about Redis: try once more.
            let connection = match client.get_connection_with_timeout(cfg.connect_timeout) {
                Err(e) if e.is_io_error() && e.to_string().contains("(os error 4)") => {
                    client.get_connection_with_timeout(cfg.connect_timeout)?
                }
                other => other?,
            };
            connection.set_read_timeout(Some(cfg.reply_timeout()))?;
            connection.set_write_timeout(Some(cfg.timeout))?;
            Ok(Link::Single(connection))
        }
        Topology::Cluster(nodes) => {
            // redis-rs retries a redirect or TRYAGAIN up to 16 times with waits growing to minutes: a PHP request
            // must fail within about its timeout instead (the plugin then writes directly), so 3 retries within a
            // few hundred milliseconds — MOVED/ASK are answered at once, a slot move's TRYAGAIN usually is too.
            let max_wait = (cfg.timeout.as_millis() as u64).clamp(20, 300);
            let mut builder = ClusterClient::builder(nodes.iter().map(String::as_str))
                .connection_timeout(cfg.connect_timeout)
                .response_timeout(cfg.reply_timeout())
                .retries(3)
                .min_retry_wait(10)
                .max_retry_wait(max_wait)
                .retry_wait_formula(10, 2);
            if let Some(certs) = certificates {
                builder = builder.certs(certs);
            }
            Ok(Link::Cluster(builder.build()?.get_connection()?))
        }
    }
}

/// Why a cluster seed would not give its slot map (an ACL refusing CLUSTER SLOTS, a node not in cluster mode …),
/// as the seed's own error reply; None when it answers, or cannot be reached at all.
fn seed_refusal(cfg: &Config, seed: &str) -> Option<redis::RedisError> {
    use redis::IntoConnectionInfo;
    let info = seed.into_connection_info().ok()?;
    let client = match tls_certificates(&cfg.tls).ok()? {
        Some(certs) => redis::Client::build_with_tls(info, certs).ok()?,
        None => redis::Client::open(info).ok()?,
    };
    let mut connection = match client.get_connection_with_timeout(cfg.connect_timeout) {
        Ok(c) => c,
        Err(e) if e.code().is_some() => return Some(e),
        Err(_) => return None,
    };
    connection.set_read_timeout(Some(cfg.timeout)).ok()?;
    redis::cmd("CLUSTER").arg("SLOTS").query::<redis::Value>(&mut connection).err().filter(|e| e.code().is_some())
}

/// The CA and client certificate named by the settings, read at each new connection (a renewed file is picked up).
fn tls_certificates(files: &TlsFiles) -> redis::RedisResult<Option<TlsCertificates>> {
    if files.ca_file.is_none() && files.cert_file.is_none() {
        return Ok(None);
    }
    let read = |setting: &str, path: &str| {
        std::fs::read(path).map_err(|e| {
            redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "TLS file unreadable",
                format!("{setting} \"{path}\": {e}"),
            ))
        })
    };
    let root_cert = files.ca_file.as_deref().map(|p| read("reg_buffer.tls_ca_file", p)).transpose()?;
    let client_tls = match (&files.cert_file, &files.key_file) {
        (Some(cert), Some(key)) => Some(redis::ClientTlsConfig {
            client_cert: read("reg_buffer.tls_cert_file", cert)?,
            client_key: read("reg_buffer.tls_key_file", key)?,
        }),
        _ => None,
    };
    Ok(Some(TlsCertificates { client_tls, root_cert }))
}

fn check_breaker(cfg: &Config, shard: Option<u16>, server: &str) -> Result<()> {
    let now = Instant::now();
    match open_breaker(cfg, shard, now) {
        Some(f) => {
            metrics::count(|m| m.fast_failures += 1);
            let what = match shard {
                Some(k) => format!("Shard {k} of the Redis Cluster at {server}"),
                None => format!("Redis at {server}"),
            };
            // What matters first (a log may keep only the start): the call was not tried, and until when.
            Err(Error::connection(format!(
                "{what} failed {} ms ago; not retrying before reg_buffer.retry_interval_ms ({} ms) has passed. \
                 It failed with: {}",
                (now - f.at).as_millis(),
                cfg.retry_interval.as_millis(),
                f.why
            )))
        }
        _ => Ok(()),
    }
}

/// The last failure of the configured server (or one shard) while it still keeps calls away, read against the
/// current reg_buffer.retry_interval_ms.
fn open_breaker(cfg: &Config, shard: Option<u16>, now: Instant) -> Option<Failure> {
    FAILURES.with(|f| failure_of(&f.borrow(), cfg, shard)).filter(|f| f.at + cfg.retry_interval > now)
}

/// The entry of `map` (breakers or hold-offs) for the configured server and `shard`. A handful of entries at most,
/// and none on a healthy site: a scan, no key to allocate on every call.
fn failure_of(map: &HashMap<(String, Option<u16>), Failure>, cfg: &Config, shard: Option<u16>) -> Option<Failure> {
    map.iter().find(|((url, s), _)| *s == shard && *url == cfg.redis_url).map(|(_, failure)| failure.clone())
}

fn trip_breaker(cfg: &Config, shard: Option<u16>, why: &str) {
    metrics::count(|m| m.connection_failures += 1);
    let failure = Failure { at: Instant::now(), why: why.to_owned(), needed: 0 };
    FAILURES.with(|f| f.borrow_mut().insert((cfg.redis_url.clone(), shard), failure));
}

/// The shard (None: the server) a scope names on this topology.
fn shard_of(cfg: &Config, scope: Scope) -> Option<u16> {
    match (scope, &cfg.topology) {
        (Scope::Shard(k), Topology::Cluster(_)) => Some(k),
        _ => None,
    }
}

/// Holds pushes to `scope` off for reg_buffer.retry_interval_ms: its master cannot keep what the settings ask
/// (`why`: fewer replicas than `durability = replica:N` needs acknowledged a write), so a push fails at once instead
/// of waiting out WAIT's timeout again. Claims, acks and stats are not held off: a flush keeps draining the shard.
pub fn hold_off(cfg: &Config, scope: Scope, why: &str) {
    let needed = replicas_asked(cfg);
    let failure = Failure { at: Instant::now(), why: why.to_owned(), needed };
    HELD_OFF.with(|h| h.borrow_mut().insert((cfg.redis_url.clone(), shard_of(cfg, scope)), failure));
}

/// Refuses a push to a held-off scope (see `hold_off`) while its time runs, under `durability = replica:N`.
pub fn check_held_off(cfg: &Config, scope: Scope) -> Result<()> {
    let asked = replicas_asked(cfg);
    if asked == 0 {
        return Ok(());
    }
    let shard = shard_of(cfg, scope);
    let now = Instant::now();
    let held = HELD_OFF.with(|h| failure_of(&h.borrow(), cfg, shard));
    match held.filter(|f| f.at + cfg.retry_interval > now && asked >= f.needed) {
        Some(f) => {
            metrics::count(|m| m.fast_failures += 1);
            let what = match shard {
                Some(k) => format!("shard {k}"),
                None => "the server".to_owned(),
            };
            Err(Error::connection(format!(
                "pushes to {what} are held off for reg_buffer.retry_interval_ms ({} ms) since {} ms ago: {}",
                cfg.retry_interval.as_millis(),
                (now - f.at).as_millis(),
                f.why
            )))
        }
        None => Ok(()),
    }
}

/// The replicas `durability` asks a push to reach (0: local).
fn replicas_asked(cfg: &Config) -> u32 {
    match cfg.durability {
        crate::core::config::Durability::Replica { replicas, .. } => replicas,
        crate::core::config::Durability::Local => 0,
    }
}

/// This process's open breakers and push hold-offs for the configured server, the whole server's first, then by
/// shard.
pub fn open_breakers(cfg: &Config) -> Vec<OpenBreaker> {
    let now = Instant::now();
    let asked = replicas_asked(cfg);
    let open_in = |map: &HashMap<(String, Option<u16>), Failure>, what: &str| -> Vec<OpenBreaker> {
        map.iter()
            .filter(|((url, _), f)| *url == cfg.redis_url && f.at + cfg.retry_interval > now && asked >= f.needed)
            .map(|((_, shard), failure)| OpenBreaker {
                shard: *shard,
                why: format!("{what}: {}", failure.why),
                retry_in_ms: (failure.at + cfg.retry_interval - now).as_millis() as u64,
            })
            .collect()
    };
    let mut open = FAILURES.with(|f| open_in(&f.borrow(), "calls are kept away"));
    if asked > 0 {
        open.extend(HELD_OFF.with(|h| open_in(&h.borrow(), "pushes are held off")));
    }
    open.sort_by_key(|b| b.shard.map_or(-1, i32::from));
    open
}
