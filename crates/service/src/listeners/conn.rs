//! [`Conn`]: an accepted TCP connection as every protocol receives it.
//!
//! The listener sets its socket options once, here, so no protocol can forget one:
//! `TCP_NODELAY` (answers leave at once instead of waiting on Nagle's algorithm for the
//! client's delayed ACK, which cost gRPC 40 ms per large answer), and a write timeout (a write
//! that cannot hand its bytes to a client for that long fails with `TimedOut`, so a client that
//! stops reading cannot hold a connection, and what it holds, for ever). A `Conn` also holds its
//! place in the listener's [`Connections`] and its permit under the connection cap; both are
//! given back when it drops.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio_io_timeout::TimeoutWriter;

use super::open::{Connections, RawSocket};
use super::Limits;

/// An accepted connection: a TCP stream with the listener's options, tracked until it drops.
///
/// One task drives a `Conn` (hyper, tonic and the Redis-protocol handler all do): the write
/// timer wakes the task that last wrote.
pub struct Conn {
    /// Boxed because the timeout's timer must not move, and the protocols want `Unpin`.
    stream: Pin<Box<TimeoutWriter<TcpStream>>>,
    peer: Option<SocketAddr>,
    local: Option<SocketAddr>,
    connections: Connections,
    key: u64,
    /// Held for the connection's life: one place under [`Limits::max_connections`].
    _permit: OwnedSemaphorePermit,
}

impl Conn {
    /// Sets up an accepted socket and records it in `connections`.
    pub(super) fn new(
        stream: TcpStream,
        limits: &Limits,
        connections: &Connections,
        permit: OwnedSemaphorePermit,
    ) -> Conn {
        // Both fail only on a socket that is already dead; its first read or write will say so.
        let _ = stream.set_nodelay(true);
        let (peer, local) = (stream.peer_addr().ok(), stream.local_addr().ok());
        let key = connections.insert(raw_socket(&stream));
        let mut stream = TimeoutWriter::new(stream);
        stream.set_timeout(Some(limits.write_timeout));
        Conn {
            stream: Box::pin(stream),
            peer,
            local,
            connections: connections.clone(),
            key,
            _permit: permit,
        }
    }

    /// The client's address.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The socket underneath, for its options.
    pub fn tcp(&self) -> &TcpStream {
        self.stream.get_ref()
    }
}

#[cfg(unix)]
fn raw_socket(stream: &TcpStream) -> RawSocket {
    std::os::fd::AsRawFd::as_raw_fd(stream)
}

#[cfg(not(unix))]
fn raw_socket(_: &TcpStream) -> RawSocket {}

impl Drop for Conn {
    fn drop(&mut self) {
        // Runs before the fields drop, so the entry is gone before the stream closes its
        // descriptor: `Connections::close_all` relies on it (see its SAFETY note).
        self.connections.remove(self.key);
    }
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("peer", &self.peer)
            .field("key", &self.key)
            .finish()
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.as_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream.as_mut().poll_shutdown(cx)
    }
}

/// tonic reads the addresses of a call's connection from this (`Request::remote_addr`).
impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = tonic::transport::server::TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        tonic::transport::server::TcpConnectInfo {
            local_addr: self.local,
            remote_addr: self.peer,
        }
    }
}
