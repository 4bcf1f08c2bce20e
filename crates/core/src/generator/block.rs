//! A block of consecutive IDs reserved by one atomic operation, and the state-to-ID packing.

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
/// ```
/// use snowdrift::IdGenerator;
/// let generator = IdGenerator::new(0, 0, snowdrift::DEFAULT_EPOCH_MS)?;
/// let block = generator.next_ids(5000)?; // spans two ticks of 4096
/// let ids: Vec<_> = block.collect();
/// assert_eq!(ids.len(), 5000);
/// assert!(ids.windows(2).all(|w| w[0] < w[1]));
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdBlock {
    next: u64,
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
        IdBlock {
            next: first,
            end: first + count,
            sequence_bits,
            node_shift,
            node_bits,
        }
    }

    /// The first ID not yet taken from the block (the block's first ID if none was taken).
    pub fn first(&self) -> Id {
        compose(
            self.next,
            self.sequence_bits,
            self.node_shift,
            self.node_bits,
        )
    }

    /// The block's last ID.
    pub fn last_id(&self) -> Id {
        compose(
            self.end - 1,
            self.sequence_bits,
            self.node_shift,
            self.node_bits,
        )
    }

    /// Whether every ID has been taken.
    pub fn is_empty(&self) -> bool {
        self.next >= self.end
    }
}

impl Iterator for IdBlock {
    type Item = Id;

    #[inline]
    fn next(&mut self) -> Option<Id> {
        if self.next >= self.end {
            return None;
        }
        let id = compose(
            self.next,
            self.sequence_bits,
            self.node_shift,
            self.node_bits,
        );
        self.next += 1;
        Some(id)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.end - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for IdBlock {}
impl std::iter::FusedIterator for IdBlock {}
