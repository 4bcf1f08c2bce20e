//! One attempt at a reservation, which never sleeps: the core that the poll API and the
//! blocking calls share.
//!
//! # What an attempt returns
//! - **Ready**: `count` values were reserved and every one of them may be handed out now.
//! - **Held**: they were reserved, but the last of them lies in a tick beyond what the clock
//!   and the allowed lead cover yet; they may be handed out once the clock reaches
//!   `ready_tick`. This is how a block that spans ticks is made, and how a `fetch_add` that
//!   lost a race into a later tick is reported: a reservation cannot be undone, so it is
//!   either held or burned.
//! - **Pending**: nothing was reserved. The first free value lies in a tick the caller may not
//!   use yet (the sequence is used up, or the state is ahead of the clock); try again once the
//!   clock reaches `tick`. Nothing is reserved before its first tick is usable, so a caller
//!   that polls in a loop, or gives up, never pushes the state ahead.
//!
//! Every Held and Pending answer is within `max_wait` of the clock; an attempt that would need
//! longer is refused with a typed error instead ([`Error::SequenceExhausted`] when the
//! generator's own reservations explain the wait, [`Error::ClockBehind`] when only a clock
//! that went back, or a floor ahead of it, can).
//!
//! # Why this keeps the invariants (DESIGN.md)
//! - **1, no repeats.** Values leave the state word only through a successful read-modify-
//!   write: a compare-exchange from `current` to `first + count` with `first > current` (the
//!   jump to a new tick), or a `fetch_add(count)`, `count >= 1`. The word therefore strictly
//!   increases, and each operation claims the values `[read, written)`; two operations' ranges
//!   never overlap, so no value, and no `(tick, sequence)`, is returned twice. Values refused
//!   after their reservation (past the window, fenced, a race past `max_wait`) are burned:
//!   never returned, never reserved again.
//! - **4, bounded lead.** A Ready reservation's last tick is at most `now + max_lead_ticks`,
//!   where `now` was read before the reservation, so it is never ahead of the clock by more
//!   than the lead when it is handed out. A Held one's IDs come out only after the clock has
//!   reached `ready_tick = last_tick - max_lead_ticks`: [`crate::Held::claim`] checks the
//!   clock, and the blocking calls wait and then check it. Pending reserves nothing.
//! - **7, bounded waits.** See above; the blocking loop (`waiting.rs`) adds the bound over a
//!   whole call.
//! - **2, the window.** Every reservation's last tick is below the limit read after its
//!   write (the store-buffer pattern that `fence` relies on), and the limit only rises
//!   until a fence clears it.
//!
//! # The one-`fetch_add` path (issue 13 §1)
//! Reading the state word before the `fetch_add` costs a second coherence transaction per ID
//! when threads share the generator: the load fetches the line shared, the `fetch_add` must
//! then take it exclusive. So a single value is reserved by a bare `fetch_add` while
//! `usable_tick` (on the read-mostly line) equals the clock's tick: a reservation that left the
//! state's next value usable at tick `t` (within the lead, below the limit) stores `t`; one
//! that left it unusable, a fence, or a Pending answer stores [`NO_TICK`].
//! - **The invariants do not rest on the hint.** The value the `fetch_add` returns is checked
//!   as on the other path: its tick below the limit read after the write (2, and the fence),
//!   within the lead of the clock read before it (4), Held or refused past that (7). A hint
//!   that is out of date costs a burned value or a Held answer, never a wrong ID.
//! - **No stale ticks.** The hint is stored (release) only after the state reached its tick,
//!   and read (acquire) before the `fetch_add`, so the value reserved is in that tick or later;
//!   a value below the clock's tick is burned anyway and the other path runs.
//! - **The same answers as before, one call at a time.** Every reservation updates the hint,
//!   so without a race the bare `fetch_add` runs only when the load-first path would have
//!   reserved the same value and answered Ready. Only racing calls can overshoot into an
//!   unusable tick (Held, or burned past `max_wait`), as a lost race could before; each
//!   overshoot clears the hint, and the state word cannot wrap, since it is below 2^63 and
//!   only single values take this path.

