//! The settings of `snowdrift serve`, merged from flags, `SNOWDRIFT_*` variables, a TOML file
//! and the defaults, in that order of precedence.
//!
//! [`ServeConfig::load`] reads the three sources into [`sources::Layer`]s, takes each setting
//! from the first layer that has it, remembers where it came from, and checks the settings
//! against each other (a datacenter ID must fit the layout, etcd needs endpoints). Any problem
//! is one [`ConfigError`] line that names the flag, variable or file key at fault; the caller
//! exits with code 2. `--print-config` prints the result through [`print`].

pub mod print;
pub mod sources;
pub mod values;

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use snowdrift::{IdGenerator, Layout};

use crate::cli::ServeArgs;
use sources::{Layer, Source, CONFIG_ENV};
use values::{ClockSkewPolicy, CoordinatorKind, LayoutChoice, LogFormat, MachineId};

/// Default HTTP listener: loopback only, so a fresh `snowdrift serve` is not exposed.
pub const DEFAULT_HTTP: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);
/// Default state directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "./snowdrift-data";
/// Default most IDs per request.
pub const DEFAULT_MAX_BATCH: u64 = 10_000;
/// Default high-water window ahead of the clock.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(2);
/// Default time to live of the etcd lease on a slot.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(10);
/// Default allowed clock skew against the live etcd nodes.
pub const DEFAULT_MAX_CLOCK_SKEW: Duration = Duration::from_secs(2);
/// Default longest start-up wait for a clock behind the persisted mark.
pub const DEFAULT_STARTUP_MAX_WAIT: Duration = Duration::from_secs(5);
/// Largest lead the core generator accepts, in ticks.
pub const MAX_LEAD_TICKS: u64 = u16::MAX as u64;

/// A bad setting: one line that names where it was set and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    message: String,
}

impl ConfigError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> ConfigError {
        ConfigError {
            message: message.into(),
        }
    }

    /// A value that did not parse: names the flag, variable or file key.
    pub fn value(source: &Source, key: &str, reason: impl std::fmt::Display) -> ConfigError {
        ConfigError::new(format!("invalid {}: {reason}", source.describe(key)))
    }
}

/// The merged settings of `snowdrift serve`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// HTTP listener.
    pub http: SocketAddr,
    /// gRPC listener, if enabled.
    pub grpc: Option<SocketAddr>,
    /// Redis-protocol listener, if enabled.
    pub resp: Option<SocketAddr>,
    /// State directory (the local coordinator's slot locks and high-water marks).
    pub data_dir: PathBuf,
    /// Datacenter field of every ID.
    pub datacenter_id: u64,
    /// Machine field of every ID, or auto.
    pub machine_id: MachineId,
    /// Coordination backend.
    pub coordinator: CoordinatorKind,
    /// etcd endpoints (etcd coordinator only).
    pub etcd_endpoints: Vec<String>,
    /// etcd cluster name (etcd coordinator only).
    pub cluster: Option<String>,
    /// Time to live of the etcd lease on the slot (etcd coordinator only).
    pub lease_ttl: Duration,
    /// Allowed clock skew against the live nodes when joining (etcd coordinator only).
    pub max_clock_skew: Duration,
    /// What to do beyond it (etcd coordinator only).
    pub clock_skew_policy: ClockSkewPolicy,
    /// The layout.
    pub layout: LayoutChoice,
    /// Most IDs one request may ask for.
    pub max_batch: u64,
    /// Log format.
    pub log_format: LogFormat,
    /// How far ahead of the clock the high-water mark is persisted.
    pub window: Duration,
    /// Longest start-up wait for a clock behind the persisted mark.
    pub startup_max_wait: Duration,
    /// Future ticks a request may borrow when a tick's sequence is used up.
    pub max_lead_ticks: u64,
    /// The config file that was read, if any.
    pub config_file: Option<PathBuf>,
    /// Where each key's value came from (keys as in the file).
    pub sources: BTreeMap<&'static str, Source>,
}

