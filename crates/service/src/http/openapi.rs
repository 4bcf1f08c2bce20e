//! The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`.
//!
//! The schemas are derived (utoipa) from the very types the service serializes: the JSON
//! bodies of `snowdrift_wire::json` and the coordination status types, so a field added there
//! shows up here without anyone remembering to. The operations are declared below, one per
//! entry of [`super::table::ROUTES`], on functions that exist only to carry the description:
//! the handlers themselves stay as they are, and a test checks that the table and the document
//! list the same paths and methods, so neither can gain a route the other lacks.
//!
//! Limits that are settings rather than constants (the most IDs one request may ask for) are
//! written into the document when it is served, so it describes the node that serves it; so is
//! which routes want a token ([`super::openapi_auth`]).

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use snowdrift_coordination::etcd::ClusterStatus;
use snowdrift_coordination::NodeStatus;
use snowdrift_wire::json::InfoResponse;
use utoipa::openapi::path::ParameterIn;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::OpenApi;

use super::openapi_auth::{self, Guard};
use super::HttpState;

/// The document, with the operations of [`paths`] and every schema they reference.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Snowdrift",
        description = "Distributed, time-ordered, 64-bit unique IDs. IDs are JSON strings \
            (JavaScript numbers are exact only up to 2^53). Every error is \
            `{\"error\":{\"code\":\"…\",\"message\":\"…\"}}`: 400 for bad input, 404 for an \
            unknown route, 405 for a method other than GET, 503 with `Retry-After` when no ID \
            can be issued now. With `--auth-token-file`, every route but the probes \
            wants `Authorization: Bearer <token>` (the `bearer` scheme) and answers 401 \
            without one; each operation's `security` says whether this node asks for it."
    ),
    paths(
        paths::next_id,
        paths::next_ids,
        paths::decode,
        paths::info,
        paths::cluster,
        paths::healthz,
        paths::readyz,
        paths::metrics,
        paths::openapi_json,
        paths::dashboard,
    ),
    components(schemas(InfoResponse<NodeStatus>, ClusterStatus, paths::Format)),
    tags(
        (name = "ids", description = "Issuing and decoding IDs"),
        (name = "node", description = "This node and its cluster"),
        (name = "operations", description = "Probes, metrics and documents"),
    )
)]
struct ApiDoc;

/// The document for a node whose requests may ask for at most `max_batch` IDs, and whose
/// routes want a token as `guard` says.
pub fn document(max_batch: u64, guard: Guard) -> Document {
    let mut doc = ApiDoc::openapi();
    set_count_maximum(&mut doc, max_batch);
    openapi_auth::apply(&mut doc, guard);
    doc
}

/// Writes the node's `max_batch` as the maximum of `/v1/ids`'s `count`.
fn set_count_maximum(doc: &mut Document, max_batch: u64) {
    let Some(get) = doc
        .paths
        .paths
        .get_mut("/v1/ids")
        .and_then(|item| item.get.as_mut())
    else {
        return;
    };
    for parameter in get.parameters.iter_mut().flatten() {
        if parameter.name != "count" || parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() {
            object.maximum = Some(max_batch.into());
        }
    }
}

