//! The service's listeners: which protocols are enabled, binding their sockets, and the
//! substrate every protocol takes its connections from.
//!
//! This is the one place that knows the list of protocols (HTTP, gRPC, the Redis protocol).
//! Adding one means a [`Protocol`] variant and an arm in [`Listener::spawn`]; `serve` binds,
//! runs and drains every listener the same way.
//!
//! The substrate is the same for every protocol, so its policy is written once:
//! - [`accept`](accept()): the accept loop (connection cap, back-off on errors) yielding
//!   [`Incoming`] streams;
//! - [`Conn`]: an accepted socket with `TCP_NODELAY` and a write timeout;
//! - [`Handshake`]: the hook between the two, where TLS plugs in;
//! - [`Connections`]: what is open, so that [`drain`](drain()) can close it at the deadline;
//! - [`Limits`]: the numbers, in one struct.
//!
//! Sockets are bound before the node claims its slot, so a busy port fails fast without
//! touching the state directory, and the bound addresses (port 0 becomes a real port) can be
//! advertised in the slot and printed in the `listening` line.

mod accept;
mod conn;
mod drain;
mod hook;
mod limits;
mod open;
#[cfg(test)]
mod tests;

use std::fmt;
use std::net::SocketAddr;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use accept::{accept, Incoming};
pub use conn::Conn;
pub use drain::{drain, Drained, Ended};
pub use hook::{Handshake, Plain};
pub use limits::Limits;
pub use open::Connections;

use crate::app::App;
use crate::config::ServeConfig;
use crate::shutdown::Shutdown;

/// A protocol the service can speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 with JSON bodies (`--http`).
    Http,
    /// gRPC (`--grpc`).
    Grpc,
    /// The Redis protocol, RESP (`--resp`).
    Resp,
}

impl Protocol {
    /// The name used in flags and in the `listening` line.
    pub const fn name(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Resp => "resp",
        }
    }

    /// The URL scheme advertised for this protocol in the slot's holder identity.
    const fn scheme(self) -> &'static str {
        match self {
            Protocol::Http => "http",
            Protocol::Grpc => "grpc",
            Protocol::Resp => "redis",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the listeners could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// The socket could not be bound.
    #[error("cannot listen for {protocol} on {addr}: {source}")]
    Bind {
        /// The protocol.
        protocol: Protocol,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// The enabled protocols and their addresses, from the settings.
pub fn plan(config: &ServeConfig) -> Vec<(Protocol, SocketAddr)> {
    let wanted = [
        (Protocol::Http, Some(config.http)),
        (Protocol::Grpc, config.grpc),
        (Protocol::Resp, config.resp),
    ];
    wanted
        .into_iter()
        .filter_map(|(protocol, addr)| addr.map(|addr| (protocol, addr)))
        .collect()
}

/// A bound socket, not yet serving.
#[derive(Debug)]
pub struct Listener {
    /// Its protocol.
    pub protocol: Protocol,
    /// The address it is bound to (the real port, if 0 was asked for).
    pub local_addr: SocketAddr,
    socket: TcpListener,
}

/// Binds every planned listener.
pub async fn bind(planned: &[(Protocol, SocketAddr)]) -> Result<Vec<Listener>, ListenError> {
    let mut bound = Vec::with_capacity(planned.len());
    for &(protocol, addr) in planned {
        let fail = |source| ListenError::Bind {
            protocol,
            addr,
            source,
        };
        let socket = TcpListener::bind(addr).await.map_err(fail)?;
        let local_addr = socket.local_addr().map_err(fail)?;
        bound.push(Listener {
            protocol,
            local_addr,
            socket,
        });
    }
    Ok(bound)
}

/// A listener that is serving: its task returns when it has drained after shutdown.
#[derive(Debug)]
pub struct Running {
    /// Its protocol.
    pub protocol: Protocol,
    /// The address it serves on.
    pub local_addr: SocketAddr,
    /// The serving task.
    pub task: JoinHandle<std::io::Result<()>>,
    /// Its open connections, for the drain deadline.
    pub connections: Connections,
}

impl Listener {
    /// The URL advertised for this listener, e.g. `http://127.0.0.1:8080`.
    pub fn advertised(&self) -> String {
        format!("{}://{}", self.protocol.scheme(), self.local_addr)
    }

    /// Starts serving `app` until `shutdown`, within `limits`.
    pub fn spawn(
        self,
        app: App,
        metrics: PrometheusHandle,
        limits: Limits,
        shutdown: Shutdown,
    ) -> Running {
        let connections = Connections::new();
        let incoming = accept(
            self.socket,
            Plain,
            limits,
            connections.clone(),
            shutdown.clone(),
        );
        let task = match self.protocol {
            Protocol::Http => {
                let router = crate::http::router(crate::http::HttpState { app, metrics });
                tokio::spawn(crate::http::serve(incoming, router, shutdown))
            }
            Protocol::Grpc => tokio::spawn(crate::grpc::serve(incoming, app, shutdown)),
            Protocol::Resp => tokio::spawn(crate::resp::serve(incoming, app, shutdown)),
        };
        Running {
            protocol: self.protocol,
            local_addr: self.local_addr,
            task,
            connections,
        }
    }
}
