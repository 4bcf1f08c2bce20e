//! A per-thread handle on a shared generator: it reserves small blocks with one atomic
//! operation and hands their IDs out without touching the generator's shared state.
//!
//! # Why
//! Threads that share one generator and each call `next_id` all write the same state word:
//! every ID moves its cache line from core to core. A handle writes it once per block, so
//! threads holding handles scale with the cores (issue 13 §1).
//!
//! # What it keeps, and what it trades
//! - **No repeats (invariant 1).** A handle's IDs are values of blocks reserved by the
//!   generator's own reservation (`reserve.rs`); each value is reserved by exactly one
//!   operation, and a handle hands out each of its values at most once.
//! - **Each handle's IDs strictly increase**: each block is reserved after the previous one,
//!   from a state word that only increases, and is handed out in order.
//! - **IDs of different threads interleave within a tick**: thread A may hand out the end of
//!   its block after thread B has handed out IDs from a later block of the same tick. This is
//!   the trade-off; across ticks the order holds, because of the next point.
//! - **Every ID carries a tick the clock is at** (or within the allowed lead): before each ID
//!   the handle reads the clock, and drops what is left of a run whose tick the clock has
//!   left (those values are burned, never issued). A handle therefore never hands out an old
//!   ID after a pause, and the bounded lead (invariant 4) holds at the moment each ID is
//!   handed out, not only when its block was reserved.
//! - **The window and the fence (invariant 2).** Every block passed the window check after
//!   its reservation, like any reservation, and the ceiling only rises, so a block's values
//!   stay inside it. [`crate::IdGenerator::fence`]'s bound counts what handles still hold as
//!   reserved, so it covers every ID a handle can still hand out; and a handle reads the
//!   control word before each ID, so no ID comes out of a handle once the fence has returned.
//! - **Waste.** Values a handle drops (its run's tick passed, the handle was dropped, or the
//!   generator was fenced) are burned. Blocks start at one ID in each tick and double while
//!   the thread keeps using them up, to at most [`LocalGenerator::max_block`], so a thread
//!   that takes few IDs reserves few; see that method for the bound.

use std::ops::Deref;

use super::reserve::Attempt;
use super::{IdBlock, IdGenerator, LIVE};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::id::Id;
use crate::sync::Ordering;

/// The most IDs one block of a handle holds by default.
const DEFAULT_MAX_BLOCK: u64 = 4096;

/// A per-thread handle on an [`IdGenerator`], from [`IdGenerator::local`]: IDs one at a time
/// from small blocks, each reserved by one atomic operation.
///
/// Use one per thread when several threads take IDs from one generator at a high rate. Each
/// handle's IDs strictly increase and carry the clock's tick; IDs of different handles
/// interleave within a tick (see the module docs for the whole trade-off).
///
/// `G` is how the handle reaches its generator: a reference (from [`IdGenerator::local`]), or
/// an owner such as an `Arc` (from [`LocalGenerator::new`]), e.g. to keep a handle in a
/// `thread_local!`.
///
/// ```
/// use snowdrift::IdGenerator;
///
/// let generator = IdGenerator::new(1, 2, snowdrift::DEFAULT_EPOCH_MS)?;
/// std::thread::scope(|scope| {
///     for _ in 0..2 {
///         scope.spawn(|| {
///             let mut ids = generator.local();
///             let a = ids.next_id()?;
///             let b = ids.next_id()?;
///             assert!(b > a);
///             Ok::<(), snowdrift::Error>(())
///         });
///     }
/// });
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug)]
pub struct LocalGenerator<G> {
    generator: G,
    /// What is left of the last block.
    block: IdBlock,
    /// The Unix ms from which the current run may be handed out...
    valid_from_ms: u64,
    /// ...and for how many ms (0: the run is not usable).
    valid_span_ms: u64,
    /// The size of the last block reserved, and the clock's tick when it was.
    last_size: u64,
    last_tick: u64,
    max_block: u64,
}

impl<C: Clock> IdGenerator<C> {
    /// A per-thread handle on this generator, for threads that take IDs at a high rate: see
    /// [`LocalGenerator`].
    pub fn local(&self) -> LocalGenerator<&Self> {
        LocalGenerator::new(self)
    }
}

