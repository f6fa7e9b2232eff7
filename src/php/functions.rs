//! The PHP functions: each parses its arguments, calls the core, and converts the answer. No buffer logic here.
use std::panic::AssertUnwindSafe;

use ext_php_rs::args::Arg;
use ext_php_rs::builders::{FunctionBuilder, ModuleBuilder};
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::{run_handler, ExecuteData};

use crate::core::buffer::{
    Buffer, PushLimits, PushOutcome, RateLimit, SeatCount, Seats, UseLimit, COUNTERS, MAX_CAPACITY, MAX_RATE_WINDOW,
};
use crate::core::codec;
use crate::core::error::Error;
use crate::php::args::{ArgError, Args};
use crate::php::{convert, exceptions, settings};

enum Failure {
    Arg(ArgError),
    Core(Error),
}
impl From<ArgError> for Failure {
    fn from(e: ArgError) -> Self {
        Failure::Arg(e)
    }
}
impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

/// Runs a function body with panics caught, and turns its error into the PHP exception.
fn call(ex: &mut ExecuteData, retval: &mut Zval, body: impl FnOnce(&mut ExecuteData) -> Result<Zval, Failure>) {
    run_handler(AssertUnwindSafe(|| match body(ex) {
        Ok(value) => *retval = value,
        Err(Failure::Arg(e)) => e.throw(),
        Err(Failure::Core(e)) => exceptions::throw(e),
    }));
}

fn long(n: i64) -> Zval {
    let mut zv = Zval::new();
    zv.set_long(n);
    zv
}

fn rows(regs: &[crate::core::buffer::BufferedRegistration], with_data: bool) -> Result<Zval, Failure> {
    let mut list = ZendHashTable::with_capacity(u32::try_from(regs.len()).unwrap_or(u32::MAX));
    let keys = convert::RowKeys::new();
    for reg in regs {
        let _ = list.push(convert::row(reg, &keys, with_data)?);
    }
    let mut zv = Zval::new();
    zv.set_hashtable(list);
    Ok(zv)
}

/// `['token' => string, 'uses' => int, 'expires_at' => int]` → (token, uses, expires_at).
/// `argument` names it in errors, e.g. "reg_buffer_push(): Argument #4 ($use_limit)".
fn use_limit(ht: &ZendHashTable, argument: &str) -> Result<(Vec<u8>, u32, u64), Error> {
    let bad = |why: &str| Error::invalid(format!("{argument} {why}"));
    let mut token = None;
    let (mut uses, mut expires_at) = (None, None);
    for (key, value) in ht.iter() {
        let number = || value.long().or_else(|| value.str().and_then(|s| s.trim().parse().ok()));
        match key.to_string().as_str() {
            "token" => {
                token =
                    Some(value.zend_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| bad("token must be a string"))?)
            }
            "uses" => {
                uses = Some(
                    number()
                        .filter(|&n| (1..=i64::from(u32::MAX)).contains(&n))
                        .ok_or_else(|| bad("uses must be an int >= 1"))?,
                )
            }
            "expires_at" => {
                expires_at =
                    Some(number().filter(|&n| n > 0).ok_or_else(|| bad("expires_at must be a Unix time in seconds"))?)
            }
            other => return Err(bad(&format!("has an unknown key \"{other}\" (token, uses, expires_at)"))),
        }
    }
    match (token, uses, expires_at) {
        (Some(t), Some(u), Some(e)) => Ok((t, u as u32, e as u64)),
        _ => Err(bad("needs token, uses and expires_at")),
    }
}

/// `['client' => string, 'limit' => int, 'window' => int]` → (client, limit, window).
fn rate_limit(ht: &ZendHashTable, argument: &str) -> Result<(Vec<u8>, u32, u32), Error> {
    let bad = |why: &str| Error::invalid(format!("{argument} {why}"));
    let mut client = None;
    let (mut limit, mut window) = (None, None);
    for (key, value) in ht.iter() {
        let number = || value.long().or_else(|| value.str().and_then(|s| s.trim().parse().ok()));
        match key.to_string().as_str() {
            "client" => {
                client = Some(
                    value.zend_str().map(|s| s.as_bytes().to_vec()).ok_or_else(|| bad("client must be a string"))?,
                )
            }
            "limit" => {
                limit = Some(
                    number()
                        .filter(|&n| (1..=i64::from(u32::MAX)).contains(&n))
                        .ok_or_else(|| bad("limit must be an int >= 1"))?,
                )
            }
            "window" => {
                window = Some(
                    number()
                        .filter(|&n| (1..=i64::from(MAX_RATE_WINDOW)).contains(&n))
                        .ok_or_else(|| bad(&format!("window must be an int of seconds from 1 to {MAX_RATE_WINDOW}")))?,
                )
            }
            other => return Err(bad(&format!("has an unknown key \"{other}\" (client, limit, window)"))),
        }
    }
    match (client, limit, window) {
        (Some(c), Some(l), Some(w)) => Ok((c, l as u32, w as u32)),
        _ => Err(bad("needs client, limit and window")),
    }
}

