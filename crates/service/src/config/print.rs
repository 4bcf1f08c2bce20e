//! `serve --print-config`: the merged settings as a TOML file, each line noting its source.
//!
//! The output is a valid config file: saving it and passing it to `--config` reproduces the
//! same settings. Unset optional settings appear as comments, so every key is visible. The
//! keys and values come from [`super::ServeConfig`]'s serde form, so a new setting is printed
//! without a line here.

use std::fmt::Write;

use super::sources::setting_keys;
use super::Loaded;

/// Renders `loaded` as TOML, with a comment after each value naming where it came from.
pub fn to_toml(loaded: &Loaded) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# snowdrift serve settings (precedence: flag > environment > file > default)"
    );
    let values = match toml::Table::try_from(&loaded.config) {
        Ok(values) => values,
        Err(err) => {
            let _ = writeln!(out, "# cannot render the settings: {err}");
            return out;
        }
    };
    let mut tables = Vec::new();
    for key in setting_keys() {
        let source = loaded.source(&key).label();
        let _ = match values.get(&key) {
            // A table must come after every plain key, so tables are written last.
            Some(toml::Value::Table(table)) => {
                tables.push((key, table.clone(), source));
                Ok(())
            }
            Some(value) => writeln!(out, "{key} = {value}  # {source}"),
            None => writeln!(out, "# {key} is off  ({source})"),
        };
    }
    for (key, table, source) in tables {
        let body = toml::to_string(&table).unwrap_or_default();
        let _ = write!(out, "\n[{key}]  # {source}\n{body}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::load;
    use crate::config::tests::serve_args;
    use crate::config::values::{LayoutChoice, MachineChoice};

    #[test]
    fn printed_config_reads_back_to_the_same_settings() {
        let text = "datacenter_id = 3\nmachine_id = \"auto\"\ngrpc = \"127.0.0.1:9000\"\n\
                    etcd_endpoints = [\"http://a:1\", \"http://b:2\"]\n\
                    [layout]\ntimestamp_bits = 40\ndatacenter_bits = 5\nmachine_bits = 6\n\
                    sequence_bits = 12\nepoch_ms = 1600000000000\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, text).unwrap();
        let path_text = path.to_str().unwrap();
        let loaded = load(&serve_args(&["--config", path_text]), Vec::new()).unwrap();
        let printed = to_toml(&loaded);
        assert!(
            printed.contains(&format!("# file {}", path.display())),
            "{printed}"
        );
        assert!(printed.contains("# resp is off  (default)"), "{printed}");

        let reprinted = dir.path().join("printed.toml");
        std::fs::write(&reprinted, &printed).unwrap();
        let reread = load(
            &serve_args(&["--config", reprinted.to_str().unwrap()]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(reread.config.datacenter_id, 3);
        assert_eq!(reread.config.machine_id, MachineChoice::Auto);
        assert_eq!(reread.config.grpc, loaded.config.grpc);
        assert!(matches!(reread.config.layout, LayoutChoice::Custom(_)));
        assert_eq!(reread.config.layout, loaded.config.layout);
        assert_eq!(reread.config.window, loaded.config.window);
        assert_eq!(reread.config.http, loaded.config.http);
        assert_eq!(reread.config, loaded.config);
    }
}
