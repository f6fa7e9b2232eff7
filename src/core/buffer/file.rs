//! File: moves the heads of a shard's inbox and held list (what pushes named there) into the events' queues and the
//! ready and oldest indexes (file.lua), so a push writes two keys and a claim of a thousand does the rest. Claim,
//! stats and range file first. Two round trips a step: the heads are read to learn their events, then file.lua runs
//! declaring their keys.
use once_cell::sync::Lazy;
use redis::Script;

use super::{script, Buffer};
use crate::core::error::Result;
use crate::core::keys::Keys;
use crate::core::pool::{with_connection_for, Scope};

static FILE: Lazy<Script> =
    Lazy::new(|| script(Some("allow-oom"), concat!(include_str!("filing.lua"), include_str!("file.lua"))));

/// Registrations one step files (a claim files one step itself, see plan.lua).
pub(super) const FILE_STEP: usize = 2_000;
/// Steps one call makes at most: a flood that outruns filing still lets the claim go on with what is filed.
const FILE_STEPS: usize = 64;

/// An event id as filing.lua's inbox_entry reads it (1 to i64::MAX, written without a sign or leading zeros), with
/// its value; None for anything else.
fn event_of(e: &str) -> Option<(&str, i64)> {
    let n = e.parse::<i64>().ok()?;
    (n > 0 && e.len() == itoa::Buffer::new().format(n).len()).then_some((e, n))
}

impl Buffer<'_> {
    /// Files the shard's inbox and held list (up to FILE_STEPS × FILE_STEP registrations from each); `scope` is the
    /// caller's breaker scope.
    pub(super) fn file_inbox(&self, keys: &Keys, scope: Scope) -> Result<()> {
        let (arg_scope, sharded) = keys.script_args();
        let (inbox, held) = (keys.inbox(), keys.held());
        for _ in 0..FILE_STEPS {
            // Bytes: a member reg_buffer did not write may be anything (filing.lua drops it).
            let head: Vec<Vec<u8>> = with_connection_for(self.cfg, scope, |c| {
                let mut head: Vec<Vec<u8>> = redis::cmd("LRANGE").arg(&inbox).arg(0).arg(FILE_STEP - 1).query(c)?;
                head.extend(redis::cmd("LRANGE").arg(&held).arg(0).arg(FILE_STEP - 1).query::<Vec<Vec<u8>>>(c)?);
                Ok(head)
            })?;
            if head.is_empty() {
                return Ok(());
            }
            let mut seen = std::collections::HashSet::new();
            let events: Vec<(&str, i64)> = head
                .iter()
                .filter_map(|m| event_of(std::str::from_utf8(m.split(|&b| b == b':').next()?).ok()?))
                .filter(|(e, _)| seen.insert(*e))
                .collect();
            let (_filed, left): (i64, i64) = self.invoke_for(scope, &FILE, |call| {
                call.key(&inbox).key(keys.ready()).key(keys.oldest()).key(keys.stats());
                for (_, e) in &events {
                    call.key(keys.queue(*e));
                }
                call.key(&held);
                call.arg(arg_scope).arg(sharded).arg(FILE_STEP).arg(events.len());
                for (e, _) in &events {
                    call.arg(*e);
                }
            })?;
            // Another filer may have taken this head meanwhile (nothing filed, more left): the next step reads anew.
            if left == 0 {
                return Ok(());
            }
        }
        Ok(())
    }
}
