//! [`LayoutArg`]: a layout named on the command line, as a preset or as explicit widths and an
//! epoch, for commands that compare two layouts (`snowdrift migrate check`).
//!
//! `serve` takes explicit widths only from its TOML file, because a running node pins its
//! layout; a one-shot check has no file, so the widths are written inline:
//! `T/D/M/S@EPOCH_MS` or `T/D/M/S@EPOCH_MS:UNIT_MS` (for example `41/5/5/12@1288834974657`,
//! or Sonyflake's `39/0/16/8@1409529600000:10`).

use std::fmt;
use std::str::FromStr;

use snowdrift::{Layout, LayoutSpec, Preset};

/// A layout given on the command line: a preset, or explicit widths, epoch and tick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutArg {
    /// What the user wrote, to name the layout in the report.
    pub name: String,
    /// The validated layout.
    pub layout: Layout,
}

impl FromStr for LayoutArg {
    type Err = String;

    fn from_str(text: &str) -> Result<LayoutArg, String> {
        let text = text.trim();
        if let Ok(preset) = text.parse::<Preset>() {
            return Ok(LayoutArg {
                name: preset.name().to_string(),
                layout: preset.layout(),
            });
        }
        let Some((widths, time)) = text.split_once('@') else {
            return Err(format!(
                "{text:?} is neither a preset ({}) nor widths and an epoch \
                 T/D/M/S@EPOCH_MS[:UNIT_MS], e.g. 41/5/5/12@1288834974657",
                preset_names()
            ));
        };
        let widths: Vec<&str> = widths.split('/').collect();
        let [t, d, m, s] = widths.as_slice() else {
            return Err(format!(
                "{text:?}: the widths are four numbers T/D/M/S \
                 (timestamp/datacenter/machine/sequence bits), got {}",
                widths.len()
            ));
        };
        let (epoch, unit) = match time.split_once(':') {
            Some((epoch, unit)) => (epoch, Some(unit)),
            None => (time, None),
        };
        let spec = LayoutSpec {
            timestamp_bits: number(text, "timestamp bits", t)?,
            datacenter_bits: number(text, "datacenter bits", d)?,
            machine_bits: number(text, "machine bits", m)?,
            sequence_bits: number(text, "sequence bits", s)?,
            epoch_ms: number(text, "epoch (Unix ms)", epoch)?,
            unit_ms: match unit {
                Some(unit) => number(text, "tick (ms)", unit.trim_end_matches("ms"))?,
                None => 1,
            },
            // Widths written this way are in Snowflake order; Sonyflake's is its preset.
            field_order: Default::default(),
        };
        let layout = spec.validate().map_err(|err| format!("{text:?}: {err}"))?;
        Ok(LayoutArg {
            name: text.to_string(),
            layout,
        })
    }
}

impl fmt::Display for LayoutArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

fn number<T: FromStr>(whole: &str, what: &str, text: &str) -> Result<T, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("{whole:?}: the {what} must be a whole number, got {text:?}"))
}

fn preset_names() -> String {
    Preset::ALL
        .iter()
        .map(|preset| preset.name())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_preset_name_is_its_layout() {
        let arg: LayoutArg = "twitter".parse().unwrap();
        assert_eq!(arg.layout, Preset::Twitter.layout());
        assert_eq!(arg.name, "twitter");
    }

    #[test]
    fn explicit_widths_epoch_and_tick_are_read() {
        let arg: LayoutArg = "39/0/16/8@1409529600000:10ms".parse().unwrap();
        let layout = arg.layout;
        assert_eq!(
            (
                layout.timestamp_bits(),
                layout.datacenter_bits(),
                layout.machine_bits(),
                layout.sequence_bits()
            ),
            (39, 0, 16, 8)
        );
        assert_eq!(
            (layout.epoch_ms(), layout.unit_ms()),
            (1_409_529_600_000, 10)
        );
        let twitter: LayoutArg = "41/5/5/12@1288834974657".parse().unwrap();
        assert_eq!(twitter.layout, Preset::Twitter.layout());
    }

    #[test]
    fn bad_text_is_refused_with_what_was_expected() {
        let unknown = "tweeter".parse::<LayoutArg>().unwrap_err();
        assert!(
            unknown.contains("neither a preset") && unknown.contains("twitter"),
            "{unknown}"
        );
        let three = "41/5/5@0".parse::<LayoutArg>().unwrap_err();
        assert!(three.contains("four numbers"), "{three}");
        let word = "41/5/x/12@0".parse::<LayoutArg>().unwrap_err();
        assert!(
            word.contains("machine bits") && word.contains("\"x\""),
            "{word}"
        );
        let wide = "60/5/5/12@0".parse::<LayoutArg>().unwrap_err();
        assert!(wide.contains("64"), "{wide}");
    }
}
