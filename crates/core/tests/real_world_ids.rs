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
