//! Property tests over the layouts at the edges of what validation accepts: zero-width fields,
//! widths summing to 63 and 64 bits, 1, 10 and 1000 ms units (and any unit up to 1000), and
//! clocks up to, at and far past the end of the layout's time, up to `u64::MAX` ms.
//!
//! Nothing panics (every decode and format path runs on every accepted layout), nothing
//! repeats (IDs strictly increase across every call), and nothing wraps (no ID's tick passes
//! the layout's last tick, and a clock past the end gets `LayoutExhausted`).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::time::Duration;

use proptest::prelude::*;
use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{
    fuzzing, Error, FieldOrder, Id, IdGenerator, Layout, LayoutSpec, Poll, DEFAULT_EPOCH_MS,
};

const NOW: u64 = 1_800_000_000_000;

/// Widths that sum to at most 64 bits, often exactly 63 or 64, any of them possibly 0 but the
/// timestamp (at least 32), with epochs and units from the edges.
fn any_spec() -> impl Strategy<Value = LayoutSpec> {
    (32u8..=64)
        .prop_flat_map(|t| {
            let sum = prop_oneof![Just(63u8), Just(64u8), t..=64u8].prop_map(move |s| s.max(t));
            (Just(t), sum)
        })
        .prop_flat_map(|(t, sum)| {
            let rest = sum - t;
            (Just(t), 0..=rest).prop_flat_map(move |(t, s)| {
                (Just(t), Just(s), 0..=rest - s).prop_map(move |(t, s, d)| (t, d, rest - s - d, s))
            })
        })
        .prop_flat_map(|(t, d, m, s)| {
            (
                Just((t, d, m, s)),
                prop_oneof![Just(0u64), Just(DEFAULT_EPOCH_MS), 0..NOW],
                prop_oneof![Just(1u64), Just(10), Just(1000), 1u64..=1000],
                prop_oneof![
                    Just(FieldOrder::TimeNodeSequence),
                    Just(FieldOrder::TimeSequenceNode)
                ],
            )
        })
        .prop_map(
            |((t, d, m, s), epoch_ms, unit_ms, field_order)| LayoutSpec {
                timestamp_bits: t,
                datacenter_bits: d,
                machine_bits: m,
                sequence_bits: s,
                epoch_ms,
                unit_ms,
                field_order,
            },
        )
}

fn any_layout() -> impl Strategy<Value = Layout> {
    any_spec().prop_filter_map("accepted by validation", |spec| spec.validate_at(NOW).ok())
}

