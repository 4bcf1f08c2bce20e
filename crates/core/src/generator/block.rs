//! A block of consecutive IDs reserved by one atomic operation, and the state-to-ID packing.
//!
//! # Why a block walks runs
//! Within one tick, consecutive state values make evenly spaced IDs: the tick and worker bits
//! are fixed and only the sequence moves, so the ID of the next value is the last ID plus one
//! step (1 when the sequence is the low field, as in Snowflake; `2^worker_bits` when it sits
//! above the worker fields, as in Sonyflake). A block therefore keeps the **composed** next ID
//! of its current run (the part of the block in one tick) and how many are left in it; taking
//! an ID is a decrement and an add, and only moving to the next tick's run packs an ID
//! again. That is what makes handing IDs out of a block one at a time as cheap as reading
//! them from a buffer (issue 13 §2).

use crate::id::Id;

/// How a state value `tick << sequence_bits | sequence` becomes an ID for one worker: the
/// layout's widths and order, and the worker's fields already shifted into place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Packing {
    /// Width of the sequence field.
    pub(crate) sequence_bits: u8,
    /// Width of the worker (datacenter and machine) fields together.
    pub(crate) node_shift: u8,
    /// The state bits that stay where they are in the ID: the sequence in Snowflake order
    /// (the worker gap opens above it), none in Sonyflake order (the whole state moves up
    /// and the worker fills the low bits).
    pub(crate) in_place: u64,
    /// The worker fields, shifted into place.
    pub(crate) node_bits: u64,
}

impl Packing {
    /// How many low state bits keep their place in an ID: the sequence width in Snowflake
    /// order, none in Sonyflake order. (The generator stores this width, not the mask.)
    pub(crate) fn in_place_bits(layout: &crate::Layout) -> u8 {
        if layout.sequence_shift() == 0 {
            layout.sequence_bits()
        } else {
            0
        }
    }

    /// The ID of a state value.
    ///
    /// One formula for both orders, with no branch and no more work than the Snowflake
    /// order alone needed: the bits above `in_place` (the tick, and in Sonyflake order the
    /// sequence too) move up by the worker width, the rest stay, and the worker fills the gap.
    #[inline(always)]
    pub(crate) fn compose(&self, value: u64) -> Id {
        // A shift by 64 or more would need a layout made only of sequence and worker bits,
        // which validation forbids (the timestamp is at least 32 bits).
        Id::from_u64(
            ((value & !self.in_place) << self.node_shift)
                | (value & self.in_place)
                | self.node_bits,
        )
    }

    /// How far apart the IDs of consecutive state values of one tick are: 1 in Snowflake
    /// order, 2^(worker bits) in Sonyflake order.
    #[inline(always)]
    fn step_shift(&self) -> u8 {
        if self.in_place == 0 {
            self.node_shift
        } else {
            0
        }
    }
}

/// Consecutive IDs from [`crate::IdGenerator::next_ids`], produced lazily without allocation.
///
/// Iterate it to take the IDs one at a time (each costs about as much as reading a buffer),
/// or [`IdBlock::fill`] a slice with them.
///
/// ```
/// use snowdrift::IdGenerator;
/// let generator = IdGenerator::new(0, 0, snowdrift::DEFAULT_EPOCH_MS)?;
/// let block = generator.next_ids(5000)?; // spans two ticks of 4096
/// let ids: Vec<_> = block.collect();
/// assert_eq!(ids.len(), 5000);
/// assert!(ids.windows(2).all(|w| w[0] < w[1]));
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct IdBlock {
    /// The next ID of the current run, composed.
    next: u64,
    /// IDs left in the current run.
    left: u64,
    /// The state value just past the current run: where the next run starts.
    rest: u64,
    /// One past the block's last state value.
    end: u64,
    /// The distance between consecutive IDs of a run, and its log2 (see
    /// [`Packing::step_shift`]).
    step: u64,
    step_shift: u8,
    packing: Packing,
}

impl IdBlock {
    pub(crate) fn new(first: u64, count: u64, packing: Packing) -> IdBlock {
        let mut block = IdBlock {
            next: 0,
            left: 0,
            rest: first,
            end: first + count,
            step: 1 << packing.step_shift(),
            step_shift: packing.step_shift(),
            packing,
        };
        block.load_run();
        block
    }

    /// Starts the run at `rest`: the block's values in that tick. Leaves `left` at 0 when the
    /// block is used up.
    #[inline]
    fn load_run(&mut self) {
        if self.rest >= self.end {
            return;
        }
        let sequence_bits = self.packing.sequence_bits;
        let tick_end = ((self.rest >> sequence_bits) + 1) << sequence_bits;
        let run_end = tick_end.min(self.end);
        self.next = self.compose(self.rest).as_u64();
        self.left = run_end - self.rest;
        self.rest = run_end;
    }

