//! The token file (`--auth-token-file`): one token per line, read into a set that can only be
//! compared against, never shown.
//!
//! Format: one token a line; surrounding whitespace is ignored, and so are blank lines and
//! lines whose first non-blank character is `#`. Several tokens are accepted at once, so a
//! token is rotated by adding the new one, moving clients over, then removing the old one
//! (each step a SIGHUP). A token must be 16 to 4096 visible ASCII characters with no spaces,
//! which is what an HTTP `Authorization: Bearer` header and a Redis `AUTH` argument can
//! both carry; `openssl rand -hex 32` makes a good one.
//!
//! Only SHA-256 digests of the tokens are kept. A presented token is hashed and compared with
//! every digest in constant time (`subtle`), without stopping at a match: the time taken says
//! neither which token matched, nor how much of one, nor how long the tokens are. Nothing here
//! formats a token: errors name the file and the line number, and `Debug` shows a count.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Shortest token accepted: 16 characters of a random hex string are 64 bits.
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest token accepted; a longer line is a mistake (a key file given by error).
pub const MAX_TOKEN_LEN: usize = 4096;

/// The accepted tokens, as digests.
#[derive(Clone, PartialEq, Eq)]
pub struct Tokens {
    digests: Vec<[u8; 32]>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tokens({} accepted)", self.digests.len())
    }
}

/// A token file that cannot be used. The message names the file and, for a bad token, its
/// line number; never the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct TokenFileError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub reason: String,
}

impl Tokens {
    /// Reads the token file at `path`.
    ///
    /// ```
    /// use snowdrift_service::auth::Tokens;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let file = dir.path().join("tokens");
    /// std::fs::write(&file, "# the new token, then the old one\nnew-0123456789abcdef\nold-0123456789abcdef\n")?;
    /// let tokens = Tokens::read(&file)?;
    /// assert_eq!(tokens.len(), 2);
    /// assert!(tokens.accepts(b"old-0123456789abcdef"));
    /// assert!(!tokens.accepts(b"old-0123456789abcdeX"));
    /// assert_eq!(format!("{tokens:?}"), "Tokens(2 accepted)");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(path: &Path) -> Result<Tokens, TokenFileError> {
        let fail = |reason: String| TokenFileError {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = std::fs::read(path).map_err(|err| fail(format!("cannot read: {err}")))?;
        // Not `String::from_utf8(..)?`: its error would carry the bytes.
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| fail("is not UTF-8 text (one token a line)".to_string()))?;
        Tokens::parse(text).map_err(fail)
    }

    /// Reads tokens from the text of a token file; the error says what is wrong, without the
    /// token.
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut digests = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let token = line.trim();
            if token.is_empty() || token.starts_with('#') {
                continue;
            }
            let number = index + 1;
            if let Err(problem) = check(token) {
                return Err(format!("line {number}: {problem}"));
            }
            let digest = digest(token.as_bytes());
            if !digests.contains(&digest) {
                digests.push(digest);
            }
        }
        if digests.is_empty() {
            return Err(
                "holds no token (one a line; blank lines and # comments are skipped)".to_string(),
            );
        }
        Ok(Tokens { digests })
    }

    /// How many distinct tokens are accepted.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    /// Whether no token is accepted (never true of a set that was read).
    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Whether `presented` is one of the tokens, in time that depends only on how many tokens
    /// there are.
    pub fn accepts(&self, presented: &[u8]) -> bool {
        let presented = digest(presented);
        let mut matched = subtle::Choice::from(0);
        for accepted in &self.digests {
            matched |= accepted.ct_eq(&presented);
        }
        matched.into()
    }
}

/// Why a line is not a token, in words that do not repeat it.
fn check(token: &str) -> Result<(), String> {
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "a token is visible ASCII without spaces (what an HTTP header carries)".to_string(),
        );
    }
    let len = token.len();
    if len < MIN_TOKEN_LEN {
        return Err(format!(
            "a token needs at least {MIN_TOKEN_LEN} characters (this one has {len}); make one \
             with `openssl rand -hex 32`"
        ));
    }
    if len > MAX_TOKEN_LEN {
        return Err(format!(
            "a token has at most {MAX_TOKEN_LEN} characters (this line has {len})"
        ));
    }
    Ok(())
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "aaaaaaaaaaaaaaaa-first";
    const B: &str = "bbbbbbbbbbbbbbbb-second";

    #[test]
    fn comments_blank_lines_and_whitespace_are_skipped() {
        let tokens = Tokens::parse(&format!(
            "# rotation in progress\n\n  {A}  \r\n\t# old:\n{B}\n{A}\n"
        ))
        .unwrap();
        assert_eq!(tokens.len(), 2, "the repeated token counts once");
        assert!(tokens.accepts(A.as_bytes()));
        assert!(tokens.accepts(B.as_bytes()));
        assert!(!tokens.accepts(b""));
        assert!(!tokens.accepts(format!("{A} ").as_bytes()));
        assert!(!tokens.accepts(&A.as_bytes()[..A.len() - 1]));
    }

    #[test]
    fn bad_lines_are_named_by_number_and_never_quoted() {
        for (text, needle) in [
            ("short\n", "line 1: a token needs at least 16"),
            (
                "# c\n\nzebra blank inside!\n",
                "line 3: a token is visible ASCII",
            ),
            ("   \n# zzz\n", "holds no token"),
            ("", "holds no token"),
        ] {
            let err = Tokens::parse(text).unwrap_err();
            assert!(err.contains(needle), "{text:?} → {err}");
            for word in text.split_whitespace().filter(|w| w.len() > 3) {
                assert!(!err.contains(word), "{err} quotes {word:?}");
            }
        }
        let long = "x".repeat(MAX_TOKEN_LEN + 1);
        assert!(Tokens::parse(&long).unwrap_err().contains("at most"));
    }

    #[test]
    fn a_file_that_cannot_be_read_names_the_file() {
        let err = Tokens::read(Path::new("/nonexistent/tokens")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("/nonexistent/tokens: cannot read"));
        let dir = tempfile::tempdir().unwrap();
        let binary = dir.path().join("key.der");
        std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x41]).unwrap();
        let err = Tokens::read(&binary).unwrap_err();
        assert!(err.reason.contains("not UTF-8"), "{err}");
    }
}
