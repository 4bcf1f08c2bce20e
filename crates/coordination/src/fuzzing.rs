//! Entry points for the `fuzz/` targets of the stored-state decoders: the local backend's
//! high-water file, and the values the etcd backend reads back (a slot's mark, the cluster
//! record, a slot holder's identity).
//!
//! Hidden from the docs: not an API for users, but a stable place for the fuzz targets to call
//! the crate's private decoders with the checks compiled, linted and tested with the crate. A
//! panic here is a finding: a decoder panicked, took bytes it should refuse as corrupt, or
//! decoded a value that does not encode back to itself.

use std::path::Path;

use snowdrift::Layout;

use crate::error::CoordError;
use crate::floor::{claim_floor, FloorError, FloorInputs, FloorSource};
use crate::local::high_water;

/// Decodes `data` as a slot's high-water file. A decoded mark is encoded and decoded again to
/// itself, and goes through the floor of a new holding under the default layout: refused as
/// beyond the layout when it is, otherwise the floor is the tick after it. Anything refused is
/// `CorruptState`, naming the file. Returns the mark.
pub fn high_water_file(data: &[u8]) -> Option<u64> {
    let path = Path::new("/state/slots/dc-0-machine-0.hwm");
    match high_water::decode(path, data) {
        Ok(mark) => {
            let encoded = high_water::encode(mark, 0).ok();
            let again = encoded.map(|bytes| high_water::decode(path, &bytes).ok());
            assert_eq!(again, Some(Some(mark)), "the mark does not round-trip");
            check_floor(mark);
            Some(mark)
        }
        Err(err) => {
            assert!(
                matches!(&err, CoordError::CorruptState { path: at, .. } if at == path),
                "{err}"
            );
            None
        }
    }
}

/// The floor a stored `mark` gives a new holder under the default layout, with no other bound.
fn check_floor(mark: u64) {
    let layout = Layout::default();
    let floor = claim_floor(&FloorInputs {
        stored_mark: Some(mark),
        genesis: None,
        remembered_ceiling: None,
        claim_time: None,
        layout: &layout,
    });
    match floor {
        Ok(floor) => {
            assert!(
                mark <= layout.max_tick(),
                "a mark past the layout was taken"
            );
            assert_eq!((floor.tick, floor.source), (mark + 1, FloorSource::Mark));
        }
        Err(FloorError::MarkBeyondLayout { mark: m, max_tick }) => {
            assert_eq!((m, max_tick), (mark, layout.max_tick()));
            assert!(mark > max_tick);
        }
        Err(err) => panic!("mark {mark}: {err}"),
    }
}

/// Decodes `data` as each value the etcd backend reads: a slot's mark (which must encode back
/// to exactly these bytes, and go through the floor as a file's mark does), the cluster record
/// (which must encode and decode to itself), and a slot holder's identity (likewise). Returns
/// how many of the three accepted the bytes.
#[cfg(feature = "etcd")]
pub fn etcd_values(data: &[u8]) -> usize {
    use crate::etcd::keys::{decode_mark, encode_mark};
    use crate::etcd::record::ClusterRecord;
    use crate::identity::HolderIdentity;

    let key = "/snowdrift/fuzz/hwm/0/0";
    let mut accepted = 0;
    match decode_mark(key, data) {
        Ok(mark) => {
            assert_eq!(encode_mark(mark).as_bytes(), data, "mark {mark}");
            check_floor(mark);
            accepted += 1;
        }
        Err(err) => assert!(
            matches!(&err, CoordError::CorruptState { path, .. } if path == Path::new(key)),
            "{err}"
        ),
    }
    if let Ok(record) = ClusterRecord::decode(data) {
        let encoded = record.encode();
        let again = encoded.map(|bytes| ClusterRecord::decode(&bytes));
        assert!(
            matches!(&again, Ok(Ok(r)) if *r == record),
            "{record:?} read back as {again:?}"
        );
        accepted += 1;
    }
    if let Ok(holder) = serde_json::from_slice::<HolderIdentity>(data) {
        let again = serde_json::to_vec(&holder)
            .map(|bytes| serde_json::from_slice::<HolderIdentity>(&bytes).ok());
        assert!(
            matches!(&again, Ok(Some(h)) if *h == holder),
            "{holder:?} read back as {again:?}"
        );
        accepted += 1;
    }
    accepted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_decodes_or_is_corrupt() {
        assert_eq!(
            high_water_file(br#"{"high_water_tick":42,"written_unix_ms":7}"#),
            Some(42)
        );
        let beyond = format!(r#"{{"high_water_tick":{},"written_unix_ms":0}}"#, u64::MAX);
        assert_eq!(high_water_file(beyond.as_bytes()), Some(u64::MAX));
        assert_eq!(high_water_file(b"{\"high_water_tick\":-1}"), None);
        assert_eq!(high_water_file(b""), None);
    }

    #[cfg(feature = "etcd")]
    #[test]
    fn etcd_values_decode_or_are_refused() {
        assert_eq!(etcd_values(b"00000000000000000042"), 1);
        assert_eq!(etcd_values(b"18446744073709551615"), 1);
        assert_eq!(etcd_values(b"42"), 0);
        let holder = serde_json::to_vec(&crate::HolderIdentity::of_this_process(vec![])).unwrap();
        assert_eq!(etcd_values(&holder), 1);
    }
}
