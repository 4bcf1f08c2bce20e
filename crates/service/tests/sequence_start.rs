//! `serve --sequence-start` (issue 14 §4) through the real binary: `carry` continues each
//! tick's sequence from the last one, `random` spreads a slow stream over `id % 16`, `zero`
//! (the default) starts every tick at 0, and a wrong mode is refused naming the choices.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{get, ServerBuilder};
use snowdrift::Layout;

/// 60 single IDs, a few ms apart so that most come from a tick of their own.
fn slow_ids(mode: &str) -> Vec<u64> {
    let server = ServerBuilder::new()
        .args(["--sequence-start", mode])
        .start();
    (0..60)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(3));
            let (status, _, body) = get(&server.url("/v1/id"));
            assert_eq!(status, 200, "{body}");
            let json: serde_json::Value = serde_json::from_str(&body).unwrap();
            json["id"].as_str().unwrap().parse().unwrap()
        })
        .collect()
}

fn sequences(ids: &[u64]) -> Vec<u64> {
    let layout = Layout::default();
    ids.iter()
        .map(|&id| {
            layout
                .decompose(snowdrift::Id::from_u64(id))
                .unwrap()
                .sequence
        })
        .collect()
}

#[test]
fn carry_continues_the_sequence_across_ticks() {
    let ids = slow_ids("carry");
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
    let sequences = sequences(&ids);
    // Each ID is the value after the one before, whatever tick it falls in.
    for pair in sequences.windows(2) {
        assert_eq!(pair[1], (pair[0] + 1) % 4096, "{sequences:?}");
    }
}

#[test]
fn zero_starts_every_tick_at_0_and_random_spreads_the_shards() {
    let zero = slow_ids("zero");
    let random = slow_ids("random");
    let shards = |ids: &[u64]| {
        ids.iter()
            .map(|id| id % 16)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    };
    // With `zero`, only IDs that shared a tick with the one before have a non-zero sequence.
    let zeros = sequences(&zero).iter().filter(|&&s| s == 0).count();
    assert!(zeros >= 40, "zero: {:?}", sequences(&zero));
    assert!(shards(&random) >= 10, "random: {:?}", sequences(&random));
    assert!(sequences(&random).iter().all(|&s| s < 2048 + 60));
}

#[test]
fn an_unknown_mode_is_refused_naming_the_choices() {
    let refused = ServerBuilder::new()
        .args(["--sequence-start", "middle"])
        .try_start()
        .err()
        .expect("must not start");
    assert_ne!(refused.code(), 0);
    for name in ["middle", "zero", "random", "carry"] {
        assert!(refused.stderr.contains(name), "{}", refused.stderr);
    }
}
