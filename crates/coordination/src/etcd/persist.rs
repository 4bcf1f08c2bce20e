//! Extending the window: the one transaction that raises a slot's high-water mark.
//!
//! ```text
//! IF   slot.lease == our lease  AND  slot.create_revision == our claim's     (still ours)
//! THEN IF   hwm.version == 0                         (never written)
//!      THEN put hwm = new
//!      ELSE IF   hwm.value < new                     (only ever grows; fixed-width digits)
//!           THEN put hwm = new
//!           ELSE get hwm                             (already higher: report it)
//!      put slot = identity with a fresh clock, same lease
//! ELSE get slot                                      (lost: say to whom)
//! ```
//!
//! It is a single etcd transaction (nested transactions are one atomic step), so the mark can
//! only grow, and only while this node owns the slot. The one exception is [`lower`], at a
//! clean shutdown, which brings the mark down to an exact bound on what the holder issued. A holder whose lease expired, or whose
//! key was taken over, fails the first comparison and gets [`CoordError::SlotLost`]; the
//! keeper then fences and claims again. The value comparison needs the 20-digit encoding of
//! `keys.rs`: etcd compares bytes, and a missing key never passes a value comparison, hence
//! the `version == 0` branch.

use etcd_client::{Client, Compare, CompareOp, PutOptions, Txn, TxnOp, TxnOpResponse, TxnResponse};

use super::client::{call, record_write};
use super::keys::{decode_mark, encode_mark};
use super::snapshot::slot_record;
use crate::error::CoordError;

/// What the transaction needs to know about the holder.
pub(crate) struct Ownership<'a> {
    pub(crate) slot_key: &'a str,
    pub(crate) mark_key: &'a str,
    pub(crate) lease: i64,
    pub(crate) create_revision: i64,
    pub(crate) slot: (u64, u64),
}

/// What a successful persist transaction answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Persisted {
    /// The mark etcd now holds: at least the one asked for.
    pub(crate) mark: u64,
    /// The answer's `(cluster ID, revision)`, for noticing a reset.
    pub(crate) header: Option<(u64, i64)>,
}

/// Makes a mark of at least `tick` durable; returns the mark etcd now holds.
pub(crate) async fn persist(
    client: &Client,
    owner: &Ownership<'_>,
    identity: Vec<u8>,
    tick: u64,
    timeout: std::time::Duration,
) -> Result<Persisted, CoordError> {
    let new = encode_mark(tick);
    let grow = Txn::new()
        .when([Compare::value(
            owner.mark_key,
            CompareOp::Less,
            new.as_str(),
        )])
        .and_then([TxnOp::put(owner.mark_key, new.as_str(), None)])
        .or_else([TxnOp::get(owner.mark_key, None)]);
    let first_or_grow = Txn::new()
        .when([Compare::version(owner.mark_key, CompareOp::Equal, 0)])
        .and_then([TxnOp::put(owner.mark_key, new.as_str(), None)])
        .or_else([TxnOp::txn(grow)]);
    let txn = Txn::new()
        .when([
            Compare::lease(owner.slot_key, CompareOp::Equal, owner.lease),
            Compare::create_revision(owner.slot_key, CompareOp::Equal, owner.create_revision),
        ])
        .and_then([
            TxnOp::txn(first_or_grow),
            TxnOp::put(
                owner.slot_key,
                identity,
                Some(PutOptions::new().with_lease(owner.lease)),
            ),
        ])
        .or_else([TxnOp::get(owner.slot_key, None)]);

    let mut kv = client.kv_client();
    let answer = call("high-water persist", timeout, kv.txn(txn)).await?;
    record_write("persist");
    if !answer.succeeded() {
        return Err(lost(owner, &answer));
    }
    let header = answer.header().map(|h| (h.cluster_id(), h.revision()));
    let persisted = |mark| Ok(Persisted { mark, header });
    let first_or_grow = nested(&answer).ok_or_else(malformed)?;
    if first_or_grow.succeeded() {
        return persisted(tick);
    }
    let grow = nested(&first_or_grow).ok_or_else(malformed)?;
    if grow.succeeded() {
        return persisted(tick);
    }
    // Already at or above `tick` (a write of ours whose answer was lost, or a slower keeper).
    let stored = grow
        .op_responses()
        .into_iter()
        .find_map(|op| match op {
            TxnOpResponse::Get(get) => get.kvs().first().map(|kv| kv.value().to_vec()),
            _ => None,
        })
        .ok_or_else(malformed)?;
    persisted(decode_mark(owner.mark_key, &stored)?)
}

/// Lowers the slot's mark from `expected` (the value this holder last had acknowledged) to
/// `bound`, at a clean shutdown after the generator was fenced and returned `bound`: no ID of
/// this holding has a tick above it, and the previous holders' are at most its floor − 1 ≤
/// `bound`. So the next holder, starting above `bound`, starts at once instead of waiting out
/// the window. Returns whether etcd applied it.
///
/// ```text
/// IF   slot.lease == L  AND  slot.create_revision == R   (still ours)
///  AND hwm.value == expected                              (nothing wrote it since: no late write)
/// THEN put hwm = bound
/// ```
///
/// If any comparison fails the mark stays where it was, which is always safe: the next holder
/// waits for it, as after a crash.
pub(crate) async fn lower(
    client: &Client,
    owner: &Ownership<'_>,
    expected: u64,
    bound: u64,
    timeout: std::time::Duration,
) -> Result<bool, CoordError> {
    let txn = Txn::new()
        .when([
            Compare::lease(owner.slot_key, CompareOp::Equal, owner.lease),
            Compare::create_revision(owner.slot_key, CompareOp::Equal, owner.create_revision),
            Compare::value(owner.mark_key, CompareOp::Equal, encode_mark(expected)),
        ])
        .and_then([TxnOp::put(owner.mark_key, encode_mark(bound), None)]);
    let mut kv = client.kv_client();
    let answer = call("high-water lower", timeout, kv.txn(txn)).await?;
    if answer.succeeded() {
        record_write("lower");
    }
    Ok(answer.succeeded())
}

/// The first nested transaction's answer inside `answer`.
fn nested(answer: &TxnResponse) -> Option<TxnResponse> {
    answer.op_responses().into_iter().find_map(|op| match op {
        TxnOpResponse::Txn(inner) => Some(inner),
        _ => None,
    })
}

fn malformed() -> CoordError {
    CoordError::Backend("etcd answered the high-water transaction in an unexpected shape".into())
}

/// Explains a failed ownership comparison.
fn lost(owner: &Ownership<'_>, answer: &TxnResponse) -> CoordError {
    let now_held = answer.op_responses().into_iter().find_map(|op| match op {
        TxnOpResponse::Get(get) => get.kvs().first().cloned(),
        _ => None,
    });
    let reason = match now_held {
        None => format!(
            "{} no longer exists: lease {:x} expired or was revoked",
            owner.slot_key, owner.lease
        ),
        Some(kv) if kv.lease() != owner.lease || kv.create_revision() != owner.create_revision => {
            format!(
                "{} now belongs to {} (lease {:x})",
                owner.slot_key,
                slot_record(&kv).describe(),
                kv.lease()
            )
        }
        Some(_) => format!("{} changed hands and back", owner.slot_key),
    };
    CoordError::SlotLost {
        datacenter: owner.slot.0,
        machine: owner.slot.1,
        reason,
    }
}
