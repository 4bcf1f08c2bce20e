//! The non-blocking calls: `poll_id` and `poll_ids` answer Ready, Held or Pending with the same
//! typed errors as the blocking calls, never sleep, and never reserve what cannot be used.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::{Duration, Instant};

use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{Error, GeneratorBuilder, IdGenerator, Layout, Poll};

const T: u64 = 10_000;

fn frozen_at_t() -> (ManualClock, GeneratorBuilder<ManualClock>) {
    let layout = Layout::default();
    let clock = ManualClock::frozen(layout.unix_ms_of_tick(T));
    let builder = IdGenerator::builder(layout).clock(clock.clone());
    (clock, builder)
}

fn tick(id: snowdrift::Id) -> u64 {
    id.parts(&Layout::default()).unwrap().tick
}

#[test]
fn a_full_tick_is_pending_and_polling_it_reserves_nothing() {
    let (clock, builder) = frozen_at_t();
    let g = builder.build().unwrap();
    match g.poll_id().unwrap() {
        Poll::Ready(id) => assert_eq!(tick(id), T),
        other => panic!("{other:?}"),
    }
    g.next_ids(4095).unwrap(); // the rest of tick T
    let next_tick = g.next_tick();
    for _ in 0..10_000 {
        match g.poll_id().unwrap() {
            Poll::Pending { tick, wake_at_ms } => {
                assert_eq!(tick, T + 1);
                assert_eq!(wake_at_ms, Layout::default().unix_ms_of_tick(T + 1));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(g.next_tick(), next_tick, "pending polls moved the state");
    clock.set(Layout::default().unix_ms_of_tick(T + 1));
    match g.poll_id().unwrap() {
        Poll::Ready(id) => assert_eq!(tick(id), T + 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_block_into_later_ticks_is_held_until_the_clock_gets_there() {
    let (clock, builder) = frozen_at_t();
    let g = builder.build().unwrap();
    let held = match g.poll_ids(3 * 4096).unwrap() {
        Poll::Held(held) => held,
        other => panic!("{other:?}"),
    };
    assert_eq!(held.ready_tick(), T + 2);
    assert_eq!(held.ready_at_ms(), Layout::default().unix_ms_of_tick(T + 2));
    let held = held.claim(&g).expect_err("the clock is still at tick T");
    clock.set(held.ready_at_ms());
    let block = held.claim(&g).unwrap();
    assert_eq!(block.len(), 3 * 4096);
    assert_eq!(tick(block.first()), T);
    assert_eq!(tick(block.last_id()), T + 2);
    clock.set(Layout::default().unix_ms_of_tick(T + 3)); // tick T + 2 is full: the next is T + 3
    assert!(g.next_id().unwrap() > block.last_id());
}

#[test]
fn a_lead_makes_borrowed_ticks_ready() {
    let (_clock, builder) = frozen_at_t();
    let g = builder.max_lead_ticks(2).build().unwrap();
    match g.poll_ids(3 * 4096).unwrap() {
        Poll::Ready(block) => assert_eq!(tick(block.last_id()), T + 2),
        other => panic!("{other:?}"),
    }
    match g.poll_id().unwrap() {
        Poll::Pending { tick, .. } => assert_eq!(tick, T + 1, "T + 3 is usable from T + 1"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn polls_fail_with_the_blocking_calls_errors_at_once() {
    let (clock, builder) = frozen_at_t();
    // A ceiling wait applies to the blocking calls only: a poll answers at once.
    let g = builder
        .ceiling(T)
        .ceiling_wait(Duration::from_secs(30))
        .max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    g.next_ids(4096).unwrap();
    clock.set(Layout::default().unix_ms_of_tick(T + 1));
    let started = Instant::now();
    assert_eq!(
        g.poll_id().unwrap_err(),
        Error::CeilingReached { ceiling: T }
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the poll waited"
    );

    g.raise_ceiling(T + 10_000).unwrap();
    clock.set(Layout::default().unix_ms_of_tick(T - 5_000)); // a step back of 5 s
    assert!(matches!(g.poll_id(), Err(Error::ClockBehind { .. })));
    assert_eq!(
        g.poll_ids(0).unwrap_err().code(),
        "batch_out_of_range",
        "counts are checked as in next_ids"
    );
    g.fence();
    assert_eq!(g.poll_id().unwrap_err(), Error::Fenced);
    assert_eq!(g.poll_ids(5).unwrap_err(), Error::Fenced);
}

#[test]
fn pending_is_never_further_than_max_wait() {
    let (clock, builder) = frozen_at_t();
    let g = builder
        .floor(T + 50)
        .max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    match g.poll_id().unwrap() {
        Poll::Pending { tick, wake_at_ms } => {
            assert_eq!(tick, T + 50);
            assert_eq!(wake_at_ms - clock.now_ms(), 50);
        }
        other => panic!("{other:?}"),
    }
    let g = frozen_at_t()
        .1
        .floor(T + 150)
        .max_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    assert_eq!(
        g.poll_id().unwrap_err(),
        Error::ClockBehind {
            behind: Duration::from_millis(150),
            max_wait: Duration::from_millis(100)
        }
    );
}
