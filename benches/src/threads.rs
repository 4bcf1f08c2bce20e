//! Runs one operation on several threads at once and times the whole, for the contention
//! benchmarks: total IDs divided by wall time is the throughput the threads get together.
//!
//! Threads are spawned and parked on a barrier before anything is timed, so thread creation is
//! not measured. Each thread reads the clock itself right after the barrier and right after its
//! last operation, and the wall time is from the earliest start to the latest end: timing from
//! the spawning thread instead would, on a loaded machine, sometimes start the clock after the
//! workers had already finished (the spawner descheduled past the barrier) and report nearly
//! zero. Each thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`) is summed as well: it excludes the
//! time a thread waited for a core, which wall time on a busy machine does not.

use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::fold;

/// What one run took: wall time from the first thread's start to the last one's end, and the
/// CPU time all threads spent in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// From the earliest start to the latest end.
    pub wall: Duration,
    /// The threads' CPU time, summed.
    pub cpu: Duration,
}

/// The calling thread's CPU time so far (zero if the clock cannot be read; Linux always can).
pub fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes only into the `timespec` we pass, which lives for the
    // whole call; CLOCK_THREAD_CPUTIME_ID is a valid clock on Linux.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(
        u64::try_from(ts.tv_sec).unwrap_or(0),
        u32::try_from(ts.tv_nsec).unwrap_or(0),
    )
}

/// Runs `op` `total` times split across `threads` threads (the first threads take the
/// remainder), folding each result into a per-thread checksum that is then `black_box`ed.
/// Returns the wall time from the common start to the last thread's end.
pub fn run_split<F>(threads: usize, total: u64, op: F) -> Duration
where
    F: Fn() -> u64 + Sync,
{
    run_split_with(threads, total, || (), |_: &mut ()| op()).wall
}

/// As [`run_split`], for an operation with per-thread state (a handle, a block, a buffer):
/// each thread builds its state with `make` before the start line, and `op` takes IDs from
/// it. Returns the wall and CPU time.
pub fn run_split_with<S, M, F>(threads: usize, total: u64, make: M, op: F) -> Timing
where
    M: Fn() -> S + Sync,
    F: Fn(&mut S) -> u64 + Sync,
{
    let threads = threads.max(1);
    let share = total / threads as u64;
    let extra = total % threads as u64;
    let start_line = Barrier::new(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|index| {
                let count = share + u64::from((index as u64) < extra);
                let (op, make) = (&op, &make);
                let start_line = &start_line;
                scope.spawn(move || {
                    let mut state = make();
                    start_line.wait();
                    let cpu = thread_cpu_time();
                    let start = Instant::now();
                    let mut checksum = 0u64;
                    for _ in 0..count {
                        checksum = fold(checksum, op(&mut state));
                    }
                    let end = Instant::now();
                    let cpu = thread_cpu_time().saturating_sub(cpu);
                    std::hint::black_box(checksum);
                    (start, end, cpu)
                })
            })
            .collect();
        let mut first_start: Option<Instant> = None;
        let mut last_end: Option<Instant> = None;
        let mut cpu = Duration::ZERO;
        for handle in handles {
            // A panicking worker means a failed generator call: let it fail the benchmark.
            match handle.join() {
                Ok((start, end, spent)) => {
                    first_start = Some(first_start.map_or(start, |s| s.min(start)));
                    last_end = Some(last_end.map_or(end, |e| e.max(end)));
                    cpu += spent;
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        let wall = match (first_start, last_end) {
            (Some(start), Some(end)) => end.saturating_duration_since(start),
            _ => Duration::ZERO,
        };
        Timing { wall, cpu }
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

    #[test]
    fn each_thread_gets_its_own_state() {
        let made = AtomicU64::new(0);
        let total = AtomicU64::new(0);
        run_split_with(
            3,
            1001,
            || made.fetch_add(1, Ordering::Relaxed),
            |_index| total.fetch_add(1, Ordering::Relaxed),
        );
        assert_eq!(made.load(Ordering::Relaxed), 3);
        assert_eq!(total.load(Ordering::Relaxed), 1001);
    }

    #[test]
    fn busy_threads_show_their_wall_and_cpu_time() {
        let timing = run_split_with(
            2,
            2,
            || (),
            |_| {
                let start = Instant::now();
                let mut x = 0u64;
                while start.elapsed() < Duration::from_millis(30) {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
                x
            },
        );
        // Each thread spun for 30 ms of wall time; the CPU it got is at most that, and on a
        // machine this busy it is at least a little.
        assert!(timing.wall >= Duration::from_millis(30), "{timing:?}");
        assert!(timing.cpu > Duration::ZERO, "{timing:?}");
    }
}
