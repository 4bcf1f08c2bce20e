//! ID text: the fuzzer's bytes as the text of an ID, read in every encoding (decimal, base32,
//! base62, hex), by detection and by `FromStr`, and as a preset and an encoding name.
//!
//! Asserted beyond "no panic" (`snowdrift::fuzzing::parse_text`): every ID read writes back in
//! its encoding and reads again to itself (decode ∘ encode = id); text that is no ID is
//! refused as `invalid_id`; a preset or encoding name read writes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    snowdrift::fuzzing::parse_bytes(data);
});
