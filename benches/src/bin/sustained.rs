//! Case 4: the sustained rate of one thread on the default 41/5/5/12 layout, where the
//! sequence (4,096 IDs per ms) and not the CPU is the limit: IDs/s over ~1 s windows against
//! the 4,096,000 IDs/s ceiling, and the CPU time per ID while saturated.
//!
//! Our generator sleeps until the next millisecond when a tick is full, so its CPU time per ID
//! should be far below its wall time per ID; the peers (snowflake_me on its default layout,
//! ferroid's atomic generator on its Twitter layout, with `yield_now` as its examples do) are
//! measured the same way in the same run for comparison. Every ID is also checked to be
//! greater than the one before (one thread, so IDs must strictly increase).
//!
//! Criterion does not fit this case: it times one call, and what matters here is a rate over
//! whole seconds with the sleeps included, so this is a plain program.
//!
//! ```text
//! cargo run --release -p snowdrift-benches --bin sustained -- [--windows N] [--window-ms MS] [--json FILE]
//! ```

// A failed generator call must stop the measurement loudly, not be counted as an ID, so
// `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::json;
use snowdrift_benches::cpu::ThreadCpu;
use snowdrift_benches::generators;

/// IDs made between two looks at the wall clock: 125 µs of IDs at the ceiling rate, so the
/// clock check costs nothing noticeable per ID and a window overshoots by little.
const CHECK_EVERY: u64 = 512;
/// Time each generator runs before its windows are measured.
const WARM_UP: Duration = Duration::from_millis(300);

/// What one window measured.
struct Window {
    ids: u64,
    wall: Duration,
    cpu: ThreadCpu,
}

/// What the windows of one generator add up to.
struct Summary {
    name: &'static str,
    layout: &'static str,
    ceiling_per_s: f64,
    windows: Vec<Window>,
    order_violations: u64,
    exhaustion_waits: Option<u64>,
}

impl Summary {
    fn ids(&self) -> u64 {
        self.windows.iter().map(|w| w.ids).sum()
    }
    fn wall(&self) -> Duration {
        self.windows.iter().map(|w| w.wall).sum()
    }
    fn cpu(&self) -> ThreadCpu {
        self.windows
            .iter()
            .fold(ThreadCpu::default(), |sum, w| ThreadCpu {
                user: sum.user + w.cpu.user,
                system: sum.system + w.cpu.system,
            })
    }
    fn rate(&self) -> f64 {
        self.ids() as f64 / self.wall().as_secs_f64()
    }
    fn window_ratios(&self) -> Vec<f64> {
        self.windows
            .iter()
            .map(|w| w.ids as f64 / w.wall.as_secs_f64() / self.ceiling_per_s)
            .collect()
    }
    fn json(&self) -> serde_json::Value {
        let ids = self.ids() as f64;
        let cpu = self.cpu();
        let ratios = self.window_ratios();
        json!({
            "case": "sustained_default_layout_1_thread",
            "generator": self.name,
            "layout": self.layout,
            "windows": self.windows.len(),
            "window_s": self.windows.iter().map(|w| w.wall.as_secs_f64()).collect::<Vec<_>>(),
            "ids": self.ids(),
            "ids_per_s": self.rate(),
            "ceiling_ids_per_s": self.ceiling_per_s,
            "ratio_to_ceiling": self.rate() / self.ceiling_per_s,
            "min_window_ratio": ratios.iter().copied().fold(f64::INFINITY, f64::min),
            "window_ratios": ratios,
            "wall_ns_per_id": self.wall().as_nanos() as f64 / ids,
            "cpu_ns_per_id": cpu.total().as_nanos() as f64 / ids,
            "cpu_user_ns_per_id": cpu.user.as_nanos() as f64 / ids,
            "cpu_system_ns_per_id": cpu.system.as_nanos() as f64 / ids,
            "cpu_over_wall": cpu.total().as_secs_f64() / self.wall().as_secs_f64(),
            "order_violations": self.order_violations,
            "exhaustion_waits": self.exhaustion_waits,
        })
    }
}

