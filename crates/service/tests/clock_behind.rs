//! A restart behind the slot's persisted mark, through the real binary (issue 14 §1): a first
//! run on the real clock issues IDs and stops cleanly (its mark is then the last tick it
//! issued), and a second run on the same state directory starts with its wall clock set back
//! by libfaketime, 10 s, 1 h or 2 h, under `--clock-behind wait` and `advance`.
//!
//! What is checked: no ID of the second run repeats or falls below one of the first; under
//! `advance` every ID's timestamp leads the (faked) wall clock by at most the initial gap, the
//! slew converges at its rate, and a gap over `--max-clock-lead` is refused naming both
//! settings; under `wait` a short gap is waited for and a long one refused.
//!
//! libfaketime is preloaded into the second run only (`FAKETIME_DONT_FAKE_MONOTONIC=1`: the
//! wall clock is set back, the monotonic clock is left alone, as on a host whose clock was
//! corrected before the process started). Its offset is exact, so the second run's wall clock
//! is the test's clock minus the offset.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{get, get_json, libfaketime, ServerBuilder};
use snowdrift::{Id, Layout};

/// The first run: real clock, a few hundred IDs, a clean stop. Returns its IDs.
fn first_run(dir: &Path) -> Vec<u64> {
    let mut server = ServerBuilder::on(dir).start();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.extend(fetch(&server.url("/v1/ids?count=100")));
    }
    server.signal("TERM");
    assert!(server.wait(Duration::from_secs(10)).success());
    ids
}

/// The second run, its wall clock `offset_s` seconds behind the test's.
fn behind(dir: &Path, offset_s: u64) -> ServerBuilder {
    ServerBuilder::on(dir)
        .env("LD_PRELOAD", libfaketime())
        .env("FAKETIME", format!("-{offset_s}s"))
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("FAKETIME_DONT_RESET", "1")
}

