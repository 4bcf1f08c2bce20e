//! Model-checks the lock-free core with loom: every interleaving of 2 and 3 threads.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p snowdrift --test loom --release`.
//!
//! Bounds: every model but one is exhaustive (no `LOOM_MAX_PREEMPTIONS` needed); they stay
//! small enough for that by using one or two sequence bits, so that a tick fills after two or
//! four IDs, and at most three threads with one or two calls each. The exception,
//! `three_threads_filling_a_tick`, explores every interleaving with at most four preemptions. The whole file runs in seconds
//! once built. The models reach the window's edge: a ceiling reached by a `fetch_add` that
//! lost the race for the window's last value, a fence racing reservations (and the bound it
//! returns), a raise on a closed window, and the poll path's Pending and Held answers.
//!
//! What loom does not cover: it treats `SeqCst` accesses as `AcqRel`, so the store-buffer
//! pattern of `fence` is modelled with `SeqCst` fences (see `src/sync.rs`); it explores no
//! load-buffering executions; and the clock here is a `ManualClock` moved by the model, not
//! the ticker thread.
#![cfg(loom)]
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use loom::sync::Arc;
use loom::thread;
use snowdrift::clock::ManualClock;
use snowdrift::{Error, Id, IdGenerator, Layout, LocalGenerator, Poll};

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

/// Three threads and a tick that holds two IDs, so one of them must wait (the clock advances
/// by the wait) or jump to a new tick. The only model with three threads that each run the
/// whole reservation, so the only one explored with a preemption bound (4): exhaustively it
/// no longer finished in minutes once single IDs could take the one-`fetch_add` path, whose
/// hint adds reads and writes to every call.
#[test]
fn three_threads_filling_a_tick() {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(4);
    builder.check(|| {
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

/// A fence racing a call on the one-`fetch_add` path. Each tick holds one value and one tick
/// of lead is allowed, so the first call leaves the next value (tick 1001) usable and the
/// second takes it with a bare `fetch_add`, in a tick the fence can only bound if the
/// store-buffer pattern holds on that path too: the fence sees the reservation, or the call
/// sees the fence and burns it.
#[test]
fn a_fence_bounds_what_the_one_fetch_add_path_returns() {
    loom::model(|| {
        let layout = Layout::builder()
            .sequence_bits(0)
            .machine_bits(5)
            .build_at(1_800_000_000_000)
            .unwrap();
        let clock = ManualClock::frozen(layout.epoch_ms() + 1_000);
        let g = Arc::new(
            IdGenerator::builder(layout)
                .clock(clock.clone())
                .max_lead_ticks(1)
                .build()
                .unwrap(),
        );
        let first = g.next_id().unwrap();
        let reserver = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.next_id().ok())
        };
        let bound = g.fence();
        let second = reserver.join().unwrap();
        for id in std::iter::once(first).chain(second) {
            let tick = id.parts(&layout).unwrap().tick;
            assert!(
                bound.is_some_and(|bound| tick <= bound),
                "tick {tick} was issued but the fence said {bound:?}"
            );
        }
    });
}

/// Two threads race for the last value of the window: one ID is left in the ceiling tick.
/// Whether the loser is refused before its `fetch_add` or after it (its value then lies past
/// the ceiling and is burned), it gets `CeilingReached` and nothing past the ceiling is issued.
#[test]
fn a_race_for_the_last_value_of_the_window_issues_it_once() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let layout = Layout::builder()
            .sequence_bits(1)
            .machine_bits(5)
            .build_at(1_800_000_000_000)
            .unwrap();
        clock.set(layout.epoch_ms() + 1_000);
        let g = Arc::new(
            IdGenerator::builder(layout)
                .clock(clock.clone())
                .ceiling(1_000)
                .build()
                .unwrap(),
        );
        let first = g.next_id().unwrap(); // tick 1000, sequence 0: one value left
        let other = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.next_id())
        };
        let mine = g.next_id();
        let theirs = other.join().unwrap();
        let won: Vec<Id> = [&mine, &theirs]
            .into_iter()
            .filter_map(|r| r.as_ref().ok().copied())
            .collect();
        assert_eq!(won.len(), 1, "{mine:?} {theirs:?}");
        assert_eq!(won[0].parts(&layout).unwrap().tick, 1_000);
        assert!(won[0] > first);
        for result in [mine, theirs] {
            if let Err(err) = result {
                assert_eq!(err, Error::CeilingReached { ceiling: 1_000 });
            }
        }
        assert_eq!(
            g.fence(),
            Some(1_000),
            "nothing past the ceiling counts as issued"
        );
    });
}

