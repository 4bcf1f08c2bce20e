//! The generator's window (floor, ceiling, fence), its waits and every error path, on a manual
//! clock so that each case is exact.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::sync::Arc;
use std::time::{Duration, Instant};

use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{Error, GeneratorBuilder, IdGenerator, Layout};

const T: u64 = 10_000; // the clock's tick at the start of each test

fn layout() -> Layout {
    Layout::default()
}

fn at_t(clock: &ManualClock) -> GeneratorBuilder<ManualClock> {
    clock.set(layout().epoch_ms() + T);
    IdGenerator::builder(layout())
        .worker(1, 2)
        .clock(clock.clone())
}

fn tick_of(generator: &IdGenerator<ManualClock>, id: snowdrift::Id) -> u64 {
    id.parts(&generator.layout()).unwrap().tick
}

#[test]
fn ids_carry_the_clock_tick_and_the_worker() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    let parts = g.next_id().unwrap().parts(&layout()).unwrap();
    assert_eq!(
        (parts.tick, parts.datacenter, parts.machine, parts.sequence),
        (T, 1, 2, 0)
    );
    assert_eq!(g.next_id().unwrap().parts(&layout()).unwrap().sequence, 1);
    clock.advance(3);
    let parts = g.next_id().unwrap().parts(&layout()).unwrap();
    assert_eq!((parts.tick, parts.sequence), (T + 3, 0));
    assert_eq!((g.datacenter_id(), g.machine_id()), (1, 2));
}

#[test]
fn a_full_tick_waits_for_the_next_one_by_default() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    for _ in 0..4096 {
        assert_eq!(tick_of(&g, g.next_id().unwrap()), T);
    }
    let id = g.next_id().unwrap();
    assert_eq!(tick_of(&g, id), T + 1);
    assert_eq!(id.parts(&layout()).unwrap().sequence, 0);
    assert_eq!(
        clock.now_ms(),
        layout().epoch_ms() + T + 1,
        "the generator waited for the clock"
    );
    assert_eq!(g.exhaustion_waits(), 1);
}

#[test]
fn a_clock_that_never_moves_gives_clock_behind_not_a_hang() {
    let clock = ManualClock::frozen(0);
    let g = at_t(&clock).build().unwrap();
    for _ in 0..4096 {
        g.next_id().unwrap();
    }
    assert!(matches!(g.next_id(), Err(Error::ClockBehind { .. })));
}

#[test]
fn borrowing_is_opt_in_and_bounded_by_max_lead() {
    let clock = ManualClock::frozen(0);
    let g = at_t(&clock).max_lead_ticks(2).build().unwrap();
    let mut last_tick = 0;
    for _ in 0..3 * 4096 {
        last_tick = tick_of(&g, g.next_id().unwrap());
    }
    assert_eq!(last_tick, T + 2, "borrowed exactly two ticks ahead");
    assert!(matches!(g.next_id(), Err(Error::ClockBehind { .. })));
    assert_eq!(clock.now_ms(), layout().epoch_ms() + T);
}

#[test]
fn past_the_ceiling_is_refused_until_it_is_raised() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).ceiling(T).build().unwrap();
    assert_eq!(g.ceiling(), Some(T));
    g.next_id().unwrap();
    clock.advance(1);
    assert_eq!(
        g.next_id().unwrap_err(),
        Error::CeilingReached { ceiling: T }
    );
    assert!(g.next_id().unwrap_err().is_retryable());
    g.raise_ceiling(T + 10).unwrap();
    assert_eq!(tick_of(&g, g.next_id().unwrap()), T + 1);
}

#[test]
fn the_ceiling_only_rises() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).ceiling(T + 100).build().unwrap();
    g.raise_ceiling(T + 5).unwrap();
    assert_eq!(g.ceiling(), Some(T + 100));
    g.raise_ceiling(T + 200).unwrap();
    assert_eq!(g.ceiling(), Some(T + 200));
}

