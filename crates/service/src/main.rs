//! The `snowdrift` binary: parses the command line and hands it to the library.
//!
//! Everything lives in the `snowdrift_service` library so that tests and later protocols reuse
//! it; this file only turns the outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    snowdrift_service::run(std::env::args_os())
}
