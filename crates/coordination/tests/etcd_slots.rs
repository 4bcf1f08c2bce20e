//! The etcd backend against a real etcd: distinct slots, exhaustion, the layout pin, the
//! floor after a crash or a clean shutdown, a clock behind the mark, and clock sanity.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod etcd_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_client::PutOptions;
use snowdrift::{Layout, Preset};
use snowdrift_coordination::floor::FloorSource;
use snowdrift_coordination::testing::EtcdServer;
use snowdrift_coordination::{
    Backend, ClockSkewPolicy, CoordError, EtcdOptions, HolderIdentity, Node, NodeConfig,
};

use etcd_common::*;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_get_distinct_slots_and_never_repeat_an_id() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "three", 1);
        let mut nodes = Vec::new();
        for _ in 0..3 {
            nodes.push(Arc::new(start(&options).await));
        }
        let mut machines: Vec<u64> = nodes.iter().map(|n| n.status().machine).collect();
        machines.sort_unstable();
        assert_eq!(machines, [0, 1, 2], "the lowest free slots, one each");

        let loads: Vec<_> = nodes
            .iter()
            .map(|node| issue_for(node, Duration::from_millis(1500), 1000))
            .collect();
        let mut lists = Vec::new();
        for load in loads {
            lists.push(load.await.unwrap().0);
        }
        let total = assert_unique(&lists);
        assert!(total > 100_000, "only {total} IDs");

        let client = client(&etcd.endpoint()).await;
        for (node, ids) in nodes.iter().zip(&lists) {
            let status = node.status();
            assert_eq!((status.backend, status.datacenter), ("etcd", 1));
            let mark = mark(&client, "three", 1, status.machine).await.unwrap();
            let top = ids.iter().map(|id| tick(*id)).max().unwrap();
            assert!(
                top <= mark,
                "issued tick {top} above the durable mark {mark}"
            );
            let lease = status.lease.expect("a leased slot reports its lease");
            assert_eq!(lease.ttl_seconds, 2);
            assert!(lease.remaining_seconds > 0.0);
            let slot = get(
                &client,
                &format!("/snowdrift/three/slots/1/{}", status.machine),
            )
            .await
            .expect("the slot key exists while held");
            let holder: HolderIdentity = serde_json::from_slice(&slot).unwrap();
            assert_eq!(holder.pid, std::process::id());
            assert!(holder.clock_unix_ms > 0);
        }
        for node in nodes {
            Arc::into_inner(node).unwrap().shutdown().await.unwrap();
        }
        for machine in 0..3 {
            let key = format!("/snowdrift/three/slots/1/{machine}");
            assert!(get(&client, &key).await.is_none(), "{key} released at once");
            assert!(
                mark(&client, "three", 1, machine).await.is_some(),
                "marks stay"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fifth_node_of_a_two_bit_datacenter_gets_a_clear_error() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "small", 3);
        let layout = Layout::builder().machine_bits(2).build().unwrap();
        let mut nodes = Vec::new();
        for _ in 0..4 {
            nodes.push(
                Node::start(Backend::Etcd(options.clone()), config(layout))
                    .await
                    .unwrap(),
            );
        }
        let err = Node::start(Backend::Etcd(options.clone()), config(layout))
            .await
            .unwrap_err();
        match &err {
            CoordError::SlotsExhausted {
                scope,
                datacenter: 3,
                slots: 4,
            } => assert!(scope.contains("\"small\""), "{scope}"),
            other => panic!("expected SlotsExhausted, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("all 4 machine slots of datacenter 3"),
            "{message}"
        );
        // The refused node left no lease-bound key behind.
        let client = client(&etcd.endpoint()).await;
        let mut kv = client.kv_client();
        let held = kv
            .get(
                "/snowdrift/small/slots/",
                Some(etcd_client::GetOptions::new().with_prefix()),
            )
            .await
            .unwrap();
        assert_eq!(held.kvs().len(), 4);
        for node in nodes {
            node.shutdown().await.unwrap();
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_another_layout_is_refused_saying_what_differs() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "pinned", 0);
        let first = start(&options).await;
        let err = Node::start(
            Backend::Etcd(options.clone()),
            config(Preset::Twitter.layout()),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, CoordError::LayoutMismatch { .. }), "{err}");
        let message = err.to_string();
        for part in [
            "/snowdrift/pinned/layout",
            "epoch 1609459200000",
            "epoch 1288834974657",
            "differs in epoch",
        ] {
            assert!(message.contains(part), "{part:?} missing from: {message}");
        }
        first.shutdown().await.unwrap();
        // Still refused with nobody holding a slot: the pin outlives the nodes.
        let err = Node::start(Backend::Etcd(options), config(Preset::Twitter.layout()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "layout_mismatch");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_node_s_slot_is_taken_after_the_ttl_and_issues_above_its_mark() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "crash", 0);
        let crashed = Arc::new(start(&options).await);
        assert_eq!(crashed.status().machine, 0);
        let (before, _) = issue_for(&crashed, Duration::from_millis(300), 4096)
            .await
            .unwrap();
        // Dropping without shutdown stops the renewals but revokes nothing: a crash.
        drop(crashed);
        let died = Instant::now();

        let successor = loop {
            match start_fixed(&options, 0).await {
                Ok(node) => break node,
                Err(CoordError::SlotHeld { .. }) => {
                    assert!(died.elapsed() < Duration::from_secs(10), "slot never freed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(other) => panic!("{other}"),
            }
        };
        let takeover = died.elapsed();
        eprintln!("takeover of a crashed node's slot (TTL 2 s): {takeover:?}");
        assert!(
            takeover >= Duration::from_millis(1000),
            "taken while the lease lived: {takeover:?}"
        );

        let after: Vec<_> = successor.generator().next_ids(1000).unwrap().collect();
        let old_top = before.iter().max().unwrap();
        assert!(
            after.iter().all(|id| id > old_top),
            "the successor starts above the old IDs"
        );
        let status = successor.status();
        assert!(status.floor_tick > tick(*old_top));
        assert_unique([&before, &after]);
        successor.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_slot_is_refused_naming_the_holder_and_freed_by_shutdown() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "held", 0);
        let first = start_fixed(&options, 5).await.unwrap();
        let err = start_fixed(&options, 5).await.unwrap_err();
        match &err {
            CoordError::SlotHeld {
                machine: 5, holder, ..
            } => assert!(
                holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            ),
            other => panic!("expected SlotHeld, got {other:?}"),
        }
        let issued: Vec<_> = first.generator().next_ids(100).unwrap().collect();
        let top = issued.iter().map(|id| tick(*id)).max().unwrap();
        // A clean shutdown lowers the mark to the last tick issued (see clean_shutdown.rs) and
        // frees the slot; the next holder starts above it (at its claim-time floor, which lies
        // above the lowered mark: "Restores nobody can notice" in docs/PROTOCOL.md).
        first.shutdown().await.unwrap();
        let again = start_fixed(&options, 5).await.unwrap();
        let status = again.status();
        assert!(status.floor_tick > top, "{status:?}");
        assert_eq!(status.floor_source, FloorSource::ClaimTime, "{status:?}");
        again.shutdown().await.unwrap();
    })
    .await;
}

