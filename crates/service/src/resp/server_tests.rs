//! In-process tests of the listener for what the real binary cannot be made to show on demand:
//! a node that cannot issue (answered `-TRYAGAIN`), short idle and request timeouts, and
//! shutdown closing idle connections. The rest is proved against the real binary in
//! `tests/resp.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::connection::Timeouts;
use super::server::{serve_with, Settings};
use crate::app::App;
use crate::shutdown;
use crate::test_support::started_app as app;

/// Serves `app` with `settings`; returns the address and the shutdown trigger.
async fn listen(app: App, settings: Settings) -> (std::net::SocketAddr, shutdown::Trigger) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (trigger, watcher) = shutdown::channel();
    tokio::spawn(serve_with(listener, app, watcher, settings));
    (addr, trigger)
}

/// Everything the server sends until it closes (bounded).
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut all))
        .await
        .expect("server closed the connection in time")
        .unwrap();
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test]
async fn a_node_that_cannot_issue_answers_tryagain_and_keeps_the_connection() {
    let dir = tempfile::tempdir().unwrap();
    let (app, generator) = app(&dir).await;
    let (addr, _trigger) = listen(app, Settings::default()).await;
    generator.fence();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"NEXTID\r\nNEXTIDS 5\r\nDECODE 0\r\nQUIT\r\n")
        .await
        .unwrap();
    let text = read_to_close(&mut stream).await;
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[0].starts_with("-TRYAGAIN fenced: "), "{text}");
    assert!(lines[0].ends_with("(retry after 1000 ms)"), "{text}");
    assert!(lines[1].starts_with("-TRYAGAIN fenced: "), "{text}");
    // Decoding needs no generator; the connection went on after the errors.
    assert_eq!(lines[2], "*20", "{text}");
    assert!(text.ends_with("+OK\r\n"), "{text}");
}

#[tokio::test]
async fn idle_and_slow_clients_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(&dir).await;
    let settings = Settings {
        timeouts: Timeouts {
            idle: Duration::from_millis(300),
            request: Duration::from_millis(500),
            write: Duration::from_secs(1),
        },
        ..Settings::default()
    };
    let (addr, _trigger) = listen(app, settings).await;

    // Idle: closed quietly once nothing arrives.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"PING\r\n").await.unwrap();
    assert_eq!(read_to_close(&mut idle).await, "+PONG\r\n");

    // Slow: a byte every 100 ms never completes a frame in time, though it is never idle.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    let trickle = async {
        for byte in b"*1\r\n$6\r\nNEXTID\r\n".iter().cycle().take(100) {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(5), trickle)
        .await
        .ok();
    let text = read_to_close(&mut slow).await;
    assert!(
        text.starts_with("-ERR Protocol error: request not completed within"),
        "{text}"
    );
}

#[tokio::test]
async fn shutdown_closes_idle_connections_and_ends_the_listener() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(&dir).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (trigger, watcher) = shutdown::channel();
    let server = tokio::spawn(serve_with(listener, app, watcher, Settings::default()));
    let mut client = TcpStream::connect(addr).await.unwrap();
    client.write_all(b"PING\r\n").await.unwrap();
    let mut pong = [0u8; 7];
    client.read_exact(&mut pong).await.unwrap();
    trigger.trigger();
    assert_eq!(read_to_close(&mut client).await, "");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("listener ended")
        .unwrap()
        .unwrap();
}
