//! What an operator reads is true and parseable, on the real binary: with `--log-format json`
//! a fatal error is a JSON record too; the last line of a clean stop says what became of the
//! slot's mark, and does not claim it was persisted when lowering it failed; `snowdrift fetch`
//! with every endpoint down names every endpoint's failure, not only the last one's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{get, run, ServerBuilder};

#[test]
fn with_a_json_log_a_fatal_start_up_error_is_a_json_record() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where the state directory should be: start-up fails, even as root.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let refused = ServerBuilder::on(&blocker.join("state"))
        .args(["--log-format", "json"])
        .try_start()
        .err()
        .expect("start-up must fail");
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    let records: Vec<serde_json::Value> = refused
        .stderr
        .lines()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|err| panic!("not a JSON record ({err}): {line:?}"))
        })
        .collect();
    let fatal = records
        .iter()
        .find(|record| record["fatal"] == true)
        .unwrap_or_else(|| panic!("no fatal record in {records:?}"));
    assert_eq!(fatal["level"], "ERROR", "{fatal}");
    let message = fatal["message"].as_str().unwrap();
    assert!(message.starts_with("cannot start: "), "{message}");
}

#[test]
fn a_stop_whose_mark_could_not_be_lowered_does_not_claim_it_was_persisted() {
    // A 10 s window: the keeper writes no new mark during the test, so only the shutdown's
    // lowering touches the mark file. The window may not exceed the start-up wait.
    let mut server = ServerBuilder::new()
        .args(["--window", "10s", "--startup-max-wait", "10s"])
        .start();
    assert_eq!(get(&server.url("/v1/id")).0, 200);
    // The mark file becomes a directory: reading it back to lower it fails.
    let mark = server.data_dir.join("slots").join("dc-0-machine-0.hwm");
    assert!(mark.is_file(), "{}", mark.display());
    std::fs::remove_file(&mark).unwrap();
    std::fs::create_dir(&mark).unwrap();

    server.signal("TERM");
    let status = server.wait(Duration::from_secs(20));
    let stderr = server.wait_for_stderr("stopped:", Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{stderr}");
    let last = stderr
        .lines()
        .find(|line| line.contains("stopped:"))
        .unwrap_or_else(|| panic!("no stopped line:\n{stderr}"));
    assert!(!last.contains("persisted"), "{last}");
    assert!(last.contains("could not be lowered"), "{last}");
    assert!(last.contains("slot released"), "{last}");
}

#[test]
fn a_clean_stop_says_the_mark_was_lowered_and_the_slot_released() {
    let mut server = ServerBuilder::new().start();
    assert_eq!(get(&server.url("/v1/id")).0, 200);
    server.signal("TERM");
    assert_eq!(server.wait(Duration::from_secs(20)).code(), Some(0));
    let stderr = server.wait_for_stderr("stopped:", Duration::from_secs(5));
    let last = stderr
        .lines()
        .find(|line| line.contains("stopped:"))
        .unwrap_or_else(|| panic!("no stopped line:\n{stderr}"));
    assert!(last.contains("mark lowered"), "{last}");
    assert!(last.contains("slot released"), "{last}");
}

#[test]
fn fetch_with_every_endpoint_down_names_every_endpoints_failure() {
    // Nothing listens on ports 1 and 2 of loopback: both are refused at once.
    let out = run(&[
        "fetch",
        "--endpoint",
        "grpc://127.0.0.1:1,http://127.0.0.1:2",
        "--timeout",
        "500ms",
    ]);
    assert_eq!(out.code(), 1, "{}", out.stderr);
    let message = out.stderr.trim();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("grpc://127.0.0.1:1"), "{message}");
    assert!(message.contains("http://127.0.0.1:2"), "{message}");
}