const PUSH_PARAMS: &[&str] = &["event_id", "registration", "unique_key", "use_limit", "rate_limit"];
extern "C" fn push(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_push", PUSH_PARAMS, 2)?;
        let event_id = args.long(0, 0)?;
        let unique_key = args.bytes(2, true)?;
        let limit = args.nullable_array(3)?.map(|ht| use_limit(ht, "reg_buffer_push(): Argument #4 ($use_limit)"));
        let limit = limit.transpose()?;
        let rate = args.nullable_array(4)?.map(|ht| rate_limit(ht, "reg_buffer_push(): Argument #5 ($rate_limit)"));
        let rate = rate.transpose()?;
        let limits = push_limits(&limit, &rate, None);
        let registration = args.array(1)?;
        let mut json = Vec::with_capacity(256);
        if !convert::registration_json(registration, &mut json) {
            json = codec::to_json(&convert::registration(registration)?)?;
        }
        let cfg = settings::config()?;
        Ok(match Buffer::new(&cfg).push_json(event_id, &json, unique_key.as_deref(), &limits)? {
            PushOutcome::Buffered(id) => {
                let mut zv = Zval::new();
                convert::set_bytes(&mut zv, id.as_bytes());
                zv
            }
            PushOutcome::Duplicate => {
                let mut zv = Zval::new();
                zv.set_bool(false);
                zv
            }
        })
    })
}

type UseLimitArg = Option<(Vec<u8>, u32, u64)>;
type RateLimitArg = Option<(Vec<u8>, u32, u32)>;

fn push_limits<'a>(limit: &'a UseLimitArg, rate: &'a RateLimitArg, seats: Option<Seats>) -> PushLimits<'a> {
    PushLimits {
        uses: limit.as_ref().map(|(token, uses, expires_at)| UseLimit { token, uses: *uses, expires_at: *expires_at }),
        rate: rate.as_ref().map(|(client, limit, window)| RateLimit { client, limit: *limit, window: *window }),
        seats,
    }
}

/// `['capacity' => int, 'waitlist' => bool]` → Seats; `argument` names it in errors.
fn seats_arg(ht: &ZendHashTable, argument: &str) -> Result<Seats, Error> {
    let bad = |why: &str| Error::invalid(format!("{argument} {why}"));
    let (mut capacity, mut waitlist) = (None, false);
    for (key, value) in ht.iter() {
        match key.to_string().as_str() {
            "capacity" => {
                capacity = Some(
                    value
                        .long()
                        .and_then(|n| u64::try_from(n).ok())
                        .filter(|&n| n <= MAX_CAPACITY)
                        .ok_or_else(|| bad(&format!("capacity must be an int from 0 to {MAX_CAPACITY}")))?,
                )
            }
            "waitlist" => {
                waitlist = value
                    .bool()
                    .or_else(|| value.long().filter(|n| (0..=1).contains(n)).map(|n| n == 1))
                    .ok_or_else(|| bad("waitlist must be a bool"))?
            }
            other => return Err(bad(&format!("has an unknown key \"{other}\" (capacity, waitlist)"))),
        }
    }
    let capacity = capacity.ok_or_else(|| bad("needs capacity"))?;
    Ok(Seats { capacity, waitlist })
}

/// An event's count as PHP sees it: status, remaining (of `capacity`) and waiting; null figures when not known.
fn seat_figures(out: &mut ZendHashTable, count: Option<SeatCount>, capacity: u64) {
    let n = |v: Option<u64>| v.map_or_else(null, |v| long(i64::try_from(v).unwrap_or(i64::MAX)));
    let _ = out.insert("remaining", n(count.map(|c| c.remaining(capacity))));
    let _ = out.insert("waiting", n(count.map(|c| c.waiting)));
}