use std::time::Duration;

use super::{IdGenerator, NO_TICK};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::sync::{load_after_rmw, Ordering};

/// The outcome of one attempt, in raw state values (`tick << sequence_bits | sequence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attempt {
    /// Reserved from `first`, usable now.
    Ready(u64),
    /// Reserved from `first`, usable once the clock reaches `ready_tick`.
    Held {
        /// The first reserved value.
        first: u64,
        /// The clock tick from which every reserved value is within the allowed lead.
        ready_tick: u64,
    },
    /// Nothing reserved; the first free value is usable once the clock reaches `tick`.
    Pending {
        /// The clock tick to wait for.
        tick: u64,
    },
}

impl<C: Clock> IdGenerator<C> {
    /// Tries once to reserve `count` consecutive values (`1..=max_batch()`, checked by the
    /// caller). Never sleeps; loops only when a compare-exchange lost to another thread, or
    /// when the clock moved while the attempt was deciding to answer Pending.
    #[inline(always)]
    pub(super) fn try_reserve(&self, count: u64) -> Result<Attempt> {
        let shift = self.sequence_bits;
        let lead = u64::from(self.max_lead_ticks);
        // Read once for both paths; re-read only when the path below tries again.
        let mut now_ms = self.clock.now_ms();
        if count == 1 {
            let now = self.tick_of_ms(now_ms);
            if self.usable_tick.load(Ordering::Acquire) == now {
                // The state's next value was usable at this tick: reserve it without reading
                // the state first, then check it as any reservation (see the module docs).
                let first = self.line.state.fetch_add(1, Ordering::SeqCst);
                let control = load_after_rmw(&self.control);
                let tick = first >> shift;
                if tick >= control >> 1 {
                    self.forget_usable_tick();
                    return Err(self.outside_window(control));
                }
                let lead_end = now.saturating_add(lead);
                if tick >= now && tick <= lead_end {
                    if (first + 1) >> shift > lead_end {
                        // This was the last usable value: the next call checks first.
                        self.forget_usable_tick();
                    }
                    return Ok(Attempt::Ready(first));
                }
                self.forget_usable_tick();
                if tick > lead_end {
                    // Racing calls used up the usable values: ours is in a later tick.
                    return self.held_after_reserving(first, tick - lead);
                }
                // Below the clock's tick (not reached while the hint is kept, see the module
                // docs): burned; the path below starts the current tick.
                now_ms = self.clock.now_ms();
            }
        }
        loop {
            let now = self.tick_of_ms(now_ms);
            let current = self.line.state.load(Ordering::Acquire);
            let control = self.control.load(Ordering::Acquire);
            let limit = control >> 1;

            if current >> shift < now {
                // The clock has moved past the state: start the current tick afresh. The limit
                // is checked before the shift: it is at most one past the layout's last tick,
                // so a tick below it keeps every bit when shifted, while a clock past the
                // layout's end would lose its high bits and wrap.
                if now >= limit {
                    return Err(self.outside_window(control));
                }
                // The offset is below the sequence range, so `first` is still above `current`.
                let offset =
                    self.sequence_start
                        .offset(now, current, self.sequence_bits, self.node_bits);
                let first = (now << shift) | offset;
                let next = first + count;
                let last_tick = (next - 1) >> shift;
                if last_tick >= limit {
                    return Err(self.outside_window(control));
                }
                let ready_tick = last_tick.saturating_sub(lead);
                if ready_tick > now {
                    self.check_hold(ready_tick, now_ms)?;
                }
                if self
                    .line
                    .state
                    .compare_exchange(current, next, Ordering::SeqCst, Ordering::Acquire)
                    .is_err()
                {
                    now_ms = self.clock.now_ms();
                    continue;
                }
                // The window as it is after the reservation: a fence whose read of the state
                // missed this write is seen here (see `fence`), and the values are burned.
                let control = load_after_rmw(&self.control);
                if last_tick >= control >> 1 {
                    return Err(self.outside_window(control));
                }
                self.note_next(now, next, control >> 1);
                return Ok(if ready_tick > now {
                    Attempt::Held { first, ready_tick }
                } else {
                    Attempt::Ready(first)
                });
            }

            // The state is at or ahead of the clock: continue its sequence.
            let first_tick = current >> shift;
            let last_tick = current.saturating_add(count - 1) >> shift;
            if last_tick >= limit {
                return Err(self.outside_window(control));
            }
            if first_tick > now.saturating_add(lead) {
                // Not even the first value is usable yet: reserve nothing, say when.
                self.forget_usable_tick();
                match self.pending(first_tick - lead, now_ms)? {
                    Some(pending) => return Ok(pending),
                    None => {
                        now_ms = self.clock.now_ms();
                        continue;
                    }
                }
            }
            let ready_tick = last_tick.saturating_sub(lead);
            if ready_tick > now {
                self.check_hold(ready_tick, now_ms)?;
            }
            let first = self.line.state.fetch_add(count, Ordering::SeqCst);
            let last_tick = first.saturating_add(count - 1) >> shift;
            // As above: the window after the write, so that a racing fence is seen.
            let control = load_after_rmw(&self.control);
            if last_tick >= control >> 1 {
                // Lost a race at the end of the window, or to a fence: burned, never issued.
                return Err(self.outside_window(control));
            }
            self.note_next(now, first.saturating_add(count), control >> 1);
            let ready_tick = last_tick.saturating_sub(lead);
            if ready_tick <= now {
                return Ok(Attempt::Ready(first));
            }
            // Other threads moved the state between the load and the `fetch_add`, or the
            // block spans ticks: the values are ours, to hold until the clock gets there.
            return self.held_after_reserving(first, ready_tick);
        }
    }

