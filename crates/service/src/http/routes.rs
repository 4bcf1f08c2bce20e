//! The HTTP handlers: each parses its request, calls the [`App`](crate::app::App), and shapes the answer.
//!
//! IDs are JSON strings. `Accept: text/plain` gets bare IDs, one per line. `?format=` picks the
//! text form (decimal, base32, base62, hex). Bodies for IDs are written by hand rather than
//! through serde: an encoded ID is only ASCII letters and digits, so it needs no escaping, and
//! a 4096-ID answer is built in one buffer without an intermediate `Vec<String>`. A property
//! test below checks that those bytes parse as the wire contract's `IdBody` and `IdsBody`.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use snowdrift::{Encoding, Id};

use super::errors::HttpError;
use super::HttpState;
use crate::error::ServiceError;

/// Query of `/v1/id` and `/v1/ids`. Kept as text so that bad values get our error codes.
#[derive(Debug, Default, Deserialize)]
pub struct IdQuery {
    count: Option<String>,
    format: Option<String>,
}

/// `GET /v1/id`: one ID.
pub async fn next_id(
    State(state): State<HttpState>,
    query: Result<Query<IdQuery>, QueryRejection>,
    AcceptsText(as_text): AcceptsText,
) -> Result<Response, HttpError> {
    let query = parse_query(query)?;
    let format = parse_format(query.format.as_deref())?;
    let id = state.app.issue_one().await?;
    let body = id_body(id, format, as_text);
    Ok(if as_text {
        text_response(body)
    } else {
        json_response(body)
    })
}

