//! `snowdrift.IDGenerator`: the design's generator, on the core's lock-free one.
//!
//! # The GIL
//! A call holds the GIL while it issues (a few nanoseconds of atomics) and releases it only
//! when it must wait: when the tick's sequence is used up, or the clock lags the last ID. The
//! generator's state tells that in advance: a single ID waits exactly when the state's next
//! tick is ahead of the clock, so [`issue_one`] reads both (two atomic loads) and releases the
//! GIL only then. Releasing it on every call would cost more than the ID itself, and with
//! several threads the hand-offs would dominate.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;
use snowdrift::{IdBlock, IdGenerator, Layout};

use crate::args::{datacenter_message, int_in_range, machine_message};
use crate::block::PyIdBlock;
use crate::errors::core_error;
use crate::layout::PyLayout;

/// Issues one ID, releasing the GIL only if the call has to wait for the clock.
///
/// Between the check and the reservation the GIL keeps other Python callers out, so the check
/// holds; only a thread that was already waiting without the GIL can move the state in between,
/// and then this call waits at most one tick with the GIL held.
#[inline]
pub(crate) fn issue_one(py: Python<'_>, generator: &IdGenerator) -> Result<u64, snowdrift::Error> {
    let id = if generator.next_tick() > generator.clock_tick() {
        py.detach(|| generator.next_id())
    } else {
        generator.next_id()
    }?;
    Ok(id.as_u64())
}

/// Reserves a block of `count` IDs. A block usually spans ticks and so waits: the GIL is
/// released for the reservation, which costs little beside building `count` integers.
pub(crate) fn issue_block(
    py: Python<'_>,
    generator: &IdGenerator,
    count: &Bound<'_, PyAny>,
) -> PyResult<IdBlock> {
    let max = generator.max_batch();
    let count = int_in_range(count, u64::MAX, || {
        format!("batch size must be between 1 and {max}")
    })?;
    py.detach(|| generator.next_ids(count)).map_err(core_error)
}

/// The block as a list of `int`.
pub(crate) fn block_list<'py>(py: Python<'py>, block: IdBlock) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, block.map(|id| id.as_u64()))
}

/// Thread-safe generator of 64-bit, time-ordered IDs for one (datacenter, machine) slot.
///
/// `IDGenerator(datacenter_id, machine_id, epoch)` as in the design, in its 41/5/5/12 layout,
/// or in any `layout=`. Where the core is stricter than the design:
/// - a clock that steps back never makes an ID go back and never raises (the design raised);
///   the generator keeps its own time, anchored once to the wall clock;
/// - the GIL is released while a call waits for the next millisecond.
///
/// Two generators with the same slot, in two processes, repeat each other's IDs: that is the
/// design's own hazard. Use `snowdrift.claim()` to give each process its own slot.
#[pyclass(frozen, module = "snowdrift", name = "IDGenerator")]
pub struct PyIdGenerator {
    pub(crate) inner: Arc<IdGenerator>,
}

impl PyIdGenerator {
    /// A generator for a slot, validated with the design's messages.
    pub(crate) fn build(layout: Layout, datacenter: u64, machine: u64) -> PyResult<Self> {
        IdGenerator::builder(layout)
            .worker(datacenter, machine)
            .build()
            .map(|generator| PyIdGenerator {
                inner: Arc::new(generator),
            })
            .map_err(core_error)
    }
}

#[pymethods]
impl PyIdGenerator {
    /// `IDGenerator(datacenter_id, machine_id, epoch)`; `layout=` for another bit allocation
    /// (its epoch is replaced by `epoch` when both are given).
    #[new]
    #[pyo3(signature = (datacenter_id, machine_id, epoch=None, *, layout=None))]
    fn py_new(
        datacenter_id: &Bound<'_, PyAny>,
        machine_id: &Bound<'_, PyAny>,
        epoch: Option<&Bound<'_, PyAny>>,
        layout: Option<PyLayout>,
    ) -> PyResult<Self> {
        let layout = PyLayout::resolve(layout, epoch)?;
        let datacenter = int_in_range(datacenter_id, layout.max_datacenter(), || {
            datacenter_message(layout.max_datacenter())
        })?;
        let machine = int_in_range(machine_id, layout.max_machine(), || {
            machine_message(layout.max_machine())
        })?;
        PyIdGenerator::build(layout, datacenter, machine)
    }

    /// The next ID. Waits (without the GIL) when this millisecond's sequence is used up.
    fn generate_id(&self, py: Python<'_>) -> PyResult<u64> {
        issue_one(py, &self.inner).map_err(core_error)
    }

    /// `count` consecutive IDs from one atomic reservation, as a list of `int`.
    fn next_ids<'py>(
        &self,
        py: Python<'py>,
        count: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        block_list(py, issue_block(py, &self.inner, count)?)
    }

    /// `count` consecutive IDs as an `IDBlock`, which makes no Python objects until iterated.
    fn next_block(&self, py: Python<'_>, count: &Bound<'_, PyAny>) -> PyResult<PyIdBlock> {
        Ok(PyIdBlock::new(issue_block(py, &self.inner, count)?))
    }

    /// The datacenter field of every ID made here.
    #[getter]
    fn datacenter_id(&self) -> u64 {
        self.inner.datacenter_id()
    }
    /// The machine field of every ID made here.
    #[getter]
    fn machine_id(&self) -> u64 {
        self.inner.machine_id()
    }
    /// The custom epoch, in Unix milliseconds.
    #[getter]
    fn epoch(&self) -> u64 {
        self.inner.layout().epoch_ms()
    }
    /// The layout.
    #[getter]
    fn layout(&self) -> PyLayout {
        PyLayout::new(self.inner.layout())
    }
    /// Width of the timestamp field.
    #[getter]
    fn timestamp_bits(&self) -> u8 {
        self.inner.layout().timestamp_bits()
    }
    /// Width of the datacenter field.
    #[getter]
    fn datacenter_bits(&self) -> u8 {
        self.inner.layout().datacenter_bits()
    }
    /// Width of the machine field.
    #[getter]
    fn machine_bits(&self) -> u8 {
        self.inner.layout().machine_bits()
    }
    /// Width of the sequence field.
    #[getter]
    fn sequence_bits(&self) -> u8 {
        self.inner.layout().sequence_bits()
    }
    /// The largest datacenter ID.
    #[getter]
    fn max_datacenter_id(&self) -> u64 {
        self.inner.layout().max_datacenter()
    }
    /// The largest machine ID.
    #[getter]
    fn max_machine_id(&self) -> u64 {
        self.inner.layout().max_machine()
    }
    /// The largest sequence number within one millisecond.
    #[getter]
    fn max_sequence(&self) -> u64 {
        self.inner.layout().max_sequence()
    }
    /// How far the datacenter field is shifted left.
    #[getter]
    fn datacenter_shift(&self) -> u32 {
        self.inner.layout().datacenter_shift()
    }
    /// How far the machine field is shifted left.
    #[getter]
    fn machine_shift(&self) -> u32 {
        self.inner.layout().machine_shift()
    }
    /// How far the timestamp field is shifted left.
    #[getter]
    fn timestamp_shift(&self) -> u32 {
        self.inner.layout().timestamp_shift()
    }

    fn __repr__(&self) -> String {
        format!(
            "IDGenerator(datacenter_id={}, machine_id={}, epoch={})",
            self.inner.datacenter_id(),
            self.inner.machine_id(),
            self.inner.layout().epoch_ms()
        )
    }
}
