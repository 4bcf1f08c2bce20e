//! Settings of the window protocol (how far ahead the high-water mark is persisted, and when
//! it is extended) and the keeper's decisions about marks, as pure functions of ticks: what the
//! first persist of a holding asks for ([`first_mark`]) and when and how far the keeper extends
//! ([`extension`]). Every mark is computed with saturating arithmetic and never lies past the
//! layout's last tick, so a node never persists a mark no holder of the layout could use.

use std::time::Duration;

use snowdrift::clock::SlewRate;
use snowdrift::Layout;

use crate::clock_behind::ClockBehind;

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
    /// Where each fresh tick's sequence starts (`zero`: Snowflake's behaviour).
    pub sequence_start: snowdrift::SequenceStart,
    /// What a start-up behind the slot's floor does: wait, or advance ([`ClockBehind`]).
    pub clock_behind: ClockBehind,
    /// The most an advanced ID clock may lead the wall clock at start-up.
    pub max_clock_lead: Duration,
    /// How much slower than real time an advanced ID clock runs until it meets the wall clock.
    pub clock_slew: SlewRate,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            window: Duration::from_secs(2),
            startup_max_wait: Duration::from_secs(5),
            check_interval: Duration::from_millis(100),
            max_wait: snowdrift::DEFAULT_MAX_WAIT,
            max_lead_ticks: 0,
            sequence_start: snowdrift::SequenceStart::Zero,
            clock_behind: ClockBehind::Wait,
            max_clock_lead: Duration::from_secs(3600),
            clock_slew: SlewRate::DEFAULT,
        }
    }
}

impl WindowConfig {
    /// The window in ticks of `unit_ms`, at least one tick (the rounding the genesis bound of
    /// [`crate::floor`] assumes).
    pub(crate) fn window_ticks(&self, unit_ms: u64) -> u64 {
        crate::floor::window_ticks(duration_ms(self.window), unit_ms)
    }

    /// Checks the settings make sense together. An error names the field at fault
    /// ([`crate::CoordError::Setting`]).
    ///
    /// The window must be at least twice the check interval (the keeper extends it when half
    /// is left, and looks once per interval) and **at most the start-up wait**: after a crash
    /// the slot's mark stays up to a window ahead of the clock, and a restart waits for the
    /// clock to pass it for at most `startup_max_wait`, so a longer window would make the
    /// restart fail. The bounds that need the layout or the backend are in
    /// [`WindowConfig::validate_for_layout`] and [`crate::EtcdOptions::validate_window`];
    /// [`crate::NodeConfig::validate`] runs them all.
    ///
    /// ```
    /// use std::time::Duration;
    /// use snowdrift_coordination::{CoordError, WindowConfig};
    ///
    /// let config = WindowConfig { window: Duration::from_millis(150), ..WindowConfig::default() };
    /// let err = config.validate().unwrap_err();
    /// assert!(matches!(err, CoordError::Setting { setting: "window", .. }), "{err}");
    /// // An hour's window with the default 5 s start-up wait: a restart after a crash would
    /// // refuse for up to an hour.
    /// let config = WindowConfig { window: Duration::from_secs(3600), ..WindowConfig::default() };
    /// assert!(config.validate().unwrap_err().to_string().contains("start-up wait"));
    /// ```
    pub fn validate(&self) -> Result<(), crate::CoordError> {
        let invalid = |setting, reason| Err(crate::CoordError::Setting { setting, reason });
        let show = |duration| humantime::format_duration(duration);
        if self.check_interval.is_zero() {
            return invalid("check_interval", "must be above zero".to_string());
        }
        // The keeper extends the window when half of it is left, and looks once per interval.
        let least = self
            .check_interval
            .saturating_mul(2)
            .max(Duration::from_millis(10));
        if self.window < least {
            return invalid(
                "window",
                format!(
                    "must be at least {} (twice the {} interval at which it is checked and \
                     extended), got {}",
                    show(least),
                    show(self.check_interval),
                    show(self.window)
                ),
            );
        }
        if self.window > self.startup_max_wait {
            return invalid(
                "window",
                format!(
                    "must be at most the start-up wait (--startup-max-wait, {}): after a crash \
                     the slot's mark stays up to one window ahead of the clock, and a restart \
                     waits at most the start-up wait for the clock to pass it; got {}. Use a \
                     shorter window, or a longer start-up wait with it",
                    show(self.startup_max_wait),
                    show(self.window)
                ),
            );
        }
        Ok(())
    }

