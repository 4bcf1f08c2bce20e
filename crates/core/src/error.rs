//! The one error type of the core crate.
//!
//! Every fallible operation in `snowdrift` returns [`Error`]. Its variants are meant to be
//! matched on: the service maps them to HTTP statuses (bad input versus "try again later"), and
//! each message says what was expected and what to change.

use std::time::Duration;

/// Everything that can go wrong in the core library.
///
/// Variants fall into families, and [`Error::is_retryable`] is the one answer to "can a retry
/// succeed?" that the service and every other caller follow:
/// - **bad input or configuration** (a layout that does not fit, an ID from another layout, a
///   string that is not an ID, a batch too big): retrying will not help;
/// - **the generator cannot issue now** (clock behind, the sequence used up ahead of the
///   clock, past its ceiling, fenced): retryable,
///   the condition clears or the generator is replaced, so the service answers "retry later";
/// - **the layout's time ran out** ([`Error::LayoutExhausted`]): not the input's fault, but no
///   retry helps either; the ID space is over.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The field widths add up to more than the 64 bits of an ID.
    #[error(
        "layout widths sum to {total} bits (timestamp {timestamp} + datacenter {datacenter} + \
         machine {machine} + sequence {sequence}); reduce them to 64 bits or fewer"
    )]
    LayoutTooWide {
        /// Sum of all widths.
        total: u32,
        /// Timestamp width.
        timestamp: u8,
        /// Datacenter width.
        datacenter: u8,
        /// Machine width.
        machine: u8,
        /// Sequence width.
        sequence: u8,
    },

    /// The timestamp field is too narrow to be useful.
    #[error(
        "timestamp field is {bits} bits wide; it must be at least {min} bits \
         (a 32-bit millisecond field lasts only ~49 days)"
    )]
    TimestampTooNarrow {
        /// The width that was asked for.
        bits: u8,
        /// The smallest accepted width.
        min: u8,
    },

    /// The custom epoch lies in the future, so "now" has no valid timestamp.
    #[error(
        "epoch {epoch_ms} ms is {ahead_ms} ms in the future; pick an epoch at or before now \
         (Unix milliseconds)"
    )]
    EpochInFuture {
        /// The epoch that was asked for, in Unix milliseconds.
        epoch_ms: u64,
        /// How far it is ahead of the current time.
        ahead_ms: u64,
    },

    /// The time unit is zero or too large.
    #[error("time unit of {unit_ms} ms is not supported; use 1 to {max} ms (1 is the default, 10 is Sonyflake's)")]
    InvalidTimeUnit {
        /// The unit that was asked for, in milliseconds.
        unit_ms: u64,
        /// The largest accepted unit.
        max: u64,
    },

    /// The layout's time would run past the last date an ID's time can be written as.
    ///
    /// Every time a layout holds is formatted somewhere (decode, `/v1/info`), so a layout may
    /// not outlast [`crate::MAX_DATE_UNIX_MS`], the end of the year 262142.
    #[error(
        "a {timestamp_bits}-bit timestamp of {unit_ms} ms ticks from this epoch runs past the \
         year 262142, the last date an id's time can be written as; use at most \
         {max_timestamp_bits} timestamp bits with this unit and epoch"
    )]
    LayoutOutlastsCalendar {
        /// The timestamp width that was asked for.
        timestamp_bits: u8,
        /// The layout's time unit, in milliseconds.
        unit_ms: u64,
        /// The widest timestamp that stays within the calendar with this unit and epoch.
        max_timestamp_bits: u8,
    },

    /// A datacenter ID does not fit the layout's datacenter field.
    #[error("datacenter id {value} is out of range: this layout allows 0..={max}")]
    DatacenterOutOfRange {
        /// The ID that was given.
        value: u64,
        /// The largest valid datacenter ID.
        max: u64,
    },

    /// A machine ID does not fit the layout's machine field.
    #[error("machine id {value} is out of range: this layout allows 0..={max}")]
    MachineOutOfRange {
        /// The ID that was given.
        value: u64,
        /// The largest valid machine ID.
        max: u64,
    },

    /// A sequence number does not fit the layout's sequence field.
    #[error("sequence {value} is out of range: this layout allows 0..={max}")]
    SequenceOutOfRange {
        /// The sequence that was given.
        value: u64,
        /// The largest valid sequence.
        max: u64,
    },

    /// A timestamp does not fit the layout's timestamp field.
    #[error("timestamp tick {value} is out of range: this layout allows 0..={max}")]
    TimestampOutOfRange {
        /// The tick that was given.
        value: u64,
        /// The largest valid tick.
        max: u64,
    },

    /// An ID has bits set outside the layout's fields, so it was not made by this layout.
    #[error("id {id} does not fit this layout: it uses {needed} bits but the layout has {width}")]
    IdOutOfRange {
        /// The raw ID.
        id: u64,
        /// Bits the ID needs.
        needed: u32,
        /// Bits the layout provides.
        width: u32,
    },

    /// The layout cannot drive a generator because the state word needs a spare bit.
    #[error(
        "a generator needs timestamp + sequence bits to be at most 63, but this layout has {bits}; \
         give one of them a bit less"
    )]
    LayoutUnsupportedByGenerator {
        /// Timestamp width plus sequence width.
        bits: u32,
    },

    /// A string could not be parsed as an ID in the given encoding.
    #[error("cannot parse {input:?} as a {encoding} id: {reason}")]
    Parse {
        /// The text that was given (truncated to 64 characters).
        input: String,
        /// The encoding that was tried.
        encoding: &'static str,
        /// What was wrong with it.
        reason: &'static str,
    },

    /// An unknown name was given for a layout preset or an encoding.
    #[error("unknown {kind} {name:?}; expected one of: {expected}")]
    UnknownName {
        /// What kind of name it was ("layout preset", "encoding").
        kind: &'static str,
        /// The name that was given.
        name: String,
        /// The names that are accepted.
        expected: &'static str,
    },

    /// An object-model argument (number of datacenters or workers) does not fit the layout.
    #[error("{what} is {value}, but this layout allows 1..={max}")]
    CountOutOfRange {
        /// Which count.
        what: &'static str,
        /// The count that was given.
        value: u64,
        /// The largest valid count.
        max: u64,
    },

    /// A batch of zero IDs, or more than one call can reserve, was asked for.
    #[error("batch size {requested} is out of range: ask for 1..={max} ids")]
    BatchOutOfRange {
        /// The size that was asked for.
        requested: u64,
        /// The largest batch the generator hands out at once.
        max: u64,
    },

    /// A block spans more ticks than the generator may wait for: even started at the first
    /// value of a tick, its last ID would be handed out only after more than `max_wait`.
    #[error(
        "a block of {requested} ids runs {wait:?} past the tick it starts in, and the \
         generator may wait at most {max_wait:?} for its last tick; ask for at most {max} ids \
         at once, or allow a longer max_wait or a lead (max_lead_ticks)"
    )]
    BatchExceedsWait {
        /// The size that was asked for.
        requested: u64,
        /// How long the block's last tick lies past its first, beyond the allowed lead.
        wait: Duration,
        /// The configured bound on waiting.
        max_wait: Duration,
        /// The largest block that fits the bound.
        max: u64,
    },

    /// The IDs are used up ahead of the clock: the next free one lies further in the future
    /// than the generator may wait. The clock is fine; the load (or a block waiting for its
    /// last tick) took every ID until then. Retryable.
    #[error(
        "every id up to {wait:?} from now is already issued or reserved (the sequence is used \
         up ahead of the clock), and the generator may wait at most {max_wait:?}; retry after \
         {wait:?}, ask for fewer ids at once, or allow a longer max_wait"
    )]
    SequenceExhausted {
        /// How long until the next free ID may be handed out.
        wait: Duration,
        /// The configured bound on waiting.
        max_wait: Duration,
    },

    /// The clock is behind the generator's floor (or its last ID) by more than it may wait.
    #[error(
        "clock is {behind:?} behind the last issued or persisted time and the generator may wait \
         at most {max_wait:?}; wait for the clock to catch up, or fix the clock"
    )]
    ClockBehind {
        /// How far the clock is behind.
        behind: Duration,
        /// The configured bound on waiting.
        max_wait: Duration,
    },

    /// The generator reached its ceiling: the window that has been persisted is used up.
    #[error(
        "the issuing window ends at tick {ceiling}; no id may be issued until the window is \
         extended (the high-water mark must be persisted first)"
    )]
    CeilingReached {
        /// The last tick the generator may use.
        ceiling: u64,
    },

    /// The generator was fenced and will never issue again.
    ///
    /// Retryable all the same ([`Error::is_retryable`]): this generator is finished, but the
    /// request is not. Whoever holds the slot (the service, through the coordination layer)
    /// claims a slot again and replaces a fenced generator with a new one, so a retry a moment
    /// later, here or on another node, can succeed. A program that owns a bare generator
    /// should build a new one for a slot it holds rather than retry this one.
    #[error(
        "the generator was fenced (its slot may belong to another holder now); it issues no ids"
    )]
    Fenced,

    /// The layout's timestamp field is used up: no later time can be encoded.
    ///
    /// A generator refuses to be built on such a layout, and a running one returns this when
    /// the clock passes the last tick. Decoding the layout's IDs still works.
    #[error(
        "the layout ran out of time: its last tick, {max_tick}, began at {} (its timestamp \
         field is full); start a new id space with a later epoch or a wider timestamp",
        crate::format_unix_ms(*.end_unix_ms)
    )]
    LayoutExhausted {
        /// The last tick the layout can encode.
        max_tick: u64,
        /// When that tick began, in Unix milliseconds ([`crate::Layout::end_unix_ms`]).
        end_unix_ms: u64,
    },
}

