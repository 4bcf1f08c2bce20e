//! # snowdrift-service
//!
//! The `snowdrift` command: a service that hands out IDs over HTTP/JSON, gRPC and the Redis
//! protocol (`serve`), and tools for people (`gen`, `decode`, `layout`, `fetch`, `healthcheck`,
//! `cluster status`). It builds on the core crate (`snowdrift`), which makes and decodes IDs,
//! and on `snowdrift-coordination`, which claims a worker slot and persists the high-water mark
//! that keeps IDs unique across restarts.
//!
//! ## How a request flows
//! A listener (HTTP, gRPC or the Redis protocol) parses a request and calls
//! [`app::App`], the state shared by every protocol. `App::issue` is the single path by which
//! IDs leave the service, so limits, metrics and error mapping are the same on every protocol.
//! It polls the core, which never sleeps, and awaits a reservation that must wait for its
//! ticks ([`issuing`]): one thread wakes it as its tick begins ([`tick_waker`]), so no
//! request blocks a runtime worker.
//! Errors are [`error::ServiceError`]s: a stable code, a message and a class (bad input, or
//! unavailable for now) that each protocol maps to its own status.
//!
//! ## Layers
//! - [`cli`]: the clap definitions of every command;
//! - [`commands`]: one module per command;
//! - [`config`]: the `serve` settings from flags, `SNOWDRIFT_*` variables and a TOML file;
//! - [`app`], [`error`], [`describe`]: protocol-neutral state, errors, and core values in the
//!   wire contract's JSON shapes (`snowdrift_wire::json`);
//! - [`http`], [`listeners`], [`shutdown`], [`metrics`], [`logging`]: running the service;
//! - [`tls`], [`auth`], [`security`]: TLS on the listeners, tokens on every protocol, and
//!   loading and reloading both.

pub mod app;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod describe;
pub mod error;
// Entry points of the `fuzz/` targets; not an API for users.
#[doc(hidden)]
pub mod fuzzing;
pub mod grpc;
pub mod http;
pub mod issuing;
pub mod listeners;
pub mod logging;
pub mod metrics;
pub mod resp;
pub mod security;
pub mod shutdown;
#[cfg(test)]
mod test_support;
pub mod tick_waker;
pub mod tls;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Exit code for a bad argument or a bad configuration value.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a failure at run time: the service could not start, or failed while running.
pub const EXIT_FAILURE: u8 = 1;

/// Runs the `snowdrift` command line with the given arguments (the first is the program name).
///
/// Errors are printed as one line on stderr (a JSON record once `serve` runs with
/// `--log-format json`). The exit code is 0 on success, 2 for a bad argument
/// or configuration value, and 1 for a failure at run time.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => return cli::report_parse_error(&err),
    };
    match commands::dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            logging::fatal(&failure.to_string());
            ExitCode::from(failure.exit_code())
        }
    }
}
