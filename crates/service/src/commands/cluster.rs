//! `snowdrift cluster status`: the slots of an etcd cluster, their holders, leases and
//! high-water marks. The reading and the table live in the coordination crate
//! (`snowdrift_coordination::etcd::cluster_status`); this only prints. It reaches an etcd
//! with TLS and auth through the same `--etcd-ca`, `--etcd-cert`, `--etcd-key`, `--etcd-user`
//! and `--etcd-password-file` as `serve`.

use std::time::Duration;

use snowdrift_coordination::etcd::cluster_status;
use snowdrift_coordination::{CoordError, EtcdAuth, EtcdOptions, EtcdTls};

use super::{write_stdout, Failure};
use crate::cli::{ClusterCommand, ClusterStatusArgs};

/// Runs a `snowdrift cluster` command.
pub fn run(command: &ClusterCommand) -> Result<(), Failure> {
    match command {
        ClusterCommand::Status(args) => status(args),
    }
}

fn status(args: &ClusterStatusArgs) -> Result<(), Failure> {
    // A person is waiting, not a lease: allow a slow etcd more time than a node would.
    let options = EtcdOptions {
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(5),
        tls: EtcdTls {
            ca: args.etcd_ca.clone(),
            cert: args.etcd_cert.clone(),
            key: args.etcd_key.clone(),
        },
        auth: match (&args.etcd_user, &args.etcd_password_file) {
            (Some(user), Some(password_file)) => Some(EtcdAuth {
                user: user.clone(),
                password_file: password_file.clone(),
            }),
            _ => None,
        },
        ..EtcdOptions::new(args.etcd_endpoints.clone(), args.cluster.clone(), 0)
    };
    options
        .validate()
        .map_err(|err| Failure::Usage(err.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let status = runtime
        .block_on(cluster_status(&options))
        .map_err(|err| match err {
            CoordError::Config(_) | CoordError::Setting { .. } => Failure::Usage(err.to_string()),
            _ => Failure::Runtime(format!("cannot read the cluster: {err}")),
        })?;
    if args.json {
        let text = serde_json::to_string_pretty(&status)
            .map_err(|err| Failure::Runtime(format!("cannot write JSON: {err}")))?;
        write_stdout(|out| writeln!(out, "{text}"))
    } else {
        write_stdout(|out| write!(out, "{status}"))
    }
}
