//! Tests of the HTTP contract as a whole: the route table and the OpenAPI document list the
//! same routes and methods (checked against the router itself, not against a second list),
//! every reference in the document resolves, and the routes this document added answer in
//! the shapes it declares.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use metrics_exporter_prometheus::PrometheusBuilder;
use tower::ServiceExt;

use super::openapi::document;
use super::openapi_auth::Guard;
use super::table::ROUTES;
use super::{router, HttpState};
use crate::test_support::started_app;

/// The methods OpenAPI can describe on a path item (HEAD is answered wherever GET is, by axum,
/// and left out of the document, as usual).
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "patch", "trace"];

fn state(app: crate::app::App) -> HttpState {
    HttpState {
        app,
        metrics: PrometheusBuilder::new().build_recorder().handle(),
        auth: crate::auth::Auth::open(),
    }
}

async fn call(router: &axum::Router, method: &str, path: &str) -> (StatusCode, String, String) {
    let request = Request::builder()
        .method(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap())
        .uri(path)
        .body(Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

#[tokio::test]
async fn the_table_the_router_and_the_document_list_the_same_routes_and_methods() {
    let doc = serde_json::to_value(document(10_000, Guard::OPEN)).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert((method, path.clone()));
            }
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let (app, _) = started_app(&dir).await;
    let router = router(state(app));
    let mut routed = BTreeSet::new();
    for route in ROUTES {
        let path = route.path.replace("{id}", "175928847299117063");
        for method in METHODS {
            // The router answers 405 for a method a route lacks, whatever the handler does.
            let (status, _, _) = call(&router, method, &path).await;
            if status != StatusCode::METHOD_NOT_ALLOWED {
                routed.insert((method, route.path.to_string()));
            }
        }
    }
    assert_eq!(routed, documented);
    assert_eq!(documented.len(), ROUTES.len(), "one GET per route");
}

/// Every `$ref` in `value`, recursively.
fn refs<'a>(value: &'a serde_json::Value, out: &mut Vec<&'a str>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner.as_str()) {
                    ("$ref", Some(target)) => out.push(target),
                    _ => refs(inner, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
        _ => {}
    }
}

#[test]
fn every_reference_in_the_document_resolves() {
    let doc = serde_json::to_value(document(10_000, Guard::OPEN)).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 10, "the document references its schemas");
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("a reference outside the schemas: {target}"));
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{target} does not resolve"
        );
    }
}

#[tokio::test]
async fn the_new_routes_answer_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = started_app(&dir).await;
    let router = router(state(app));

    let (status, content_type, body) = call(&router, "get", "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let served: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        served,
        serde_json::to_value(document(10_000, Guard::OPEN)).unwrap()
    );

    // A node on the local backend has no cluster: 404 in the error shape, with its own code.
    let (status, content_type, body) = call(&router, "get", "/v1/cluster").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/json");
    let error: snowdrift_wire::json::ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(error.error.code, "no_cluster");

    let (status, content_type, body) = call(&router, "get", "/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(body.starts_with("<!doctype html>") && body.contains("decode-input"));
}
