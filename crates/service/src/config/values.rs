//! The value types of the settings, and the one parser of each.
//!
//! A value can arrive as a flag, an environment variable or a key in the TOML file. All three go
//! through the parsers below, so `--machine-id auto`, `SNOWDRIFT_MACHINE_ID=auto` and
//! `machine_id = "auto"` mean the same and are refused with the same words. Each parser returns
//! a short reason; the caller adds which flag, variable or key it came from.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

use snowdrift::{Encoding, Layout, LayoutSpec, Preset};
pub use snowdrift_coordination::ClockSkewPolicy;

/// Which worker slot to run: a fixed machine ID, or the first free one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineId {
    /// This machine ID.
    Fixed(u64),
    /// The first machine ID no other process on this host (or in the cluster) holds.
    Auto,
}

impl fmt::Display for MachineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MachineId::Fixed(id) => write!(f, "{id}"),
            MachineId::Auto => f.write_str("auto"),
        }
    }
}

/// Where worker slots and high-water marks are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CoordinatorKind {
    /// A state directory on this host (`--data-dir`).
    #[default]
    Local,
    /// An etcd cluster (`--etcd-endpoints`, `--cluster`).
    Etcd,
}

impl CoordinatorKind {
    /// The name used in flags and files.
    pub const fn name(self) -> &'static str {
        match self {
            CoordinatorKind::Local => "local",
            CoordinatorKind::Etcd => "etcd",
        }
    }
}

impl fmt::Display for CoordinatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for CoordinatorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_coordinator(s)
    }
}

/// How log lines are written to stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// The name used in flags and files.
    pub const fn name(self) -> &'static str {
        match self {
            LogFormat::Text => "text",
            LogFormat::Json => "json",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_log_format(s)
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
}

impl Default for LayoutChoice {
    fn default() -> Self {
        LayoutChoice::Preset(Preset::Snowdrift)
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

/// A non-negative integer.
pub fn parse_u64(text: &str) -> Result<u64, String> {
    let text = text.trim();
    text.parse::<u64>()
        .map_err(|_| format!("expected a non-negative integer, got {text:?}"))
}

/// A positive integer.
pub fn parse_count(text: &str) -> Result<u64, String> {
    match parse_u64(text) {
        Ok(0) => Err("expected an integer of at least 1, got 0".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "expected an integer of at least 1, got {:?}",
            text.trim()
        )),
    }
}

/// A machine ID, or `auto`.
pub fn parse_machine(text: &str) -> Result<MachineId, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("auto") {
        return Ok(MachineId::Auto);
    }
    text.parse::<u64>()
        .map(MachineId::Fixed)
        .map_err(|_| format!("expected a non-negative integer or `auto`, got {text:?}"))
}

/// `local` or `etcd`.
pub fn parse_coordinator(text: &str) -> Result<CoordinatorKind, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "local" => Ok(CoordinatorKind::Local),
        "etcd" => Ok(CoordinatorKind::Etcd),
        _ => Err(format!("expected `local` or `etcd`, got {:?}", text.trim())),
    }
}

/// `warn` or `refuse`: what an etcd node does when its clock disagrees with the live holders'.
pub fn parse_skew_policy(text: &str) -> Result<ClockSkewPolicy, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "warn" => Ok(ClockSkewPolicy::Warn),
        "refuse" => Ok(ClockSkewPolicy::Refuse),
        _ => Err(format!(
            "expected `warn` or `refuse`, got {:?}",
            text.trim()
        )),
    }
}

/// `text` or `json`.
pub fn parse_log_format(text: &str) -> Result<LogFormat, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        _ => Err(format!("expected `text` or `json`, got {:?}", text.trim())),
    }
}

/// A layout preset name.
pub fn parse_preset(text: &str) -> Result<Preset, String> {
    text.parse::<Preset>().map_err(|err| err.to_string())
}

/// An encoding name: decimal, base32, base62 or hex.
pub fn parse_encoding(text: &str) -> Result<Encoding, String> {
    text.parse::<Encoding>().map_err(|err| err.to_string())
}

/// A duration such as `2s`, `500ms` or `1m 30s`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    humantime::parse_duration(text)
        .map_err(|err| format!("expected a duration such as 2s or 500ms, got {text:?} ({err})"))
}

/// Explicit layout widths, validated (the epoch must not lie in the future, widths ≤ 64 bits).
pub fn parse_layout_spec(spec: LayoutSpec) -> Result<Layout, String> {
    spec.validate().map_err(|err| err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse_machine("AUTO").unwrap(), MachineId::Auto);
        assert_eq!(parse_machine("7").unwrap(), MachineId::Fixed(7));
        assert!(parse_machine("-1").is_err());
    }

    #[test]
    fn counts_refuse_zero() {
        assert!(parse_count("0").unwrap_err().contains("at least 1"));
        assert_eq!(parse_count("10").unwrap(), 10);
    }

    #[test]
    fn names_are_case_insensitive() {
        assert_eq!(parse_log_format("JSON").unwrap(), LogFormat::Json);
        assert_eq!(parse_coordinator("Etcd").unwrap(), CoordinatorKind::Etcd);
        assert!(parse_preset("twitter").is_ok());
        assert!(parse_encoding("nope").unwrap_err().contains("base62"));
    }

    #[test]
    fn durations_use_human_units() {
        assert_eq!(
            parse_duration("1500ms").unwrap(),
            Duration::from_millis(1500)
        );
        assert!(parse_duration("soon").is_err());
    }
}
