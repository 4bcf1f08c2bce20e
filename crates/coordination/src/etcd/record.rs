//! The cluster record at `/snowdrift/<cluster>/layout`: the pinned layout, plus what the floor
//! after a store reset relies on: a random **incarnation** ID, the creator's clock at creation,
//! and the bounds (window, clock skew) every holder of the cluster promises to stay within.
//!
//! ```json
//! {"layout":{"timestamp_bits":41,…},"incarnation":"5f0c…","created_unix_ms":1767225600000,
//!  "window_ms":2000,"max_clock_skew_ms":2000}
//! ```
//!
//! Earlier versions stored a bare `LayoutSpec`; such a **legacy** record is still accepted, with
//! no incarnation and no bounds (its creation time is unknown, so it gives no genesis floor).
//! Versions that only know the bare form refuse the new one as "not a layout": a node that does
//! not honour the genesis floor cannot join a cluster that relies on it.
//!
//! Pure data and encoding; the transactions that read and write it are in `join.rs`.

use serde::{Deserialize, Serialize};
use snowdrift::LayoutSpec;

use crate::error::CoordError;
use crate::floor::Genesis;

/// The bounds a genesis floor relies on: no holder's window is longer, and no two holders'
/// clocks differ by more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Bounds {
    /// The longest window a holder may use, in ms.
    pub window_ms: u64,
    /// The most two holders' clocks may differ, in ms.
    pub max_clock_skew_ms: u64,
}

impl Bounds {
    /// The larger of each bound.
    pub fn max(self, other: Bounds) -> Bounds {
        Bounds {
            window_ms: self.window_ms.max(other.window_ms),
            max_clock_skew_ms: self.max_clock_skew_ms.max(other.max_clock_skew_ms),
        }
    }
}

/// The cluster record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterRecord {
    /// The pinned layout and epoch.
    pub layout: LayoutSpec,
    /// The incarnation: a random ID drawn when the record was created. `None` for a legacy
    /// record.
    pub incarnation: Option<String>,
    /// The creator's clock when it created the record, in Unix ms (0 for a legacy record).
    pub created_unix_ms: u64,
    /// The bounds holders promise to stay within (`None` for a legacy record).
    pub bounds: Option<Bounds>,
}

/// The stored form of a current record. Unknown fields are refused, as in `LayoutSpec`: a
/// field a later version adds may be one this version would have to honour.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    layout: LayoutSpec,
    incarnation: String,
    created_unix_ms: u64,
    window_ms: u64,
    max_clock_skew_ms: u64,
}

impl ClusterRecord {
    /// A new incarnation of a cluster with `layout`, created now (`created_unix_ms`).
    pub fn create(
        layout: LayoutSpec,
        created_unix_ms: u64,
        bounds: Bounds,
    ) -> Result<ClusterRecord, CoordError> {
        Ok(ClusterRecord {
            layout,
            incarnation: Some(new_incarnation()?),
            created_unix_ms,
            bounds: Some(bounds),
        })
    }

    /// The JSON stored in etcd. A legacy record (never written by this version) keeps its bare
    /// form.
    pub fn encode(&self) -> Result<Vec<u8>, CoordError> {
        let encoded = match (&self.incarnation, self.bounds) {
            (Some(incarnation), Some(bounds)) => serde_json::to_vec(&Stored {
                layout: self.layout,
                incarnation: incarnation.clone(),
                created_unix_ms: self.created_unix_ms,
                window_ms: bounds.window_ms,
                max_clock_skew_ms: bounds.max_clock_skew_ms,
            }),
            _ => serde_json::to_vec(&self.layout),
        };
        encoded.map_err(|e| CoordError::Config(format!("cannot encode the cluster record: {e}")))
    }

    /// Decodes a stored record, current or legacy; the error says what the value was.
    pub fn decode(value: &[u8]) -> Result<ClusterRecord, String> {
        if let Ok(stored) = serde_json::from_slice::<Stored>(value) {
            return Ok(ClusterRecord {
                layout: stored.layout,
                incarnation: Some(stored.incarnation),
                created_unix_ms: stored.created_unix_ms,
                bounds: Some(Bounds {
                    window_ms: stored.window_ms,
                    max_clock_skew_ms: stored.max_clock_skew_ms,
                }),
            });
        }
        match serde_json::from_slice::<LayoutSpec>(value) {
            Ok(layout) => Ok(ClusterRecord {
                layout,
                incarnation: None,
                created_unix_ms: 0,
                bounds: None,
            }),
            Err(e) => Err(format!(
                "neither a cluster record nor a layout ({e}): {:?}",
                String::from_utf8_lossy(value)
            )),
        }
    }

    /// The genesis bound for a claim in this incarnation: the record's creation, with the
    /// larger of its bounds and those this node remembers from earlier incarnations (a node
    /// that knew a longer window carries it). `None` for a legacy record, whose creation time
    /// is unknown.
    pub fn genesis(&self, remembered: Option<Bounds>) -> Option<Genesis> {
        let bounds = self.bounds?;
        let bounds = remembered.map_or(bounds, |r| r.max(bounds));
        Some(Genesis {
            created_unix_ms: self.created_unix_ms,
            window_ms: bounds.window_ms,
            max_clock_skew_ms: bounds.max_clock_skew_ms,
        })
    }

