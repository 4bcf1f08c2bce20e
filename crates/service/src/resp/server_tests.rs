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
use crate::auth::Auth;
use crate::listeners::{self, Connections, Limits, Plain};
use crate::shutdown;
use crate::test_support::{started_app as app, started_app_with};

/// The listener's task, which ends once it has drained.
type Serving = tokio::task::JoinHandle<std::io::Result<()>>;

/// Serves `app` with `settings` on the substrate, as `serve` does; returns the address, the
/// shutdown trigger and the listener's task.
async fn serve(app: App, settings: Settings) -> (std::net::SocketAddr, shutdown::Trigger, Serving) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (trigger, watcher) = shutdown::channel();
    let incoming = listeners::accept(
        listener,
        Plain,
        Limits::default(),
        Connections::new(),
        watcher.clone(),
    );
    let serving = tokio::spawn(serve_with(incoming, app, Auth::open(), watcher, settings));
    (addr, trigger, serving)
}

/// Serves `app` with `settings`; returns the address and the shutdown trigger.
async fn listen(app: App, settings: Settings) -> (std::net::SocketAddr, shutdown::Trigger) {
    let (addr, trigger, _) = serve(app, settings).await;
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

/// `n` reply lines (bounded in time).
async fn read_lines(stream: &mut TcpStream, n: usize) -> Vec<String> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    while all.iter().filter(|&&b| b == b'\n').count() < n {
        let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("the reply came in time")
            .unwrap();
        assert!(read > 0, "closed after {:?}", String::from_utf8_lossy(&all));
        all.extend_from_slice(&buf[..read]);
    }
    let text = String::from_utf8(all).unwrap();
    text.split_terminator("\r\n").map(str::to_string).collect()
}

/// On a runtime with one thread, requests that wait for their ticks (a block held until its
/// last tick, and a single ID pending behind it) leave the thread free: a `PING` on another
/// connection is answered long before the clock reaches the block's last tick. (When the
/// single-ID path slept on the worker, the `PING` waited for the whole block.)
#[tokio::test(flavor = "current_thread")]
async fn requests_waiting_for_their_ticks_do_not_stall_a_one_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    // Four IDs a tick: a block of 1000 spans 250 ticks, held until the last one arrives.
    let layout = snowdrift::Layout::builder()
        .sequence_bits(2)
        .build()
        .unwrap();
    let (app, generator) = started_app_with(&dir, layout, 1000).await;
    let (addr, _trigger) = listen(app, Settings::default()).await;
    let mut block = TcpStream::connect(addr).await.unwrap();
    let mut single = TcpStream::connect(addr).await.unwrap();
    let mut ping = TcpStream::connect(addr).await.unwrap();

    let before = generator.next_tick();
    block.write_all(b"NEXTIDS 1000\r\n").await.unwrap();
    // The server has reserved the block once the state jumps ahead of the clock.
    tokio::time::timeout(Duration::from_secs(10), async {
        while generator.next_tick() < before + 200 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("the block was reserved");
    let single_sent_at = generator.clock_tick();
    single.write_all(b"NEXTID\r\n").await.unwrap();
    // Let the server read the NEXTID, which must wait for the block's ticks, before PING.
    tokio::time::sleep(Duration::from_millis(10)).await;
    ping.write_all(b"PING\r\n").await.unwrap();
    assert_eq!(read_lines(&mut ping, 1).await, ["+PONG"]);
    let pong_at = generator.clock_tick();

    let lines = read_lines(&mut block, 1001).await;
    assert_eq!(lines[0], "*1000");
    let last: u64 = lines[1000].strip_prefix(':').unwrap().parse().unwrap();
    let last_tick = snowdrift::Id::from_u64(last).parts(&layout).unwrap().tick;
    let reply = read_lines(&mut single, 1).await;
    let id: u64 = reply[0].strip_prefix(':').unwrap().parse().unwrap();

    // The single ID was asked for while the block held the ticks up to its last, so it
    // waited for them; PING did not.
    assert!(single_sent_at < last_tick, "{single_sent_at} {last_tick}");
    assert!(id > last, "{id} {last}");
    assert!(
        pong_at < last_tick,
        "PONG came at tick {pong_at}, after the block's last tick {last_tick}: the thread was \
         blocked"
    );
}

#[tokio::test]
async fn idle_and_slow_clients_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(&dir).await;
    let settings = Settings {
        timeouts: Timeouts {
            idle: Duration::from_millis(300),
            request: Duration::from_millis(500),
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
    let (addr, trigger, server) = serve(app, Settings::default()).await;
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

#[tokio::test]
async fn shutdown_ends_a_pipelining_client_with_a_clean_eof() {
    // The client pipelines bursts of 8,000 commands and reads each burst's replies; shutdown
    // comes while a burst is arriving. It must read every reply the server wrote and then a
    // clean end of stream: closing a socket with unread input makes the kernel send a reset
    // instead, and a reset discards replies still in the server's send buffer.
    const BURST: usize = 8_000;
    let dir = tempfile::tempdir().unwrap();
    let (app, _) = app(&dir).await;
    let (addr, trigger) = listen(app, Settings::default()).await;
    let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();
    let (answered, mut next_burst) = tokio::sync::mpsc::unbounded_channel::<()>();
    let writing = tokio::spawn(async move {
        let burst = b"NEXTID\r\n".repeat(BURST);
        loop {
            if writer.write_all(&burst).await.is_err() || next_burst.recv().await.is_none() {
                // Keep our side open until the reader is done, as a pipelining client does.
                return writer;
            }
        }
    });

    let mut received = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut replies = 0;
    let ended = loop {
        let read = tokio::time::timeout(Duration::from_secs(10), reader.read(&mut buf))
            .await
            .expect("the server ended the connection in time");
        match read {
            Ok(0) => break Ok(()),
            Ok(n) => {
                let before = replies / BURST;
                replies += buf[..n].iter().filter(|&&b| b == b'\n').count();
                received.extend_from_slice(&buf[..n]);
                if replies / BURST > before {
                    let _ = answered.send(());
                    if replies / BURST == 3 {
                        // The fourth burst is on its way now.
                        trigger.trigger();
                    }
                }
            }
            Err(err) => break Err(err),
        }
    };
    drop(answered);
    drop(writing.await.unwrap());
    assert!(
        ended.is_ok(),
        "the connection ended with {ended:?} after {replies} replies instead of a clean EOF"
    );
    assert!(replies >= 3 * BURST, "{replies}");
    let text = String::from_utf8(received).unwrap();
    assert!(
        text.ends_with("\r\n"),
        "a reply was cut: {:?}",
        &text[text.len().saturating_sub(40)..]
    );
    for line in text.split_terminator("\r\n") {
        assert!(
            line.strip_prefix(':')
                .is_some_and(|n| n.parse::<u64>().is_ok()),
            "not a NEXTID reply: {line:?}"
        );
    }
}