/// Renders one ID: `{"id":"…"}`, or the ID and a newline.
fn id_body(id: Id, format: Encoding, as_text: bool) -> String {
    let mut body = String::with_capacity(32);
    if as_text {
        push_id(&mut body, id, format);
        body.push('\n');
    } else {
        body.push_str(r#"{"id":""#);
        push_id(&mut body, id, format);
        body.push_str(r#""}"#);
    }
    body
}

/// `GET /v1/ids?count=N`: `N` consecutive IDs from one block reservation.
pub async fn next_ids(
    State(state): State<HttpState>,
    query: Result<Query<IdQuery>, QueryRejection>,
    AcceptsText(as_text): AcceptsText,
) -> Result<Response, HttpError> {
    let query = parse_query(query)?;
    let format = parse_format(query.format.as_deref())?;
    let count = parse_count(query.count.as_deref(), state.app.max_batch())?;
    // A block that spans ticks ahead of the clock awaits them on a timer, in the App.
    let block = state.app.issue(count).await?;
    let body = render_ids(block, format, as_text);
    Ok(if as_text {
        text_response(body)
    } else {
        json_response(body)
    })
}

/// Renders IDs: `{"ids":["…",…]}`, or one ID per line.
fn render_ids(block: impl ExactSizeIterator<Item = Id>, format: Encoding, as_text: bool) -> String {
    // 20 digits, 2 quotes and a comma per ID at most.
    let mut body = String::with_capacity(block.len() * 23 + 10);
    if as_text {
        for id in block {
            push_id(&mut body, id, format);
            body.push('\n');
        }
    } else {
        body.push_str(r#"{"ids":["#);
        for (i, id) in block.enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push('"');
            push_id(&mut body, id, format);
            body.push('"');
        }
        body.push_str("]}");
    }
    body
}

fn push_id(body: &mut String, id: Id, format: Encoding) {
    match format {
        Encoding::Decimal => body.push_str(itoa::Buffer::new().format(id.as_u64())),
        other => body.push_str(&other.encode(id)),
    }
}

/// `GET /v1/decode/{id}`: the parts of an ID in any encoding.
pub async fn decode(
    State(state): State<HttpState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, HttpError> {
    let Path(text) = id.map_err(|err| {
        ServiceError::bad_request(
            "invalid_id",
            format!("cannot read the id in the path: {err}"),
        )
    })?;
    let decoded = state.app.decode(&text)?;
    Ok(Json(decoded).into_response())
}

/// `GET /v1/info`: version, layout, slot, window and clock.
pub async fn info(State(state): State<HttpState>) -> Response {
    Json(state.app.info()).into_response()
}

/// `GET /healthz`: the process is alive and answering.
pub async fn healthz() -> Response {
    json_response(r#"{"status":"ok"}"#.to_string())
}

/// `GET /readyz`: 200 only while this node may issue IDs.
pub async fn readyz(State(state): State<HttpState>) -> Result<Response, HttpError> {
    if state.app.is_ready() {
        Ok(json_response(r#"{"status":"ready"}"#.to_string()))
    } else {
        Err(HttpError(state.app.not_ready()))
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<HttpState>) -> Response {
    state.app.publish_gauges();
    let body = state.metrics.render();
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

fn parse_query(query: Result<Query<IdQuery>, QueryRejection>) -> Result<IdQuery, ServiceError> {
    query.map(|Query(q)| q).map_err(|err| {
        ServiceError::bad_request("invalid_query", format!("cannot read the query: {err}"))
    })
}

fn parse_format(format: Option<&str>) -> Result<Encoding, ServiceError> {
    match format {
        None => Ok(Encoding::Decimal),
        Some(name) => name
            .parse::<Encoding>()
            .map_err(|err| ServiceError::bad_request("invalid_format", err.to_string())),
    }
}

/// `count` must be a whole number; its range is checked by [`App::issue`].
fn parse_count(count: Option<&str>, max: u64) -> Result<u64, ServiceError> {
    let text = count.ok_or_else(|| {
        ServiceError::bad_request(
            "invalid_count",
            format!("the query parameter count is required: /v1/ids?count=N with N in 1..={max}"),
        )
    })?;
    text.trim().parse::<u64>().map_err(|_| {
        ServiceError::bad_request(
            "invalid_count",
            format!(
                "count must be a whole number in 1..={max}, got {:?}",
                text.chars().take(32).collect::<String>()
            ),
        )
    })
}

/// Whether the client asked for `text/plain` rather than JSON. An extractor rather than a
/// `HeaderMap` argument, which would copy every header of every request.
#[derive(Debug, Clone, Copy)]
pub struct AcceptsText(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for AcceptsText {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(AcceptsText(wants_text(&parts.headers)))
    }
}

/// Whether the client prefers `text/plain` to JSON: the first of the two named in `Accept`.
fn wants_text(headers: &HeaderMap) -> bool {
    let Some(accept) = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    for media in accept.split(',') {
        let media = media.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("text/plain") {
            return true;
        }
        if media.eq_ignore_ascii_case("application/json") {
            return false;
        }
    }
    false
}

fn json_response(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn text_response(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use snowdrift_wire::json::{IdBody, IdsBody};

    use super::*;

    fn encoded(id: u64, format: Encoding) -> String {
        match format {
            Encoding::Decimal => id.to_string(),
            other => other.encode(Id::from_u64(id)),
        }
    }

    proptest! {
        /// The hand-written bodies are the wire contract: they parse as the shared types, with
        /// every ID in the requested form, and the text form is the same IDs one per line.
        #[test]
        fn hand_written_bodies_parse_as_the_shared_types(
            ids in proptest::collection::vec(any::<u64>(), 0..64),
            format in proptest::sample::select(Encoding::ALL.to_vec()),
        ) {
            let expected: Vec<String> = ids.iter().map(|&id| encoded(id, format)).collect();
            let block = || ids.iter().map(|&id| Id::from_u64(id));

            let json = render_ids(block(), format, false);
            let parsed: IdsBody = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&parsed.ids, &expected);
            let text = render_ids(block(), format, true);
            prop_assert_eq!(text.lines().collect::<Vec<_>>(), expected.iter().map(String::as_str).collect::<Vec<_>>());

            for (id, want) in block().zip(&expected) {
                let parsed: IdBody = serde_json::from_str(&id_body(id, format, false)).unwrap();
                prop_assert_eq!(&parsed.id, want);
                prop_assert_eq!(id_body(id, format, true), format!("{want}\n"));
            }
        }
    }

    #[test]
    fn accept_prefers_the_first_known_type() {
        let mut headers = HeaderMap::new();
        assert!(!wants_text(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("text/plain"));
        assert!(wants_text(&headers));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/json, text/plain"),
        );
        assert!(!wants_text(&headers));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(!wants_text(&headers));
    }

    #[test]
    fn counts_must_be_numbers() {
        assert_eq!(parse_count(Some("12"), 100).unwrap(), 12);
        assert_eq!(
            parse_count(Some("x"), 100).unwrap_err().code,
            "invalid_count"
        );
        assert_eq!(parse_count(None, 100).unwrap_err().code, "invalid_count");
        assert_eq!(
            parse_count(Some("-1"), 100).unwrap_err().code,
            "invalid_count"
        );
    }
}
