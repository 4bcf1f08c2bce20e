//! The substrate's promises, each proved on real loopback sockets: the socket options every
//! protocol gets, the connection cap, the write timeout, closing from outside at the drain
//! deadline, and the end of accepting at shutdown.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::{accept, Conn, Connections, Incoming, Limits, Plain};
use crate::shutdown::{self, Trigger};

/// Every test is bounded: a wait that should end at once gets this long.
const BOUND: Duration = Duration::from_secs(10);

async fn listen(limits: Limits) -> (std::net::SocketAddr, Incoming<Conn>, Connections, Trigger) {
    let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let (trigger, watcher) = shutdown::channel();
    let connections = Connections::new();
    let incoming = accept(socket, Plain, limits, connections.clone(), watcher);
    (addr, incoming, connections, trigger)
}

async fn next(incoming: &mut Incoming<Conn>) -> Conn {
    tokio::time::timeout(BOUND, incoming.next())
        .await
        .expect("a connection in time")
        .expect("the listener is still accepting")
}

#[tokio::test]
async fn every_accepted_socket_has_nodelay_and_is_counted_until_it_drops() {
    let (addr, mut incoming, connections, _trigger) = listen(Limits::default()).await;
    let _a = TcpStream::connect(addr).await.unwrap();
    let _b = TcpStream::connect(addr).await.unwrap();
    let first = next(&mut incoming).await;
    let second = next(&mut incoming).await;
    for conn in [&first, &second] {
        assert!(conn.tcp().nodelay().unwrap(), "{conn:?} lacks TCP_NODELAY");
    }
    assert!(first.peer_addr().is_some());
    assert_eq!(connections.open(), 2);
    drop(first);
    assert_eq!(connections.open(), 1);
    drop(second);
    tokio::time::timeout(BOUND, connections.closed())
        .await
        .expect("closed() ends with the last connection");
}

#[tokio::test]
async fn the_connection_cap_holds_further_clients_until_one_ends() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let (addr, mut incoming, _connections, _trigger) = listen(limits).await;
    let clients: Vec<TcpStream> = connect_many(addr, 3).await;
    let first = next(&mut incoming).await;
    let _second = next(&mut incoming).await;
    // The third client waits in the kernel's backlog: not accepted while two are open.
    let third = tokio::time::timeout(Duration::from_millis(300), incoming.next()).await;
    assert!(
        third.is_err(),
        "a third connection was accepted over a cap of 2"
    );
    drop(first);
    let _third = next(&mut incoming).await;
    drop(clients);
}

async fn connect_many(addr: std::net::SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(TcpStream::connect(addr).await.unwrap());
    }
    clients
}

/// Writes to `conn` until a write fails; returns the error.
async fn write_until_it_fails(mut conn: Conn) -> std::io::Error {
    let chunk = vec![b'x'; 64 * 1024];
    loop {
        if let Err(err) = conn.write_all(&chunk).await {
            return err;
        }
    }
}

#[tokio::test]
async fn a_client_that_stops_reading_is_cut_off_by_the_write_timeout() {
    let limits = Limits {
        write_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let (addr, mut incoming, connections, _trigger) = listen(limits).await;
    let _client = TcpStream::connect(addr).await.unwrap();
    let conn = next(&mut incoming).await;
    let err = tokio::time::timeout(BOUND, write_until_it_fails(conn))
        .await
        .expect("the write timeout fired");
    assert_eq!(err.kind(), std::io::ErrorKind::TimedOut, "{err}");
    assert_eq!(connections.open(), 0);
}

#[tokio::test]
async fn close_all_ends_connections_parked_on_a_client_that_does_nothing() {
    // A writer stuck on a client that does not read, and a reader waiting for a client that
    // sends nothing: neither would end by itself (the write timeout is far away).
    let (addr, mut incoming, connections, _trigger) = listen(Limits::default()).await;
    let _stalled = TcpStream::connect(addr).await.unwrap();
    let _silent = TcpStream::connect(addr).await.unwrap();
    let writer = tokio::spawn(write_until_it_fails(next(&mut incoming).await));
    let mut reading = next(&mut incoming).await;
    let reader = tokio::spawn(async move {
        let mut buf = [0u8; 16];
        reading.read(&mut buf).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!writer.is_finished() && !reader.is_finished());
    assert_eq!(connections.open(), 2);

    assert_eq!(connections.close_all(), 2);
    let err = tokio::time::timeout(BOUND, writer).await.unwrap().unwrap();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "{err}");
    let read = tokio::time::timeout(BOUND, reader).await.unwrap().unwrap();
    assert_eq!(read.unwrap(), 0, "the reader sees the end of the stream");
    tokio::time::timeout(BOUND, connections.closed())
        .await
        .expect("every connection ended");
    assert_eq!(connections.close_all(), 0);
}

#[tokio::test]
async fn shutdown_ends_the_incoming_stream_and_closes_the_port() {
    let (addr, mut incoming, _connections, trigger) = listen(Limits::default()).await;
    let _client = TcpStream::connect(addr).await.unwrap();
    let open = next(&mut incoming).await;
    trigger.trigger();
    let end = tokio::time::timeout(BOUND, incoming.next())
        .await
        .expect("the stream ends in time");
    assert!(end.is_none());
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "the port still accepts"
    );
    // Connections already open are not cut by the end of accepting.
    assert!(open.tcp().peer_addr().is_ok());
}
