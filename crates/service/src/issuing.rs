//! The one issuing path: poll the core, and await a pending reservation without blocking.
//!
//! The core never sleeps on the caller's thread: [`IdGenerator::poll_id`] and
//! [`IdGenerator::poll_ids`] answer with IDs now, IDs held until a tick ([`Held`]), or
//! "pending until tick T". Almost every request is answered Ready on the first poll, in place,
//! by [`crate::app::App`]. Only the rest come here: a block whose later ticks the clock has not
//! reached, or a request that finds the tick's sequence used up. Such a request awaits an
//! [`Alarms`] future, so it never holds a runtime worker (nor a blocking thread) while it
//! waits; the other requests on the same worker go on. The service's alarms are a
//! [`TickWaker`], which wakes a request at the microsecond its tick begins (tokio's timer
//! woke it 1-2 ms late, and whole-tick blocks lost every other tick that way);
//! [`TokioTimers`] are the plain timers, which the tests of the bounds use with paused time.
//!
//! # Bounds (invariant 7 of DESIGN.md)
//! The wait of a whole request is bounded by the generator's `max_wait`, counted from the
//! first poll that was not Ready, as the core's blocking loop counts it:
//! - a Pending answer whose time lies beyond that bound is refused up front
//!   ([`Error::SequenceExhausted`]: the clock is fine, the load took every ID until then; the
//!   core itself refuses a wait longer than `max_wait` from now, and classifies it);
//! - an alarm that fires before the generator's clock shows the tick (the clock's published
//!   millisecond lags the monotonic time a timer runs on by up to about a millisecond) is
//!   re-armed; a tokio timer at the bound plus [`TIMER_GRACE`] races every alarm, and a clock
//!   that still has not got there then ends the request with [`Error::ClockBehind`], as the
//!   core's blocking loop does.
//!
//! # Cancellation
//! A request whose future is dropped while it waits (the client went away: HTTP/2 reset the
//! stream, the gRPC deadline passed, a connection closed) drops its [`Held`] reservation with
//! it. Those IDs are burned, never issued by anyone, and counted as burned
//! ([`crate::metrics::ids_burned`]), not as issued. A Pending request reserved nothing, so it
//! burns nothing. Either way no more than the request's own reservation is lost.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use snowdrift::clock::Clock;
use snowdrift::{Error, Held, IdGenerator, Poll};
use tokio::time::Instant;

pub use crate::tick_waker::TickWaker;

/// How far past its bound a wait may run while the timer and the generator's clock agree on
/// the time: tokio's timer has millisecond granularity and rounds up, and the clock publishes
/// whole milliseconds.
pub const TIMER_GRACE: Duration = Duration::from_millis(2);

/// How a waiting request is woken once the generator's clock reaches a millisecond.
///
/// An alarm may fire early (the request checks the clock and waits again) or late (it costs
/// ticks, not correctness); the bound on the whole wait is a tokio timer of its own.
pub trait Alarms<C: Clock> {
    /// Completes once `clock`, which read `now_ms` just now, reaches `target_ms` (Unix ms).
    fn until(&self, clock: &C, now_ms: u64, target_ms: u64) -> impl Future<Output = ()> + Send;
}

/// Plain tokio timers: millisecond resolution, rounded up. Exact under paused time.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTimers;

impl<C: Clock> Alarms<C> for TokioTimers {
    fn until(&self, _clock: &C, now_ms: u64, target_ms: u64) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(Duration::from_millis(target_ms.saturating_sub(now_ms)))
    }
}

impl<C: Clock + Clone + 'static> Alarms<C> for TickWaker<C> {
    fn until(&self, _clock: &C, _now_ms: u64, target_ms: u64) -> impl Future<Output = ()> + Send {
        TickWaker::until(self, target_ms)
    }
}

/// Counters a waiting request updates.
#[derive(Debug, Default)]
pub struct WaitCounters {
    /// Times a request waited because a tick's sequence was used up (a block running into
    /// later ticks, or the next free ID in the very next tick).
    pub exhaustion_waits: AtomicU64,
    /// IDs reserved by a request that ended before it could hand them out.
    pub ids_burned: AtomicU64,
}

/// Finishes a reservation of `count` IDs whose first poll (`first`) was not Ready: awaits the
/// time it names, polls again with `poll`, and returns the IDs, within `max_wait` of now.
///
/// `generator` must be the one that answered `first`: a Held reservation is claimed from it.
/// `alarms` wake the request; they must read the generator's clock.
pub async fn finish<T, C, A, P>(
    generator: &IdGenerator<C>,
    first: Poll<T>,
    count: u64,
    max_wait: Duration,
    alarms: &A,
    counters: &WaitCounters,
    poll: P,
) -> Result<T, Error>
where
    C: Clock,
    A: Alarms<C>,
    P: Fn(&IdGenerator<C>) -> Result<Poll<T>, Error>,
{
    let bound = Bound::starting_now(generator, max_wait);
    let mut answer = first;
    loop {
        match answer {
            Poll::Ready(ids) => return Ok(ids),
            Poll::Held(held) => {
                counters.exhaustion_waits.fetch_add(1, Ordering::Relaxed);
                // Burned if the wait fails or the request is dropped during it.
                let held = Burning::new(held, count, &counters.ids_burned);
                // Within `max_wait` of now, as the core checked, but perhaps not of the start
                // of this request's wait (it waited for its first tick): refused then, and
                // the reservation is burned, as the core's own blocking loop does.
                bound.check(held.ready_at_ms())?;
                bound
                    .sleep_until(generator, alarms, held.ready_at_ms())
                    .await?;
                return held
                    .claim(generator)
                    .ok_or_else(|| bound.clock_behind(generator));
            }
            Poll::Pending { tick, wake_at_ms } => {
                bound.check(wake_at_ms)?;
                if tick == generator.clock_tick().saturating_add(1) {
                    counters.exhaustion_waits.fetch_add(1, Ordering::Relaxed);
                }
                bound.sleep_until(generator, alarms, wake_at_ms).await?;
            }
        }
        answer = poll(generator)?;
    }
}

