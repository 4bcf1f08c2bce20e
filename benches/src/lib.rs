//! Shared set-up for the Snowdrift benchmarks: the generators under test (ours and the peers'),
//! the layouts they are compared in, the criterion settings, a many-threads harness and a
//! per-thread CPU clock.
//!
//! The benchmarks themselves live in `benches/*.rs` (criterion), `src/bin/sustained.rs` (the
//! sustained-rate program) and `src/bin/interleaved.rs` (cases 1 and 2 with the contenders
//! interleaved); `src/bin/report.rs` turns their results into the ratios that
//! `docs/BENCHMARKS.md` reports. Every comparison is against a baseline measured in the same
//! run, because absolute numbers on a shared 2-vCPU VM move from run to run while ratios hold.

pub mod cpu;
pub mod generators;
pub mod threads;

use std::time::Duration;

use criterion::Criterion;

/// Criterion settings shared by every benchmark: short, so the whole suite runs in a few
/// minutes on a 2-core machine, with 20 samples per case (criterion's minimum is 10).
pub fn criterion_config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
}

/// Folds an ID into a running checksum.
///
/// Used by every case that consumes many IDs, ours, the peers' and the baselines alike, so each
/// pays the same per-ID consumption cost. XOR keeps the compiler from summing a range in closed
/// form (it can for `+`), so every ID is really computed.
#[inline(always)]
pub fn fold(checksum: u64, id: u64) -> u64 {
    checksum ^ id
}
