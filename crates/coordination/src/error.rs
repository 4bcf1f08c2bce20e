//! The one error type of the coordination crate.
//!
//! Start-up errors name the file, the slot or the holder involved and say what to do, because an
//! operator reads them once, at 3 a.m., in a log line.

use std::path::PathBuf;
use std::time::Duration;

use crate::floor::FloorSource;

/// Everything that can go wrong while claiming a slot or persisting its high-water mark.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoordError {
    /// The state directory cannot be created, read or written.
    #[error("state directory {path}: {source}; check that it exists and this user can write it")]
    StateDir {
        /// The directory or file involved.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },

    /// A state file exists but cannot be understood. It is never reset silently, because
    /// losing a high-water mark could repeat IDs.
    #[error(
        "state file {path} is corrupt ({reason}); refusing to start. Restore it from a backup, or \
         if you are sure no ID from this slot is still in use, move it away"
    )]
    CorruptState {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },

    /// A slot's stored high-water mark lies beyond the layout's last tick. No holder of this
    /// layout can have written it, so it is corrupt; it is never taken at face value (it
    /// would wrap, or open the whole layout) and never reset silently.
    #[error(
        "the high-water mark of slot datacenter {datacenter} machine {machine} in {place} is \
         tick {mark}, beyond the layout's last tick {max_tick}: no holder of this layout can \
         have written it, so it is corrupt; refusing to start. Restore it from a backup, or if \
         you are sure no ID from this slot is still in use, remove it"
    )]
    CorruptMark {
        /// Datacenter of the slot.
        datacenter: u64,
        /// Machine of the slot.
        machine: u64,
        /// Where the mark lives: its file, or its etcd key.
        place: String,
        /// The stored mark.
        mark: u64,
        /// The layout's last tick.
        max_tick: u64,
    },

    /// The state directory or cluster was created with another layout or epoch.
    #[error(
        "{place} is pinned to layout {pinned}, but this node is configured with {configured}; \
         two layouts can produce the same bits, so they are never mixed. Use the pinned layout, \
         or a new state directory or cluster"
    )]
    LayoutMismatch {
        /// Where the pin lives (a path or an etcd key).
        place: String,
        /// The pinned layout.
        pinned: String,
        /// The configured layout.
        configured: String,
    },

    /// The requested slot is held by another live process.
    #[error("slot datacenter {datacenter} machine {machine} is held by {holder}; choose another --machine-id, or use --machine-id auto")]
    SlotHeld {
        /// Datacenter of the slot.
        datacenter: u64,
        /// Machine of the slot.
        machine: u64,
        /// Who holds it, as it described itself.
        holder: String,
    },

    /// Every slot of the datacenter is taken.
    #[error("all {slots} machine slots of datacenter {datacenter} in {scope} are taken; stop a node, or use a layout with more machine bits")]
    SlotsExhausted {
        /// The state directory or cluster.
        scope: String,
        /// The datacenter.
        datacenter: u64,
        /// How many slots it has.
        slots: u64,
    },

    /// The clock is behind the slot's floor by more than start-up may wait.
    #[error("{}", clock_behind(*behind, *max_wait, *floor))]
    ClockBehindHighWater {
        /// How far behind.
        behind: Duration,
        /// The start-up bound.
        max_wait: Duration,
        /// What set the floor, and so what the causes can be.
        floor: FloorSource,
    },

    /// The clock is behind the slot's floor by more than `--clock-behind advance` may lead the
    /// wall clock.
    #[error("{}", lead_too_large(*behind, *max_lead, *floor))]
    ClockLeadTooLarge {
        /// How far behind.
        behind: Duration,
        /// The bound on the lead (`--max-clock-lead`).
        max_lead: Duration,
        /// What set the floor.
        floor: FloorSource,
    },

    /// This node's clock disagrees with most live holders' advertised clocks by more than the
    /// allowed skew (etcd backend, `refuse` policy).
    #[error(
        "this node's clock differs from {disagreeing} of {peers} live holders by more than \
         {max_skew:?} (largest: {worst}; positive means the peer is ahead); fix the clock (NTP), \
         or allow more skew"
    )]
    ClockSkew {
        /// Peers whose clocks differ from ours beyond the limit.
        disagreeing: usize,
        /// Live peers that advertise a clock.
        peers: usize,
        /// The configured limit.
        max_skew: Duration,
        /// The largest difference, and with whom.
        worst: String,
    },

    /// The generator refused a setting or an operation.
    #[error(transparent)]
    Generator(#[from] snowdrift::Error),

    /// The coordination backend (etcd) failed or was unreachable.
    #[error("coordination backend: {0}")]
    Backend(String),

    /// This holder no longer owns its slot (its lease expired or the key changed hands).
    #[error("lost the slot datacenter {datacenter} machine {machine}: {reason}")]
    SlotLost {
        /// Datacenter of the slot.
        datacenter: u64,
        /// Machine of the slot.
        machine: u64,
        /// Why.
        reason: String,
    },

    /// An invalid configuration value.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// One setting of [`crate::WindowConfig`] or [`crate::EtcdOptions`] is out of range. The
    /// field is named so that a caller that took the value from a flag or a file can say which
    /// flag or key was wrong.
    #[error("invalid {setting}: {reason}")]
    Setting {
        /// The field of the options struct, e.g. `window` or `lease_ttl`.
        setting: &'static str,
        /// What is wrong with its value and what is accepted.
        reason: String,
    },
}

