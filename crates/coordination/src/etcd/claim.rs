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

/// Claims a free slot of the datacenter (or the fixed one), skipping those `live` says are
/// held: with `auto`, first the lowest free slot whose mark (in `marks`) the clock at
/// `now_tick` has already passed, so that a clock behind one slot's mark costs nothing when
/// another slot is free; then the others, lowest first. Another node may win a slot between
/// the read and the claim; the transaction then fails harmlessly and the next slot is tried.
#[allow(clippy::too_many_arguments)] // one call site; the snapshot's parts are its inputs
pub(crate) async fn claim(
    client: &Client,
    keys: &Keys,
    options: &EtcdOptions,
    layout: &Layout,
    lease: i64,
    me: &HolderIdentity,
    live: &BTreeMap<(u64, u64), SlotRecord>,
    marks: &BTreeMap<(u64, u64), Result<u64, String>>,
    now_tick: u64,
) -> Result<Claimed, CoordError> {
    let datacenter = options.datacenter;
    let candidates: Vec<u64> = match options.machine {
        MachineChoice::Fixed(machine) => {
            layout.check_worker(datacenter, machine)?;
            vec![machine]
        }
        MachineChoice::Auto => {
            let free = (0..=layout.max_machine())
                .filter(|machine| !live.contains_key(&(datacenter, *machine)));
            preferred(free, datacenter, marks, now_tick)
        }
    };
    let lowest_free = candidates.iter().min().copied();
    for machine in candidates {
        match try_claim(client, keys, options, lease, me, machine).await? {
            Ok(claimed) => {
                if options.machine == MachineChoice::Auto {
                    log_choice(datacenter, machine, lowest_free, marks, now_tick, layout);
                }
                return Ok(claimed);
            }
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

/// The free machines in the order `auto` tries them: those whose mark the clock has passed
/// (or that have none) first, then those whose mark is ahead of the clock (or unreadable),
/// each group lowest first.
fn preferred(
    free: impl Iterator<Item = u64>,
    datacenter: u64,
    marks: &BTreeMap<(u64, u64), Result<u64, String>>,
    now_tick: u64,
) -> Vec<u64> {
    let (mut passed, ahead): (Vec<u64>, Vec<u64>) =
        free.partition(|machine| passed_mark(marks.get(&(datacenter, *machine)), now_tick));
    passed.extend(ahead);
    passed
}

/// Whether the clock has passed a slot's mark: no mark, or one below the clock's tick.
fn passed_mark(mark: Option<&Result<u64, String>>, now_tick: u64) -> bool {
    match mark {
        None => true,
        Some(Ok(mark)) => *mark < now_tick,
        Some(Err(_)) => false,
    }
}

/// Says which slot `auto` took and why, naming the lowest free slot it passed over.
fn log_choice(
    datacenter: u64,
    machine: u64,
    lowest_free: Option<u64>,
    marks: &BTreeMap<(u64, u64), Result<u64, String>>,
    now_tick: u64,
    layout: &Layout,
) {
    let mark = |machine| match marks.get(&(datacenter, machine)) {
        Some(Ok(mark)) => Some(*mark),
        _ => None,
    };
    let ahead_ms = |machine| {
        mark(machine).map_or(0, |mark: u64| {
            mark.saturating_sub(now_tick) * layout.unit_ms()
        })
    };
    match lowest_free {
        Some(lowest)
            if lowest != machine && !passed_mark(marks.get(&(datacenter, lowest)), now_tick) =>
        {
            tracing::info!(
                datacenter,
                machine,
                passed_over = lowest,
                passed_over_mark_ahead_ms = ahead_ms(lowest),
                "took a free slot whose mark the clock has passed instead of the lowest free \
                 slot, whose mark is ahead of the clock: no wait, no advance"
            );
        }
        _ if passed_mark(marks.get(&(datacenter, machine)), now_tick) => {
            tracing::debug!(
                datacenter,
                machine,
                "took the lowest free slot; the clock has passed its mark"
            );
        }
        _ => {
            tracing::info!(
                datacenter,
                machine,
                mark_ahead_ms = ahead_ms(machine),
                "took the lowest free slot; every free slot's mark is ahead of the clock"
            );
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(entries: &[(u64, Result<u64, String>)]) -> BTreeMap<(u64, u64), Result<u64, String>> {
        entries
            .iter()
            .map(|(machine, mark)| ((2, *machine), mark.clone()))
            .collect()
    }

    #[test]
    fn auto_tries_slots_whose_mark_the_clock_passed_first_lowest_first() {
        // Clock at tick 1000: slot 0's mark is ahead, 1's passed, 2 has none, 3 is ahead,
        // 4's is unreadable.
        let marks = marks(&[
            (0, Ok(5_000)),
            (1, Ok(999)),
            (3, Ok(1_000)),
            (4, Err("garbage".into())),
        ]);
        assert_eq!(preferred(0..6, 2, &marks, 1_000), vec![1, 2, 5, 0, 3, 4]);
    }

    #[test]
    fn with_every_mark_passed_it_is_the_lowest_free_slot_as_before() {
        let marks = marks(&[(0, Ok(10)), (1, Ok(20))]);
        assert_eq!(
            preferred([0, 1, 2].into_iter(), 2, &marks, 1_000),
            vec![0, 1, 2]
        );
        // Marks of another datacenter do not count.
        let other: BTreeMap<_, _> = [((7, 0), Ok(u64::MAX))].into_iter().collect();
        assert_eq!(preferred([0, 1].into_iter(), 2, &other, 1_000), vec![0, 1]);
    }
}
