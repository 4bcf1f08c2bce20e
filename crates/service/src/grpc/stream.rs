//! `StreamIds`: batches of IDs pushed to a bulk consumer as fast as the generator allows.
//!
//! A producer task issues one block per batch through the App's issuing path and sends it
//! into a small bounded channel that tonic drains into the HTTP/2 stream. A consumer this fast
//! uses up each tick's sequence; the next batch then awaits its tick on a timer, like any
//! other request, so the producer holds no thread while it waits. The channel's bound is the
//! backpressure: a slow reader stops the producer rather than letting batches pile up in
//! memory.
//!
//! The stream ends when `count` IDs were sent, when the client goes away (the channel
//! closes), when the node cannot issue (the last message is the error status), or when the
//! server shuts down (`UNAVAILABLE`, so the client resumes elsewhere).

use snowdrift_wire::v1::IdBatch;
use tokio::sync::{mpsc, OwnedSemaphorePermit};
use tonic::Status;

use super::status::from_service;
use crate::app::App;
use crate::error::ServiceError;
use crate::shutdown::Shutdown;

/// Batches produced ahead of the reader. A few keep the producer busy while the network
/// sends; more would only hold memory.
const AHEAD: usize = 4;

/// A checked `StreamIds` request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// IDs per message.
    pub batch: u64,
    /// IDs in all; `None` runs until the client cancels.
    pub total: Option<u64>,
}

impl Plan {
    /// Checks `batch` against the node's limit. In proto3 an unset field reads as zero, so a
    /// `batch` of 0 means `default_batch`, and a `count` of 0 means no end.
    pub fn check(
        batch: u32,
        count: u64,
        max_batch: u64,
        default_batch: u64,
    ) -> Result<Plan, Status> {
        let batch = match u64::from(batch) {
            0 => default_batch,
            batch => batch,
        };
        if batch == 0 || batch > max_batch {
            return Err(super::status::from_service(
                &ServiceError::batch_out_of_range(batch, max_batch),
            ));
        }
        Ok(Plan {
            batch,
            total: (count > 0).then_some(count),
        })
    }
}

/// Starts producing; the receiver is the response stream. `permit` is held until the
/// producer ends, bounding the number of streams running at once.
pub fn start(
    app: App,
    plan: Plan,
    shutdown: Shutdown,
    permit: OwnedSemaphorePermit,
) -> mpsc::Receiver<Result<IdBatch, Status>> {
    let (sender, receiver) = mpsc::channel(AHEAD);
    tokio::spawn(async move {
        produce(&app, plan, &shutdown, &sender).await;
        drop(permit);
    });
    receiver
}

async fn produce(
    app: &App,
    plan: Plan,
    shutdown: &Shutdown,
    sender: &mpsc::Sender<Result<IdBatch, Status>>,
) {
    let mut left = plan.total;
    while left != Some(0) {
        if shutdown.is_triggered() {
            let _ = sender
                .send(Err(snowdrift_wire::status::unavailable(
                    "shutting_down",
                    "the node is shutting down; resume the stream on another node",
                    std::time::Duration::from_secs(1),
                )))
                .await;
            return;
        }
        // Wait for room before issuing, so that IDs are never issued for a reader that has
        // gone: a reservation waiting in the channel for a reader that left would be lost.
        let Ok(slot) = sender.reserve().await else {
            return;
        };
        let size = left.map_or(plan.batch, |left| left.min(plan.batch));
        // A reader that leaves while the batch waits for its ticks ends the wait: the
        // dropped request burns its block (counted as burned), as on the unary calls.
        let issued = tokio::select! {
            issued = app.issue(size) => issued,
            () = sender.closed() => return,
        };
        let message = match issued {
            Ok(block) => Ok(IdBatch {
                ids: block.map(|id| id.as_u64()).collect(),
            }),
            Err(err) => Err(from_service(&err)),
        };
        let failed = message.is_err();
        slot.send(message);
        if failed {
            return;
        }
        left = left.map(|left| left - size);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_checks_the_batch_and_reads_zero_as_the_default() {
        assert_eq!(
            Plan::check(100, 0, 10_000, 4096).unwrap(),
            Plan {
                batch: 100,
                total: None
            }
        );
        assert_eq!(
            Plan::check(100, 250, 10_000, 4096).unwrap().total,
            Some(250)
        );
        assert_eq!(Plan::check(0, 250, 10_000, 4096).unwrap().batch, 4096);
        for (bad, max) in [(10_001, 10_000), (0, 0)] {
            let status = Plan::check(bad, 1, max, 4096.min(max)).unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument);
        }
    }
}
