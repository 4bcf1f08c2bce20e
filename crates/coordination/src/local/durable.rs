//! Crash-safe file replacement: write a temporary file, fsync it, rename it over the target,
//! then fsync the directory so that the rename itself survives a power cut.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;

use crate::error::CoordError;

/// Replaces `path` with `bytes` atomically and durably.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<(), CoordError> {
    let io = |source| CoordError::StateDir {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    write_synced(&tmp, bytes).map_err(io)?;
    fs::rename(&tmp, path).map_err(io)?;
    sync_parent(path)
}

/// Creates `path` with `bytes` only if it does not exist yet; returns whether it was created.
/// A hard link is atomic "create if absent", so two processes racing cannot both win.
pub(crate) fn create_file_once(path: &Path, bytes: &[u8]) -> Result<bool, CoordError> {
    let io = |source| CoordError::StateDir {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    write_synced(&tmp, bytes).map_err(io)?;
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

fn sync_parent(path: &Path) -> Result<(), CoordError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|source| CoordError::StateDir {
            path: dir.to_path_buf(),
            source,
        })
}
