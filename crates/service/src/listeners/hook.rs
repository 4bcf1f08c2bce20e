//! The acceptor's hook: what turns an accepted [`Conn`] into the stream a protocol serves.
//!
//! Today every listener is plain TCP ([`Plain`] hands the `Conn` over as it is). This is the
//! one place where TLS plugs in: a hook whose `handshake` runs the TLS handshake over the
//! `Conn` and yields the encrypted stream, which every protocol takes as it takes a `Conn`
//! now. The acceptor runs each hook call in its own task under
//! [`Limits::handshake_timeout`](super::Limits::handshake_timeout), so a client that stalls
//! its handshake holds neither the accept loop nor other clients.

use std::future::Future;
use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

use super::Conn;

/// Turns an accepted connection into the stream a protocol reads and writes.
pub trait Handshake: Send + Sync + 'static {
    /// The stream the protocols receive.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Sets up `conn`; an error drops the connection (it is logged at debug level).
    fn handshake(&self, conn: Conn) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

/// Plain TCP: the connection as accepted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Plain;

impl Handshake for Plain {
    type Stream = Conn;

    async fn handshake(&self, conn: Conn) -> io::Result<Conn> {
        Ok(conn)
    }
}
