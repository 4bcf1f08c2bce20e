//! Where a node is and how to talk to it, from a URL.
//!
//! `grpc://host:port` speaks gRPC to a node's `--grpc` listener; `http://host:port` speaks
//! HTTP/JSON to its `--http` listener. Listing both for one node gives gRPC with an HTTP
//! fallback: the failover that moves between nodes also moves between protocols.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The protocol of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC (`grpc://`).
    Grpc,
    /// HTTP/JSON (`http://`).
    Http,
}

/// A node's address and protocol.
///
/// ```
/// use snowdrift_client::{Endpoint, Protocol};
/// let endpoint: Endpoint = "grpc://127.0.0.1:9090".parse()?;
/// assert_eq!(endpoint.protocol(), Protocol::Grpc);
/// assert_eq!(endpoint.authority(), "127.0.0.1:9090");
/// assert!("ftp://example".parse::<Endpoint>().is_err());
/// # Ok::<(), snowdrift_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    protocol: Protocol,
    authority: String,
}

impl Endpoint {
    /// The protocol spoken.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The base URL for the underlying HTTP/2 or HTTP/1.1 client.
    pub(crate) fn http_base(&self) -> String {
        format!("http://{}", self.authority)
    }
}

impl FromStr for Endpoint {
    type Err = Error;

    fn from_str(text: &str) -> Result<Endpoint, Error> {
        let text = text.trim();
        let (protocol, rest) = if let Some(rest) = text.strip_prefix("grpc://") {
            (Protocol::Grpc, rest)
        } else if let Some(rest) = text.strip_prefix("http://") {
            (Protocol::Http, rest)
        } else {
            return Err(Error::Config(format!(
                "endpoint {text:?} must start with grpc:// or http://"
            )));
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains('/') {
            return Err(Error::Config(format!(
                "endpoint {text:?} must be scheme://host:port, with no path"
            )));
        }
        Ok(Endpoint {
            protocol,
            authority: authority.to_string(),
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.protocol {
            Protocol::Grpc => "grpc",
            Protocol::Http => "http",
        };
        write!(f, "{scheme}://{}", self.authority)
    }
}
