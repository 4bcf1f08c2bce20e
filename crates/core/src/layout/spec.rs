//! [`LayoutSpec`]: the plain, unvalidated form of a layout, and the rules that validate it.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{FieldOrder, Layout, MAX_UNIT_MS, MIN_TIMESTAMP_BITS};
use crate::error::{Error, Result};
use crate::time_format::MAX_DATE_UNIX_MS;

/// The plain, unvalidated form of a layout, as written in a config file.
///
/// ```
/// use snowdrift::{Layout, LayoutSpec};
/// let spec = LayoutSpec { timestamp_bits: 41, datacenter_bits: 5, machine_bits: 5,
///     sequence_bits: 12, epoch_ms: 1_609_459_200_000, unit_ms: 1,
///     field_order: Default::default() };
/// assert_eq!(Layout::try_from(spec)?, Layout::default());
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct LayoutSpec {
    /// Width of the timestamp field.
    pub timestamp_bits: u8,
    /// Width of the datacenter field.
    pub datacenter_bits: u8,
    /// Width of the machine field.
    pub machine_bits: u8,
    /// Width of the sequence field.
    pub sequence_bits: u8,
    /// The custom epoch, in Unix milliseconds.
    pub epoch_ms: u64,
    /// Length of one tick in milliseconds.
    #[cfg_attr(feature = "serde", serde(default = "default_unit_ms"))]
    pub unit_ms: u64,
    /// Where the sequence sits relative to the worker fields. Left out when it is the default,
    /// so layouts pinned before it existed read and compare as before.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "FieldOrder::is_default")
    )]
    pub field_order: FieldOrder,
}

#[cfg(feature = "serde")]
fn default_unit_ms() -> u64 {
    1
}

impl LayoutSpec {
    /// Validates against the current wall-clock time.
    pub fn validate(&self) -> Result<Layout> {
        self.validate_at(unix_ms_now())
    }

    /// Validates against a given "now" in Unix milliseconds.
    pub fn validate_at(&self, now_unix_ms: u64) -> Result<Layout> {
        let total = self.timestamp_bits as u32
            + self.datacenter_bits as u32
            + self.machine_bits as u32
            + self.sequence_bits as u32;
        if total > 64 {
            return Err(Error::LayoutTooWide {
                total,
                timestamp: self.timestamp_bits,
                datacenter: self.datacenter_bits,
                machine: self.machine_bits,
                sequence: self.sequence_bits,
            });
        }
        if self.timestamp_bits < MIN_TIMESTAMP_BITS {
            return Err(Error::TimestampTooNarrow {
                bits: self.timestamp_bits,
                min: MIN_TIMESTAMP_BITS,
            });
        }
        if self.unit_ms == 0 || self.unit_ms > MAX_UNIT_MS {
            return Err(Error::InvalidTimeUnit {
                unit_ms: self.unit_ms,
                max: MAX_UNIT_MS,
            });
        }
        if self.epoch_ms > now_unix_ms {
            return Err(Error::EpochInFuture {
                epoch_ms: self.epoch_ms,
                ahead_ms: self.epoch_ms - now_unix_ms,
            });
        }
        let layout = Layout {
            timestamp_bits: self.timestamp_bits,
            datacenter_bits: self.datacenter_bits,
            machine_bits: self.machine_bits,
            sequence_bits: self.sequence_bits,
            epoch_ms: self.epoch_ms,
            unit_ms: self.unit_ms,
            field_order: self.field_order,
        };
        // Every time the layout holds must be writable as a date (invariant 8: decode and
        // `/v1/info` format them), so its last tick may not pass the last date the core
        // writes. An ended layout is accepted: decoding old IDs is a legitimate use, and it is
        // the generator that refuses to issue from one.
        if end_unix_ms(self.epoch_ms, self.timestamp_bits, self.unit_ms)
            > u128::from(MAX_DATE_UNIX_MS)
        {
            return Err(Error::LayoutOutlastsCalendar {
                timestamp_bits: self.timestamp_bits,
                unit_ms: self.unit_ms,
                max_timestamp_bits: (MIN_TIMESTAMP_BITS..self.timestamp_bits)
                    .rev()
                    .find(|&bits| {
                        end_unix_ms(self.epoch_ms, bits, self.unit_ms)
                            <= u128::from(MAX_DATE_UNIX_MS)
                    })
                    .unwrap_or(0),
            });
        }
        Ok(layout)
    }
}

/// The Unix millisecond of a layout's last tick, without overflow for any widths.
fn end_unix_ms(epoch_ms: u64, timestamp_bits: u8, unit_ms: u64) -> u128 {
    let max_tick = (1u128 << timestamp_bits.min(64)) - 1;
    u128::from(epoch_ms) + max_tick * u128::from(unit_ms)
}

impl From<Layout> for LayoutSpec {
    fn from(layout: Layout) -> Self {
        LayoutSpec {
            timestamp_bits: layout.timestamp_bits,
            datacenter_bits: layout.datacenter_bits,
            machine_bits: layout.machine_bits,
            sequence_bits: layout.sequence_bits,
            epoch_ms: layout.epoch_ms,
            unit_ms: layout.unit_ms,
            field_order: layout.field_order,
        }
    }
}

impl TryFrom<LayoutSpec> for Layout {
    type Error = Error;
    fn try_from(spec: LayoutSpec) -> Result<Layout> {
        spec.validate()
    }
}

fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
