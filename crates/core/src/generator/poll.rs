//! The answers of the non-blocking calls, [`crate::IdGenerator::poll_id`] and
//! [`crate::IdGenerator::poll_ids`]: IDs now, IDs held until a tick, or "not yet".

use super::IdGenerator;
use crate::clock::Clock;

/// What a poll gave: IDs to use now, IDs reserved for later, or nothing yet. Never a sleep.
///
/// An async caller awaits a timer until [`Poll::Pending`]'s `wake_at_ms` and polls again, or
/// until a [`Held`]'s [`Held::ready_at_ms`] and claims it. Both times are at most the
/// generator's `max_wait` away; a poll that would need longer returns an error instead.
///
/// ```
/// use snowdrift::{clock::{Clock, ManualClock}, IdGenerator, Layout, Poll};
///
/// let layout = Layout::builder().sequence_bits(1).machine_bits(9).build()?; // 2 IDs a tick
/// let clock = ManualClock::new(layout.epoch_ms() + 1_000);
/// let generator = IdGenerator::builder(layout).clock(clock.clone()).build()?;
/// let mut ids = Vec::new();
/// while ids.len() < 5 {
///     match generator.poll_id()? {
///         Poll::Ready(id) => ids.push(id),
///         Poll::Held(held) => {
///             clock.wait_until_ms(held.ready_at_ms()); // an async caller awaits a timer
///             ids.push(held.claim(&generator).expect("the clock reached ready_at"));
///         }
///         Poll::Pending { wake_at_ms, .. } => clock.wait_until_ms(wake_at_ms),
///     }
/// }
/// assert!(ids.windows(2).all(|w| w[0] < w[1]));
/// assert_eq!(ids[4].parts(&layout)?.tick, 1_002);
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a poll reserves IDs or says when to try again; dropping it loses them"]
pub enum Poll<T> {
    /// The IDs, usable now.
    Ready(T),
    /// IDs reserved for this caller, to be handed out once the clock reaches
    /// [`Held::ready_at_ms`]: a block whose later ticks the clock has not reached yet.
    Held(Held<T>),
    /// Nothing was reserved: the next free ID lies in a tick the clock (plus the allowed
    /// lead) has not reached. Poll again at `wake_at_ms`.
    Pending {
        /// The clock tick to wait for.
        tick: u64,
        /// When that tick starts, in Unix milliseconds: when to poll again.
        wake_at_ms: u64,
    },
}

/// IDs reserved by a poll that may be handed out only once the generator's clock reaches
/// [`Held::ready_at_ms`], so that no ID ever leads the clock by more than the allowed lead.
///
/// Dropping it burns the IDs: they are never issued, by this caller or any other.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "dropping a Held burns its IDs"]
pub struct Held<T> {
    ids: T,
    ready_tick: u64,
    ready_at_ms: u64,
}

impl<T> Held<T> {
    pub(crate) fn new(ids: T, ready_tick: u64, ready_at_ms: u64) -> Held<T> {
        Held {
            ids,
            ready_tick,
            ready_at_ms,
        }
    }

    /// The clock tick from which the IDs may be handed out.
    pub fn ready_tick(&self) -> u64 {
        self.ready_tick
    }

    /// When that tick starts, in Unix milliseconds: when to claim the IDs.
    pub fn ready_at_ms(&self) -> u64 {
        self.ready_at_ms
    }

    /// The IDs, once `generator`'s clock has reached [`Held::ready_tick`]; before that the
    /// hold is given back unchanged. Pass the generator that made the hold.
    pub fn claim<C: Clock>(self, generator: &IdGenerator<C>) -> Result<T, Held<T>> {
        if generator.clock_tick() >= self.ready_tick {
            Ok(self.ids)
        } else {
            Err(self)
        }
    }
}
