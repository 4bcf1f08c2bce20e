//! A [`ServiceError`] as a gRPC status: `INVALID_ARGUMENT` for the caller's mistakes,
//! `UNAVAILABLE` with a retry hint for the node's temporary inability, built by the wire
//! crate's conventions so clients read them back the same way.

use tonic::Status;

use crate::error::{ErrorClass, ServiceError};

/// The status for `err`.
pub fn from_service(err: &ServiceError) -> Status {
    match err.class {
        ErrorClass::BadRequest | ErrorClass::NotFound => {
            snowdrift_wire::status::invalid_argument(err.code, err.message.clone())
        }
        ErrorClass::Unavailable => snowdrift_wire::status::unavailable(
            err.code,
            err.message.clone(),
            err.retry_after.unwrap_or(std::time::Duration::from_secs(1)),
        ),
    }
}
