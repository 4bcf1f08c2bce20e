//! Core and coordination values in the shapes of the wire contract (`snowdrift_wire::json`):
//! an ID taken apart, a layout described, the node's info, and times as RFC 3339. Shared by the
//! HTTP routes, `snowdrift decode --json`, `snowdrift layout --json` and the other protocols'
//! `INFO` and `DECODE`.
//!
//! The shapes themselves live in the wire crate, which knows neither the core nor
//! coordination; turning those crates' values into them is this module's job.

use snowdrift::{Encoding, Id, Layout};
use snowdrift_coordination::NodeStatus;
pub use snowdrift_wire::json::{ClockInfo, DecodedId, LayoutInfo};

use crate::error::ServiceError;

/// `GET /v1/info` with this node's coordination state.
pub type Info = snowdrift_wire::json::InfoResponse<NodeStatus>;

/// Reads `text` in any encoding ([`Encoding::detect`]) and takes it apart under `layout`.
/// A string that is not an ID, or an ID that does not fit the layout, is a bad request.
pub fn parse_id(text: &str, layout: &Layout) -> Result<DecodedId, ServiceError> {
    let id = Encoding::detect(text)?;
    Ok(decoded_id(id, layout)?)
}

/// Takes `id` apart under `layout`.
pub fn decoded_id(id: Id, layout: &Layout) -> Result<DecodedId, snowdrift::Error> {
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

/// Describes `layout` under `name`.
pub fn layout_info(name: &str, layout: &Layout) -> LayoutInfo {
    LayoutInfo {
        name: name.to_string(),
        timestamp_bits: layout.timestamp_bits(),
        datacenter_bits: layout.datacenter_bits(),
        machine_bits: layout.machine_bits(),
        sequence_bits: layout.sequence_bits(),
        field_order: layout.field_order().name().to_string(),
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
        let decimal = parse_id("175928847299117063", &layout).unwrap();
        assert_eq!(decimal.time, "2016-04-30T11:18:25.796Z");
        assert_eq!(decimal.sequence, 7);
        for form in [&decimal.base32, &decimal.base62, &decimal.hex] {
            assert_eq!(parse_id(form, &layout).unwrap(), decimal);
        }
        let too_big = parse_id(&u64::MAX.to_string(), &Layout::default()).unwrap_err();
        assert_eq!(too_big.code, "id_out_of_range");
        let json = serde_json::to_value(&decimal).unwrap();
        assert!(json["id"].is_string());
    }

    #[test]
    fn layout_info_reports_the_end_of_time() {
        let info = layout_info("snowdrift", &Layout::default());
        assert_eq!(info.ends, "2090-09-07T15:47:35.551Z");
        assert_eq!(info.workers, 1024);
        assert_eq!(info.ids_per_second_per_worker, 4_096_000);
        assert_eq!(info.field_order, "time_node_sequence");
        let sonyflake = layout_info("sonyflake", &snowdrift::Preset::Sonyflake.layout());
        assert_eq!(sonyflake.field_order, "time_sequence_node");
    }
}
