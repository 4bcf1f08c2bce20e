//! A running node: it claims a slot, starts a generator inside a persisted window, keeps the
//! window ahead of the clock, and, for leased backends, fences itself and claims again when its
//! ownership may lapse.
//!
//! # The window protocol (DESIGN.md, invariant 2)
//! 1. **Claim** a slot; read its high-water mark `hwm` left by earlier holders.
//! 2. **Floor** = one above the highest of `hwm`, the cluster record's genesis bound (etcd: what
//!    holders of a lost incarnation may still issue) and the highest ceiling this node ever
//!    held on the slot ([`crate::floor`]). A clock behind the floor is waited for, up to
//!    `startup_max_wait`, or start-up fails saying how far behind it is and why.
//! 3. **Persist** `hwm' = now + window` (fsync, or an acknowledged etcd transaction that checks
//!    ownership), and only then **raise** the generator's ceiling to `hwm'`.
//! 4. When less than half the window is left, go to 3. If persisting fails, the generator keeps
//!    issuing up to the old ceiling and then refuses (HTTP 503) until a write succeeds.
//! 5. At a **clean shutdown** the generator is fenced, which returns an exact bound on every
//!    tick it issued or will still issue, and the mark is lowered to it under the ownership
//!    check (and only if it is still the mark this holder last wrote), so a restart starts at
//!    once. A shutdown whose lowering failed leaves the mark a window ahead: the next holder
//!    waits, as after a crash.
//!
//! Every ID this holder issues is therefore at most a durable mark, and the next holder starts
//! above that mark, whatever the clocks or the lease timing do.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use snowdrift::{IdGenerator, Layout};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backend::{Backend, ClaimContext, Holder};
use crate::error::CoordError;
use crate::etcd::reset::StoreMemory;
use crate::floor::{claim_floor, FloorInputs, FloorSource};
use crate::identity::HolderIdentity;
use crate::status::{NodePhase, NodeStatus};
use crate::window::WindowConfig;

/// What a node needs besides its backend.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// The layout (and epoch) of the ID space; pinned in the backend on first use.
    pub layout: Layout,
    /// The window protocol's settings.
    pub window: WindowConfig,
    /// Addresses this node serves on, recorded in its slot for operators and peers.
    pub advertise: Vec<String>,
}

impl NodeConfig {
    /// A config with the default window and no advertised addresses.
    pub fn new(layout: Layout) -> NodeConfig {
        NodeConfig {
            layout,
            window: WindowConfig::default(),
            advertise: Vec::new(),
        }
    }
}

/// A generator that holds a slot and keeps its window persisted.
///
/// ```no_run
/// # async fn demo() -> Result<(), snowdrift_coordination::CoordError> {
/// use snowdrift_coordination::{Backend, LocalOptions, MachineChoice, Node, NodeConfig};
///
/// let backend = Backend::Local(LocalOptions {
///     data_dir: "./snowdrift-data".into(),
///     datacenter: 0,
///     machine: MachineChoice::Auto,
/// });
/// let node = Node::start(backend, NodeConfig::new(snowdrift::Layout::default())).await?;
/// let id = node.generator().next_id()?;
/// println!("{id} from slot {}/{}", node.status().datacenter, node.status().machine);
/// node.shutdown().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Node {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    keeper: Option<JoinHandle<Option<Holder>>>,
}

#[derive(Debug)]
struct Shared {
    backend: &'static str,
    layout: Layout,
    generator: ArcSwap<IdGenerator>,
    tracked: Mutex<Tracked>,
    /// What the node remembers of the etcd store across claims (see `etcd/reset.rs`).
    store: Arc<Mutex<StoreMemory>>,
}

/// What the keeper learns as it goes; read for status snapshots, never on the ID path.
#[derive(Debug, Clone)]
struct Tracked {
    slot: (u64, u64),
    location: String,
    floor: u64,
    floor_source: FloorSource,
    /// `(incarnation, created_unix_ms)` of the cluster record joined (etcd).
    record: Option<(String, u64)>,
    high_water: Option<u64>,
    phase: NodePhase,
    lease: Option<crate::status::LeaseStatus>,
    persist_failures: u64,
    last_error: Option<String>,
    claims: u64,
}

