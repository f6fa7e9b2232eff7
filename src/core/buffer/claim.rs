//! Claim: a batch of up to `limit` registrations leased to one flusher, events served round robin and expired leases
//! taken back. Two round trips per shard: plan.lua names what the claim will touch, claim.lua takes it declaring
//! every key (a script may only touch the keys it is given).
use once_cell::sync::Lazy;
use redis::Script;

use super::file::FILE_STEP;
use super::{lossy, script, Batch, Buffer, BufferedRegistration};
use crate::core::codec;
use crate::core::config::MAX_CLAIM;
use crate::core::error::{Error, ErrorKind, Result};
use crate::core::id;
use crate::core::keys::{member, Keys};
use crate::core::metrics;

static PLAN: Lazy<Script> =
    Lazy::new(|| script(Some("no-writes"), concat!(include_str!("filing.lua"), include_str!("plan.lua"))));
static CLAIM: Lazy<Script> =
    Lazy::new(|| script(Some("allow-oom"), concat!(include_str!("filing.lua"), include_str!("claim.lua"))));

thread_local! {
    /// The shard this process's next claim starts from: a flush walks every shard in turn, so none is left
    /// behind (expired leases are taken back by a claim on their own shard).
    static NEXT_SHARD: std::cell::Cell<u16> = const { std::cell::Cell::new(0) };
}

impl Buffer<'_> {
    /// Claims up to `limit` registrations for `lease_seconds`.
    pub fn claim(&self, limit: i64, lease_seconds: i64) -> Result<Batch> {
        if !(1..=MAX_CLAIM).contains(&limit) {
            return Err(Error::invalid(format!("limit must be between 1 and {MAX_CLAIM}, got {limit}")));
        }
        if !(1..=366 * 24 * 3600).contains(&lease_seconds) {
            return Err(Error::invalid(format!("lease_seconds must be between 1 and one year, got {lease_seconds}")));
        }
        let shards = self.cfg.shards();
        let first = NEXT_SHARD.with(|n| n.get()) % shards;
        let mut quarantined = 0;
        let mut step = 0;
        // On a cluster a shard whose master is failing over (or held off) is passed over: the others drain on, and
        // its registrations wait for a later claim. Its error is the answer only when nothing else was found.
        let mut trouble: Option<Error> = None;
        while step < shards {
            let k = (first + step) % shards;
            NEXT_SHARD.with(|n| n.set((k + 1) % shards));
            let mut batch = match self.claim_shard(&self.shard(k), limit, lease_seconds) {
                Ok(batch) => batch,
                Err(e) if shards > 1 && e.kind == ErrorKind::Connection => {
                    trouble.get_or_insert(e);
                    step += 1;
                    continue;
                }
                Err(e) => return Err(e),
            };
            quarantined += batch.quarantined;
            if !batch.registrations.is_empty() {
                batch.quarantined = quarantined;
                return Ok(batch);
            }
            if batch.quarantined == 0 {
                step += 1;
            }
            // A claim whose every registration went to the quarantine says nothing about the rest of the shard:
            // claim it again, so an empty answer always means an empty buffer.
        }
        // A shard passed over may hold registrations: nothing found is then no proof of an empty buffer.
        match trouble {
            Some(e) => Err(e),
            None => Ok(Batch { id: String::new(), registrations: Vec::new(), quarantined }),
        }
    }

    fn claim_shard(&self, keys: &Keys, limit: i64, lease_seconds: i64) -> Result<Batch> {
        let ulid = id::new_id(id::now_micros());
        let batch_id = match keys.shard_number() {
            Some(k) => format!("{k}-{ulid}"),
            None => ulid,
        };
        let (scope, sharded) = keys.script_args();
        // Two round trips: what the claim will touch, then the claim declaring every key of it (see plan.lua). The
        // claim files the inbox's head (what pushes named there joins the events' queues, so every event is served
        // round robin); an inbox longer than that is filed first.
        type Plan = (Vec<String>, Vec<String>, Vec<String>, Vec<String>, usize);
        let plan = || -> Result<Plan> {
            self.invoke(keys, &PLAN, |call| {
                call.key(keys.ready()).key(keys.leases()).key(keys.inbox()).key(keys.held());
                call.arg(scope).arg(sharded).arg(limit).arg(FILE_STEP);
            })
        };
        let mut planned = plan()?;
        if planned.4 > FILE_STEP {
            self.file_inbox(keys, super::breaker_scope(keys))?;
            planned = plan()?;
        }
        let (events, expired, expired_events, inbox_events, _) = planned;
        if events.is_empty() && expired.is_empty() && inbox_events.is_empty() {
            return Ok(Batch { id: String::new(), registrations: Vec::new(), quarantined: 0 });
        }
        let mut seen = std::collections::HashSet::new();
        let involved: Vec<&str> = events
            .iter()
            .chain(&expired_events)
            .chain(&inbox_events)
            .map(String::as_str)
            .filter(|e| seen.insert(*e))
            .collect();
        let reply: Vec<redis::Value> = self.invoke(keys, &CLAIM, |call| {
            call.key(keys.ready()).key(keys.oldest()).key(keys.leases()).key(keys.stats()).key(keys.batch(&batch_id));
            for old in &expired {
                call.key(keys.batch(old));
            }
            for e in &involved {
                let e: i64 = e.parse().unwrap_or(0);
                call.key(keys.queue(e)).key(keys.data(e)).key(keys.time_index(e));
            }
            call.key(keys.inbox()).key(keys.held());
            call.arg(scope).arg(sharded).arg(limit).arg(lease_seconds * 1000).arg(&batch_id).arg(expired.len());
            for old in &expired {
                call.arg(old);
            }
            call.arg(involved.len());
            for e in &involved {
                call.arg(*e);
            }
            call.arg(FILE_STEP);
        })?;
        let mut parts = reply.into_iter();
        let bytes = |item: Option<redis::Value>| match item {
            Some(redis::Value::BulkString(b)) => Some(b),
            _ => None,
        };
        let number = |item: Option<redis::Value>| match item {
            Some(redis::Value::Int(n)) => Some(n),
            Some(redis::Value::BulkString(b)) => std::str::from_utf8(&b).ok()?.parse().ok(),
            _ => None,
        };
        let id = bytes(parts.next()).map(lossy).unwrap_or_default();
        let mut batch = Batch { id, registrations: Vec::new(), quarantined: 0 };
        let mut rejected: Vec<(String, String)> = Vec::new();
        // Runs of one event's registrations: event id, count, then count × (registration id, entry).
        batch.registrations.reserve(parts.len() / 2);
        while let (Some(event_id), Some(count)) = (number(parts.next()), number(parts.next())) {
            for _ in 0..count {
                let (Some(reg_id), Some(entry)) = (bytes(parts.next()), bytes(parts.next())) else { break };
                let reg_id = lossy(reg_id);
                match codec::decode(&entry) {
                    Ok(stored) => batch.registrations.push(BufferedRegistration { id: reg_id, event_id, stored }),
                    Err(e) => rejected.push((member(event_id, &reg_id), e.message)),
                }
            }
        }
        if !rejected.is_empty() {
            batch.quarantined = self.quarantine(keys, &batch.id, &rejected)?;
        }
        metrics::count(|m| m.claimed += batch.registrations.len() as u64);
        Ok(batch)
    }
}
