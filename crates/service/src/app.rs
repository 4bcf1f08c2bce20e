//! The state every protocol shares, and the one path by which IDs leave the service.
//!
//! An [`App`] is cheap to clone (one `Arc`) and is handed to each listener: HTTP, gRPC and the
//! Redis protocol. A protocol parses its request, awaits [`App::issue`] (or
//! [`App::issue_one`]), or calls [`App::decode`] or [`App::info`], and maps a [`ServiceError`]
//! to its own status. Checking the count, counting issued IDs and classifying failures happen
//! here, once, so the protocols cannot drift apart.
//!
//! Issuing polls the core, which never sleeps: a Ready answer (nearly every request) is
//! returned in place; anything else is awaited by [`crate::issuing`], woken at its tick by the
//! app's [`TickWaker`] and bounded by a tokio timer at the generator's `max_wait`. No protocol
//! needs a blocking thread, a pool or a permit to issue, and a request that waits for its
//! ticks leaves its runtime worker free.
//!
//! The coordination [`Node`] inside owns the worker slot and the persisted window; the
//! generator is fetched from it per call because a slot handover can replace it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use snowdrift::clock::SystemClock;
use snowdrift::{Id, IdBlock, IdGenerator, Layout, Poll};
use snowdrift_coordination::etcd::ClusterReader;
use snowdrift_coordination::{CoordError, EtcdOptions, Node, NodeStatus, Stopped};

use crate::describe::{self, rfc3339_ms, ClockInfo, DecodedId, Info};
use crate::error::ServiceError;
use crate::issuing::{self, TickWaker, WaitCounters};
use crate::metrics as m;

/// How long to keep trying to take sole ownership of the node at shutdown, while the last
/// connections drop their handles.
const SHUTDOWN_HANDLE_WAIT: Duration = Duration::from_secs(5);

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
    /// The generator's bound on one request's wait (the window settings' `max_wait`).
    max_wait: Duration,
    /// Waits of requests, which the core does not see (it never sleeps for the service).
    waits: WaitCounters,
    /// Wakes waiting requests at the microsecond their tick begins (one thread, started by
    /// the first waiter; see [`crate::tick_waker`]).
    waker: TickWaker<SystemClock>,
    /// Reads the cluster's slot map (`/v1/cluster`) over one kept etcd connection, when the
    /// node runs on etcd.
    cluster: Option<ClusterReader>,
}

impl App {
    /// Wraps a started node. `max_batch` bounds one request; `layout_name` is the preset's name
    /// or `custom`, for `/v1/info`; `max_wait` is the bound the node's generator was built
    /// with (`WindowConfig::max_wait`), which bounds a request's whole wait.
    pub fn new(node: Node, layout_name: &'static str, max_batch: u64, max_wait: Duration) -> App {
        App::with_cluster(node, layout_name, max_batch, max_wait, None)
    }

    /// [`App::new`] for a node on etcd: `cluster` is how `/v1/cluster` reads the slot map.
    pub fn with_cluster(
        node: Node,
        layout_name: &'static str,
        max_batch: u64,
        max_wait: Duration,
        cluster: Option<EtcdOptions>,
    ) -> App {
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
                max_wait,
                waits: WaitCounters::default(),
                waker: TickWaker::new(SystemClock::new()),
                cluster: cluster.map(ClusterReader::new),
            }),
        }
    }

    /// Issues `count` consecutive IDs as one block reservation.
    ///
    /// `count` must be in `1..=max_batch`. A block whose ticks the clock has not reached yet,
    /// or a request that finds the tick's sequence used up, awaits a timer (never more than the
    /// generator's `max_wait`); the thread is never blocked. Dropping the future while it
    /// waits burns the block's IDs (see [`crate::issuing`]).
    pub async fn issue(&self, count: u64) -> Result<IdBlock, ServiceError> {
        if count == 0 || count > self.inner.max_batch {
            return Err(ServiceError::batch_out_of_range(
                count,
                self.inner.max_batch,
            ));
        }
        let (generator, first) = {
            let generator = self.inner.node.generator_guard();
            match generator.poll_ids(count) {
                Ok(Poll::Ready(block)) => return Ok(self.issued(block, count)),
                Ok(other) => (Arc::clone(&generator), other),
                Err(err) => return Err(self.failed(err)),
            }
        };
        self.finish(&generator, first, count, |generator| {
            generator.poll_ids(count)
        })
        .await
        .map(|block| self.issued(block, count))
    }

    /// Issues one ID: the same as `issue(1)`, on the generator's single-ID fast path.
    pub async fn issue_one(&self) -> Result<Id, ServiceError> {
        let (generator, first) = {
            let generator = self.inner.node.generator_guard();
            match generator.poll_id() {
                Ok(Poll::Ready(id)) => return Ok(self.issued(id, 1)),
                Ok(other) => (Arc::clone(&generator), other),
                Err(err) => return Err(self.failed(err)),
            }
        };
        self.finish(&generator, first, 1, IdGenerator::poll_id)
            .await
            .map(|id| self.issued(id, 1))
    }

    /// The slow path of both: wait on timers, then count or classify the outcome.
    async fn finish<T>(
        &self,
        generator: &IdGenerator,
        first: Poll<T>,
        count: u64,
        poll: impl Fn(&IdGenerator) -> snowdrift::Result<Poll<T>>,
    ) -> Result<T, ServiceError> {
        issuing::finish(
            generator,
            first,
            count,
            self.inner.max_wait,
            &self.inner.waker,
            &self.inner.waits,
            poll,
        )
        .await
        .map_err(|err| self.failed(err))
    }

    #[inline]
    fn issued<T>(&self, ids: T, count: u64) -> T {
        m::ids_issued(count);
        ids
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

    /// Times a request waited because a tick's sequence was used up, since the start.
    pub fn exhaustion_waits(&self) -> u64 {
        self.inner.waits.exhaustion_waits.load(Ordering::Relaxed)
    }

    /// The reader of the cluster's slot map, when the node runs on etcd.
    pub fn cluster(&self) -> Option<&ClusterReader> {
        self.inner.cluster.as_ref()
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
                exhaustion_waits: self.exhaustion_waits(),
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
        let advance = generator
            .clock()
            .slew_status()
            .filter(|slew| slew.lead_ms > 0);
        m::publish(&m::Gauges {
            clock_advance_lead_seconds: advance.map_or(0.0, |slew| slew.lead_ms as f64 / 1000.0),
            clock_advance_slew_ratio: advance.map_or(0.0, |slew| slew.rate.percent() / 100.0),
            clock_lead_seconds: next_tick.saturating_sub(tick.saturating_add(1)) as f64 * unit_secs,
            ceiling_headroom_seconds: headroom * unit_secs,
            exhaustion_waits: self.exhaustion_waits(),
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
