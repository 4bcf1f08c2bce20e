//! The floor of a new holding: the first tick a holder that has just claimed a slot may use.
//!
//! A pure decision, with no I/O and no clock of its own, so that the window keeper, the unit
//! tests and (later) a model checker all run the same code. Three things bound what earlier
//! holders of the slot may have issued, and the floor lies above all of them:
//!
//! - **the stored mark**, left by earlier holders in the store this holding was claimed from;
//! - **the genesis bound** of the cluster record (etcd): if the store lost its data, holders of
//!   the lost incarnation may still be issuing, each up to a ceiling of at most its clock at its
//!   last persist plus its window. That persist happened before the loss, the loss before the
//!   record was created, so the ceiling is at most the creator's clock at creation plus the
//!   allowed clock skew plus the window (`docs/PROTOCOL.md`, "When etcd loses its data");
//! - **this node's own memory** of the highest ceiling it ever held on the slot, whatever the
//!   store says now;
//! - **the claim-time bound** (etcd): the genesis argument applied at the claim itself. Every
//!   ceiling any holder ever persisted was written before this claim, as its clock then plus
//!   its window, so it is at most `tick(now + skew) + window_ticks(window)` by this node's
//!   clock read after the claim. That holds whatever the store has lost or rolled back, also a
//!   restore this node cannot notice (`docs/PROTOCOL.md`, "Restores nobody can notice"); its
//!   price is a wait of the skew plus the window at every claim.
//!
//! ```
//! use snowdrift::Layout;
//! use snowdrift_coordination::floor::{
//!     claim_floor, claim_time_bound, FloorInputs, FloorSource, Genesis,
//! };
//!
//! let layout = Layout::default();
//! // A record created at the epoch + 10 s, for windows up to 2 s and clocks within 2 s.
//! let genesis = Genesis { created_unix_ms: layout.epoch_ms() + 10_000, window_ms: 2_000, max_clock_skew_ms: 2_000 };
//! let floor = claim_floor(&FloorInputs {
//!     stored_mark: None, // the slot has no mark: the store is new, or lost its data
//!     genesis: Some(genesis),
//!     remembered_ceiling: None,
//!     claim_time: None,
//!     layout: &layout,
//! })?;
//! assert_eq!(floor.source, FloorSource::Genesis);
//! assert_eq!(floor.tick, 14_001); // above 10 s + 2 s skew + a 2 s window, in 1 ms ticks
//!
//! // The same claim made 30 s after the record's creation, by a clock that reads 40 s: the
//! // claim-time bound lies above anything any holder can have persisted before the claim.
//! let claim_time = claim_time_bound(layout.epoch_ms() + 40_000, Some(genesis), 2_000, 2_000);
//! let floor = claim_floor(&FloorInputs {
//!     stored_mark: Some(35_000),
//!     genesis: Some(genesis),
//!     remembered_ceiling: None,
//!     claim_time: Some(claim_time),
//!     layout: &layout,
//! })?;
//! assert_eq!((floor.tick, floor.source), (44_001, FloorSource::ClaimTime));
//! # Ok::<(), snowdrift_coordination::floor::FloorError>(())
//! ```

use std::time::Duration;

use serde::Serialize;
use snowdrift::Layout;

/// What the cluster record says about the ceilings holders of an earlier incarnation can have
/// reached: created at `created_unix_ms` by a clock within `max_clock_skew_ms` of theirs, for
/// windows of at most `window_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Genesis {
    /// The creator's clock when it created the record, in Unix milliseconds.
    pub created_unix_ms: u64,
    /// The longest window any holder may use (the record's bound, or a larger one this node
    /// remembers from an earlier incarnation).
    pub window_ms: u64,
    /// The most any holder's clock may differ from the creator's.
    pub max_clock_skew_ms: u64,
}

impl Genesis {
    /// The highest ceiling a holder of an earlier incarnation can have held, in ticks of
    /// `layout`: `tick(created + skew) + window_ticks(window)`. Saturating: a bound past the
    /// end of the layout's time is as good as the end.
    pub fn last_earlier_ceiling(&self, layout: &Layout) -> u64 {
        let latest_clock_ms = self.created_unix_ms.saturating_add(self.max_clock_skew_ms);
        tick_of(latest_clock_ms, layout)
            .saturating_add(window_ticks(self.window_ms, layout.unit_ms()))
    }

