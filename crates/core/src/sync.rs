//! Atomics used by the generator and the manual clock, swapped for loom's under `--cfg loom`.
//!
//! Keeping the swap in one place means the code that loom checks is byte-for-byte the code that
//! ships: only the atomic types change.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
