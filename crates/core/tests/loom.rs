//! Model-checks the lock-free core with loom: every interleaving of 2 and 3 threads.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p snowdrift --test loom --release`.
#![cfg(loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use loom::sync::Arc;
use loom::thread;
use snowdrift::clock::ManualClock;
use snowdrift::{Id, IdGenerator, Layout};

fn generator(clock: &ManualClock, sequence_bits: u8) -> IdGenerator<ManualClock> {
    let layout = Layout::builder()
        .sequence_bits(sequence_bits)
        .machine_bits(5)
        .build_at(1_800_000_000_000)
        .unwrap();
    clock.set(layout.epoch_ms() + 1_000);
    IdGenerator::builder(layout)
        .clock(clock.clone())
        .ceiling(1_005)
        .build()
        .unwrap()
}

fn assert_unique(mut ids: Vec<Id>) {
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate id");
}

#[test]
fn two_threads_with_a_moving_clock() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let g = Arc::new(generator(&clock, 1));
        let mover = {
            let clock = clock.clone();
            let g = Arc::clone(&g);
            thread::spawn(move || {
                let a = g.next_id().unwrap();
                clock.advance(1);
                let b = g.next_id().unwrap();
                assert!(b > a);
                vec![a, b]
            })
        };
        let c = g.next_id().unwrap();
        let d = g.next_id().unwrap();
        assert!(d > c);
        let mut ids = mover.join().unwrap();
        ids.extend([c, d]);
        assert_unique(ids);
    });
}

#[test]
fn three_threads_filling_a_tick() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        // One sequence bit: two IDs a tick, so three threads force a wait or a jump.
        let g = Arc::new(generator(&clock, 1));
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let g = Arc::clone(&g);
                thread::spawn(move || g.next_id().unwrap())
            })
            .collect();
        let mine = g.next_id().unwrap();
        let mut ids: Vec<Id> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        ids.push(mine);
        assert_unique(ids);
    });
}

#[test]
fn a_block_and_a_single_id_race() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let g = Arc::new(generator(&clock, 2));
        let other = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.next_ids(3).unwrap().collect::<Vec<_>>())
        };
        let mine = g.next_id().unwrap();
        let mut ids = other.join().unwrap();
        ids.push(mine);
        assert_unique(ids);
    });
}

#[test]
fn fence_and_raise_race_never_unfence() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let g = Arc::new(generator(&clock, 2));
        let raiser = {
            let g = Arc::clone(&g);
            thread::spawn(move || {
                let _ = g.raise_ceiling(2_000);
            })
        };
        g.fence();
        raiser.join().unwrap();
        assert!(
            g.is_fenced(),
            "ceiling revived after fence: {:?}",
            g.ceiling()
        );
        assert!(g.next_id().is_err());
    });
}

/// A fence racing reservations on both paths (the jump to a new tick by compare-exchange, and
/// the `fetch_add` that continues a tick): every ID a caller gets back has a tick at or below
/// the bound that `fence` returned, and nothing is issued after it.
#[test]
fn a_fence_bounds_every_tick_that_a_racing_call_returns() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let g = Arc::new(generator(&clock, 1));
        let layout = g.layout();
        let reserver = {
            let g = Arc::clone(&g);
            thread::spawn(move || {
                // The first call jumps the state to the clock's tick, the second continues it.
                [g.next_id(), g.next_id()]
                    .into_iter()
                    .filter_map(Result::ok)
                    .collect::<Vec<_>>()
            })
        };
        let bound = g.fence();
        let issued = reserver.join().unwrap();
        for id in &issued {
            let tick = id.parts(&layout).unwrap().tick;
            assert!(
                bound.is_some_and(|bound| tick <= bound),
                "tick {tick} was issued but the fence said {bound:?}"
            );
        }
        assert!(g.next_id().is_err());
    });
}
