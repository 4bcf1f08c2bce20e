//! The slewed ID clock of a restart behind the mark (`--clock-behind advance`): a pure
//! function of the wall clock and the start point.
//!
//! A node whose clock is behind its slot's persisted mark may not issue below the mark, and
//! waiting for the wall clock to pass it can take hours. Instead the ID clock starts *at* the
//! mark and then runs slightly slower than real time, as NTP slews a clock rather than stepping
//! it, until the wall clock has caught up; from then on it is the wall clock. With a start
//! wall time `w0`, an initial lead `L` and a rate `r` (the fraction by which the ID clock runs
//! slower):
//!
//! ```text
//! id(w) = w + max(0, L - r·(w - w0))      for w ≥ w0
//! ```
//!
//! so the ID clock never goes backwards (its slope is `1 - r > 0`, then 1), never falls behind
//! the wall clock, never leads it by more than `L`, and meets it after `L / r` of wall time.
//! Those four properties are what the generator and the window need: monotonic time, IDs that
//! stay above the mark, and a bounded lead (DESIGN.md, invariant 4 in spirit).

/// Parts per million in one: the unit of [`SlewRate`].
const PPM: u64 = 1_000_000;

/// How much slower than real time a slewed clock runs, in parts per million: `10_000` (1%)
/// means the ID clock advances 0.99 ms per wall-clock millisecond, so it recovers a lead of one
/// hour in 100 hours.
///
/// ```
/// use snowdrift::clock::SlewRate;
/// let rate = SlewRate::from_ppm(10_000).expect("1% is a valid rate");
/// assert_eq!(rate.ppm(), 10_000);
/// assert_eq!(rate, SlewRate::DEFAULT);
/// assert!(SlewRate::from_ppm(0).is_none(), "a clock that never catches up");
/// assert!(SlewRate::from_ppm(1_000_000).is_none(), "a clock that stands still");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlewRate(u32);

impl SlewRate {
    /// The default rate: 1% slower than real time.
    pub const DEFAULT: SlewRate = SlewRate(10_000);

    /// A rate of `ppm` parts per million, if it is in `1..1_000_000` (a rate of zero never
    /// catches up; a rate of one stops the clock).
    pub fn from_ppm(ppm: u32) -> Option<SlewRate> {
        (ppm > 0 && u64::from(ppm) < PPM).then_some(SlewRate(ppm))
    }

    /// The rate in parts per million.
    pub fn ppm(self) -> u32 {
        self.0
    }

    /// The rate as a percentage (1.0 for the default).
    pub fn percent(self) -> f64 {
        f64::from(self.0) / 10_000.0
    }
}

impl Default for SlewRate {
    fn default() -> Self {
        SlewRate::DEFAULT
    }
}

/// A slewed clock's start point and rate: maps wall time to ID-clock time.
///
/// ```
/// use snowdrift::clock::{Slew, SlewRate};
/// // Started 10 s behind the mark, at 50%: the lead shrinks by 0.5 s per second.
/// let rate = SlewRate::from_ppm(500_000).unwrap();
/// let slew = Slew::new(1_000_000_000, 1_010_000_000, rate);
/// assert_eq!(slew.id_time_us(1_000_000_000), 1_010_000_000);
/// assert_eq!(slew.lead_us(1_004_000_000), 8_000_000);
/// assert_eq!(slew.converged_at_us(), 1_020_000_000);
/// assert_eq!(slew.id_time_us(1_030_000_000), 1_030_000_000, "the wall clock from then on");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slew {
    start_wall_us: u64,
    initial_lead_us: u64,
    rate: SlewRate,
}

impl Slew {
    /// A clock that reads `start_id_us` when the wall clock reads `start_wall_us` (both in
    /// Unix microseconds). A start point behind the wall clock is no lead at all: the clock is
    /// then the wall clock.
    pub fn new(start_wall_us: u64, start_id_us: u64, rate: SlewRate) -> Slew {
        Slew {
            start_wall_us,
            initial_lead_us: start_id_us.saturating_sub(start_wall_us),
            rate,
        }
    }

    /// The ID-clock time at wall time `wall_us`. Before the start (the wall time it is given
    /// comes from a monotonic source in practice, so this does not happen) it is the start.
    pub fn id_time_us(&self, wall_us: u64) -> u64 {
        let wall_us = wall_us.max(self.start_wall_us);
        wall_us.saturating_add(self.lead_us(wall_us))
    }

    /// How far the ID clock leads the wall clock at `wall_us`: the initial lead less what the
    /// slew has recovered since the start, never below zero.
    pub fn lead_us(&self, wall_us: u64) -> u64 {
        let elapsed = wall_us.saturating_sub(self.start_wall_us);
        // u128: elapsed (up to 2^64 µs) times the rate (below 2^20) does not fit u64.
        let recovered = u128::from(elapsed) * u128::from(self.rate.ppm()) / u128::from(PPM);
        let recovered = u64::try_from(recovered).unwrap_or(u64::MAX);
        self.initial_lead_us.saturating_sub(recovered)
    }

