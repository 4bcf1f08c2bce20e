//! The issuing path's waits, checked exactly: the generator reads a clock that *is* tokio's
//! paused time, so a timer and the generator agree on every millisecond, and a wait's length
//! is a number, not a measurement on a noisy machine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use snowdrift::clock::{Clock, ManualClock};
use snowdrift::{Error, IdBlock, IdGenerator, Layout, Poll};
use tokio::time::Instant;

use super::{finish, TokioTimers, WaitCounters, TIMER_GRACE};

/// Unix ms of the start of every test's clock.
const START_MS: u64 = 1_700_000_000_000;

/// The generator's time is tokio's (paused) time since the clock was made, plus the forward
/// steps a test makes.
#[derive(Debug, Clone)]
struct TokioClock {
    start: Instant,
    stepped_ms: Arc<AtomicU64>,
}

impl TokioClock {
    fn new() -> TokioClock {
        TokioClock {
            start: Instant::now(),
            stepped_ms: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Steps the clock forward, as an adopted wall-clock correction does.
    fn step_forward(&self, ms: u64) {
        self.stepped_ms.fetch_add(ms, Ordering::Relaxed);
    }
}

impl Clock for TokioClock {
    fn now_ms(&self) -> u64 {
        START_MS + self.start.elapsed().as_millis() as u64 + self.stepped_ms.load(Ordering::Relaxed)
    }
}

/// Four IDs a millisecond, so that a block of 400 spans 100 ticks.
fn layout() -> Layout {
    Layout::builder().sequence_bits(2).build().unwrap()
}

fn generator<C: Clock>(clock: C, max_wait: Duration) -> Arc<IdGenerator<C>> {
    Arc::new(
        IdGenerator::builder(layout())
            .clock(clock)
            .max_wait(max_wait)
            .build()
            .unwrap(),
    )
}

/// Polls for `count` IDs and finishes the reservation on the issuing path.
async fn issue<C: Clock>(
    generator: &IdGenerator<C>,
    count: u64,
    max_wait: Duration,
    counters: &WaitCounters,
) -> Result<IdBlock, Error> {
    let first = generator.poll_ids(count)?;
    finish(
        generator,
        first,
        count,
        max_wait,
        &TokioTimers,
        counters,
        |g| g.poll_ids(count),
    )
    .await
}

/// Milliseconds of paused time since `since`.
fn ms_since(since: Instant) -> u64 {
    since.elapsed().as_millis() as u64
}

#[tokio::test(start_paused = true)]
async fn a_block_that_spans_ticks_is_handed_out_when_its_last_tick_arrives() {
    let max_wait = Duration::from_secs(1);
    let generator = generator(TokioClock::new(), max_wait);
    let counters = WaitCounters::default();
    let start = Instant::now();
    let block = issue(&generator, 400, max_wait, &counters).await.unwrap();
    // Ticks 0..=99 of the clock's start: the last is 99 ms away.
    assert_eq!(ms_since(start), 99);
    assert_eq!(block.len(), 400);
    let last = block.last_id().parts(&layout()).unwrap();
    assert_eq!(last.tick, generator.clock_tick());
    assert_eq!(counters.exhaustion_waits.load(Ordering::Relaxed), 1);
    assert_eq!(counters.ids_burned.load(Ordering::Relaxed), 0);
}

#[tokio::test(start_paused = true)]
async fn a_ready_answer_is_returned_without_waiting() {
    let max_wait = Duration::from_secs(1);
    let generator = generator(TokioClock::new(), max_wait);
    let counters = WaitCounters::default();
    let start = Instant::now();
    let block = issue(&generator, 4, max_wait, &counters).await.unwrap();
    assert_eq!((block.len(), ms_since(start)), (4, 0));
    assert_eq!(counters.exhaustion_waits.load(Ordering::Relaxed), 0);
}

#[tokio::test(start_paused = true)]
async fn single_ids_behind_a_held_block_wait_for_its_end_then_follow_it() {
    let max_wait = Duration::from_secs(1);
    let generator = generator(TokioClock::new(), max_wait);
    let counters = Arc::new(WaitCounters::default());
    let (start, t0) = (Instant::now(), generator.clock_tick());
    let block = {
        let (generator, counters) = (Arc::clone(&generator), Arc::clone(&counters));
        tokio::spawn(async move { issue(&generator, 400, max_wait, &counters).await })
    };
    tokio::task::yield_now().await;
    let first = generator.poll_id().unwrap();
    assert!(matches!(first, Poll::Pending { .. }), "{first:?}");
    let id = finish(
        &generator,
        first,
        1,
        max_wait,
        &TokioTimers,
        &counters,
        IdGenerator::poll_id,
    )
    .await
    .unwrap();
    assert_eq!(ms_since(start), 100);
    let block = block.await.unwrap().unwrap();
    assert!(id > block.last_id());
    assert_eq!(id.parts(&layout()).unwrap().tick, t0 + 100);
}

/// A request that keeps finding its tick taken stops at its bound, counted from its first
/// wait, however many times it was woken: it never waits past `max_wait`.
#[tokio::test(start_paused = true)]
async fn a_wait_that_keeps_being_overtaken_stops_at_max_wait() {
    let max_wait = Duration::from_millis(100);
    let clock = TokioClock::new();
    let generator = generator(clock.clone(), max_wait);
    let counters = Arc::new(WaitCounters::default());
    let (start, t0) = (Instant::now(), generator.clock_tick());
    // Ticks 0..=89 (from the clock's start) are taken: a single ID is pending until tick 90.
    let held = generator.poll_ids(360).unwrap();
    assert!(matches!(held, Poll::Held(_)), "{held:?}");
    let first = generator.poll_id().unwrap();
    assert!(
        matches!(first, Poll::Pending { tick, .. } if tick == t0 + 90),
        "{first:?}"
    );
    let single = {
        let (generator, counters) = (Arc::clone(&generator), Arc::clone(&counters));
        tokio::spawn(async move {
            let result = finish(
                &generator,
                first,
                1,
                max_wait,
                &TokioTimers,
                &counters,
                IdGenerator::poll_id,
            )
            .await;
            (result, ms_since(start))
        })
    };
    // While it sleeps, the clock steps 40 ms forward (adopted, as the system clock adopts a
    // forward step) and another block takes ticks 90..=179 before the single ID wakes.
    tokio::time::sleep(Duration::from_millis(50)).await;
    clock.step_forward(40);
    let overtaking = generator.poll_ids(360).unwrap();
    assert!(matches!(overtaking, Poll::Held(_)), "{overtaking:?}");
    let (result, ended) = single.await.unwrap();
    // Woken at 90, it finds tick 180 next: 180 ms after its wait began, past the 100 ms bound.
    match result {
        Err(Error::SequenceExhausted {
            wait,
            max_wait: bound,
        }) => {
            assert_eq!(wait, Duration::from_millis(180));
            assert_eq!(bound, max_wait);
        }
        other => panic!("expected SequenceExhausted, got {other:?}"),
    }
    assert_eq!(ended, 90);
    drop((held, overtaking));
}

/// A block that would have to be held past `max_wait` is refused up front when the core can
/// tell (a batch too big for the bound), and otherwise as soon as its reservation shows it
/// (reserved after waiting for its first tick): never after waiting past the bound.
#[tokio::test(start_paused = true)]
async fn a_block_that_would_wait_past_max_wait_is_refused_within_it() {
    let max_wait = Duration::from_millis(100);
    let generator = generator(TokioClock::new(), max_wait);
    let counters = Arc::new(WaitCounters::default());
    let start = Instant::now();
    // 404 IDs from the first of a tick end 100 ticks on: the most the bound allows.
    assert_eq!(generator.max_batch(), 404);
    let refused = issue(&generator, 405, max_wait, &counters).await;
    assert!(
        matches!(refused, Err(Error::BatchExceedsWait { .. })),
        "{refused:?}"
    );
    assert_eq!(ms_since(start), 0, "refused without waiting");

    let first = {
        let (generator, counters) = (Arc::clone(&generator), Arc::clone(&counters));
        tokio::spawn(async move { issue(&generator, 400, max_wait, &counters).await })
    };
    tokio::task::yield_now().await;
    // Behind the first block, a second one waits for tick 100, and would then be held until
    // tick 199: 199 ms after it began to wait.
    let second = issue(&generator, 400, max_wait, &counters).await;
    match second {
        Err(Error::SequenceExhausted { wait, .. }) => assert_eq!(wait, Duration::from_millis(199)),
        other => panic!("expected SequenceExhausted, got {other:?}"),
    }
    assert_eq!(ms_since(start), 100);
    // Its reservation was made when it was refused: those IDs are burned, and counted.
    assert_eq!(counters.ids_burned.load(Ordering::Relaxed), 400);
    assert_eq!(first.await.unwrap().unwrap().len(), 400);
}

/// A request dropped while its block waits (the client went away) burns exactly its block:
/// the next ID follows the block's last, and the IDs are counted as burned.
#[tokio::test(start_paused = true)]
async fn a_cancelled_wait_burns_its_block_and_nothing_more() {
    let max_wait = Duration::from_secs(1);
    let generator = generator(TokioClock::new(), max_wait);
    let t0 = generator.clock_tick();
    let counters = Arc::new(WaitCounters::default());
    let waiting = {
        let (generator, counters) = (Arc::clone(&generator), Arc::clone(&counters));
        tokio::spawn(async move { issue(&generator, 400, max_wait, &counters).await })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());
    assert_eq!(counters.ids_burned.load(Ordering::Relaxed), 400);

    // A pending request reserved nothing, and burns nothing when dropped.
    let first = generator.poll_id().unwrap();
    assert!(
        matches!(first, Poll::Pending { tick, .. } if tick == t0 + 100),
        "{first:?}"
    );
    let pending = {
        let (generator, counters) = (Arc::clone(&generator), Arc::clone(&counters));
        tokio::spawn(async move {
            finish(
                &generator,
                first,
                1,
                max_wait,
                &TokioTimers,
                &counters,
                IdGenerator::poll_id,
            )
            .await
        })
    };
    tokio::time::sleep(Duration::from_millis(10)).await;
    pending.abort();
    assert!(pending.await.unwrap_err().is_cancelled());
    assert_eq!(counters.ids_burned.load(Ordering::Relaxed), 400);

    // The block took ticks 0..=99 whole; the next ID is the first of tick 100.
    tokio::time::sleep_until(Instant::now() + Duration::from_millis(80)).await;
    let next = issue(&generator, 1, max_wait, &counters).await.unwrap();
    let parts = next.first().parts(&layout()).unwrap();
    assert_eq!((parts.tick, parts.sequence), (t0 + 100, 0));
}

/// A clock that does not move while the timer does: the wait is re-armed up to its bound
/// plus the timer's grace, then refused as a clock behind, and the held IDs are burned.
#[tokio::test(start_paused = true)]
async fn a_clock_that_lags_the_timer_ends_the_wait_at_its_bound() {
    let max_wait = Duration::from_millis(100);
    let clock = ManualClock::frozen(START_MS);
    let generator = generator(clock, max_wait);
    let counters = WaitCounters::default();
    let start = Instant::now();
    let result = issue(&generator, 200, max_wait, &counters).await;
    assert!(
        matches!(result, Err(Error::ClockBehind { .. })),
        "{result:?}"
    );
    assert_eq!(
        Duration::from_millis(ms_since(start)),
        max_wait + TIMER_GRACE
    );
    assert_eq!(counters.ids_burned.load(Ordering::Relaxed), 200);
}

/// A clock that shows a new millisecond only when it is refreshed, as the system clock's is
/// by its ticker thread (late on a loaded machine) or by a waiter's `wait_until_ms`.
#[derive(Debug, Clone)]
struct LateClock {
    inner: TokioClock,
    shown_ms: Arc<AtomicU64>,
}

impl Clock for LateClock {
    fn now_ms(&self) -> u64 {
        self.shown_ms.load(Ordering::Relaxed)
    }

    fn wait_until_ms(&self, target_ms: u64) {
        // Publishes the time, as the system clock does; the issuing path only ever asks for
        // a time already past, so this never waits.
        assert!(target_ms <= self.inner.now_ms(), "asked to wait");
        self.shown_ms.store(self.inner.now_ms(), Ordering::Relaxed);
    }
}

/// A request woken by its timer refreshes the clock rather than waiting for a ticker that
/// runs late: the block comes out when its tick arrives, not a millisecond or more later.
/// (Without the refresh this one waited until its bound and failed as a clock behind.)
#[tokio::test(start_paused = true)]
async fn a_waiter_does_not_wait_for_a_late_ticker() {
    let max_wait = Duration::from_millis(100);
    let inner = TokioClock::new();
    let clock = LateClock {
        shown_ms: Arc::new(AtomicU64::new(inner.now_ms())),
        inner,
    };
    let generator = generator(clock, max_wait);
    let counters = WaitCounters::default();
    let start = Instant::now();
    let block = issue(&generator, 40, max_wait, &counters).await.unwrap();
    // Ticks 0..=9: the last is 9 ms away.
    assert_eq!((block.len(), ms_since(start)), (40, 9));
    assert_eq!(counters.ids_burned.load(Ordering::Relaxed), 0);
}

/// The regression of the poll path (docs/BENCHMARKS.md, "A regression: full-tick blocks"): a
/// whole-tick block at lead 0 must be issued from the very next tick, woken by the clock's
/// own precise wait as that tick begins. The clock here moves only when something waits on
/// it (`ManualClock::new`), to exactly the millisecond waited for, so a waiter that relied on
/// a timer instead never sees its tick and ends in `ClockBehind`; the tick waker gets the
/// next tick, and the clock shows that nobody waited for a later one.
#[tokio::test]
async fn a_whole_tick_block_is_woken_by_the_tick_waker_as_its_tick_begins() {
    let clock = ManualClock::new(START_MS);
    let generator = generator(clock.clone(), Duration::from_millis(20));
    let counters = WaitCounters::default();
    let ticks = super::TickWaker::new(clock.clone());
    let t0 = generator.clock_tick();
    let mut issued = 0;
    for n in 1..=5u64 {
        let first = generator.poll_ids(4).unwrap();
        let block = finish(
            &generator,
            first,
            4,
            Duration::from_millis(20),
            &ticks,
            &counters,
            |g| g.poll_ids(4),
        )
        .await
        .unwrap();
        let parts = block.first().parts(&layout()).unwrap();
        // Block n - 1 took tick t0 + n - 1 whole; this one is the next tick's, from its start.
        assert_eq!((parts.tick, parts.sequence), (t0 + n - 1, 0));
        assert_eq!(clock.now_ms(), START_MS + n - 1, "no tick was skipped");
        issued += block.len();
    }
    assert_eq!(issued, 20);
    // Four waits, one per tick after the first, each woken by the waker's thread.
    assert_eq!(counters.exhaustion_waits.load(Ordering::Relaxed), 4);
    assert_eq!(ticks.passes_and_woken().1, 4);
}
