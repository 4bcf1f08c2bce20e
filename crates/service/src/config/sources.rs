//! The three sources of `serve` settings, each read into a [`Layer`] of optional values.
//!
//! A layer holds what one source said and nothing else, so that merging is a plain "first that
//! has it" in the order flag > environment > file (see [`super::ServeConfig::load`]). Flags
//! arrive typed from clap; environment variables and file keys arrive as text and go through
//! [`Layer::set`], the one place that knows every key, so a key means the same in both.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use snowdrift::LayoutSpec;

use super::values::{
    parse_addr, parse_coordinator, parse_count, parse_duration, parse_layout_spec,
    parse_log_format, parse_machine, parse_preset, parse_skew_policy, parse_u64, ClockSkewPolicy,
    CoordinatorKind, LayoutChoice, LogFormat, MachineId,
};
use super::ConfigError;
use crate::cli::ServeArgs;

/// Every settings key, as written in the TOML file. The flag is `--` and the key with `-` for
/// `_`; the environment variable is `SNOWDRIFT_` and the key in upper case.
pub const KEYS: [&str; 18] = [
    "http",
    "grpc",
    "resp",
    "data_dir",
    "datacenter_id",
    "machine_id",
    "coordinator",
    "etcd_endpoints",
    "cluster",
    "lease_ttl",
    "max_clock_skew",
    "clock_skew_policy",
    "layout",
    "max_batch",
    "log_format",
    "window",
    "startup_max_wait",
    "max_lead_ticks",
];

/// The environment variable that names the config file, like `--config`.
pub const CONFIG_ENV: &str = "SNOWDRIFT_CONFIG";

/// The environment variable of a key: `data_dir` → `SNOWDRIFT_DATA_DIR`.
pub fn env_name(key: &str) -> String {
    format!("SNOWDRIFT_{}", key.to_ascii_uppercase())
}

/// The flag of a key: `data_dir` → `--data-dir`.
pub fn flag_name(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A command-line flag.
    Flag,
    /// A `SNOWDRIFT_*` environment variable.
    Env,
    /// The config file at this path.
    File(PathBuf),
    /// The built-in default.
    Default,
}

impl Source {
    /// Names where `key` was set, for messages: `--max-batch`, `SNOWDRIFT_MAX_BATCH`,
    /// ``key `max_batch` in app.toml``, or `the default`.
    pub fn describe(&self, key: &str) -> String {
        match self {
            Source::Flag => flag_name(key),
            Source::Env => env_name(key),
            Source::File(path) => format!("key `{key}` in {}", path.display()),
            Source::Default => format!("the default {key}"),
        }
    }

    /// A short label for `--print-config`.
    pub fn label(&self) -> String {
        match self {
            Source::Flag => "flag".to_string(),
            Source::Env => "environment".to_string(),
            Source::File(path) => format!("file {}", path.display()),
            Source::Default => "default".to_string(),
        }
    }
}

/// What one source said about each setting; `None` where it said nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    /// HTTP listener.
    pub http: Option<SocketAddr>,
    /// gRPC listener.
    pub grpc: Option<SocketAddr>,
    /// Redis-protocol listener.
    pub resp: Option<SocketAddr>,
    /// State directory.
    pub data_dir: Option<PathBuf>,
    /// Datacenter field.
    pub datacenter_id: Option<u64>,
    /// Machine field, or auto.
    pub machine_id: Option<MachineId>,
    /// Coordination backend.
    pub coordinator: Option<CoordinatorKind>,
    /// etcd endpoints.
    pub etcd_endpoints: Option<Vec<String>>,
    /// etcd cluster name.
    pub cluster: Option<String>,
    /// etcd lease time to live.
    pub lease_ttl: Option<Duration>,
    /// Allowed clock skew against the live etcd nodes.
    pub max_clock_skew: Option<Duration>,
    /// What to do beyond it.
    pub clock_skew_policy: Option<ClockSkewPolicy>,
    /// Layout preset or explicit widths.
    pub layout: Option<LayoutChoice>,
    /// Most IDs per request.
    pub max_batch: Option<u64>,
    /// Log format.
    pub log_format: Option<LogFormat>,
    /// High-water window ahead of the clock.
    pub window: Option<Duration>,
    /// Longest start-up wait for a clock behind the persisted mark.
    pub startup_max_wait: Option<Duration>,
    /// Future ticks a request may borrow.
    pub max_lead_ticks: Option<u64>,
}

