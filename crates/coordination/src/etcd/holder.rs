//! A slot held in etcd: the claim sequence, the persisted mark, the lease's deadline and the
//! release. The pieces live in their own files; this one puts them in order.
//!
//! Claim sequence: connect → join the cluster record (pin or check the layout, notice a reset
//! of the store) → read the cluster → check clocks against the live holders → grant a lease →
//! claim the lowest free slot (reading its mark). Any failure after the grant revokes the
//! lease, so a refused node leaves nothing behind.
//!
//! Every answer after the join is checked against the node's memory of the store
//! (`reset.rs`): one from another cluster, or with a revision below one seen, means the store
//! was reset under the holder; it gives the slot up and claims again, and that claim judges the
//! reset.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_client::Client;
use snowdrift::Layout;

use super::claim::{self, Claimed};
use super::client::connect;
use super::clock_check;
use super::join::{self, Joined};
use super::keys::Keys;
use super::lease::Lease;
use super::options::EtcdOptions;
use super::persist::{self, Ownership};
use super::record::Bounds;
use super::reset::{lock, Broken, StoreMemory};
use super::snapshot;
use crate::error::CoordError;
use crate::floor::{claim_time_bound, Genesis};
use crate::identity::{unix_ms_now, HolderIdentity};
use crate::status::LeaseStatus;

/// A slot held through an etcd lease.
pub(crate) struct EtcdHolder {
    client: Client,
    options: EtcdOptions,
    slot_key: String,
    mark_key: String,
    me: HolderIdentity,
    claimed: Claimed,
    lease: Lease,
    /// The cluster record joined for this claim.
    joined: Joined,
    /// The node's memory of the store, shared with its later claims.
    memory: Arc<Mutex<StoreMemory>>,
    /// The highest mark etcd acknowledged (or the claim read); skips needless writes and is
    /// what a clean shutdown expects to find when it lowers the mark.
    durable: Mutex<Option<u64>>,
    /// The claim-time bound: this node's clock read once the claim was answered, with the
    /// largest bounds it knows of.
    claim_time: Genesis,
}

impl std::fmt::Debug for EtcdHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EtcdHolder")
            .field("slot_key", &self.slot_key)
            .field("lease", &self.lease)
            .field("claimed", &self.claimed)
            .finish_non_exhaustive()
    }
}

impl EtcdHolder {
    /// Joins the cluster and claims a slot. `window` is the node's window (a bound the cluster
    /// record must allow); `memory` is what the node remembers of the store from its earlier
    /// claims, and is updated.
    pub(crate) async fn claim(
        options: &EtcdOptions,
        layout: &Layout,
        me: &HolderIdentity,
        window: Duration,
        memory: &Arc<Mutex<StoreMemory>>,
    ) -> Result<EtcdHolder, CoordError> {
        options.validate()?;
        layout.check_worker(options.datacenter, 0)?;
        let keys = Keys::new(&options.cluster)?;
        let client = connect(options).await?;
        let own = Bounds {
            window_ms: window.as_millis() as u64,
            max_clock_skew_ms: options.max_clock_skew.as_millis() as u64,
        };
        let joined = join::join(&client, &keys, options, layout, own, memory).await?;
        let cluster = snapshot::read(&client, &keys, options).await?;
        if let Some((cluster_id, revision)) = cluster.header {
            observe(memory, cluster_id, revision).map_err(reset_under_claim)?;
        }
        clock_check::check(&cluster, layout, unix_ms_now(), options)?;

        let me = {
            let memory = lock(memory);
            HolderIdentity {
                incarnation: joined.record.incarnation.clone(),
                store_resets: memory.resets,
                ..me.clone()
            }
        };
        let lease = Lease::grant(&client, options).await?;
        let claimed = claim::claim(
            &client,
            &keys,
            options,
            layout,
            lease.id(),
            &me,
            &cluster.slots,
            &cluster.marks,
            layout.tick_of_unix_ms(unix_ms_now()).unwrap_or(0),
        )
        .await
        .and_then(|claimed| {
            observe(memory, claimed.header.0, claimed.header.1).map_err(reset_under_claim)?;
            Ok(claimed)
        });
        let claimed = match claimed {
            Ok(claimed) => claimed,
            Err(e) => {
                // Best effort: if this fails too, the lease lapses after its TTL.
                let _ = lease.revoke(&client, options.request_timeout).await;
                return Err(e);
            }
        };
        // Read after the claim's answer, so after the claim took effect in the store: every
        // mark any holder persisted before it lies below this clock plus the skew plus the
        // window, whatever the store lost (`floor.rs`).
        let claim_time = claim_time_bound(
            unix_ms_now(),
            joined.genesis,
            own.window_ms,
            own.max_clock_skew_ms,
        );
        tracing::info!(
            cluster = %options.cluster,
            datacenter = options.datacenter,
            machine = claimed.machine,
            lease = format!("{:x}", lease.id()),
            ttl_s = lease.ttl().as_secs(),
            previous_high_water_tick = claimed.previous,
            incarnation = joined.record.describe_incarnation(),
            "claimed an etcd slot"
        );
        Ok(EtcdHolder {
            slot_key: keys.slot(options.datacenter, claimed.machine),
            mark_key: keys.high_water(options.datacenter, claimed.machine),
            client,
            options: options.clone(),
            me,
            durable: Mutex::new(claimed.previous),
            claimed,
            lease,
            joined,
            memory: Arc::clone(memory),
            claim_time,
        })
    }

