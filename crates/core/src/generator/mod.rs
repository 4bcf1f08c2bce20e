//! The lock-free generator: one atomic word of state, a window it may not leave, and a clock.
//!
//! # How an ID is made
//! The state word holds the **next** `(tick, sequence)` pair to hand out, packed as
//! `tick << sequence_bits | sequence`. Packing them this way means that "next sequence, or the
//! first sequence of the next tick when this one is full" is simply `+ 1`, so a single
//! `fetch_add` reserves an ID, or a contiguous block of them, with no retry loop on the hot
//! path. Only when the clock has moved past the state's tick does a thread try one
//! `compare_exchange` to jump the state to the start of the current tick.
//!
//! Every issued value lies in `(old, new]` of one atomic transition of a strictly increasing
//! word, so two calls can never issue the same pair (invariant 1 of DESIGN.md); loom checks it.
//! `reserve.rs` holds that attempt, which never sleeps, and the proofs of what it keeps.
//!
//! # The window
//! A control word holds the exclusive tick limit (`ceiling + 1`) and a live bit. Raising the
//! ceiling only ever increases the limit; fencing clears the word for good. A reservation whose
//! last tick reaches the limit is refused, so no ID ever leaves `[floor, ceiling]`.
//!
//! # Waiting, or not
//! [`IdGenerator::poll_id`] and [`IdGenerator::poll_ids`] never sleep: they answer with IDs,
//! IDs held until a tick ([`Held`]), or "pending until tick T" ([`Poll`]). [`IdGenerator::next_id`]
//! and [`IdGenerator::next_ids`] are thin loops over the same attempt (`waiting.rs`) that sleep
//! (never spin) until that tick, when a tick's sequence is used up and no lead was allowed, or
//! when the clock lags the state. No call waits longer than `max_wait`: a request that would
//! need longer is refused up front with an error that names the wait and the bound.

mod block;
mod builder;
mod local;
mod poll;
mod reserve;
mod sequence_start;
mod waiting;

use std::time::Duration;

pub use block::IdBlock;
use block::Packing;
pub use builder::GeneratorBuilder;
pub use builder::DEFAULT_MAX_WAIT;
pub use local::LocalGenerator;
pub use poll::{Held, Poll};
pub use sequence_start::SequenceStart;

use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::id::Id;
use crate::layout::{FieldOrder, Layout};
use crate::sync::{load_after_rmw, AtomicU64, Ordering};
use reserve::Attempt;

/// Set in the control word while the generator may issue; clear once fenced.
const LIVE: u64 = 1;

/// The most IDs one `next_ids` call may reserve, in ticks' worth of sequence.
const MAX_BATCH_TICKS: u64 = 256;

/// Clamps an exclusive tick limit to what the layout and the control word can hold: one past
/// the layout's last tick, and below 2^63 so that `limit << 1` keeps every bit.
fn clamp_limit(limit: u64, layout: &Layout) -> u64 {
    limit.min(layout.max_tick() + 1).min(u64::MAX >> 1)
}

