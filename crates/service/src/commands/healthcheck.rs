//! `snowdrift healthcheck`: exits 0 when a node answers ready, for images without curl.
//!
//! A distroless image has no shell and no curl, so its `HEALTHCHECK` runs the binary itself.
//! The default URL follows the node's own `SNOWDRIFT_HTTP` (an unspecified address such as
//! `0.0.0.0` means "this host", so it becomes loopback), so the image's health check needs no
//! argument and stays right when an operator moves the port. It follows the node's TLS
//! settings too: with `SNOWDRIFT_TLS_CERT` set and `http` not in `SNOWDRIFT_PLAINTEXT`, it asks
//! over `https://`. Any answer but 200 is a failure, reported as one line with the node's own
//! reason (the `/readyz` error body), exit code 1.
//!
//! Over HTTPS the probe does not check the node's certificate, as Kubernetes' own HTTPS probes
//! do not: it asks its own container's loopback, where the certificate's names (the service's
//! DNS names) never match, and it sends no secret, so there is nothing to protect by checking.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use super::Failure;
use crate::cli::HealthcheckArgs;
use crate::config::values::parse_addr;

/// The variable whose address `healthcheck` asks by default: the node's `--http` setting.
const HTTP_ENV: &str = "SNOWDRIFT_HTTP";
/// The node's `--tls-cert`: when set, its HTTP listener speaks TLS...
const TLS_CERT_ENV: &str = "SNOWDRIFT_TLS_CERT";
/// ...unless its `--plaintext` names `http`.
const PLAINTEXT_ENV: &str = "SNOWDRIFT_PLAINTEXT";
/// Where a node listens when nothing says otherwise (DESIGN.md: `--http` 127.0.0.1:8080).
const DEFAULT_HTTP: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080);

/// Runs `snowdrift healthcheck`.
pub fn run(args: &HealthcheckArgs) -> Result<(), Failure> {
    let url = match &args.url {
        Some(url) => url.clone(),
        None => default_url(
            std::env::var(HTTP_ENV).ok().as_deref(),
            http_uses_tls(
                std::env::var(TLS_CERT_ENV).ok().as_deref(),
                std::env::var(PLAINTEXT_ENV).ok().as_deref(),
            ),
        )?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(check(&url, args.timeout))
}

/// Whether the node's HTTP listener speaks TLS, from its `SNOWDRIFT_TLS_CERT` and
/// `SNOWDRIFT_PLAINTEXT` (as `Settings::uses_tls` decides it).
fn http_uses_tls(tls_cert: Option<&str>, plaintext: Option<&str>) -> bool {
    let cert = tls_cert.is_some_and(|path| !path.trim().is_empty());
    let plain = plaintext.is_some_and(|list| {
        list.split(',')
            .any(|name| name.trim().eq_ignore_ascii_case("http"))
    });
    cert && !plain
}

/// The readiness URL of the node whose `--http` is `http` (the value of `SNOWDRIFT_HTTP`),
/// over `https://` when `tls`.
fn default_url(http: Option<&str>, tls: bool) -> Result<String, Failure> {
    let addr = match http.map(str::trim).filter(|text| !text.is_empty()) {
        Some(text) => {
            parse_addr(text).map_err(|err| Failure::Usage(format!("{HTTP_ENV}: {err}")))?
        }
        None => DEFAULT_HTTP,
    };
    let host = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let scheme = if tls { "https" } else { "http" };
    Ok(format!(
        "{scheme}://{}/readyz",
        SocketAddr::new(host, addr.port())
    ))
}

/// One GET of `url`: Ok on 200, otherwise the status and the node's reason.
async fn check(url: &str, timeout: Duration) -> Result<(), Failure> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        // A probe asks this host's node, never through a proxy from the environment.
        .no_proxy()
        // Readiness, not identity: see the module's note on HTTPS.
        .danger_accept_invalid_certs(true)
        .build()
        .map_err(|err| Failure::Runtime(format!("healthcheck: {err}")))?;
    let response = client
        .get(url)
        .send()
        .await
        .map_err(|err| Failure::Runtime(format!("not ready: {url}: {}", why(&err, timeout))))?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    // The body is the node's JSON error; a body that will not read still leaves the status.
    let body = response.text().await.unwrap_or_default();
    let reason = reason(&body);
    Err(Failure::Runtime(format!(
        "not ready: {url} answered {status}{reason}"
    )))
}

/// `: <message>` from a `{"error":{"message":…}}` body, or the body's first line.
fn reason(body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|json| json["error"]["message"].as_str().map(str::to_string))
        .unwrap_or_else(|| {
            body.lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(200)
                .collect()
        });
    if message.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", message.trim())
    }
}

/// Why a request got no answer, in words: reqwest's own text hides "connection refused" in
/// its chain of causes.
fn why(err: &reqwest::Error, timeout: Duration) -> String {
    if err.is_timeout() {
        return format!("no answer within {}", humantime::format_duration(timeout));
    }
    let mut root: &dyn std::error::Error = err;
    while let Some(cause) = root.source() {
        root = cause;
    }
    if err.is_connect() {
        format!("cannot connect: {root}")
    } else {
        format!("{err}: {root}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_url_follows_the_nodes_http_setting() {
        assert_eq!(
            default_url(None, false).unwrap(),
            "http://127.0.0.1:8080/readyz"
        );
        assert_eq!(
            default_url(Some(""), false).unwrap(),
            "http://127.0.0.1:8080/readyz"
        );
        assert_eq!(
            default_url(Some("0.0.0.0:9000"), false).unwrap(),
            "http://127.0.0.1:9000/readyz"
        );
        assert_eq!(
            default_url(Some("[::]:8080"), false).unwrap(),
            "http://[::1]:8080/readyz"
        );
        assert_eq!(
            default_url(Some("10.1.2.3:8080"), false).unwrap(),
            "http://10.1.2.3:8080/readyz"
        );
        let err = default_url(Some("nonsense"), false).unwrap_err();
        assert!(err.to_string().contains("SNOWDRIFT_HTTP"), "{err}");
        assert_eq!(err.exit_code(), crate::EXIT_USAGE);
    }

    #[test]
    fn the_default_url_is_https_when_the_node_serves_http_over_tls() {
        assert!(http_uses_tls(Some("/etc/snowdrift/tls/tls.crt"), None));
        assert!(http_uses_tls(Some("/c.pem"), Some("grpc,resp")));
        assert!(!http_uses_tls(Some("/c.pem"), Some("grpc, HTTP")));
        assert!(!http_uses_tls(None, None));
        assert!(!http_uses_tls(Some(" "), None));
        assert_eq!(
            default_url(Some("0.0.0.0:8443"), true).unwrap(),
            "https://127.0.0.1:8443/readyz"
        );
    }

    #[test]
    fn the_reason_is_the_nodes_message() {
        let body = r#"{"error":{"code":"not_ready","message":"fenced"}}"#;
        assert_eq!(reason(body), ": fenced");
        assert_eq!(reason(""), "");
        assert_eq!(reason("plain\nmore"), ": plain");
    }
}