    /// How long a node whose clock is within the skew of the creator's may have to wait for a
    /// floor set by this bound: the window plus twice the skew, plus one tick.
    pub fn longest_wait(&self, layout: &Layout) -> Duration {
        let ms = self
            .window_ms
            .saturating_add(self.max_clock_skew_ms.saturating_mul(2))
            .saturating_add(layout.unit_ms());
        Duration::from_millis(ms)
    }
}

/// The claim-time bound of a claim whose answer came at `claimed_unix_ms` by this node's clock:
/// a genesis bound "created" at the claim, with the largest window and skew this node knows of
/// (its own, and the record's and remembered ones in `genesis`), since a holder of a history
/// the store lost may have used any window the record allowed.
pub fn claim_time_bound(
    claimed_unix_ms: u64,
    genesis: Option<Genesis>,
    window_ms: u64,
    max_clock_skew_ms: u64,
) -> Genesis {
    Genesis {
        created_unix_ms: claimed_unix_ms,
        window_ms: genesis.map_or(window_ms, |g| g.window_ms.max(window_ms)),
        max_clock_skew_ms: genesis.map_or(max_clock_skew_ms, |g| {
            g.max_clock_skew_ms.max(max_clock_skew_ms)
        }),
    }
}

/// The window in ticks, at least one: the same rounding the window keeper uses when it
/// persists `clock + window`, so a bound computed here covers every mark a keeper writes.
pub fn window_ticks(window_ms: u64, unit_ms: u64) -> u64 {
    (window_ms / unit_ms.max(1)).max(1)
}

/// The tick of a Unix time in `layout`, rounding down (0 before the epoch), as a generator's
/// clock reads it.
pub fn tick_of(unix_ms: u64, layout: &Layout) -> u64 {
    unix_ms.saturating_sub(layout.epoch_ms()) / layout.unit_ms().max(1)
}

/// Everything the floor depends on.
#[derive(Debug, Clone, Copy)]
pub struct FloorInputs<'a> {
    /// The slot's mark in the store, read in the claim.
    pub stored_mark: Option<u64>,
    /// The cluster record's genesis bound (etcd), if the backend has one.
    pub genesis: Option<Genesis>,
    /// The highest ceiling this node ever held on the slot, if it held it before.
    pub remembered_ceiling: Option<u64>,
    /// The claim-time bound ([`claim_time_bound`]), for backends whose store can be rolled
    /// back under the node (etcd).
    pub claim_time: Option<Genesis>,
    /// The ID space's layout.
    pub layout: &'a Layout,
}

/// Which bound set the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FloorSource {
    /// Nothing bounds the slot: a fresh state directory, the layout's first tick.
    Fresh,
    /// The slot's stored mark.
    Mark,
    /// The cluster record's genesis bound: the record is younger than a window plus the skew.
    Genesis,
    /// This node's own memory of a ceiling it held on the slot.
    Memory,
    /// The claim-time bound: above anything any holder can have persisted before this claim,
    /// whatever the store lost (etcd).
    ClaimTime,
}

/// The floor of a new holding and why it lies where it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    /// The first tick the holder may use.
    pub tick: u64,
    /// The bound that set it.
    pub source: FloorSource,
    /// The genesis bound that applied, for the wait it may cost.
    pub genesis: Option<Genesis>,
    /// The claim-time bound that applied, likewise.
    pub claim_time: Option<Genesis>,
}

impl Floor {
    /// How long start-up may wait for the clock to reach the floor. `startup_max_wait`, or for
    /// a genesis or claim-time floor the wait its own argument implies (window + 2 × skew),
    /// when longer: a node whose clock is within the skew always starts right after a cluster
    /// record is created (or right after its claim: window + skew), and one that would wait
    /// longer has a clock outside the skew.
    pub fn max_wait(&self, startup_max_wait: Duration, layout: &Layout) -> Duration {
        let bound = match self.source {
            FloorSource::Genesis => self.genesis,
            FloorSource::ClaimTime => self.claim_time,
            _ => None,
        };
        match bound {
            Some(bound) => startup_max_wait.max(bound.longest_wait(layout)),
            None => startup_max_wait,
        }
    }
}

/// Why no floor can be set: the inputs are corrupt. The caller names the slot and where its
/// mark lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FloorError {
    /// The stored mark lies beyond the layout's last tick: no holder of this layout can have
    /// written it (a holder never persists past the layout's end), so it is corrupt.
    #[error("the stored high-water mark is tick {mark}, beyond the layout's last tick {max_tick}")]
    MarkBeyondLayout {
        /// The stored mark.
        mark: u64,
        /// The layout's last tick.
        max_tick: u64,
    },
    /// A bound at the very end of `u64`: no tick lies above it. Only a corrupt memory or a
    /// corrupt cluster record can get here.
    #[error("the {bound:?} bound of the slot is {value}, which leaves no tick above it")]
    Overflow {
        /// Which bound.
        bound: FloorSource,
        /// Its value.
        value: u64,
    },
}

