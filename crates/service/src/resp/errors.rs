//! How a failed command is written as a RESP error.
//!
//! The first word of a RESP error is its kind, which client libraries map to exception types:
//! - `ERR` for a bad request (what Redis uses for its own argument errors);
//! - `TRYAGAIN` when the node cannot issue IDs now: the condition is temporary, and clients that
//!   know the word (cluster-aware ones) retry it;
//! - `NOPROTO` for a `HELLO` version we do not speak, as Redis answers.
//!
//! The stable error code of [`ServiceError`] follows, so scripts can match on it, then the
//! message, and for `TRYAGAIN` the wait the node suggests.

use super::parse::ArgError;
use super::reply::Reply;
use crate::error::{ErrorClass, ServiceError};

/// Writes a service failure.
pub fn service(reply: &mut Reply<'_>, err: &ServiceError) {
    match err.class {
        ErrorClass::BadRequest | ErrorClass::NotFound => {
            reply.error("ERR", &format!("{}: {}", err.code, err.message));
        }
        ErrorClass::Unavailable => {
            let wait_ms = err.retry_after.map_or(1000, |wait| wait.as_millis());
            reply.error(
                "TRYAGAIN",
                &format!("{}: {} (retry after {wait_ms} ms)", err.code, err.message),
            );
        }
    }
}

/// Writes an argument error.
pub fn arguments(reply: &mut Reply<'_>, err: &ArgError) {
    reply.error("ERR", &err.to_string());
}
