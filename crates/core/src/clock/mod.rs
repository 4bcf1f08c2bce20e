//! Where the generator gets the time: the [`Clock`] trait and its implementations.
//!
//! The trait is the seam between the lock-free core and the outside world. Three clocks plug in:
//! - [`SystemClock`], the default: wall time read **once**, then advanced by the monotonic clock
//!   on a shared 1 ms ticker, so reading it is one atomic load and a backward step of the wall
//!   clock never reaches the IDs. The ticker sleeps while nobody reads the clock; the first
//!   read after that computes the precise time itself, so no read is stale;
//! - [`PreciseClock`]: the same anchoring, but it reads `Instant::now()` on every call (no
//!   background thread, ~20-35 ns a read);
//! - [`ManualClock`]: set by hand, for tests.
//!
//! A [`SystemClock`] may also be *advanced* ([`SystemClock::advanced`]): started ahead of the
//! wall clock, at a slot's persisted mark, and slewed back to it at a [`SlewRate`]; [`Slew`]
//! is that mapping, a pure function of wall time.

mod manual;
mod precise;
mod published;
mod slew;
mod system;

pub use manual::ManualClock;
pub use precise::PreciseClock;
pub use slew::{Slew, SlewRate};
pub use system::{ClockEvents, SlewStatus, SystemClock};

/// A source of Unix-millisecond time for a generator.
///
/// Implementations must be cheap to read, because the generator reads the clock on every ID.
/// They need not be monotonic (the generator never moves backwards whatever the clock says),
/// but a clock that goes backwards makes the generator wait or refuse, within its bounds.
pub trait Clock: Send + Sync {
    /// The current time, in Unix milliseconds.
    fn now_ms(&self) -> u64;

    /// Blocks until [`Clock::now_ms`] reaches `target_ms`.
    ///
    /// The generator calls this only for short, bounded waits (the next tick when a tick's
    /// sequence is used up, or a clock a little behind the floor). The default sleeps in short
    /// steps; it returns early if the clock has not moved for a while, and the generator then
    /// reports the clock as behind rather than waiting forever.
    fn wait_until_ms(&self, target_ms: u64) {
        let mut last = self.now_ms();
        let mut stalled_steps = 0u32;
        while last < target_ms {
            std::thread::sleep(std::time::Duration::from_micros(200));
            let now = self.now_ms();
            if now == last {
                stalled_steps += 1;
                // 10 000 steps of 200 µs: two seconds without the clock moving at all.
                if stalled_steps > 10_000 {
                    return;
                }
            } else {
                stalled_steps = 0;
            }
            last = now;
        }
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    fn wait_until_ms(&self, target_ms: u64) {
        (**self).wait_until_ms(target_ms)
    }
}

impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    fn wait_until_ms(&self, target_ms: u64) {
        (**self).wait_until_ms(target_ms)
    }
}
