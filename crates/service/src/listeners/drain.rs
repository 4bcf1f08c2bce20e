//! The end of serving: every listener drains, within one deadline, whatever its clients do.
//!
//! After the shutdown trigger each listener stops accepting and its protocol finishes what is
//! in flight (hyper's and tonic's graceful shutdown, the Redis-protocol handler's last flush).
//! A client can keep that from ever finishing: one that pipelines requests without reading
//! the answers, or a stream reader that stopped reading. So at the deadline every connection
//! still open is closed from outside ([`Connections::close_all`]), which ends it on every
//! protocol; the listeners then return within a moment, the last handle on the node drops, and
//! `serve` can persist, release the slot and exit 0 inside the deadline.

use std::time::Duration;

use tokio::task::{JoinError, JoinSet};

use super::{Connections, Protocol};

/// How long listeners get to return after their connections were closed. Closing wakes
/// every connection at once, so this is only a bound against the unforeseen.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// How a listener's task ended.
pub type Ended = (Protocol, Result<std::io::Result<()>, JoinError>);

/// What the drain came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Drained {
    /// Connections still open at the deadline, closed from outside.
    pub closed: usize,
    /// Whether some listener had to be aborted after that.
    pub aborted: bool,
}

/// Waits for every listener task in `tasks` to end, at most `deadline`; then closes the
/// connections still open in `open` and waits a moment more; then aborts what is left.
pub async fn drain(
    tasks: &mut JoinSet<Ended>,
    open: &[Connections],
    deadline: Duration,
) -> Drained {
    if tokio::time::timeout(deadline, join_all(tasks))
        .await
        .is_ok()
    {
        return Drained {
            closed: 0,
            aborted: false,
        };
    }
    let closed = open.iter().map(Connections::close_all).sum();
    tracing::warn!(
        closed,
        deadline_s = deadline.as_secs_f64(),
        "connections still open at the drain deadline; closed them"
    );
    let aborted = tokio::time::timeout(CLOSE_GRACE, join_all(tasks))
        .await
        .is_err();
    if aborted {
        tracing::warn!("a listener did not stop after its connections were closed; aborted it");
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    Drained { closed, aborted }
}

async fn join_all(tasks: &mut JoinSet<Ended>) {
    while let Some(ended) = tasks.join_next().await {
        if let Ok((protocol, Ok(Err(err)))) = ended {
            tracing::warn!(%protocol, error = %err, "listener ended with an error");
        }
    }
}
