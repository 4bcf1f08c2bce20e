//! The blocking calls' waiting: a thin loop over the attempt of `reserve.rs`, within bounds.
//!
//! `next_id` and `next_ids` try once on the hot path and come here only when that attempt is
//! not Ready. The loop sleeps (never spins) until the tick a Held or Pending answer names,
//! retries, and stops with a typed error as soon as a wait would take the call past
//! `max_wait` in total, counted from the call's start. A configured ceiling wait is a bound of
//! its own, after which the `max_wait` bound starts afresh. A clock that did not reach the
//! tick it was asked to wait for (it stalled, or was set back) ends the call with
//! [`Error::ClockBehind`]; nothing is waited for twice without the clock moving.

use std::time::{Duration, Instant};

use super::reserve::Attempt;
use super::IdGenerator;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::sync::Ordering;

/// How often a call waiting for the ceiling to be raised looks again.
const CEILING_POLL: Duration = Duration::from_micros(500);

impl<C: Clock> IdGenerator<C> {
    /// Turns an attempt that was not Ready into reserved values, waiting within the call's
    /// bounds; returns the first value.
    #[cold]
    #[inline(never)]
    pub(super) fn finish_reservation(&self, count: u64, first: Result<Attempt>) -> Result<u64> {
        let mut attempt = first;
        let mut since_ms = self.clock.now_ms();
        let mut ceiling_waited = false;
        loop {
            match attempt {
                Ok(Attempt::Ready(first)) => return Ok(first),
                Ok(Attempt::Held { first, ready_tick }) => {
                    // Burned if the wait fails: the values were reserved and cannot go back.
                    self.sleep_until(ready_tick, since_ms, true)?;
                    return Ok(first);
                }
                Ok(Attempt::Pending { tick }) => self.sleep_until(tick, since_ms, false)?,
                Err(Error::CeilingReached { .. })
                    if !ceiling_waited && self.ceiling_wait_ms > 0 =>
                {
                    ceiling_waited = true;
                    attempt = self.wait_for_raise(count);
                    since_ms = self.clock.now_ms();
                    continue;
                }
                Err(err) => return Err(err),
            }
            attempt = self.try_reserve(count);
        }
    }

    /// Sleeps until the clock reaches `tick`, unless that would take the call that started at
    /// `since_ms` past `max_wait`. `held`: values are reserved and waiting for their last tick.
    fn sleep_until(&self, tick: u64, since_ms: u64, held: bool) -> Result<()> {
        let now_ms = self.clock.now_ms();
        let now = self.tick_of_ms(now_ms);
        if tick <= now {
            return Ok(());
        }
        let target_ms = self.unix_ms_of(tick);
        if target_ms.saturating_sub(since_ms) > u64::from(self.max_wait_ms) {
            return Err(self.wait_refusal(tick, now_ms, since_ms));
        }
        // Counted as sequence exhaustion (what operators read the counter as) when a tick
        // filled up: a block that runs into later ticks, or single IDs whose next free value
        // is in the very next tick. A longer wait is for a clock that lags the state.
        if held || tick == now + 1 {
            self.line.exhaustion_waits.fetch_add(1, Ordering::Relaxed);
        }
        self.clock.wait_until_ms(target_ms);
        let after = self.now_tick();
        if after < tick {
            return Err(self.clock_behind(tick - after));
        }
        Ok(())
    }

    /// Waits, at most `ceiling_wait`, for the window to let a reservation of `count` through;
    /// returns the last attempt.
    fn wait_for_raise(&self, count: u64) -> Result<Attempt> {
        let deadline = Instant::now() + Duration::from_millis(u64::from(self.ceiling_wait_ms));
        loop {
            std::thread::sleep(CEILING_POLL);
            let attempt = self.try_reserve(count);
            if !matches!(attempt, Err(Error::CeilingReached { .. })) || Instant::now() >= deadline {
                return attempt;
            }
        }
    }

    fn clock_behind(&self, ticks: u64) -> Error {
        Error::ClockBehind {
            behind: Duration::from_millis(ticks.saturating_mul(u64::from(self.unit_ms))),
            max_wait: Duration::from_millis(u64::from(self.max_wait_ms)),
        }
    }
}