fn fetch(url: &str) -> Vec<u64> {
    let (status, json) = get_json(url);
    assert_eq!(status, 200, "{json}");
    json["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().parse().unwrap())
        .collect()
}

fn unix_ms(id: u64) -> u64 {
    let layout = Layout::default();
    layout.unix_ms_of_tick(Id::from(id).parts(&layout).unwrap().tick)
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Every ID of `later` is above every ID of `earlier`, strictly increasing, and none repeats.
fn assert_no_repeat(earlier: &[u64], later: &[u64]) {
    let highest = earlier.iter().max().unwrap();
    assert!(
        later.iter().all(|id| id > highest),
        "an ID at or below the first run's"
    );
    assert!(
        later.windows(2).all(|w| w[0] < w[1]),
        "not strictly increasing"
    );
    let all: HashSet<u64> = earlier.iter().chain(later).copied().collect();
    assert_eq!(all.len(), earlier.len() + later.len(), "a repeated ID");
}

/// The advanced clock's state from `/v1/info`: (initial lead, lead now), in ms.
fn advance_of(url: &str) -> (u64, u64) {
    let (_, info) = get_json(url);
    let advance = &info["coordination"]["clock_advance"];
    assert!(advance.is_object(), "no clock_advance in /v1/info: {info}");
    let lead = info["coordination"]["clock_lead_ms"].as_u64().unwrap();
    assert_eq!(advance["lead_ms"].as_u64().unwrap(), lead);
    (advance["initial_lead_ms"].as_u64().unwrap(), lead)
}

fn refused(builder: ServerBuilder) -> String {
    let started = Instant::now();
    let failed = builder.try_start().err().expect("start-up must be refused");
    assert_ne!(failed.code(), 0);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "refused up front"
    );
    failed.stderr
}

#[test]
fn advance_10s_behind_starts_at_once_leads_within_the_gap_and_converges() {
    let dir = tempfile::tempdir().unwrap();
    let first = first_run(dir.path());
    // 95%: the ID clock runs at 5% of real speed and meets the wall clock after gap / 0.95.
    let started = Instant::now();
    let server = behind(dir.path(), 10)
        .args(["--clock-behind", "advance", "--clock-slew", "95%"])
        .start();
    let info_url = server.url("/v1/info");
    let (initial, _) = advance_of(&info_url);
    assert!(
        (9_000..=10_500).contains(&initial),
        "initial lead {initial} ms"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "did not start at once"
    );
    let metrics = get(&server.url("/metrics")).2;
    assert!(
        metrics.contains("snowdrift_clock_advance_slew_ratio 0.95"),
        "{metrics}"
    );
    assert!(metrics.contains("snowdrift_clock_advance_lead_seconds"));

    let mut second = Vec::new();
    let converged = loop {
        let ids = fetch(&server.url("/v1/ids?count=10"));
        let wall_after = now_ms() - 10_000;
        for id in &ids {
            assert!(
                unix_ms(*id) <= wall_after + initial + 1,
                "ID at {} leads the faked wall clock {wall_after} by more than {initial} ms",
                unix_ms(*id)
            );
        }
        second.extend(ids);
        if advance_of(&info_url).1 == 0 {
            break started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "never converged"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    // Not sooner than the rate allows (less the start-up, which the clock already slewed in).
    let least = Duration::from_millis(initial * 100 / 95);
    assert!(
        converged + Duration::from_millis(500) >= least,
        "converged after {converged:?}"
    );
    // From then on the IDs follow the (faked) wall clock.
    std::thread::sleep(Duration::from_millis(100));
    let ids = fetch(&server.url("/v1/ids?count=10"));
    let lag = (now_ms() - 10_000).abs_diff(unix_ms(ids[0]));
    assert!(
        lag < 1_000,
        "{lag} ms from the faked wall clock after converging"
    );
    second.extend(ids);
    assert_no_repeat(&first, &second);
    let log = server.stderr();
    assert!(
        log.contains("--clock-behind advance") && log.contains("lead_ms"),
        "{log}"
    );
    assert!(log.contains("has met the wall clock"), "{log}");
}

#[test]
fn advance_an_hour_behind_starts_at_once_within_the_default_bound() {
    let dir = tempfile::tempdir().unwrap();
    let first = first_run(dir.path());
    let server = behind(dir.path(), 3_600)
        .args(["--clock-behind", "advance"])
        .start();
    let info_url = server.url("/v1/info");
    let (initial, lead) = advance_of(&info_url);
    assert!(
        (3_590_000..=3_600_000).contains(&initial),
        "initial lead {initial}"
    );
    assert!(lead <= initial);
    let (_, info) = get_json(&info_url);
    assert_eq!(info["coordination"]["clock_advance"]["slew_percent"], 1.0);
    let mut second = Vec::new();
    for _ in 0..5 {
        let ids = fetch(&server.url("/v1/ids?count=100"));
        let wall_after = now_ms() - 3_600_000;
        assert!(ids
            .iter()
            .all(|id| unix_ms(*id) <= wall_after + initial + 1));
        second.extend(ids);
    }
    assert_no_repeat(&first, &second);
    let metrics = get(&server.url("/metrics")).2;
    assert!(
        metrics.contains("snowdrift_clock_advance_slew_ratio 0.01"),
        "{metrics}"
    );
}

#[test]
fn advance_two_hours_behind_is_refused_naming_both_settings_unless_the_bound_allows() {
    let dir = tempfile::tempdir().unwrap();
    let first = first_run(dir.path());
    let stderr = refused(behind(dir.path(), 7_200).args(["--clock-behind", "advance"]));
    for needle in [
        "--max-clock-lead (1h)",
        "--clock-behind",
        "behind the high-water mark",
    ] {
        assert!(stderr.contains(needle), "{needle:?} missing: {stderr}");
    }
    // With a bound above the gap it starts, and still repeats nothing.
    let server = behind(dir.path(), 7_200)
        .args(["--clock-behind", "advance", "--max-clock-lead", "3h"])
        .start();
    let (initial, _) = advance_of(&server.url("/v1/info"));
    assert!(
        (7_190_000..=7_200_000).contains(&initial),
        "initial lead {initial}"
    );
    let second = fetch(&server.url("/v1/ids?count=100"));
    assert_no_repeat(&first, &second);
}

#[test]
fn wait_10s_behind_waits_when_the_start_up_wait_allows_and_refuses_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let first = first_run(dir.path());
    // The default 5 s start-up wait: refused, and the message points at `advance`.
    let stderr = refused(behind(dir.path(), 10));
    for needle in ["--startup-max-wait", "--clock-behind advance"] {
        assert!(stderr.contains(needle), "{needle:?} missing: {stderr}");
    }
    // A start-up wait above the gap: it waits for the clock, on the wall clock.
    let started = Instant::now();
    let server = behind(dir.path(), 10)
        .args(["--clock-behind", "wait", "--startup-max-wait", "15s"])
        .start();
    assert!(started.elapsed() >= Duration::from_secs(8), "did not wait");
    let second = fetch(&server.url("/v1/ids?count=100"));
    assert_no_repeat(&first, &second);
    let (_, info) = get_json(&server.url("/v1/info"));
    assert!(info["coordination"]["clock_advance"].is_null(), "{info}");
    assert_eq!(info["coordination"]["clock_lead_ms"], 0);
}

#[test]
fn wait_an_hour_or_two_behind_is_refused_up_front() {
    let dir = tempfile::tempdir().unwrap();
    first_run(dir.path());
    for offset in [3_600, 7_200] {
        let stderr = refused(behind(dir.path(), offset));
        assert!(stderr.contains("behind the high-water mark"), "{stderr}");
        assert!(stderr.contains("--clock-behind advance"), "{stderr}");
    }
}
