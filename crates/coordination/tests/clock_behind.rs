//! `--clock-behind advance` end to end on the local backend: a slot whose persisted mark is
//! ahead of this host's clock starts at once above the mark, its window keeper persists marks
//! on the advanced ID clock, the ID clock slews back to the wall clock, and a gap over
//! `max_clock_lead` is refused naming both settings. (Process tests with libfaketime, through
//! the real binary, are in the service crate's `clock_behind.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use snowdrift::clock::SlewRate;
use snowdrift::Layout;
use snowdrift_coordination::{
    Backend, ClockBehind, CoordError, LocalOptions, MachineChoice, Node, NodeConfig, WindowConfig,
};

fn backend(dir: &Path) -> Backend {
    Backend::Local(LocalOptions {
        data_dir: dir.to_path_buf(),
        datacenter: 3,
        machine: MachineChoice::Fixed(0),
    })
}

fn advancing(slew_ppm: u32) -> NodeConfig {
    NodeConfig {
        window: WindowConfig {
            window: Duration::from_millis(300),
            check_interval: Duration::from_millis(20),
            clock_behind: ClockBehind::Advance,
            clock_slew: SlewRate::from_ppm(slew_ppm).unwrap(),
            ..WindowConfig::default()
        },
        ..NodeConfig::new(Layout::default())
    }
}

fn write_mark(dir: &Path, tick: u64) {
    std::fs::create_dir_all(dir.join("slots")).unwrap();
    let body = format!("{{\"high_water_tick\":{tick},\"written_unix_ms\":0}}");
    std::fs::write(dir.join("slots/dc-3-machine-0.hwm"), body).unwrap();
}

fn read_mark(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join("slots/dc-3-machine-0.hwm")).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["high_water_tick"].as_u64().unwrap()
}

fn wall_tick() -> u64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    now.as_millis() as u64 - Layout::default().epoch_ms()
}

fn tick_of(id: snowdrift::Id) -> u64 {
    id.parts(&Layout::default()).unwrap().tick
}

#[tokio::test(flavor = "multi_thread")]
async fn an_hour_behind_the_mark_starts_at_once_and_keeps_its_window_on_the_id_clock() {
    let dir = tempfile::tempdir().unwrap();
    let mark = wall_tick() + 3_600_000;
    write_mark(dir.path(), mark);
    let started = Instant::now();
    let node = Node::start(backend(dir.path()), advancing(10_000))
        .await
        .unwrap();
    // At once: well under the 5 s start-up wait that `wait` would refuse after.
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    let status = node.status();
    let advance = status.clock_advance.clone().expect("an advanced ID clock");
    assert!(advance.initial_lead_ms <= 3_600_001 && advance.initial_lead_ms > 3_590_000);
    assert_eq!(advance.slew_percent, 1.0);
    assert!(status.clock_lead_ms <= advance.initial_lead_ms);

    // Issue for several windows: the keeper must extend the mark on the ID clock (an hour
    // ahead of the wall), or the generator would run into its first ceiling and refuse.
    let mut last = 0;
    let until = Instant::now() + Duration::from_millis(1_200);
    while Instant::now() < until {
        let id = node.generator().next_id().unwrap();
        let tick = tick_of(id);
        assert!(tick > mark, "tick {tick} not above the old mark {mark}");
        assert!(id.as_u64() > last, "not strictly increasing");
        last = id.as_u64();
        // The lead bound: no ID leads the wall clock by more than the initial gap.
        assert!(
            tick <= wall_tick() + advance.initial_lead_ms + 1,
            "lead over the bound"
        );
        assert!(
            read_mark(dir.path()) >= tick,
            "an ID above the durable mark"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(
        tick_of(snowdrift::Id::from(last)) > mark + 600,
        "the window moved on"
    );
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_advanced_clock_slews_back_to_the_wall_clock() {
    let dir = tempfile::tempdir().unwrap();
    // 400 ms ahead at 90%: the ID clock meets the wall clock after about 444 ms.
    let mark = wall_tick() + 400;
    write_mark(dir.path(), mark);
    let node = Node::start(backend(dir.path()), advancing(900_000))
        .await
        .unwrap();
    let start = Instant::now();
    let initial = node.status().clock_advance.unwrap().initial_lead_ms;
    let mut last = 0;
    loop {
        let id = node.generator().next_id().unwrap();
        assert!(id.as_u64() > last && tick_of(id) > mark);
        last = id.as_u64();
        if node.status().clock_lead_ms == 0 {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "never converged");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    // Not before the rate allows: the lead shrinks by 0.9 ms per ms, so no sooner than
    // initial / 0.9 after the start (less the few ms the start-up itself took).
    let least = Duration::from_millis(initial * 10 / 9).saturating_sub(Duration::from_millis(50));
    assert!(
        start.elapsed() >= least,
        "converged after {:?}",
        start.elapsed()
    );
    // Converged: IDs track the wall clock again.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let tick = tick_of(node.generator().next_id().unwrap());
    assert!(
        tick.abs_diff(wall_tick()) <= 5,
        "tick {tick}, wall {}",
        wall_tick()
    );
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gap_over_the_max_clock_lead_is_refused_naming_both_settings() {
    let dir = tempfile::tempdir().unwrap();
    write_mark(dir.path(), wall_tick() + 7_200_000);
    let started = Instant::now();
    let err = Node::start(backend(dir.path()), advancing(10_000))
        .await
        .unwrap_err();
    assert!(matches!(err, CoordError::ClockLeadTooLarge { .. }), "{err}");
    assert_eq!(err.code(), "clock_behind");
    let message = err.to_string();
    for needle in [
        "--max-clock-lead (1h)",
        "--clock-behind",
        "behind the high-water mark",
    ] {
        assert!(message.contains(needle), "{needle:?} missing: {message}");
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "refused up front"
    );
    // Nothing was written: the mark is as it was.
    assert!(read_mark(dir.path()) > wall_tick() + 7_000_000);
}
