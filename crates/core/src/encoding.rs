//! Text forms of an ID: decimal, fixed-width Crockford base32, base62 and hex.
//!
//! The non-decimal forms are written by hand rather than taken from a crate because we need a
//! property the general-purpose crates don't give: **fixed width with leading zeros**, so that
//! sorting the strings sorts the IDs. The alphabets are in ASCII order for the same reason.
//! Parsers never panic; every malformed input yields [`Error::Parse`].

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::id::Id;

/// Crockford's base32 alphabet (no I, L, O, U), in ASCII order.
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// `0-9A-Za-z`, in ASCII order.
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Characters in each fixed-width form.
const BASE32_WIDTH: usize = 13;
const BASE62_WIDTH: usize = 11;
const HEX_WIDTH: usize = 16;

/// A text form of an ID.
///
/// ```
/// use snowdrift::{Encoding, Id};
/// let id = Id::from_u64(1_234_567_890);
/// for enc in Encoding::ALL {
///     assert_eq!(enc.decode(&enc.encode(id))?, id);
/// }
/// assert_eq!(Encoding::Hex.encode(id), "00000000499602d2");
/// assert_eq!(Encoding::detect("0x499602d2")?, id);
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Encoding {
    /// Base 10, no padding: `"175928847299117063"`.
    #[default]
    Decimal,
    /// Crockford base32, 13 characters, upper case; decoding ignores case and reads I/L as 1 and O as 0.
    Base32,
    /// Base62 (`0-9A-Za-z`), 11 characters.
    Base62,
    /// Lowercase hex, 16 characters; decoding ignores case and accepts a `0x` prefix.
    Hex,
}

impl Encoding {
    /// Every encoding.
    pub const ALL: [Encoding; 4] = [
        Encoding::Decimal,
        Encoding::Base32,
        Encoding::Base62,
        Encoding::Hex,
    ];

    /// The name used by `FromStr`, the CLI and the HTTP `format` parameter.
    pub const fn name(self) -> &'static str {
        match self {
            Encoding::Decimal => "decimal",
            Encoding::Base32 => "base32",
            Encoding::Base62 => "base62",
            Encoding::Hex => "hex",
        }
    }

    /// Writes `id` in this form.
    pub fn encode(self, id: Id) -> String {
        let raw = id.as_u64();
        match self {
            Encoding::Decimal => raw.to_string(),
            Encoding::Base32 => fixed_width(raw, BASE32, BASE32_WIDTH),
            Encoding::Base62 => fixed_width(raw, BASE62, BASE62_WIDTH),
            Encoding::Hex => fixed_width(raw, HEX, HEX_WIDTH),
        }
    }

    /// Reads an ID written in this form.
    pub fn decode(self, text: &str) -> Result<Id> {
        let fail = |reason| parse_error(text, self, reason);
        match self {
            Encoding::Decimal => {
                if text.is_empty() {
                    return Err(fail("empty"));
                }
                if !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(fail("expected only the digits 0-9"));
                }
                text.parse::<u64>()
                    .map(Id::from_u64)
                    .map_err(|_| fail("larger than 2^64 - 1"))
            }
            Encoding::Base32 => {
                if text.len() != BASE32_WIDTH {
                    return Err(fail("expected exactly 13 characters"));
                }
                radix_decode(text, 32, base32_digit)
                    .ok_or_else(|| fail("not Crockford base32, or over 64 bits"))
            }
            Encoding::Base62 => {
                if text.len() != BASE62_WIDTH {
                    return Err(fail("expected exactly 11 characters"));
                }
                radix_decode(text, 62, base62_digit)
                    .ok_or_else(|| fail("not base62 (0-9A-Za-z), or over 64 bits"))
            }
            Encoding::Hex => {
                let digits = text
                    .strip_prefix("0x")
                    .or_else(|| text.strip_prefix("0X"))
                    .unwrap_or(text);
                if digits.is_empty() || digits.len() > HEX_WIDTH {
                    return Err(fail("expected 1 to 16 hex digits"));
                }
                radix_decode(digits, 16, hex_digit).ok_or_else(|| fail("not hex (0-9a-f)"))
            }
        }
    }

    /// Reads an ID in whichever form it appears to be, trying these rules in order:
    /// 1. `0x` or `0X` followed by 1 to 16 hex digits is hex;
    /// 2. only digits is decimal;
    /// 3. 13 characters is base32, 11 is base62, 16 is hex.
    ///
    /// The fixed-width forms can look like an earlier rule (a hex form made only of digits, a
    /// base62 form starting `0x`); such text is read by the earlier rule. Name the encoding
    /// with [`Encoding::decode`] when that matters.
    pub fn detect(text: &str) -> Result<Id> {
        let text = text.trim();
        if looks_like_prefixed_hex(text) {
            return Encoding::Hex.decode(text);
        }
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return Encoding::Decimal.decode(text);
        }
        match text.len() {
            BASE32_WIDTH => Encoding::Base32.decode(text),
            BASE62_WIDTH => Encoding::Base62.decode(text),
            HEX_WIDTH => Encoding::Hex.decode(text),
            _ => Err(Error::Parse {
                input: text.chars().take(64).collect(),
                encoding: "decimal, base32, base62 or hex",
                reason:
                    "expected digits, 13 base32, 11 base62 or 16 hex characters, or 0x-prefixed hex",
            }),
        }
    }
}

