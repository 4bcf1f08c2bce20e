//! The `snowdrift` binary: parses the command line and hands it to the library.
//!
//! Everything lives in the `snowdrift_service` library so that tests and later protocols reuse
//! it; this file only turns the outcome into an exit code.

use std::process::ExitCode;

/// Every request allocates and frees a handful of small buffers (the body, header maps, boxed
/// futures). glibc's malloc took about 12% of the server's CPU in a perf profile under wrk;
/// mimalloc's thread-local free lists gave 5-15% more single-ID requests/s in paired runs (see
/// docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    snowdrift_service::run(std::env::args_os())
}
