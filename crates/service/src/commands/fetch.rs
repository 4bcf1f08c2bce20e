//! `snowdrift fetch`: IDs from running nodes, through the client library, one per line.
//!
//! This is the client crate's failover and transports at the command line: people and scripts
//! get IDs from a cluster without writing a client. It asks in batches, with no prefetch
//! buffer, since it knows exactly how many IDs it wants.

use std::io;

use snowdrift_client::{Client, ClientConfig, Error};

use super::{write_stdout, Failure};
use crate::cli::FetchArgs;

/// Runs `snowdrift fetch`.
pub fn run(args: &FetchArgs) -> Result<(), Failure> {
    let mut config =
        ClientConfig::new(&args.endpoints).map_err(|err| Failure::Usage(err.to_string()))?;
    config.buffer_capacity = 0;
    config.low_water = 0;
    config.retry_budget = args.timeout;
    let count = usize::try_from(args.count)
        .map_err(|_| Failure::Usage(format!("count {} is too large", args.count)))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    let ids = runtime.block_on(async {
        let client = Client::new(config)?;
        client.fetch(count).await
    });
    let ids = ids.map_err(|err| match err {
        Error::Config(_) => Failure::Usage(err.to_string()),
        other => Failure::Runtime(other.to_string()),
    })?;
    write_stdout(|out| {
        for id in &ids {
            writeln!(out, "{id}")?;
        }
        Ok::<(), io::Error>(())
    })
}
