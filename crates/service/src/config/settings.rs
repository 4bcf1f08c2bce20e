//! [`ServeConfig`]: every setting of `snowdrift serve`, defined once.
//!
//! Each field is one setting, and everything about it is written here:
//! - its doc comment is its `--help` text;
//! - its clap attributes make it the flag `--<name>` (clap parses flags);
//! - its serde attributes make it the key `<name>` of the TOML file and the variable
//!   `SNOWDRIFT_<NAME>` (serde parses those, with the same parser as the flag);
//! - [`ServeConfig::default`] gives its default. What the coordination crate owns (the window,
//!   the lease, the clock checks) is taken from that crate's own defaults, so the two cannot
//!   disagree;
//! - the methods at the end are its use: they build the coordination crate's options, which
//!   both `serve` and the validation at load time use, so what is checked is what runs.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use snowdrift::clock::SlewRate;
use snowdrift::{IdGenerator, Layout, SequenceStart};
use snowdrift_coordination::{
    Backend, EtcdAuth, EtcdOptions, EtcdTls, LocalOptions, NodeConfig, WindowConfig,
};

use crate::listeners::Protocol;
use crate::tls::TlsFiles;

use super::values::{
    self, ClockBehind, ClockSkewPolicy, CoordinatorKind, LayoutChoice, LogFormat, MachineChoice,
};

/// The default `--max-batch` where the layout's reservation holds more
/// ([`ServeConfig::default_max_batch`]).
pub const MAX_BATCH: u64 = 10_000;