/// `GET /openapi.json`: the document as JSON.
pub async fn openapi_json(State(state): State<HttpState>) -> Response {
    let guard = Guard {
        tokens: state.auth.enabled(),
        probes: state.auth.guards_probes(),
    };
    match document(state.app.max_batch(), guard).to_json() {
        Ok(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
        Err(err) => super::errors::HttpError(crate::error::ServiceError::unavailable(
            "internal",
            format!("cannot write the OpenAPI document: {err}"),
            std::time::Duration::from_secs(1),
        ))
        .into_response(),
    }
}

/// The operations. Each function only carries its route's description for utoipa; the
/// handlers are in [`super::routes`], [`super::cluster`], [`super::dashboard`] and above.
mod paths {
    #![allow(dead_code)]

    use snowdrift_coordination::etcd::ClusterStatus;
    use snowdrift_coordination::NodeStatus;
    use snowdrift_wire::json::{DecodedId, ErrorBody, IdBody, IdsBody, InfoResponse, StatusBody};
    use utoipa::ToSchema;

    /// The text forms an ID can be asked in (`?format=`).
    #[derive(ToSchema)]
    #[schema(rename_all = "lowercase")]
    pub enum Format {
        /// Decimal digits (the default).
        Decimal,
        /// Fixed-width Crockford base32, 13 characters, sorts like the number.
        Base32,
        /// Fixed-width base62, 11 characters, sorts like the number.
        Base62,
        /// 16 lowercase hex digits.
        Hex,
    }

    /// One ID.
    #[utoipa::path(
        get,
        path = "/v1/id",
        tag = "ids",
        params(("format" = Option<Format>, Query, description = "The ID's text form")),
        responses(
            (status = 200, description = "One ID; `Accept: text/plain` gets the bare ID and a newline",
                content((IdBody = "application/json"), (String = "text/plain"))),
            (status = 400, description = "A bad query (`invalid_query`, `invalid_format`)", body = ErrorBody),
            (status = 503, description = "No ID can be issued now", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds before trying again"))),
        )
    )]
    fn next_id() {}

    /// `count` consecutive IDs, strictly increasing, from one block reservation.
    #[utoipa::path(
        get,
        path = "/v1/ids",
        tag = "ids",
        params(
            ("count" = u64, Query, minimum = 1, description = "How many IDs, at most the node's `max_batch`"),
            ("format" = Option<Format>, Query, description = "The IDs' text form"),
        ),
        responses(
            (status = 200, description = "The IDs; `Accept: text/plain` gets one per line",
                content((IdsBody = "application/json"), (String = "text/plain"))),
            (status = 400, description = "A bad query (`invalid_count`, `batch_out_of_range`, `invalid_format`)",
                body = ErrorBody),
            (status = 503, description = "No ID can be issued now", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds before trying again"))),
        )
    )]
    fn next_ids() {}

    /// An ID taken apart under the node's layout.
    #[utoipa::path(
        get,
        path = "/v1/decode/{id}",
        tag = "ids",
        params(("id" = String, Path, description = "An ID in decimal, fixed-width base32 (13 characters) \
            or base62 (11), or hex (16 digits, or 1 to 16 after `0x`); surrounding whitespace is ignored. \
            Whether it is an ID of this node's layout depends on its value: 400 `invalid_id` when not")),
        responses(
            (status = 200, description = "The ID's parts and time", body = DecodedId),
            (status = 400, description = "Not an ID, or not one of this layout (`invalid_id`)", body = ErrorBody),
            (status = 404, description = "No ID in the path (`/v1/decode/`)", body = ErrorBody),
        )
    )]
    fn decode() {}

    /// The node: version, layout, slot, readiness, window and clock.
    #[utoipa::path(
        get,
        path = "/v1/info",
        tag = "node",
        responses((status = 200, description = "The node's state", body = InfoResponse<NodeStatus>))
    )]
    fn info() {}

    /// The cluster's slot map (etcd only): holder, lease and mark of every slot.
    #[utoipa::path(
        get,
        path = "/v1/cluster",
        tag = "node",
        responses(
            (status = 200, description = "Every slot that is held or has a mark", body = ClusterStatus),
            (status = 404, description = "This node has no cluster: it uses the local backend (`no_cluster`)",
                body = ErrorBody),
            (status = 503, description = "etcd could not be read (`cluster_unavailable`)", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds before trying again"))),
        )
    )]
    fn cluster() {}

    /// Liveness: the process answers.
    #[utoipa::path(
        get,
        path = "/healthz",
        tag = "operations",
        responses((status = 200, description = "`{\"status\":\"ok\"}`", body = StatusBody))
    )]
    fn healthz() {}

    /// Readiness: 200 only while this node may issue IDs.
    #[utoipa::path(
        get,
        path = "/readyz",
        tag = "operations",
        responses(
            (status = 200, description = "`{\"status\":\"ready\"}`", body = StatusBody),
            (status = 503, description = "Not ready, and why (`not_ready`)", body = ErrorBody,
                headers(("Retry-After" = u64, description = "Seconds before trying again"))),
        )
    )]
    fn readyz() {}

    /// Prometheus metrics, names prefixed `snowdrift_`.
    #[utoipa::path(
        get,
        path = "/metrics",
        tag = "operations",
        responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String))
    )]
    fn metrics() {}

    /// This document.
    #[utoipa::path(
        get,
        path = "/openapi.json",
        tag = "operations",
        responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json",
            body = Object))
    )]
    fn openapi_json() {}

    /// The dashboard: this node, the cluster's slot map and a decoder, in one page.
    #[utoipa::path(
        get,
        path = "/",
        tag = "operations",
        responses((status = 200, description = "An HTML page (scripts and styles embedded)", content_type = "text/html",
            body = String))
    )]
    fn dashboard() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_the_node_limit() {
        let doc = serde_json::to_value(document(123, Guard::OPEN)).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
        let count = doc["paths"]["/v1/ids"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "count")
            .unwrap();
        assert_eq!(count["required"], true);
        assert_eq!(count["schema"]["maximum"], 123);
        assert_eq!(count["schema"]["minimum"], 1);
    }
}