#[test]
fn exhausting_the_ceiling_tick_is_refused_rather_than_waiting_past_it() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).ceiling(T).build().unwrap();
    for _ in 0..4096 {
        g.next_id().unwrap();
    }
    assert_eq!(
        g.next_id().unwrap_err(),
        Error::CeilingReached { ceiling: T }
    );
    assert_eq!(clock.now_ms(), layout().epoch_ms() + T, "no wait happened");
}

#[test]
fn a_closed_window_issues_nothing_until_raised() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).floor(T).closed().build().unwrap();
    assert!(matches!(g.next_id(), Err(Error::CeilingReached { .. })));
    g.raise_ceiling(T).unwrap();
    assert_eq!(tick_of(&g, g.next_id().unwrap()), T);
}

#[test]
fn a_fenced_generator_stops_for_good() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    g.next_id().unwrap();
    g.fence();
    assert!(g.is_fenced());
    assert_eq!(g.next_id().unwrap_err(), Error::Fenced);
    assert_eq!(g.next_ids(10).unwrap_err(), Error::Fenced);
    assert_eq!(g.raise_ceiling(T + 1000).unwrap_err(), Error::Fenced);
    assert_eq!(g.next_id().unwrap_err(), Error::Fenced);
    assert_eq!(g.ceiling(), None);
}

#[test]
fn a_clock_slightly_behind_the_floor_is_waited_for() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock)
        .floor(T + 500)
        .max_wait(Duration::from_secs(1))
        .build()
        .unwrap();
    assert_eq!(g.clock_lag(), Duration::from_millis(500));
    assert_eq!(tick_of(&g, g.next_id().unwrap()), T + 500);
}

#[test]
fn a_clock_far_behind_the_floor_is_a_clear_error() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock)
        .floor(T + 3_600_000)
        .max_wait(Duration::from_secs(1))
        .build()
        .unwrap();
    let err = g.next_id().unwrap_err();
    assert_eq!(
        err,
        Error::ClockBehind {
            behind: Duration::from_secs(3600),
            max_wait: Duration::from_secs(1)
        }
    );
    assert!(err.to_string().contains("3600s behind"), "{err}");
    assert_eq!(
        clock.now_ms(),
        layout().epoch_ms() + T,
        "it refused without waiting"
    );
}

#[test]
fn a_backward_step_during_a_run_never_moves_ids_back() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    let before = g.next_id().unwrap();
    clock.rewind(100); // small: waited out
    let after = g.next_id().unwrap();
    assert!(after > before);
    clock.rewind(3_600_000); // an hour: refused at once, never slept on
    let rewound_to = clock.now_ms();
    assert!(matches!(g.next_id(), Err(Error::ClockBehind { .. })));
    assert_eq!(clock.now_ms(), rewound_to);
    clock.set(layout().epoch_ms() + T + 5);
    assert!(g.next_id().unwrap() > after);
}

#[test]
fn the_end_of_the_layout_is_a_typed_error_not_a_wrap() {
    let now = layout().epoch_ms() + 100 * 86_400_000; // 100 days after the epoch
    let short = Layout::builder()
        .timestamp_bits(32)
        .epoch_ms(layout().epoch_ms())
        .build()
        .unwrap();
    let max_tick = short.max_tick(); // ~49.7 days
    let exhausted = Error::LayoutExhausted {
        max_tick,
        end_unix_ms: short.end_unix_ms(),
    };
    let clock = ManualClock::new(now);
    let built = IdGenerator::builder(short).clock(clock.clone()).build();
    assert_eq!(built.unwrap_err(), exhausted, "refused when built");

    // Exactly at the last tick: its 4096 IDs are issued, then the typed error.
    clock.set(short.unix_ms_of_tick(max_tick));
    let g = IdGenerator::builder(short)
        .clock(clock.clone())
        .build()
        .unwrap();
    let mut last = 0;
    for _ in 0..4096 {
        let id = g.next_id().unwrap();
        assert!(id.as_u64() > last && id.to_i64().is_some());
        last = id.as_u64();
    }
    assert_eq!(g.next_id().unwrap_err(), exhausted);
    clock.set(now); // and a clock that runs on past the end
    assert_eq!(g.next_id().unwrap_err(), exhausted);
}

