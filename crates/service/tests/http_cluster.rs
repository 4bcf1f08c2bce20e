//! `GET /v1/cluster` on real processes against a real etcd: two nodes of one cluster each see
//! both slots, with their holders' pids, leases and marks, in the shape `cluster status --json`
//! prints; with etcd gone the route answers 503 with `Retry-After` in the error shape; and the
//! route keeps one etcd connection across requests (counted by a proxy in front of etcd),
//! connecting again after it breaks.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{get, get_json, ServerBuilder};
use snowdrift_coordination::testing::EtcdServer;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

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

/// A TCP relay in front of etcd that counts the connections it accepts, and can cut them all.
struct CountingProxy {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    relays: Arc<Mutex<Vec<AbortHandle>>>,
    acceptor: AbortHandle,
}

impl CountingProxy {
    async fn start(upstream: SocketAddr) -> CountingProxy {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let relays = Arc::new(Mutex::new(Vec::new()));
        let (count, tasks) = (Arc::clone(&accepted), Arc::clone(&relays));
        let acceptor = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let relay = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(relay.abort_handle());
            }
        })
        .abort_handle();
        CountingProxy {
            addr,
            accepted,
            relays,
            acceptor,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes every connection relayed so far (both ends), as a restarted etcd would.
    fn sever(&self) {
        for relay in self.relays.lock().unwrap().drain(..) {
            relay.abort();
        }
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.acceptor.abort();
        self.sever();
    }
}

#[test]
fn many_requests_share_one_etcd_connection_which_is_made_again_after_it_breaks() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let etcd = runtime.block_on(EtcdServer::start()).unwrap();
    let proxy = runtime.block_on(CountingProxy::start(etcd.client_addr()));
    let node = ServerBuilder::new()
        .args([
            "--coordinator",
            "etcd",
            "--etcd-endpoints",
            &proxy.endpoint(),
            "--cluster",
            "kept",
            "--machine-id",
            "auto",
            "--lease-ttl",
            "5s",
        ])
        .start();
    let url = node.url("/v1/cluster");
    // The first read connects; the node's own coordinator is connected already.
    let (status, map) = get_json(&url);
    assert_eq!(status, 200, "{map}");
    let before = proxy.accepted();
    const READS: usize = 30;
    for _ in 0..READS {
        let (status, map) = get_json(&url);
        assert_eq!(status, 200, "{map}");
        assert_eq!(map["slots"].as_array().unwrap().len(), 1, "{map}");
    }
    let opened = proxy.accepted() - before;
    // One connection per read would be 30; a reconnect of the coordinator's own, 1.
    assert!(
        opened <= 1,
        "{READS} reads of /v1/cluster opened {opened} etcd connections"
    );

    // Every connection to etcd breaks: the route connects again by itself (a read that meets
    // the broken connection may answer 503 first), and keeps the new connection after.
    proxy.sever();
    let started = Instant::now();
    loop {
        let (status, body) = get_json(&url);
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "/v1/cluster still fails after the connection broke: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let reconnected = proxy.accepted();
    for _ in 0..10 {
        assert_eq!(get_json(&url).0, 200);
    }
    assert!(
        proxy.accepted() - reconnected <= 1,
        "reads after the reconnect opened {} connections",
        proxy.accepted() - reconnected
    );
    drop(node);
}