fn table(ht: ext_php_rs::boxed::ZBox<ZendHashTable>) -> Zval {
    let mut zv = Zval::new();
    zv.set_hashtable(ht);
    zv
}

const BOOK_PARAMS: &[&str] = &["event_id", "registration", "seats", "unique_key", "use_limit", "rate_limit"];
extern "C" fn book(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_book", BOOK_PARAMS, 3)?;
        let event_id = args.long(0, 0)?;
        let seats = seats_arg(args.array(2)?, "reg_buffer_book(): Argument #3 ($seats)")?;
        let unique_key = args.bytes(3, true)?;
        let limit = args.nullable_array(4)?.map(|ht| use_limit(ht, "reg_buffer_book(): Argument #5 ($use_limit)"));
        let limit = limit.transpose()?;
        let rate = args.nullable_array(5)?.map(|ht| rate_limit(ht, "reg_buffer_book(): Argument #6 ($rate_limit)"));
        let rate = rate.transpose()?;
        let limits = push_limits(&limit, &rate, Some(seats));
        let registration = args.array(1)?;
        let mut json = Vec::with_capacity(256);
        if !convert::registration_json(registration, &mut json) {
            json = codec::to_json(&convert::registration(registration)?)?;
        }
        let cfg = settings::config()?;
        let booking = Buffer::new(&cfg).book_json(event_id, &json, unique_key.as_deref(), &limits)?;
        let mut out = ZendHashTable::with_capacity(4);
        let status = match (&booking.outcome, booking.waitlisted) {
            (PushOutcome::Duplicate, _) => "duplicate",
            (PushOutcome::Buffered(_), true) => "waitlisted",
            (PushOutcome::Buffered(_), false) => "registered",
        };
        let id = match &booking.outcome {
            PushOutcome::Buffered(id) => bytes_zval(id.as_bytes()),
            PushOutcome::Duplicate => null(),
        };
        let _ = out.insert("id", id);
        let _ = out.insert("status", bytes_zval(status.as_bytes()));
        seat_figures(&mut out, booking.count, seats.capacity);
        Ok(table(out))
    })
}

const SEAT_TAKE_PARAMS: &[&str] = &["event_id", "seats"];
extern "C" fn seat_take(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seat_take", SEAT_TAKE_PARAMS, 2)?;
        let event_id = args.long(0, 0)?;
        let seats = seats_arg(args.array(1)?, "reg_buffer_seat_take(): Argument #2 ($seats)")?;
        let cfg = settings::config()?;
        let (waitlisted, count) = Buffer::new(&cfg).seat_take(event_id, &seats)?;
        let mut out = ZendHashTable::with_capacity(3);
        let _ = out.insert("status", bytes_zval(if waitlisted { b"waitlisted" } else { b"registered" }));
        seat_figures(&mut out, Some(count), seats.capacity);
        Ok(table(out))
    })
}

const SEAT_RELEASE_PARAMS: &[&str] = &["event_id", "waitlisted", "capacity"];
extern "C" fn seat_release(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seat_release", SEAT_RELEASE_PARAMS, 1)?;
        let event_id = args.long(0, 0)?;
        let capacity = args.nullable_long(2)?;
        let waitlisted = bool_arg(ex, "reg_buffer_seat_release", SEAT_RELEASE_PARAMS, 1, false)?;
        let capacity = capacity
            .map(|c| {
                u64::try_from(c).ok().filter(|&c| c <= MAX_CAPACITY).ok_or_else(|| {
                    Error::invalid(format!(
                        "reg_buffer_seat_release(): Argument #3 ($capacity) must be from 0 to {MAX_CAPACITY}"
                    ))
                })
            })
            .transpose()?;
        let cfg = settings::config()?;
        Ok(bytes_zval(Buffer::new(&cfg).seat_release(event_id, waitlisted, capacity)?.name().as_bytes()))
    })
}

const SEATS_PROMOTE_PARAMS: &[&str] = &["event_id", "capacity"];
extern "C" fn seats_promote(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seats_promote", SEATS_PROMOTE_PARAMS, 2)?;
        let event_id = args.long(0, 0)?;
        let capacity = args.long(1, 0)?;
        let capacity = u64::try_from(capacity).map_err(|_| {
            Error::invalid(format!(
                "reg_buffer_seats_promote(): Argument #2 ($capacity) must be from 0 to {MAX_CAPACITY}"
            ))
        })?;
        let cfg = settings::config()?;
        Ok(match Buffer::new(&cfg).seats_promote(event_id, capacity)? {
            Some(n) => long(i64::try_from(n).unwrap_or(i64::MAX)),
            None => null(),
        })
    })
}

