//! The bit layout of an ID: field widths, the custom epoch and the time unit.
//!
//! A [`Layout`] is the only thing that knows how the four fields are packed into 64 bits, from
//! the most significant end: `| timestamp | datacenter | machine | sequence |`, or, in
//! Sonyflake's [`FieldOrder`], `| timestamp | sequence | datacenter | machine |`. It is validated
//! once, when built, so every later compose and decompose can trust it. The module is split by
//! concern: this file holds the layout and its bit arithmetic, `builder.rs` the builder,
//! `spec.rs` the plain form used in config files and the validation rules, `order.rs` the field
//! order, and `preset.rs` the well-known Snowflake variants.

mod builder;
mod order;
mod preset;
mod spec;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::id::{Id, IdParts};

pub use builder::LayoutBuilder;
pub use order::FieldOrder;
pub use preset::Preset;
pub use spec::LayoutSpec;

/// The default epoch, 2021-01-01T00:00:00Z, in Unix milliseconds.
pub const DEFAULT_EPOCH_MS: u64 = 1_609_459_200_000;

/// The narrowest timestamp field a layout may have.
pub const MIN_TIMESTAMP_BITS: u8 = 32;

/// The largest time unit a layout may have, in milliseconds.
pub const MAX_UNIT_MS: u64 = 1_000;

/// A validated bit allocation for 64-bit IDs.
///
/// ```
/// use snowdrift::Layout;
///
/// let layout = Layout::default();
/// assert_eq!(layout.to_string(), "41/5/5/12, epoch 2021-01-01T00:00:00.000Z, unit 1 ms");
/// assert_eq!(layout.ids_per_second_per_worker(), 4_096_000);
/// assert_eq!(layout.workers(), 1024);
/// assert!(layout.keeps_sign_bit_clear());
///
/// let custom = Layout::builder().timestamp_bits(39).machine_bits(8).sequence_bits(8)
///     .datacenter_bits(0).unit_ms(10).build()?;
/// assert_eq!(custom.ids_per_second_per_worker(), 25_600);
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "LayoutSpec", into = "LayoutSpec"))]
pub struct Layout {
    timestamp_bits: u8,
    datacenter_bits: u8,
    machine_bits: u8,
    sequence_bits: u8,
    epoch_ms: u64,
    unit_ms: u64,
    field_order: FieldOrder,
}

impl Default for Layout {
    fn default() -> Self {
        Preset::Snowdrift.layout()
    }
}

impl Layout {
    /// A builder that starts from the default layout (41/5/5/12, epoch 2021-01-01, 1 ms).
    pub fn builder() -> LayoutBuilder {
        LayoutBuilder::default()
    }

    /// A preset, by value. Same as [`Preset::layout`].
    pub const fn preset(preset: Preset) -> Layout {
        preset.layout()
    }

    /// Trusts a spec that was validated before (the generator packs a validated layout).
    pub(crate) const fn from_spec_unchecked(spec: LayoutSpec) -> Layout {
        Layout {
            timestamp_bits: spec.timestamp_bits,
            datacenter_bits: spec.datacenter_bits,
            machine_bits: spec.machine_bits,
            sequence_bits: spec.sequence_bits,
            epoch_ms: spec.epoch_ms,
            unit_ms: spec.unit_ms,
            field_order: spec.field_order,
        }
    }

    /// Width of the timestamp field.
    pub const fn timestamp_bits(&self) -> u8 {
        self.timestamp_bits
    }
    /// Width of the datacenter field.
    pub const fn datacenter_bits(&self) -> u8 {
        self.datacenter_bits
    }
    /// Width of the machine field.
    pub const fn machine_bits(&self) -> u8 {
        self.machine_bits
    }
    /// Width of the sequence field.
    pub const fn sequence_bits(&self) -> u8 {
        self.sequence_bits
    }
    /// The custom epoch, in Unix milliseconds.
    pub const fn epoch_ms(&self) -> u64 {
        self.epoch_ms
    }
    /// Length of one timestamp tick, in milliseconds.
    pub const fn unit_ms(&self) -> u64 {
        self.unit_ms
    }
    /// Where the sequence sits relative to the worker fields.
    pub const fn field_order(&self) -> FieldOrder {
        self.field_order
    }
    /// Sum of all field widths.
    pub const fn total_bits(&self) -> u32 {
        self.timestamp_bits as u32
            + self.datacenter_bits as u32
            + self.machine_bits as u32
            + self.sequence_bits as u32
    }
    /// Whether bit 63 is always zero, so every ID is a positive `i64` (true when the widths sum
    /// to 63 or fewer). The `discord` and `instagram` presets use all 64 bits.
    pub const fn keeps_sign_bit_clear(&self) -> bool {
        self.total_bits() <= 63
    }