/// A raise on a closed window races a reservation and a fence: an ID is issued only inside the
/// raised window, the fence's bound covers it, and a raise after the fence is refused.
#[test]
fn a_raise_on_a_closed_window_races_a_call_and_a_fence() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let layout = Layout::builder()
            .sequence_bits(1)
            .machine_bits(5)
            .build_at(1_800_000_000_000)
            .unwrap();
        clock.set(layout.epoch_ms() + 1_000);
        let g = Arc::new(
            IdGenerator::builder(layout)
                .clock(clock.clone())
                .floor(1_000)
                .closed()
                .build()
                .unwrap(),
        );
        let raiser = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.raise_ceiling(1_000))
        };
        let caller = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.next_id())
        };
        let bound = g.fence();
        let raised = raiser.join().unwrap();
        let issued = caller.join().unwrap();
        if let Ok(id) = issued {
            assert!(raised.is_ok(), "issued {id} from a window never raised");
            assert_eq!(id.parts(&layout).unwrap().tick, 1_000);
            assert_eq!(bound, Some(1_000), "the fence missed {id}");
        } else {
            let err = issued.unwrap_err();
            assert!(
                matches!(err, Error::CeilingReached { .. } | Error::Fenced),
                "{err}"
            );
        }
        if let Err(err) = raised {
            assert_eq!(err, Error::Fenced);
        }
        assert!(g.is_fenced() && g.next_id().is_err());
    });
}

/// The poll path at a full tick on a clock that does not move: one value is left, two threads
/// poll. One gets it Ready; the other is told Pending without reserving anything, or, if its
/// `fetch_add` lost the race into the next tick, gets a Held that cannot be claimed until the
/// clock reaches that tick. Every ID that comes out is unique.
#[test]
fn polls_at_a_full_tick_answer_ready_pending_or_held_and_never_repeat() {
    loom::model(|| {
        let layout = Layout::builder()
            .sequence_bits(1)
            .machine_bits(5)
            .build_at(1_800_000_000_000)
            .unwrap();
        let clock = ManualClock::frozen(layout.epoch_ms() + 1_000);
        let g = Arc::new(
            IdGenerator::builder(layout)
                .clock(clock.clone())
                .build()
                .unwrap(),
        );
        let first = g.next_id().unwrap();
        let other = {
            let g = Arc::clone(&g);
            thread::spawn(move || g.poll_id().unwrap())
        };
        let mine = g.poll_id().unwrap();
        let theirs = other.join().unwrap();
        let mut ids = vec![first];
        let mut held = Vec::new();
        for poll in [mine, theirs] {
            match poll {
                Poll::Ready(id) => ids.push(id),
                Poll::Held(hold) => {
                    assert_eq!(hold.ready_tick(), 1_001);
                    held.push(hold);
                }
                Poll::Pending { tick, .. } => assert_eq!(tick, 1_001),
            }
        }
        assert_eq!(
            ids.len(),
            2,
            "exactly one poll got the last value of tick 1000"
        );
        let held: Vec<_> = held
            .into_iter()
            .map(|hold| hold.claim(&g).expect_err("claimed before its tick"))
            .collect();
        clock.set(layout.epoch_ms() + 1_001);
        for hold in held {
            ids.push(hold.claim(&g).unwrap());
        }
        ids.push(g.next_id().unwrap());
        for id in &ids {
            assert!(id.parts(&layout).unwrap().tick <= 1_001);
        }
        assert_unique(ids);
    });
}

/// A per-thread handle racing a fence. The handle already holds one value it has not handed
/// out; it takes it, the clock moves, and its next call drops the old run and reserves again
/// (the jump to a new tick). Every ID it gave has a tick within the fence's bound, and after
/// the fence it gives nothing.
#[test]
fn a_handle_racing_a_fence_gives_nothing_past_its_bound() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let g = Arc::new(generator(&clock, 2));
        let layout = g.layout();
        let mut local = LocalGenerator::new(Arc::clone(&g)).with_max_block(2);
        let mut issued = vec![local.next_id().unwrap(), local.next_id().unwrap()]; // 1, then 2
        let handle = {
            let clock = clock.clone();
            thread::spawn(move || {
                let held = local.next_id(); // the value it held
                clock.advance(1);
                let fresh = local.next_id(); // a new tick: a new block
                (vec![held, fresh], local)
            })
        };
        let bound = g.fence();
        let (results, mut local) = handle.join().unwrap();
        issued.extend(results.into_iter().filter_map(Result::ok));
        for id in &issued {
            let tick = id.parts(&layout).unwrap().tick;
            assert!(
                bound.is_some_and(|bound| tick <= bound),
                "tick {tick} was issued but the fence said {bound:?}"
            );
        }
        assert_unique(issued);
        assert_eq!(local.next_id().unwrap_err(), Error::Fenced);
    });
}

/// A handle refilling while a plain `next_id` runs, on a tick of four values: whatever the
/// interleaving (the handle's peek at the state, then its reservation, against the other
/// call's), no ID is given twice and the handle's IDs increase.
#[test]
fn a_handle_refilling_and_next_id_never_repeat() {
    loom::model(|| {
        let clock = ManualClock::new(0);
        let g = Arc::new(generator(&clock, 2));
        // The handle has used up a block of one, so its next call reserves a block of two.
        let mut local = LocalGenerator::new(Arc::clone(&g)).with_max_block(2);
        let first = local.next_id().unwrap();
        let handle = thread::spawn(move || {
            let second = local.next_id().unwrap();
            let third = local.next_id().unwrap(); // from the same block, or a new one
            assert!(first < second && second < third, "a handle's IDs increase");
            vec![first, second, third]
        });
        let mut ids = vec![g.next_id().unwrap()];
        ids.extend(handle.join().unwrap());
        assert_unique(ids);
    });
}
