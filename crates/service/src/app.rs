//! The state every protocol shares, and the one path by which IDs leave the service.
//!
//! An [`App`] is cheap to clone (one `Arc`) and is handed to each listener: HTTP, gRPC and the
//! Redis protocol. A protocol parses its request, calls [`App::issue`] (or
//! [`App::issue_one`], [`App::decode`], [`App::info`]) and maps a [`ServiceError`] to its own
//! status. Checking the count, counting issued IDs and classifying failures happen here, once,
//! so the protocols cannot drift apart.
//!
//! The coordination [`Node`] inside owns the worker slot and the persisted window; the
//! generator is fetched from it per call because a slot handover can replace it.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use snowdrift::clock::SystemClock;
use snowdrift::{Id, IdBlock, Layout};
use snowdrift_coordination::{CoordError, Node, NodeStatus, Stopped};

use crate::describe::{self, rfc3339_ms, ClockInfo, DecodedId, Info};
use crate::error::ServiceError;
use crate::metrics as m;

/// How long to keep trying to take sole ownership of the node at shutdown, while the last
/// connections drop their handles.
const SHUTDOWN_HANDLE_WAIT: Duration = Duration::from_secs(5);

/// Most blocks issued at once on blocking threads (see [`App::run_blocking`]). One worker makes
/// one tick's worth of IDs per tick whatever the concurrency, so a few in flight keep it busy;
/// more would only add sleeping threads, each with its own allocator cache.
const BLOCKING_ISSUERS: usize = 4;

/// Shared service state: the node, the layout, limits and start time.
#[derive(Debug, Clone)]
pub struct App {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    node: Node,
    layout: Layout,
    layout_name: &'static str,
    max_batch: u64,
    started: Instant,
    started_at: SystemTime,
    clock: SystemClock,
    /// Permits for [`App::run_blocking`].
    blocking_issuers: tokio::sync::Semaphore,
}

impl App {
    /// Wraps a started node. `max_batch` bounds one request; `layout_name` is the preset's name
    /// or `custom`, for `/v1/info`.
    pub fn new(node: Node, layout_name: &'static str, max_batch: u64) -> App {
        let layout = node.layout();
        App {
            inner: Arc::new(Inner {
                node,
                layout,
                layout_name,
                max_batch,
                started: Instant::now(),
                started_at: SystemTime::now(),
                clock: SystemClock::new(),
                blocking_issuers: tokio::sync::Semaphore::new(BLOCKING_ISSUERS),
            }),
        }
    }

    /// Issues `count` consecutive IDs as one block reservation.
    ///
    /// `count` must be in `1..=max_batch`. The generator may sleep briefly (up to about a
    /// millisecond per 4096 IDs in the default layout) when the clock's current tick is used up;
    /// callers on an async runtime with large counts should call this from a blocking context.
    pub fn issue(&self, count: u64) -> Result<IdBlock, ServiceError> {
        if count == 0 || count > self.inner.max_batch {
            return Err(ServiceError::batch_out_of_range(
                count,
                self.inner.max_batch,
            ));
        }
        let result = self.inner.node.generator_guard().next_ids(count);
        match result {
            Ok(block) => {
                m::ids_issued(count);
                Ok(block)
            }
            Err(err) => Err(self.failed(err)),
        }
    }

    /// Runs `work` on a blocking thread, at most a few at a time, and returns its result.
    ///
    /// For large blocks from async code: `work` calls [`App::issue`], which may sleep until the
    /// block's ticks arrive, and renders the answer there too, so the async workers stay free.
    /// Waiting for a permit is asynchronous.
    pub async fn run_blocking<T, F>(&self, work: F) -> Result<T, ServiceError>
    where
        T: Send + 'static,
        F: FnOnce(&App) -> Result<T, ServiceError> + Send + 'static,
    {
        let internal =
            |what: String| ServiceError::unavailable("internal", what, Duration::from_secs(1));
        let _permit = self
            .inner
            .blocking_issuers
            .acquire()
            .await
            .map_err(|err| internal(format!("issuing is closed: {err}")))?;
        let app = self.clone();
        tokio::task::spawn_blocking(move || work(&app))
            .await
            .map_err(|err| internal(format!("issuing task failed: {err}")))?
    }

    /// Issues one ID: the same as `issue(1)`, on the generator's single-ID fast path.
    pub fn issue_one(&self) -> Result<Id, ServiceError> {
        let result = self.inner.node.generator_guard().next_id();
        match result {
            Ok(id) => {
                m::ids_issued(1);
                Ok(id)
            }
            Err(err) => Err(self.failed(err)),
        }
    }

    /// Decodes an ID written in any encoding, under the service's layout.
    pub fn decode(&self, text: &str) -> Result<DecodedId, ServiceError> {
        describe::parse_id(text, &self.inner.layout)
    }

