//! The holder's lease: granted with a TTL, renewed in the background, and a deadline the node
//! computes **conservatively** (as TiKV PD's `pkg/election/lease.go` does).
//!
//! The deadline is the instant the last *successful* renewal was **sent**, plus the TTL etcd
//! granted. etcd starts its own TTL when the request arrives, which is after it was sent, so
//! this deadline always falls before etcd's: when the node believes it still holds the lease,
//! it does. The node fences itself a safety margin before this deadline.
//!
//! If etcd answers that the lease no longer exists, it is gone for good: the deadline drops to
//! "now" so the keeper fences at its next check instead of waiting for the clock.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_client::{Client, LeaseClient, LeaseKeepAliveStream, LeaseKeeper};
use tokio::task::JoinHandle;

use super::client::{call, record_error, record_write};
use super::options::EtcdOptions;
use crate::error::CoordError;

/// A granted lease and the task that keeps it alive. Dropping it stops the renewals, so the
/// lease lapses after its TTL (which is what a crash looks like to the cluster).
#[derive(Debug)]
pub(crate) struct Lease {
    id: i64,
    ttl: Duration,
    clock: Arc<LeaseClock>,
    renewer: JoinHandle<()>,
}

/// What the renewer has learnt, read by the keeper through [`Lease::deadline`].
#[derive(Debug)]
struct LeaseClock {
    deadline: Mutex<Instant>,
    lost: AtomicBool,
}

impl LeaseClock {
    fn deadline(&self) -> Instant {
        *self
            .deadline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves the deadline to `sent + ttl` if that is later: a late answer to an earlier
    /// request never shortens it, and nothing ever extends it past what a renewal earned.
    fn renewed(&self, sent: Instant, ttl: Duration) {
        let mut deadline = self
            .deadline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !self.lost.load(Ordering::Acquire) && sent + ttl > *deadline {
            *deadline = sent + ttl;
        }
    }

    fn lose(&self) {
        self.lost.store(true, Ordering::Release);
        let mut deadline = self
            .deadline
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *deadline = (*deadline).min(Instant::now());
    }
}

impl Lease {
    /// Grants a lease of `options.lease_ttl` and starts renewing it.
    pub(crate) async fn grant(client: &Client, options: &EtcdOptions) -> Result<Lease, CoordError> {
        let mut leases = client.lease_client();
        let sent = Instant::now();
        let ttl_seconds = options.lease_ttl.as_secs() as i64;
        let granted = call(
            "lease grant",
            options.request_timeout,
            leases.grant(ttl_seconds, None),
        )
        .await?;
        record_write("lease_grant");
        if granted.ttl() <= 0 {
            record_error("lease grant");
            return Err(CoordError::Backend(format!(
                "etcd refused the lease: {}",
                granted.error()
            )));
        }
        let ttl = Duration::from_secs(granted.ttl() as u64);
        let clock = Arc::new(LeaseClock {
            deadline: Mutex::new(sent + ttl),
            lost: AtomicBool::new(false),
        });
        let renewer = tokio::spawn(renew(
            leases,
            granted.id(),
            ttl,
            options.keepalive_interval(ttl),
            options.request_timeout,
            Arc::clone(&clock),
        ));
        metrics::gauge!("snowdrift_lease_alive").set(1.0);
        Ok(Lease {
            id: granted.id(),
            ttl,
            clock,
            renewer,
        })
    }

    /// The lease ID.
    pub(crate) fn id(&self) -> i64 {
        self.id
    }

    /// The TTL etcd granted.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// This node's conservative deadline: before etcd's, never after.
    pub(crate) fn deadline(&self) -> Instant {
        self.clock.deadline()
    }

    /// Whether etcd said the lease no longer exists.
    pub(crate) fn is_lost(&self) -> bool {
        self.clock.lost.load(Ordering::Acquire)
    }

