//! `snowdrift gen`: IDs made in this process with the core library, printed one per line.
//!
//! No state directory and no coordination: this is for people and scripts that want a few IDs
//! now. Large counts are taken in blocks of the generator's largest reservation, so a million
//! IDs cost a few hundred atomic operations.

use std::io;

use snowdrift::IdGenerator;

use super::{write_stdout, Failure};
use crate::cli::GenArgs;

/// Runs `snowdrift gen`.
pub fn run(args: &GenArgs) -> Result<(), Failure> {
    let generator = IdGenerator::builder(args.layout.layout())
        .worker(args.datacenter_id, args.machine_id)
        .build()
        .map_err(|err| Failure::Usage(err.to_string()))?;
    let mut failure = None;
    write_stdout(|out| {
        let mut remaining = args.count;
        while remaining > 0 {
            let take = remaining.min(generator.max_batch());
            let block = match generator.next_ids(take) {
                Ok(block) => block,
                Err(err) => {
                    failure = Some(Failure::Runtime(err.to_string()));
                    return Ok(());
                }
            };
            for id in block {
                writeln!(out, "{}", args.format.encode(id))?;
            }
            remaining -= take;
        }
        Ok::<(), io::Error>(())
    })?;
    failure.map_or(Ok(()), Err)
}
