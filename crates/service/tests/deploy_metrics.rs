//! Metrics an operator can trust, checked on the real binary: `promtool check metrics`
//! (Debian's `prometheus` package, which `scripts/test` installs) accepts a live node's
//! `/metrics` with the local and with the etcd coordinator, after traffic on HTTP, gRPC and the
//! Redis protocol; those three protocols each count requests, errors and latency; and an HTTP
//! request whose client went away before the answer is counted (status 499), as its IDs are.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{get, get_json, Server, ServerBuilder};
use snowdrift_coordination::testing::EtcdServer;

/// The `listening` line's address of `protocol` (`grpc`, `resp`).
fn listener(server: &Server, protocol: &str) -> SocketAddr {
    let stdout = server.stdout();
    let line = stdout
        .lines()
        .find(|line| line.starts_with("listening "))
        .expect("listening line");
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(&format!("{protocol}=")))
        .unwrap_or_else(|| panic!("no {protocol} in {line}"))
        .parse()
        .unwrap()
}

/// Sends raw RESP commands on one connection and returns what came back (bounded).
fn resp(addr: SocketAddr, commands: &str, replies: usize) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(commands.as_bytes()).unwrap();
    let mut got = String::new();
    let mut buf = [0u8; 4096];
    while got.matches("\r\n").count() < replies {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "connection closed after {got:?}");
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    got
}

/// Some traffic on each protocol, successes and errors both.
fn traffic(server: &Server) {
    assert_eq!(get(&server.url("/v1/id")).0, 200);
    assert_eq!(get(&server.url("/v1/ids?count=0")).0, 400);
    let got = resp(
        listener(server, "resp"),
        "NEXTID\r\nNEXTIDS 3\r\nNEXTIDS x\r\nFLUSHALL\r\n",
        6,
    );
    assert!(got.contains("-ERR"), "{got}");

    let grpc = format!("grpc://{}", listener(server, "grpc"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut config = snowdrift_client::ClientConfig::new(&[grpc]).unwrap();
        config.buffer_capacity = 0;
        config.low_water = 0;
        config.batch = 20_000;
        let client = snowdrift_client::Client::new(config).unwrap();
        assert_eq!(client.fetch(5).await.unwrap().len(), 5);
        // More than --max-batch (10 000) in one request: refused as a bad request, counted as INVALID_ARGUMENT.
        assert!(client.fetch(20_000).await.is_err());
    });
}

