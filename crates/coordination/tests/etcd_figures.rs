//! The figures reported in `docs/PROTOCOL.md`, measured against a real etcd with the service's
//! defaults (10 s lease fenced 2 s early, 2 s window checked every 100 ms). They take about three
//! minutes, so they are `#[ignore]`d; reproduce them with
//!
//! ```text
//! cargo test -p snowdrift-coordination --test etcd_figures -- --ignored --nocapture --test-threads 1
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used)] // measurements: a panic is the report

mod etcd_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use snowdrift::Layout;
use snowdrift_coordination::testing::EtcdServer;
use snowdrift_coordination::{
    Backend, CoordError, EtcdOptions, MachineChoice, Node, NodeConfig, WindowConfig,
};

use etcd_common::{bounded, client, version};

/// The service's defaults.
fn defaults(endpoint: &str, cluster: &str) -> (EtcdOptions, NodeConfig) {
    (
        EtcdOptions::new(vec![endpoint.to_string()], cluster, 0),
        NodeConfig {
            window: WindowConfig::default(),
            ..NodeConfig::new(Layout::default())
        },
    )
}

fn summary(name: &str, samples: &mut [Duration]) {
    samples.sort_unstable();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    eprintln!(
        "{name}: n={} min {:.3}s median {:.3}s mean {:.3}s max {:.3}s",
        samples.len(),
        samples[0].as_secs_f64(),
        samples[samples.len() / 2].as_secs_f64(),
        mean.as_secs_f64(),
        samples[samples.len() - 1].as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored"]
async fn seconds_of_service_after_etcd_is_lost() {
    bounded(Duration::from_secs(120), async {
        let mut etcd = EtcdServer::start().await.unwrap();
        let (options, config) = defaults(&etcd.endpoint(), "lost");
        let node = Arc::new(Node::start(Backend::Etcd(options), config).await.unwrap());
        let mut samples = Vec::new();
        for trial in 0..8u32 {
            // Lose etcd at a different point of the window each time.
            tokio::time::sleep(Duration::from_millis(1500 + 137 * u64::from(trial))).await;
            assert!(
                node.is_ready(),
                "trial {trial}: not serving before etcd was lost"
            );
            let lost = Instant::now();
            etcd.kill();
            let served = tokio::task::spawn_blocking({
                let node = Arc::clone(&node);
                move || loop {
                    match node.generator().next_id() {
                        Ok(_) => std::thread::sleep(Duration::from_millis(1)),
                        Err(e) => break (lost.elapsed(), e.code()),
                    }
                }
            })
            .await
            .unwrap();
            assert_eq!(served.1, "ceiling_reached");
            samples.push(served.0);
            etcd.start_again().await.unwrap();
            let back = Instant::now();
            while !node.is_ready() {
                assert!(back.elapsed() < Duration::from_secs(30), "did not recover");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        summary("service after etcd is lost (window 2 s)", &mut samples);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored"]
async fn time_for_a_new_node_to_take_over_a_dead_node_s_slot() {
    bounded(Duration::from_secs(180), async {
        let etcd = EtcdServer::start().await.unwrap();
        for ttl in [10u64, 2] {
            let mut samples = Vec::new();
            let cluster = format!("takeover-{ttl}");
            for _ in 0..4 {
                let (options, config) = defaults(&etcd.endpoint(), &cluster);
                let options = options.with_lease_ttl(Duration::from_secs(ttl));
                let fixed = EtcdOptions {
                    machine: MachineChoice::Fixed(0),
                    ..options.clone()
                };
                let dead = Node::start(Backend::Etcd(fixed.clone()), config.clone())
                    .await
                    .unwrap();
                // Crash at a random point of the keepalive cycle.
                tokio::time::sleep(Duration::from_millis(700 + rand_ms())).await;
                drop(dead);
                let died = Instant::now();
                // A replacement retrying every 100 ms, as a supervisor would restart it.
                let successor = loop {
                    match Node::start(Backend::Etcd(fixed.clone()), config.clone()).await {
                        Ok(node) => break node,
                        Err(CoordError::SlotHeld { .. }) => {
                            tokio::time::sleep(Duration::from_millis(100)).await
                        }
                        Err(other) => panic!("{other}"),
                    }
                };
                samples.push(died.elapsed());
                successor.shutdown().await.unwrap();
            }
            summary(
                &format!("takeover of a crashed node's slot (TTL {ttl} s)"),
                &mut samples,
            );
        }
    })
    .await;
}

/// A cheap varying delay (no RNG dependency): the sub-millisecond part of the clock.
fn rand_ms() -> u64 {
    u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_micros()
            % 1000,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement; run with --ignored"]
async fn etcd_writes_per_second_per_node_for_the_window() {
    bounded(Duration::from_secs(120), async {
        let etcd = EtcdServer::start().await.unwrap();
        let client = client(&etcd.endpoint()).await;
        for window_s in [1u64, 2, 10] {
            let cluster = format!("writes-{window_s}");
            let (mut options, mut config) = defaults(&etcd.endpoint(), &cluster);
            config.window.window = Duration::from_secs(window_s);
            // The validators want the window at most the start-up wait and below the TTL.
            config.window.startup_max_wait =
                config.window.startup_max_wait.max(config.window.window);
            if options.lease_ttl <= config.window.window {
                options = options.with_lease_ttl(Duration::from_secs(window_s + 5));
            }
            let node = Node::start(Backend::Etcd(options), config).await.unwrap();
            let key = format!("/snowdrift/{cluster}/hwm/0/{}", node.status().machine);
            let mut kv = client.kv_client();
            let revision = |answer: etcd_client::GetResponse| answer.header().unwrap().revision();
            let (v0, r0, t0) = (
                version(&client, &key).await,
                revision(kv.get("x", None).await.unwrap()),
                Instant::now(),
            );
            let load = etcd_common::issue_for(&Arc::new(node), Duration::from_secs(20), 100);
            let (_, errors) = load.await.unwrap();
            let (v1, r1, elapsed) = (
                version(&client, &key).await,
                revision(kv.get("x", None).await.unwrap()),
                t0.elapsed(),
            );
            assert_eq!(errors, 0, "the node refused IDs under a healthy etcd");
            eprintln!(
                "window {window_s} s: {} high-water writes in {:.1}s = {:.2} writes/s per node \
                 ({} etcd revisions: every write of the cluster in that time)",
                v1 - v0,
                elapsed.as_secs_f64(),
                (v1 - v0) as f64 / elapsed.as_secs_f64(),
                r1 - r0
            );
        }
    })
    .await;
}