async fn put_mark(etcd: &EtcdServer, cluster: &str, machine: u64, tick: u64) {
    let client = client(&etcd.endpoint()).await;
    let mut kv = client.kv_client();
    kv.put(
        format!("/snowdrift/{cluster}/hwm/0/{machine}"),
        format!("{tick:020}"),
        None,
    )
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_takes_a_free_slot_whose_mark_the_clock_passed_rather_than_wait() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "prefer", 0);
        // Slot 0, the lowest free one, has a mark an hour ahead of this clock (its last
        // holder's clock ran fast); slot 1 is free with no mark.
        let far = tick_now() + 3_600_000;
        put_mark(&etcd, "prefer", 0, far).await;
        let node = start(&options).await;
        let status = node.status();
        assert_eq!(
            status.machine, 1,
            "took the slot whose mark the clock passed"
        );
        assert!(
            status.floor_tick < tick_now(),
            "no wait, no advance: {status:?}"
        );
        assert!(status.clock_advance.is_none());
        let id = node.generator().next_id().unwrap();
        assert!(tick(id) < far);
        // Slot 0 is left alone, its mark as it was.
        let client = client(&etcd.endpoint()).await;
        assert_eq!(mark(&client, "prefer", 0, 0).await, Some(far));
        node.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_an_hour_behind_the_mark_fails_clearly_and_frees_the_slot() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let options = options(&etcd.endpoint(), "behind", 0);
        let far = tick_now() + 3_600_000;
        put_mark(&etcd, "behind", 0, far).await;
        let started = Instant::now();
        let err = start_fixed(&options, 0).await.unwrap_err();
        match err {
            CoordError::ClockBehindHighWater { behind, .. } => {
                assert!(behind > Duration::from_secs(3590), "{behind:?}");
            }
            other => panic!("expected ClockBehindHighWater, got {other}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "it must not wait the hour out"
        );
        let client = client(&etcd.endpoint()).await;
        assert!(
            get(&client, "/snowdrift/behind/slots/0/0").await.is_none(),
            "lease revoked"
        );
        assert_eq!(
            mark(&client, "behind", 0, 0).await,
            Some(far),
            "the mark is never lowered"
        );

        // A small gap is waited for, and the first ID is above the mark.
        let near = tick_now() + 300;
        put_mark(&etcd, "behind", 1, near).await;
        let node = start_fixed(&options, 1).await.unwrap();
        assert!(tick(node.generator().next_id().unwrap()) > near);
        node.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clock_far_from_the_live_holders_is_warned_about_or_refused() {
    bounded(LIMIT, async {
        let etcd = EtcdServer::start().await.unwrap();
        let client = client(&etcd.endpoint()).await;
        // A peer whose advertised clock is an hour ahead of ours, on a live lease.
        let lease = client.lease_client().grant(30, None).await.unwrap().id();
        let mut peer = HolderIdentity::of_this_process(vec!["10.0.0.9:8080".into()]);
        peer.clock_unix_ms += 3_600_000;
        client
            .kv_client()
            .put(
                "/snowdrift/skew/slots/0/7",
                serde_json::to_vec(&peer).unwrap(),
                Some(PutOptions::new().with_lease(lease)),
            )
            .await
            .unwrap();

        let mut refuse = options(&etcd.endpoint(), "skew", 0);
        refuse.skew_policy = ClockSkewPolicy::Refuse;
        let err = Node::start(Backend::Etcd(refuse), config(Layout::default()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), "clock_skew", "{err}");
        assert!(err.to_string().contains("machine 7"), "{err}");

        let warn = options(&etcd.endpoint(), "skew", 0);
        let node = Node::start(Backend::Etcd(warn), config(Layout::default()))
            .await
            .unwrap();
        assert_eq!(node.status().machine, 0);
        node.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_are_refused_before_touching_etcd() {
    let mut bad = EtcdOptions::new(vec![], "c", 0);
    assert_eq!(
        Node::start(
            Backend::Etcd(bad.clone()),
            NodeConfig::new(Layout::default())
        )
        .await
        .unwrap_err()
        .code(),
        "config"
    );
    bad.endpoints = vec!["127.0.0.1:1".into()];
    bad.cluster = "no/slashes".into();
    assert!(bad.validate().is_err());
    bad.cluster = "ok".into();
    bad.datacenter = 32;
    let err = Node::start(Backend::Etcd(bad), NodeConfig::new(Layout::default()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("datacenter"), "{err}");
}
