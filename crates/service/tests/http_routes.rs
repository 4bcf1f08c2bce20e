//! Every HTTP route of the real binary, with every bad-input case's status and error code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;

use common::{client, get, get_as, get_json, Server, ServerBuilder};
use snowdrift_wire::json::{DecodedId, ErrorBody, IdBody, IdsBody, InfoResponse, StatusBody};

fn assert_error(server: &Server, path: &str, status: u16, code: &str) -> serde_json::Value {
    let (got, headers, body) = get(&server.url(path));
    assert_eq!(got, status, "{path}: {body}");
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "{path}: {headers:?}"
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["error"]["code"], code, "{path}: {body}");
    let shared: ErrorBody = serde_json::from_str(&body).unwrap();
    assert_eq!(shared.error.code, code, "{path}: {body}");
    assert!(
        json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{path}: {body}"
    );
    json
}

#[test]
fn single_ids_are_json_strings_text_or_encoded() {
    let server = Server::start();
    let (status, json) = get_json(&server.url("/v1/id"));
    assert_eq!(status, 200);
    let first: u64 = json["id"]
        .as_str()
        .expect("id is a string")
        .parse()
        .unwrap();

    let (status, headers, body) = {
        let response = client()
            .get(server.url("/v1/id"))
            .header("accept", "text/plain")
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().unwrap())
    };
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    let second: u64 = body.trim().parse().unwrap();
    assert!(second > first);
    let (status, typed) = get_as::<IdBody>(&server.url("/v1/id"));
    assert_eq!(status, 200);
    let third: u64 = typed.id.parse().unwrap();
    assert!(third > second);

    for (format, len) in [("base32", 13), ("base62", 11), ("hex", 16), ("decimal", 0)] {
        let (status, json) = get_json(&server.url(&format!("/v1/id?format={format}")));
        assert_eq!(status, 200, "{format}");
        let id = json["id"].as_str().unwrap();
        if len > 0 {
            assert_eq!(id.len(), len, "{format}: {id}");
        }
        // Every form decodes back through the service.
        let (status, decoded) = get_json(&server.url(&format!("/v1/decode/{id}")));
        assert_eq!(status, 200, "{format}: {decoded}");
        assert!(decoded["id"].as_str().unwrap().parse::<u64>().unwrap() > second);
    }
}

#[test]
fn batches_are_one_increasing_block_within_the_limit() {
    let server = ServerBuilder::new().args(["--max-batch", "5000"]).start();
    let (status, json) = get_json(&server.url("/v1/ids?count=5000"));
    assert_eq!(status, 200);
    let ids: Vec<u64> = json["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().expect("ids are strings").parse().unwrap())
        .collect();
    assert_eq!(ids.len(), 5000);
    assert!(ids.windows(2).all(|w| w[0] < w[1]));
    let (status, typed) = get_as::<IdsBody>(&server.url("/v1/ids?count=7"));
    assert_eq!((status, typed.ids.len()), (200, 7));
    assert!(typed.ids[0].parse::<u64>().unwrap() > ids[4999]);

    let response = client()
        .get(server.url("/v1/ids?count=3&format=hex"))
        .header("accept", "text/plain")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.text().unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|l| l.len() == 16), "{body}");

    assert_error(&server, "/v1/ids?count=5001", 400, "batch_out_of_range");
}

#[test]
fn bad_input_is_400_with_a_code_and_unknown_routes_are_404() {
    let server = Server::start();
    for (path, code) in [
        ("/v1/ids?count=0", "batch_out_of_range"),
        ("/v1/ids?count=10001", "batch_out_of_range"),
        ("/v1/ids?count=abc", "invalid_count"),
        ("/v1/ids?count=-5", "invalid_count"),
        ("/v1/ids?count=99999999999999999999999", "invalid_count"),
        ("/v1/ids", "invalid_count"),
        ("/v1/ids?count=1&count=2", "invalid_query"),
        ("/v1/id?format=roman", "invalid_format"),
        ("/v1/ids?count=2&format=roman", "invalid_format"),
        ("/v1/decode/not-an-id", "invalid_id"),
        ("/v1/decode/18446744073709551616", "invalid_id"),
        ("/v1/decode/%FF%FE", "invalid_id"),
        ("/v1/decode/18446744073709551615", "id_out_of_range"),
        ("/v1/decode/0xffffffffffffffff", "id_out_of_range"),
    ] {
        assert_error(&server, path, 400, code);
    }
    let missing = assert_error(&server, "/nope", 404, "not_found");
    // The message lists the routes from the one route table.
    let message = missing["error"]["message"].as_str().unwrap();
    for route in snowdrift_service::http::table::ROUTES {
        assert!(
            message.contains(route.usage),
            "{message} lacks {}",
            route.usage
        );
    }
    assert_error(&server, "/v1/id/extra", 404, "not_found");

    let response = client().post(server.url("/v1/id")).send().unwrap();
    assert_eq!(response.status().as_u16(), 405);
    let json: serde_json::Value = response.json().unwrap();
    assert_eq!(json["error"]["code"], "method_not_allowed");

    let response = client()
        .get(server.url("/v1/id"))
        .body(vec![b'x'; 64 * 1024])
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let json: serde_json::Value = response.json().unwrap();
    assert_eq!(json["error"]["code"], "payload_too_large");

    // The service is still fine after all of that.
    assert_eq!(get(&server.url("/v1/id")).0, 200);
}