const EVENT_PARAMS: &[&str] = &["event_id"];
extern "C" fn seats(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seats", EVENT_PARAMS, 1)?;
        let event_id = args.long(0, 0)?;
        let cfg = settings::config()?;
        let count = Buffer::new(&cfg).seat_count(event_id)?;
        let mut out = ZendHashTable::with_capacity(3);
        let n = |v: u64| long(i64::try_from(v).unwrap_or(i64::MAX));
        let _ = out.insert("known", bool_zval(count.is_some()));
        let _ = out.insert("taken", n(count.map_or(0, |c| c.taken)));
        let _ = out.insert("waiting", n(count.map_or(0, |c| c.waiting)));
        Ok(table(out))
    })
}

extern "C" fn seats_buffered(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seats_buffered", EVENT_PARAMS, 1)?;
        let event_id = args.long(0, 0)?;
        let cfg = settings::config()?;
        let ids = Buffer::new(&cfg).seats_buffered(event_id)?;
        let list = |ids: &[String]| {
            let mut ht = ZendHashTable::with_capacity(u32::try_from(ids.len()).unwrap_or(u32::MAX));
            for id in ids {
                let _ = ht.push(bytes_zval(id.as_bytes()));
            }
            table(ht)
        };
        let mut out = ZendHashTable::with_capacity(2);
        let _ = out.insert("registered", list(&ids.registered));
        let _ = out.insert("waitlisted", list(&ids.waitlisted));
        Ok(table(out))
    })
}

const SEATS_SEED_PARAMS: &[&str] = &["event_id", "taken", "waiting"];
extern "C" fn seats_seed(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seats_seed", SEATS_SEED_PARAMS, 3)?;
        let event_id = args.long(0, 0)?;
        let count = |n: i64, i: usize| {
            u64::try_from(n).map_err(|_| {
                Error::invalid(format!(
                    "reg_buffer_seats_seed(): Argument #{} (${}) must be >= 0, got {n}",
                    i + 1,
                    SEATS_SEED_PARAMS[i]
                ))
            })
        };
        let taken = count(args.long(1, 0)?, 1)?;
        let waiting = count(args.long(2, 0)?, 2)?;
        let cfg = settings::config()?;
        Ok(bool_zval(Buffer::new(&cfg).seats_seed(event_id, SeatCount { taken, waiting })?))
    })
}

extern "C" fn seats_forget(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_seats_forget", EVENT_PARAMS, 1)?;
        let event_id = args.long(0, 0)?;
        let cfg = settings::config()?;
        Buffer::new(&cfg).seats_forget(event_id)?;
        Ok(null())
    })
}

crate::php::args::zend_fastcall! {
    fn zend_parse_arg_bool_slow(arg: *mut ext_php_rs::ffi::zval, dest: *mut bool, arg_num: u32) -> bool;
}

/// Argument `i` of `function` as PHP reads a `bool` parameter: true and false as they are; in weak mode ints,
/// floats and strings by their truth (null too, with PHP's own deprecation); a TypeError otherwise (and for
/// anything but a bool under strict_types). `default` when the argument was not passed.
fn bool_arg(ex: &mut ExecuteData, function: &str, params: &[&str], i: usize, default: bool) -> Result<bool, ArgError> {
    // SAFETY: the engine set num_args for this call; only slots below it hold arguments.
    if unsafe { ex.This.u2.num_args } as usize <= i {
        return Ok(default);
    }
    let Some(zv) = (unsafe { ex.zend_call_arg(i) }) else { return Ok(default) };
    let zv = zv.dereference_mut();
    if let Some(b) = zv.bool() {
        return Ok(b);
    }
    let given = crate::php::args::type_name(zv);
    let mut b = false;
    // SAFETY: zv is a live argument slot; the engine reads it (and may raise its deprecation), as its own ZPP does.
    if unsafe { zend_parse_arg_bool_slow(std::ptr::from_mut(zv).cast(), &mut b, i as u32 + 1) } {
        return Ok(b);
    }
    Err(ArgError {
        count: false,
        message: format!("{function}(): Argument #{} (${}) must be of type bool, {given} given", i + 1, params[i]),
    })
}

