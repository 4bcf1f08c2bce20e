//! Prometheus metrics: the recorder, the names, and the few functions that record them.
//!
//! The `metrics` facade is global, so the coordination crate records its own series
//! (`snowdrift_hwm_persist_seconds`, `snowdrift_hwm_persist_failures_total`, slot claims and
//! losses, `snowdrift_store_resets_total`) into the same recorder without knowing about it.
//! The recorder has no HTTP listener of its own: `GET /metrics` renders it. Gauges that
//! describe state rather than events (clock lead, ceiling headroom) are read from the generator
//! just before each render, by [`crate::app::App::publish_gauges`].
//!
//! Every series any crate records is described when the recorder is installed, so each has
//! its `# HELP` line and `promtool check metrics` passes on a live node
//! (`crates/service/tests/deploy_metrics.rs` runs it with both coordinators). The gRPC and RESP request series follow HTTP's scheme
//! (`snowdrift_<protocol>_requests_total{<call>, status}` and
//! `snowdrift_<protocol>_request_duration_seconds{<call>}`); they live in [`protocols`].

pub mod protocols;

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram, Counter, Histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use snowdrift::clock::ClockEvents;

use crate::http::table::ROUTES;

/// IDs handed out, on every protocol.
pub const IDS_ISSUED: &str = "snowdrift_ids_issued_total";
/// IDs reserved for a request that ended before they could be handed out (the client went
/// away while its block waited for its ticks, or the wait failed): never issued by anyone.
pub const IDS_BURNED: &str = "snowdrift_ids_burned_total";
/// Requests that could not be served, by error code.
pub const ISSUE_ERRORS: &str = "snowdrift_issue_errors_total";
/// HTTP requests by route and status.
pub const HTTP_REQUESTS: &str = "snowdrift_http_requests_total";
/// HTTP request latency by route.
pub const HTTP_DURATION: &str = "snowdrift_http_request_duration_seconds";
/// Times a request waited because a tick's sequence was used up.
pub const EXHAUSTION_WAITS: &str = "snowdrift_sequence_exhaustion_waits_total";
/// Backward steps of the wall clock seen (and not followed).
pub const CLOCK_BACKWARD: &str = "snowdrift_clock_backward_steps_total";
/// Forward steps of the wall clock adopted.
pub const CLOCK_FORWARD: &str = "snowdrift_clock_forward_steps_total";
/// Wall clock minus the generator's clock.
pub const CLOCK_OFFSET: &str = "snowdrift_clock_wall_offset_seconds";
/// How far the generator's state runs ahead of its clock (borrowed time).
pub const CLOCK_LEAD: &str = "snowdrift_clock_lead_seconds";
/// How far an advanced ID clock (`--clock-behind advance`) leads the wall clock.
pub const CLOCK_ADVANCE_LEAD: &str = "snowdrift_clock_advance_lead_seconds";
/// How much slower than real time the advanced ID clock runs while it leads (0 otherwise).
pub const CLOCK_ADVANCE_SLEW: &str = "snowdrift_clock_advance_slew_ratio";
/// Time left in the persisted window.
pub const CEILING_HEADROOM: &str = "snowdrift_ceiling_headroom_seconds";
/// 1 while the node may issue IDs.
pub const READY: &str = "snowdrift_ready";
/// Always 1, labelled with the version: joins other series to the build that produced them.
pub const BUILD_INFO: &str = "snowdrift_build_info";
/// Time left until the layout's timestamp field runs out.
pub const LAYOUT_REMAINING: &str = "snowdrift_layout_remaining_seconds";
/// gRPC calls by method and status code.
pub const GRPC_REQUESTS: &str = "snowdrift_grpc_requests_total";
/// gRPC call latency by method.
pub const GRPC_DURATION: &str = "snowdrift_grpc_request_duration_seconds";
/// Redis-protocol commands by command and status.
pub const RESP_REQUESTS: &str = "snowdrift_resp_requests_total";
/// Redis-protocol command latency by command.
pub const RESP_DURATION: &str = "snowdrift_resp_request_duration_seconds";
/// The `status` label of an HTTP request whose client went away before the answer (nginx's
/// 499, "client closed request"): its IDs, if any, were issued and counted.
pub const CLIENT_CLOSED: u16 = 499;

/// Latency buckets, in seconds: from 50 µs (an ID from memory) to 10 s (a stuck request).
const BUCKETS: [f64; 16] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 10.0,
];

