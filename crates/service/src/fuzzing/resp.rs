//! The RESP target: bytes as a client sends them, read frame after frame (pipelined) by the
//! frame parser, each frame's words looked up and parsed as a command, and, with a
//! [`Harness`], run against a real node.
//!
//! Beyond "no panic" it checks, for every frame found: it lies inside the buffer and inside
//! every [`Limits`] bound; it is the same frame when the bytes after it are cut off, and
//! incomplete when its last byte is; its words, written back as a multibulk array, parse to the
//! same words (parse ∘ format = id); a refused command's `-ERR` reply is one line; a command
//! that runs writes a reply.

use std::ops::Range;

use super::Harness;
use crate::resp::cmd::{Command, Session};
use crate::resp::frame::{self, Limits, Parsed};
use crate::resp::reply::Version;

/// Reads every frame of `data` until the first incomplete or malformed one; returns how many
/// frames were read. Commands are run on `harness` when one is given.
pub fn frames(data: &[u8], harness: Option<&Harness>) -> usize {
    let limits = Limits::default();
    // No token file, as `serve` runs by default: every command runs.
    let auth = crate::auth::Auth::open();
    let mut session = Session {
        id: 1,
        authenticated: !auth.enabled(),
        auth,
        version: Version::Resp2,
        name: None,
    };
    let mut args = Vec::new();
    let mut at = 0;
    let mut count = 0;
    while at < data.len() {
        let buf = &data[at..];
        let len = match frame::parse(buf, &limits, &mut args) {
            Ok(Parsed::Frame { len }) => len,
            Ok(Parsed::Incomplete) => {
                assert!(
                    buf.len() < limits.max_frame,
                    "incomplete at the frame limit"
                );
                break;
            }
            Err(_) => break,
        };
        check_frame(buf, len, &args, &limits);
        if !args.is_empty() {
            command(buf, &args, harness, &mut session);
        }
        count += 1;
        at += len;
    }
    count
}

/// The properties of one frame of `len` bytes at the start of `buf`, with words `args`.
fn check_frame(buf: &[u8], len: usize, args: &[Range<usize>], limits: &Limits) {
    assert!(
        len > 0 && len <= buf.len() && len <= limits.max_frame,
        "{len}"
    );
    assert!(args.len() <= limits.max_args, "{} arguments", args.len());
    for arg in args {
        assert!(
            arg.start <= arg.end && arg.end <= len,
            "{arg:?} outside {len}"
        );
        assert!(
            arg.len() <= limits.max_bulk,
            "an argument of {} bytes",
            arg.len()
        );
    }
    let mut again = Vec::new();
    assert_eq!(
        frame::parse(&buf[..len], limits, &mut again),
        Ok(Parsed::Frame { len }),
        "the bytes after a frame changed it"
    );
    assert_eq!(again, args, "the bytes after a frame changed its words");
    assert_eq!(
        frame::parse(&buf[..len - 1], limits, &mut again),
        Ok(Parsed::Incomplete),
        "a frame cut short is not incomplete"
    );

    let words: Vec<&[u8]> = args.iter().map(|arg| &buf[arg.clone()]).collect();
    let encoded = multibulk(&words);
    if !words.is_empty() && encoded.len() <= limits.max_frame {
        assert_eq!(
            frame::parse(&encoded, limits, &mut again),
            Ok(Parsed::Frame { len: encoded.len() }),
            "the words written as an array are not one frame"
        );
        let reread: Vec<&[u8]> = again.iter().map(|arg| &encoded[arg.clone()]).collect();
        assert_eq!(
            reread, words,
            "the words written as an array read back differently"
        );
    }
}

/// `words` as a RESP array of bulk strings, as a client library sends a command.
pub fn multibulk(words: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", words.len()).into_bytes();
    for word in words {
        out.extend_from_slice(format!("${}\r\n", word.len()).as_bytes());
        out.extend_from_slice(word);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Looks up and parses the command in `args`; runs it on `harness` if there is one.
fn command(buf: &[u8], args: &[Range<usize>], harness: Option<&Harness>, session: &mut Session) {
    match Command::parse(buf, args) {
        Ok(command) => {
            let Some(harness) = harness else { return };
            let mut out = Vec::new();
            harness.block_on(command.apply(harness.app(), session, &mut out));
            assert!(!out.is_empty(), "a command wrote no reply");
        }
        Err(refused) => {
            let mut out = Vec::new();
            refused.reply(&mut out, session.version);
            assert!(
                out.starts_with(b"-ERR "),
                "{:?}",
                String::from_utf8_lossy(&out)
            );
            let line_ends = out.iter().filter(|&&b| b == b'\r' || b == b'\n').count();
            assert!(
                out.ends_with(b"\r\n") && line_ends == 2,
                "a refusal is not one line: {:?}",
                String::from_utf8_lossy(&out)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipelined_frames_are_read_in_order() {
        let data =
            b"*1\r\n$4\r\nPING\r\nNEXTIDS 3\r\nNOPE x\r\n*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n*1\r";
        assert_eq!(frames(data, None), 4);
        assert_eq!(frames(b"*x\r\nPING\r\n", None), 0);
    }

    #[test]
    fn a_command_runs_on_a_harness() {
        let dir = tempfile::tempdir().unwrap();
        let harness = Harness::start(dir.path()).unwrap();
        let data = multibulk(&[b"NEXTIDS", b"5"]);
        assert_eq!(frames(&data, Some(&harness)), 1);
        assert_eq!(
            frames(b"DECODE 175928847299117063\r\nQUIT\r\n", Some(&harness)),
            2
        );
    }
}
