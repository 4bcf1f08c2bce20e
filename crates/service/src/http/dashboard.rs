//! `GET /`: the dashboard, one HTML page with its script and styles inside, embedded in the
//! binary. It needs no build step, no CDN and no other route than the API's: the page polls
//! `/v1/info`, `/metrics` and `/v1/cluster` and decodes through `/v1/decode/{id}`, with
//! relative URLs (so TLS just works) and the user's bearer token, if given.
//!
//! The policy header allows the page's own inline script and styles and requests to this
//! origin only, so nothing the page shows (a host name read from etcd, say) can load or run
//! anything else.

use std::sync::LazyLock;

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const HTML: &str = include_str!("dashboard/index.html");
const STYLE: &str = include_str!("dashboard/style.css");
const SCRIPT: &str = include_str!("dashboard/app.js");

/// The page with the styles and the script put in their places.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    HTML.replacen("/*STYLE*/", STYLE, 1)
        .replacen("/*SCRIPT*/", SCRIPT, 1)
});

/// Inline script and styles of this page, fetches to this origin, an empty `data:` icon (so the
/// browser does not ask for `/favicon.ico`), nothing else.
const POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; \
                      connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`.
pub async fn dashboard() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(POLICY),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        PAGE.as_str(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_carries_its_script_and_styles() {
        assert!(!PAGE.contains("/*STYLE*/") && !PAGE.contains("/*SCRIPT*/"));
        assert!(PAGE.contains(SCRIPT) && PAGE.contains(STYLE));
        // No URL outside this origin: no CDN, no font, no absolute fetch.
        for needle in ["http://", "https://", "//cdn", "src=\"/"] {
            assert!(!PAGE.contains(needle), "the page names {needle}");
        }
    }
}
