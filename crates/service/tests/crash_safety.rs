//! Crash safety of the single-node default (DESIGN.md invariants 1 and 2, issue 3's proof):
//! kill -9 the service under load, restart it with the clock set back by libfaketime, and check
//! that no ID is ever repeated and that start-up behaves as configured — it refuses a clock an
//! hour behind the persisted mark with a clear error, and waits for a clock a little behind.
//!
//! libfaketime is preloaded into the child only. `FAKETIME_DONT_FAKE_MONOTONIC=1` leaves
//! `CLOCK_MONOTONIC` alone: the generator's clock reads the (faked) wall time once and then
//! advances by the monotonic clock, which is exactly the setting of a host whose wall clock was
//! set back before the process started.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{client, get_json, Server, ServerBuilder};

/// Where Debian's faketime package puts the multi-threaded preload library.
const LIBFAKETIME: [&str; 3] = [
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
    "/usr/lib/faketime/libfaketimeMT.so.1",
];

fn libfaketime() -> PathBuf {
    LIBFAKETIME
        .iter()
        .map(PathBuf::from)
        .find(|path| path.exists())
        .unwrap_or_else(|| {
            panic!("libfaketime is missing: apt-get install faketime (scripts/test installs it)")
        })
}

/// A server on `dir` whose wall clock is shifted by `offset` (libfaketime syntax, e.g. "-1h").
fn faked(dir: &Path, offset: &str) -> ServerBuilder {
    ServerBuilder::on(dir)
        .args(["--startup-max-wait", "5s", "--window", "2s"])
        .env("LD_PRELOAD", libfaketime())
        .env("FAKETIME", offset)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
        .env("FAKETIME_DONT_RESET", "1")
}

/// Fetches IDs from `server` on `threads` threads until `stop`, keeping every ID that arrived
/// in a complete answer. Connection errors (the server was killed) end a thread quietly.
fn load(
    server: &Server,
    threads: usize,
    stop: Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<u64>>> {
    (0..threads)
        .map(|i| {
            let (batch, single) = (server.url("/v1/ids?count=200"), server.url("/v1/id"));
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let client = client();
                let mut ids = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let url = if i % 2 == 0 { &batch } else { &single };
                    let Ok(response) = client.get(url).send() else {
                        break;
                    };
                    if response.status().as_u16() != 200 {
                        continue;
                    }
                    let Ok(json) = response.json::<serde_json::Value>() else {
                        break;
                    };
                    if let Some(list) = json["ids"].as_array() {
                        ids.extend(
                            list.iter()
                                .map(|v| v.as_str().unwrap().parse::<u64>().unwrap()),
                        );
                    } else if let Some(id) = json["id"].as_str() {
                        ids.push(id.parse().unwrap());
                    }
                }
                ids
            })
        })
        .collect()
}

fn collect(handles: Vec<std::thread::JoinHandle<Vec<u64>>>) -> Vec<u64> {
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

/// Adds `ids` to `seen`, failing on any repeat.
fn record_unique(seen: &Mutex<HashSet<u64>>, ids: &[u64], run: &str) {
    let mut seen = seen.lock().unwrap();
    for id in ids {
        assert!(seen.insert(*id), "{run}: id {id} was issued twice");
    }
}

#[test]
fn kill_9_under_load_then_a_clock_an_hour_back_never_repeats_an_id() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let seen = Mutex::new(HashSet::new());

    // Run 1: real clock, under load, killed with SIGKILL mid-flight.
    let mut first = ServerBuilder::on(&state)
        .args(["--startup-max-wait", "5s", "--window", "2s"])
        .start();
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&first, 4, Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(1500));
    first.kill9();
    stop.store(true, Ordering::Relaxed);
    let before_crash = collect(handles);
    assert!(
        before_crash.len() > 1000,
        "too little load: {}",
        before_crash.len()
    );
    record_unique(&seen, &before_crash, "before the crash");
    let max_before = before_crash.iter().copied().max().unwrap();

    // Run 2: the clock an hour behind the persisted mark is refused, clearly and at once.
    let started = Instant::now();
    let refused = faked(&state, "-1h")
        .try_start()
        .err()
        .expect("a clock an hour behind the mark must not start");
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    let message = refused.stderr.trim();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("behind the high-water mark"), "{message}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "a hopeless gap must fail without waiting out start-up"
    );
    // The behind-by figure is about an hour (3600 s plus the window).
    let behind_secs: f64 = message
        .split("the clock is ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no duration in {message}"));
    assert!((3599.0..3610.0).contains(&behind_secs), "{message}");

    // Run 3: a clock a couple of seconds behind the mark is waited for (≤ startup_max_wait),
    // then every ID is above everything issued before the crash.
    let started = Instant::now();
    let mut second = faked(&state, "-2s").start();
    let waited = started.elapsed();
    let stderr = second.wait_for_stderr("waiting for it", Duration::from_secs(5));
    assert!(
        stderr.contains("waiting for it"),
        "start-up should have waited for the clock: {stderr}"
    );
    assert!(
        waited >= Duration::from_millis(500),
        "waited only {waited:?}"
    );
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load(&second, 4, Arc::clone(&stop));
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, Ordering::Relaxed);
    let after_crash = collect(handles);
    assert!(!after_crash.is_empty());
    record_unique(&seen, &after_crash, "after the crash, clock 2 s back");
    let min_after = after_crash.iter().copied().min().unwrap();
    assert!(
        min_after > max_before,
        "an id after the restart ({min_after}) is not above every id before it ({max_before})"
    );
    let (_, info) = get_json(&second.url("/v1/info"));
    assert!(info["coordination"]["floor_tick"].as_u64().unwrap() > 0);
    second.signal("TERM");
    assert_eq!(
        second.wait(Duration::from_secs(20)).code(),
        Some(0),
        "{}",
        second.stderr()
    );

    // Run 4: the real clock again: still above everything.
    let third = ServerBuilder::on(&state).start();
    let (_, json) = get_json(&third.url("/v1/ids?count=1000"));
    let last: Vec<u64> = json["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    record_unique(&seen, &last, "after the clock came back");
    assert!(last.iter().min().unwrap() > after_crash.iter().max().unwrap());
}

#[test]
fn a_clock_behind_on_a_fresh_state_directory_starts_at_once() {
    // Nothing was persisted yet, so a clock an hour back is no hazard: the floor is zero.
    let dir = tempfile::tempdir().unwrap();
    let server = faked(&dir.path().join("state"), "-1h").start();
    let (status, json) = get_json(&server.url("/v1/decode/0"));
    assert_eq!(status, 200, "{json}");
    let (_, json) = get_json(&server.url("/v1/id"));
    let (_, decoded) =
        get_json(&server.url(&format!("/v1/decode/{}", json["id"].as_str().unwrap())));
    let unix_ms = decoded["unix_ms"].as_u64().unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // The faked clock really was in effect.
    let behind = now_ms.saturating_sub(unix_ms);
    assert!(
        (3_590_000..3_700_000).contains(&behind),
        "behind by {behind} ms"
    );
}
