//! The four sources of `serve` settings (defaults, the TOML file, `SNOWDRIFT_*` variables and
//! flags), each read into a [`Layer`] that figment merges.
//!
//! A layer holds what one source said, keyed by setting, and nothing else. It refuses what the
//! source cannot mean: an unknown file key or `SNOWDRIFT_*` variable, a key written twice
//! (`data-dir` and `data_dir`). Values stay as the source wrote them; serde parses them once,
//! when the merged settings are extracted (see [`super::load`]).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use clap::{ArgMatches, Args, Command, FromArgMatches};
use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::settings::ServeConfig;
use super::ConfigError;

/// The environment variable that names the config file, like `--config`.
pub const CONFIG_ENV: &str = "SNOWDRIFT_CONFIG";

/// The prefix of every settings variable.
const ENV_PREFIX: &str = "SNOWDRIFT_";

/// Every settings key, in the order of [`ServeConfig`]'s fields. Every setting is a flag, so
/// clap's argument list is the list of keys.
pub fn setting_keys() -> Vec<String> {
    ServeConfig::augment_args(Command::new("serve"))
        .get_arguments()
        .map(|arg| arg.get_id().to_string())
        .collect()
}

/// Whether `name` is one of the variables Kubernetes injects into every pod for each Service
/// in its namespace (`<SERVICE>_SERVICE_HOST`, `<SERVICE>_SERVICE_PORT[_<NAME>]`,
/// `<SERVICE>_PORT[_<N>_<PROTO>[_PROTO|_PORT|_ADDR]]`). A Service named `snowdrift` (or
/// `snowdrift-grpc`, …) makes them start with `SNOWDRIFT_`; they are not settings, and refusing
/// them as unknown would stop every pod from starting. No setting's name has these shapes.
fn is_kubernetes_service_link(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('_').collect();
    let protocol = |part: &str| matches!(part, "TCP" | "UDP" | "SCTP");
    parts.windows(2).enumerate().any(|(at, pair)| match pair {
        ["SERVICE", "HOST"] => at + 2 == parts.len(),
        ["SERVICE", "PORT"] => true,
        _ => false,
    }) || match parts.iter().rposition(|part| *part == "PORT") {
        // `<SERVICE>_PORT` itself, or `<SERVICE>_PORT_<N>_<PROTO>` and its three suffixes.
        Some(at) => match &parts[at + 1..] {
            [] => true,
            [port, proto, rest @ ..] => {
                port.chars().all(|c| c.is_ascii_digit())
                    && protocol(proto)
                    && matches!(rest, [] | ["PROTO"] | ["PORT"] | ["ADDR"])
            }
            _ => false,
        },
        None => false,
    }
}

/// The environment variable of a key: `data_dir` → `SNOWDRIFT_DATA_DIR`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
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
    /// Names where `key` is set, for messages: `--max-batch`, `SNOWDRIFT_MAX_BATCH`,
    /// ``key `max_batch` in app.toml``, or `max_batch (the default)`.
    pub fn describe(&self, key: &str) -> String {
        match self {
            Source::Flag => flag_name(key),
            Source::Env => env_name(key),
            Source::File(path) => format!("key `{key}` in {}", path.display()),
            Source::Default => format!("{key} (the default)"),
        }
    }

    /// Names where `key` is set and the value as the user wrote it: `--window 150ms`,
    /// `SNOWDRIFT_WINDOW=forever`, ``key `window` in app.toml ("forever")``, or, for a default,
    /// how to set it.
    pub fn show(&self, key: &str, value: &Value) -> String {
        let raw = match value {
            Value::String(_, text) => text.clone(),
            other => json(other),
        };
        match self {
            Source::Flag => format!("{} {raw}", flag_name(key)),
            Source::Env => format!("{}={raw}", env_name(key)),
            Source::File(path) => format!("key `{key}` in {} ({})", path.display(), json(value)),
            Source::Default => format!(
                "{key} = {} (the default; set {}, {} or `{key}` in the config file)",
                json(value),
                flag_name(key),
                env_name(key)
            ),
        }
    }

    /// A short label for `--print-config`, and the name of the layer's figment metadata.
    pub fn label(&self) -> String {
        match self {
            Source::Flag => "flag".to_string(),
            Source::Env => "environment".to_string(),
            Source::File(path) => format!("file {}", path.display()),
            Source::Default => "default".to_string(),
        }
    }
}

/// A value in JSON form, for messages (a string in quotes, a list in brackets).
fn json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| format!("{value:?}"))
}

/// What one source said about the settings, as a figment provider.
#[derive(Debug, Clone)]
pub struct Layer {
    /// Which source this is.
    pub source: Source,
    /// Its values by key, as the source wrote them.
    pub values: Dict,
}

impl Layer {
    /// The defaults, from [`ServeConfig::default`] (the one place they are written).
    pub fn defaults() -> Result<Layer, ConfigError> {
        Layer::serialized(Source::Default, &ServeConfig::default(), None)
    }

