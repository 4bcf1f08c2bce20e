//! What a client needs to reach a guarded node: the CA its TLS endpoints are checked against,
//! an optional client certificate for mutual TLS, and the token sent with every request.
//!
//! The token is kept in a [`Token`] whose `Debug` shows no byte of it, so a configuration
//! printed for debugging, or logged, does not leak it; the headers made from it are marked
//! sensitive, which keeps them out of the HTTP libraries' own debug output too.

use crate::error::Error;

/// A bearer token, sent as `authorization: Bearer <token>` on gRPC and HTTP.
///
/// ```
/// let token = snowdrift_client::Token::new("0123456789abcdef-token")?;
/// assert_eq!(format!("{token:?}"), "Token(<redacted>)");
/// assert!(snowdrift_client::Token::new("two words").is_err());
/// # Ok::<(), snowdrift_client::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// A token; it must be visible ASCII without spaces (what a header can carry).
    pub fn new(text: impl Into<String>) -> Result<Token, Error> {
        let text = text.into();
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(Error::Config(
                "a token is visible ASCII without spaces".to_string(),
            ));
        }
        Ok(Token(text))
    }

    /// The first token of a token file's text: the first line that is neither blank nor a
    /// `#` comment, as the service reads its `--auth-token-file`.
    ///
    /// ```
    /// let token = snowdrift_client::Token::from_file_text("# rotated 2026-12\n\nnew-0123456789abcdef\nold\n")?;
    /// assert_eq!(token, snowdrift_client::Token::new("new-0123456789abcdef")?);
    /// # Ok::<(), snowdrift_client::Error>(())
    /// ```
    pub fn from_file_text(text: &str) -> Result<Token, Error> {
        let line = text
            .lines()
            .map(str::trim)
            .find(|line| !line.is_empty() && !line.starts_with('#'))
            .ok_or_else(|| Error::Config("the token file holds no token".to_string()))?;
        Token::new(line)
    }

    /// `Bearer <token>`, the value of the `authorization` header or metadata.
    pub(crate) fn bearer(&self) -> String {
        format!("Bearer {}", self.0)
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A client certificate chain and its private key, both PEM, for nodes with mutual TLS.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    /// The certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    /// The private key.
    pub key_pem: Vec<u8>,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsIdentity(<key redacted>)")
    }
}