    /// What an attempt for one ID would answer now, without reserving anything: `Ok(zero)` for
    /// Ready, `Ok(wait)` for Pending with the wait until its tick, or the error it would
    /// return. The same checks, in the same order, as [`IdGenerator::try_reserve`].
    pub(super) fn peek(&self) -> Result<Duration> {
        let shift = self.sequence_bits;
        let lead = u64::from(self.max_lead_ticks);
        let now_ms = self.clock.now_ms();
        let now = self.tick_of_ms(now_ms);
        let current = self.line.state.load(Ordering::Acquire);
        let control = self.control.load(Ordering::Acquire);
        let limit = control >> 1;
        // The tick the next ID would have: the clock's, or the state's when it is ahead.
        let tick = (current >> shift).max(now);
        if tick >= limit {
            return Err(self.outside_window(control));
        }
        let usable_from = (current >> shift).saturating_sub(lead);
        if usable_from <= now {
            return Ok(Duration::ZERO);
        }
        let wait_ms = self.unix_ms_of(usable_from).saturating_sub(now_ms);
        if wait_ms > u64::from(self.max_wait_ms) {
            return Err(self.wait_refusal(usable_from, now_ms, now_ms));
        }
        Ok(Duration::from_millis(wait_ms))
    }

    /// Records whether the state's next value, `next` after a reservation at clock tick `now`
    /// under the exclusive tick limit `limit`, is usable at `now`: the hint of the
    /// one-`fetch_add` path. Written only when it changes, so the line stays read-mostly.
    #[inline(always)]
    fn note_next(&self, now: u64, next: u64, limit: u64) {
        let tick = next >> self.sequence_bits;
        let usable = tick <= now.saturating_add(u64::from(self.max_lead_ticks)) && tick < limit;
        let hint = if usable { now } else { NO_TICK };
        if self.usable_tick.load(Ordering::Relaxed) != hint {
            self.usable_tick.store(hint, Ordering::Release);
        }
    }

