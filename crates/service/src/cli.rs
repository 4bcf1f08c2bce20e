//! The command line: clap definitions of `snowdrift` and its commands, and one-line usage errors.
//!
//! Only the shape of the arguments lives here. The settings of `serve` are defined, with their
//! help texts, in [`crate::config::ServeConfig`] and flattened in here; their values are parsed
//! by the functions in [`crate::config::values`], which also read environment variables and the
//! config file, so a value means the same wherever it is written.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use snowdrift::{Encoding, Preset};

use crate::commands::migrate::layout_arg::LayoutArg;
use crate::config::values::{choice, parse_count};
use crate::config::Flags;

const ROOT_EXAMPLES: &str = "\
Examples:
  snowdrift serve                          # HTTP on 127.0.0.1:8080, state in ./snowdrift-data
  snowdrift gen -n 5                       # five IDs made locally
  snowdrift decode 175928847299117063 --layout discord
  snowdrift layout --layout twitter        # bits, capacity and the date it runs out";

const SERVE_EXAMPLES: &str = "\
Every flag can also be set as an environment variable SNOWDRIFT_<FLAG> (for example
SNOWDRIFT_DATA_DIR) or as a key in the --config file (data_dir = \"...\"). Precedence:
flag > environment > file > default. Explicit layout widths go in the file:
  [layout]
  timestamp_bits = 41
  datacenter_bits = 5
  machine_bits = 5
  sequence_bits = 12
  epoch_ms = 1609459200000
  # optional: unit_ms = 1 (tick length), field_order = \"time_sequence_node\" (Sonyflake's)

Examples:
  snowdrift serve
  snowdrift serve --http 0.0.0.0:8080 --data-dir /var/lib/snowdrift --datacenter-id 2
  snowdrift serve --machine-id auto        # first free slot on this host
  snowdrift serve --coordinator etcd --etcd-endpoints http://10.0.0.1:2379 --cluster prod \\
      --datacenter-id 1                    # a slot in the cluster's datacenter 1
  SNOWDRIFT_LAYOUT=twitter snowdrift serve --config /etc/snowdrift.toml
  snowdrift serve --config /etc/snowdrift.toml --print-config

Then:
  curl localhost:8080/v1/id
  curl 'localhost:8080/v1/ids?count=100'";

const GEN_EXAMPLES: &str = "\
Examples:
  snowdrift gen                            # one ID
  snowdrift gen -n 1000 --format base62
  snowdrift gen -n 3 --layout twitter --datacenter-id 1 --machine-id 7

IDs made here carry the given slot but no coordination: two processes using the same slot at
the same time can repeat each other's IDs. Use `snowdrift serve` to share one ID space.";

const DECODE_EXAMPLES: &str = "\
Examples:
  snowdrift decode 175928847299117063 --layout discord
  snowdrift decode 04W86BB0G4007 --layout discord --json
  snowdrift decode 0x0271065ac1020007 --layout discord";

const CLUSTER_EXAMPLES: &str = "\
Examples:
  snowdrift cluster status --etcd-endpoints http://10.0.0.1:2379 --cluster prod
  snowdrift cluster status --etcd-endpoints 10.0.0.1:2379,10.0.0.2:2379 --cluster prod --json";

const FETCH_EXAMPLES: &str = "\
Endpoints are grpc://HOST:PORT (a node's --grpc listener) or http://HOST:PORT (its --http
listener). With several, a failed request moves to the next; list a node's gRPC and HTTP
addresses both to fall back from one protocol to the other.

Examples:
  snowdrift fetch --endpoint grpc://127.0.0.1:9090 -n 5
  snowdrift fetch --endpoint grpc://10.0.0.1:9090,grpc://10.0.0.2:9090 -n 100000 > ids.txt
  snowdrift fetch --endpoint http://127.0.0.1:8080";

const HEALTHCHECK_EXAMPLES: &str = "\
Exit code 0 when the node answers 200, 1 otherwise (with the node's reason on stderr).

Examples:
  snowdrift healthcheck                    # /readyz at $SNOWDRIFT_HTTP, or 127.0.0.1:8080
  snowdrift healthcheck --url http://127.0.0.1:8080/healthz --timeout 1s";

const MIGRATE_CHECK_EXAMPLES: &str = "\
A layout is a preset or explicit widths, epoch and tick: T/D/M/S@EPOCH_MS[:UNIT_MS], the widths
of the timestamp, datacenter, machine and sequence fields. The check assumes the legacy
generator stops issuing at --legacy-max. Exit code 0 when new IDs cannot repeat legacy ones,
1 when they can.

Examples:
  snowdrift migrate check --legacy twitter --legacy-max 1050118621198921728
  snowdrift migrate check --legacy twitter --legacy-max 1050118621198921728 --layout twitter
  snowdrift migrate check --legacy 39/0/16/8@1409529600000:10 --legacy-max 433749001830219784 --json";