/// The settings of `snowdrift serve`.
#[derive(Debug, Clone, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address of the HTTP listener. Port 0 picks a free port.
    #[arg(long, value_name = "ADDR", value_parser = values::parse_addr)]
    #[serde(deserialize_with = "values::addr")]
    pub http: SocketAddr,

    /// Address of the gRPC listener; off unless set.
    #[arg(long, value_name = "ADDR", value_parser = values::parse_addr)]
    #[serde(default, deserialize_with = "values::addr")]
    pub grpc: Option<SocketAddr>,

    /// Address of the Redis-protocol listener; off unless set.
    #[arg(long, value_name = "ADDR", value_parser = values::parse_addr)]
    #[serde(default, deserialize_with = "values::addr")]
    pub resp: Option<SocketAddr>,

    /// State directory: the slot lock, the pinned layout and the high-water mark.
    #[arg(long, value_name = "DIR")]
    pub data_dir: PathBuf,

    /// Datacenter field of every ID.
    #[arg(long, value_name = "N")]
    pub datacenter_id: u64,

    /// Machine field of every ID, or `auto` for the first free slot on this host (or in the
    /// etcd cluster). With `--coordinator etcd` the default is `auto`.
    #[arg(long, value_name = "N|auto")]
    #[serde(with = "values::machine")]
    pub machine_id: MachineChoice,

    /// Where worker slots and high-water marks are kept.
    #[arg(long, value_name = "KIND")]
    #[serde(with = "values::value_enum")]
    pub coordinator: CoordinatorKind,

    /// etcd endpoints, comma-separated (with `--coordinator etcd`).
    #[arg(long, value_name = "URL,...", value_delimiter = ',')]
    #[serde(default, deserialize_with = "values::endpoints::deserialize")]
    pub etcd_endpoints: Vec<String>,

    /// Cluster name: the etcd key prefix (with `--coordinator etcd`).
    #[arg(long, value_name = "NAME")]
    #[serde(default)]
    pub cluster: Option<String>,

    /// Time to live of the etcd lease on the slot, in whole seconds. A crashed node's slot is
    /// free again after about this long.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(with = "humantime_serde")]
    pub lease_ttl: Duration,

    /// Most this node's clock may differ from the clocks other etcd nodes advertise when it
    /// joins.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(with = "humantime_serde")]
    pub max_clock_skew: Duration,

    /// Beyond that skew: `warn` and join, or `refuse` when most live nodes disagree.
    #[arg(long, value_name = "POLICY", value_parser = values::choice::<ClockSkewPolicy>())]
    #[serde(with = "values::named")]
    pub clock_skew_policy: ClockSkewPolicy,

    /// Layout preset: the bit layout and epoch. Explicit widths go in the file's `[layout]`.
    #[arg(long, value_name = "PRESET", value_parser = LayoutChoice::parser())]
    pub layout: LayoutChoice,

    /// Most IDs one request may ask for: at most what one reservation of the layout can hold
    /// (256 ticks' worth of sequence, and no more ticks than max_wait plus the lead cover).
    /// Default: the smaller of 10000 and that.
    #[arg(long, value_name = "N")]
    pub max_batch: u64,

    /// Log format.
    #[arg(long, value_name = "FORMAT")]
    #[serde(with = "values::value_enum")]
    pub log_format: LogFormat,

    /// How far ahead of the clock the high-water mark is persisted.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(with = "humantime_serde")]
    pub window: Duration,

    /// How long start-up may wait for a clock behind the persisted mark.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(with = "humantime_serde")]
    pub startup_max_wait: Duration,

    /// Future ticks a request may borrow when a tick's sequence is used up.
    #[arg(long, value_name = "N")]
    pub max_lead_ticks: u64,

    /// Where each fresh tick's sequence starts: `zero` (Snowflake's), `random` (a
    /// pseudo-random offset in the lower half) or `carry` (on from the last tick). The opt-in
    /// modes spread `id % N` shards evenly at low rates; a fresh tick then holds fewer IDs
    /// (at least half with `random`).
    #[arg(long, value_name = "MODE", value_parser = values::choice::<SequenceStart>())]
    #[serde(with = "values::named")]
    pub sequence_start: SequenceStart,
    /// What a start-up behind the slot's persisted mark does: `wait` for the clock (at most
    /// --startup-max-wait), or `advance`: start at once above the mark on an ID clock that runs
    /// --clock-slew slower than real time until the wall clock meets it.
    #[arg(long, value_name = "POLICY", value_parser = values::choice::<ClockBehind>())]
    #[serde(with = "values::named")]
    pub clock_behind: ClockBehind,

    /// The most `--clock-behind advance` may lead the wall clock: a clock further behind the
    /// mark is refused.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(with = "humantime_serde")]
    pub max_clock_lead: Duration,

    /// How much slower than real time an advanced ID clock runs until it meets the wall
    /// clock, in percent above 0 and below 100 (`1%`: an hour's lead is gone in 100 hours).
    #[arg(long, value_name = "PERCENT", value_parser = values::parse_slew)]
    #[serde(with = "values::slew")]
    pub clock_slew: SlewRate,

    /// The node's certificate chain (PEM, leaf first). With `--tls-key`, every listener not
    /// named by `--plaintext` speaks TLS only. SIGHUP reloads it.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub tls_cert: Option<PathBuf>,

    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub tls_key: Option<PathBuf>,

    /// Mutual TLS: clients must present a certificate signed by a CA in this PEM bundle.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub tls_client_ca: Option<PathBuf>,

    /// Longest a client may take over its TLS handshake before it is disconnected.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    #[serde(with = "humantime_serde")]
    pub tls_handshake_timeout: Duration,

    /// Listeners that stay plaintext when TLS is on, comma-separated: http, grpc, resp.
    #[arg(long, value_name = "LISTENER,...", value_delimiter = ',')]
    #[serde(default, with = "values::value_enum_list")]
    pub plaintext: Vec<Protocol>,

    /// Tokens, one per line (`#` comments): every request must carry one, as
    /// `Authorization: Bearer`, gRPC `authorization` metadata or RESP `AUTH`. SIGHUP reloads it.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub auth_token_file: Option<PathBuf>,

    /// Also require a token on /healthz, /readyz, /metrics and the gRPC health service.
    #[arg(long)]
    #[serde(default)]
    pub auth_probes: bool,

    /// CA bundle (PEM) that signed etcd's certificate; turns on TLS towards etcd.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub etcd_ca: Option<PathBuf>,

    /// Client certificate (PEM) this node presents to etcd, with `--etcd-key`.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub etcd_cert: Option<PathBuf>,

    /// Private key (PEM) of `--etcd-cert`.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub etcd_key: Option<PathBuf>,

    /// etcd user to authenticate as, with `--etcd-password-file`.
    #[arg(long, value_name = "NAME")]
    #[serde(default)]
    pub etcd_user: Option<String>,

    /// File whose first line is the password of `--etcd-user`.
    #[arg(long, value_name = "FILE")]
    #[serde(default)]
    pub etcd_password_file: Option<PathBuf>,
}

impl Default for ServeConfig {
    /// The documented defaults (DESIGN.md), each written once, here.
    fn default() -> Self {
        let window = WindowConfig::default();
        let etcd = EtcdOptions::new(Vec::new(), "", 0);
        ServeConfig {
            // Loopback only, so a fresh `snowdrift serve` is not exposed.
            http: SocketAddr::from((Ipv4Addr::LOCALHOST, 8080)),
            grpc: None,
            resp: None,
            data_dir: PathBuf::from("./snowdrift-data"),
            datacenter_id: 0,
            machine_id: MachineChoice::Fixed(0),
            coordinator: CoordinatorKind::default(),
            etcd_endpoints: Vec::new(),
            cluster: None,
            lease_ttl: etcd.lease_ttl,
            max_clock_skew: etcd.max_clock_skew,
            clock_skew_policy: etcd.skew_policy,
            layout: LayoutChoice::default(),
            max_batch: MAX_BATCH,
            log_format: LogFormat::default(),
            window: window.window,
            startup_max_wait: window.startup_max_wait,
            max_lead_ticks: window.max_lead_ticks,
            sequence_start: window.sequence_start,
            clock_behind: window.clock_behind,
            max_clock_lead: window.max_clock_lead,
            clock_slew: window.clock_slew,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_handshake_timeout: crate::listeners::Limits::default().handshake_timeout,
            plaintext: Vec::new(),
            auth_token_file: None,
            auth_probes: false,
            etcd_ca: None,
            etcd_cert: None,
            etcd_key: None,
            etcd_user: None,
            etcd_password_file: None,
        }
    }
}