impl Node {
    /// Claims a slot, waits (bounded) for the clock to pass the slot's persisted mark, persists
    /// the first window and starts keeping it. The node can issue IDs when this returns.
    pub async fn start(backend: Backend, config: NodeConfig) -> Result<Node, CoordError> {
        config.window.validate()?;
        let me = HolderIdentity::of_this_process(config.advertise.clone());
        let context = ClaimContext {
            window: config.window.window,
            store: Arc::new(Mutex::new(StoreMemory::default())),
        };
        let holder = backend.claim(&config.layout, &me, &context).await?;
        metrics::counter!("snowdrift_slot_claims_total").increment(1);
        let started = match start_generator(&holder, &config.layout, &config.window, None).await {
            Ok(started) => started,
            Err(e) => {
                let _ = holder.release().await;
                return Err(e);
            }
        };
        let tracked = Tracked {
            slot: holder.slot(),
            location: holder.describe(),
            floor: started.floor,
            floor_source: started.floor_source,
            record: holder.record(),
            high_water: Some(started.high_water),
            phase: NodePhase::Serving,
            lease: holder.lease(),
            persist_failures: 0,
            last_error: None,
            claims: 1,
        };
        tracing::info!(
            backend = backend.name(),
            datacenter = tracked.slot.0,
            machine = tracked.slot.1,
            floor_tick = started.floor,
            floor_source = ?started.floor_source,
            high_water_tick = started.high_water,
            window_ms = config.window.window.as_millis() as u64,
            "slot claimed and first window persisted"
        );
        let ceilings = BTreeMap::from([(tracked.slot, started.high_water)]);
        let shared = Arc::new(Shared {
            backend: backend.name(),
            layout: config.layout,
            generator: ArcSwap::from_pointee(started.generator),
            tracked: Mutex::new(tracked),
            store: Arc::clone(&context.store),
        });
        let (stop, stopped) = watch::channel(false);
        let keeper = Keeper {
            shared: Arc::clone(&shared),
            backend,
            config,
            me,
            context,
            ceilings: Mutex::new(ceilings),
        };
        let keeper = tokio::spawn(keeper.run(holder, stopped));
        Ok(Node {
            shared,
            stop,
            keeper: Some(keeper),
        })
    }

    /// The current generator. It may be replaced after a slot handover, so fetch it per request.
    pub fn generator(&self) -> Arc<IdGenerator> {
        self.shared.generator.load_full()
    }

    /// The current generator without touching its reference count: the cheaper form for hot
    /// paths. Do not hold the guard across an `.await`.
    pub fn generator_guard(&self) -> arc_swap::Guard<Arc<IdGenerator>> {
        self.shared.generator.load()
    }

    /// The ID space's layout.
    pub fn layout(&self) -> Layout {
        self.shared.layout
    }

    /// Whether IDs can be issued now: serving, not fenced, inside the window, clock not behind.
    pub fn is_ready(&self) -> bool {
        let phase = lock(&self.shared.tracked).phase;
        ready(phase, &self.shared.generator.load())
    }

    /// A snapshot for operators.
    pub fn status(&self) -> NodeStatus {
        let tracked = lock(&self.shared.tracked).clone();
        let (store_resets, last_store_reset) = {
            let store = crate::etcd::reset::lock(&self.shared.store);
            (store.resets, store.last_reset.clone())
        };
        let generator = self.shared.generator.load();
        let clock_tick = generator.clock_tick();
        let ceiling = generator.ceiling();
        NodeStatus {
            backend: self.shared.backend,
            slot_location: tracked.location,
            datacenter: tracked.slot.0,
            machine: tracked.slot.1,
            floor_tick: tracked.floor,
            floor_source: tracked.floor_source,
            ceiling_tick: ceiling,
            high_water_tick: tracked.high_water,
            clock_tick,
            next_tick: generator.next_tick(),
            clock_lag_ms: generator.clock_lag().as_millis() as u64,
            headroom_ticks: ceiling.map_or(-(clock_tick as i64), |c| c as i64 - clock_tick as i64),
            fenced: generator.is_fenced(),
            ready: ready(tracked.phase, &generator),
            phase: tracked.phase,
            lease: tracked.lease,
            persist_failures: tracked.persist_failures,
            last_error: tracked.last_error,
            claims: tracked.claims,
            incarnation: tracked.record.as_ref().map(|(id, _)| id.clone()),
            record_created_unix_ms: tracked.record.map(|(_, created)| created),
            store_resets,
            last_store_reset,
        }
    }