    /// The largest tick the timestamp field holds.
    pub const fn max_tick(&self) -> u64 {
        mask(self.timestamp_bits)
    }
    /// The largest datacenter ID.
    pub const fn max_datacenter(&self) -> u64 {
        mask(self.datacenter_bits)
    }
    /// The largest machine ID.
    pub const fn max_machine(&self) -> u64 {
        mask(self.machine_bits)
    }
    /// The largest sequence number.
    pub const fn max_sequence(&self) -> u64 {
        mask(self.sequence_bits)
    }
    /// How many datacenters × machines this layout can address.
    pub const fn workers(&self) -> u64 {
        1u64 << (self.datacenter_bits + self.machine_bits)
    }
    /// IDs per tick per worker.
    pub const fn ids_per_tick(&self) -> u64 {
        1u64 << self.sequence_bits
    }
    /// The most IDs one worker can make per second.
    pub const fn ids_per_second_per_worker(&self) -> u64 {
        self.ids_per_tick() * 1000 / self.unit_ms
    }

    /// The Unix millisecond of the last tick this layout can encode: when it runs out of time.
    pub const fn end_unix_ms(&self) -> u64 {
        self.epoch_ms + self.max_tick() * self.unit_ms
    }
    /// When this layout runs out of time.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let layout = snowdrift::Layout::default();
    /// assert_eq!(layout.end_time(), UNIX_EPOCH + Duration::from_millis(layout.end_unix_ms()));
    /// assert_eq!(snowdrift::format_unix_ms(layout.end_unix_ms()), "2090-09-07T15:47:35.551Z");
    /// ```
    pub fn end_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.end_unix_ms())
    }
    /// How long the layout lasts from its epoch to its end.
    pub const fn lifetime(&self) -> Duration {
        Duration::from_millis(self.max_tick() * self.unit_ms)
    }

    /// The tick (time since epoch, in units) of a Unix millisecond, if it lies in this layout.
    pub const fn tick_of_unix_ms(&self, unix_ms: u64) -> Option<u64> {
        if unix_ms < self.epoch_ms {
            return None;
        }
        let tick = (unix_ms - self.epoch_ms) / self.unit_ms;
        if tick > self.max_tick() {
            None
        } else {
            Some(tick)
        }
    }
    /// The Unix millisecond at which a tick starts.
    ///
    /// Total: a tick beyond the layout (as a hand-made [`IdParts`] may hold) saturates at
    /// `u64::MAX` rather than overflowing; every tick the layout holds is exact.
    pub const fn unix_ms_of_tick(&self, tick: u64) -> u64 {
        self.epoch_ms
            .saturating_add(tick.saturating_mul(self.unit_ms))
    }

    /// How far the machine field is shifted left in an ID: the sequence width in Snowflake
    /// order, 0 in Sonyflake order.
    pub const fn machine_shift(&self) -> u32 {
        match self.field_order {
            FieldOrder::TimeNodeSequence => self.sequence_bits as u32,
            FieldOrder::TimeSequenceNode => 0,
        }
    }
    /// How far the datacenter field is shifted left in an ID.
    pub const fn datacenter_shift(&self) -> u32 {
        self.machine_shift() + self.machine_bits as u32
    }
    /// How far the sequence field is shifted left in an ID: 0 in Snowflake order, the worker
    /// fields' width in Sonyflake order.
    pub const fn sequence_shift(&self) -> u32 {
        match self.field_order {
            FieldOrder::TimeNodeSequence => 0,
            FieldOrder::TimeSequenceNode => self.datacenter_bits as u32 + self.machine_bits as u32,
        }
    }
    /// How far the timestamp field is shifted left in an ID: the width of the other three
    /// fields, in either order.
    ///
    /// ```
    /// let layout = snowdrift::Layout::default();
    /// assert_eq!((layout.machine_shift(), layout.datacenter_shift(), layout.timestamp_shift()), (12, 17, 22));
    /// ```
    pub const fn timestamp_shift(&self) -> u32 {
        self.sequence_bits as u32 + self.datacenter_bits as u32 + self.machine_bits as u32
    }

    /// Checks a datacenter and machine pair against the field widths.
    pub fn check_worker(&self, datacenter: u64, machine: u64) -> Result<()> {
        if datacenter > self.max_datacenter() {
            return Err(Error::DatacenterOutOfRange {
                value: datacenter,
                max: self.max_datacenter(),
            });
        }
        if machine > self.max_machine() {
            return Err(Error::MachineOutOfRange {
                value: machine,
                max: self.max_machine(),
            });
        }
        Ok(())
    }

    /// Packs parts into an ID, checking every field's range.
    ///
    /// ```
    /// use snowdrift::{IdParts, Layout};
    /// let layout = Layout::default();
    /// let parts = IdParts { tick: 5, datacenter: 1, machine: 2, sequence: 3 };
    /// let id = layout.compose(parts)?;
    /// assert_eq!(layout.decompose(id)?, parts);
    /// # Ok::<(), snowdrift::Error>(())
    /// ```
    pub fn compose(&self, parts: IdParts) -> Result<Id> {
        if parts.tick > self.max_tick() {
            return Err(Error::TimestampOutOfRange {
                value: parts.tick,
                max: self.max_tick(),
            });
        }
        self.check_worker(parts.datacenter, parts.machine)?;
        if parts.sequence > self.max_sequence() {
            return Err(Error::SequenceOutOfRange {
                value: parts.sequence,
                max: self.max_sequence(),
            });
        }
        Ok(Id::from_u64(
            shl(parts.tick, self.timestamp_shift())
                | shl(parts.datacenter, self.datacenter_shift())
                | shl(parts.machine, self.machine_shift())
                | shl(parts.sequence, self.sequence_shift()),
        ))
    }

    /// Splits an ID into its parts; the exact mirror of [`Layout::compose`].
    ///
    /// An ID with bits set above the layout's width was not made by this layout and is refused.
    pub fn decompose(&self, id: Id) -> Result<IdParts> {
        let raw = id.as_u64();
        let width = self.total_bits();
        let needed = 64 - raw.leading_zeros();
        if needed > width {
            return Err(Error::IdOutOfRange {
                id: raw,
                needed,
                width,
            });
        }
        Ok(IdParts {
            tick: shr(raw, self.timestamp_shift()) & self.max_tick(),
            datacenter: shr(raw, self.datacenter_shift()) & self.max_datacenter(),
            machine: shr(raw, self.machine_shift()) & self.max_machine(),
            sequence: shr(raw, self.sequence_shift()) & self.max_sequence(),
        })
    }
}

/// `(1 << bits) - 1` for 0..=64 bits, without overflow.
const fn mask(bits: u8) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Shift that yields 0 rather than overflowing when every bit is shifted out.
const fn shl(value: u64, by: u32) -> u64 {
    if by >= 64 {
        0
    } else {
        value << by
    }
}

const fn shr(value: u64, by: u32) -> u64 {
    if by >= 64 {
        0
    } else {
        value >> by
    }
}

impl fmt::Display for Layout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}, ",
            self.timestamp_bits, self.datacenter_bits, self.machine_bits, self.sequence_bits,
        )?;
        // The widths are always written time/dc/machine/seq; only a non-default order is named.
        if !self.field_order.is_default() {
            write!(f, "order {}, ", self.field_order)?;
        }
        write!(
            f,
            "epoch {}, unit {} ms",
            crate::format_unix_ms(self.epoch_ms),
            self.unit_ms
        )
    }
}
