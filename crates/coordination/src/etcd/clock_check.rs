//! Clock sanity on joining: compare this node's clock with the clocks the live holders
//! advertise in their slot keys.
//!
//! Each holder writes `clock_unix_ms` when it claims its slot and again with every window
//! extension, in the same transaction as its high-water mark. A healthy holder extends its
//! window before its clock reaches the mark, so its clock *now* lies between the stamp and the
//! mark (in Unix ms). A peer is therefore
//! - **ahead** of us by at least `stamp - now` when that exceeds the allowed skew, and
//! - **behind** us by at least `now - max(stamp, mark)` when that exceeds it.
//!
//! While etcd keeps its data, skew never threatens uniqueness (the persisted window does not
//! depend on clocks); it costs time order between nodes, and a node far ahead leaves marks that
//! delay the next holder of its slot. If etcd loses its data, the floor that protects the
//! lost holders (the cluster record's genesis bound, `floor.rs`) assumes every holder's clock
//! is within `max_clock_skew` of the record's creator: a clock further ahead voids it for that
//! holder's slot. The default is still to warn; `refuse` declines to join only when this node
//! disagrees with most live peers, since then the fault is most likely ours.

use std::time::Duration;

use snowdrift::Layout;

use super::options::{ClockSkewPolicy, EtcdOptions};
use super::snapshot::Snapshot;
use crate::error::CoordError;

/// How one peer's clock compares with ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Disagreement {
    /// The peer's slot and identity, for the message.
    pub(crate) peer: String,
    /// Positive: the peer is ahead of us; negative: behind. At least this much, in ms.
    pub(crate) skew_ms: i64,
}

/// Peers whose clocks differ from `now_ms` by more than the allowed skew.
pub(crate) fn disagreements(
    snapshot: &Snapshot,
    layout: &Layout,
    now_ms: u64,
    max_skew: Duration,
) -> (usize, Vec<Disagreement>) {
    let max = max_skew.as_millis() as i64;
    let mut peers = 0;
    let mut found = Vec::new();
    for (slot, record) in &snapshot.slots {
        let Ok(identity) = &record.holder else {
            continue;
        };
        if identity.clock_unix_ms == 0 {
            continue;
        }
        peers += 1;
        let stamp = identity.clock_unix_ms as i64;
        let mark_ms = match snapshot.marks.get(slot) {
            Some(Ok(tick)) => {
                layout.epoch_ms() as i64 + (*tick as i64).saturating_mul(layout.unit_ms() as i64)
            }
            _ => stamp,
        };
        let latest = stamp.max(mark_ms);
        let now = now_ms as i64;
        let skew_ms = if stamp - now > max {
            stamp - now
        } else if now - latest > max {
            latest - now
        } else {
            continue;
        };
        found.push(Disagreement {
            peer: format!("datacenter {} machine {} ({identity})", slot.0, slot.1),
            skew_ms,
        });
    }
    (peers, found)
}

/// Applies the configured policy: logs each disagreement, and refuses if the policy says so
/// and most live peers disagree with us.
pub(crate) fn check(
    snapshot: &Snapshot,
    layout: &Layout,
    now_ms: u64,
    options: &EtcdOptions,
) -> Result<(), CoordError> {
    let (peers, found) = disagreements(snapshot, layout, now_ms, options.max_clock_skew);
    for d in &found {
        tracing::warn!(peer = %d.peer, skew_ms = d.skew_ms, max_skew_ms = options.max_clock_skew.as_millis() as u64,
            "this node's clock differs from a live holder's (positive: the peer is ahead); beyond the allowed skew, the floor that protects IDs if etcd loses its data no longer covers the faster one");
    }
    if options.skew_policy == ClockSkewPolicy::Refuse && found.len() * 2 > peers {
        if let Some(worst) = found.iter().max_by_key(|d| d.skew_ms.abs()) {
            return Err(CoordError::ClockSkew {
                disagreeing: found.len(),
                peers,
                max_skew: options.max_clock_skew,
                worst: format!("{} ms against {}", worst.skew_ms, worst.peer),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etcd::snapshot::SlotRecord;
    use crate::identity::HolderIdentity;

    fn peer(snapshot: &mut Snapshot, machine: u64, stamp: u64, mark_ms: Option<u64>) {
        let mut identity = HolderIdentity::of_this_process(Vec::new());
        identity.clock_unix_ms = stamp;
        snapshot.slots.insert(
            (0, machine),
            SlotRecord {
                holder: Ok(identity),
                lease: 1,
            },
        );
        if let Some(mark) = mark_ms {
            let tick = mark - Layout::default().epoch_ms();
            snapshot.marks.insert((0, machine), Ok(tick));
        }
    }

    #[test]
    fn a_stamp_inside_its_window_agrees() {
        let now = 1_800_000_000_000;
        let mut snapshot = Snapshot::default();
        // Stamped 1.5 s ago, window up to 0.5 s from now: its clock can be ours.
        peer(&mut snapshot, 0, now - 1_500, Some(now + 500));
        let (peers, found) =
            disagreements(&snapshot, &Layout::default(), now, Duration::from_secs(1));
        assert_eq!((peers, found.len()), (1, 0));
    }

    #[test]
    fn ahead_and_behind_are_both_found_with_a_lower_bound() {
        let now = 1_800_000_000_000;
        let mut snapshot = Snapshot::default();
        peer(&mut snapshot, 0, now + 3_600_000, Some(now + 3_602_000));
        peer(&mut snapshot, 1, now - 10_000, Some(now - 8_000));
        let (peers, found) =
            disagreements(&snapshot, &Layout::default(), now, Duration::from_secs(1));
        assert_eq!(peers, 2);
        assert_eq!(found[0].skew_ms, 3_600_000);
        assert_eq!(found[1].skew_ms, -8_000);
    }

    #[test]
    fn refuse_only_when_most_peers_disagree() {
        let now = 1_800_000_000_000;
        let mut options = EtcdOptions::new(vec!["x".into()], "c", 0);
        options.skew_policy = ClockSkewPolicy::Refuse;
        options.max_clock_skew = Duration::from_secs(1);
        let mut snapshot = Snapshot::default();
        peer(&mut snapshot, 0, now + 60_000, None);
        peer(&mut snapshot, 1, now, None);
        assert!(
            check(&snapshot, &Layout::default(), now, &options).is_ok(),
            "1 of 2"
        );
        peer(&mut snapshot, 2, now + 60_000, None);
        let err = check(&snapshot, &Layout::default(), now, &options).unwrap_err();
        assert_eq!(err.code(), "clock_skew");
        assert!(err.to_string().contains("2 of 3"), "{err}");
    }
}
