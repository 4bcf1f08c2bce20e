//! Layout specs: the fuzzer's bytes are a layout (four widths, an epoch, a unit), a "now" and
//! an ID. A layout that validates decodes the ID, and every time and text form of it is
//! written.
//!
//! Asserted beyond "no panic" (`snowdrift::fuzzing::layout_decode_and_format`): compose ∘
//! decompose = id; an ID outside the layout is refused as out of range; every encoding
//! round-trips; no accepted layout ends past the last date the core can write.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    snowdrift::fuzzing::layout_decode_and_format(data);
});
