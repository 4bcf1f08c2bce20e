//! The accept loop and the per-connection handler of the Redis-protocol listener.
//!
//! Data flows one way: socket → [`Connection`] (framing, limits, timeouts) → [`Command`](super::cmd::Command) →
//! [`App`] → reply bytes → socket. The listener accepts until shutdown, at most
//! [`Settings::max_connections`] at a time (further clients wait in the kernel's backlog), and
//! on shutdown waits for every connection to finish the command it is running and send its
//! replies; `serve`'s drain timeout bounds that wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};

use super::cmd::{Outcome, Session};
use super::connection::{ConnError, Connection, Next, Timeouts};
use super::frame::Limits;
use super::reply::{Reply, Version};
use crate::app::App;
use crate::shutdown::Shutdown;

/// Connections open now.
const CONNECTIONS: &str = "snowdrift_resp_connections";
/// Connections the server closed, by reason.
const CLOSED: &str = "snowdrift_resp_closed_total";

/// Numbers connections for `CLIENT ID` and `HELLO`.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// How the listener treats its clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Bounds on one request.
    pub limits: Limits,
    /// Bounds on waiting for a client.
    pub timeouts: Timeouts,
    /// Most connections served at once.
    pub max_connections: usize,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            limits: Limits::default(),
            timeouts: Timeouts::default(),
            max_connections: 10_000,
        }
    }
}

/// Serves the Redis protocol on `listener` until `shutdown`, with the default [`Settings`].
pub async fn serve(listener: TcpListener, app: App, shutdown: Shutdown) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, Settings::default()).await
}

/// Serves the Redis protocol on `listener` until `shutdown`.
pub async fn serve_with(
    listener: TcpListener,
    app: App,
    shutdown: Shutdown,
    settings: Settings,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    // Each connection holds a clone of `done`; when the last one drops, `finished` yields
    // `None`, which is how shutdown knows every connection has ended.
    let (done, mut finished) = mpsc::channel::<()>(1);
    let stop = shutdown.clone().wait();
    tokio::pin!(stop);
    let mut backoff = Duration::from_millis(10);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break, // the semaphore is never closed
            },
            () = &mut stop => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => {
                backoff = Duration::from_millis(10);
                stream
            }
            Err(err) => {
                // Usually out of file descriptors: wait rather than spin, then go on.
                tracing::warn!(error = %err, retry_in_ms = backoff.as_millis() as u64, "resp: accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let app = app.clone();
        let stop = Box::pin(shutdown.clone().wait());
        let done = done.clone();
        tokio::spawn(async move {
            let connection = Connection::new(stream, settings.limits, settings.timeouts, stop);
            metrics::gauge!(CONNECTIONS).increment(1.0);
            handle(connection, &app).await;
            metrics::gauge!(CONNECTIONS).decrement(1.0);
            drop(permit);
            drop(done);
        });
    }
    drop(done);
    let _ = finished.recv().await;
    Ok(())
}

/// Runs one client's commands until it leaves, breaks the protocol, times out, or the server
/// stops.
async fn handle(mut connection: Connection, app: &App) {
    let mut session = Session {
        id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
        version: Version::Resp2,
        name: None,
    };
    let ended = loop {
        match connection.read_command().await {
            Ok(Next::Command(Ok(command))) => {
                match command.apply(app, &mut session, connection.output()).await {
                    Outcome::Continue => {
                        if let Err(err) = connection.flush_if_large().await {
                            break err;
                        }
                    }
                    Outcome::Close => {
                        let _ = connection.flush().await;
                        return;
                    }
                }
            }
            Ok(Next::Command(Err(refused))) => {
                refused.reply(connection.output(), session.version);
                if let Err(err) = connection.flush_if_large().await {
                    break err;
                }
            }
            Ok(Next::Closed | Next::Shutdown) => {
                let _ = connection.flush().await;
                return;
            }
            Err(err) => break err,
        }
    };
    close(connection, &session, ended).await;
}

/// Ends a connection: a client that broke the protocol or was too slow is told why first.
async fn close(mut connection: Connection, session: &Session, why: ConnError) {
    let reason = match &why {
        ConnError::Protocol(_) => "protocol_error",
        ConnError::RequestTimeout(_) => "request_timeout",
        ConnError::IdleTimeout(_) => "idle_timeout",
        ConnError::WriteTimeout(_) => "write_timeout",
        // A reset or a failed write: nothing to tell, nothing to count.
        ConnError::Io(_) => return,
    };
    metrics::counter!(CLOSED, "reason" => reason).increment(1);
    if matches!(why, ConnError::Protocol(_) | ConnError::RequestTimeout(_)) {
        let message = format!("Protocol error: {}", why_text(&why));
        Reply::new(connection.output(), session.version).error("ERR", &message);
        connection.close().await;
    }
    tracing::debug!(client = session.id, %why, "resp: closing the connection");
}

fn why_text(why: &ConnError) -> String {
    match why {
        ConnError::Protocol(err) => err.to_string(),
        other => other.to_string(),
    }
}