    /// Stops renewing and revokes the lease, deleting every key bound to it at once.
    pub(crate) async fn revoke(self, client: &Client, timeout: Duration) -> Result<(), CoordError> {
        self.renewer.abort();
        metrics::gauge!("snowdrift_lease_alive").set(0.0);
        let mut leases = client.lease_client();
        call("lease revoke", timeout, leases.revoke(self.id)).await?;
        record_write("lease_revoke");
        Ok(())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// The renewer: one keepalive every `interval`, retried sooner after a failure. The stream is
/// reopened after any error, because after a reconnect the old one is dead.
async fn renew(
    mut leases: LeaseClient,
    id: i64,
    ttl: Duration,
    interval: Duration,
    timeout: Duration,
    clock: Arc<LeaseClock>,
) {
    let retry = (interval / 3).max(Duration::from_millis(100));
    let mut stream: Option<(LeaseKeeper, LeaseKeepAliveStream)> = None;
    let mut failing = false;
    let mut pause = interval;
    loop {
        tokio::time::sleep(pause).await;
        let sent = Instant::now();
        match tokio::time::timeout(timeout, renew_once(&mut leases, &mut stream, id)).await {
            Ok(Ok(Renewal::Renewed)) => {
                clock.renewed(sent, ttl);
                metrics::counter!("snowdrift_lease_keepalives_total").increment(1);
                metrics::gauge!("snowdrift_lease_alive").set(1.0);
                if failing {
                    tracing::info!(lease = id, "lease renewals recovered");
                }
                failing = false;
                pause = interval;
            }
            Ok(Ok(Renewal::Gone)) => {
                clock.lose();
                metrics::gauge!("snowdrift_lease_alive").set(0.0);
                tracing::error!(
                    lease = id,
                    "etcd says the lease has expired; the node will fence and claim again"
                );
                return;
            }
            outcome => {
                let error = match outcome {
                    Ok(Err(e)) => e.to_string(),
                    _ => format!("no answer within {timeout:?}"),
                };
                record_error("lease keepalive");
                stream = None;
                let left = clock.deadline().saturating_duration_since(Instant::now());
                if left.is_zero() {
                    metrics::gauge!("snowdrift_lease_alive").set(0.0);
                }
                if !failing {
                    tracing::warn!(lease = id, %error, left_ms = left.as_millis() as u64, "lease renewal failed; retrying");
                }
                failing = true;
                pause = retry;
            }
        }
    }
}

enum Renewal {
    Renewed,
    Gone,
}

async fn renew_once(
    leases: &mut LeaseClient,
    stream: &mut Option<(LeaseKeeper, LeaseKeepAliveStream)>,
    id: i64,
) -> Result<Renewal, etcd_client::Error> {
    let Some((keeper, responses)) = stream.as_mut() else {
        // Opening the stream sends the first keepalive and waits for its answer.
        return match leases.keep_alive(id).await {
            Ok(opened) => {
                *stream = Some(opened);
                Ok(Renewal::Renewed)
            }
            Err(etcd_client::Error::LeaseKeepAliveError(message))
                if message.contains("not found") =>
            {
                Ok(Renewal::Gone)
            }
            Err(e) => Err(e),
        };
    };
    keeper.keep_alive().await?;
    match responses.message().await? {
        Some(answer) if answer.ttl() > 0 => Ok(Renewal::Renewed),
        Some(_) => Ok(Renewal::Gone),
        None => Err(etcd_client::Error::LeaseKeepAliveError(
            "the keepalive stream closed".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_only_moves_forward_and_drops_when_lost() {
        let start = Instant::now();
        let clock = LeaseClock {
            deadline: Mutex::new(start + Duration::from_secs(10)),
            lost: AtomicBool::new(false),
        };
        clock.renewed(start - Duration::from_secs(5), Duration::from_secs(10));
        assert_eq!(
            clock.deadline(),
            start + Duration::from_secs(10),
            "a late answer never shortens it"
        );
        clock.renewed(start + Duration::from_secs(1), Duration::from_secs(10));
        assert_eq!(clock.deadline(), start + Duration::from_secs(11));
        clock.lose();
        assert!(clock.deadline() <= Instant::now());
        clock.renewed(Instant::now(), Duration::from_secs(10));
        assert!(
            clock.deadline() <= Instant::now(),
            "a lost lease is never revived"
        );
    }
}
