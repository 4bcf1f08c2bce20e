//! [`SequenceStart`]: where a tick's sequence begins when the clock has moved past the state.
//!
//! At low rates every tick starts its sequence at 0, so the low bits of most IDs are zero and
//! `id % N` sends almost every row to shard 0 (ShardingSphere, Mycat and bwmarrin/snowflake
//! users hit this). The opt-in modes start a fresh tick elsewhere in its sequence.
//!
//! # Why the invariants still hold
//! A fresh tick starts only when the clock's tick `now` is above the state's tick, and its
//! first value is `now << sequence_bits | offset` with `offset` below the sequence range, so
//! it is above every value reserved before: the state word still only increases (invariant
//! 1), and `(tick, sequence)` with it. The offset only moves where in the tick the values
//! start; the tick, the window and the lead are checked on the values as before.
//!
//! # What a tick can still hold
//! A tick that starts at `offset` has `2^sequence_bits - offset` values left. `random` keeps
//! at least half of them; `carry` may leave as few as one, and a block that needs more runs
//! on into the next ticks (held until they come, as any block that spans ticks). Under load
//! that outruns the clock the state never falls behind it, so no tick starts afresh and the
//! full capacity is kept: the modes change only what low rates look like.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// Where each fresh tick's sequence starts.
///
/// ```
/// use snowdrift::{clock::ManualClock, IdGenerator, Layout, SequenceStart};
/// let layout = Layout::default();
/// let clock = ManualClock::new(layout.epoch_ms() + 1_000);
/// let generator = IdGenerator::builder(layout)
///     .sequence_start(SequenceStart::Carry)
///     .clock(clock.clone())
///     .build()?;
/// let sequences: Vec<u64> = (0..3)
///     .map(|_| {
///         clock.advance(1);
///         generator.next_id().unwrap().parts(&layout).unwrap().sequence
///     })
///     .collect();
/// assert_eq!(sequences, [0, 1, 2]); // one ID per tick, and the sequence carries on
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum SequenceStart {
    /// Each fresh tick starts at sequence 0 (Snowflake's behaviour, the default).
    #[default]
    Zero,
    /// Each fresh tick starts at a pseudo-random offset in the lower half of the sequence
    /// range, drawn from the tick and the worker (so two workers differ, and a tick's offset
    /// does not depend on what was issued before).
    Random,
    /// Each fresh tick starts where the last one stopped, modulo the sequence range.
    Carry,
}

impl SequenceStart {
    /// Every mode, the default first.
    pub const ALL: [SequenceStart; 3] = [
        SequenceStart::Zero,
        SequenceStart::Random,
        SequenceStart::Carry,
    ];

    /// The mode's name, as accepted by `FromStr` and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            SequenceStart::Zero => "zero",
            SequenceStart::Random => "random",
            SequenceStart::Carry => "carry",
        }
    }

    /// The sequence at which tick `tick` starts, for a state whose next value was `current`.
    #[inline]
    pub(crate) fn offset(self, tick: u64, current: u64, sequence_bits: u8, node_bits: u64) -> u64 {
        match self {
            SequenceStart::Zero => 0,
            SequenceStart::Carry => current & ((1u64 << sequence_bits) - 1),
            SequenceStart::Random => {
                if sequence_bits < 2 {
                    return 0;
                }
                let lower_half = (1u64 << (sequence_bits - 1)) - 1;
                mix(tick ^ node_bits.rotate_left(32)) & lower_half
            }
        }
    }
}

/// SplitMix64's finaliser: every input bit moves about half the output bits, so consecutive
/// ticks get unrelated offsets. Not for secrets; only for spreading.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl fmt::Display for SequenceStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SequenceStart {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SequenceStart::ALL
            .into_iter()
            .find(|mode| mode.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::UnknownName {
                kind: "sequence start",
                name: s.chars().take(64).collect(),
                expected: "zero, random, carry",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_stay_in_range_and_random_stays_in_the_lower_half() {
        for bits in 0..=22u8 {
            let range = 1u64 << bits;
            for tick in 0..2_000u64 {
                let current = tick.wrapping_mul(0x5851_f42d) & ((1 << 40) - 1);
                let carry = SequenceStart::Carry.offset(tick, current, bits, 0);
                assert!(carry < range);
                assert_eq!(carry, current % range);
                let random = SequenceStart::Random.offset(tick, current, bits, 7 << bits);
                assert!(random < range.div_ceil(2).max(1), "{bits} bits: {random}");
                assert_eq!(SequenceStart::Zero.offset(tick, current, bits, 0), 0);
            }
        }
    }

    #[test]
    fn random_offsets_differ_between_ticks_and_between_workers() {
        let a: Vec<u64> = (0..64)
            .map(|t| SequenceStart::Random.offset(t, 0, 12, 1 << 12))
            .collect();
        let b: Vec<u64> = (0..64)
            .map(|t| SequenceStart::Random.offset(t, 0, 12, 2 << 12))
            .collect();
        assert_ne!(a, b);
        let distinct: std::collections::BTreeSet<_> = a.iter().collect();
        assert!(distinct.len() > 50, "{a:?}");
    }

    #[test]
    fn names_round_trip_and_bad_ones_are_named() {
        for mode in SequenceStart::ALL {
            assert_eq!(mode.name().parse::<SequenceStart>().ok(), Some(mode));
        }
        let err = "middle".parse::<SequenceStart>().unwrap_err().to_string();
        assert!(
            err.contains("middle") && err.contains("zero, random, carry"),
            "{err}"
        );
    }
}
