//! The request side of RESP: turns the bytes a client sent into one command's arguments.
//!
//! A client sends a command as an array of bulk strings (`*2\r\n$7\r\nNEXTIDS\r\n$2\r\n10\r\n`),
//! or, typed by hand into a socket, as an inline line (`NEXTIDS 10\r\n`). That is all a server
//! has to read, so this parser reads only that, which keeps it small enough to check by
//! property tests, and lets it enforce every limit as soon as the bytes that break it arrive:
//! a bulk or array length over the limit is refused at its header, before any payload is
//! buffered, and a frame that is still incomplete at [`Limits::max_frame`] bytes is refused
//! without waiting for the rest.
//!
//! The parser is incremental and keeps no state between calls: [`parse`] either finds a whole
//! frame at the start of the buffer, says it needs more bytes, or names the protocol error.
//! Arguments are returned as ranges into the caller's buffer, so nothing is copied.

use std::ops::Range;

/// Bounds on what one request may be. A request over any of them is a protocol error, answered
/// with `-ERR Protocol error: …` before the connection is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes one request frame may take, headers included.
    pub max_frame: usize,
    /// Most arguments (the command name included) in one request.
    pub max_args: usize,
    /// Most bytes in one argument.
    pub max_bulk: usize,
}

impl Default for Limits {
    /// Generous for every command Snowdrift knows (the longest is `HELLO 3 AUTH user pass
    /// SETNAME name`), and small enough that a connection's buffer stays a few kilobytes.
    fn default() -> Limits {
        Limits {
            max_frame: 16 * 1024,
            max_args: 64,
            max_bulk: 4 * 1024,
        }
    }
}

/// Why bytes are not a request. Every variant ends the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The array header's length is not a number, or is over [`Limits::max_args`].
    #[error("invalid multibulk length")]
    ArrayLength,
    /// An array element is not a bulk string (`$`).
    #[error("expected '$', got '{}'", char::from(*.0))]
    ExpectedBulk(u8),
    /// A bulk header's length is not a number, or is over [`Limits::max_bulk`]; or an inline
    /// argument is longer than that.
    #[error("invalid bulk length")]
    BulkLength,
    /// A bulk string is not followed by `\r\n`.
    #[error("bulk string not terminated by CRLF")]
    BulkTerminator,
    /// A header line (`*…` or `$…`) is not terminated by `\r\n` in the few bytes it may take.
    #[error("invalid header line")]
    Header,
    /// The frame is (or would be) larger than [`Limits::max_frame`].
    #[error("request larger than {0} bytes")]
    TooBig(usize),
}

/// The longest header line: a sign, 19 digits and CRLF fit easily.
const MAX_HEADER: usize = 24;

/// What [`parse`] found at the start of the buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    /// A whole frame of `len` bytes; its arguments were pushed as ranges of the buffer. An
    /// empty inline line or an empty array has no arguments and is to be skipped.
    Frame {
        /// Bytes the frame takes.
        len: usize,
    },
    /// The buffer holds only the beginning of a frame: read more.
    Incomplete,
}

