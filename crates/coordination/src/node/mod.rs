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
//! 3. **Persist** `hwm' = now + window`, never past the layout's last tick
//!    ([`crate::window::first_mark`]; fsync, or an acknowledged etcd transaction that checks
//!    ownership), and only then **raise** the generator's ceiling to the mark that write made
//!    durable. The local backend has one write in flight per slot and never abandons it.
//! 4. When less than half the window is left ([`crate::window::extension`]), go to 3. If
//!    persisting fails, the generator keeps issuing up to the old ceiling and then refuses
//!    (HTTP 503) until a write succeeds.
//! 5. At a **clean shutdown** the generator is fenced, which returns an exact bound on every
//!    tick it issued or will still issue, and the mark is lowered to it under the ownership
//!    check (and only if it is still the mark this holder last wrote), so a restart starts at
//!    once. A shutdown whose lowering failed leaves the mark a window ahead: the next holder
//!    waits, as after a crash.
//!
//! Every ID this holder issues is therefore at most a durable mark, and the next holder starts
//! above that mark, whatever the clocks or the lease timing do.
//!
//! Code: this file holds the handle, its status and the shutdown; `start.rs` steps 2 and 3 of a
//! claim; `keeper.rs` the keeper task of step 4, with fencing and reclaiming; `readiness.rs`
//! the judgement of whether the node can issue now or within its bounded wait.

