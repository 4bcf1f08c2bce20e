//! `snowdrift.Layout`: the bit allocation and epoch of an ID space, validated by the core.
//!
//! The design fixes 41/5/5/12 and lets "the bit allocation be adjusted"; this class is that
//! adjustment. Presets (`Layout.preset("twitter")`) and custom widths, epoch and time unit are
//! all validated by the core, whose messages say what to change.

use std::time::Duration;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDelta};
use snowdrift::{Layout, Preset, DEFAULT_EPOCH_MS};

use crate::errors::core_error;
use crate::time::utc_datetime;

/// The bit layout of an ID: field widths from the most significant end, the epoch (Unix ms)
/// and the length of one timestamp tick in ms.
#[pyclass(
    frozen,
    eq,
    hash,
    from_py_object,
    module = "snowdrift",
    name = "Layout"
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PyLayout {
    pub(crate) inner: Layout,
}

impl PyLayout {
    /// Wraps a validated layout.
    pub(crate) fn new(inner: Layout) -> PyLayout {
        PyLayout { inner }
    }

    /// `layout` (the default when absent), with `epoch` replacing its epoch when given.
    pub(crate) fn resolve(
        layout: Option<PyLayout>,
        epoch: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Layout> {
        let base = layout.map_or_else(Layout::default, |l| l.inner);
        let Some(epoch) = epoch else {
            return Ok(base);
        };
        let epoch = crate::args::epoch_ms(epoch)?;
        if epoch == base.epoch_ms() {
            return Ok(base);
        }
        Layout::builder()
            .timestamp_bits(base.timestamp_bits())
            .datacenter_bits(base.datacenter_bits())
            .machine_bits(base.machine_bits())
            .sequence_bits(base.sequence_bits())
            .unit_ms(base.unit_ms())
            .epoch_ms(epoch)
            .build()
            .map_err(core_error)
    }
}

#[pymethods]
impl PyLayout {
    /// A custom layout; the defaults are the design's 41/5/5/12 from 2021-01-01T00:00:00Z.
    #[new]
    #[pyo3(
        signature = (timestamp_bits=41, datacenter_bits=5, machine_bits=5, sequence_bits=12, epoch=DEFAULT_EPOCH_MS as i128, unit_ms=1),
        text_signature = "(timestamp_bits=41, datacenter_bits=5, machine_bits=5, sequence_bits=12, epoch=1609459200000, unit_ms=1)"
    )]
    fn py_new(
        timestamp_bits: i128,
        datacenter_bits: i128,
        machine_bits: i128,
        sequence_bits: i128,
        epoch: i128,
        unit_ms: i128,
    ) -> PyResult<PyLayout> {
        // Widths beyond 64 cannot be meant; within 0..=64 the core judges the combination.
        let width = |value: i128, name: &str| {
            u8::try_from(value)
                .ok()
                .filter(|w| *w <= 64)
                .ok_or_else(|| PyValueError::new_err(format!("{name} must be between 0 and 64")))
        };
        let epoch = u64::try_from(epoch).map_err(|_| {
            PyValueError::new_err(
                "epoch must be Unix milliseconds: an integer from 0 (1970-01-01) up to now",
            )
        })?;
        let unit_ms = u64::try_from(unit_ms).map_err(|_| {
            PyValueError::new_err("unit_ms must be a positive number of milliseconds")
        })?;
        Layout::builder()
            .timestamp_bits(width(timestamp_bits, "timestamp_bits")?)
            .datacenter_bits(width(datacenter_bits, "datacenter_bits")?)
            .machine_bits(width(machine_bits, "machine_bits")?)
            .sequence_bits(width(sequence_bits, "sequence_bits")?)
            .epoch_ms(epoch)
            .unit_ms(unit_ms)
            .build()
            .map(PyLayout::new)
            .map_err(core_error)
    }

    /// A well-known layout by name (see `Layout.presets()`).
    #[staticmethod]
    fn preset(name: &str) -> PyResult<PyLayout> {
        name.parse::<Preset>()
            .map(|preset| PyLayout::new(preset.layout()))
            .map_err(core_error)
    }

    /// The names `Layout.preset` accepts.
    #[staticmethod]
    fn presets() -> Vec<&'static str> {
        Preset::ALL.iter().map(|p| p.name()).collect()
    }

    /// Width of the timestamp field.
    #[getter]
    fn timestamp_bits(&self) -> u8 {
        self.inner.timestamp_bits()
    }
    /// Width of the datacenter field.
    #[getter]
    fn datacenter_bits(&self) -> u8 {
        self.inner.datacenter_bits()
    }
    /// Width of the machine field.
    #[getter]
    fn machine_bits(&self) -> u8 {
        self.inner.machine_bits()
    }
    /// Width of the sequence field.
    #[getter]
    fn sequence_bits(&self) -> u8 {
        self.inner.sequence_bits()
    }
    /// The custom epoch, in Unix milliseconds.
    #[getter]
    fn epoch(&self) -> u64 {
        self.inner.epoch_ms()
    }
    /// Length of one timestamp tick, in milliseconds.
    #[getter]
    fn unit_ms(&self) -> u64 {
        self.inner.unit_ms()
    }
    /// The largest datacenter ID.
    #[getter]
    fn max_datacenter_id(&self) -> u64 {
        self.inner.max_datacenter()
    }
    /// The largest machine ID.
    #[getter]
    fn max_machine_id(&self) -> u64 {
        self.inner.max_machine()
    }
    /// The largest sequence number within one tick.
    #[getter]
    fn max_sequence(&self) -> u64 {
        self.inner.max_sequence()
    }
    /// The largest timestamp, in ticks since the epoch.
    #[getter]
    fn max_timestamp(&self) -> u64 {
        self.inner.max_tick()
    }
    /// How far the machine field is shifted left.
    #[getter]
    fn machine_shift(&self) -> u32 {
        self.inner.machine_shift()
    }
    /// How far the datacenter field is shifted left.
    #[getter]
    fn datacenter_shift(&self) -> u32 {
        self.inner.datacenter_shift()
    }
    /// How far the timestamp field is shifted left.
    #[getter]
    fn timestamp_shift(&self) -> u32 {
        self.inner.timestamp_shift()
    }
    /// Sum of the four widths.
    #[getter]
    fn total_bits(&self) -> u32 {
        self.inner.total_bits()
    }
    /// How many datacenter × machine slots the layout addresses.
    #[getter]
    fn workers(&self) -> u64 {
        self.inner.workers()
    }
    /// The most IDs one worker can make per second: its ceiling.
    #[getter]
    fn ids_per_second_per_worker(&self) -> u64 {
        self.inner.ids_per_second_per_worker()
    }
    /// Whether every ID is a positive signed 64-bit integer (bit 63 always zero).
    #[getter]
    fn keeps_sign_bit_clear(&self) -> bool {
        self.inner.keeps_sign_bit_clear()
    }

    /// How long the layout lasts, from its epoch to its last tick.
    fn lifetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDelta>> {
        let lifetime: Duration = self.inner.lifetime();
        let days = lifetime.as_secs() / 86_400;
        let seconds = lifetime.as_secs() % 86_400;
        PyDelta::new(
            py,
            i32::try_from(days).unwrap_or(i32::MAX),
            seconds as i32,
            lifetime.subsec_micros() as i32,
            true,
        )
    }

    /// When the layout runs out of time: the start of its last tick, timezone-aware UTC.
    fn ends<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        utc_datetime(py, self.inner.end_unix_ms())
    }

    fn __repr__(&self) -> String {
        let l = self.inner;
        format!(
            "Layout(timestamp_bits={}, datacenter_bits={}, machine_bits={}, sequence_bits={}, epoch={}, unit_ms={})",
            l.timestamp_bits(),
            l.datacenter_bits(),
            l.machine_bits(),
            l.sequence_bits(),
            l.epoch_ms(),
            l.unit_ms()
        )
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }
}
