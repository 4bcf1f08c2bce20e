//! The etcd key space of one cluster (DESIGN.md, "etcd keys") and the encoding of the values
//! the protocol compares inside transactions.
//!
//! ```text
//! /snowdrift/<cluster>/layout                    the cluster record (JSON: layout and epoch,
//!                                                incarnation, creation time, bounds), no lease
//! /snowdrift/<cluster>/slots/<dc>/<machine>      the holder's identity (JSON), bound to its lease
//! /snowdrift/<cluster>/hwm/<dc>/<machine>        the persisted high-water tick, no lease
//! ```
//!
//! High-water marks are written as **20-digit zero-padded decimals** (`u64::MAX` has 20 digits).
//! etcd compares values as bytes; with a fixed width, byte order equals numeric order, so the
//! persist transaction can say "only if the stored mark is less than the new one" in a single
//! `Compare::value(.., Less, ..)`, with no read-modify-write round trip.

use crate::error::CoordError;

/// Width of an encoded high-water mark: the number of decimal digits of `u64::MAX`.
const MARK_WIDTH: usize = 20;

/// The keys of one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Keys {
    root: String,
}

impl Keys {
    /// The keys of `cluster`, after checking the name cannot escape its prefix.
    pub(crate) fn new(cluster: &str) -> Result<Keys, CoordError> {
        let valid = !cluster.is_empty()
            && cluster.len() <= 128
            && cluster
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && cluster != "."
            && cluster != "..";
        if !valid {
            return Err(CoordError::Config(format!(
                "cluster name must be 1-128 characters of A-Z a-z 0-9 - _ . , got {cluster:?}"
            )));
        }
        Ok(Keys {
            root: format!("/snowdrift/{cluster}"),
        })
    }

    /// `/snowdrift/<cluster>/layout`.
    pub(crate) fn layout(&self) -> String {
        format!("{}/layout", self.root)
    }

    /// `/snowdrift/<cluster>/slots/<dc>/<machine>`.
    pub(crate) fn slot(&self, datacenter: u64, machine: u64) -> String {
        format!("{}/slots/{datacenter}/{machine}", self.root)
    }

    /// `/snowdrift/<cluster>/hwm/<dc>/<machine>`.
    pub(crate) fn high_water(&self, datacenter: u64, machine: u64) -> String {
        format!("{}/hwm/{datacenter}/{machine}", self.root)
    }

    /// The prefix of every slot key: `/snowdrift/<cluster>/slots/`.
    pub(crate) fn slots_prefix(&self) -> String {
        format!("{}/slots/", self.root)
    }

    /// The prefix of every high-water key: `/snowdrift/<cluster>/hwm/`.
    pub(crate) fn high_water_prefix(&self) -> String {
        format!("{}/hwm/", self.root)
    }

    /// `(datacenter, machine)` of a slot or high-water key under `prefix`, if it is one.
    pub(crate) fn parse_slot(prefix: &str, key: &[u8]) -> Option<(u64, u64)> {
        let rest = std::str::from_utf8(key).ok()?.strip_prefix(prefix)?;
        let (datacenter, machine) = rest.split_once('/')?;
        Some((datacenter.parse().ok()?, machine.parse().ok()?))
    }
}

/// Encodes a mark so that byte order is numeric order.
pub(crate) fn encode_mark(tick: u64) -> String {
    format!("{tick:0width$}", width = MARK_WIDTH)
}

/// Decodes a stored mark. Anything but exactly 20 digits is refused rather than guessed at,
/// because a misread mark could repeat IDs.
pub(crate) fn decode_mark(key: &str, value: &[u8]) -> Result<u64, CoordError> {
    let corrupt = |reason: String| CoordError::CorruptState {
        path: key.into(),
        reason,
    };
    if value.len() != MARK_WIDTH || !value.iter().all(u8::is_ascii_digit) {
        return Err(corrupt(format!(
            "expected a {MARK_WIDTH}-digit zero-padded tick, found {:?}",
            String::from_utf8_lossy(value)
        )));
    }
    std::str::from_utf8(value)
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| corrupt("the tick does not fit in 64 bits".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_sort_as_bytes_in_numeric_order() {
        let ticks = [0, 9, 10, 99, 1_000, 123_456_789_012, u64::MAX - 1, u64::MAX];
        for pair in ticks.windows(2) {
            assert!(encode_mark(pair[0]).as_bytes() < encode_mark(pair[1]).as_bytes());
        }
        for tick in ticks {
            assert_eq!(
                decode_mark("k", encode_mark(tick).as_bytes()).ok(),
                Some(tick)
            );
        }
    }

    #[test]
    fn malformed_marks_are_refused() {
        for bad in [
            "",
            "12",
            "0000000000000000000x",
            "99999999999999999999",
            " 0000000000000000001",
        ] {
            assert!(decode_mark("k", bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn keys_follow_the_design() {
        let keys = Keys::new("prod-eu").ok();
        let keys = keys.as_ref();
        assert_eq!(
            keys.map(Keys::layout).as_deref(),
            Some("/snowdrift/prod-eu/layout")
        );
        assert_eq!(
            keys.map(|k| k.slot(2, 7)).as_deref(),
            Some("/snowdrift/prod-eu/slots/2/7")
        );
        assert_eq!(
            keys.map(|k| k.high_water(2, 7)).as_deref(),
            Some("/snowdrift/prod-eu/hwm/2/7")
        );
        assert_eq!(
            Keys::parse_slot("/snowdrift/prod-eu/slots/", b"/snowdrift/prod-eu/slots/2/7"),
            Some((2, 7))
        );
        assert_eq!(
            Keys::parse_slot("/snowdrift/prod-eu/slots/", b"/other/2/7"),
            None
        );
        for bad in ["", "a/b", "..", "with space"] {
            assert!(Keys::new(bad).is_err(), "{bad:?}");
        }
    }
}