/// The bound on one request's waiting, in the generator's clock and in the timer's.
struct Bound {
    /// The generator's clock when the wait began, Unix ms.
    since_ms: u64,
    max_wait_ms: u64,
    max_wait: Duration,
    /// The timer's time past which no wait is re-armed.
    deadline: Instant,
}

impl Bound {
    fn starting_now<C: Clock>(generator: &IdGenerator<C>, max_wait: Duration) -> Bound {
        Bound {
            since_ms: generator.clock().now_ms(),
            max_wait_ms: u64::try_from(max_wait.as_millis()).unwrap_or(u64::MAX),
            max_wait,
            deadline: Instant::now() + max_wait + TIMER_GRACE,
        }
    }

    /// Refuses a wait until `target_ms` that would end past the bound. The core refuses
    /// waits longer than `max_wait` from now, and says whether the clock is to blame; one that
    /// passes that check but not this one has already waited, for IDs the load took.
    fn check(&self, target_ms: u64) -> Result<(), Error> {
        let wait = target_ms.saturating_sub(self.since_ms);
        if wait > self.max_wait_ms {
            return Err(Error::SequenceExhausted {
                wait: Duration::from_millis(wait),
                max_wait: self.max_wait,
            });
        }
        Ok(())
    }

    /// Awaits the generator's clock reaching `target_ms` (Unix ms) on `alarms`, but not past
    /// the bound's deadline.
    async fn sleep_until<C: Clock, A: Alarms<C>>(
        &self,
        generator: &IdGenerator<C>,
        alarms: &A,
        target_ms: u64,
    ) -> Result<(), Error> {
        loop {
            let now_ms = fresh_now_ms(generator.clock());
            if now_ms >= target_ms {
                return Ok(());
            }
            if Instant::now() >= self.deadline {
                // Only a clock that lags the timer gets here: the answer being awaited was
                // within the bound when it was given.
                return Err(self.clock_behind(generator));
            }
            tokio::select! {
                () = alarms.until(generator.clock(), now_ms, target_ms) => {}
                () = tokio::time::sleep_until(self.deadline) => {}
            }
        }
    }

    /// The refusal when the clock did not reach a tick it was awaited for.
    fn clock_behind<C: Clock>(&self, generator: &IdGenerator<C>) -> Error {
        Error::ClockBehind {
            behind: generator.clock_lag(),
            max_wait: self.max_wait,
        }
    }
}

/// The clock's time, brought up to date first where the clock can do that without waiting.
///
/// The system clock publishes its millisecond from a ticker thread, which runs late on a
/// loaded machine; a request woken by its timer would then find the tick not yet shown and
/// wait another millisecond or more, and a stream of full-tick batches lost about half the
/// ticks that way (1.8 M instead of 4 M IDs/s under load). `wait_until_ms` of a time already
/// past returns at once, and for the system clock publishes the current millisecond on the
/// calling thread first, as its own blocking waiters do: a non-blocking refresh.
fn fresh_now_ms<C: Clock>(clock: &C) -> u64 {
    clock.wait_until_ms(0);
    clock.now_ms()
}

/// A held reservation that counts its IDs as burned if it is dropped unclaimed.
struct Burning<'a, T> {
    held: Option<Held<T>>,
    count: u64,
    burned: &'a AtomicU64,
}

impl<'a, T> Burning<'a, T> {
    fn new(held: Held<T>, count: u64, burned: &'a AtomicU64) -> Burning<'a, T> {
        Burning {
            held: Some(held),
            count,
            burned,
        }
    }

    fn ready_at_ms(&self) -> u64 {
        self.held.as_ref().map_or(0, Held::ready_at_ms)
    }

    /// The IDs, if the clock has reached the hold's tick; burned otherwise.
    fn claim<C: Clock>(mut self, generator: &IdGenerator<C>) -> Option<T> {
        let held = self.held.take()?;
        match held.claim(generator) {
            Ok(ids) => Some(ids),
            Err(held) => {
                self.held = Some(held);
                None
            }
        }
    }
}

impl<T> Drop for Burning<'_, T> {
    fn drop(&mut self) {
        if self.held.take().is_some() {
            self.burned.fetch_add(self.count, Ordering::Relaxed);
            crate::metrics::ids_burned(self.count);
        }
    }
}

#[cfg(test)]
#[path = "issuing_tests.rs"]
mod tests;
