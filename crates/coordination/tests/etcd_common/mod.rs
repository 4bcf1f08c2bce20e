//! Shared pieces of the etcd tests: short leases and windows so every test finishes in
//! seconds, a direct etcd client for inspecting keys, and ID bookkeeping.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test file uses a subset

use std::collections::HashSet;
use std::time::{Duration, Instant};

use etcd_client::Client;
use snowdrift::{Id, Layout};
use snowdrift_coordination::{Backend, EtcdOptions, MachineChoice, Node, NodeConfig, WindowConfig};

/// A 2 s lease (etcd's minimum by default) fenced 0.5 s early, quick request timeouts, and
/// clocks allowed to differ by 250 ms: the first claim of a new cluster waits the window plus
/// the skew for its genesis floor (1.25 s here, 4 s on the defaults).
pub fn options(endpoint: &str, cluster: &str, datacenter: u64) -> EtcdOptions {
    let mut options = EtcdOptions::new(vec![endpoint.to_string()], cluster, datacenter)
        .with_lease_ttl(Duration::from_secs(2));
    options.safety_margin = Duration::from_millis(500);
    options.request_timeout = Duration::from_millis(500);
    options.connect_timeout = Duration::from_millis(500);
    options.max_clock_skew = Duration::from_millis(250);
    options
}

/// A 1 s window, checked every 50 ms.
pub fn window() -> WindowConfig {
    WindowConfig {
        window: Duration::from_secs(1),
        check_interval: Duration::from_millis(50),
        ..WindowConfig::default()
    }
}

pub fn config(layout: Layout) -> NodeConfig {
    NodeConfig {
        window: window(),
        ..NodeConfig::new(layout)
    }
}

pub async fn start(options: &EtcdOptions) -> Node {
    Node::start(Backend::Etcd(options.clone()), config(Layout::default()))
        .await
        .expect("node starts")
}

pub async fn start_fixed(
    options: &EtcdOptions,
    machine: u64,
) -> Result<Node, snowdrift_coordination::CoordError> {
    let options = EtcdOptions {
        machine: MachineChoice::Fixed(machine),
        ..options.clone()
    };
    Node::start(Backend::Etcd(options), config(Layout::default())).await
}

pub async fn client(endpoint: &str) -> Client {
    Client::connect([endpoint], None)
        .await
        .expect("connect to etcd")
}

/// A key's value, if it exists.
pub async fn get(client: &Client, key: &str) -> Option<Vec<u8>> {
    let mut kv = client.kv_client();
    let answer = kv.get(key, None).await.expect("etcd get");
    answer.kvs().first().map(|kv| kv.value().to_vec())
}

/// A slot's persisted mark.
pub async fn mark(client: &Client, cluster: &str, datacenter: u64, machine: u64) -> Option<u64> {
    let value = get(
        client,
        &format!("/snowdrift/{cluster}/hwm/{datacenter}/{machine}"),
    )
    .await?;
    assert_eq!(value.len(), 20, "marks are 20-digit zero-padded");
    Some(String::from_utf8(value).unwrap().parse().unwrap())
}

/// How many times a key was written since it was created.
pub async fn version(client: &Client, key: &str) -> i64 {
    let mut kv = client.kv_client();
    let answer = kv.get(key, None).await.expect("etcd get");
    answer.kvs().first().map_or(0, |kv| kv.version())
}

/// The tick of `id` in the default layout.
pub fn tick(id: Id) -> u64 {
    id.parts(&Layout::default()).unwrap().tick
}

/// The clock's tick now in the default layout.
pub fn tick_now() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    now - Layout::default().epoch_ms()
}

/// Asserts no ID repeats across all the lists.
pub fn assert_unique<'a>(lists: impl IntoIterator<Item = &'a Vec<Id>>) -> usize {
    let mut seen = HashSet::new();
    let mut total = 0;
    for list in lists {
        for id in list {
            assert!(seen.insert(*id), "duplicate ID {id}");
            total += 1;
        }
    }
    total
}

/// Polls `condition` every 20 ms until it holds, failing after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !condition().await {
        assert!(
            Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs a test body with a hard time limit, so a hang fails instead of stalling CI.
pub async fn bounded<T>(limit: Duration, body: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(limit, body)
        .await
        .unwrap_or_else(|_| panic!("test exceeded its {limit:?} bound"))
}

/// Issues IDs in batches from `node` for `duration` on a blocking thread, keeping them all
/// (a batch every 2 ms, which bounds the memory and the duplicate check in debug builds).
/// Errors (a fenced or exhausted window) are counted, not fatal.
pub fn issue_for(
    node: &std::sync::Arc<Node>,
    duration: Duration,
    batch: u64,
) -> tokio::task::JoinHandle<(Vec<Id>, u64)> {
    let node = std::sync::Arc::clone(node);
    tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + duration;
        let (mut ids, mut errors) = (Vec::new(), 0u64);
        while Instant::now() < deadline {
            match node.generator().next_ids(batch) {
                Ok(block) => {
                    ids.extend(block);
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => {
                    errors += 1;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
        (ids, errors)
    })
}
