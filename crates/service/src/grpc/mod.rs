//! The gRPC listener, enabled by `--grpc ADDR`: the `snowdrift.v1.Snowdrift` service of
//! `proto/snowdrift/v1/snowdrift.proto`, and the standard `grpc.health.v1.Health` service.
//!
//! - [`service`]: `NextId`, `NextIds`, `Decode` and `Info`, each a thin call into the [`App`];
//! - [`stream`]: `StreamIds`, a task that issues a few batches ahead of a slow reader;
//! - [`status`]: how a [`crate::error::ServiceError`] becomes a gRPC status;
//! - [`health`]: keeps the health service's answer equal to `/readyz`;
//! - [`auth`]: the token check, in front of both services (the health service only with
//!   `--auth-probes`).
//!
//! The server bounds what a client can make it hold: requests are small protobuf messages
//! (a few bytes), so the decoder refuses anything over [`MAX_REQUEST_BYTES`]; a unary call
//! has [`REQUEST_TIMEOUT`]; idle HTTP/2 connections are probed by keep-alive pings.

pub mod auth;
pub mod health;
pub mod service;
pub mod status;
pub mod stream;

#[cfg(test)]
mod service_tests;

use std::time::Duration;

use snowdrift_wire::v1::snowdrift_server::SnowdriftServer;
use tokio::io::{AsyncRead, AsyncWrite};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::Connected;

use crate::app::App;
use crate::auth::Auth;
use crate::listeners::Incoming;
use crate::shutdown::Shutdown;

/// Largest request message accepted. The largest real one, a `Decode` of a 20-digit ID, is
/// under 30 bytes.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024;
/// Longest a unary call may take before it is answered `DEADLINE_EXCEEDED`-like
/// (`CANCELLED` by the server). Issuing never waits this long; it bounds a stuck request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most concurrent calls on one HTTP/2 connection.
pub const MAX_STREAMS_PER_CONNECTION: u32 = 256;

/// Serves gRPC on the connections of `incoming` until `shutdown`, then lets calls in flight
/// finish (a running `StreamIds` ends with `UNAVAILABLE`, so a reader retries elsewhere).
/// Socket options and the drain deadline are the substrate's: tonic's own `tcp_nodelay` does
/// nothing for connections it did not accept itself.
pub async fn serve<S>(
    incoming: Incoming<S>,
    app: App,
    tokens: Auth,
    shutdown: Shutdown,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    let (reporter, health_service) = tonic_health::server::health_reporter();
    health::publish(&reporter, &app).await;
    let keeper = tokio::spawn(health::keep(reporter, app.clone(), shutdown.clone()));

    let ids = SnowdriftServer::new(service::IdService::new(app, shutdown.clone()))
        .max_decoding_message_size(MAX_REQUEST_BYTES);
    let guards_probes = tokens.guards_probes();
    let ids = InterceptedService::new(ids, auth::interceptor(tokens.clone(), true));
    let health_service =
        InterceptedService::new(health_service, auth::interceptor(tokens, guards_probes));
    let served = tonic::transport::Server::builder()
        .timeout(REQUEST_TIMEOUT)
        .max_concurrent_streams(MAX_STREAMS_PER_CONNECTION)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)))
        .add_service(health_service)
        .add_service(ids)
        .serve_with_incoming_shutdown(incoming, shutdown.wait())
        .await;
    keeper.abort();
    served.map_err(std::io::Error::other)
}
