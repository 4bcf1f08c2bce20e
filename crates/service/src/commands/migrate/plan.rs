//! The arithmetic of a migration from a legacy generator: from which tick a target layout's IDs
//! sort above the largest legacy ID, and so whether new IDs can repeat old ones.
//!
//! The time field is the top field in every layout Snowdrift reads (Sonyflake's order moves
//! only the sequence and the machine below it), so an ID's value is ordered by its tick first.
//! The smallest ID the target can issue in tick `T` is `T << timestamp_shift` (worker 0,
//! sequence 0). It is above the legacy maximum `L` exactly when `T > L >> timestamp_shift`, so
//! the first safe tick is `(L >> timestamp_shift) + 1`. Before that tick some target IDs are at
//! or below `L`, and any of them may equal a legacy ID. The check assumes the legacy generator
//! stopped issuing at `L`; two generators running side by side can collide whatever the
//! layouts.

use serde::Serialize;
use snowdrift::{Id, Layout};

use crate::describe::rfc3339_ms;

/// What `snowdrift migrate check` found. Serialized as its `--json` output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MigrationCheck {
    /// The legacy layout's name as given.
    pub legacy_layout: String,
    /// The largest ID the legacy generator issued.
    pub legacy_max_id: u64,
    /// When the legacy maximum was made, read with the legacy layout (RFC 3339, UTC).
    pub legacy_max_time: String,
    /// The target layout's name as given.
    pub target_layout: String,
    /// The moment checked (RFC 3339, UTC): normally now.
    pub checked_at: String,
    /// Whether every ID the target issues from `checked_at` on is above the legacy maximum.
    pub sorts_above_now: bool,
    /// From when every target ID is above the legacy maximum (RFC 3339, UTC); `None` when the
    /// target layout runs out first.
    pub sorts_above_from: Option<String>,
    /// Whether a target ID issued at `checked_at` can equal a legacy ID.
    pub can_collide: bool,
    /// When they can collide: the latest target epoch (Unix ms, at a UTC midnight) with which
    /// the target's IDs would already sort above the legacy maximum, if that epoch exists.
    pub suggested_epoch_ms: Option<u64>,
    /// Warnings that do not change the verdict (a legacy maximum in the future, sign bits).
    pub warnings: Vec<String>,
}

/// Why the inputs cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput(pub String);

const DAY_MS: u64 = 86_400_000;