mod keeper;
mod readiness;
mod start;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use arc_swap::ArcSwap;
use snowdrift::{IdGenerator, Layout};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::backend::Backend;
use crate::error::CoordError;
use crate::etcd::reset::StoreMemory;
use crate::floor::FloorSource;
use crate::identity::HolderIdentity;
use crate::seam::{ClaimContext, Coordinator, SlotHolder};
use crate::status::{ClockAdvance, NodePhase, NodeStatus};
use crate::window::WindowConfig;
use keeper::Keeper;
use start::{start_generator, Started};

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

    /// Checks every setting a node on `backend` will use, as [`Node::start`] does before it
    /// touches anything: the window's own rules ([`WindowConfig::validate`]), the window
    /// against the layout's end now ([`WindowConfig::validate_for_layout`]), and for etcd the
    /// backend's options and the window against the lease TTL
    /// ([`crate::EtcdOptions::validate_window`]). An error names the field at fault
    /// ([`CoordError::Setting`]), so a caller can name the flag or key it came from.
    ///
    /// ```
    /// use std::time::Duration;
    /// use snowdrift_coordination::{Backend, CoordError, EtcdOptions, NodeConfig, WindowConfig};
    ///
    /// let etcd = Backend::Etcd(EtcdOptions::new(vec!["http://127.0.0.1:2379".into()], "prod", 1));
    /// let mut config = NodeConfig::new(snowdrift::Layout::default());
    /// config.validate(&etcd)?;
    /// config.window = WindowConfig {
    ///     window: Duration::from_secs(12),
    ///     startup_max_wait: Duration::from_secs(12),
    ///     ..WindowConfig::default()
    /// };
    /// // Not below the 10 s lease TTL.
    /// let err = config.validate(&etcd).unwrap_err();
    /// assert!(matches!(err, CoordError::Setting { setting: "window", .. }), "{err}");
    /// # Ok::<(), CoordError>(())
    /// ```
    pub fn validate<C: Coordinator>(&self, backend: &C) -> Result<(), CoordError> {
        self.validate_at(backend, crate::identity::unix_ms_now())
    }

    /// [`NodeConfig::validate`] with the clock's reading given, in Unix milliseconds.
    pub fn validate_at<C: Coordinator>(
        &self,
        backend: &C,
        now_unix_ms: u64,
    ) -> Result<(), CoordError> {
        self.window.validate()?;
        self.window.validate_for_layout(&self.layout, now_unix_ms)?;
        backend.validate(self, now_unix_ms)
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
///
/// Generic over the [`Coordinator`] (the built-in [`Backend`] by default), so the same keeper
/// runs against a simulated store.
#[derive(Debug)]
pub struct Node<C: Coordinator = Backend> {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    keeper: Option<JoinHandle<Option<C::Holder>>>,
}

#[derive(Debug)]
struct Shared {
    backend: &'static str,
    layout: Layout,
    generator: ArcSwap<IdGenerator>,
    tracked: Mutex<Tracked>,
    /// What the node remembers of the etcd store across claims (see `etcd/reset.rs`).
    store: Arc<Mutex<StoreMemory>>,
    /// The bound on the first persist of a holding, and on the lowering at shutdown.
    persist_timeout: Duration,
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

impl Tracked {
    /// What the keeper knows right after `holder` was claimed and `started` opened on it:
    /// serving, with no error. `earlier` is the state before a reclaim, whose counters go on.
    fn serving<H: SlotHolder>(holder: &H, started: &Started, earlier: Option<&Tracked>) -> Tracked {
        Tracked {
            slot: holder.slot(),
            location: holder.describe(),
            floor: started.floor,
            floor_source: started.floor_source,
            record: holder.record(),
            high_water: Some(started.high_water),
            phase: NodePhase::Serving,
            lease: holder.lease(),
            persist_failures: earlier.map_or(0, |tracked| tracked.persist_failures),
            last_error: None,
            claims: earlier.map_or(0, |tracked| tracked.claims) + 1,
        }
    }
}

impl<C: Coordinator> Node<C> {
    /// Claims a slot, waits (bounded) for the clock to pass the slot's persisted mark, persists
    /// the first window and starts keeping it. The node can issue IDs when this returns.
    pub async fn start(backend: C, config: NodeConfig) -> Result<Node<C>, CoordError> {
        config.validate(&backend)?;
        let me = HolderIdentity::of_this_process(config.advertise.clone());
        let context = ClaimContext::new(config.window.window);
        let holder = backend.claim(&config.layout, &me, &context).await?;
        metrics::counter!("snowdrift_slot_claims_total").increment(1);
        let started = match start_generator(&holder, &config.layout, &config.window, None).await {
            Ok(started) => started,
            Err(e) => {
                let _ = holder.release().await;
                return Err(e);
            }
        };
        let tracked = Tracked::serving(&holder, &started, None);
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
            persist_timeout: config.window.window,
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

    /// Whether IDs can be issued now, or within the generator's bounded wait: serving, and
    /// the generator's own judgement ([`IdGenerator::issue_wait`]) finds the window open and
    /// the wait within `max_wait`. [`NodeStatus::not_ready`] says why not.
    pub fn is_ready(&self) -> bool {
        let phase = lock(&self.shared.tracked).phase;
        readiness::judge(phase, self.shared.generator.load().issue_wait(), None).is_ok()
    }

    /// A snapshot for operators.
    pub fn status(&self) -> NodeStatus {
        let tracked = lock(&self.shared.tracked).clone();
        let (store_resets, last_store_reset) = {
            let store = crate::etcd::reset::lock(&self.shared.store);
            (store.resets, store.last_reset.clone())
        };
        let generator = self.shared.generator.load();
        let readiness = readiness::judge(
            tracked.phase,
            generator.issue_wait(),
            tracked.last_error.as_deref(),
        );
        let clock_tick = generator.clock_tick();
        let ceiling = generator.ceiling();
        let clock_advance = generator.clock().slew_status().map(|slew| ClockAdvance {
            initial_lead_ms: slew.initial_lead_ms,
            lead_ms: slew.lead_ms,
            slew_percent: slew.rate.percent(),
            converges_at_unix_ms: slew.converged_at_unix_ms,
        });
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
            clock_lead_ms: clock_advance.as_ref().map_or(0, |advance| advance.lead_ms),
            clock_advance,
            headroom_ticks: ceiling.map_or(-(clock_tick as i64), |c| c as i64 - clock_tick as i64),
            fenced: generator.is_fenced(),
            ready: readiness.is_ok(),
            not_ready: readiness.err(),
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
    /// waits for it, as after a crash. The [`Stopped`] report says which of these happened, so
    /// the caller's last log line can be true; a failed release is the error.
    pub async fn shutdown(mut self) -> Result<Stopped, CoordError> {
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
            return Ok(Stopped::NoSlot);
        };
        let mark = match bound {
            None => MarkAtStop::Kept,
            Some(bound) => {
                // Bounded like the first persist: a hung disk or store must not hang the
                // shutdown. A write still running then keeps the local slot locked until it ends.
                let lowering = holder.lower_mark(bound);
                let lowered = tokio::time::timeout(self.shared.persist_timeout, lowering)
                    .await
                    .unwrap_or_else(|_| {
                        Err(CoordError::Backend(format!(
                            "lowering the mark timed out after {:?}",
                            self.shared.persist_timeout
                        )))
                    });
                match lowered {
                    Ok(Some(mark)) => {
                        lock(&self.shared.tracked).high_water = Some(mark);
                        tracing::info!(
                        high_water_tick = mark,
                        "lowered the slot's mark to the last tick issued: a restart starts at once"
                    );
                        MarkAtStop::Lowered(mark)
                    }
                    Ok(None) => MarkAtStop::Kept,
                    Err(e) => {
                        tracing::warn!(
                            error = %e,
                            "could not lower the slot's mark; the next holder waits until the clock passes it"
                        );
                        MarkAtStop::NotLowered(e.to_string())
                    }
                }
            }
        };
        holder.release().await?;
        Ok(Stopped::Released(mark))
    }
}

/// What a clean [`Node::shutdown`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    /// The slot was released; what became of its mark.
    Released(MarkAtStop),
    /// The node held no slot when it stopped (it had lost one and was claiming again).
    NoSlot,
}

/// The slot's persisted mark after a clean shutdown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkAtStop {
    /// Lowered to this tick, the last one issued: a restart starts at once.
    Lowered(u64),
    /// Left as it was: nothing to lower (no tick was issued below it, or another write moved
    /// it). It covers every ID issued.
    Kept,
    /// Lowering failed or timed out, for this reason: the mark stays a window ahead, which is
    /// safe, and the next holder waits until the clock passes it.
    NotLowered(String),
}

impl<C: Coordinator> Drop for Node<C> {
    fn drop(&mut self) {
        // Without a shutdown the keeper would run on; stop it so the slot is released (local
        // locks drop with the holder). A leased slot simply expires.
        let _ = self.stop.send(true);
    }
}

fn lock(tracked: &Mutex<Tracked>) -> MutexGuard<'_, Tracked> {
    // The data is plain values updated in one step; a panic elsewhere cannot leave it torn.
    tracked
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
