//! `snowdrift.decode()` and `snowdrift.encode()`: an ID's parts under a layout, and its text
//! forms (decimal, fixed-width base32, base62 and hex, as the service writes them).

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyString};
use snowdrift::{Encoding, Id, Layout};

use crate::errors::core_error;
use crate::layout::PyLayout;
use crate::time::utc_datetime;

/// An ID's fields under a layout, and when it was made.
#[pyclass(frozen, module = "snowdrift", name = "IDParts")]
pub struct PyIdParts {
    id: u64,
    layout: Layout,
    parts: snowdrift::IdParts,
}

#[pymethods]
impl PyIdParts {
    /// The ID.
    #[getter]
    fn id(&self) -> u64 {
        self.id
    }
    /// The timestamp field: ticks since the layout's epoch.
    #[getter]
    fn timestamp(&self) -> u64 {
        self.parts.tick
    }
    /// The datacenter field.
    #[getter]
    fn datacenter_id(&self) -> u64 {
        self.parts.datacenter
    }
    /// The machine field.
    #[getter]
    fn machine_id(&self) -> u64 {
        self.parts.machine
    }
    /// The sequence field.
    #[getter]
    fn sequence(&self) -> u64 {
        self.parts.sequence
    }
    /// When the ID was made (the start of its tick), in Unix milliseconds.
    #[getter]
    fn unix_ms(&self) -> u64 {
        self.parts.unix_ms(&self.layout)
    }
    /// When the ID was made (the start of its tick), timezone-aware UTC.
    #[getter]
    fn datetime<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDateTime>> {
        utc_datetime(py, self.parts.unix_ms(&self.layout))
    }
    /// The layout it was decoded with.
    #[getter]
    fn layout(&self) -> PyLayout {
        PyLayout::new(self.layout)
    }
    fn __repr__(&self) -> String {
        format!(
            "IDParts(id={}, timestamp={}, datacenter_id={}, machine_id={}, sequence={}, time='{}')",
            self.id,
            self.parts.tick,
            self.parts.datacenter,
            self.parts.machine,
            self.parts.sequence,
            self.parts.rfc3339(&self.layout)
        )
    }
}

/// A layout argument: a `Layout`, a preset name, or `None` for the default.
fn layout_arg(layout: Option<&Bound<'_, PyAny>>) -> PyResult<Layout> {
    let Some(layout) = layout else {
        return Ok(Layout::default());
    };
    if let Ok(layout) = layout.cast::<PyLayout>() {
        return Ok(layout.get().inner);
    }
    if let Ok(name) = layout.cast::<PyString>() {
        return name
            .to_cow()?
            .parse::<snowdrift::Preset>()
            .map(|p| p.layout())
            .map_err(core_error);
    }
    Err(PyValueError::new_err(
        "layout must be a snowdrift.Layout or a preset name",
    ))
}

/// An ID argument: an `int`, or text in the named encoding (or any, detected).
fn id_arg(id: &Bound<'_, PyAny>, encoding: Option<&str>) -> PyResult<Id> {
    if let Ok(text) = id.cast::<PyString>() {
        let text = text.to_cow()?;
        return match encoding {
            None => Encoding::detect(&text),
            Some(name) => name
                .parse::<Encoding>()
                .and_then(|encoding| encoding.decode(text.trim())),
        }
        .map_err(core_error);
    }
    crate::args::int_in_range(id, u64::MAX, || {
        "an ID is an integer from 0 to 2**64 - 1".to_string()
    })
    .map(Id::from_u64)
}

/// The parts of `id` (an `int`, or a decimal, base32, base62 or hex string) under `layout`.
#[pyfunction]
#[pyo3(signature = (id, layout=None, encoding=None))]
pub fn decode(
    id: &Bound<'_, PyAny>,
    layout: Option<&Bound<'_, PyAny>>,
    encoding: Option<&str>,
) -> PyResult<PyIdParts> {
    let layout = layout_arg(layout)?;
    let id = id_arg(id, encoding)?;
    let parts = layout.decompose(id).map_err(core_error)?;
    Ok(PyIdParts {
        id: id.as_u64(),
        layout,
        parts,
    })
}

/// `id` as text: `decimal`, or the fixed-width `base32`, `base62` or `hex` that sort like the
/// number.
#[pyfunction]
#[pyo3(signature = (id, encoding="base32"))]
pub fn encode(id: &Bound<'_, PyAny>, encoding: &str) -> PyResult<String> {
    let encoding = encoding.parse::<Encoding>().map_err(core_error)?;
    Ok(encoding.encode(id_arg(id, None)?))
}
