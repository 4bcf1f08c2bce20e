//! A layout whose time runs past the year 9999 (41/5/5/12 with one-second ticks) is served
//! whole: its IDs decode over HTTP and `/v1/info` answers, instead of the handler panicking on
//! a date RFC 3339 cannot hold and the connection dropping.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{get_json, ServerBuilder};
use snowdrift::{IdParts, Layout};

#[test]
fn ids_of_a_layout_that_ends_after_the_year_9999_decode_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("snowdrift.toml");
    std::fs::write(
        &config,
        "[layout]\ntimestamp_bits = 41\ndatacenter_bits = 5\nmachine_bits = 5\n\
         sequence_bits = 12\nepoch_ms = 1609459200000\nunit_ms = 1000\n",
    )
    .unwrap();
    // With one-second ticks a block may span only as many ticks as max_wait (1 s) lets it
    // wait for: 2 ticks of 4096. The default --max-batch follows (it was 10 000, and serve
    // refused to start on its own defaults).
    let server = ServerBuilder::new().arg("--config").arg(&config).start();

    let layout = Layout::builder().unit_ms(1000).build().unwrap();
    let last = layout
        .compose(IdParts {
            tick: layout.max_tick(),
            ..IdParts::default()
        })
        .unwrap();
    let (status, decoded) = get_json(&server.url(&format!("/v1/decode/{last}")));
    assert_eq!(status, 200, "{decoded}");
    assert_eq!(decoded["time"], "+71705-04-11T01:12:31.000Z");

    let (status, info) = get_json(&server.url("/v1/info"));
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["layout"]["ends"], "+71705-04-11T01:12:31.000Z");
    assert_eq!(info["max_batch"], 8192);

    // An ID the node issues decodes too, on the same server.
    let (status, issued) = get_json(&server.url("/v1/id"));
    assert_eq!(status, 200, "{issued}");
    let id = issued["id"].as_str().unwrap();
    let (status, decoded) = get_json(&server.url(&format!("/v1/decode/{id}")));
    assert_eq!(status, 200, "{decoded}");
}