/// Installs the global recorder and returns the handle that renders it.
///
/// If a recorder is already installed (a second service in one test process), the returned
/// handle renders an empty registry rather than failing the service.
pub fn install() -> PrometheusHandle {
    let builder = match PrometheusBuilder::new().set_buckets(&BUCKETS) {
        Ok(builder) => builder,
        // Only an empty bucket list fails, and ours is not empty.
        Err(_) => PrometheusBuilder::new(),
    };
    let recorder = builder.build_recorder();
    let handle = recorder.handle();
    if metrics::set_global_recorder(recorder).is_err() {
        tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
    }
    describe();
    gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    handle
}

/// Runs the recorder's upkeep (draining histogram buffers) every few seconds, forever.
pub async fn upkeep(handle: PrometheusHandle) {
    let mut ticker = tokio::time::interval(Duration::from_secs(5));
    loop {
        ticker.tick().await;
        handle.run_upkeep();
    }
}

fn describe() {
    crate::security::describe_metrics();
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(IDS_ISSUED, "IDs handed out, on every protocol");
    describe_counter!(
        IDS_BURNED,
        "IDs reserved for a request that ended before they were handed out; never issued"
    );
    describe_counter!(ISSUE_ERRORS, "requests for IDs that failed, by error code");
    describe_counter!(HTTP_REQUESTS, "HTTP requests by route and status");
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request latency by route"
    );
    describe_counter!(
        EXHAUSTION_WAITS,
        "times a request waited because a tick's sequence was used up"
    );
    describe_counter!(
        CLOCK_BACKWARD,
        "backward steps of the wall clock seen and not followed"
    );
    describe_counter!(CLOCK_FORWARD, "forward steps of the wall clock adopted");
    describe_gauge!(
        CLOCK_OFFSET,
        Unit::Seconds,
        "wall clock minus the generator's clock"
    );
    describe_gauge!(
        CLOCK_LEAD,
        Unit::Seconds,
        "how far issued IDs run ahead of the clock"
    );
    describe_gauge!(
        CLOCK_ADVANCE_LEAD,
        Unit::Seconds,
        "how far the ID clock leads the wall clock after a start behind the mark (--clock-behind advance)"
    );
    describe_gauge!(
        CLOCK_ADVANCE_SLEW,
        "how much slower than real time the ID clock runs while it leads (0.01: 1%; 0 when it does not lead)"
    );
    describe_gauge!(
        CEILING_HEADROOM,
        Unit::Seconds,
        "time left in the persisted window (negative: past the ceiling)"
    );
    describe_gauge!(READY, "1 while this node may issue IDs");
    describe_gauge!(BUILD_INFO, "always 1; the version label names the build");
    describe_gauge!(
        LAYOUT_REMAINING,
        Unit::Seconds,
        "time left until the layout's timestamp field runs out"
    );
    describe_counter!(
        GRPC_REQUESTS,
        "gRPC calls by method and status code (OK, UNAVAILABLE, ...)"
    );
    describe_histogram!(GRPC_DURATION, Unit::Seconds, "gRPC call latency by method");
    describe_counter!(
        RESP_REQUESTS,
        "Redis-protocol commands by command and status (ok, or the error prefix such as ERR)"
    );
    describe_histogram!(
        RESP_DURATION,
        Unit::Seconds,
        "Redis-protocol command latency by command"
    );
    describe_gauge!(
        "snowdrift_resp_connections",
        "Redis-protocol connections open now"
    );
    describe_counter!(
        "snowdrift_resp_closed_total",
        "Redis-protocol connections the server closed, by reason"
    );
    describe_counter!(
        "snowdrift_slot_claims_total",
        "worker slots claimed (more than one after a handover)"
    );
    describe_counter!(
        "snowdrift_slot_losses_total",
        "worker slots lost (the node fenced itself and claimed again)"
    );
    describe_counter!(
        "snowdrift_etcd_writes_total",
        "etcd writes by kind: persist, slot_claim, layout_pin, record_replace, lower, \
         lease_grant, lease_revoke"
    );
    describe_counter!(
        "snowdrift_etcd_errors_total",
        "failed or timed-out etcd requests by operation"
    );
    describe_gauge!(
        "snowdrift_lease_alive",
        "1 while the etcd lease is renewed within its deadline"
    );
    describe_counter!(
        "snowdrift_lease_keepalives_total",
        "successful renewals of the etcd lease"
    );
    describe_gauge!(
        "snowdrift_lease_remaining_seconds",
        Unit::Seconds,
        "time left before the node fences itself unless the lease is renewed"
    );
    describe_histogram!(
        "snowdrift_hwm_persist_seconds",
        Unit::Seconds,
        "time to make a high-water mark durable"
    );
    describe_counter!(
        "snowdrift_hwm_persist_failures_total",
        "high-water writes that failed"
    );
    describe_counter!(
        "snowdrift_store_resets_total",
        "resets of etcd this node detected (it lost its data, was rolled back or replaced), by \
         reason: record_missing, revision_backwards, rolled_back, cluster_id_changed, \
         incarnation_changed"
    );
}

