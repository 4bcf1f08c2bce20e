//! Many threads share one generator on the real clock: every ID is unique, each thread's IDs
//! increase, and every ID is a positive i64.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use std::collections::HashSet;
use std::sync::Arc;

use snowdrift::{IdGenerator, Layout};

const THREADS: usize = 4;
const PER_THREAD: usize = 500_000;

#[test]
fn threads_sharing_one_generator_never_collide() {
    let generator = Arc::new(
        IdGenerator::builder(Layout::default())
            .worker(7, 9)
            .build()
            .unwrap(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|i| {
            let generator = Arc::clone(&generator);
            std::thread::spawn(move || {
                let mut ids = Vec::with_capacity(PER_THREAD);
                while ids.len() < PER_THREAD {
                    // Mix single IDs and blocks, as a service would.
                    if ids.len() % 1000 == (i * 97) % 1000 {
                        ids.extend(generator.next_ids(100).unwrap());
                    } else {
                        ids.push(generator.next_id().unwrap());
                    }
                }
                ids
            })
        })
        .collect();
    let mut all = HashSet::with_capacity(THREADS * PER_THREAD * 2);
    let mut total = 0;
    for handle in handles {
        let ids = handle.join().unwrap();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "a thread's IDs went backwards"
        );
        for id in &ids {
            assert!(id.to_i64().is_some_and(|v| v > 0));
        }
        total += ids.len();
        all.extend(ids);
    }
    assert!(total >= THREADS * PER_THREAD);
    assert_eq!(all.len(), total, "duplicates across threads");
}

#[test]
fn borrowing_threads_never_collide_either() {
    let layout = Layout::builder()
        .sequence_bits(8)
        .machine_bits(9)
        .build()
        .unwrap();
    let generator = Arc::new(
        IdGenerator::builder(layout)
            .max_lead_ticks(3)
            .build()
            .unwrap(),
    );
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let generator = Arc::clone(&generator);
            std::thread::spawn(move || {
                (0..100_000)
                    .map(|_| generator.next_id().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all = HashSet::new();
    let mut total = 0;
    for handle in handles {
        let ids = handle.join().unwrap();
        total += ids.len();
        all.extend(ids);
    }
    assert_eq!(all.len(), total);
}

#[test]
fn a_sequence_that_never_fills_is_never_counted_as_exhausted() {
    // 2^22 IDs per ms cannot be reached here, so every counted wait would be a false report:
    // a thread whose reservation landed in a tick another thread had just moved to.
    // A 32-bit ms timestamp lasts ~49 days, so the epoch is yesterday.
    let yesterday = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        - 86_400_000;
    let layout = Layout::builder()
        .timestamp_bits(32)
        .sequence_bits(22)
        .epoch_ms(yesterday)
        .build()
        .unwrap();
    let generator = Arc::new(IdGenerator::builder(layout).build().unwrap());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let generator = Arc::clone(&generator);
            std::thread::spawn(move || {
                for _ in 0..300_000 {
                    generator.next_id().unwrap();
                }
            })
        })
        .collect();
    for handle in handles {
        handle.join().unwrap();
    }
    assert_eq!(generator.exhaustion_waits(), 0);
}
