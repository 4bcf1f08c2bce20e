//! The probes the deployment files use, against a node whose etcd goes away: readiness
//! (`/readyz`, and `snowdrift healthcheck`, the image's HEALTHCHECK) turns false once the node
//! cannot issue, while liveness (`/healthz`, Kubernetes' livenessProbe) stays 200 the whole
//! time, through the ceiling, the fence at the lease deadline and the claims that fail while
//! etcd is down, since restarting the process would not bring etcd back. When etcd returns,
//! the node is ready again by itself.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{get, run, ServerBuilder};
use snowdrift_coordination::testing::EtcdServer;

#[test]
fn liveness_stays_200_while_etcd_is_away_and_readiness_follows_the_node() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut etcd = runtime.block_on(EtcdServer::start()).unwrap();
    // A 2 s lease and a 1 s window: the ceiling passes within a second, the lease deadline
    // within two, so the node goes through every not-ready phase in the time watched.
    let server = ServerBuilder::new()
        .args([
            "--coordinator",
            "etcd",
            "--etcd-endpoints",
            &etcd.endpoint(),
        ])
        .args(["--cluster", "probes", "--lease-ttl", "2s", "--window", "1s"])
        .start();
    let readyz = server.url("/readyz");
    let healthz = server.url("/healthz");
    let healthcheck = |url: &str| run(&["healthcheck", "--url", url, "--timeout", "2s"]);
    assert_eq!(healthcheck(&readyz).code(), 0);

    etcd.kill();
    let killed = Instant::now();
    let mut not_ready_at = None;
    // Watch for 6 s: past the ceiling (≤ 1 s), the fence at the lease deadline (≤ 3 s) and
    // several failed claims.
    while killed.elapsed() < Duration::from_secs(6) {
        let (status, _, body) = get(&healthz);
        assert_eq!(
            status,
            200,
            "liveness failed {:?} after etcd died: {body}",
            killed.elapsed()
        );
        if not_ready_at.is_none() && get(&readyz).0 == 503 {
            not_ready_at = Some(killed.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let not_ready_at = not_ready_at.expect("/readyz never turned 503 with etcd down");
    eprintln!("not ready {not_ready_at:?} after etcd was killed; /healthz stayed 200 for 6 s");

    // The image's health check says not ready, with the node's reason, exit 1; pointed at
    // /healthz (as a liveness check would be) it passes.
    let refused = healthcheck(&readyz);
    assert_eq!(refused.code(), 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("not ready"), "{}", refused.stderr);
    assert!(refused.stderr.contains("503"), "{}", refused.stderr);
    assert_eq!(healthcheck(&healthz).code(), 0);

    runtime.block_on(etcd.start_again()).unwrap();
    let restarted = Instant::now();
    while healthcheck(&readyz).code() != 0 {
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "not ready again after etcd returned; stderr:\n{}",
            server.stderr()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("ready again {:?} after etcd restarted", restarted.elapsed());
}

#[test]
fn healthcheck_without_a_node_fails_naming_the_url() {
    // Nothing listens on port 1 of loopback.
    let out = run(&["healthcheck", "--url", "http://127.0.0.1:1/readyz"]);
    assert_eq!(out.code(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("http://127.0.0.1:1/readyz"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("cannot connect"), "{}", out.stderr);
}
