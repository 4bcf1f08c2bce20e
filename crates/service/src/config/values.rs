//! The value types of the settings, and the one parser of each.
//!
//! A value can arrive as a flag (parsed by clap), or as an environment variable or a file key
//! (parsed by serde). Each type below has one parser that both use, so `--machine-id auto`,
//! `SNOWDRIFT_MACHINE_ID=auto` and `machine_id = "auto"` mean the same and are refused with the
//! same words. The caller adds which flag, variable or key the value came from.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use snowdrift::clock::SlewRate;
use snowdrift::{Encoding, Layout, LayoutSpec, Preset, SequenceStart};
pub use snowdrift_coordination::{ClockBehind, ClockSkewPolicy, MachineChoice};

/// Where worker slots and high-water marks are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CoordinatorKind {
    /// A state directory on this host (`--data-dir`).
    #[default]
    Local,
    /// An etcd cluster (`--etcd-endpoints`, `--cluster`).
    Etcd,
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A type whose values have names, listed once by the type itself (`Preset::ALL`), for types
/// of the core and coordination crates, which do not depend on clap and so cannot derive
/// [`clap::ValueEnum`]. [`choice`] and [`named`] turn the list into a clap parser and serde.
pub trait Named: Copy + Send + Sync + 'static {
    /// Every value, in the order help texts list them.
    fn all() -> &'static [Self];
    /// The value's name in flags and files.
    fn name(self) -> &'static str;
}

impl Named for Preset {
    fn all() -> &'static [Self] {
        &Preset::ALL
    }
    fn name(self) -> &'static str {
        Preset::name(self)
    }
}

impl Named for Encoding {
    fn all() -> &'static [Self] {
        &Encoding::ALL
    }
    fn name(self) -> &'static str {
        Encoding::name(self)
    }
}

impl Named for SequenceStart {
    fn all() -> &'static [Self] {
        &SequenceStart::ALL
    }
    fn name(self) -> &'static str {
        SequenceStart::name(self)
    }
}

impl Named for ClockSkewPolicy {
    fn all() -> &'static [Self] {
        &ClockSkewPolicy::ALL
    }
    fn name(self) -> &'static str {
        ClockSkewPolicy::name(self)
    }
}

impl Named for ClockBehind {
    fn all() -> &'static [Self] {
        &ClockBehind::ALL
    }
    fn name(self) -> &'static str {
        ClockBehind::name(self)
    }
}

/// Parses a slew rate in percent: `1`, `1%`, `0.5%`, above 0 and below 100, to a millionth.
pub fn parse_slew(text: &str) -> Result<SlewRate, String> {
    let number = text.trim().trim_end_matches('%').trim();
    let percent: f64 = number
        .parse()
        .map_err(|_| format!("expected a percentage such as 1%, got {:?}", text.trim()))?;
    let ppm = (percent * 10_000.0).round();
    let rate = (ppm.is_finite() && (1.0..1_000_000.0).contains(&ppm))
        .then(|| SlewRate::from_ppm(ppm as u32))
        .flatten();
    rate.ok_or_else(|| {
        format!("must be above 0% and below 100% (the ID clock must move, and catch up), got {percent}%")
    })
}

/// serde for a slew rate: written as `"1%"`, read as a string or a number of percent.
pub mod slew {
    use super::*;

    /// Writes the rate as a percentage string.
    pub fn serialize<S: Serializer>(rate: &SlewRate, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{}%", rate.percent()))
    }

    /// Reads `"1%"`, `"1"` or `1`.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SlewRate, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Text {
            Number(f64),
            Text(String),
        }
        let text = match Text::deserialize(deserializer)? {
            Text::Number(number) => number.to_string(),
            Text::Text(text) => text,
        };
        parse_slew(&text).map_err(de::Error::custom)
    }
}

/// Finds the value called `text`, in any case; the error lists the names.
fn find_named<T: Named>(text: &str) -> Result<T, String> {
    T::all()
        .iter()
        .copied()
        .find(|value| value.name().eq_ignore_ascii_case(text.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = T::all().iter().map(|value| value.name()).collect();
            format!(
                "expected one of {}, got {:?}",
                names.join(", "),
                text.trim()
            )
        })
}

/// A clap parser for a [`Named`] type: `--help` and errors list the names from the type.
pub fn choice<T: Named>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(T::all().iter().map(|value| value.name()))
        .try_map(|text| find_named::<T>(&text))
}

/// serde for a [`Named`] field: `#[serde(with = "values::named")]`.
pub mod named {
    use super::*;

    /// Writes the name.
    pub fn serialize<T: Named, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value.name())
    }

    /// Reads a name, in any case.
    pub fn deserialize<'de, T: Named, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(deserializer)?;
        find_named(&text).map_err(de::Error::custom)
    }
}