/// Layouts a generator accepts: the timestamp and sequence leave the state word a spare bit.
fn any_generator_layout() -> impl Strategy<Value = Layout> {
    any_layout().prop_filter("timestamp + sequence <= 63", |l| {
        u32::from(l.timestamp_bits()) + u32::from(l.sequence_bits()) <= 63
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_accepted_layout_decodes_and_writes_every_id(layout in any_layout(), raw in any::<u64>(), fits in any::<bool>()) {
        let raw = if fits && layout.total_bits() < 64 { raw & ((1u64 << layout.total_bits()) - 1) } else { raw };
        let text = fuzzing::decode_and_format(&layout, Id::from_u64(raw));
        prop_assert!(!text.is_empty());
        // Its last tick is a date, not the fallback for values past the calendar.
        let end = snowdrift::format_unix_ms(layout.end_unix_ms());
        prop_assert!(!end.contains("ms after"), "{layout}: {end}");
    }

    #[test]
    fn validation_is_total_and_never_accepts_what_it_cannot_write(spec in any_spec(), now in any::<u64>()) {
        match spec.validate_at(now) {
            Ok(layout) => prop_assert!(layout.end_unix_ms() <= snowdrift::MAX_DATE_UNIX_MS),
            Err(err) => prop_assert!(!err.to_string().is_empty()),
        }
    }

    #[test]
    fn the_fuzz_entry_points_take_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = fuzzing::layout_decode_and_format(&data);
        let _ = fuzzing::parse_bytes(&data);
    }
}

#[derive(Debug, Clone)]
enum Step {
    /// Moves the clock forward by this many ticks.
    Ticks(u64),
    /// Sets the clock this many ticks past the layout's last tick.
    PastTheEnd(u64),
    /// Sets the clock to the largest time there is.
    EndOfTime,
    /// Moves the clock back by this many ticks.
    Back(u64),
    One,
    /// A block of this fraction (in 1/64) of what one call may ask for, at least one ID.
    Block(u64),
    Poll,
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u64..3).prop_map(Step::Ticks),
        1 => (0u64..(1u64 << 40)).prop_map(Step::PastTheEnd),
        1 => Just(Step::EndOfTime),
        1 => (0u64..5).prop_map(Step::Back),
        6 => Just(Step::One),
        2 => (0u64..=64).prop_map(Step::Block),
        3 => Just(Step::Poll),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn generators_at_the_end_of_time_never_repeat_wrap_or_lead_too_far(
        layout in any_generator_layout(),
        ticks_before_end in 0u64..4,
        lead in 0u64..3,
        frozen in any::<bool>(),
        steps in proptest::collection::vec(any_step(), 1..40),
    ) {
        let max_tick = layout.max_tick();
        let start = layout.unix_ms_of_tick(max_tick.saturating_sub(ticks_before_end));
        let clock = if frozen { ManualClock::frozen(start) } else { ManualClock::new(start) };
        let generator = IdGenerator::builder(layout)
            .max_lead_ticks(lead)
            .max_wait(Duration::from_millis(2_000))
            .clock(clock.clone())
            .build()
            .unwrap();
        let clock_tick = |clock: &ManualClock| clock.now_ms().saturating_sub(layout.epoch_ms()) / layout.unit_ms();
        let mut last: Option<Id> = None;
        let mut highest_clock_tick = clock_tick(&clock);
        let mut check = |id: Id, clock_now: u64| -> Result<(), TestCaseError> {
            let tick = layout.decompose(id).unwrap().tick;
            prop_assert!(tick <= max_tick, "tick {tick} past the last {max_tick}");
            prop_assert!(tick <= clock_now.saturating_add(lead), "tick {tick} leads the clock {clock_now} by more than {lead}");
            if let Some(previous) = last {
                prop_assert!(id > previous, "{id} after {previous}");
            }
            last = Some(id);
            Ok(())
        };
        let allowed = |err: &Error| matches!(err,
            Error::LayoutExhausted { .. } | Error::ClockBehind { .. } | Error::SequenceExhausted { .. });
        for step in steps {
            match step {
                Step::Ticks(n) => clock.advance(n.saturating_mul(layout.unit_ms())),
                Step::PastTheEnd(n) => clock.set(layout.unix_ms_of_tick(max_tick.saturating_add(1).saturating_add(n))),
                Step::EndOfTime => clock.set(u64::MAX),
                Step::Back(n) => clock.rewind(n.saturating_mul(layout.unit_ms())),
                Step::One => match generator.next_id() {
                    Ok(id) => { highest_clock_tick = highest_clock_tick.max(clock_tick(&clock)); check(id, highest_clock_tick)? }
                    Err(err) => prop_assert!(allowed(&err), "{err}"),
                },
                Step::Block(share) => {
                    let count = (generator.max_batch() / 64 * share).max(1);
                    match generator.next_ids(count) {
                        Ok(block) => {
                            highest_clock_tick = highest_clock_tick.max(clock_tick(&clock));
                            prop_assert_eq!(block.len() as u64, count);
                            let (first, last_id) = (block.first(), block.last_id());
                            check(first, highest_clock_tick)?;
                            if count > 1 { check(last_id, highest_clock_tick)?; }
                        }
                        Err(err) => prop_assert!(allowed(&err), "{err}"),
                    }
                }
                Step::Poll => match generator.poll_id() {
                    Ok(Poll::Ready(id)) => { highest_clock_tick = highest_clock_tick.max(clock_tick(&clock)); check(id, highest_clock_tick)? }
                    Ok(Poll::Held(held)) => {
                        clock.wait_until_ms(held.ready_at_ms());
                        if let Ok(id) = held.claim(&generator) {
                            highest_clock_tick = highest_clock_tick.max(clock_tick(&clock));
                            check(id, highest_clock_tick)?;
                        }
                    }
                    Ok(Poll::Pending { wake_at_ms, .. }) => {
                        prop_assert!(wake_at_ms <= clock.now_ms() + 2_000, "pending past max_wait");
                    }
                    Err(err) => prop_assert!(allowed(&err), "{err}"),
                },
            }
            highest_clock_tick = highest_clock_tick.max(clock_tick(&clock));
            if clock_tick(&clock) > max_tick {
                // Past the end of time nothing is issued, whatever the call.
                let after = generator.next_id();
                prop_assert!(matches!(after, Err(Error::LayoutExhausted { .. })), "{:?}", after);
            }
        }
    }
}
