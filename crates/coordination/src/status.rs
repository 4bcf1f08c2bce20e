//! A snapshot of a node's state, for `/v1/info`, `/readyz`, metrics and `cluster status`.

use serde::Serialize;

use crate::floor::FloorSource;

/// What the node is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodePhase {
    /// Issuing IDs (if the window and the clock allow).
    Serving,
    /// The slot was lost or is about to be: fenced, claiming a slot again.
    Reclaiming,
    /// Shut down.
    Stopped,
}

/// The lease of a leased backend.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LeaseStatus {
    /// The lease ID.
    pub id: i64,
    /// Its time to live, in seconds.
    pub ttl_seconds: u64,
    /// Time left before this node fences itself, in seconds (negative: overdue).
    pub remaining_seconds: f64,
}

/// A snapshot of a node.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NodeStatus {
    /// `local` or `etcd`.
    pub backend: &'static str,
    /// Where the slot lives (state files, or etcd keys).
    pub slot_location: String,
    /// The datacenter field.
    pub datacenter: u64,
    /// The machine field.
    pub machine: u64,
    /// The first tick this holder may use.
    pub floor_tick: u64,
    /// What set the floor: the slot's mark, the cluster record's genesis bound, or this node's
    /// memory of a ceiling it held.
    pub floor_source: FloorSource,
    /// The last tick the generator may use now.
    pub ceiling_tick: Option<u64>,
    /// The durable high-water mark.
    pub high_water_tick: Option<u64>,
    /// The clock's tick now.
    pub clock_tick: u64,
    /// The tick of the next ID.
    pub next_tick: u64,
    /// How far the clock lags the state, in ms (0 normally).
    pub clock_lag_ms: u64,
    /// How far the ID clock leads the wall clock, in ms: zero unless the node started behind
    /// its floor with `--clock-behind advance` and has not yet slewed back.
    pub clock_lead_ms: u64,
    /// The advanced ID clock's slew, when the node started on one (`--clock-behind advance`).
    pub clock_advance: Option<ClockAdvance>,
    /// Ticks of window left: ceiling minus the clock's tick (negative: past the ceiling).
    pub headroom_ticks: i64,
    /// Whether the generator was fenced.
    pub fenced: bool,
    /// Whether IDs can be issued now, or within the generator's bounded wait.
    pub ready: bool,
    /// Why not, when not ready: which condition failed.
    pub not_ready: Option<NotReady>,
    /// What the node is doing.
    pub phase: NodePhase,
    /// The lease, for leased backends.
    pub lease: Option<LeaseStatus>,
    /// High-water writes that failed.
    pub persist_failures: u64,
    /// The last coordination error, if the last attempt failed.
    pub last_error: Option<String>,
    /// Slots claimed by this process so far (more than one after a handover).
    pub claims: u64,
    /// The incarnation of the cluster record this holding joined (etcd; `None` for a legacy
    /// record or the local backend).
    pub incarnation: Option<String>,
    /// When that record was created, by its creator's clock (Unix ms).
    pub record_created_unix_ms: Option<u64>,
    /// Resets of the store (etcd lost its data, was rolled back or replaced) this node detected.
    pub store_resets: u64,
    /// The last of them.
    pub last_store_reset: Option<StoreReset>,
}

/// An advanced ID clock: it started at the slot's floor, ahead of the wall clock, and runs
/// slower than real time until the wall clock meets it (`--clock-behind advance`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockAdvance {
    /// The lead over the wall clock at start-up, in ms: the bound on every ID's lead.
    pub initial_lead_ms: u64,
    /// The lead now, in ms (zero once converged).
    pub lead_ms: u64,
    /// How much slower than real time the ID clock runs while it leads, in percent.
    pub slew_percent: f64,
    /// When the ID clock meets (or met) the wall clock, in Unix ms.
    pub converges_at_unix_ms: u64,
}

/// Why a node is not ready: which condition of "can issue now, or within its bounded wait"
/// failed. Shown by `/readyz` and in `NodeStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotReady {
    /// A stable code: `reclaiming` or `stopped` (the node's phase), or the code of the error
    /// a call would get now: `fenced`, `ceiling_reached` (the window ran out: the mark could
    /// not be extended in time), `layout_exhausted`, `clock_behind` or `sequence_exhausted`
    /// (the wait would pass `max_wait`).
    pub reason: &'static str,
    /// What failed, for people.
    pub detail: String,
}

/// A reset of the coordination store this node detected: the store lost its data, was rolled
/// back or was replaced while the node ran.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoreReset {
    /// Why the node believes so: `record_missing`, `revision_backwards`, `rolled_back`,
    /// `cluster_id_changed` or `incarnation_changed` (the label of
    /// `snowdrift_store_resets_total`).
    pub reason: &'static str,
    /// What it saw.
    pub detail: String,
    /// When, by this node's clock (Unix ms).
    pub unix_ms: u64,
}
