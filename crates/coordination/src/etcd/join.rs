//! Joining a cluster through its record at `/snowdrift/<cluster>/layout` (see `record.rs`):
//!
//! 1. **Create it if absent**, in one create-if-absent transaction: this pins the layout, and
//!    draws a fresh incarnation created now, with the larger of this node's bounds and those it
//!    remembers (a node that saw a longer window carries it into the record it re-creates).
//! 2. Otherwise **read and check it**: the layout must match (two layouts can produce the same
//!    bits, so a cluster never mixes them), and the record is judged against this node's
//!    memory of the store (`reset.rs`): a detected reset is logged as an error and counted.
//! 3. A record that may predate the reset (restored with the data) is **replaced** with a fresh
//!    incarnation in a compare-and-swap on its mod revision; if another node replaced it first,
//!    the new one is judged in turn.
//! 4. The node's window and skew must be within the record's bounds.
//!
//! The record's genesis bound then goes into the floor of the claim that follows.

use std::sync::Mutex;

use etcd_client::{Client, Compare, CompareOp, KeyValue, Txn, TxnOp, TxnOpResponse, TxnResponse};
use snowdrift::{Layout, LayoutSpec};

use super::client::{call, record_write};
use super::keys::Keys;
use super::options::EtcdOptions;
use super::record::{check_bounds, Bounds, ClusterRecord};
use super::reset::{assess, lock, Action, Observation, StoreMemory};
use crate::error::CoordError;
use crate::floor::Genesis;
use crate::identity::unix_ms_now;
use crate::local::layout_pin::describe;

/// How many times a record that keeps changing under the node is looked at again before the
/// claim fails (and is retried later, with back-off).
const ATTEMPTS: usize = 5;

/// The record this node joined, and the genesis bound its claims get.
#[derive(Debug, Clone)]
pub(crate) struct Joined {
    pub(crate) record: ClusterRecord,
    pub(crate) genesis: Option<Genesis>,
}

