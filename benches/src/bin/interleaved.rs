//! Cases 1 and 2 again, measured **interleaved**, for the two targets that are ratios between
//! close numbers (ours vs ferroid on one thread, ours vs a bare `fetch_add` on two threads).
//!
//! Criterion measures one case after another, seconds apart. On a shared 2-vCPU VM the
//! conditions drift on that time scale (another process's compile comes and goes; where the
//! hypervisor runs the two vCPUs probably changes what a contended cache line costs), so two
//! cases measured a few seconds apart can differ by more than the effect being measured. Here every round times each contender once, back to back,
//! in a rotating order, and the ratio is taken **within** each round; the median over the
//! rounds is reported, with the interquartile range.
//!
//! ```text
//! cargo run --release -p snowdrift-benches --bin interleaved -- [--rounds N] [--json FILE]
//! ```

// A failed generator call must stop the measurement loudly, not be counted as an ID, so
// `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use snowdrift_benches::threads::run_split;
use snowdrift_benches::{fold, generators};

/// IDs per timed measurement: 20-80 ms of work, long against timer and spawn costs, short
/// against the drift this program is meant to cancel.
const IDS_PER_MEASUREMENT: u64 = 1 << 21;

/// One contender: a name and a function that makes `n` IDs and returns the wall time taken.
struct Contender<'a> {
    name: &'static str,
    run: Box<dyn Fn(u64) -> Duration + 'a>,
}

/// Times `n` calls of `op` on this thread, every result folded into a checksum.
fn on_one_thread(n: u64, op: impl Fn() -> u64) -> Duration {
    let start = Instant::now();
    let mut checksum = 0;
    for _ in 0..n {
        checksum = fold(checksum, op());
    }
    black_box(checksum);
    start.elapsed()
}

/// ns per ID of each contender in each round, in the contenders' order.
fn rounds(contenders: &[Contender<'_>], rounds: usize) -> Vec<Vec<f64>> {
    for contender in contenders {
        (contender.run)(IDS_PER_MEASUREMENT / 4); // warm-up
    }
    (0..rounds)
        .map(|round| {
            let mut ns = vec![0.0; contenders.len()];
            for k in 0..contenders.len() {
                let index = (round + k) % contenders.len();
                let took = (contenders[index].run)(IDS_PER_MEASUREMENT);
                ns[index] = took.as_nanos() as f64 / IDS_PER_MEASUREMENT as f64;
            }
            ns
        })
        .collect()
}

/// Median and quartiles of `values`.
fn quartiles(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.5), at(0.75))
}

