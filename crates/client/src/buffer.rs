//! The prefetch buffer: IDs fetched ahead, handed out by a local pop.
//!
//! A pop takes an uncontended mutex for a few nanoseconds and never touches the network.
//! The pop that takes the buffer below its low-water mark wakes the refill task once (the
//! wake-up is stored if the task is busy, so none is lost). Callers that find the buffer empty
//! wait for the next refill, or for the refill task to report that it failed.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::error::Error;

/// IDs ready to hand out, and the signals between callers and the refill task.
#[derive(Debug)]
pub struct Buffer {
    ids: Mutex<VecDeque<u64>>,
    /// Refilling starts below this many IDs.
    low_water: usize,
    /// Wakes the refill task.
    pub wanted: Notify,
    /// Wakes callers waiting for IDs: after a refill, and after a failed one.
    pub filled: Notify,
    /// Counts refill failures, so a waiter can tell a failure that happened while it waited.
    failures: AtomicU64,
    /// The last refill failure.
    last_failure: Mutex<Option<Error>>,
}

impl Buffer {
    /// An empty buffer of `capacity` IDs.
    pub fn new(capacity: usize, low_water: usize) -> Buffer {
        Buffer {
            ids: Mutex::new(VecDeque::with_capacity(capacity)),
            low_water,
            wanted: Notify::new(),
            filled: Notify::new(),
            failures: AtomicU64::new(0),
            last_failure: Mutex::new(None),
        }
    }

    /// The next ID, if one is buffered.
    #[inline]
    pub fn pop(&self) -> Option<u64> {
        let (id, left) = {
            let mut ids = lock(&self.ids);
            let id = ids.pop_front();
            (id, ids.len())
        };
        // Exactly one pop sees the count fall to just below the mark.
        if id.is_some() && left + 1 == self.low_water {
            self.wanted.notify_one();
        }
        id
    }

    /// IDs buffered now.
    pub fn len(&self) -> usize {
        lock(&self.ids).len()
    }

    /// Appends a batch and wakes waiting callers.
    pub fn push(&self, batch: Vec<u64>) {
        lock(&self.ids).extend(batch);
        self.filled.notify_waiters();
    }

    /// Records a failed refill and wakes waiting callers, so they can return it.
    pub fn fail(&self, error: Error) {
        *lock(&self.last_failure) = Some(error);
        self.failures.fetch_add(1, Ordering::AcqRel);
        self.filled.notify_waiters();
    }

    /// The count of failures so far; pass it to [`Buffer::failure_since`] later.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Acquire)
    }

    /// The last failure, if one happened after `mark` was read.
    pub fn failure_since(&self, mark: u64) -> Option<Error> {
        if self.failures() > mark {
            lock(&self.last_failure).clone()
        } else {
            None
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Pushes and pops finish in one step; a panic elsewhere cannot leave the queue torn.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pops_in_order_and_asks_for_more_once_at_the_mark() {
        let buffer = Buffer::new(8, 3);
        buffer.push((1..=5).collect());
        assert_eq!(buffer.pop(), Some(1));
        assert_eq!(buffer.pop(), Some(2)); // 3 left: not below the mark yet
        let wanted = buffer.wanted.notified();
        tokio::pin!(wanted);
        assert!(futures_poll_once(wanted.as_mut()).is_pending());
        assert_eq!(buffer.pop(), Some(3)); // 2 left: below the mark
        assert!(futures_poll_once(wanted.as_mut()).is_ready());
        assert_eq!(
            (buffer.pop(), buffer.pop(), buffer.pop()),
            (Some(4), Some(5), None)
        );
    }

    #[test]
    fn failures_are_seen_only_by_those_who_waited_for_them() {
        let buffer = Buffer::new(4, 2);
        let mark = buffer.failures();
        assert_eq!(buffer.failure_since(mark), None);
        buffer.fail(Error::Config("x".into()));
        assert_eq!(buffer.failure_since(mark), Some(Error::Config("x".into())));
        assert_eq!(buffer.failure_since(buffer.failures()), None);
    }

    fn futures_poll_once<F: std::future::Future>(
        future: std::pin::Pin<&mut F>,
    ) -> std::task::Poll<F::Output> {
        let waker = std::task::Waker::noop();
        future.poll(&mut std::task::Context::from_waker(waker))
    }
}
