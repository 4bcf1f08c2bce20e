//! Stored coordination state: the fuzzer's bytes as a local slot's high-water file, and as
//! each value the etcd backend reads back (a slot's mark, the cluster record, a slot holder's
//! identity).
//!
//! Asserted beyond "no panic" (`snowdrift_coordination::fuzzing`): bytes decode or are refused
//! as corrupt state naming the file or key; a decoded mark re-encodes to the same value (for
//! etcd, to the very same bytes); a decoded mark beyond the layout is refused by the floor of a
//! new holding, any other gives the floor one tick above it; a decoded cluster record or holder
//! identity encodes and decodes to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    snowdrift_coordination::fuzzing::high_water_file(data);
    snowdrift_coordination::fuzzing::etcd_values(data);
});
