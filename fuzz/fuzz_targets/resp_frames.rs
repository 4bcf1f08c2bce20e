//! RESP requests: the fuzzer's bytes are what a client sent on one connection. The service's
//! frame parser reads them frame after frame (pipelined), each frame's words are parsed as a
//! command, and each command runs against a real node on a local state directory.
//!
//! Asserted beyond "no panic" (`snowdrift_service::fuzzing::resp`): every frame lies inside
//! the buffer and every limit; a frame is the same with the bytes after it cut off, and
//! incomplete without its last byte; its words written back as an array parse to the same
//! words; a refusal is one `-ERR` line; a command that runs writes a reply.
#![no_main]

mod common;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use snowdrift_service::fuzzing::{resp, Harness};

static HARNESS: OnceLock<Harness> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let harness = HARNESS
        .get_or_init(|| Harness::start(&common::state_dir("resp_frames")).expect("start a node"));
    resp::frames(data, Some(harness));
});
