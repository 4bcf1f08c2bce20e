//! Closing, in a forked child, the descriptors of the parent's slot lock.
//!
//! A child made by `fork()` inherits every descriptor, among them the one on which its parent
//! holds the slot's `flock`. The lock belongs to the open file, which both now reference: while
//! the child keeps its copy open the slot stays locked, even after the parent is gone, so a
//! restarted parent could not take its slot back until every child exited. The child never uses
//! the descriptor (its inherited session is leaked, never run again), so it closes it here; a
//! `close` never releases a lock that another descriptor still holds, so the parent keeps it.
//! (An `unlock` would release it for both, which is why the inherited session is never
//! dropped normally.)

use std::fs;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Closes every descriptor of this process that refers to the file at `path`; returns how many.
///
/// Linux only (it reads `/proc/self/fd`); elsewhere it closes nothing and the child keeps the
/// parent's slot locked until it exits, which costs a slot, never uniqueness.
pub(crate) fn close_descriptors_of(path: &Path) -> usize {
    let Ok(target) = fs::metadata(path) else {
        return 0;
    };
    let Ok(entries) = fs::read_dir("/proc/self/fd") else {
        return 0;
    };
    // Collect first: the directory's own descriptor is open while it is read.
    let fds: Vec<i32> = entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    let mut closed = 0;
    for fd in fds {
        // `metadata` follows the /proc link to the open file itself.
        let Ok(meta) = fs::metadata(format!("/proc/self/fd/{fd}")) else {
            continue;
        };
        if meta.dev() == target.dev() && meta.ino() == target.ino() {
            // SAFETY: `fd` is open in this process (listed in /proc/self/fd a moment ago, and
            // nothing else runs: this is the fork handler of a single-threaded child) and refers
            // to the slot's lock file. Its owner is the inherited session's `File`, which is
            // leaked and never used or dropped again, so nothing else will use or close `fd`.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
            closed += 1;
        }
    }
    closed
}
