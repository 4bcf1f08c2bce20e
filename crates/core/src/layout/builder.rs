//! [`LayoutBuilder`]: a layout set field by field from the default, validated when built.

use super::{FieldOrder, Layout, LayoutSpec};
use crate::error::Result;

/// Builds a [`Layout`], validating it in [`LayoutBuilder::build`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LayoutBuilder {
    spec: LayoutSpec,
}

impl Default for LayoutBuilder {
    fn default() -> Self {
        LayoutBuilder {
            spec: LayoutSpec::from(Layout::default()),
        }
    }
}

impl LayoutBuilder {
    /// Width of the timestamp field (at least 32).
    pub fn timestamp_bits(mut self, bits: u8) -> Self {
        self.spec.timestamp_bits = bits;
        self
    }
    /// Width of the datacenter field (may be 0).
    pub fn datacenter_bits(mut self, bits: u8) -> Self {
        self.spec.datacenter_bits = bits;
        self
    }
    /// Width of the machine field (may be 0).
    pub fn machine_bits(mut self, bits: u8) -> Self {
        self.spec.machine_bits = bits;
        self
    }
    /// Width of the sequence field (may be 0).
    pub fn sequence_bits(mut self, bits: u8) -> Self {
        self.spec.sequence_bits = bits;
        self
    }
    /// The custom epoch, in Unix milliseconds; it must not lie in the future.
    pub fn epoch_ms(mut self, epoch_ms: u64) -> Self {
        self.spec.epoch_ms = epoch_ms;
        self
    }
    /// Length of one tick in milliseconds: 1 (default) up to 1000; Sonyflake uses 10.
    pub fn unit_ms(mut self, unit_ms: u64) -> Self {
        self.spec.unit_ms = unit_ms;
        self
    }
    /// Where the sequence sits relative to the worker fields (default: below them, as in
    /// Snowflake; Sonyflake puts it above).
    pub fn field_order(mut self, order: FieldOrder) -> Self {
        self.spec.field_order = order;
        self
    }
    /// Validates against the current wall-clock time.
    pub fn build(self) -> Result<Layout> {
        self.spec.validate()
    }
    /// Validates against a given "now" in Unix milliseconds (for tests and replays).
    pub fn build_at(self, now_unix_ms: u64) -> Result<Layout> {
        self.spec.validate_at(now_unix_ms)
    }
}