    /// Checks the window fits `layout` at `now_unix_ms`: a mark persisted now, a window
    /// ahead of the clock, must not lie past the layout's last tick. (The keeper never
    /// persists past it in any case; this refuses a window that could only run into it.)
    ///
    /// ```
    /// use std::time::Duration;
    /// use snowdrift::Layout;
    /// use snowdrift_coordination::WindowConfig;
    ///
    /// let layout = Layout::default();
    /// let now = layout.epoch_ms() + 1_000;
    /// WindowConfig::default().validate_for_layout(&layout, now)?;
    /// let endless = WindowConfig { window: Duration::from_secs(200_000 * 86_400), ..WindowConfig::default() };
    /// assert!(endless.validate_for_layout(&layout, now).is_err());
    /// # Ok::<(), snowdrift_coordination::CoordError>(())
    /// ```
    pub fn validate_for_layout(
        &self,
        layout: &Layout,
        now_unix_ms: u64,
    ) -> Result<(), crate::CoordError> {
        let unit_ms = layout.unit_ms().max(1);
        let now_tick = crate::floor::tick_of(now_unix_ms, layout);
        let left_ticks = layout.max_tick().saturating_sub(now_tick);
        if self.window_ticks(unit_ms) <= left_ticks {
            return Ok(());
        }
        // Whole seconds: the precision a person acts on.
        let left = Duration::from_secs(left_ticks.saturating_mul(unit_ms) / 1000);
        Err(crate::CoordError::Setting {
            setting: "window",
            reason: format!(
                "reaches past the end of the layout's time, {} from now: a mark a window ahead \
                 of the clock would lie past the layout's last tick (tick {}); got {}",
                humantime::format_duration(left),
                layout.max_tick(),
                humantime::format_duration(self.window)
            ),
        })
    }
}

/// A duration in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The mark the first persist of a holding asks for: `window_ticks` ahead of the clock, or of
/// the floor while the clock has not reached it, and never past the layout's last tick
/// `max_tick`.
///
/// ```
/// use snowdrift_coordination::window::first_mark;
/// assert_eq!(first_mark(1_000, 500, 2_000, u64::MAX >> 22), 3_000);
/// assert_eq!(first_mark(1_000, 1_500, 2_000, u64::MAX >> 22), 3_500); // from the floor
/// assert_eq!(first_mark(1_000, 500, 2_000, 2_500), 2_500); // the layout ends at tick 2 500
/// ```
pub fn first_mark(clock_tick: u64, floor: u64, window_ticks: u64, max_tick: u64) -> u64 {
    clock_tick
        .max(floor)
        .saturating_add(window_ticks)
        .min(max_tick)
}

/// The keeper's decision at each check: `Some(mark)` to persist `mark` (the window ahead of the
/// clock, never past the layout's last tick `max_tick`) when less than half the window is left
/// above the clock, `None` to leave the window as it is. `ceiling` is the generator's (`None`
/// when it may use no tick). At the layout's end, once the ceiling is the last tick, nothing
/// is left to extend.
///
/// ```
/// use snowdrift_coordination::window::extension;
/// let end = u64::MAX >> 22;
/// assert_eq!(extension(1_000, Some(2_500), 2_000, end), None); // 1 500 ticks left
/// assert_eq!(extension(1_000, Some(1_900), 2_000, end), Some(3_000)); // 900 left: extend
/// assert_eq!(extension(1_000, Some(2_500), 2_000, 2_500), None); // the layout's last tick
/// ```
pub fn extension(
    clock_tick: u64,
    ceiling: Option<u64>,
    window_ticks: u64,
    max_tick: u64,
) -> Option<u64> {
    let target = clock_tick.saturating_add(window_ticks).min(max_tick);
    match ceiling {
        Some(ceiling) if ceiling >= clock_tick.saturating_add(window_ticks / 2) => None,
        Some(ceiling) if ceiling >= target => None,
        _ => Some(target),
    }
}

