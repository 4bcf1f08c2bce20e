//! Buffered framing over one client's socket, with every wait bounded.
//!
//! [`Connection::read_command`] returns the next command in the input buffer, reading from the
//! socket only when no complete frame is buffered. Before it waits on the socket it sends the
//! replies gathered so far, so a pipelined burst of commands is answered with one write, and
//! a client that sends one command at a time gets each answer at once.
//!
//! Three clocks bound a client:
//! - **idle**: no byte of a new command for [`Timeouts::idle`] closes the connection quietly;
//! - **request**: once a command's first byte has arrived, the whole frame must arrive within
//!   [`Timeouts::request`], however the bytes trickle in, so a slowloris client cannot hold
//!   a connection (and its buffer) by sending one byte at a time;
//! - **write**: a client that stops reading its replies is dropped after the listener's write
//!   timeout, which the substrate's [`Conn`](crate::listeners::Conn) applies to every protocol.
//!
//! The connection is generic over its stream, so it serves whatever the listener's hook yields
//! (plain TCP today, TLS later) and, in tests, any in-memory pipe.

use std::future::Future;
use std::ops::Range;
use std::pin::Pin;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{Instant, Sleep};

use super::cmd::{Command, Refused};
use super::frame::{self, Limits, Parsed, ProtocolError};

/// How long a client may take to send, at each step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Longest wait for the first byte of the next command.
    pub idle: Duration,
    /// Longest time from a command's first byte to its last.
    pub request: Duration,
}

impl Default for Timeouts {
    /// A connection pool may keep an unused connection for minutes; a command, a few hundred
    /// bytes at most, arrives in one packet from any real client, so seconds are generous.
    fn default() -> Timeouts {
        Timeouts {
            idle: Duration::from_secs(300),
            request: Duration::from_secs(5),
        }
    }
}

/// Replies pending beyond this are sent before the next command is run, so a deep pipeline
/// of large `NEXTIDS` cannot pile up megabytes of output.
const FLUSH_AT: usize = 64 * 1024;

/// How long, and how many bytes, a refused client's remaining input is read and discarded
/// after its error reply (see [`Connection::close`]).
const LINGER: Duration = Duration::from_millis(500);
const LINGER_BYTES: usize = 1024 * 1024;

/// Room kept free in the input buffer for each read.
const READ_CHUNK: usize = 4 * 1024;

/// What the next step of the conversation is.
#[derive(Debug)]
pub enum Next {
    /// A command to run, or one to refuse with `-ERR` (the connection goes on either way).
    Command(Result<Command, Refused>),
    /// The client closed its side.
    Closed,
    /// The server is shutting down: stop after sending what is pending.
    Shutdown,
}

/// Why a connection must end.
#[derive(Debug, thiserror::Error)]
pub enum ConnError {
    /// The client broke the protocol or a limit.
    #[error("protocol error: {0}")]
    Protocol(#[from] ProtocolError),
    /// A command's bytes did not all arrive in time.
    #[error("request not completed within {0:?}")]
    RequestTimeout(Duration),
    /// Nothing arrived for too long.
    #[error("idle for {0:?}")]
    IdleTimeout(Duration),
    /// The client did not take its replies within the listener's write timeout.
    #[error("replies not accepted within the write timeout")]
    WriteTimeout,
    /// The socket failed.
    #[error("{0}")]
    Io(std::io::Error),
}

impl From<std::io::Error> for ConnError {
    fn from(err: std::io::Error) -> ConnError {
        // The substrate's write timeout surfaces as `TimedOut` from a write.
        if err.kind() == std::io::ErrorKind::TimedOut {
            ConnError::WriteTimeout
        } else {
            ConnError::Io(err)
        }
    }
}

/// One client's stream and buffers.
pub struct Connection<S> {
    stream: S,
    input: BytesMut,
    output: Vec<u8>,
    /// Argument ranges of the frame being parsed; reused to avoid an allocation per command.
    args: Vec<Range<usize>>,
    limits: Limits,
    timeouts: Timeouts,
    /// When the first byte of the incomplete frame in `input` arrived.
    partial_since: Option<Instant>,
    /// The read deadline; one timer per connection, moved rather than re-created.
    deadline: Pin<Box<Sleep>>,
    /// Completes when the server shuts down.
    stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    /// Set once `stop` has completed (a completed future must not be polled again).
    stopped: bool,
}

impl<S> std::fmt::Debug for Connection<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("buffered", &self.input.len())
            .field("pending", &self.output.len())
            .finish()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps an accepted stream; `stop` completes when the server shuts down.
    pub fn new(
        stream: S,
        limits: Limits,
        timeouts: Timeouts,
        stop: Pin<Box<dyn Future<Output = ()> + Send>>,
    ) -> Connection<S> {
        Connection {
            stream,
            input: BytesMut::with_capacity(READ_CHUNK),
            output: Vec::with_capacity(READ_CHUNK),
            args: Vec::with_capacity(8),
            limits,
            timeouts,
            partial_since: None,
            deadline: Box::pin(tokio::time::sleep(timeouts.idle)),
            stop,
            stopped: false,
        }
    }

