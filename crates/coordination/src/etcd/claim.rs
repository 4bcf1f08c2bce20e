//! Claiming a machine slot: a transaction that creates the slot key **only if it is absent**
//! (`version == 0`), bound to this node's lease, and in the same step reads the slot's
//! persisted high-water mark, the floor this holder must start above.

use std::collections::BTreeMap;

use etcd_client::{Client, Compare, CompareOp, PutOptions, Txn, TxnOp, TxnOpResponse};
use snowdrift::Layout;

use super::client::{call, record_write};
use super::keys::{decode_mark, Keys};
use super::options::EtcdOptions;
use super::snapshot::{slot_record, SlotRecord};
use crate::error::CoordError;
use crate::identity::{unix_ms_now, HolderIdentity};
use crate::MachineChoice;

/// A slot this node now holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Claimed {
    /// The machine field.
    pub(crate) machine: u64,
    /// The revision that created the slot key: with the lease, what proves ownership later.
    pub(crate) create_revision: i64,
    /// The mark left by earlier holders.
    pub(crate) previous: Option<u64>,
    /// The claim's `(cluster ID, revision)`, for noticing a reset.
    pub(crate) header: (u64, i64),
}

/// Claims the lowest free slot of the datacenter (or the fixed one), skipping those `live`
/// says are held. Another node may win a slot between the read and the claim; the
/// transaction then fails harmlessly and the next slot is tried.
pub(crate) async fn claim(
    client: &Client,
    keys: &Keys,
    options: &EtcdOptions,
    layout: &Layout,
    lease: i64,
    me: &HolderIdentity,
    live: &BTreeMap<(u64, u64), SlotRecord>,
) -> Result<Claimed, CoordError> {
    let datacenter = options.datacenter;
    let candidates: Vec<u64> = match options.machine {
        MachineChoice::Fixed(machine) => {
            layout.check_worker(datacenter, machine)?;
            vec![machine]
        }
        MachineChoice::Auto => (0..=layout.max_machine())
            .filter(|machine| !live.contains_key(&(datacenter, *machine)))
            .collect(),
    };
    for machine in candidates {
        match try_claim(client, keys, options, lease, me, machine).await? {
            Ok(claimed) => return Ok(claimed),
            Err(holder) if options.machine != MachineChoice::Auto => {
                return Err(CoordError::SlotHeld {
                    datacenter,
                    machine,
                    holder: holder.describe(),
                })
            }
            Err(_) => continue,
        }
    }
    Err(CoordError::SlotsExhausted {
        scope: options.scope(),
        datacenter,
        slots: layout.max_machine() + 1,
    })
}

/// One claim transaction. `Ok(Err(holder))` when the slot is taken.
async fn try_claim(
    client: &Client,
    keys: &Keys,
    options: &EtcdOptions,
    lease: i64,
    me: &HolderIdentity,
    machine: u64,
) -> Result<Result<Claimed, SlotRecord>, CoordError> {
    let (slot_key, mark_key) = (
        keys.slot(options.datacenter, machine),
        keys.high_water(options.datacenter, machine),
    );
    let identity = stamped(me)?;
    let txn = Txn::new()
        .when([Compare::version(slot_key.as_str(), CompareOp::Equal, 0)])
        .and_then([
            TxnOp::put(
                slot_key.as_str(),
                identity,
                Some(PutOptions::new().with_lease(lease)),
            ),
            TxnOp::get(mark_key.as_str(), None),
        ])
        .or_else([TxnOp::get(slot_key.as_str(), None)]);
    let mut kv = client.kv_client();
    let answer = call("slot claim", options.request_timeout, kv.txn(txn)).await?;
    let first_kv = |ops: Vec<TxnOpResponse>| {
        ops.into_iter().find_map(|op| match op {
            TxnOpResponse::Get(get) => get.kvs().first().cloned(),
            _ => None,
        })
    };
    if !answer.succeeded() {
        let holder = first_kv(answer.op_responses()).map_or_else(
            || SlotRecord {
                holder: Err("released a moment ago".into()),
                lease: 0,
            },
            |kv| slot_record(&kv),
        );
        return Ok(Err(holder));
    }
    record_write("slot_claim");
    // The key was created by this transaction, so its create revision is the transaction's.
    let header = answer
        .header()
        .map(|h| (h.cluster_id(), h.revision()))
        .ok_or_else(|| CoordError::Backend("etcd answered the claim without a revision".into()))?;
    let create_revision = header.1;
    let previous = match first_kv(answer.op_responses()) {
        Some(kv) => Some(decode_mark(&mark_key, kv.value())?),
        None => None,
    };
    Ok(Ok(Claimed {
        machine,
        create_revision,
        previous,
        header,
    }))
}

/// The identity with the clock read now, as JSON: peers compare their clocks with it.
pub(crate) fn stamped(me: &HolderIdentity) -> Result<Vec<u8>, CoordError> {
    let identity = HolderIdentity {
        clock_unix_ms: unix_ms_now(),
        ..me.clone()
    };
    serde_json::to_vec(&identity).map_err(|e| CoordError::Config(e.to_string()))
}