impl CoordError {
    /// A short stable code for the variant.
    pub fn code(&self) -> &'static str {
        match self {
            CoordError::StateDir { .. } => "state_dir",
            CoordError::CorruptState { .. } | CoordError::CorruptMark { .. } => "corrupt_state",
            CoordError::LayoutMismatch { .. } => "layout_mismatch",
            CoordError::SlotHeld { .. } => "slot_held",
            CoordError::SlotsExhausted { .. } => "slots_exhausted",
            CoordError::ClockBehindHighWater { .. } | CoordError::ClockLeadTooLarge { .. } => {
                "clock_behind"
            }
            CoordError::ClockSkew { .. } => "clock_skew",
            CoordError::Generator(e) => e.code(),
            CoordError::Backend(_) => "backend",
            CoordError::SlotLost { .. } => "slot_lost",
            CoordError::Config(_) | CoordError::Setting { .. } => "config",
        }
    }
}

/// The message of [`CoordError::ClockBehindHighWater`]: how far, the bound, and the causes the
/// floor's source allows, with the settings involved.
fn clock_behind(behind: Duration, max_wait: Duration, floor: FloorSource) -> String {
    let (what, causes) = match floor {
        FloorSource::Mark | FloorSource::Fresh => (
            "the high-water mark persisted for this slot",
            "Either the slot's previous holder stopped without a clean shutdown (a crash, a lost \
             lease) less than its window (--window) ago, and its mark is still ahead of the \
             clock: start again once the window has passed; or this host's clock is behind the \
             previous holder's: check NTP",
        ),
        FloorSource::Genesis => (
            "the floor of the freshly created cluster record",
            "A claim right after the record was (re)created waits until no holder of a lost \
             incarnation can still be issuing: the creator's clock at creation plus the window \
             and the allowed clock skew (--window, --max-clock-skew). Waiting longer than that \
             means this host's clock is behind the creator's by more than --max-clock-skew: \
             check NTP",
        ),
        FloorSource::ClaimTime => (
            "the claim-time floor",
            "Every claim of an etcd slot waits until no holder can still be issuing a tick \
             it persisted before the claim, even in a history a restored backup of etcd lost: \
             this clock at the claim plus the window and the allowed clock skew (--window, \
             --max-clock-skew). Waiting longer than that means this host's clock stepped back \
             during the claim: check NTP",
        ),
        FloorSource::Memory => (
            "the highest ceiling this process held on this slot",
            "This process held the slot before and its window (--window) has not passed yet; \
             it claims again once it has",
        ),
    };
    format!(
        "the clock is {:?} behind {what} (start-up waits at most {:?}, --startup-max-wait; \
         --clock-behind advance starts at once instead). {causes}",
        round_ms(behind),
        round_ms(max_wait),
    )
}

/// The message of [`CoordError::ClockLeadTooLarge`]: how far, the bound, both settings.
fn lead_too_large(behind: Duration, max_lead: Duration, floor: FloorSource) -> String {
    let what = match floor {
        FloorSource::Mark | FloorSource::Fresh => "the high-water mark persisted for this slot",
        FloorSource::Genesis => "the floor of the freshly created cluster record",
        FloorSource::ClaimTime => "the claim-time floor",
        FloorSource::Memory => "the highest ceiling this process held on this slot",
    };
    format!(
        "the clock is {} behind {what}, more than --max-clock-lead ({}) lets --clock-behind \
         advance run the ID clock ahead of the wall clock. Raise --max-clock-lead above the \
         gap, or use --clock-behind wait (with a --startup-max-wait that long) to wait for the \
         clock; check NTP: this host's clock may be wrong",
        humantime::format_duration(round_ms(behind)),
        humantime::format_duration(round_ms(max_lead)),
    )
}

/// Milliseconds are the precision a person acts on.
fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(duration.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn behind(floor: FloorSource) -> String {
        CoordError::ClockBehindHighWater {
            behind: Duration::from_micros(8_955_321),
            max_wait: Duration::from_secs(5),
            floor,
        }
        .to_string()
    }

    #[test]
    fn clock_behind_names_the_possible_causes_and_the_settings() {
        let mark = behind(FloorSource::Mark);
        for needle in [
            "the clock is 8.955s behind the high-water mark",
            "at most 5s, --startup-max-wait",
            "clean shutdown",
            "--window",
            "check NTP",
        ] {
            assert!(mark.contains(needle), "{needle:?} missing from: {mark}");
        }
        let genesis = behind(FloorSource::Genesis);
        for needle in [
            "freshly created cluster record",
            "--max-clock-skew",
            "--window",
        ] {
            assert!(
                genesis.contains(needle),
                "{needle:?} missing from: {genesis}"
            );
        }
        assert!(behind(FloorSource::Memory).contains("this process held"));
        let claim_time = behind(FloorSource::ClaimTime);
        for needle in ["claim-time floor", "restored backup", "--max-clock-skew"] {
            assert!(
                claim_time.contains(needle),
                "{needle:?} missing from: {claim_time}"
            );
        }
    }
}
