//! The one error type of the core, classified so the binding can map each kind to the right PHP exception.
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A value the caller gave is out of range or malformed (PHP ValueError).
    Invalid,
    /// A value of a type that cannot be buffered (PHP TypeError).
    Type,
    /// Redis unreachable, timed out, or the connection broke (RegBuffer\ConnectionException).
    Connection,
    /// The buffer is at reg_buffer.max_pending (RegBuffer\CapacityException).
    Capacity,
    /// A use limit the caller set (a form token's) is used up (RegBuffer\LimitException).
    Limit,
    /// A client's rate limit (reg_buffer_push()'s $rate_limit) is reached for this window
    /// (RegBuffer\RateLimitException).
    RateLimit,
    /// Every seat of the event is taken and it has no waitlist (RegBuffer\SoldOutException).
    SoldOut,
    /// Redis has no count of the event's seats it can trust; the caller counts its store and seeds it
    /// (RegBuffer\SeatsUnknownException).
    SeatsUnknown,
    /// Redis answered with an error, or a setting is unusable (RegBuffer\Exception).
    Server,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    /// The id a failed push tried: the caller can store the registration elsewhere under the same id.
    pub registration_id: Option<String>,
    /// A RateLimit error's seconds until the client's window ends (Redis's clock).
    pub retry_after: Option<u64>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), registration_id: None, retry_after: None }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, message)
    }
    pub fn wrong_type(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Type, message)
    }
    pub fn connection(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Connection, message)
    }
    pub fn capacity(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Capacity, message)
    }
    pub fn limit(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Limit, message)
    }
    pub fn rate_limit(message: impl Into<String>, retry_after: u64) -> Self {
        Error { retry_after: Some(retry_after), ..Self::new(ErrorKind::RateLimit, message) }
    }
    pub fn sold_out(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SoldOut, message)
    }
    pub fn seats_unknown(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SeatsUnknown, message)
    }
    pub fn server(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Server, message)
    }
    pub fn with_registration_id(mut self, id: &str) -> Self {
        self.registration_id = Some(id.to_owned());
        self
    }
    /// The same error, its message without any secret of the configured Redis URL.
    pub fn scrubbed(mut self, cfg: &crate::core::config::Config) -> Self {
        self.message = cfg.scrub(&self.message);
        self
    }
    pub fn is_connection(&self) -> bool {
        self.kind == ErrorKind::Connection
    }

    /// Classifies a redis-rs error: a broken, refused or timed-out connection is a connection error; an error
    /// reply or a refused login is the server saying no.
    pub fn from_redis(err: &redis::RedisError, server: &str) -> Self {
        let unavailable = matches!(
            err.kind(),
            // A server that is still loading its data, or a replica cut off from its master, is unavailable; so is a
            // cluster in a failover or a slot move (down, redirects or TRYAGAIN past the client's few retries, a
            // demoted master answering READONLY).
            redis::ErrorKind::Server(
                redis::ServerErrorKind::BusyLoading
                    | redis::ServerErrorKind::MasterDown
                    | redis::ServerErrorKind::TryAgain
                    | redis::ServerErrorKind::ClusterDown
                    | redis::ServerErrorKind::Moved
                    | redis::ServerErrorKind::Ask
                    | redis::ServerErrorKind::ReadOnly
            )
        );
        if err.code() == Some("OOM") {
            // Redis at its maxmemory with noeviction: the buffer is full, as at reg_buffer.max_pending.
            Error::capacity(format!("Redis at {server} is full (maxmemory): {err}"))
        } else if unavailable {
            Error::connection(format!("Redis at {server} is not available yet: {err}"))
        } else if err.is_io_error() || err.is_timeout() || err.is_connection_dropped() || err.is_connection_refusal() {
            let what = if err.is_timeout() { "timed out" } else { "connection failed" };
            Error::connection(format!("Redis at {server}: {what}: {err}"))
        } else {
            Error::server(format!("Redis at {server} refused: {err}"))
        }
    }
}

/// True when the connection that produced `err` must be thrown away: anything but an error reply from the server
/// (redis-rs #1252: after a timeout a reused connection returned the previous command's reply). A reply such as
/// OOM, BUSY or MISCONF leaves the connection in step.
pub fn connection_is_unusable(err: &redis::RedisError) -> bool {
    err.code().is_none() || err.is_io_error() || err.is_timeout() || err.is_connection_dropped()
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