impl Layer {
    /// The flags given on the command line.
    pub fn from_args(args: &ServeArgs) -> Layer {
        Layer {
            http: args.http,
            grpc: args.grpc,
            resp: args.resp,
            data_dir: args.data_dir.clone(),
            datacenter_id: args.datacenter_id,
            machine_id: args.machine_id,
            coordinator: args.coordinator,
            etcd_endpoints: args.etcd_endpoints.clone(),
            cluster: args.cluster.clone(),
            lease_ttl: args.lease_ttl,
            max_clock_skew: args.max_clock_skew,
            clock_skew_policy: args.clock_skew_policy,
            layout: args.layout.map(LayoutChoice::Preset),
            max_batch: args.max_batch,
            log_format: args.log_format,
            window: args.window,
            startup_max_wait: args.startup_max_wait,
            max_lead_ticks: args.max_lead_ticks,
        }
    }

    /// The `SNOWDRIFT_*` variables, read through `var` (so tests can pass a map). Empty values
    /// count as unset.
    pub fn from_env(var: &dyn Fn(&str) -> Option<String>) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for key in KEYS {
            let name = env_name(key);
            let Some(text) = var(&name).filter(|text| !text.trim().is_empty()) else {
                continue;
            };
            layer
                .set(key, &text)
                .map_err(|reason| ConfigError::value(&Source::Env, key, reason))?;
        }
        Ok(layer)
    }

    /// The keys of a TOML config file. Unknown keys are refused, so a typo is not ignored.
    pub fn from_file(path: &Path) -> Result<Layer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigError::new(format!("cannot read config file {}: {err}", path.display()))
        })?;
        Layer::from_toml(&text, path)
    }

    /// The keys of a TOML document read from `path`.
    pub fn from_toml(text: &str, path: &Path) -> Result<Layer, ConfigError> {
        let source = Source::File(path.to_path_buf());
        let table: toml::Table = toml::from_str(text).map_err(|err| {
            ConfigError::new(format!(
                "config file {} is not valid TOML: {}",
                path.display(),
                one_line(&err.to_string())
            ))
        })?;
        let mut layer = Layer::default();
        for (key, value) in &table {
            let key = key.replace('-', "_");
            let Some(key) = KEYS.iter().copied().find(|known| *known == key) else {
                return Err(ConfigError::new(format!(
                    "unknown key `{key}` in config file {}; known keys: {}",
                    path.display(),
                    KEYS.join(", ")
                )));
            };
            let fail = |reason: String| ConfigError::value(&source, key, reason);
            match value {
                toml::Value::Table(_) if key == "layout" => {
                    let spec: LayoutSpec = value
                        .clone()
                        .try_into()
                        .map_err(|err: toml::de::Error| fail(one_line(&err.to_string())))?;
                    let layout = parse_layout_spec(spec).map_err(fail)?;
                    layer.layout = Some(LayoutChoice::Custom(layout));
                }
                toml::Value::Array(items) if key == "etcd_endpoints" => {
                    let mut endpoints = Vec::with_capacity(items.len());
                    for item in items {
                        match item.as_str() {
                            Some(text) => endpoints.push(text.trim().to_string()),
                            None => return Err(fail(format!("expected strings, got {item}"))),
                        }
                    }
                    layer.etcd_endpoints = Some(endpoints);
                }
                toml::Value::String(text) => layer.set(key, text).map_err(fail)?,
                toml::Value::Integer(_) | toml::Value::Boolean(_) | toml::Value::Float(_) => {
                    layer.set(key, &value.to_string()).map_err(fail)?
                }
                other => {
                    return Err(fail(format!(
                        "expected a single value, got a {}",
                        other.type_str()
                    )))
                }
            }
        }
        Ok(layer)
    }

    /// Sets one key from its text form. The error is the reason only; the caller names the key.
    pub fn set(&mut self, key: &str, text: &str) -> Result<(), String> {
        match key {
            "http" => self.http = Some(parse_addr(text)?),
            "grpc" => self.grpc = Some(parse_addr(text)?),
            "resp" => self.resp = Some(parse_addr(text)?),
            "data_dir" => self.data_dir = Some(PathBuf::from(text.trim())),
            "datacenter_id" => self.datacenter_id = Some(parse_u64(text)?),
            "machine_id" => self.machine_id = Some(parse_machine(text)?),
            "coordinator" => self.coordinator = Some(parse_coordinator(text)?),
            "etcd_endpoints" => {
                self.etcd_endpoints = Some(
                    text.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                )
            }
            "cluster" => self.cluster = Some(text.trim().to_string()),
            "lease_ttl" => self.lease_ttl = Some(parse_duration(text)?),
            "max_clock_skew" => self.max_clock_skew = Some(parse_duration(text)?),
            "clock_skew_policy" => self.clock_skew_policy = Some(parse_skew_policy(text)?),
            "layout" => self.layout = Some(LayoutChoice::Preset(parse_preset(text)?)),
            "max_batch" => self.max_batch = Some(parse_count(text)?),
            "log_format" => self.log_format = Some(parse_log_format(text)?),
            "window" => self.window = Some(parse_duration(text)?),
            "startup_max_wait" => self.startup_max_wait = Some(parse_duration(text)?),
            "max_lead_ticks" => self.max_lead_ticks = Some(parse_u64(text)?),
            other => return Err(format!("unknown setting `{other}`")),
        }
        Ok(())
    }
}