impl<G, C> LocalGenerator<G>
where
    G: Deref<Target = IdGenerator<C>>,
    C: Clock,
{
    /// A handle on the generator that `generator` leads to.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use snowdrift::{IdGenerator, LocalGenerator};
    ///
    /// let generator = Arc::new(IdGenerator::new(1, 2, snowdrift::DEFAULT_EPOCH_MS)?);
    /// let mut ids = LocalGenerator::new(Arc::clone(&generator));
    /// let worker = std::thread::spawn(move || ids.next_id());
    /// assert!(worker.join().unwrap().is_ok());
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    pub fn new(generator: G) -> Self {
        let max_block = (1u64 << generator.sequence_bits >> 6)
            .clamp(1, DEFAULT_MAX_BLOCK)
            .min(generator.max_batch());
        let block = generator.block(0, 0);
        LocalGenerator {
            generator,
            block,
            valid_from_ms: 0,
            valid_span_ms: 0,
            last_size: 0,
            last_tick: 0,
            max_block,
        }
    }

    /// Makes the next ID: from the handle's block when it has one for the clock's tick,
    /// otherwise from a new block, waiting as [`IdGenerator::next_id`] does.
    ///
    /// The errors are those of [`IdGenerator::next_id`]; after the generator is fenced every
    /// call fails with [`Error::Fenced`].
    #[inline]
    pub fn next_id(&mut self) -> Result<Id> {
        let now_ms = self.generator.clock.now_ms();
        let control = self.generator.control.load(Ordering::Acquire);
        if now_ms.wrapping_sub(self.valid_from_ms) < self.valid_span_ms && control & LIVE != 0 {
            if let Some(id) = self.block.next_in_run() {
                return Ok(id);
            }
        }
        self.next_slow()
    }

    /// The user's name for [`LocalGenerator::next_id`].
    #[inline]
    pub fn generate_id(&mut self) -> Result<Id> {
        self.next_id()
    }

    /// The generator this handle takes its blocks from.
    pub fn generator(&self) -> &IdGenerator<C> {
        &self.generator
    }

    /// The most IDs one block holds: by default 1/64 of a tick's sequence, between 1 and
    /// 4,096 (64 in the default 12-bit layout), and never more than
    /// [`IdGenerator::max_batch`].
    ///
    /// It bounds the waste: a handle burns at most one block's unused rest each time the
    /// clock moves to a new tick (or when it is dropped), so `n` busy handles leave at most
    /// `n × max_block` values of a tick unused.
    pub fn max_block(&self) -> u64 {
        self.max_block
    }

    /// Sets the most IDs one block holds (at least 1, at most [`IdGenerator::max_batch`]).
    /// Larger blocks touch the shared state less often and can burn more.
    pub fn with_max_block(mut self, max_block: u64) -> Self {
        self.max_block = max_block.clamp(1, self.generator.max_batch());
        self
    }

    /// Not on the fast path: the run is used up, its tick is not the clock's, or the
    /// generator was fenced.
    #[cold]
    #[inline(never)]
    fn next_slow(&mut self) -> Result<Id> {
        loop {
            if self.generator.control.load(Ordering::Acquire) & LIVE == 0 {
                self.drop_block();
                return Err(Error::Fenced);
            }
            let now_ms = self.generator.clock.now_ms();
            let now = self.generator.tick_of_ms(now_ms);
            if !self.block.is_empty() {
                let tick = self.block.tick();
                // At or after the clock's tick, and within the lead: usable now.
                let usable = tick.wrapping_sub(now) <= u64::from(self.generator.max_lead_ticks);
                if usable {
                    if let Some(id) = self.block.next_in_run() {
                        self.set_validity(tick);
                        return Ok(id);
                    }
                }
                // Used up, or a tick the clock has left (or not reached): on to the next run.
                if self.block.skip_run() {
                    continue;
                }
            }
            self.refill(now)?;
        }
    }

    /// Reserves a new block: one ID in a new tick, twice the last block's size while the
    /// thread keeps using them up within a tick, and never more than the ticks the clock (and
    /// the lead) allow now, so that a block does not wait for a later tick while values of
    /// this one are free.
    fn refill(&mut self, now: u64) -> Result<()> {
        let generator = &*self.generator;
        let wanted = if self.last_tick == now && self.last_size > 0 {
            self.last_size.saturating_mul(2).min(self.max_block)
        } else {
            1
        };
        // A peek at the state: the values from the next free one (or the start of the clock's
        // tick, where a reservation would jump to) to the end of the last usable tick. A race
        // may still make the block span further; the reservation then holds it, as any.
        let shift = generator.sequence_bits;
        let current = generator.line.state.load(Ordering::Relaxed);
        let start = current.max(now.checked_shl(u32::from(shift)).unwrap_or(u64::MAX));
        let usable_ticks = now.saturating_add(u64::from(generator.max_lead_ticks) + 1);
        let through = usable_ticks.saturating_mul(1u64 << shift);
        let size = wanted.min(through.saturating_sub(start)).max(1);
        let first = match generator.try_reserve(size) {
            Ok(Attempt::Ready(first)) => first,
            other => generator.finish_reservation(size, other)?,
        };
        self.block = generator.block(first, size);
        self.last_size = size;
        self.last_tick = now;
        self.valid_span_ms = 0;
        Ok(())
    }

    /// The ms in which a run of `tick` may be handed out: those whose tick is `tick` or up to
    /// the lead before it, exactly as `tick_of_ms` maps them (ms before the epoch are tick 0).
    fn set_validity(&mut self, tick: u64) {
        let generator = &*self.generator;
        let lead = u64::from(generator.max_lead_ticks);
        let from = if tick <= lead {
            0
        } else {
            generator.unix_ms_of(tick - lead)
        };
        let until = generator.unix_ms_of(tick.saturating_add(1));
        self.valid_from_ms = from;
        self.valid_span_ms = until.saturating_sub(from);
    }

    /// Burns what is left of the block.
    fn drop_block(&mut self) {
        self.block = self.generator.block(0, 0);
        self.valid_span_ms = 0;
    }
}