/// Joins the cluster: creates, checks or replaces its record, updating `memory`.
pub(crate) async fn join(
    client: &Client,
    keys: &Keys,
    options: &EtcdOptions,
    layout: &Layout,
    own: Bounds,
    memory: &Mutex<StoreMemory>,
) -> Result<Joined, CoordError> {
    let key = keys.layout();
    let spec = LayoutSpec::from(*layout);
    for _ in 0..ATTEMPTS {
        let remembered = lock(memory).clone();
        let carried = remembered.bounds.map_or(own, |b| b.max(own));
        let fresh = ClusterRecord::create(spec, unix_ms_now(), carried)?;
        let txn = Txn::new()
            .when([Compare::version(key.as_str(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.as_str(), fresh.encode()?, None)])
            .or_else([TxnOp::get(key.as_str(), None)]);
        let mut kv = client.kv_client();
        let answer = call("layout pin", options.request_timeout, kv.txn(txn)).await?;
        let (cluster_id, revision) = header(&answer)?;
        let (record, mod_revision) = if answer.succeeded() {
            record_write("layout_pin");
            (fresh, revision)
        } else {
            // The key was there a moment ago; if it vanished meanwhile, look again.
            let Some(kv) = first_kv(&answer) else {
                continue;
            };
            (decode(&key, &kv)?, kv.mod_revision())
        };
        if record.layout != spec {
            return Err(CoordError::LayoutMismatch {
                place: format!("etcd key {key}"),
                pinned: describe(&record.layout),
                configured: format!(
                    "{} (differs in {})",
                    describe(&spec),
                    differences(&record.layout, &spec)
                ),
            });
        }
        let seen = Observation {
            cluster_id,
            revision,
            record: &record,
            created_now: answer.succeeded(),
        };
        let skew = record
            .bounds
            .map_or(carried, |b| b.max(carried))
            .max_clock_skew_ms;
        let verdict = assess(&remembered, &seen, skew);
        let (record, revision) = match verdict.action {
            Action::Join => (record, revision),
            Action::Replace => {
                let bounds = record.bounds.map_or(carried, |b| b.max(carried));
                let replacement = ClusterRecord::create(spec, unix_ms_now(), bounds)?;
                let txn = Txn::new()
                    .when([Compare::mod_revision(
                        key.as_str(),
                        CompareOp::Equal,
                        mod_revision,
                    )])
                    .and_then([TxnOp::put(key.as_str(), replacement.encode()?, None)]);
                let answer = call(
                    "cluster record replace",
                    options.request_timeout,
                    kv.txn(txn),
                )
                .await?;
                if !answer.succeeded() {
                    // Another node replaced it first; judge its record in turn.
                    continue;
                }
                record_write("record_replace");
                tracing::warn!(
                    key = %key,
                    old_incarnation = record.describe_incarnation(),
                    new_incarnation = replacement.describe_incarnation(),
                    "replaced a cluster record that may predate the reset: every claim in the next window plus clock skew waits for a fresh floor"
                );
                let (_, revision) = header(&answer)?;
                (replacement, revision)
            }
        };
        if let Some((reason, detail)) = &verdict.reset {
            metrics::counter!("snowdrift_store_resets_total", "reason" => reason.label())
                .increment(1);
            tracing::error!(
                cluster = %options.cluster,
                reason = reason.label(),
                %detail,
                incarnation = record.describe_incarnation(),
                "etcd was reset, rolled back or replaced while this node ran; claims wait for a floor above anything the lost state allowed"
            );
        } else if answer.succeeded() {
            tracing::info!(
                key = %key,
                layout = %describe(&spec),
                incarnation = record.describe_incarnation(),
                "created the cluster record (layout pinned)"
            );
        }
        let genesis = {
            let mut memory = lock(memory);
            memory.join(&record, cluster_id, revision, unix_ms_now(), verdict.reset);
            record.genesis(memory.bounds)
        };
        check_bounds(&record, own, &key)?;
        return Ok(Joined { record, genesis });
    }
    Err(CoordError::Backend(format!(
        "the cluster record {key} kept changing while this node read it; retrying"
    )))
}

/// `(cluster ID, revision)` of an answer.
pub(crate) fn header(answer: &TxnResponse) -> Result<(u64, i64), CoordError> {
    answer
        .header()
        .map(|h| (h.cluster_id(), h.revision()))
        .ok_or_else(|| CoordError::Backend("etcd answered without a header".into()))
}

fn first_kv(answer: &TxnResponse) -> Option<KeyValue> {
    answer.op_responses().into_iter().find_map(|op| match op {
        TxnOpResponse::Get(get) => get.kvs().first().cloned(),
        _ => None,
    })
}

fn decode(key: &str, kv: &KeyValue) -> Result<ClusterRecord, CoordError> {
    ClusterRecord::decode(kv.value()).map_err(|reason| CoordError::CorruptState {
        path: key.into(),
        reason,
    })
}

/// The names of the fields in which two layouts differ, e.g. "epoch, machine bits".
pub(crate) fn differences(pinned: &LayoutSpec, configured: &LayoutSpec) -> String {
    let fields = [
        (
            "timestamp bits",
            pinned.timestamp_bits == configured.timestamp_bits,
        ),
        (
            "datacenter bits",
            pinned.datacenter_bits == configured.datacenter_bits,
        ),
        (
            "machine bits",
            pinned.machine_bits == configured.machine_bits,
        ),
        (
            "sequence bits",
            pinned.sequence_bits == configured.sequence_bits,
        ),
        ("epoch", pinned.epoch_ms == configured.epoch_ms),
        ("time unit", pinned.unit_ms == configured.unit_ms),
        ("field order", pinned.field_order == configured.field_order),
    ];
    let differing: Vec<&str> = fields
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect();
    differing.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_field() {
        let default = LayoutSpec::from(Layout::default());
        let twitter = LayoutSpec::from(snowdrift::Preset::Twitter.layout());
        assert_eq!(differences(&default, &twitter), "epoch");
        let wide = LayoutSpec {
            machine_bits: 2,
            sequence_bits: 15,
            ..default
        };
        assert_eq!(differences(&default, &wide), "machine bits, sequence bits");
        let reordered = LayoutSpec {
            field_order: snowdrift::FieldOrder::TimeSequenceNode,
            ..default
        };
        assert_eq!(differences(&default, &reordered), "field order");
    }
}
