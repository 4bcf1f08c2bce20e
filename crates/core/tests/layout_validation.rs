//! Every layout validation rule, the presets and the lifetime answers.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use snowdrift::{Error, IdParts, Layout, Preset, DEFAULT_EPOCH_MS};

const NOW: u64 = 1_800_000_000_000; // 2027-01-15, a fixed "now" for deterministic checks

#[test]
fn default_layout_is_the_users_design() {
    let layout = Layout::default();
    assert_eq!(
        (
            layout.timestamp_bits(),
            layout.datacenter_bits(),
            layout.machine_bits(),
            layout.sequence_bits()
        ),
        (41, 5, 5, 12)
    );
    assert_eq!(layout.epoch_ms(), DEFAULT_EPOCH_MS);
    assert_eq!(layout.unit_ms(), 1);
    assert_eq!(layout.max_datacenter(), 31);
    assert_eq!(layout.max_machine(), 31);
    assert_eq!(layout.ids_per_tick(), 4096);
    assert!(layout.keeps_sign_bit_clear());
}

#[test]
fn widths_over_64_bits_are_refused_with_the_sum() {
    let err = Layout::builder()
        .timestamp_bits(42)
        .sequence_bits(13)
        .build_at(NOW)
        .unwrap_err();
    assert_eq!(
        err,
        Error::LayoutTooWide {
            total: 65,
            timestamp: 42,
            datacenter: 5,
            machine: 5,
            sequence: 13
        }
    );
    assert!(err.to_string().contains("reduce them to 64 bits or fewer"));
}

#[test]
fn exactly_64_bits_is_accepted_but_not_sign_safe() {
    let layout = Layout::builder().timestamp_bits(42).build_at(NOW).unwrap();
    assert_eq!(layout.total_bits(), 64);
    assert!(!layout.keeps_sign_bit_clear());
}

#[test]
fn timestamp_narrower_than_32_bits_is_refused() {
    let err = Layout::builder()
        .timestamp_bits(31)
        .build_at(NOW)
        .unwrap_err();
    assert_eq!(err, Error::TimestampTooNarrow { bits: 31, min: 32 });
    assert!(Layout::builder().timestamp_bits(32).build_at(NOW).is_ok());
}

#[test]
fn epoch_in_the_future_is_refused_with_the_distance() {
    let err = Layout::builder()
        .epoch_ms(NOW + 5_000)
        .build_at(NOW)
        .unwrap_err();
    assert_eq!(
        err,
        Error::EpochInFuture {
            epoch_ms: NOW + 5_000,
            ahead_ms: 5_000
        }
    );
    assert!(err.to_string().contains("5000 ms in the future"));
    assert!(Layout::builder().epoch_ms(NOW).build_at(NOW).is_ok());
}

#[test]
fn epoch_in_the_future_is_refused_against_the_real_clock() {
    let far_future = 4_000_000_000_000; // year 2096
    assert_eq!(
        Layout::builder()
            .epoch_ms(far_future)
            .build()
            .unwrap_err()
            .code(),
        "epoch_in_future"
    );
}

#[test]
fn time_unit_must_be_between_1_and_1000_ms() {
    for unit in [0, 1001] {
        assert_eq!(
            Layout::builder().unit_ms(unit).build_at(NOW).unwrap_err(),
            Error::InvalidTimeUnit {
                unit_ms: unit,
                max: 1000
            }
        );
    }
    let sonyflake_like = Layout::builder()
        .timestamp_bits(39)
        .datacenter_bits(0)
        .machine_bits(16)
        .sequence_bits(8)
        .unit_ms(10)
        .build_at(NOW)
        .unwrap();
    assert_eq!(sonyflake_like.ids_per_second_per_worker(), 25_600);
    // 2^39 ticks of 10 ms is about 174 years, Sonyflake's figure.
    let years = sonyflake_like.lifetime().as_secs() / (365 * 24 * 3600);
    assert_eq!(years, 174);
}

#[test]
fn zero_width_fields_are_allowed_and_only_zero_fits() {
    let layout = Layout::builder()
        .timestamp_bits(40)
        .datacenter_bits(0)
        .machine_bits(0)
        .sequence_bits(23)
        .build_at(NOW)
        .unwrap();
    assert_eq!(layout.max_datacenter(), 0);
    assert_eq!(layout.workers(), 1);
    assert_eq!(
        layout.check_worker(1, 0).unwrap_err(),
        Error::DatacenterOutOfRange { value: 1, max: 0 }
    );
    assert_eq!(
        layout.check_worker(0, 1).unwrap_err(),
        Error::MachineOutOfRange { value: 1, max: 0 }
    );
}

#[test]
fn worker_ids_out_of_range_are_refused() {
    let layout = Layout::default();
    assert_eq!(
        layout.check_worker(32, 0).unwrap_err(),
        Error::DatacenterOutOfRange { value: 32, max: 31 }
    );
    assert_eq!(
        layout.check_worker(0, 32).unwrap_err(),
        Error::MachineOutOfRange { value: 32, max: 31 }
    );
    assert!(layout.check_worker(31, 31).is_ok());
}

