//! Who holds a slot: written into the slot's lock file or etcd key so that a refused process,
//! or an operator running `cluster status`, can see the holder.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A description of the process holding a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HolderIdentity {
    /// Host name.
    pub host: String,
    /// Process ID.
    pub pid: u32,
    /// When the process started holding, in Unix milliseconds.
    pub started_unix_ms: u64,
    /// The holder's clock when it wrote this record, in Unix milliseconds (for skew checks).
    #[serde(default)]
    pub clock_unix_ms: u64,
    /// Snowdrift version.
    pub version: String,
    /// Addresses the holder serves on (as configured; may be empty).
    #[serde(default)]
    pub addresses: Vec<String>,
    /// The incarnation of the cluster record the holder joined (etcd), so that `cluster
    /// status` can show holders that joined another one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incarnation: Option<String>,
    /// How many resets of the store this process has detected (etcd).
    #[serde(default)]
    pub store_resets: u64,
}

impl HolderIdentity {
    /// Describes this process.
    pub fn of_this_process(addresses: Vec<String>) -> HolderIdentity {
        let now = unix_ms_now();
        HolderIdentity {
            host: gethostname::gethostname().to_string_lossy().into_owned(),
            pid: std::process::id(),
            started_unix_ms: now,
            clock_unix_ms: now,
            version: env!("CARGO_PKG_VERSION").to_string(),
            addresses,
            incarnation: None,
            store_resets: 0,
        }
    }
}

impl std::fmt::Display for HolderIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on {} (snowdrift {}, since {})",
            self.pid, self.host, self.version, self.started_unix_ms
        )?;
        if !self.addresses.is_empty() {
            write!(f, " serving {}", self.addresses.join(", "))?;
        }
        Ok(())
    }
}

pub(crate) fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