const FLUSH_PARAMS: &[&str] = &["limit", "lease_seconds", "with_data"];
extern "C" fn flush(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_flush", FLUSH_PARAMS, 0)?;
        let limit = args.long(0, 500)?;
        let lease_seconds = args.long(1, 300)?;
        // false: rows carry only the stored JSON text, no `data` array (what a flusher that stores JSON needs).
        let with_data = bool_arg(ex, "reg_buffer_flush", FLUSH_PARAMS, 2, true)?;
        let cfg = settings::config()?;
        let batch = Buffer::new(&cfg).claim(limit, lease_seconds)?;
        let mut out = ZendHashTable::with_capacity(2);
        let mut id = Zval::new();
        convert::set_bytes(&mut id, batch.id.as_bytes());
        let _ = out.insert("batch", id);
        let _ = out.insert("rows", rows(&batch.registrations, with_data)?);
        let mut zv = Zval::new();
        zv.set_hashtable(out);
        Ok(zv)
    })
}

const ACK_PARAMS: &[&str] = &["batch"];
extern "C" fn ack(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_ack", ACK_PARAMS, 1)?;
        let batch = args.bytes(0, false)?.unwrap_or_default();
        // A string that is not UTF-8 cannot name a batch of ours: like any unknown batch, it acknowledges nothing.
        let Ok(batch) = String::from_utf8(batch) else { return Ok(long(0)) };
        let cfg = settings::config()?;
        Ok(long(Buffer::new(&cfg).ack(&batch)?))
    })
}

extern "C" fn stats(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        Args::new(ex, "reg_buffer_stats", &[], 0)?;
        let cfg = settings::config()?;
        let s = Buffer::new(&cfg).stats()?;
        let mut out = ZendHashTable::new();
        let _ = out.insert("pending", long(s.pending));
        let _ = out.insert("in_flight", long(s.in_flight));
        let _ = out.insert("buffered", long(s.buffered));
        let _ = out.insert("events", long(s.events));
        let mut age = Zval::new();
        match s.oldest_pending_age {
            Some(a) => age.set_double(a),
            None => age.set_null(),
        }
        let _ = out.insert("oldest_pending_age", age);
        let _ = out.insert("quarantined", long(s.quarantined));
        let _ = out.insert("maxmemory_policy", nullable_bytes(s.server.maxmemory_policy.as_deref().map(str::as_bytes)));
        let _ = out.insert("run_id", nullable_bytes(s.server.run_id.as_deref().map(str::as_bytes)));
        let _ = out.insert("uptime", s.server.uptime.map_or_else(null, long));
        let _ = out.insert("persistence", nullable_bytes(s.server.persistence.map(|p| p.name().as_bytes())));
        for (name, value) in &s.counters {
            let _ = out.insert(name.as_str(), long(*value));
        }
        let mut lag = Zval::new();
        match s.last_ack_age {
            Some(a) => lag.set_double(a),
            None => lag.set_null(),
        }
        let _ = out.insert("last_ack_age", lag);
        let _ = out.insert("epoch", bytes_zval(s.epoch.as_bytes()));
        // The names of the lifetime counters above: a watcher compares exactly these, never a list of its own.
        let mut names = ZendHashTable::with_capacity(COUNTERS.len() as u32);
        for name in COUNTERS {
            let _ = names.push(bytes_zval(name.as_bytes()));
        }
        let mut nz = Zval::new();
        nz.set_hashtable(names);
        let _ = out.insert("counters", nz);
        let _ = out.insert("partial", bool_zval(s.partial));
        // Degraded shards (on a cluster; `shard` null: the whole server), and how many of the shards that is.
        let mut degraded = ZendHashTable::with_capacity(s.degraded.len() as u32);
        for d in &s.degraded {
            let mut row = ZendHashTable::with_capacity(2);
            let _ = row.insert("shard", d.shard.map_or_else(null, |k| long(i64::from(k))));
            let _ = row.insert("why", bytes_zval(d.why.as_bytes()));
            let mut rz = Zval::new();
            rz.set_hashtable(row);
            let _ = degraded.push(rz);
        }
        let mut dz = Zval::new();
        dz.set_hashtable(degraded);
        let _ = out.insert("degraded", dz);
        let whole = s.degraded.iter().any(|d| d.shard.is_none());
        let shards_degraded = if whole { i64::from(cfg.shards()) } else { s.degraded.len() as i64 };
        let _ = out.insert("shards", long(i64::from(cfg.shards())));
        let _ = out.insert("shards_degraded", long(shards_degraded));
        let mut process = ZendHashTable::new();
        for (name, value) in crate::core::metrics::snapshot().named() {
            let _ = process.insert(name, long(value as i64));
        }
        let mut pz = Zval::new();
        pz.set_hashtable(process);
        let _ = out.insert("process", pz);
        let mut zv = Zval::new();
        zv.set_hashtable(out);
        Ok(zv)
    })
}

