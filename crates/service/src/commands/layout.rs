//! `snowdrift layout`: a layout's bit allocation, capacity and the date it runs out.

use std::time::{Duration, SystemTime};

use snowdrift::FieldOrder;

use super::{write_stdout, Failure};
use crate::cli::LayoutArgs;
use crate::describe::{layout_info, LayoutInfo};

/// Runs `snowdrift layout`.
pub fn run(args: &LayoutArgs) -> Result<(), Failure> {
    let layout = args.layout.layout();
    let info = layout_info(args.layout.name(), &layout);
    let text = if args.json {
        serde_json::to_string_pretty(&info)
            .map_err(|err| Failure::Runtime(format!("cannot write JSON: {err}")))?
    } else {
        describe(&info, layout.field_order(), layout.end_time())
    };
    write_stdout(|out| writeln!(out, "{text}"))
}

/// The text report.
fn describe(info: &LayoutInfo, order: FieldOrder, end: SystemTime) -> String {
    let left = match end.duration_since(SystemTime::now()) {
        Ok(left) => format!("in {:.1} years", years(left)),
        Err(_) => "already ran out".to_string(),
    };
    let total_bits = u32::from(info.timestamp_bits)
        + u32::from(info.datacenter_bits)
        + u32::from(info.machine_bits)
        + u32::from(info.sequence_bits);
    // The fields as they sit in the ID, from the most significant end.
    let timestamp = format!("timestamp {}", info.timestamp_bits);
    let node = format!(
        "datacenter {} | machine {}",
        info.datacenter_bits, info.machine_bits
    );
    let sequence = format!("sequence {}", info.sequence_bits);
    let in_order = match order {
        FieldOrder::TimeNodeSequence => [timestamp, node, sequence],
        FieldOrder::TimeSequenceNode => [timestamp, sequence, node],
    };
    let fields = format!("| {} |", in_order.join(" | "));
    format!(
        "layout      {name}\n\
         bits        {fields}  ({total_bits} of 64)\n\
         epoch       {epoch} (unix ms {epoch_ms}), tick {unit} ms\n\
         workers     {workers} ({dcs} datacenters x {machines} machines)\n\
         per worker  {per_tick} IDs per tick, {per_second} IDs/s\n\
         all workers {all} IDs/s\n\
         positive    {positive}\n\
         runs out    {ends} ({left})",
        name = info.name,
        epoch = info.epoch,
        epoch_ms = info.epoch_ms,
        unit = info.unit_ms,
        workers = group(u128::from(info.workers)),
        dcs = group(u128::from(info.datacenters)),
        machines = group(u128::from(info.machines_per_datacenter)),
        per_tick = group(u128::from(info.ids_per_tick)),
        per_second = group(u128::from(info.ids_per_second_per_worker)),
        all = group(u128::from(info.ids_per_second_per_worker) * u128::from(info.workers)),
        positive = if info.positive_i64 {
            "yes: every ID fits a signed 64-bit integer (Java long, PostgreSQL bigint)"
        } else {
            "no: IDs use bit 63, so store them unsigned or as text"
        },
        ends = info.ends,
    )
}

fn years(span: Duration) -> f64 {
    span.as_secs_f64() / (365.2425 * 86_400.0)
}

/// `4096000` → `4,096,000`.
fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(4_096_000), "4,096,000");
    }

    #[test]
    fn the_report_names_the_end_date() {
        let layout = snowdrift::Layout::default();
        let text = describe(
            &layout_info("snowdrift", &layout),
            layout.field_order(),
            layout.end_time(),
        );
        assert!(text.contains("2090-09-07T15:47:35.551Z"), "{text}");
        assert!(text.contains("4,096,000 IDs/s"), "{text}");
        assert!(
            text.contains("1,024 (32 datacenters x 32 machines)"),
            "{text}"
        );
    }
}
