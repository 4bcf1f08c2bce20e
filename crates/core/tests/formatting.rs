//! Every path that writes a time can write every time it accepts (invariant 8): decoded IDs,
//! a layout's epoch and end, and error messages, including layouts whose time runs past the
//! year 9999, where RFC 3339's four-digit years stop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use snowdrift::{format_unix_ms, Error, Id, IdParts, Layout, MAX_DATE_UNIX_MS};

const NOW: u64 = 1_800_000_000_000;

/// 41/5/5/12 with one-second ticks: accepted, and it runs until the year 71 705.
fn seconds_layout() -> Layout {
    Layout::builder().unit_ms(1000).build_at(NOW).unwrap()
}

#[test]
fn decoding_an_id_from_past_the_year_9999_writes_its_time() {
    // Regression: humantime refused years past 9999 and `to_string()` panicked, on every
    // protocol's decode and on `/v1/info`.
    let layout = seconds_layout();
    let parts = IdParts {
        tick: layout.max_tick(),
        datacenter: 1,
        machine: 2,
        sequence: 3,
    };
    let id: Id = layout.compose(parts).unwrap();
    let decoded = id.parts(&layout).unwrap();
    assert_eq!(decoded.rfc3339(&layout), "+71705-04-11T01:12:31.000Z");
    assert_eq!(
        format_unix_ms(layout.end_unix_ms()),
        "+71705-04-11T01:12:31.000Z"
    );
}

#[test]
fn a_layout_shows_its_epoch() {
    assert_eq!(
        seconds_layout().to_string(),
        "41/5/5/12, epoch 2021-01-01T00:00:00.000Z, unit 1000 ms"
    );
}

#[test]
fn a_layout_may_last_up_to_the_last_writable_date_and_no_further() {
    // 1 ms ticks from 2021: 52 bits last until the year 144 734, 53 bits ~285 616.
    let longest = Layout::builder()
        .timestamp_bits(52)
        .datacenter_bits(0)
        .machine_bits(0)
        .sequence_bits(12)
        .build_at(NOW)
        .unwrap();
    assert!(longest.end_unix_ms() <= MAX_DATE_UNIX_MS);
    assert!(format_unix_ms(longest.end_unix_ms()).starts_with("+144734-05-24T"));

    let too_long = Layout::builder()
        .timestamp_bits(53)
        .datacenter_bits(0)
        .machine_bits(0)
        .sequence_bits(11)
        .build_at(NOW)
        .unwrap_err();
    assert_eq!(
        too_long,
        Error::LayoutOutlastsCalendar {
            timestamp_bits: 53,
            unit_ms: 1,
            max_timestamp_bits: 52
        }
    );
    assert!(
        too_long.to_string().contains("at most 52 timestamp bits"),
        "{too_long}"
    );

    // With one-second ticks the same limit falls at 42 bits.
    let err = Layout::builder()
        .timestamp_bits(43)
        .unit_ms(1000)
        .sequence_bits(11)
        .build_at(NOW)
        .unwrap_err();
    assert_eq!(err.code(), "layout_outlasts_calendar");
}

#[test]
fn a_hand_made_tick_beyond_the_layout_still_formats() {
    let layout = seconds_layout();
    let parts = IdParts {
        tick: u64::MAX,
        ..IdParts::default()
    };
    assert_eq!(parts.unix_ms(&layout), u64::MAX);
    assert!(parts
        .rfc3339(&layout)
        .ends_with("ms after 1970-01-01T00:00:00.000Z"));
}
