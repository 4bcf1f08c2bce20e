//! Benchmark: the cost of `Client::next_id()` while the buffer holds IDs, at the rate the
//! defaults are sized for (about 100k IDs/s), with the background refill running.
//!
//! `cargo run --release -p snowdrift-client --example next_id_latency -- grpc://127.0.0.1:9090 5`
//! takes IDs in rounds of 100 calls followed by a 1 ms pause, for the given seconds. Each
//! round is timed as a whole (one pair of clock reads per 100 calls, so the clock's own cost,
//! about 25 ns here, is spread thin), giving a per-call time per round; the percentiles are
//! over rounds. It also prints how many calls found the buffer empty and had to wait.

use std::time::{Duration, Instant};

use snowdrift_client::{Client, ClientConfig};

const ROUND: usize = 100;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let endpoint = args
        .next()
        .unwrap_or_else(|| "grpc://127.0.0.1:9090".to_string());
    let seconds: u64 = args.next().map_or(Ok(5), |s| s.parse())?;

    let client = Client::new(ClientConfig::new([endpoint])?)?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while client.buffered() < 15_000 {
        if Instant::now() > deadline {
            return Err("the buffer did not fill within 10 s".into());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let mut per_call_ns = Vec::new();
    let mut ids = 0u64;
    let mut last = 0u64;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        let begin = Instant::now();
        for _ in 0..ROUND {
            let id = client.next_id().await?;
            // Keep the value alive so the loop is not optimised away; check order as we go.
            if id <= last {
                return Err(format!("id {id} is not above {last}").into());
            }
            last = id;
        }
        per_call_ns.push(begin.elapsed().as_nanos() as f64 / ROUND as f64);
        ids += ROUND as u64;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    per_call_ns.sort_by(f64::total_cmp);
    let pick = |q: f64| per_call_ns[((per_call_ns.len() - 1) as f64 * q) as usize];
    let stats = client.stats();
    println!(
        "next_id calls={ids} rate={:.0}/s p50={:.1}ns p90={:.1}ns p99={:.1}ns max_round_mean={:.1}ns waits={} requests={}",
        ids as f64 / elapsed,
        pick(0.5),
        pick(0.9),
        pick(0.99),
        pick(1.0),
        stats.waits,
        stats.requests,
    );
    Ok(())
}
