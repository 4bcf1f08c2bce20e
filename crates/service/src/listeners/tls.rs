//! The TLS hook: the acceptor's [`Handshake`] that turns a [`Conn`] into a [`TlsConn`].
//!
//! Each handshake takes the configuration current at that moment from [`ServerTls`], so a
//! reload reaches the next client at once and never touches a connection already open. The
//! acceptor bounds the handshake by [`Limits::handshake_timeout`](super::Limits) like every
//! hook; a failed one (a plaintext client, an untrusted or missing client certificate) is
//! counted in `snowdrift_tls_handshake_failures_total{protocol}` and the socket closed.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::{Conn, Handshake, Protocol};
use crate::tls::ServerTls;

/// Failed TLS handshakes, by protocol.
pub const HANDSHAKE_FAILURES: &str = "snowdrift_tls_handshake_failures_total";

/// The TLS hook of one listener.
#[derive(Debug, Clone)]
pub struct Tls {
    server: Arc<ServerTls>,
    protocol: Protocol,
}

impl Tls {
    /// Serves `protocol` with the configurations of `server`.
    pub fn new(server: Arc<ServerTls>, protocol: Protocol) -> Tls {
        Tls { server, protocol }
    }
}

impl Handshake for Tls {
    type Stream = TlsConn;

    async fn handshake(&self, conn: Conn) -> io::Result<TlsConn> {
        let acceptor = TlsAcceptor::from(self.server.config(self.protocol));
        match acceptor.accept(conn).await {
            Ok(stream) => Ok(TlsConn {
                stream: Box::new(stream),
            }),
            Err(err) => {
                metrics::counter!(HANDSHAKE_FAILURES, "protocol" => self.protocol.name())
                    .increment(1);
                Err(err)
            }
        }
    }
}

/// An accepted connection after its TLS handshake: what the protocols read and write.
pub struct TlsConn {
    /// Boxed: the TLS session state is large, and the stream is moved through a channel.
    stream: Box<TlsStream<Conn>>,
}

impl TlsConn {
    /// The connection underneath.
    pub fn conn(&self) -> &Conn {
        self.stream.get_ref().0
    }
}

impl std::fmt::Debug for TlsConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsConn")
            .field("conn", self.conn())
            .finish_non_exhaustive()
    }
}

impl AsyncRead for TlsConn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_shutdown(cx)
    }
}

/// tonic reads the addresses of a call's connection from this, as from a plain [`Conn`].
impl tonic::transport::server::Connected for TlsConn {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.conn().connect_info()
    }
}