    #[inline(always)]
    fn compose(&self, value: u64) -> Id {
        self.packing.compose(value)
    }

    /// The `k`-th ID after `next` in the current run.
    #[inline(always)]
    fn nth_in_run(next: u64, k: u64, step_shift: u8) -> u64 {
        // Wraps only past the run's last ID, which is never read.
        next.wrapping_add(k << step_shift)
    }

    /// The state value of the next ID not yet taken.
    #[inline(always)]
    fn position(&self) -> u64 {
        self.rest - self.left
    }

    /// The tick of the next ID not yet taken (of the block's end, when it is used up).
    #[inline(always)]
    pub(crate) fn tick(&self) -> u64 {
        self.position() >> self.packing.sequence_bits
    }

    /// The next ID of the current run, if any is left in it: the fast path, without moving to
    /// the next tick's run.
    #[inline(always)]
    pub(crate) fn next_in_run(&mut self) -> Option<Id> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let id = self.next;
        // Wraps only past the run's last ID, which is never read.
        self.next = self.next.wrapping_add(self.step);
        Some(Id::from_u64(id))
    }

    /// Drops the rest of the current run and moves to the next tick's; `false` when nothing
    /// is left.
    pub(crate) fn skip_run(&mut self) -> bool {
        self.left = 0;
        self.load_run();
        self.left > 0
    }

    /// The first ID not yet taken from the block (the block's first ID if none was taken).
    pub fn first(&self) -> Id {
        if self.left > 0 {
            Id::from_u64(self.next)
        } else {
            self.compose(self.rest)
        }
    }

    /// The block's last ID.
    pub fn last_id(&self) -> Id {
        self.compose(self.end - 1)
    }

    /// Whether every ID has been taken.
    pub fn is_empty(&self) -> bool {
        self.left == 0 && self.rest >= self.end
    }

    /// IDs not yet taken.
    fn remaining(&self) -> u64 {
        self.left + (self.end - self.rest)
    }

    /// Takes the next IDs of the block into `out`, as many as fit or are left; returns how
    /// many were written (the rest of `out` is untouched).
    ///
    /// ```
    /// use snowdrift::{Id, IdGenerator};
    /// let generator = IdGenerator::new(0, 0, snowdrift::DEFAULT_EPOCH_MS)?;
    /// let mut block = generator.next_ids(10)?;
    /// let mut buffer = [Id::default(); 8];
    /// assert_eq!(block.fill(&mut buffer), 8);
    /// assert_eq!(block.fill(&mut buffer), 2);
    /// assert!(block.is_empty());
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    pub fn fill(&mut self, out: &mut [Id]) -> usize {
        let mut written = 0;
        while written < out.len() {
            if self.left == 0 {
                self.load_run();
                if self.left == 0 {
                    break;
                }
            }
            let room = out.len() - written;
            let take = usize::try_from(self.left).map_or(room, |left| left.min(room));
            let (next, step) = (self.next, self.step_shift);
            for (slot, k) in out[written..written + take].iter_mut().zip(0u64..) {
                *slot = Id::from_u64(Self::nth_in_run(next, k, step));
            }
            // `take` is at most `left`, which is a u64.
            let taken = take as u64;
            self.left -= taken;
            self.next = Self::nth_in_run(next, taken, step);
            written += take;
        }
        written
    }
}

impl PartialEq for IdBlock {
    /// Two blocks are equal when they have the same IDs left to give.
    fn eq(&self, other: &IdBlock) -> bool {
        (self.is_empty() && other.is_empty())
            || (self.position() == other.position()
                && self.end == other.end
                && self.packing == other.packing)
    }
}

impl Eq for IdBlock {}

impl Iterator for IdBlock {
    type Item = Id;

    #[inline]
    fn next(&mut self) -> Option<Id> {
        if self.left == 0 {
            self.load_run();
            if self.left == 0 {
                return None;
            }
        }
        self.next_in_run()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.remaining()).unwrap_or(usize::MAX);
        (left, Some(left))
    }

    /// Walks run by run: each run is a plain range of consecutive IDs.
    fn fold<B, F>(mut self, init: B, mut f: F) -> B
    where
        F: FnMut(B, Id) -> B,
    {
        let mut acc = init;
        loop {
            let (next, left, step) = (self.next, self.left, self.step_shift);
            acc = (0..left).fold(acc, |acc, k| {
                f(acc, Id::from_u64(Self::nth_in_run(next, k, step)))
            });
            self.left = 0;
            self.load_run();
            if self.left == 0 {
                return acc;
            }
        }
    }
}

impl ExactSizeIterator for IdBlock {}
impl std::iter::FusedIterator for IdBlock {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{FieldOrder, Layout};
    use crate::IdParts;

