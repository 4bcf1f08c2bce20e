//! TLS on the listeners: the node's certificate, reloadable without dropping a connection.
//!
//! One way for all three protocols: the listener substrate runs the TLS handshake in its
//! acceptor hook ([`crate::listeners::Tls`]) and hands the encrypted stream to hyper, tonic or
//! the Redis-protocol handler, each of which already serves any stream. So tonic serves
//! streams it did not encrypt itself, rather than using its own `ServerTlsConfig`, because then:
//! - one configuration, loaded and checked once ([`files`]), serves every listener;
//! - a reload swaps it for every listener at once ([`ServerTls::reload`]); tonic's own TLS
//!   cannot change its certificate after it starts;
//! - the handshake runs under the substrate's bounds: the connection cap, the handshake
//!   timeout (a client that stalls its handshake is dropped, and holds no accept slot
//!   meanwhile), the write timeout and the drain deadline.
//!
//! Each listener gets the configuration with its own ALPN: `h2` for gRPC (HTTP/2 is required
//! and clients check it), `http/1.1` for HTTP, none for the Redis protocol.
//!
//! A reload builds the new configurations completely before swapping them in, so a bad file
//! keeps the old certificate serving. Handshakes started afterwards use the new one;
//! connections already open keep the session they negotiated. Reloads are logged and counted
//! in `snowdrift_tls_reloads_total{result}`.

pub mod files;

use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio_rustls::rustls::ServerConfig;

pub use files::{TlsError, TlsFiles};

use crate::listeners::Protocol;

/// Reloads of the TLS files, by result (`ok`, `error`).
pub const RELOADS: &str = "snowdrift_tls_reloads_total";

/// The node's TLS configuration, one per protocol, swapped whole at a reload.
#[derive(Debug)]
pub struct ServerTls {
    files: TlsFiles,
    current: ArcSwap<PerProtocol>,
}

#[derive(Debug)]
struct PerProtocol {
    http: Arc<ServerConfig>,
    grpc: Arc<ServerConfig>,
    resp: Arc<ServerConfig>,
}

impl PerProtocol {
    fn load(files: &TlsFiles) -> Result<PerProtocol, TlsError> {
        let base = files::server_config(files)?;
        let with_alpn = |protocols: &[&[u8]]| {
            let mut config = base.clone();
            config.alpn_protocols = protocols.iter().map(|p| p.to_vec()).collect();
            Arc::new(config)
        };
        Ok(PerProtocol {
            http: with_alpn(&[b"http/1.1"]),
            grpc: with_alpn(&[b"h2"]),
            resp: with_alpn(&[]),
        })
    }
}

impl ServerTls {
    /// Reads and checks the files. An error names the file and what is wrong with it.
    pub fn load(files: TlsFiles) -> Result<ServerTls, TlsError> {
        let current = PerProtocol::load(&files)?;
        Ok(ServerTls {
            files,
            current: ArcSwap::from_pointee(current),
        })
    }

    /// The files this configuration is read from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// The configuration a new connection of `protocol` is served with.
    pub fn config(&self, protocol: Protocol) -> Arc<ServerConfig> {
        let current = self.current.load();
        Arc::clone(match protocol {
            Protocol::Http => &current.http,
            Protocol::Grpc => &current.grpc,
            Protocol::Resp => &current.resp,
        })
    }

    /// Reads the files again and, if they are good, serves new connections with them; on an
    /// error the configuration in use stays. Counted either way.
    pub fn reload(&self) -> Result<(), TlsError> {
        let loaded = PerProtocol::load(&self.files);
        let label = if loaded.is_ok() { "ok" } else { "error" };
        metrics::counter!(RELOADS, "result" => label).increment(1);
        self.current.store(Arc::new(loaded?));
        Ok(())
    }
}
