//! Where a node is and how to talk to it, from a URL.
//!
//! `grpc://host:port` speaks gRPC to a node's `--grpc` listener; `http://host:port` speaks
//! HTTP/JSON to its `--http` listener. Listing both for one node gives gRPC with an HTTP
//! fallback: the failover that moves between nodes also moves between protocols. With TLS
//! the schemes are `grpcs://` and `https://`.

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
/// assert!(!endpoint.tls());
/// let secure: Endpoint = "https://node-1:8443".parse()?;
/// assert_eq!((secure.protocol(), secure.tls()), (Protocol::Http, true));
/// assert!("ftp://example".parse::<Endpoint>().is_err());
/// # Ok::<(), snowdrift_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    protocol: Protocol,
    authority: String,
    tls: bool,
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

    /// Whether it speaks TLS (`grpcs://`, `https://`).
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The base URL for the underlying HTTP/2 or HTTP/1.1 client.
    pub(crate) fn http_base(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.authority)
    }
}

impl FromStr for Endpoint {
    type Err = Error;

    fn from_str(text: &str) -> Result<Endpoint, Error> {
        let text = text.trim();
        let schemes = [
            ("grpc://", Protocol::Grpc, false),
            ("grpcs://", Protocol::Grpc, true),
            ("http://", Protocol::Http, false),
            ("https://", Protocol::Http, true),
        ];
        let Some((protocol, tls, rest)) = schemes.iter().find_map(|&(scheme, protocol, tls)| {
            text.strip_prefix(scheme).map(|rest| (protocol, tls, rest))
        }) else {
            return Err(Error::Config(format!(
                "endpoint {text:?} must start with grpc://, grpcs://, http:// or https://"
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
            tls,
        })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match (self.protocol, self.tls) {
            (Protocol::Grpc, false) => "grpc",
            (Protocol::Grpc, true) => "grpcs",
            (Protocol::Http, false) => "http",
            (Protocol::Http, true) => "https",
        };
        write!(f, "{scheme}://{}", self.authority)
    }
}
