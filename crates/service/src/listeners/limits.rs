//! The bounds every listener puts on its clients, whatever the protocol, in one place so that
//! they can become settings without touching the protocols.

use std::time::Duration;

/// How a listener treats its connections. The defaults are what `snowdrift serve` uses.
///
/// ```
/// use snowdrift_service::listeners::Limits;
///
/// let limits = Limits::default();
/// assert_eq!(limits.max_connections, 10_000);
/// assert!(limits.write_timeout <= limits.drain);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most connections one listener serves at once. Further clients wait in the kernel's
    /// backlog until one ends, rather than being accepted and starved.
    pub max_connections: usize,
    /// Longest a write may wait for the client to take its bytes. A client that stops reading
    /// its answers is disconnected after this, on every protocol.
    pub write_timeout: Duration,
    /// Longest the acceptor's hook may take to turn a socket into a stream (a TLS handshake).
    pub handshake_timeout: Duration,
    /// The first pause after a failed accept (out of file descriptors, say); it doubles on
    /// each failure in a row up to [`Limits::accept_backoff_max`], so the loop never spins.
    pub accept_backoff: Duration,
    /// The longest pause between accept attempts after failures.
    pub accept_backoff_max: Duration,
    /// After a shutdown signal, how long connections may take to finish what they are doing.
    /// What is still open then is closed, and the node releases its slot and exits 0.
    pub drain: Duration,
}

impl Default for Limits {
    /// A connection pool may hold thousands of idle connections; a healthy client takes its
    /// answer within milliseconds, so seconds of write timeout are generous; ten seconds of
    /// drain fit inside the 30 s that Kubernetes and systemd grant before SIGKILL, with room
    /// left to revoke the lease.
    fn default() -> Limits {
        Limits {
            max_connections: 10_000,
            write_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(10),
            accept_backoff: Duration::from_millis(10),
            accept_backoff_max: Duration::from_secs(1),
            drain: Duration::from_secs(10),
        }
    }
}
