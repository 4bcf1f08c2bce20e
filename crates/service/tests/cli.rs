//! The command line of the real binary: `gen`, `decode`, `layout`, `--help`, one-line usage
//! errors with exit code 2, and `serve`'s settings (`--print-config`, bad values).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{command, run, run_with_timeout};

fn assert_one_line_usage_error(args: &[&str], needle: &str) {
    let out = run(args);
    assert_eq!(out.code(), 2, "{args:?}: {out:?}");
    assert_eq!(
        out.stderr.trim().lines().count(),
        1,
        "{args:?}: {}",
        out.stderr
    );
    assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
    assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
}

#[test]
fn gen_prints_unique_increasing_ids_in_any_format() {
    let out = run(&["gen", "-n", "5000"]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let ids: Vec<u64> = out.stdout.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(ids.len(), 5000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let out = run(&[
        "gen",
        "-n",
        "3",
        "--format",
        "base62",
        "--layout",
        "twitter",
        "--datacenter-id",
        "1",
        "--machine-id",
        "7",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.len() == 11));
    assert_eq!(lines.iter().collect::<HashSet<_>>().len(), 3);

    let decoded = run(&["decode", lines[0], "--layout", "twitter", "--json"]);
    assert_eq!(decoded.code(), 0, "{}", decoded.stderr);
    let json: serde_json::Value = serde_json::from_str(&decoded.stdout).unwrap();
    assert_eq!(
        (json["datacenter"].as_u64(), json["machine"].as_u64()),
        (Some(1), Some(7))
    );
}

#[test]
fn decode_reads_every_encoding() {
    for text in ["175928847299117063", "04W86BB0G4007", "0x0271065ac1020007"] {
        let out = run(&["decode", text, "--layout", "discord"]);
        assert_eq!(out.code(), 0, "{text}: {}", out.stderr);
        assert!(
            out.stdout.contains("2016-04-30T11:18:25.796Z"),
            "{}",
            out.stdout
        );
        assert!(out.stdout.contains("sequence    7"), "{}", out.stdout);
    }
    let out = run(&[
        "decode",
        "175928847299117063",
        "--layout",
        "discord",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["id"], "175928847299117063");
    assert_eq!(json["time"], "2016-04-30T11:18:25.796Z");
}

#[test]
fn layout_reports_capacity_and_end_date() {
    let out = run(&["layout"]);
    assert_eq!(out.code(), 0);
    for needle in [
        "41",
        "4,096,000 IDs/s",
        "1,024",
        "2090-09-07T15:47:35.551Z",
        "2021-01-01T00:00:00.000Z",
    ] {
        assert!(out.stdout.contains(needle), "{needle}: {}", out.stdout);
    }
    let out = run(&["layout", "--layout", "instagram", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["machine_bits"], 13);
    assert_eq!(json["positive_i64"], false);
}

#[test]
fn help_has_examples_on_every_command() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["gen", "--help"],
        vec!["decode", "--help"],
        vec!["layout", "--help"],
    ] {
        let out = run(&args);
        assert_eq!(out.code(), 0, "{args:?}");
        assert!(out.stdout.contains("Examples:"), "{args:?}: {}", out.stdout);
    }
    let out = run(&["serve", "--help"]);
    for flag in [
        "--http",
        "--grpc",
        "--resp",
        "--data-dir",
        "--datacenter-id",
        "--machine-id",
        "--coordinator",
        "--etcd-endpoints",
        "--cluster",
        "--layout",
        "--max-batch",
        "--log-format",
        "--config",
        "--print-config",
    ] {
        assert!(out.stdout.contains(flag), "serve --help lacks {flag}");
    }
}

#[test]
fn bad_arguments_are_one_line_and_exit_2() {
    assert_one_line_usage_error(&["gen", "-n", "0"], "at least 1");
    assert_one_line_usage_error(&["gen", "-n", "many"], "--count");
    assert_one_line_usage_error(&["gen", "--format", "roman"], "base62");
    assert_one_line_usage_error(&["gen", "--layout", "mayan"], "twitter");
    assert_one_line_usage_error(&["gen", "--machine-id", "32"], "0..=31");
    assert_one_line_usage_error(&["decode"], "<ID>");
    assert_one_line_usage_error(&["decode", "zzz"], "cannot parse");
    assert_one_line_usage_error(&["decode", "18446744073709551615"], "does not fit");
    assert_one_line_usage_error(&["frobnicate"], "frobnicate");
    assert_one_line_usage_error(&["serve", "--http", "nowhere"], "--http");
    assert_one_line_usage_error(&["serve", "--machine-id", "x"], "auto");
    assert_one_line_usage_error(&["serve", "--datacenter-id", "32"], "--datacenter-id");
    assert_one_line_usage_error(&["serve", "--max-batch", "99999999"], "--max-batch");
    assert_one_line_usage_error(&["serve", "--log-format", "xml"], "json");
}

#[test]
fn print_config_merges_flag_env_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snowdrift.toml");
    std::fs::write(
        &file,
        "datacenter_id = 4\nmachine_id = 9\nmax_batch = 123\nhttp = \"127.0.0.1:9999\"\n",
    )
    .unwrap();
    let mut cmd = command();
    cmd.args(["serve", "--print-config", "--config"])
        .arg(&file)
        .args(["--machine-id", "auto"])
        .env("SNOWDRIFT_MACHINE_ID", "5")
        .env("SNOWDRIFT_MAX_BATCH", "456")
        .env("SNOWDRIFT_LOG_FORMAT", "json");
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 0, "{}", out.stderr);
    let text = out.stdout;
    assert!(text.contains("machine_id = \"auto\"  # flag"), "{text}");
    assert!(text.contains("max_batch = 456  # environment"), "{text}");
    assert!(text.contains("datacenter_id = 4  # file"), "{text}");
    assert!(text.contains("http = \"127.0.0.1:9999\"  # file"), "{text}");
    assert!(
        text.contains("data_dir = \"./snowdrift-data\"  # default"),
        "{text}"
    );
    assert!(
        text.contains("log_format = \"json\"  # environment"),
        "{text}"
    );
    assert!(text.contains("layout = \"snowdrift\"  # default"), "{text}");
    // What it printed is itself a valid config file.
    let reprinted = dir.path().join("printed.toml");
    std::fs::write(&reprinted, &text).unwrap();
    let mut cmd = command();
    cmd.args(["serve", "--print-config", "--config"])
        .arg(&reprinted);
    let again = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(again.code(), 0, "{}", again.stderr);
    assert!(again.stdout.contains("max_batch = 456"), "{}", again.stdout);
}

