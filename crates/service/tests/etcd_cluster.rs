//! `snowdrift serve --coordinator etcd` as real processes against a real etcd (issue 4's
//! proof): three nodes get distinct slots and a million IDs fetched from all of them at once
//! never repeat; a node killed with -9 is replaced by one that takes its slot after the lease
//! TTL and issues only above the old high-water mark; a node whose clock is set back (by
//! libfaketime) never issues below the mark; with etcd down the nodes serve to their ceiling,
//! answer 503 with Retry-After, and serve again when etcd returns, without a restart.
//!
//! Leases are 2 s and windows 1 s here so that each test takes seconds. libfaketime shifts the
//! wall clock only (`FAKETIME_DONT_FAKE_MONOTONIC=1`): the generator anchors the wall time
//! once and then advances by the monotonic clock, and the lease deadline is monotonic too, so
//! a shifted monotonic clock would test nothing more, while a monotonic clock an hour below
//! the boot time is not a state a real host can be in.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{client, get, get_json, libfaketime, run, Server, ServerBuilder};
use snowdrift_coordination::testing::EtcdServer;

/// Starts a real etcd for one test (the harness itself is async).
fn etcd() -> (tokio::runtime::Runtime, EtcdServer) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(EtcdServer::start()).unwrap();
    (runtime, server)
}

/// A node of `cluster` in datacenter 1 with a 2 s lease and a 1 s window.
fn node(etcd: &EtcdServer, cluster: &str) -> ServerBuilder {
    node_with_ttl(etcd, cluster, "2s")
}

/// A node of `cluster` in datacenter 1 with a 1 s window and a lease of `ttl`.
fn node_with_ttl(etcd: &EtcdServer, cluster: &str, ttl: &str) -> ServerBuilder {
    ServerBuilder::new().args([
        "--coordinator",
        "etcd",
        "--etcd-endpoints",
        &etcd.endpoint(),
        "--cluster",
        cluster,
        "--datacenter-id",
        "1",
        "--lease-ttl",
        ttl,
        "--window",
        "1s",
    ])
}

fn info(server: &Server) -> serde_json::Value {
    let (status, json) = get_json(&server.url("/v1/info"));
    assert_eq!(status, 200, "{json}");
    json
}

/// `snowdrift cluster status --json`.
fn cluster_status(etcd: &EtcdServer, cluster: &str) -> serde_json::Value {
    let out = run(&[
        "cluster",
        "status",
        "--etcd-endpoints",
        &etcd.endpoint(),
        "--cluster",
        cluster,
        "--json",
    ]);
    assert_eq!(out.code(), 0, "{}", out.stderr);
    serde_json::from_str(&out.stdout).unwrap()
}