/// Parses the frame at the start of `buf`, pushing its arguments into `args` (cleared first).
pub fn parse(
    buf: &[u8],
    limits: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtocolError> {
    args.clear();
    let result = match buf.first() {
        None => Ok(Parsed::Incomplete),
        Some(b'*') => multibulk(buf, limits, args),
        Some(_) => inline(buf, limits, args),
    };
    match result {
        Ok(Parsed::Incomplete) if buf.len() >= limits.max_frame => {
            Err(ProtocolError::TooBig(limits.max_frame))
        }
        Ok(Parsed::Frame { len }) if len > limits.max_frame => {
            Err(ProtocolError::TooBig(limits.max_frame))
        }
        other => other,
    }
}

/// `*<n>\r\n` followed by `n` bulk strings `$<len>\r\n<bytes>\r\n`.
fn multibulk(
    buf: &[u8],
    limits: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtocolError> {
    let Some((count, mut at)) = header(buf, 0)? else {
        return Ok(Parsed::Incomplete);
    };
    // Redis skips a request of zero (or null, -1) arguments; so do we.
    if count <= 0 {
        return Ok(Parsed::Frame { len: at });
    }
    let count = usize::try_from(count).map_err(|_| ProtocolError::ArrayLength)?;
    if count > limits.max_args {
        return Err(ProtocolError::ArrayLength);
    }
    for _ in 0..count {
        let Some(&kind) = buf.get(at) else {
            return Ok(Parsed::Incomplete);
        };
        if kind != b'$' {
            return Err(ProtocolError::ExpectedBulk(kind));
        }
        let Some((len, start)) = header(buf, at)? else {
            return Ok(Parsed::Incomplete);
        };
        let len = usize::try_from(len).map_err(|_| ProtocolError::BulkLength)?;
        if len > limits.max_bulk {
            return Err(ProtocolError::BulkLength);
        }
        let end = start + len;
        if buf.len() < end + 2 {
            // Not all there yet; refuse early if it can never fit.
            if end + 2 > limits.max_frame {
                return Err(ProtocolError::TooBig(limits.max_frame));
            }
            return Ok(Parsed::Incomplete);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(ProtocolError::BulkTerminator);
        }
        args.push(start..end);
        at = end + 2;
    }
    Ok(Parsed::Frame { len: at })
}

/// Reads the header line at `at` (`*<n>\r\n` or `$<n>\r\n`): its number, and where the line
/// ends. `None` if the line is not complete yet.
fn header(buf: &[u8], at: usize) -> Result<Option<(i64, usize)>, ProtocolError> {
    let line = &buf[at + 1..];
    let window = &line[..line.len().min(MAX_HEADER)];
    let Some(cr) = window.iter().position(|&b| b == b'\r' || b == b'\n') else {
        return if window.len() == MAX_HEADER {
            Err(ProtocolError::Header)
        } else {
            Ok(None)
        };
    };
    if line[cr] == b'\n' {
        // A bare LF: no CRLF can follow, so waiting would only let the client hang on.
        return Err(ProtocolError::Header);
    }
    match line.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(ProtocolError::Header),
    }
    let number = parse_i64(&line[..cr]).ok_or(match buf[at] {
        b'*' => ProtocolError::ArrayLength,
        _ => ProtocolError::BulkLength,
    })?;
    Ok(Some((number, at + 1 + cr + 2)))
}

/// A decimal `i64`, optionally negative, with no other characters.
fn parse_i64(digits: &[u8]) -> Option<i64> {
    let (negative, digits) = match digits.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, digits),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

/// A line of words separated by spaces or tabs, ended by `\n` (an `\r` before it is dropped).
fn inline(
    buf: &[u8],
    limits: &Limits,
    args: &mut Vec<Range<usize>>,
) -> Result<Parsed, ProtocolError> {
    let window = &buf[..buf.len().min(limits.max_frame)];
    let Some(newline) = window.iter().position(|&b| b == b'\n') else {
        return Ok(Parsed::Incomplete);
    };
    let mut end = newline;
    if end > 0 && buf[end - 1] == b'\r' {
        end -= 1;
    }
    // An inline word is an argument like a bulk string, and held to the same limit.
    let push = |args: &mut Vec<Range<usize>>, word: Range<usize>| {
        if word.len() > limits.max_bulk {
            return Err(ProtocolError::BulkLength);
        }
        args.push(word);
        Ok(())
    };
    let mut start = None;
    for (i, &byte) in buf[..end].iter().enumerate() {
        let blank = byte == b' ' || byte == b'\t';
        match (start, blank) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                push(args, s..i)?;
                start = None;
            }
            _ => {}
        }
        if args.len() > limits.max_args {
            return Err(ProtocolError::ArrayLength);
        }
    }
    if let Some(s) = start {
        push(args, s..end)?;
    }
    if args.len() > limits.max_args {
        return Err(ProtocolError::ArrayLength);
    }
    Ok(Parsed::Frame { len: newline + 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(buf: &[u8]) -> Result<(Parsed, Vec<&[u8]>), ProtocolError> {
        let mut args = Vec::new();
        let parsed = parse(buf, &Limits::default(), &mut args)?;
        Ok((parsed, args.into_iter().map(|r| &buf[r]).collect()))
    }

    #[test]
    fn reads_a_multibulk_command() {
        let buf = b"*2\r\n$7\r\nNEXTIDS\r\n$2\r\n10\r\n*1\r\n";
        let (parsed, args) = words(buf).unwrap();
        assert_eq!(parsed, Parsed::Frame { len: 25 });
        assert_eq!(args, [&b"NEXTIDS"[..], b"10"]);
    }

    #[test]
    fn reads_an_inline_command() {
        let (parsed, args) = words(b"  NEXTIDS\t 10 \r\nPING").unwrap();
        assert_eq!(parsed, Parsed::Frame { len: 16 });
        assert_eq!(args, [&b"NEXTIDS"[..], b"10"]);
        let (parsed, args) = words(b"\r\n").unwrap();
        assert_eq!(parsed, Parsed::Frame { len: 2 });
        assert!(args.is_empty());
    }

    #[test]
    fn waits_for_the_rest_of_a_frame() {
        for buf in [
            &b"*"[..],
            b"*2",
            b"*2\r",
            b"*2\r\n$7\r\nNEXT",
            b"*1\r\n$4\r\nPING\r",
            b"PIN",
        ] {
            assert_eq!(words(buf).unwrap().0, Parsed::Incomplete, "{buf:?}");
        }
    }

    #[test]
    fn skips_empty_and_null_arrays() {
        assert_eq!(
            words(b"*0\r\n").unwrap(),
            (Parsed::Frame { len: 4 }, vec![])
        );
        assert_eq!(
            words(b"*-1\r\n").unwrap(),
            (Parsed::Frame { len: 5 }, vec![])
        );
    }

    #[test]
    fn refuses_malformed_frames() {
        let cases: [(&[u8], ProtocolError); 9] = [
            (b"*x\r\n", ProtocolError::ArrayLength),
            (b"*1x\r\n", ProtocolError::ArrayLength),
            (b"*\r\n", ProtocolError::ArrayLength),
            (b"*65\r\n", ProtocolError::ArrayLength),
            (b"*1\r\n:4\r\n", ProtocolError::ExpectedBulk(b':')),
            (b"*1\r\n$-1\r\n", ProtocolError::BulkLength),
            (b"*1\r\n$4097\r\n", ProtocolError::BulkLength),
            (b"*1\r\n$4\r\nPINGxx", ProtocolError::BulkTerminator),
            (b"*1\n", ProtocolError::Header),
        ];
        for (buf, expected) in cases {
            assert_eq!(words(buf).unwrap_err(), expected, "{buf:?}");
        }
        let long = [b'*'; 30];
        assert_eq!(words(&long).unwrap_err(), ProtocolError::Header);
    }

    #[test]
    fn an_inline_argument_is_held_to_the_bulk_limit() {
        // Found while writing the fuzz target's limit check: inline words had no length limit,
        // so one argument could take the whole 16 KiB frame, four times `max_bulk`.
        let limits = Limits::default();
        let mut line = b"ECHO ".to_vec();
        line.extend(std::iter::repeat_n(b'x', limits.max_bulk));
        line.extend_from_slice(b"\r\n");
        assert_eq!(words(&line).unwrap().1[1].len(), limits.max_bulk);
        line.insert(5, b'x');
        assert_eq!(words(&line).unwrap_err(), ProtocolError::BulkLength);
    }

    #[test]
    fn refuses_oversized_frames_before_they_arrive() {
        let limits = Limits::default();
        // An inline line with no end in sight.
        let endless = vec![b'a'; limits.max_frame];
        assert_eq!(
            words(&endless).unwrap_err(),
            ProtocolError::TooBig(limits.max_frame)
        );
        // Many bulk strings that are each allowed but together too big: refused at the header
        // of the one that cannot fit, with its payload not yet sent.
        let mut many = b"*64\r\n".to_vec();
        for _ in 0..4 {
            many.extend_from_slice(b"$4096\r\n");
            many.extend_from_slice(&[b'x'; 4096]);
            many.extend_from_slice(b"\r\n");
        }
        assert_eq!(
            words(&many).unwrap_err(),
            ProtocolError::TooBig(limits.max_frame)
        );
    }
}
