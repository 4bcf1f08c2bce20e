//! The exception hierarchy of the Python module, and how Rust errors become Python exceptions.
//!
//! `snowdrift.Error` (a subclass of the design's plain `Exception`) is the base of everything
//! that says "no ID can be issued now"; `ClockBehind`, `LayoutExhausted` and `SlotsExhausted`
//! below it are the conditions a caller may want to handle apart. Bad arguments are the
//! design's `ValueError`, with the core's message. Each `snowdrift.Error` carries the core's
//! stable `code` (`"clock_behind"`, `"fenced"`, ...) for programs that log or route on it.

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::PyTypeInfo;
use snowdrift_coordination::CoordError;

pyo3::create_exception!(
    snowdrift,
    Error,
    PyException,
    "Base of the errors that mean no ID can be issued now (bad arguments are ValueError)."
);
pyo3::create_exception!(
    snowdrift,
    ClockBehind,
    Error,
    "The clock is behind the last issued or persisted time by more than the generator may wait."
);
pyo3::create_exception!(
    snowdrift,
    LayoutExhausted,
    Error,
    "The layout's timestamp field is full: no later time can be encoded."
);
pyo3::create_exception!(
    snowdrift,
    SlotsExhausted,
    Error,
    "Every machine slot of the datacenter is taken in the state directory."
);

/// An exception of type `T` with `message`, and the stable `code` attribute.
fn with_code<T: PyTypeInfo>(message: String, code: &'static str) -> PyErr {
    Python::attach(|py| {
        let err = PyErr::new::<T, _>(message);
        // Setting an attribute on a fresh exception instance cannot fail in practice; if it
        // did, the exception without its code is still the right exception.
        let _ = err.value(py).setattr("code", code);
        err
    })
}

/// Maps a core error: validation errors are `ValueError`, refusals are `snowdrift.Error`s.
pub(crate) fn core_error(error: snowdrift::Error) -> PyErr {
    use snowdrift::Error as E;
    let code = error.code();
    let message = error.to_string();
    match error {
        E::ClockBehind { .. } => with_code::<ClockBehind>(message, code),
        E::LayoutExhausted { .. } => with_code::<LayoutExhausted>(message, code),
        E::CeilingReached { .. } | E::Fenced => with_code::<Error>(message, code),
        // Everything else is about an argument: a layout, a worker, an ID, a batch size.
        _ => PyValueError::new_err(message),
    }
}

/// Maps a coordination error from `claim()`.
pub(crate) fn coord_error(error: CoordError) -> PyErr {
    let code = error.code();
    match error {
        CoordError::Generator(inner) => core_error(inner),
        CoordError::Config(_) | CoordError::Setting { .. } => {
            PyValueError::new_err(error.to_string())
        }
        CoordError::SlotsExhausted { .. } => with_code::<SlotsExhausted>(error.to_string(), code),
        CoordError::ClockBehindHighWater { .. } => {
            with_code::<ClockBehind>(error.to_string(), code)
        }
        _ => with_code::<Error>(error.to_string(), code),
    }
}

/// A `snowdrift.Error` raised by the bindings themselves (a closed claim, for instance).
pub(crate) fn error(message: impl Into<String>, code: &'static str) -> PyErr {
    with_code::<Error>(message.into(), code)
}
