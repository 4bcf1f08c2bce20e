//! How a failed request travels as a gRPC status, in both directions.
//!
//! The service builds its statuses here and clients read them here, so the two cannot drift.
//! The convention follows Google's richer error model, which any gRPC client can decode:
//! - the gRPC code separates the caller's mistake (`INVALID_ARGUMENT`) from the node's
//!   temporary inability (`UNAVAILABLE`);
//! - a `google.rpc.ErrorInfo` detail carries the stable error code (`reason`, such as
//!   `batch_out_of_range` or `ceiling_reached`) in the domain [`ERROR_DOMAIN`];
//! - for `UNAVAILABLE`, a `google.rpc.RetryInfo` detail says how long to wait.

use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `domain` of every `google.rpc.ErrorInfo` a Snowdrift node sends.
pub const ERROR_DOMAIN: &str = "snowdrift";

/// A bad request: retrying it unchanged fails the same way.
///
/// ```
/// let status = snowdrift_wire::status::invalid_argument("batch_out_of_range", "ask for 1..=10000 ids");
/// assert_eq!(status.code(), tonic::Code::InvalidArgument);
/// assert_eq!(snowdrift_wire::status::retry_after(&status), None);
/// ```
pub fn invalid_argument(code: &str, message: impl Into<String>) -> Status {
    with_details(Code::InvalidArgument, code, message.into(), None)
}

/// The node cannot issue now; retry after `retry_after`, here or on another node.
///
/// ```
/// use std::time::Duration;
/// let status = snowdrift_wire::status::unavailable("fenced", "slot lost", Duration::from_secs(1));
/// assert_eq!(snowdrift_wire::status::retry_after(&status), Some(Duration::from_secs(1)));
/// ```
pub fn unavailable(code: &str, message: impl Into<String>, retry_after: Duration) -> Status {
    with_details(Code::Unavailable, code, message.into(), Some(retry_after))
}

/// The wait a status asks for, from its `google.rpc.RetryInfo`, if it carries one.
pub fn retry_after(status: &Status) -> Option<Duration> {
    status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay)
}

/// The stable error code of a status from a Snowdrift node (its `google.rpc.ErrorInfo`
/// reason), if it carries one.
pub fn error_code(status: &Status) -> Option<String> {
    status
        .get_details_error_info()
        .filter(|info| info.domain == ERROR_DOMAIN)
        .map(|info| info.reason)
}

fn with_details(code: Code, reason: &str, message: String, retry: Option<Duration>) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new());
    if let Some(wait) = retry {
        details.set_retry_info(Some(wait));
    }
    Status::with_error_details(code, message, details)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_survive_a_round_trip_through_the_wire_form() {
        let sent = unavailable("clock_behind", "clock is 2s behind", Duration::from_secs(2));
        // A client rebuilds the status from the code, the message and the details bytes of
        // the `grpc-status-details-bin` trailer; do the same.
        let received = Status::with_details(
            sent.code(),
            sent.message().to_string(),
            sent.details().to_vec().into(),
        );
        assert_eq!(received.code(), Code::Unavailable);
        assert_eq!(received.message(), "clock is 2s behind");
        assert_eq!(retry_after(&received), Some(Duration::from_secs(2)));
        assert_eq!(error_code(&received).as_deref(), Some("clock_behind"));
    }

    #[test]
    fn a_status_from_elsewhere_has_no_code_or_hint() {
        let plain = Status::unavailable("connection refused");
        assert_eq!(retry_after(&plain), None);
        assert_eq!(error_code(&plain), None);
    }
}