#[test]
fn compose_refuses_every_out_of_range_field() {
    let layout = Layout::default();
    let ok = IdParts {
        tick: 1,
        datacenter: 1,
        machine: 1,
        sequence: 1,
    };
    assert!(layout.compose(ok).is_ok());
    let cases = [
        (
            IdParts {
                tick: 1 << 41,
                ..ok
            },
            "timestamp_out_of_range",
        ),
        (
            IdParts {
                datacenter: 32,
                ..ok
            },
            "datacenter_out_of_range",
        ),
        (IdParts { machine: 32, ..ok }, "machine_out_of_range"),
        (
            IdParts {
                sequence: 4096,
                ..ok
            },
            "sequence_out_of_range",
        ),
    ];
    for (parts, code) in cases {
        assert_eq!(layout.compose(parts).unwrap_err().code(), code, "{parts:?}");
    }
}

#[test]
fn decompose_refuses_ids_wider_than_the_layout() {
    let layout = Layout::default();
    let err = layout
        .decompose(snowdrift::Id::from_u64(1 << 63))
        .unwrap_err();
    assert_eq!(
        err,
        Error::IdOutOfRange {
            id: 1 << 63,
            needed: 64,
            width: 63
        }
    );
    assert!(layout
        .decompose(snowdrift::Id::from_u64(i64::MAX as u64))
        .is_ok());
}

#[test]
fn presets_have_their_documented_shapes() {
    let expect = [
        (Preset::Snowdrift, (41, 5, 5, 12), DEFAULT_EPOCH_MS, true),
        (Preset::Twitter, (41, 5, 5, 12), 1_288_834_974_657, true),
        (Preset::Discord, (42, 5, 5, 12), 1_420_070_400_000, false),
        (Preset::Instagram, (41, 0, 13, 10), 1_314_220_021_721, false),
        (Preset::Mastodon, (47, 0, 0, 16), 0, true),
        (Preset::Js53, (39, 2, 4, 8), DEFAULT_EPOCH_MS, true),
        (Preset::Sonyflake, (39, 0, 16, 8), 1_409_529_600_000, true),
    ];
    for (preset, widths, epoch, sign_safe) in expect {
        let l = preset.layout();
        assert_eq!(
            (
                l.timestamp_bits(),
                l.datacenter_bits(),
                l.machine_bits(),
                l.sequence_bits()
            ),
            widths
        );
        assert_eq!(l.epoch_ms(), epoch);
        assert_eq!(l.keeps_sign_bit_clear(), sign_safe, "{preset}");
        assert_eq!(preset.name().parse::<Preset>().unwrap(), preset);
    }
    assert_eq!("TWITTER".parse::<Preset>().unwrap(), Preset::Twitter);
    let err = "sonyflake2".parse::<Preset>().unwrap_err();
    assert!(err
        .to_string()
        .contains("snowdrift, twitter, discord, instagram, mastodon, js53, sonyflake"));
    // Only Sonyflake puts the sequence above the worker fields, in 10 ms ticks.
    for preset in Preset::ALL {
        let sonyflake = preset == Preset::Sonyflake;
        let order = preset.layout().field_order();
        assert_eq!(
            order == snowdrift::FieldOrder::TimeSequenceNode,
            sonyflake,
            "{preset}"
        );
    }
    let sonyflake = Preset::Sonyflake.layout();
    assert_eq!(sonyflake.unit_ms(), 10);
    assert_eq!(
        (
            sonyflake.sequence_shift(),
            sonyflake.machine_shift(),
            sonyflake.timestamp_shift()
        ),
        (16, 0, 24)
    );
    assert_eq!(
        sonyflake.to_string(),
        "39/0/16/8, order time_sequence_node, epoch 2014-09-01T00:00:00.000Z, unit 10 ms"
    );
}

#[test]
fn lifetime_answers_when_the_layout_runs_out() {
    let layout = Layout::default();
    assert_eq!(layout.end_unix_ms(), DEFAULT_EPOCH_MS + (1u64 << 41) - 1);
    assert_eq!(
        snowdrift::format_unix_ms(layout.end_unix_ms()),
        "2090-09-07T15:47:35.551Z"
    );
    assert_eq!(layout.lifetime().as_secs() / (365 * 24 * 3600), 69);
    assert_eq!(layout.ids_per_second_per_worker(), 4_096_000);
    assert_eq!(layout.tick_of_unix_ms(DEFAULT_EPOCH_MS - 1), None);
    assert_eq!(layout.tick_of_unix_ms(DEFAULT_EPOCH_MS + 7), Some(7));
    assert_eq!(layout.tick_of_unix_ms(layout.end_unix_ms() + 1), None);
}
