//! # snowdrift-wire
//!
//! The wire contracts of Snowdrift, shared by the service and every client, and nothing else:
//! this crate knows no generator, no coordination and no server. Depending on it is all a
//! client needs to speak to a node.
//!
//! - [`v1`]: the gRPC protocol, generated from `proto/snowdrift/v1/snowdrift.proto` (messages,
//!   the `Snowdrift` client, and the server trait the service implements);
//! - [`json`]: the HTTP/JSON bodies (`{"id":"…"}`, `{"ids":[…]}`, `{"error":{…}}`, decode and
//!   info), which the service writes and the client's HTTP transport reads;
//! - [`status`]: how failures travel as gRPC statuses: `INVALID_ARGUMENT` for a bad request,
//!   `UNAVAILABLE` with a `google.rpc.RetryInfo` hint when no ID can be issued now, and the
//!   error's stable code in a `google.rpc.ErrorInfo`.
//!
//! ```
//! use prost::Message;
//! use snowdrift_wire::v1::{NextIdsRequest, NextIdsResponse};
//! use snowdrift_wire::status;
//! use std::time::Duration;
//!
//! // Messages are plain prost structs.
//! let request = NextIdsRequest { count: 100 };
//! let bytes = request.encode_to_vec();
//! assert_eq!(NextIdsRequest::decode(bytes.as_slice())?, request);
//! let reply = NextIdsResponse { ids: vec![1, 2, 3] };
//! assert_eq!(reply.encoded_len(), 2 + 3 * 8); // packed fixed64: eight bytes an ID
//!
//! // A node that cannot issue now says when to retry; a client reads it back.
//! let busy = status::unavailable("ceiling_reached", "window not extended yet", Duration::from_millis(250));
//! assert_eq!(busy.code(), tonic::Code::Unavailable);
//! assert_eq!(status::retry_after(&busy), Some(Duration::from_millis(250)));
//! assert_eq!(status::error_code(&busy).as_deref(), Some("ceiling_reached"));
//! # Ok::<(), prost::DecodeError>(())
//! ```

pub mod json;
pub mod status;

/// Version 1 of the gRPC protocol, generated from `proto/snowdrift/v1/snowdrift.proto`.
///
/// Every message and field carries the documentation written in the `.proto` file.
/// [`v1::snowdrift_client::SnowdriftClient`] calls a node;
/// [`v1::snowdrift_server::Snowdrift`] is the trait a node implements.
pub mod v1 {
    // Generated code: its items are documented from the .proto file, but the generator adds
    // helper items (modules, constants) without docs, and code clippy would write differently.
    #![allow(missing_docs, clippy::all, clippy::pedantic)]
    tonic::include_proto!("snowdrift.v1");
}

/// The full gRPC name of the ID service, as the health service reports it.
pub const SERVICE_NAME: &str = "snowdrift.v1.Snowdrift";