const RANGE_PARAMS: &[&str] = &["event_id", "from", "to", "limit"];
extern "C" fn range(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_range", RANGE_PARAMS, 3)?;
        let event_id = args.long(0, 0)?;
        let from = args.double(1)?;
        let to = args.double(2)?;
        let limit = args.long(3, 1000)?;
        let cfg = settings::config()?;
        let regs = Buffer::new(&cfg).range(event_id, from, to, limit)?;
        rows(&regs, true)
    })
}

const IMPORT_PARAMS: &[&str] = &["pattern"];
extern "C" fn import_legacy(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_import_legacy", IMPORT_PARAMS, 0)?;
        let pattern = match args.bytes(0, false)? {
            Some(p) => String::from_utf8(p).map_err(|_| Error::invalid("pattern must be valid UTF-8"))?,
            None => "event_reg_buffer:*".to_owned(),
        };
        let cfg = settings::config()?;
        Ok(long(Buffer::new(&cfg).import_legacy(&pattern)? as i64))
    })
}

fn bytes_zval(bytes: &[u8]) -> Zval {
    let mut zv = Zval::new();
    convert::set_bytes(&mut zv, bytes);
    zv
}

fn null() -> Zval {
    let mut zv = Zval::new();
    zv.set_null();
    zv
}

fn nullable_bytes(bytes: Option<&[u8]>) -> Zval {
    bytes.map_or_else(null, bytes_zval)
}

fn bool_zval(b: bool) -> Zval {
    let mut zv = Zval::new();
    zv.set_bool(b);
    zv
}

const RATE_HIT_PARAMS: &[&str] = &["client", "limit", "window"];
extern "C" fn rate_hit(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_rate_hit", RATE_HIT_PARAMS, 2)?;
        let client = args.bytes(0, false)?.unwrap_or_default();
        let limit = args.long(1, 0)?;
        let window = args.long(2, 60)?;
        let limit = u32::try_from(limit).ok().filter(|&l| l > 0).ok_or_else(|| {
            Error::invalid(format!(
                "reg_buffer_rate_hit(): Argument #2 ($limit) must be from 1 to {}, got {limit}",
                u32::MAX
            ))
        })?;
        let window = u32::try_from(window).ok().filter(|w| (1..=MAX_RATE_WINDOW).contains(w)).ok_or_else(|| {
            Error::invalid(format!("reg_buffer_rate_hit(): Argument #3 ($window) must be from 1 to {MAX_RATE_WINDOW} seconds, got {window}"))
        })?;
        let cfg = settings::config()?;
        let hit = Buffer::new(&cfg).rate_hit(&RateLimit { client: &client, limit, window })?;
        let mut out = ZendHashTable::with_capacity(6);
        let _ = out.insert("allowed", bool_zval(hit.allowed()));
        let _ = out.insert("count", long(i64::try_from(hit.count).unwrap_or(i64::MAX)));
        let _ = out.insert("limit", long(i64::from(hit.limit)));
        let _ = out.insert("remaining", long(i64::try_from(hit.remaining()).unwrap_or(i64::MAX)));
        let _ = out.insert("reset", long(i64::try_from(hit.reset).unwrap_or(i64::MAX)));
        let _ = out.insert("retry_after", long(i64::try_from(hit.retry_after).unwrap_or(i64::MAX)));
        let mut zv = Zval::new();
        zv.set_hashtable(out);
        Ok(zv)
    })
}

/// The quarantine's entry argument (`<event id>:<registration id>`) as a string.
fn entry_arg(args: &mut Args, i: usize) -> Result<String, Failure> {
    let entry = args.bytes(i, false)?.unwrap_or_default();
    Ok(String::from_utf8(entry).map_err(|_| Error::invalid("entry must be valid UTF-8"))?)
}