/// Runs `next` flat out: a warm-up, then `windows` windows of `window` each.
fn measure(windows: usize, window: Duration, mut next: impl FnMut() -> u64) -> (Vec<Window>, u64) {
    let mut last = 0u64;
    let mut violations = 0u64;
    let mut run = |length: Duration| -> Window {
        let cpu_start = ThreadCpu::now();
        let start = Instant::now();
        let mut ids = 0u64;
        loop {
            for _ in 0..CHECK_EVERY {
                let id = next();
                violations += u64::from(id <= last);
                last = id;
            }
            ids += CHECK_EVERY;
            if start.elapsed() >= length {
                break;
            }
        }
        let wall = start.elapsed();
        Window {
            ids,
            wall,
            cpu: ThreadCpu::now().since(&cpu_start),
        }
    };
    run(WARM_UP);
    let measured = (0..windows).map(|_| run(window)).collect();
    (measured, violations)
}

struct Options {
    windows: usize,
    window: Duration,
    json: Option<String>,
}

fn options() -> Options {
    let mut options = Options {
        windows: 5,
        window: Duration::from_millis(1000),
        json: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next();
        match (arg.as_str(), value) {
            ("--windows", Some(v)) => options.windows = v.parse().expect("--windows N"),
            ("--window-ms", Some(v)) => {
                options.window = Duration::from_millis(v.parse().expect("--window-ms MS"));
            }
            ("--json", Some(v)) => options.json = Some(v),
            (other, _) => {
                eprintln!(
                    "unknown argument {other}; usage: sustained [--windows N] [--window-ms MS] [--json FILE]"
                );
                std::process::exit(2);
            }
        }
    }
    options
}

fn main() {
    let options = options();
    let mut summaries = Vec::new();

    let ours = generators::snowdrift_default();
    let ceiling = ours.layout().ids_per_second_per_worker() as f64;
    let (windows, violations) = measure(options.windows, options.window, || {
        ours.next_id().expect("snowdrift next_id").as_u64()
    });
    summaries.push(Summary {
        name: "snowdrift",
        layout: "41/5/5/12",
        ceiling_per_s: ceiling,
        windows,
        order_violations: violations,
        exhaustion_waits: Some(ours.exhaustion_waits()),
    });

    let snowflake_me = generators::snowflake_me_default();
    let (windows, violations) = measure(options.windows, options.window, || {
        snowflake_me
            .next_id()
            .expect("snowflake_me next_id")
            .as_u64()
    });
    summaries.push(Summary {
        name: "snowflake_me",
        layout: "41/5/5/12",
        ceiling_per_s: ceiling,
        windows,
        order_violations: violations,
        exhaustion_waits: None,
    });

    let ferroid = generators::ferroid_twitter();
    let (windows, violations) = measure(options.windows, options.window, || {
        generators::ferroid_next(&ferroid)
    });
    summaries.push(Summary {
        name: "ferroid_atomic",
        layout: "1/41/10/12 (SnowflakeTwitterId)",
        ceiling_per_s: ceiling,
        windows,
        order_violations: violations,
        exhaustion_waits: None,
    });

    println!(
        "sustained, 1 thread, default layouts, {} windows of {:?}; ceiling {ceiling:.0} IDs/s",
        options.windows, options.window
    );
    println!(
        "{:<16} {:>12} {:>9} {:>10} {:>12} {:>11} {:>9} {:>10}",
        "generator",
        "IDs/s",
        "ceiling",
        "min window",
        "wall ns/ID",
        "CPU ns/ID",
        "CPU/wall",
        "order bad"
    );
    for summary in &summaries {
        let j = summary.json();
        println!(
            "{:<16} {:>12.0} {:>8.2}% {:>9.2}% {:>12.1} {:>11.1} {:>8.1}% {:>10}",
            summary.name,
            j["ids_per_s"].as_f64().unwrap_or(0.0),
            100.0 * j["ratio_to_ceiling"].as_f64().unwrap_or(0.0),
            100.0 * j["min_window_ratio"].as_f64().unwrap_or(0.0),
            j["wall_ns_per_id"].as_f64().unwrap_or(0.0),
            j["cpu_ns_per_id"].as_f64().unwrap_or(0.0),
            100.0 * j["cpu_over_wall"].as_f64().unwrap_or(0.0),
            summary.order_violations,
        );
    }
    if let Some(waits) = summaries[0].exhaustion_waits {
        println!("snowdrift slept for a full tick {waits} times");
    }

    if let Some(path) = options.json {
        let all: Vec<_> = summaries.iter().map(Summary::json).collect();
        let text = serde_json::to_string_pretty(&all).expect("JSON of plain numbers");
        std::fs::write(&path, text).expect("write the --json file");
    }
}