    /// The claim-time bound, for the floor.
    pub(crate) fn claim_time(&self) -> Genesis {
        self.claim_time
    }

    /// The genesis bound of the cluster record joined, for the floor.
    pub(crate) fn genesis(&self) -> Option<Genesis> {
        self.joined.genesis
    }

    /// `(incarnation, created_unix_ms)` of the cluster record joined (`None` for a legacy one).
    pub(crate) fn record(&self) -> Option<(String, u64)> {
        let record = &self.joined.record;
        record
            .incarnation
            .clone()
            .map(|incarnation| (incarnation, record.created_unix_ms))
    }

    pub(crate) fn slot(&self) -> (u64, u64) {
        (self.options.datacenter, self.claimed.machine)
    }

    pub(crate) fn previous_high_water(&self) -> Option<u64> {
        self.claimed.previous
    }

    /// Raises the slot's mark to at least `tick` in the ownership-checked transaction.
    pub(crate) async fn persist(&self, tick: u64) -> Result<u64, CoordError> {
        if let Some(durable) = self.durable().filter(|&durable| durable >= tick) {
            return Ok(durable);
        }
        let owner = Ownership {
            slot_key: &self.slot_key,
            mark_key: &self.mark_key,
            lease: self.lease.id(),
            create_revision: self.claimed.create_revision,
            slot: self.slot(),
        };
        let identity = claim::stamped(&self.me)?;
        let persisted = persist::persist(
            &self.client,
            &owner,
            identity,
            tick,
            self.options.request_timeout,
        )
        .await?;
        if let Some((cluster_id, revision)) = persisted.header {
            // The mark is durable in the store that answered; but if that store is not the one
            // this holder joined, the floors of the whole cluster may be stale: give the slot up
            // and let the next claim judge the reset.
            observe(&self.memory, cluster_id, revision).map_err(|e| CoordError::SlotLost {
                datacenter: self.options.datacenter,
                machine: self.claimed.machine,
                reason: format!("{e}: the store was reset or replaced under this holder"),
            })?;
        }
        let mark = persisted.mark;
        let mut durable = lock_durable(&self.durable);
        *durable = (*durable).max(Some(mark));
        Ok(mark)
    }

    /// At a clean shutdown, after the generator was fenced with `bound`: lowers the slot's
    /// mark to `bound` if this holder still owns the slot and the mark is still the one it last
    /// had acknowledged. Returns the mark left in etcd when it was lowered.
    pub(crate) async fn lower_mark(&self, bound: u64) -> Result<Option<u64>, CoordError> {
        let Some(expected) = crate::window::lowering(bound, self.durable()) else {
            return Ok(None);
        };
        let owner = Ownership {
            slot_key: &self.slot_key,
            mark_key: &self.mark_key,
            lease: self.lease.id(),
            create_revision: self.claimed.create_revision,
            slot: self.slot(),
        };
        let lowered = persist::lower(
            &self.client,
            &owner,
            expected,
            bound,
            self.options.request_timeout,
        )
        .await?;
        Ok(lowered.then_some(bound))
    }

    /// When the node must stop issuing: its conservative lease deadline minus the margin.
    pub(crate) fn fence_deadline(&self) -> Instant {
        let deadline = self.lease.deadline();
        deadline
            .checked_sub(self.options.safety_margin)
            .unwrap_or(deadline)
    }

    pub(crate) fn lease(&self) -> LeaseStatus {
        let now = Instant::now();
        let fence = self.fence_deadline();
        let remaining = if fence >= now {
            (fence - now).as_secs_f64()
        } else {
            -(now - fence).as_secs_f64()
        };
        LeaseStatus {
            id: self.lease.id(),
            ttl_seconds: self.lease.ttl().as_secs(),
            remaining_seconds: if self.lease.is_lost() {
                remaining.min(0.0)
            } else {
                remaining
            },
        }
    }

    /// The mark's key.
    pub(crate) fn mark_place(&self) -> String {
        self.mark_key.clone()
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "etcd {} (hwm {}, lease {:x})",
            self.slot_key,
            self.mark_key,
            self.lease.id()
        )
    }

    fn durable(&self) -> Option<u64> {
        *lock_durable(&self.durable)
    }

    /// Revokes the lease: the slot key is deleted at once and the slot is free. The mark stays
    /// (it has no lease), so the next holder starts above everything issued here.
    pub(crate) async fn release(self) -> Result<(), CoordError> {
        let EtcdHolder {
            client,
            options,
            lease,
            ..
        } = self;
        lease.revoke(&client, options.request_timeout).await
    }
}

fn lock_durable(durable: &Mutex<Option<u64>>) -> std::sync::MutexGuard<'_, Option<u64>> {
    // A plain value written in one step; a panic elsewhere cannot leave it torn.
    durable
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Records an answer's header in the memory; an answer that breaks the store's history fails
/// the operation, so the claim is given up and made again, and that claim judges the reset.
fn observe(memory: &Mutex<StoreMemory>, cluster_id: u64, revision: i64) -> Result<(), Broken> {
    lock(memory).observe(cluster_id, revision, unix_ms_now())
}

fn reset_under_claim(broken: Broken) -> CoordError {
    CoordError::Backend(format!(
        "{broken}: the store was reset or replaced during the claim; claiming again"
    ))
}