const QUARANTINED_PARAMS: &[&str] = &["limit"];
extern "C" fn quarantined(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_quarantined", QUARANTINED_PARAMS, 0)?;
        let limit = args.long(0, 200)?;
        if !(1..=100_000).contains(&limit) {
            return Err(Error::invalid(format!("limit must be between 1 and 100000, got {limit}")).into());
        }
        let cfg = settings::config()?;
        let mut list = ZendHashTable::new();
        for q in Buffer::new(&cfg).quarantined(limit as usize)? {
            let mut row = ZendHashTable::with_capacity(10);
            let _ = row.insert("entry", bytes_zval(q.entry.as_bytes()));
            let _ = row.insert("event_id", long(q.event_id));
            let _ = row.insert("id", bytes_zval(q.id.as_bytes()));
            let _ = row.insert("reason", bytes_zval(q.reason.as_bytes()));
            let _ = row.insert("stored", bytes_zval(&q.stored));
            let r = &q.recovered;
            let _ = row.insert("kind", bytes_zval(r.kind.name().as_bytes()));
            let mut at = Zval::new();
            match r.registered_at_micros {
                Some(us) => at.set_double(us as f64 / 1e6),
                None => at.set_null(),
            }
            let _ = row.insert("registered_at", at);
            let _ = row.insert("unique_key", nullable_bytes(r.unique_key.as_deref()));
            let _ = row.insert("json", nullable_bytes(r.json.as_deref().map(str::as_bytes)));
            let _ = row.insert("problem", nullable_bytes(r.problem.as_deref().map(str::as_bytes)));
            let mut zv = Zval::new();
            zv.set_hashtable(row);
            let _ = list.push(zv);
        }
        let mut zv = Zval::new();
        zv.set_hashtable(list);
        Ok(zv)
    })
}

const RETRY_PARAMS: &[&str] = &["entry", "registration", "unique_key"];
extern "C" fn retry_quarantined(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_retry_quarantined", RETRY_PARAMS, 2)?;
        let entry = entry_arg(&mut args, 0)?;
        let unique_key = args.bytes(2, true)?;
        let registration = convert::registration(args.array(1)?)?;
        let cfg = settings::config()?;
        Ok(match Buffer::new(&cfg).retry_quarantined(&entry, &registration, unique_key.as_deref())? {
            PushOutcome::Buffered(id) => bytes_zval(id.as_bytes()),
            PushOutcome::Duplicate => Zval::new(),
        })
    })
}

const PURGE_PARAMS: &[&str] = &["entry"];
extern "C" fn purge_quarantined(ex: &mut ExecuteData, retval: &mut Zval) {
    call(ex, retval, |ex| {
        let mut args = Args::new(ex, "reg_buffer_purge_quarantined", PURGE_PARAMS, 1)?;
        let entry = entry_arg(&mut args, 0)?;
        let cfg = settings::config()?;
        let mut zv = Zval::new();
        zv.set_bool(Buffer::new(&cfg).purge_quarantined(&entry)?);
        Ok(zv)
    })
}

