//! The per-thread handle (`IdGenerator::local`): what it keeps of the generator's guarantees
//! (no repeats, the window, the fence's bound, the lead), what it trades (IDs of different
//! handles interleave within a tick), and how its blocks grow. Manual clocks, so every case is
//! exact; `loom.rs` and `properties.rs` check the same under interleavings and random steps.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::HashSet;

use snowdrift::clock::ManualClock;
use snowdrift::{Error, Id, IdGenerator, Layout};

const T: u64 = 10_000;

fn generator(clock: &ManualClock) -> IdGenerator<ManualClock> {
    let layout = Layout::default();
    clock.set(layout.epoch_ms() + T);
    IdGenerator::builder(layout)
        .worker(1, 2)
        .clock(clock.clone())
        .build()
        .unwrap()
}

fn parts(g: &IdGenerator<ManualClock>, id: Id) -> (u64, u64) {
    let p = id.parts(&g.layout()).unwrap();
    (p.tick, p.sequence)
}

#[test]
fn a_handle_gives_increasing_ids_of_the_clock_tick_and_the_worker() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut local = g.local();
    let ids: Vec<Id> = (0..300).map(|_| local.next_id().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    for id in &ids {
        let p = id.parts(&g.layout()).unwrap();
        assert_eq!((p.tick, p.datacenter, p.machine), (T, 1, 2));
    }
    assert_eq!(parts(&g, ids[0]), (T, 0));
}

#[test]
fn blocks_start_at_one_id_a_tick_and_double_up_to_the_maximum() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut local = g.local();
    assert_eq!(local.max_block(), 64, "4096 IDs a tick / 64");
    // The shared state shows what the handle reserved: a `next_id` gets the value after it.
    local.next_id().unwrap(); // block of 1: value 0
    assert_eq!(parts(&g, g.next_id().unwrap()), (T, 1));
    local.next_id().unwrap(); // block of 2: values 2, 3
    assert_eq!(parts(&g, g.next_id().unwrap()), (T, 4));
    for _ in 0..2 {
        local.next_id().unwrap(); // 3, then a block of 4: values 5..9
    }
    assert_eq!(parts(&g, g.next_id().unwrap()), (T, 9));
    for _ in 0..200 {
        local.next_id().unwrap();
    }
    // Blocks of 8, 16, 32, then 64 at most: the state is at most one block past the handle.
    let after = parts(&g, g.next_id().unwrap()).1;
    assert!(after <= 10 + 200 + 64 + 1, "{after}");
}

#[test]
fn a_new_tick_starts_from_one_id_again_and_drops_the_old_run() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut local = g.local().with_max_block(1000);
    for _ in 0..20 {
        local.next_id().unwrap(); // blocks of 1, 2, 4, 8, 16: 31 values reserved
    }
    clock.advance(1);
    let id = local.next_id().unwrap();
    assert_eq!(parts(&g, id), (T + 1, 0), "the rest of tick T is dropped");
    assert_eq!(
        parts(&g, g.next_id().unwrap()),
        (T + 1, 1),
        "a block of one"
    );
}

#[test]
fn a_thread_that_takes_one_id_a_tick_wastes_nothing() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut local = g.local();
    for k in 0..50 {
        let id = local.next_id().unwrap();
        assert_eq!(parts(&g, id), (T + k, 0));
        assert_eq!(parts(&g, g.next_id().unwrap()), (T + k, 1));
        clock.advance(1);
    }
}

#[test]
fn handles_and_next_id_never_repeat_and_each_handle_increases() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut handles: Vec<_> = (0..3).map(|_| g.local()).collect();
    let mut seen = HashSet::new();
    let mut last = vec![None; handles.len()];
    for round in 0..20_000u64 {
        let which = (round * 7 + round / 13) as usize % (handles.len() + 1);
        let id = if which == handles.len() {
            g.next_id().unwrap()
        } else {
            let id = handles[which].next_id().unwrap();
            assert!(
                last[which].is_none_or(|l| id > l),
                "handle {which} went back"
            );
            last[which] = Some(id);
            id
        };
        assert!(seen.insert(id), "{id} repeated");
        if round % 997 == 0 {
            clock.advance(1);
        }
    }
}

#[test]
fn ids_of_two_handles_interleave_within_a_tick() {
    // The trade-off, shown: B's first ID is below A's second, although A's came first.
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut a = g.local();
    let mut b = g.local();
    let a1 = a.next_id().unwrap(); // block of 1
    let a2 = a.next_id().unwrap(); // block of 2: values 1, 2
    let b1 = b.next_id().unwrap(); // block of 1: value 3
    let a3 = a.next_id().unwrap(); // value 2, reserved before b1
    assert!(a1 < a2 && a2 < a3, "each handle's IDs increase");
    assert!(
        a3 < b1,
        "a3 came out after b1, yet is smaller: reservation order"
    );
}

