//! Helpers for the gRPC, Redis-protocol and client tests: a server with all three listeners,
//! their addresses from its `listening` line, and a small blocking RESP client that reads
//! replies exactly as they are on the wire.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::common::{Server, ServerBuilder};

#[cfg(target_os = "linux")]
pub mod sockets;

/// A server with `--grpc` and `--resp` on ephemeral ports, and their addresses.
pub struct Node {
    pub server: Server,
    pub grpc: SocketAddr,
    pub resp: SocketAddr,
}

impl Node {
    /// A node on a fresh state directory, with `extra` flags.
    pub fn start(extra: &[&str]) -> Node {
        let server = ServerBuilder::new()
            .args(["--grpc", "127.0.0.1:0", "--resp", "127.0.0.1:0"])
            .args(extra)
            .start();
        let line = server
            .stdout()
            .lines()
            .find(|line| line.starts_with("listening "))
            .expect("listening line")
            .to_string();
        let find = |name: &str| -> SocketAddr {
            line.split_whitespace()
                .find_map(|part| part.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
                .parse()
                .unwrap()
        };
        Node {
            grpc: find("grpc"),
            resp: find("resp"),
            server,
        }
    }

    pub fn grpc_url(&self) -> String {
        format!("grpc://{}", self.grpc)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

/// A RESP reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Null,
}

impl Reply {
    pub fn int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("expected an integer, got {other:?}"),
        }
    }

    pub fn text(&self) -> String {
        match self {
            Reply::Simple(s) | Reply::Error(s) => s.clone(),
            Reply::Bulk(Some(b)) => String::from_utf8_lossy(b).into_owned(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    pub fn array(&self) -> &[Reply] {
        match self {
            Reply::Array(items) => items,
            other => panic!("expected an array, got {other:?}"),
        }
    }
}

/// A blocking RESP connection; every read is bounded.
pub struct Resp {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Resp {
    pub fn connect(addr: SocketAddr) -> Resp {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(15)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        let reader = BufReader::new(stream.try_clone().unwrap());
        Resp { stream, reader }
    }

    /// Sends raw bytes.
    pub fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// Sends a command as an array of bulk strings.
    pub fn send_command(&mut self, args: &[&str]) {
        self.send(&encode(args));
    }

    /// Sends a command and reads its reply.
    pub fn call(&mut self, args: &[&str]) -> Reply {
        self.send_command(args);
        self.read()
    }

    /// Reads one reply.
    pub fn read(&mut self) -> Reply {
        read_reply(&mut self.reader)
    }

    /// Reads until the server closes the connection; returns what came (bounded by the read
    /// timeout).
    pub fn read_to_close(&mut self) -> String {
        let mut rest = Vec::new();
        self.reader
            .read_to_end(&mut rest)
            .expect("the server closed the connection");
        String::from_utf8_lossy(&rest).into_owned()
    }
}

pub fn encode(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
    }
    out
}

fn line(reader: &mut impl BufRead) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(
        line.ends_with("\r\n"),
        "reply line {line:?} is not CRLF-terminated"
    );
    line.truncate(line.len() - 2);
    line
}

fn read_reply(reader: &mut impl BufRead) -> Reply {
    let line = line(reader);
    let (kind, rest) = line.split_at(1);
    match kind {
        "+" => Reply::Simple(rest.to_string()),
        "-" => Reply::Error(rest.to_string()),
        ":" => Reply::Int(rest.parse().unwrap()),
        "_" => Reply::Null,
        "$" => {
            let len: i64 = rest.parse().unwrap();
            if len < 0 {
                return Reply::Bulk(None);
            }
            let mut data = vec![0u8; len as usize + 2];
            reader.read_exact(&mut data).unwrap();
            data.truncate(len as usize);
            Reply::Bulk(Some(data))
        }
        "*" => {
            let len: usize = rest.parse().unwrap();
            Reply::Array((0..len).map(|_| read_reply(reader)).collect())
        }
        "%" => {
            let len: usize = rest.parse().unwrap();
            Reply::Map(
                (0..len)
                    .map(|_| (read_reply(reader), read_reply(reader)))
                    .collect(),
            )
        }
        other => panic!("unknown reply kind {other:?} in {line:?}"),
    }
}

/// `[k1, v1, k2, v2…]` → the value of `key`.
pub fn field<'a>(flat: &'a [Reply], key: &str) -> &'a Reply {
    flat.chunks(2)
        .find(|pair| pair[0].text() == key)
        .map(|pair| &pair[1])
        .unwrap_or_else(|| panic!("no field {key} in {flat:?}"))
}
