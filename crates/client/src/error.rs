//! The client's one error type, with the two cases callers must tell apart: no endpoint can
//! issue IDs now (retry later), or the request itself is wrong (fix it).

use std::time::Duration;

/// What can go wrong when asking for IDs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No endpoint could issue IDs within the retry budget: every one was unreachable, timed
    /// out, or answered that it cannot issue now. Retrying later may succeed.
    #[error("no endpoint can issue IDs now ({attempts} attempts): {failures}")]
    Unavailable {
        /// Requests tried before giving up.
        attempts: u32,
        /// Why: the latest failure of every endpoint that failed, in the configured order
        /// (`grpc://a:9090: …; http://b:8080: …`), so no endpoint's reason is lost.
        failures: String,
        /// The wait the last node suggested, if it suggested one.
        retry_after: Option<Duration>,
    },
    /// A node refused the request as wrong (such as a count over its limit). Retrying the same
    /// request will fail the same way.
    #[error("bad request ({code}): {message}")]
    BadRequest {
        /// The node's stable error code, such as `batch_out_of_range`.
        code: String,
        /// The node's explanation.
        message: String,
    },
    /// The client's own configuration is unusable.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl Error {
    /// Whether retrying later can help.
    ///
    /// ```
    /// use snowdrift_client::Error;
    /// let busy = Error::Unavailable { attempts: 3, failures: "refused".into(), retry_after: None };
    /// assert!(busy.is_retryable());
    /// assert!(!Error::Config("no endpoints".into()).is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Unavailable { .. })
    }
}