impl ServeConfig {
    /// Merges the flags, the environment (read through `var`) and the config file named by
    /// `--config` or `SNOWDRIFT_CONFIG`, then checks the result.
    pub fn load(
        args: &ServeArgs,
        var: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ServeConfig, ConfigError> {
        let flags = Layer::from_args(args);
        let env = Layer::from_env(var)?;
        let config_file = args.config.clone().or_else(|| {
            var(CONFIG_ENV)
                .filter(|s| !s.trim().is_empty())
                .map(PathBuf::from)
        });
        let file = match &config_file {
            Some(path) => Layer::from_file(path)?,
            None => Layer::default(),
        };
        let file_source = config_file
            .clone()
            .map(Source::File)
            .unwrap_or(Source::Default);
        Merge {
            flags,
            env,
            file,
            file_source,
            sources: BTreeMap::new(),
        }
        .resolve(config_file)
    }

    /// The layout to issue with.
    pub fn layout(&self) -> Layout {
        self.layout.layout()
    }

    /// Where `key` was set, for messages.
    pub fn describe(&self, key: &'static str) -> String {
        self.sources
            .get(key)
            .unwrap_or(&Source::Default)
            .describe(key)
    }

    /// Checks the settings against each other.
    fn validate(&self) -> Result<(), ConfigError> {
        let layout = self.layout();
        let fail = |key: &'static str, reason: String| {
            ConfigError::new(format!("invalid {}: {reason}", self.describe(key)))
        };
        if let Err(err) = layout.check_worker(self.datacenter_id, 0) {
            return Err(fail("datacenter_id", err.to_string()));
        }
        if let MachineId::Fixed(machine) = self.machine_id {
            if let Err(err) = layout.check_worker(0, machine) {
                return Err(fail("machine_id", err.to_string()));
            }
        }
        // The core caps one reservation; a request must fit in one so that it is one block.
        let generator_max = IdGenerator::builder(layout)
            .build()
            .map_err(|err| fail("layout", err.to_string()))?
            .max_batch();
        if self.max_batch > generator_max {
            return Err(fail(
                "max_batch",
                format!(
                    "{} is more than one reservation of this layout can hold; use 1..={generator_max}",
                    self.max_batch
                ),
            ));
        }
        if self.window.is_zero() {
            return Err(fail("window", "must be longer than zero".to_string()));
        }
        if self.max_lead_ticks > MAX_LEAD_TICKS {
            return Err(fail(
                "max_lead_ticks",
                format!(
                    "{} is too large; use 0..={MAX_LEAD_TICKS}",
                    self.max_lead_ticks
                ),
            ));
        }
        if self.coordinator == CoordinatorKind::Etcd {
            if self.etcd_endpoints.is_empty() {
                return Err(fail(
                    "etcd_endpoints",
                    "the etcd coordinator needs at least one endpoint".to_string(),
                ));
            }
            if self.cluster.as_deref().is_none_or(str::is_empty) {
                return Err(fail(
                    "cluster",
                    "the etcd coordinator needs a cluster name".to_string(),
                ));
            }
            if self.lease_ttl < Duration::from_secs(1) || self.lease_ttl.subsec_nanos() != 0 {
                return Err(fail(
                    "lease_ttl",
                    "etcd leases last a whole number of seconds, at least 1s".to_string(),
                ));
            }
        }
        Ok(())
    }
}

/// The three layers being merged, and where each chosen value came from.
struct Merge {
    flags: Layer,
    env: Layer,
    file: Layer,
    file_source: Source,
    sources: BTreeMap<&'static str, Source>,
}

impl Merge {
    /// Takes a setting from the first layer that has it, or `None`, and records the source.
    fn pick<T: Clone>(
        &mut self,
        key: &'static str,
        get: impl Fn(&Layer) -> Option<T>,
    ) -> Option<T> {
        let found = [
            (&self.flags, Source::Flag),
            (&self.env, Source::Env),
            (&self.file, self.file_source.clone()),
        ]
        .into_iter()
        .find_map(|(layer, source)| get(layer).map(|value| (value, source)));
        let (value, source) = match found {
            Some((value, source)) => (Some(value), source),
            None => (None, Source::Default),
        };
        self.sources.insert(key, source);
        value
    }

