//! Failover across endpoints: one fetch tries the preferred endpoint, moves to the next on
//! failure, skips endpoints that failed recently, and backs off between rounds until its retry
//! budget is spent.
//!
//! The endpoint that last answered stays preferred ("sticky"), so a healthy client talks to
//! one node and its IDs come from one worker, in order. A failed endpoint is skipped for
//! `down_for` (or as long as it asked, up to [`MAX_DOWN`]); when every endpoint is down they
//! are all tried anyway, since skipping everything would only wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::config::ClientConfig;
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::stats::Counters;
use crate::transport::{Failure, Transport};

/// Longest an endpoint is skipped after a failure, whatever it asked for.
const MAX_DOWN: Duration = Duration::from_secs(5);

/// IDs and the endpoint that issued them.
#[derive(Debug)]
pub struct Fetched {
    /// Index of the endpoint in the configuration.
    pub endpoint: usize,
    /// The IDs, as the node sent them.
    pub ids: Vec<u64>,
}

#[derive(Debug)]
struct Node {
    endpoint: Endpoint,
    transport: Transport,
    down_until: Mutex<Option<Instant>>,
}

impl Node {
    fn is_down(&self, now: Instant) -> bool {
        lock(&self.down_until).is_some_and(|until| until > now)
    }
}

/// The endpoints and their health.
#[derive(Debug)]
pub struct Pool {
    nodes: Vec<Node>,
    preferred: AtomicUsize,
    config: ClientConfig,
}

impl Pool {
    /// Transports for every endpoint of `config`.
    pub fn new(config: &ClientConfig) -> Result<Pool, Error> {
        let nodes = config
            .endpoints
            .iter()
            .map(|endpoint| {
                Ok(Node {
                    endpoint: endpoint.clone(),
                    transport: Transport::new(endpoint, config)?,
                    down_until: Mutex::new(None),
                })
            })
            .collect::<Result<Vec<Node>, Error>>()?;
        Ok(Pool {
            nodes,
            preferred: AtomicUsize::new(0),
            config: config.clone(),
        })
    }

    /// The endpoint at `index`.
    pub fn endpoint(&self, index: usize) -> Option<&Endpoint> {
        self.nodes.get(index).map(|node| &node.endpoint)
    }

    /// Skips the endpoint at `index` for `how_long`.
    pub fn mark_down(&self, index: usize, how_long: Duration) {
        if let Some(node) = self.nodes.get(index) {
            *lock(&node.down_until) = Some(Instant::now() + how_long.min(MAX_DOWN));
        }
    }

    /// `count` IDs from the first endpoint that gives them, within the retry budget.
    pub async fn fetch(&self, count: u32, stats: &Counters) -> Result<Fetched, Error> {
        let deadline = Instant::now() + self.config.retry_budget;
        let mut backoff = self.config.backoff;
        let mut attempts = 0u32;
        // Each endpoint's latest failure: when all fail, the error names every reason, not
        // only the last endpoint's (a typo in one address must not hide behind another's 503).
        let mut failures: Vec<Option<String>> = vec![None; self.nodes.len()];
        let mut last_wait = None;
        let total = self.nodes.len();
        loop {
            let first = self.preferred.load(Ordering::Relaxed) % total.max(1);
            let now = Instant::now();
            let any_up = self.nodes.iter().any(|node| !node.is_down(now));
            for step in 0..total {
                let index = (first + step) % total;
                let node = &self.nodes[index];
                if any_up && node.is_down(Instant::now()) {
                    continue;
                }
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(unavailable(attempts, &failures, last_wait));
                }
                attempts += 1;
                Counters::bump(&stats.requests, 1);
                let timeout = self.config.request_timeout.min(left);
                match node.transport.fetch(count, timeout).await {
                    Ok(ids) => {
                        if index != first {
                            Counters::bump(&stats.failovers, 1);
                            tracing::info!(endpoint = %node.endpoint, "failed over");
                        }
                        self.preferred.store(index, Ordering::Relaxed);
                        *lock(&node.down_until) = None;
                        Counters::bump(&stats.ids_fetched, ids.len() as u64);
                        return Ok(Fetched {
                            endpoint: index,
                            ids,
                        });
                    }
                    Err(Failure::BadRequest { code, message }) => {
                        return Err(Error::BadRequest { code, message });
                    }
                    Err(Failure::Unavailable {
                        message,
                        retry_after,
                    }) => {
                        Counters::bump(&stats.failures, 1);
                        let skip = retry_after.unwrap_or(self.config.down_for);
                        self.mark_down(index, skip.max(self.config.down_for));
                        failures[index] = Some(format!("{}: {message}", node.endpoint));
                        last_wait = retry_after;
                    }
                    Err(Failure::Transport(message)) => {
                        Counters::bump(&stats.failures, 1);
                        self.mark_down(index, self.config.down_for);
                        failures[index] = Some(format!("{}: {message}", node.endpoint));
                    }
                }
            }
            // Every endpoint failed (or was skipped) this round: pause, then go again.
            let pause = jitter(backoff);
            if Instant::now() + pause >= deadline {
                return Err(unavailable(attempts, &failures, last_wait));
            }
            tokio::time::sleep(pause).await;
            backoff = (backoff * 2).min(self.config.max_backoff);
        }
    }
}

/// The error after giving up: every endpoint's latest failure, in the configured order.
fn unavailable(attempts: u32, failures: &[Option<String>], retry_after: Option<Duration>) -> Error {
    let failures: Vec<&str> = failures.iter().flatten().map(String::as_str).collect();
    let failures = if failures.is_empty() {
        "no endpoint was tried".to_string()
    } else {
        failures.join("; ")
    };
    Error::Unavailable {
        attempts,
        failures,
        retry_after,
    }
}

/// A pause between half of `backoff` and all of it, so many clients that failed together do
/// not retry together.
fn jitter(backoff: Duration) -> Duration {
    let noise = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    let half = backoff / 2;
    half + Duration::from_nanos(u64::from(noise) % (half.as_nanos() as u64).max(1))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Plain values written in one step; a panic elsewhere cannot leave them torn.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
