//! The design's object model: `Datacenter` (a list of workers) and `IDSystem` (a list of
//! datacenters), under the design's names, arguments and messages.
//!
//! Both are in-process only: two `IDSystem`s in two processes hand out the same slots and so
//! the same IDs. That is the design's own hazard; `snowdrift.claim()` is the cure.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyList;
use snowdrift::Layout;

use crate::args::{datacenter_message, int_in_range, machine_message};
use crate::generator::PyIdGenerator;
use crate::layout::PyLayout;

/// Reads a number of workers or datacenters the way the design builds them: more than the
/// field holds fails on the first ID out of range, with the design's message for that ID.
/// The design accepted zero (and made an empty list); the core is stricter and refuses it.
fn how_many(
    value: &Bound<'_, PyAny>,
    what: &str,
    max_id: u64,
    too_many: fn(u64) -> String,
) -> PyResult<u64> {
    let count = int_in_range(value, u64::MAX, || format!("{what} must be at least 1"))?;
    if count == 0 {
        return Err(PyValueError::new_err(format!("{what} must be at least 1")));
    }
    if count > max_id + 1 {
        return Err(PyValueError::new_err(too_many(max_id)));
    }
    Ok(count)
}

/// Builds the workers `0..count` of datacenter `datacenter_id`.
fn workers(
    py: Python<'_>,
    layout: Layout,
    datacenter_id: u64,
    count: u64,
) -> PyResult<Vec<Py<PyIdGenerator>>> {
    (0..count)
        .map(|machine| Py::new(py, PyIdGenerator::build(layout, datacenter_id, machine)?))
        .collect()
}

/// The generators of one datacenter, one per machine: `Datacenter(datacenter_id, workers, epoch)`.
///
/// In-process only: see `IDSystem`. The design accepted `workers=0`; this refuses it.
#[pyclass(frozen, module = "snowdrift", name = "Datacenter")]
pub struct PyDatacenter {
    datacenter_id: u64,
    layout: Layout,
    workers: Vec<Py<PyIdGenerator>>,
}

impl PyDatacenter {
    fn build(py: Python<'_>, layout: Layout, datacenter_id: u64, count: u64) -> PyResult<Self> {
        Ok(PyDatacenter {
            datacenter_id,
            layout,
            workers: workers(py, layout, datacenter_id, count)?,
        })
    }
}

#[pymethods]
impl PyDatacenter {
    /// `Datacenter(datacenter_id, workers, epoch)`: machines `0..workers`.
    #[new]
    #[pyo3(signature = (datacenter_id, workers, epoch=None, *, layout=None))]
    fn py_new(
        py: Python<'_>,
        datacenter_id: &Bound<'_, PyAny>,
        workers: &Bound<'_, PyAny>,
        epoch: Option<&Bound<'_, PyAny>>,
        layout: Option<PyLayout>,
    ) -> PyResult<Self> {
        let layout = PyLayout::resolve(layout, epoch)?;
        let datacenter = int_in_range(datacenter_id, layout.max_datacenter(), || {
            datacenter_message(layout.max_datacenter())
        })?;
        let count = how_many(workers, "workers", layout.max_machine(), machine_message)?;
        PyDatacenter::build(py, layout, datacenter, count)
    }

    /// The worker of `machine_id`; `ValueError("Invalid machine ID")` if there is none.
    fn get_worker(
        &self,
        py: Python<'_>,
        machine_id: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyIdGenerator>> {
        let last = self.workers.len() as u64 - 1;
        let index = int_in_range(machine_id, last, || "Invalid machine ID".to_string())?;
        Ok(self.workers[index as usize].clone_ref(py))
    }

    /// The workers, machine 0 first.
    #[getter]
    fn workers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.workers.iter().map(|w| w.clone_ref(py)))
    }
    /// This datacenter's ID.
    #[getter]
    fn datacenter_id(&self) -> u64 {
        self.datacenter_id
    }
    /// The custom epoch, in Unix milliseconds.
    #[getter]
    fn epoch(&self) -> u64 {
        self.layout.epoch_ms()
    }
    /// The layout shared by every worker.
    #[getter]
    fn layout(&self) -> PyLayout {
        PyLayout::new(self.layout)
    }
    fn __len__(&self) -> usize {
        self.workers.len()
    }
    fn __repr__(&self) -> String {
        format!(
            "Datacenter(datacenter_id={}, workers={}, epoch={})",
            self.datacenter_id,
            self.workers.len(),
            self.layout.epoch_ms()
        )
    }
}

/// Every datacenter of a system: `IDSystem(datacenters, workers_per_datacenter, epoch)`.
///
/// **In-process only.** Every slot it hands out is a plain `IDGenerator`; a second `IDSystem`
/// in another process hands out the same slots and repeats the same IDs (the design's hazard).
/// For several processes, give each its own slot with `snowdrift.claim(data_dir)`. The design
/// accepted zero datacenters or workers; this refuses them.
#[pyclass(frozen, module = "snowdrift", name = "IDSystem")]
pub struct PyIdSystem {
    layout: Layout,
    datacenters: Vec<Py<PyDatacenter>>,
}

#[pymethods]
impl PyIdSystem {
    /// `IDSystem(datacenters, workers_per_datacenter, epoch)`.
    #[new]
    #[pyo3(signature = (datacenters, workers_per_datacenter, epoch=None, *, layout=None))]
    fn py_new(
        py: Python<'_>,
        datacenters: &Bound<'_, PyAny>,
        workers_per_datacenter: &Bound<'_, PyAny>,
        epoch: Option<&Bound<'_, PyAny>>,
        layout: Option<PyLayout>,
    ) -> PyResult<Self> {
        let layout = PyLayout::resolve(layout, epoch)?;
        let count = how_many(
            datacenters,
            "datacenters",
            layout.max_datacenter(),
            datacenter_message,
        )?;
        let workers = how_many(
            workers_per_datacenter,
            "workers_per_datacenter",
            layout.max_machine(),
            machine_message,
        )?;
        let datacenters = (0..count)
            .map(|dc| Py::new(py, PyDatacenter::build(py, layout, dc, workers)?))
            .collect::<PyResult<Vec<_>>>()?;
        Ok(PyIdSystem {
            layout,
            datacenters,
        })
    }

    /// The generator of `machine_id` in `datacenter_id`; `ValueError("Invalid datacenter ID")`
    /// or `ValueError("Invalid machine ID")` if there is none.
    fn get_generator(
        &self,
        py: Python<'_>,
        datacenter_id: &Bound<'_, PyAny>,
        machine_id: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyIdGenerator>> {
        let last = self.datacenters.len() as u64 - 1;
        let index = int_in_range(datacenter_id, last, || "Invalid datacenter ID".to_string())?;
        self.datacenters[index as usize]
            .get()
            .get_worker(py, machine_id)
    }

    /// The datacenters, datacenter 0 first.
    #[getter]
    fn datacenters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.datacenters.iter().map(|d| d.clone_ref(py)))
    }
    /// The custom epoch, in Unix milliseconds.
    #[getter]
    fn epoch(&self) -> u64 {
        self.layout.epoch_ms()
    }
    /// The layout shared by every generator.
    #[getter]
    fn layout(&self) -> PyLayout {
        PyLayout::new(self.layout)
    }
    fn __repr__(&self) -> String {
        let workers = self
            .datacenters
            .first()
            .map_or(0, |d| d.get().workers.len());
        format!(
            "IDSystem(datacenters={}, workers_per_datacenter={}, epoch={})",
            self.datacenters.len(),
            workers,
            self.layout.epoch_ms()
        )
    }
}
