//! The HTTP/JSON listener: routes, limits, metrics and graceful shutdown.
//!
//! Layers, from the outside in: request metrics (route, status, latency) and JSON error shapes
//! → the token check ([`auth`]) → a body size limit → a time limit per request → the routes. The time limit answers 503
//! with `Retry-After` rather than letting a request hang; the body limit keeps a client from
//! streaming megabytes at routes that take no body.

pub mod auth;
pub mod cluster;
#[cfg(test)]
mod contract_tests;
pub mod dashboard;
pub mod errors;
pub mod openapi;
pub mod openapi_auth;
pub mod routes;
pub mod table;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request};
use axum::http::Response as HttpResponse;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::io::{AsyncRead, AsyncWrite};
use tower::{Layer, Service, ServiceBuilder};
use tower_http::limit::{RequestBodyLimitLayer, ResponseBody};
use tower_http::timeout::TimeoutLayer;

use crate::app::App;
use crate::listeners::Incoming;
use crate::shutdown::Shutdown;

/// Longest a request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request body accepted (no route takes one).
pub const BODY_LIMIT: usize = 16 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct HttpState {
    /// The shared service state.
    pub app: App,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// Who may call which route.
    pub auth: crate::auth::Auth,
}

/// The router with every route of [`table::ROUTES`] and every layer.
pub fn router(state: HttpState) -> Router {
    let auth = auth::AuthLayer::new(state.auth.clone());
    table::routed()
        .fallback(errors::not_found)
        .with_state(state)
        // One `layer` call for the whole stack: each call re-boxes every route, and a boxed
        // route is cloned per request, so three calls cost three allocations per request
        // (measured: 15-25% of the single-ID throughput).
        .layer(
            ServiceBuilder::new()
                .layer(ObserveLayer)
                .layer(auth)
                .map_response(into_axum_response)
                .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
                .layer(TimeoutLayer::with_status_code(
                    axum::http::StatusCode::SERVICE_UNAVAILABLE,
                    REQUEST_TIMEOUT,
                )),
        )
}

/// The body-limit layer wraps the response body in its own type; `observe` wants axum's.
fn into_axum_response(response: HttpResponse<ResponseBody<Body>>) -> Response {
    response.into_response()
}

/// Longest a client may take to send a request's headers. It bounds slow ("slowloris")
/// clients, which the per-request time limit cannot: that limit starts only once the headers
/// are in.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves `router` on the connections of `incoming` until `shutdown`, then finishes the
/// requests in flight (hyper's graceful shutdown: each connection answers what it is serving
/// and closes). The drain deadline is the substrate's, in `serve`.
///
/// A loop over hyper rather than `axum::serve`, because `axum::serve` does not expose hyper's
/// header-read timeout, and takes a listener rather than the substrate's streams.
pub async fn serve<S>(
    mut incoming: Incoming<S>,
    router: Router,
    shutdown: Shutdown,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connections = GracefulShutdown::new();
    let stop = shutdown.wait();
    tokio::pin!(stop);
    loop {
        let stream = tokio::select! {
            _ = &mut stop => break,
            next = incoming.next() => match next {
                Some(stream) => stream,
                None => break,
            },
        };
        let connection = http.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let connection = connections.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out is not an error of the service.
            let _ = connection.await;
        });
    }
    drop(incoming);
    connections.shutdown().await;
    Ok(())
}

/// Records each request's route, status and latency, and gives bare error responses (from
/// routing, the body limit or the time limit) the JSON error shape. One layer for both.
///
/// Written as a plain tower service rather than `middleware::from_fn`, which clones the inner
/// route and boxes an extra future on every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;
    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner }
    }
}

/// The service of [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let route = table::index(
            request
                .extensions()
                .get::<MatchedPath>()
                .map(MatchedPath::as_str),
        );
        let (method, uri) = (request.method().clone(), request.uri().clone());
        // `poll_ready` readied this very inner service, so it is called without a clone.
        let response = self.inner.call(request);
        Box::pin(async move {
            // hyper drops this future when the client goes away before the answer; the guard
            // still counts the request then (its IDs may have been issued already).
            let mut unanswered = Unanswered {
                route,
                started,
                armed: true,
            };
            let response = errors::normalize(response.await?, &method, &uri);
            unanswered.armed = false;
            crate::metrics::http_request(route, response.status().as_u16(), started.elapsed());
            Ok(response)
        })
    }
}

/// Counts a request as [`crate::metrics::CLIENT_CLOSED`] if it is dropped before its answer.
struct Unanswered {
    route: usize,
    started: Instant,
    /// Cleared once the answer is recorded.
    armed: bool,
}

impl Drop for Unanswered {
    fn drop(&mut self) {
        if self.armed {
            crate::metrics::http_request(
                self.route,
                crate::metrics::CLIENT_CLOSED,
                self.started.elapsed(),
            );
        }
    }
}
