//! The settings of `snowdrift serve`, merged from flags, `SNOWDRIFT_*` variables, a TOML file
//! and the defaults, in that order of precedence.
//!
//! [`settings::ServeConfig`] defines every setting once. [`load`] reads each source into a
//! [`sources::Layer`], lets figment merge them and serde extract the typed settings, records
//! where each value came from, and validates the result with the coordination crate's own
//! validators. Any problem is one [`ConfigError`] line that names the flag, variable or file
//! key at fault and its value; the caller exits with code 2. `--print-config` prints the result
//! through [`mod@print`].
//!
//! Why figment, not clap's `env` feature: figment keeps, for every merged value, the metadata
//! of the layer it came from, so the source shown by `--print-config` and named in each error
//! is the one that won, whatever the layer (flag, variable, file or default). clap's `env`
//! feature reports a bad variable under the flag's name, and cannot place the file between the
//! environment and the defaults. clap still parses the flags and writes `--help`.

pub mod print;
pub mod settings;
pub mod sources;
mod validate;
pub mod values;

use std::collections::BTreeMap;
use std::path::PathBuf;

use figment::value::Value;
use figment::Figment;

pub use settings::ServeConfig;
pub use sources::Flags;
use sources::{Layer, Source, CONFIG_ENV};
use values::{CoordinatorKind, MachineChoice};

use crate::cli::ServeArgs;

/// A bad setting: one line that names where it was set, its value, and what was expected.
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
}

/// The merged, validated settings, and where each came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// The settings.
    pub config: ServeConfig,
    /// Where each key's value came from (keys as in the file).
    pub sources: BTreeMap<String, Source>,
}

impl Loaded {
    /// Where `key` was set.
    pub fn source(&self, key: &str) -> &Source {
        self.sources.get(key).unwrap_or(&Source::Default)
    }

    /// The value of `key` as figment holds it, for messages.
    fn value(&self, key: &str) -> Value {
        let dict = match Value::serialize(&self.config) {
            Ok(Value::Dict(_, dict)) => dict,
            _ => Default::default(),
        };
        dict.get(key)
            .cloned()
            .unwrap_or_else(|| Value::from("off".to_string()))
    }

    /// An error about `key`: names where it was set and its value.
    fn blame(&self, key: &str, reason: impl std::fmt::Display) -> ConfigError {
        let place = self.source(key).show(key, &self.value(key));
        ConfigError::new(format!("invalid {place}: {reason}"))
    }
}

/// Merges the flags, the environment `vars` and the config file named by `--config` or
/// `SNOWDRIFT_CONFIG`, then validates the result.
pub fn load(
    args: &ServeArgs,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let vars: Vec<(String, String)> = vars.into_iter().collect();
    let keys = sources::setting_keys();
    let config_file = args.config.clone().or_else(|| {
        vars.iter()
            .find(|(name, text)| name == CONFIG_ENV && !text.trim().is_empty())
            .map(|(_, text)| PathBuf::from(text.trim()))
    });
    let mut layers = vec![Layer::defaults()?];
    if let Some(path) = &config_file {
        layers.push(Layer::file(path, &keys)?);
    }
    layers.push(Layer::env(&vars, &keys)?);
    layers.push(Layer::flags(&args.flags)?);

    let figment = layers.iter().fold(Figment::new(), |figment, layer| {
        figment.merge(layer.clone())
    });
    // Lossy: a number or a boolean may arrive as text (`SNOWDRIFT_MAX_BATCH=100`).
    let extracted = figment.extract_lossy::<ServeConfig>();
    let mut config = extracted.map_err(|err| extract_error(err, &figment, &layers))?;
    let sources: BTreeMap<String, Source> = keys
        .iter()
        .map(|key| (key.clone(), source_of(&figment, &layers, key)))
        .collect();

    // In a cluster the machine is assigned by etcd unless one is asked for.
    if config.coordinator == CoordinatorKind::Etcd
        && sources.get("machine_id") == Some(&Source::Default)
    {
        config.machine_id = MachineChoice::Auto;
    }
    // The default batch follows the layout: a layout of long ticks holds fewer per reservation.
    if sources.get("max_batch") == Some(&Source::Default) {
        config.max_batch = config.default_max_batch();
    }
    let loaded = Loaded { config, sources };
    loaded.validate()?;
    Ok(loaded)
}

