//! A clean shutdown lowers the slot's mark to an exact bound on what was issued (issue 9 §0,
//! second bullet): with a 10 s window, an immediate restart starts at once and above every ID
//! issued before, on both backends; a shutdown whose lowering failed leaves the mark a window
//! ahead, so the next holder still waits for it and repeats nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod etcd_common;

use std::time::{Duration, Instant};

use snowdrift::{Id, Layout};
use snowdrift_coordination::floor::FloorSource;
use snowdrift_coordination::testing::{EtcdServer, Proxy};
use snowdrift_coordination::{
    Backend, EtcdOptions, LocalOptions, MachineChoice, Node, NodeConfig, WindowConfig,
};

use etcd_common::{bounded, client, mark, tick, tick_now};

const LIMIT: Duration = Duration::from_secs(60);

/// A 5 s window, as long as the start-up wait allows: a restart that had to wait it out would
/// take seconds, not the moment the test allows.
fn long_window() -> NodeConfig {
    NodeConfig {
        window: WindowConfig {
            window: Duration::from_secs(5),
            check_interval: Duration::from_millis(50),
            ..WindowConfig::default()
        },
        ..NodeConfig::new(Layout::default())
    }
}

fn local(dir: &std::path::Path) -> Backend {
    Backend::Local(LocalOptions {
        data_dir: dir.to_path_buf(),
        datacenter: 0,
        machine: MachineChoice::Fixed(0),
    })
}

/// Slot 0, with a 6 s lease: the window must be shorter than the lease TTL.
fn etcd_fixed(endpoint: &str, cluster: &str) -> EtcdOptions {
    let mut options = etcd_common::options(endpoint, cluster, 0);
    options.lease_ttl = Duration::from_secs(6);
    EtcdOptions {
        machine: MachineChoice::Fixed(0),
        ..options
    }
}

/// Issues a few blocks and returns them; the last one ends at the highest tick issued.
fn issue(node: &Node) -> Vec<Id> {
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.extend(node.generator().next_ids(1000).unwrap());
        std::thread::sleep(Duration::from_millis(3));
    }
    ids
}

