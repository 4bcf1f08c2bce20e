//! `snowdrift migrate check` on the real binary, with published IDs of the presets as the
//! legacy maxima: the verdict, its exit code (0 safe, 1 can collide, 2 bad input) and the JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::run;

/// Twitter API v1.1's Tweet object example ("created_at": "Wed Oct 10 20:19:24 +0000 2018").
const TWEET: &str = "1050118621198921728";
/// Discord's "Snowflakes" documentation example (2016-04-30T11:18:25.796Z).
const DISCORD: &str = "175928847299117063";

fn json(args: &[&str]) -> (i32, serde_json::Value) {
    let mut all = vec!["migrate", "check", "--json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|err| panic!("{all:?}: not JSON ({err}): {out:?}"));
    (out.code(), value)
}

#[test]
fn staying_on_the_legacy_layout_is_safe_and_exits_zero() {
    let (code, report) = json(&[
        "--legacy",
        "twitter",
        "--legacy-max",
        TWEET,
        "--layout",
        "twitter",
    ]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["can_collide"], false);
    assert_eq!(report["sorts_above_now"], true);
    assert!(report["legacy_max_time"]
        .as_str()
        .unwrap()
        .starts_with("2018-10-10T20:19:24."));
    let (code, report) = json(&[
        "--legacy",
        "discord",
        "--legacy-max",
        DISCORD,
        "--layout",
        "discord",
    ]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["legacy_max_time"], "2016-04-30T11:18:25.796Z");
}

#[test]
fn a_later_epoch_can_collide_exits_one_and_says_how_to_fix_it() {
    let out = run(&[
        "migrate",
        "check",
        "--legacy",
        "twitter",
        "--legacy-max",
        TWEET,
    ]);
    assert_eq!(out.code(), 1, "{out:?}");
    assert!(out.stdout.contains("collide     yes"), "{}", out.stdout);
    assert!(out.stdout.contains("epoch_ms = "), "{}", out.stdout);
    assert!(
        out.stderr
            .contains("can repeat IDs of twitter up to 1050118621198921728"),
        "{}",
        out.stderr
    );

    // The suggested epoch, written as explicit widths, passes the same check.
    let (_, report) = json(&["--legacy", "twitter", "--legacy-max", TWEET]);
    let epoch = report["suggested_epoch_ms"].as_u64().unwrap();
    let target = format!("41/5/5/12@{epoch}");
    let (code, fixed) = json(&[
        "--legacy",
        "twitter",
        "--legacy-max",
        TWEET,
        "--layout",
        &target,
    ]);
    assert_eq!(code, 0, "{fixed}");
    assert_eq!(fixed["target_layout"], target.as_str());
}

#[test]
fn bad_input_is_a_one_line_usage_error() {
    for (args, needle) in [
        (
            vec!["--legacy", "tweeter", "--legacy-max", "1"],
            "neither a preset",
        ),
        (
            vec!["--legacy", "twitter", "--legacy-max", "-5"],
            "--legacy-max",
        ),
        (
            vec!["--legacy", "41/5/5@0", "--legacy-max", "1"],
            "four numbers",
        ),
        // Bit 63 is set: no ID of the 63-bit default layout.
        (
            vec![
                "--legacy",
                "snowdrift",
                "--legacy-max",
                "9223372036854775808",
            ],
            "not an ID of the legacy layout",
        ),
    ] {
        let mut all = vec!["migrate", "check"];
        all.extend_from_slice(&args);
        let out = run(&all);
        assert_eq!(out.code(), 2, "{all:?}: {out:?}");
        assert_eq!(
            out.stderr.trim().lines().count(),
            1,
            "{all:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(needle), "{all:?}: {}", out.stderr);
    }
}
