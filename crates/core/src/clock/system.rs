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
//!
//! Why it sleeps: a ticker that wakes every millisecond costs an idle process 1-5% of a core.
//! After [`QUIET_TICKS_BEFORE_PARK`] ticks in which nobody read the clock, the ticker parks
//! (waking only to compare with the wall clock, four times a second); the first read after
//! that computes the precise time itself and wakes the ticker, and so does every read until
//! the ticker has resumed (the protocol, and why no read is stale, is in `published.rs`).
//!
//! Why a second kind of ticker: an *advanced* clock ([`SystemClock::advanced`], for a restart
//! behind a slot's mark) publishes the slewed time of [`Slew`] instead of the anchored time.
//! It has a ticker (and a thread) of its own, so its readers pay exactly what readers of the
//! shared clock pay, one load, and the shared clock's hot path has no branch for it.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread::Thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::published::Published;
use super::{Clock, Slew, SlewRate};

/// Difference between wall time and our time beyond which a step is recorded.
const STEP_THRESHOLD_MS: i64 = 10;
/// How often the ticker compares its time with the wall clock, ticking or parked.
const WALL_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// Consecutive ticks without a read after which the ticker parks. Long enough that a steady
/// trickle of requests (one every few ms) keeps it ticking, short enough that an idle process
/// stops waking up within a fraction of a second.
const QUIET_TICKS_BEFORE_PARK: u32 = 50;

/// The process-wide anchored clock. It lives in a `static`, so `&'static` handles are free.
struct Ticker {
    anchor: Instant,
    anchor_unix_us: u64,
    /// Forward steps adopted so far, in microseconds, added to the anchored time.
    adopted_us: AtomicU64,
    /// The published current time, in Unix milliseconds (only ever rises), and whether the
    /// ticker is parked.
    published: Published,
    /// The ticker's thread, for the first reader after a park to wake it.
    thread: Mutex<Option<Thread>>,
    /// Times the ticker parked because nobody read the clock.
    parks: AtomicU64,
    /// Added to the precise time: lets a test move time on while the ticker is parked.
    #[cfg(test)]
    test_skew_us: AtomicU64,
    forward_steps: AtomicU64,
    backward_steps: AtomicU64,
    /// Wall time minus our time at the last comparison, in ms (negative: wall is behind).
    wall_offset_ms: AtomicI64,
    /// The process whose ticker thread is running: a child made by `fork()` inherits the
    /// ticker's memory but not its thread, and tells so by a different process ID.
    ticking_pid: AtomicU32,
    /// For an advanced clock: how the published time is derived from the anchored time.
    slew: Option<Slew>,
}

static TICKER: OnceLock<Ticker> = OnceLock::new();

impl Ticker {
    fn new() -> Ticker {
        Ticker::with_slew(None)
    }

    /// A ticker for the shared clock (`None`), or one whose time starts at `start_id_us`
    /// (Unix microseconds) and slews back to the anchored time at the rate.
    fn with_slew(advanced: Option<(u64, SlewRate)>) -> Ticker {
        let anchor_unix_us = wall_unix_us();
        let slew = advanced.map(|(start_id_us, rate)| Slew::new(anchor_unix_us, start_id_us, rate));
        let first_us = slew.map_or(anchor_unix_us, |slew| slew.id_time_us(anchor_unix_us));
        Ticker {
            anchor: Instant::now(),
            anchor_unix_us,
            adopted_us: AtomicU64::new(0),
            published: Published::new(first_us / 1000),
            thread: Mutex::new(None),
            parks: AtomicU64::new(0),
            #[cfg(test)]
            test_skew_us: AtomicU64::new(0),
            forward_steps: AtomicU64::new(0),
            backward_steps: AtomicU64::new(0),
            wall_offset_ms: AtomicI64::new(0),
            ticking_pid: AtomicU32::new(std::process::id()),
            slew,
        }
    }

