//! Benchmark: the latency of one gRPC `NextIds(n)` call, for the sizes a client asks for.
//!
//! `cargo run --release -p snowdrift-client --example next_ids_latency -- 127.0.0.1:9090 200`
//! makes, on one connection, the given number of calls (after ten to warm up) of each of
//! `NextIds(10)`, `NextIds(1000)` and `NextIds(4096)`, one at a time, and prints the median
//! and the 90th and 99th percentiles of each. Answers of over a few TCP segments show whether
//! the node's socket waits on Nagle's algorithm (40 ms per call) or not.

use std::time::{Duration, Instant};

use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::NextIdsRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9090".to_string());
    let calls: usize = args.next().map_or(Ok(200), |s| s.parse())?;

    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = SnowdriftClient::new(channel);
    for count in [10u32, 1000, 4096] {
        let mut times = Vec::with_capacity(calls);
        for i in 0..calls + 10 {
            let started = Instant::now();
            let ids = client
                .next_ids(NextIdsRequest { count })
                .await?
                .into_inner()
                .ids;
            let took = started.elapsed();
            if ids.len() != count as usize {
                return Err(format!("asked for {count} ids, got {}", ids.len()).into());
            }
            if i >= 10 {
                times.push(took);
            }
        }
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
        println!(
            "next_ids count={count} calls={calls} p50_us={} p90_us={} p99_us={}",
            micros(at(0.5)),
            micros(at(0.9)),
            micros(at(0.99))
        );
    }
    Ok(())
}

fn micros(d: Duration) -> u128 {
    d.as_micros()
}