    /// The flags given on the command line (and only those: clap's defaults are for `--help`).
    pub fn flags(flags: &Flags) -> Result<Layer, ConfigError> {
        Layer::serialized(Source::Flag, &flags.values, Some(&flags.given))
    }

    /// `value` as a layer of `source`, keeping only the keys in `only` when given.
    fn serialized(
        source: Source,
        value: &ServeConfig,
        only: Option<&BTreeSet<String>>,
    ) -> Result<Layer, ConfigError> {
        let values = match Value::serialize(value) {
            Ok(Value::Dict(_, dict)) => dict,
            Ok(_) => Dict::new(),
            Err(err) => return Err(ConfigError::new(format!("internal: settings: {err}"))),
        };
        let values = values
            .into_iter()
            .filter(|(key, _)| only.is_none_or(|only| only.contains(key)))
            .collect();
        Ok(Layer { source, values })
    }

    /// The `SNOWDRIFT_*` variables among `vars`. An empty value counts as unset; a variable
    /// that is no setting is an error, so a typo (`SNOWDRIFT_HTTPP`) is not silently ignored.
    pub fn env(vars: &[(String, String)], keys: &[String]) -> Result<Layer, ConfigError> {
        let mut values = Dict::new();
        let mut names: Vec<&(String, String)> = vars
            .iter()
            .filter(|(name, _)| name.starts_with(ENV_PREFIX) && name != CONFIG_ENV)
            .filter(|(name, _)| !is_kubernetes_service_link(name))
            .collect();
        names.sort();
        for (name, text) in names {
            let Some(key) = keys.iter().find(|key| env_name(key) == *name) else {
                let known: Vec<String> = keys.iter().map(|key| env_name(key)).collect();
                return Err(ConfigError::new(format!(
                    "unknown environment variable {name}: no setting has that name; the \
                     settings variables are {CONFIG_ENV}, {}",
                    known.join(", ")
                )));
            };
            if !text.trim().is_empty() {
                values.insert(key.clone(), Value::from(text.trim()));
            }
        }
        Ok(Layer {
            source: Source::Env,
            values,
        })
    }

    /// The keys of the TOML config file at `path`. Keys may be written with `-` or `_`, but
    /// not both ways at once; unknown keys are refused.
    pub fn file(path: &Path, keys: &[String]) -> Result<Layer, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|err| {
            ConfigError::new(format!("cannot read config file {}: {err}", path.display()))
        })?;
        Layer::toml(&text, path, keys)
    }

    /// The keys of a TOML document read from `path`.
    pub fn toml(text: &str, path: &Path, keys: &[String]) -> Result<Layer, ConfigError> {
        let table: toml::Table = toml::from_str(text).map_err(|err| {
            ConfigError::new(format!(
                "config file {} is not valid TOML: {}",
                path.display(),
                one_line(&err.to_string())
            ))
        })?;
        let mut values = Dict::new();
        for (written, value) in table {
            let key = written.replace('-', "_");
            if !keys.contains(&key) {
                return Err(ConfigError::new(format!(
                    "unknown key `{written}` in config file {}; known keys: {}",
                    path.display(),
                    keys.join(", ")
                )));
            }
            if values.contains_key(&key) {
                return Err(ConfigError::new(format!(
                    "config file {} sets `{key}` twice (as `{key}` and `{}`); keep one",
                    path.display(),
                    key.replace('_', "-")
                )));
            }
            let value = Value::serialize(&value).map_err(|err| {
                ConfigError::new(format!("invalid key `{key}` in {}: {err}", path.display()))
            })?;
            values.insert(key, value);
        }
        Ok(Layer {
            source: Source::File(path.to_path_buf()),
            values,
        })
    }
}

impl Provider for Layer {
    fn metadata(&self) -> Metadata {
        let source = self.source.clone();
        let metadata = Metadata::named(self.source.label())
            .interpolater(move |_: &Profile, keys: &[&str]| source.describe(&keys.join(".")));
        match &self.source {
            Source::File(path) => metadata.source(path.as_path()),
            _ => metadata,
        }
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Ok(Profile::Default.collect(self.values.clone()))
    }
}

/// The settings flags of `snowdrift serve`, as clap parsed them, and which were given.
///
/// The flags are [`ServeConfig`]'s own clap definition with two changes made here for every
/// setting at once: none is required (a missing flag falls through to the environment, the
/// file, then the default), and each shows its default from [`ServeConfig::default`] in
/// `--help`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    /// The parsed values; only the keys in `given` were on the command line.
    pub values: ServeConfig,
    /// The keys given on the command line.
    pub given: BTreeSet<String>,
}