    /// The wall time at which the ID clock meets the wall clock: `start + lead / rate`.
    pub fn converged_at_us(&self) -> u64 {
        let ppm = u128::from(self.rate.ppm());
        let wall = u128::from(self.initial_lead_us) * u128::from(PPM);
        let needed = wall.div_ceil(ppm);
        self.start_wall_us
            .saturating_add(u64::try_from(needed).unwrap_or(u64::MAX))
    }

    /// The lead at the start, in microseconds.
    pub fn initial_lead_us(&self) -> u64 {
        self.initial_lead_us
    }

    /// The wall time of the start, in Unix microseconds.
    pub fn start_wall_us(&self) -> u64 {
        self.start_wall_us
    }

    /// The rate.
    pub fn rate(&self) -> SlewRate {
        self.rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECOND: u64 = 1_000_000;

    #[test]
    fn one_percent_recovers_an_hour_in_a_hundred_hours() {
        let start = 1_700_000_000 * SECOND;
        let slew = Slew::new(start, start + 3_600 * SECOND, SlewRate::DEFAULT);
        assert_eq!(slew.lead_us(start), 3_600 * SECOND);
        assert_eq!(slew.lead_us(start + 100 * SECOND), 3_599 * SECOND);
        assert_eq!(slew.converged_at_us(), start + 360_000 * SECOND);
        assert_eq!(slew.lead_us(start + 360_000 * SECOND), 0);
        assert_eq!(slew.lead_us(start + 360_000 * SECOND - 100), 1);
    }

    #[test]
    fn a_start_behind_the_wall_clock_is_the_wall_clock() {
        let slew = Slew::new(5 * SECOND, 4 * SECOND, SlewRate::DEFAULT);
        assert_eq!(slew.initial_lead_us(), 0);
        assert_eq!(slew.id_time_us(7 * SECOND), 7 * SECOND);
        assert_eq!(slew.converged_at_us(), 5 * SECOND);
    }

    #[test]
    fn extreme_inputs_saturate_instead_of_overflowing() {
        let rate = SlewRate::from_ppm(999_999).unwrap();
        let slew = Slew::new(0, u64::MAX, rate);
        assert_eq!(slew.id_time_us(u64::MAX), u64::MAX);
        // What a whole u64 of elapsed time at 99.9999% recovers, in u128 arithmetic.
        let recovered = (u128::from(u64::MAX) * 999_999 / 1_000_000) as u64;
        assert_eq!(slew.lead_us(u64::MAX), u64::MAX - recovered);
        let slow = Slew::new(0, u64::MAX, SlewRate::from_ppm(1).unwrap());
        assert_eq!(slow.converged_at_us(), u64::MAX);
    }

    fn rate() -> impl Strategy<Value = SlewRate> {
        (1u32..1_000_000).prop_map(|ppm| SlewRate::from_ppm(ppm).unwrap())
    }

    proptest! {
        /// Monotonic, never behind the wall, lead at most the initial gap, for any two reads.
        #[test]
        fn monotonic_never_behind_and_bounded(
            start in 0u64..1u64 << 52,
            lead in 0u64..10 * 86_400 * SECOND,
            rate in rate(),
            a in 0u64..1u64 << 45,
            b in 0u64..1u64 << 45,
        ) {
            let slew = Slew::new(start, start + lead, rate);
            let (early, late) = (start + a.min(b), start + a.max(b));
            let (id_early, id_late) = (slew.id_time_us(early), slew.id_time_us(late));
            prop_assert!(id_early <= id_late, "went back: {id_early} then {id_late}");
            prop_assert!(id_early >= early && id_late >= late, "behind the wall clock");
            prop_assert!(id_early - early <= lead && id_late - late <= lead, "lead over the gap");
        }

        /// The lead shrinks by `rate` per unit of wall time (to rounding), and is gone at
        /// `converged_at_us`, not before.
        #[test]
        fn converges_at_the_stated_rate(
            start in 0u64..1u64 << 52,
            lead in 1u64..10 * 86_400 * SECOND,
            rate in rate(),
            elapsed in 0u64..1u64 << 45,
        ) {
            let slew = Slew::new(start, start + lead, rate);
            let expected = lead as f64 - elapsed as f64 * rate.ppm() as f64 / 1e6;
            let got = slew.lead_us(start + elapsed) as f64;
            prop_assert!((got - expected.max(0.0)).abs() <= 1.0, "lead {got}, expected {expected}");
            let done = slew.converged_at_us();
            prop_assert_eq!(slew.lead_us(done), 0);
            prop_assert!(slew.lead_us(done - 1) > 0, "converged before {done}");
        }

        /// The ID clock advances at `1 - rate` of real speed while slewing: strictly, when a
        /// step is long enough for the slower clock to move at all.
        #[test]
        fn runs_slower_but_never_stops(
            start in 0u64..1u64 << 52,
            lead in SECOND..86_400 * SECOND,
            rate in rate(),
            at in 0u64..SECOND,
        ) {
            let slew = Slew::new(start, start + lead, rate);
            let step = PPM / (PPM - u64::from(rate.ppm())) + 1;
            let (t0, t1) = (start + at, start + at + step);
            prop_assume!(t1 < slew.converged_at_us());
            prop_assert!(slew.id_time_us(t1) > slew.id_time_us(t0));
            prop_assert!(slew.id_time_us(t1) - slew.id_time_us(t0) <= step);
        }
    }
}
