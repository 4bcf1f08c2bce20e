//! How failures look over HTTP: every error is `{"error":{"code":…,"message":…}}` with the
//! status its class calls for, and `Retry-After` when retrying can help.
//!
//! Two paths lead here. Handlers return [`HttpError`] (a [`ServiceError`] with a status).
//! Everything else that can fail before or around a handler — an unknown route, a wrong
//! method, a body over the limit, a request over the time limit — produces a bare status from
//! axum or tower-http, which [`normalize`] rewrites into the same JSON shape, so a client
//! never has to parse two kinds of error.

use axum::body::Body;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::error::{ErrorClass, ServiceError};

/// A [`ServiceError`] on its way out as an HTTP response.
#[derive(Debug)]
pub struct HttpError(pub ServiceError);

impl From<ServiceError> for HttpError {
    fn from(err: ServiceError) -> HttpError {
        HttpError(err)
    }
}

/// The status for a class of error: 400, 404 or 503.
pub fn status_of(class: ErrorClass) -> StatusCode {
    match class {
        ErrorClass::BadRequest => StatusCode::BAD_REQUEST,
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        error_response(status_of(self.0.class), &self.0)
    }
}

/// Builds the JSON error response, with `Retry-After` if the error has one.
pub fn error_response(status: StatusCode, err: &ServiceError) -> Response {
    let body = serde_json::to_vec(&err.to_body()).unwrap_or_else(|_| {
        br#"{"error":{"code":"internal","message":"cannot encode the error"}}"#.to_vec()
    });
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if let Some(secs) = err.retry_after_secs() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// The answer for a path no route matches.
pub async fn not_found(method: Method, uri: Uri) -> HttpError {
    HttpError(ServiceError::not_found(format!(
        "no route for {method} {}; routes: {}",
        uri.path(),
        super::table::usage()
    )))
}

/// Rewrites a bare error response (no JSON body) into the JSON error shape, keeping the status
/// and headers such as `Allow`. Handler errors are JSON already and pass through untouched.
pub fn normalize(response: Response, method: &Method, uri: &Uri) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let path = uri.path();
    let err = match status {
        StatusCode::METHOD_NOT_ALLOWED => ServiceError::bad_request(
            "method_not_allowed",
            format!("{method} is not allowed on {path}; use GET"),
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ServiceError::bad_request(
            "payload_too_large",
            "the request body is over the limit; these routes take no body",
        ),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::REQUEST_TIMEOUT => ServiceError::unavailable(
            "timeout",
            format!("{method} {path} took longer than the request time limit"),
            std::time::Duration::from_secs(1),
        ),
        StatusCode::NOT_FOUND => ServiceError::not_found(format!("no route for {method} {path}")),
        _ if status.is_server_error() => ServiceError::unavailable(
            "internal",
            format!("{method} {path} failed inside the service; it was logged"),
            std::time::Duration::from_secs(1),
        ),
        _ => ServiceError::bad_request(
            "bad_request",
            format!(
                "{method} {path}: {}",
                status.canonical_reason().unwrap_or("bad request")
            ),
        ),
    };
    let (mut parts, _) = response.into_parts();
    let rewritten = error_response(status, &err);
    let (new_parts, body) = rewritten.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in new_parts.headers.iter() {
        parts.headers.insert(name.clone(), value.clone());
    }
    Response::from_parts(parts, Body::new(body))
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}
