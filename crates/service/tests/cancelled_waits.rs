//! A client that goes away while its request waits for its ticks, against the real binary.
//! Both HTTP/2 (gRPC) and HTTP/1.1 (hyper) drop the request's future when its client leaves:
//! - a block that was reserved and held is burned: never handed to anyone, counted in
//!   `snowdrift_ids_burned_total`, not in `snowdrift_ids_issued_total`;
//! - a request still pending for its first tick had reserved nothing, and burns nothing.
//!
//! Nothing else is lost: the counters add up to exactly what was reserved, and the IDs handed
//! out afterwards follow on. (The Redis protocol runs each command to its end, within
//! `max_wait`, and finds out that the client left when it writes the reply.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod protocols;

use std::time::{Duration, Instant};

use protocols::Node;
use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::{NextIdRequest, NextIdsRequest, StreamIdsRequest};
use tonic::transport::Channel;

/// Four IDs a millisecond: a block of 1000 spans 250 ticks and waits about 250 ms.
const LAYOUT: &str = "[layout]\ntimestamp_bits = 41\ndatacenter_bits = 5\nmachine_bits = 5\n\
                      sequence_bits = 2\nepoch_ms = 1609459200000\n";

/// The value of an unlabelled counter on `/metrics`.
fn counter(node: &Node, name: &str) -> u64 {
    let (status, _, text) = common::get(&format!("{}/metrics", node.http_url()));
    assert_eq!(status, 200);
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map_or(0, |value| value.trim().parse().unwrap())
}

/// Waits (bounded) until the counter `name` reaches `want`; returns its value then.
fn wait_for(node: &Node, name: &str, want: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let value = counter(node, name);
        if value >= want || Instant::now() > deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

const BURNED: &str = "snowdrift_ids_burned_total";
const ISSUED: &str = "snowdrift_ids_issued_total";

/// A node on the test layout (`--max-batch 1000`) in a fresh state directory, and a gRPC
/// client connected to it. The directory lives as long as the returned guard.
async fn start_node() -> (tempfile::TempDir, Node, SnowdriftClient<Channel>) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("snowdrift.toml");
    std::fs::write(&config, LAYOUT).unwrap();
    let config = config.to_str().unwrap().to_string();
    let node = tokio::task::spawn_blocking(move || {
        Node::start(&["--config", &config, "--max-batch", "1000"])
    })
    .await
    .unwrap();
    let channel = Channel::from_shared(format!("http://{}", node.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    (dir, node, SnowdriftClient::new(channel))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_leaves_while_its_block_waits_burns_only_that_block() {
    let (_dir, node, mut client) = start_node().await;

    // gRPC: the deadline passes while the block is held; tonic cancels the call.
    let mut request = tonic::Request::new(NextIdsRequest { count: 1000 });
    request.set_timeout(Duration::from_millis(30));
    let status = client.next_ids(request).await.unwrap_err();
    assert!(
        matches!(
            status.code(),
            tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
        ),
        "{status:?}"
    );
    let url = format!("{}/v1/ids?count=1000", node.http_url());
    let impatient = move || {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_millis(30))
            .build()
            .unwrap();
        assert!(client.get(&url).send().is_err());
    };
    let node = tokio::task::spawn_blocking(move || {
        // HTTP, at once: the burned block's ticks are still ahead, so this request is
        // pending for its first tick (about 200 ms away) when its client leaves.
        impatient();
        assert_eq!(wait_for(&node, BURNED, 1000), 1000);
        // Had it been left waiting, it would have been issued by now.
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(counter(&node, ISSUED), 0);
        assert_eq!(counter(&node, BURNED), 1000);

        // HTTP again, now that those ticks have passed: reserved at once, held, and burned
        // when the client leaves.
        impatient();
        assert_eq!(wait_for(&node, BURNED, 2000), 2000);
        node
    })
    .await
    .unwrap();

    // What is handed out afterwards is counted as issued.
    let block = client
        .next_ids(NextIdsRequest { count: 10 })
        .await
        .unwrap()
        .into_inner()
        .ids;
    let one = client
        .next_id(NextIdRequest {})
        .await
        .unwrap()
        .into_inner()
        .id;
    assert!(block.windows(2).all(|w| w[0] < w[1]) && one > block[9]);
    tokio::task::spawn_blocking(move || {
        assert_eq!(counter(&node, ISSUED), 11);
        assert_eq!(counter(&node, BURNED), 2000);
    })
    .await
    .unwrap();
}

/// A `StreamIds` reader that leaves while the next batch waits for its ticks: the producer
/// stops waiting, and that batch is burned, not counted as issued for nobody.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_reader_that_leaves_mid_wait_burns_only_the_waiting_batch() {
    let (_dir, node, mut client) = start_node().await;
    let mut stream = client
        .stream_ids(StreamIdsRequest {
            batch: 1000,
            count: 0,
        })
        .await
        .unwrap()
        .into_inner();
    // The first batch is handed out once its 250 ticks have arrived; the second is then
    // reserved at once (or a tick later) and held for about 250 ms more.
    let first = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.ids.len(), 1000);
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(stream);
    tokio::task::spawn_blocking(move || {
        assert_eq!(wait_for(&node, BURNED, 1000), 1000);
        // Had the producer gone on waiting, its batch would be counted as issued by now.
        std::thread::sleep(Duration::from_millis(600));
        assert_eq!(counter(&node, ISSUED), 1000);
        assert_eq!(counter(&node, BURNED), 1000);
    })
    .await
    .unwrap();
}
