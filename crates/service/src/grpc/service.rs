//! The `snowdrift.v1.Snowdrift` service: each call reads its request, asks the [`App`], and
//! shapes the answer. Limits, metrics and error classes are the App's, shared with HTTP and
//! the Redis protocol; only the mapping to protobuf lives here. Every call is counted and
//! timed by method and status code ([`crate::metrics::protocols`]) in the trait methods, which
//! wrap the handlers below them.

use std::sync::Arc;
use std::time::Instant;

use snowdrift_wire::v1::snowdrift_server::Snowdrift;
use snowdrift_wire::v1::{
    DecodeRequest, DecodeResponse, IdBatch, InfoRequest, InfoResponse, Layout, NextIdRequest,
    NextIdResponse, NextIdsRequest, NextIdsResponse, StreamIdsRequest,
};
use tokio::sync::Semaphore;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::status::from_service;
use super::stream;
use crate::app::App;
use crate::metrics::protocols;
use crate::shutdown::Shutdown;

/// Most `StreamIds` calls producing at once on this node: each holds a task and up to a few
/// batches of memory while it runs.
pub const MAX_STREAMS: usize = 64;

/// The ID service over one [`App`].
#[derive(Debug, Clone)]
pub struct IdService {
    app: App,
    shutdown: Shutdown,
    /// Permits for running streams (see [`MAX_STREAMS`]).
    streams: Arc<Semaphore>,
}

impl IdService {
    /// The service for `app`; running streams end when `shutdown` is triggered.
    pub fn new(app: App, shutdown: Shutdown) -> IdService {
        IdService {
            app,
            shutdown,
            streams: Arc::new(Semaphore::new(MAX_STREAMS)),
        }
    }
}

/// Counts and times one call that began at `started`, then hands its result on.
fn observed<T>(
    method: &'static str,
    started: Instant,
    result: Result<T, Status>,
) -> Result<T, Status> {
    let code = result
        .as_ref()
        .map_or_else(Status::code, |_| tonic::Code::Ok);
    protocols::grpc_request(method, code, started.elapsed());
    result
}

#[tonic::async_trait]
impl Snowdrift for IdService {
    async fn next_id(
        &self,
        request: Request<NextIdRequest>,
    ) -> Result<Response<NextIdResponse>, Status> {
        let started = Instant::now();
        observed("NextId", started, self.handle_next_id(request).await)
    }

    async fn next_ids(
        &self,
        request: Request<NextIdsRequest>,
    ) -> Result<Response<NextIdsResponse>, Status> {
        let started = Instant::now();
        observed("NextIds", started, self.handle_next_ids(request).await)
    }

    type StreamIdsStream = ReceiverStream<Result<IdBatch, Status>>;

    /// Counted when the stream is accepted or refused; its batches are counted as IDs issued.
    async fn stream_ids(
        &self,
        request: Request<StreamIdsRequest>,
    ) -> Result<Response<Self::StreamIdsStream>, Status> {
        let started = Instant::now();
        observed("StreamIds", started, self.handle_stream_ids(request).await)
    }

    async fn decode(
        &self,
        request: Request<DecodeRequest>,
    ) -> Result<Response<DecodeResponse>, Status> {
        let started = Instant::now();
        observed("Decode", started, self.handle_decode(request).await)
    }

    async fn info(&self, request: Request<InfoRequest>) -> Result<Response<InfoResponse>, Status> {
        let started = Instant::now();
        observed("Info", started, self.handle_info(request).await)
    }
}

impl IdService {
    async fn handle_next_id(
        &self,
        _request: Request<NextIdRequest>,
    ) -> Result<Response<NextIdResponse>, Status> {
        let id = self
            .app
            .issue_one()
            .await
            .map_err(|err| from_service(&err))?;
        Ok(Response::new(NextIdResponse { id: id.as_u64() }))
    }

    async fn handle_next_ids(
        &self,
        request: Request<NextIdsRequest>,
    ) -> Result<Response<NextIdsResponse>, Status> {
        let count = u64::from(request.into_inner().count);
        let block = self
            .app
            .issue(count)
            .await
            .map_err(|err| from_service(&err))?;
        Ok(Response::new(NextIdsResponse {
            ids: block.map(|id| id.as_u64()).collect(),
        }))
    }

    async fn handle_stream_ids(
        &self,
        request: Request<StreamIdsRequest>,
    ) -> Result<Response<ReceiverStream<Result<IdBatch, Status>>>, Status> {
        let request = request.into_inner();
        let max_batch = self.app.max_batch();
        // One tick's sequence per message: what the generator makes per tick, so a default
        // stream neither waits on ticks within a message nor sends needlessly small ones.
        let default_batch = self.app.layout().ids_per_tick().min(max_batch);
        let plan = stream::Plan::check(request.batch, request.count, max_batch, default_batch)?;
        let permit = Arc::clone(&self.streams).try_acquire_owned().map_err(|_| {
            snowdrift_wire::status::unavailable(
                "too_many_streams",
                format!("this node already runs {MAX_STREAMS} streams; retry later or elsewhere"),
                std::time::Duration::from_secs(1),
            )
        })?;
        let receiver = stream::start(self.app.clone(), plan, self.shutdown.clone(), permit);
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn handle_decode(
        &self,
        request: Request<DecodeRequest>,
    ) -> Result<Response<DecodeResponse>, Status> {
        let decoded = self
            .app
            .decode(&request.into_inner().id)
            .map_err(|err| from_service(&err))?;
        // `decoded.id` is the decimal form the App just produced from a u64.
        let id = decoded.id.parse::<u64>().unwrap_or_default();
        Ok(Response::new(DecodeResponse {
            id,
            time: decoded.time,
            unix_ms: decoded.unix_ms,
            tick: decoded.tick,
            datacenter: decoded.datacenter,
            machine: decoded.machine,
            sequence: decoded.sequence,
            base32: decoded.base32,
            base62: decoded.base62,
            hex: decoded.hex,
        }))
    }

    async fn handle_info(
        &self,
        _request: Request<InfoRequest>,
    ) -> Result<Response<InfoResponse>, Status> {
        let info = self.app.info();
        let json = serde_json::to_string(&info).unwrap_or_default();
        let layout = &info.layout;
        Ok(Response::new(InfoResponse {
            version: info.version.clone(),
            layout: Some(Layout {
                name: layout.name.clone(),
                timestamp_bits: u32::from(layout.timestamp_bits),
                datacenter_bits: u32::from(layout.datacenter_bits),
                machine_bits: u32::from(layout.machine_bits),
                sequence_bits: u32::from(layout.sequence_bits),
                epoch_ms: layout.epoch_ms,
                unit_ms: layout.unit_ms,
                ends: layout.ends.clone(),
            }),
            datacenter: info.datacenter,
            machine: info.machine,
            ready: info.ready,
            max_batch: info.max_batch,
            uptime_seconds: info.uptime_seconds,
            clock_tick: info.clock.tick,
            ceiling_tick: info.clock.ceiling_tick,
            json,
        }))
    }
}