impl FromArgMatches for Flags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let given = setting_keys()
            .into_iter()
            .filter(|key| matches.value_source(key) == Some(ValueSource::CommandLine))
            .collect();
        Ok(Flags {
            values: ServeConfig::from_arg_matches(matches)?,
            given,
        })
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Flags::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for Flags {
    fn augment_args(cmd: Command) -> Command {
        with_defaults(ServeConfig::augment_args(cmd))
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        with_defaults(ServeConfig::augment_args_for_update(cmd))
    }
}

/// Makes every setting optional and case-insensitive, and gives each its default text.
fn with_defaults(cmd: Command) -> Command {
    let defaults = toml::Table::try_from(ServeConfig::default()).unwrap_or_default();
    let keys = setting_keys();
    cmd.mut_args(|arg| {
        if !keys.iter().any(|key| key == arg.get_id().as_str()) {
            return arg;
        }
        let text = match defaults.get(arg.get_id().as_str()) {
            Some(toml::Value::String(text)) => Some(text.clone()),
            Some(toml::Value::Integer(n)) => Some(n.to_string()),
            _ => None,
        };
        let arg = arg.required(false);
        // A switch (`--auth-probes`) takes no value, so it has no case to ignore.
        let arg = if arg.get_action().takes_values() {
            arg.ignore_case(true)
        } else {
            arg
        };
        match text {
            Some(text) => arg.default_value(text),
            None => arg,
        }
    })
}

/// Folds a multi-line parser message into one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env as vars;

    #[test]
    fn kubernetes_service_links_are_not_settings_and_are_ignored() {
        for name in [
            "SNOWDRIFT_SERVICE_HOST",
            "SNOWDRIFT_SERVICE_PORT",
            "SNOWDRIFT_SERVICE_PORT_HTTP",
            "SNOWDRIFT_PORT",
            "SNOWDRIFT_PORT_8080_TCP",
            "SNOWDRIFT_PORT_8080_TCP_PROTO",
            "SNOWDRIFT_PORT_8080_TCP_PORT",
            "SNOWDRIFT_PORT_8080_TCP_ADDR",
            "SNOWDRIFT_GRPC_SERVICE_HOST",
            "SNOWDRIFT_GRPC_PORT_9090_TCP_ADDR",
        ] {
            assert!(is_kubernetes_service_link(name), "{name}");
        }
        let keys = setting_keys();
        for key in &keys {
            assert!(!is_kubernetes_service_link(&env_name(key)), "{key}");
        }
        for typo in [
            "SNOWDRIFT_HTTPP",
            "SNOWDRIFT_PORTS",
            "SNOWDRIFT_PORT_X_TCP",
            "SNOWDRIFT_SERVICE",
        ] {
            assert!(!is_kubernetes_service_link(typo), "{typo}");
        }
        let vars = vec![
            (
                "SNOWDRIFT_PORT".to_string(),
                "tcp://10.0.0.1:8080".to_string(),
            ),
            ("SNOWDRIFT_SERVICE_HOST".to_string(), "10.0.0.1".to_string()),
            ("SNOWDRIFT_WINDOW".to_string(), "3s".to_string()),
        ];
        let layer = Layer::env(&vars, &keys).expect("service links are ignored");
        assert_eq!(layer.values.len(), 1, "only the real setting is read");
        let typo = vec![("SNOWDRIFT_HTTPP".to_string(), "x".to_string())];
        assert!(
            Layer::env(&typo, &keys).is_err(),
            "a typo is still an error"
        );
    }

    fn keys() -> Vec<String> {
        setting_keys()
    }

    #[test]
    fn every_field_is_a_key_and_the_file_and_env_names_follow_it() {
        let keys = keys();
        assert!(keys.len() >= 18, "{keys:?}");
        assert!(keys.iter().any(|k| k == "data_dir"));
        assert_eq!(env_name("data_dir"), "SNOWDRIFT_DATA_DIR");
        assert_eq!(flag_name("data_dir"), "--data-dir");
    }

    #[test]
    fn unknown_variables_are_named() {
        let err = Layer::env(&vars(&[("SNOWDRIFT_HTTPP", "127.0.0.1:1")]), &keys()).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("SNOWDRIFT_HTTPP"), "{text}");
        assert!(!text.contains('\n'));
        // The config file's variable and unrelated variables are not settings errors.
        let layer = Layer::env(
            &vars(&[("SNOWDRIFT_CONFIG", "/x.toml"), ("HOME", "/root")]),
            &keys(),
        )
        .unwrap();
        assert!(layer.values.is_empty());
    }

    #[test]
    fn empty_env_values_are_unset() {
        let layer = Layer::env(&vars(&[("SNOWDRIFT_HTTP", "")]), &keys()).unwrap();
        assert!(layer.values.is_empty());
    }

    #[test]
    fn a_key_written_both_ways_is_refused() {
        let text = "data-dir = \"/a\"\ndata_dir = \"/b\"\n";
        let err = Layer::toml(text, Path::new("t.toml"), &keys()).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("t.toml"), "{message}");
        assert!(
            message.contains("data_dir") && message.contains("twice"),
            "{message}"
        );
    }
}
