//! The generators under test, built in the layouts the comparisons use.
//!
//! **Wide layouts** (cases 1-3): a 22-bit sequence, 4,194,304 IDs per ms, far beyond what one
//! core can take, so the per-tick limit never enters the measurement and what is timed is the
//! clock read plus the state update. Each crate gets the closest layout it accepts:
//!
//! | crate | layout (time/dc/machine/seq) | why |
//! |---|---|---|
//! | snowdrift | 32/5/5/22 (64 bits) | the core refuses timestamps under 32 bits |
//! | ferroid | 32/10/22, no reserved bit (64 bits) | `define_snowflake_id!`; its machine field is dc and machine together |
//! | snowflake_me | 31/5/5/22 (63 bits) | it insists on exactly 63 bits |
//!
//! A 31- or 32-bit millisecond field lasts only 24.8 or 49.7 days, so all three count from the
//! same recent epoch, [`recent_epoch_ms`] (one day ago, whole seconds).
//!
//! **Default layouts** (case 4, sustained): 41/5/5/12 for snowdrift and snowflake_me, and
//! ferroid's `SnowflakeTwitterId` (1 reserved/41/10/12), all 4,096 IDs per ms.

// A benchmark that cannot build its generator has nothing to measure: failing loudly at
// set-up, with the reason, is the right behaviour here, so `expect` is allowed in this file.
#![allow(clippy::expect_used)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ferroid::generator::AtomicSnowflakeGenerator;
use ferroid::id::{SnowflakeId, SnowflakeTwitterId};
use ferroid::time::{MonotonicClock, TimeSource, TWITTER_EPOCH};
use snowdrift::clock::{Clock, SystemClock};
use snowdrift::{IdGenerator, Layout};
use snowflake_me::Snowflake;

/// Datacenter of every generator under test.
pub const DATACENTER: u16 = 1;
/// Machine of every generator under test.
pub const MACHINE: u16 = 2;

/// The wide layouts, as the report and the docs name them.
pub const WIDE_LAYOUTS: &str =
    "snowdrift 32/5/5/22, ferroid 32/10/22 (0 reserved), snowflake_me 31/5/5/22";

/// The shared epoch of the wide layouts: one day ago, rounded down to a whole second.
pub fn recent_epoch_ms() -> u64 {
    static EPOCH: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(|| {
        let now_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        now_s.saturating_sub(86_400) * 1000
    })
}

/// Snowdrift's 32/5/5/22 layout on the shared recent epoch.
pub fn snowdrift_wide_layout() -> Layout {
    Layout::builder()
        .timestamp_bits(32)
        .datacenter_bits(5)
        .machine_bits(5)
        .sequence_bits(22)
        .epoch_ms(recent_epoch_ms())
        .build()
        .expect("32/5/5/22 on a recent epoch is a valid snowdrift layout")
}

/// Our generator in the wide layout, on the default clock (the 1 ms ticker).
pub fn snowdrift_wide() -> IdGenerator {
    IdGenerator::builder(snowdrift_wide_layout())
        .worker(u64::from(DATACENTER), u64::from(MACHINE))
        .build()
        .expect("snowdrift wide generator")
}

/// Our generator in the wide layout, on another clock (e.g. `PreciseClock`).
pub fn snowdrift_wide_on<C: Clock>(clock: C) -> IdGenerator<C> {
    IdGenerator::builder(snowdrift_wide_layout())
        .worker(u64::from(DATACENTER), u64::from(MACHINE))
        .clock(clock)
        .build()
        .expect("snowdrift wide generator")
}

/// Our generator in the default 41/5/5/12 layout and epoch, as `IdGenerator::new` makes it.
pub fn snowdrift_default() -> IdGenerator {
    IdGenerator::new(
        u64::from(DATACENTER),
        u64::from(MACHINE),
        snowdrift::DEFAULT_EPOCH_MS,
    )
    .expect("snowdrift default generator")
}

/// Home of [`FerroidWideId`]; ferroid's macro generates constants and methods without docs,
/// which the workspace's `missing_docs` lint would otherwise flag.
#[allow(missing_docs)]
mod ferroid_wide_id {
    ferroid::define_snowflake_id!(
        /// Ferroid's ID type for the wide comparison: 32-bit time, 10-bit machine, 22-bit
        /// sequence, no reserved bit.
        FerroidWideId, u64,
        reserved: 0,
        timestamp: 32,
        machine_id: 10,
        sequence: 22
    );
}
pub use ferroid_wide_id::FerroidWideId;

/// Ferroid's lock-free generator over its own 1 ms ticker clock (`MonotonicClock`).
pub type FerroidAtomic<I> = AtomicSnowflakeGenerator<I, MonotonicClock>;

/// Ferroid's machine field holds our datacenter and machine side by side (5 + 5 bits).
fn ferroid_machine() -> u64 {
    (u64::from(DATACENTER) << 5) | u64::from(MACHINE)
}

/// Ferroid's atomic generator in the wide layout on the shared recent epoch.
pub fn ferroid_wide() -> FerroidAtomic<FerroidWideId> {
    let clock = MonotonicClock::with_epoch(Duration::from_millis(recent_epoch_ms()));
    AtomicSnowflakeGenerator::new(ferroid_machine(), clock)
}