/// A thread-safe, lock-free Snowflake generator for one worker slot.
///
/// `Send + Sync`, two cache lines (the state word alone on one), and allocates nothing per ID. Share it behind an
/// `Arc`, or put it in a `static` through `OnceLock`.
///
/// ```
/// use snowdrift::IdGenerator;
///
/// // The user's design: IdGenerator(datacenter_id, machine_id, epoch).
/// let generator = IdGenerator::new(1, 2, snowdrift::DEFAULT_EPOCH_MS)?;
/// let a = generator.next_id()?;
/// let b = generator.generate_id()?;
/// assert!(b > a);
/// let parts = a.parts(&generator.layout())?;
/// assert_eq!((parts.datacenter, parts.machine), (1, 2));
///
/// // A block of 1000 contiguous IDs from one atomic operation.
/// let block = generator.next_ids(1000)?;
/// assert_eq!(block.len(), 1000);
/// assert!(block.first() > b);
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[repr(C, align(64))]
pub struct IdGenerator<C: Clock = SystemClock> {
    /// The one word every reservation writes, alone on its cache line.
    line: StateLine,
    // Everything below is read-mostly: threads reading it do not lose the line whenever
    // another thread reserves (it is written at a fence, a raise, and once per tick).
    /// `(limit_tick << 1) | LIVE`, where `limit_tick` is one past the ceiling; 0 once fenced.
    control: AtomicU64,
    /// The clock tick at which the state's next value was last seen usable (within the lead
    /// and below the limit), or [`NO_TICK`]: while it equals the clock's tick, `next_id`
    /// reserves with one `fetch_add` and no load of the state word (`reserve.rs`).
    usable_tick: AtomicU64,
    /// The datacenter and machine fields, already shifted into place.
    node_bits: u64,
    epoch_ms: u64,
    clock: C,
    /// Most the clock may lag the state before a call is refused, in ms.
    max_wait_ms: u32,
    unit_ms: u16,
    /// Ticks of future time a call may borrow without waiting.
    max_lead_ticks: u16,
    /// How long a call may wait for the ceiling to be raised, in ms.
    ceiling_wait_ms: u16,
    timestamp_bits: u8,
    datacenter_bits: u8,
    machine_bits: u8,
    sequence_bits: u8,
    /// How many low state bits keep their place in an ID (`Packing::in_place`): the sequence
    /// width in Snowflake order, 0 in Sonyflake's. A width rather than the mask, so the
    /// read-mostly fields still fit one cache line.
    in_place_bits: u8,
    field_order: FieldOrder,
    /// Where a fresh tick's sequence starts (read only when the clock passes the state).
    sequence_start: SequenceStart,
}

/// The state word and the (rarely written) count of waits, on a cache line of their own.
///
/// Two lines instead of one (issue 13 §1): with the control word and the layout on the line
/// that every `fetch_add` writes, each thread's reads of them fetched the line back from the
/// core that had just reserved, two coherence transactions per ID instead of one.
#[repr(C, align(64))]
struct StateLine {
    /// The next `(tick << sequence_bits) | sequence` to issue. Only ever increases.
    state: AtomicU64,
    /// Times a caller slept because the sequence of a tick was used up.
    exhaustion_waits: AtomicU64,
}

/// `usable_tick` when no tick is known usable: never a clock tick (ticks are below 2^63).
const NO_TICK: u64 = u64::MAX;

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<IdGenerator<SystemClock>>() == 128);
#[cfg(not(loom))]
const _: () = assert!(std::mem::offset_of!(IdGenerator<SystemClock>, control) == 64);

impl IdGenerator<SystemClock> {
    /// The user's design: a generator for `(datacenter_id, machine_id)` in the default 41/5/5/12
    /// layout with a custom `epoch_ms`, on the default clock.
    pub fn new(datacenter_id: u64, machine_id: u64, epoch_ms: u64) -> Result<Self> {
        let layout = Layout::builder().epoch_ms(epoch_ms).build()?;
        GeneratorBuilder::new(layout)
            .worker(datacenter_id, machine_id)
            .build()
    }

    /// A builder for any layout, window and policy.
    pub fn builder(layout: Layout) -> GeneratorBuilder<SystemClock> {
        GeneratorBuilder::new(layout)
    }
}

impl<C: Clock> IdGenerator<C> {
    /// Makes the next ID, waiting (within `max_wait`) when the tick's sequence is used up.
    ///
    /// Errors: [`Error::CeilingReached`], [`Error::Fenced`], [`Error::ClockBehind`],
    /// [`Error::SequenceExhausted`] and [`Error::LayoutExhausted`]. None of them panics and
    /// none issues an ID. The call waits at most `max_wait` for the clock (and, when one is
    /// configured, at most `ceiling_wait` more for the ceiling to be raised).
    #[inline]
    pub fn next_id(&self) -> Result<Id> {
        let first = match self.try_reserve(1) {
            Ok(Attempt::Ready(first)) => first,
            other => self.finish_reservation(1, other)?,
        };
        Ok(self.compose(first))
    }

