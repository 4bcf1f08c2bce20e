//! A slot's lock file: an exclusive `flock` held for the life of the process, with the holder's
//! identity written inside so that a refused process can name who holds the slot.
//!
//! The kernel drops the lock when the process dies, even by `kill -9`, so a crashed holder never
//! blocks its slot; the high-water mark, not the lock, is what keeps its successor's IDs apart.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::CoordError;
use crate::identity::HolderIdentity;

/// An acquired slot lock; dropping it releases the slot.
#[derive(Debug)]
pub(crate) struct SlotLock {
    file: File,
    path: PathBuf,
}

/// What happened when trying a slot.
pub(crate) enum Attempt {
    /// We hold it now.
    Acquired(SlotLock),
    /// Someone else does; their self-description (or what the file said).
    Held(String),
}

impl SlotLock {
    /// Tries to take the lock at `path` without blocking.
    pub(crate) fn try_acquire(path: &Path, me: &HolderIdentity) -> Result<Attempt, CoordError> {
        let io = |source| CoordError::StateDir {
            path: path.to_path_buf(),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str::<HolderIdentity>(&text)
                    .map(|id| id.to_string())
                    .unwrap_or_else(|_| {
                        "another process (it has not written its identity yet)".to_string()
                    });
                return Ok(Attempt::Held(holder));
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        let identity = serde_json::to_vec(me).map_err(|e| CoordError::Config(e.to_string()))?;
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(&identity).map_err(io)?;
        file.sync_data().map_err(io)?;
        Ok(Attempt::Acquired(SlotLock {
            file,
            path: path.to_path_buf(),
        }))
    }

    /// The lock file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Another descriptor of the lock's open file. `flock` belongs to the open file, so the
    /// slot stays locked while any descriptor of it is open: a write of the slot's mark holds
    /// one until it has finished, and a holder released (or dropped) while a write of its is
    /// still running cannot let another process in under that write.
    pub(crate) fn share(&self) -> Result<File, CoordError> {
        self.file
            .try_clone()
            .map_err(|source| CoordError::StateDir {
                path: self.path.clone(),
                source,
            })
    }

    /// Releases the lock: closes this descriptor. The slot is free once no write still holds
    /// a shared descriptor ([`SlotLock::share`]); an explicit `LOCK_UN` would free it at once,
    /// under such a write, so it is never used.
    pub(crate) fn release(self) {
        drop(self.file);
    }
}