/// What the keeper does at one check ([`keeper_step`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeeperStep {
    /// The fence deadline has passed: fence the generator, give the slot up, claim again.
    Fence,
    /// Persist this mark, and raise the ceiling to the mark the store acknowledges.
    Extend(u64),
    /// Nothing to do until the next check.
    Wait,
}

/// The keeper's decision at each check, the one it and the model run: fence once the holder's
/// fence deadline has passed (`overdue`; leased backends), whatever the window; otherwise
/// [`extension`].
///
/// ```
/// use snowdrift_coordination::window::{keeper_step, KeeperStep};
/// let end = u64::MAX >> 22;
/// assert_eq!(keeper_step(true, 1_000, Some(2_500), 2_000, end), KeeperStep::Fence);
/// assert_eq!(keeper_step(false, 1_000, Some(1_900), 2_000, end), KeeperStep::Extend(3_000));
/// assert_eq!(keeper_step(false, 1_000, Some(2_500), 2_000, end), KeeperStep::Wait);
/// ```
pub fn keeper_step(
    overdue: bool,
    clock_tick: u64,
    ceiling: Option<u64>,
    window_ticks: u64,
    max_tick: u64,
) -> KeeperStep {
    if overdue {
        return KeeperStep::Fence;
    }
    match extension(clock_tick, ceiling, window_ticks, max_tick) {
        Some(mark) => KeeperStep::Extend(mark),
        None => KeeperStep::Wait,
    }
}

/// At a clean shutdown, whether to lower the slot's mark: `Some(expected)`, the mark the store
/// must still hold for the lowering to apply, when the fence's `bound` lies below the mark
/// this holder last made durable (`durable`); `None` when there is nothing to lower. The
/// store applies it only under the ownership check and only if it still holds `expected`, so
/// a write this holder never saw answered is not undone.
///
/// ```
/// use snowdrift_coordination::window::lowering;
/// assert_eq!(lowering(1_200, Some(3_000)), Some(3_000));
/// assert_eq!(lowering(3_000, Some(3_000)), None);
/// assert_eq!(lowering(1_200, None), None);
/// ```
pub fn lowering(bound: u64, durable: Option<u64>) -> Option<u64> {
    durable.filter(|&expected| bound < expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_saturate_and_stop_at_the_layout_s_last_tick() {
        assert_eq!(first_mark(u64::MAX - 1, 0, 10, u64::MAX), u64::MAX);
        assert_eq!(first_mark(u64::MAX - 1, 0, 10, 100), 100);
        assert_eq!(
            extension(u64::MAX - 1, Some(0), 10, u64::MAX),
            Some(u64::MAX)
        );
        assert_eq!(extension(u64::MAX - 1, Some(u64::MAX), 10, u64::MAX), None);
        // Past the layout's end the mark stays at the last tick, and once the ceiling is
        // there the keeper stops writing it again and again.
        assert_eq!(extension(150, Some(90), 20, 100), Some(100));
        assert_eq!(extension(150, Some(100), 20, 100), None);
    }

    #[test]
    fn the_keeper_extends_when_less_than_half_the_window_is_left() {
        let end = u64::MAX >> 22;
        assert_eq!(extension(1_000, Some(2_000), 2_000, end), None); // exactly half left
        assert_eq!(extension(1_000, Some(1_999), 2_000, end), Some(3_000));
        assert_eq!(extension(1_000, None, 2_000, end), Some(3_000)); // nothing usable
        assert_eq!(extension(1_000, Some(500), 2_000, end), Some(3_000)); // behind the clock
    }

    #[test]
    fn huge_durations_saturate() {
        assert_eq!(duration_ms(Duration::MAX), u64::MAX);
        assert_eq!(duration_ms(Duration::from_millis(1_500)), 1_500);
    }
}