    /// The user's name for [`IdGenerator::next_id`].
    #[inline]
    pub fn generate_id(&self) -> Result<Id> {
        self.next_id()
    }

    /// Reserves `count` consecutive IDs with one atomic operation.
    ///
    /// The block may span ticks; every ID in it is unique and they increase in order. When it
    /// runs into ticks the clock has not reached, the call waits for its last tick, so
    /// `count` must be in `1..=max_batch()`: [`Error::BatchOutOfRange`] beyond the most one
    /// reservation holds, [`Error::BatchExceedsWait`] beyond what `max_wait` lets it wait for.
    pub fn next_ids(&self, count: u64) -> Result<IdBlock> {
        self.check_batch(count)?;
        let first = match self.try_reserve(count) {
            Ok(Attempt::Ready(first)) => first,
            other => self.finish_reservation(count, other)?,
        };
        Ok(self.block(first, count))
    }

    /// Fills `out` with consecutive IDs, reserved by one atomic operation: [`IdGenerator::next_ids`]
    /// for a caller that keeps its own buffer (and hands the IDs out one at a time from it).
    ///
    /// `out.len()` is the count, checked as in [`IdGenerator::next_ids`] (an empty slice is
    /// [`Error::BatchOutOfRange`]). On an error `out` is left untouched.
    ///
    /// ```
    /// use snowdrift::{Id, IdGenerator};
    /// let generator = IdGenerator::new(1, 2, snowdrift::DEFAULT_EPOCH_MS)?;
    /// let mut buffer = vec![Id::default(); 4096];
    /// generator.next_ids_into(&mut buffer)?;
    /// assert!(buffer.windows(2).all(|w| w[0] < w[1]));
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    pub fn next_ids_into(&self, out: &mut [Id]) -> Result<()> {
        let count = u64::try_from(out.len()).unwrap_or(u64::MAX);
        let mut block = self.next_ids(count)?;
        block.fill(out);
        Ok(())
    }

    /// Tries to make the next ID without ever sleeping.
    ///
    /// Answers [`Poll::Ready`] with the ID, [`Poll::Pending`] with the tick (and Unix ms) to
    /// try again at when the sequence is used up or the clock lags the state, or, when a
    /// reservation lost a race into a later tick, [`Poll::Held`]. The errors are those of
    /// [`IdGenerator::next_id`]; a pending time or a hold is never more than `max_wait` away.
    /// A configured `ceiling_wait` does not apply: [`Error::CeilingReached`] comes at once.
    ///
    /// ```
    /// use snowdrift::{clock::ManualClock, IdGenerator, Layout, Poll};
    /// let layout = Layout::default();
    /// let clock = ManualClock::frozen(layout.epoch_ms() + 7);
    /// let generator = IdGenerator::builder(layout).clock(clock).build()?;
    /// generator.next_ids(4096)?; // tick 7 is full, and the clock does not move
    /// match generator.poll_id()? {
    ///     Poll::Pending { tick, wake_at_ms } => {
    ///         assert_eq!(tick, 8);
    ///         assert_eq!(wake_at_ms, layout.epoch_ms() + 8);
    ///     }
    ///     other => panic!("expected pending, got {other:?}"),
    /// }
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    #[inline]
    pub fn poll_id(&self) -> Result<Poll<Id>> {
        Ok(match self.try_reserve(1)? {
            Attempt::Ready(first) => Poll::Ready(self.compose(first)),
            Attempt::Held { first, ready_tick } => Poll::Held(Held::new(
                self.compose(first),
                ready_tick,
                self.unix_ms_of(ready_tick),
            )),
            Attempt::Pending { tick } => Poll::Pending {
                tick,
                wake_at_ms: self.unix_ms_of(tick),
            },
        })
    }

