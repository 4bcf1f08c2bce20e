//! The layout pin: the first process to use a state directory records its layout and epoch in
//! `layout.json`, and every later process must match it. Two layouts can produce the same bits,
//! so mixing them in one ID space could repeat IDs.

use std::path::Path;

use snowdrift::{Layout, LayoutSpec};

use super::durable;
use crate::error::CoordError;

const FILE: &str = "layout.json";

/// Pins `layout` in `dir`, or checks it against the existing pin.
pub(crate) fn pin_or_check(dir: &Path, layout: &Layout) -> Result<(), CoordError> {
    let path = dir.join(FILE);
    let spec = LayoutSpec::from(*layout);
    let bytes = serde_json::to_vec_pretty(&spec).map_err(|e| CoordError::Config(e.to_string()))?;
    if !path.exists() && durable::create_file_once(&path, &bytes)? {
        return Ok(());
    }
    let text = std::fs::read(&path).map_err(|source| CoordError::StateDir {
        path: path.clone(),
        source,
    })?;
    let pinned: LayoutSpec =
        serde_json::from_slice(&text).map_err(|e| CoordError::CorruptState {
            path: path.clone(),
            reason: e.to_string(),
        })?;
    if pinned != spec {
        return Err(CoordError::LayoutMismatch {
            place: path.display().to_string(),
            pinned: describe(&pinned),
            configured: describe(&spec),
        });
    }
    Ok(())
}

/// "41/5/5/12 epoch 1609459200000 ms unit 1 ms": every field that matters for a mismatch.
pub(crate) fn describe(spec: &LayoutSpec) -> String {
    format!(
        "{}/{}/{}/{} epoch {} ms unit {} ms",
        spec.timestamp_bits,
        spec.datacenter_bits,
        spec.machine_bits,
        spec.sequence_bits,
        spec.epoch_ms,
        spec.unit_ms
    )
}