/// Folds a multi-line parser message into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn every_key_can_be_set_from_text() {
        let mut layer = Layer::default();
        for (key, text) in [
            ("http", "127.0.0.1:1"),
            ("grpc", "127.0.0.1:2"),
            ("resp", "127.0.0.1:3"),
            ("data_dir", "/tmp/x"),
            ("datacenter_id", "3"),
            ("machine_id", "auto"),
            ("coordinator", "etcd"),
            ("etcd_endpoints", "http://a:2379, http://b:2379"),
            ("cluster", "prod"),
            ("layout", "twitter"),
            ("max_batch", "100"),
            ("log_format", "json"),
            ("window", "3s"),
            ("startup_max_wait", "1s"),
            ("max_lead_ticks", "4"),
        ] {
            layer.set(key, text).unwrap();
        }
        assert_eq!(layer.etcd_endpoints.as_ref().unwrap().len(), 2);
        assert_eq!(layer.machine_id, Some(MachineId::Auto));
    }

    #[test]
    fn env_errors_name_the_variable() {
        let err = Layer::from_env(&env(&[("SNOWDRIFT_MAX_BATCH", "lots")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SNOWDRIFT_MAX_BATCH"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn empty_env_values_are_unset() {
        let layer = Layer::from_env(&env(&[("SNOWDRIFT_HTTP", "")])).unwrap();
        assert_eq!(layer, Layer::default());
    }

    #[test]
    fn files_accept_kebab_keys_arrays_and_layout_tables() {
        let text = r#"
            data-dir = "/var/lib/snowdrift"
            datacenter_id = 2
            machine_id = "auto"
            etcd_endpoints = ["http://a:2379"]
            [layout]
            timestamp_bits = 39
            datacenter_bits = 4
            machine_bits = 8
            sequence_bits = 12
            epoch_ms = 1600000000000
        "#;
        let layer = Layer::from_toml(text, Path::new("t.toml")).unwrap();
        assert_eq!(layer.datacenter_id, Some(2));
        assert!(matches!(layer.layout, Some(LayoutChoice::Custom(l)) if l.timestamp_bits() == 39));
    }

    #[test]
    fn file_errors_name_the_key_and_file() {
        for (text, needle) in [
            ("datacenter_id = \"x\"", "key `datacenter_id` in t.toml"),
            ("datacenter_id = -1", "key `datacenter_id`"),
            ("colour = 1", "unknown key `colour`"),
            ("[layout]\ntimestamp_bits = 41", "key `layout`"),
            (
                "[layout]\ntimestamp_bits = 50\ndatacenter_bits = 5\nmachine_bits = 5\nsequence_bits = 12\nepoch_ms = 0",
                "64 bits or fewer",
            ),
            ("http = [1]", "key `http`"),
            ("this is not toml", "not valid TOML"),
        ] {
            let err = Layer::from_toml(text, Path::new("t.toml")).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(needle), "{text:?} → {message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }
}
