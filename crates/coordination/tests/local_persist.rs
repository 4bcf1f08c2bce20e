//! The local backend's writes under a slow disk (issue 8 §1, "local persist race"): a mark
//! write that stalls past the keeper's timeout is never abandoned, a later write never runs
//! beside it, and so a stale write can never land under a newer mark, during service or after
//! the clean-shutdown lowering. And newly created directories are made durable in their
//! parents (the directories fsynced are recorded by the same test support). The stall is a test hook in the local backend's writer
//! (`snowdrift_coordination::testing::MarkWriteHook`), run on the writing thread.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use snowdrift::Layout;
use snowdrift_coordination::testing::{synced_dirs_under, MarkWriteHook};
use snowdrift_coordination::{
    Backend, LocalOptions, MachineChoice, Node, NodeConfig, WindowConfig,
};

/// How long the stalled write sleeps: several times the keeper's timeout (window/2).
const STALL: Duration = Duration::from_millis(1500);

fn backend(dir: &Path) -> Backend {
    Backend::Local(LocalOptions {
        data_dir: dir.to_path_buf(),
        datacenter: 0,
        machine: MachineChoice::Fixed(0),
    })
}

/// A 400 ms window checked every 20 ms: the keeper gives a write 200 ms.
fn config() -> NodeConfig {
    NodeConfig {
        window: WindowConfig {
            window: Duration::from_millis(400),
            check_interval: Duration::from_millis(20),
            ..WindowConfig::default()
        },
        ..NodeConfig::new(Layout::default())
    }
}

fn read_mark(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("slots/dc-0-machine-0.hwm")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["high_water_tick"].as_u64().unwrap()
}

/// Stalls the second mark write under `dir` (the keeper's first extension) for [`STALL`];
/// `released` is set when the stalled write goes on.
fn stall_second_write(dir: &Path) -> (MarkWriteHook, Arc<AtomicBool>) {
    let writes = AtomicU64::new(0);
    let released = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&released);
    let hook = MarkWriteHook::install(dir, move |_file, _tick| {
        if writes.fetch_add(1, Ordering::SeqCst) == 1 {
            std::thread::sleep(STALL);
            flag.store(true, Ordering::SeqCst);
        }
    });
    (hook, released)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_write_never_lands_under_a_newer_mark() {
    let dir = tempfile::tempdir().unwrap();
    let (_hook, released) = stall_second_write(dir.path());
    let node = Node::start(backend(dir.path()), config()).await.unwrap();

    // Until a second after the stalled write went on (time for it to land, and for the keeper
    // to extend several times more), the disk never holds less than the generator may use.
    // The ceiling is read before the file: it only rises, and only after a durable write.
    let limit = Instant::now() + Duration::from_secs(15);
    let mut released_at = None;
    let mut samples = 0u64;
    loop {
        let ceiling = node.generator().ceiling();
        let on_disk = read_mark(dir.path());
        if let Some(ceiling) = ceiling {
            assert!(
                on_disk >= ceiling,
                "the disk holds mark {on_disk}, below the generator's ceiling {ceiling}: a crash \
                 now would repeat the IDs of ticks {}..={ceiling}",
                on_disk + 1
            );
        }
        samples += 1;
        let _ = node.generator().next_id();
        if released.load(Ordering::SeqCst) {
            let at = *released_at.get_or_insert_with(Instant::now);
            if at.elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        assert!(
            Instant::now() < limit,
            "the stalled write was never released"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    eprintln!("{samples} samples of ceiling ≤ disk, all held");

    // The stall cost availability only: the node serves again.
    let limit = Instant::now() + Duration::from_secs(10);
    while !node.is_ready() {
        assert!(
            Instant::now() < limit,
            "never served again: {:?}",
            node.status()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(node.generator().next_id().is_ok());
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_stalled_at_shutdown_never_lands_under_the_lowered_mark() {
    let dir = tempfile::tempdir().unwrap();
    let (_hook, released) = stall_second_write(dir.path());
    let node = Node::start(backend(dir.path()), config()).await.unwrap();

    // Issue for 800 ms, while the keeper's first extension is stalled.
    let layout = Layout::default();
    let mut top = None;
    let until = Instant::now() + Duration::from_millis(800);
    while Instant::now() < until {
        if let Ok(id) = node.generator().next_id() {
            top = top.max(Some(id.parts(&layout).unwrap().tick));
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let top = top.expect("the first window issues");
    assert!(
        !released.load(Ordering::SeqCst),
        "the stall ended too early for this test"
    );
    node.shutdown().await.unwrap();

    // Whenever the stalled write lands, the mark stays at or above every tick issued.
    let limit = Instant::now() + Duration::from_secs(15);
    let mut released_at = None;
    loop {
        let on_disk = read_mark(dir.path());
        assert!(
            on_disk >= top,
            "the disk holds mark {on_disk} after shutdown, below the tick {top} issued: the next \
             holder would repeat ticks {}..={top}",
            on_disk + 1
        );
        if released.load(Ordering::SeqCst) {
            let at = *released_at.get_or_insert_with(Instant::now);
            if at.elapsed() > Duration::from_secs(1) {
                break;
            }
        }
        assert!(
            Instant::now() < limit,
            "the stalled write was never released"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    // And the next holder starts above everything issued.
    let again = Node::start(backend(dir.path()), config()).await.unwrap();
    assert!(again.status().floor_tick > top, "{:?}", again.status());
    again.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_state_directories_are_made_durable_in_their_parents() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("a").join("data");
    let node = Node::start(backend(&data), config()).await.unwrap();
    node.shutdown().await.unwrap();
    let synced = synced_dirs_under(root.path());
    // Each directory this start created (a, a/data, a/data/slots) has its entry in its parent
    // made durable: the parents are fsynced.
    for parent in [
        root.path().to_path_buf(),
        root.path().join("a"),
        data.clone(),
    ] {
        assert!(
            synced.contains(&parent),
            "{} was never fsynced after a directory was created in it; synced: {synced:?}",
            parent.display()
        );
    }
}