    /// Sends the next single-value reservation to the path that reads the state first.
    #[inline(always)]
    fn forget_usable_tick(&self) {
        if self.usable_tick.load(Ordering::Relaxed) != NO_TICK {
            self.usable_tick.store(NO_TICK, Ordering::Release);
        }
    }

    /// The answer for values reserved from `first` whose last one needs the clock at
    /// `ready_tick`: Ready if the clock has got there since it was read, Held if it will
    /// within `max_wait`, otherwise an error (the values are burned).
    #[cold]
    #[inline(never)]
    fn held_after_reserving(&self, first: u64, ready_tick: u64) -> Result<Attempt> {
        let now_ms = self.clock.now_ms();
        if ready_tick <= self.tick_of_ms(now_ms) {
            return Ok(Attempt::Ready(first));
        }
        self.check_hold(ready_tick, now_ms)?;
        Ok(Attempt::Held { first, ready_tick })
    }

    /// Refuses a hold until `ready_tick` that would last longer than `max_wait`.
    #[cold]
    #[inline(never)]
    fn check_hold(&self, ready_tick: u64, now_ms: u64) -> Result<()> {
        if self.unix_ms_of(ready_tick).saturating_sub(now_ms) > u64::from(self.max_wait_ms) {
            return Err(self.wait_refusal(ready_tick, now_ms, now_ms));
        }
        Ok(())
    }

    /// Pending until `tick`, or `None` when the clock has reached it since `now_ms` was read
    /// (try again at once), or an error when the wait would pass `max_wait`.
    #[cold]
    #[inline(never)]
    fn pending(&self, tick: u64, now_ms: u64) -> Result<Option<Attempt>> {
        let now_ms = self.clock.now_ms().max(now_ms);
        if tick <= self.tick_of_ms(now_ms) {
            return Ok(None);
        }
        if self.unix_ms_of(tick).saturating_sub(now_ms) > u64::from(self.max_wait_ms) {
            return Err(self.wait_refusal(tick, now_ms, now_ms));
        }
        Ok(Some(Attempt::Pending { tick }))
    }

    /// Why a wait for the clock to reach `tick` is refused, the wait counted from `since_ms`
    /// (the start of the call) while the clock reads `now_ms`.
    ///
    /// The generator's own reservations end within `max_wait` plus the lead of the clock, so
    /// a healthy clock never finds the state more than one tick past that: a state further
    /// ahead means the clock went back, or the floor (the previous holder's mark) is ahead of
    /// it, and the clock is to blame. Within that reach the IDs were used up ahead of the
    /// clock by borrowing and blocks, and only the load is to blame.
    #[cold]
    #[inline(never)]
    pub(super) fn wait_refusal(&self, tick: u64, now_ms: u64, since_ms: u64) -> Error {
        let wait = Duration::from_millis(self.unix_ms_of(tick).saturating_sub(since_ms));
        let max_wait = Duration::from_millis(u64::from(self.max_wait_ms));
        let reach = self
            .tick_of_ms(now_ms.saturating_add(u64::from(self.max_wait_ms)))
            .saturating_add(u64::from(self.max_lead_ticks) + 1);
        if self.next_tick() > reach {
            Error::ClockBehind {
                behind: wait,
                max_wait,
            }
        } else {
            Error::SequenceExhausted { wait, max_wait }
        }
    }

    /// Why a reservation beyond the limit in `control` is refused.
    #[cold]
    #[inline(never)]
    pub(super) fn outside_window(&self, control: u64) -> Error {
        if control & super::LIVE == 0 {
            return Error::Fenced;
        }
        let layout = self.layout();
        let limit = control >> 1;
        if limit > layout.max_tick() {
            return Error::layout_exhausted(&layout);
        }
        Error::CeilingReached {
            ceiling: limit.saturating_sub(1),
        }
    }
}
