//! The refill task: keeps the buffer topped up in the background.
//!
//! It sleeps until a pop takes the buffer below its low-water mark, then fetches batches
//! (with failover) until the buffer is nearly full again. A failed fetch is reported to the
//! buffer, so callers waiting on an empty buffer get the error instead of waiting out their
//! timeout, and the task keeps trying after a pause.

use std::sync::Arc;

use crate::buffer::Buffer;
use crate::config::ClientConfig;
use crate::order::OrderCheck;
use crate::pool::Pool;
use crate::stats::Counters;

/// How long a batch that went backwards keeps its endpoint out of use.
const ORDER_PENALTY: std::time::Duration = std::time::Duration::from_secs(5);

/// What the task shares with the client.
#[derive(Debug)]
pub struct Shared {
    /// Where IDs go.
    pub buffer: Buffer,
    /// Where they come from.
    pub pool: Pool,
    /// What happened.
    pub stats: Counters,
    /// The settings.
    pub config: ClientConfig,
}

/// Runs until the client drops (which aborts it).
pub async fn run(shared: Arc<Shared>) {
    let capacity = shared.config.buffer_capacity;
    let mut order = OrderCheck::new(shared.config.endpoints.len());
    loop {
        let room = capacity.saturating_sub(shared.buffer.len());
        let size = shared
            .config
            .batch
            .min(u32::try_from(capacity).unwrap_or(u32::MAX));
        if room < size as usize {
            shared.buffer.wanted.notified().await;
            continue;
        }
        match shared.pool.fetch(size, &shared.stats).await {
            Ok(fetched) => {
                if shared.config.check_order {
                    if let Err(violation) = order.accept(fetched.endpoint, &fetched.ids) {
                        Counters::bump(&shared.stats.order_violations, 1);
                        let endpoint = shared.pool.endpoint(fetched.endpoint);
                        tracing::error!(
                            endpoint = %endpoint.map(ToString::to_string).unwrap_or_default(),
                            previous = violation.previous,
                            got = violation.got,
                            "IDs went backwards from one endpoint; batch refused"
                        );
                        shared.pool.mark_down(fetched.endpoint, ORDER_PENALTY);
                        continue;
                    }
                }
                shared.buffer.push(fetched.ids);
            }
            Err(error) => {
                tracing::warn!(%error, "refilling the ID buffer failed");
                shared.buffer.fail(error);
                tokio::time::sleep(shared.config.backoff).await;
            }
        }
    }
}
