//! Connecting to etcd, and the one wrapper every etcd request goes through: a time bound, a
//! readable error and the `snowdrift_etcd_errors_total` counter.
//!
//! Time bounds are applied here with `tokio::time::timeout` rather than as gRPC deadlines on the
//! channel, because a channel-wide deadline would also cut the lease's long-lived keepalive
//! stream.

use std::future::Future;
use std::time::Duration;

use etcd_client::{Client, ConnectOptions};

use super::options::EtcdOptions;
use crate::error::CoordError;

/// HTTP/2 pings detect a connection that died without a reset (a real partition). etcd's
/// default `--grpc-keepalive-min-time` is 5 s and it closes connections that ping more often,
/// so stay well above it.
const H2_PING_INTERVAL: Duration = Duration::from_secs(10);

/// Opens a client. The channel connects lazily: this succeeds even while etcd is down, and the
/// first request reports the failure (and later requests reconnect by themselves).
pub(crate) async fn connect(options: &EtcdOptions) -> Result<Client, CoordError> {
    let connect_options = ConnectOptions::new()
        .with_connect_timeout(options.connect_timeout)
        .with_keep_alive(H2_PING_INTERVAL, options.request_timeout)
        .with_tcp_keepalive(H2_PING_INTERVAL);
    let connect_options =
        super::secure::apply(connect_options, &options.tls, options.auth.as_ref())?;
    call(
        "connect",
        options.connect_timeout,
        Client::connect(options.endpoint_urls(), Some(connect_options)),
    )
    .await
}

/// Runs one etcd request within `timeout`, naming `op` in the error and the error counter.
pub(crate) async fn call<T>(
    op: &'static str,
    timeout: Duration,
    request: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T, CoordError> {
    let outcome = match tokio::time::timeout(timeout, request).await {
        Ok(Ok(value)) => return Ok(value),
        Ok(Err(e)) => format!("etcd {op} failed: {e}"),
        Err(_) => format!("etcd {op} timed out after {timeout:?}"),
    };
    record_error(op);
    Err(CoordError::Backend(outcome))
}

/// Counts a failed etcd operation.
pub(crate) fn record_error(op: &'static str) {
    metrics::counter!("snowdrift_etcd_errors_total", "op" => op).increment(1);
}

/// Counts a write (a transaction or lease change that goes through etcd's log).
pub(crate) fn record_write(op: &'static str) {
    metrics::counter!("snowdrift_etcd_writes_total", "op" => op).increment(1);
}
