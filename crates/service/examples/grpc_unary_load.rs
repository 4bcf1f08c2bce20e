//! Benchmark load tool, not shipped: unary gRPC calls from many connections at once, one call
//! in flight per connection (the gRPC counterpart of `redis-benchmark -c 50`, no pipelining).
//!
//! `cargo run --release -p snowdrift-service --example grpc_unary_load -- ADDR METHOD SECONDS
//! [CONNECTIONS] [CALLS]` opens CONNECTIONS (default 50) HTTP/2 connections to ADDR, and on
//! each calls METHOD back to back: `next_id` (snowdrift's `NextId`) or `health`
//! (`grpc.health.v1.Health/Check`, which both a node and the `grpc_hello` baseline serve).
//! After a one-second warm-up it counts the calls answered OK for SECONDS and prints
//! `method=… connections=… calls=… calls_per_sec=… errors=…`.
//!
//! With CALLS, there is no warm-up and no time limit: exactly CALLS calls are made in all,
//! which is what `bench/instructions.sh` needs to count a server's cost per call.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::NextIdRequest;
use tonic::transport::Channel;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

#[derive(Clone, Copy)]
enum Method {
    NextId,
    Health,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: grpc_unary_load ADDR next_id|health SECONDS [CONNECTIONS]";
    let addr = args.next().ok_or(usage)?;
    let method = match args.next().as_deref() {
        Some("next_id") => Method::NextId,
        Some("health") => Method::Health,
        _ => return Err(usage.into()),
    };
    let seconds: u64 = args.next().ok_or(usage)?.parse()?;
    let connections: usize = args.next().map_or(Ok(50), |s| s.parse())?;
    let limit: Option<u64> = args.next().map(|s| s.parse()).transpose()?;

    let counting = Arc::new(AtomicBool::new(limit.is_some()));
    let started_calls = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        // One channel per task: a connection each, like redis-benchmark's clients.
        let channel = Channel::from_shared(format!("http://{addr}"))?
            .connect()
            .await?;
        let (started_calls, counting, stop, calls, errors) = (
            Arc::clone(&started_calls),
            Arc::clone(&counting),
            Arc::clone(&stop),
            Arc::clone(&calls),
            Arc::clone(&errors),
        );
        tasks.push(tokio::spawn(async move {
            let mut ids = SnowdriftClient::new(channel.clone());
            let mut health = HealthClient::new(channel);
            while !stop.load(Ordering::Relaxed) {
                if limit.is_some_and(|limit| started_calls.fetch_add(1, Ordering::Relaxed) >= limit)
                {
                    break;
                }
                let ok = match method {
                    Method::NextId => ids.next_id(NextIdRequest {}).await.is_ok(),
                    Method::Health => health
                        .check(HealthCheckRequest {
                            service: String::new(),
                        })
                        .await
                        .is_ok(),
                };
                if counting.load(Ordering::Relaxed) {
                    let counter = if ok { &calls } else { &errors };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    if limit.is_none() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        counting.store(true, Ordering::Relaxed);
        let started = Instant::now();
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        counting.store(false, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        for task in tasks {
            task.await?;
        }
        return report(method, connections, &calls, &errors, elapsed);
    }
    for task in tasks {
        task.await?;
    }
    report(
        method,
        connections,
        &calls,
        &errors,
        started.elapsed().as_secs_f64(),
    )
}

fn report(
    method: Method,
    connections: usize,
    calls: &AtomicU64,
    errors: &AtomicU64,
    elapsed: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let calls = calls.load(Ordering::Relaxed);
    let name = match method {
        Method::NextId => "next_id",
        Method::Health => "health",
    };
    println!(
        "method={name} connections={connections} calls={calls} calls_per_sec={:.0} errors={}",
        calls as f64 / elapsed,
        errors.load(Ordering::Relaxed)
    );
    Ok(())
}
