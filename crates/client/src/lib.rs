//! # snowdrift-client
//!
//! An async (tokio) client for Snowdrift ID services. It depends on nothing of Snowdrift but
//! the wire contracts (`snowdrift-wire`).
//!
//! - **Transports**: gRPC (`grpc://host:port`) and HTTP/JSON (`http://host:port`). List both
//!   for a node to get gRPC with an HTTP fallback.
//! - **TLS and tokens**: `grpcs://` and `https://` endpoints are checked against the CA in
//!   [`ClientConfig::tls_ca_pem`] (with [`ClientConfig::tls_identity`] for mutual TLS), and a
//!   [`ClientConfig::token`] goes with every request as `authorization: Bearer`.
//! - **Failover**: a list of endpoints; a failed request moves to the next healthy one, and a
//!   round where all failed is retried after a jittered, doubling backoff, within a budget.
//! - **Typed errors**: [`Error::Unavailable`] (no endpoint can issue IDs now: retry later)
//!   versus [`Error::BadRequest`] (the request is wrong: fix it).
//! - **Prefetching**: up to `buffer_capacity` IDs are kept locally and refilled in the
//!   background below `low_water`, so [`Client::next_id`] is a local pop that never waits on
//!   the network while the buffer holds IDs. The defaults suit about 100k IDs/s.
//! - **Ordering check**: a batch whose IDs go backwards from the same endpoint is refused,
//!   counted in [`Stats::order_violations`] and logged as an error.
//!
//! ```
//! use std::time::Duration;
//! use snowdrift_client::{Client, ClientConfig, Error};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! // Two endpoints for one node: gRPC first, HTTP as the fallback. Nothing listens on these
//! // ports here, so the client reports that no endpoint can issue IDs, after its budget.
//! let mut config = ClientConfig::new(["grpc://127.0.0.1:1", "http://127.0.0.1:1"])?;
//! config.retry_budget = Duration::from_millis(200);
//! config.wait_timeout = Duration::from_millis(500);
//! let client = Client::new(config)?;
//!
//! match client.next_id().await {
//!     Ok(id) => println!("{id}"),
//!     Err(err @ Error::Unavailable { .. }) => assert!(err.is_retryable()),
//!     Err(other) => return Err(other),
//! }
//! assert!(client.stats().failures > 0);
//! # Ok(())
//! # }
//! ```

mod buffer;
mod client;
mod config;
mod endpoint;
mod error;
pub mod order;
mod pool;
mod refill;
mod security;
mod stats;
mod transport;

pub use client::Client;
pub use config::ClientConfig;
pub use endpoint::{Endpoint, Protocol};
pub use error::Error;
pub use security::{TlsIdentity, Token};
pub use stats::Stats;