/// Restarts on `backend` right after a clean shutdown and checks where it started: the local
/// backend right above everything issued before, from the lowered mark, and at once; etcd
/// above its claim-time floor, which lies above the lowered mark (every etcd claim waits the
/// window plus the skew, since a store restored from a backup could have lost a later mark:
/// `docs/PROTOCOL.md`, "Restores nobody can notice").
async fn restart_after_a_clean_shutdown(backend: Backend, before: &[Id]) -> Node {
    let etcd = matches!(backend, Backend::Etcd(_));
    let restart = Instant::now();
    let node = Node::start(backend, long_window())
        .await
        .unwrap_or_else(|e| panic!("the immediate restart failed: {e}"));
    let took = restart.elapsed();
    let top = before.iter().map(|id| tick(*id)).max().unwrap();
    let status = node.status();
    eprintln!(
        "{}: restart after a clean shutdown took {took:?}; floor {} ({:?}; top issued {top})",
        status.backend, status.floor_tick, status.floor_source
    );
    if etcd {
        assert_eq!(status.floor_source, FloorSource::ClaimTime, "{status:?}");
        assert!(status.floor_tick > top + 1, "{status:?}");
    } else {
        assert!(took < Duration::from_secs(2), "the restart waited {took:?}");
        assert_eq!(status.floor_source, FloorSource::Mark, "{status:?}");
        assert_eq!(
            status.floor_tick,
            top + 1,
            "the mark was lowered to the top tick issued"
        );
    }
    let after: Vec<Id> = node.generator().next_ids(1000).unwrap().collect();
    let highest_before = before.iter().max().unwrap();
    assert!(after.iter().all(|id| id > highest_before));
    node
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_an_immediate_restart_after_a_clean_shutdown_starts_at_once_above_every_id() {
    bounded(LIMIT, async {
        let dir = tempfile::tempdir().unwrap();
        let node = Node::start(local(dir.path()), long_window()).await.unwrap();
        let before = issue(&node);
        node.shutdown().await.unwrap();
        let again = restart_after_a_clean_shutdown(local(dir.path()), &before).await;
        again.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_a_clean_shutdown_lowers_the_mark_and_the_restart_starts_above_every_id() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = etcd_fixed(&etcd.endpoint(), "clean");
        let node = Node::start(Backend::Etcd(options.clone()), long_window())
            .await
            .unwrap();
        let before = issue(&node);
        let ceiling = node.status().high_water_tick.unwrap();
        node.shutdown().await.unwrap();
        let direct = client(&etcd.endpoint()).await;
        let lowered = mark(&direct, "clean", 0, 0).await.unwrap();
        assert!(
            lowered < ceiling,
            "the mark {lowered} was not lowered from {ceiling}"
        );
        let again = restart_after_a_clean_shutdown(Backend::Etcd(options), &before).await;
        again.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_a_shutdown_whose_lowering_failed_leaves_the_mark_and_the_restart_waits_for_it() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let proxy = Proxy::start(etcd.client_addr()).await.unwrap();
        // A 5 s window: at shutdown the mark is 2.5 to 5 s ahead. The window is below the 6 s
        // lease TTL (the validators insist), so the clock has nearly passed the mark by the
        // time the unrevoked lease expires: the next holder starts above it.
        let config = || NodeConfig {
            window: WindowConfig {
                window: Duration::from_secs(5),
                startup_max_wait: Duration::from_secs(5),
                check_interval: Duration::from_millis(50),
                ..WindowConfig::default()
            },
            ..NodeConfig::new(Layout::default())
        };
        let node = Node::start(
            Backend::Etcd(etcd_fixed(&proxy.endpoint(), "unlowered")),
            config(),
        )
        .await
        .unwrap();
        let before = issue(&node);
        let persisted = node.status().high_water_tick.unwrap();

        // etcd is out of reach at shutdown: neither the lowering nor the revocation lands.
        proxy.partition();
        assert!(node.shutdown().await.is_err(), "the revocation cannot succeed");
        let direct = client(&etcd.endpoint()).await;
        assert_eq!(
            mark(&direct, "unlowered", 0, 0).await,
            Some(persisted),
            "the mark stays a window ahead"
        );

        // The next holder gets the slot once the lease expires, and starts above the mark that
        // was left (waiting for the clock to pass it, if it has not yet).
        let options = etcd_fixed(&etcd.endpoint(), "unlowered");
        let asked = Instant::now();
        let next = loop {
            match Node::start(Backend::Etcd(options.clone()), config()).await {
                Ok(node) => break node,
                Err(e) => {
                    // Held until the lease expires; on a loaded machine a request may also
                    // outlast the tests' 500 ms timeout (a `backend` error): ask again.
                    eprintln!("unlowered: start refused: {e}");
                    assert!(["slot_held", "backend"].contains(&e.code()), "{e}");
                    assert!(asked.elapsed() < Duration::from_secs(20), "never freed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        };
        let status = next.status();
        let top = before.iter().map(|id| tick(*id)).max().unwrap();
        eprintln!(
            "unlowered: the next holder started {:?} after asking, at floor {} (mark {persisted}, top issued {top})",
            asked.elapsed(),
            status.floor_tick
        );
        // Above the mark that was left; the claim-time floor, read at the claim after the lease
        // expired, lies higher still.
        assert!(status.floor_tick > persisted, "{status:?}");
        assert_eq!(status.floor_source, FloorSource::ClaimTime, "{status:?}");
        assert!(tick_now() > persisted, "it started before the clock passed the mark");
        let after: Vec<Id> = next.generator().next_ids(1000).unwrap().collect();
        assert!(after.iter().all(|id| tick(*id) > persisted));
        next.shutdown().await.unwrap();
        proxy.heal();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_a_mark_that_changed_since_the_holder_wrote_it_is_not_lowered() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = etcd_fixed(&etcd.endpoint(), "changed");
        let node = Node::start(
            Backend::Etcd(options),
            etcd_common::config(Layout::default()),
        )
        .await
        .unwrap();
        let _ = issue(&node);
        // Right after an extension, so that the keeper does not extend again (and see the
        // write below) before the shutdown: the next one is half a window away.
        let first = node.status().high_water_tick.unwrap();
        etcd_common::eventually(Duration::from_secs(5), "a window extension", || {
            let now = node.status().high_water_tick.unwrap();
            async move { now != first }
        })
        .await;
        let persisted = node.status().high_water_tick.unwrap();
        // A write the holder never had acknowledged (say, a late one of its own).
        let direct = client(&etcd.endpoint()).await;
        let other = persisted + 5_000;
        direct
            .kv_client()
            .put("/snowdrift/changed/hwm/0/0", format!("{other:020}"), None)
            .await
            .unwrap();
        node.shutdown().await.unwrap();
        assert_eq!(mark(&direct, "changed", 0, 0).await, Some(other));
    })
    .await;
}
