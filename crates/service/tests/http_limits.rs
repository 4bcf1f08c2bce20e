//! Slow clients cannot hold an HTTP connection: a client that trickles its request headers is
//! disconnected after the header-read timeout, while other clients keep being served.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{get_json, Server};

#[test]
fn a_client_that_trickles_its_headers_is_disconnected() {
    let server = Server::start();
    let mut slow = TcpStream::connect(server.addr).unwrap();
    slow.write_all(b"GET /v1/id HTTP/1.1\r\nHost: test\r\n")
        .unwrap();
    let started = Instant::now();
    let mut closed = false;
    // One header byte a second, never finishing; the server's limit is 5 s.
    while started.elapsed() < Duration::from_secs(20) {
        if slow.write_all(b"X").is_err() {
            closed = true;
            break;
        }
        slow.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
        let mut buf = [0u8; 512];
        match slow.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            // hyper may answer 408 before closing; either way the connection ends.
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
        // Meanwhile the server keeps serving everyone else.
        let (status, body) = get_json(&server.url("/v1/id"));
        assert_eq!(status, 200, "{body}");
    }
    assert!(
        closed,
        "a slow client held its connection for {:?}",
        started.elapsed()
    );
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "closed before the client was slow: {:?}",
        started.elapsed()
    );
}