    /// The incarnation as people read it ("legacy" when there is none).
    pub fn describe_incarnation(&self) -> &str {
        self.incarnation.as_deref().unwrap_or("legacy")
    }
}

/// A fresh incarnation ID: 128 random bits from the operating system, in hex. Two records
/// created after two resets never share one.
pub fn new_incarnation() -> Result<String, CoordError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CoordError::Backend(format!("cannot draw a random incarnation ID: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Refuses a node whose window or clock-skew allowance is larger than the record's: the floor
/// the next holders get after a reset covers only what the record says. `key` names the
/// record in the message.
pub fn check_bounds(record: &ClusterRecord, own: Bounds, key: &str) -> Result<(), CoordError> {
    let Some(allowed) = record.bounds else {
        // A legacy record promises nothing, so there is nothing to exceed.
        return Ok(());
    };
    let over = [
        ("--window", own.window_ms, allowed.window_ms),
        (
            "--max-clock-skew",
            own.max_clock_skew_ms,
            allowed.max_clock_skew_ms,
        ),
    ]
    .into_iter()
    .find(|(_, mine, allowed)| mine > allowed);
    match over {
        None => Ok(()),
        Some((flag, mine, allowed)) => Err(CoordError::Config(format!(
            "{flag} {} is larger than the {} recorded in the cluster record {key} (incarnation \
             {}): if etcd loses its data, the floor of the next holders covers only the recorded \
             bounds. Start this node with {flag} {} or less; to change it for the whole \
             cluster, stop every node, delete {key} (the slots' marks are kept) and start them \
             with the new setting",
            ms(mine),
            ms(allowed),
            record.describe_incarnation(),
            ms(allowed),
        ))),
    }
}

fn ms(value: u64) -> humantime::FormattedDuration {
    humantime::format_duration(std::time::Duration::from_millis(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> LayoutSpec {
        LayoutSpec::from(snowdrift::Layout::default())
    }

    fn bounds(window_ms: u64, max_clock_skew_ms: u64) -> Bounds {
        Bounds {
            window_ms,
            max_clock_skew_ms,
        }
    }

    #[test]
    fn a_record_round_trips_and_a_legacy_layout_is_accepted() {
        let record =
            ClusterRecord::create(layout(), 1_800_000_000_000, bounds(2_000, 2_000)).unwrap();
        assert_eq!(record.incarnation.as_ref().map(String::len), Some(32));
        assert_eq!(ClusterRecord::decode(&record.encode().unwrap()), Ok(record));

        let legacy = serde_json::to_vec(&layout()).unwrap();
        let decoded = ClusterRecord::decode(&legacy).unwrap();
        assert_eq!(decoded.layout, layout());
        assert_eq!(
            (decoded.incarnation, decoded.created_unix_ms, decoded.bounds),
            (None, 0, None)
        );
        assert_eq!(ClusterRecord::decode(&legacy).unwrap().genesis(None), None);
        assert!(ClusterRecord::decode(b"{\"layout\":1}").is_err());
        assert!(ClusterRecord::decode(b"").is_err());
    }

    #[test]
    fn incarnations_differ() {
        assert_ne!(new_incarnation().unwrap(), new_incarnation().unwrap());
    }

    #[test]
    fn the_genesis_carries_the_larger_remembered_bounds() {
        let record = ClusterRecord::create(layout(), 5_000, bounds(1_000, 500)).unwrap();
        let genesis = record.genesis(Some(bounds(4_000, 200))).unwrap();
        assert_eq!(
            (
                genesis.created_unix_ms,
                genesis.window_ms,
                genesis.max_clock_skew_ms
            ),
            (5_000, 4_000, 500)
        );
    }

    #[test]
    fn a_node_over_the_recorded_bounds_is_refused_naming_the_flag() {
        let record = ClusterRecord::create(layout(), 5_000, bounds(2_000, 2_000)).unwrap();
        assert!(check_bounds(&record, bounds(2_000, 2_000), "/k").is_ok());
        assert!(check_bounds(&record, bounds(500, 100), "/k").is_ok());
        let err = check_bounds(&record, bounds(10_000, 2_000), "/k").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("--window 10s") && text.contains("the 2s recorded"),
            "{text}"
        );
        assert!(text.contains("/k"), "{text}");
        let err = check_bounds(&record, bounds(2_000, 3_000), "/k").unwrap_err();
        assert!(err.to_string().contains("--max-clock-skew 3s"), "{err}");
        let legacy = ClusterRecord::decode(&serde_json::to_vec(&layout()).unwrap()).unwrap();
        assert!(check_bounds(&legacy, bounds(100_000, 100_000), "/k").is_ok());
    }
}
