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
        let record: Record =
            serde_json::from_slice(&bytes).map_err(|e| CoordError::CorruptState {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        Ok(Some(record.high_water_tick))
    }

    /// Durably records `tick` as the mark.
    pub(crate) fn write(&self, tick: u64) -> Result<(), CoordError> {
        let record = Record {
            high_water_tick: tick,
            written_unix_ms: unix_ms_now(),
        };
        let bytes = serde_json::to_vec(&record).map_err(|e| CoordError::Config(e.to_string()))?;
        durable::replace_file(&self.path, &bytes)
    }
}
