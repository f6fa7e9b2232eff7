//! Ack: a stored batch's registrations leave Redis for good. Two round trips: the batch's members, then ack.lua
//! declaring every key it removes from.
use once_cell::sync::Lazy;
use redis::Script;

use super::{breaker_scope, invoke, script, Buffer};
use crate::core::error::Result;
use crate::core::keys::member_parts;
use crate::core::metrics;
use crate::core::pool::with_connection_for;

static ACK: Lazy<Script> = Lazy::new(|| script(Some("allow-oom"), include_str!("ack.lua")));

impl Buffer<'_> {
    /// Acknowledges a stored batch; returns how many registrations left Redis.
    pub fn ack(&self, batch_id: &str) -> Result<i64> {
        if batch_id.is_empty() {
            return Ok(0);
        }
        let Some(keys) = self.shard_of_batch(batch_id) else { return Ok(0) };
        let (scope, sharded) = keys.script_args();
        let batch_key = keys.batch(batch_id);
        // Two round trips: the batch, then the ack declaring every key it removes from (see plan.lua) and the ids.
        let removed: i64 = with_connection_for(self.cfg, breaker_scope(&keys), |c| {
            for _ in 0..3 {
                let members: Vec<String> = redis::cmd("LRANGE").arg(&batch_key).arg(0).arg(-1).query(c)?;
                if members.is_empty() {
                    return Ok(0);
                }
                // The batch's registration ids by event (`<event>:<id>`), handed to the script as read.
                let mut events: Vec<(&str, Vec<&str>)> = Vec::new();
                let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
                for (e, reg_id) in members.iter().filter_map(|m| member_parts(m)) {
                    let at = *position.entry(e).or_insert_with(|| {
                        events.push((e, Vec::new()));
                        events.len() - 1
                    });
                    events[at].1.push(reg_id);
                }
                let removed: i64 = invoke(c, &ACK, |call| {
                    call.key(&batch_key).key(keys.leases()).key(keys.stats());
                    for (e, _) in &events {
                        let e: i64 = e.parse().unwrap_or(0);
                        call.key(keys.data(e)).key(keys.time_index(e));
                    }
                    call.arg(scope).arg(sharded).arg(batch_id).arg(members.len());
                    for (e, ids) in &events {
                        call.arg(*e).arg(ids.len());
                        for reg_id in ids {
                            call.arg(*reg_id);
                        }
                    }
                })?;
                if removed >= 0 {
                    // Under replica:N, waits for the replicas; a shortfall is no failure of the ack: the batch left
                    // the master, and should that master die before a replica has the ack, the batch comes back
                    // after its lease and is stored again under the same ids (the flush stores by id, once). A
                    // flush keeps draining a shard short of replicas; stats name the shard.
                    if removed > 0 {
                        self.replicate(c, &batch_key)?;
                    }
                    return Ok(removed);
                }
            }
            Err(redis::RedisError::from((
                redis::ErrorKind::Server(redis::ServerErrorKind::TryAgain),
                "the batch kept changing while it was acknowledged",
            )))
        })?;
        metrics::count(|m| m.acked += removed.max(0) as u64);
        Ok(removed)
    }
}
