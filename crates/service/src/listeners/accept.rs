//! The accept loop every listener shares, and [`Incoming`], the connections it yields.
//!
//! One loop, one policy, for HTTP, gRPC and the Redis protocol: take a place under the
//! connection cap (further clients wait in the kernel's backlog), accept, set the socket up
//! ([`Conn`]), run the [hook](super::Handshake) in its own task, and hand the stream over.
//! A failed accept (usually out of file descriptors) pauses the loop with an exponential
//! back-off rather than spinning. On shutdown the loop ends and drops the listening socket,
//! so the kernel stops completing handshakes for new clients at once.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::Stream;

use super::{Conn, Connections, Handshake, Limits};
use crate::shutdown::Shutdown;

/// Streams set up but not yet taken by the protocol. The protocol's loop only spawns a task
/// per stream, so a short queue never fills for long.
const READY_QUEUE: usize = 64;

/// The connections of one listener, ready to serve, until shutdown.
///
/// Both a [`Stream`] (tonic takes it as its incoming connections) and, through
/// [`Incoming::next`], something a plain loop can await.
#[derive(Debug)]
pub struct Incoming<S> {
    ready: mpsc::Receiver<S>,
}

impl<S> Incoming<S> {
    /// The next connection; `None` once the listener has stopped accepting.
    pub async fn next(&mut self) -> Option<S> {
        self.ready.recv().await
    }
}

impl<S> Stream for Incoming<S> {
    type Item = io::Result<S>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.ready.poll_recv(cx).map(|next| next.map(Ok))
    }
}

/// Starts accepting on `socket` until `shutdown`; every connection is recorded in
/// `connections` until it drops.
pub fn accept<H: Handshake>(
    socket: TcpListener,
    hook: H,
    limits: Limits,
    connections: Connections,
    shutdown: Shutdown,
) -> Incoming<H::Stream> {
    let (ready, receiver) = mpsc::channel(READY_QUEUE);
    tokio::spawn(accept_loop(
        socket,
        Arc::new(hook),
        limits,
        connections,
        shutdown,
        ready,
    ));
    Incoming { ready: receiver }
}

async fn accept_loop<H: Handshake>(
    socket: TcpListener,
    hook: Arc<H>,
    limits: Limits,
    connections: Connections,
    shutdown: Shutdown,
    ready: mpsc::Sender<H::Stream>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let stop = shutdown.wait();
    tokio::pin!(stop);
    let mut backoff = limits.accept_backoff;
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut stop => break,
        };
        let accepted = tokio::select! {
            accepted = socket.accept() => accepted,
            () = &mut stop => break,
            // The protocol stopped taking connections (it failed): stop accepting for it.
            () = ready.closed() => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                backoff = limits.accept_backoff;
                stream
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    retry_in_ms = backoff.as_millis() as u64,
                    addr = ?socket.local_addr().ok(),
                    "accept failed"
                );
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = &mut stop => break,
                }
                backoff = (backoff * 2).min(limits.accept_backoff_max);
                continue;
            }
        };
        let conn = Conn::new(stream, &limits, &connections, permit);
        let (hook, ready) = (Arc::clone(&hook), ready.clone());
        tokio::spawn(async move {
            let peer = conn.peer_addr();
            match tokio::time::timeout(limits.handshake_timeout, hook.handshake(conn)).await {
                // If the protocol has stopped taking connections, this one just closes.
                Ok(Ok(stream)) => drop(ready.send(stream).await),
                Ok(Err(err)) => tracing::debug!(?peer, error = %err, "handshake failed"),
                Err(_) => tracing::debug!(?peer, "handshake timed out"),
            }
        });
    }
    // Dropping `socket` here closes the port; streams already set up are still delivered.
}
