//! One module per command; [`dispatch`] runs the one that was asked for.
//!
//! Commands report failure as a [`Failure`], which carries the exit code: 2 when the user gave
//! something wrong (an argument, a setting), 1 when something failed at run time. `lib::run`
//! prints it as one line.

pub mod cluster;
pub mod decode;
pub mod fetch;
pub mod gen;
pub mod healthcheck;
pub mod layout;
pub mod migrate;
pub mod serve;

use std::fmt;

use crate::cli::Command;

/// Why a command failed, and so which exit code it ends with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// A bad argument or setting: exit code 2.
    Usage(String),
    /// A failure at run time (start-up refused, a listener died, output failed): exit code 1.
    Runtime(String),
}

impl Failure {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Usage(_) => crate::EXIT_USAGE,
            Failure::Runtime(_) => crate::EXIT_FAILURE,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(message) | Failure::Runtime(message) => f.write_str(message),
        }
    }
}

impl From<crate::config::ConfigError> for Failure {
    fn from(err: crate::config::ConfigError) -> Failure {
        Failure::Usage(err.to_string())
    }
}

/// Runs `command` to completion.
pub fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve(args) => serve::run(&args),
        Command::Gen(args) => gen::run(&args),
        Command::Decode(args) => decode::run(&args),
        Command::Layout(args) => layout::run(&args),
        Command::Cluster(command) => cluster::run(&command),
        Command::Fetch(args) => fetch::run(&args),
        Command::Healthcheck(args) => healthcheck::run(&args),
        Command::Migrate(command) => migrate::run(&command),
    }
}

/// Writes to stdout, treating a closed pipe (`snowdrift gen -n 1000000 | head`) as success.
pub(crate) fn write_stdout(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result = write(&mut out).and_then(|()| std::io::Write::flush(&mut out));
    match result {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(err) => Err(Failure::Runtime(format!("cannot write to stdout: {err}"))),
    }
}
