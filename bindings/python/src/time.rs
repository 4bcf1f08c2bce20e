//! Unix milliseconds as timezone-aware `datetime`s, exactly (no float on the way).

use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDelta, PyTzInfo};

/// `datetime(1970, 1, 1, tzinfo=timezone.utc) + timedelta(milliseconds=unix_ms)`.
///
/// Raises `OverflowError` past the year 9999, where Python's `datetime` ends (a layout with a
/// very wide timestamp can end later than that).
pub(crate) fn utc_datetime(py: Python<'_>, unix_ms: u64) -> PyResult<Bound<'_, PyDateTime>> {
    let utc = PyTzInfo::utc(py)?.to_owned();
    let epoch = PyDateTime::new(py, 1970, 1, 1, 0, 0, 0, 0, Some(&utc))?;
    let days = unix_ms / 86_400_000;
    let rest_ms = unix_ms % 86_400_000;
    let days = i32::try_from(days).map_err(|_| {
        pyo3::exceptions::PyOverflowError::new_err(format!(
            "{unix_ms} Unix ms is past the dates Python's datetime can hold"
        ))
    })?;
    let delta = PyDelta::new(
        py,
        days,
        (rest_ms / 1000) as i32,
        ((rest_ms % 1000) * 1000) as i32,
        false,
    )?;
    Ok(epoch.call_method1("__add__", (delta,))?.cast_into()?)
}
