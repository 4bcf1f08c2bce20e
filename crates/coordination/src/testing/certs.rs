//! Certificates made for one test with rcgen: a CA, and server and client certificates it
//! signed, written as PEM files into a temporary directory. Used for an etcd started with TLS
//! and for the service's TLS listeners. Every certificate names `localhost` and `127.0.0.1`,
//! since tests only ever connect over loopback.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate and its key, as files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    /// The certificate, PEM.
    pub cert: PathBuf,
    /// The private key, PEM (PKCS#8).
    pub key: PathBuf,
}

/// A test certificate authority that writes what it issues into `dir`.
pub struct TestCa {
    dir: PathBuf,
    name: String,
    issuer: Issuer<'static, KeyPair>,
    cert: PathBuf,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa")
            .field("name", &self.name)
            .field("cert", &self.cert)
            .finish_non_exhaustive()
    }
}

fn err(e: rcgen::Error) -> std::io::Error {
    std::io::Error::other(format!("rcgen: {e}"))
}

impl TestCa {
    /// A new CA called `name`; its certificate is written to `dir/<name>-ca.pem`.
    pub fn new(dir: &Path, name: &str) -> std::io::Result<TestCa> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} test CA"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.self_signed(&key).map_err(err)?;
        let path = dir.join(format!("{name}-ca.pem"));
        std::fs::write(&path, cert.pem())?;
        Ok(TestCa {
            dir: dir.to_path_buf(),
            name: name.to_string(),
            issuer: Issuer::new(params, key),
            cert: path,
        })
    }

    /// The CA certificate's file.
    pub fn cert(&self) -> &Path {
        &self.cert
    }

    /// A server certificate for `localhost` and `127.0.0.1`, written as `<file>.pem` and
    /// `<file>-key.pem`.
    pub fn server(&self, file: &str) -> std::io::Result<CertFiles> {
        self.issue(file, ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate (for mutual TLS), written as `<file>.pem` and `<file>-key.pem`.
    pub fn client(&self, file: &str) -> std::io::Result<CertFiles> {
        self.issue(file, ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn issue(&self, file: &str, usage: ExtendedKeyUsagePurpose) -> std::io::Result<CertFiles> {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .map_err(err)?;
        params.distinguished_name.push(DnType::CommonName, file);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![usage];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(err)?;
        let files = CertFiles {
            cert: self.dir.join(format!("{file}.pem")),
            key: self.dir.join(format!("{file}-key.pem")),
        };
        std::fs::write(&files.cert, cert.pem())?;
        std::fs::write(&files.key, key.serialize_pem())?;
        Ok(files)
    }
}
