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
//! Cases, each on one thread:
//! - `next_id` (one ID per call) and `next_ids` (blocks of 4096 folded in one loop);
//! - `local`: one ID per call from an `IdGenerator::local()` handle;
//! - `block_next`: one ID at a time from a refilled 4096-ID `IdBlock` (issue 13 §2), and
//!   `next_ids_into`: one at a time from a buffer that `next_ids_into` refills;
//! - peers and baselines: `fetch_add` (a bare shared counter), `ferroid` (`next_id` with
//!   `yield_now` on every pending answer; one thread never loses a compare-exchange, so its
//!   settings run the same code), `snowflake_me_next_ids_into` (one at a time from the `Vec`
//!   its `next_ids_into(4096, ..)` refills).

// A failed generator call must stop the measurement loudly, so `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::hint::black_box;

use std::sync::atomic::{AtomicU64, Ordering};

use snowdrift::{Id, IdGenerator};
use snowdrift_benches::{fold, generators};

/// The batch of the one-at-a-time cases (issue 13 §2).
const BATCH: usize = 4096;

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

#[inline(never)]
fn measured_local(generator: &IdGenerator, calls: u64) -> u64 {
    let mut local = generator.local();
    let mut checksum = 0;
    for _ in 0..calls {
        checksum = fold(checksum, local.next_id().expect("snowdrift local").as_u64());
    }
    checksum
}

#[inline(never)]
fn measured_block_next(generator: &IdGenerator, calls: u64) -> u64 {
    let mut block = generator
        .next_ids(BATCH as u64)
        .expect("snowdrift next_ids");
    let mut checksum = 0;
    for _ in 0..calls {
        let id = match block.next() {
            Some(id) => id,
            None => {
                block = generator
                    .next_ids(BATCH as u64)
                    .expect("snowdrift next_ids");
                block.next().expect("a fresh block has IDs")
            }
        };
        checksum = fold(checksum, black_box(id.as_u64()));
    }
    checksum
}

#[inline(never)]
fn measured_next_ids_into(generator: &IdGenerator, calls: u64) -> u64 {
    let mut buffer = vec![Id::default(); BATCH];
    let mut next = BATCH;
    let mut checksum = 0;
    for _ in 0..calls {
        if next == BATCH {
            generator
                .next_ids_into(&mut buffer)
                .expect("snowdrift next_ids_into");
            next = 0;
        }
        checksum = fold(checksum, black_box(buffer[next].as_u64()));
        next += 1;
    }
    checksum
}

#[inline(never)]
fn measured_fetch_add(counter: &AtomicU64, calls: u64) -> u64 {
    let mut checksum = 0;
    for _ in 0..calls {
        checksum = fold(checksum, counter.fetch_add(1, Ordering::AcqRel));
    }
    checksum
}

#[inline(never)]
fn measured_ferroid(
    generator: &generators::FerroidAtomic<generators::FerroidWideId>,
    calls: u64,
) -> u64 {
    let mut checksum = 0;
    for _ in 0..calls {
        checksum = fold(checksum, generators::ferroid_next(generator));
    }
    checksum
}

#[inline(never)]
fn measured_snowflake_me_next_ids_into(generator: &snowflake_me::Snowflake, calls: u64) -> u64 {
    let mut buffer = Vec::with_capacity(BATCH);
    let mut next = 0;
    let mut checksum = 0;
    for _ in 0..calls {
        if next == buffer.len() {
            buffer.clear();
            generator
                .next_ids_into(BATCH, &mut buffer)
                .expect("snowflake_me next_ids_into");
            next = 0;
        }
        checksum = fold(checksum, black_box(buffer[next].as_u64()));
        next += 1;
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
        "local" => measured_local(&generator, count),
        "block_next" => measured_block_next(&generator, count),
        "next_ids_into" => measured_next_ids_into(&generator, count),
        "fetch_add" => measured_fetch_add(&AtomicU64::new(0), count),
        "ferroid" => {
            let ferroid = generators::ferroid_wide();
            black_box(generators::ferroid_next(&ferroid)); // warm-up
            measured_ferroid(&ferroid, count)
        }
        "snowflake_me_next_ids_into" => {
            let snowflake_me = generators::snowflake_me_wide();
            black_box(snowflake_me.next_id().expect("warm-up"));
            measured_snowflake_me_next_ids_into(&snowflake_me, count)
        }
        other => panic!(
            "unknown case {other:?}; use next_id, next_ids, local, block_next, next_ids_into, \
             fetch_add, ferroid or snowflake_me_next_ids_into"
        ),
    };
    println!(
        "{case}: {count} ids, checksum {checksum:x}, exhaustion waits {}",
        generator.exhaustion_waits()
    );
}
