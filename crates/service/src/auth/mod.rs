//! Tokens on every door: who may take IDs, checked the same way on HTTP, gRPC and RESP.
//!
//! With `--auth-token-file` every request must carry one of the file's tokens: HTTP and gRPC
//! as `authorization: Bearer <token>`, the Redis protocol through `AUTH`, `AUTH default
//! <token>` or `HELLO 3 AUTH default <token>`. Without it every door is open, as before. The
//! probes (`/healthz`, `/readyz`, `/metrics`, and gRPC's health service) stay open unless
//! `--auth-probes` is set, so that a load balancer or Kubernetes can probe a node without a
//! secret.
//!
//! An [`Auth`] is cheap to clone and shared by every listener. A SIGHUP re-reads the file
//! ([`Auth::reload`]); connections already authenticated on RESP stay authenticated, every
//! later HTTP or gRPC request is checked against the new tokens. A file that cannot be read
//! at a reload keeps the tokens in use. Each refusal is counted in
//! `snowdrift_auth_failures_total{protocol, reason}` and each reload in
//! `snowdrift_auth_reloads_total{result}`; neither label ever holds a token.

mod tokens;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

pub use tokens::{TokenFileError, Tokens, MAX_TOKEN_LEN, MIN_TOKEN_LEN};

/// Refused requests, by protocol and reason (`missing`, `wrong`).
pub const FAILURES: &str = "snowdrift_auth_failures_total";
/// Reloads of the token file, by result (`ok`, `error`).
pub const RELOADS: &str = "snowdrift_auth_reloads_total";

/// Who may use the service: everyone, or holders of a token from the token file.
#[derive(Debug, Clone)]
pub struct Auth {
    guarded: Option<Arc<Guarded>>,
    protect_probes: bool,
}

#[derive(Debug)]
struct Guarded {
    file: PathBuf,
    tokens: ArcSwap<Tokens>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// It carried no token (or not in the form the protocol takes).
    Missing,
    /// It carried a token that is not in the file.
    Wrong,
}

impl Refusal {
    /// The `reason` label of the failure counter.
    pub const fn label(self) -> &'static str {
        match self {
            Refusal::Missing => "missing",
            Refusal::Wrong => "wrong",
        }
    }
}

impl Auth {
    /// No token needed anywhere.
    pub fn open() -> Auth {
        Auth {
            guarded: None,
            protect_probes: false,
        }
    }

    /// Tokens from `file`; `protect_probes` also guards the health and metrics routes.
    pub fn from_file(file: &Path, protect_probes: bool) -> Result<Auth, TokenFileError> {
        let tokens = Tokens::read(file)?;
        Ok(Auth {
            guarded: Some(Arc::new(Guarded {
                file: file.to_path_buf(),
                tokens: ArcSwap::from_pointee(tokens),
            })),
            protect_probes,
        })
    }

    /// Whether a token is needed at all.
    pub fn enabled(&self) -> bool {
        self.guarded.is_some()
    }

    /// Whether a probe (health, readiness, metrics) needs a token too.
    pub fn guards_probes(&self) -> bool {
        self.enabled() && self.protect_probes
    }

    /// Counts a refusal decided by the protocol itself (a Redis user other than `default`,
    /// a command before `AUTH`). Does nothing without a token file.
    pub fn record(&self, protocol: &'static str, refusal: Refusal) {
        if self.enabled() {
            metrics::counter!(FAILURES, "protocol" => protocol, "reason" => refusal.label())
                .increment(1);
        }
    }

    /// Checks a presented token (`None`: the request carried none). Always `Ok` when no token
    /// file is set. A refusal is counted under `protocol`.
    pub fn check(&self, protocol: &'static str, presented: Option<&[u8]>) -> Result<(), Refusal> {
        let Some(guarded) = &self.guarded else {
            return Ok(());
        };
        let outcome = match presented {
            None => Err(Refusal::Missing),
            Some(token) if guarded.tokens.load().accepts(token) => Ok(()),
            Some(_) => Err(Refusal::Wrong),
        };
        if let Err(refusal) = outcome {
            self.record(protocol, refusal);
        }
        outcome
    }

