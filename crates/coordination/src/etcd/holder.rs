//! A slot held in etcd: the claim sequence, the persisted mark, the lease's deadline and the
//! release. The pieces live in their own files; this one puts them in order.
//!
//! Claim sequence: connect → pin or check the layout → read the cluster → check clocks against
//! the live holders → grant a lease → claim the lowest free slot (reading its mark). Any
//! failure after the grant revokes the lease, so a refused node leaves nothing behind.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use etcd_client::Client;
use snowdrift::Layout;

use super::claim::{self, Claimed};
use super::client::connect;
use super::clock_check;
use super::keys::Keys;
use super::layout_pin;
use super::lease::Lease;
use super::options::EtcdOptions;
use super::persist::{self, Ownership};
use super::snapshot;
use crate::error::CoordError;
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
    /// The mark etcd acknowledged, plus one; 0 while there is none. Skips needless writes.
    durable_plus_one: AtomicU64,
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
    /// Joins the cluster and claims a slot.
    pub(crate) async fn claim(
        options: &EtcdOptions,
        layout: &Layout,
        me: &HolderIdentity,
    ) -> Result<EtcdHolder, CoordError> {
        options.validate()?;
        layout.check_worker(options.datacenter, 0)?;
        let keys = Keys::new(&options.cluster)?;
        let client = connect(options).await?;
        layout_pin::pin_or_check(&client, &keys, options, layout).await?;
        let cluster = snapshot::read(&client, &keys, options).await?;
        clock_check::check(&cluster, layout, unix_ms_now(), options)?;

        let lease = Lease::grant(&client, options).await?;
        let claimed = match claim::claim(
            &client,
            &keys,
            options,
            layout,
            lease.id(),
            me,
            &cluster.slots,
        )
        .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                // Best effort: if this fails too, the lease lapses after its TTL.
                let _ = lease.revoke(&client, options.request_timeout).await;
                return Err(e);
            }
        };
        tracing::info!(
            cluster = %options.cluster,
            datacenter = options.datacenter,
            machine = claimed.machine,
            lease = format!("{:x}", lease.id()),
            ttl_s = lease.ttl().as_secs(),
            previous_high_water_tick = claimed.previous,
            "claimed an etcd slot"
        );
        Ok(EtcdHolder {
            slot_key: keys.slot(options.datacenter, claimed.machine),
            mark_key: keys.high_water(options.datacenter, claimed.machine),
            client,
            options: options.clone(),
            me: me.clone(),
            durable_plus_one: AtomicU64::new(claimed.previous.map_or(0, |mark| mark + 1)),
            claimed,
            lease,
        })
    }

    pub(crate) fn slot(&self) -> (u64, u64) {
        (self.options.datacenter, self.claimed.machine)
    }

    pub(crate) fn previous_high_water(&self) -> Option<u64> {
        self.claimed.previous
    }

    /// Raises the slot's mark to at least `tick` in the ownership-checked transaction.
    pub(crate) async fn persist(&self, tick: u64) -> Result<u64, CoordError> {
        let durable_plus_one = self.durable_plus_one.load(Ordering::Acquire);
        if durable_plus_one > tick {
            return Ok(durable_plus_one - 1);
        }
        let owner = Ownership {
            slot_key: &self.slot_key,
            mark_key: &self.mark_key,
            lease: self.lease.id(),
            create_revision: self.claimed.create_revision,
            slot: self.slot(),
        };
        let identity = claim::stamped(&self.me)?;
        let mark = persist::persist(
            &self.client,
            &owner,
            identity,
            tick,
            self.options.request_timeout,
        )
        .await?;
        self.durable_plus_one
            .fetch_max(mark.saturating_add(1), Ordering::AcqRel);
        Ok(mark)
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

    pub(crate) fn describe(&self) -> String {
        format!(
            "etcd {} (hwm {}, lease {:x})",
            self.slot_key,
            self.mark_key,
            self.lease.id()
        )
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
