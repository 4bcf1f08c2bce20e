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
//! - [`Handshake`]: the hook between the two: [`Plain`], or [`Tls`] (the TLS handshake);
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
mod tls;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tonic::transport::server::Connected;

pub use accept::{accept, Incoming};
pub use conn::Conn;
pub use drain::{drain, Drained, Ended};
pub use hook::{Handshake, Plain};
pub use limits::Limits;
pub use open::Connections;
pub use tls::{Tls, TlsConn, HANDSHAKE_FAILURES};

use crate::app::App;
use crate::auth::Auth;
use crate::config::ServeConfig;
use crate::shutdown::Shutdown;
use crate::tls::ServerTls;

/// A protocol the service can speak. Its names are also the values of `--plaintext`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
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

    /// The URL scheme advertised for this protocol in the slot's holder identity: `http`,
    /// `grpc`, `redis`, or with TLS `https`, `grpcs`, `rediss` (the Redis clients' name).
    const fn scheme(self, tls: bool) -> &'static str {
        match (self, tls) {
            (Protocol::Http, false) => "http",
            (Protocol::Http, true) => "https",
            (Protocol::Grpc, false) => "grpc",
            (Protocol::Grpc, true) => "grpcs",
            (Protocol::Resp, false) => "redis",
            (Protocol::Resp, true) => "rediss",
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

/// A listener the settings ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planned {
    /// Its protocol.
    pub protocol: Protocol,
    /// The address to bind.
    pub addr: SocketAddr,
    /// Whether it speaks TLS (TLS is on and it is not in `--plaintext`).
    pub tls: bool,
}

/// The enabled protocols, their addresses and whether each speaks TLS, from the settings.
pub fn plan(config: &ServeConfig) -> Vec<Planned> {
    let wanted = [
        (Protocol::Http, Some(config.http)),
        (Protocol::Grpc, config.grpc),
        (Protocol::Resp, config.resp),
    ];
    wanted
        .into_iter()
        .filter_map(|(protocol, addr)| {
            addr.map(|addr| Planned {
                protocol,
                addr,
                tls: config.tls_on(protocol),
            })
        })
        .collect()
}

/// A bound socket, not yet serving.
#[derive(Debug)]
pub struct Listener {
    /// Its protocol.
    pub protocol: Protocol,
    /// The address it is bound to (the real port, if 0 was asked for).
    pub local_addr: SocketAddr,
    /// Whether it speaks TLS.
    pub tls: bool,
    socket: TcpListener,
}

/// What guards the doors of every listener: the TLS configuration (used by the listeners
/// planned with TLS) and the tokens.
#[derive(Debug, Clone)]
pub struct Guard {
    /// The node's TLS configuration, when TLS is on.
    pub tls: Option<Arc<ServerTls>>,
    /// Who may take IDs.
    pub auth: Auth,
}

impl Guard {
    /// No TLS, no tokens.
    pub fn open() -> Guard {
        Guard {
            tls: None,
            auth: Auth::open(),
        }
    }
}

/// Binds every planned listener.
pub async fn bind(planned: &[Planned]) -> Result<Vec<Listener>, ListenError> {
    let mut bound = Vec::with_capacity(planned.len());
    for &Planned {
        protocol,
        addr,
        tls,
    } in planned
    {
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
            tls,
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
    /// The URL advertised for this listener, e.g. `http://127.0.0.1:8080` or, with TLS,
    /// `https://127.0.0.1:8443`.
    pub fn advertised(&self) -> String {
        format!("{}://{}", self.protocol.scheme(self.tls), self.local_addr)
    }

    /// Starts serving `app` until `shutdown`, within `limits`, behind `guard`: over TLS if
    /// this listener was planned with TLS (and `guard` has a configuration), plaintext
    /// otherwise.
    pub fn spawn(
        self,
        app: App,
        metrics: PrometheusHandle,
        limits: Limits,
        guard: Guard,
        shutdown: Shutdown,
    ) -> Running {
        let connections = Connections::new();
        let (protocol, socket) = (self.protocol, self.socket);
        let tls = guard.tls.clone().filter(|_| self.tls);
        let task = match tls {
            Some(server) => {
                let hook = Tls::new(server, protocol);
                let incoming = accept(socket, hook, limits, connections.clone(), shutdown.clone());
                serve_protocol(protocol, incoming, app, metrics, guard.auth, shutdown)
            }
            None => {
                let incoming = accept(socket, Plain, limits, connections.clone(), shutdown.clone());
                serve_protocol(protocol, incoming, app, metrics, guard.auth, shutdown)
            }
        };
        Running {
            protocol,
            local_addr: self.local_addr,
            task,
            connections,
        }
    }
}

/// Spawns `protocol`'s server on the streams of `incoming`, whatever hook made them.
fn serve_protocol<S>(
    protocol: Protocol,
    incoming: Incoming<S>,
    app: App,
    metrics: PrometheusHandle,
    auth: Auth,
    shutdown: Shutdown,
) -> JoinHandle<std::io::Result<()>>
where
    S: AsyncRead + AsyncWrite + Connected + Unpin + Send + 'static,
{
    match protocol {
        Protocol::Http => {
            let router = crate::http::router(crate::http::HttpState { app, metrics, auth });
            tokio::spawn(crate::http::serve(incoming, router, shutdown))
        }
        Protocol::Grpc => tokio::spawn(crate::grpc::serve(incoming, app, auth, shutdown)),
        Protocol::Resp => tokio::spawn(crate::resp::serve(incoming, app, auth, shutdown)),
    }
}
