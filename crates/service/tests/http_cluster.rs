//! `GET /v1/cluster` on real processes against a real etcd: two nodes of one cluster each see
//! both slots, with their holders' pids, leases and marks, in the shape `cluster status --json`
//! prints; with etcd gone the route answers 503 with `Retry-After` in the error shape.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{get, get_json, ServerBuilder};
use snowdrift_coordination::testing::EtcdServer;

#[test]
fn every_node_shows_the_whole_slot_map_and_503_without_etcd() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut etcd = runtime.block_on(EtcdServer::start()).unwrap();
    let node = || {
        ServerBuilder::new().args([
            "--coordinator",
            "etcd",
            "--etcd-endpoints",
            &etcd.endpoint(),
            "--cluster",
            "web",
            "--datacenter-id",
            "2",
            "--machine-id",
            "auto",
            "--lease-ttl",
            "2s",
            "--window",
            "1s",
        ])
    };
    let a = node().start();
    let b = node().start();

    for server in [&a, &b] {
        let (status, map) = get_json(&server.url("/v1/cluster"));
        assert_eq!(status, 200, "{map}");
        assert_eq!(map["cluster"], "web");
        let slots = map["slots"].as_array().unwrap();
        assert_eq!(slots.len(), 2, "{map}");
        for (holder, machine) in [(&a, 0), (&b, 1)] {
            let slot = slots
                .iter()
                .find(|slot| slot["datacenter"] == 2 && slot["machine"] == machine)
                .unwrap_or_else(|| panic!("no slot 2/{machine}: {map}"));
            assert_eq!(slot["holder"]["pid"], holder.pid(), "{slot}");
            assert!(slot["lease_id"].as_i64().is_some(), "{slot}");
            assert!(slot["lease_ttl_seconds"].as_i64().unwrap() > 0, "{slot}");
            assert!(slot["high_water_tick"].as_u64().unwrap() > 0, "{slot}");
        }
    }

    etcd.kill();
    // The node's own etcd timeouts bound the read; the route then answers 503.
    let started = Instant::now();
    let (status, headers, body) = get(&a.url("/v1/cluster"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(status, 503, "{body}");
    assert!(headers.get("retry-after").is_some());
    let error: snowdrift_wire::json::ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(error.error.code, "cluster_unavailable");
}
