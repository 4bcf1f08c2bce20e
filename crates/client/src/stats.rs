//! Counters of what the client did, for operators and for tests that report error rates.

use std::sync::atomic::{AtomicU64, Ordering};

/// A snapshot of a client's counters since it was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests sent to endpoints.
    pub requests: u64,
    /// Requests that failed (unreachable, timed out, or the node could not issue).
    pub failures: u64,
    /// Successful requests answered by another endpoint than the one tried first.
    pub failovers: u64,
    /// IDs received.
    pub ids_fetched: u64,
    /// Batches refused because their IDs went backwards from the same endpoint.
    pub order_violations: u64,
    /// `next_id` calls that found the buffer empty and had to wait.
    pub waits: u64,
    /// `next_id` calls that returned an error.
    pub errors: u64,
}

impl Stats {
    /// Failed requests as a fraction of all requests (0 when none were sent).
    pub fn failure_rate(&self) -> f64 {
        if self.requests == 0 {
            0.0
        } else {
            self.failures as f64 / self.requests as f64
        }
    }
}

/// The live counters behind [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub failures: AtomicU64,
    pub failovers: AtomicU64,
    pub ids_fetched: AtomicU64,
    pub order_violations: AtomicU64,
    pub waits: AtomicU64,
    pub errors: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64, by: u64) {
        counter.fetch_add(by, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Stats {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Stats {
            requests: read(&self.requests),
            failures: read(&self.failures),
            failovers: read(&self.failovers),
            ids_fetched: read(&self.ids_fetched),
            order_violations: read(&self.order_violations),
            waits: read(&self.waits),
            errors: read(&self.errors),
        }
    }
}
