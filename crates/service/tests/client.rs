//! The client library against real servers: HTTP fallback, typed errors, failover when a node
//! is killed under load, and the prefetch buffer riding out a paused node.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod protocols;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use protocols::Node;
use snowdrift_client::{Client, ClientConfig, Error};

/// The machine field of a default-layout ID.
fn machine(id: u64) -> u64 {
    (id >> 12) & 31
}

#[tokio::test]
async fn falls_back_to_http_and_types_its_errors() {
    let node = Node::start(&["--machine-id", "3"]);
    // gRPC on a dead port first: the client moves on to HTTP.
    let mut config =
        ClientConfig::new(["grpc://127.0.0.1:1".to_string(), node.http_url()]).unwrap();
    config.batch = 1000;
    config.buffer_capacity = 0;
    let direct = Client::new(config.clone()).unwrap();
    let ids = direct.fetch(2500).await.unwrap();
    assert_eq!(ids.len(), 2500);
    assert!(ids.windows(2).all(|w| w[0] < w[1]) && machine(ids[0]) == 3);
    assert!(direct.next_id().await.unwrap() > ids[2499]);
    assert!(direct.stats().failovers >= 1);

    // Over both transports, a batch over the node's limit is a bad request, not retried.
    for url in [node.grpc_url(), node.http_url()] {
        let mut config = ClientConfig::new([url]).unwrap();
        config.batch = 20_000;
        config.buffer_capacity = 0;
        let client = Client::new(config).unwrap();
        let err = client.fetch(20_000).await.unwrap_err();
        assert!(
            matches!(&err, Error::BadRequest { code, .. } if code == "batch_out_of_range"),
            "{err:?}"
        );
        assert!(!err.is_retryable());
        assert_eq!(client.stats().requests, 1);
    }

    // Nothing listening anywhere: Unavailable, within the budget.
    let mut config = ClientConfig::new(["grpc://127.0.0.1:1", "http://127.0.0.1:1"]).unwrap();
    config.retry_budget = Duration::from_millis(300);
    config.wait_timeout = Duration::from_secs(2);
    let nowhere = Client::new(config).unwrap();
    let started = Instant::now();
    let err = nowhere.next_id().await.unwrap_err();
    assert!(
        matches!(err, Error::Unavailable { .. }) && err.is_retryable(),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_keeps_ids_unique_when_a_node_is_killed_under_load() {
    let mut first = Node::start(&["--machine-id", "1"]);
    let second = Node::start(&["--machine-id", "2"]);
    let mut config = ClientConfig::new([first.grpc_url(), second.grpc_url()]).unwrap();
    config.buffer_capacity = 4000;
    config.low_water = 2000;
    config.batch = 1000;
    config.request_timeout = Duration::from_millis(500);
    let client = std::sync::Arc::new(Client::new(config).unwrap());

    // Four consumers at about 10k IDs/s each for three seconds; the first node dies at 1 s.
    let run_for = Duration::from_secs(3);
    let started = Instant::now();
    let mut consumers = Vec::new();
    for _ in 0..4 {
        let client = std::sync::Arc::clone(&client);
        consumers.push(tokio::spawn(async move {
            let (mut ids, mut calls, mut errors) = (Vec::new(), 0u64, 0u64);
            while started.elapsed() < run_for {
                for _ in 0..100 {
                    calls += 1;
                    match client.next_id().await {
                        Ok(id) => ids.push(id),
                        Err(_) => errors += 1,
                    }
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            (ids, calls, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    first.server.kill9();
    let killed_at = started.elapsed();

    let (mut all, mut calls, mut errors) = (Vec::new(), 0, 0);
    for consumer in consumers {
        let (ids, c, e) = consumer.await.unwrap();
        all.extend(ids);
        calls += c;
        errors += e;
    }
    let stats = client.stats();
    let error_rate = errors as f64 / calls as f64;
    println!(
        "failover: killed node 1 at {killed_at:?}; {calls} next_id calls, {errors} errors \
         ({:.3}%); {} requests, {} failed ({:.1}%), {} failovers, {} waits",
        error_rate * 100.0,
        stats.requests,
        stats.failures,
        stats.failure_rate() * 100.0,
        stats.failovers,
        stats.waits,
    );
    let unique: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "an ID was handed out twice");
    assert!(all.len() > 50_000, "only {} IDs in 3 s", all.len());
    assert!(error_rate < 0.01, "error rate {error_rate}");
    let from_second = all.iter().filter(|&&id| machine(id) == 2).count();
    assert!(
        from_second > 10_000,
        "only {from_second} IDs came from the surviving node"
    );
    assert!(stats.failovers >= 1);
    assert_eq!(stats.order_violations, 0);
    drop(second);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_buffer_keeps_serving_while_the_node_is_paused() {
    let node = Node::start(&[]);
    let mut config = ClientConfig::new([node.grpc_url()]).unwrap();
    config.buffer_capacity = 30_000;
    config.low_water = 25_000;
    config.request_timeout = Duration::from_millis(300);
    let client = Client::new(config).unwrap();
    // Wait for the first fill.
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.buffered() < 25_900 {
        assert!(Instant::now() < deadline, "the buffer never filled");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // About 8k IDs/s for 2.5 s; the node is stopped for the first 1.2 s. The buffer crosses
    // its low-water mark (within 5,000 IDs of full) while the node is stopped, so the refill
    // hangs, times out and retries; 26,000 IDs last 3 s at this rate, so no call should have
    // to wait.
    node.server.signal("STOP");
    let stopped = Instant::now();
    let mut resumed = false;
    let (mut ids, mut slowest) = (Vec::new(), Duration::ZERO);
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        if !resumed && stopped.elapsed() > Duration::from_millis(1200) {
            node.server.signal("CONT");
            resumed = true;
        }
        for _ in 0..100 {
            let before = Instant::now();
            ids.push(
                client
                    .next_id()
                    .await
                    .expect("next_id while the node is paused"),
            );
            slowest = slowest.max(before.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if !resumed {
        node.server.signal("CONT");
    }
    let stats = client.stats();
    println!(
        "paused node: {} IDs, slowest next_id {slowest:?}, {} waits, {} failed requests",
        ids.len(),
        stats.waits,
        stats.failures
    );
    assert_eq!(stats.waits, 0, "a call waited for the network");
    assert!(
        slowest < Duration::from_millis(50),
        "slowest next_id took {slowest:?}"
    );
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    assert!(
        stats.failures >= 1,
        "the refill should have met the paused node"
    );
}
