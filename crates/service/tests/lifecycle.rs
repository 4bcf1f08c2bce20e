//! The service's life on one host: graceful stop, slot ownership between processes, automatic
//! slots, and clear start-up errors for a state directory that cannot be used.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{command, get, get_json, Server, ServerBuilder};

#[test]
fn sigterm_and_sigint_finish_cleanly_with_exit_0_and_release_the_slot() {
    for signal in ["TERM", "INT"] {
        let mut server = Server::start();
        assert_eq!(get(&server.url("/v1/id")).0, 200);
        server.signal(signal);
        let status = server.wait(Duration::from_secs(20));
        assert_eq!(status.code(), Some(0), "SIG{signal}: {}", server.stderr());
        let stderr = server.wait_for_stderr("slot released", Duration::from_secs(5));
        assert!(stderr.contains("shutting down"), "{stderr}");
        assert!(stderr.contains("slot released"), "{stderr}");

        // The slot is free at once: the same slot starts again on the same directory.
        let again = ServerBuilder::on(&server.data_dir).start();
        assert_eq!(get(&again.url("/v1/id")).0, 200);
    }
}

#[test]
fn a_second_process_on_the_same_slot_is_refused_naming_the_holder() {
    let first = Server::start();
    let refused = ServerBuilder::on(&first.data_dir)
        .try_start()
        .err()
        .expect("the second process must not start");
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    let message = refused.stderr.trim();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("held by"), "{message}");
    assert!(
        message.contains(&format!("pid {}", first.pid())),
        "the message should name the holder's pid {}: {message}",
        first.pid()
    );
    // The first one is unaffected.
    assert_eq!(get(&first.url("/v1/id")).0, 200);
}

#[test]
fn machine_id_auto_gives_three_processes_distinct_slots() {
    let dir = tempfile::tempdir().unwrap();
    let servers: Vec<Server> = (0..3)
        .map(|_| {
            ServerBuilder::on(dir.path())
                .args(["--machine-id", "auto"])
                .start()
        })
        .collect();
    let mut machines = HashSet::new();
    let mut ids = HashSet::new();
    for server in &servers {
        let (_, info) = get_json(&server.url("/v1/info"));
        machines.insert(info["machine"].as_u64().unwrap());
        let (_, json) = get_json(&server.url("/v1/ids?count=1000"));
        for id in json["ids"].as_array().unwrap() {
            assert!(ids.insert(id.as_str().unwrap().to_string()));
        }
    }
    assert_eq!(machines, HashSet::from([0, 1, 2]));
}

#[test]
fn an_unusable_state_directory_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().unwrap();
    // A regular file where a directory should be: creating it fails even for root.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let refused = ServerBuilder::on(&blocker.join("state"))
        .try_start()
        .err()
        .expect("must not start");
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    let message = refused.stderr.trim();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("cannot start"), "{message}");
    assert!(message.contains("not-a-dir"), "{message}");
}

#[test]
fn a_corrupt_state_file_is_a_clear_start_up_error_and_is_kept() {
    let mut first = Server::start();
    assert_eq!(get(&first.url("/v1/id")).0, 200);
    first.signal("TERM");
    assert_eq!(first.wait(Duration::from_secs(20)).code(), Some(0));

    let hwm = first.data_dir.join("slots").join("dc-0-machine-0.hwm");
    assert!(
        hwm.exists(),
        "expected the high-water file at {}",
        hwm.display()
    );
    std::fs::write(&hwm, b"{ this is not a mark").unwrap();
    let refused = ServerBuilder::on(&first.data_dir)
        .try_start()
        .err()
        .expect("must not start on a corrupt mark");
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    let message = refused.stderr.trim();
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(message.contains("corrupt"), "{message}");
    assert!(message.contains("dc-0-machine-0.hwm"), "{message}");
    // Never silently reset.
    assert_eq!(std::fs::read(&hwm).unwrap(), b"{ this is not a mark");
}

#[test]
fn a_different_layout_over_the_same_state_is_refused() {
    let mut first = Server::start();
    first.signal("TERM");
    assert_eq!(first.wait(Duration::from_secs(20)).code(), Some(0));
    let refused = ServerBuilder::on(&first.data_dir)
        .args(["--layout", "twitter"])
        .try_start()
        .err()
        .expect("must not start with another layout");
    assert_ne!(refused.code(), 0);
    assert!(refused.stderr.contains("pinned"), "{}", refused.stderr);
}

#[test]
fn json_logs_carry_the_start_up_line() {
    let server = ServerBuilder::new().args(["--log-format", "json"]).start();
    // The start-up line is logged before `listening` is printed.
    let stderr = server.wait_for_stderr("snowdrift started", Duration::from_secs(5));
    let started = stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|json| json["message"] == "snowdrift started")
        .unwrap_or_else(|| panic!("no JSON start-up line in:\n{stderr}"));
    for key in [
        "layout",
        "slot",
        "window",
        "window_until",
        "layout_ends",
        "listen",
    ] {
        assert!(
            started.get(key).is_some(),
            "start-up line lacks {key}: {started}"
        );
    }
    assert!(started["layout_ends"]
        .as_str()
        .unwrap()
        .starts_with("2090-09-07"));
    let listen = started["listen"].as_str().unwrap();
    assert_eq!(listen, format!("http={}", server.addr), "{started}");
}

#[test]
fn the_listening_line_is_on_stdout_once_and_not_copied_into_the_log() {
    let server = ServerBuilder::new().args(["--grpc", "127.0.0.1:0"]).start();
    let stderr = server.wait_for_stderr("snowdrift started", Duration::from_secs(5));
    let stdout = server.stdout();
    assert_eq!(
        stdout
            .lines()
            .filter(|l| l.starts_with("listening "))
            .count(),
        1,
        "{stdout}"
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("listening "))
        .unwrap();
    let addresses = line.strip_prefix("listening ").unwrap();
    assert!(
        !stderr.contains(line),
        "the log repeats the listening line:\n{stderr}"
    );
    // The log has the same addresses once, in the start-up record.
    let started = stderr
        .lines()
        .find(|l| l.contains("snowdrift started"))
        .unwrap();
    assert!(started.contains(addresses), "{started}");
    assert_eq!(stderr.matches(addresses).count(), 1, "{stderr}");
}

#[test]
fn serve_with_no_flags_works_in_a_fresh_directory() {
    // The documented default port must be free for this test; elsewhere it is skipped.
    if std::net::TcpListener::bind("127.0.0.1:8080").is_err() {
        eprintln!("port 8080 is busy; skipping the no-flags start");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command();
    cmd.current_dir(dir.path()).arg("serve");
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut answered = false;
    while std::time::Instant::now() < deadline {
        if let Ok(response) = common::client().get("http://127.0.0.1:8080/v1/id").send() {
            answered = response.status().as_u16() == 200;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let status = common::wait_timeout(&mut child, Duration::from_secs(20));
    if status.is_none() {
        let _ = child.kill();
    }
    assert!(
        answered,
        "serve with no flags did not answer on 127.0.0.1:8080"
    );
    assert_eq!(status.and_then(|s| s.code()), Some(0));
    assert!(dir.path().join("snowdrift-data").is_dir());
}
