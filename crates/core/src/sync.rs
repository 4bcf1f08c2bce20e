//! Atomics used by the generator and the manual clock, swapped for loom's under `--cfg loom`.
//!
//! Keeping the swap in one place means the code that loom checks is the code that ships: only
//! the atomic types change, plus the one helper below, whose two forms are equivalent under the
//! C++20 memory model and differ only because loom does not model `SeqCst` accesses.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::Arc;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

/// Reads `atomic` right after this thread's `SeqCst` read-modify-write of another atomic: the
/// second half of the store-buffer pattern that [`crate::IdGenerator::fence`] relies on.
///
/// Two threads each write one word and then read the other's; with `SeqCst` on both sides
/// at least one of them sees the other's write. Shipped, this is a `SeqCst` load, which costs
/// nothing beyond a plain load on x86 (the preceding locked instruction already orders it) and
/// is an `ldar` on ARM. loom treats `SeqCst` accesses as `AcqRel` (its README, "Unsupported
/// features"), under which the pattern does not hold, but it does model `SeqCst` fences; so
/// under `--cfg loom` the same guarantee is expressed as a `SeqCst` fence before the load,
/// which the C++20 model gives the same store-buffer guarantee.
#[inline(always)]
pub(crate) fn load_after_rmw(atomic: &AtomicU64) -> u64 {
    #[cfg(loom)]
    loom::sync::atomic::fence(Ordering::SeqCst);
    atomic.load(Ordering::SeqCst)
}
