//! The gRPC listener of the real binary: every RPC, every bad-input status, and the health
//! service. (UNAVAILABLE needs a node that cannot issue, which the binary cannot be made into
//! on demand; `src/grpc/service_tests.rs` proves it in process.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod protocols;

use std::collections::HashSet;
use std::time::Duration;

use protocols::Node;
use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::{
    DecodeRequest, InfoRequest, NextIdRequest, NextIdsRequest, StreamIdsRequest,
};
use tonic::transport::Channel;
use tonic::Code;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

async fn connect(node: &Node) -> Channel {
    Channel::from_shared(format!("http://{}", node.grpc))
        .unwrap()
        .timeout(std::time::Duration::from_secs(10))
        .connect()
        .await
        .unwrap()
}

fn assert_invalid(status: tonic::Status, code: &str) {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        snowdrift_wire::status::error_code(&status).as_deref(),
        Some(code),
        "{status:?}"
    );
    assert_eq!(snowdrift_wire::status::retry_after(&status), None);
}

#[tokio::test]
async fn every_rpc_answers_and_bad_input_is_invalid_argument() {
    let node = Node::start(&[]);
    let channel = connect(&node).await;
    let mut ids = SnowdriftClient::new(channel.clone());

    let one = ids.next_id(NextIdRequest {}).await.unwrap().into_inner().id;
    let block = ids
        .next_ids(NextIdsRequest { count: 100 })
        .await
        .unwrap()
        .into_inner()
        .ids;
    assert_eq!(block.len(), 100);
    assert!(block[0] > one && block.windows(2).all(|w| w[0] < w[1]));
    let big = ids
        .next_ids(NextIdsRequest { count: 10_000 })
        .await
        .unwrap()
        .into_inner()
        .ids;
    assert_eq!(big.len(), 10_000);
    assert!(big[0] > block[99] && big.windows(2).all(|w| w[0] < w[1]));

    // A stream of 10,500 in batches of 1,000: ten full batches and a short last one.
    let request = StreamIdsRequest {
        batch: 1000,
        count: 10_500,
    };
    let mut stream = ids.stream_ids(request).await.unwrap().into_inner();
    let mut sizes = Vec::new();
    let mut seen = HashSet::new();
    let mut last = big[9_999];
    while let Some(batch) = stream.message().await.unwrap() {
        sizes.push(batch.ids.len());
        for id in batch.ids {
            assert!(id > last && seen.insert(id));
            last = id;
        }
    }
    assert_eq!(sizes, [vec![1000; 10], vec![500]].concat());

    // An endless stream ends when the client lets go; the node goes on serving.
    let endless = StreamIdsRequest {
        batch: 4096,
        count: 0,
    };
    let mut stream = ids.stream_ids(endless).await.unwrap().into_inner();
    for _ in 0..5 {
        assert_eq!(stream.message().await.unwrap().unwrap().ids.len(), 4096);
    }
    drop(stream);

    let decoded = ids
        .decode(DecodeRequest {
            id: "175928847299117063".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(decoded.id, 175_928_847_299_117_063);
    assert_eq!(decoded.time, "2022-05-01T11:18:25.796Z");
    assert_eq!(
        (decoded.datacenter, decoded.machine, decoded.sequence),
        (1, 0, 7)
    );
    let by_base32 = ids
        .decode(DecodeRequest {
            id: decoded.base32.clone(),
        })
        .await
        .unwrap();
    assert_eq!(by_base32.into_inner().id, decoded.id);

    let info = ids.info(InfoRequest {}).await.unwrap().into_inner();
    assert!(info.ready);
    assert_eq!(info.max_batch, 10_000);
    let layout = info.layout.unwrap();
    assert_eq!((layout.timestamp_bits, layout.sequence_bits), (41, 12));
    assert!(info.ceiling_tick.unwrap() >= info.clock_tick);
    let json: serde_json::Value = serde_json::from_str(&info.json).unwrap();
    assert_eq!(json["layout"]["name"], "snowdrift");

    // Bad input: INVALID_ARGUMENT with the service's error code, never a retry hint.
    assert_invalid(
        ids.next_ids(NextIdsRequest { count: 0 }).await.unwrap_err(),
        "batch_out_of_range",
    );
    assert_invalid(
        ids.next_ids(NextIdsRequest { count: 10_001 })
            .await
            .unwrap_err(),
        "batch_out_of_range",
    );
    // A batch of 0 is an unset field, which means the default (see the test below).
    let request = StreamIdsRequest {
        batch: 10_001,
        count: 1,
    };
    assert_invalid(
        ids.stream_ids(request).await.unwrap_err(),
        "batch_out_of_range",
    );
    for (text, code) in [
        ("nope!", "invalid_id"),
        ("", "invalid_id"),
        ("18446744073709551615", "id_out_of_range"),
    ] {
        let status = ids
            .decode(DecodeRequest { id: text.into() })
            .await
            .unwrap_err();
        assert_invalid(status, code);
    }
    // A request over the size limit is refused by the decoder, not read.
    let huge = DecodeRequest {
        id: "9".repeat(64 * 1024),
    };
    let status = ids.decode(huge).await.unwrap_err();
    assert_eq!(status.code(), Code::OutOfRange, "{status:?}");

    // The node still serves after all of that.
    assert!(ids.next_id(NextIdRequest {}).await.unwrap().into_inner().id > last);

    // Health: SERVING for the server and for the ID service, as /readyz says.
    let mut health = HealthClient::new(channel);
    for service in ["", snowdrift_wire::SERVICE_NAME] {
        let request = HealthCheckRequest {
            service: service.into(),
        };
        let status = health.check(request).await.unwrap().into_inner().status;
        assert_eq!(
            status,
            tonic_health::ServingStatus::Serving as i32,
            "{service:?}"
        );
    }
    let readyz = format!("http://{}/readyz", node.server.addr);
    let (ready, _, _) = tokio::task::spawn_blocking(move || common::get(&readyz))
        .await
        .unwrap();
    assert_eq!(ready, 200);
    let unknown = HealthCheckRequest {
        service: "nope".into(),
    };
    assert_eq!(
        health.check(unknown).await.unwrap_err().code(),
        Code::NotFound
    );
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn every_listener_sets_tcp_nodelay_on_the_sockets_it_accepts() {
    // Without TCP_NODELAY on the node's side, the tail of an answer larger than a few segments
    // waits for the client's delayed ACK (40 ms on Linux). Read the option on the node's own
    // accepted sockets, after a real call on each protocol, rather than timing answers.
    use protocols::sockets::{accepted_sockets, nodelay};

    let node = Node::start(&[]);
    let mut ids = SnowdriftClient::new(connect(&node).await);
    let got = ids.next_ids(NextIdsRequest { count: 4096 }).await.unwrap();
    assert_eq!(got.into_inner().ids.len(), 4096);
    let mut resp = protocols::Resp::connect(node.resp);
    assert!(resp.call(&["NEXTID"]).int() > 0);
    let http = tokio::net::TcpStream::connect(node.server.addr)
        .await
        .unwrap();
    let pid = node.server.pid();
    for (protocol, port) in [
        ("gRPC", node.grpc.port()),
        ("RESP", node.resp.port()),
        ("HTTP", node.server.addr.port()),
    ] {
        // The node may still be accepting the HTTP connection: a few looks, 50 ms apart.
        let mut sockets = accepted_sockets(pid, port);
        for _ in 0..100 {
            if !sockets.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            sockets = accepted_sockets(pid, port);
        }
        assert!(
            !sockets.is_empty(),
            "no accepted {protocol} socket found on port {port}"
        );
        for socket in &sockets {
            assert!(
                nodelay(socket),
                "an accepted {protocol} socket lacks TCP_NODELAY"
            );
        }
    }
    drop(http);
}

#[tokio::test]
async fn a_stream_that_sets_only_its_count_gets_the_default_batch() {
    // proto3 cannot tell an unset field from zero, so zero must mean "the default".
    let node = Node::start(&[]);
    let mut ids = SnowdriftClient::new(connect(&node).await);
    let request = StreamIdsRequest {
        count: 10_000,
        ..StreamIdsRequest::default()
    };
    let mut stream = ids.stream_ids(request).await.unwrap().into_inner();
    let mut sizes = Vec::new();
    let mut last = 0;
    while let Some(batch) = stream.message().await.unwrap() {
        sizes.push(batch.ids.len());
        for id in batch.ids {
            assert!(id > last);
            last = id;
        }
    }
    // One tick's sequence per message in the default layout, and a short last one.
    assert_eq!(sizes, [4096, 4096, 1808]);
}
