//! Configuration of an [`IdGenerator`]: worker, window, clock and waiting policy.

use std::time::Duration;

use super::{IdGenerator, Packing, SequenceStart, StateLine, LIVE, NO_TICK};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::sync::AtomicU64;

/// Default bound on all the waiting of one call (see [`GeneratorBuilder::max_wait`]).
pub const DEFAULT_MAX_WAIT: Duration = Duration::from_secs(1);

/// Builds an [`IdGenerator`].
///
/// | setting | default | meaning |
/// |---|---|---|
/// | `worker` | 0, 0 | datacenter and machine fields |
/// | `floor` | 0 | first tick that may be used (one above a persisted high-water mark) |
/// | `ceiling` | the layout's last tick | last tick that may be used; raise later with `raise_ceiling` |
/// | `max_lead_ticks` | 0 | future ticks a call may borrow when a tick is full, instead of sleeping |
/// | `max_wait` | 1 s | most any call waits in all (a full tick, a block's last tick, a lagging clock); longer is refused up front |
/// | `ceiling_wait` | 0 | most a call waits for the ceiling to be raised before `CeilingReached` |
/// | `sequence_start` | [`SequenceStart::Zero`] | where a fresh tick's sequence starts (shard spread) |
/// | `clock` | [`SystemClock`] | where time comes from |
///
/// ```
/// use std::time::Duration;
/// use snowdrift::{clock::ManualClock, IdGenerator, Layout};
///
/// let layout = Layout::default();
/// let clock = ManualClock::new(layout.epoch_ms() + 10_000);
/// let generator = IdGenerator::builder(layout)
///     .worker(3, 7)
///     .floor(9_000)
///     .ceiling(10_001)          // persisted up to tick 10 001
///     .max_wait(Duration::from_millis(50))
///     .clock(clock.clone())
///     .build()?;
/// let id = generator.next_id()?;
/// assert_eq!(id.parts(&layout)?.tick, 10_000);
/// clock.advance(5);             // past the ceiling: refused, never issued
/// assert_eq!(generator.next_id().unwrap_err().code(), "ceiling_reached");
/// generator.raise_ceiling(20_000)?;
/// assert!(generator.next_id().is_ok());
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct GeneratorBuilder<C: Clock = SystemClock> {
    layout: Layout,
    datacenter: u64,
    machine: u64,
    floor: u64,
    /// Exclusive tick limit: one past the ceiling.
    limit: Option<u64>,
    max_lead_ticks: u64,
    max_wait: Duration,
    ceiling_wait: Duration,
    sequence_start: SequenceStart,
    clock: C,
}

impl GeneratorBuilder<SystemClock> {
    /// A builder for `layout` with every default.
    pub fn new(layout: Layout) -> Self {
        GeneratorBuilder {
            layout,
            datacenter: 0,
            machine: 0,
            floor: 0,
            limit: None,
            max_lead_ticks: 0,
            max_wait: DEFAULT_MAX_WAIT,
            ceiling_wait: Duration::ZERO,
            sequence_start: SequenceStart::Zero,
            clock: SystemClock::new(),
        }
    }
}

impl<C: Clock> GeneratorBuilder<C> {
    /// The datacenter and machine fields.
    pub fn worker(mut self, datacenter: u64, machine: u64) -> Self {
        self.datacenter = datacenter;
        self.machine = machine;
        self
    }

    /// The first tick that may be used: one above the previous holder's high-water mark.
    pub fn floor(mut self, tick: u64) -> Self {
        self.floor = tick;
        self
    }

    /// The last tick that may be used, until raised.
    pub fn ceiling(mut self, tick: u64) -> Self {
        self.limit = Some(tick.saturating_add(1));
        self
    }

    /// Starts with no tick usable: nothing is issued until `raise_ceiling` is called. This is
    /// how a holder starts before its first high-water mark is durable.
    pub fn closed(mut self) -> Self {
        self.limit = Some(0);
        self
    }

    /// Future ticks a call may borrow without sleeping when the current tick is full.
    /// Bounded by 65 535.
    pub fn max_lead_ticks(mut self, ticks: u64) -> Self {
        self.max_lead_ticks = ticks;
        self
    }

    /// Most a call waits in all, for whatever reason: the next tick when one is full, a block's
    /// last tick, or a clock that lags the floor or the last ID (at most ~49 days). A call that
    /// would need longer is refused up front, and it also caps [`IdGenerator::max_batch`].
    pub fn max_wait(mut self, wait: Duration) -> Self {
        self.max_wait = wait;
        self
    }

