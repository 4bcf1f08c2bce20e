//! # Snowdrift
//!
//! Distributed, time-ordered, 64-bit unique IDs. This crate is the core: layouts, IDs, clocks
//! and a lock-free generator. It does no I/O and needs no async runtime; the service and the
//! coordination crates build on it.
//!
//! An ID is `| timestamp | datacenter | machine | sequence |`, 41/5/5/12 bits by default, with
//! milliseconds since 2021-01-01T00:00:00Z. Widths, epoch and time unit are adjustable through
//! [`Layout`], and presets cover Twitter, Discord and Instagram.
//!
//! ```
//! use snowdrift::{Encoding, IdGenerator, Layout};
//!
//! let generator = IdGenerator::builder(Layout::default()).worker(1, 2).build()?;
//! let id = generator.next_id()?;
//! let parts = id.parts(&generator.layout())?;
//! assert_eq!((parts.datacenter, parts.machine), (1, 2));
//! println!("{id} made at {}", parts.rfc3339(&generator.layout()));
//!
//! // Text forms: decimal by default, and fixed-width encodings that sort like the number.
//! let text = Encoding::Base32.encode(id);
//! assert_eq!(Encoding::Base32.decode(&text)?, id);
//! # Ok::<(), snowdrift::Error>(())
//! ```
//!
//! ## Guarantees
//! - **No repeats**: for one worker slot, `(tick, sequence)` strictly increases across every ID,
//!   whatever the threads and whatever the clock does (checked with loom and proptest).
//! - **A window**: a generator issues ticks only in `[floor, ceiling]`; the ceiling only rises,
//!   and [`IdGenerator::fence`] stops it at once and returns the last tick any call has issued
//!   or will still issue. The service persists a high-water mark before raising the ceiling,
//!   which is what makes restarts and slot handovers safe.
//! - **Threads that share a generator** can each take a [`LocalGenerator`]
//!   ([`IdGenerator::local`]): it reserves small blocks with one atomic operation and hands
//!   their IDs out without touching shared state. Each handle's IDs strictly increase and carry
//!   the clock's tick, IDs of different handles interleave within a tick, and the window and the
//!   fence's bound hold as for every call.
//! - **Every wait has its bound**: no call waits longer than its `max_wait`; a block that would
//!   need longer is refused up front ([`Error::BatchExceedsWait`]), and so is a wait the
//!   current load would need ([`Error::SequenceExhausted`]) or a clock too far behind
//!   ([`Error::ClockBehind`]). [`IdGenerator::poll_id`] and [`IdGenerator::poll_ids`] never
//!   sleep: they answer [`Poll::Ready`], [`Poll::Held`] (reserved, usable from a tick) or
//!   [`Poll::Pending`], so async callers wait on their own timers.
//! - **No wrap**: the end of the layout's time is [`Error::LayoutExhausted`], never a wrapped
//!   ID, and a generator is not built on a layout that has already run out.
//! - **Every time is writable**: [`format_unix_ms`] writes every time the crate formats, years
//!   past 9999 included; layouts that would outlast the year 262142 are refused.
//! - **Retry or fix**: [`Error::is_retryable`] is the one answer to whether a retry can
//!   succeed; [`Error::Fenced`] is retryable, with the generator that replaces a fenced one.
//! - **Positive `i64`** in every layout of 63 bits or fewer, the default among them.
//!
//! ## Features
//! - `serde`: `Serialize`/`Deserialize` for [`Id`] (a decimal **string**, because JavaScript
//!   numbers lose precision past 2^53; [`serde_support::as_number`] opts into numbers),
//!   [`Layout`] and [`IdParts`].

#![deny(unsafe_code)]

pub mod clock;
mod encoding;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod generator;
mod id;
mod layout;
mod model;
#[cfg(feature = "serde")]
pub mod serde_support;
mod sync;
mod time_format;

pub use encoding::Encoding;
pub use error::{Error, Result};
pub use generator::{
    GeneratorBuilder, Held, IdBlock, IdGenerator, LocalGenerator, Poll, SequenceStart,
};
pub use id::{Id, IdParts};
pub use layout::{
    FieldOrder, Layout, LayoutBuilder, LayoutSpec, Preset, DEFAULT_EPOCH_MS, MAX_UNIT_MS,
    MIN_TIMESTAMP_BITS,
};
pub use model::{Datacenter, IdSystem};
pub use time_format::{format_unix_ms, MAX_DATE_UNIX_MS};

/// Default bound on all the waiting of one call; see [`GeneratorBuilder::max_wait`].
pub use generator::DEFAULT_MAX_WAIT;
