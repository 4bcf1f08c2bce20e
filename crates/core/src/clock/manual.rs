//! A clock that moves only when told to, for deterministic tests.

use crate::sync::{Arc, AtomicU64, Ordering};

use super::Clock;

/// A hand-set clock. Clones share the same time.
///
/// By default a wait *advances* the clock to its target, which simulates time passing without
/// sleeping; [`ManualClock::frozen`] makes waits return at once instead, so a test can observe
/// what the generator does when time does not move.
///
/// ```
/// use snowdrift::clock::{Clock, ManualClock};
/// let clock = ManualClock::new(1_700_000_000_000);
/// clock.advance(5);
/// assert_eq!(clock.now_ms(), 1_700_000_000_005);
/// clock.set(1_600_000_000_000); // backwards, as a test may wish
/// assert_eq!(clock.now_ms(), 1_600_000_000_000);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
    advance_on_wait: bool,
}

impl ManualClock {
    /// A clock at `unix_ms` whose waits advance it.
    pub fn new(unix_ms: u64) -> ManualClock {
        ManualClock {
            now_ms: Arc::new(AtomicU64::new(unix_ms)),
            advance_on_wait: true,
        }
    }

    /// A clock at `unix_ms` whose waits return without moving it.
    pub fn frozen(unix_ms: u64) -> ManualClock {
        ManualClock {
            now_ms: Arc::new(AtomicU64::new(unix_ms)),
            advance_on_wait: false,
        }
    }

    /// Sets the time, forwards or backwards.
    pub fn set(&self, unix_ms: u64) {
        self.now_ms.store(unix_ms, Ordering::SeqCst);
    }

    /// Moves the time forwards by `ms` (saturating at `u64::MAX`: it never wraps to the past).
    ///
    /// ```
    /// use snowdrift::clock::{Clock, ManualClock};
    /// let clock = ManualClock::new(u64::MAX - 1);
    /// clock.advance(5);
    /// assert_eq!(clock.now_ms(), u64::MAX);
    /// ```
    pub fn advance(&self, ms: u64) {
        let mut current = self.now_ms.load(Ordering::SeqCst);
        loop {
            match self.now_ms.compare_exchange(
                current,
                current.saturating_add(ms),
                Ordering::SeqCst,
                Ordering::SeqCst,
            ) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    /// Moves the time backwards by `ms` (saturating at 0).
    pub fn rewind(&self, ms: u64) {
        let now = self.now_ms.load(Ordering::SeqCst);
        self.now_ms.store(now.saturating_sub(ms), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }

    fn wait_until_ms(&self, target_ms: u64) {
        if self.advance_on_wait {
            let mut current = self.now_ms.load(Ordering::SeqCst);
            while current < target_ms {
                match self.now_ms.compare_exchange(
                    current,
                    target_ms,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ) {
                    Ok(_) => return,
                    Err(seen) => current = seen,
                }
            }
        }
    }
}
