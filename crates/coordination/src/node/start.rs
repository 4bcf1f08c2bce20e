//! Steps 2 and 3 of the window protocol for a freshly claimed slot: decide the floor, wait
//! (bounded) for a clock behind it or advance the ID clock to it (`--clock-behind`), persist
//! the first window and only then open the generator.

use std::time::{Duration, Instant};

use snowdrift::clock::SystemClock;
use snowdrift::{IdGenerator, Layout};

use crate::clock_behind::{decide, StartClock};
use crate::error::CoordError;
use crate::floor::{claim_floor, FloorError, FloorInputs, FloorSource};
use crate::seam::SlotHolder;
use crate::window::{first_mark, WindowConfig};

/// A generator started inside its first persisted window.
pub(super) struct Started {
    pub(super) generator: IdGenerator,
    pub(super) floor: u64,
    pub(super) floor_source: FloorSource,
    pub(super) high_water: u64,
}

/// Steps 2 and 3 of the protocol for a freshly claimed slot. `remembered` is the highest
/// ceiling this node held on the slot before, if it did.
pub(super) async fn start_generator<H: SlotHolder>(
    holder: &H,
    layout: &Layout,
    window: &WindowConfig,
    remembered: Option<u64>,
) -> Result<Started, CoordError> {
    let decided = claim_floor(&FloorInputs {
        stored_mark: holder.previous_high_water(),
        genesis: holder.genesis(),
        remembered_ceiling: remembered,
        claim_time: holder.claim_time(),
        layout,
    })
    .map_err(|e| {
        let (datacenter, machine) = holder.slot();
        match e {
            FloorError::MarkBeyondLayout { mark, max_tick } => CoordError::CorruptMark {
                datacenter,
                machine,
                place: holder.mark_place(),
                mark,
                max_tick,
            },
            FloorError::Overflow { .. } => CoordError::CorruptState {
                path: holder.describe().into(),
                reason: format!("slot datacenter {datacenter} machine {machine}: {e}"),
            },
        }
    })?;
    let (floor, floor_source) = (decided.tick, decided.source);
    let max_wait = decided.max_wait(window.startup_max_wait, layout);
    let (datacenter, machine) = holder.slot();
    let builder = IdGenerator::builder(*layout)
        .worker(datacenter, machine)
        .floor(floor)
        .closed()
        .max_wait(window.max_wait)
        .max_lead_ticks(window.max_lead_ticks)
        .sequence_start(window.sequence_start);
    let generator = builder.clone().build()?;

    let lag = generator.clock_lag();
    let generator = match decide(
        lag,
        window.clock_behind,
        max_wait,
        window.max_clock_lead,
        floor_source,
    )? {
        StartClock::AtOnce => generator,
        StartClock::Wait(_) => {
            wait_for_floor(&generator, max_wait, layout, floor, floor_source).await?;
            generator
        }
        StartClock::Advance(lead) => {
            // The ID clock starts at the floor's first millisecond, so the first ID is above
            // the mark, and slews back to the wall clock from there. The keeper reads the same
            // clock (the generator's), so every window it persists is measured on it.
            let floor_ms = layout
                .epoch_ms()
                .saturating_add(floor.saturating_mul(layout.unit_ms()));
            let clock = SystemClock::advanced(floor_ms, window.clock_slew);
            let advanced = builder.clock(clock).build()?;
            let status = clock.slew_status();
            tracing::warn!(
                lead_ms = lead.as_millis() as u64,
                floor_tick = floor,
                floor_source = ?floor_source,
                slew_percent = window.clock_slew.percent(),
                converges_at = status.map(|s| snowdrift::format_unix_ms(s.converged_at_unix_ms)).unwrap_or_default(),
                max_clock_lead_ms = window.max_clock_lead.as_millis() as u64,
                "clock is behind the slot's floor; starting at once on an advanced ID clock \
                 that slews back to the wall clock (--clock-behind advance)"
            );
            advanced
        }
    };

    let window_ticks = window.window_ticks(layout.unit_ms());
    let target = first_mark(
        generator.clock_tick(),
        floor,
        window_ticks,
        layout.max_tick(),
    );
    let high_water = persist_timed(holder, target, window.window).await?;
    generator.raise_ceiling(high_water)?;
    Ok(Started {
        generator,
        floor,
        floor_source,
        high_water,
    })
}

/// Waits (bounded by `max_wait`, plus a tick) for the wall clock to reach the floor.
async fn wait_for_floor(
    generator: &IdGenerator,
    max_wait: Duration,
    layout: &Layout,
    floor: u64,
    floor_source: FloorSource,
) -> Result<(), CoordError> {
    tracing::warn!(
        lag_ms = generator.clock_lag().as_millis() as u64,
        floor_tick = floor,
        floor_source = ?floor_source,
        "clock is behind the slot's floor; waiting for it (--clock-behind wait)"
    );
    let deadline = Instant::now() + max_wait + Duration::from_millis(layout.unit_ms());
    while !generator.clock_lag().is_zero() {
        if Instant::now() > deadline {
            return Err(CoordError::ClockBehindHighWater {
                behind: generator.clock_lag(),
                max_wait,
                floor: floor_source,
            });
        }
        tokio::time::sleep(generator.clock_lag().max(Duration::from_millis(1))).await;
    }
    Ok(())
}

/// Persists with a timeout, recording latency and failures.
pub(super) async fn persist_timed<H: SlotHolder>(
    holder: &H,
    target: u64,
    timeout: Duration,
) -> Result<u64, CoordError> {
    let started = Instant::now();
    let result = match tokio::time::timeout(timeout, holder.persist(target)).await {
        Ok(result) => result,
        Err(_) => Err(CoordError::Backend(format!(
            "persisting the high-water mark timed out after {timeout:?}"
        ))),
    };
    metrics::histogram!("snowdrift_hwm_persist_seconds").record(started.elapsed().as_secs_f64());
    if result.is_err() {
        metrics::counter!("snowdrift_hwm_persist_failures_total").increment(1);
    }
    result
}