/// serde for a [`clap::ValueEnum`] field, with the names clap uses:
/// `#[serde(with = "values::value_enum")]`.
pub mod value_enum {
    use super::*;
    use clap::ValueEnum;

    /// Writes the name clap shows.
    pub fn serialize<T: ValueEnum, S: Serializer>(
        value: &T,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value.to_possible_value() {
            Some(name) => serializer.serialize_str(name.get_name()),
            None => Err(serde::ser::Error::custom("a value without a name")),
        }
    }

    /// Reads a name, in any case, as clap with `ignore_case` does.
    pub fn deserialize<'de, T: ValueEnum, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        let text = String::deserialize(deserializer)?;
        T::from_str(text.trim(), true).map_err(|_| {
            let names: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
                .collect();
            de::Error::custom(format!(
                "expected one of {}, got {:?}",
                names.join(", "),
                text.trim()
            ))
        })
    }
}

/// A listening address: `IP:PORT`, or `localhost:PORT`. Port 0 picks a free port.
pub fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    if let Some(port) = text.strip_prefix("localhost:") {
        if let Ok(port) = port.parse::<u16>() {
            return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
        }
    }
    Err(format!(
        "expected IP:PORT such as 127.0.0.1:8080 or [::1]:8080, got {text:?}"
    ))
}

/// A listening address, or one that may be off, as read by [`addr`].
pub trait ListenAddr: Sized {
    /// Reads the text form with [`parse_addr`].
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

impl ListenAddr for SocketAddr {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_addr(&text).map_err(de::Error::custom)
    }
}

impl ListenAddr for Option<SocketAddr> {
    fn read<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        text.map(|text| parse_addr(&text).map_err(de::Error::custom))
            .transpose()
    }
}

/// serde for a listening address (`deserialize_with = "values::addr"`), read with
/// [`parse_addr`]; an optional one may be off.
pub fn addr<'de, T: ListenAddr, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    T::read(deserializer)
}

/// A positive integer (`snowdrift gen -n`).
pub fn parse_count(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "expected an integer of at least 1, got {:?}",
            text.trim()
        )),
    }
}

/// serde for a [`MachineChoice`]: a number, or `"auto"` (parsed by its `FromStr`, as clap does).
pub mod machine {
    use super::*;

    /// `auto` as a string, a number as a number.
    pub fn serialize<S: Serializer>(
        value: &MachineChoice,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            MachineChoice::Fixed(id) => serializer.serialize_u64(*id),
            MachineChoice::Auto => serializer.serialize_str("auto"),
        }
    }

    /// A number, or text that `MachineChoice::from_str` reads.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<MachineChoice, D::Error> {
        struct Machine;
        impl Visitor<'_> for Machine {
            type Value = MachineChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a machine ID or \"auto\"")
            }
            fn visit_u64<E: de::Error>(self, id: u64) -> Result<MachineChoice, E> {
                Ok(MachineChoice::Fixed(id))
            }
            fn visit_i64<E: de::Error>(self, id: i64) -> Result<MachineChoice, E> {
                u64::try_from(id)
                    .map(MachineChoice::Fixed)
                    .map_err(|_| E::custom(format!("expected a machine ID or \"auto\", got {id}")))
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<MachineChoice, E> {
                MachineChoice::from_str(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(Machine)
    }
}

/// serde for a list of etcd endpoints: a TOML array, or one comma-separated string (as in
/// `--etcd-endpoints a,b` and `SNOWDRIFT_ETCD_ENDPOINTS=a,b`).
pub mod endpoints {
    use super::*;

    /// An array, or comma-separated text; blanks are dropped.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        struct Endpoints;
        impl<'de> Visitor<'de> for Endpoints {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("URLs, as an array of strings or comma-separated")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<Vec<String>, E> {
                Ok(text
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect())
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<String>, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    let item = item.trim();
                    if !item.is_empty() {
                        out.push(item.to_string());
                    }
                }
                Ok(out)
            }
        }
        deserializer.deserialize_any(Endpoints)
    }
}

/// A list of [`clap::ValueEnum`] names: an array in the file, comma-separated text in a
/// variable (`SNOWDRIFT_PLAINTEXT=http,resp`); each name in any case.
pub mod value_enum_list {
    use super::*;
    use clap::ValueEnum;

    /// Writes the names as an array.
    pub fn serialize<T: ValueEnum, S: Serializer>(
        values: &[T],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let names: Vec<String> = values
            .iter()
            .filter_map(|value| value.to_possible_value())
            .map(|name| name.get_name().to_string())
            .collect();
        names.serialize(serializer)
    }

    /// Reads an array of names, or comma-separated names.
    pub fn deserialize<'de, T: ValueEnum, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<T>, D::Error> {
        let texts = endpoints::deserialize(deserializer)?;
        texts
            .iter()
            .map(|text| value_enum::deserialize(de::value::StrDeserializer::<D::Error>::new(text)))
            .collect()
    }
}

