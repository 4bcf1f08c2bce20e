//! Property tests of the RESP request parser: the fuzzing the issue asks for, run on every
//! `cargo test`.
//!
//! What is proved, for inputs proptest generates and shrinks:
//! - a well-formed command, multibulk or inline, reads back as exactly its arguments;
//! - every strict prefix of a well-formed frame is "incomplete", never an error or a frame;
//! - pipelined frames read back one after another, in order;
//! - arbitrary bytes never panic, and any frame found lies inside the buffer;
//! - the verdict on a buffer is final: bytes appended later never turn a frame or an error
//!   into something else, so the server's incremental reads agree with a one-shot read.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use snowdrift_service::resp::frame::{parse, Limits, Parsed};

fn multibulk(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for arg in args {
        out.extend_from_slice(format!("${}\r\n", arg.len()).as_bytes());
        out.extend_from_slice(arg);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn read_all(buf: &[u8], limits: &Limits) -> Result<Vec<Vec<Vec<u8>>>, String> {
    let mut frames = Vec::new();
    let mut at = 0;
    let mut args = Vec::new();
    while at < buf.len() {
        match parse(&buf[at..], limits, &mut args) {
            Ok(Parsed::Frame { len }) => {
                frames.push(args.iter().map(|r| buf[at..][r.clone()].to_vec()).collect());
                at += len;
            }
            Ok(Parsed::Incomplete) => return Err(format!("incomplete at {at}")),
            Err(err) => return Err(err.to_string()),
        }
    }
    Ok(frames)
}

fn arg() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

fn command() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(arg(), 1..8)
}

/// A verdict, comparable across buffers.
#[derive(Debug, PartialEq)]
enum Verdict {
    Frame(usize, Vec<std::ops::Range<usize>>),
    Incomplete,
    Error(String),
}

fn verdict(buf: &[u8], limits: &Limits) -> Verdict {
    let mut args = Vec::new();
    match parse(buf, limits, &mut args) {
        Ok(Parsed::Frame { len }) => Verdict::Frame(len, args),
        Ok(Parsed::Incomplete) => Verdict::Incomplete,
        Err(err) => Verdict::Error(err.to_string()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_multibulk_command_reads_back(args in command()) {
        let bytes = multibulk(&args);
        prop_assert_eq!(read_all(&bytes, &Limits::default()).unwrap(), vec![args]);
    }

    #[test]
    fn an_inline_command_reads_back(words in prop::collection::vec("[A-Za-z0-9_:-]{1,12}", 1..8), crlf: bool) {
        let mut line = words.join(" ");
        line.push_str(if crlf { "\r\n" } else { "\n" });
        let expected: Vec<Vec<u8>> = words.iter().map(|w| w.as_bytes().to_vec()).collect();
        prop_assert_eq!(read_all(line.as_bytes(), &Limits::default()).unwrap(), vec![expected]);
    }

    #[test]
    fn every_prefix_of_a_frame_is_incomplete(args in command()) {
        let bytes = multibulk(&args);
        for end in 0..bytes.len() {
            prop_assert_eq!(verdict(&bytes[..end], &Limits::default()), Verdict::Incomplete, "prefix of {}", end);
        }
    }

    #[test]
    fn pipelined_frames_read_back_in_order(commands in prop::collection::vec(command(), 1..16)) {
        let bytes: Vec<u8> = commands.iter().flat_map(|c| multibulk(c)).collect();
        prop_assert_eq!(read_all(&bytes, &Limits::default()).unwrap(), commands);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_frames_stay_inside(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let limits = Limits { max_frame: 512, max_args: 8, max_bulk: 64 };
        match verdict(&bytes, &limits) {
            Verdict::Frame(len, args) => {
                prop_assert!(len <= bytes.len() && len <= limits.max_frame);
                prop_assert!(args.len() <= limits.max_args);
                prop_assert!(args.iter().all(|r| r.start <= r.end && r.end <= len));
            }
            Verdict::Incomplete => prop_assert!(bytes.len() < limits.max_frame),
            Verdict::Error(_) => {}
        }
    }

    #[test]
    fn a_verdict_is_final_whatever_follows(
        args in command(),
        flip in any::<(usize, u8)>(),
        cut in any::<usize>(),
        tail in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        // Start from a valid frame, damage one byte, cut it somewhere: a mix of complete,
        // incomplete and broken inputs that stay close to the grammar.
        let mut bytes = multibulk(&args);
        let at = flip.0 % bytes.len();
        bytes[at] = flip.1;
        bytes.truncate(cut % (bytes.len() + 1));
        let limits = Limits { max_frame: 256, max_args: 4, max_bulk: 32 };
        let before = verdict(&bytes, &limits);
        let mut longer = bytes.clone();
        longer.extend_from_slice(&tail);
        let after = verdict(&longer, &limits);
        match before {
            Verdict::Incomplete => {}
            decided => prop_assert_eq!(after, decided),
        }
    }
}

#[test]
fn limits_are_enforced_at_the_header() {
    let limits = Limits::default();
    let mut args = Vec::new();
    // A bulk length over the limit is refused before its payload is sent.
    let header = format!("*1\r\n${}\r\n", limits.max_bulk + 1);
    assert!(parse(header.as_bytes(), &limits, &mut args).is_err());
    let header = format!("*{}\r\n", limits.max_args + 1);
    assert!(parse(header.as_bytes(), &limits, &mut args).is_err());
    // At the limit is fine.
    let at_limit = multibulk(&[vec![b'x'; limits.max_bulk]]);
    assert!(matches!(
        parse(&at_limit, &limits, &mut args),
        Ok(Parsed::Frame { .. })
    ));
}
