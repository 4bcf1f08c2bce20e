//! The cluster's layout pin: the first node records its layout and epoch at
//! `/snowdrift/<cluster>/layout` in a create-if-absent transaction, and every later node must
//! match it. Two layouts can produce the same bits, so a cluster never mixes them.

use etcd_client::{Client, Compare, CompareOp, Txn, TxnOp, TxnOpResponse};
use snowdrift::{Layout, LayoutSpec};

use super::client::{call, record_write};
use super::keys::Keys;
use super::options::EtcdOptions;
use crate::error::CoordError;
use crate::local::layout_pin::describe;

/// Pins `layout` for the cluster, or checks it against the existing pin.
pub(crate) async fn pin_or_check(
    client: &Client,
    keys: &Keys,
    options: &EtcdOptions,
    layout: &Layout,
) -> Result<(), CoordError> {
    let key = keys.layout();
    let spec = LayoutSpec::from(*layout);
    let value = serde_json::to_vec(&spec).map_err(|e| CoordError::Config(e.to_string()))?;
    let txn = Txn::new()
        .when([Compare::version(key.as_str(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(key.as_str(), value, None)])
        .or_else([TxnOp::get(key.as_str(), None)]);
    let mut kv = client.kv_client();
    let answer = call("layout pin", options.request_timeout, kv.txn(txn)).await?;
    if answer.succeeded() {
        record_write("layout_pin");
        tracing::info!(key = %key, layout = %describe(&spec), "pinned the cluster's layout");
        return Ok(());
    }
    let stored = answer.op_responses().into_iter().find_map(|op| match op {
        TxnOpResponse::Get(get) => get.kvs().first().map(|kv| kv.value().to_vec()),
        _ => None,
    });
    // The key was there a moment ago; if it vanished (an operator deleted it), say so rather
    // than pin again behind their back.
    let stored = stored.ok_or_else(|| CoordError::CorruptState {
        path: key.clone().into(),
        reason: "the layout pin disappeared while it was being read; retry".into(),
    })?;
    let pinned: LayoutSpec =
        serde_json::from_slice(&stored).map_err(|e| CoordError::CorruptState {
            path: key.clone().into(),
            reason: format!("not a layout: {e}"),
        })?;
    if pinned != spec {
        return Err(CoordError::LayoutMismatch {
            place: format!("etcd key {key}"),
            pinned: describe(&pinned),
            configured: format!(
                "{} (differs in {})",
                describe(&spec),
                differences(&pinned, &spec)
            ),
        });
    }
    Ok(())
}

/// The names of the fields in which two layouts differ, e.g. "epoch, machine bits".
pub(crate) fn differences(pinned: &LayoutSpec, configured: &LayoutSpec) -> String {
    let fields = [
        (
            "timestamp bits",
            pinned.timestamp_bits == configured.timestamp_bits,
        ),
        (
            "datacenter bits",
            pinned.datacenter_bits == configured.datacenter_bits,
        ),
        (
            "machine bits",
            pinned.machine_bits == configured.machine_bits,
        ),
        (
            "sequence bits",
            pinned.sequence_bits == configured.sequence_bits,
        ),
        ("epoch", pinned.epoch_ms == configured.epoch_ms),
        ("time unit", pinned.unit_ms == configured.unit_ms),
    ];
    let differing: Vec<&str> = fields
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect();
    differing.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_name_each_field() {
        let default = LayoutSpec::from(Layout::default());
        let twitter = LayoutSpec::from(snowdrift::Preset::Twitter.layout());
        assert_eq!(differences(&default, &twitter), "epoch");
        let wide = LayoutSpec {
            machine_bits: 2,
            sequence_bits: 15,
            ..default
        };
        assert_eq!(differences(&default, &wide), "machine bits, sequence bits");
    }
}
