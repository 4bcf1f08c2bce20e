//! Benchmark: one `StreamIds` consumer, as fast as the node streams.
//!
//! `cargo run --release -p snowdrift-client --example stream_ids -- 127.0.0.1:9090 10 4096`
//! streams batches of 4,096 IDs (arguments: the node's gRPC address, seconds, batch size)
//! and prints the IDs per second received, after a one-second warm-up. Every ID is checked to
//! be above the one before, so a fast number is also a correct one.

use std::time::{Duration, Instant};

use snowdrift_wire::v1::snowdrift_client::SnowdriftClient;
use snowdrift_wire::v1::StreamIdsRequest;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9090".to_string());
    let seconds: u64 = args.next().map_or(Ok(10), |s| s.parse())?;
    let batch: u32 = args.next().map_or(Ok(4096), |s| s.parse())?;

    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut client = SnowdriftClient::new(channel);
    let request = StreamIdsRequest { batch, count: 0 };
    let mut stream = client.stream_ids(request).await?.into_inner();

    let warm_up = Instant::now() + Duration::from_secs(1);
    let mut last = 0u64;
    let mut counted = 0u64;
    let mut started = None;
    while let Some(message) = stream.message().await? {
        for id in &message.ids {
            if *id <= last {
                return Err(format!("id {id} is not above {last}").into());
            }
            last = *id;
        }
        let now = Instant::now();
        match started {
            None if now >= warm_up => started = Some(now),
            None => {}
            Some(start) => {
                counted += message.ids.len() as u64;
                if now.duration_since(start) >= Duration::from_secs(seconds) {
                    let rate = counted as f64 / now.duration_since(start).as_secs_f64();
                    println!("stream_ids batch={batch} seconds={seconds} ids={counted} ids_per_second={rate:.0}");
                    return Ok(());
                }
            }
        }
    }
    Err("the stream ended early".into())
}
