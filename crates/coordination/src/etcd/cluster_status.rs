//! `snowdrift cluster status`: every slot of a cluster that is held or has ever been used,
//! with its holder, its lease and its persisted high-water mark, from one consistent read; the
//! cluster record (incarnation, age); and warnings when the store looks reset: holders that
//! detected a reset, holders that joined another incarnation, a record younger than a holder.

use std::collections::BTreeSet;
use std::time::{Duration, UNIX_EPOCH};

use etcd_client::Client;
use serde::Serialize;
use snowdrift::Layout;

use super::client::{call, connect};
use super::keys::Keys;
use super::options::EtcdOptions;
use super::record::ClusterRecord;
use super::snapshot::{self, Snapshot};
use crate::error::CoordError;
use crate::identity::{unix_ms_now, HolderIdentity};
use crate::local::layout_pin::describe;

/// A record created this long after a holder's process started was created while it ran.
const RECREATED_MARGIN_MS: u64 = 10_000;

/// A cluster as `cluster status` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterStatus {
    /// The cluster name.
    pub cluster: String,
    /// The pinned layout, described ("41/5/5/12 epoch … ms unit 1 ms"), if any node joined.
    pub layout: Option<String>,
    /// The cluster record, if any node joined and it can be read.
    pub record: Option<RecordReport>,
    /// Slots that are held or have a mark, by datacenter then machine.
    pub slots: Vec<SlotReport>,
    /// Signs that etcd was reset, rolled back or replaced while nodes ran, one sentence each.
    pub warnings: Vec<String>,
}

/// The cluster record.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordReport {
    /// Its incarnation (`None`: a legacy record, a bare layout).
    pub incarnation: Option<String>,
    /// When it was created, by its creator's clock (Unix ms; `None` for a legacy record).
    pub created_unix_ms: Option<u64>,
    /// How long ago, by this machine's clock.
    pub age_seconds: Option<f64>,
    /// The longest window it allows, in ms.
    pub window_ms: Option<u64>,
    /// The clock skew it allows, in ms.
    pub max_clock_skew_ms: Option<u64>,
}

/// One slot.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    let client = connect(options).await?;
    read_status(&client, options).await
}

/// [`cluster_status`] over a client already connected (the node's `/v1/cluster` keeps one).
pub(crate) async fn read_status(
    client: &Client,
    options: &EtcdOptions,
) -> Result<ClusterStatus, CoordError> {
    let keys = Keys::new(&options.cluster)?;
    let snapshot = snapshot::read(client, &keys, options).await?;
    let layout = match &snapshot.record {
        Some(Ok(record)) => Some((
            describe(&record.layout),
            Layout::try_from(record.layout).ok(),
        )),
        Some(Err(raw)) => Some((format!("unreadable: {raw}"), None)),
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
    let record = snapshot
        .record
        .as_ref()
        .and_then(|r| r.as_ref().ok())
        .map(|r| report(r, unix_ms_now()));
    Ok(ClusterStatus {
        cluster: options.cluster.clone(),
        layout: layout.map(|(text, _)| text),
        warnings: warnings(&snapshot, &reports),
        record,
        slots: reports,
    })
}

fn report(record: &ClusterRecord, now_unix_ms: u64) -> RecordReport {
    let created = record.incarnation.as_ref().map(|_| record.created_unix_ms);
    RecordReport {
        incarnation: record.incarnation.clone(),
        created_unix_ms: created,
        age_seconds: created.map(|c| (now_unix_ms as f64 - c as f64) / 1000.0),
        window_ms: record.bounds.map(|b| b.window_ms),
        max_clock_skew_ms: record.bounds.map(|b| b.max_clock_skew_ms),
    }
}

/// What looks like a reset: holders that detected one, holders on another incarnation, and a
/// record created well after a holder's process started.
fn warnings(snapshot: &Snapshot, slots: &[SlotReport]) -> Vec<String> {
    let record = snapshot.record.as_ref().and_then(|r| r.as_ref().ok());
    let mut warnings = Vec::new();
    for slot in slots {
        let Some(holder) = &slot.holder else { continue };
        let who = format!(
            "datacenter {} machine {}: pid {} on {}",
            slot.datacenter, slot.machine, holder.pid, holder.host
        );
        if holder.store_resets > 0 {
            warnings.push(format!(
                "{who} detected {} store reset(s) since it started (etcd lost its data, was \
                 rolled back or was replaced); its log and /v1/info say which",
                holder.store_resets
            ));
        }
        let Some(record) = record else { continue };
        if holder.incarnation.is_some() && holder.incarnation != record.incarnation {
            warnings.push(format!(
                "{who} joined incarnation {}, but the cluster record is {}: the record was \
                 re-created after it claimed (a reset it has not noticed yet?)",
                holder.incarnation.as_deref().unwrap_or("legacy"),
                record.describe_incarnation()
            ));
        }
        if record.incarnation.is_some()
            && record.created_unix_ms > holder.started_unix_ms.saturating_add(RECREATED_MARGIN_MS)
        {
            warnings.push(format!(
                "{who} started at {} but the cluster record (incarnation {}) was created at {}: \
                 the record was created again while that node ran, so the store was reset",
                rfc3339(holder.started_unix_ms),
                record.describe_incarnation(),
                rfc3339(record.created_unix_ms)
            ));
        }
    }
    warnings
}

/// The last millisecond RFC 3339 (four-digit years) can write: 9999-12-31T23:59:59.999Z.
const LAST_RFC3339_MS: u64 = 253_402_300_799_999;

/// A time read from etcd as RFC 3339, or as raw milliseconds past year 9999: the values come
/// from the store, and formatting must not fail on any of them.
fn rfc3339(unix_ms: u64) -> String {
    if unix_ms > LAST_RFC3339_MS {
        return format!("unix ms {unix_ms}");
    }
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(unix_ms)).to_string()
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
        if let Some(record) = &self.record {
            match (&record.incarnation, record.created_unix_ms) {
                (Some(incarnation), Some(created)) => writeln!(
                    f,
                    "record: incarnation {incarnation}, created {} ({:.0} s ago), windows up to \
                     {} ms, clock skew up to {} ms",
                    rfc3339(created),
                    record.age_seconds.unwrap_or_default(),
                    record.window_ms.unwrap_or_default(),
                    record.max_clock_skew_ms.unwrap_or_default()
                )?,
                _ => writeln!(
                    f,
                    "record: legacy (a bare layout, no incarnation or creation time)"
                )?,
            }
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
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
                (Some(tick), Some(ms), _) => format!("{tick} ({})", rfc3339(ms)),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_formats() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(LAST_RFC3339_MS), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(u64::MAX), format!("unix ms {}", u64::MAX));
    }
}
