//! Noticing that etcd was reset, rolled back or replaced under a running node.
//!
//! A node remembers, across every claim it makes, the cluster record it joined (and every
//! incarnation it joined before), the highest revision and the cluster ID etcd's answers
//! carried, and when it last heard from the store. Against that memory:
//!
//! | seen | means | reason |
//! |---|---|---|
//! | another cluster ID | another etcd cluster answers (replaced, or restored into a new one) | `cluster_id_changed` |
//! | the record missing (this node creates it) | the data was lost, or the record deleted | `record_missing` |
//! | an incarnation this node joined earlier | rolled back to an older state | `rolled_back` |
//! | a revision below one already seen | the data was lost, or restored from a backup | `revision_backwards` |
//! | another incarnation, revisions going on | the record was re-created by a node that saw a reset | `incarnation_changed` |
//!
//! What to do about it is the other half of [`assess`]: the genesis floor (see
//! [`crate::floor`]) protects the holders of a lost incarnation only if the record's creation
//! came after the loss. A record this node just created, or one created in a store whose
//! history this node has followed, did. A record restored from a backup did not: the node then
//! **replaces** it with a fresh incarnation and creation time (a compare-and-swap on its mod
//! revision), so every later claim gets a fresh genesis floor.
//!
//! Pure: no I/O, no clock of its own (times come in as arguments), so a model checker can run
//! the same rules.

use serde::Serialize;

use super::record::{Bounds, ClusterRecord};
use crate::status::StoreReset;

/// Why a node believes the store was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetReason {
    /// etcd's cluster ID is not the one this node saw before.
    ClusterIdChanged,
    /// The cluster record was missing: this node created it again.
    RecordMissing,
    /// The record's incarnation is one this node joined before the current one.
    RolledBack,
    /// etcd answered with a revision below one this node had seen.
    RevisionBackwards,
    /// The record has an incarnation this node never joined, in a store it followed.
    IncarnationChanged,
}

impl ResetReason {
    /// The label of `snowdrift_store_resets_total{reason}`.
    pub fn label(self) -> &'static str {
        match self {
            ResetReason::ClusterIdChanged => "cluster_id_changed",
            ResetReason::RecordMissing => "record_missing",
            ResetReason::RolledBack => "rolled_back",
            ResetReason::RevisionBackwards => "revision_backwards",
            ResetReason::IncarnationChanged => "incarnation_changed",
        }
    }
}

/// What a node remembers of the store, across claims.
// `Hash`: a model checker keeps the memory in its states.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct StoreMemory {
    /// The cluster ID of etcd's answers, once seen.
    pub cluster_id: Option<u64>,
    /// The highest revision an answer carried.
    pub max_revision: i64,
    /// The incarnation of the record this node joined last (`Some(None)`: a legacy record).
    pub joined: Option<Option<String>>,
    /// Every incarnation this node joined, oldest first (at most [`HISTORY`]).
    pub history: Vec<Option<String>>,
    /// When this node first joined a record, by its clock (Unix ms).
    pub first_joined_unix_ms: Option<u64>,
    /// When it last got an answer consistent with this memory, by its clock (Unix ms).
    pub last_seen_unix_ms: u64,
    /// The largest bounds of every record it joined: carried into a record it re-creates.
    pub bounds: Option<Bounds>,
    /// Resets detected so far.
    pub resets: u64,
    /// The last one.
    pub last_reset: Option<StoreReset>,
}

/// How many incarnations a node remembers: enough for any number of resets a process lives
/// through in practice, small enough to copy.
pub const HISTORY: usize = 16;

/// The cluster record as one answer showed it.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// The answer's cluster ID.
    pub cluster_id: u64,
    /// The answer's revision.
    pub revision: i64,
    /// The record.
    pub record: &'a ClusterRecord,
    /// Whether this node's create-if-absent transaction created it just now.
    pub created_now: bool,
}

/// What to do with an observed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Join it: its genesis bound is sound.
    Join,
    /// Replace it with a fresh incarnation first: it may predate the reset.
    Replace,
}

/// The verdict on one observation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The reset detected, if any, and what showed it.
    pub reset: Option<(ResetReason, String)>,
    /// Join or replace.
    pub action: Action,
}

