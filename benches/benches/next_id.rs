//! Case 1: the cost of one `next_id` on one thread, ours against ferroid's atomic generator and
//! snowflake_me, with a bare `AtomicU64::fetch_add` as the baseline measured in the same run.
//!
//! Every generator runs in a wide layout (22-bit sequence, see `generators.rs`), so the
//! per-tick limit of 4,096 IDs/ms never enters: what is timed is the clock read plus the
//! state update, the whole hot path. Our generator also runs on `PreciseClock`, and
//! snowflake_me also on our ticker clock, to show how much of each cost is the clock.

// A failed generator call must fail the benchmark loudly, not be timed as a fast ID, so
// `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{Criterion, Throughput};
use snowdrift::clock::PreciseClock;
use snowdrift_benches::generators;

fn next_id(c: &mut Criterion) {
    // Every generator is built first, so the clock threads (ours and ferroid's tickers) run
    // during every case, the baselines included, and all cases share the same background.
    let ours = generators::snowdrift_wide();
    let precise = generators::snowdrift_wide_on(PreciseClock::new());
    let ferroid = generators::ferroid_wide();
    let snowflake_me = generators::snowflake_me_wide();
    let snowflake_me_ticker = generators::snowflake_me_wide_on_ticker();

    let mut group = c.benchmark_group("core_next_id");
    group.throughput(Throughput::Elements(1));

    let counter = AtomicU64::new(0);
    group.bench_function("baseline_fetch_add", |b| {
        b.iter(|| black_box(counter.fetch_add(1, Ordering::AcqRel)));
    });
    // The two accesses our hot path makes to the state word, and nothing else: a load (to
    // compare the state's tick with the clock) followed by the `fetch_add`.
    group.bench_function("model_load_then_fetch_add", |b| {
        b.iter(|| {
            let seen = counter.load(Ordering::Acquire);
            black_box(counter.fetch_add(1, Ordering::AcqRel) ^ seen)
        });
    });

    group.bench_function("snowdrift_32_5_5_22", |b| {
        b.iter(|| black_box(ours.next_id().expect("snowdrift next_id")));
    });
    report_waits("snowdrift_32_5_5_22", ours.exhaustion_waits());

    group.bench_function("snowdrift_32_5_5_22_precise_clock", |b| {
        b.iter(|| black_box(precise.next_id().expect("snowdrift next_id")));
    });
    report_waits(
        "snowdrift_32_5_5_22_precise_clock",
        precise.exhaustion_waits(),
    );

    group.bench_function("ferroid_atomic_32_10_22", |b| {
        b.iter(|| black_box(generators::ferroid_next(&ferroid)));
    });

    group.bench_function("snowflake_me_31_5_5_22", |b| {
        b.iter(|| black_box(snowflake_me.next_id().expect("snowflake_me next_id")));
    });

    group.bench_function("snowflake_me_31_5_5_22_ticker_clock", |b| {
        b.iter(|| black_box(snowflake_me_ticker.next_id().expect("snowflake_me next_id")));
    });

    group.finish();
}

/// Says how often a case took the generator's wait path. With a 22-bit sequence a tick is
/// never really full, so these are reservations that landed past the tick the caller had read
/// from the clock (a stale or late clock read); each costs a clock publish, not a real sleep.
fn report_waits(case: &str, waits: u64) {
    if waits > 0 {
        eprintln!("note: {case} took the wait path {waits} times");
    }
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so the generated
    // group function does not trip the workspace's `missing_docs` lint.
    let mut criterion = snowdrift_benches::criterion_config().configure_from_args();
    next_id(&mut criterion);
    criterion.final_summary();
}
