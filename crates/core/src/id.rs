//! The ID itself: a `u64` newtype, and its parts under a given layout.
//!
//! An [`Id`] carries no layout: the same 64 bits mean different things under different layouts,
//! which is why a state directory or cluster is pinned to one. Decoding therefore always takes a
//! [`Layout`]. Text forms live in [`crate::encoding`]; `Display`/`FromStr` use decimal.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::encoding::Encoding;
use crate::error::{Error, Result};
use crate::layout::Layout;

/// A 64-bit ID.
///
/// ```
/// use snowdrift::{Id, Layout};
///
/// let id: Id = "175928847299117063".parse()?;
/// let parts = id.parts(&snowdrift::Preset::Discord.layout())?;
/// assert_eq!(parts.sequence, 7);
/// assert_eq!(id.to_string(), "175928847299117063");
/// assert_eq!(id.to_base32(), "04W86BB0G4007");
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[repr(transparent)]
pub struct Id(u64);

impl Id {
    /// Wraps a raw value. Any `u64` is an `Id`; whether it fits a layout is checked on decode.
    pub const fn from_u64(raw: u64) -> Id {
        Id(raw)
    }
    /// The raw value.
    pub const fn as_u64(self) -> u64 {
        self.0
    }
    /// The value as `i64`, if bit 63 is clear (always so in layouts of 63 bits or fewer).
    pub const fn to_i64(self) -> Option<i64> {
        if self.0 > i64::MAX as u64 {
            None
        } else {
            Some(self.0 as i64)
        }
    }
    /// The parts of this ID under `layout`.
    pub fn parts(self, layout: &Layout) -> Result<IdParts> {
        layout.decompose(self)
    }
    /// When this ID was made, in Unix milliseconds (the start of its tick).
    pub fn unix_ms(self, layout: &Layout) -> Result<u64> {
        Ok(layout.unix_ms_of_tick(self.parts(layout)?.tick))
    }
    /// When this ID was made.
    pub fn time(self, layout: &Layout) -> Result<SystemTime> {
        Ok(UNIX_EPOCH + Duration::from_millis(self.unix_ms(layout)?))
    }
    /// Fixed-width (13 characters) Crockford base32, which sorts like the number.
    pub fn to_base32(self) -> String {
        Encoding::Base32.encode(self)
    }
    /// Fixed-width (11 characters) base62 (`0-9A-Za-z`), which sorts like the number.
    pub fn to_base62(self) -> String {
        Encoding::Base62.encode(self)
    }
    /// Fixed-width (16 characters) lowercase hex.
    pub fn to_hex(self) -> String {
        Encoding::Hex.encode(self)
    }
}

impl From<u64> for Id {
    fn from(raw: u64) -> Self {
        Id(raw)
    }
}

impl From<Id> for u64 {
    fn from(id: Id) -> Self {
        id.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Id {
    type Err = Error;
    /// Parses decimal. Use [`Encoding::decode`] for the other forms.
    fn from_str(s: &str) -> Result<Self> {
        Encoding::Decimal.decode(s)
    }
}

/// The four fields of an ID, as numbers. The timestamp is in ticks since the layout's epoch.
///
/// ```
/// use snowdrift::{IdParts, Layout};
/// let layout = Layout::default();
/// let parts = IdParts { tick: 1_000, datacenter: 3, machine: 4, sequence: 5 };
/// assert_eq!(parts.unix_ms(&layout), 1_609_459_201_000);
/// assert_eq!(parts.rfc3339(&layout), "2021-01-01T00:00:01.000Z");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct IdParts {
    /// Ticks since the layout's epoch.
    pub tick: u64,
    /// The datacenter field.
    pub datacenter: u64,
    /// The machine field.
    pub machine: u64,
    /// The sequence within the tick.
    pub sequence: u64,
}

impl IdParts {
    /// The start of the tick, in Unix milliseconds.
    pub fn unix_ms(&self, layout: &Layout) -> u64 {
        layout.unix_ms_of_tick(self.tick)
    }
    /// The start of the tick as a time.
    pub fn time(&self, layout: &Layout) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.unix_ms(layout))
    }
    /// The start of the tick as RFC 3339 in UTC, with milliseconds, through
    /// [`crate::format_unix_ms`]: years past 9999 are written `+YYYYY-…`.
    pub fn rfc3339(&self, layout: &Layout) -> String {
        crate::format_unix_ms(self.unix_ms(layout))
    }
}