#[test]
fn a_handle_at_the_end_of_a_tick_takes_what_is_left_without_waiting() {
    // A frozen clock: a wait for the next tick would end the call with `ClockBehind`, so
    // every ID below comes without one.
    let layout = Layout::default();
    let clock = ManualClock::frozen(layout.epoch_ms() + T);
    let g = IdGenerator::builder(layout)
        .clock(clock.clone())
        .build()
        .unwrap();
    g.next_ids(4090).unwrap();
    let mut local = g.local();
    let ticks: Vec<u64> = (0..6)
        .map(|_| local.next_id().unwrap().parts(&layout).unwrap().tick)
        .collect();
    assert_eq!(ticks, vec![T; 6]);
    assert!(matches!(local.next_id(), Err(Error::ClockBehind { .. })));
}

#[test]
fn after_a_fence_a_handle_gives_nothing_and_the_bound_covers_what_it_gave() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut local = g.local();
    let mut ids: Vec<Id> = (0..10).map(|_| local.next_id().unwrap()).collect();
    clock.advance(3);
    ids.extend((0..5).map(|_| local.next_id().unwrap()));
    let bound = g.fence().expect("IDs were issued");
    assert!(ids.iter().all(|&id| parts(&g, id).0 <= bound));
    assert_eq!(bound, T + 3);
    // The handle still holds values of its last block; none comes out.
    assert_eq!(local.next_id().unwrap_err(), Error::Fenced);
    assert_eq!(local.next_id().unwrap_err(), Error::Fenced);
}

#[test]
fn a_handle_stays_inside_the_window() {
    let clock = ManualClock::new(0);
    let layout = Layout::default();
    clock.set(layout.epoch_ms() + T);
    let g = IdGenerator::builder(layout)
        .clock(clock.clone())
        .floor(T)
        .ceiling(T + 1)
        .build()
        .unwrap();
    let mut local = g.local();
    for _ in 0..100 {
        local.next_id().unwrap();
    }
    clock.advance(2); // past the ceiling
    assert_eq!(
        local.next_id().unwrap_err(),
        Error::CeilingReached { ceiling: T + 1 }
    );
    g.raise_ceiling(T + 5).unwrap();
    assert_eq!(parts(&g, local.next_id().unwrap()).0, T + 2);
}

#[test]
fn a_handle_borrows_no_more_than_the_lead_allows() {
    // Two IDs a tick, a frozen clock and a lead of 2: ticks T, T+1 and T+2 may be used, and
    // then the call must fail rather than run ahead.
    let layout = Layout::builder()
        .sequence_bits(1)
        .machine_bits(9)
        .build()
        .unwrap();
    let clock = ManualClock::frozen(layout.epoch_ms() + T);
    let g = IdGenerator::builder(layout)
        .clock(clock.clone())
        .max_lead_ticks(2)
        .max_wait(std::time::Duration::ZERO)
        .build()
        .unwrap();
    // Blocks as large as the handle likes: they are cut to what the lead allows.
    let mut local = g.local().with_max_block(6);
    assert_eq!(local.max_block(), 6, "max_batch: 3 ticks of 2");
    let mut ticks = Vec::new();
    loop {
        match local.next_id() {
            Ok(id) => ticks.push(id.parts(&layout).unwrap().tick),
            Err(err) => {
                assert!(err.is_retryable(), "{err}");
                break;
            }
        }
    }
    assert_eq!(ticks, vec![T, T, T + 1, T + 1, T + 2, T + 2]);
}

#[test]
fn a_handle_held_through_a_clock_step_back_never_hands_out_ahead_of_the_lead() {
    let clock = ManualClock::new(0);
    let g = generator(&clock);
    let mut local = g.local();
    for _ in 0..10 {
        local.next_id().unwrap();
    }
    // The clock goes back by 100 ms: the handle's block (tick T) is now ahead of it, so it
    // must not hand it out; the call waits for the clock (the manual clock's wait advances it)
    // and gives an ID of a tick the clock has reached.
    clock.set(g.layout().epoch_ms() + T - 100);
    let id = local.next_id().unwrap();
    let now = (clock_now(&clock) - g.layout().epoch_ms()) / g.layout().unit_ms();
    assert!(
        parts(&g, id).0 <= now,
        "tick {} with the clock at {now}",
        parts(&g, id).0
    );
}

fn clock_now(clock: &ManualClock) -> u64 {
    snowdrift::clock::Clock::now_ms(clock)
}
