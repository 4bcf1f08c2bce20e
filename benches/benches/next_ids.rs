//! Case 3: blocks of IDs. `next_ids(n)` for n = 1000 and 4096, with every ID of the block
//! consumed (folded into a checksum), so the time per ID is the amortised cost of really
//! having each ID.
//!
//! Compared in the same run with:
//! - the baseline: one bare `fetch_add(n)` and the same fold over the `n` reserved integers,
//!   the least any block API can cost;
//! - `n` separate `next_id` calls on our generator, what batching saves;
//! - snowflake_me's batch API, `next_ids_into` into a reused buffer (its allocation-free form).
//!
//! And the pattern a server has (issue 13 §2): each ID taken **one at a time** from a refilled
//! batch of `n`, every ID through `black_box`, so no loop over the batch turns into a bulk
//! operation: from an `IdBlock` (`snowdrift_block_one_at_a_time`), from a buffer that
//! `next_ids_into` refills (`snowdrift_next_ids_into_one_at_a_time`), and from the `Vec` that
//! snowflake_me's `next_ids_into` refills (`snowflake_me_next_ids_into_one_at_a_time`).
//!
//! Ferroid has no batch API. The layouts are the wide ones (22-bit sequence), so a block never
//! has to wait for the next tick.

// A failed generator call must fail the benchmark loudly, not be timed as a fast ID, so
// `expect` is allowed here.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use criterion::{BenchmarkId, Criterion, Throughput};
use snowdrift_benches::{fold, generators};

const SIZES: [u64; 2] = [1000, 4096];

fn next_ids(c: &mut Criterion) {
    let mut group = c.benchmark_group("core_next_ids");
    let ours = generators::snowdrift_wide();
    let snowflake_me = generators::snowflake_me_wide();
    let counter = AtomicU64::new(0);

    for n in SIZES {
        group.throughput(Throughput::Elements(n));

        group.bench_with_input(
            BenchmarkId::new("baseline_fetch_add_fold", n),
            &n,
            |b, &n| {
                b.iter(|| {
                    let first = counter.fetch_add(n, Ordering::AcqRel);
                    black_box((first..first + n).fold(0, fold))
                });
            },
        );

        group.bench_with_input(BenchmarkId::new("snowdrift_next_ids", n), &n, |b, &n| {
            b.iter(|| {
                let block = ours.next_ids(n).expect("snowdrift next_ids");
                black_box(block.fold(0, |sum, id| fold(sum, id.as_u64())))
            });
        });

        group.bench_with_input(
            BenchmarkId::new("snowdrift_next_id_loop", n),
            &n,
            |b, &n| {
                b.iter(|| {
                    let mut sum = 0;
                    for _ in 0..n {
                        sum = fold(sum, ours.next_id().expect("snowdrift next_id").as_u64());
                    }
                    black_box(sum)
                });
            },
        );

        group.bench_with_input(
            BenchmarkId::new("snowdrift_block_one_at_a_time", n),
            &n,
            |b, &n| {
                b.iter(|| {
                    let block = ours.next_ids(n).expect("snowdrift next_ids");
                    let mut sum = 0;
                    // A `for` loop calls `next()` for each ID, as a server taking them does.
                    for id in block {
                        sum = fold(sum, black_box(id.as_u64()));
                    }
                    sum
                });
            },
        );

        let capacity = usize::try_from(n).expect("block size fits usize");
        let mut ours_buffer = vec![snowdrift::Id::default(); capacity];
        group.bench_with_input(
            BenchmarkId::new("snowdrift_next_ids_into_one_at_a_time", n),
            &n,
            |b, _| {
                b.iter(|| {
                    ours.next_ids_into(&mut ours_buffer)
                        .expect("snowdrift next_ids_into");
                    let mut sum = 0;
                    for id in &ours_buffer {
                        sum = fold(sum, black_box(id.as_u64()));
                    }
                    sum
                });
            },
        );

        let mut buffer = Vec::with_capacity(capacity);
        group.bench_with_input(
            BenchmarkId::new("snowflake_me_next_ids_into", n),
            &capacity,
            |b, &count| {
                b.iter(|| {
                    buffer.clear();
                    snowflake_me
                        .next_ids_into(count, &mut buffer)
                        .expect("snowflake_me next_ids_into");
                    black_box(buffer.iter().fold(0, |sum, id| fold(sum, id.as_u64())))
                });
            },
        );
        group.bench_with_input(
            BenchmarkId::new("snowflake_me_next_ids_into_one_at_a_time", n),
            &capacity,
            |b, &count| {
                b.iter(|| {
                    buffer.clear();
                    snowflake_me
                        .next_ids_into(count, &mut buffer)
                        .expect("snowflake_me next_ids_into");
                    let mut sum = 0;
                    for id in &buffer {
                        sum = fold(sum, black_box(id.as_u64()));
                    }
                    sum
                });
            },
        );
    }
    group.finish();

    if ours.exhaustion_waits() > 0 {
        // A 22-bit tick holds more than this thread can take in a ms, so these are blocks that
        // landed past a stale clock read (a late ticker), each costing a clock publish.
        eprintln!(
            "note: snowdrift took the wait path {} times",
            ours.exhaustion_waits()
        );
    }
}

fn main() {
    // What `criterion_group!`/`criterion_main!` expand to, written out so the generated
    // group function does not trip the workspace's `missing_docs` lint.
    let mut criterion = snowdrift_benches::criterion_config().configure_from_args();
    next_ids(&mut criterion);
    criterion.final_summary();
}
