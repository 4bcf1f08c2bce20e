//! The Redis-protocol (RESP) listener, enabled by `--resp ADDR`.
//!
//! Any language's Redis client can ask Snowdrift for IDs: `NEXTID` answers an integer,
//! `NEXTIDS n` an array of `n`, `DECODE id` an ID's parts; `PING`, `ECHO`, `INFO`, `HELLO`,
//! `CLIENT`, `SELECT 0`, `CONFIG GET` and `QUIT` are answered so common clients and tools
//! connect. Pipelining works: replies come in order, and a burst is answered in one write.
//!
//! A request that breaks the protocol — a malformed frame, a frame over the size limit, a
//! bulk or array length over its limit — is answered `-ERR Protocol error: …` and the
//! connection is closed, as Redis does. So is a request whose bytes trickle in for longer than
//! the request timeout (slowloris). Unknown commands and bad arguments get `-ERR` and the
//! connection goes on. When no ID can be issued now the reply is `-TRYAGAIN …` with the wait
//! the node suggests.
//!
//! Layers, after tokio-rs/mini-redis: [`frame`] reads a request's bytes, [`parse`] its
//! arguments, [`cmd`] holds one file per command, [`reply`] writes answers, [`connection`]
//! buffers a socket under timeouts, [`server`] accepts and drains.
//!
//! ```text
//! $ snowdrift serve --resp 127.0.0.1:6380 &
//! $ redis-cli -p 6380 NEXTID
//! (integer) 175928847299117063
//! ```

pub mod cmd;
pub mod connection;
pub mod errors;
pub mod frame;
pub mod parse;
pub mod reply;
pub mod server;

#[cfg(test)]
mod server_tests;

pub use server::{serve, serve_with, Settings};
