//! [`Preset`]: the well-known Snowflake layouts, by name.

use std::fmt;
use std::str::FromStr;

use super::{FieldOrder, Layout, DEFAULT_EPOCH_MS};
use crate::error::{Error, Result};

/// The well-known layouts.
///
/// | preset | widths (time/dc/machine/seq) | epoch | positive `i64` |
/// |---|---|---|---|
/// | `snowdrift` | 41/5/5/12 | 2021-01-01 | yes |
/// | `twitter` | 41/5/5/12 | 1288834974657 (2010-11-04) | yes |
/// | `discord` | 42/5/5/12 | 1420070400000 (2015-01-01) | **no**: 64 bits |
/// | `instagram` | 41/0/13/10 (13-bit shard as machine) | 1314220021721 (2011-08-24) | **no**: 64 bits |
/// | `mastodon` | 47/0/0/16 (ms since the Unix epoch, 16 low bits) | 0 (1970-01-01) | yes |
/// | `js53` | 39/2/4/8, 10 ms ticks | 2021-01-01 | yes: every ID is below 2^53 |
/// | `sonyflake` | 39/0/16/8, 10 ms ticks, **sequence above the machine** | 2014-09-01 | yes |
///
/// `sonyflake` reads and makes Sonyflake's IDs: `| time | sequence | machine |`
/// ([`FieldOrder::TimeSequenceNode`]), 39 bits of 10 ms since 2014-09-01T00:00:00Z, an 8-bit
/// sequence and a 16-bit machine ID (Snowdrift's machine field; there is no datacenter field).
/// 65,536 machines, 256 IDs per 10 ms each (25,600 IDs/s per machine), until 2188-11-16.
///
/// `js53` keeps every ID exact in a JavaScript number (`Number.MAX_SAFE_INTEGER` is
/// 2^53 - 1), so a browser can hold IDs without strings or `BigInt`. The price is capacity:
/// 64 workers (4 datacenters of 16 machines), 256 IDs per 10 ms tick each (25,600 IDs/s per
/// worker, 1,638,400 IDs/s for all of them), until 2195-03-19.
///
/// `mastodon` reads and makes Mastodon's IDs: milliseconds since 1970 above 16 low bits that
/// Mastodon fills with a per-table sequence. Mastodon describes the time as 48 bits, but it
/// stores IDs in a signed 64-bit `bigint`, so the 48th bit (reached in the year 6429) can never
/// be used; the preset gives the time 47 bits, which is the same IDs until then and leaves the
/// generator its carry bit. With no worker fields it has one worker, so it suits reading
/// Mastodon IDs or a single node, not a cluster.
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
    /// Mastodon's IDs: milliseconds since the Unix epoch (47 bits usable in a signed `bigint`),
    /// then 16 low bits (the sequence).
    Mastodon,
    /// IDs below 2^53, exact in JavaScript numbers: 39-bit time in 10 ms ticks, 2-bit
    /// datacenter, 4-bit machine, 8-bit sequence, from 2021-01-01.
    Js53,
    /// Sonyflake's IDs: 39-bit time in 10 ms ticks, then an 8-bit sequence, then a 16-bit
    /// machine ID, from 2014-09-01T00:00:00Z.
    Sonyflake,
}

impl Preset {
    /// Every preset, in documentation order.
    pub const ALL: [Preset; 7] = [
        Preset::Snowdrift,
        Preset::Twitter,
        Preset::Discord,
        Preset::Instagram,
        Preset::Mastodon,
        Preset::Js53,
        Preset::Sonyflake,
    ];

    /// The preset's layout.
    pub const fn layout(self) -> Layout {
        let (t, d, m, s, epoch_ms, unit_ms) = match self {
            Preset::Sonyflake => (39, 0, 16, 8, 1_409_529_600_000, 10),
            Preset::Snowdrift => (41, 5, 5, 12, DEFAULT_EPOCH_MS, 1),
            Preset::Twitter => (41, 5, 5, 12, 1_288_834_974_657, 1),
            Preset::Discord => (42, 5, 5, 12, 1_420_070_400_000, 1),
            Preset::Instagram => (41, 0, 13, 10, 1_314_220_021_721, 1),
            Preset::Mastodon => (47, 0, 0, 16, 0, 1),
            Preset::Js53 => (39, 2, 4, 8, DEFAULT_EPOCH_MS, 10),
        };
        Layout {
            timestamp_bits: t,
            datacenter_bits: d,
            machine_bits: m,
            sequence_bits: s,
            epoch_ms,
            unit_ms,
            field_order: match self {
                Preset::Sonyflake => FieldOrder::TimeSequenceNode,
                _ => FieldOrder::TimeNodeSequence,
            },
        }
    }

    /// The preset's name, as accepted by `FromStr` and the CLI.
    pub const fn name(self) -> &'static str {
        match self {
            Preset::Snowdrift => "snowdrift",
            Preset::Twitter => "twitter",
            Preset::Discord => "discord",
            Preset::Instagram => "instagram",
            Preset::Mastodon => "mastodon",
            Preset::Js53 => "js53",
            Preset::Sonyflake => "sonyflake",
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
                expected: "snowdrift, twitter, discord, instagram, mastodon, js53, sonyflake",
            })
    }
}
