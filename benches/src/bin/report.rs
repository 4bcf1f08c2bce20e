//! Turns a benchmark run into the ratios `docs/BENCHMARKS.md` reports: reads criterion's
//! estimates for the `core_*` groups (and, if given, the JSON of the sustained and interleaved
//! programs), prints one
//! markdown table per case with each result's ratio to the baseline measured in the same run
//! and a verdict per target, and writes the same as one machine-readable JSON file.
//!
//! ```text
//! cargo run --release -p snowdrift-benches --bin report -- \
//!     --criterion target/criterion [--sustained FILE] [--interleaved FILE] [--json OUT]
//! ```
//!
//! The time of a case is criterion's **median** time per iteration (robust to the odd
//! disturbed sample on a shared VM), divided by the IDs one iteration makes.

// A missing or malformed result file must stop the report loudly rather than print a table
// with a hole in it, so `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Criterion's estimate for one benchmark, in ns per iteration.
#[derive(Debug, Clone, Copy)]
struct Estimate {
    median: f64,
    lower: f64,
    upper: f64,
    mean: f64,
}

/// Every `core_*` estimate under `root`, by criterion's full id (`group/function[/value]`).
fn load_criterion(root: &Path) -> BTreeMap<String, Estimate> {
    let mut found = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "benchmark.json")
                && path.parent().is_some_and(|p| p.ends_with("new"))
            {
                let benchmark = read_json(&path);
                let Some(id) = benchmark["full_id"].as_str() else {
                    continue;
                };
                if !id.starts_with("core_") {
                    continue;
                }
                let estimates = read_json(&path.with_file_name("estimates.json"));
                let number = |key: &str, field: &str| {
                    estimates[key][field]
                        .as_f64()
                        .or_else(|| estimates[key]["confidence_interval"][field].as_f64())
                        .expect("criterion estimate")
                };
                found.insert(
                    id.to_string(),
                    Estimate {
                        median: number("median", "point_estimate"),
                        lower: number("median", "lower_bound"),
                        upper: number("median", "upper_bound"),
                        mean: number("mean", "point_estimate"),
                    },
                );
            }
        }
    }
    found
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

/// The results of one run, and the JSON summary being built from them.
struct Report {
    estimates: BTreeMap<String, Estimate>,
    cases: Vec<Value>,
}

impl Report {
    /// ns per ID of a case, `per_iteration` IDs per criterion iteration; `None` if not run.
    fn ns(&self, id: &str, per_iteration: f64) -> Option<f64> {
        self.estimates.get(id).map(|e| e.median / per_iteration)
    }

    fn row(&self, id: &str, per_iteration: f64, baseline: f64) -> Option<Value> {
        let estimate = self.estimates.get(id)?;
        let ns = estimate.median / per_iteration;
        Some(json!({
            "bench": id,
            "ns_per_id": ns,
            "ns_per_id_median_ci": [estimate.lower / per_iteration, estimate.upper / per_iteration],
            "ns_per_id_mean": estimate.mean / per_iteration,
            "million_ids_per_s": 1e3 / ns,
            "ratio_to_baseline": ns / baseline,
        }))
    }

    /// One case: a table of `members` (criterion ids) against `baseline`, and its verdicts.
    fn case(
        &mut self,
        title: &str,
        baseline: &str,
        members: &[&str],
        per_iteration: f64,
        verdicts: Vec<Value>,
    ) {
        let Some(base) = self.ns(baseline, per_iteration) else {
            println!("\n### {title}\n\n(not run: no result for {baseline})");
            return;
        };
        println!("\n### {title}\n");
        println!("| bench | ns/ID (median) | 95% CI | M IDs/s | × baseline |");
        println!("|---|---:|---|---:|---:|");
        let mut rows = Vec::new();
        for id in std::iter::once(&baseline).chain(members) {
            if let Some(row) = self.row(id, per_iteration, base) {
                let ci = &row["ns_per_id_median_ci"];
                println!(
                    "| `{id}` | {:.3} | {:.3}–{:.3} | {:.1} | {:.2} |",
                    row["ns_per_id"].as_f64().unwrap_or(0.0),
                    ci[0].as_f64().unwrap_or(0.0),
                    ci[1].as_f64().unwrap_or(0.0),
                    row["million_ids_per_s"].as_f64().unwrap_or(0.0),
                    row["ratio_to_baseline"].as_f64().unwrap_or(0.0),
                );
                rows.push(row);
            }
        }
        for verdict in &verdicts {
            println!(
                "\n**Target** {}: {} ({}).",
                verdict["target"].as_str().unwrap_or(""),
                if verdict["met"].as_bool() == Some(true) {
                    "met"
                } else {
                    "NOT met"
                },
                verdict["measured"].as_str().unwrap_or(""),
            );
        }
        self.cases.push(json!({
            "case": title,
            "baseline": baseline,
            "rows": rows,
            "verdicts": verdicts,
        }));
    }
}

