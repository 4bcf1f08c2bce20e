//! A clock with no background thread: anchored wall time, advanced by `Instant::now()` per read.
//!
//! It has the same never-backwards property as [`super::SystemClock`], at the price of a
//! monotonic clock read (~20-35 ns on a VM) on every call. Use it where a background thread is
//! unwelcome, or as the baseline the ticker is measured against.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::Clock;

/// Wall time read once at construction, then advanced by the monotonic clock on every read.
///
/// ```
/// use snowdrift::clock::{Clock, PreciseClock};
/// let clock = PreciseClock::new();
/// assert!(clock.now_ms() > 1_600_000_000_000);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct PreciseClock {
    anchor: Instant,
    anchor_unix_us: u64,
}

impl Default for PreciseClock {
    fn default() -> Self {
        PreciseClock::new()
    }
}

impl PreciseClock {
    /// Anchors to the wall clock now.
    pub fn new() -> PreciseClock {
        PreciseClock {
            anchor: Instant::now(),
            anchor_unix_us: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_micros() as u64)
                .unwrap_or(0),
        }
    }
}

impl Clock for PreciseClock {
    #[inline]
    fn now_ms(&self) -> u64 {
        (self.anchor_unix_us + self.anchor.elapsed().as_micros() as u64) / 1000
    }

    fn wait_until_ms(&self, target_ms: u64) {
        let now_us = self.anchor_unix_us + self.anchor.elapsed().as_micros() as u64;
        let target_us = target_ms.saturating_mul(1000);
        if target_us > now_us {
            std::thread::sleep(std::time::Duration::from_micros(target_us - now_us));
        }
    }
}
