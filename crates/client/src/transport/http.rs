//! The HTTP/JSON transport: `GET /v1/ids?count=N`, for nodes (or networks) without gRPC.
//!
//! The bodies are the shared shapes of `snowdrift_wire::json`, the same types the service's
//! tests read its answers with. IDs arrive as JSON strings (JavaScript-safe) and are parsed to
//! `u64`. `https://` endpoints are checked against the configured CA only (no built-in
//! roots); the token goes as `Authorization: Bearer`, a header marked sensitive.

use std::time::Duration;

use snowdrift_wire::json::{ErrorBody, IdsBody};

use super::Failure;
use crate::config::ClientConfig;
use crate::endpoint::Endpoint;

/// A keep-alive connection pool to one node's HTTP listener.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    ids_url: String,
}

/// Adds the CA, the client certificate and the token of `config` to `builder`.
fn secured(
    mut builder: reqwest::ClientBuilder,
    endpoint: &Endpoint,
    config: &ClientConfig,
) -> Result<reqwest::ClientBuilder, crate::Error> {
    let invalid = |what: &str, err: reqwest::Error| {
        crate::Error::Config(format!("endpoint {endpoint}: {what}: {err}"))
    };
    if endpoint.tls() {
        builder = builder.use_rustls_tls().tls_built_in_root_certs(false);
        if let Some(ca) = &config.tls_ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(ca)
                .map_err(|err| invalid("the CA bundle is not PEM", err))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(identity) = &config.tls_identity {
            let mut pem = identity.cert_pem.clone();
            pem.push(b'\n');
            pem.extend_from_slice(&identity.key_pem);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|err| invalid("the client certificate or key is not PEM", err))?;
            builder = builder.identity(identity);
        }
    }
    if let Some(token) = &config.token {
        let mut value = reqwest::header::HeaderValue::try_from(token.bearer())
            .map_err(|_| crate::Error::Config("the token is not a valid header value".into()))?;
        value.set_sensitive(true);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(reqwest::header::AUTHORIZATION, value);
        builder = builder.default_headers(headers);
    }
    Ok(builder)
}

impl HttpTransport {
    /// A client for `endpoint`.
    pub fn new(endpoint: &Endpoint, config: &ClientConfig) -> Result<HttpTransport, crate::Error> {
        let builder = secured(reqwest::Client::builder(), endpoint, config)?;
        let client = builder
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // ID services are reached directly; a proxy from the environment would only add
            // a hop (and break loopback use).
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .map_err(|err| crate::Error::Config(format!("endpoint {endpoint}: {err}")))?;
        Ok(HttpTransport {
            client,
            ids_url: format!("{}/v1/ids", endpoint.http_base()),
        })
    }

    /// `GET /v1/ids?count=N`.
    pub async fn fetch(&self, count: u32) -> Result<Vec<u64>, Failure> {
        let response = self
            .client
            .get(&self.ids_url)
            .query(&[("count", count)])
            .send()
            .await
            .map_err(|err| Failure::Transport(err.to_string()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .map_err(|err| Failure::Transport(err.to_string()))?;
        match status {
            200 => parse_ids(&body),
            // A missing or wrong token: every node of a cluster shares the token file, so
            // failing over would only be refused again.
            400 | 401 | 403 => {
                let (code, message) = parse_error(&body);
                Err(Failure::BadRequest { code, message })
            }
            503 => {
                let (code, message) = parse_error(&body);
                Err(Failure::Unavailable {
                    message: format!("{code}: {message}"),
                    retry_after,
                })
            }
            other => Err(Failure::Transport(format!(
                "HTTP {other}: {}",
                String::from_utf8_lossy(&body[..body.len().min(200)])
            ))),
        }
    }
}

fn parse_ids(body: &[u8]) -> Result<Vec<u64>, Failure> {
    let parsed: IdsBody = serde_json::from_slice(body)
        .map_err(|err| Failure::Transport(format!("malformed /v1/ids body: {err}")))?;
    parsed
        .ids
        .iter()
        .map(|text| {
            text.parse::<u64>()
                .map_err(|_| Failure::Transport(format!("malformed id {text:?} in /v1/ids body")))
        })
        .collect()
}

fn parse_error(body: &[u8]) -> (String, String) {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(parsed) => (parsed.error.code, parsed.error.message),
        Err(_) => (
            "unknown".to_string(),
            String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ids_and_errors() {
        assert_eq!(
            parse_ids(br#"{"ids":["1","18446744073709551615"]}"#).unwrap(),
            vec![1, u64::MAX]
        );
        assert!(parse_ids(br#"{"ids":["x"]}"#).is_err());
        assert!(parse_ids(b"<html>").is_err());
        let (code, message) = parse_error(br#"{"error":{"code":"invalid_count","message":"no"}}"#);
        assert_eq!((code.as_str(), message.as_str()), ("invalid_count", "no"));
        assert_eq!(parse_error(b"oops").0, "unknown");
    }
}
