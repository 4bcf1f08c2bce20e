//! Runs one operation on several threads at once and times the whole, for the contention
//! benchmarks: total IDs divided by wall time is the throughput the threads get together.
//!
//! Threads are spawned and parked on a barrier before the clock starts, so thread creation is
//! not measured; the clock stops when the last thread has finished its share.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::fold;

/// Runs `op` `total` times split across `threads` threads (the first threads take the
/// remainder), folding each result into a per-thread checksum that is then `black_box`ed.
/// Returns the wall time from the common start to the last thread's end.
pub fn run_split<F>(threads: usize, total: u64, op: F) -> Duration
where
    F: Fn() -> u64 + Sync,
{
    let threads = threads.max(1);
    let share = total / threads as u64;
    let extra = total % threads as u64;
    let start_line = Barrier::new(threads + 1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let count = share + u64::from((index as u64) < extra);
                let op = &op;
                let start_line = &start_line;
                scope.spawn(move || {
                    start_line.wait();
                    let mut checksum = 0u64;
                    for _ in 0..count {
                        checksum = fold(checksum, op());
                    }
                    std::hint::black_box(checksum);
                })
            })
            .collect();
        start_line.wait();
        let start = Instant::now();
        for handle in handles {
            // A panicking worker means a failed generator call: let it fail the benchmark.
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
        start.elapsed()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[test]
    fn every_operation_runs_exactly_once() {
        let counter = AtomicU64::new(0);
        run_split(3, 1001, || counter.fetch_add(1, Ordering::Relaxed));
        assert_eq!(counter.load(Ordering::Relaxed), 1001);
    }
}
