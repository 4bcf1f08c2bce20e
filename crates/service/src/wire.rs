//! The shapes of answers, as JSON: shared by the HTTP routes, `snowdrift decode --json`,
//! `snowdrift layout --json` and the other protocols' `INFO` and `DECODE`.
//!
//! IDs are always JSON **strings**: JavaScript's numbers are exact only up to 2^53, and an ID is
//! larger. Times are RFC 3339 in UTC with milliseconds.

use serde::{Deserialize, Serialize};
use snowdrift::{Encoding, Id, Layout};

use crate::error::ServiceError;

/// `GET /v1/id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdResponse {
    /// The ID, in the requested text form (decimal by default).
    pub id: String,
}

/// `GET /v1/ids`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdsResponse {
    /// The IDs, increasing, in the requested text form.
    pub ids: Vec<String>,
}

/// The error body of every protocol that speaks JSON: `{"error":{"code":…,"message":…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// The inside of [`ErrorBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// A short stable code, such as `invalid_count`.
    pub code: String,
    /// What happened, in words.
    pub message: String,
}

impl From<&ServiceError> for ErrorBody {
    fn from(err: &ServiceError) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: err.code.to_string(),
                message: err.message.clone(),
            },
        }
    }
}

/// An ID taken apart: `GET /v1/decode/{id}` and `snowdrift decode --json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The other text forms of the same ID.
    pub base32: String,
    /// Base62 form.
    pub base62: String,
    /// Hex form.
    pub hex: String,
}

impl DecodedId {
    /// Reads `text` in any encoding ([`Encoding::detect`]) and takes it apart under `layout`.
    /// A string that is not an ID, or an ID that does not fit the layout, is a bad request.
    pub fn parse(text: &str, layout: &Layout) -> Result<DecodedId, ServiceError> {
        let id = Encoding::detect(text)?;
        Ok(DecodedId::new(id, layout)?)
    }

    /// Takes `id` apart under `layout`.
    pub fn new(id: Id, layout: &Layout) -> Result<DecodedId, snowdrift::Error> {
        let parts = id.parts(layout)?;
        Ok(DecodedId {
            id: id.to_string(),
            time: parts.rfc3339(layout),
            unix_ms: parts.unix_ms(layout),
            tick: parts.tick,
            datacenter: parts.datacenter,
            machine: parts.machine,
            sequence: parts.sequence,
            base32: id.to_base32(),
            base62: id.to_base62(),
            hex: id.to_hex(),
        })
    }
}

/// A layout described for people and tools: `snowdrift layout --json` and `GET /v1/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

impl LayoutInfo {
    /// Describes `layout` under `name`.
    pub fn new(name: &str, layout: &Layout) -> LayoutInfo {
        LayoutInfo {
            name: name.to_string(),
            timestamp_bits: layout.timestamp_bits(),
            datacenter_bits: layout.datacenter_bits(),
            machine_bits: layout.machine_bits(),
            sequence_bits: layout.sequence_bits(),
            epoch_ms: layout.epoch_ms(),
            epoch: rfc3339_ms(layout.epoch_ms()),
            unit_ms: layout.unit_ms(),
            datacenters: layout.max_datacenter() + 1,
            machines_per_datacenter: layout.max_machine() + 1,
            workers: layout.workers(),
            ids_per_tick: layout.ids_per_tick(),
            ids_per_second_per_worker: layout.ids_per_second_per_worker(),
            positive_i64: layout.keeps_sign_bit_clear(),
            ends: rfc3339_ms(layout.end_unix_ms()),
        }
    }
}

/// `GET /v1/info`: what this node is and how its window stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InfoResponse {
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
    pub coordination: serde_json::Value,
}

/// The clock part of [`InfoResponse`].
#[derive(Debug, Clone, Serialize, Deserialize)]
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

/// Unix milliseconds as RFC 3339 UTC with milliseconds (years past 9999 as `+YYYYY`), for every value.
pub fn rfc3339_ms(unix_ms: u64) -> String {
    snowdrift::format_unix_ms(unix_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_reads_every_encoding_and_checks_the_layout() {
        let layout = snowdrift::Preset::Discord.layout();
        let decimal = DecodedId::parse("175928847299117063", &layout).unwrap();
        assert_eq!(decimal.time, "2016-04-30T11:18:25.796Z");
        assert_eq!(decimal.sequence, 7);
        for form in [&decimal.base32, &decimal.base62, &decimal.hex] {
            assert_eq!(DecodedId::parse(form, &layout).unwrap(), decimal);
        }
        let too_big = DecodedId::parse(&u64::MAX.to_string(), &Layout::default()).unwrap_err();
        assert_eq!(too_big.code, "id_out_of_range");
        let json = serde_json::to_value(&decimal).unwrap();
        assert!(json["id"].is_string());
    }

    #[test]
    fn layout_info_reports_the_end_of_time() {
        let info = LayoutInfo::new("snowdrift", &Layout::default());
        assert_eq!(info.ends, "2090-09-07T15:47:35.551Z");
        assert_eq!(info.workers, 1024);
        assert_eq!(info.ids_per_second_per_worker, 4_096_000);
    }
}
