//! `snowdrift.IDBlock`: consecutive IDs from one reservation, made into `int`s only on demand.

use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::PyList;
use snowdrift::IdBlock;

/// A block of consecutive IDs reserved by one atomic operation.
///
/// It has a length, `first` and `last`, and iterates in increasing order; no Python `int` is
/// made until one is asked for (`list(block)` or `block.tolist()` makes them all).
#[pyclass(frozen, module = "snowdrift", name = "IDBlock")]
pub struct PyIdBlock {
    block: IdBlock,
}

impl PyIdBlock {
    /// Wraps a reserved block.
    pub(crate) fn new(block: IdBlock) -> PyIdBlock {
        PyIdBlock { block }
    }
}

#[pymethods]
impl PyIdBlock {
    /// The first ID.
    #[getter]
    fn first(&self) -> u64 {
        self.block.first().as_u64()
    }
    /// The last ID.
    #[getter]
    fn last(&self) -> u64 {
        self.block.last_id().as_u64()
    }
    /// Every ID, as a list of `int`.
    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        crate::generator::block_list(py, self.block.clone())
    }
    fn __len__(&self) -> usize {
        self.block.len()
    }
    fn __iter__(&self) -> PyIdBlockIter {
        PyIdBlockIter {
            rest: Mutex::new(self.block.clone()),
        }
    }
    fn __repr__(&self) -> String {
        format!(
            "IDBlock(len={}, first={}, last={})",
            self.block.len(),
            self.block.first(),
            self.block.last_id()
        )
    }
}

/// An iterator over an `IDBlock`.
#[pyclass(frozen, module = "snowdrift", name = "IDBlockIterator")]
pub struct PyIdBlockIter {
    // A mutex, not `&mut self`: iterators may be shared between threads, and the lock is
    // uncontended in the common case.
    rest: Mutex<IdBlock>,
}

#[pymethods]
impl PyIdBlockIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }
    fn __next__(&self) -> Option<u64> {
        let mut rest = self.rest.lock().unwrap_or_else(|p| p.into_inner());
        rest.next().map(|id| id.as_u64())
    }
    fn __length_hint__(&self) -> usize {
        self.rest.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
