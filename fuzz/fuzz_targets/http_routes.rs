//! HTTP requests: the fuzzer's bytes are a request target (path and query, e.g.
//! `/v1/ids?count=10&format=base62` or `/v1/decode/{id}`) and, after a newline, an `Accept`
//! header, sent in-process with `tower::ServiceExt::oneshot` through the whole router of
//! `serve` (extractors, layers, error shaping) to a real node on a local state directory.
//!
//! Asserted beyond "no panic" (`snowdrift_service::fuzzing::http`): no answer is a 5xx; every
//! 4xx has the JSON error shape with a code; every ID in a 2xx answer of `/v1/id` or `/v1/ids`
//! decodes under the node's layout.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use snowdrift_service::fuzzing::{http::Http, Harness};

static HTTP: OnceLock<Http> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let http = HTTP.get_or_init(|| {
        let harness = Harness::start(&common::state_dir("http_routes")).expect("start a node");
        Http::new(harness)
    });
    http.request(data);
});
