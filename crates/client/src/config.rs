//! The client's settings, with defaults for about 100,000 IDs per second.
//!
//! | setting | default | meaning |
//! |---|---|---|
//! | `buffer_capacity` | 20,000 | IDs kept ahead: 200 ms at 100k IDs/s |
//! | `low_water` | 10,000 | refilling starts below this: 100 ms of IDs left to cover a refill |
//! | `batch` | 4,096 | IDs per request (one tick of the default layout) |
//! | `request_timeout` | 1 s | one request, before it counts as failed |
//! | `connect_timeout` | 500 ms | one connection attempt |
//! | `retry_budget` | 2 s | how long one fetch keeps retrying and failing over |
//! | `backoff` | 20 ms → 500 ms | pause after every endpoint failed once, doubling |
//! | `down_for` | 500 ms | how long a failed endpoint is skipped (longer if it says so) |
//! | `wait_timeout` | 3 s | longest `next_id` waits when the buffer is empty |
//! | `check_order` | true | refuse a batch that goes backwards from the same endpoint |
//! | `tls_ca_pem` | none | CA bundle (PEM) that `grpcs://` and `https://` endpoints are checked against |
//! | `tls_identity` | none | client certificate and key (PEM), for nodes with mutual TLS |
//! | `token` | none | sent as `authorization: Bearer` with every request |

use std::time::Duration;

use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::security::{TlsIdentity, Token};

/// How a [`crate::Client`] behaves.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The nodes, in order of preference.
    pub endpoints: Vec<Endpoint>,
    /// Most IDs kept in the buffer (0 turns prefetching off: every call goes to the network).
    pub buffer_capacity: usize,
    /// Refilling starts when fewer IDs than this are left.
    pub low_water: usize,
    /// IDs asked for per request; at most the nodes' `max_batch`.
    pub batch: u32,
    /// Longest one request may take.
    pub request_timeout: Duration,
    /// Longest one connection attempt may take.
    pub connect_timeout: Duration,
    /// Longest one fetch keeps retrying across endpoints before [`Error::Unavailable`].
    pub retry_budget: Duration,
    /// First pause after a round in which every endpoint failed; doubles up to `max_backoff`.
    pub backoff: Duration,
    /// Longest pause between rounds.
    pub max_backoff: Duration,
    /// How long an endpoint that failed is skipped, unless it asked for longer.
    pub down_for: Duration,
    /// Longest `next_id` waits for IDs when the buffer is empty.
    pub wait_timeout: Duration,
    /// Whether to refuse (and report) a batch whose IDs go backwards from the same endpoint.
    pub check_order: bool,
    /// The CA bundle (PEM) TLS endpoints (`grpcs://`, `https://`) are checked against; needed
    /// by any TLS endpoint (the client trusts no built-in roots).
    pub tls_ca_pem: Option<Vec<u8>>,
    /// The certificate and key presented to nodes that require mutual TLS.
    pub tls_identity: Option<TlsIdentity>,
    /// The token sent with every request, for nodes started with `--auth-token-file`.
    pub token: Option<Token>,
}

impl ClientConfig {
    /// Defaults for the given endpoints (`grpc://…`, `http://…`, or with TLS `grpcs://…`,
    /// `https://…`).
    ///
    /// ```
    /// let config = snowdrift_client::ClientConfig::new(["grpc://127.0.0.1:9090", "http://127.0.0.1:8080"])?;
    /// assert_eq!(config.endpoints.len(), 2);
    /// assert_eq!(config.buffer_capacity, 20_000);
    /// # Ok::<(), snowdrift_client::Error>(())
    /// ```
    pub fn new<I, S>(endpoints: I) -> Result<ClientConfig, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let endpoints = endpoints
            .into_iter()
            .map(|text| text.as_ref().parse())
            .collect::<Result<Vec<Endpoint>, Error>>()?;
        Ok(ClientConfig {
            endpoints,
            buffer_capacity: 20_000,
            low_water: 10_000,
            batch: 4096,
            request_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_millis(500),
            retry_budget: Duration::from_secs(2),
            backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(500),
            down_for: Duration::from_millis(500),
            wait_timeout: Duration::from_secs(3),
            check_order: true,
            tls_ca_pem: None,
            tls_identity: None,
            token: None,
        })
    }

    /// Checks that the settings can work together.
    pub fn validate(&self) -> Result<(), Error> {
        if self.endpoints.is_empty() {
            return Err(Error::Config("at least one endpoint is needed".to_string()));
        }
        if self.batch == 0 {
            return Err(Error::Config("batch must be at least 1".to_string()));
        }
        if self.buffer_capacity > 0 && self.low_water > self.buffer_capacity {
            return Err(Error::Config(format!(
                "low_water ({}) must not exceed buffer_capacity ({})",
                self.low_water, self.buffer_capacity
            )));
        }
        if self.request_timeout.is_zero() || self.retry_budget.is_zero() {
            return Err(Error::Config(
                "request_timeout and retry_budget must be longer than zero".to_string(),
            ));
        }
        if self.tls_ca_pem.is_none() {
            if let Some(endpoint) = self.endpoints.iter().find(|e| e.tls()) {
                return Err(Error::Config(format!(
                    "endpoint {endpoint} speaks TLS: give the CA that signed the node's \
                     certificate (tls_ca_pem)"
                )));
            }
        }
        Ok(())
    }
}
