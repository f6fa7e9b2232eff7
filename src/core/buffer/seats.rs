//! Seats: an event's capacity kept in Redis as the count of seats taken and of waiters (keys.rs `ev:{e}:s`), booked
//! in the push's own script (push.lua) or alone (seat_take.lua), given back, promoted and seeded here. The capacity
//! is the caller's (its store owns it and passes it on every booking); the count is trusted only on the server run it
//! was written under (seats.lua), so a restart, a failover or a flush makes the caller count its store again.
use once_cell::sync::Lazy;
use redis::Script;

use super::{check_event, lossy, Buffer};
use crate::core::error::{Error, Result};

/// A seat-counting script: seats.lua's functions, then `body`.
fn seats_script(flags: Option<&str>, body: &str) -> Script {
    let shebang = flags.map(|f| format!("#!lua flags={f}\n")).unwrap_or_default();
    Script::new(&format!("{shebang}{}{body}", include_str!("seats.lua")))
}

static TAKE: Lazy<Script> = Lazy::new(|| seats_script(None, include_str!("seat_take.lua")));
// Giving a place back and seeding also run at maxmemory: they free or fix, and must not wait for room.
static RELEASE: Lazy<Script> = Lazy::new(|| seats_script(Some("allow-oom"), include_str!("seat_release.lua")));
static PROMOTE: Lazy<Script> = Lazy::new(|| seats_script(Some("allow-oom"), include_str!("seats_promote.lua")));
static COUNT: Lazy<Script> = Lazy::new(|| seats_script(Some("no-writes"), include_str!("seats_count.lua")));
static SEED: Lazy<Script> = Lazy::new(|| seats_script(Some("allow-oom"), include_str!("seats_seed.lua")));
static FORGET: Lazy<Script> = Lazy::new(|| seats_script(Some("allow-oom"), include_str!("seats_forget.lua")));
static BUFFERED: Lazy<Script> = Lazy::new(|| seats_script(Some("no-writes"), include_str!("seats_buffered.lua")));

/// An event's capacity as a booking states it: at most `capacity` registrations hold a seat; past it a booking is
/// waitlisted when `waitlist`, else refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seats {
    pub capacity: u64,
    pub waitlist: bool,
}

/// Largest capacity a booking states (a count Redis holds as an integer, and PHP as an int).
pub const MAX_CAPACITY: u64 = 1 << 40;

impl Seats {
    pub fn check(&self) -> Result<()> {
        if self.capacity > MAX_CAPACITY {
            return Err(Error::invalid(format!("a capacity must be from 0 to {MAX_CAPACITY}, got {}", self.capacity)));
        }
        Ok(())
    }
}

/// How many of an event's seats are taken, and how many registrations wait for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeatCount {
    pub taken: u64,
    pub waiting: u64,
}

impl SeatCount {
    pub fn remaining(&self, capacity: u64) -> u64 {
        capacity.saturating_sub(self.taken)
    }
}

/// What a cancelled registration's place became (seat_release.lua).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// A seat is free again.
    Freed,
    /// The seat passed to the first waiter: the caller promotes its oldest waitlisted registration.
    Promote,
    /// A waiter left the waitlist.
    Unlisted,
    /// No known count: the next seed counts the store.
    Unknown,
}

impl Release {
    pub fn name(self) -> &'static str {
        match self {
            Release::Freed => "freed",
            Release::Promote => "promote",
            Release::Unlisted => "unlisted",
            Release::Unknown => "unknown",
        }
    }
}

/// The ids of an event's registrations still in Redis, by place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BufferedIds {
    pub registered: Vec<String>,
    pub waitlisted: Vec<String>,
}

pub(super) fn seat_count(taken: Option<&redis::Value>, waiting: Option<&redis::Value>) -> Option<SeatCount> {
    let n = |v: Option<&redis::Value>| match v {
        Some(redis::Value::Int(n)) => u64::try_from(*n).ok(),
        _ => None,
    };
    Some(SeatCount { taken: n(taken)?, waiting: n(waiting)? })
}

pub(super) fn sold_out(event_id: i64, seats: Option<&Seats>, count: Option<SeatCount>) -> Error {
    Error::sold_out(format!(
        "event {event_id} is sold out: {} of its {} seats are taken and it has no waitlist",
        count.map_or(0, |c| c.taken),
        seats.map_or(0, |s| s.capacity)
    ))
}

pub(super) fn unknown_count(event_id: i64) -> Error {
    Error::seats_unknown(format!(
        "Redis does not know how many seats of event {event_id} are taken (first booking, or Redis restarted, failed \
         over or lost the count): count the stored registrations and seed it"
    ))
}