    /// 2 sequence bits, 3 worker bits (worker 0b101): runs of at most 4, easy to check by hand.
    /// In Snowflake order the worker sits above the sequence; in Sonyflake order below it.
    fn packing(order: FieldOrder) -> Packing {
        match order {
            FieldOrder::TimeNodeSequence => Packing {
                sequence_bits: 2,
                node_shift: 3,
                in_place: 0b11,
                node_bits: 0b101 << 2,
            },
            FieldOrder::TimeSequenceNode => Packing {
                sequence_bits: 2,
                node_shift: 3,
                in_place: 0,
                node_bits: 0b101,
            },
        }
    }

    fn block(first: u64, count: u64) -> IdBlock {
        IdBlock::new(first, count, packing(FieldOrder::TimeNodeSequence))
    }

    fn compose(value: u64) -> Id {
        packing(FieldOrder::TimeNodeSequence).compose(value)
    }

    #[test]
    fn every_way_of_taking_gives_the_composed_ids_in_order() {
        for order in FieldOrder::ALL {
            let packing = packing(order);
            for first in 0..12 {
                for count in 1..14 {
                    let expected: Vec<Id> =
                        (first..first + count).map(|v| packing.compose(v)).collect();
                    let fresh = || IdBlock::new(first, count, packing);
                    assert_eq!(fresh().collect::<Vec<_>>(), expected, "{order}");
                    let folded = fresh().fold(Vec::new(), |mut v, id| {
                        v.push(id);
                        v
                    });
                    assert_eq!(folded, expected, "{order}");
                    for width in 1..6 {
                        let mut b = fresh();
                        let mut got = Vec::new();
                        let mut buffer = vec![Id::default(); width];
                        loop {
                            let n = b.fill(&mut buffer);
                            got.extend_from_slice(&buffer[..n]);
                            if n < width {
                                break;
                            }
                        }
                        assert_eq!(got, expected, "{order}: fill by {width}");
                        assert!(b.is_empty());
                    }
                }
            }
        }
    }

    /// The packing agrees with the layout's own compose, field by field, in both orders.
    #[test]
    fn the_packing_is_the_layout_s_compose() {
        for order in FieldOrder::ALL {
            let layout = Layout::builder()
                .timestamp_bits(40)
                .datacenter_bits(1)
                .machine_bits(2)
                .sequence_bits(2)
                .field_order(order)
                .build()
                .unwrap();
            let packing = Packing {
                sequence_bits: layout.sequence_bits(),
                node_shift: layout.datacenter_bits() + layout.machine_bits(),
                in_place: (1u64 << Packing::in_place_bits(&layout)) - 1,
                node_bits: (1 << layout.datacenter_shift()) | (0b01 << layout.machine_shift()),
            };
            for value in 0..40u64 {
                let parts = IdParts {
                    tick: value >> 2,
                    datacenter: 1,
                    machine: 0b01,
                    sequence: value & 0b11,
                };
                assert_eq!(
                    packing.compose(value),
                    layout.compose(parts).unwrap(),
                    "{order}"
                );
            }
        }
    }

    #[test]
    fn a_partly_taken_block_reports_what_is_left() {
        let mut b = block(2, 7); // values 2..9: runs [2,3], [4..8], [8]
        assert_eq!(b.len(), 7);
        assert_eq!(b.first(), compose(2));
        assert_eq!(b.last_id(), compose(8));
        b.next();
        b.next();
        assert_eq!(b.len(), 5);
        assert_eq!(b.first(), compose(4));
        assert_eq!(b, block(4, 5), "equal to a block of the same IDs");
        assert_ne!(b, block(4, 4));
        assert_eq!(b.by_ref().count(), 5);
        assert!(b.is_empty());
        assert_eq!(b.next(), None);
        assert_eq!(b, block(0, 0), "every used-up block is equal");
    }

    #[test]
    fn the_last_id_of_a_64_bit_layout_is_given_once() {
        // All-ones worker and the last value of the state: the composed ID is u64::MAX, so the
        // run's next ID wraps past it; it must still be given exactly once. In both orders.
        let (sequence_bits, node_shift) = (12u8, 10u8);
        let workers = (1u64 << node_shift) - 1;
        for (in_place, node_bits) in [(0xfff, workers << sequence_bits), (0, workers)] {
            let packing = Packing {
                sequence_bits,
                node_shift,
                in_place,
                node_bits,
            };
            let last_tick = (1u64 << (64 - 12 - 10)) - 1;
            let first = (last_tick << sequence_bits) | 4090;
            let ids: Vec<Id> = IdBlock::new(first, 6, packing).collect();
            assert_eq!(ids.len(), 6);
            assert_eq!(ids[5], Id::from_u64(u64::MAX));
            let mut buffer = [Id::default(); 8];
            let mut b = IdBlock::new(first, 6, packing);
            assert_eq!(b.fill(&mut buffer), 6);
            assert_eq!(&buffer[..6], &ids[..]);
        }
    }
}
