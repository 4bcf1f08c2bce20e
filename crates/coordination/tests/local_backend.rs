//! The local backend end to end: slots, the layout pin, the high-water window across restarts,
//! a clock behind the mark, corrupt and unwritable state, and persistence failures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::Path;
use std::time::{Duration, Instant};

use snowdrift::{Layout, Preset};
use snowdrift_coordination::{
    Backend, CoordError, LocalOptions, MachineChoice, Node, NodeConfig, WindowConfig,
};

fn backend(dir: &Path, machine: MachineChoice) -> Backend {
    Backend::Local(LocalOptions {
        data_dir: dir.to_path_buf(),
        datacenter: 3,
        machine,
    })
}

/// A node on `dir` in slot 3/`machine` with the quick window.
async fn start(dir: &Path, machine: u64) -> Node {
    Node::start(backend(dir, MachineChoice::Fixed(machine)), config())
        .await
        .unwrap()
}

fn quick_window() -> WindowConfig {
    WindowConfig {
        window: Duration::from_millis(300),
        check_interval: Duration::from_millis(20),
        ..WindowConfig::default()
    }
}

fn config() -> NodeConfig {
    NodeConfig {
        window: quick_window(),
        ..NodeConfig::new(Layout::default())
    }
}

fn read_mark(dir: &Path, machine: u64) -> u64 {
    let text =
        std::fs::read_to_string(dir.join(format!("slots/dc-3-machine-{machine}.hwm"))).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["high_water_tick"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_node_persists_its_window_before_issuing() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 4).await;
    assert!(node.is_ready());
    let status = node.status();
    assert_eq!(
        (status.backend, status.datacenter, status.machine),
        ("local", 3, 4)
    );
    let mark = read_mark(dir.path(), 4);
    assert_eq!(status.high_water_tick, Some(mark));
    assert_eq!(status.ceiling_tick, Some(mark));
    let id = node.generator().next_id().unwrap();
    let parts = id.parts(&Layout::default()).unwrap();
    assert!(
        parts.tick <= mark,
        "issued tick {} above the durable mark {mark}",
        parts.tick
    );
    assert_eq!((parts.datacenter, parts.machine), (3, 4));
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_window_keeps_moving_ahead_of_the_clock() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 0).await;
    let first_mark = read_mark(dir.path(), 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while read_mark(dir.path(), 0) < first_mark + 300 {
        assert!(Instant::now() < deadline, "the mark never moved");
        assert!(node.generator().next_id().is_ok());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = node.status();
    assert!(status.ceiling_tick.unwrap() >= status.clock_tick);
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_starts_above_everything_issued_before() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 1).await;
    let before: Vec<_> = node.generator().next_ids(5000).unwrap().collect();
    let top = before
        .iter()
        .map(|id| id.parts(&Layout::default()).unwrap().tick)
        .max()
        .unwrap();
    assert!(read_mark(dir.path(), 1) >= top);
    // A clean shutdown lowers the mark to the last tick issued (see clean_shutdown.rs).
    node.shutdown().await.unwrap();
    assert_eq!(read_mark(dir.path(), 1), top);

    let node = start(dir.path(), 1).await;
    assert_eq!(node.status().floor_tick, top + 1);
    let after = node.generator().next_id().unwrap();
    assert!(after.parts(&Layout::default()).unwrap().tick > top);
    assert!(before.iter().all(|id| *id < after));
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_slot_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 2).await;
    // flock is per open file description, so a second claim in this process is refused too.
    let err = Node::start(backend(dir.path(), MachineChoice::Fixed(2)), config())
        .await
        .unwrap_err();
    match &err {
        CoordError::SlotHeld {
            datacenter: 3,
            machine: 2,
            holder,
        } => {
            assert!(
                holder.contains(&format!("pid {}", std::process::id())),
                "{holder}"
            );
        }
        other => panic!("expected SlotHeld, got {other:?}"),
    }
    assert!(err.to_string().contains("--machine-id auto"));
    node.shutdown().await.unwrap();
    // Released on shutdown: the slot can be taken again at once.
    let again = start(dir.path(), 2).await;
    again.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_gives_distinct_slots_and_reports_exhaustion() {
    let dir = tempfile::tempdir().unwrap();
    let small = Layout::builder().machine_bits(2).build().unwrap();
    let cfg = NodeConfig {
        window: quick_window(),
        ..NodeConfig::new(small)
    };
    let mut nodes = Vec::new();
    for expected in 0..4 {
        let node = Node::start(backend(dir.path(), MachineChoice::Auto), cfg.clone())
            .await
            .unwrap();
        assert_eq!(node.status().machine, expected);
        nodes.push(node);
    }
    let err = Node::start(backend(dir.path(), MachineChoice::Auto), cfg.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            CoordError::SlotsExhausted {
                datacenter: 3,
                slots: 4,
                ..
            }
        ),
        "{err}"
    );
    for node in nodes {
        node.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_different_layout_over_the_same_state_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), 0).await.shutdown().await.unwrap();
    let twitter = NodeConfig {
        window: quick_window(),
        ..NodeConfig::new(Preset::Twitter.layout())
    };
    let err = Node::start(backend(dir.path(), MachineChoice::Fixed(0)), twitter)
        .await
        .unwrap_err();
    assert!(matches!(err, CoordError::LayoutMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("epoch 1609459200000") && message.contains("epoch 1288834974657"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_mark_stops_start_up_and_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    start(dir.path(), 0).await.shutdown().await.unwrap();
    let path = dir.path().join("slots/dc-3-machine-0.hwm");
    std::fs::write(&path, b"{\"high_water_tick\": garbage").unwrap();
    let err = Node::start(backend(dir.path(), MachineChoice::Fixed(0)), config())
        .await
        .unwrap_err();
    assert!(matches!(err, CoordError::CorruptState { .. }), "{err}");
    assert!(err.to_string().contains("dc-3-machine-0.hwm"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"{\"high_water_tick\": garbage",
        "never reset"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unusable_state_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let err = Node::start(backend(&file, MachineChoice::Fixed(0)), config())
        .await
        .unwrap_err();
    assert!(matches!(err, CoordError::StateDir { .. }), "{err}");
    assert!(err.to_string().contains("not-a-directory"));
}

fn write_mark(dir: &Path, machine: u64, tick: u64) {
    std::fs::create_dir_all(dir.join("slots")).unwrap();
    let body = format!("{{\"high_water_tick\":{tick},\"written_unix_ms\":0}}");
    std::fs::write(dir.join(format!("slots/dc-3-machine-{machine}.hwm")), body).unwrap();
}

fn clock_tick_now() -> u64 {
    let layout = Layout::default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    now - layout.epoch_ms()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_slightly_behind_the_mark_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let mark = clock_tick_now() + 400;
    write_mark(dir.path(), 0, mark);
    let node = start(dir.path(), 0).await;
    let tick = node
        .generator()
        .next_id()
        .unwrap()
        .parts(&Layout::default())
        .unwrap()
        .tick;
    assert!(tick > mark, "tick {tick} not above the old mark {mark}");
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clock_far_behind_the_mark_fails_start_up_saying_how_far() {
    let dir = tempfile::tempdir().unwrap();
    write_mark(dir.path(), 0, clock_tick_now() + 3_600_000);
    let started = Instant::now();
    let err = Node::start(backend(dir.path(), MachineChoice::Fixed(0)), config())
        .await
        .unwrap_err();
    match err {
        CoordError::ClockBehindHighWater {
            behind, max_wait, ..
        } => {
            assert!(
                behind > Duration::from_secs(3590) && behind <= Duration::from_secs(3600),
                "{behind:?}"
            );
            assert_eq!(max_wait, WindowConfig::default().startup_max_wait);
        }
        other => panic!("expected ClockBehindHighWater, got {other}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "it must not wait the hour out"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn when_persisting_fails_it_serves_to_the_ceiling_then_refuses_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let node = start(dir.path(), 0).await;
    // Make the mark's path a non-empty directory: replacing it fails until it is removed.
    let path = dir.path().join("slots/dc-3-machine-0.hwm");
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("blocker"), b"x").unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match node.generator().next_id() {
            Ok(id) => {
                let tick = id.parts(&Layout::default()).unwrap().tick;
                assert!(tick <= node.status().ceiling_tick.unwrap());
            }
            Err(err) => {
                assert_eq!(err.code(), "ceiling_reached");
                break;
            }
        }
        assert!(Instant::now() < deadline, "never reached the ceiling");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let status = node.status();
    assert!(!status.ready && !node.is_ready());
    assert!(status.persist_failures > 0);
    assert!(status.last_error.is_some());

    std::fs::remove_dir_all(&path).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node.is_ready() {
        assert!(Instant::now() < deadline, "did not recover");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(node.generator().next_id().is_ok());
    assert!(node.status().last_error.is_none());
    node.shutdown().await.unwrap();
}
