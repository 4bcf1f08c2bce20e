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
