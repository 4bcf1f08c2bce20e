//! serde support (feature `serde`): an [`Id`] is a decimal **string** by default.
//!
//! JavaScript's numbers are doubles, exact only up to 2^53; a Snowflake ID is larger, so a JSON
//! number silently loses its low bits in a browser. That is why Twitter added `id_str`. We write
//! the string form and read both forms. Use [`as_number`] on a field to write numbers instead.

use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

use crate::id::Id;

impl serde::Serialize for Id {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdVisitor)
    }
}

struct IdVisitor;

impl Visitor<'_> for IdVisitor {
    type Value = Id;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an id as a decimal string or a non-negative integer")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Id, E> {
        Ok(Id::from_u64(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Id, E> {
        u64::try_from(value)
            .map(Id::from_u64)
            .map_err(|_| E::custom("an id cannot be negative"))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Id, E> {
        value.parse().map_err(E::custom)
    }
}

/// Writes an [`Id`] as a JSON number: `#[serde(with = "snowdrift::serde_support::as_number")]`.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Row {
///     #[serde(with = "snowdrift::serde_support::as_number")]
///     id: snowdrift::Id,
/// }
/// let row = Row { id: snowdrift::Id::from_u64(42) };
/// assert_eq!(serde_json::to_string(&row).unwrap(), r#"{"id":42}"#);
/// ```
pub mod as_number {
    use super::*;

    /// Serializes as a `u64`.
    pub fn serialize<S: Serializer>(id: &Id, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(id.as_u64())
    }

    /// Accepts a number or a decimal string.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Id, D::Error> {
        deserializer.deserialize_any(IdVisitor)
    }
}