/// `promtool check metrics` on `text`; panics with its complaints.
fn promtool_check_metrics(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is missing: apt-get install prometheus (scripts/test installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- metrics:\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the series written exactly as `series` (name and labels), if present.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

/// Everything promtool and an operator need, on a node after `traffic`.
fn check_node(server: &Server, coordinator_series: &[&str]) {
    traffic(server);
    let (status, _, metrics) = get(&server.url("/metrics"));
    assert_eq!(status, 200);
    promtool_check_metrics(&metrics);

    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(
            &metrics,
            &format!("snowdrift_build_info{{version=\"{version}\"}}")
        ),
        Some(1.0),
        "{metrics}"
    );
    // The default layout runs out in 2090: decades left, never negative.
    let left = value(&metrics, "snowdrift_layout_remaining_seconds").expect("layout gauge");
    assert!(left > 60.0 * 365.0 * 86_400.0, "{left}");
    for series in [
        r#"snowdrift_grpc_requests_total{method="NextIds",status="OK"}"#,
        r#"snowdrift_grpc_requests_total{method="NextIds",status="INVALID_ARGUMENT"}"#,
        r#"snowdrift_grpc_request_duration_seconds_count{method="NextIds"}"#,
        r#"snowdrift_resp_requests_total{command="nextid",status="ok"}"#,
        r#"snowdrift_resp_requests_total{command="nextids",status="ok"}"#,
        r#"snowdrift_resp_requests_total{command="nextids",status="ERR"}"#,
        r#"snowdrift_resp_requests_total{command="unknown",status="ERR"}"#,
        r#"snowdrift_resp_request_duration_seconds_count{command="nextid"}"#,
        r#"snowdrift_http_requests_total{route="/v1/ids",status="400"}"#,
    ] {
        let count = value(&metrics, series).unwrap_or_else(|| panic!("no {series}:\n{metrics}"));
        assert!(count >= 1.0, "{series} = {count}");
    }
    for name in coordinator_series {
        assert!(
            metrics.contains(&format!("# HELP {name} ")),
            "{name} has no help text:\n{metrics}"
        );
    }
}

fn with_all_listeners(builder: ServerBuilder) -> ServerBuilder {
    builder.args(["--grpc", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
}

#[test]
fn promtool_accepts_the_metrics_of_a_node_on_the_local_coordinator() {
    let server = with_all_listeners(ServerBuilder::new()).start();
    check_node(
        &server,
        &["snowdrift_slot_claims_total", "snowdrift_resp_connections"],
    );
}

#[test]
fn promtool_accepts_the_metrics_of_a_node_on_the_etcd_coordinator() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let etcd = runtime.block_on(EtcdServer::start()).unwrap();
    let server = with_all_listeners(ServerBuilder::new())
        .args([
            "--coordinator",
            "etcd",
            "--etcd-endpoints",
            &etcd.endpoint(),
        ])
        // A 3 s lease (etcd requests bounded to 600 ms, which a loaded machine meets) and a
        // 500 ms skew (a short genesis wait for the new cluster).
        .args([
            "--cluster",
            "metrics",
            "--lease-ttl",
            "3s",
            "--window",
            "1s",
            "--max-clock-skew",
            "500ms",
        ])
        .start();
    // Wait (bounded) for a lease renewal, so every lease series exists.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, _, metrics) = get(&server.url("/metrics"));
        if metrics.contains("snowdrift_lease_keepalives_total ")
            && metrics.contains("snowdrift_lease_remaining_seconds ")
        {
            break;
        }
        assert!(Instant::now() < deadline, "no lease series:\n{metrics}");
        std::thread::sleep(Duration::from_millis(100));
    }
    check_node(
        &server,
        &[
            "snowdrift_etcd_writes_total",
            "snowdrift_lease_alive",
            "snowdrift_lease_keepalives_total",
            "snowdrift_lease_remaining_seconds",
            "snowdrift_slot_claims_total",
        ],
    );
}

/// A layout with one-second ticks: a block of two ticks' worth makes the request wait for the
/// next tick, up to a second, long enough for the client to leave first.
fn slow_layout(dir: &std::path::Path) -> std::path::PathBuf {
    let config = dir.join("slow.toml");
    std::fs::write(
        &config,
        "[layout]\ntimestamp_bits = 41\ndatacenter_bits = 5\nmachine_bits = 5\n\
         sequence_bits = 12\nepoch_ms = 1609459200000\nunit_ms = 1000\n",
    )
    .unwrap();
    config
}

#[test]
fn an_http_request_the_client_dropped_before_the_answer_is_counted_as_499() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerBuilder::new()
        .arg("--config")
        .arg(slow_layout(dir.path()))
        .args(["--max-batch", "8192"])
        .start();
    let counted = |metrics: &str| {
        value(
            metrics,
            r#"snowdrift_http_requests_total{route="/v1/ids",status="499"}"#,
        )
        .unwrap_or(0.0)
    };

    // A request for two ticks' IDs waits for the next tick, up to 1 s; the client leaves after
    // 50 ms. If the answer beat it (the tick was about to turn), wait for the generator to
    // catch up and try again.
    let mut dropped = 0;
    for _ in 0..4 {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream
            .write_all(b"GET /v1/ids?count=8192 HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        stream.set_nonblocking(true).unwrap();
        let mut byte = [0u8; 1];
        let answered = stream.read(&mut byte).is_ok();
        drop(stream);
        if !answered {
            dropped += 1;
            break;
        }
        std::thread::sleep(Duration::from_millis(2500));
    }
    assert_eq!(dropped, 1, "every request was answered within 50 ms");

    // The server notices the close asynchronously. The block reserved for the request is burned
    // when its wait is dropped (the issuing path's cancellation), or was handed out if its tick
    // arrived first: either way it is counted once, as burned or as issued (bounded wait).
    let issued = |metrics: &str| {
        value(metrics, "snowdrift_ids_issued_total").unwrap_or(0.0)
            + value(metrics, "snowdrift_ids_burned_total").unwrap_or(0.0)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let (_, _, metrics) = get(&server.url("/metrics"));
        if (counted(&metrics) >= 1.0 && issued(&metrics) >= 8192.0) || Instant::now() >= deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(counted(&metrics), 1.0, "{metrics}");
    // Its IDs were counted: issued plus burned covers the block.
    assert!(issued(&metrics) >= 8192.0, "{metrics}");
    // A burned block leaves the state up to one (1 s) tick ahead of the clock, and readiness
    // waits for the clock to catch up: ready again within a few ticks (bounded).
    let deadline = Instant::now() + Duration::from_secs(5);
    let status = loop {
        let (status, _) = get_json(&server.url("/readyz"));
        if status == 200 || Instant::now() >= deadline {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status, 200);
}
