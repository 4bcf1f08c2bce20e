//! The millisecond the ticker publishes, and the protocol that lets the ticker sleep while
//! nobody reads it without a reader ever seeing a stale time.
//!
//! # The word
//! One atomic word holds `ms << FLAG_BITS | flags`:
//! - `PROBE`: set by every tick, cleared by the first read after it. A tick that finds it
//!   still set knows nobody read the clock during the last tick; that is how the ticker sees
//!   that it is idle without readers writing anything on their fast path.
//! - `PARKED`: the ticker has stopped publishing; the `ms` in the word is the last one it
//!   published and goes stale. A reader that sees it computes the precise time itself.
//! - `WAKE`: a reader has asked the parked ticker to resume (set once, by the first reader
//!   that sees `PARKED`, which then unparks the ticker's thread).
//!
//! # Why a read is exact
//! - With no flag set, the word holds the millisecond the ticker published at its last tick,
//!   as before this protocol: one load, and the ticker publishes every millisecond.
//! - The ticker parks only by a compare-exchange from the very word its last tick wrote, so
//!   it fails if any reader cleared `PROBE` since: a reader that loaded a word without
//!   `PARKED` read a millisecond published by a ticker that was still ticking.
//! - Once `PARKED` is set, every read takes the slow path and returns the precise time (the
//!   caller's `precise_ms`), never the stale word, until the ticker has resumed and published
//!   a fresh millisecond with the flags cleared. So the first read after a sleep, and every
//!   read while the ticker is waking, sees the current millisecond.
//! - No read returns less than the word holds: the slow path raises the word to its precise
//!   time and returns the larger of the two, so the clock never goes back across readers.

use std::sync::atomic::{AtomicU64, Ordering};

/// Set by every tick; cleared by the first read after it.
const PROBE: u64 = 1;
/// The ticker is parked: the published millisecond is stale.
const PARKED: u64 = 2;
/// A reader asked the parked ticker to resume.
const WAKE: u64 = 4;
const FLAGS: u64 = PROBE | PARKED | WAKE;
const FLAG_BITS: u32 = 3;

/// The published time, in Unix milliseconds, with the idle protocol's flags.
#[derive(Debug)]
pub(crate) struct Published {
    word: AtomicU64,
}

impl Published {
    /// A word holding `ms`, as if just published by a tick.
    pub(crate) fn new(ms: u64) -> Published {
        Published {
            word: AtomicU64::new((ms << FLAG_BITS) | PROBE),
        }
    }

    /// The current time: the published millisecond while the ticker ticks, otherwise the
    /// precise time (and the first reader to find the ticker parked calls `wake`).
    #[inline(always)]
    pub(crate) fn read(&self, precise_ms: impl FnOnce() -> u64, wake: impl FnOnce()) -> u64 {
        let word = self.word.load(Ordering::Acquire);
        if word & FLAGS == 0 {
            return word >> FLAG_BITS;
        }
        self.read_flagged(word, precise_ms, wake)
    }

    /// The read path when a flag is set: once per tick (to clear `PROBE`), and on every read
    /// while the ticker is parked or waking.
    #[cold]
    #[inline(never)]
    fn read_flagged(
        &self,
        word: u64,
        precise_ms: impl FnOnce() -> u64,
        wake: impl FnOnce(),
    ) -> u64 {
        if word & PARKED == 0 {
            // Ticking: the millisecond is fresh. Tell the ticker someone is reading.
            self.word.fetch_and(!PROBE, Ordering::AcqRel);
            return word >> FLAG_BITS;
        }
        if word & WAKE == 0 && self.word.fetch_or(WAKE, Ordering::AcqRel) & WAKE == 0 {
            wake();
        }
        let ms = precise_ms();
        let before = self.raise(ms);
        ms.max(before >> FLAG_BITS)
    }

    /// Raises the published millisecond to `ms` (never lowers it), keeping the flags; returns
    /// the word as it was. For a waiter that has read the precise time anyway.
    pub(crate) fn raise(&self, ms: u64) -> u64 {
        let mut current = self.word.load(Ordering::Acquire);
        loop {
            if current >> FLAG_BITS >= ms {
                return current;
            }
            let raised = (ms << FLAG_BITS) | (current & FLAGS);
            match self.word.compare_exchange_weak(
                current,
                raised,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return current,
                Err(seen) => current = seen,
            }
        }
    }

    /// A tick of a running ticker: publishes `ms` (never lowering the word) with `PROBE` set.
    /// Returns whether the clock was read since the previous tick.
    pub(crate) fn tick(&self, ms: u64) -> bool {
        let mut current = self.word.load(Ordering::Acquire);
        loop {
            let ticked = (ms.max(current >> FLAG_BITS) << FLAG_BITS) | PROBE;
            match self.word.compare_exchange_weak(
                current,
                ticked,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return current & PROBE == 0,
                Err(seen) => current = seen,
            }
        }
    }

