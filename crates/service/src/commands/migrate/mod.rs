//! `snowdrift migrate check`: before moving from a legacy generator, whether the new IDs sort
//! above every legacy ID, from which date, and whether the two ID spaces can collide.
//!
//! The arithmetic is in [`plan`]; the layouts are read by [`layout_arg`]. The command prints
//! a report (or `--json`) on stdout and exits 1 when a new ID issued now could repeat a legacy
//! one, so a deployment script can stop on it.

pub mod layout_arg;
pub mod plan;

use std::time::{SystemTime, UNIX_EPOCH};

use super::{write_stdout, Failure};
use crate::cli::{MigrateCheckArgs, MigrateCommand};
use crate::describe::rfc3339_ms;
use plan::MigrationCheck;

/// Runs a `snowdrift migrate` command.
pub fn run(command: &MigrateCommand) -> Result<(), Failure> {
    match command {
        MigrateCommand::Check(args) => check(args),
    }
}

fn check(args: &MigrateCheckArgs) -> Result<(), Failure> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| Failure::Runtime("the system clock is before 1970".into()))?
        .as_millis();
    let now_ms = u64::try_from(now_ms)
        .map_err(|_| Failure::Runtime("the system clock is past the year 584 million".into()))?;
    let legacy_max = args.legacy_max.parse::<u64>().map_err(|_| {
        Failure::Usage(format!(
            "invalid --legacy-max {:?}: the largest legacy ID, as a decimal number below 2^64",
            args.legacy_max
        ))
    })?;
    let report = plan::check(
        (&args.legacy.name, &args.legacy.layout),
        legacy_max,
        (&args.layout.name, &args.layout.layout),
        now_ms,
    )
    .map_err(|err| Failure::Usage(err.0))?;
    let text = if args.json {
        serde_json::to_string_pretty(&report)
            .map_err(|err| Failure::Runtime(format!("cannot write JSON: {err}")))?
    } else {
        describe(&report)
    };
    write_stdout(|out| writeln!(out, "{text}"))?;
    if report.can_collide {
        return Err(Failure::Runtime(format!(
            "IDs of {} issued now can repeat IDs of {} up to {}",
            report.target_layout, report.legacy_layout, report.legacy_max_id
        )));
    }
    Ok(())
}

/// The text report.
fn describe(report: &MigrationCheck) -> String {
    let mut lines = vec![
        format!(
            "legacy      {} (largest ID {}, made {})",
            report.legacy_layout, report.legacy_max_id, report.legacy_max_time
        ),
        format!("target      {}", report.target_layout),
        format!("checked at  {}", report.checked_at),
    ];
    lines.push(match (&report.sorts_above_from, report.sorts_above_now) {
        (Some(from), true) => {
            format!("sorts above yes: every new ID is above every legacy ID (since {from})")
        }
        (Some(from), false) => {
            format!("sorts above not yet: new IDs are above every legacy ID only from {from}")
        }
        (None, _) => {
            "sorts above never: the target layout runs out before its IDs pass the legacy maximum"
                .to_string()
        }
    });
    lines.push(if report.can_collide {
        "collide     yes: a new ID issued now can equal a legacy ID".to_string()
    } else {
        "collide     no (assuming the legacy generator issues no more IDs)".to_string()
    });
    if let Some(epoch) = report.suggested_epoch_ms {
        lines.push(format!(
            "fix         an epoch at or before {} (epoch_ms = {epoch} in the [layout] table) \
             makes new IDs sort above now; or wait until the date above",
            rfc3339_ms(epoch)
        ));
    }
    for warning in &report.warnings {
        lines.push(format!("warning     {warning}"));
    }
    lines.join("\n")
}