    /// Stops the keeper, fences the generator, lowers the slot's mark to the exact bound the
    /// fence returns (so an immediate restart starts at once instead of waiting out the
    /// window), then releases the slot (for etcd: revokes the lease, so the slot is free at
    /// once). If lowering fails the mark stays a window ahead, which is safe: the next holder
    /// waits for it, as after a crash.
    pub async fn shutdown(mut self) -> Result<(), CoordError> {
        let _ = self.stop.send(true);
        let holder = match self.keeper.take() {
            Some(keeper) => keeper
                .await
                .map_err(|e| CoordError::Backend(format!("window keeper failed: {e}")))?,
            None => None,
        };
        lock(&self.shared.tracked).phase = NodePhase::Stopped;
        // The keeper has stopped, so nothing raises the mark any more; the fence's bound covers
        // every ID this generator returned or will still return.
        let bound = self.shared.generator.load().fence();
        let Some(holder) = holder else {
            return Ok(());
        };
        if let Some(bound) = bound {
            match holder.lower_mark(bound).await {
                Ok(Some(mark)) => {
                    lock(&self.shared.tracked).high_water = Some(mark);
                    tracing::info!(
                        high_water_tick = mark,
                        "lowered the slot's mark to the last tick issued: a restart starts at once"
                    );
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(
                    error = %e,
                    "could not lower the slot's mark; the next holder waits until the clock passes it"
                ),
            }
        }
        holder.release().await
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Without a shutdown the keeper would run on; stop it so the slot is released (local
        // locks drop with the holder). A leased slot simply expires.
        let _ = self.stop.send(true);
    }
}

/// Whether `generator` can issue now: serving, not fenced, inside its window, clock not behind.
fn ready(phase: NodePhase, generator: &IdGenerator) -> bool {
    let clock = generator.clock_tick();
    phase == NodePhase::Serving
        && !generator.is_fenced()
        && generator.ceiling().is_some_and(|ceiling| ceiling >= clock)
        && generator.next_tick() <= clock.saturating_add(1)
}

fn lock(tracked: &Mutex<Tracked>) -> MutexGuard<'_, Tracked> {
    // The data is plain values updated in one step; a panic elsewhere cannot leave it torn.
    tracked
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A generator started inside its first persisted window.
struct Started {
    generator: IdGenerator,
    floor: u64,
    floor_source: FloorSource,
    high_water: u64,
}

/// Steps 2 and 3 of the protocol for a freshly claimed slot. `remembered` is the highest
/// ceiling this node held on the slot before, if it did.
async fn start_generator(
    holder: &Holder,
    layout: &Layout,
    window: &WindowConfig,
    remembered: Option<u64>,
) -> Result<Started, CoordError> {
    let decided = claim_floor(&FloorInputs {
        stored_mark: holder.previous_high_water(),
        genesis: holder.genesis(),
        remembered_ceiling: remembered,
        layout,
    })
    .map_err(|e| CoordError::CorruptState {
        path: holder.describe().into(),
        reason: e.to_string(),
    })?;
    let (floor, floor_source) = (decided.tick, decided.source);
    let max_wait = decided.max_wait(window.startup_max_wait, layout);
    let (datacenter, machine) = holder.slot();
    let generator = IdGenerator::builder(*layout)
        .worker(datacenter, machine)
        .floor(floor)
        .closed()
        .max_wait(window.max_wait)
        .max_lead_ticks(window.max_lead_ticks)
        .build()?;

    let lag = generator.clock_lag();
    if lag > max_wait {
        return Err(CoordError::ClockBehindHighWater {
            behind: lag,
            max_wait,
            floor: floor_source,
        });
    }
    if !lag.is_zero() {
        tracing::warn!(
            lag_ms = lag.as_millis() as u64,
            floor_tick = floor,
            floor_source = ?floor_source,
            "clock is behind the slot's floor; waiting for it"
        );
        let deadline = Instant::now() + max_wait + Duration::from_millis(layout.unit_ms());
        while !generator.clock_lag().is_zero() {
            if Instant::now() > deadline {
                return Err(CoordError::ClockBehindHighWater {
                    behind: generator.clock_lag(),
                    max_wait,
                    floor: floor_source,
                });
            }
            tokio::time::sleep(generator.clock_lag().max(Duration::from_millis(1))).await;
        }
    }

    let target = generator.clock_tick().max(floor) + window.window_ticks(layout.unit_ms());
    let high_water = persist_timed(holder, target, window.window).await?;
    generator.raise_ceiling(high_water)?;
    Ok(Started {
        generator,
        floor,
        floor_source,
        high_water,
    })
}

/// Persists with a timeout, recording latency and failures.
async fn persist_timed(holder: &Holder, target: u64, timeout: Duration) -> Result<u64, CoordError> {
    let started = Instant::now();
    let result = match tokio::time::timeout(timeout, holder.persist(target)).await {
        Ok(result) => result,
        Err(_) => Err(CoordError::Backend(format!(
            "persisting the high-water mark timed out after {timeout:?}"
        ))),
    };
    metrics::histogram!("snowdrift_hwm_persist_seconds").record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!("snowdrift_hwm_persist_failures_total").increment(1);
    }
    result
}

/// The window keeper's context: what it needs to extend the window and to claim a slot again.
struct Keeper {
    shared: Arc<Shared>,
    backend: Backend,
    config: NodeConfig,
    me: HolderIdentity,
    /// The bounds and the store memory every claim of this node shares.
    context: ClaimContext,
    /// The highest ceiling this node ever held, per slot: a later claim of the slot starts
    /// above it whatever the store says (a store that lost its data says nothing).
    ceilings: Mutex<BTreeMap<(u64, u64), u64>>,
}

impl Keeper {
    /// Step 4, plus fencing and reclaiming for leased backends. Returns the holder on stop.
    async fn run(self, mut holder: Holder, mut stopped: watch::Receiver<bool>) -> Option<Holder> {
        let Keeper { shared, config, .. } = &self;
        let window_ticks = config.window.window_ticks(config.layout.unit_ms());
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
            if overdue {
                let reason = "the lease deadline passed before it could be renewed".to_string();
                holder = self.reclaim(holder, &mut stopped, reason).await?;
                continue;
            }

            let generator = shared.generator.load_full();
            let clock = generator.clock_tick();
            let ceiling = generator.ceiling().unwrap_or(0);
            if ceiling >= clock + window_ticks / 2 {
                continue;
            }
            match persist_timed(&holder, clock + window_ticks, config.window.window / 2).await {
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
                        tracing::warn!(error = %e, ceiling_tick = ceiling, "cannot persist the high-water mark; serving until the ceiling");
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
        old: Holder,
        stopped: &mut watch::Receiver<bool>,
        reason: String,
    ) -> Option<Holder> {
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
                    shared.generator.store(Arc::new(started.generator));
                    let mut tracked = lock(&shared.tracked);
                    tracked.slot = slot;
                    tracked.location = holder.describe();
                    tracked.floor = started.floor;
                    tracked.floor_source = started.floor_source;
                    tracked.record = holder.record();
                    tracked.high_water = Some(started.high_water);
                    tracked.phase = NodePhase::Serving;
                    tracked.lease = holder.lease();
                    tracked.last_error = None;
                    tracked.claims += 1;
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

impl Keeper {
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