    fn resolve(mut self, config_file: Option<PathBuf>) -> Result<ServeConfig, ConfigError> {
        let mut config = ServeConfig {
            http: self.pick("http", |l| l.http).unwrap_or(DEFAULT_HTTP),
            grpc: self.pick("grpc", |l| l.grpc),
            resp: self.pick("resp", |l| l.resp),
            data_dir: self
                .pick("data_dir", |l| l.data_dir.clone())
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
            datacenter_id: self.pick("datacenter_id", |l| l.datacenter_id).unwrap_or(0),
            machine_id: self
                .pick("machine_id", |l| l.machine_id)
                .unwrap_or(MachineId::Fixed(0)),
            coordinator: self
                .pick("coordinator", |l| l.coordinator)
                .unwrap_or_default(),
            etcd_endpoints: self
                .pick("etcd_endpoints", |l| l.etcd_endpoints.clone())
                .unwrap_or_default(),
            cluster: self.pick("cluster", |l| l.cluster.clone()),
            lease_ttl: self
                .pick("lease_ttl", |l| l.lease_ttl)
                .unwrap_or(DEFAULT_LEASE_TTL),
            max_clock_skew: self
                .pick("max_clock_skew", |l| l.max_clock_skew)
                .unwrap_or(DEFAULT_MAX_CLOCK_SKEW),
            clock_skew_policy: self
                .pick("clock_skew_policy", |l| l.clock_skew_policy)
                .unwrap_or_default(),
            layout: self.pick("layout", |l| l.layout).unwrap_or_default(),
            max_batch: self
                .pick("max_batch", |l| l.max_batch)
                .unwrap_or(DEFAULT_MAX_BATCH),
            log_format: self
                .pick("log_format", |l| l.log_format)
                .unwrap_or_default(),
            window: self.pick("window", |l| l.window).unwrap_or(DEFAULT_WINDOW),
            startup_max_wait: self
                .pick("startup_max_wait", |l| l.startup_max_wait)
                .unwrap_or(DEFAULT_STARTUP_MAX_WAIT),
            max_lead_ticks: self
                .pick("max_lead_ticks", |l| l.max_lead_ticks)
                .unwrap_or(0),
            config_file,
            sources: BTreeMap::new(),
        };
        config.sources = self.sources;
        // In a cluster the machine is assigned by etcd unless one is asked for.
        if config.coordinator == CoordinatorKind::Etcd
            && config.sources.get("machine_id") == Some(&Source::Default)
        {
            config.machine_id = MachineId::Auto;
        }
        config.validate()?;
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn no_settings_give_the_documented_defaults() {
        let config = ServeConfig::load(&ServeArgs::default(), &no_env).unwrap();
        assert_eq!(config.http, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("./snowdrift-data"));
        assert_eq!(config.machine_id, MachineId::Fixed(0));
        assert_eq!(config.max_batch, 10_000);
        assert_eq!(config.layout, LayoutChoice::default());
        assert!(config.sources.values().all(|s| *s == Source::Default));
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "datacenter_id = 1\nmachine_id = 1\nmax_batch = 11").unwrap();
        let vars: HashMap<&str, &str> = [
            ("SNOWDRIFT_CONFIG", file.path().to_str().unwrap()),
            ("SNOWDRIFT_DATACENTER_ID", "2"),
            ("SNOWDRIFT_MACHINE_ID", "2"),
        ]
        .into_iter()
        .collect();
        let env = |name: &str| vars.get(name).map(|s| s.to_string());
        let args = ServeArgs {
            datacenter_id: Some(3),
            ..ServeArgs::default()
        };
        let config = ServeConfig::load(&args, &env).unwrap();
        assert_eq!(config.datacenter_id, 3);
        assert_eq!(config.machine_id, MachineId::Fixed(2));
        assert_eq!(config.max_batch, 11);
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.sources["datacenter_id"], Source::Flag);
        assert_eq!(config.sources["machine_id"], Source::Env);
        assert!(matches!(config.sources["max_batch"], Source::File(_)));
    }

    #[test]
    fn cross_checks_name_the_key_and_its_source() {
        let vars = |name: &str| (name == "SNOWDRIFT_DATACENTER_ID").then(|| "32".to_string());
        let err = ServeConfig::load(&ServeArgs::default(), &vars).unwrap_err();
        assert!(err.to_string().contains("SNOWDRIFT_DATACENTER_ID"), "{err}");
        assert!(err.to_string().contains("0..=31"), "{err}");

        let args = ServeArgs {
            max_batch: Some(2_000_000),
            ..ServeArgs::default()
        };
        let err = ServeConfig::load(&args, &no_env).unwrap_err();
        assert!(err.to_string().contains("--max-batch"), "{err}");

        let args = ServeArgs {
            coordinator: Some(CoordinatorKind::Etcd),
            ..ServeArgs::default()
        };
        let err = ServeConfig::load(&args, &no_env).unwrap_err();
        assert!(err.to_string().contains("etcd_endpoints"), "{err}");
    }

    #[test]
    fn a_missing_config_file_is_a_clear_error() {
        let args = ServeArgs {
            config: Some(PathBuf::from("/nonexistent/snowdrift.toml")),
            ..ServeArgs::default()
        };
        let err = ServeConfig::load(&args, &no_env).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/snowdrift.toml"),
            "{err}"
        );
    }
}