    /// Tries to reserve `count` consecutive IDs without ever sleeping.
    ///
    /// As [`IdGenerator::poll_id`]; a block whose later ticks the clock has not reached yet
    /// comes as [`Poll::Held`], to be claimed once the clock gets there. `count` is checked
    /// as in [`IdGenerator::next_ids`].
    pub fn poll_ids(&self, count: u64) -> Result<Poll<IdBlock>> {
        self.check_batch(count)?;
        Ok(match self.try_reserve(count)? {
            Attempt::Ready(first) => Poll::Ready(self.block(first, count)),
            Attempt::Held { first, ready_tick } => Poll::Held(Held::new(
                self.block(first, count),
                ready_tick,
                self.unix_ms_of(ready_tick),
            )),
            Attempt::Pending { tick } => Poll::Pending {
                tick,
                wake_at_ms: self.unix_ms_of(tick),
            },
        })
    }

    /// The largest `count` that [`IdGenerator::next_ids`] and [`IdGenerator::poll_ids`]
    /// accept: at most 256 ticks' worth of sequence, and no more ticks than a block can
    /// span and still be handed out within `max_wait` (plus `max_lead_ticks`) of its first.
    pub fn max_batch(&self) -> u64 {
        let within_wait = u64::from(self.max_wait_ms) / u64::from(self.unit_ms)
            + u64::from(self.max_lead_ticks)
            + 1;
        MAX_BATCH_TICKS.min(within_wait) << self.sequence_bits
    }

    /// Refuses a batch size outside `1..=max_batch()`, saying which bound it passed.
    fn check_batch(&self, count: u64) -> Result<()> {
        if count == 0 || count > MAX_BATCH_TICKS << self.sequence_bits {
            return Err(Error::BatchOutOfRange {
                requested: count,
                max: self.max_batch(),
            });
        }
        // Within the lead plus the tick it starts in, a block never waits: skip the division.
        let never_waits = (u64::from(self.max_lead_ticks) + 1) << self.sequence_bits;
        if count > never_waits && count > self.max_batch() {
            // Even from the first value of a tick, the block's last tick lies this far ahead.
            let ahead = ((count - 1) >> self.sequence_bits) - u64::from(self.max_lead_ticks);
            return Err(Error::BatchExceedsWait {
                requested: count,
                wait: Duration::from_millis(ahead * u64::from(self.unit_ms)),
                max_wait: Duration::from_millis(u64::from(self.max_wait_ms)),
                max: self.max_batch(),
            });
        }
        Ok(())
    }

    /// Raises the ceiling: the last tick that may be used. It never lowers it.
    ///
    /// Call this only after a high-water mark of at least `ceiling` has been made durable.
    /// Returns [`Error::Fenced`] if the generator was fenced.
    pub fn raise_ceiling(&self, ceiling: u64) -> Result<()> {
        let wanted = clamp_limit(ceiling.saturating_add(1), &self.layout());
        let mut current = self.control.load(Ordering::Acquire);
        loop {
            if current & LIVE == 0 {
                return Err(Error::Fenced);
            }
            if current >> 1 >= wanted {
                return Ok(());
            }
            match self.control.compare_exchange_weak(
                current,
                (wanted << 1) | LIVE,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(seen) => current = seen,
            }
        }
    }

