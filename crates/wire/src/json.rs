//! The HTTP/JSON contract: the body of every answer a node's HTTP listener gives.
//!
//! The service writes these shapes and the client reads them, so both depend on this one
//! definition (the service writes the ID bodies by hand for speed, and a test of the service
//! checks those bytes against the types here). Requests carry no body: `GET /v1/id`,
//! `GET /v1/ids?count=N`, `GET /v1/decode/{id}`, with an optional `format=` of `decimal`,
//! `base32`, `base62` or `hex`.
//!
//! IDs are always JSON **strings**: JavaScript's numbers are exact only up to 2^53, and an ID is
//! larger. Times are RFC 3339 in UTC with milliseconds.
//!
//! ```
//! use snowdrift_wire::json::{ErrorBody, IdsBody};
//!
//! let ids: IdsBody = serde_json::from_str(r#"{"ids":["1","18446744073709551615"]}"#)?;
//! assert_eq!(ids.ids[1], u64::MAX.to_string());
//!
//! let refused: ErrorBody =
//!     serde_json::from_str(r#"{"error":{"code":"batch_out_of_range","message":"ask for 1..=10000"}}"#)?;
//! assert_eq!(refused.error.code, "batch_out_of_range");
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::{Deserialize, Serialize};

/// `GET /v1/id`: `{"id":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdBody {
    /// The ID, in the requested text form (decimal by default).
    pub id: String,
}

/// `GET /v1/ids?count=N`: `{"ids":["…",…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdsBody {
    /// Exactly `count` IDs, strictly increasing, in the requested text form.
    pub ids: Vec<String>,
}

/// Every error answer: `{"error":{"code":"…","message":"…"}}`, with status 400, 404 or 503
/// (503 also carries `Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// A short stable code, such as `invalid_count` or `ceiling_reached`.
    pub code: String,
    /// What happened and what to do, in words.
    pub message: String,
}

/// `GET /healthz` (`{"status":"ok"}`) and `GET /readyz` (`{"status":"ready"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusBody {
    /// `ok` or `ready`.
    pub status: String,
}

/// `GET /v1/decode/{id}`: an ID taken apart under the node's layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecodedId {
    /// The ID in decimal.
    pub id: String,
    /// When it was made (the start of its tick), RFC 3339 UTC.
    pub time: String,
    /// When it was made, in Unix milliseconds.
    pub unix_ms: u64,
    /// Ticks since the layout's epoch.
    pub tick: u64,
    /// The datacenter field.
    pub datacenter: u64,
    /// The machine field.
    pub machine: u64,
    /// The sequence within the tick.
    pub sequence: u64,
    /// The same ID as fixed-width Crockford base32 (13 characters, sorts like the number).
    pub base32: String,
    /// The same ID as fixed-width base62 (11 characters, sorts like the number).
    pub base62: String,
    /// The same ID as 16 lowercase hex digits.
    pub hex: String,
}

/// The field order of a layout described by a server that predates [`LayoutInfo::field_order`].
fn default_field_order() -> String {
    "time_node_sequence".to_string()
}

/// A layout described for people and tools: part of `GET /v1/info`, and
/// `snowdrift layout --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LayoutInfo {
    /// Preset name, or `custom`.
    pub name: String,
    /// Width of the timestamp field.
    pub timestamp_bits: u8,
    /// Width of the datacenter field.
    pub datacenter_bits: u8,
    /// Width of the machine field.
    pub machine_bits: u8,
    /// Width of the sequence field.
    pub sequence_bits: u8,
    /// The order of the fields below the timestamp: `time_node_sequence` (Snowflake: the
    /// datacenter and machine above the sequence) or `time_sequence_node` (Sonyflake). Absent
    /// from servers older than the field, which were always `time_node_sequence`.
    #[serde(default = "default_field_order")]
    pub field_order: String,
    /// The epoch, in Unix milliseconds.
    pub epoch_ms: u64,
    /// The epoch, RFC 3339 UTC.
    pub epoch: String,
    /// Length of one tick, in milliseconds.
    pub unit_ms: u64,
    /// Number of datacenters.
    pub datacenters: u64,
    /// Machines per datacenter.
    pub machines_per_datacenter: u64,
    /// Datacenters × machines.
    pub workers: u64,
    /// IDs per tick per worker.
    pub ids_per_tick: u64,
    /// Most IDs per second per worker.
    pub ids_per_second_per_worker: u64,
    /// Whether every ID is a positive signed 64-bit integer.
    pub positive_i64: bool,
    /// When the layout runs out of time, RFC 3339 UTC.
    pub ends: String,
}

/// `GET /v1/info`: what the node is and how its window stands.
///
/// `C` is the coordination state, whose fields depend on the backend (local state directory or
/// etcd); a reader that does not care takes it as `serde::de::IgnoredAny`, one that does as a
/// JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InfoResponse<C> {
    /// The service's version.
    pub version: String,
    /// The layout in use (pinned in the state directory or cluster).
    pub layout: LayoutInfo,
    /// The datacenter field of this node's IDs.
    pub datacenter: u64,
    /// The machine field of this node's IDs.
    pub machine: u64,
    /// Whether the node may issue IDs now.
    pub ready: bool,
    /// Most IDs one request may ask for.
    pub max_batch: u64,
    /// When the service started, RFC 3339 UTC.
    pub started_at: String,
    /// Seconds since the service started.
    pub uptime_seconds: u64,
    /// The clock as the generator sees it.
    pub clock: ClockInfo,
    /// The coordination state: backend, slot, floor, ceiling, high-water mark, lease.
    pub coordination: C,
}

/// The clock part of [`InfoResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClockInfo {
    /// The generator's current time, RFC 3339 UTC.
    pub now: String,
    /// The generator's current tick.
    pub tick: u64,
    /// The tick of the next ID to be issued.
    pub next_tick: u64,
    /// How far the generator's state is ahead of its clock, in ms (borrowed or reserved time).
    pub lead_ms: u64,
    /// The last tick the persisted window allows, if any.
    pub ceiling_tick: Option<u64>,
    /// Time left before the ceiling, in ms.
    pub ceiling_headroom_ms: Option<u64>,
    /// Wall clock minus the generator's clock at the last comparison, in ms.
    pub wall_offset_ms: i64,
    /// Backward steps of the wall clock seen (and not followed).
    pub backward_steps: u64,
    /// Forward steps of the wall clock adopted.
    pub forward_steps: u64,
    /// Times a request slept because a tick's sequence was used up.
    pub exhaustion_waits: u64,
}
