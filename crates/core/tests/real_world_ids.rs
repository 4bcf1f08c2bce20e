//! IDs published by the services whose layouts we ship decode to their documented times.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: a panic is the failure report

use snowdrift::{Id, IdParts, Preset};

#[test]
fn discord_developer_documentation_example() {
    // Discord's API reference, "Snowflakes": 175928847299117063 is
    // 2016-04-30 11:18:25.796 UTC, internal worker 1, internal process 0, increment 7.
    let layout = Preset::Discord.layout();
    let id: Id = "175928847299117063".parse().unwrap();
    let parts = id.parts(&layout).unwrap();
    assert_eq!(parts.rfc3339(&layout), "2016-04-30T11:18:25.796Z");
    assert_eq!(parts.unix_ms(&layout), 1_462_015_105_796);
    assert_eq!((parts.datacenter, parts.machine, parts.sequence), (1, 0, 7));
    assert_eq!(layout.compose(parts).unwrap(), id);
}

#[test]
fn twitter_tweet_object_example() {
    // Twitter API v1.1 documentation, Tweet object example: id 1050118621198921728 with
    // "created_at": "Wed Oct 10 20:19:24 +0000 2018".
    let layout = Preset::Twitter.layout();
    let id: Id = "1050118621198921728".parse().unwrap();
    let rfc = id.parts(&layout).unwrap().rfc3339(&layout);
    assert!(rfc.starts_with("2018-10-10T20:19:24."), "{rfc}");
}

#[test]
fn instagram_engineering_blog_worked_example() {
    // "Sharding & IDs at Instagram": 1387263000 ms after their epoch, logical shard 1341,
    // sequence 5001 % 1024. Composing it with our preset must give back those parts. (The
    // post's prose dates the example against a 2011-01-01 epoch while its code uses
    // 1314220021721, so only the fields are documented; the time below is that epoch + 1387263000 ms,
    // converted independently.)
    let layout = Preset::Instagram.layout();
    let raw = (1_387_263_000u64 << 23) | (1341 << 10) | (5001 % 1024);
    let parts = Id::from_u64(raw).parts(&layout).unwrap();
    assert_eq!(
        parts,
        IdParts {
            tick: 1_387_263_000,
            datacenter: 0,
            machine: 1341,
            sequence: 5001 % 1024
        }
    );
    assert_eq!(parts.unix_ms(&layout), 1_314_220_021_721 + 1_387_263_000);
    assert_eq!(parts.rfc3339(&layout), "2011-09-09T22:28:04.721Z");
}

#[test]
fn mastodon_documentation_status_example() {
    // Mastodon's API documentation, Status entity example: id "103270115826048975" with
    // "created_at": "2019-12-08T03:48:33.901Z". The ID's time is when the row was made, a few
    // milliseconds before the status's own timestamp, so it matches to the second.
    let layout = Preset::Mastodon.layout();
    let id: Id = "103270115826048975".parse().unwrap();
    let parts = id.parts(&layout).unwrap();
    let rfc = parts.rfc3339(&layout);
    assert!(rfc.starts_with("2019-12-08T03:48:33."), "{rfc}");
    assert_eq!(parts.unix_ms(&layout), 103_270_115_826_048_975 >> 16);
    assert_eq!(layout.compose(parts).unwrap(), id);
}

#[test]
fn js53_ids_stay_exact_in_javascript_numbers_until_the_layout_ends() {
    // Number.MAX_SAFE_INTEGER = 2^53 - 1: the largest ID the layout can make is exactly that.
    let layout = Preset::Js53.layout();
    let last = layout
        .compose(IdParts {
            tick: layout.max_tick(),
            datacenter: layout.max_datacenter(),
            machine: layout.max_machine(),
            sequence: layout.max_sequence(),
        })
        .unwrap();
    assert_eq!(last.as_u64(), (1u64 << 53) - 1);
    // An f64 holds it exactly (the round trip is the test JavaScript's Number would fail).
    assert_eq!(last.as_u64() as f64 as u64, last.as_u64());
    assert_eq!(layout.workers(), 64);
    assert_eq!(layout.ids_per_second_per_worker(), 25_600);
    assert!(snowdrift::format_unix_ms(layout.end_unix_ms()).starts_with("2195-03-"));
}