/// Handles of the per-request series, registered once: looking a series up by name and labels
/// hashes the key and, for labels, allocates, which costs more than the ID itself.
struct Handles {
    ids_issued: Counter,
    ids_burned: Counter,
    /// Per route (in the route table's order, then "unmatched"): requests answered 200, and
    /// latency.
    routes: Vec<(Counter, Histogram)>,
}

static HANDLES: OnceLock<Handles> = OnceLock::new();

/// The cached handles. Created on first use, which is after [`install`] in the service, so they
/// are bound to the Prometheus recorder.
fn handles() -> &'static Handles {
    HANDLES.get_or_init(|| Handles {
        ids_issued: counter!(IDS_ISSUED),
        ids_burned: counter!(IDS_BURNED),
        routes: ROUTES
            .iter()
            .map(|route| route.path)
            .chain(std::iter::once(UNMATCHED))
            .map(|route| {
                (
                    counter!(HTTP_REQUESTS, "route" => route, "status" => "200"),
                    histogram!(HTTP_DURATION, "route" => route),
                )
            })
            .collect(),
    })
}

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// Counts IDs handed out.
#[inline]
pub fn ids_issued(count: u64) {
    handles().ids_issued.increment(count);
}

/// Counts IDs reserved for a request that ended before they were handed out.
pub fn ids_burned(count: u64) {
    handles().ids_burned.increment(count);
}

/// Counts a request for IDs that failed.
pub fn issue_failed(code: &'static str) {
    counter!(ISSUE_ERRORS, "code" => code).increment(1);
}

/// Records one HTTP request; `route` is its position in the route table
/// ([`crate::http::table::index`]). A request whose client left before the answer is recorded
/// with status [`CLIENT_CLOSED`].
pub fn http_request(route: usize, status: u16, elapsed: Duration) {
    let handles = handles();
    let Some((ok, latency)) = handles.routes.get(route) else {
        return;
    };
    if status == 200 {
        ok.increment(1);
    } else {
        let name = ROUTES.get(route).map_or(UNMATCHED, |route| route.path);
        counter!(HTTP_REQUESTS, "route" => name, "status" => status.to_string()).increment(1);
    }
    latency.record(elapsed.as_secs_f64());
}

/// State read from the generator and clock just before a render.
#[derive(Debug, Clone, Copy)]
pub struct Gauges {
    /// How far issued IDs run ahead of the clock, in seconds.
    pub clock_lead_seconds: f64,
    /// How far an advanced ID clock leads the wall clock, in seconds (0 normally).
    pub clock_advance_lead_seconds: f64,
    /// Its slew while it leads, as a ratio (0 when it does not lead).
    pub clock_advance_slew_ratio: f64,
    /// Time left in the persisted window, in seconds.
    pub ceiling_headroom_seconds: f64,
    /// The generator's exhaustion waits so far.
    pub exhaustion_waits: u64,
    /// What the clock has seen of the wall clock.
    pub clock: ClockEvents,
    /// Whether the node may issue.
    pub ready: bool,
    /// Time left until the layout runs out, in seconds.
    pub layout_remaining_seconds: f64,
}

/// Publishes [`Gauges`].
pub fn publish(gauges: &Gauges) {
    gauge!(CLOCK_LEAD).set(gauges.clock_lead_seconds);
    gauge!(CLOCK_ADVANCE_LEAD).set(gauges.clock_advance_lead_seconds);
    gauge!(CLOCK_ADVANCE_SLEW).set(gauges.clock_advance_slew_ratio);
    gauge!(CEILING_HEADROOM).set(gauges.ceiling_headroom_seconds);
    counter!(EXHAUSTION_WAITS).absolute(gauges.exhaustion_waits);
    counter!(CLOCK_BACKWARD).absolute(gauges.clock.backward_steps);
    counter!(CLOCK_FORWARD).absolute(gauges.clock.forward_steps);
    gauge!(CLOCK_OFFSET).set(gauges.clock.wall_offset_ms as f64 / 1000.0);
    gauge!(READY).set(if gauges.ready { 1.0 } else { 0.0 });
    gauge!(LAYOUT_REMAINING).set(gauges.layout_remaining_seconds);
}