    /// Stops the generator for good, and returns the last tick it can ever have issued.
    ///
    /// Every later call fails with [`Error::Fenced`]. The answer is an upper bound on the tick
    /// of every ID that any call of this generator has returned **or will still return**, calls
    /// racing with the fence included, so a holder may lower its persisted mark to it at a
    /// clean shutdown and the next holder can start right above it:
    /// - `Some(t)`: no ID with a tick above `t` was or will be issued. It is the tick of the
    ///   last value reserved, capped by the ceiling; values that were reserved but refused
    ///   (past the ceiling, or lost to this fence) count as reserved, so the bound is exact
    ///   unless such refusals happened. With nothing issued since a floor `f` it is `f - 1`,
    ///   the previous holder's mark.
    /// - `None`: nothing was ever issued, and nothing will be (the state never left tick 0, or
    ///   the window was closed).
    ///
    /// Values that [`LocalGenerator`] handles hold but have not handed out count as reserved
    /// too, so the bound covers every ID a handle can still give; and a handle reads the
    /// window before each ID, so none gives an ID once the fence has returned.
    ///
    /// Calling it again returns a bound that is still sound, though no longer capped by the
    /// ceiling. Callers that only want to stop the generator can ignore the answer.
    ///
    /// ```
    /// use snowdrift::{clock::ManualClock, IdGenerator, Layout};
    /// let layout = Layout::default();
    /// let clock = ManualClock::new(layout.epoch_ms() + 500);
    /// let generator = IdGenerator::builder(layout).clock(clock.clone()).build()?;
    /// let id = generator.next_id()?;
    /// assert_eq!(generator.fence(), Some(id.parts(&layout)?.tick));
    /// assert!(generator.next_id().is_err());
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    pub fn fence(&self) -> Option<u64> {
        // A read-modify-write, not a plain store: it takes part in the same total order as
        // `raise_ceiling`'s compare-exchange, so a raise can never land after the fence and
        // revive the window. (loom, checking this, found an interleaving in its model where a
        // plain store let a concurrent raise revive the window.)
        let previous = self.control.swap(0, Ordering::SeqCst);
        // Sends later calls to the path that checks the window before reserving, so that a
        // call after the fence burns nothing (a call racing it is caught by the check after
        // its reservation, below).
        self.usable_tick.store(NO_TICK, Ordering::Release);
        // The store-buffer pattern: this thread writes the control word and then reads the
        // state; a reserving thread writes the state (`fetch_add` or compare-exchange) and
        // then reads the control word, all `SeqCst`. At least one of the two sees the other's
        // write: either this read sees the reservation, so the bound covers it, or the
        // reserver sees the fence and burns its values instead of returning them.
        let state = load_after_rmw(&self.line.state);
        let reserved = state.checked_sub(1).map(|last| last >> self.sequence_bits);
        if previous & LIVE == 0 {
            // Fenced before: the ceiling was cleared then, so only the state bounds the ticks.
            return reserved;
        }
        // Reservations past the ceiling are refused, so nothing above it was issued.
        let window = (previous >> 1).checked_sub(1);
        reserved
            .zip(window)
            .map(|(reserved, window)| reserved.min(window))
    }

    /// Whether [`IdGenerator::fence`] was called.
    pub fn is_fenced(&self) -> bool {
        self.control.load(Ordering::Acquire) & LIVE == 0
    }

    /// The last tick that may be used, or `None` if none may (fenced, or a closed window at tick 0).
    pub fn ceiling(&self) -> Option<u64> {
        let control = self.control.load(Ordering::Acquire);
        if control & LIVE == 0 {
            return None;
        }
        (control >> 1).checked_sub(1)
    }

    /// The tick of the next ID to be issued (the high-water mark in use is just below it).
    pub fn next_tick(&self) -> u64 {
        self.line.state.load(Ordering::Acquire) >> self.sequence_bits
    }

    /// The clock's current tick in this generator's layout.
    pub fn clock_tick(&self) -> u64 {
        self.now_tick()
    }

    /// How far the clock is behind the state (zero when it is not): the wait before new IDs.
    pub fn clock_lag(&self) -> Duration {
        let behind = self.next_tick().saturating_sub(self.now_tick());
        Duration::from_millis(behind * u64::from(self.unit_ms))
    }

