//! The `snowdrift._snowdrift` extension module: the user's design (`IDGenerator`,
//! `Datacenter`, `IDSystem`) on the lock-free Rust core, layouts and decoding, and `claim()`,
//! which gives each process its own slot in a `snowdrift serve` state directory.
//!
//! The pure-Python package `snowdrift` (in `python/`) re-exports everything here and carries
//! the type stubs. Each file holds one concern: `args.rs` reads arguments with the design's
//! messages, `errors.rs` maps errors to the exception hierarchy; `generator.rs`, `block.rs`,
//! `model.rs`, `layout.rs` and `decode.rs` are the classes; `claim.rs`, `session.rs` and
//! `inherited.rs` hold the slots.

mod args;
mod block;
mod claim;
mod decode;
mod errors;
mod generator;
mod inherited;
mod layout;
mod model;
mod session;
mod time;

use pyo3::prelude::*;

/// The module. Importing it also registers the fork and exit handlers of [`claim`].
#[pymodule]
fn _snowdrift(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<generator::PyIdGenerator>()?;
    m.add_class::<block::PyIdBlock>()?;
    m.add_class::<block::PyIdBlockIter>()?;
    m.add_class::<model::PyDatacenter>()?;
    m.add_class::<model::PyIdSystem>()?;
    m.add_class::<layout::PyLayout>()?;
    m.add_class::<decode::PyIdParts>()?;
    m.add_class::<claim::PyClaimedGenerator>()?;
    m.add_function(wrap_pyfunction!(decode::decode, m)?)?;
    m.add_function(wrap_pyfunction!(decode::encode, m)?)?;
    m.add_function(wrap_pyfunction!(claim::claim, m)?)?;
    m.add_function(wrap_pyfunction!(claim::_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(claim::_close_all, m)?)?;
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add("ClockBehind", py.get_type::<errors::ClockBehind>())?;
    m.add("LayoutExhausted", py.get_type::<errors::LayoutExhausted>())?;
    m.add("SlotsExhausted", py.get_type::<errors::SlotsExhausted>())?;
    m.add("DEFAULT_EPOCH", snowdrift::DEFAULT_EPOCH_MS)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;

    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("after_in_child", m.getattr("_after_fork_in_child")?)?;
    py.import("os")?
        .getattr("register_at_fork")?
        .call((), Some(&kwargs))?;
    py.import("atexit")?
        .getattr("register")?
        .call1((m.getattr("_close_all")?,))?;
    Ok(())
}
