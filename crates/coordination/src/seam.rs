//! The coordinator seam: the operations the node's lifecycle needs from the place slots live,
//! as two traits, so that one keeper (`node/keeper.rs`) runs against the local backend, etcd,
//! and any simulated store a test or a model brings.
//!
//! - [`Coordinator`]: claims a slot (after pinning or checking the layout);
//! - [`SlotHolder`]: a claimed slot: persists and lowers its mark, reports when its ownership
//!   may lapse (the fence deadline of a leased backend; renewals run inside the backend), and
//!   releases it.
//!
//! The decisions the protocol makes over these operations (the floor, the first mark, when to
//! extend or fence, whether to lower at shutdown) are pure functions in [`crate::floor`] and
//! [`crate::window`]; the keeper only carries them out. The stateright model in
//! `crates/model/tests/model/` calls the same functions.
//!
//! Native `async fn` in traits would leave the futures' `Send` unstated, and the keeper runs on
//! a multi-threaded runtime, so the methods return `impl Future + Send`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snowdrift::Layout;

use crate::error::CoordError;
use crate::etcd::reset::StoreMemory;
use crate::floor::Genesis;
use crate::identity::HolderIdentity;
use crate::node::NodeConfig;
use crate::status::LeaseStatus;

/// What a claim needs from the node besides the layout and its identity: the bounds it must
/// fit in, and what the node remembers from its earlier claims. One per node, shared by all
/// of its claims.
#[derive(Debug, Clone)]
pub struct ClaimContext {
    /// The node's window, which a cluster record must allow.
    pub window: Duration,
    /// The node's memory of the store across claims (used by etcd to notice a reset).
    pub store: Arc<Mutex<StoreMemory>>,
}

impl ClaimContext {
    /// A context for a node with `window` that remembers nothing yet.
    pub fn new(window: Duration) -> ClaimContext {
        ClaimContext {
            window,
            store: Arc::new(Mutex::new(StoreMemory::default())),
        }
    }
}

/// A place worker slots live: the local state directory, etcd, or a simulated store.
pub trait Coordinator: Send + Sync + 'static {
    /// A slot this coordinator handed out.
    type Holder: SlotHolder;

    /// The backend's name, as shown in status and logs.
    fn name(&self) -> &'static str;

    /// Checks the backend's own settings against `config` at `now_unix_ms`, beyond the
    /// window's rules that [`NodeConfig::validate_at`] checks for every backend.
    fn validate(&self, config: &NodeConfig, now_unix_ms: u64) -> Result<(), CoordError>;

    /// Claims a slot for `layout`, after pinning or checking the layout.
    fn claim(
        &self,
        layout: &Layout,
        me: &HolderIdentity,
        context: &ClaimContext,
    ) -> impl Future<Output = Result<Self::Holder, CoordError>> + Send;
}

/// A claimed slot.
pub trait SlotHolder: Send + Sync + 'static {
    /// `(datacenter, machine)`.
    fn slot(&self) -> (u64, u64);

    /// The mark left by earlier holders of the slot, read by the claim, if any.
    fn previous_high_water(&self) -> Option<u64>;

    /// The cluster record's genesis bound, for backends that have one (etcd).
    fn genesis(&self) -> Option<Genesis>;

    /// The claim-time bound ([`crate::floor::claim_time_bound`]), for backends whose store can
    /// be restored from a backup under the node without it noticing (etcd).
    fn claim_time(&self) -> Option<Genesis>;

    /// `(incarnation, created_unix_ms)` of the cluster record joined (etcd, current records).
    fn record(&self) -> Option<(String, u64)>;

    /// Makes a mark of at least `tick` durable while this holder owns the slot; returns the
    /// mark that is durable now. Only after this returns may the generator's ceiling rise.
    fn persist(&self, tick: u64) -> impl Future<Output = Result<u64, CoordError>> + Send;

    /// At a clean shutdown, after the generator was fenced with `bound` (no tick above it was
    /// or will be issued): lowers the persisted mark to `bound` under the ownership check, if
    /// the mark is still the one this holder last made durable
    /// ([`crate::window::lowering`]). Returns the mark when it was lowered.
    fn lower_mark(
        &self,
        bound: u64,
    ) -> impl Future<Output = Result<Option<u64>, CoordError>> + Send;

    /// When the holder must stop issuing because its ownership may lapse (leased backends;
    /// their renewals move it on).
    fn fence_deadline(&self) -> Option<Instant>;

    /// The lease, for leased backends.
    fn lease(&self) -> Option<LeaseStatus>;

    /// Where the slot's mark lives: its file, or its etcd key.
    fn mark_place(&self) -> String;

    /// A human description of where the slot lives.
    fn describe(&self) -> String;

    /// Gives the slot up so that another process can take it at once.
    fn release(self) -> impl Future<Output = Result<(), CoordError>> + Send;
}