const LAYOUT_EXAMPLES: &str = "\
Examples:
  snowdrift layout                         # the default, 41/5/5/12 from 2021-01-01
  snowdrift layout --layout instagram
  snowdrift layout --json";

/// `snowdrift`: distributed, time-ordered, 64-bit unique IDs.
#[derive(Debug, Parser)]
#[command(
    name = "snowdrift",
    version,
    about = "Distributed, time-ordered, 64-bit unique IDs: a service, and tools to make and read them",
    after_help = ROOT_EXAMPLES,
    propagate_version = true
)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `snowdrift`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the ID service (HTTP/JSON) on a worker slot claimed from the state directory.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Box<ServeArgs>),
    /// Print IDs made locally with the library (no service, no state directory).
    #[command(after_help = GEN_EXAMPLES)]
    Gen(GenArgs),
    /// Print the parts of an ID: time (UTC), datacenter, machine and sequence.
    #[command(after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
    /// Print a layout's bit allocation, capacity and the date it runs out.
    #[command(after_help = LAYOUT_EXAMPLES)]
    Layout(LayoutArgs),
    /// Inspect an etcd cluster of snowdrift nodes.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Print IDs fetched from running snowdrift nodes (gRPC or HTTP, with failover).
    #[command(after_help = FETCH_EXAMPLES)]
    Fetch(FetchArgs),
    /// Exit 0 when a node answers ready (`GET /readyz` is 200), for images without curl.
    #[command(after_help = HEALTHCHECK_EXAMPLES)]
    Healthcheck(HealthcheckArgs),
    /// Plan a move from a legacy ID generator.
    #[command(subcommand)]
    Migrate(MigrateCommand),
}

/// The commands of `snowdrift migrate`.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Whether new IDs sort above a legacy generator's IDs, from when, and whether the two ID
    /// spaces can collide (exit code 1 when they can).
    #[command(after_help = MIGRATE_CHECK_EXAMPLES)]
    Check(MigrateCheckArgs),
}

/// Flags of `snowdrift migrate check`.
#[derive(Debug, Clone, Args)]
pub struct MigrateCheckArgs {
    /// The legacy generator's layout: a preset, or `T/D/M/S@EPOCH_MS[:UNIT_MS]`.
    #[arg(long, value_name = "LAYOUT")]
    pub legacy: LayoutArg,

    /// The largest ID the legacy generator issued (or a database sequence's current value).
    #[arg(long, value_name = "ID", allow_hyphen_values = true)]
    pub legacy_max: String,

    /// The layout Snowdrift will run: a preset, or `T/D/M/S@EPOCH_MS[:UNIT_MS]`.
    #[arg(long, value_name = "LAYOUT", default_value = "snowdrift")]
    pub layout: LayoutArg,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `snowdrift healthcheck`.
#[derive(Debug, Clone, Args)]
pub struct HealthcheckArgs {
    /// The URL to ask. Default: `/readyz` on the address in `SNOWDRIFT_HTTP` (`0.0.0.0` and
    /// `[::]` mean this host, so loopback), else http://127.0.0.1:8080/readyz.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,

    /// How long to wait for the answer, e.g. 3s or 500ms.
    #[arg(long, value_name = "DURATION", default_value = "3s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

/// The `snowdrift cluster` commands.
#[derive(Debug, Subcommand)]
pub enum ClusterCommand {
    /// List the slots of a cluster: holder, lease and persisted high-water mark of each.
    #[command(after_help = CLUSTER_EXAMPLES)]
    Status(ClusterStatusArgs),
}

/// Flags of `snowdrift cluster status`.
#[derive(Debug, Clone, Args)]
pub struct ClusterStatusArgs {
    /// etcd endpoints, comma-separated.
    #[arg(long, value_name = "URL,...", value_delimiter = ',', required = true)]
    pub etcd_endpoints: Vec<String>,

    /// Cluster name (the etcd key prefix the nodes were started with).
    #[arg(long, value_name = "NAME")]
    pub cluster: String,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,

    /// CA bundle (PEM) that signed etcd's certificate; turns on TLS towards etcd.
    #[arg(long, value_name = "FILE")]
    pub etcd_ca: Option<PathBuf>,

    /// Client certificate (PEM) presented to etcd, with `--etcd-key`.
    #[arg(long, value_name = "FILE")]
    pub etcd_cert: Option<PathBuf>,

    /// Private key (PEM) of `--etcd-cert`.
    #[arg(long, value_name = "FILE")]
    pub etcd_key: Option<PathBuf>,

    /// etcd user, with `--etcd-password-file`.
    #[arg(long, value_name = "NAME", requires = "etcd_password_file")]
    pub etcd_user: Option<String>,