    /// Whether IDs can be issued now (`/readyz`, and the gRPC health service).
    pub fn is_ready(&self) -> bool {
        self.inner.node.is_ready()
    }

    /// Why the node is not ready, as an error to answer with.
    pub fn not_ready(&self) -> ServiceError {
        let status = self.inner.node.status();
        // The condition that failed, from the node; a node that turned ready since the
        // probe asked can only point at its last coordination error, if any.
        let reason = match (status.not_ready, status.last_error) {
            (Some(not_ready), _) => format!("{} ({})", not_ready.detail, not_ready.reason),
            (None, Some(error)) => error,
            (None, None) => "it became ready again while answering".to_string(),
        };
        ServiceError::unavailable(
            "not_ready",
            format!("this node cannot issue IDs now: {reason}"),
            Duration::from_secs(1),
        )
    }

    /// The service's layout.
    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    /// Most IDs one request may ask for.
    pub fn max_batch(&self) -> u64 {
        self.inner.max_batch
    }

    /// The coordination snapshot.
    pub fn status(&self) -> NodeStatus {
        self.inner.node.status()
    }

    /// The answer to `/v1/info`.
    pub fn info(&self) -> Info {
        let status = self.inner.node.status();
        let generator = self.inner.node.generator();
        let layout = &self.inner.layout;
        let unit = layout.unit_ms();
        let events = self.inner.clock.events();
        let tick = generator.clock_tick();
        let next_tick = generator.next_tick();
        let ceiling = generator.ceiling();
        Info {
            version: env!("CARGO_PKG_VERSION").to_string(),
            layout: describe::layout_info(self.inner.layout_name, layout),
            datacenter: status.datacenter,
            machine: status.machine,
            ready: status.ready,
            max_batch: self.inner.max_batch,
            started_at: rfc3339_ms(
                self.inner
                    .started_at
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64),
            ),
            uptime_seconds: self.inner.started.elapsed().as_secs(),
            clock: ClockInfo {
                now: rfc3339_ms(layout.unix_ms_of_tick(tick)),
                tick,
                next_tick,
                lead_ms: next_tick.saturating_sub(tick.saturating_add(1)) * unit,
                ceiling_tick: ceiling,
                ceiling_headroom_ms: ceiling.map(|c| c.saturating_sub(tick) * unit),
                wall_offset_ms: events.wall_offset_ms,
                backward_steps: events.backward_steps,
                forward_steps: events.forward_steps,
                exhaustion_waits: generator.exhaustion_waits(),
            },
            coordination: status,
        }
    }

    /// Publishes the gauges that are read rather than counted: clock lead, ceiling headroom,
    /// exhaustion waits, clock steps, readiness. Called before each `/metrics` render.
    pub fn publish_gauges(&self) {
        let generator = self.inner.node.generator();
        let unit_secs = self.inner.layout.unit_ms() as f64 / 1000.0;
        let tick = generator.clock_tick();
        let next_tick = generator.next_tick();
        let headroom = generator
            .ceiling()
            .map_or(-(tick as f64), |c| c as f64 - tick as f64);
        m::publish(&m::Gauges {
            clock_lead_seconds: next_tick.saturating_sub(tick.saturating_add(1)) as f64 * unit_secs,
            ceiling_headroom_seconds: headroom * unit_secs,
            exhaustion_waits: generator.exhaustion_waits(),
            clock: self.inner.clock.events(),
            ready: self.is_ready(),
            layout_remaining_seconds: self
                .inner
                .layout
                .end_unix_ms()
                .saturating_sub(self.inner.layout.unix_ms_of_tick(tick))
                as f64
                / 1000.0,
        });
    }

    /// Stops the node: the window keeper stops, the slot is released. Call once every listener
    /// has stopped; a handle still held elsewhere is waited for briefly. The report says what
    /// became of the slot and its mark.
    pub async fn shutdown(self) -> Result<Stopped, CoordError> {
        let mut inner = self.inner;
        let deadline = Instant::now() + SHUTDOWN_HANDLE_WAIT;
        loop {
            match Arc::try_unwrap(inner) {
                Ok(inner) => return inner.node.shutdown().await,
                Err(shared) if Instant::now() < deadline => {
                    inner = shared;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(shared) => {
                    // Something still holds the app (a stuck connection). Stop issuing at once;
                    // the slot lock is released when the process exits, and the persisted mark
                    // already covers every issued ID.
                    shared.node.generator().fence();
                    return Err(CoordError::Backend(
                        "shutdown: the service state was still in use; fenced the generator \
                         without releasing the slot"
                            .to_string(),
                    ));
                }
            }
        }
    }

    fn failed(&self, err: snowdrift::Error) -> ServiceError {
        m::issue_failed(err.code());
        ServiceError::from(err)
    }
}
