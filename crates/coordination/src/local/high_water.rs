//! A slot's persisted high-water mark: the highest tick any holder of the slot may have used.
//!
//! The file is replaced atomically and fsynced (file and directory) before the generator's
//! ceiling is raised to it, so after any crash the next holder starts strictly above every ID
//! that could have been issued. An unreadable file stops start-up; it is never reset.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::durable;
use crate::error::CoordError;
use crate::identity::unix_ms_now;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    /// The mark, in ticks since the layout's epoch.
    high_water_tick: u64,
    /// When it was written, for operators.
    written_unix_ms: u64,
}

/// The high-water file of one slot.
#[derive(Debug, Clone)]
pub(crate) struct HighWaterFile {
    path: PathBuf,
}

impl HighWaterFile {
    pub(crate) fn new(path: PathBuf) -> HighWaterFile {
        HighWaterFile { path }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The persisted mark, or `None` if the slot was never used.
    pub(crate) fn read(&self) -> Result<Option<u64>, CoordError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(CoordError::StateDir {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        decode(&self.path, &bytes).map(Some)
    }

    /// Makes a mark of at least `tick` durable and returns the mark now on disk. The file never
    /// goes down here: a mark already at or above `tick` (written by a write whose answer was
    /// lost) is made durable again and returned as it is. Blocking.
    pub(crate) fn raise(&self, tick: u64) -> Result<u64, CoordError> {
        match self.read()? {
            Some(current) if current >= tick => {
                durable::sync_file(&self.path)?;
                Ok(current)
            }
            _ => self.write(tick).map(|()| tick),
        }
    }

    /// At a clean shutdown: replaces the mark with `bound` if the file still holds `expected`,
    /// the mark this holder last made durable. Returns whether it did. Blocking.
    pub(crate) fn lower(&self, expected: u64, bound: u64) -> Result<bool, CoordError> {
        if self.read()? != Some(expected) {
            return Ok(false);
        }
        self.write(bound).map(|()| true)
    }

    /// Removes what crashed writes of this file left behind. Only while holding the slot.
    pub(crate) fn remove_leftovers(&self) {
        durable::remove_leftovers(&self.path);
    }

    /// Durably records `tick` as the mark, whatever the file held.
    fn write(&self, tick: u64) -> Result<(), CoordError> {
        let bytes = encode(tick, unix_ms_now())?;
        #[cfg(feature = "test-support")]
        super::hooks::before_mark_write(&self.path, tick);
        durable::replace_file(&self.path, &bytes)
    }
}

/// The mark in the bytes of the file at `path`; anything but a record of this shape is
/// corrupt (named by `path`).
pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<u64, CoordError> {
    let record: Record = serde_json::from_slice(bytes).map_err(|e| CoordError::CorruptState {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(record.high_water_tick)
}

/// The bytes of a file that records `tick`, written at `written_unix_ms`.
pub(crate) fn encode(tick: u64, written_unix_ms: u64) -> Result<Vec<u8>, CoordError> {
    let record = Record {
        high_water_tick: tick,
        written_unix_ms,
    };
    serde_json::to_vec(&record).map_err(|e| CoordError::Config(e.to_string()))
}
