//! Property tests: layouts round-trip, parsers never panic, and no sequence of clock moves makes
//! the generator repeat, go backwards or leave its window.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use proptest::prelude::*;
use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{Encoding, Error, Id, IdGenerator, IdParts, Layout, Preset};

const NOW: u64 = 1_800_000_000_000;

fn any_layout() -> impl Strategy<Value = Layout> {
    (
        32u8..=64,
        0u8..=16,
        0u8..=16,
        0u8..=22,
        0u64..1_700_000_000_000,
        prop_oneof![Just(1u64), Just(10), 1u64..=1000],
    )
        .prop_filter_map("fits in 64 bits", |(t, d, m, s, epoch, unit)| {
            Layout::builder()
                .timestamp_bits(t)
                .datacenter_bits(d)
                .machine_bits(m)
                .sequence_bits(s)
                .epoch_ms(epoch)
                .unit_ms(unit)
                .build_at(NOW)
                .ok()
        })
}

fn any_layout_and_parts() -> impl Strategy<Value = (Layout, IdParts)> {
    prop_oneof![
        any_layout(),
        proptest::sample::select(Preset::ALL.to_vec()).prop_map(Preset::layout)
    ]
    .prop_flat_map(|layout| {
        let parts = (
            0..=layout.max_tick(),
            0..=layout.max_datacenter(),
            0..=layout.max_machine(),
            0..=layout.max_sequence(),
        )
            .prop_map(|(tick, datacenter, machine, sequence)| IdParts {
                tick,
                datacenter,
                machine,
                sequence,
            });
        (Just(layout), parts)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compose_and_decompose_are_mirror_images((layout, parts) in any_layout_and_parts()) {
        let id = layout.compose(parts).unwrap();
        prop_assert_eq!(layout.decompose(id).unwrap(), parts);
        if layout.keeps_sign_bit_clear() {
            prop_assert!(id.to_i64().is_some());
        }
    }

    #[test]
    fn every_id_that_fits_a_layout_round_trips(layout in any_layout(), raw in any::<u64>()) {
        let id = Id::from_u64(if layout.total_bits() >= 64 { raw } else { raw & ((1u64 << layout.total_bits()) - 1) });
        let parts = layout.decompose(id).unwrap();
        prop_assert_eq!(layout.compose(parts).unwrap(), id);
    }

    #[test]
    fn decoding_any_u64_gives_parts_or_a_typed_error(layout in any_layout(), raw in any::<u64>()) {
        match layout.decompose(Id::from_u64(raw)) {
            Ok(parts) => prop_assert_eq!(layout.compose(parts).unwrap().as_u64(), raw),
            Err(err) => prop_assert!(matches!(err, Error::IdOutOfRange { .. }), "{err}"),
        }
    }

    #[test]
    fn encodings_round_trip_and_sort_like_the_number(a in any::<u64>(), b in any::<u64>()) {
        for enc in Encoding::ALL {
            let (ea, eb) = (enc.encode(Id::from_u64(a)), enc.encode(Id::from_u64(b)));
            prop_assert_eq!(enc.decode(&ea).unwrap(), Id::from_u64(a));
            // `detect` applies its documented rules in order; a fixed-width form that also
            // matches an earlier rule (0x-prefixed hex, all digits) is read by that rule.
            let prefixed_hex = (ea.starts_with("0x") || ea.starts_with("0X"))
                && ea[2..].bytes().all(|b| b.is_ascii_hexdigit());
            let expected = if prefixed_hex {
                Encoding::Hex.decode(&ea).ok()
            } else if ea.bytes().all(|b| b.is_ascii_digit()) {
                Encoding::Decimal.decode(&ea).ok()
            } else {
                Some(Id::from_u64(a))
            };
            prop_assert_eq!(Encoding::detect(&ea).ok(), expected, "{} {}", enc, ea);
            if enc != Encoding::Decimal {
                prop_assert_eq!(ea.cmp(&eb), a.cmp(&b), "{} sorts like the number", enc);
            }
        }
    }

    #[test]
    fn parsers_never_panic_on_any_string(text in ".{0,40}") {
        for enc in Encoding::ALL {
            if let Err(err) = enc.decode(&text) {
                prop_assert_eq!(err.code(), "invalid_id");
            }
        }
        let _ = Encoding::detect(&text);
        let _ = text.parse::<Id>();
        let _ = text.parse::<Preset>();
        let _ = text.parse::<Encoding>();
    }

    #[test]
    fn parsers_never_panic_on_id_like_strings(text in "(0x)?[0-9A-Za-z]{0,22}") {
        match Encoding::detect(&text) {
            Ok(id) => prop_assert!(Encoding::ALL.iter().any(|e| e.decode(&text).ok() == Some(id) || e.decode(text.trim_start_matches("0x")).ok() == Some(id))),
            Err(err) => prop_assert_eq!(err.code(), "invalid_id"),
        }
    }
}

#[derive(Debug, Clone)]
enum Step {
    Advance(u64),
    Rewind(u64),
    Jump(u64),
    Stuck,
    One,
    Many(u64),
    Raise(u64),
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (0u64..50).prop_map(Step::Advance),
        2 => (0u64..5_000).prop_map(Step::Rewind),
        1 => (0u64..(1u64 << 42)).prop_map(Step::Jump),
        1 => Just(Step::Stuck),
        6 => Just(Step::One),
        3 => (1u64..20_000).prop_map(Step::Many),
        2 => (0u64..100).prop_map(Step::Raise),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_clock_moves_make_ids_repeat_or_leave_the_window(
        steps in proptest::collection::vec(any_step(), 1..60),
        frozen in any::<bool>(),
        lead in 0u64..3,
        floor_offset in 0u64..2_000,
        window in 0u64..200,
    ) {
        // A short sequence field makes ticks fill up and forces waits and lead.
        let layout = Layout::builder().sequence_bits(4).build_at(NOW).unwrap();
        let start = 50_000u64;
        let clock = if frozen { ManualClock::frozen(layout.epoch_ms() + start) } else { ManualClock::new(layout.epoch_ms() + start) };
        let floor = start + floor_offset;
        let mut ceiling = floor + window;
        let generator = IdGenerator::builder(layout)
            .worker(3, 4)
            .floor(floor)
            .ceiling(ceiling)
            .max_lead_ticks(lead)
            .clock(clock.clone())
            .build()
            .unwrap();
        let mut last: Option<Id> = None;
        let mut check = |id: Id, ceiling: u64| -> Result<(), TestCaseError> {
            let parts = layout.decompose(id).unwrap();
            prop_assert!(parts.tick >= floor, "tick {} below floor {}", parts.tick, floor);
            prop_assert!(parts.tick <= ceiling, "tick {} above ceiling {}", parts.tick, ceiling);
            prop_assert_eq!((parts.datacenter, parts.machine), (3, 4));
            let clock_tick = (clock.now_ms() - layout.epoch_ms()) / layout.unit_ms();
            prop_assert!(parts.tick <= clock_tick.max(floor) + lead + 1, "lead beyond bound");
            if let Some(previous) = last {
                prop_assert!(id > previous, "{id} after {previous}");
            }
            last = Some(id);
            Ok(())
        };
        let allowed = |err: &Error| matches!(err, Error::ClockBehind { .. } | Error::SequenceExhausted { .. } | Error::CeilingReached { .. } | Error::LayoutExhausted { .. });
        for step in steps {
            match step {
                Step::Advance(ms) => clock.advance(ms),
                Step::Rewind(ms) => clock.rewind(ms),
                Step::Jump(ms) => clock.set(layout.epoch_ms() + ms),
                Step::Stuck => {}
                Step::One => match generator.next_id() {
                    Ok(id) => check(id, ceiling)?,
                    Err(err) => prop_assert!(allowed(&err), "{err}"),
                },
                Step::Many(n) => match generator.next_ids(n.min(generator.max_batch())) {
                    Ok(block) => for id in block { check(id, ceiling)?; },
                    Err(err) => prop_assert!(allowed(&err), "{err}"),
                },
                Step::Raise(by) => {
                    ceiling += by;
                    generator.raise_ceiling(ceiling).unwrap();
                }
            }
        }
    }
}

/// One step of the handle property: a call through one of three sources, a clock move, a
/// raise of the ceiling.
#[derive(Debug, Clone)]
enum HandleStep {
    /// An ID from handle 0 or 1 (`local()`), or from the generator itself (2).
    Take(usize),
    /// A block of `n` from the generator.
    Many(u64),
    Advance(u64),
    Rewind(u64),
    Raise(u64),
}

fn any_handle_step() -> impl Strategy<Value = HandleStep> {
    prop_oneof![
        12 => (0usize..3).prop_map(HandleStep::Take),
        1 => (1u64..40).prop_map(HandleStep::Many),
        3 => (0u64..4).prop_map(HandleStep::Advance),
        1 => (0u64..30).prop_map(HandleStep::Rewind),
        1 => (0u64..20).prop_map(HandleStep::Raise),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Per-thread handles keep the generator's guarantees whatever the clock does: no ID is
    /// given twice, each source's IDs increase, every ID is inside the window, within the lead
    /// of the clock and not older than the clock's tick when it was asked for; the fence's
    /// bound covers every ID, and after it no handle gives one.
    #[test]
    fn handles_never_repeat_leave_the_window_or_outlive_the_fence(
        steps in proptest::collection::vec(any_handle_step(), 1..300),
        frozen in any::<bool>(),
        lead in 0u64..3,
        max_block in 1u64..40,
        window in 0u64..60,
    ) {
        // 16 IDs a tick, so blocks cross ticks and ticks fill up.
        let layout = Layout::builder().sequence_bits(4).build_at(NOW).unwrap();
        let start = 50_000u64;
        let clock = if frozen { ManualClock::frozen(layout.epoch_ms() + start) } else { ManualClock::new(layout.epoch_ms() + start) };
        let mut ceiling = start + window;
        let generator = IdGenerator::builder(layout)
            .floor(start)
            .ceiling(ceiling)
            .max_lead_ticks(lead)
            .clock(clock.clone())
            .build()
            .unwrap();
        let mut handles = [generator.local().with_max_block(max_block), generator.local().with_max_block(max_block)];
        let tick_now = || (clock.now_ms().saturating_sub(layout.epoch_ms())) / layout.unit_ms();
        let mut seen = std::collections::HashSet::new();
        let mut last: [Option<Id>; 3] = [None; 3];
        let mut highest = None;
        let allowed = |err: &Error| matches!(err, Error::ClockBehind { .. } | Error::SequenceExhausted { .. } | Error::CeilingReached { .. });
        for step in steps {
            match step {
                HandleStep::Take(source) => {
                    let before = tick_now();
                    let result = if source < 2 { handles[source].next_id() } else { generator.next_id() };
                    match result {
                        Ok(id) => {
                            let tick = layout.decompose(id).unwrap().tick;
                            prop_assert!(seen.insert(id), "{id} given twice");
                            prop_assert!(last[source].is_none_or(|l| id > l), "source {source} went back");
                            last[source] = Some(id);
                            prop_assert!(tick >= start && tick <= ceiling, "tick {tick} outside [{start}, {ceiling}]");
                            prop_assert!(tick <= tick_now() + lead, "tick {tick} beyond the lead of {}", tick_now());
                            prop_assert!(tick >= before, "tick {tick} older than the clock's {before}");
                            highest = highest.max(Some(tick));
                        }
                        Err(err) => prop_assert!(allowed(&err), "{err}"),
                    }
                }
                HandleStep::Many(n) => {
                    if let Ok(block) = generator.next_ids(n.min(generator.max_batch())) {
                        for id in block {
                            prop_assert!(seen.insert(id), "{id} given twice");
                            highest = highest.max(Some(layout.decompose(id).unwrap().tick));
                        }
                    }
                }
                HandleStep::Advance(ms) => clock.advance(ms),
                HandleStep::Rewind(ms) => clock.rewind(ms),
                HandleStep::Raise(by) => {
                    ceiling += by;
                    generator.raise_ceiling(ceiling).unwrap();
                }
            }
        }
        let bound = generator.fence();
        if let Some(highest) = highest {
            prop_assert!(bound.is_some_and(|b| b >= highest), "fence said {bound:?}, {highest} was issued");
        }
        for handle in &mut handles {
            prop_assert_eq!(handle.next_id().unwrap_err(), Error::Fenced);
        }
    }
}
