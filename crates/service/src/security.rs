//! The node's guards, from its settings: the TLS configuration and the tokens, loaded once
//! before anything listens, and reloaded on SIGHUP.
//!
//! Loading refuses to start on a file that is missing, unreadable, malformed, or a key that
//! does not match its certificate, with a message naming the setting as the user wrote it
//! (`--tls-key`, `SNOWDRIFT_TLS_KEY`, or the config file's key) and the file; exit code 2.
//!
//! SIGHUP re-reads both (each on its own: a bad token file does not stop a certificate
//! renewal). Each outcome is logged and counted (`snowdrift_tls_reloads_total{result}`,
//! `snowdrift_auth_reloads_total{result}`); on an error what was in use stays in use.
//! Connections already open are not touched, so a reload drops none.

use std::sync::Arc;

use crate::auth::Auth;
use crate::config::{ConfigError, Loaded};
use crate::listeners::Guard;
use crate::tls::ServerTls;

/// Help text for the security metrics, so `/metrics` (and `promtool check metrics`) explain
/// them. None of their labels ever holds a secret: protocols, reasons and results only.
pub fn describe_metrics() {
    use metrics::describe_counter;
    describe_counter!(
        crate::tls::RELOADS,
        "reloads of the TLS certificate and key on SIGHUP, by result (ok, error)"
    );
    describe_counter!(
        crate::listeners::HANDSHAKE_FAILURES,
        "TLS handshakes that failed or timed out (plaintext clients, untrusted or missing client \
         certificates), by protocol"
    );
    describe_counter!(
        crate::auth::FAILURES,
        "requests refused for a missing or wrong token, by protocol and reason (missing, wrong)"
    );
    describe_counter!(
        crate::auth::RELOADS,
        "reloads of the token file on SIGHUP, by result (ok, error)"
    );
}

/// The guards the settings ask for.
pub fn load(loaded: &Loaded) -> Result<Guard, ConfigError> {
    let config = &loaded.config;
    let tls = match config.tls_files() {
        None => None,
        Some(files) => Some(Arc::new(ServerTls::load(files).map_err(|err| {
            ConfigError::new(format!(
                "cannot use {} {err}",
                loaded.source(err.setting).describe(err.setting)
            ))
        })?)),
    };
    let auth = match &config.auth_token_file {
        None => Auth::open(),
        Some(file) => Auth::from_file(file, config.auth_probes).map_err(|err| {
            let place = loaded.source("auth_token_file").describe("auth_token_file");
            ConfigError::new(format!("cannot use {place} {err}"))
        })?,
    };
    Ok(Guard { tls, auth })
}

/// Reloads the guards on every SIGHUP, forever. Call it early: until the handler is
/// installed, SIGHUP ends the process (its default action).
pub async fn reload_on_sighup(guard: Guard) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangups = match signal(SignalKind::hangup()) {
            Ok(hangups) => hangups,
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGHUP; certificates and tokens will not reload");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            reload(&guard);
        }
    }
    #[cfg(not(unix))]
    drop(guard);
}

/// Reloads the TLS files and the token file, logging each outcome.
pub fn reload(guard: &Guard) {
    if let Some(tls) = &guard.tls {
        match tls.reload() {
            Ok(()) => tracing::info!(
                cert = %tls.files().cert.display(),
                "SIGHUP: reloaded the TLS certificate; new connections use it"
            ),
            Err(err) => tracing::error!(
                error = %err,
                "SIGHUP: cannot reload TLS; still serving the previous certificate"
            ),
        }
    }
    match guard.auth.reload() {
        Ok(None) => {}
        Ok(Some(count)) => tracing::info!(tokens = count, "SIGHUP: reloaded the token file"),
        Err(err) => tracing::error!(
            error = %err,
            "SIGHUP: cannot reload the token file; still accepting the previous tokens"
        ),
    }
    if guard.tls.is_none() && !guard.auth.enabled() {
        tracing::info!("SIGHUP: no TLS files and no token file to reload");
    }
}