#[test]
fn batches_are_contiguous_and_bounded() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    let ids: Vec<_> = g.next_ids(10_000).unwrap().collect();
    assert_eq!(ids.len(), 10_000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(tick_of(&g, ids[0]), T);
    assert_eq!(
        tick_of(&g, ids[9_999]),
        T + 2,
        "10 000 IDs span three ticks of 4096"
    );
    assert!(g.next_id().unwrap() > ids[9_999]);
    assert_eq!(
        g.next_ids(0).unwrap_err(),
        Error::BatchOutOfRange {
            requested: 0,
            max: g.max_batch()
        }
    );
    assert!(matches!(
        g.next_ids(g.max_batch() + 1),
        Err(Error::BatchOutOfRange { .. })
    ));
}

#[test]
fn a_batch_that_would_cross_the_ceiling_is_refused_whole() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).ceiling(T).build().unwrap();
    assert!(matches!(
        g.next_ids(5000),
        Err(Error::CeilingReached { .. })
    ));
    assert_eq!(g.next_ids(4096).unwrap().count(), 4096);
}

#[test]
fn ten_millisecond_ticks_advance_every_ten_milliseconds() {
    let sonyflake = Layout::builder()
        .timestamp_bits(39)
        .datacenter_bits(0)
        .machine_bits(16)
        .sequence_bits(8)
        .unit_ms(10);
    let layout = sonyflake.build().unwrap();
    let clock = ManualClock::new(layout.epoch_ms() + 1_000);
    let g = IdGenerator::builder(layout)
        .worker(0, 7)
        .clock(clock.clone())
        .build()
        .unwrap();
    assert_eq!(g.next_id().unwrap().parts(&layout).unwrap().tick, 100);
    clock.advance(9);
    assert_eq!(g.next_id().unwrap().parts(&layout).unwrap().tick, 100);
    clock.advance(1);
    assert_eq!(g.next_id().unwrap().parts(&layout).unwrap().tick, 101);
}

#[test]
fn settings_out_of_range_are_refused() {
    let clock = ManualClock::new(0);
    assert_eq!(
        at_t(&clock).worker(32, 0).build().unwrap_err(),
        Error::DatacenterOutOfRange { value: 32, max: 31 }
    );
    assert_eq!(
        at_t(&clock).worker(0, 99).build().unwrap_err().code(),
        "machine_out_of_range"
    );
    assert_eq!(
        at_t(&clock)
            .max_lead_ticks(70_000)
            .build()
            .unwrap_err()
            .code(),
        "count_out_of_range"
    );
    assert_eq!(
        at_t(&clock)
            .ceiling_wait(Duration::from_secs(100))
            .build()
            .unwrap_err()
            .code(),
        "count_out_of_range"
    );
    assert_eq!(
        at_t(&clock).floor(1 << 41).build().unwrap_err().code(),
        "layout_exhausted"
    );
    let no_spare_bit = Layout::builder()
        .timestamp_bits(52)
        .datacenter_bits(0)
        .machine_bits(0)
        .build()
        .unwrap();
    assert_eq!(
        IdGenerator::builder(no_spare_bit).build().unwrap_err(),
        Error::LayoutUnsupportedByGenerator { bits: 64 }
    );
    assert_eq!(
        IdGenerator::new(0, 0, 4_000_000_000_000)
            .unwrap_err()
            .code(),
        "epoch_in_future"
    );
    assert_eq!(
        IdGenerator::new(0, 32, snowdrift::DEFAULT_EPOCH_MS)
            .unwrap_err()
            .code(),
        "machine_out_of_range"
    );
}

#[test]
fn a_configured_ceiling_wait_picks_up_a_raise() {
    let clock = ManualClock::new(0);
    let g = Arc::new(
        at_t(&clock)
            .closed()
            .ceiling_wait(Duration::from_secs(5))
            .build()
            .unwrap(),
    );
    let raiser = {
        let g = Arc::clone(&g);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            g.raise_ceiling(T + 10).unwrap();
        })
    };
    assert_eq!(tick_of(&g, g.next_id().unwrap()), T);
    raiser.join().unwrap();
}

