//! One consistent read of a cluster: the cluster record, every slot's holder and every
//! high-water mark, taken in a single transaction so they all come from the same revision.
//! Used to choose a slot, to check clocks against the live holders, and by `cluster status`.

use std::collections::BTreeMap;

use super::client::call;
use super::keys::{decode_mark, Keys};
use super::options::EtcdOptions;
use super::record::ClusterRecord;
use crate::error::CoordError;
use crate::identity::HolderIdentity;
use etcd_client::{Client, GetOptions, KeyValue, Txn, TxnOp, TxnOpResponse};

/// A slot key and what it says.
#[derive(Debug, Clone)]
pub(crate) struct SlotRecord {
    /// The holder's identity, or the raw value if it cannot be parsed.
    pub(crate) holder: Result<HolderIdentity, String>,
    /// The lease the key is bound to.
    pub(crate) lease: i64,
}

/// The cluster at one revision.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    /// The cluster record, if any node has joined yet (or why it cannot be read).
    pub(crate) record: Option<Result<ClusterRecord, String>>,
    /// Live slots by `(datacenter, machine)`.
    pub(crate) slots: BTreeMap<(u64, u64), SlotRecord>,
    /// Persisted marks by `(datacenter, machine)` (or why one cannot be read).
    pub(crate) marks: BTreeMap<(u64, u64), Result<u64, String>>,
    /// The answer's `(cluster ID, revision)`, for noticing a reset.
    pub(crate) header: Option<(u64, i64)>,
}

/// Reads the whole cluster in one transaction.
pub(crate) async fn read(
    client: &Client,
    keys: &Keys,
    options: &EtcdOptions,
) -> Result<Snapshot, CoordError> {
    let (slots_prefix, marks_prefix) = (keys.slots_prefix(), keys.high_water_prefix());
    let txn = Txn::new().and_then([
        TxnOp::get(keys.layout(), None),
        TxnOp::get(slots_prefix.as_str(), Some(GetOptions::new().with_prefix())),
        TxnOp::get(marks_prefix.as_str(), Some(GetOptions::new().with_prefix())),
    ]);
    let mut kv = client.kv_client();
    let answer = call("cluster read", options.request_timeout, kv.txn(txn)).await?;
    let mut gets = answer.op_responses().into_iter().filter_map(|op| match op {
        TxnOpResponse::Get(get) => Some(get.kvs().to_vec()),
        _ => None,
    });
    let (layout_kvs, slot_kvs, mark_kvs) = (
        gets.next().unwrap_or_default(),
        gets.next().unwrap_or_default(),
        gets.next().unwrap_or_default(),
    );

    let header = answer.header().map(|h| (h.cluster_id(), h.revision()));
    let record = layout_kvs
        .first()
        .map(|kv| ClusterRecord::decode(kv.value()));
    let slots = slot_kvs
        .iter()
        .filter_map(|kv| {
            let slot = Keys::parse_slot(&slots_prefix, kv.key())?;
            Some((slot, slot_record(kv)))
        })
        .collect();
    let marks = mark_kvs
        .iter()
        .filter_map(|kv| {
            let slot = Keys::parse_slot(&marks_prefix, kv.key())?;
            let key = String::from_utf8_lossy(kv.key()).into_owned();
            Some((
                slot,
                decode_mark(&key, kv.value()).map_err(|e| e.to_string()),
            ))
        })
        .collect();
    Ok(Snapshot {
        record,
        slots,
        marks,
        header,
    })
}

/// Parses a slot key's value.
pub(crate) fn slot_record(kv: &KeyValue) -> SlotRecord {
    SlotRecord {
        holder: serde_json::from_slice(kv.value())
            .map_err(|_| String::from_utf8_lossy(kv.value()).into_owned()),
        lease: kv.lease(),
    }
}

impl SlotRecord {
    /// The holder as a person reads it.
    pub(crate) fn describe(&self) -> String {
        match &self.holder {
            Ok(identity) => identity.to_string(),
            Err(raw) => format!("an unknown holder ({raw:?})"),
        }
    }
}