impl ServeConfig {
    /// The layout to issue with.
    pub fn layout(&self) -> Layout {
        self.layout.layout()
    }

    /// The most IDs one reservation can hold with these settings: the generator's
    /// `max_batch()` for the layout, lead and `max_wait` that `serve` will use. `None` when no
    /// generator can be built on them (validation says why).
    pub fn reservation_max_batch(&self) -> Option<u64> {
        IdGenerator::builder(self.layout())
            .max_lead_ticks(self.max_lead_ticks)
            .max_wait(self.window_config().max_wait)
            .build()
            .ok()
            .map(|generator| generator.max_batch())
    }

    /// `--max-batch` when none is set: the smaller of [`MAX_BATCH`] and what one reservation
    /// holds, so that a layout of long ticks (1 s holds 8192 IDs) starts on its defaults.
    pub fn default_max_batch(&self) -> u64 {
        self.reservation_max_batch()
            .map_or(MAX_BATCH, |most| most.min(MAX_BATCH))
    }

    /// The window protocol's settings.
    pub fn window_config(&self) -> WindowConfig {
        WindowConfig {
            window: self.window,
            startup_max_wait: self.startup_max_wait,
            max_lead_ticks: self.max_lead_ticks,
            sequence_start: self.sequence_start,
            clock_behind: self.clock_behind,
            max_clock_lead: self.max_clock_lead,
            clock_slew: self.clock_slew,
            ..WindowConfig::default()
        }
    }

    /// What the node needs besides its backend; `advertise` lists the bound listeners.
    pub fn node_config(&self, advertise: Vec<String>) -> NodeConfig {
        NodeConfig {
            layout: self.layout(),
            window: self.window_config(),
            advertise,
        }
    }

    /// The TLS files, when TLS is on (`--tls-cert` and `--tls-key`; checked together when
    /// the settings are loaded).
    pub fn tls_files(&self) -> Option<TlsFiles> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles {
                cert: cert.clone(),
                key: key.clone(),
                client_ca: self.tls_client_ca.clone(),
            }),
            _ => None,
        }
    }

    /// Whether `listener` speaks TLS: TLS is on and the listener is not in `--plaintext`.
    pub fn tls_on(&self, listener: Protocol) -> bool {
        self.tls_files().is_some() && !self.plaintext.contains(&listener)
    }

    /// The etcd backend's options (meaningful with `--coordinator etcd`).
    pub fn etcd_options(&self) -> EtcdOptions {
        EtcdOptions {
            machine: self.machine_id,
            max_clock_skew: self.max_clock_skew,
            skew_policy: self.clock_skew_policy,
            tls: EtcdTls {
                ca: self.etcd_ca.clone(),
                cert: self.etcd_cert.clone(),
                key: self.etcd_key.clone(),
            },
            auth: match (&self.etcd_user, &self.etcd_password_file) {
                (None, None) => None,
                (user, password_file) => Some(EtcdAuth {
                    user: user.clone().unwrap_or_default(),
                    password_file: password_file.clone().unwrap_or_default(),
                }),
            },
            ..EtcdOptions::new(
                self.etcd_endpoints.clone(),
                self.cluster.clone().unwrap_or_default(),
                self.datacenter_id,
            )
            .with_lease_ttl(self.lease_ttl)
        }
    }

    /// The coordination backend to claim a slot from.
    pub fn backend(&self) -> Backend {
        match self.coordinator {
            CoordinatorKind::Local => Backend::Local(LocalOptions {
                data_dir: self.data_dir.clone(),
                datacenter: self.datacenter_id,
                machine: self.machine_id,
            }),
            CoordinatorKind::Etcd => Backend::Etcd(self.etcd_options()),
        }
    }

    /// The setting behind a field that [`WindowConfig::validate`] or [`EtcdOptions::validate`]
    /// names, as the builders above fill them.
    pub(crate) fn key_of_option(field: &'static str) -> &'static str {
        match field {
            "endpoints" => "etcd_endpoints",
            "skew_policy" => "clock_skew_policy",
            // `with_lease_ttl` derives these from the lease TTL.
            "safety_margin" | "request_timeout" | "connect_timeout" => "lease_ttl",
            other => other,
        }
    }
}
