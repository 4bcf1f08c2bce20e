//! The HTTP target: a fuzzed request target (path and query, and optionally an `Accept`
//! header) sent in-process through the service's whole router, layers included, to a real
//! node, as `tower::ServiceExt::oneshot` delivers it.
//!
//! Beyond "no panic" it checks that no request is answered with a server error (5xx): a path
//! or query the extractors cannot read is the client's fault (4xx), and the node is healthy.
//! Every error answer has the service's JSON error shape with a code; every success on
//! `/v1/id` and `/v1/ids` carries only IDs that decode under the node's layout.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

use super::Harness;
use crate::http::{router, HttpState};

/// Largest body the target reads back (a 10 000-ID answer is about 250 kB).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// The service's router on a started [`Harness`].
#[derive(Debug)]
pub struct Http {
    harness: Harness,
    router: Router,
}

impl Http {
    /// The router of `serve`, with the real metrics recorder, on `harness`.
    pub fn new(harness: Harness) -> Http {
        let state = HttpState {
            app: harness.app().clone(),
            metrics: crate::metrics::install(),
            // No token file, as `serve` runs by default.
            auth: crate::auth::Auth::open(),
        };
        Http {
            router: router(state),
            harness,
        }
    }

    /// Sends `data` as one request: the bytes up to the first newline are the request target
    /// (a `/` is put in front if they lack one), the rest the `Accept` header. Bytes that are
    /// no valid URI or header are not a request a client could send; they return `None`.
    /// Otherwise returns the status.
    pub fn request(&self, data: &[u8]) -> Option<StatusCode> {
        let (target, accept) = match data.iter().position(|&b| b == b'\n') {
            Some(at) => (&data[..at], Some(&data[at + 1..])),
            None => (data, None),
        };
        let mut uri = Vec::with_capacity(target.len() + 1);
        if !target.starts_with(b"/") {
            uri.push(b'/');
        }
        uri.extend_from_slice(target);
        let mut request = Request::get(uri.as_slice());
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let request = request.body(Body::empty()).ok()?;
        let path = request.uri().path().to_string();
        let response = self
            .harness
            .block_on(self.router.clone().oneshot(request))
            .unwrap_or_else(|never| match never {});
        let status = response.status();
        let body = self
            .harness
            .block_on(axum::body::to_bytes(response.into_body(), MAX_BODY));
        let body = match body {
            Ok(body) => body,
            Err(err) => panic!("{status} on {path}: the body cannot be read: {err}"),
        };
        let text = String::from_utf8_lossy(&body);
        assert!(!status.is_server_error(), "{status} on {path:?}: {text}");
        if status.is_client_error() {
            let error: serde_json::Value = serde_json::from_slice(&body)
                .unwrap_or_else(|err| panic!("{status} on {path:?} is not JSON ({err}): {text}"));
            assert!(
                error["error"]["code"].is_string(),
                "{status} on {path:?} has no error code: {text}"
            );
        } else if status.is_success() && matches!(path.as_str(), "/v1/id" | "/v1/ids") {
            self.check_ids(&text);
        }
        Some(status)
    }

    /// Every ID in an answer (JSON or text, any encoding) decodes under the node's layout.
    fn check_ids(&self, text: &str) {
        let layout = self.harness.app().layout();
        let words = text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|word| !word.is_empty() && !matches!(*word, "id" | "ids"));
        let mut seen = 0;
        for word in words {
            // The answer's encoding is the query's `format`; any encoding that reads the word
            // as an ID of this layout will do here.
            let decodes = snowdrift::Encoding::ALL.iter().any(|encoding| {
                encoding
                    .decode(word)
                    .is_ok_and(|id| layout.decompose(id).is_ok())
            });
            assert!(decodes, "{word:?} in a successful answer is no ID: {text}");
            seen += 1;
        }
        assert!(seen > 0, "a successful answer holds no ID: {text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_requests_get_their_statuses() {
        let dir = tempfile::tempdir().unwrap();
        let http = Http::new(Harness::start(dir.path()).unwrap());
        assert_eq!(http.request(b"/v1/ids?count=3"), Some(StatusCode::OK));
        assert_eq!(
            http.request(b"v1/ids?count=3&format=base62\ntext/plain"),
            Some(StatusCode::OK)
        );
        assert_eq!(
            http.request(b"/v1/ids?count=0"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(
            http.request(b"/v1/decode/not-an-id"),
            Some(StatusCode::BAD_REQUEST)
        );
        assert_eq!(http.request(b"/nope"), Some(StatusCode::NOT_FOUND));
        assert_eq!(http.request(b"/v1/id\x7f"), None);
    }
}
