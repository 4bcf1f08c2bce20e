//! `serve --print-config`: the merged settings as a TOML file, each line noting its source.
//!
//! The output is a valid config file: saving it and passing it to `--config` reproduces the
//! same settings. Unset optional settings appear as comments, so every key is visible.

use std::fmt::Write;

use snowdrift::LayoutSpec;

use super::values::{ClockSkewPolicy, LayoutChoice, MachineId};
use super::ServeConfig;

/// Renders `config` as TOML, with a comment after each value naming where it came from.
pub fn to_toml(config: &ServeConfig) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# snowdrift serve settings (precedence: flag > environment > file > default)"
    );
    let mut line = |key: &'static str, value: Option<String>| {
        let source = config
            .sources
            .get(key)
            .map(|source| source.label())
            .unwrap_or_else(|| "default".to_string());
        let _ = match value {
            Some(value) => writeln!(out, "{key} = {value}  # {source}"),
            None => writeln!(out, "# {key} is off  ({source})"),
        };
    };
    let string = |text: &str| toml::Value::String(text.to_string()).to_string();

    line("http", Some(string(&config.http.to_string())));
    line("grpc", config.grpc.map(|addr| string(&addr.to_string())));
    line("resp", config.resp.map(|addr| string(&addr.to_string())));
    line("data_dir", Some(string(&config.data_dir.to_string_lossy())));
    line("datacenter_id", Some(config.datacenter_id.to_string()));
    line(
        "machine_id",
        Some(match config.machine_id {
            MachineId::Fixed(id) => id.to_string(),
            MachineId::Auto => string("auto"),
        }),
    );
    line("coordinator", Some(string(config.coordinator.name())));
    let endpoints: Vec<String> = config.etcd_endpoints.iter().map(|e| string(e)).collect();
    line(
        "etcd_endpoints",
        Some(format!("[{}]", endpoints.join(", "))),
    );
    line("cluster", config.cluster.as_deref().map(string));
    line(
        "lease_ttl",
        Some(string(
            &humantime::format_duration(config.lease_ttl).to_string(),
        )),
    );
    line(
        "max_clock_skew",
        Some(string(
            &humantime::format_duration(config.max_clock_skew).to_string(),
        )),
    );
    line(
        "clock_skew_policy",
        Some(string(match config.clock_skew_policy {
            ClockSkewPolicy::Warn => "warn",
            ClockSkewPolicy::Refuse => "refuse",
        })),
    );
    line("max_batch", Some(config.max_batch.to_string()));
    line("log_format", Some(string(config.log_format.name())));
    line(
        "window",
        Some(string(
            &humantime::format_duration(config.window).to_string(),
        )),
    );
    line(
        "startup_max_wait",
        Some(string(
            &humantime::format_duration(config.startup_max_wait).to_string(),
        )),
    );
    line("max_lead_ticks", Some(config.max_lead_ticks.to_string()));

    // A table must come after every plain key, so the layout is last.
    match config.layout {
        LayoutChoice::Preset(preset) => line("layout", Some(string(preset.name()))),
        LayoutChoice::Custom(layout) => {
            let spec = LayoutSpec::from(layout);
            let source = config
                .sources
                .get("layout")
                .map(|s| s.label())
                .unwrap_or_default();
            let _ = writeln!(out, "\n[layout]  # {source}");
            let _ = writeln!(out, "timestamp_bits = {}", spec.timestamp_bits);
            let _ = writeln!(out, "datacenter_bits = {}", spec.datacenter_bits);
            let _ = writeln!(out, "machine_bits = {}", spec.machine_bits);
            let _ = writeln!(out, "sequence_bits = {}", spec.sequence_bits);
            let _ = writeln!(out, "epoch_ms = {}", spec.epoch_ms);
            let _ = writeln!(out, "unit_ms = {}", spec.unit_ms);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::ServeArgs;
    use crate::config::sources::Layer;
    use std::path::Path;

    #[test]
    fn printed_config_reads_back_to_the_same_settings() {
        let text = "datacenter_id = 3\nmachine_id = \"auto\"\ngrpc = \"127.0.0.1:9000\"\n\
                    [layout]\ntimestamp_bits = 40\ndatacenter_bits = 5\nmachine_bits = 6\n\
                    sequence_bits = 12\nepoch_ms = 1600000000000\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.toml");
        std::fs::write(&path, text).unwrap();
        let args = ServeArgs {
            config: Some(path.clone()),
            ..ServeArgs::default()
        };
        let config = ServeConfig::load(&args, &|_| None).unwrap();
        let printed = to_toml(&config);
        assert!(
            printed.contains(&format!("# file {}", path.display())),
            "{printed}"
        );

        let reread = Layer::from_toml(&printed, Path::new("printed.toml")).unwrap();
        assert_eq!(reread.datacenter_id, Some(3));
        assert_eq!(reread.machine_id, Some(MachineId::Auto));
        assert_eq!(reread.grpc, config.grpc);
        assert_eq!(reread.layout, Some(config.layout));
        assert_eq!(reread.window, Some(config.window));
        assert_eq!(reread.http, Some(config.http));
    }
}
