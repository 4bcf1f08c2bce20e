//! Stored marks at the edge (issue 8 §1, "marks at the edge"): a mark of `u64::MAX`, or any
//! mark beyond the layout's last tick, in a local file or an etcd value, cannot have been
//! written by a holder of this layout. Start-up refuses it, naming the slot and the file or
//! key, and leaves it alone; it never wraps to a floor of 0 or a ceiling over the whole layout.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

mod etcd_common;

use std::path::Path;
use std::time::Duration;

use snowdrift::Layout;
use snowdrift_coordination::testing::EtcdServer;
use snowdrift_coordination::{
    Backend, CoordError, EtcdOptions, LocalOptions, MachineChoice, Node, NodeConfig, WindowConfig,
};

use etcd_common::{bounded, client, get};

fn local(dir: &Path) -> Backend {
    Backend::Local(LocalOptions {
        data_dir: dir.to_path_buf(),
        datacenter: 1,
        machine: MachineChoice::Fixed(2),
    })
}

fn config() -> NodeConfig {
    NodeConfig {
        window: WindowConfig {
            window: Duration::from_millis(300),
            check_interval: Duration::from_millis(20),
            ..WindowConfig::default()
        },
        ..NodeConfig::new(Layout::default())
    }
}

/// Checks `err` refuses the mark `mark` of slot 1/2 as corrupt, naming the slot and `place`.
fn assert_refused(err: &CoordError, mark: u64, place: &str) {
    let max_tick = Layout::default().max_tick();
    match err {
        CoordError::CorruptMark {
            datacenter: 1,
            machine: 2,
            mark: found,
            max_tick: max,
            ..
        } => assert_eq!((*found, *max), (mark, max_tick)),
        other => panic!("expected CorruptMark for mark {mark}, got {other:?}: {other}"),
    }
    let message = err.to_string();
    for needle in [
        "datacenter 1 machine 2",
        place,
        &mark.to_string(),
        &max_tick.to_string(),
    ] {
        assert!(
            message.contains(needle),
            "{needle:?} missing from: {message}"
        );
    }
    assert_eq!(err.code(), "corrupt_state");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_mark_beyond_the_layout_is_refused_naming_the_slot_and_file() {
    let max_tick = Layout::default().max_tick();
    for mark in [u64::MAX, u64::MAX - 1, max_tick + 1] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("slots")).unwrap();
        let file = dir.path().join("slots/dc-1-machine-2.hwm");
        let body = format!("{{\"high_water_tick\":{mark},\"written_unix_ms\":0}}");
        std::fs::write(&file, &body).unwrap();
        let err = Node::start(local(dir.path()), config()).await.unwrap_err();
        assert_refused(&err, mark, "dc-1-machine-2.hwm");
        assert_eq!(std::fs::read_to_string(&file).unwrap(), body, "left alone");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_mark_at_the_layout_s_last_tick_means_the_slot_s_time_ran_out() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("slots")).unwrap();
    let max_tick = Layout::default().max_tick();
    let body = format!("{{\"high_water_tick\":{max_tick},\"written_unix_ms\":0}}");
    std::fs::write(dir.path().join("slots/dc-1-machine-2.hwm"), body).unwrap();
    let err = Node::start(local(dir.path()), config()).await.unwrap_err();
    assert_eq!(err.code(), "layout_exhausted", "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_etcd_mark_beyond_the_layout_is_refused_naming_the_slot_and_key() {
    bounded(Duration::from_secs(60), async {
        let etcd = EtcdServer::start().await.unwrap();
        let key = "/snowdrift/edge/hwm/1/2";
        let options = EtcdOptions {
            machine: MachineChoice::Fixed(2),
            ..etcd_common::options(&etcd.endpoint(), "edge", 1)
        };
        let etcd_client = client(&etcd.endpoint()).await;
        for mark in [u64::MAX, Layout::default().max_tick() + 1] {
            let value = format!("{mark:020}");
            etcd_client
                .kv_client()
                .put(key, value.as_str(), None)
                .await
                .unwrap();
            let err = Node::start(
                Backend::Etcd(options.clone()),
                etcd_common::config(Layout::default()),
            )
            .await
            .unwrap_err();
            assert_refused(&err, mark, key);
            assert_eq!(
                get(&etcd_client, key).await,
                Some(value.into_bytes()),
                "left alone"
            );
        }
        // The refused claims freed the slot: with a sane mark it is taken at once.
        etcd_client.kv_client().delete(key, None).await.unwrap();
        let node = Node::start(
            Backend::Etcd(options),
            etcd_common::config(Layout::default()),
        )
        .await
        .unwrap();
        node.shutdown().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_never_persists_a_mark_past_the_layout_s_end() {
    // A 40-bit millisecond layout whose time ends one second from now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let max_tick = (1u64 << 40) - 1;
    let layout = Layout::builder()
        .timestamp_bits(40)
        .machine_bits(6)
        .epoch_ms(now + 1_000 - max_tick)
        .build()
        .unwrap();
    assert_eq!(layout.max_tick(), max_tick);
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(local(dir.path()), NodeConfig { layout, ..config() })
        .await
        .unwrap();
    let file = dir.path().join("slots/dc-1-machine-2.hwm");
    let read_mark = || {
        let text = std::fs::read_to_string(&file).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        value["high_water_tick"].as_u64().unwrap()
    };
    // Through the end of the layout's time and past it, the mark never goes past its last
    // tick, and the generator ends with the layout's own refusal.
    let until = std::time::Instant::now() + Duration::from_millis(1_800);
    let mut last = None;
    while std::time::Instant::now() < until {
        let mark = read_mark();
        assert!(
            mark <= max_tick,
            "persisted mark {mark} past the layout's last tick {max_tick}"
        );
        last = Some(node.generator().next_id().map_err(|e| e.code()));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        read_mark(),
        max_tick,
        "the window ran up to the layout's last tick"
    );
    assert_eq!(last, Some(Err("layout_exhausted")));
    node.shutdown().await.unwrap();
}