#[test]
fn a_ceiling_wait_is_bounded() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock)
        .closed()
        .ceiling_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    let started = Instant::now();
    assert!(matches!(g.next_id(), Err(Error::CeilingReached { .. })));
    // A bound, not a speed: the call must return at all, and not long after its wait.
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn a_generator_is_two_cache_lines_with_the_state_alone_on_the_first() {
    // The state word, which every reservation writes, on a line of its own; the control word
    // and the layout, which every call reads, on a read-mostly line (issue 13 §1).
    assert_eq!(std::mem::size_of::<IdGenerator>(), 128);
    assert_eq!(std::mem::align_of::<IdGenerator>(), 64);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<IdGenerator>();
    send_sync::<IdGenerator<ManualClock>>();
}

#[test]
fn retrying_in_a_tight_loop_while_blocked_does_not_push_the_state_ahead() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).ceiling(T).build().unwrap();
    for _ in 0..4096 {
        g.next_id().unwrap();
    }
    // A caller hammering a full window: every call fails, and none may reserve.
    for _ in 0..100_000 {
        assert!(matches!(g.next_id(), Err(Error::CeilingReached { .. })));
    }
    assert!(
        g.next_tick() <= T + 1,
        "the state ran ahead to tick {}",
        g.next_tick()
    );
    g.raise_ceiling(T + 100).unwrap();
    clock.advance(1);
    assert_eq!(
        tick_of(&g, g.next_id().unwrap()),
        T + 1,
        "IDs resume at the clock, not in the future"
    );
}

#[test]
fn a_fence_stops_the_optimistic_path_too() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    g.next_id().unwrap(); // this thread's last call succeeded: the next takes the fast path
    g.fence();
    assert_eq!(g.next_id().unwrap_err(), Error::Fenced);
    assert_eq!(g.next_id().unwrap_err(), Error::Fenced);
}

/// `next_id` reserves with a bare `fetch_add` while the state's next value is known usable at
/// the clock's tick. The call that takes a tick's last value must end that, so that a poll
/// after it reserves nothing: Pending, and the next tick still starts at sequence 0.
#[test]
fn the_call_that_takes_a_ticks_last_value_ends_the_one_fetch_add_path() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    for sequence in 0..4096 {
        let parts = g.next_id().unwrap().parts(&layout()).unwrap();
        assert_eq!((parts.tick, parts.sequence), (T, sequence));
    }
    for _ in 0..3 {
        match g.poll_id().unwrap() {
            snowdrift::Poll::Pending { tick, .. } => assert_eq!(tick, T + 1),
            other => panic!("a poll at a full tick reserved: {other:?}"),
        }
    }
    clock.advance(1);
    let parts = g.next_id().unwrap().parts(&layout()).unwrap();
    assert_eq!((parts.tick, parts.sequence), (T + 1, 0));
}

/// A call after a fence reserves nothing, on the one-`fetch_add` path too. One value is left
/// in tick T, so a single burned reservation would move the state to tick T + 1.
#[test]
fn calls_after_a_fence_reserve_nothing() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    for _ in 0..4095 {
        g.next_id().unwrap();
    }
    assert_eq!(g.fence(), Some(T));
    for _ in 0..3 {
        assert_eq!(g.next_id().unwrap_err(), Error::Fenced);
        assert_eq!(g.poll_id().unwrap_err(), Error::Fenced);
    }
    assert_eq!(g.next_tick(), T, "a call after the fence reserved a value");
    assert_eq!(g.fence(), Some(T));
}

#[test]
fn fence_returns_the_last_tick_that_was_issued() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    g.next_id().unwrap();
    clock.advance(7);
    let last = g.next_ids(5000).unwrap().last_id(); // ends in tick T + 8
    assert_eq!(g.fence(), Some(tick_of(&g, last)));
    assert_eq!(tick_of(&g, last), T + 8);
    // Asked again, the answer is still a bound on everything issued.
    assert_eq!(g.fence(), Some(T + 8));
    assert_eq!(g.next_id().unwrap_err(), Error::Fenced);
}

