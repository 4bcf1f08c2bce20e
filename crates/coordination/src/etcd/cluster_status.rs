//! `snowdrift cluster status`: every slot of a cluster that is held or has ever been used,
//! with its holder, its lease and its persisted high-water mark, from one consistent read.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;
use snowdrift::Layout;

use super::client::{call, connect};
use super::keys::Keys;
use super::options::EtcdOptions;
use super::snapshot;
use crate::error::CoordError;
use crate::identity::HolderIdentity;
use crate::local::layout_pin::describe;

/// A cluster as `cluster status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterStatus {
    /// The cluster name.
    pub cluster: String,
    /// The pinned layout, described ("41/5/5/12 epoch … ms unit 1 ms"), if any node joined.
    pub layout: Option<String>,
    /// Slots that are held or have a mark, by datacenter then machine.
    pub slots: Vec<SlotReport>,
}

/// One slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotReport {
    /// The datacenter field.
    pub datacenter: u64,
    /// The machine field.
    pub machine: u64,
    /// Who holds it now, if anyone (and if the value could be read).
    pub holder: Option<HolderIdentity>,
    /// The raw slot value when it is not a holder identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder_raw: Option<String>,
    /// The holder's lease ID.
    pub lease_id: Option<i64>,
    /// Seconds left on the lease as etcd sees it.
    pub lease_ttl_seconds: Option<i64>,
    /// The persisted high-water tick.
    pub high_water_tick: Option<u64>,
    /// The mark as Unix milliseconds (when the layout is known).
    pub high_water_unix_ms: Option<u64>,
    /// Why the mark could not be read, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub high_water_error: Option<String>,
}

/// Reads the status of `options.cluster` (the datacenter and slot settings are ignored).
pub async fn cluster_status(options: &EtcdOptions) -> Result<ClusterStatus, CoordError> {
    let keys = Keys::new(&options.cluster)?;
    let client = connect(options).await?;
    let snapshot = snapshot::read(&client, &keys, options).await?;
    let layout = match &snapshot.layout {
        Some(Ok(spec)) => Some((describe(spec), Layout::try_from(*spec).ok())),
        Some(Err(raw)) => Some((format!("unreadable: {raw:?}"), None)),
        None => None,
    };
    let slots: BTreeSet<(u64, u64)> = snapshot
        .slots
        .keys()
        .chain(snapshot.marks.keys())
        .copied()
        .collect();
    let mut reports = Vec::with_capacity(slots.len());
    for slot in slots {
        let record = snapshot.slots.get(&slot);
        let mark = snapshot.marks.get(&slot);
        let lease_id = record.map(|r| r.lease).filter(|lease| *lease != 0);
        let lease_ttl_seconds = match lease_id {
            Some(id) => {
                let mut leases = client.lease_client();
                call(
                    "lease ttl",
                    options.request_timeout,
                    leases.time_to_live(id, None),
                )
                .await
                .ok()
                .map(|answer| answer.ttl())
            }
            None => None,
        };
        let tick = mark.and_then(|m| m.as_ref().ok()).copied();
        let to_unix_ms = |tick: u64| {
            let layout = layout.as_ref().and_then(|(_, layout)| *layout)?;
            layout
                .epoch_ms()
                .checked_add(tick.checked_mul(layout.unit_ms())?)
        };
        reports.push(SlotReport {
            datacenter: slot.0,
            machine: slot.1,
            holder: record.and_then(|r| r.holder.as_ref().ok()).cloned(),
            holder_raw: record.and_then(|r| r.holder.as_ref().err()).cloned(),
            lease_id,
            lease_ttl_seconds,
            high_water_tick: tick,
            high_water_unix_ms: tick.and_then(to_unix_ms),
            high_water_error: mark.and_then(|m| m.as_ref().err()).cloned(),
        });
    }
    Ok(ClusterStatus {
        cluster: options.cluster.clone(),
        layout: layout.map(|(text, _)| text),
        slots: reports,
    })
}

impl std::fmt::Display for ClusterStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let held = self.slots.iter().filter(|s| s.lease_id.is_some()).count();
        writeln!(
            f,
            "cluster {:?}: layout {}; {held} slot(s) held, {} known",
            self.cluster,
            self.layout
                .as_deref()
                .unwrap_or("not pinned yet (no node has joined)"),
            self.slots.len()
        )?;
        if self.slots.is_empty() {
            return Ok(());
        }
        writeln!(
            f,
            "{:>3} {:>7}  {:<5} {:<17} {:>6}  {:<42} holder",
            "dc", "machine", "state", "lease", "ttl", "high-water tick (UTC)"
        )?;
        for slot in &self.slots {
            let state = if slot.lease_id.is_some() {
                "held"
            } else {
                "free"
            };
            let lease = slot.lease_id.map_or("-".into(), |id| format!("{id:x}"));
            let ttl = slot
                .lease_ttl_seconds
                .map_or("-".into(), |ttl| format!("{ttl}s"));
            let mark = match (
                slot.high_water_tick,
                slot.high_water_unix_ms,
                &slot.high_water_error,
            ) {
                (Some(tick), Some(ms), _) => format!(
                    "{tick} ({})",
                    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms))
                ),
                (Some(tick), None, _) => tick.to_string(),
                (None, _, Some(error)) => format!("unreadable: {error}"),
                (None, _, None) => "-".into(),
            };
            let holder = match (&slot.holder, &slot.holder_raw) {
                (Some(identity), _) => identity.to_string(),
                (None, Some(raw)) => format!("unknown value {raw:?}"),
                (None, None) => "-".into(),
            };
            writeln!(
                f,
                "{:>3} {:>7}  {:<5} {:<17} {:>6}  {:<42} {holder}",
                slot.datacenter, slot.machine, state, lease, ttl, mark
            )?;
        }
        Ok(())
    }
}