pub fn build_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(
            FunctionBuilder::new("reg_buffer_push", push)
                .arg(Arg::new("event_id", DataType::Long))
                .arg(Arg::new("registration", DataType::Array))
                .not_required()
                .arg(Arg::new("unique_key", DataType::String).allow_null().default("null"))
                .arg(Arg::new("use_limit", DataType::Array).allow_null().default("null"))
                .arg(Arg::new("rate_limit", DataType::Array).allow_null().default("null"))
                .returns(DataType::String, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_book", book)
                .arg(Arg::new("event_id", DataType::Long))
                .arg(Arg::new("registration", DataType::Array))
                .arg(Arg::new("seats", DataType::Array))
                .not_required()
                .arg(Arg::new("unique_key", DataType::String).allow_null().default("null"))
                .arg(Arg::new("use_limit", DataType::Array).allow_null().default("null"))
                .arg(Arg::new("rate_limit", DataType::Array).allow_null().default("null"))
                .returns(DataType::Array, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_seat_take", seat_take)
                .arg(Arg::new("event_id", DataType::Long))
                .arg(Arg::new("seats", DataType::Array))
                .returns(DataType::Array, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_seat_release", seat_release)
                .arg(Arg::new("event_id", DataType::Long))
                .not_required()
                .arg(Arg::new("waitlisted", DataType::Bool).default("false"))
                .arg(Arg::new("capacity", DataType::Long).allow_null().default("null"))
                .returns(DataType::String, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_seats_promote", seats_promote)
                .arg(Arg::new("event_id", DataType::Long))
                .arg(Arg::new("capacity", DataType::Long))
                .returns(DataType::Long, false, true),
        )
        .function(FunctionBuilder::new("reg_buffer_seats", seats).arg(Arg::new("event_id", DataType::Long)).returns(
            DataType::Array,
            false,
            false,
        ))
        .function(
            FunctionBuilder::new("reg_buffer_seats_buffered", seats_buffered)
                .arg(Arg::new("event_id", DataType::Long))
                .returns(DataType::Array, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_seats_seed", seats_seed)
                .arg(Arg::new("event_id", DataType::Long))
                .arg(Arg::new("taken", DataType::Long))
                .arg(Arg::new("waiting", DataType::Long))
                .returns(DataType::Bool, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_seats_forget", seats_forget)
                .arg(Arg::new("event_id", DataType::Long))
                .returns(DataType::Void, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_flush", flush)
                .not_required()
                .arg(Arg::new("limit", DataType::Long).default("500"))
                .arg(Arg::new("lease_seconds", DataType::Long).default("300"))
                .arg(Arg::new("with_data", DataType::Bool).default("true"))
                .returns(DataType::Array, false, false),
        )
        .function(FunctionBuilder::new("reg_buffer_ack", ack).arg(Arg::new("batch", DataType::String)).returns(
            DataType::Long,
            false,
            false,
        ))
        .function(FunctionBuilder::new("reg_buffer_stats", stats).returns(DataType::Array, false, false))
        .function(
            FunctionBuilder::new("reg_buffer_quarantined", quarantined)
                .not_required()
                .arg(Arg::new("limit", DataType::Long).default("200"))
                .returns(DataType::Array, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_retry_quarantined", retry_quarantined)
                .arg(Arg::new("entry", DataType::String))
                .arg(Arg::new("registration", DataType::Array))
                .not_required()
                .arg(Arg::new("unique_key", DataType::String).allow_null().default("null"))
                .returns(DataType::String, false, true),
        )
        .function(
            FunctionBuilder::new("reg_buffer_purge_quarantined", purge_quarantined)
                .arg(Arg::new("entry", DataType::String))
                .returns(DataType::Bool, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_rate_hit", rate_hit)
                .arg(Arg::new("client", DataType::String))
                .arg(Arg::new("limit", DataType::Long))
                .not_required()
                .arg(Arg::new("window", DataType::Long).default("60"))
                .returns(DataType::Array, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_range", range)
                .arg(Arg::new("event_id", DataType::Long))
                .arg(Arg::new("from", DataType::Double))
                .arg(Arg::new("to", DataType::Double))
                .not_required()
                .arg(Arg::new("limit", DataType::Long).default("1000"))
                .returns(DataType::Array, false, false),
        )
        .function(
            FunctionBuilder::new("reg_buffer_import_legacy", import_legacy)
                .not_required()
                .arg(Arg::new("pattern", DataType::String).default("'event_reg_buffer:*'"))
                .returns(DataType::Long, false, false),
        )
}

/// `reg_buffer_push(): string|false` — the builder knows no union types, so the return type's mask gains `false`
/// after registration, as a C extension's arginfo would declare it. Done at the first request start, when the
/// executor's function table is reachable the same way in NTS and ZTS builds; the table is shared, so once.
pub unsafe extern "C" fn declare_union_returns(_type: i32, _module_number: i32) -> i32 {
    use ext_php_rs::ffi::{zend_function, zend_hash_str_find};
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        const MAY_BE_FALSE: u32 = 1 << 2;
        let Some(table) =
            ext_php_rs::zend::ExecutorGlobals::get().function_table().map(|t| std::ptr::from_ref(t).cast_mut())
        else {
            return;
        };
        let name = "reg_buffer_push";
        // SAFETY: the function table holds zend_function pointers for internal functions, whose arg_info[-1] is
        // the return type; nothing reads it concurrently at the first request start.
        unsafe {
            let found = zend_hash_str_find(table, name.as_ptr().cast(), name.len());
            if found.is_null() {
                return;
            }
            let func = (*found).value.ptr as *mut zend_function;
            let info = (*func).internal_function.arg_info;
            if !info.is_null() {
                (*info.offset(-1)).type_.type_mask |= MAY_BE_FALSE;
            }
        }
    });
    0
}
