//! The serving loop and the per-connection handler of the Redis-protocol listener.
//!
//! Data flows one way: socket → [`Connection`] (framing, limits, timeouts) →
//! [`Command`](super::cmd::Command) → [`App`] → reply bytes → socket. Connections come from the listener substrate
//! ([`Incoming`]), which owns accepting, the connection cap, socket options and the write
//! timeout. On shutdown every connection finishes the command it is running, sends its
//! replies and closes cleanly (see [`Connection::close`]); the listener returns once all have;
//! the substrate's drain deadline bounds that wait.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;

use super::cmd::{Outcome, Session};
use super::connection::{ConnError, Connection, Next, Timeouts};
use super::frame::Limits;
use super::reply::{Reply, Version};
use crate::app::App;
use crate::auth::Auth;
use crate::listeners::Incoming;
use crate::metrics::protocols;
use crate::shutdown::Shutdown;

/// Connections open now.
const CONNECTIONS: &str = "snowdrift_resp_connections";
/// Connections the server closed, by reason.
const CLOSED: &str = "snowdrift_resp_closed_total";

/// Numbers connections for `CLIENT ID` and `HELLO`.
static NEXT_CLIENT_ID: AtomicU64 = AtomicU64::new(1);

/// How the listener treats its clients, beyond the substrate's [`Limits`](crate::listeners::Limits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settings {
    /// Bounds on one request.
    pub limits: Limits,
    /// Bounds on waiting for a client.
    pub timeouts: Timeouts,
}

/// Serves the Redis protocol on the connections of `incoming` until `shutdown`, with the
/// default [`Settings`]; with tokens in `auth`, a client must `AUTH` first.
pub async fn serve<S>(
    incoming: Incoming<S>,
    app: App,
    auth: Auth,
    shutdown: Shutdown,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_with(incoming, app, auth, shutdown, Settings::default()).await
}

/// Serves the Redis protocol on the connections of `incoming` until `shutdown`.
pub async fn serve_with<S>(
    mut incoming: Incoming<S>,
    app: App,
    auth: Auth,
    shutdown: Shutdown,
    settings: Settings,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    // Each connection holds a clone of `done`; when the last one drops, `finished` yields
    // `None`, which is how shutdown knows every connection has ended.
    let (done, mut finished) = mpsc::channel::<()>(1);
    let stop = shutdown.clone().wait();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            next = incoming.next() => match next {
                Some(stream) => stream,
                None => break,
            },
            () = &mut stop => break,
        };
        let (app, auth) = (app.clone(), auth.clone());
        let stop = Box::pin(shutdown.clone().wait());
        let done = done.clone();
        tokio::spawn(async move {
            let connection = Connection::new(stream, settings.limits, settings.timeouts, stop);
            metrics::gauge!(CONNECTIONS).increment(1.0);
            handle(connection, &app, auth).await;
            metrics::gauge!(CONNECTIONS).decrement(1.0);
            drop(done);
        });
    }
    drop(incoming);
    drop(done);
    let _ = finished.recv().await;
    Ok(())
}

/// Runs one client's commands until it leaves, breaks the protocol, times out, or the server
/// stops.
async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut connection: Connection<S>,
    app: &App,
    auth: Auth,
) {
    let mut session = Session {
        id: NEXT_CLIENT_ID.fetch_add(1, Ordering::Relaxed),
        authenticated: !auth.enabled(),
        auth,
        version: Version::Resp2,
        name: None,
    };
    let ended = loop {
        match connection.read_command().await {
            Ok(Next::Command(Ok(command))) => {
                let started = Instant::now();
                let index = protocols::resp_command_index(command.name());
                let mark = connection.output().len();
                let outcome = command.apply(app, &mut session, connection.output()).await;
                let error = error_prefix(connection.output().get(mark..).unwrap_or_default());
                protocols::resp_request(index, error, started.elapsed());
                match outcome {
                    Outcome::Continue => {
                        if let Err(err) = connection.flush_if_large().await {
                            break err;
                        }
                    }
                    Outcome::Close => {
                        connection.close().await;
                        return;
                    }
                }
            }
            Ok(Next::Command(Err(refused))) => {
                let index = protocols::resp_command_index(refused.command());
                refused.reply(connection.output(), session.version);
                protocols::resp_request(index, Some("ERR"), Duration::ZERO);
                if let Err(err) = connection.flush_if_large().await {
                    break err;
                }
            }
            // The client has closed its side and everything it sent was read: nothing is left
            // for the kernel to reset.
            Ok(Next::Closed) => {
                let _ = connection.flush().await;
                return;
            }
            // The client may still be sending: close cleanly so it reads every reply sent.
            Ok(Next::Shutdown) => {
                connection.close().await;
                return;
            }
            Err(err) => break err,
        }
    };
    close(connection, &session, ended).await;
}

/// Ends a connection: a client that broke the protocol or was too slow is told why first.
async fn close<S: AsyncRead + AsyncWrite + Unpin>(
    mut connection: Connection<S>,
    session: &Session,
    why: ConnError,
) {
    let reason = match &why {
        ConnError::Protocol(_) => "protocol_error",
        ConnError::RequestTimeout(_) => "request_timeout",
        ConnError::IdleTimeout(_) => "idle_timeout",
        ConnError::WriteTimeout => "write_timeout",
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

/// The prefix of the error reply at the start of `reply` (`ERR`, `NOAUTH`…), or `None` when
/// the reply is not an error. RESP2 and RESP3 simple errors start with `-`, RESP3 blob errors
/// with `!`.
fn error_prefix(reply: &[u8]) -> Option<&str> {
    let (first, rest) = reply.split_first()?;
    if *first != b'-' && *first != b'!' {
        return None;
    }
    let end = rest
        .iter()
        .position(|b| !b.is_ascii_uppercase())
        .unwrap_or(rest.len());
    Some(std::str::from_utf8(rest.get(..end).unwrap_or_default()).unwrap_or("ERR"))
}

fn why_text(why: &ConnError) -> String {
    match why {
        ConnError::Protocol(err) => err.to_string(),
        other => other.to_string(),
    }
}
