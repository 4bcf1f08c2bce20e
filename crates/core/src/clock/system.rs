//! The default clock: wall time anchored once, advanced by the monotonic clock on a 1 ms ticker.
//!
//! Why a ticker: on this class of virtual machine `SystemTime::now()` costs about 35 ns and
//! `Instant::now()` about 20-35 ns, several times the cost of the atomic operation that makes an
//! ID. One background thread per process (shared by every generator) publishes the current
//! millisecond into an atomic, so a read costs one load. See `docs/BENCHMARKS.md` for the
//! measured options.
//!
//! Why anchored: the published time is `wall time at start + monotonic time elapsed`. A backward
//! step of the wall clock (NTP, an operator, a VM restore) is observed and counted but never
//! followed, so IDs never go backwards within a run. A forward step is adopted (the wall clock
//! is assumed to have been corrected) and counted too.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::Clock;

/// Difference between wall time and our time beyond which a step is recorded.
const STEP_THRESHOLD_MS: i64 = 10;
/// How often the ticker compares its time with the wall clock.
const WALL_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// The process-wide anchored clock. It lives in a `static`, so `&'static` handles are free.
struct Ticker {
    anchor: Instant,
    anchor_unix_us: u64,
    /// Forward steps adopted so far, in microseconds, added to the anchored time.
    adopted_us: AtomicU64,
    /// The published current time, in Unix milliseconds. Only ever rises.
    now_ms: AtomicU64,
    forward_steps: AtomicU64,
    backward_steps: AtomicU64,
    /// Wall time minus our time at the last comparison, in ms (negative: wall is behind).
    wall_offset_ms: AtomicI64,
    /// The process whose ticker thread is running: a child made by `fork()` inherits the
    /// ticker's memory but not its thread, and tells so by a different process ID.
    ticking_pid: AtomicU32,
}

static TICKER: OnceLock<Ticker> = OnceLock::new();

