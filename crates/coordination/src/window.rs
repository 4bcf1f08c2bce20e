//! Settings of the window protocol: how far ahead the high-water mark is persisted and when it
//! is extended.

use std::time::Duration;

/// How a node keeps its issuing window ahead of the clock.
///
/// The node persists `hwm = now + window`, raises the generator's ceiling to it, and extends it
/// again when less than half the window is left. A longer window means fewer writes and longer
/// service without the backend, and a later start for the next holder of the slot after a crash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowConfig {
    /// How far ahead of the clock the high-water mark is persisted. With etcd, at most what
    /// the cluster record allows (the floor after etcd loses its data covers that much).
    pub window: Duration,
    /// How long start-up may wait for a clock behind the persisted mark before failing.
    pub startup_max_wait: Duration,
    /// How often the keeper checks the window and the lease.
    pub check_interval: Duration,
    /// The generator's bound on waiting for a lagging clock during a call.
    pub max_wait: Duration,
    /// Future ticks a call may borrow when a tick is full (0: wait for the next tick).
    pub max_lead_ticks: u64,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window: Duration::from_secs(2),
            startup_max_wait: Duration::from_secs(5),
            check_interval: Duration::from_millis(100),
            max_wait: snowdrift::DEFAULT_MAX_WAIT,
            max_lead_ticks: 0,
        }
    }
}

impl WindowConfig {
    /// The window in ticks of `unit_ms`, at least one tick (the rounding the genesis bound of
    /// [`crate::floor`] assumes).
    pub(crate) fn window_ticks(&self, unit_ms: u64) -> u64 {
        crate::floor::window_ticks(self.window.as_millis() as u64, unit_ms)
    }

    /// Checks the settings make sense together. An error names the field at fault
    /// ([`crate::CoordError::Setting`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use snowdrift_coordination::{CoordError, WindowConfig};
    ///
    /// let config = WindowConfig { window: Duration::from_millis(150), ..WindowConfig::default() };
    /// let err = config.validate().unwrap_err();
    /// assert!(matches!(err, CoordError::Setting { setting: "window", .. }), "{err}");
    /// ```
    pub fn validate(&self) -> Result<(), crate::CoordError> {
        let invalid = |setting, reason| Err(crate::CoordError::Setting { setting, reason });
        if self.check_interval.is_zero() {
            return invalid("check_interval", "must be above zero".to_string());
        }
        // The keeper extends the window when half of it is left, and looks once per interval.
        let least = (self.check_interval * 2).max(Duration::from_millis(10));
        if self.window < least {
            return invalid(
                "window",
                format!(
                    "must be at least {} (twice the {} interval at which it is checked and \
                     extended), got {}",
                    humantime::format_duration(least),
                    humantime::format_duration(self.check_interval),
                    humantime::format_duration(self.window)
                ),
            );
        }
        Ok(())
    }
}