/// Summarises one case: per contender the median ns/ID and the per-round ratio to the first
/// contender (the baseline), plus the per-round ratio `numerator / denominator` that the
/// target is about.
fn summarise(
    case: &str,
    contenders: &[Contender<'_>],
    measured: &[Vec<f64>],
    target: (&str, usize, usize),
) -> Value {
    println!("\n### {case} (interleaved, {} rounds)\n", measured.len());
    println!("| contender | ns/ID (median) | × baseline, per round: median (IQR) |");
    println!("|---|---:|---|");
    let mut rows = Vec::new();
    for (index, contender) in contenders.iter().enumerate() {
        let (_, ns, _) = quartiles(measured.iter().map(|r| r[index]).collect());
        let (lo, mid, hi) = quartiles(measured.iter().map(|r| r[index] / r[0]).collect());
        println!(
            "| `{}` | {ns:.2} | {mid:.2} ({lo:.2}–{hi:.2}) |",
            contender.name
        );
        rows.push(json!({
            "contender": contender.name,
            "ns_per_id_median": ns,
            "ratio_to_baseline_median": mid,
            "ratio_to_baseline_iqr": [lo, hi],
        }));
    }
    let (text, numerator, denominator) = target;
    let (lo, mid, hi) = quartiles(
        measured
            .iter()
            .map(|r| r[numerator] / r[denominator])
            .collect(),
    );
    let met = mid >= 1.0;
    println!(
        "\n**Target** {text}: {} ({} / {} time per round, median {mid:.2}, IQR {lo:.2}–{hi:.2}; above 1 means ours is faster).",
        if met { "met" } else { "NOT met" },
        contenders[numerator].name,
        contenders[denominator].name,
    );
    json!({
        "case": case,
        "rounds": measured.len(),
        "ids_per_measurement": IDS_PER_MEASUREMENT,
        "rows": rows,
        "verdict": {
            "target": text,
            "ratio": format!("{} / {} ns per ID, per round", contenders[numerator].name, contenders[denominator].name),
            "median": mid,
            "iqr": [lo, hi],
            "met": met,
        },
    })
}

fn main() {
    let mut round_count = 31;
    let mut json_path = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--rounds", Some(v)) => round_count = v.parse().expect("--rounds N"),
            ("--json", Some(v)) => json_path = Some(v),
            (other, _) => {
                eprintln!(
                    "unknown argument {other}; usage: interleaved [--rounds N] [--json FILE]"
                );
                std::process::exit(2);
            }
        }
    }

    let counter = AtomicU64::new(0);
    let ours = generators::snowdrift_wide();
    let ferroid = generators::ferroid_wide();
    let snowflake_me = generators::snowflake_me_wide();
    let next_ours = || ours.next_id().expect("snowdrift next_id").as_u64();
    let next_ferroid = || generators::ferroid_next(&ferroid);
    let next_snowflake_me = || {
        snowflake_me
            .next_id()
            .expect("snowflake_me next_id")
            .as_u64()
    };
    let fetch_add = || counter.fetch_add(1, Ordering::AcqRel);
    let load_then_fetch_add = || {
        let seen = counter.load(Ordering::Acquire);
        counter.fetch_add(1, Ordering::AcqRel) ^ seen
    };

    let one_thread = [
        Contender {
            name: "baseline_fetch_add",
            run: Box::new(|n| on_one_thread(n, fetch_add)),
        },
        Contender {
            name: "model_load_then_fetch_add",
            run: Box::new(|n| on_one_thread(n, load_then_fetch_add)),
        },
        Contender {
            name: "snowdrift_32_5_5_22",
            run: Box::new(|n| on_one_thread(n, next_ours)),
        },
        Contender {
            name: "ferroid_atomic_32_10_22",
            run: Box::new(|n| on_one_thread(n, next_ferroid)),
        },
        Contender {
            name: "snowflake_me_31_5_5_22",
            run: Box::new(|n| on_one_thread(n, next_snowflake_me)),
        },
    ];
    let measured = rounds(&one_thread, round_count);
    let case1 = summarise(
        "1. next_id, 1 thread, wide layouts",
        &one_thread,
        &measured,
        (
            "next_id faster than ferroid's AtomicSnowflakeGenerator",
            3,
            2,
        ),
    );

    let two_threads = [
        Contender {
            name: "baseline_fetch_add",
            run: Box::new(|n| run_split(2, n, fetch_add)),
        },
        Contender {
            name: "model_load_then_fetch_add",
            run: Box::new(|n| run_split(2, n, load_then_fetch_add)),
        },
        Contender {
            name: "snowdrift_32_5_5_22",
            run: Box::new(|n| run_split(2, n, next_ours)),
        },
        Contender {
            name: "ferroid_atomic_32_10_22",
            run: Box::new(|n| run_split(2, n, next_ferroid)),
        },
        Contender {
            name: "snowflake_me_31_5_5_22",
            run: Box::new(|n| run_split(2, n, next_snowflake_me)),
        },
    ];
    let measured = rounds(&two_threads, round_count);
    let case2 = summarise(
        "2. two threads sharing one generator (wall ns per ID, both threads together)",
        &two_threads,
        &measured,
        (
            "2 threads: total throughput at least that of a shared bare fetch_add",
            0,
            2,
        ),
    );
    println!(
        "\nsnowdrift took the wait path {} times in all (a reservation past the tick the caller had read)",
        ours.exhaustion_waits()
    );

    if let Some(path) = json_path {
        let all =
            json!({ "cases": [case1, case2], "snowdrift_wait_path": ours.exhaustion_waits() });
        let text = serde_json::to_string_pretty(&all).expect("JSON of plain values");
        std::fs::write(&path, text).expect("write the --json file");
    }
}
