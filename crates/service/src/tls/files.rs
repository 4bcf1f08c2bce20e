//! Reading the TLS files (`--tls-cert`, `--tls-key`, `--tls-client-ca`) into a rustls server
//! configuration, with an error that names the file and what is wrong with it.
//!
//! Every check that can be made before a client connects is made here, at start-up and at each
//! reload: the files exist and are readable, each holds what it should in PEM, and the key is
//! the one the certificate was issued for (rustls compares the key's public half with the
//! certificate's). A bad file therefore stops `serve` before it binds or claims a slot, and a
//! bad file at a reload keeps the certificates in use. No message includes a file's contents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::crypto::{ring, CryptoProvider};
use tokio_rustls::rustls::pki_types::pem::{self, PemObject};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{self, RootCertStore, ServerConfig};

/// Where the node's certificate, key and (for mutual TLS) client CA are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM, leaf first.
    pub cert: PathBuf,
    /// The private key, PEM (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// With mutual TLS: clients must present a certificate this CA bundle (PEM) signed.
    pub client_ca: Option<PathBuf>,
}

/// A TLS file that cannot be used. The `setting` is the settings key the file was given with
/// (`tls_cert`, `tls_key`, `tls_client_ca`), so the caller can name the flag or variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TlsError {
    /// The settings key of the file at fault.
    pub setting: &'static str,
    /// The file.
    pub path: String,
    /// What is wrong, without the file's contents.
    pub reason: String,
}

impl TlsError {
    fn new(setting: &'static str, path: &Path, reason: impl Into<String>) -> TlsError {
        TlsError {
            setting,
            path: path.display().to_string(),
            reason: reason.into(),
        }
    }
}

/// The crypto provider of every TLS configuration here. Named rather than taken from a
/// process default, so that it does not depend on which rustls features other crates enable.
pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(ring::default_provider())
}

/// Reads the files and builds the server configuration (without ALPN; the listeners set it).
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, TlsError> {
    let chain = certificates("tls_cert", &files.cert)?;
    let key = private_key(&files.key)?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsError::new("tls_cert", &files.cert, err.to_string()))?;
    let builder = match &files.client_ca {
        None => builder.with_no_client_auth(),
        Some(path) => {
            let mut roots = RootCertStore::empty();
            for cert in certificates("tls_client_ca", path)? {
                roots.add(cert).map_err(|err| {
                    TlsError::new("tls_client_ca", path, format!("not a usable CA: {err}"))
                })?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .build()
                .map_err(|err| TlsError::new("tls_client_ca", path, err.to_string()))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    builder
        .with_single_cert(chain, key)
        .map_err(|err| match err {
            rustls::Error::InconsistentKeys(_) => TlsError::new(
                "tls_key",
                &files.key,
                format!(
                    "this key does not match the certificate {}",
                    files.cert.display()
                ),
            ),
            other => TlsError::new("tls_key", &files.key, format!("unusable key: {other}")),
        })
}

/// Every certificate in the PEM file at `path`; at least one.
pub fn certificates(
    setting: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = read(setting, path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::new(setting, path, pem_problem(&err)))?;
    if certs.is_empty() {
        return Err(TlsError::new(
            setting,
            path,
            "holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
        ));
    }
    Ok(certs)
}

/// The private key in the PEM file at `path`.
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let text = read("tls_key", path)?;
    PrivateKeyDer::from_pem_slice(&text).map_err(|err| match err {
        pem::Error::NoItemsFound => TlsError::new(
            "tls_key",
            path,
            "holds no PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC)",
        ),
        other => TlsError::new("tls_key", path, pem_problem(&other)),
    })
}

fn read(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|err| TlsError::new(setting, path, format!("cannot read: {err}")))
}

/// What is wrong with a PEM file, in words that never quote its contents.
fn pem_problem(err: &pem::Error) -> String {
    match err {
        pem::Error::NoItemsFound => "holds nothing in PEM form".to_string(),
        pem::Error::Io(err) => format!("cannot read: {err}"),
        _ => "is not valid PEM".to_string(),
    }
}
