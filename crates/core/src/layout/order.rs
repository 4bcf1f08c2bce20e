//! [`FieldOrder`]: where the sequence sits relative to the worker fields.
//!
//! Snowflake and most of its descendants put the worker (datacenter, machine) above the
//! sequence; Sonyflake puts the sequence above the machine. The timestamp is the top field in
//! both, so IDs of one worker sort by time either way; within a tick, Snowflake order keeps one
//! worker's IDs consecutive while Sonyflake order interleaves the workers.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// The order of the fields below the timestamp, from the most significant end.
///
/// ```
/// use snowdrift::{FieldOrder, IdParts, Layout};
/// let sonyflake = Layout::builder()
///     .timestamp_bits(39).datacenter_bits(0).machine_bits(16).sequence_bits(8)
///     .unit_ms(10).field_order(FieldOrder::TimeSequenceNode).build()?;
/// assert_eq!((sonyflake.sequence_shift(), sonyflake.machine_shift()), (16, 0));
/// let parts = IdParts { tick: 1, datacenter: 0, machine: 7, sequence: 2 };
/// assert_eq!(sonyflake.compose(parts)?.as_u64(), (1 << 24) | (2 << 16) | 7);
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
pub enum FieldOrder {
    /// `| timestamp | datacenter | machine | sequence |`: Twitter's Snowflake and Snowdrift's
    /// default.
    #[default]
    TimeNodeSequence,
    /// `| timestamp | sequence | datacenter | machine |`: Sonyflake's order.
    TimeSequenceNode,
}

impl FieldOrder {
    /// Both orders, the default first.
    pub const ALL: [FieldOrder; 2] = [FieldOrder::TimeNodeSequence, FieldOrder::TimeSequenceNode];

    /// The order's name, as accepted by `FromStr` and written in config files.
    pub const fn name(self) -> &'static str {
        match self {
            FieldOrder::TimeNodeSequence => "time_node_sequence",
            FieldOrder::TimeSequenceNode => "time_sequence_node",
        }
    }

    /// Whether this is the default order (config files and layout pins leave it out then).
    pub fn is_default(&self) -> bool {
        *self == FieldOrder::default()
    }
}

impl fmt::Display for FieldOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FieldOrder {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().replace('-', "_");
        FieldOrder::ALL
            .into_iter()
            .find(|order| order.name().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| Error::UnknownName {
                kind: "field order",
                name: s.chars().take(64).collect(),
                expected: "time_node_sequence, time_sequence_node",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bad_ones_are_named() {
        for order in FieldOrder::ALL {
            assert_eq!(order.name().parse::<FieldOrder>().ok(), Some(order));
        }
        assert_eq!(
            "Time-Sequence-Node".parse::<FieldOrder>().ok(),
            Some(FieldOrder::TimeSequenceNode)
        );
        let err = "sequence_first"
            .parse::<FieldOrder>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("sequence_first"), "{err}");
        assert!(err.contains("time_sequence_node"), "{err}");
    }
}