/// The layout asked for: a preset by name, or explicit widths and epoch from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayoutChoice {
    /// A named preset (`--layout twitter`, `layout = "twitter"`).
    Preset(Preset),
    /// Explicit widths (`[layout]` table in the file), already validated.
    Custom(Layout),
}

impl LayoutChoice {
    /// The layout itself.
    pub fn layout(self) -> Layout {
        match self {
            LayoutChoice::Preset(preset) => preset.layout(),
            LayoutChoice::Custom(layout) => layout,
        }
    }

    /// The preset's name, or `custom`.
    pub fn name(self) -> &'static str {
        match self {
            LayoutChoice::Preset(preset) => preset.name(),
            LayoutChoice::Custom(_) => "custom",
        }
    }

    /// The clap parser of `--layout`: a preset name (explicit widths only go in the file).
    pub fn parser() -> impl TypedValueParser<Value = LayoutChoice> {
        choice::<Preset>().map(LayoutChoice::Preset)
    }
}

impl Default for LayoutChoice {
    fn default() -> Self {
        LayoutChoice::Preset(Preset::default())
    }
}

impl Serialize for LayoutChoice {
    /// A preset as its name; explicit widths as a `[layout]` table.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            LayoutChoice::Preset(preset) => serializer.serialize_str(preset.name()),
            LayoutChoice::Custom(layout) => LayoutSpec::from(*layout).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for LayoutChoice {
    /// A preset name, or a table of widths, validated here (the epoch must not lie in the
    /// future, the widths must fit 64 bits).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Choice;
        impl<'de> Visitor<'de> for Choice {
            type Value = LayoutChoice;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a preset name or a [layout] table of widths")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<LayoutChoice, E> {
                find_named::<Preset>(text)
                    .map(LayoutChoice::Preset)
                    .map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LayoutChoice, A::Error> {
                let spec = LayoutSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                spec.validate()
                    .map(LayoutChoice::Custom)
                    .map_err(de::Error::custom)
            }
        }
        deserializer.deserialize_any(Choice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slew_rates_are_percentages_above_zero_and_below_a_hundred() {
        assert_eq!(parse_slew("1%").unwrap(), SlewRate::DEFAULT);
        assert_eq!(parse_slew(" 1 ").unwrap(), SlewRate::DEFAULT);
        assert_eq!(parse_slew("0.5%").unwrap().ppm(), 5_000);
        assert_eq!(parse_slew("99.9999").unwrap().ppm(), 999_999);
        for bad in ["0", "0%", "100%", "150", "-1", "fast", "NaN", "0.00001"] {
            let err = parse_slew(bad).unwrap_err();
            assert!(
                err.contains("0%") || err.contains("percentage"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn addresses_accept_ip_port_and_localhost() {
        assert_eq!(
            parse_addr("127.0.0.1:0").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse_addr("localhost:8080").unwrap(),
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(parse_addr("[::1]:9").is_ok());
        let err = parse_addr("nowhere").unwrap_err();
        assert!(err.contains("IP:PORT"), "{err}");
    }

    #[test]
    fn machine_ids_are_numbers_or_auto() {
        let parse = |text: &str| {
            machine::deserialize(de::value::StrDeserializer::<de::value::Error>::new(text))
        };
        assert_eq!(parse("AUTO").unwrap(), MachineChoice::Auto);
        assert_eq!(parse("7").unwrap(), MachineChoice::Fixed(7));
        assert!(parse("-1").is_err());
    }

    #[test]
    fn counts_refuse_zero() {
        assert!(parse_count("0").unwrap_err().contains("at least 1"));
        assert_eq!(parse_count("10").unwrap(), 10);
    }

    #[test]
    fn names_are_case_insensitive() {
        let text = |s: &'static str| de::value::StrDeserializer::<de::value::Error>::new(s);
        let format: LogFormat = value_enum::deserialize(text("JSON")).unwrap();
        assert_eq!(format, LogFormat::Json);
        let kind: CoordinatorKind = value_enum::deserialize(text("Etcd")).unwrap();
        assert_eq!(kind, CoordinatorKind::Etcd);
        assert!(find_named::<Preset>("twitter").is_ok());
        assert!(find_named::<Encoding>("nope")
            .unwrap_err()
            .contains("base62"));
    }

    #[test]
    fn the_choice_lists_come_from_the_types() {
        let names: Vec<String> = choice::<Preset>()
            .possible_values()
            .into_iter()
            .flatten()
            .map(|value| value.get_name().to_string())
            .collect();
        let expected: Vec<&str> = Preset::ALL.iter().map(|preset| preset.name()).collect();
        assert_eq!(names, expected);
    }
}