    /// Parks, if nobody has read the clock since the last tick; returns whether it did. The
    /// caller must then stop ticking until [`Published::wake_requested`], and [`resume`].
    ///
    /// [`resume`]: Published::resume
    pub(crate) fn try_park(&self) -> bool {
        let current = self.word.load(Ordering::Acquire);
        if current & FLAGS != PROBE {
            return false;
        }
        self.word
            .compare_exchange(
                current,
                (current & !PROBE) | PARKED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
    }

    /// Whether a reader has asked the parked ticker to resume.
    pub(crate) fn wake_requested(&self) -> bool {
        self.word.load(Ordering::Acquire) & WAKE != 0
    }

    /// Whether the ticker is parked (or waking): reads compute the precise time.
    #[cfg(test)]
    pub(crate) fn is_parked(&self) -> bool {
        self.word.load(Ordering::Acquire) & PARKED != 0
    }

    /// Resumes ticking: publishes `ms` (never lowering the word) and clears `PARKED` and
    /// `WAKE`, so reads take the published millisecond again.
    pub(crate) fn resume(&self, ms: u64) {
        self.tick(ms);
    }

    /// Stops trusting the published millisecond for good (the ticker thread could not be
    /// started): every read computes the precise time.
    pub(crate) fn park_forever(&self) {
        self.word.fetch_or(PARKED | WAKE, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// The protocol driven by hand: `precise` is what the monotonic clock would say.
    struct Script {
        published: Published,
        precise: Cell<u64>,
        wakes: Cell<u32>,
    }

    impl Script {
        fn at(ms: u64) -> Script {
            Script {
                published: Published::new(ms),
                precise: Cell::new(ms),
                wakes: Cell::new(0),
            }
        }

        fn read(&self) -> u64 {
            self.published.read(
                || self.precise.get(),
                || self.wakes.set(self.wakes.get() + 1),
            )
        }

        /// One tick of the ticker at the current precise time; whether it saw a read.
        fn tick(&self) -> bool {
            self.published.tick(self.precise.get())
        }

        fn advance(&self, ms: u64) {
            self.precise.set(self.precise.get() + ms);
        }
    }

    #[test]
    fn a_ticking_clock_reads_the_published_millisecond() {
        let s = Script::at(1_000);
        s.advance(1);
        s.tick();
        assert_eq!(s.read(), 1_001);
        // Between ticks the word is what was published: the ticker's usual granularity.
        s.precise.set(1_001_900);
        assert_eq!(s.read(), 1_001);
        assert_eq!(s.wakes.get(), 0);
    }

    #[test]
    fn ticks_tell_whether_anyone_read_since_the_last_one() {
        let s = Script::at(1_000);
        s.tick();
        assert!(!s.tick(), "nobody read between these two ticks");
        s.read();
        s.read();
        assert!(s.tick(), "a read between two ticks is seen");
        assert!(!s.tick());
    }

    #[test]
    fn the_first_read_after_a_park_is_the_precise_time_not_the_stale_one() {
        let s = Script::at(5_000);
        s.tick();
        assert!(s.published.try_park());
        // The ticker sleeps; ten seconds pass with nobody reading.
        s.advance(10_000);
        assert_eq!(s.read(), 15_000, "the stale published ms was 5000");
        assert_eq!(s.wakes.get(), 1, "the first reader wakes the ticker");
        // Until the ticker has resumed, every read is precise, and it is woken only once.
        s.advance(3);
        assert_eq!(s.read(), 15_003);
        assert_eq!(s.wakes.get(), 1);
        assert!(s.published.wake_requested());
        // The ticker resumes with a fresh millisecond; reads take the published word again.
        s.published.resume(s.precise.get());
        assert!(!s.published.is_parked() && !s.published.wake_requested());
        s.precise.set(15_003_700);
        assert_eq!(s.read(), 15_003);
    }

    #[test]
    fn a_read_since_the_last_tick_keeps_the_ticker_from_parking() {
        let s = Script::at(1_000);
        s.tick();
        s.read(); // clears the probe: someone is using the clock
        assert!(!s.published.try_park());
        assert!(!s.published.is_parked());
        s.tick();
        assert!(s.published.try_park(), "no read since this tick");
        assert!(!s.published.try_park(), "already parked");
    }

    #[test]
    fn reads_never_go_below_what_was_published() {
        let s = Script::at(2_000);
        s.tick();
        assert!(s.published.try_park());
        // A waiter published a later millisecond than this reader's precise time (say its
        // forward-step adjustment was seen first): the reader answers the larger.
        s.published.raise(2_010);
        s.advance(4);
        assert_eq!(s.read(), 2_010);
        // And a reader's precise time is published for the readers after it.
        s.advance(20);
        assert_eq!(s.read(), 2_024);
        s.precise.set(2_000);
        assert_eq!(s.read(), 2_024);
        // Resuming below the word does not lower it either.
        s.published.resume(1_999);
        assert_eq!(s.read(), 2_024);
    }

    #[test]
    fn raising_keeps_the_flags_and_never_lowers() {
        let s = Script::at(3_000);
        s.tick();
        assert!(s.published.try_park());
        s.published.raise(3_500);
        assert!(
            s.published.is_parked(),
            "a waiter's publish does not unpark"
        );
        s.published.raise(3_100);
        s.advance(1);
        assert_eq!(s.read(), 3_500);
    }

    #[test]
    fn a_clock_parked_for_good_always_reads_the_precise_time() {
        let s = Script::at(7_000);
        s.published.park_forever();
        s.advance(42);
        assert_eq!(s.read(), 7_042);
        s.advance(1);
        assert_eq!(s.read(), 7_043);
        assert_eq!(s.wakes.get(), 0, "nobody to wake");
    }
}
