//! Test hooks in the state directory's writers (feature `test-support` only): a hook can stall
//! a high-water write, the way a slow or hung disk does, and the directories made durable are
//! recorded. The tests of `tests/local_persist.rs` use them to show that a late write never
//! lands under a newer mark; nothing in a production build calls them.
//!
//! Hooks are keyed by a directory, so tests running in parallel in one process only see the
//! writes under their own state directory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Called on the writing thread before a mark file is written: the file and the tick.
type WriteHook = Arc<dyn Fn(&Path, u64) + Send + Sync>;

struct Hooks {
    next_id: u64,
    writes: Vec<(u64, PathBuf, WriteHook)>,
    /// Directories fsynced, in order.
    synced_dirs: Vec<PathBuf>,
}

static HOOKS: Mutex<Hooks> = Mutex::new(Hooks {
    next_id: 0,
    writes: Vec::new(),
    synced_dirs: Vec::new(),
});

fn hooks() -> MutexGuard<'static, Hooks> {
    // Plain data; a panicking test hook cannot leave it torn.
    HOOKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the write hooks installed for a directory above `path` (outside the registry's lock,
/// so a hook may sleep).
pub(crate) fn before_mark_write(path: &Path, tick: u64) {
    let matching: Vec<WriteHook> = hooks()
        .writes
        .iter()
        .filter(|(_, dir, _)| path.starts_with(dir))
        .map(|(_, _, hook)| Arc::clone(hook))
        .collect();
    for hook in matching {
        hook(path, tick);
    }
}

/// Records that `dir` was fsynced.
pub(crate) fn synced_dir(dir: &Path) {
    hooks().synced_dirs.push(dir.to_path_buf());
}

/// A hook on every high-water write under a directory, removed when dropped.
///
/// ```
/// use std::time::Duration;
/// use snowdrift_coordination::testing::MarkWriteHook;
///
/// let dir = tempfile::tempdir()?;
/// // Every mark written under `dir` waits 10 ms first, like a slow disk.
/// let _slow = MarkWriteHook::install(dir.path(), |_file, _tick| {
///     std::thread::sleep(Duration::from_millis(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct MarkWriteHook {
    id: u64,
}

impl MarkWriteHook {
    /// Calls `hook(file, tick)` on the writing thread before each mark file under `dir` is
    /// written (window extensions and the clean-shutdown lowering alike). It may sleep.
    pub fn install(dir: &Path, hook: impl Fn(&Path, u64) + Send + Sync + 'static) -> MarkWriteHook {
        let mut hooks = hooks();
        let id = hooks.next_id;
        hooks.next_id += 1;
        hooks.writes.push((id, dir.to_path_buf(), Arc::new(hook)));
        MarkWriteHook { id }
    }
}

impl Drop for MarkWriteHook {
    fn drop(&mut self) {
        hooks().writes.retain(|(id, _, _)| *id != self.id);
    }
}

/// The directories fsynced so far that are `dir` or lie under it, in order: which
/// directories the state directory's writers made durable.
pub fn synced_dirs_under(dir: &Path) -> Vec<PathBuf> {
    hooks()
        .synced_dirs
        .iter()
        .filter(|synced| synced.starts_with(dir))
        .cloned()
        .collect()
}
