//! Errors that a request can meet, independent of the protocol that carried it.
//!
//! Every protocol answers a failed request the same way: a stable `code`, a human `message`, and
//! a [`ErrorClass`] that tells the caller whether to fix the request or retry later. HTTP maps
//! the class to 400/404/503 (see `http::errors`); gRPC and the Redis protocol map it to their
//! own statuses. Keeping the decision here means the protocols cannot disagree on it.

use std::time::Duration;

use snowdrift_wire::json::{ErrorBody, ErrorDetail};

/// Whether a failed request is the caller's to fix, or the service's to recover from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The request is wrong (bad count, unknown format, an ID that does not parse or does not
    /// fit the layout). Retrying the same request will fail the same way.
    BadRequest,
    /// The thing asked for does not exist (an unknown route).
    NotFound,
    /// The service cannot issue IDs now (clock behind, window not yet extended, fenced, not
    /// ready). The caller should retry after `retry_after`, here or on another node.
    Unavailable,
}

/// A failed request: what went wrong, for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServiceError {
    /// Bad request, not found, or unavailable.
    pub class: ErrorClass,
    /// A short stable code, such as `invalid_count` or `ceiling_reached`.
    pub code: &'static str,
    /// What happened and what to do, in words.
    pub message: String,
    /// How long to wait before retrying (only for [`ErrorClass::Unavailable`]).
    pub retry_after: Option<Duration>,
}

impl ServiceError {
    /// A bad request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ServiceError {
        ServiceError {
            class: ErrorClass::BadRequest,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// A batch size outside `1..=max`, the service's per-request limit (`--max-batch`). The code
    /// and words are those the core uses for its own limit, so a client sees one error either way.
    pub fn batch_out_of_range(requested: u64, max: u64) -> ServiceError {
        ServiceError::bad_request(
            "batch_out_of_range",
            format!("batch size {requested} is out of range: ask for 1..={max} ids"),
        )
    }

    /// Nothing there.
    pub fn not_found(message: impl Into<String>) -> ServiceError {
        ServiceError {
            class: ErrorClass::NotFound,
            code: "not_found",
            message: message.into(),
            retry_after: None,
        }
    }

    /// The service cannot serve now; retry after `retry_after`.
    pub fn unavailable(
        code: &'static str,
        message: impl Into<String>,
        retry_after: Duration,
    ) -> ServiceError {
        ServiceError {
            class: ErrorClass::Unavailable,
            code,
            message: message.into(),
            retry_after: Some(retry_after),
        }
    }

    /// The error as the JSON contract's body, `{"error":{"code":…,"message":…}}`.
    pub fn to_body(&self) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code.to_string(),
                message: self.message.clone(),
            },
        }
    }

    /// `Retry-After` in whole seconds, at least 1 (HTTP cannot say less).
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
            .map(|wait| wait.as_secs() + u64::from(wait.subsec_nanos() > 0))
            .map(|secs| secs.max(1))
    }
}

impl From<snowdrift::Error> for ServiceError {
    /// "Retry later" exactly when the core says a retry can succeed (`is_retryable`), and for
    /// the layout's end; everything else the core reports is about the input.
    fn from(err: snowdrift::Error) -> ServiceError {
        use snowdrift::Error;
        let retry_after = match &err {
            Error::ClockBehind { behind, .. } => Some((*behind).max(Duration::from_secs(1))),
            // No retry helps, but it is the ID space that ended, not the request that is bad.
            Error::LayoutExhausted { .. } => Some(Duration::from_secs(3600)),
            // The window keeper extends the ceiling, and a fenced generator is replaced once
            // the slot is claimed again, well within a second.
            _ if err.is_retryable() => Some(Duration::from_secs(1)),
            _ => None,
        };
        match retry_after {
            Some(wait) => ServiceError::unavailable(err.code(), err.to_string(), wait),
            None => ServiceError::bad_request(err.code(), err.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuing_failures_are_unavailable_and_input_failures_are_bad_requests() {
        let behind = snowdrift::Error::ClockBehind {
            behind: Duration::from_millis(2500),
            max_wait: Duration::from_secs(1),
        };
        let err = ServiceError::from(behind);
        assert_eq!(err.class, ErrorClass::Unavailable);
        assert_eq!(err.code, "clock_behind");
        assert_eq!(err.retry_after_secs(), Some(3));

        for core in [
            snowdrift::Error::CeilingReached { ceiling: 1 },
            snowdrift::Error::Fenced,
            snowdrift::Error::LayoutExhausted {
                max_tick: 1,
                end_unix_ms: 1,
            },
        ] {
            assert_eq!(ServiceError::from(core).class, ErrorClass::Unavailable);
        }

        // The service's own limit answers like the core's.
        let core = ServiceError::from(snowdrift::Error::BatchOutOfRange {
            requested: 0,
            max: 10,
        });
        assert_eq!(ServiceError::batch_out_of_range(0, 10), core);

        let parse = snowdrift::Encoding::detect("???").unwrap_err();
        assert_eq!(
            ServiceError::from(parse.clone()).class,
            ErrorClass::BadRequest
        );
        let err = ServiceError::from(parse);
        assert_eq!(err.class, ErrorClass::BadRequest);
        assert_eq!(err.code, "invalid_id");
        assert_eq!(err.retry_after_secs(), None);
    }

    #[test]
    fn the_class_follows_the_cores_one_answer_on_retrying() {
        // Every error an issuing call can return: "retry later" exactly when the core says a
        // retry can succeed, plus the layout's end, which no retry fixes but which is not the
        // caller's input either.
        let issuing = [
            snowdrift::Error::ClockBehind {
                behind: Duration::from_millis(5),
                max_wait: Duration::from_millis(1),
            },
            snowdrift::Error::CeilingReached { ceiling: 1 },
            snowdrift::Error::Fenced,
            snowdrift::Error::BatchOutOfRange {
                requested: 0,
                max: 1,
            },
        ];
        for core in issuing {
            let retryable = core.is_retryable();
            let class = ServiceError::from(core.clone()).class;
            assert_eq!(
                class == ErrorClass::Unavailable,
                retryable,
                "{core:?}: class {class:?}, but the core says retryable = {retryable}"
            );
        }
    }
}
