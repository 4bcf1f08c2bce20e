//! The token check of the HTTP listener: `Authorization: Bearer <token>` on every route but the
//! probes (unless `--auth-probes`), answered `401` with `WWW-Authenticate` when it fails.
//!
//! A layer of its own, just inside the request metrics, so a refused request is counted with
//! its status like any other, and never reaches a handler, the body limit or the time limit.
//! Which route a request is for comes from the route table ([`super::table::Route::probe`]);
//! a path no route matches needs a token too, so the 404 message and its list of routes are
//! only for clients that may use them. When no token file is set the check is one branch.
//!
//! The 401 follows RFC 6750: `WWW-Authenticate: Bearer realm="snowdrift"`, with
//! `error="invalid_token"` when a token was presented but is not accepted. Neither the
//! header, the body nor the log holds the presented token.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use futures_util::future::Either;
use tower::{Layer, Service};

use super::errors::error_response;
use super::table;
use crate::auth::{Auth, Refusal};
use crate::error::ServiceError;

/// Adds the token check to a router's routes.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    auth: Auth,
}

impl AuthLayer {
    /// Checks requests against `auth`.
    pub fn new(auth: Auth) -> AuthLayer {
        AuthLayer { auth }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = RequireToken<S>;
    fn layer(&self, inner: S) -> RequireToken<S> {
        RequireToken {
            inner,
            auth: self.auth.clone(),
        }
    }
}

/// The service of [`AuthLayer`].
#[derive(Debug, Clone)]
pub struct RequireToken<S> {
    inner: S,
    auth: Auth,
}

impl<S> Service<Request> for RequireToken<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<std::future::Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        if !self.auth.enabled() || (is_probe(&request) && !self.auth.guards_probes()) {
            return Either::Right(self.inner.call(request));
        }
        let header = request
            .headers()
            .get(header::AUTHORIZATION)
            .map(HeaderValue::as_bytes);
        match self.auth.check_bearer("http", header) {
            Ok(()) => Either::Right(self.inner.call(request)),
            Err(refusal) => Either::Left(std::future::ready(Ok(unauthorized(refusal)))),
        }
    }
}

/// Whether the request is for a probe route (health, readiness, metrics).
fn is_probe(request: &Request) -> bool {
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    table::ROUTES
        .get(table::index(matched))
        .is_some_and(|route| route.probe)
}

/// The 401 answer.
pub fn unauthorized(refusal: Refusal) -> Response {
    let (challenge, message) = match refusal {
        Refusal::Missing => (
            r#"Bearer realm="snowdrift""#,
            "this node needs a token: send `Authorization: Bearer <token>`",
        ),
        Refusal::Wrong => (
            r#"Bearer realm="snowdrift", error="invalid_token""#,
            "the token is not accepted by this node",
        ),
    };
    let err = ServiceError::bad_request("unauthorized", message);
    let mut response = error_response(StatusCode::UNAUTHORIZED, &err);
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    response
}
