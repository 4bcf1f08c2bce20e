//! serde: IDs travel as decimal strings by default, read back from strings or numbers, and bad
//! input is an error, not a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use snowdrift::{Id, Layout, LayoutSpec, Preset};

#[test]
fn id_serializes_as_a_decimal_string() {
    let id = Id::from_u64(1_288_834_974_657_123_456);
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        "\"1288834974657123456\""
    );
}

#[test]
fn id_deserializes_from_string_or_number() {
    let from_string: Id = serde_json::from_str("\"18446744073709551615\"").unwrap();
    assert_eq!(from_string, Id::from_u64(u64::MAX));
    let from_number: Id = serde_json::from_str("42").unwrap();
    assert_eq!(from_number, Id::from_u64(42));
}

#[test]
fn bad_ids_are_errors() {
    for text in [
        "\"\"",
        "\"-1\"",
        "-1",
        "\"abc\"",
        "1.5",
        "null",
        "\"18446744073709551616\"",
    ] {
        assert!(
            serde_json::from_str::<Id>(text).is_err(),
            "{text} should not parse"
        );
    }
}

#[test]
fn layout_round_trips_and_is_validated_on_read() {
    let layout = Preset::Discord.layout();
    let json = serde_json::to_string(&layout).unwrap();
    assert_eq!(serde_json::from_str::<Layout>(&json).unwrap(), layout);

    let mut spec = LayoutSpec::from(Layout::default());
    spec.timestamp_bits = 50;
    let too_wide = serde_json::to_string(&spec).unwrap();
    let err = serde_json::from_str::<Layout>(&too_wide).unwrap_err();
    assert!(err.to_string().contains("reduce them to 64 bits"), "{err}");
}
