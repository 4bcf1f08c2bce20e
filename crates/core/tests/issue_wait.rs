//! `issue_wait`, the generator's own readiness judgement, agrees with what a call would do: for
//! any sequence of reservations, clock moves, ceiling raises and fences, `issue_wait()` is
//! `Ok(zero)` exactly when `poll_id()` then answers Ready, `Ok(w)` exactly when it answers
//! Pending at `now + w` (never more than `max_wait`), and an error exactly when it fails with
//! the same code. It reserves nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration;

use proptest::prelude::*;
use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{IdGenerator, Layout, Poll};

#[derive(Debug, Clone)]
enum Step {
    Advance(u64),
    Reserve(u64),
    Raise(u64),
    Fence,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0u64..4).prop_map(Step::Advance),
        8 => (1u64..40).prop_map(Step::Reserve),
        2 => (0u64..300).prop_map(Step::Raise),
        1 => Just(Step::Fence),
    ]
}

proptest! {
    #[test]
    fn issue_wait_says_what_a_call_would_do(
        sequence_bits in 1u8..4,
        lead in 0u64..3,
        max_wait_ms in 0u64..6,
        unit_ms in prop_oneof![Just(1u64), Just(10)],
        floor in 0u64..120,
        ceiling in 0u64..200,
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let layout = Layout::builder()
            .timestamp_bits(41)
            .machine_bits(15 - sequence_bits)
            .sequence_bits(sequence_bits)
            .unit_ms(unit_ms)
            .build()
            .unwrap();
        let start = layout.unix_ms_of_tick(100);
        let clock = ManualClock::frozen(start);
        let generator = IdGenerator::builder(layout)
            .floor(floor)
            .ceiling(ceiling)
            .max_lead_ticks(lead)
            .max_wait(Duration::from_millis(max_wait_ms * unit_ms))
            .clock(clock.clone())
            .build()
            .unwrap();
        for step in steps {
            match step {
                Step::Advance(ticks) => clock.advance(ticks * unit_ms),
                Step::Reserve(count) => {
                    let _ = generator.poll_ids(count.min(generator.max_batch()));
                }
                Step::Raise(tick) => {
                    let _ = generator.raise_ceiling(tick);
                }
                Step::Fence => {
                    let _ = generator.fence();
                }
            }
            let before = generator.next_tick();
            let judged = generator.issue_wait();
            prop_assert_eq!(generator.next_tick(), before, "issue_wait reserved something");
            let now = clock.now_ms();
            match (judged, generator.poll_id()) {
                (Ok(wait), Ok(Poll::Ready(_))) => prop_assert_eq!(wait, Duration::ZERO),
                (Ok(wait), Ok(Poll::Pending { wake_at_ms, .. })) => {
                    prop_assert!(wait > Duration::ZERO);
                    prop_assert!(wait <= Duration::from_millis(max_wait_ms * unit_ms));
                    prop_assert_eq!(now + wait.as_millis() as u64, wake_at_ms);
                }
                (Err(judged), Err(called)) => prop_assert_eq!(judged.code(), called.code()),
                (judged, called) => {
                    prop_assert!(false, "issue_wait said {:?} but poll_id answered {:?}", judged, called);
                }
            }
        }
    }
}
