//! Reading Python arguments the way the design validates them.
//!
//! The design checks a worker's fields with `if not 0 <= value <= max: raise ValueError(...)`,
//! so any `int` is accepted here and anything out of range, negative or huge alike, gets the
//! design's message. A value that is not an integer at all stays a `TypeError`.

use pyo3::exceptions::{PyOverflowError, PyValueError};
use pyo3::prelude::*;

/// Reads `value` as an integer in `0..=max`, or raises `ValueError(message())`.
pub(crate) fn int_in_range(
    value: &Bound<'_, PyAny>,
    max: u64,
    message: impl FnOnce() -> String,
) -> PyResult<u64> {
    match value.extract::<i128>() {
        Ok(number) if (0..=i128::from(max)).contains(&number) => Ok(number as u64),
        Ok(_) => Err(PyValueError::new_err(message())),
        Err(e) if e.is_instance_of::<PyOverflowError>(value.py()) => {
            Err(PyValueError::new_err(message()))
        }
        Err(e) => Err(e),
    }
}

/// The design's message for a datacenter ID out of range.
pub(crate) fn datacenter_message(max: u64) -> String {
    format!("Datacenter ID must be between 0 and {max}")
}

/// The design's message for a machine ID out of range.
pub(crate) fn machine_message(max: u64) -> String {
    format!("Machine ID must be between 0 and {max}")
}

/// An epoch in Unix milliseconds: a non-negative integer (the core then refuses the future).
pub(crate) fn epoch_ms(value: &Bound<'_, PyAny>) -> PyResult<u64> {
    int_in_range(value, u64::MAX, || {
        "epoch must be Unix milliseconds: an integer from 0 (1970-01-01) up to now".to_string()
    })
}
