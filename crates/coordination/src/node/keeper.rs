//! The window keeper (step 4 of the protocol, and fencing and reclaiming for leased
//! backends): a task that extends the persisted window before the clock reaches it, and that
//! gives the slot up and claims one again when its ownership may have lapsed.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::start::{persist_timed, start_generator};
use super::{lock, NodeConfig, Shared, Tracked};
use crate::error::CoordError;
use crate::identity::HolderIdentity;
use crate::seam::{ClaimContext, Coordinator, SlotHolder};
use crate::status::NodePhase;
use crate::window::{keeper_step, KeeperStep};

/// The window keeper's context: what it needs to extend the window and to claim a slot again.
pub(super) struct Keeper<C: Coordinator> {
    pub(super) shared: Arc<Shared>,
    pub(super) backend: C,
    pub(super) config: NodeConfig,
    pub(super) me: HolderIdentity,
    /// The bounds and the store memory every claim of this node shares.
    pub(super) context: ClaimContext,
    /// The highest ceiling this node ever held, per slot: a later claim of the slot starts
    /// above it whatever the store says (a store that lost its data says nothing).
    pub(super) ceilings: Mutex<BTreeMap<(u64, u64), u64>>,
}

impl<C: Coordinator> Keeper<C> {
    /// Step 4, plus fencing and reclaiming for leased backends. Returns the holder on stop.
    pub(super) async fn run(
        self,
        mut holder: C::Holder,
        mut stopped: watch::Receiver<bool>,
    ) -> Option<C::Holder> {
        let Keeper { shared, config, .. } = &self;
        let window_ticks = config.window.window_ticks(config.layout.unit_ms());
        let max_tick = config.layout.max_tick();
        // The generator whose advanced clock was last seen still leading (its address only).
        let mut leading: Option<usize> = None;
        loop {
            tokio::select! {
                _ = stopped.changed() => return Some(holder),
                _ = tokio::time::sleep(config.window.check_interval) => {}
            }
            if let Some(lease) = holder.lease() {
                metrics::gauge!("snowdrift_lease_remaining_seconds").set(lease.remaining_seconds);
                lock(&shared.tracked).lease = Some(lease);
            }
            let overdue = holder
                .fence_deadline()
                .is_some_and(|deadline| Instant::now() >= deadline);
            let generator = shared.generator.load_full();
            log_slew_convergence(&generator, &mut leading);
            let ceiling = generator.ceiling();
            let step = keeper_step(
                overdue,
                generator.clock_tick(),
                ceiling,
                window_ticks,
                max_tick,
            );
            let target = match step {
                KeeperStep::Fence => {
                    let reason = "the lease deadline passed before it could be renewed".to_string();
                    holder = self.reclaim(holder, &mut stopped, reason).await?;
                    continue;
                }
                KeeperStep::Wait => continue,
                KeeperStep::Extend(target) => target,
            };
            match persist_timed(&holder, target, config.window.window / 2).await {
                Ok(mark) => {
                    // Remembered before the generator may use it, so the memory is never
                    // below a ceiling the generator had.
                    self.remember(holder.slot(), mark);
                    // Raising a fenced generator is refused by the generator itself.
                    let _ = generator.raise_ceiling(mark);
                    let mut tracked = lock(&shared.tracked);
                    if tracked.last_error.take().is_some() {
                        tracing::info!(high_water_tick = mark, "high-water persistence recovered");
                    }
                    tracked.high_water = Some(mark);
                }
                Err(CoordError::SlotLost { reason, .. }) => {
                    holder = self.reclaim(holder, &mut stopped, reason).await?;
                }
                Err(e) => {
                    let mut tracked = lock(&shared.tracked);
                    tracked.persist_failures += 1;
                    if tracked.last_error.is_none() {
                        tracing::warn!(error = %e, ceiling_tick = ?ceiling, "cannot persist the high-water mark; serving until the ceiling");
                    }
                    tracked.last_error = Some(e.to_string());
                }
            }
        }
    }

    /// Fences the generator, gives the old slot up and claims one again (perhaps another), retrying
    /// until it succeeds or the node stops. Returns `None` if the node stopped meanwhile.
    async fn reclaim(
        &self,
        old: C::Holder,
        stopped: &mut watch::Receiver<bool>,
        reason: String,
    ) -> Option<C::Holder> {
        let Keeper {
            shared,
            backend,
            config,
            me,
            context,
            ..
        } = self;
        shared.generator.load().fence();
        metrics::counter!("snowdrift_slot_losses_total").increment(1);
        let (datacenter, machine) = old.slot();
        tracing::error!(datacenter, machine, %reason, "fenced: stopped issuing; claiming a slot again");
        {
            let mut tracked = lock(&shared.tracked);
            tracked.phase = NodePhase::Reclaiming;
            tracked.last_error = Some(format!("slot lost: {reason}"));
        }
        let _ = old.release().await;

        let mut backoff = Duration::from_millis(100);
        loop {
            if *stopped.borrow() {
                return None;
            }
            let attempt = async {
                let holder = backend.claim(&config.layout, me, context).await?;
                let remembered = self.remembered(holder.slot());
                match start_generator(&holder, &config.layout, &config.window, remembered).await {
                    Ok(started) => Ok((holder, started)),
                    Err(e) => {
                        let _ = holder.release().await;
                        Err(e)
                    }
                }
            };
            let result = tokio::select! {
                _ = stopped.changed() => return None,
                result = attempt => result,
            };
            match result {
                Ok((holder, started)) => {
                    metrics::counter!("snowdrift_slot_claims_total").increment(1);
                    let slot = holder.slot();
                    tracing::info!(
                        datacenter = slot.0,
                        machine = slot.1,
                        floor_tick = started.floor,
                        floor_source = ?started.floor_source,
                        "claimed a slot again; serving"
                    );
                    self.remember(slot, started.high_water);
                    let mut tracked = lock(&shared.tracked);
                    let refreshed = Tracked::serving(&holder, &started, Some(&tracked));
                    shared.generator.store(Arc::new(started.generator));
                    *tracked = refreshed;
                    return Some(holder);
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "claiming a slot failed");
                    lock(&shared.tracked).last_error = Some(e.to_string());
                    tokio::select! {
                        _ = stopped.changed() => return None,
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

impl<C: Coordinator> Keeper<C> {
    /// Records that the node holds (or is about to hold) a ceiling of `mark` on `slot`.
    fn remember(&self, slot: (u64, u64), mark: u64) {
        let mut ceilings = self
            .ceilings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = ceilings.entry(slot).or_insert(mark);
        *entry = (*entry).max(mark);
    }

    /// The highest ceiling the node held on `slot`, if it held it.
    fn remembered(&self, slot: (u64, u64)) -> Option<u64> {
        self.ceilings
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(&slot)
            .copied()
    }
}

/// Logs once when an advanced ID clock (`--clock-behind advance`) meets the wall clock.
/// `leading` remembers the generator last seen leading, by address, so a reclaim's new
/// generator is judged on its own.
fn log_slew_convergence(generator: &Arc<snowdrift::IdGenerator>, leading: &mut Option<usize>) {
    let Some(slew) = generator.clock().slew_status() else {
        return;
    };
    let me = Arc::as_ptr(generator) as usize;
    if slew.lead_ms > 0 {
        *leading = Some(me);
    } else if *leading == Some(me) {
        *leading = None;
        tracing::info!(
            initial_lead_ms = slew.initial_lead_ms,
            slew_percent = slew.rate.percent(),
            "the advanced ID clock has met the wall clock; it follows the wall clock from now on"
        );
    }
}