/// Judges an observation of the record against the memory. `skew_ms` is the clock skew the
/// node allows (the larger of its own and its remembered bounds).
///
/// A record this node never joined, seen in a store whose history broke (another cluster ID,
/// a revision going back), is joined only if its creation time shows it was created after the
/// node last heard from the old store, and after the node first joined: `created >
/// last_seen - skew` and `created > first_joined + skew`. A record created before either can
/// be a restored one. Clocks within the skew make the first true of every record created
/// after the reset; the second fails only for a node that joined less than two skews before
/// the reset, which then replaces the record: a longer wait, never a lower floor.
pub fn assess(memory: &StoreMemory, seen: &Observation<'_>, skew_ms: u64) -> Assessment {
    let join = |reset| Assessment {
        reset,
        action: Action::Join,
    };
    let Some(joined) = &memory.joined else {
        // Nothing to compare with: everything a node sees first is new to it.
        return join(None);
    };
    let incarnation = &seen.record.incarnation;
    let known = memory.history.contains(incarnation);
    let id_changed = memory.cluster_id.is_some_and(|id| id != seen.cluster_id);
    let went_back = seen.revision < memory.max_revision;
    let describe = |i: &Option<String>| i.as_deref().unwrap_or("legacy").to_string();

    let reset = if id_changed {
        Some((
            ResetReason::ClusterIdChanged,
            format!(
                "etcd's cluster ID is {:x}, it was {:x}",
                seen.cluster_id,
                memory.cluster_id.unwrap_or_default()
            ),
        ))
    } else if seen.created_now {
        Some((
            ResetReason::RecordMissing,
            format!(
                "the cluster record of incarnation {} was gone; created incarnation {}",
                describe(joined),
                describe(incarnation)
            ),
        ))
    } else if incarnation != joined && known {
        Some((
            ResetReason::RolledBack,
            format!(
                "the cluster record is back at incarnation {}, which this node left for {}",
                describe(incarnation),
                describe(joined)
            ),
        ))
    } else if went_back {
        Some((
            ResetReason::RevisionBackwards,
            format!(
                "etcd's revision is {}, it was {}",
                seen.revision, memory.max_revision
            ),
        ))
    } else if incarnation != joined {
        Some((
            ResetReason::IncarnationChanged,
            format!(
                "the cluster record is incarnation {}, this node joined {}",
                describe(incarnation),
                describe(joined)
            ),
        ))
    } else {
        None
    };
    let Some(reset) = reset else {
        return join(None);
    };
    let action = if seen.created_now {
        Action::Join
    } else if known {
        // A record this node has joined before, seen after a reset: the store is back at an
        // old state, and the record's creation time is as old as that state.
        Action::Replace
    } else if id_changed || went_back {
        let created = seen.record.created_unix_ms;
        let after_last_seen = created.saturating_add(skew_ms) > memory.last_seen_unix_ms;
        let after_joining = memory
            .first_joined_unix_ms
            .is_none_or(|first| created > first.saturating_add(skew_ms));
        if after_last_seen && after_joining {
            Action::Join
        } else {
            Action::Replace
        }
    } else {
        // A new incarnation in a store whose history is whole: whoever created it did so after
        // the reset it saw.
        Action::Join
    };
    Assessment {
        reset: Some(reset),
        action,
    }
}

/// An answer that breaks the store's history: the store was reset or replaced since the node
/// joined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Broken {
    /// Another cluster answered.
    #[error("etcd's cluster ID changed from {was:x} to {now:x}")]
    ClusterId {
        /// The one seen before.
        was: u64,
        /// The one now.
        now: u64,
    },
    /// The revision went back.
    #[error("etcd's revision went back from {was} to {now}")]
    Revision {
        /// The highest seen before.
        was: i64,
        /// The one now.
        now: i64,
    },
}

impl StoreMemory {
    /// Records an answer's header after joining; refuses one that breaks the history, without
    /// recording it, so the next claim sees the same break and judges it.
    pub fn observe(
        &mut self,
        cluster_id: u64,
        revision: i64,
        now_unix_ms: u64,
    ) -> Result<(), Broken> {
        if let Some(was) = self.cluster_id.filter(|was| *was != cluster_id) {
            return Err(Broken::ClusterId {
                was,
                now: cluster_id,
            });
        }
        if revision < self.max_revision {
            return Err(Broken::Revision {
                was: self.max_revision,
                now: revision,
            });
        }
        self.cluster_id = Some(cluster_id);
        self.max_revision = revision;
        self.last_seen_unix_ms = self.last_seen_unix_ms.max(now_unix_ms);
        Ok(())
    }