/// The layer whose value of `key` won the merge.
fn source_of(figment: &Figment, layers: &[Layer], key: &str) -> Source {
    figment
        .find_metadata(key)
        .and_then(|metadata| {
            layers
                .iter()
                .find(|layer| layer.source.label() == metadata.name)
        })
        .map(|layer| layer.source.clone())
        .unwrap_or(Source::Default)
}

/// A value that did not extract: names the flag, variable or file key, and the value.
fn extract_error(err: figment::Error, figment: &Figment, layers: &[Layer]) -> ConfigError {
    let Some(err) = err.into_iter().next() else {
        return ConfigError::new("invalid settings");
    };
    let Some(key) = err.path.first() else {
        return ConfigError::new(format!("invalid settings: {}", err.kind));
    };
    let source = err
        .metadata
        .as_ref()
        .and_then(|metadata| {
            layers
                .iter()
                .find(|layer| layer.source.label() == metadata.name)
        })
        .map(|layer| layer.source.clone())
        .unwrap_or(Source::Default);
    let value = figment
        .find_value(key)
        .unwrap_or_else(|_| Value::from(String::new()));
    // A key inside a table (`[layout]`) is named by the table's key, as the user wrote it.
    let place = source.show(key, &value);
    ConfigError::new(format!("invalid {place}: {}", err.kind))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::io::Write;
    use std::time::Duration;

    /// `snowdrift serve ARGS` as clap parses it.
    /// The etcd coordinator on an endpoint nothing listens on (loading never connects).
    const ETCD_FLAGS: &[&str] = &[
        "--coordinator",
        "etcd",
        "--etcd-endpoints",
        "http://127.0.0.1:1",
    ];

    pub(crate) fn serve_args(args: &[&str]) -> ServeArgs {
        let cli =
            crate::cli::Cli::try_parse_from(["snowdrift", "serve"].iter().chain(args)).unwrap();
        match cli.command {
            crate::cli::Command::Serve(args) => *args,
            other => panic!("not serve: {other:?}"),
        }
    }

    /// An environment of `NAME=value` pairs.
    pub(crate) fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_settings_give_the_documented_defaults() {
        let loaded = load(&serve_args(&[]), env(&[])).unwrap();
        let config = &loaded.config;
        assert_eq!(config.http, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("./snowdrift-data"));
        assert_eq!(config.machine_id, MachineChoice::Fixed(0));
        assert_eq!(config.max_batch, 10_000);
        assert_eq!(config.layout, values::LayoutChoice::default());
        assert_eq!(config.window, Duration::from_secs(2));
        assert_eq!(config.lease_ttl, Duration::from_secs(10));
        assert!(loaded.sources.values().all(|s| *s == Source::Default));
        assert_eq!(*config, ServeConfig::default());
    }

    #[test]
    fn flag_beats_env_beats_file_beats_default() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        writeln!(file, "datacenter_id = 1\nmachine_id = 1\nmax_batch = 11").unwrap();
        let vars = env(&[
            ("SNOWDRIFT_CONFIG", file.path().to_str().unwrap()),
            ("SNOWDRIFT_DATACENTER_ID", "2"),
            ("SNOWDRIFT_MACHINE_ID", "2"),
        ]);
        let loaded = load(&serve_args(&["--datacenter-id", "3"]), vars).unwrap();
        let config = &loaded.config;
        assert_eq!(config.datacenter_id, 3);
        assert_eq!(config.machine_id, MachineChoice::Fixed(2));
        assert_eq!(config.max_batch, 11);
        assert_eq!(config.log_format, values::LogFormat::Text);
        assert_eq!(loaded.sources["datacenter_id"], Source::Flag);
        assert_eq!(loaded.sources["machine_id"], Source::Env);
        assert!(matches!(loaded.sources["max_batch"], Source::File(_)));
    }

    #[test]
    fn cross_checks_name_the_key_and_its_source() {
        let vars = env(&[("SNOWDRIFT_DATACENTER_ID", "32")]);
        let err = load(&serve_args(&[]), vars).unwrap_err();
        assert!(err.to_string().contains("SNOWDRIFT_DATACENTER_ID"), "{err}");
        assert!(err.to_string().contains("0..=31"), "{err}");

        let err = load(&serve_args(&["--max-batch", "2000000"]), env(&[])).unwrap_err();
        assert!(err.to_string().contains("--max-batch"), "{err}");

        let err = load(&serve_args(&["--coordinator", "etcd"]), env(&[])).unwrap_err();
        assert!(err.to_string().contains("etcd_endpoints"), "{err}");
        // Not the garbled "invalid the default etcd_endpoints".
        assert!(
            !err.to_string().contains("the default etcd_endpoints"),
            "{err}"
        );
        assert!(err.to_string().contains("--etcd-endpoints"), "{err}");
    }

    #[test]
    fn a_window_the_keeper_cannot_keep_names_the_window_and_its_value() {
        for (args, vars, needle) in [
            (vec!["--window", "150ms"], vec![], "--window 150ms"),
            (
                vec![],
                vec![("SNOWDRIFT_WINDOW", "150ms")],
                "SNOWDRIFT_WINDOW=150ms",
            ),
            (vec!["--window", "1ms"], vec![], "--window 1ms"),
        ] {
            let err = load(&serve_args(&args), env(&vars))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains("check interval"), "{err}");
        }
        assert!(load(&serve_args(&["--window", "200ms"]), env(&[])).is_ok());
    }

    #[test]
    fn a_window_with_no_upper_bound_is_refused_saying_the_rule() {
        let etcd = [ETCD_FLAGS, &["--cluster", "c"][..]].concat();
        let with =
            |base: &[&'static str], extra: &[&'static str]| serve_args(&[base, extra].concat());
        for (args, needles) in [
            // A restart after a crash would refuse for an hour.
            (
                with(&[], &["--window", "1h"]),
                &["--window 1h", "start-up wait", "--startup-max-wait"][..],
            ),
            // A mark past the layout's end, even with the start-up wait to match.
            (
                with(
                    &[],
                    &["--window", "200000d", "--startup-max-wait", "200000d"],
                ),
                &["--window 547years", "end of the layout's time"][..],
            ),
            // Not below the lease TTL with etcd.
            (
                with(&etcd, &["--window", "10s", "--startup-max-wait", "10s"]),
                &["--window 10s", "lease TTL", "--lease-ttl"][..],
            ),
        ] {
            let err = load(&args, env(&[])).unwrap_err().to_string();
            for needle in needles {
                assert!(err.contains(needle), "{needle:?} missing from: {err}");
            }
        }
        assert!(load(
            &with(&etcd, &["--window", "9s", "--startup-max-wait", "9s"]),
            env(&[])
        )
        .is_ok());
        assert!(load(&with(&[], &["--window", "5s"]), env(&[])).is_ok());
    }

    #[test]
    fn etcd_settings_are_checked_by_the_etcd_validator() {
        let args = |extra: &[&'static str]| serve_args(&[ETCD_FLAGS, extra].concat());
        let err = load(&args(&["--cluster", "a/b"]), env(&[])).unwrap_err();
        assert!(err.to_string().contains("--cluster a/b"), "{err}");
        let err = load(
            &args(&["--cluster", "c", "--lease-ttl", "1500ms"]),
            env(&[]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("--lease-ttl 1s 500ms"), "{err}");
        let loaded = load(&args(&["--cluster", "c"]), env(&[])).unwrap();
        assert_eq!(loaded.config.machine_id, MachineChoice::Auto);
    }

    #[test]
    fn unknown_variables_and_bad_values_name_the_variable() {
        let err = load(&serve_args(&[]), env(&[("SNOWDRIFT_HTTPP", "127.0.0.1:1")])).unwrap_err();
        assert!(err.to_string().contains("SNOWDRIFT_HTTPP"), "{err}");
        let err = load(&serve_args(&[]), env(&[("SNOWDRIFT_MAX_BATCH", "lots")])).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SNOWDRIFT_MAX_BATCH=lots"), "{text}");
        assert!(!text.contains('\n'));
    }

    #[test]
    fn files_accept_kebab_keys_arrays_and_layout_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        std::fs::write(
            &path,
            r#"
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
        "#,
        )
        .unwrap();
        let path_text = path.to_str().unwrap();
        let loaded = load(&serve_args(&["--config", path_text]), env(&[])).unwrap();
        assert_eq!(loaded.config.datacenter_id, 2);
        assert_eq!(loaded.config.data_dir, PathBuf::from("/var/lib/snowdrift"));
        assert_eq!(loaded.config.etcd_endpoints, vec!["http://a:2379"]);
        assert!(
            matches!(loaded.config.layout, values::LayoutChoice::Custom(l) if l.timestamp_bits() == 39)
        );
    }

    #[test]
    fn file_errors_name_the_key_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let shown = path.display().to_string();
        for (text, needle) in [
            ("datacenter_id = \"x\"", format!("key `datacenter_id` in {shown}")),
            ("datacenter_id = -1", "key `datacenter_id`".to_string()),
            ("datacenter_id = 99", format!("key `datacenter_id` in {shown} (99)")),
            ("window = \"forever\"", format!("key `window` in {shown} (\"forever\")")),
            ("colour = 1", "unknown key `colour`".to_string()),
            ("[layout]\ntimestamp_bits = 41", "key `layout`".to_string()),
            (
                "[layout]\ntimestamp_bits = 50\ndatacenter_bits = 5\nmachine_bits = 5\nsequence_bits = 12\nepoch_ms = 0",
                "64 bits or fewer".to_string(),
            ),
            ("http = [1]", "key `http`".to_string()),
            ("this is not toml", "not valid TOML".to_string()),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = load(&serve_args(&["--config", &shown]), env(&[])).unwrap_err();
            let message = err.to_string();
            assert!(message.contains(&needle), "{text:?} → {message}");
            assert!(!message.contains('\n'), "{message}");
        }
    }

    #[test]
    fn the_default_max_batch_is_what_one_reservation_of_the_layout_holds_up_to_10000() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        // 41/5/5/12 with one-second ticks: max_wait (1 s) covers a block of 2 ticks, 8192 IDs.
        std::fs::write(
            &path,
            "[layout]\ntimestamp_bits = 41\ndatacenter_bits = 5\nmachine_bits = 5\n\
             sequence_bits = 12\nepoch_ms = 1609459200000\nunit_ms = 1000\n",
        )
        .unwrap();
        let shown = path.display().to_string();
        let loaded = load(&serve_args(&["--config", &shown]), env(&[])).unwrap();
        assert_eq!(loaded.config.max_batch, 8192);
        assert_eq!(loaded.sources["max_batch"], Source::Default);
        // A lead of one tick lets a block span one tick more.
        let args = serve_args(&["--config", &shown, "--max-lead-ticks", "1"]);
        assert_eq!(load(&args, env(&[])).unwrap().config.max_batch, 10_000);
        // Asked for, the same number is still refused, naming the flag and the bound.
        let args = serve_args(&["--config", &shown, "--max-batch", "10000"]);
        let err = load(&args, env(&[])).unwrap_err().to_string();
        assert!(err.contains("--max-batch 10000"), "{err}");
        assert!(err.contains("1..=8192"), "{err}");
        // The default layout holds far more than 10 000 per reservation.
        let loaded = load(&serve_args(&[]), env(&[])).unwrap();
        assert_eq!(loaded.config.max_batch, 10_000);
    }

    #[test]
    fn a_layout_table_may_set_the_field_order_and_a_wrong_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.toml");
        let table = "[layout]\ntimestamp_bits = 39\ndatacenter_bits = 0\nmachine_bits = 16\n\
             sequence_bits = 8\nepoch_ms = 1409529600000\nunit_ms = 10\n";
        std::fs::write(
            &path,
            format!("{table}field_order = \"time_sequence_node\"\n"),
        )
        .unwrap();
        let shown = path.display().to_string();
        let loaded = load(&serve_args(&["--config", &shown]), env(&[])).unwrap();
        assert_eq!(
            loaded.config.layout.layout(),
            snowdrift::Preset::Sonyflake.layout()
        );
        std::fs::write(&path, format!("{table}field_order = \"sequence_first\"\n")).unwrap();
        let err = load(&serve_args(&["--config", &shown]), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("sequence_first"), "{err}");
        assert!(err.contains("time_sequence_node"), "{err}");
    }

    #[test]
    fn a_missing_config_file_is_a_clear_error() {
        let args = serve_args(&["--config", "/nonexistent/snowdrift.toml"]);
        let err = load(&args, env(&[])).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/snowdrift.toml"),
            "{err}"
        );
    }
}