    fn start() -> &'static Ticker {
        let mut started = false;
        let ticker = TICKER.get_or_init(|| {
            started = true;
            Ticker::new()
        });
        if started {
            ticker.spawn_thread();
        }
        ticker
    }

    /// Starts the thread that publishes each millisecond.
    fn spawn_thread(&'static self) {
        let spawned = std::thread::Builder::new()
            .name("snowdrift-clock".into())
            .spawn(move || self.run());
        match spawned {
            Ok(handle) => {
                *self.thread.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(handle.thread().clone());
            }
            // Without a thread nothing publishes: let every read compute the precise time, so
            // the clock stays exact, only slower.
            Err(_) => self.published.park_forever(),
        }
    }

    /// Our precise time, in Unix microseconds: the anchored time, slewed for an advanced clock.
    fn precise_unix_us(&self) -> u64 {
        let anchored = self.anchored_unix_us();
        match self.slew {
            None => anchored,
            Some(slew) => slew.id_time_us(anchored),
        }
    }

    /// Wall time at start plus monotonic time since, plus adopted forward steps: our best
    /// idea of the wall clock, in Unix microseconds.
    fn anchored_unix_us(&self) -> u64 {
        let us = self.anchor_unix_us
            + self.anchor.elapsed().as_micros() as u64
            + self.adopted_us.load(Ordering::Relaxed);
        #[cfg(test)]
        let us = us + self.test_skew_us.load(Ordering::Relaxed);
        us
    }

    /// Publishes the precise time (keeping the park state); returns it in microseconds.
    fn publish(&self) -> u64 {
        let us = self.precise_unix_us();
        self.published.raise(us / 1000);
        us
    }

    /// The current time in Unix ms: one load while the ticker ticks.
    #[inline(always)]
    fn now_ms(&self) -> u64 {
        self.published
            .read(|| self.precise_unix_us() / 1000, || self.wake())
    }

    /// Wakes the parked ticker thread (called once per park, by the first reader after it).
    #[cold]
    fn wake(&self) {
        if let Some(thread) = self
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            thread.unpark();
        }
    }

    fn run(&self) {
        let mut last_wall_check = Instant::now();
        let mut quiet_ticks = 0u32;
        loop {
            let us = self.precise_unix_us();
            let read = self.published.tick(us / 1000);
            quiet_ticks = if read {
                0
            } else {
                quiet_ticks.saturating_add(1)
            };
            if last_wall_check.elapsed() >= WALL_CHECK_INTERVAL {
                last_wall_check = Instant::now();
                self.compare_with_wall();
            }
            if quiet_ticks >= QUIET_TICKS_BEFORE_PARK && self.published.try_park() {
                self.parks.fetch_add(1, Ordering::Relaxed);
                self.sleep_while_parked();
                last_wall_check = Instant::now();
                quiet_ticks = 0;
                continue;
            }
            // Sleep to just past the next millisecond boundary.
            let to_boundary = 1000 - (us % 1000);
            std::thread::sleep(Duration::from_micros(to_boundary + 20));
        }
    }

    /// Parked: wakes only to compare with the wall clock, until a reader asks it to resume;
    /// then publishes a fresh millisecond and returns.
    fn sleep_while_parked(&self) {
        while !self.published.wake_requested() {
            // A reader's unpark may come before this call; park_timeout then returns at once.
            std::thread::park_timeout(WALL_CHECK_INTERVAL);
            self.compare_with_wall();
        }
        self.published.resume(self.precise_unix_us() / 1000);
    }

    fn compare_with_wall(&self) {
        // The anchored time, not the slewed one: the lead of an advanced clock is no step.
        let ours_us = self.anchored_unix_us();
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

fn wall_unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// The default clock: anchored wall time published by a shared 1 ms ticker thread.
///
/// A read is one atomic load while the ticker ticks. After 50 ms in which nobody read the
/// clock the ticker parks (an idle process then wakes about four times a second, to compare
/// with the wall clock); a read while it is parked computes the precise time (about 30 ns)
/// and wakes it, so reads are never stale.
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
            // The parent's thread handle names a thread this process does not have.
            *ticker.thread.lock().unwrap_or_else(|e| e.into_inner()) = None;
            ticker.published.resume(ticker.precise_unix_us() / 1000);
            ticker.spawn_thread();
        }
    }

    /// A clock that reads `start_ms` (Unix milliseconds) now and then runs `rate` slower
    /// than real time until it meets the wall clock, which it follows from then on (see
    /// [`Slew`]). A start behind the wall clock is the wall clock. This is how a node restarts
    /// behind its slot's persisted mark without waiting (`--clock-behind advance`).
    ///
    /// Each call starts a ticker thread of its own, which lives as long as the process: make
    /// one per start-up of a node, not one per request.
    ///
    /// ```
    /// use snowdrift::clock::{Clock, SlewRate, SystemClock};
    /// let wall = SystemClock::new();
    /// let clock = SystemClock::advanced(wall.now_ms() + 60_000, SlewRate::DEFAULT);
    /// assert!(clock.now_ms() >= wall.now_ms() + 59_000);
    /// let status = clock.slew_status().expect("an advanced clock");
    /// assert!(status.lead_ms <= status.initial_lead_ms);
    /// assert!(SystemClock::new().slew_status().is_none());
    /// ```
    pub fn advanced(start_ms: u64, rate: SlewRate) -> SystemClock {
        let ticker = Ticker::with_slew(Some((start_ms.saturating_mul(1000), rate)));
        let ticker: &'static Ticker = Box::leak(Box::new(ticker));
        ticker.spawn_thread();
        SystemClock { ticker }
    }

    /// For an advanced clock, its slew and how much of its lead is left; `None` for the
    /// shared wall clock.
    pub fn slew_status(&self) -> Option<SlewStatus> {
        let slew = self.ticker.slew?;
        let wall_us = self.ticker.anchored_unix_us();
        Some(SlewStatus {
            rate: slew.rate(),
            initial_lead_ms: slew.initial_lead_us() / 1000,
            lead_ms: slew.lead_us(wall_us) / 1000,
            converged_at_unix_ms: slew.converged_at_us() / 1000,
        })
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
        self.ticker.now_ms()
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

/// Where an advanced [`SystemClock`] is in its slew back to the wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlewStatus {
    /// How much slower than real time it runs while it leads.
    pub rate: SlewRate,
    /// The lead over the wall clock at the start, in ms.
    pub initial_lead_ms: u64,
    /// The lead now, in ms (zero once it has met the wall clock).
    pub lead_ms: u64,
    /// When it meets (or met) the wall clock, in Unix ms.
    pub converged_at_unix_ms: u64,
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

    /// The deterministic hook: a private ticker whose time the test moves on by a minute while
    /// the ticker is parked. Far more than any scheduling delay, so a read that returned the
    /// millisecond published before the park could not pass by luck.
    #[test]
    fn the_first_read_after_the_ticker_parked_is_the_current_time() {
        let ticker: &'static Ticker = Box::leak(Box::new(Ticker::new()));
        ticker.spawn_thread();
        // Nobody reads, so the ticker parks after its quiet ticks. A bound, not a speed.
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !ticker.published.is_parked() {
            assert!(
                std::time::Instant::now() < deadline,
                "the ticker never parked"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(ticker.parks.load(Ordering::Relaxed), 1);

        ticker.test_skew_us.fetch_add(60_000_000, Ordering::Relaxed);
        let expected = ticker.precise_unix_us() / 1000;
        let first = ticker.now_ms();
        assert!(
            first >= expected,
            "first read after the park: {first}, the time was {expected}"
        );

        // That read woke the ticker: it resumes and publishes the moved-on time itself.
        while ticker.published.is_parked() {
            assert!(
                std::time::Instant::now() < deadline,
                "the ticker never woke"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(ticker.now_ms() >= expected);
    }

    #[test]
    fn an_advanced_clock_leads_then_meets_the_wall_clock() {
        // 300 ms ahead at 90%: it meets the wall clock after 333 ms of real time.
        let rate = SlewRate::from_ppm(900_000).unwrap();
        let start = wall_unix_us() / 1000 + 300;
        let clock = SystemClock::advanced(start, rate);
        let first = clock.now_ms();
        assert!(first >= start, "starts at the mark: {first} < {start}");
        let status = clock.slew_status().unwrap();
        assert!(status.initial_lead_ms <= 300 && status.initial_lead_ms >= 250);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = first;
        while clock.slew_status().unwrap().lead_ms > 0 {
            assert!(Instant::now() < deadline, "never converged");
            let now = clock.now_ms();
            assert!(now >= last, "went back from {last} to {now}");
            last = now;
            std::thread::sleep(Duration::from_millis(5));
        }
        // Converged: it is the wall clock again (the ticker's millisecond granularity aside).
        std::thread::sleep(Duration::from_millis(20));
        let wall_ms = wall_unix_us() / 1000;
        assert!(
            clock.now_ms().abs_diff(wall_ms) <= 5,
            "{} vs {wall_ms}",
            clock.now_ms()
        );
        assert_eq!(
            clock.events().backward_steps,
            0,
            "the lead is not a wall-clock step"
        );
    }

    #[test]
    fn waiting_reaches_the_target() {
        let clock = SystemClock::new();
        let start = clock.now_ms();
        clock.wait_until_ms(start + 3);
        assert!(clock.now_ms() >= start + 3);
    }
}
