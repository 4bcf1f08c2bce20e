//! Case 5: what one read of each candidate clock costs, to justify the default clock.
//!
//! - `SystemClock::now_ms()`: our default, one atomic load of the shared 1 ms ticker;
//! - `PreciseClock::now_ms()`: anchored wall time advanced by `Instant::now()` on each read;
//! - `SystemTime::now()` and `Instant::now()`: the std clocks (vDSO `clock_gettime`);
//! - ferroid's `MonotonicClock` (also a ticker), for reference.
//!
//! Baselines in the same run: a bare `AtomicU64::fetch_add` (what making an ID costs at
//! least) and a bare `AtomicU64::load` (what a ticker read should cost).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, Throughput};
use ferroid::time::{MonotonicClock, TimeSource};
use snowdrift::clock::{Clock, PreciseClock, SystemClock};

fn clocks(c: &mut Criterion) {
    // Both tickers are started first, so their threads run during every case alike.
    let system = SystemClock::new();
    let precise = PreciseClock::new();
    let ferroid = MonotonicClock::<1>::with_epoch(Duration::ZERO);

    let mut group = c.benchmark_group("core_clock");
    group.throughput(Throughput::Elements(1));

    let counter = AtomicU64::new(0);
    group.bench_function("baseline_fetch_add", |b| {
        b.iter(|| black_box(counter.fetch_add(1, Ordering::AcqRel)));
    });
    group.bench_function("baseline_load", |b| {
        b.iter(|| black_box(black_box(&counter).load(Ordering::Acquire)));
    });

    group.bench_function("snowdrift_system_clock_now_ms", |b| {
        b.iter(|| black_box(black_box(&system).now_ms()));
    });

    group.bench_function("snowdrift_precise_clock_now_ms", |b| {
        b.iter(|| black_box(black_box(&precise).now_ms()));
    });

    group.bench_function("std_system_time_now", |b| {
        b.iter(|| black_box(SystemTime::now()));
    });

    group.bench_function("std_instant_now", |b| {
        b.iter(|| black_box(Instant::now()));
    });

    group.bench_function("ferroid_monotonic_clock", |b| {
        b.iter(|| black_box(TimeSource::<u64>::current_millis(black_box(&ferroid))));
    });

    group.finish();
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so the generated
    // group function does not trip the workspace's `missing_docs` lint.
    let mut criterion = snowdrift_benches::criterion_config().configure_from_args();
    clocks(&mut criterion);
    criterion.final_summary();
}
