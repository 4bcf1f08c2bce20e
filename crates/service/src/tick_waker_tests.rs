//! The tick waker, checked by counts: a clock that moves only when the test moves it records
//! every millisecond the waker's thread waits for, so "woken at its tick, not before and not
//! later" is a comparison of numbers, not a measurement on a noisy machine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use snowdrift::clock::Clock;

use super::TickWaker;

const START_MS: u64 = 1_700_000_000_000;
/// The most any test waits for the waker's thread to do something; it is never reached
/// unless the waker is broken (then the test fails rather than hangs).
const PATIENCE: Duration = Duration::from_secs(20);

/// A clock that the test sets by hand; `wait_until_ms` blocks until the test gets there and
/// records each target it was asked for.
#[derive(Clone)]
struct StepClock(Arc<(Mutex<Steps>, Condvar)>);

struct Steps {
    now_ms: u64,
    waited_for: Vec<u64>,
}

impl StepClock {
    fn new() -> StepClock {
        StepClock(Arc::new((
            Mutex::new(Steps {
                now_ms: START_MS,
                waited_for: Vec::new(),
            }),
            Condvar::new(),
        )))
    }

    fn set(&self, now_ms: u64) {
        self.0 .0.lock().unwrap().now_ms = now_ms;
        self.0 .1.notify_all();
    }

    fn waited_for(&self) -> Vec<u64> {
        self.0 .0.lock().unwrap().waited_for.clone()
    }
}

impl Clock for StepClock {
    fn now_ms(&self) -> u64 {
        self.0 .0.lock().unwrap().now_ms
    }

    fn wait_until_ms(&self, target_ms: u64) {
        let (steps, moved) = &*self.0;
        let mut steps = steps.lock().unwrap();
        steps.waited_for.push(target_ms);
        moved.notify_all();
        let deadline = Instant::now() + PATIENCE;
        while steps.now_ms < target_ms && Instant::now() < deadline {
            steps = moved
                .wait_timeout(steps, Duration::from_millis(50))
                .unwrap()
                .0;
        }
    }
}

/// A waker that counts its wakes.
#[derive(Default)]
struct Counting(AtomicU64);

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Counting {
    fn wakes(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Waits (bounded) until `done` holds; panics with `what` if it never does.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(waker))
}

#[test]
fn a_waiter_is_woken_as_its_millisecond_begins_not_before_and_not_later() {
    let clock = StepClock::new();
    let ticks = TickWaker::new(clock.clone());
    let counting = Arc::new(Counting::default());
    let waker = Waker::from(Arc::clone(&counting));
    let mut alarm = pin!(ticks.until(START_MS + 2));
    assert!(poll_once(alarm.as_mut(), &waker).is_pending());
    assert_eq!(ticks.waiting(), 1);

    // One millisecond before: the thread waits precisely for the waiter's own millisecond,
    // and nobody is woken yet.
    clock.set(START_MS + 1);
    eventually("the waker waits for START+2", || {
        clock.waited_for().contains(&(START_MS + 2))
    });
    assert_eq!(counting.wakes(), 0);
    assert!(poll_once(alarm.as_mut(), &waker).is_pending());

    // The millisecond comes: the waiter is woken while the clock shows it, not a tick later.
    clock.set(START_MS + 2);
    eventually("the waiter is woken", || counting.wakes() == 1);
    assert_eq!(clock.now_ms(), START_MS + 2);
    assert!(poll_once(alarm.as_mut(), &waker).is_ready());
    assert_eq!(ticks.waiting(), 0);
    // The thread never waited for a later millisecond than the one it was asked to wake.
    assert!(
        clock.waited_for().iter().all(|&ms| ms <= START_MS + 2),
        "{:?}",
        clock.waited_for()
    );
    assert_eq!(ticks.passes_and_woken().1, 1);
}

#[test]
fn waiters_are_woken_each_at_its_own_millisecond_and_a_dropped_one_never() {
    let clock = StepClock::new();
    let ticks = TickWaker::new(clock.clone());
    let counts: Vec<Arc<Counting>> = (0..4).map(|_| Arc::new(Counting::default())).collect();
    let wakers: Vec<Waker> = counts.iter().map(|c| Waker::from(Arc::clone(c))).collect();
    let mut first = pin!(ticks.until(START_MS + 1));
    let mut third = pin!(ticks.until(START_MS + 3));
    let mut also_first = pin!(ticks.until(START_MS + 1));
    assert!(poll_once(first.as_mut(), &wakers[0]).is_pending());
    assert!(poll_once(third.as_mut(), &wakers[1]).is_pending());
    assert!(poll_once(also_first.as_mut(), &wakers[2]).is_pending());
    {
        let mut dropped = Box::pin(ticks.until(START_MS + 1));
        assert!(poll_once(dropped.as_mut(), &wakers[3]).is_pending());
        assert_eq!(ticks.waiting(), 4);
    }
    assert_eq!(ticks.waiting(), 3, "a dropped alarm leaves the queue");

    clock.set(START_MS + 1);
    eventually("both waiters of START+1 are woken", || {
        counts[0].wakes() == 1 && counts[2].wakes() == 1
    });
    assert_eq!(counts[1].wakes(), 0, "START+3 is not due at START+1");
    assert_eq!(ticks.waiting(), 1);

    clock.set(START_MS + 2);
    eventually("the waker waits for START+3", || {
        clock.waited_for().contains(&(START_MS + 3))
    });
    assert_eq!(counts[1].wakes(), 0, "START+3 is not due at START+2");
    clock.set(START_MS + 3);
    eventually("the waiter of START+3 is woken", || counts[1].wakes() == 1);
    assert!(poll_once(third.as_mut(), &wakers[1]).is_ready());
    assert_eq!(counts[3].wakes(), 0, "the dropped alarm was never woken");
    assert_eq!(ticks.passes_and_woken().1, 3);
}

#[test]
fn no_thread_and_no_pass_before_the_first_waiter_and_none_for_a_due_one() {
    let clock = StepClock::new();
    let ticks = TickWaker::new(clock.clone());
    let counting = Arc::new(Counting::default());
    let waker = Waker::from(Arc::clone(&counting));
    // Already due: ready at once, never queued, and the thread is not started for it.
    let mut due = pin!(ticks.until(START_MS));
    assert!(poll_once(due.as_mut(), &waker).is_ready());
    assert_eq!(ticks.waiting(), 0);
    assert_eq!(ticks.passes_and_woken(), (0, 0));
    assert!(clock.waited_for().is_empty());
    assert!(!ticks.shared.lock().started);
}