/// Checks a migration from `legacy` (whose largest issued ID is `legacy_max`) to `target`, as
/// of the Unix millisecond `now_ms`.
pub fn check(
    (legacy_name, legacy): (&str, &Layout),
    legacy_max: u64,
    (target_name, target): (&str, &Layout),
    now_ms: u64,
) -> Result<MigrationCheck, BadInput> {
    let parts = legacy.decompose(Id::from_u64(legacy_max)).map_err(|err| {
        BadInput(format!(
            "the legacy maximum {legacy_max} is not an ID of the legacy layout {legacy_name}: {err}"
        ))
    })?;
    let legacy_max_ms = parts.unix_ms(legacy);
    let mut warnings = Vec::new();
    if legacy_max_ms > now_ms.saturating_add(60_000) {
        warnings.push(format!(
            "the legacy maximum decodes to {} with the layout {legacy_name}, which is in the \
             future: check the legacy layout and epoch",
            rfc3339_ms(legacy_max_ms)
        ));
    }
    if legacy.keeps_sign_bit_clear() && !target.keeps_sign_bit_clear() {
        warnings.push(format!(
            "the target layout {target_name} uses bit 63: read as signed 64-bit integers \
             (Java long, SQL bigint) its IDs are negative and sort below the legacy IDs"
        ));
    }

    // u128: a shift of up to 64 and a tick of up to 2^64 stay exact.
    let shift = target.timestamp_shift();
    let first_safe_tick = (u128::from(legacy_max) >> shift) + 1;
    let fits = first_safe_tick <= u128::from(target.max_tick());
    let sorts_above_from_ms = fits.then(|| target.unix_ms_of_tick(first_safe_tick as u64));
    let sorts_above_now = sorts_above_from_ms.is_some_and(|from| from <= now_ms);
    let suggested_epoch_ms = if sorts_above_now || !fits {
        None
    } else {
        // The epoch E works at `now_ms` when (now_ms - E) / unit >= first_safe_tick.
        let span = u128::from(target.unit_ms()) * first_safe_tick;
        u64::try_from(span)
            .ok()
            .and_then(|span| now_ms.checked_sub(span))
            .map(|latest| latest - latest % DAY_MS)
    };
    Ok(MigrationCheck {
        legacy_layout: legacy_name.to_string(),
        legacy_max_id: legacy_max,
        legacy_max_time: rfc3339_ms(legacy_max_ms),
        target_layout: target_name.to_string(),
        checked_at: rfc3339_ms(now_ms),
        sorts_above_now,
        sorts_above_from: sorts_above_from_ms.map(rfc3339_ms),
        can_collide: !sorts_above_now,
        suggested_epoch_ms,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use snowdrift::{IdParts, LayoutSpec, Preset};

    use super::*;

    /// Twitter API v1.1's Tweet object example, created "Wed Oct 10 20:19:24 +0000 2018".
    const TWEET: u64 = 1_050_118_621_198_921_728;
    /// Discord's "Snowflakes" documentation example, 2016-04-30T11:18:25.796Z.
    const DISCORD: u64 = 175_928_847_299_117_063;
    /// 2026-12-01T00:00:00Z.
    const NOW: u64 = 1_796_083_200_000;

    fn run(legacy: Preset, max: u64, target: Preset, now: u64) -> MigrationCheck {
        check(
            (legacy.name(), &legacy.layout()),
            max,
            (target.name(), &target.layout()),
            now,
        )
        .unwrap()
    }

    #[test]
    fn the_same_layout_sorts_above_its_own_past_ids() {
        let report = run(Preset::Twitter, TWEET, Preset::Twitter, NOW);
        assert!(report.sorts_above_now && !report.can_collide, "{report:?}");
        // The example's created_at is given to the second; the ID carries the millisecond.
        assert_eq!(report.legacy_max_time, "2018-10-10T20:19:24.211Z");
        // The tweet's tick plus one: the next millisecond.
        assert_eq!(
            report.sorts_above_from.as_deref(),
            Some("2018-10-10T20:19:24.212Z")
        );
        assert_eq!(report.suggested_epoch_ms, None);
    }

    #[test]
    fn a_later_epoch_can_collide_until_its_ids_catch_up() {
        // Snowdrift's epoch (2021) is ~10 years after Twitter's: its IDs of 2026 are as small
        // as Twitter's of 2016, below the 2018 tweet.
        let report = run(Preset::Twitter, TWEET, Preset::Snowdrift, NOW);
        assert!(!report.sorts_above_now && report.can_collide, "{report:?}");
        let from = report.sorts_above_from.clone().unwrap();
        // 2021-01-01 + (2018-10-10T20:19:24.211Z - 2010-11-04T01:42:54.657Z) + 1 ms.
        let gap = 1_539_202_764_211 - 1_288_834_974_657;
        assert_eq!(from, rfc3339_ms(1_609_459_200_000 + gap + 1));
        // With the suggested epoch, the same check passes now.
        let epoch = report.suggested_epoch_ms.unwrap();
        assert_eq!(epoch % DAY_MS, 0);
        let target = LayoutSpec {
            timestamp_bits: 41,
            datacenter_bits: 5,
            machine_bits: 5,
            sequence_bits: 12,
            epoch_ms: epoch,
            unit_ms: 1,
            field_order: Default::default(),
        }
        .validate_at(NOW)
        .unwrap();
        let fixed = check(
            ("twitter", &Preset::Twitter.layout()),
            TWEET,
            ("custom", &target),
            NOW,
        )
        .unwrap();
        assert!(fixed.sorts_above_now, "{fixed:?}");
        // One day later than suggested would not.
        let later = LayoutSpec {
            epoch_ms: epoch + DAY_MS,
            ..target.into()
        }
        .validate_at(NOW)
        .unwrap();
        let still = check(
            ("twitter", &Preset::Twitter.layout()),
            TWEET,
            ("later", &later),
            NOW,
        )
        .unwrap();
        assert!(still.can_collide, "{still:?}");
    }

    #[test]
    fn the_verdict_flips_at_exactly_the_first_safe_tick() {
        let layout = Preset::Snowdrift.layout();
        let max = layout
            .compose(IdParts {
                tick: 1_000,
                datacenter: 31,
                machine: 31,
                sequence: 4095,
            })
            .unwrap()
            .as_u64();
        let at = |now| check(("a", &layout), max, ("b", &layout), now).unwrap();
        let safe_ms = layout.unix_ms_of_tick(1_001);
        assert!(at(safe_ms - 1).can_collide);
        assert!(!at(safe_ms).can_collide);
        assert_eq!(at(safe_ms - 1).sorts_above_from, Some(rfc3339_ms(safe_ms)));
    }

    #[test]
    fn a_target_whose_ids_never_pass_the_legacy_maximum_says_so() {
        // Discord's 42-bit time reaches bit 63; the default 41-bit layout never does.
        let max = u64::MAX - 1;
        let discord = Preset::Discord.layout();
        assert!(discord.decompose(Id::from_u64(max)).is_ok());
        let report = run(Preset::Discord, max, Preset::Snowdrift, NOW);
        assert!(
            report.can_collide && report.sorts_above_from.is_none(),
            "{report:?}"
        );
        assert_eq!(report.suggested_epoch_ms, None);
        assert!(
            report.warnings.iter().any(|w| w.contains("future")),
            "{report:?}"
        );
    }

    #[test]
    fn a_discord_id_then_the_discord_layout_is_safe_and_the_sign_bit_is_flagged_from_twitter() {
        let report = run(Preset::Discord, DISCORD, Preset::Discord, NOW);
        assert!(!report.can_collide, "{report:?}");
        assert!(report.warnings.is_empty(), "{report:?}");
        let signed = run(Preset::Twitter, TWEET, Preset::Discord, NOW);
        assert!(
            signed.warnings.iter().any(|w| w.contains("bit 63")),
            "{signed:?}"
        );
    }

    #[test]
    fn a_maximum_wider_than_the_legacy_layout_is_refused() {
        // The default layout uses 63 bits: an ID with bit 63 set is none of its IDs.
        let err = check(
            ("snowdrift", &Preset::Snowdrift.layout()),
            1 << 63,
            ("snowdrift", &Preset::Snowdrift.layout()),
            NOW,
        )
        .unwrap_err();
        assert!(
            err.0.contains("not an ID of the legacy layout snowdrift"),
            "{}",
            err.0
        );
    }
}