/// Ferroid's atomic generator in its Twitter layout (41/10/12), on the Twitter epoch.
pub fn ferroid_twitter() -> FerroidAtomic<SnowflakeTwitterId> {
    AtomicSnowflakeGenerator::new(ferroid_machine(), MonotonicClock::with_epoch(TWITTER_EPOCH))
}

/// How a caller of ferroid's `next_id` waits while `poll_id` is pending: ferroid takes it as a
/// closure, called with 0 after a lost compare-exchange (another thread won the race) and with
/// the ticks to wait when the sequence is used up or the clock is behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FerroidWait {
    /// `spin_loop` after a lost compare-exchange (retry at once), `yield_now` otherwise: what
    /// these benchmarks gave ferroid before issue 13, its slowest setting with threads.
    SpinOnLostCas,
    /// `yield_now` on every pending answer: the setting an outside harness found best for
    /// threads sharing one generator (issue 13 §1). On one thread there is no lost
    /// compare-exchange, so the two settings run the same code.
    YieldAlways,
}

impl FerroidWait {
    /// Every setting, in the order the tables list them.
    pub const ALL: [FerroidWait; 2] = [FerroidWait::SpinOnLostCas, FerroidWait::YieldAlways];

    /// The setting's name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            FerroidWait::SpinOnLostCas => "spin_on_lost_cas",
            FerroidWait::YieldAlways => "yield_always",
        }
    }
}

/// One ID from a ferroid atomic generator, as raw bits, waiting as `wait` says.
#[inline]
pub fn ferroid_next_with<I, T>(generator: &AtomicSnowflakeGenerator<I, T>, wait: FerroidWait) -> u64
where
    I: SnowflakeId<Ty = u64>,
    T: TimeSource<u64>,
{
    match wait {
        FerroidWait::SpinOnLostCas => generator.next_id(|ticks| {
            if ticks == 0 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }),
        FerroidWait::YieldAlways => generator.next_id(|_| std::thread::yield_now()),
    }
    .to_raw()
}

/// One ID from a ferroid atomic generator, as raw bits, with `yield_now` on every pending
/// answer ([`FerroidWait::YieldAlways`]): on one thread both settings are the same code, and
/// with threads it is ferroid's best.
#[inline]
pub fn ferroid_next<I, T>(generator: &AtomicSnowflakeGenerator<I, T>) -> u64
where
    I: SnowflakeId<Ty = u64>,
    T: TimeSource<u64>,
{
    ferroid_next_with(generator, FerroidWait::YieldAlways)
}

fn snowflake_me_builder<'a>() -> snowflake_me::Builder<'a> {
    Snowflake::builder()
        .data_center_id(&|| Ok(DATACENTER))
        .machine_id(&|| Ok(MACHINE))
}

/// snowflake_me in the wide layout (31/5/5/22) on the shared recent epoch, on its own clock
/// (a wall-clock read per call, through jiff).
pub fn snowflake_me_wide() -> Snowflake {
    snowflake_me_builder()
        .bit_len_time(31)
        .bit_len_data_center_id(5)
        .bit_len_machine_id(5)
        .bit_len_sequence(22)
        .start_time(epoch_i64())
        .finalize()
        .expect("snowflake_me wide generator")
}

/// snowflake_me in the wide layout, but reading our ticker clock through its `clock_source`
/// hook: separates the cost of its algorithm from the cost of its clock.
pub fn snowflake_me_wide_on_ticker() -> Snowflake {
    let clock = SystemClock::new();
    snowflake_me_builder()
        .bit_len_time(31)
        .bit_len_data_center_id(5)
        .bit_len_machine_id(5)
        .bit_len_sequence(22)
        .start_time(epoch_i64())
        .clock_source(move || i64::try_from(clock.now_ms()).unwrap_or(i64::MAX))
        .finalize()
        .expect("snowflake_me wide generator on the ticker")
}

/// snowflake_me in its default layout (41/5/5/12) on its default epoch and clock.
pub fn snowflake_me_default() -> Snowflake {
    snowflake_me_builder()
        .finalize()
        .expect("snowflake_me default generator")
}

fn epoch_i64() -> i64 {
    i64::try_from(recent_epoch_ms()).expect("epoch fits i64")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generator_builds_and_issues_increasing_ids() {
        let ours = snowdrift_wide();
        assert!(ours.next_id().unwrap() < ours.next_id().unwrap());
        let ferroid = ferroid_wide();
        assert!(ferroid_next(&ferroid) < ferroid_next(&ferroid));
        let twitter = ferroid_twitter();
        assert!(ferroid_next(&twitter) < ferroid_next(&twitter));
        for peer in [
            snowflake_me_wide(),
            snowflake_me_wide_on_ticker(),
            snowflake_me_default(),
        ] {
            assert!(peer.next_id().unwrap().as_u64() < peer.next_id().unwrap().as_u64());
        }
        let default = snowdrift_default();
        assert!(default.next_id().unwrap() < default.next_id().unwrap());
    }

    #[test]
    fn wide_layouts_put_worker_fields_where_expected() {
        let ours = snowdrift_wide();
        let parts = ours.next_id().unwrap().parts(&ours.layout()).unwrap();
        assert_eq!(
            (parts.datacenter, parts.machine),
            (u64::from(DATACENTER), u64::from(MACHINE))
        );
        let theirs = FerroidWideId::from_raw(ferroid_next(&ferroid_wide()));
        assert_eq!(theirs.machine_id(), ferroid_machine());
    }
}
