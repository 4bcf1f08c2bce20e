//! In-process tests of the gRPC service for what the real binary cannot be made to show on
//! demand: a node that cannot issue (`UNAVAILABLE` with a retry hint on every issuing RPC, and
//! `NOT_SERVING` from the health service). The rest is proved against the real binary in
//! `tests/grpc.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use snowdrift_wire::v1::snowdrift_server::Snowdrift;
use snowdrift_wire::v1::{NextIdRequest, NextIdsRequest, StreamIdsRequest};
use tokio_stream::StreamExt;
use tonic::{Code, Request};
use tonic_health::pb::health_server::Health;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::server::{HealthReporter, HealthService};

use super::health;
use super::service::IdService;
use crate::shutdown;
use crate::test_support::started_app as app;

fn assert_unavailable(status: &tonic::Status) {
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(
        snowdrift_wire::status::error_code(status).as_deref(),
        Some("fenced")
    );
    assert_eq!(
        snowdrift_wire::status::retry_after(status),
        Some(Duration::from_secs(1))
    );
}

async fn health_of(service: &HealthService, name: &str) -> i32 {
    let request = Request::new(HealthCheckRequest {
        service: name.to_string(),
    });
    service.check(request).await.unwrap().into_inner().status
}

#[tokio::test]
async fn a_node_that_cannot_issue_is_unavailable_with_a_retry_hint() {
    let dir = tempfile::tempdir().unwrap();
    let (app, generator) = app(&dir).await;
    let (_trigger, watcher) = shutdown::channel();
    let service = IdService::new(app.clone(), watcher);
    let reporter = HealthReporter::new();
    let health_service = HealthService::from_health_reporter(reporter.clone());

    health::publish(&reporter, &app).await;
    let serving = tonic_health::ServingStatus::Serving as i32;
    assert_eq!(health_of(&health_service, "").await, serving);
    assert!(service
        .next_id(Request::new(NextIdRequest {}))
        .await
        .is_ok());

    generator.fence();
    assert_unavailable(
        &service
            .next_id(Request::new(NextIdRequest {}))
            .await
            .unwrap_err(),
    );
    let many = service.next_ids(Request::new(NextIdsRequest { count: 10 }));
    assert_unavailable(&many.await.unwrap_err());
    let big = service.next_ids(Request::new(NextIdsRequest { count: 9000 }));
    assert_unavailable(&big.await.unwrap_err());
    let request = Request::new(StreamIdsRequest {
        batch: 100,
        count: 0,
    });
    let mut stream = service.stream_ids(request).await.unwrap().into_inner();
    assert_unavailable(&stream.next().await.unwrap().unwrap_err());
    assert!(
        stream.next().await.is_none(),
        "the stream ends after its error"
    );

    health::publish(&reporter, &app).await;
    let not_serving = tonic_health::ServingStatus::NotServing as i32;
    assert_eq!(health_of(&health_service, "").await, not_serving);
    assert_eq!(
        health_of(&health_service, snowdrift_wire::SERVICE_NAME).await,
        not_serving
    );
}

#[tokio::test]
async fn a_stream_ends_with_unavailable_on_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(&dir).await;
    let (trigger, watcher) = shutdown::channel();
    let service = IdService::new(app, watcher);
    let request = Request::new(StreamIdsRequest {
        batch: 1000,
        count: 0,
    });
    let mut stream = service.stream_ids(request).await.unwrap().into_inner();
    assert_eq!(stream.next().await.unwrap().unwrap().ids.len(), 1000);
    trigger.trigger();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(item) = stream.next().await {
            if let Err(status) = item {
                return status;
            }
        }
        panic!("the stream ended without a status");
    })
    .await
    .unwrap();
    assert_eq!(ended.code(), Code::Unavailable);
    assert_eq!(
        snowdrift_wire::status::error_code(&ended).as_deref(),
        Some("shutting_down")
    );
}
