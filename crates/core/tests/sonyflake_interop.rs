//! The `sonyflake` preset against an independent Sonyflake implementation (the `sonyflake`
//! crate): every field of IDs it makes decodes the same under the preset, and IDs Snowdrift
//! makes under the preset decode the same under its `decompose`. Issue 14 §3.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use snowdrift::{GeneratorBuilder, Id, IdParts, Preset};

const MACHINE: u16 = 0xBEEF;

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as u64)
        .unwrap_or(0)
}

#[test]
fn ids_made_by_sonyflake_decode_field_by_field() {
    let machine = || Ok(MACHINE);
    let sonyflake = sonyflake::Sonyflake::builder()
        .machine_id(&machine)
        .finalize()
        .expect("a Sonyflake with a fixed machine ID");
    let layout = Preset::Sonyflake.layout();
    let before = now_unix_ms();
    // More than 256 in a row, so the sequence runs through a whole tick and wraps.
    let ids: Vec<u64> = (0..600)
        .map(|_| sonyflake.next_id().expect("a Sonyflake ID").to_u64())
        .collect();
    let after = now_unix_ms();
    let mut sequences_seen = std::collections::BTreeSet::new();
    for raw in ids {
        let theirs = sonyflake::decompose(raw.into());
        let ours = layout
            .decompose(Id::from_u64(raw))
            .expect("fits the layout");
        assert_eq!(ours.tick, theirs.time, "time of {raw}");
        assert_eq!(ours.sequence, theirs.sequence, "sequence of {raw}");
        assert_eq!(ours.machine, theirs.machine_id, "machine of {raw}");
        assert_eq!(ours.datacenter, 0);
        assert_eq!(ours.machine, u64::from(MACHINE));
        sequences_seen.insert(ours.sequence);
        // The tick is 10 ms since 2014-09-01, so the decoded time is within a tick of when the
        // ID was made (Sonyflake may borrow a few ticks ahead when a tick's 256 run out).
        let made_at = layout.unix_ms_of_tick(ours.tick);
        assert!(
            made_at + 10 >= before && made_at <= after + 100,
            "{raw} decodes to {made_at}, made between {before} and {after}"
        );
        assert_eq!(layout.compose(ours).expect("composes").as_u64(), raw);
    }
    assert!(
        sequences_seen.len() > 200,
        "sequence values used: {sequences_seen:?}"
    );
}

#[test]
fn ids_made_by_snowdrift_under_the_preset_decode_in_sonyflake() {
    let layout = Preset::Sonyflake.layout();
    let generator = GeneratorBuilder::new(layout)
        .worker(0, u64::from(MACHINE))
        .build()
        .expect("a generator on the sonyflake preset");
    let mut ids: Vec<Id> = (0..300)
        .map(|_| generator.next_id().expect("an ID"))
        .collect();
    ids.extend(generator.next_ids(1000).expect("a block"));
    assert!(
        ids.windows(2).all(|pair| pair[0] < pair[1]),
        "strictly increasing"
    );
    for id in ids {
        let theirs = sonyflake::decompose(id.as_u64().into());
        let IdParts {
            tick,
            datacenter,
            machine,
            sequence,
        } = layout.decompose(id).expect("fits the layout");
        assert_eq!(theirs.machine_id, u64::from(MACHINE));
        assert_eq!(
            (theirs.time, theirs.sequence, theirs.machine_id),
            (tick, sequence, machine)
        );
        assert_eq!(datacenter, 0);
        assert_eq!(theirs.msb, 0, "the sign bit stays clear");
    }
}

#[test]
fn two_machines_interleave_within_a_tick_and_never_collide() {
    // In Sonyflake order the machine is the low field, so two machines' IDs of one tick
    // interleave: a property of the order worth pinning, since it is what differs from
    // Snowflake order.
    let layout = Preset::Sonyflake.layout();
    let parts = |machine, sequence| IdParts {
        tick: 1000,
        datacenter: 0,
        machine,
        sequence,
    };
    let a0 = layout.compose(parts(1, 0)).unwrap();
    let b0 = layout.compose(parts(2, 0)).unwrap();
    let a1 = layout.compose(parts(1, 1)).unwrap();
    assert!(a0 < b0 && b0 < a1);
    assert_eq!(a1.as_u64() - a0.as_u64(), 1 << 16);
}
