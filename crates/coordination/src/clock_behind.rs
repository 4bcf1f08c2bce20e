//! What a start-up does when the clock is behind the slot's floor (`--clock-behind`): wait
//! for the clock, bounded by the start-up wait, or advance the ID clock to the floor at once and
//! slew it back to the wall clock, bounded by `--max-clock-lead`. The decision is a pure
//! function of the lag and the settings, so it is tested without a clock.

use std::time::Duration;

use crate::error::CoordError;
use crate::floor::FloorSource;

/// The policy for a start-up behind the slot's floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClockBehind {
    /// Wait for the wall clock to pass the floor, at most the start-up wait (the default).
    #[default]
    Wait,
    /// Start at once at the floor, on an ID clock that runs slower than real time until the
    /// wall clock meets it; refused when the lead would exceed `max_clock_lead`.
    Advance,
}

impl ClockBehind {
    /// Every policy, in the order a help text lists them.
    pub const ALL: [ClockBehind; 2] = [ClockBehind::Wait, ClockBehind::Advance];

    /// The policy's name in settings: `wait` or `advance`.
    pub const fn name(self) -> &'static str {
        match self {
            ClockBehind::Wait => "wait",
            ClockBehind::Advance => "advance",
        }
    }
}

/// How a start-up goes, given how far the clock is behind the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StartClock {
    /// The clock has passed the floor: start on the wall clock at once.
    AtOnce,
    /// Wait on the wall clock for this long (at most the start-up wait).
    Wait(Duration),
    /// Start at once on an ID clock that leads the wall clock by this much.
    Advance(Duration),
}

/// The start of a holding whose clock lags its floor by `lag`: under `Wait`, refused beyond
/// `max_wait`; under `Advance`, refused beyond `max_lead`, naming both settings.
///
/// ```text
/// lag 0            -> AtOnce          (either policy)
/// wait,    lag ≤ w -> Wait(lag)       lag > w -> ClockBehindHighWater
/// advance, lag ≤ L -> Advance(lag)    lag > L -> ClockLeadTooLarge
/// ```
pub(crate) fn decide(
    lag: Duration,
    policy: ClockBehind,
    max_wait: Duration,
    max_lead: Duration,
    floor: FloorSource,
) -> Result<StartClock, CoordError> {
    if lag.is_zero() {
        return Ok(StartClock::AtOnce);
    }
    match policy {
        ClockBehind::Wait if lag > max_wait => Err(CoordError::ClockBehindHighWater {
            behind: lag,
            max_wait,
            floor,
        }),
        ClockBehind::Wait => Ok(StartClock::Wait(lag)),
        ClockBehind::Advance if lag > max_lead => Err(CoordError::ClockLeadTooLarge {
            behind: lag,
            max_lead,
            floor,
        }),
        ClockBehind::Advance => Ok(StartClock::Advance(lag)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    #[test]
    fn a_clock_past_the_floor_starts_at_once_under_either_policy() {
        for policy in ClockBehind::ALL {
            let start = decide(Duration::ZERO, policy, S(5), S(3600), FloorSource::Mark);
            assert_eq!(start.unwrap(), StartClock::AtOnce);
        }
    }

    #[test]
    fn wait_waits_within_the_start_up_wait_and_refuses_beyond() {
        let start = decide(S(4), ClockBehind::Wait, S(5), S(3600), FloorSource::Mark);
        assert_eq!(start.unwrap(), StartClock::Wait(S(4)));
        let refused = decide(S(10), ClockBehind::Wait, S(5), S(3600), FloorSource::Mark);
        assert!(matches!(
            refused,
            Err(CoordError::ClockBehindHighWater { .. })
        ));
    }

    #[test]
    fn advance_leads_within_the_bound_and_refuses_beyond_naming_both_settings() {
        let start = decide(
            S(3600),
            ClockBehind::Advance,
            S(5),
            S(3600),
            FloorSource::Mark,
        );
        assert_eq!(start.unwrap(), StartClock::Advance(S(3600)));
        let refused = decide(
            S(7200),
            ClockBehind::Advance,
            S(5),
            S(3600),
            FloorSource::Mark,
        )
        .unwrap_err()
        .to_string();
        for needle in ["--max-clock-lead", "--clock-behind advance", "2h", "1h"] {
            assert!(
                refused.contains(needle),
                "{needle:?} missing from: {refused}"
            );
        }
    }
}
