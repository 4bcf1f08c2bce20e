//! Graceful stop against clients that do not cooperate, as real processes against a real etcd.
//!
//! A client that pipelines big HTTP requests without reading the answers, and a gRPC stream
//! reader that stops reading, must not hold SIGTERM hostage: the node drains for at most its
//! drain deadline, then closes what is left, releases its slot (with etcd: revokes its lease)
//! and exits 0, so a replacement can take the same fixed machine at once. Before the listener
//! substrate, such a node held SIGTERM for 15 s and exited 1 with its lease left to expire.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use common::{Server, ServerBuilder};
use snowdrift_coordination::testing::EtcdServer;
use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::StreamIdsRequest;

/// The service's drain deadline.
fn drain_deadline() -> Duration {
    snowdrift_service::listeners::Limits::default().drain
}

/// A node of `cluster` on machine 0 with a lease far longer than the test: if the node left
/// without revoking it, a replacement would be refused for the rest of the test.
fn node(etcd: &EtcdServer, cluster: &str) -> ServerBuilder {
    ServerBuilder::new().args([
        "--coordinator",
        "etcd",
        "--etcd-endpoints",
        &etcd.endpoint(),
        "--cluster",
        cluster,
        "--machine-id",
        "0",
        "--lease-ttl",
        "60s",
        "--grpc",
        "127.0.0.1:0",
    ])
}

/// The gRPC address on the server's `listening` line.
fn grpc_addr(server: &Server) -> SocketAddr {
    let stdout = server.stdout();
    let line = stdout
        .lines()
        .find(|line| line.starts_with("listening "))
        .expect("listening line");
    line.split_whitespace()
        .find_map(|part| part.strip_prefix("grpc="))
        .expect("grpc= on the listening line")
        .parse()
        .unwrap()
}

/// Opens an HTTP connection and pipelines 200 requests of 10,000 IDs (about 46 MB of
/// answers) without ever reading; the socket is returned so that it stays open.
fn stalled_http_client(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    let request = b"GET /v1/ids?count=10000 HTTP/1.1\r\nHost: test\r\n\r\n";
    let burst: Vec<u8> = request
        .iter()
        .copied()
        .cycle()
        .take(request.len() * 200)
        .collect();
    stream
        .set_write_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream.write_all(&burst).unwrap();
    stream
}

#[test]
fn sigterm_with_stalled_clients_exits_0_within_the_drain_deadline_and_frees_the_slot() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let etcd = runtime.block_on(EtcdServer::start()).unwrap();
    let mut server = node(&etcd, "stalled").start();
    let grpc = grpc_addr(&server);

    let _http = stalled_http_client(server.addr);
    // A gRPC stream whose reader takes one batch and then stops reading: the node fills the
    // HTTP/2 window and its producer waits on the reader.
    let _stream = runtime.block_on(async {
        let channel = tonic::transport::Channel::from_shared(format!("http://{grpc}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = SnowdriftClient::new(channel);
        let request = StreamIdsRequest {
            batch: 10_000,
            count: 0,
        };
        let mut stream = client.stream_ids(request).await.unwrap().into_inner();
        assert_eq!(stream.message().await.unwrap().unwrap().ids.len(), 10_000);
        (client, stream)
    });
    // Let the node fill both clients' buffers and windows.
    std::thread::sleep(Duration::from_millis(500));

    let drain = drain_deadline();
    let asked = Instant::now();
    server.signal("TERM");
    let status = server.wait(drain + Duration::from_secs(20));
    let took = asked.elapsed();
    let stderr = server.stderr();
    assert_eq!(status.code(), Some(0), "exit after {took:?}:\n{stderr}");
    assert!(
        took < drain + Duration::from_secs(3),
        "SIGTERM took {took:?} with a drain deadline of {drain:?}:\n{stderr}"
    );
    assert!(stderr.contains("slot released"), "{stderr}");
    // The stalled connections were still open at the deadline and were closed then.
    assert!(stderr.contains("at the drain deadline"), "{stderr}");

    // The lease was revoked: a replacement takes machine 0 at once, well inside the 60 s TTL.
    let replacement = node(&etcd, "stalled").try_start();
    match replacement {
        Ok(replacement) => {
            assert_eq!(common::get(&replacement.url("/v1/id")).0, 200);
        }
        Err(refused) => panic!(
            "the replacement was refused ({:?}):\n{}",
            refused.status.code(),
            refused.stderr
        ),
    }
}
