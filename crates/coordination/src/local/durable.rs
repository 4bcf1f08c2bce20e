//! Crash-safe file replacement: write a temporary file, fsync it, rename it over the target,
//! then fsync the directory so that the rename itself survives a power cut.
//!
//! Every temporary file has a name no other write can use (the process ID and a counter), so
//! two writes can never meet in one temporary file: the worst a late write can do is rename a
//! complete file of its own, and the slot's single writer (`mod.rs`) keeps even that in order.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::CoordError;

/// Replaces `path` with `bytes` atomically and durably.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), CoordError> {
    let io = |source| CoordError::StateDir {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temporary_name(path);
    let written = write_synced(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    sync_parent(path)
}

/// Creates `path` with `bytes` only if it does not exist yet; returns whether it was created.
/// A hard link is atomic "create if absent", so two processes racing cannot both win.
pub(crate) fn create_file_once(path: &Path, bytes: &[u8]) -> Result<bool, CoordError> {
    let io = |source| CoordError::StateDir {
        path: path.to_path_buf(),
        source,
    };
    let tmp = temporary_name(path);
    if let Err(e) = write_synced(&tmp, bytes) {
        let _ = fs::remove_file(&tmp);
        return Err(io(e));
    }
    let created = match fs::hard_link(&tmp, path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(io(e));
        }
    };
    fs::remove_file(&tmp).map_err(io)?;
    sync_parent(path)?;
    Ok(created)
}

/// Creates `dir` and any missing parents, making each new directory durable: its entry lives
/// in its parent, so the parent is fsynced after it is created (a directory's own fsync does
/// not cover its name).
pub(crate) fn create_dirs(dir: &Path) -> Result<(), CoordError> {
    let io = |path: &Path, source| CoordError::StateDir {
        path: path.to_path_buf(),
        source,
    };
    // The missing directories, deepest first.
    let mut missing = Vec::new();
    let mut at = dir;
    loop {
        match fs::metadata(at) {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing.push(at);
                match at.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => at = parent,
                    _ => break,
                }
            }
            Err(e) => return Err(io(at, e)),
        }
    }
    for new in missing.into_iter().rev() {
        match fs::create_dir(new) {
            Ok(()) => {}
            // Another process created it meanwhile; its parent is synced below all the same.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io(new, e)),
        }
        sync_parent(new)?;
    }
    Ok(())
}

/// Removes temporary files a crashed write of `path` left behind. Call it only while holding
/// the right to write `path` (the slot's lock), so no live write's file is removed.
pub(crate) fn remove_leftovers(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let mut prefix = name.to_os_string();
    prefix.push(".tmp.");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        if entry_name
            .as_encoded_bytes()
            .starts_with(prefix.as_encoded_bytes())
        {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// `<file>.tmp.<pid>.<n>`: unique among every write of every process on the host.
fn temporary_name(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().map(OsString::from).unwrap_or_default();
    name.push(format!(".tmp.{}.{n}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `bytes` to `path` (created or truncated) and waits until they are on disk.
fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes `path`'s own bytes, and its name in its directory, durable (for a file that is
/// already in place, written by an earlier write whose answer was lost).
pub(crate) fn sync_file(path: &Path) -> Result<(), CoordError> {
    File::open(path)
        .and_then(|file| file.sync_all())
        .map_err(|source| CoordError::StateDir {
            path: path.to_path_buf(),
            source,
        })?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> Result<(), CoordError> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    #[cfg(feature = "test-support")]
    super::hooks::synced_dir(dir);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| CoordError::StateDir {
            path: dir.to_path_buf(),
            source,
        })
}