    /// Whether a call made now could issue an ID within its bounds: `Ok(wait)` with how long
    /// [`IdGenerator::next_id`] would wait (zero: at once; never more than `max_wait`), or the
    /// error it would return ([`Error::Fenced`], [`Error::CeilingReached`],
    /// [`Error::LayoutExhausted`], [`Error::ClockBehind`], [`Error::SequenceExhausted`]).
    /// Reserves nothing and never sleeps: this is the generator's own judgement of readiness,
    /// with the bounds it applies to every call, for health checks.
    ///
    /// A state ahead of the clock by borrowed lead or by blocks is ready as long as the wait
    /// for it stays within `max_wait`, as the call itself would be.
    ///
    /// ```
    /// use std::time::Duration;
    /// use snowdrift::{clock::ManualClock, IdGenerator, Layout};
    /// let layout = Layout::default();
    /// let clock = ManualClock::frozen(layout.epoch_ms() + 7);
    /// let generator = IdGenerator::builder(layout).clock(clock).build()?;
    /// assert_eq!(generator.issue_wait()?, Duration::ZERO);
    /// generator.next_ids(4096)?; // tick 7 is full: the next ID waits one tick
    /// assert_eq!(generator.issue_wait()?, Duration::from_millis(1));
    /// generator.fence();
    /// assert_eq!(generator.issue_wait().unwrap_err().code(), "fenced");
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    pub fn issue_wait(&self) -> Result<Duration> {
        self.peek()
    }

    /// Times a call slept because a tick's sequence was used up.
    pub fn exhaustion_waits(&self) -> u64 {
        self.line.exhaustion_waits.load(Ordering::Relaxed)
    }

    /// The generator's layout.
    pub fn layout(&self) -> Layout {
        // Rebuilt from the packed fields rather than stored, so the read-mostly fields stay on
        // one cache line; it was validated when the generator was built.
        Layout::from_spec_unchecked(crate::layout::LayoutSpec {
            timestamp_bits: self.timestamp_bits,
            datacenter_bits: self.datacenter_bits,
            machine_bits: self.machine_bits,
            sequence_bits: self.sequence_bits,
            epoch_ms: self.epoch_ms,
            unit_ms: u64::from(self.unit_ms),
            field_order: self.field_order,
        })
    }

    /// The datacenter field of every ID this generator makes.
    pub fn datacenter_id(&self) -> u64 {
        (self.node_bits >> self.layout().datacenter_shift()) & ((1u64 << self.datacenter_bits) - 1)
    }

    /// The machine field of every ID this generator makes.
    pub fn machine_id(&self) -> u64 {
        (self.node_bits >> self.layout().machine_shift()) & ((1u64 << self.machine_bits) - 1)
    }

    /// The clock this generator reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    #[inline(always)]
    fn packing(&self) -> Packing {
        Packing {
            sequence_bits: self.sequence_bits,
            in_place: (1u64 << self.in_place_bits) - 1,
            node_shift: self.datacenter_bits + self.machine_bits,
            node_bits: self.node_bits,
        }
    }

    #[inline]
    fn compose(&self, value: u64) -> Id {
        self.packing().compose(value)
    }

    #[inline]
    fn now_tick(&self) -> u64 {
        self.tick_of_ms(self.clock.now_ms())
    }

    fn block(&self, first: u64, count: u64) -> IdBlock {
        IdBlock::new(first, count, self.packing())
    }

    /// The tick of a Unix millisecond (0 before the epoch).
    #[inline(always)]
    fn tick_of_ms(&self, unix_ms: u64) -> u64 {
        let since_epoch = unix_ms.saturating_sub(self.epoch_ms);
        if self.unit_ms == 1 {
            since_epoch
        } else {
            since_epoch / u64::from(self.unit_ms)
        }
    }

    /// When a tick starts, in Unix milliseconds (saturating).
    fn unix_ms_of(&self, tick: u64) -> u64 {
        self.epoch_ms
            .saturating_add(tick.saturating_mul(u64::from(self.unit_ms)))
    }
}

impl<C: Clock> std::fmt::Debug for IdGenerator<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdGenerator")
            .field("layout", &self.layout())
            .field("datacenter_id", &self.datacenter_id())
            .field("machine_id", &self.machine_id())
            .field("next_tick", &self.next_tick())
            .field("ceiling", &self.ceiling())
            .field("fenced", &self.is_fenced())
            .finish()
    }
}