#[test]
fn fence_with_nothing_issued_says_so_or_returns_the_previous_mark() {
    let clock = ManualClock::new(0);
    assert_eq!(at_t(&clock).build().unwrap().fence(), None, "floor 0");
    assert_eq!(
        at_t(&clock).floor(T).build().unwrap().fence(),
        Some(T - 1),
        "nothing above the previous holder's mark T - 1"
    );
    assert_eq!(
        at_t(&clock).floor(T).closed().build().unwrap().fence(),
        None,
        "a closed window never issued"
    );
}

/// A layout whose timestamp and sequence fill 63 bits: the state word has no bit to spare.
fn sixty_three_bit_state() -> Layout {
    Layout::builder()
        .timestamp_bits(40)
        .datacenter_bits(0)
        .machine_bits(1)
        .sequence_bits(23)
        .build_at(layout().epoch_ms() + 1_000)
        .unwrap()
}

#[test]
fn a_clock_past_the_end_of_a_63_bit_state_is_refused_not_wrapped() {
    // Regression: the jump to a new tick built `now << sequence_bits` before checking the
    // limit, so a clock 2^41 ticks past the epoch lost its high bits and the generator issued
    // its first ID again.
    let layout = sixty_three_bit_state();
    let clock = ManualClock::new(layout.epoch_ms() + 1_000);
    let g = IdGenerator::builder(layout)
        .clock(clock.clone())
        .build()
        .unwrap();
    let first = g.next_id().unwrap();
    clock.set(layout.epoch_ms() + (1u64 << 41) + 1_000);
    match g.next_id() {
        Err(Error::LayoutExhausted { max_tick, .. }) => assert_eq!(max_tick, layout.max_tick()),
        other => panic!("expected LayoutExhausted, got {other:?} (first id {first})"),
    }
    assert!(
        g.next_tick() <= 1_001,
        "the state moved to tick {}",
        g.next_tick()
    );
}

#[test]
fn a_layout_whose_time_already_ran_out_is_refused_when_the_generator_is_built() {
    // 38-bit milliseconds from 2010-01-01 ran out on 2018-09-17.
    let ended = Layout::builder()
        .timestamp_bits(38)
        .epoch_ms(1_262_304_000_000)
        .build()
        .unwrap();
    let err = IdGenerator::builder(ended).build().unwrap_err();
    assert_eq!(err.code(), "layout_exhausted");
    assert!(
        err.to_string().contains("2018-09-17T10:58:26.943Z"),
        "the message names the date: {err}"
    );
    // Decoding its IDs still works: the layout itself is valid.
    let id = ended
        .compose(snowdrift::IdParts {
            tick: 5,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(id.parts(&ended).unwrap().tick, 5);
}

#[test]
fn next_ids_into_fills_a_slice_with_what_next_ids_would_give() {
    let clock = ManualClock::new(0);
    let g = at_t(&clock).build().unwrap();
    let mut buffer = vec![snowdrift::Id::default(); 5000]; // spans two ticks of 4096
    g.next_ids_into(&mut buffer).unwrap();
    assert!(buffer.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(
        (tick_of(&g, buffer[0]), tick_of(&g, buffer[4999])),
        (T, T + 1)
    );
    let next: Vec<_> = g.next_ids(10).unwrap().collect();
    assert!(next[0] > buffer[4999]);
    // The count is the slice's length, checked as next_ids checks it; nothing is written.
    let mut empty: [snowdrift::Id; 0] = [];
    assert!(matches!(
        g.next_ids_into(&mut empty),
        Err(Error::BatchOutOfRange { requested: 0, .. })
    ));
    let mut huge = vec![snowdrift::Id::default(); (g.max_batch() + 1) as usize];
    assert!(g.next_ids_into(&mut huge).is_err());
    assert!(huge.iter().all(|id| id.as_u64() == 0));
}