    /// Most a call waits for the ceiling to be raised (at most 65 s). Zero: fail at once.
    pub fn ceiling_wait(mut self, wait: Duration) -> Self {
        self.ceiling_wait = wait;
        self
    }

    /// Where each fresh tick's sequence starts: 0 (default), a pseudo-random offset in the
    /// lower half, or carried on from the last tick. See [`SequenceStart`].
    pub fn sequence_start(mut self, start: SequenceStart) -> Self {
        self.sequence_start = start;
        self
    }

    /// The clock to read.
    pub fn clock<D: Clock>(self, clock: D) -> GeneratorBuilder<D> {
        GeneratorBuilder {
            layout: self.layout,
            datacenter: self.datacenter,
            machine: self.machine,
            floor: self.floor,
            limit: self.limit,
            max_lead_ticks: self.max_lead_ticks,
            max_wait: self.max_wait,
            ceiling_wait: self.ceiling_wait,
            sequence_start: self.sequence_start,
            clock,
        }
    }

    /// Validates the settings and builds the generator.
    ///
    /// It fails if the worker does not fit the layout, a setting is out of range, the layout
    /// leaves no spare bit for the state, or the floor or the clock lies beyond the layout's
    /// time ([`Error::LayoutExhausted`], naming the date it ran out). A clock behind the floor
    /// is not an error here: calls wait for it up to `max_wait`, or fail.
    pub fn build(self) -> Result<IdGenerator<C>> {
        let clock = self.clock;
        let layout = self.layout;
        layout.check_worker(self.datacenter, self.machine)?;
        let state_bits = u32::from(layout.timestamp_bits()) + u32::from(layout.sequence_bits());
        if state_bits > 63 {
            return Err(Error::LayoutUnsupportedByGenerator { bits: state_bits });
        }
        // A layout whose time has already run out, or a floor past its end, would never issue;
        // say so now, naming the date, rather than on every call.
        let clock_tick = clock.now_ms().saturating_sub(layout.epoch_ms()) / layout.unit_ms();
        if self.floor > layout.max_tick() || clock_tick > layout.max_tick() {
            return Err(Error::layout_exhausted(&layout));
        }
        let max_lead_ticks =
            u16::try_from(self.max_lead_ticks).map_err(|_| Error::CountOutOfRange {
                what: "max_lead_ticks",
                value: self.max_lead_ticks,
                max: u64::from(u16::MAX),
            })?;
        let max_wait_ms =
            u32::try_from(self.max_wait.as_millis()).map_err(|_| Error::CountOutOfRange {
                what: "max_wait in ms",
                value: u64::try_from(self.max_wait.as_millis()).unwrap_or(u64::MAX),
                max: u64::from(u32::MAX),
            })?;
        let ceiling_wait_ms =
            u16::try_from(self.ceiling_wait.as_millis()).map_err(|_| Error::CountOutOfRange {
                what: "ceiling_wait in ms",
                value: u64::try_from(self.ceiling_wait.as_millis()).unwrap_or(u64::MAX),
                max: u64::from(u16::MAX),
            })?;
        let unit_ms = u16::try_from(layout.unit_ms()).map_err(|_| Error::InvalidTimeUnit {
            unit_ms: layout.unit_ms(),
            max: crate::layout::MAX_UNIT_MS,
        })?;
        // The exclusive tick limit may be one past the layout's last tick: that is what
        // "the whole layout" means, and reaching it reports `LayoutExhausted`.
        let limit = super::clamp_limit(self.limit.unwrap_or(u64::MAX), &layout);
        Ok(IdGenerator {
            line: StateLine {
                state: AtomicU64::new(self.floor << layout.sequence_bits()),
                exhaustion_waits: AtomicU64::new(0),
            },
            control: AtomicU64::new((limit << 1) | LIVE),
            usable_tick: AtomicU64::new(NO_TICK),
            node_bits: (self.datacenter << layout.datacenter_shift())
                | (self.machine << layout.machine_shift()),
            epoch_ms: layout.epoch_ms(),
            clock,
            max_wait_ms,
            unit_ms,
            max_lead_ticks,
            ceiling_wait_ms,
            timestamp_bits: layout.timestamp_bits(),
            datacenter_bits: layout.datacenter_bits(),
            machine_bits: layout.machine_bits(),
            sequence_bits: layout.sequence_bits(),
            in_place_bits: Packing::in_place_bits(&layout),
            field_order: layout.field_order(),
            sequence_start: self.sequence_start,
        })
    }
}
