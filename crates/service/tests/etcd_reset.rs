//! etcd losing its data under load, as an SRE would do it (issue 9 §0): three real
//! `snowdrift serve` nodes on the defaults (lease 10 s, window 2 s, max clock skew 2 s), one of
//! them with its wall clock 1.5 s behind (libfaketime, preloaded into that server only), all
//! under HTTP and RESP load; then `kill -9` etcd, delete its data directory and start it again
//! with the same flags. Every ID any client received is kept: none may repeat, and
//! `cluster status` must flag the reset.
//!
//! libfaketime shifts the wall clock only (`FAKETIME_DONT_FAKE_MONOTONIC=1`), as in
//! `etcd_cluster.rs`: the generator reads the wall clock once and then follows the monotonic
//! clock, so the shifted node stays 1.5 s behind for the whole test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod protocols;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{client, get_json, libfaketime, run, Server, ServerBuilder};
use protocols::{Reply, Resp};
use snowdrift_coordination::testing::EtcdServer;

const CLUSTER: &str = "reset";
/// IDs per request: small enough that the kept IDs fit in memory in a debug build, large
/// enough that each request fills a good part of a tick's sequence.
const BATCH: &str = "200";

/// What one load thread received.
#[derive(Debug, Default)]
struct Received {
    ids: Vec<u64>,
    errors: u64,
    /// The longest time between two successful requests: the availability cost seen.
    longest_gap: Duration,
}

impl Received {
    fn ok(&mut self, last_ok: &mut Instant, ids: impl IntoIterator<Item = u64>) {
        let now = Instant::now();
        self.longest_gap = self.longest_gap.max(now - *last_ok);
        *last_ok = now;
        self.ids.extend(ids);
    }
}

/// A node of the test cluster in datacenter 1 on the default lease and window, with a RESP
/// listener; `clock` shifts its wall clock (libfaketime syntax).
fn start_node(etcd: &EtcdServer, clock: Option<&str>) -> (Server, SocketAddr) {
    let mut builder = ServerBuilder::new().args([
        "--coordinator",
        "etcd",
        "--etcd-endpoints",
        &etcd.endpoint(),
        "--cluster",
        CLUSTER,
        "--datacenter-id",
        "1",
        "--resp",
        "127.0.0.1:0",
    ]);
    if let Some(offset) = clock {
        builder = builder
            .env("LD_PRELOAD", libfaketime())
            .env("FAKETIME", offset)
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
            .env("FAKETIME_DONT_RESET", "1");
    }
    let server = builder.start();
    let line = server
        .stdout()
        .lines()
        .find(|line| line.starts_with("listening "))
        .expect("listening line")
        .to_string();
    let resp = line
        .split_whitespace()
        .find_map(|part| part.strip_prefix("resp="))
        .unwrap_or_else(|| panic!("no resp= in {line:?}"))
        .parse()
        .unwrap();
    (server, resp)
}

