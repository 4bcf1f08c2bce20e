//! The token check of the gRPC listener: an interceptor that reads the `authorization`
//! metadata (`Bearer <token>`, what gRPC clients send for per-call credentials) and answers
//! `UNAUTHENTICATED` when it is missing or wrong.
//!
//! It wraps the `snowdrift.v1.Snowdrift` service always, and the health service only with
//! `--auth-probes`, as HTTP treats `/readyz`. The status message never holds the token.

use tonic::{Request, Status};

use crate::auth::{Auth, Refusal};

/// The interceptor for one service; `guarded: false` lets every call through.
pub fn interceptor(
    auth: Auth,
    guarded: bool,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone + Send + Sync + 'static {
    move |request: Request<()>| {
        if !guarded || !auth.enabled() {
            return Ok(request);
        }
        let header = request
            .metadata()
            .get("authorization")
            .map(|value| value.as_bytes());
        match auth.check_bearer("grpc", header) {
            Ok(()) => Ok(request),
            Err(Refusal::Missing) => Err(Status::unauthenticated(
                "this node needs a token: send `authorization: Bearer <token>` metadata",
            )),
            Err(Refusal::Wrong) => Err(Status::unauthenticated(
                "the token is not accepted by this node",
            )),
        }
    }
}