impl Ticker {
    fn start() -> &'static Ticker {
        TICKER.get_or_init(|| {
            let ticker = Ticker {
                anchor: Instant::now(),
                anchor_unix_us: wall_unix_us(),
                adopted_us: AtomicU64::new(0),
                now_ms: AtomicU64::new(0),
                forward_steps: AtomicU64::new(0),
                backward_steps: AtomicU64::new(0),
                wall_offset_ms: AtomicI64::new(0),
                ticking_pid: AtomicU32::new(std::process::id()),
            };
            ticker.publish();
            spawn_ticker_thread();
            ticker
        })
    }

    /// Our precise time, in Unix microseconds.
    fn precise_unix_us(&self) -> u64 {
        self.anchor_unix_us
            + self.anchor.elapsed().as_micros() as u64
            + self.adopted_us.load(Ordering::Relaxed)
    }

    /// Publishes the precise time; returns it in microseconds.
    fn publish(&self) -> u64 {
        let us = self.precise_unix_us();
        self.now_ms.fetch_max(us / 1000, Ordering::Release);
        us
    }

    fn run(&self) {
        let mut last_wall_check = Instant::now();
        loop {
            let us = self.publish();
            if last_wall_check.elapsed() >= WALL_CHECK_INTERVAL {
                last_wall_check = Instant::now();
                self.compare_with_wall();
            }
            // Sleep to just past the next millisecond boundary.
            let to_boundary = 1000 - (us % 1000);
            std::thread::sleep(Duration::from_micros(to_boundary + 20));
        }
    }

    fn compare_with_wall(&self) {
        let ours_us = self.precise_unix_us();
        let wall_us = wall_unix_us();
        let offset_ms = (wall_us as i64 - ours_us as i64) / 1000;
        let previous = self.wall_offset_ms.swap(offset_ms, Ordering::Relaxed);
        if offset_ms > STEP_THRESHOLD_MS {
            // The wall clock jumped ahead: adopt it, so IDs keep tracking real time.
            self.adopted_us
                .fetch_add(wall_us - ours_us, Ordering::Relaxed);
            self.wall_offset_ms.store(0, Ordering::Relaxed);
            self.forward_steps.fetch_add(1, Ordering::Relaxed);
            self.publish();
        } else if offset_ms < -STEP_THRESHOLD_MS && previous >= -STEP_THRESHOLD_MS {
            // The wall clock jumped back: keep our time, count the event once per step.
            self.backward_steps.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Starts the thread that publishes each millisecond.
fn spawn_ticker_thread() {
    // If the thread cannot be spawned, readers still make progress: `wait_until_ms` publishes
    // the precise time itself, so the clock degrades to "updated on wait".
    let _ = std::thread::Builder::new()
        .name("snowdrift-clock".into())
        // `wait`, not `get`: this thread can start before `get_or_init` has stored the
        // ticker, and `get` would then return `None` and leave the clock frozen.
        .spawn(|| TICKER.wait().run());
}

fn wall_unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The default clock: anchored wall time published by a shared 1 ms ticker thread.
///
/// ```
/// use snowdrift::clock::{Clock, SystemClock};
/// let clock = SystemClock::new();
/// let a = clock.now_ms();
/// clock.wait_until_ms(a + 2);
/// assert!(clock.now_ms() >= a + 2);
/// ```
#[derive(Clone, Copy)]
pub struct SystemClock {
    ticker: &'static Ticker,
}

impl std::fmt::Debug for SystemClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemClock")
            .field("now_ms", &self.now_ms())
            .field("events", &self.events())
            .finish()
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl SystemClock {
    /// A handle to the process-wide ticker, starting it on first use.
    pub fn new() -> SystemClock {
        SystemClock {
            ticker: Ticker::start(),
        }
    }

    /// Starts the ticker thread again in a child made by `fork()`; does nothing elsewhere.
    ///
    /// Threads do not survive a fork, so without this a child's clock stays at the moment of
    /// the fork and moves only when a call waits for a later millisecond: its IDs stay unique
    /// but their times fall behind. Call it in the child, before it makes IDs (the Python
    /// bindings call it from an `os.register_at_fork` handler). It spawns a thread, so it is not
    /// meant for a `pthread_atfork` handler.
    ///
    /// ```
    /// use snowdrift::clock::SystemClock;
    /// let clock = SystemClock::new();
    /// SystemClock::restart_after_fork(); // not a forked child: the running ticker is kept
    /// # let _ = clock;
    /// ```
    pub fn restart_after_fork() {
        let Some(ticker) = TICKER.get() else {
            // No clock was started before the fork; the first `new()` starts one.
            return;
        };
        let me = std::process::id();
        if ticker.ticking_pid.swap(me, Ordering::AcqRel) != me {
            ticker.publish();
            spawn_ticker_thread();
        }
    }

    /// What the clock has observed of the wall clock so far.
    pub fn events(&self) -> ClockEvents {
        ClockEvents {
            forward_steps: self.ticker.forward_steps.load(Ordering::Relaxed),
            backward_steps: self.ticker.backward_steps.load(Ordering::Relaxed),
            wall_offset_ms: self.ticker.wall_offset_ms.load(Ordering::Relaxed),
            adopted_forward_ms: self.ticker.adopted_us.load(Ordering::Relaxed) / 1000,
        }
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        self.ticker.now_ms.load(Ordering::Acquire)
    }

    fn wait_until_ms(&self, target_ms: u64) {
        loop {
            // Publishing here as well as on the ticker means a waiting thread sees the new
            // millisecond as soon as it wakes, even if the ticker thread is late.
            let us = self.ticker.publish();
            let target_us = target_ms.saturating_mul(1000);
            if us >= target_us {
                return;
            }
            std::thread::sleep(Duration::from_micros(target_us - us));
        }
    }
}

/// Counters of what the [`SystemClock`] has seen of the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ClockEvents {
    /// Forward steps of the wall clock that were adopted.
    pub forward_steps: u64,
    /// Backward steps of the wall clock that were seen and ignored.
    pub backward_steps: u64,
    /// Wall time minus the clock's time at the last comparison, in ms (negative: wall is behind).
    pub wall_offset_ms: i64,
    /// Total forward adjustment adopted, in ms.
    pub adopted_forward_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_time_tracks_the_wall_clock_at_start() {
        let clock = SystemClock::new();
        let wall_ms = wall_unix_us() / 1000;
        let ours = clock.now_ms();
        assert!(ours.abs_diff(wall_ms) < 1000, "ours {ours} wall {wall_ms}");
    }

    #[test]
    fn the_ticker_advances_the_clock_without_anyone_waiting() {
        // Regression: the ticker thread once exited when it started before its `OnceLock` was
        // set, leaving the clock frozen at start-up until something called `wait_until_ms`.
        let clock = SystemClock::new();
        let start = clock.now_ms();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while clock.now_ms() < start + 5 {
            assert!(
                std::time::Instant::now() < deadline,
                "the published time never moved"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    #[test]
    fn waiting_reaches_the_target() {
        let clock = SystemClock::new();
        let start = clock.now_ms();
        clock.wait_until_ms(start + 3);
        assert!(clock.now_ms() >= start + 3);
    }
}
