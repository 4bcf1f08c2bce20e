//! A block of consecutive IDs reserved by one atomic operation, and the state-to-ID packing.
//!
//! # Why a block walks runs
//! Within one tick, consecutive state values make consecutive IDs: the tick and worker bits
//! are a fixed prefix and the sequence is the low bits, so the ID of the next value is the
//! last ID plus one. A block therefore keeps the **composed** next ID of its current run (the
//! part of the block in one tick) and how many are left in it; taking an ID is a decrement
//! and an increment, with no shifts, and only moving to the next tick's run packs an ID
//! again. That is what makes handing IDs out of a block one at a time as cheap as reading
//! them from a buffer (issue 13 §2).

use crate::id::Id;

/// Turns a state value `tick << sequence_bits | sequence` into an ID by opening a gap of
/// `node_shift` bits above the sequence and filling it with the pre-shifted worker fields.
#[inline(always)]
pub(crate) fn compose(value: u64, sequence_bits: u8, node_shift: u32, node_bits: u64) -> Id {
    let sequence_mask = (1u64 << sequence_bits) - 1;
    let tick = value >> sequence_bits;
    let tick_shift = u32::from(sequence_bits) + node_shift;
    // A tick shifted by 64 or more only happens for layouts whose whole width is sequence and
    // worker bits, which layout validation forbids (the timestamp is at least 32 bits).
    Id::from_u64((tick << tick_shift) | node_bits | (value & sequence_mask))
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
    sequence_bits: u8,
    node_shift: u32,
    node_bits: u64,
}

impl IdBlock {
    pub(crate) fn new(
        first: u64,
        count: u64,
        sequence_bits: u8,
        node_shift: u32,
        node_bits: u64,
    ) -> IdBlock {
        let mut block = IdBlock {
            next: 0,
            left: 0,
            rest: first,
            end: first + count,
            sequence_bits,
            node_shift,
            node_bits,
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
        let tick_end = ((self.rest >> self.sequence_bits) + 1) << self.sequence_bits;
        let run_end = tick_end.min(self.end);
        self.next = self.compose(self.rest).as_u64();
        self.left = run_end - self.rest;
        self.rest = run_end;
    }

    #[inline(always)]
    fn compose(&self, value: u64) -> Id {
        compose(value, self.sequence_bits, self.node_shift, self.node_bits)
    }

    /// The state value of the next ID not yet taken.
    #[inline(always)]
    fn position(&self) -> u64 {
        self.rest - self.left
    }

    /// The tick of the next ID not yet taken (of the block's end, when it is used up).
    #[inline(always)]
    pub(crate) fn tick(&self) -> u64 {
        self.position() >> self.sequence_bits
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
        self.next = self.next.wrapping_add(1);
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
            for (slot, k) in out[written..written + take].iter_mut().zip(0u64..) {
                *slot = Id::from_u64(self.next.wrapping_add(k));
            }
            // `take` is at most `left`, which is a u64.
            let taken = take as u64;
            self.left -= taken;
            self.next = self.next.wrapping_add(taken);
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
                && self.sequence_bits == other.sequence_bits
                && self.node_shift == other.node_shift
                && self.node_bits == other.node_bits)
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
            let (next, left) = (self.next, self.left);
            acc = (0..left).fold(acc, |acc, k| f(acc, Id::from_u64(next.wrapping_add(k))));
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

    /// 2 sequence bits, 3 worker bits: runs of at most 4, easy to check by hand.
    fn block(first: u64, count: u64) -> IdBlock {
        IdBlock::new(first, count, 2, 3, 0b101 << 2)
    }

    fn by_compose(first: u64, count: u64) -> Vec<Id> {
        (first..first + count)
            .map(|v| compose(v, 2, 3, 0b101 << 2))
            .collect()
    }

    #[test]
    fn every_way_of_taking_gives_the_composed_ids_in_order() {
        for first in 0..12 {
            for count in 1..14 {
                let expected = by_compose(first, count);
                assert_eq!(block(first, count).collect::<Vec<_>>(), expected);
                let folded = block(first, count).fold(Vec::new(), |mut v, id| {
                    v.push(id);
                    v
                });
                assert_eq!(folded, expected);
                for width in 1..6 {
                    let mut b = block(first, count);
                    let mut got = Vec::new();
                    let mut buffer = vec![Id::default(); width];
                    loop {
                        let n = b.fill(&mut buffer);
                        got.extend_from_slice(&buffer[..n]);
                        if n < width {
                            break;
                        }
                    }
                    assert_eq!(got, expected, "fill by {width}");
                    assert!(b.is_empty());
                }
            }
        }
    }

    #[test]
    fn a_partly_taken_block_reports_what_is_left() {
        let mut b = block(2, 7); // values 2..9: runs [2,3], [4..8], [8]
        assert_eq!(b.len(), 7);
        assert_eq!(b.first(), compose(2, 2, 3, 0b101 << 2));
        assert_eq!(b.last_id(), compose(8, 2, 3, 0b101 << 2));
        b.next();
        b.next();
        assert_eq!(b.len(), 5);
        assert_eq!(b.first(), compose(4, 2, 3, 0b101 << 2));
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
        // run's next ID wraps past it; it must still be given exactly once.
        let (sequence_bits, node_shift) = (12u8, 10u32);
        let node_bits = ((1u64 << node_shift) - 1) << sequence_bits;
        let last_tick = (1u64 << (64 - 12 - 10)) - 1;
        let first = (last_tick << sequence_bits) | 4090;
        let ids: Vec<Id> = IdBlock::new(first, 6, sequence_bits, node_shift, node_bits).collect();
        assert_eq!(ids.len(), 6);
        assert_eq!(ids[5], Id::from_u64(u64::MAX));
        let mut buffer = [Id::default(); 8];
        let mut b = IdBlock::new(first, 6, sequence_bits, node_shift, node_bits);
        assert_eq!(b.fill(&mut buffer), 6);
        assert_eq!(&buffer[..6], &ids[..]);
    }
}
