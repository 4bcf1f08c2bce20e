//! Instructions per ID on one thread, counted by callgrind: deterministic where timings on a
//! shared VM are not.
//!
//! Each case runs its calls inside one `#[inline(never)]` function whose name starts with
//! `measured_`, so callgrind can count just those calls (`--toggle-collect`), leaving out
//! start-up, the warm-up and the clock's ticker thread. Dividing the count by the number of
//! calls gives instructions per ID, loop and checksum included (a few instructions, the same
//! before and after a change). The wide layout (32/5/5/22) keeps the per-tick limit out of the
//! count even though valgrind runs the program many times slower than native.
//!
//! ```text
//! cargo build --release -p snowdrift-benches --bin instructions
//! valgrind --tool=callgrind --toggle-collect='measured_*' --callgrind-out-file=cg.out \
//!     target/release/instructions next_id 1000000
//! callgrind_annotate cg.out | grep 'PROGRAM TOTALS'   # divide by 1000000
//! ```
//! Cases: `next_id` (one ID per call) and `next_ids` (blocks of 4096, every ID consumed).

// A failed generator call must stop the measurement loudly, so `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use snowdrift::IdGenerator;
use snowdrift_benches::{fold, generators};

#[inline(never)]
fn measured_next_id(generator: &IdGenerator, calls: u64) -> u64 {
    let mut checksum = 0;
    for _ in 0..calls {
        checksum = fold(
            checksum,
            generator.next_id().expect("snowdrift next_id").as_u64(),
        );
    }
    checksum
}

#[inline(never)]
fn measured_next_ids(generator: &IdGenerator, ids: u64) -> u64 {
    let mut checksum = 0;
    for _ in 0..ids / 4096 {
        for id in generator.next_ids(4096).expect("snowdrift next_ids") {
            checksum = fold(checksum, id.as_u64());
        }
    }
    checksum
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "next_id".to_string());
    let count: u64 = args
        .next()
        .map(|n| n.parse().expect("the count is a whole number"))
        .unwrap_or(1_000_000);
    let generator = generators::snowdrift_wide();
    // Warm-up outside the measured function: the first calls page in code and data.
    black_box(generator.next_ids(4096).expect("warm-up").count());
    let checksum = match case.as_str() {
        "next_id" => measured_next_id(&generator, count),
        "next_ids" => measured_next_ids(&generator, count),
        other => panic!("unknown case {other:?}; use next_id or next_ids"),
    };
    println!(
        "{case}: {count} ids, checksum {checksum:x}, exhaustion waits {}",
        generator.exhaustion_waits()
    );
}
