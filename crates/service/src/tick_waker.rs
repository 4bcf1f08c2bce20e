//! One thread that wakes waiting requests at the exact millisecond their tick begins.
//!
//! # Why not tokio's timer
//! A request that needs the next tick (a whole-tick block at `--max-lead-ticks 0`, or a tick
//! whose sequence is used up) must wake as the tick begins: every millisecond it sleeps past
//! that is a tick nobody issues from. tokio's timer has a resolution of one millisecond and
//! rounds up, and its worker parks in `epoll_wait` in whole milliseconds too, so a waiter woke
//! 1-2 ms late and a stream of 4,096-ID blocks lost about half the ticks (4.0 M fell to
//! 1.9 M IDs/s; `docs/BENCHMARKS.md`). This thread sleeps with the clock's own precise wait
//! ([`Clock::wait_until_ms`], microseconds for the system clock) and wakes every request due
//! at that millisecond; the runtime's workers stay free meanwhile.
//!
//! # Cost
//! The thread is started by the first waiter and blocks on a condition variable while nobody
//! waits, so an idle node pays nothing. While requests wait it wakes once per millisecond at
//! most: for a waiter more than a millisecond away it sleeps on the condition variable until a
//! millisecond before (a new, earlier waiter interrupts that sleep), then waits out the rest
//! precisely.
//!
//! # Bounds
//! This is only the early, precise wake. The bound on a request's wait (invariant 7) stays a
//! tokio timer in [`crate::issuing`], raced against this one, so a clock that stalls (or a
//! thread that cannot run) still ends the wait in time.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use snowdrift::clock::Clock;

/// A waiter's place in the queue: its target (Unix ms), then a number that keeps keys unique.
type Key = (u64, u64);

/// Wakes futures when a clock reaches their millisecond. Dropping it stops its thread.
pub struct TickWaker<C: Clock + Clone + 'static> {
    shared: Arc<Shared<C>>,
}

struct Shared<C> {
    clock: C,
    state: Mutex<State>,
    /// Signalled when a waiter becomes the earliest, and when the waker is dropped.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    waiters: BTreeMap<Key, Waker>,
    next_key: u64,
    started: bool,
    stopped: bool,
    /// Times the thread has looked for due waiters: lets a test know a millisecond was seen.
    passes: u64,
    /// Waiters woken so far.
    woken: u64,
}

impl<C: Clock + Clone + 'static> TickWaker<C> {
    /// A waker on `clock`: the generator's clock, so that "due" means what the generator
    /// means by it. The thread starts with the first waiter.
    pub fn new(clock: C) -> TickWaker<C> {
        TickWaker {
            shared: Arc::new(Shared {
                clock,
                state: Mutex::new(State::default()),
                changed: Condvar::new(),
            }),
        }
    }

    /// Completes once the clock reads `target_ms` (Unix ms) or later.
    pub fn until(&self, target_ms: u64) -> Alarm<'_, C> {
        Alarm {
            shared: &self.shared,
            target_ms,
            key: None,
        }
    }

    /// Futures registered and not yet woken or dropped.
    pub fn waiting(&self) -> usize {
        self.shared.lock().waiters.len()
    }

    /// Times the thread has looked for due waiters, and waiters it has woken.
    pub fn passes_and_woken(&self) -> (u64, u64) {
        let state = self.shared.lock();
        (state.passes, state.woken)
    }
}

impl<C: Clock + Clone + 'static> Drop for TickWaker<C> {
    fn drop(&mut self) {
        self.shared.lock().stopped = true;
        self.shared.changed.notify_all();
    }
}

impl<C: Clock + Clone + 'static> std::fmt::Debug for TickWaker<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TickWaker")
            .field("waiting", &self.waiting())
            .finish()
    }
}

impl<C: Clock + Clone + 'static> Shared<C> {
    /// The queue. A panic while it was held cannot leave it inconsistent (every change is one
    /// map operation), so a poisoned lock is used as it is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The thread: wait for the earliest waiter's millisecond, wake everyone due, repeat.
    fn run(self: Arc<Self>) {
        let mut state = self.lock();
        loop {
            if state.stopped {
                return;
            }
            let Some(&(earliest, _)) = state.waiters.keys().next() else {
                state = self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            };
            let now_ms = self.clock.now_ms();
            if earliest > now_ms.saturating_add(1) {
                // More than a millisecond away: an interruptible sleep until a millisecond
                // before, then this loop again (an earlier waiter may have come meanwhile).
                let nap = Duration::from_millis(earliest - now_ms - 1);
                state = self
                    .changed
                    .wait_timeout(state, nap)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
                continue;
            }
            drop(state);
            if earliest > now_ms {
                // The last stretch, to the microsecond; no waiter can be due earlier than
                // this, since a future whose millisecond has come never registers.
                self.clock.wait_until_ms(earliest);
            }
            let now_ms = self.clock.now_ms();
            state = self.lock();
            state.passes += 1;
            let later = state.waiters.split_off(&(now_ms.saturating_add(1), 0));
            let due = std::mem::replace(&mut state.waiters, later);
            state.woken += due.len() as u64;
            drop(state);
            for waker in due.into_values() {
                waker.wake();
            }
            state = self.lock();
        }
    }
}

/// The future of [`TickWaker::until`]. Dropping it takes it out of the queue.
#[must_use = "an alarm does nothing unless awaited"]
pub struct Alarm<'a, C: Clock + Clone + 'static> {
    shared: &'a Arc<Shared<C>>,
    target_ms: u64,
    key: Option<Key>,
}

impl<C: Clock + Clone + 'static> Future for Alarm<'_, C> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.shared.clock.now_ms() >= self.target_ms {
            self.forget();
            return Poll::Ready(());
        }
        let shared = Arc::clone(self.shared);
        let mut state = shared.lock();
        if let Some(waker) = self.key.and_then(|key| state.waiters.get_mut(&key)) {
            // Still queued: keep the waker current (the task may have moved).
            waker.clone_from(cx.waker());
            return Poll::Pending;
        }
        // Not queued yet, or woken by the thread before the clock showed the millisecond
        // to this reader: (re)queue.
        let key = (self.target_ms, state.next_key);
        state.next_key = state.next_key.wrapping_add(1);
        let earliest = state.waiters.keys().next().is_none_or(|first| key < *first);
        state.waiters.insert(key, cx.waker().clone());
        self.key = Some(key);
        if !state.started {
            state.started = true;
            let thread_shared = Arc::clone(&shared);
            let spawned = std::thread::Builder::new()
                .name("sd-tick-waker".into())
                .spawn(move || thread_shared.run());
            if spawned.is_err() {
                // No thread: the caller's bound timer still ends the wait (see the module
                // docs). Try again with the next waiter.
                state.started = false;
            }
        }
        drop(state);
        if earliest {
            shared.changed.notify_all();
        }
        Poll::Pending
    }
}

impl<C: Clock + Clone + 'static> Alarm<'_, C> {
    fn forget(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.lock().waiters.remove(&key);
        }
    }
}

impl<C: Clock + Clone + 'static> Drop for Alarm<'_, C> {
    fn drop(&mut self) {
        self.forget();
    }
}

#[cfg(test)]
#[path = "tick_waker_tests.rs"]
mod tests;
