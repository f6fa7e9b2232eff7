//! Per-process counters (this PHP worker only; the shared ones live in Redis), for stats() and phpinfo().
use std::cell::Cell;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessCounters {
    pub pushed: u64,
    pub duplicates: u64,
    pub claimed: u64,
    pub acked: u64,
    /// Connections that failed, timed out or broke.
    pub connection_failures: u64,
    /// Calls refused at once by the circuit breaker.
    pub fast_failures: u64,
}

thread_local! {
    static COUNTERS: Cell<ProcessCounters> = const { Cell::new(ProcessCounters {
        pushed: 0, duplicates: 0, claimed: 0, acked: 0, connection_failures: 0, fast_failures: 0,
    }) };
}

pub fn count(update: impl FnOnce(&mut ProcessCounters)) {
    COUNTERS.with(|c| {
        let mut now = c.get();
        update(&mut now);
        c.set(now);
    });
}

pub fn snapshot() -> ProcessCounters {
    COUNTERS.with(Cell::get)
}

impl ProcessCounters {
    pub fn named(&self) -> [(&'static str, u64); 6] {
        [
            ("pushed", self.pushed),
            ("duplicates", self.duplicates),
            ("claimed", self.claimed),
            ("acked", self.acked),
            ("connection_failures", self.connection_failures),
            ("fast_failures", self.fast_failures),
        ]
    }
}