/// The floor: one above the highest of the stored mark, the genesis bound, the remembered
/// ceiling and the claim-time bound; the layout's first tick when none applies. Ties go to the
/// first of mark, genesis, memory, claim time. A stored mark beyond the layout's last tick is refused as corrupt (checked
/// arithmetic throughout: nothing wraps).
pub fn claim_floor(inputs: &FloorInputs<'_>) -> Result<Floor, FloorError> {
    let max_tick = inputs.layout.max_tick();
    if let Some(mark) = inputs.stored_mark.filter(|&mark| mark > max_tick) {
        return Err(FloorError::MarkBeyondLayout { mark, max_tick });
    }
    let candidates = [
        (FloorSource::Mark, inputs.stored_mark),
        (
            FloorSource::Genesis,
            inputs
                .genesis
                .map(|g| g.last_earlier_ceiling(inputs.layout)),
        ),
        (FloorSource::Memory, inputs.remembered_ceiling),
        (
            FloorSource::ClaimTime,
            inputs
                .claim_time
                .map(|c| c.last_earlier_ceiling(inputs.layout)),
        ),
    ];
    let mut floor = Floor {
        tick: 0,
        source: FloorSource::Fresh,
        genesis: inputs.genesis,
        claim_time: inputs.claim_time,
    };
    for (source, bound) in candidates {
        let Some(bound) = bound else { continue };
        let above = bound.checked_add(1).ok_or(FloorError::Overflow {
            bound: source,
            value: bound,
        })?;
        if above > floor.tick {
            floor.tick = above;
            floor.source = source;
        }
    }
    Ok(floor)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EPOCH: u64 = 1_609_459_200_000;

    fn inputs(
        mark: Option<u64>,
        genesis: Option<Genesis>,
        memory: Option<u64>,
        layout: &Layout,
    ) -> FloorInputs<'_> {
        FloorInputs {
            stored_mark: mark,
            genesis,
            remembered_ceiling: memory,
            claim_time: None,
            layout,
        }
    }

    fn genesis(created_after_epoch_ms: u64) -> Genesis {
        Genesis {
            created_unix_ms: EPOCH + created_after_epoch_ms,
            window_ms: 2_000,
            max_clock_skew_ms: 2_000,
        }
    }

    #[test]
    fn nothing_known_starts_at_the_first_tick() {
        let layout = Layout::default();
        let floor = claim_floor(&inputs(None, None, None, &layout)).unwrap();
        assert_eq!((floor.tick, floor.source), (0, FloorSource::Fresh));
    }

    #[test]
    fn the_highest_bound_wins_and_says_so() {
        let layout = Layout::default();
        let g = Some(genesis(100_000)); // covers ticks up to 104_000
        let cases = [
            (Some(200_000), None, (200_001, FloorSource::Mark)),
            (Some(50_000), None, (104_001, FloorSource::Genesis)),
            (None, None, (104_001, FloorSource::Genesis)),
            (Some(50_000), Some(300_000), (300_001, FloorSource::Memory)),
            (Some(300_000), Some(300_000), (300_001, FloorSource::Mark)),
        ];
        for (mark, memory, expected) in cases {
            let floor = claim_floor(&inputs(mark, g, memory, &layout)).unwrap();
            assert_eq!((floor.tick, floor.source), expected, "{mark:?} {memory:?}");
        }
    }

    #[test]
    fn an_old_record_costs_nothing_in_an_established_cluster() {
        let layout = Layout::default();
        // Created a day after the epoch; the slot's mark is far later.
        let old = Some(genesis(86_400_000));
        let floor = claim_floor(&inputs(Some(400_000_000), old, None, &layout)).unwrap();
        assert_eq!((floor.tick, floor.source), (400_000_001, FloorSource::Mark));
    }

    #[test]
    fn the_genesis_bound_covers_every_ceiling_a_keeper_can_persist() {
        // A keeper persists `clock_tick + window_ticks(window)`. For every unit and window, a
        // holder whose clock is at most `created + skew` stays at or below the bound.
        for unit in [1, 10, 1000] {
            let layout = snowdrift::LayoutSpec {
                unit_ms: unit,
                ..snowdrift::LayoutSpec::from(Layout::default())
            }
            .validate()
            .unwrap();
            for window_ms in [10, 500, 999, 1000, 2000, 10_000] {
                let g = Genesis {
                    created_unix_ms: EPOCH + 123_456,
                    window_ms,
                    max_clock_skew_ms: 1_500,
                };
                for holder_clock in [EPOCH, EPOCH + 123_456, EPOCH + 123_456 + 1_500] {
                    let ceiling = tick_of(holder_clock, &layout) + window_ticks(window_ms, unit);
                    assert!(
                        ceiling <= g.last_earlier_ceiling(&layout),
                        "unit {unit} window {window_ms} clock {holder_clock}"
                    );
                }
            }
        }
    }

    #[test]
    fn marks_at_the_end_of_u64_are_refused_not_wrapped() {
        let layout = Layout::default();
        let max_tick = layout.max_tick();
        for mark in [u64::MAX, u64::MAX - 1, max_tick + 1] {
            let err = claim_floor(&inputs(Some(mark), None, None, &layout)).unwrap_err();
            assert_eq!(err, FloorError::MarkBeyondLayout { mark, max_tick });
        }
        // The last tick itself is a mark a holder may write: the floor lies past the layout,
        // which the generator then refuses as the layout's time having run out.
        let at_end = claim_floor(&inputs(Some(max_tick), None, None, &layout)).unwrap();
        assert_eq!(at_end.tick, max_tick + 1);
        let err = claim_floor(&inputs(None, None, Some(u64::MAX), &layout)).unwrap_err();
        assert_eq!(
            err,
            FloorError::Overflow {
                bound: FloorSource::Memory,
                value: u64::MAX
            }
        );
        let huge = Genesis {
            created_unix_ms: u64::MAX,
            window_ms: u64::MAX,
            max_clock_skew_ms: u64::MAX,
        };
        // The genesis bound saturates at u64::MAX, which leaves no tick above it.
        assert!(claim_floor(&inputs(None, Some(huge), None, &layout)).is_err());
    }

    #[test]
    fn the_claim_time_bound_covers_every_mark_persisted_before_the_claim() {
        // Any holder whose clock is at most the claimer's plus the skew, persisting before
        // the claim with any window up to the largest known, stays at or below the bound.
        let layout = Layout::default();
        let claimed = EPOCH + 500_000;
        let record = Some(Genesis {
            window_ms: 4_000, // a larger window recorded than this node's own
            ..genesis(100)
        });
        let bound = claim_time_bound(claimed, record, 1_000, 250);
        assert_eq!((bound.window_ms, bound.max_clock_skew_ms), (4_000, 2_000));
        for window_ms in [1_000, 4_000] {
            for holder_clock in [claimed - 10_000, claimed, claimed + 2_000] {
                let ceiling = tick_of(holder_clock, &layout) + window_ticks(window_ms, 1);
                assert!(ceiling <= bound.last_earlier_ceiling(&layout));
            }
        }
        // In the floor it wins over an old mark and an old record, and may wait W + 2S.
        let floor = claim_floor(&FloorInputs {
            claim_time: Some(bound),
            ..inputs(Some(400_000), record, None, &layout)
        })
        .unwrap();
        assert_eq!(
            (floor.tick, floor.source),
            (506_001, FloorSource::ClaimTime)
        );
        assert_eq!(
            floor.max_wait(Duration::from_secs(5), &layout),
            Duration::from_millis(8_001)
        );
        // A mark above it still wins: such a claim waits for the mark, no longer.
        let floor = claim_floor(&FloorInputs {
            claim_time: Some(bound),
            ..inputs(Some(600_000), record, None, &layout)
        })
        .unwrap();
        assert_eq!((floor.tick, floor.source), (600_001, FloorSource::Mark));
    }

    #[test]
    fn a_genesis_floor_may_wait_for_window_plus_twice_the_skew() {
        let layout = Layout::default();
        let floor = claim_floor(&inputs(None, Some(genesis(0)), None, &layout)).unwrap();
        assert_eq!(
            floor.max_wait(Duration::from_secs(5), &layout),
            Duration::from_millis(6_001)
        );
        assert_eq!(
            floor.max_wait(Duration::from_secs(9), &layout),
            Duration::from_secs(9)
        );
        let by_mark = claim_floor(&inputs(
            Some(layout.max_tick() - 1),
            Some(genesis(0)),
            None,
            &layout,
        ))
        .unwrap();
        assert_eq!(
            by_mark.max_wait(Duration::from_secs(5), &layout),
            Duration::from_secs(5)
        );
    }
}
