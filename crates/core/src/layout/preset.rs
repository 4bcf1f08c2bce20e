//! [`Preset`]: the well-known Snowflake layouts, by name.

use std::fmt;
use std::str::FromStr;

use super::{Layout, DEFAULT_EPOCH_MS};
use crate::error::{Error, Result};

/// The well-known layouts.
///
/// | preset | widths (time/dc/machine/seq) | epoch | positive `i64` |
/// |---|---|---|---|
/// | `snowdrift` | 41/5/5/12 | 2021-01-01 | yes |
/// | `twitter` | 41/5/5/12 | 1288834974657 (2010-11-04) | yes |
/// | `discord` | 42/5/5/12 | 1420070400000 (2015-01-01) | **no**: 64 bits |
/// | `instagram` | 41/0/13/10 (13-bit shard as machine) | 1314220021721 (2011-08-24) | **no**: 64 bits |
///
/// ```
/// use snowdrift::Preset;
/// let discord: Preset = "discord".parse()?;
/// assert_eq!(discord.layout().timestamp_bits(), 42);
/// assert!(!discord.layout().keeps_sign_bit_clear());
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Preset {
    /// Snowdrift's default: 41/5/5/12 from 2021-01-01T00:00:00Z.
    #[default]
    Snowdrift,
    /// Twitter's Snowflake: 41/5/5/12 from 1288834974657.
    Twitter,
    /// Discord's snowflakes: 42/5/5/12 from 2015-01-01 (worker = datacenter field, process = machine field).
    Discord,
    /// Instagram's IDs: 41-bit time, 13-bit shard (the machine field), 10-bit sequence, from 1314220021721.
    Instagram,
}

impl Preset {
    /// Every preset, in documentation order.
    pub const ALL: [Preset; 4] = [
        Preset::Snowdrift,
        Preset::Twitter,
        Preset::Discord,
        Preset::Instagram,
    ];

    /// The preset's layout.
    pub const fn layout(self) -> Layout {
        let (t, d, m, s, epoch_ms) = match self {
            Preset::Snowdrift => (41, 5, 5, 12, DEFAULT_EPOCH_MS),
            Preset::Twitter => (41, 5, 5, 12, 1_288_834_974_657),
            Preset::Discord => (42, 5, 5, 12, 1_420_070_400_000),
            Preset::Instagram => (41, 0, 13, 10, 1_314_220_021_721),
        };
        Layout {
            timestamp_bits: t,
            datacenter_bits: d,
            machine_bits: m,
            sequence_bits: s,
            epoch_ms,
            unit_ms: 1,
        }
    }

    /// The preset's name, as accepted by `FromStr` and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::Snowdrift => "snowdrift",
            Preset::Twitter => "twitter",
            Preset::Discord => "discord",
            Preset::Instagram => "instagram",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Preset::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::UnknownName {
                kind: "layout preset",
                name: s.chars().take(64).collect(),
                expected: "snowdrift, twitter, discord, instagram",
            })
    }
}