/// The persisted mark of datacenter 1's `machine`, as `cluster status` reports it.
fn mark(etcd: &EtcdServer, cluster: &str, machine: u64) -> u64 {
    let status = cluster_status(etcd, cluster);
    status["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|slot| slot["datacenter"] == 1 && slot["machine"] == machine)
        .and_then(|slot| slot["high_water_tick"].as_u64())
        .unwrap_or_else(|| panic!("no mark for machine {machine}: {status}"))
}

/// The tick (ms since the default epoch) and the machine field of an ID.
fn parts(id: u64) -> (u64, u64) {
    (id >> 22, (id >> 12) & 0x1f)
}

/// Fetches `/v1/ids?count=10000` from `server` until `wanted` IDs were fetched in total by all
/// threads sharing `fetched`.
fn fetch(
    server: &Server,
    fetched: Arc<AtomicU64>,
    wanted: u64,
) -> std::thread::JoinHandle<Vec<u64>> {
    let url = server.url("/v1/ids?count=10000");
    std::thread::spawn(move || {
        let client = client();
        let mut ids = Vec::new();
        while fetched.load(Ordering::Relaxed) < wanted {
            let response = client.get(&url).send().unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let json: serde_json::Value = response.json().unwrap();
            let batch = json["ids"].as_array().unwrap();
            ids.extend(
                batch
                    .iter()
                    .map(|v| v.as_str().unwrap().parse::<u64>().unwrap()),
            );
            fetched.fetch_add(batch.len() as u64, Ordering::Relaxed);
        }
        ids
    })
}

#[test]
fn three_nodes_get_distinct_slots_and_a_million_ids_never_repeat() {
    let (_runtime, etcd) = etcd();
    let nodes: Vec<Server> = (0..3).map(|_| node(&etcd, "three").start()).collect();
    let mut machines: Vec<u64> = nodes
        .iter()
        .map(|n| {
            let info = info(n);
            assert_eq!(info["coordination"]["backend"], "etcd");
            assert!(
                info["coordination"]["lease"]["ttl_seconds"].as_u64() == Some(2),
                "{info}"
            );
            info["machine"].as_u64().unwrap()
        })
        .collect();
    machines.sort_unstable();
    assert_eq!(machines, [0, 1, 2]);

    let started = Instant::now();
    let fetched = Arc::new(AtomicU64::new(0));
    let threads: Vec<_> = nodes
        .iter()
        .flat_map(|n| {
            [
                fetch(n, Arc::clone(&fetched), 1_000_000),
                fetch(n, Arc::clone(&fetched), 1_000_000),
            ]
        })
        .collect();
    let mut seen = HashSet::new();
    for (i, thread) in threads.into_iter().enumerate() {
        let machine = info(&nodes[i / 2])["machine"].as_u64().unwrap();
        for id in thread.join().unwrap() {
            assert_eq!(parts(id).1, machine, "an ID from another node's slot");
            assert!(seen.insert(id), "duplicate ID {id}");
        }
    }
    assert!(seen.len() >= 1_000_000, "{}", seen.len());
    eprintln!(
        "{} IDs from 3 nodes in {:?}, no duplicate",
        seen.len(),
        started.elapsed()
    );

    // Every issued tick is at or below its slot's persisted mark.
    let status = cluster_status(&etcd, "three");
    for machine in 0..3 {
        let top = seen
            .iter()
            .filter(|id| parts(**id).1 == machine)
            .map(|id| parts(*id).0)
            .max()
            .unwrap();
        assert!(
            top <= mark(&etcd, "three", machine),
            "machine {machine} issued above its mark"
        );
    }
    let held: Vec<_> = status["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["holder"].is_object())
        .collect();
    assert_eq!(held.len(), 3, "{status}");
    let text = run(&[
        "cluster",
        "status",
        "--etcd-endpoints",
        &etcd.endpoint(),
        "--cluster",
        "three",
    ]);
    for node in &nodes {
        assert!(
            text.stdout.contains(&format!("pid {}", node.pid())),
            "{}",
            text.stdout
        );
    }

    // A clean stop revokes the lease: the slots are free at once, the marks stay.
    for mut node in nodes {
        node.signal("TERM");
        assert!(node.wait(Duration::from_secs(15)).success());
    }
    let status = cluster_status(&etcd, "three");
    let slots = status["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    assert!(
        slots
            .iter()
            .all(|s| s["holder"].is_null() && s["high_water_tick"].is_u64()),
        "{status}"
    );
}

#[test]
fn a_node_killed_with_9_is_replaced_above_its_mark_after_the_ttl() {
    let (_runtime, etcd) = etcd();
    let mut old = node(&etcd, "crash").start();
    assert_eq!(info(&old)["machine"], 0);
    let (_, before) = get_json(&old.url("/v1/ids?count=10000"));
    let before: Vec<u64> = before["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    old.kill9();
    let killed = Instant::now();
    let old_mark = mark(&etcd, "crash", 0);

    // Ask for the dead node's slot until etcd lets it go.
    let mut refusals = 0;
    let new = loop {
        match node(&etcd, "crash").args(["--machine-id", "0"]).try_start() {
            Ok(server) => break server,
            Err(failed) => {
                assert!(failed.stderr.contains("is held by"), "{}", failed.stderr);
                refusals += 1;
                assert!(
                    killed.elapsed() < Duration::from_secs(15),
                    "the slot was never freed"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    };
    let takeover = killed.elapsed();
    eprintln!("takeover after kill -9 (lease TTL 2 s): {takeover:?}, {refusals} refused starts");
    assert!(refusals > 0, "the slot was free while the old lease lived");

    let info = info(&new);
    assert_eq!(info["machine"], 0);
    // Above the dead node's mark: at its claim-time floor, which lies higher still (every
    // etcd claim waits window + skew: docs/PROTOCOL.md, "Restores nobody can notice").
    let floor = info["coordination"]["floor_tick"].as_u64().unwrap();
    assert!(floor > old_mark, "floor {floor}, mark {old_mark}");
    assert_eq!(info["coordination"]["floor_source"], "claim_time", "{info}");
    let (_, after) = get_json(&new.url("/v1/ids?count=10000"));
    let after: Vec<u64> = after["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect();
    let old_top = *before.iter().max().unwrap();
    assert!(after
        .iter()
        .all(|id| parts(*id).0 > old_mark && *id > old_top));
}

#[test]
fn a_node_restarted_with_its_clock_set_back_never_issues_below_the_mark() {
    let (_runtime, etcd) = etcd();
    let mut first = node(&etcd, "clock").start();
    let (_, before) = get_json(&first.url("/v1/ids?count=1000"));
    assert!(before["ids"].is_array());
    first.signal("TERM");
    assert!(first.wait(Duration::from_secs(15)).success());
    let old_mark = mark(&etcd, "clock", 0);

    let faked = |offset: &str| {
        node(&etcd, "clock")
            .args(["--machine-id", "0", "--startup-max-wait", "5s"])
            .env("LD_PRELOAD", libfaketime())
            .env("FAKETIME", offset)
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("FAKETIME_DONT_RESET", "1")
    };
    // An hour back: refused at start-up, saying how far behind, before issuing anything.
    let failed = match faked("-1h").try_start() {
        Ok(_) => panic!("a node an hour behind its slot's mark started"),
        Err(failed) => failed,
    };
    assert_eq!(failed.code(), 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("behind the high-water mark"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        mark(&etcd, "clock", 0),
        old_mark,
        "the mark is never lowered"
    );

    // Three seconds back: start-up waits for the clock to pass the mark, then issues above it.
    let late = faked("-3s").start();
    let (status, ids) = get_json(&late.url("/v1/ids?count=1000"));
    assert_eq!(status, 200);
    for id in ids["ids"].as_array().unwrap() {
        let id: u64 = id.as_str().unwrap().parse().unwrap();
        assert!(
            parts(id).0 > old_mark,
            "issued {id} at or below the mark {old_mark}"
        );
    }
}

#[test]
fn with_etcd_down_nodes_serve_to_their_ceiling_then_503_then_recover() {
    let (runtime, mut etcd) = etcd();
    // A 3 s lease fences at least 1.6 s after the last renewal, so the 1 s window runs out
    // first and the 503 comes from the ceiling.
    let server = node_with_ttl(&etcd, "down", "3s").start();
    assert_eq!(get(&server.url("/readyz")).0, 200);

    etcd.kill();
    let killed = Instant::now();
    let refused = loop {
        let (status, headers, body) = get(&server.url("/v1/id"));
        if status == 503 {
            assert!(
                headers.contains_key("retry-after"),
                "503 without Retry-After: {body}"
            );
            break killed.elapsed();
        }
        assert_eq!(status, 200, "{body}");
        assert!(
            killed.elapsed() < Duration::from_secs(5),
            "served past its window"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    eprintln!("served for {refused:?} after etcd was killed (window 1 s), then 503");
    // The window is 1 s; the rest is slack for a loaded 2-core machine.
    assert!(refused <= Duration::from_millis(2500), "{refused:?}");
    // Not ready, saying which condition failed (the window ran out) and its cause.
    let (status, _, body) = get(&server.url("/readyz"));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("ceiling_reached"), "{body}");
    assert!(
        body.contains("the last attempt to extend it failed"),
        "{body}"
    );

    runtime.block_on(etcd.start_again()).unwrap();
    let restarted = Instant::now();
    while get(&server.url("/v1/id")).0 != 200 {
        assert!(
            restarted.elapsed() < Duration::from_secs(20),
            "did not recover"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "serving again {:?} after etcd restarted",
        restarted.elapsed()
    );
    assert_eq!(get(&server.url("/readyz")).0, 200);
}

#[test]
fn the_etcd_settings_come_from_flags_environment_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snowdrift.toml");
    std::fs::write(&file, "lease_ttl = \"4s\"\nmax_clock_skew = \"500ms\"\n").unwrap();
    let mut cmd = common::command();
    cmd.args(["serve", "--print-config", "--config"])
        .arg(&file)
        .args([
            "--coordinator",
            "etcd",
            "--etcd-endpoints",
            "127.0.0.1:1,127.0.0.1:2",
        ])
        .args(["--cluster", "prod"])
        .env("SNOWDRIFT_CLOCK_SKEW_POLICY", "refuse");
    let out = common::run_with_timeout(cmd, Duration::from_secs(30));
    assert_eq!(out.code(), 0, "{}", out.stderr);
    for line in [
        "machine_id = \"auto\"  # default",
        "lease_ttl = \"4s\"  # file",
        "max_clock_skew = \"500ms\"  # file",
        "clock_skew_policy = \"refuse\"  # environment",
        "cluster = \"prod\"  # flag",
    ] {
        assert!(
            out.stdout.contains(line),
            "{line:?} missing from:\n{}",
            out.stdout
        );
    }
    let out = run(&[
        "serve",
        "--coordinator",
        "etcd",
        "--etcd-endpoints",
        "x:1",
        "--cluster",
        "c",
        "--lease-ttl",
        "1500ms",
    ]);
    assert_eq!(out.code(), 2, "{}", out.stderr);
    assert!(out.stderr.contains("--lease-ttl"), "{}", out.stderr);
}
