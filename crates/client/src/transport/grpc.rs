//! The gRPC transport: `NextIds` on a lazily connected tonic channel, over TLS for
//! `grpcs://` endpoints, with the token as `authorization` metadata on every call.

use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::NextIdsRequest;
use tonic::metadata::AsciiMetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic::Code;

use super::Failure;
use crate::config::ClientConfig;
use crate::endpoint::Endpoint;

/// A channel to one node's gRPC listener. Cloning shares the channel.
#[derive(Debug, Clone)]
pub struct GrpcTransport {
    client: SnowdriftClient<Channel>,
    /// `Bearer <token>`, marked sensitive.
    authorization: Option<AsciiMetadataValue>,
}

impl GrpcTransport {
    /// A lazily connected channel to `endpoint`.
    pub fn new(endpoint: &Endpoint, config: &ClientConfig) -> Result<GrpcTransport, crate::Error> {
        let invalid = |err: &dyn std::fmt::Display| {
            crate::Error::Config(format!("endpoint {endpoint}: {err}"))
        };
        let mut channel = Channel::from_shared(endpoint.http_base())
            .map_err(|err| invalid(&err))?
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .tcp_nodelay(true);
        if endpoint.tls() {
            // The server name checked is the endpoint's host, as tonic takes it from the URL.
            let mut tls = ClientTlsConfig::new();
            if let Some(ca) = &config.tls_ca_pem {
                tls = tls.ca_certificate(Certificate::from_pem(ca));
            }
            if let Some(identity) = &config.tls_identity {
                tls = tls.identity(Identity::from_pem(&identity.cert_pem, &identity.key_pem));
            }
            channel = channel.tls_config(tls).map_err(|err| invalid(&err))?;
        }
        let authorization = match &config.token {
            None => None,
            Some(token) => {
                let mut value = AsciiMetadataValue::try_from(token.bearer())
                    .map_err(|_| crate::Error::Config("the token is not valid metadata".into()))?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        Ok(GrpcTransport {
            client: SnowdriftClient::new(channel.connect_lazy()),
            authorization,
        })
    }

    /// `NextIds(count)`.
    pub async fn fetch(&self, count: u32) -> Result<Vec<u64>, Failure> {
        let mut client = self.client.clone();
        let mut request = tonic::Request::new(NextIdsRequest { count });
        if let Some(value) = &self.authorization {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        match client.next_ids(request).await {
            Ok(reply) => Ok(reply.into_inner().ids),
            Err(status) => Err(classify(&status)),
        }
    }
}

/// Sorts a status into the failover's three kinds.
fn classify(status: &tonic::Status) -> Failure {
    match status.code() {
        // A missing or wrong token: retrying elsewhere with the same token cannot help.
        Code::Unauthenticated | Code::PermissionDenied => Failure::BadRequest {
            code: "unauthenticated".to_string(),
            message: status.message().to_string(),
        },
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