impl Error {
    /// Whether a retry later can succeed: the clock catches up, the window is extended, or a
    /// fenced generator is replaced by the one for a reclaimed slot (see [`Error::Fenced`]).
    ///
    /// This is the crate's one answer; the service's "retry later" (HTTP 503 with
    /// `Retry-After`) follows it. Input errors and [`Error::LayoutExhausted`] are not
    /// retryable.
    ///
    /// ```
    /// use snowdrift::Error;
    /// assert!(Error::CeilingReached { ceiling: 7 }.is_retryable());
    /// assert!(Error::Fenced.is_retryable()); // with the generator that replaces this one
    /// assert!(!Error::BatchOutOfRange { requested: 0, max: 10 }.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::ClockBehind { .. }
                | Error::SequenceExhausted { .. }
                | Error::CeilingReached { .. }
                | Error::Fenced
        )
    }

    /// A short stable code for the variant, used in wire error bodies.
    ///
    /// ```
    /// assert_eq!(snowdrift::Error::Fenced.code(), "fenced");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::LayoutTooWide { .. } => "layout_too_wide",
            Error::TimestampTooNarrow { .. } => "timestamp_too_narrow",
            Error::EpochInFuture { .. } => "epoch_in_future",
            Error::InvalidTimeUnit { .. } => "invalid_time_unit",
            Error::LayoutOutlastsCalendar { .. } => "layout_outlasts_calendar",
            Error::DatacenterOutOfRange { .. } => "datacenter_out_of_range",
            Error::MachineOutOfRange { .. } => "machine_out_of_range",
            Error::SequenceOutOfRange { .. } => "sequence_out_of_range",
            Error::TimestampOutOfRange { .. } => "timestamp_out_of_range",
            Error::IdOutOfRange { .. } => "id_out_of_range",
            Error::LayoutUnsupportedByGenerator { .. } => "layout_unsupported",
            Error::Parse { .. } => "invalid_id",
            Error::UnknownName { .. } => "unknown_name",
            Error::CountOutOfRange { .. } => "count_out_of_range",
            Error::BatchOutOfRange { .. } => "batch_out_of_range",
            Error::BatchExceedsWait { .. } => "batch_exceeds_wait",
            Error::SequenceExhausted { .. } => "sequence_exhausted",
            Error::ClockBehind { .. } => "clock_behind",
            Error::CeilingReached { .. } => "ceiling_reached",
            Error::Fenced => "fenced",
            Error::LayoutExhausted { .. } => "layout_exhausted",
        }
    }
}

impl Error {
    /// The refusal for a layout whose time has run out.
    pub(crate) fn layout_exhausted(layout: &crate::Layout) -> Error {
        Error::LayoutExhausted {
            max_tick: layout.max_tick(),
            end_unix_ms: layout.end_unix_ms(),
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
