//! Readiness means "can issue now, or within the generator's bounded wait" (issue 8 §1,
//! "readiness flaps under load"), and not-ready says which condition failed. A node under
//! full-rate load has its state ahead of the clock by the blocks callers reserve; that is a
//! node serving as designed, not one a load balancer should drop.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use snowdrift::Layout;
use snowdrift_coordination::{Backend, LocalOptions, MachineChoice, Node, NodeConfig};

fn backend(dir: &Path) -> Backend {
    Backend::Local(LocalOptions {
        data_dir: dir.to_path_buf(),
        datacenter: 0,
        machine: MachineChoice::Fixed(0),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_under_full_rate_load_stays_ready() {
    let dir = tempfile::tempdir().unwrap();
    let node = Arc::new(
        Node::start(backend(dir.path()), NodeConfig::new(Layout::default()))
            .await
            .unwrap(),
    );
    // Four threads asking for blocks of 10 000 (about 2.4 ticks each) as fast as they can,
    // as the wrk run of the issue did over HTTP.
    let stop = Arc::new(AtomicBool::new(false));
    let issued = Arc::new(AtomicU64::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (node, stop, issued) = (Arc::clone(&node), Arc::clone(&stop), Arc::clone(&issued));
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(block) = node.generator().next_ids(10_000) {
                        issued.fetch_add(block.len() as u64, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    let until = Instant::now() + Duration::from_millis(1500);
    let (mut probes, mut refused, mut ahead) = (0u64, Vec::new(), 0u64);
    while Instant::now() < until {
        let status = node.status();
        probes += 1;
        if status.next_tick > status.clock_tick + 1 {
            ahead += 1;
        }
        if !status.ready {
            refused.push(status.not_ready.clone());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for thread in load {
        thread.join().unwrap();
    }
    eprintln!(
        "{probes} probes, {} not ready, {ahead} with the state more than a tick ahead of the \
         clock; {} IDs issued",
        refused.len(),
        issued.load(Ordering::Relaxed)
    );
    assert!(
        ahead > 0,
        "the load never put the state ahead of the clock: no test"
    );
    assert!(refused.is_empty(), "not ready under load: {refused:?}");
    Arc::try_unwrap(node).unwrap().shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_ready_says_which_condition_failed() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(backend(dir.path()), NodeConfig::new(Layout::default()))
        .await
        .unwrap();
    let status = node.status();
    assert!(status.ready && status.not_ready.is_none(), "{status:?}");

    // The mark cannot be written (its path is a non-empty directory): the window runs out.
    let path = dir.path().join("slots/dc-0-machine-0.hwm");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("blocker"), b"x").unwrap();
    let limit = Instant::now() + Duration::from_secs(10);
    let not_ready = loop {
        let status = node.status();
        if let Some(not_ready) = status.not_ready {
            assert!(!status.ready && !node.is_ready());
            break not_ready;
        }
        assert!(
            Instant::now() < limit,
            "never ran out of window: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(not_ready.reason, "ceiling_reached", "{not_ready:?}");
    // What failed, and its cause: the mark's file could not be replaced.
    assert!(
        not_ready.detail.contains("window ends at tick"),
        "{not_ready:?}"
    );
    assert!(
        not_ready.detail.contains("dc-0-machine-0.hwm"),
        "{not_ready:?}"
    );
    std::fs::remove_dir_all(&path).unwrap();
    node.shutdown().await.unwrap();
}