    /// Records that the node joined `record`, seen at `revision` of `cluster_id`, after the
    /// verdict `reset`. The store's history starts again from this answer.
    pub fn join(
        &mut self,
        record: &ClusterRecord,
        cluster_id: u64,
        revision: i64,
        now_unix_ms: u64,
        reset: Option<(ResetReason, String)>,
    ) {
        self.cluster_id = Some(cluster_id);
        self.max_revision = revision;
        self.last_seen_unix_ms = self.last_seen_unix_ms.max(now_unix_ms);
        self.first_joined_unix_ms.get_or_insert(now_unix_ms);
        self.joined = Some(record.incarnation.clone());
        if !self.history.contains(&record.incarnation) {
            if self.history.len() == HISTORY {
                self.history.remove(0);
            }
            self.history.push(record.incarnation.clone());
        }
        if let Some(bounds) = record.bounds {
            self.bounds = Some(self.bounds.map_or(bounds, |b| b.max(bounds)));
        }
        if let Some((reason, detail)) = reset {
            self.resets += 1;
            self.last_reset = Some(StoreReset {
                reason: reason.label(),
                detail,
                unix_ms: now_unix_ms,
            });
        }
    }
}

/// The memory, whatever a panic elsewhere left (plain values, updated in one step).
pub(crate) fn lock(
    memory: &std::sync::Mutex<StoreMemory>,
) -> std::sync::MutexGuard<'_, StoreMemory> {
    memory
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use snowdrift::LayoutSpec;

    const NOW: u64 = 1_800_000_000_000;
    const SKEW: u64 = 2_000;

    fn record(incarnation: &str, created_unix_ms: u64) -> ClusterRecord {
        ClusterRecord {
            layout: LayoutSpec::from(snowdrift::Layout::default()),
            incarnation: Some(incarnation.to_string()),
            created_unix_ms,
            bounds: Some(Bounds {
                window_ms: 2_000,
                max_clock_skew_ms: SKEW,
            }),
        }
    }

    /// A node that joined incarnation "a" (created an hour ago) 10 minutes ago, and heard from
    /// etcd at revision 500 of cluster 7 a second ago.
    fn veteran() -> StoreMemory {
        let mut memory = StoreMemory::default();
        memory.join(&record("a", NOW - 3_600_000), 7, 100, NOW - 600_000, None);
        memory.observe(7, 500, NOW - 1_000).unwrap();
        memory
    }

    fn seen(
        record: &ClusterRecord,
        cluster_id: u64,
        revision: i64,
        created_now: bool,
    ) -> Observation<'_> {
        Observation {
            cluster_id,
            revision,
            record,
            created_now,
        }
    }

    fn verdict(
        memory: &StoreMemory,
        observation: &Observation<'_>,
    ) -> (Option<ResetReason>, Action) {
        let assessment = assess(memory, observation, SKEW);
        (
            assessment.reset.map(|(reason, _)| reason),
            assessment.action,
        )
    }

    #[test]
    fn a_first_join_and_a_steady_store_detect_nothing() {
        let fresh = StoreMemory::default();
        let a = record("a", NOW - 3_600_000);
        assert_eq!(
            verdict(&fresh, &seen(&a, 7, 3, false)),
            (None, Action::Join)
        );
        assert_eq!(verdict(&fresh, &seen(&a, 7, 3, true)), (None, Action::Join));
        assert_eq!(
            verdict(&veteran(), &seen(&a, 7, 600, false)),
            (None, Action::Join)
        );
        assert_eq!(
            verdict(&veteran(), &seen(&a, 7, 500, false)),
            (None, Action::Join)
        );
    }

    #[test]
    fn a_wiped_store_is_detected_and_a_fresh_record_joined() {
        let memory = veteran();
        // This node finds the record gone and creates it.
        let mine = record("b", NOW);
        assert_eq!(
            verdict(&memory, &seen(&mine, 7, 2, true)),
            (Some(ResetReason::RecordMissing), Action::Join)
        );
        // A peer created it first, after the wipe: revisions restarted, same cluster ID (a
        // single member restarted with the same flags keeps it).
        let peers = record("b", NOW - 300);
        assert_eq!(
            verdict(&memory, &seen(&peers, 7, 4, false)),
            (Some(ResetReason::RevisionBackwards), Action::Join)
        );
    }

    #[test]
    fn a_restored_backup_is_detected_and_its_record_replaced() {
        let memory = veteran();
        // The same incarnation at an older revision: a restore from a backup of this cluster.
        let a = record("a", NOW - 3_600_000);
        assert_eq!(
            verdict(&memory, &seen(&a, 7, 300, false)),
            (Some(ResetReason::RevisionBackwards), Action::Replace)
        );
        // Restored into a new cluster (etcdctl snapshot restore with other flags).
        assert_eq!(
            verdict(&memory, &seen(&a, 9, 300, false)),
            (Some(ResetReason::ClusterIdChanged), Action::Replace)
        );
        // An incarnation this node left earlier comes back.
        let mut moved_on = memory.clone();
        moved_on.join(&record("b", NOW - 500_000), 7, 600, NOW - 400_000, None);
        assert_eq!(
            verdict(&moved_on, &seen(&a, 7, 900, false)),
            (Some(ResetReason::RolledBack), Action::Replace)
        );
    }

    #[test]
    fn an_unknown_record_from_before_the_reset_is_replaced_not_trusted() {
        let memory = veteran();
        // Unknown to this node and created before it last heard from the old store (a restore
        // of a backup older than this node's incarnation).
        let old = record("z", NOW - 7_200_000);
        assert_eq!(
            verdict(&memory, &seen(&old, 7, 50, false)),
            (Some(ResetReason::RevisionBackwards), Action::Replace)
        );
        // Created after this node last heard, but within two skews of its joining: it cannot
        // tell, so it replaces.
        let mut newcomer = StoreMemory::default();
        newcomer.join(&record("a", NOW - 3_600_000), 7, 100, NOW - 1_000, None);
        let recent = record("b", NOW);
        assert_eq!(
            verdict(&newcomer, &seen(&recent, 7, 5, false)),
            (Some(ResetReason::RevisionBackwards), Action::Replace)
        );
    }

    #[test]
    fn a_record_re_created_by_a_peer_in_a_whole_store_is_joined() {
        let memory = veteran();
        let b = record("b", NOW - 100_000);
        assert_eq!(
            verdict(&memory, &seen(&b, 7, 900, false)),
            (Some(ResetReason::IncarnationChanged), Action::Join)
        );
    }

    #[test]
    fn a_legacy_record_counts_as_an_incarnation() {
        let mut memory = StoreMemory::default();
        let legacy = ClusterRecord {
            incarnation: None,
            created_unix_ms: 0,
            bounds: None,
            ..record("x", 0)
        };
        memory.join(&legacy, 7, 100, NOW - 600_000, None);
        assert_eq!(memory.history, vec![None]);
        assert_eq!(
            verdict(&memory, &seen(&legacy, 7, 50, false)),
            (Some(ResetReason::RevisionBackwards), Action::Replace)
        );
        assert_eq!(
            verdict(&memory, &seen(&legacy, 7, 150, false)),
            (None, Action::Join)
        );
    }

    #[test]
    fn observe_refuses_a_broken_history_and_leaves_the_memory_as_it_was() {
        let mut memory = veteran();
        let before = memory.clone();
        assert_eq!(
            memory.observe(7, 20, NOW),
            Err(Broken::Revision { was: 500, now: 20 })
        );
        assert_eq!(
            memory.observe(8, 900, NOW),
            Err(Broken::ClusterId { was: 7, now: 8 })
        );
        assert_eq!(memory, before);
        memory.observe(7, 501, NOW).unwrap();
        assert_eq!((memory.max_revision, memory.last_seen_unix_ms), (501, NOW));
    }

    #[test]
    fn joining_after_a_reset_counts_it_remembers_bounds_and_starts_the_history_again() {
        let mut memory = veteran();
        let wide = ClusterRecord {
            bounds: Some(Bounds {
                window_ms: 10_000,
                max_clock_skew_ms: 500,
            }),
            ..record("b", NOW)
        };
        memory.join(
            &wide,
            7,
            3,
            NOW,
            Some((ResetReason::RecordMissing, "gone".into())),
        );
        assert_eq!(memory.resets, 1);
        assert_eq!(
            memory.max_revision, 3,
            "revisions restart with the new store"
        );
        assert_eq!(memory.joined, Some(Some("b".to_string())));
        assert_eq!(memory.history.len(), 2);
        assert_eq!(
            memory.bounds,
            Some(Bounds {
                window_ms: 10_000,
                max_clock_skew_ms: SKEW
            })
        );
        assert_eq!(
            memory.last_reset.as_ref().map(|r| r.reason),
            Some("record_missing")
        );
        for i in 0..2 * HISTORY {
            memory.join(&record(&format!("i{i}"), NOW), 7, 10, NOW, None);
        }
        assert_eq!(memory.history.len(), HISTORY);
    }
}
