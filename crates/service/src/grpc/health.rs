//! The standard gRPC health service, answering what `/readyz` answers.
//!
//! The health service keeps a status per service name and pushes changes to `Watch`ers, so
//! readiness is sampled here every [`INTERVAL`] and published when it changes, for the overall
//! server (`""`) and for `snowdrift.v1.Snowdrift`. On shutdown both turn `NOT_SERVING` first,
//! so load balancers stop sending calls while the node drains.

use std::time::Duration;

use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;

use crate::app::App;
use crate::shutdown::Shutdown;

/// How often readiness is sampled. A node becomes unready when its window runs out or it is
/// fenced, which the window keeper notices on a similar cadence.
pub const INTERVAL: Duration = Duration::from_millis(250);

/// Publishes the app's readiness now.
pub async fn publish(reporter: &HealthReporter, app: &App) {
    set(reporter, status_of(app.is_ready())).await;
}

/// Keeps publishing readiness until `shutdown`, then reports `NOT_SERVING`.
pub async fn keep(reporter: HealthReporter, app: App, shutdown: Shutdown) {
    let mut last = status_of(app.is_ready());
    let stop = shutdown.wait();
    tokio::pin!(stop);
    let mut ticker = tokio::time::interval(INTERVAL);
    loop {
        tokio::select! {
            () = &mut stop => break,
            _ = ticker.tick() => {}
        }
        let now = status_of(app.is_ready());
        if now != last {
            tracing::info!(status = ?now, "grpc health changed");
            set(&reporter, now).await;
            last = now;
        }
    }
    set(&reporter, ServingStatus::NotServing).await;
}

fn status_of(ready: bool) -> ServingStatus {
    if ready {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

async fn set(reporter: &HealthReporter, status: ServingStatus) {
    reporter.set_service_status("", status).await;
    reporter
        .set_service_status(snowdrift_wire::SERVICE_NAME, status)
        .await;
}