#[test]
fn decode_gives_parts_and_time() {
    let server = Server::start();
    let (_, json) = get_json(&server.url("/v1/id"));
    let id = json["id"].as_str().unwrap().to_string();
    let (status, decoded) = get_json(&server.url(&format!("/v1/decode/{id}")));
    assert_eq!(status, 200);
    assert_eq!(decoded["id"], id.as_str());
    assert_eq!(decoded["datacenter"], 0);
    assert_eq!(decoded["machine"], 0);
    let time = decoded["time"].as_str().unwrap();
    assert!(time.ends_with('Z') && time.contains('T'), "{time}");
    let unix_ms = decoded["unix_ms"].as_u64().unwrap();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now_ms.abs_diff(unix_ms) < 60_000, "{unix_ms} vs {now_ms}");
    let (status, typed) = get_as::<DecodedId>(&server.url(&format!("/v1/decode/{id}")));
    assert_eq!(
        (status, typed.id.as_str(), typed.unix_ms),
        (200, id.as_str(), unix_ms)
    );
}

#[test]
fn info_health_readiness_and_metrics() {
    let server = ServerBuilder::new()
        .args(["--datacenter-id", "3", "--machine-id", "7"])
        .start();
    let (status, info) = get_json(&server.url("/v1/info"));
    assert_eq!(status, 200);
    assert_eq!(info["datacenter"], 3);
    assert_eq!(info["machine"], 7);
    assert_eq!(info["ready"], true);
    assert_eq!(info["layout"]["name"], "snowdrift");
    assert_eq!(info["layout"]["epoch_ms"], 1_609_459_200_000u64);
    assert_eq!(info["layout"]["ends"], "2090-09-07T15:47:35.551Z");
    assert!(info["version"].is_string());
    assert!(info["uptime_seconds"].is_u64());
    assert!(info["clock"]["wall_offset_ms"].is_i64());
    let coordination = &info["coordination"];
    assert_eq!(coordination["backend"], "local");
    let floor = coordination["floor_tick"].as_u64().unwrap();
    let ceiling = coordination["ceiling_tick"].as_u64().unwrap();
    let high_water = coordination["high_water_tick"].as_u64().unwrap();
    assert!(floor <= ceiling && ceiling <= high_water, "{coordination}");
    let (_, typed) = get_as::<InfoResponse<serde_json::Value>>(&server.url("/v1/info"));
    assert_eq!((typed.datacenter, typed.machine), (3, 7));
    assert_eq!(typed.layout.ends, "2090-09-07T15:47:35.551Z");

    let (status, json) = get_json(&server.url("/healthz"));
    assert_eq!((status, json["status"].as_str()), (200, Some("ok")));
    let (status, json) = get_json(&server.url("/readyz"));
    assert_eq!((status, json["status"].as_str()), (200, Some("ready")));
    for (path, want) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let (status, typed) = get_as::<StatusBody>(&server.url(path));
        assert_eq!((status, typed.status.as_str()), (200, want), "{path}");
    }

    // Issue some IDs, make a bad request, then scrape.
    let mut seen = HashSet::new();
    for _ in 0..5 {
        let (_, json) = get_json(&server.url("/v1/id"));
        assert!(seen.insert(json["id"].as_str().unwrap().to_string()));
    }
    get(&server.url("/v1/ids?count=100"));
    get(&server.url("/v1/ids?count=x"));
    let (status, headers, text) = get(&server.url("/metrics"));
    assert_eq!(status, 200);
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for needle in [
        "snowdrift_ids_issued_total 105",
        "snowdrift_http_requests_total{route=\"/v1/id\",status=\"200\"} 5",
        "snowdrift_http_requests_total{route=\"/v1/ids\",status=\"400\"} 1",
        "snowdrift_http_request_duration_seconds_bucket{route=\"/v1/id\"",
        "snowdrift_sequence_exhaustion_waits_total",
        "snowdrift_clock_backward_steps_total 0",
        "snowdrift_clock_lead_seconds",
        "snowdrift_ceiling_headroom_seconds",
        "snowdrift_hwm_persist_seconds",
        "snowdrift_ready 1",
    ] {
        assert!(text.contains(needle), "metrics lack {needle:?}:\n{text}");
    }
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        assert!(line.starts_with("snowdrift_"), "unprefixed metric: {line}");
    }
}

#[test]
fn concurrent_requests_never_share_an_id() {
    let server = Server::start();
    let url = server.url("/v1/ids?count=500");
    let single = server.url("/v1/id");
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (url, single) = (url.clone(), single.clone());
            std::thread::spawn(move || {
                let client = client();
                let mut ids = Vec::new();
                for _ in 0..20 {
                    let json: serde_json::Value = client.get(&url).send().unwrap().json().unwrap();
                    ids.extend(
                        json["ids"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|v| v.as_str().unwrap().to_string()),
                    );
                    let json: serde_json::Value =
                        client.get(&single).send().unwrap().json().unwrap();
                    ids.push(json["id"].as_str().unwrap().to_string());
                }
                ids
            })
        })
        .collect();
    let mut all = HashSet::new();
    let mut total = 0;
    for handle in handles {
        for id in handle.join().unwrap() {
            total += 1;
            assert!(all.insert(id.clone()), "duplicate id {id}");
        }
    }
    assert_eq!(total, 8 * 20 * 501);
}