    /// File whose first line is the password of `--etcd-user`.
    #[arg(long, value_name = "FILE", requires = "etcd_user")]
    pub etcd_password_file: Option<PathBuf>,
}

/// Flags of `snowdrift serve`: the config file, `--print-config`, and every setting of
/// [`crate::config::ServeConfig`], where each flag is defined with its help text.
#[derive(Debug, Default, Clone, Args)]
pub struct ServeArgs {
    /// TOML file with settings (keys are the flag names with `_`, e.g. `data_dir`).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Print the merged settings as TOML (with where each came from) and exit.
    #[arg(long)]
    pub print_config: bool,

    /// The settings given as flags.
    #[command(flatten)]
    pub flags: Flags,
}

/// Flags of `snowdrift gen`.
#[derive(Debug, Clone, Args)]
pub struct GenArgs {
    /// How many IDs to print.
    #[arg(short = 'n', long = "count", value_name = "N", default_value = "1", value_parser = parse_count)]
    pub count: u64,

    /// Text form of each ID.
    #[arg(long, value_name = "FORMAT", default_value_t, value_parser = choice::<Encoding>())]
    pub format: Encoding,

    /// Layout preset.
    #[arg(long, value_name = "PRESET", default_value_t, value_parser = choice::<Preset>())]
    pub layout: Preset,

    /// Datacenter field of the IDs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub datacenter_id: u64,

    /// Machine field of the IDs.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub machine_id: u64,
}

/// Flags of `snowdrift fetch`.
#[derive(Debug, Clone, Args)]
pub struct FetchArgs {
    /// A node to ask: grpc://, grpcs://, http:// or https://HOST:PORT. Repeat it, or separate
    /// with commas.
    #[arg(
        long = "endpoint",
        value_name = "URL",
        required = true,
        value_delimiter = ','
    )]
    pub endpoints: Vec<String>,

    /// How many IDs to print.
    #[arg(short = 'n', long = "count", value_name = "N", default_value = "1", value_parser = parse_count)]
    pub count: u64,

    /// How long to keep retrying when no endpoint answers, e.g. 2s or 500ms.
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,

    /// CA bundle (PEM) that grpcs:// and https:// endpoints are checked against.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// Client certificate (PEM) for nodes with mutual TLS, with `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// Private key (PEM) of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Token file: its first token (not blank, not a `#` comment) is sent with every request.
    #[arg(long, value_name = "FILE")]
    pub auth_token_file: Option<PathBuf>,
}

/// Flags of `snowdrift decode`.
#[derive(Debug, Clone, Args)]
pub struct DecodeArgs {
    /// The ID: decimal, 13-character base32, 11-character base62, or hex (16 digits or `0x…`).
    #[arg(value_name = "ID", allow_hyphen_values = true)]
    pub id: String,

    /// Layout preset the ID was made with.
    #[arg(long, value_name = "PRESET", default_value_t, value_parser = choice::<Preset>())]
    pub layout: Preset,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `snowdrift layout`.
#[derive(Debug, Clone, Args)]
pub struct LayoutArgs {
    /// Layout preset.
    #[arg(long, value_name = "PRESET", default_value_t, value_parser = choice::<Preset>())]
    pub layout: Preset,

    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Prints a clap error and returns the exit code: help and version go to stdout with code 0;
/// a usage error becomes one line on stderr with code 2.
pub fn report_parse_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // Printing help can only fail if stdout is gone, and then there is no one to tell.
            let _ = err.print();
            if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                ExitCode::from(crate::EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            }
        }
        _ => {
            eprintln!("{}", one_line(&err.render().to_string()));
            ExitCode::from(crate::EXIT_USAGE)
        }
    }
}

/// Folds clap's multi-line message into one line: the message and its details, without the
/// usage block and the "try --help" hint, which the user can ask for.
fn one_line(rendered: &str) -> String {
    let mut parts = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if !line.is_empty() {
            parts.push(line);
        }
    }
    let mut message = parts.join(" ");
    if !message.starts_with("error:") {
        message.insert_str(0, "error: ");
    }
    message.push_str(" (see --help)");
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn usage_errors_fold_into_one_line() {
        let err = Cli::try_parse_from(["snowdrift", "decode"]).unwrap_err();
        let line = one_line(&err.render().to_string());
        assert!(!line.contains('\n'), "{line}");
        assert!(line.starts_with("error:"), "{line}");
        assert!(line.contains("<ID>"), "{line}");
    }

    #[test]
    fn bad_values_name_the_flag() {
        let err = Cli::try_parse_from(["snowdrift", "gen", "--datacenter-id", "x"]).unwrap_err();
        let line = one_line(&err.render().to_string());
        assert!(line.contains("--datacenter-id"), "{line}");
    }
}