impl Buffer<'_> {
    /// Takes a seat (or a waitlist place) without buffering: for a registration the caller stores itself.
    pub fn seat_take(&self, event_id: i64, seats: &Seats) -> Result<(bool, SeatCount)> {
        check_event(event_id)?;
        seats.check()?;
        let k = self.shard_of_event(event_id);
        let reply: redis::Value = self.invoke(&k, &TAKE, |call| {
            call.key(k.seats(event_id)).arg(seats.capacity).arg(if seats.waitlist { "1" } else { "0" });
        })?;
        match reply {
            redis::Value::Int(-6) => Err(unknown_count(event_id)),
            redis::Value::Array(parts) => match parts.first() {
                Some(redis::Value::Int(-5)) => {
                    Err(sold_out(event_id, Some(seats), seat_count(parts.get(1), parts.get(2))))
                }
                Some(redis::Value::Int(w @ (0 | 1))) => {
                    let count = seat_count(parts.get(1), parts.get(2))
                        .ok_or_else(|| Error::server(format!("seat_take.lua answered {parts:?}")))?;
                    Ok((*w == 1, count))
                }
                _ => Err(Error::server(format!("seat_take.lua answered {parts:?}"))),
            },
            other => Err(Error::server(format!("seat_take.lua answered {other:?}"))),
        }
    }

    /// Gives back the place of a cancelled registration (see `Release`). With `capacity`, an event holding more than
    /// it (the capacity was lowered) frees the seat instead of promoting a waiter.
    pub fn seat_release(&self, event_id: i64, waitlisted: bool, capacity: Option<u64>) -> Result<Release> {
        check_event(event_id)?;
        let k = self.shard_of_event(event_id);
        let capacity = capacity.map(|c| c.to_string()).unwrap_or_default();
        let reply: String = self.invoke(&k, &RELEASE, |call| {
            call.key(k.seats(event_id)).arg(if waitlisted { "1" } else { "0" }).arg(&capacity);
        })?;
        Ok(match reply.as_str() {
            "freed" => Release::Freed,
            "promote" => Release::Promote,
            "unlisted" => Release::Unlisted,
            "unknown" => Release::Unknown,
            other => return Err(Error::server(format!("seat_release.lua answered {other:?}"))),
        })
    }

    /// Seats added (a capacity raised) go to the waiters first: how many of them now hold one (the caller promotes
    /// that many of its oldest waitlisted registrations). None when the count is not known.
    pub fn seats_promote(&self, event_id: i64, capacity: u64) -> Result<Option<u64>> {
        check_event(event_id)?;
        Seats { capacity, waitlist: true }.check()?;
        let k = self.shard_of_event(event_id);
        let n: i64 = self.invoke(&k, &PROMOTE, |call| {
            call.key(k.seats(event_id)).arg(capacity);
        })?;
        Ok(u64::try_from(n).ok())
    }

    /// The event's count, or None when Redis has none it trusts.
    pub fn seat_count(&self, event_id: i64) -> Result<Option<SeatCount>> {
        check_event(event_id)?;
        let k = self.shard_of_event(event_id);
        let (known, taken, waiting): (i64, u64, u64) = self.invoke(&k, &COUNT, |call| {
            call.key(k.seats(event_id));
        })?;
        Ok((known == 1).then_some(SeatCount { taken, waiting }))
    }

    /// Sets the count the caller established from its store, unless Redis knows one (another process seeded first;
    /// bookings may have followed). True when set.
    pub fn seats_seed(&self, event_id: i64, count: SeatCount) -> Result<bool> {
        check_event(event_id)?;
        let k = self.shard_of_event(event_id);
        let set: i64 = self.invoke(&k, &SEED, |call| {
            call.key(k.seats(event_id)).arg(count.taken).arg(count.waiting);
        })?;
        Ok(set == 1)
    }

    /// Forgets the count: bookings are refused as unknown until the next seed.
    pub fn seats_forget(&self, event_id: i64) -> Result<()> {
        check_event(event_id)?;
        let k = self.shard_of_event(event_id);
        let _: i64 = self.invoke(&k, &FORGET, |call| {
            call.key(k.seats(event_id));
        })?;
        Ok(())
    }

    /// The ids of the event's registrations still in Redis (pending or in flight), by place: a seed counts them
    /// beside the store's rows (one may be in both: stored by a flusher that has not acknowledged it yet).
    pub fn seats_buffered(&self, event_id: i64) -> Result<BufferedIds> {
        check_event(event_id)?;
        let k = self.shard_of_event(event_id);
        // Filed first: a registration its unique key's marker holds is in the event's data only once filed.
        self.file_inbox(&k, super::breaker_scope(&k))?;
        let (registered, waitlisted): (Vec<Vec<u8>>, Vec<Vec<u8>>) = self.invoke(&k, &BUFFERED, |call| {
            call.key(k.data(event_id));
        })?;
        Ok(BufferedIds {
            registered: registered.into_iter().map(lossy).collect(),
            waitlisted: waitlisted.into_iter().map(lossy).collect(),
        })
    }
}
