//! One request for IDs to one endpoint, over gRPC or HTTP, with its failure classified.
//!
//! Both transports answer the same question — `count` IDs, or why not — and sort every failure
//! into the three kinds the failover logic acts on: the request is wrong (stop), the node said
//! it cannot issue now (skip it for a while), or the node could not be reached or answered
//! nonsense (skip it too, it may be down).

mod grpc;
mod http;

use std::time::Duration;

use crate::config::ClientConfig;
use crate::endpoint::{Endpoint, Protocol};

/// Why one request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The node refused the request as wrong.
    BadRequest {
        /// Its stable code.
        code: String,
        /// Its message.
        message: String,
    },
    /// The node answered that it cannot issue now.
    Unavailable {
        /// What it said.
        message: String,
        /// The wait it suggested.
        retry_after: Option<Duration>,
    },
    /// No usable answer: connection refused or reset, timeout, a malformed reply.
    Transport(String),
}

/// A connection (or connection pool) to one endpoint.
#[derive(Debug, Clone)]
pub enum Transport {
    /// gRPC.
    Grpc(grpc::GrpcTransport),
    /// HTTP/JSON.
    Http(http::HttpTransport),
}

impl Transport {
    /// A transport for `endpoint`. Connections are made lazily, on the first request.
    pub fn new(endpoint: &Endpoint, config: &ClientConfig) -> Result<Transport, crate::Error> {
        Ok(match endpoint.protocol() {
            Protocol::Grpc => Transport::Grpc(grpc::GrpcTransport::new(endpoint, config)?),
            Protocol::Http => Transport::Http(http::HttpTransport::new(endpoint, config)?),
        })
    }

    /// Asks for `count` IDs, bounded by the request timeout.
    pub async fn fetch(&self, count: u32, timeout: Duration) -> Result<Vec<u64>, Failure> {
        let request = async {
            match self {
                Transport::Grpc(grpc) => grpc.fetch(count).await,
                Transport::Http(http) => http.fetch(count).await,
            }
        };
        match tokio::time::timeout(timeout, request).await {
            Ok(result) => result,
            Err(_) => Err(Failure::Transport(format!("no answer within {timeout:?}"))),
        }
    }
}
