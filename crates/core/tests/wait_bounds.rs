//! Every wait has its bound (invariant 7): a call never waits longer than `max_wait`, a
//! request that would need longer is refused up front saying why, and a block that is
//! legitimately waiting for its last tick does not make other callers blame the clock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{Error, IdGenerator, Layout};

const NOW: u64 = 1_800_000_000_000;
const T: u64 = 10_000;

/// 41/5/5/12 with one-second ticks, the example.
fn seconds_layout() -> Layout {
    Layout::builder().unit_ms(1000).build_at(NOW).unwrap()
}

#[test]
fn a_block_that_needs_a_longer_wait_than_max_wait_is_refused_up_front() {
    // Regression: next_ids reserved the block and then slept until its last tick, 1 s here
    // against a max_wait of 50 ms (255 s for the largest block).
    let layout = seconds_layout();
    let clock = ManualClock::new(layout.unix_ms_of_tick(T));
    let g = IdGenerator::builder(layout)
        .max_wait(Duration::from_millis(50))
        .clock(clock.clone())
        .build()
        .unwrap();
    let err = g.next_ids(5000).unwrap_err();
    assert_eq!(
        err,
        Error::BatchExceedsWait {
            requested: 5000,
            wait: Duration::from_secs(1),
            max_wait: Duration::from_millis(50),
            max: 4096,
        }
    );
    assert!(!err.is_retryable());
    let message = err.to_string();
    for number in ["5000", "1s", "50ms", "4096"] {
        assert!(message.contains(number), "{number} in {message}");
    }
    assert_eq!(clock.now_ms(), layout.unix_ms_of_tick(T), "nothing waited");
    assert_eq!(g.max_batch(), 4096, "what the bound allows");
    assert_eq!(g.next_ids(4096).unwrap().count(), 4096);
}

#[test]
fn a_full_tick_longer_than_max_wait_is_refused_rather_than_slept_through() {
    let layout = seconds_layout();
    let clock = ManualClock::new(layout.unix_ms_of_tick(T));
    let g = IdGenerator::builder(layout)
        .max_wait(Duration::from_millis(50))
        .clock(clock.clone())
        .build()
        .unwrap();
    g.next_ids(4096).unwrap();
    let err = g.next_id().unwrap_err();
    assert_eq!(
        err,
        Error::SequenceExhausted {
            wait: Duration::from_secs(1),
            max_wait: Duration::from_millis(50),
        }
    );
    assert!(err.is_retryable(), "the next tick serves it");
    assert_eq!(clock.now_ms(), layout.unix_ms_of_tick(T), "nothing waited");
    clock.advance(1000);
    assert_eq!(g.next_id().unwrap().parts(&layout).unwrap().tick, T + 1);
}

#[test]
fn a_block_within_the_bound_waits_for_its_last_tick() {
    let layout = Layout::default();
    let clock = ManualClock::new(layout.unix_ms_of_tick(T));
    let g = IdGenerator::builder(layout)
        .max_wait(Duration::from_millis(100))
        .clock(clock.clone())
        .build()
        .unwrap();
    let block = g.next_ids(101 * 4096).unwrap();
    assert_eq!(block.last_id().parts(&layout).unwrap().tick, T + 100);
    assert_eq!(
        clock.now_ms(),
        layout.unix_ms_of_tick(T + 100),
        "waited exactly for the last tick, 100 ms, the bound"
    );
}

/// A clock whose waits block until the test moves it, so a test can act while another thread
/// is inside a generator's wait. Waits give up after 10 s, so a test cannot hang.
#[derive(Clone, Default)]
struct GatedClock {
    inner: Arc<(Mutex<GateState>, Condvar)>,
}

#[derive(Default)]
struct GateState {
    now_ms: u64,
    waiting: usize,
}

impl GatedClock {
    fn at(now_ms: u64) -> GatedClock {
        let clock = GatedClock::default();
        clock.inner.0.lock().unwrap().now_ms = now_ms;
        clock
    }
    fn set(&self, now_ms: u64) {
        self.inner.0.lock().unwrap().now_ms = now_ms;
        self.inner.1.notify_all();
    }
    fn wait_for_a_waiter(&self) {
        let (lock, cond) = &*self.inner;
        let guard = lock.lock().unwrap();
        let (guard, timeout) = cond
            .wait_timeout_while(guard, Duration::from_secs(10), |s| s.waiting == 0)
            .unwrap();
        assert!(!timeout.timed_out() && guard.waiting > 0, "nobody waited");
    }
}

impl Clock for GatedClock {
    fn now_ms(&self) -> u64 {
        self.inner.0.lock().unwrap().now_ms
    }
    fn wait_until_ms(&self, target_ms: u64) {
        let (lock, cond) = &*self.inner;
        let mut guard = lock.lock().unwrap();
        guard.waiting += 1;
        cond.notify_all();
        let (mut guard, _) = cond
            .wait_timeout_while(guard, Duration::from_secs(10), |s| s.now_ms < target_ms)
            .unwrap();
        guard.waiting -= 1;
    }
}

#[test]
fn a_waiting_block_does_not_make_other_callers_blame_a_healthy_clock() {
    // Regression: while a block slept until its last tick, another caller found the state
    // ahead of the clock and failed with ClockBehind, blaming a clock that was fine.
    let layout = Layout::default();
    let clock = GatedClock::at(layout.unix_ms_of_tick(T));
    let g = Arc::new(
        IdGenerator::builder(layout)
            .max_wait(Duration::from_millis(100))
            .clock(clock.clone())
            .build()
            .unwrap(),
    );
    let block = {
        let g = Arc::clone(&g);
        std::thread::spawn(move || g.next_ids(101 * 4096))
    };
    clock.wait_for_a_waiter(); // the block is reserved and waits for tick T + 100
                               // The next free ID is in tick T + 101: 101 ms away, just past the bound.
    let err = g.next_id().unwrap_err();
    assert!(
        matches!(err, Error::SequenceExhausted { .. }),
        "the clock is healthy, the sequence is used up ahead of it: {err}"
    );
    clock.set(layout.unix_ms_of_tick(T + 100));
    let block = block.join().unwrap().unwrap();
    assert_eq!(block.last_id().parts(&layout).unwrap().tick, T + 100);
    clock.set(layout.unix_ms_of_tick(T + 101));
    assert!(g.next_id().unwrap() > block.last_id());
}
