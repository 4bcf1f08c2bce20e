//! The gRPC transport: `NextIds` on a lazily connected tonic channel.

use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::NextIdsRequest;
use tonic::transport::Channel;
use tonic::Code;

use super::Failure;
use crate::config::ClientConfig;
use crate::endpoint::Endpoint;

/// A channel to one node's gRPC listener. Cloning shares the channel.
#[derive(Debug, Clone)]
pub struct GrpcTransport {
    client: SnowdriftClient<Channel>,
}

impl GrpcTransport {
    /// A lazily connected channel to `endpoint`.
    pub fn new(endpoint: &Endpoint, config: &ClientConfig) -> Result<GrpcTransport, crate::Error> {
        let channel = Channel::from_shared(endpoint.http_base())
            .map_err(|err| crate::Error::Config(format!("endpoint {endpoint}: {err}")))?
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(GrpcTransport {
            client: SnowdriftClient::new(channel),
        })
    }

    /// `NextIds(count)`.
    pub async fn fetch(&self, count: u32) -> Result<Vec<u64>, Failure> {
        let mut client = self.client.clone();
        match client.next_ids(NextIdsRequest { count }).await {
            Ok(reply) => Ok(reply.into_inner().ids),
            Err(status) => Err(classify(&status)),
        }
    }
}

/// Sorts a status into the failover's three kinds.
fn classify(status: &tonic::Status) -> Failure {
    match status.code() {
        Code::InvalidArgument | Code::OutOfRange => Failure::BadRequest {
            code: snowdrift_wire::status::error_code(status)
                .unwrap_or_else(|| "invalid_argument".to_string()),
            message: status.message().to_string(),
        },
        // Only a Snowdrift node's own UNAVAILABLE carries its code; a transport failure comes
        // as UNAVAILABLE too, and is the same to failover: try elsewhere.
        Code::Unavailable => match snowdrift_wire::status::error_code(status) {
            Some(code) => Failure::Unavailable {
                message: format!("{code}: {}", status.message()),
                retry_after: snowdrift_wire::status::retry_after(status),
            },
            None => Failure::Transport(format!("unavailable: {}", status.message())),
        },
        other => Failure::Transport(format!("{other:?}: {}", status.message())),
    }
}
