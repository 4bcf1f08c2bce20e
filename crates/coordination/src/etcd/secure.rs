//! TLS and user/password authentication towards etcd, through etcd-client's own options.
//!
//! TLS is on when a CA is given ([`EtcdTls::ca`]): the node then checks etcd's certificate
//! against it, and with a client certificate and key it also proves itself to an etcd started
//! with `--client-cert-auth`. Authentication is etcd's own: a user and a password read from a
//! file (never given on the command line, where every user of the host could read it), which
//! etcd-client exchanges for a token and renews when etcd says it expired.
//!
//! Files are read when connecting, so a rotated certificate or password is picked up by the
//! next connection. No error quotes a file's contents, and neither `Debug` nor any message
//! holds the password: the options keep only its file's path.

use std::path::{Path, PathBuf};

use etcd_client::{Certificate, ConnectOptions, Identity, TlsOptions};

use crate::error::CoordError;

/// TLS towards etcd: off unless a CA is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtcdTls {
    /// CA bundle (PEM) that signed etcd's server certificate. Setting it turns TLS on; the
    /// endpoints are then `https://` (a bare `host:port` means `https://host:port`).
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM) presented to etcd, with [`EtcdTls::key`].
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of [`EtcdTls::cert`].
    pub key: Option<PathBuf>,
}

impl EtcdTls {
    /// Whether TLS is on.
    pub fn enabled(&self) -> bool {
        self.ca.is_some()
    }
}

/// etcd's user/password authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdAuth {
    /// The etcd user.
    pub user: String,
    /// A file whose first line is the user's password (the line end is not part of it).
    pub password_file: PathBuf,
}

/// Checks that the TLS and auth settings make sense together and with the endpoints. Errors
/// name the setting (`etcd_ca`, `etcd_cert`, `etcd_key`, `etcd_user`, `etcd_password_file`).
pub(crate) fn validate(
    tls: &EtcdTls,
    auth: Option<&EtcdAuth>,
    endpoints: &[String],
) -> Result<(), CoordError> {
    let invalid = |setting, reason: &str| {
        Err(CoordError::Setting {
            setting,
            reason: reason.to_string(),
        })
    };
    match (&tls.cert, &tls.key) {
        (Some(_), None) => return invalid("etcd_key", "a client certificate needs its key"),
        (None, Some(_)) => return invalid("etcd_cert", "a client key needs its certificate"),
        _ => {}
    }
    if !tls.enabled() && tls.cert.is_some() {
        return invalid(
            "etcd_ca",
            "a client certificate is only sent over TLS: give the CA that signed etcd's certificate",
        );
    }
    let schemes = endpoints
        .iter()
        .map(|e| e.trim())
        .filter_map(|e| e.split_once("://").map(|(scheme, _)| scheme));
    for scheme in schemes {
        match (scheme, tls.enabled()) {
            ("https", false) => {
                return invalid(
                    "etcd_ca",
                    "https:// endpoints need the CA that signed etcd's certificate",
                )
            }
            ("http", true) => {
                return invalid(
                    "endpoints",
                    "with an etcd CA the endpoints are https:// (or host:port)",
                )
            }
            _ => {}
        }
    }
    if let Some(auth) = auth {
        if auth.user.trim().is_empty() {
            return invalid("etcd_user", "a password file needs the user it belongs to");
        }
        if auth.password_file.as_os_str().is_empty() {
            return invalid(
                "etcd_password_file",
                "an etcd user needs a password file (one line: the password)",
            );
        }
    }
    Ok(())
}

/// Adds TLS and credentials to `options`, reading the files now.
pub(crate) fn apply(
    mut options: ConnectOptions,
    tls: &EtcdTls,
    auth: Option<&EtcdAuth>,
) -> Result<ConnectOptions, CoordError> {
    if let Some(ca) = &tls.ca {
        let mut config = TlsOptions::new().ca_certificate(Certificate::from_pem(read("CA", ca)?));
        if let (Some(cert), Some(key)) = (&tls.cert, &tls.key) {
            config = config.identity(Identity::from_pem(
                read("client certificate", cert)?,
                read("client key", key)?,
            ));
        }
        options = options.with_tls(config);
    }
    if let Some(auth) = auth {
        options = options.with_user(auth.user.clone(), password(&auth.password_file)?);
    }
    Ok(options)
}

/// The first line of the password file, without its line end.
fn password(path: &Path) -> Result<String, CoordError> {
    let bytes = read("password file", path)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        CoordError::Config(format!(
            "the etcd password file {} is not UTF-8 text",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or_default();
    let password = line.strip_suffix('\r').unwrap_or(line);
    if password.is_empty() {
        return Err(CoordError::Config(format!(
            "the etcd password file {} is empty (its first line is the password)",
            path.display()
        )));
    }
    Ok(password.to_string())
}

fn read(what: &str, path: &Path) -> Result<Vec<u8>, CoordError> {
    std::fs::read(path).map_err(|err| {
        CoordError::Config(format!(
            "cannot read the etcd {what} {}: {err}",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls(ca: bool, cert: bool, key: bool) -> EtcdTls {
        EtcdTls {
            ca: ca.then(|| PathBuf::from("/ca.pem")),
            cert: cert.then(|| PathBuf::from("/cert.pem")),
            key: key.then(|| PathBuf::from("/key.pem")),
        }
    }

    fn setting(result: Result<(), CoordError>) -> &'static str {
        match result {
            Err(CoordError::Setting { setting, .. }) => setting,
            other => panic!("not a setting error: {other:?}"),
        }
    }

    #[test]
    fn mismatched_settings_name_the_setting_to_fix() {
        let http = vec!["http://127.0.0.1:2379".to_string()];
        let https = vec!["https://127.0.0.1:2379".to_string()];
        let bare = vec!["127.0.0.1:2379".to_string()];
        assert!(validate(&tls(false, false, false), None, &http).is_ok());
        assert!(validate(&tls(true, true, true), None, &https).is_ok());
        assert!(validate(&tls(true, false, false), None, &bare).is_ok());
        let check = |t: EtcdTls, e: &[String]| setting(validate(&t, None, e));
        assert_eq!(check(tls(true, true, false), &https), "etcd_key");
        assert_eq!(check(tls(true, false, true), &https), "etcd_cert");
        assert_eq!(check(tls(false, true, true), &bare), "etcd_ca");
        assert_eq!(check(tls(false, false, false), &https), "etcd_ca");
        assert_eq!(check(tls(true, false, false), &http), "endpoints");
        let no_user = EtcdAuth {
            user: String::new(),
            password_file: PathBuf::from("/pw"),
        };
        let no_file = EtcdAuth {
            user: "node".to_string(),
            password_file: PathBuf::new(),
        };
        let none = tls(false, false, false);
        assert_eq!(setting(validate(&none, Some(&no_user), &http)), "etcd_user");
        assert_eq!(
            setting(validate(&none, Some(&no_file), &http)),
            "etcd_password_file"
        );
    }

    #[test]
    fn the_password_is_the_first_line_and_never_in_a_message() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "s3cret-pass\r\nignored\n").unwrap();
        assert_eq!(password(&file).unwrap(), "s3cret-pass");
        std::fs::write(&file, "\nsecond-line-secret\n").unwrap();
        let err = password(&file).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
        assert!(!err.contains("second-line-secret"), "{err}");
        let err = password(&dir.path().join("missing"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cannot read the etcd password file"), "{err}");
    }
}