/// `GET /v1/ids?count=BATCH` until `stop`; 503s are counted and retried.
fn http_load(server: &Server, stop: Arc<AtomicBool>) -> JoinHandle<Received> {
    let url = server.url(&format!("/v1/ids?count={BATCH}"));
    std::thread::spawn(move || {
        let client = client();
        let mut received = Received::default();
        let mut last_ok = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let response = client.get(&url).send().unwrap();
            if response.status().as_u16() != 200 {
                received.errors += 1;
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            let json: serde_json::Value = response.json().unwrap();
            let ids = json["ids"].as_array().unwrap();
            received.ok(
                &mut last_ok,
                ids.iter()
                    .map(|v| v.as_str().unwrap().parse::<u64>().unwrap()),
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        received
    })
}

/// `NEXTIDS BATCH` over one RESP connection until `stop`; error replies are counted and
/// retried.
fn resp_load(addr: SocketAddr, stop: Arc<AtomicBool>) -> JoinHandle<Received> {
    std::thread::spawn(move || {
        let mut connection = Resp::connect(addr);
        let mut received = Received::default();
        let mut last_ok = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            match connection.call(&["NEXTIDS", BATCH]) {
                Reply::Array(items) => {
                    received.ok(&mut last_ok, items.iter().map(|item| item.int() as u64));
                    std::thread::sleep(Duration::from_millis(2));
                }
                Reply::Error(_) => {
                    received.errors += 1;
                    std::thread::sleep(Duration::from_millis(10));
                }
                other => panic!("unexpected NEXTIDS reply {other:?}"),
            }
        }
        received
    })
}

fn info(server: &Server) -> serde_json::Value {
    let (status, json) = get_json(&server.url("/v1/info"));
    assert_eq!(status, 200, "{json}");
    json
}

/// `snowdrift cluster status` for the test cluster, as JSON and as text.
fn cluster_status(etcd: &EtcdServer) -> (serde_json::Value, String) {
    let args = [
        "cluster",
        "status",
        "--etcd-endpoints",
        &etcd.endpoint(),
        "--cluster",
        CLUSTER,
    ];
    let text = run(&args);
    assert_eq!(text.code(), 0, "{}", text.stderr);
    let json = run(&[&args[..], &["--json"]].concat());
    assert_eq!(json.code(), 0, "{}", json.stderr);
    (serde_json::from_str(&json.stdout).unwrap(), text.stdout)
}

#[test]
fn etcd_wiped_under_load_with_a_clock_behind_never_repeats_an_id() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut etcd = runtime.block_on(EtcdServer::start()).unwrap();
    let test_started = Instant::now();
    let nodes = [
        start_node(&etcd, None),
        start_node(&etcd, None),
        start_node(&etcd, Some("-1.5s")),
    ];
    let mut machines: Vec<u64> = nodes
        .iter()
        .map(|(server, _)| info(server)["machine"].as_u64().unwrap())
        .collect();
    machines.sort_unstable();
    assert_eq!(machines, [0, 1, 2]);

    let stop = Arc::new(AtomicBool::new(false));
    let loads: Vec<JoinHandle<Received>> = nodes
        .iter()
        .flat_map(|(server, resp)| {
            [
                http_load(server, Arc::clone(&stop)),
                resp_load(*resp, Arc::clone(&stop)),
            ]
        })
        .collect();
    std::thread::sleep(Duration::from_secs(5));

    let wiped = Instant::now();
    runtime.block_on(etcd.wipe_and_restart()).unwrap();
    eprintln!(
        "etcd killed, wiped and healthy again in {:?}",
        wiped.elapsed()
    );

    // Every node notices, claims a slot again and serves.
    for (server, _) in &nodes {
        loop {
            let info = info(server);
            let claims = info["coordination"]["claims"].as_u64().unwrap_or(0);
            if claims >= 2 && info["ready"] == true {
                break;
            }
            assert!(
                wiped.elapsed() < Duration::from_secs(40),
                "pid {} did not serve again after the wipe: {info}",
                server.pid()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    let all_serving = wiped.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    let received: Vec<Received> = loads.into_iter().map(|l| l.join().unwrap()).collect();

    let mut all: Vec<u64> = received
        .iter()
        .flat_map(|r| r.ids.iter().copied())
        .collect();
    all.sort_unstable();
    let duplicates = all.windows(2).filter(|w| w[0] == w[1]).count();
    let gaps: Vec<String> = received
        .iter()
        .map(|r| format!("{:.2}s", r.longest_gap.as_secs_f64()))
        .collect();
    eprintln!(
        "{} IDs received, {duplicates} duplicates; all nodes serving again {all_serving:?} after \
         the wipe; longest gap per load thread (node by node, HTTP then RESP): {}; {} refusals",
        all.len(),
        gaps.join(" "),
        received.iter().map(|r| r.errors).sum::<u64>()
    );
    assert_eq!(duplicates, 0, "IDs repeated after etcd lost its data");

    // Each node reports the reset it detected.
    for (server, _) in &nodes {
        let coordination = &info(server)["coordination"];
        assert!(
            coordination["store_resets"].as_u64() >= Some(1),
            "pid {} reports no store reset: {coordination}",
            server.pid()
        );
    }
    // `cluster status` flags the freshly created record and the holders that lived through it.
    let (status, text) = cluster_status(&etcd);
    assert!(status["record"]["incarnation"].is_string(), "{status}");
    let warnings = status["warnings"].as_array().unwrap();
    for (server, _) in &nodes {
        let pid = format!("pid {}", server.pid());
        assert!(
            warnings.iter().any(
                |w| w.as_str().unwrap().contains(&pid) && w.as_str().unwrap().contains("reset")
            ),
            "no warning about {pid} in {status}"
        );
    }
    assert!(text.contains("reset"), "{text}");
    eprintln!("cluster status after the wipe:\n{text}");
    eprintln!("test took {:?}", test_started.elapsed());
}