/// A target's verdict: `met` when `value` satisfies it, with how it was measured.
fn verdict(target: &str, met: bool, measured: String) -> Value {
    json!({ "target": target, "met": met, "measured": measured })
}

fn main() {
    let mut criterion_dir = PathBuf::from("target/criterion");
    let mut sustained = None;
    let mut interleaved = None;
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--criterion", Some(v)) => criterion_dir = PathBuf::from(v),
            ("--sustained", Some(v)) => sustained = Some(PathBuf::from(v)),
            ("--interleaved", Some(v)) => interleaved = Some(PathBuf::from(v)),
            ("--json", Some(v)) => out = Some(PathBuf::from(v)),
            (other, _) => {
                eprintln!("unknown argument {other}; usage: report [--criterion DIR] [--sustained FILE] [--interleaved FILE] [--json OUT]");
                std::process::exit(2);
            }
        }
    }

    let mut report = Report {
        estimates: load_criterion(&criterion_dir),
        cases: Vec::new(),
    };
    if report.estimates.is_empty() {
        eprintln!(
            "no core_* results under {}; run `cargo bench -p snowdrift-benches` first",
            criterion_dir.display()
        );
        std::process::exit(1);
    }

    // Case 1: one thread, next_id.
    let ours = report.ns("core_next_id/snowdrift_32_5_5_22", 1.0);
    let ferroid = report.ns("core_next_id/ferroid_atomic_32_10_22", 1.0);
    let mut verdicts = Vec::new();
    if let (Some(ours), Some(ferroid)) = (ours, ferroid) {
        verdicts.push(verdict(
            "next_id faster than ferroid's AtomicSnowflakeGenerator (criterion: cases run one after another)",
            ours < ferroid,
            format!(
                "ours {ours:.2} ns, ferroid {ferroid:.2} ns: ferroid/ours = {:.2}",
                ferroid / ours
            ),
        ));
    }
    report.case(
        "1. next_id, 1 thread, wide layouts",
        "core_next_id/baseline_fetch_add",
        &[
            "core_next_id/model_load_then_fetch_add",
            "core_next_id/snowdrift_32_5_5_22",
            "core_next_id/snowdrift_32_5_5_22_precise_clock",
            "core_next_id/ferroid_atomic_32_10_22",
            "core_next_id/snowflake_me_31_5_5_22",
            "core_next_id/snowflake_me_31_5_5_22_ticker_clock",
        ],
        1.0,
        verdicts,
    );

    // Case 2: two threads sharing one generator.
    let ours = report.ns("core_two_threads/snowdrift_32_5_5_22", 1.0);
    let base = report.ns("core_two_threads/baseline_fetch_add", 1.0);
    let mut verdicts = Vec::new();
    if let (Some(ours), Some(base)) = (ours, base) {
        verdicts.push(verdict(
            "2 threads: total throughput at least that of a shared bare fetch_add (criterion: cases run one after another)",
            ours <= base,
            format!(
                "ours {:.1} M IDs/s, fetch_add {:.1} M/s: ours/baseline throughput = {:.2}",
                1e3 / ours,
                1e3 / base,
                base / ours
            ),
        ));
    }
    report.case(
        "2. two threads sharing one generator (ns of wall time per ID, both threads together)",
        "core_two_threads/baseline_fetch_add",
        &[
            "core_two_threads/model_load_then_fetch_add",
            "core_two_threads/snowdrift_32_5_5_22",
            "core_two_threads/snowdrift_local",
            "core_two_threads/ferroid_atomic_32_10_22",
            "core_two_threads/ferroid_atomic_32_10_22_spin_on_lost_cas",
            "core_two_threads/snowflake_me_31_5_5_22",
        ],
        1.0,
        verdicts,
    );

    // Case 3: blocks.
    for n in [1000u64, 4096] {
        let ours = report.ns(&format!("core_next_ids/snowdrift_next_ids/{n}"), n as f64);
        let mut verdicts: Vec<Value> = ours
            .map(|ours| {
                vec![verdict(
                    "next_ids ≤ 1 ns per ID amortised, every ID consumed",
                    ours <= 1.0,
                    format!("{ours:.3} ns/ID"),
                )]
            })
            .unwrap_or_default();
        // Issue 13 §2: one ID at a time from a refilled batch, against snowflake_me's refilled Vec.
        let peer = report.ns(
            &format!("core_next_ids/snowflake_me_next_ids_into_one_at_a_time/{n}"),
            n as f64,
        );
        for (what, name) in [
            ("an IdBlock", "snowdrift_block_one_at_a_time"),
            (
                "a buffer next_ids_into refills",
                "snowdrift_next_ids_into_one_at_a_time",
            ),
        ] {
            if let (Some(ours), Some(peer)) = (
                report.ns(&format!("core_next_ids/{name}/{n}"), n as f64),
                peer,
            ) {
                verdicts.push(verdict(
                    &format!("one at a time from {what}: at least snowflake_me's speed (one at a time from its refilled Vec; criterion: cases run one after another)"),
                    ours <= peer,
                    format!("ours {ours:.3} ns/ID, snowflake_me {peer:.3} ns/ID: snowflake_me/ours = {:.2}", peer / ours),
                ));
            }
        }
        report.case(
            &format!("3. next_ids({n}), 1 thread, every ID consumed"),
            &format!("core_next_ids/baseline_fetch_add_fold/{n}"),
            &[
                &format!("core_next_ids/snowdrift_next_ids/{n}"),
                &format!("core_next_ids/snowdrift_next_id_loop/{n}"),
                &format!("core_next_ids/snowflake_me_next_ids_into/{n}"),
                &format!("core_next_ids/snowdrift_block_one_at_a_time/{n}"),
                &format!("core_next_ids/snowdrift_next_ids_into_one_at_a_time/{n}"),
                &format!("core_next_ids/snowflake_me_next_ids_into_one_at_a_time/{n}"),
            ],
            n as f64,
            verdicts,
        );
    }

    // Case 5: clocks (no target; the ratios justify the choice).
    report.case(
        "5. one clock read",
        "core_clock/baseline_fetch_add",
        &[
            "core_clock/baseline_load",
            "core_clock/snowdrift_system_clock_now_ms",
            "core_clock/snowdrift_precise_clock_now_ms",
            "core_clock/std_system_time_now",
            "core_clock/std_instant_now",
            "core_clock/ferroid_monotonic_clock",
        ],
        1.0,
        Vec::new(),
    );

    // Case 4: the sustained program's results, if given.
    let mut sustained_json = Value::Null;
    if let Some(path) = sustained {
        let results = read_json(&path);
        println!("\n### 4. sustained, 1 thread, default layouts (windows of ~1 s)\n");
        println!("| generator | layout | IDs/s | of 4,096,000 | worst window | wall ns/ID | CPU ns/ID | CPU/wall |");
        println!("|---|---|---:|---:|---:|---:|---:|---:|");
        for r in results.as_array().into_iter().flatten() {
            println!(
                "| {} | {} | {:.0} | {:.2}% | {:.2}% | {:.1} | {:.1} | {:.1}% |",
                r["generator"].as_str().unwrap_or(""),
                r["layout"].as_str().unwrap_or(""),
                r["ids_per_s"].as_f64().unwrap_or(0.0),
                100.0 * r["ratio_to_ceiling"].as_f64().unwrap_or(0.0),
                100.0 * r["min_window_ratio"].as_f64().unwrap_or(0.0),
                r["wall_ns_per_id"].as_f64().unwrap_or(0.0),
                r["cpu_ns_per_id"].as_f64().unwrap_or(0.0),
                100.0 * r["cpu_over_wall"].as_f64().unwrap_or(0.0),
            );
        }
        if let Some(ours) = results
            .as_array()
            .and_then(|all| all.iter().find(|r| r["generator"] == "snowdrift"))
        {
            let ratio = ours["ratio_to_ceiling"].as_f64().unwrap_or(0.0);
            let v = verdict(
                "sustained ≥ 99% of 4,096,000 IDs/s",
                ratio >= 0.99,
                format!(
                    "{:.2}% overall, worst window {:.2}%; CPU {:.1} ns/ID vs wall {:.1} ns/ID",
                    100.0 * ratio,
                    100.0 * ours["min_window_ratio"].as_f64().unwrap_or(0.0),
                    ours["cpu_ns_per_id"].as_f64().unwrap_or(0.0),
                    ours["wall_ns_per_id"].as_f64().unwrap_or(0.0),
                ),
            );
            println!(
                "\n**Target** {}: {} ({}).",
                v["target"].as_str().unwrap_or(""),
                if ratio >= 0.99 { "met" } else { "NOT met" },
                v["measured"].as_str().unwrap_or("")
            );
            sustained_json = json!({ "results": results, "verdicts": [v] });
        }
    }

    // The interleaved program's cases, if given: the ratios the verdicts rest on.
    let mut interleaved_json = Value::Null;
    if let Some(path) = interleaved {
        let results = read_json(&path);
        for case in results["cases"].as_array().into_iter().flatten() {
            println!(
                "\n### {} — {} thread(s), interleaved, {} rounds (load average {})\n",
                case["case"].as_str().unwrap_or(""),
                case["threads"],
                case["rounds"],
                case["load_average_before"].as_str().unwrap_or("?"),
            );
            println!("| contender | wall ns/ID (median) | × baseline, per round: median (IQR) | CPU ns/ID (median) |");
            println!("|---|---:|---|---:|");
            for row in case["rows"].as_array().into_iter().flatten() {
                println!(
                    "| `{}` | {:.2} | {:.2} ({:.2}–{:.2}) | {:.2} |",
                    row["contender"].as_str().unwrap_or(""),
                    row["ns_per_id_median"].as_f64().unwrap_or(0.0),
                    row["ratio_to_baseline_median"].as_f64().unwrap_or(0.0),
                    row["ratio_to_baseline_iqr"][0].as_f64().unwrap_or(0.0),
                    row["ratio_to_baseline_iqr"][1].as_f64().unwrap_or(0.0),
                    row["cpu_ns_per_id_median"].as_f64().unwrap_or(0.0),
                );
            }
            for v in case["verdicts"].as_array().into_iter().flatten() {
                println!(
                    "\n**Target** {}: {} ({}: median {:.2}, IQR {:.2}–{:.2}; needs ≥ {:.2}).",
                    v["target"].as_str().unwrap_or(""),
                    if v["met"].as_bool() == Some(true) {
                        "met"
                    } else {
                        "NOT met"
                    },
                    v["ratio"].as_str().unwrap_or(""),
                    v["median"].as_f64().unwrap_or(0.0),
                    v["iqr"][0].as_f64().unwrap_or(0.0),
                    v["iqr"][1].as_f64().unwrap_or(0.0),
                    v["at_least"].as_f64().unwrap_or(0.0),
                );
            }
        }
        interleaved_json = results;
    }

    if let Some(out) = out {
        let summary = json!({
            "criterion_estimator": "median ns per iteration / IDs per iteration",
            "wide_layouts": snowdrift_benches::generators::WIDE_LAYOUTS,
            "cases": report.cases,
            "sustained": sustained_json,
            "interleaved": interleaved_json,
        });
        let text = serde_json::to_string_pretty(&summary).expect("JSON of plain values");
        std::fs::write(&out, text)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
        println!("\nsummary written to {}", out.display());
    }
}