    /// The pending output, for a command to write its reply into.
    pub fn output(&mut self) -> &mut Vec<u8> {
        &mut self.output
    }

    /// The next command, reading (bounded in time) as needed.
    pub async fn read_command(&mut self) -> Result<Next, ConnError> {
        loop {
            match frame::parse(&self.input, &self.limits, &mut self.args)? {
                Parsed::Frame { len } => {
                    let empty = self.args.is_empty();
                    let command = (!empty).then(|| Command::parse(&self.input, &self.args));
                    self.input.advance(len);
                    self.partial_since = None;
                    match command {
                        Some(command) => return Ok(Next::Command(command)),
                        None => continue,
                    }
                }
                Parsed::Incomplete => {}
            }
            // Nothing complete is buffered: answer what came before, then wait for more.
            self.flush().await?;
            if !self.fill().await? {
                return Ok(if self.stopped {
                    Next::Shutdown
                } else {
                    Next::Closed
                });
            }
        }
    }

    /// Sends the pending output if it has grown large.
    pub async fn flush_if_large(&mut self) -> Result<(), ConnError> {
        if self.output.len() >= FLUSH_AT {
            self.flush().await?;
        }
        Ok(())
    }

    /// Sends the pending output (bounded by the listener's write timeout).
    pub async fn flush(&mut self) -> Result<(), ConnError> {
        if self.output.is_empty() {
            return Ok(());
        }
        self.stream.write_all(&self.output).await?;
        self.output.clear();
        // A huge reply (NEXTIDS at the batch limit) should not pin its buffer for good.
        if self.output.capacity() > 4 * FLUSH_AT {
            self.output.shrink_to(FLUSH_AT);
        }
        Ok(())
    }

    /// Ends the conversation so the client sees the last reply: send it, signal the end of
    /// our side, then read and discard what the client is still sending for a moment. Closing
    /// with unread input would make the kernel reset the connection, and a reset can destroy
    /// replies before the client reads them: the error reply to a refused client, or the
    /// replies to a pipelining client at shutdown or after `QUIT`.
    pub async fn close(&mut self) {
        if self.flush().await.is_err() {
            return;
        }
        let _ = self.stream.shutdown().await;
        let drain = async {
            let mut sink = [0u8; 8 * 1024];
            let mut total = 0usize;
            while total < LINGER_BYTES {
                match self.stream.read(&mut sink).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => total += n,
                }
            }
        };
        let _ = tokio::time::timeout(LINGER, drain).await;
    }

    /// Reads once into the input buffer. `false` when the client closed its side or the
    /// server is stopping.
    async fn fill(&mut self) -> Result<bool, ConnError> {
        let now = Instant::now();
        let (deadline, expired) = if self.input.is_empty() {
            (
                now + self.timeouts.idle,
                ConnError::IdleTimeout(self.timeouts.idle),
            )
        } else {
            let since = *self.partial_since.get_or_insert(now);
            (
                since + self.timeouts.request,
                ConnError::RequestTimeout(self.timeouts.request),
            )
        };
        self.deadline.as_mut().reset(deadline);
        self.input.reserve(READ_CHUNK);
        let read = tokio::select! {
            read = self.stream.read_buf(&mut self.input) => read?,
            () = &mut self.deadline => return Err(expired),
            () = &mut self.stop, if !self.stopped => {
                self.stopped = true;
                return Ok(false);
            }
        };
        Ok(read > 0)
    }
}