#[test]
fn bad_settings_name_the_key_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "datacenter_id = \"three\"\n").unwrap();
    let mut cmd = command();
    cmd.args(["serve", "--config"]).arg(&file);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 2, "{out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("key `datacenter_id`"), "{}", out.stderr);

    std::fs::write(&file, "[layout]\ntimestamp_bits = 41\n").unwrap();
    let mut cmd = command();
    cmd.args(["serve", "--config"]).arg(&file);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(out.stderr.contains("key `layout`"), "{}", out.stderr);

    let mut cmd = command();
    cmd.args(["serve"]).env("SNOWDRIFT_WINDOW", "forever");
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(out.stderr.contains("SNOWDRIFT_WINDOW"), "{}", out.stderr);

    let mut cmd = command();
    cmd.args(["serve", "--config", "/nonexistent/snowdrift.toml"]);
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 2, "{out:?}");
    assert!(
        out.stderr.contains("/nonexistent/snowdrift.toml"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_enabled_listener_is_on_the_listening_line() {
    let server = common::ServerBuilder::new()
        .args(["--grpc", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
        .start();
    let line = server
        .stdout()
        .lines()
        .find(|line| line.starts_with("listening "))
        .unwrap()
        .to_string();
    for protocol in ["http", "grpc", "resp"] {
        let addr = line
            .split_whitespace()
            .find_map(|part| part.strip_prefix(&format!("{protocol}=")))
            .unwrap_or_else(|| panic!("no {protocol}= in {line:?}"));
        let addr: std::net::SocketAddr = addr.parse().unwrap();
        assert_ne!(addr.port(), 0, "{line}");
        // Each one accepts connections.
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    }
}

/// Runs `snowdrift ARGS` with `vars` set and expects a one-line settings error (exit 2) that
/// contains every needle, before anything is bound or claimed.
fn assert_settings_error(args: &[&str], vars: &[(&str, &str)], needles: &[&str]) {
    let mut cmd = command();
    cmd.args(args);
    for (name, value) in vars {
        cmd.env(name, value);
    }
    let out = run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 2, "{args:?} {vars:?}: {out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    for needle in needles {
        assert!(
            out.stderr.contains(needle),
            "{needle:?} not in {}",
            out.stderr
        );
    }
}

#[test]
fn a_window_the_keeper_cannot_keep_fails_at_once_naming_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    // Refused while loading the settings: no state directory is created, no port is bound.
    assert_settings_error(
        &["serve", "--window", "150ms", "--data-dir", data],
        &[],
        &["--window 150ms", "at least 200ms"],
    );
    assert!(!dir.path().join("data").exists());
    // The same check on every command path, --print-config included.
    assert_settings_error(
        &["serve", "--window", "1ms", "--print-config"],
        &[],
        &["--window 1ms"],
    );
    assert_settings_error(
        &["serve", "--print-config"],
        &[("SNOWDRIFT_WINDOW", "150ms")],
        &["SNOWDRIFT_WINDOW=150ms"],
    );
}

#[test]
fn a_bad_file_value_names_the_file_the_key_and_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snowdrift.toml");
    let shown = file.to_str().unwrap();
    std::fs::write(&file, "window = \"soon\"\n").unwrap();
    assert_settings_error(
        &["serve", "--print-config", "--config", shown],
        &[],
        &[&format!("key `window` in {shown}"), "soon"],
    );
    std::fs::write(&file, "datacenter_id = 40\n").unwrap();
    assert_settings_error(
        &["serve", "--config", shown],
        &[],
        &[&format!("key `datacenter_id` in {shown} (40)"), "0..=31"],
    );
    // Both spellings of one key: refused, not "second wins".
    std::fs::write(&file, "data-dir = \"/a\"\ndata_dir = \"/b\"\n").unwrap();
    assert_settings_error(
        &["serve", "--print-config", "--config", shown],
        &[],
        &[shown, "data_dir", "twice"],
    );
}

#[test]
fn unknown_snowdrift_variables_are_errors_naming_them() {
    assert_settings_error(
        &["serve", "--print-config"],
        &[("SNOWDRIFT_HTTPP", "127.0.0.1:9")],
        &["SNOWDRIFT_HTTPP"],
    );
    // The etcd coordinator without endpoints says how to set them, in words that parse.
    assert_settings_error(
        &["serve", "--coordinator", "etcd", "--cluster", "c"],
        &[],
        &[
            "etcd_endpoints",
            "--etcd-endpoints",
            "SNOWDRIFT_ETCD_ENDPOINTS",
        ],
    );
}
