//! The etcd backend when things go wrong, against a real etcd: a partition (through a proxy
//! that stops forwarding), etcd killed and restarted, etcd frozen (SIGSTOP), and a lease
//! revoked behind the node's back. In every case: no ID repeats, the node stops issuing
//! before anyone else may hold its slot, and it serves again by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod etcd_common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snowdrift::Id;
use snowdrift_coordination::testing::{EtcdServer, Proxy};
use snowdrift_coordination::{EtcdOptions, Node, NodePhase};

use etcd_common::*;

const LIMIT: Duration = Duration::from_secs(90);

/// What a load thread saw.
#[derive(Debug, Default)]
struct Seen {
    ids: Vec<Id>,
    last_ok: Option<Instant>,
    /// The first failure after a success, with its code.
    first_error: Option<(Instant, String)>,
    errors: u64,
}

/// Issues batches of 100 from `node` until `stop`, recording when it last succeeded.
fn load(
    node: Arc<Node>,
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<Seen>>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        while !stop.load(Ordering::Relaxed) {
            let result = node.generator().next_ids(100);
            let now = Instant::now();
            let mut seen = seen.lock().unwrap();
            match result {
                Ok(block) => {
                    seen.ids.extend(block);
                    seen.last_ok = Some(now);
                    seen.first_error = None;
                }
                Err(e) => {
                    seen.errors += 1;
                    if seen.first_error.is_none() {
                        seen.first_error = Some((now, e.code().to_string()));
                    }
                }
            }
            drop(seen);
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

fn with_ttl(options: EtcdOptions, seconds: u64) -> EtcdOptions {
    let mut options = options.with_lease_ttl(Duration::from_secs(seconds));
    options.request_timeout = Duration::from_millis(500);
    options.connect_timeout = Duration::from_millis(500);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_node_fences_before_its_lease_ends_and_its_successor_never_overlaps() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let proxy = Proxy::start(etcd.client_addr()).await.unwrap();
        let behind_proxy = options(&proxy.endpoint(), "partition", 0);
        let margin = behind_proxy.safety_margin;
        let old = Arc::new(start(&behind_proxy).await);
        assert_eq!(old.status().machine, 0);
        let direct = client(&etcd.endpoint()).await;

        let stop = Arc::new(AtomicBool::new(false));
        let old_seen = Arc::new(Mutex::new(Seen::default()));
        let old_load = load(Arc::clone(&old), Arc::clone(&stop), Arc::clone(&old_seen));
        tokio::time::sleep(Duration::from_millis(700)).await;

        // Watch the old node's own view of its deadline until it fences.
        let partitioned_at = Instant::now();
        proxy.partition();
        let mut fence_deadline = None;
        let mut fenced_at = None;
        let mut key_gone_at = None;
        while key_gone_at.is_none() || fenced_at.is_none() {
            assert!(partitioned_at.elapsed() < Duration::from_secs(10), "no fence or no expiry");
            let status = old.status();
            if status.fenced || status.phase != NodePhase::Serving {
                fenced_at.get_or_insert_with(Instant::now);
            } else if let Some(lease) = status.lease {
                fence_deadline = Some(Instant::now() + Duration::from_secs_f64(lease.remaining_seconds.max(0.0)));
            }
            if key_gone_at.is_none() && get(&direct, "/snowdrift/partition/slots/0/0").await.is_none() {
                key_gone_at = Some(Instant::now());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (fenced_at, key_gone_at) = (fenced_at.unwrap(), key_gone_at.unwrap());
        let last_ok = old_seen.lock().unwrap().last_ok.unwrap();
        eprintln!(
            "partition: old node fenced {:?} after the partition; its key expired {:?} after; last ID {:?} after",
            fenced_at - partitioned_at,
            key_gone_at - partitioned_at,
            last_ok.saturating_duration_since(partitioned_at)
        );
        // etcd's expiry is at least (last renewal sent) + TTL = the node's fence deadline +
        // the margin; the node stopped before that, and before etcd deleted the key.
        let fence_deadline = fence_deadline.expect("a lease was reported while serving");
        assert!(last_ok < fence_deadline + margin, "issued after its own lease deadline");
        assert!(last_ok < key_gone_at, "issued after etcd expired its slot");
        assert!(fenced_at < key_gone_at, "fenced only after etcd expired the slot");

        // The successor takes the same slot and starts above everything the old node issued.
        let successor = Arc::new(start(&options(&etcd.endpoint(), "partition", 0)).await);
        assert_eq!(successor.status().machine, 0, "the expired slot is the lowest free one");
        let successor_seen = Arc::new(Mutex::new(Seen::default()));
        let successor_load = load(Arc::clone(&successor), Arc::clone(&stop), Arc::clone(&successor_seen));
        tokio::time::sleep(Duration::from_millis(500)).await;

        // Healing: the old node claims a slot again (another one) and serves.
        proxy.heal();
        eventually(Duration::from_secs(15), "the old node to serve again", || {
            let ready = old.is_ready();
            async move { ready }
        })
        .await;
        assert_eq!(old.status().machine, 1);
        assert_eq!(old.status().claims, 2);
        tokio::time::sleep(Duration::from_millis(200)).await;
        stop.store(true, Ordering::Relaxed);
        old_load.await.unwrap();
        successor_load.await.unwrap();

        let old_ids = std::mem::take(&mut old_seen.lock().unwrap().ids);
        let successor_ids = std::mem::take(&mut successor_seen.lock().unwrap().ids);
        let old_top_in_slot = old_ids
            .iter()
            .filter(|id| id.parts(&snowdrift::Layout::default()).unwrap().machine == 0)
            .max()
            .copied()
            .unwrap();
        assert!(successor_ids.iter().all(|id| *id > old_top_in_slot));
        let total = assert_unique([&old_ids, &successor_ids]);
        eprintln!("partition: {total} IDs from both nodes, no duplicate");
        Arc::into_inner(old).unwrap().shutdown().await.unwrap();
        Arc::into_inner(successor).unwrap().shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_etcd_down_a_node_serves_to_its_ceiling_then_recovers_by_itself() {
    bounded(LIMIT, async {
        let mut etcd = EtcdServer::start().await.unwrap();
        // A 3 s lease fences at least 1.6 s after the last renewal; the 1 s window runs out
        // first, so the node stops because its ceiling is reached.
        let options = with_ttl(options(&etcd.endpoint(), "down", 0), 3);
        let node = Arc::new(start(&options).await);
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let loader = load(Arc::clone(&node), Arc::clone(&stop), Arc::clone(&seen));
        tokio::time::sleep(Duration::from_millis(500)).await;

        let killed_at = Instant::now();
        etcd.kill();
        eventually(Duration::from_secs(5), "the first refusal", || {
            let refused = seen.lock().unwrap().first_error.is_some();
            async move { refused }
        })
        .await;
        let (refused_at, code) = seen.lock().unwrap().first_error.clone().unwrap();
        let served = refused_at - killed_at;
        eprintln!("etcd down: served {served:?} after etcd was killed (window 1 s), then {code}");
        assert_eq!(code, "ceiling_reached");
        assert!(
            served <= Duration::from_millis(1300),
            "served past the window: {served:?}"
        );
        assert!(!node.is_ready());
        let ceiling = node.status().ceiling_tick;

        tokio::time::sleep(Duration::from_millis(700)).await;
        etcd.start_again().await.unwrap();
        let restarted_at = Instant::now();
        eventually(Duration::from_secs(20), "the node to serve again", || {
            let ready = node.is_ready();
            async move { ready }
        })
        .await;
        eprintln!(
            "etcd down: serving again {:?} after etcd restarted (claims: {})",
            restarted_at.elapsed(),
            node.status().claims
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        loader.await.unwrap();

        let ids = std::mem::take(&mut seen.lock().unwrap().ids);
        assert_unique([&ids]);
        let client = client(&etcd.endpoint()).await;
        let status = node.status();
        let durable = mark(&client, "down", 0, status.machine).await.unwrap();
        let top = ids.iter().map(|id| tick(*id)).max().unwrap();
        assert!(
            top <= durable,
            "issued {top} above the durable mark {durable}"
        );
        if let Some(ceiling) = ceiling {
            let before: Vec<_> = ids
                .iter()
                .filter(|id| id.parts(&snowdrift::Layout::default()).unwrap().machine == 0)
                .collect();
            assert!(before.iter().all(|id| tick(**id) <= durable.max(ceiling)));
        }
        Arc::into_inner(node).unwrap().shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_etcd_stops_issuing_at_the_ceiling_and_thawing_resumes_it() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = with_ttl(options(&etcd.endpoint(), "frozen", 0), 3);
        let node = Arc::new(start(&options).await);
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(Seen::default()));
        let loader = load(Arc::clone(&node), Arc::clone(&stop), Arc::clone(&seen));
        tokio::time::sleep(Duration::from_millis(500)).await;

        etcd.pause().unwrap();
        eventually(Duration::from_secs(5), "the first refusal", || {
            let refused = seen.lock().unwrap().first_error.is_some();
            async move { refused }
        })
        .await;
        etcd.resume().unwrap();
        eventually(Duration::from_secs(20), "the node to serve again", || {
            let ready = node.is_ready();
            async move { ready }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        loader.await.unwrap();
        let ids = std::mem::take(&mut seen.lock().unwrap().ids);
        assert_unique([&ids]);
        let client = client(&etcd.endpoint()).await;
        let durable = mark(&client, "frozen", 0, node.status().machine)
            .await
            .unwrap();
        assert!(ids.iter().all(|id| tick(*id) <= durable));
        Arc::into_inner(node).unwrap().shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_revoked_behind_the_node_s_back_fences_it_and_it_claims_again() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "revoked", 0);
        let node = start(&options).await;
        let before: Vec<_> = node.generator().next_ids(1000).unwrap().collect();
        let status = node.status();
        let old_mark = status.high_water_tick.unwrap();
        let lease = status.lease.unwrap().id;

        let client = client(&etcd.endpoint()).await;
        client.lease_client().revoke(lease).await.unwrap();
        eventually(Duration::from_secs(10), "a second claim", || {
            let status = node.status();
            async move { status.claims == 2 && status.phase == NodePhase::Serving }
        })
        .await;
        let status = node.status();
        assert_ne!(status.lease.unwrap().id, lease);
        assert!(
            status.floor_tick > old_mark,
            "the new holding starts above the old mark"
        );
        let after: Vec<_> = node.generator().next_ids(1000).unwrap().collect();
        assert!(after.iter().all(|id| before.iter().all(|old| id > old)));
        assert_unique([&before, &after]);
        node.shutdown().await.unwrap();
    })
    .await;
}