    /// Checks an `authorization` header or metadata value: `Bearer <token>`.
    pub fn check_bearer(
        &self,
        protocol: &'static str,
        header: Option<&[u8]>,
    ) -> Result<(), Refusal> {
        if !self.enabled() {
            return Ok(());
        }
        self.check(protocol, header.and_then(bearer))
    }

    /// Re-reads the token file; returns how many tokens are accepted now. On an error the
    /// tokens in use stay. Does nothing without a token file.
    pub fn reload(&self) -> Result<Option<usize>, TokenFileError> {
        let Some(guarded) = &self.guarded else {
            return Ok(None);
        };
        let result = Tokens::read(&guarded.file);
        let label = if result.is_ok() { "ok" } else { "error" };
        metrics::counter!(RELOADS, "result" => label).increment(1);
        let tokens = result?;
        let count = tokens.len();
        guarded.tokens.store(Arc::new(tokens));
        Ok(Some(count))
    }
}

/// A token as a client presented it, kept only until it is checked. Its `Debug` shows no byte
/// of it, so a command or session printed for debugging does not leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct Presented(pub Vec<u8>);

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Presented(<redacted>)")
    }
}

/// The token of an `Authorization: Bearer <token>` value (the scheme in any case, as RFC 9110
/// has it).
///
/// ```
/// use snowdrift_service::auth::bearer;
/// assert_eq!(bearer(b"Bearer abc"), Some(&b"abc"[..]));
/// assert_eq!(bearer(b"bearer  abc "), Some(&b"abc"[..]));
/// assert_eq!(bearer(b"Basic abc"), None);
/// assert_eq!(bearer(b"Bearer "), None);
/// ```
pub fn bearer(value: &[u8]) -> Option<&[u8]> {
    let scheme = value.get(..7)?;
    if !scheme.eq_ignore_ascii_case(b"bearer ") {
        return None;
    }
    let token = value.get(7..)?.trim_ascii();
    (!token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123";

    fn guarded(dir: &tempfile::TempDir, text: &str) -> (Auth, PathBuf) {
        let file = dir.path().join("tokens");
        std::fs::write(&file, text).unwrap();
        (Auth::from_file(&file, false).unwrap(), file)
    }

    #[test]
    fn open_accepts_everything_and_guarded_needs_a_token() {
        assert_eq!(Auth::open().check("http", None), Ok(()));
        let dir = tempfile::tempdir().unwrap();
        let (auth, _) = guarded(&dir, &format!("{TOKEN}\n"));
        assert!(auth.enabled() && !auth.guards_probes());
        assert_eq!(auth.check("http", None), Err(Refusal::Missing));
        assert_eq!(auth.check("http", Some(b"nope")), Err(Refusal::Wrong));
        assert_eq!(auth.check("http", Some(TOKEN.as_bytes())), Ok(()));
        let header = format!("Bearer {TOKEN}");
        assert_eq!(auth.check_bearer("grpc", Some(header.as_bytes())), Ok(()));
        let basic = format!("Basic {TOKEN}");
        assert_eq!(
            auth.check_bearer("grpc", Some(basic.as_bytes())),
            Err(Refusal::Missing)
        );
    }

    #[test]
    fn a_reload_swaps_the_tokens_and_a_bad_file_keeps_the_old_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (auth, file) = guarded(&dir, &format!("{TOKEN}\n"));
        let new = "fedcba9876543210fedc";
        std::fs::write(&file, format!("{new}\n")).unwrap();
        assert_eq!(auth.reload().unwrap(), Some(1));
        assert_eq!(auth.check("resp", Some(new.as_bytes())), Ok(()));
        assert_eq!(
            auth.check("resp", Some(TOKEN.as_bytes())),
            Err(Refusal::Wrong)
        );
        std::fs::write(&file, "# emptied by mistake\n").unwrap();
        assert!(auth.reload().is_err());
        assert_eq!(auth.check("resp", Some(new.as_bytes())), Ok(()));
        assert_eq!(Auth::open().reload().unwrap(), None);
    }
}