/// `0x`/`0X` and then 1 to 16 hex digits: rule 1 of [`Encoding::detect`].
fn looks_like_prefixed_hex(text: &str) -> bool {
    text.strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .is_some_and(|digits| {
            (1..=HEX_WIDTH).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_hexdigit())
        })
}

fn parse_error(text: &str, encoding: Encoding, reason: &'static str) -> Error {
    Error::Parse {
        input: text.chars().take(64).collect(),
        encoding: encoding.name(),
        reason,
    }
}

fn fixed_width(mut raw: u64, alphabet: &[u8], width: usize) -> String {
    let radix = alphabet.len() as u64;
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = alphabet[(raw % radix) as usize];
        raw /= radix;
    }
    // Every byte comes from an ASCII alphabet.
    out.into_iter().map(char::from).collect()
}

fn radix_decode(text: &str, radix: u64, digit: fn(u8) -> Option<u64>) -> Option<Id> {
    text.bytes()
        .try_fold(0u64, |acc, byte| {
            acc.checked_mul(radix)?.checked_add(digit(byte)?)
        })
        .map(Id::from_u64)
}

fn base32_digit(byte: u8) -> Option<u64> {
    let upper = match byte.to_ascii_uppercase() {
        b'I' | b'L' => b'1',
        b'O' => b'0',
        other => other,
    };
    BASE32.iter().position(|&c| c == upper).map(|p| p as u64)
}

fn base62_digit(byte: u8) -> Option<u64> {
    BASE62.iter().position(|&c| c == byte).map(|p| p as u64)
}

fn hex_digit(byte: u8) -> Option<u64> {
    (byte as char).to_digit(16).map(u64::from)
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Encoding {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::UnknownName {
                kind: "encoding",
                name: s.chars().take(64).collect(),
                expected: "decimal, base32, base62, hex",
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_widths_cover_u64_max() {
        assert_eq!(
            Encoding::Base32.encode(Id::from_u64(u64::MAX)),
            "FZZZZZZZZZZZZ"
        );
        assert_eq!(
            Encoding::Base62.encode(Id::from_u64(u64::MAX)),
            "LygHa16AHYF"
        );
        assert_eq!(
            Encoding::Hex.encode(Id::from_u64(u64::MAX)),
            "ffffffffffffffff"
        );
        assert_eq!(Encoding::Base32.encode(Id::from_u64(0)), "0000000000000");
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert!(Encoding::Base32.decode("G000000000000").is_err());
        assert!(Encoding::Base62.decode("LygHa16AHYG").is_err());
        assert!(Encoding::Decimal.decode("18446744073709551616").is_err());
    }

    #[test]
    fn crockford_aliases_are_accepted() {
        let canonical = Encoding::Base32.decode("0000000000011").unwrap();
        assert_eq!(Encoding::Base32.decode("00000000000il").unwrap(), canonical);
        assert_eq!(
            Encoding::Base32.decode("000000000000o").unwrap(),
            Id::from_u64(0)
        );
        assert!(Encoding::Base32.decode("000000000000U").is_err());
    }

    #[test]
    fn malformed_inputs_are_typed_errors() {
        for (enc, text) in [
            (Encoding::Decimal, ""),
            (Encoding::Decimal, "-1"),
            (Encoding::Decimal, "+1"),
            (Encoding::Decimal, "12a"),
            (Encoding::Base32, "short"),
            (Encoding::Base62, "!!!!!!!!!!!"),
            (Encoding::Hex, "0x"),
            (Encoding::Hex, "0x1ffffffffffffffff"),
            (Encoding::Hex, "xyz"),
        ] {
            let err = enc.decode(text).unwrap_err();
            assert_eq!(err.code(), "invalid_id", "{enc} {text:?}");
        }
        assert_eq!(
            "yaml".parse::<Encoding>().unwrap_err().code(),
            "unknown_name"
        );
    }
}
