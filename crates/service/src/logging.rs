//! Logs through `tracing`, to stderr, as text or one JSON object per line.
//!
//! stderr keeps stdout free for what scripts read: `gen` output, and the `listening` line of
//! `serve`. The level comes from `RUST_LOG` (default `info`).
//!
//! A command's fatal error (`cannot start: …`, `shutdown: …`) goes through [`fatal`]: once a
//! JSON log is set up it is one more JSON record, so a log collector that parses every line
//! sees why the process stopped; before that (a bad flag, a bad setting: the log format itself
//! may be what is wrong) it is the plain `error: …` line.

use std::sync::OnceLock;

use tracing_subscriber::EnvFilter;

use crate::config::values::LogFormat;

/// The format [`init`] installed, if it ran.
static INSTALLED: OnceLock<LogFormat> = OnceLock::new();

/// Installs the global subscriber. A second call (in tests) leaves the first in place.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let installed = match format {
        LogFormat::Text => builder.with_target(false).try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    if installed.is_ok() {
        let _ = INSTALLED.set(format);
    }
}

/// Reports the error that ends the command: a JSON record when a JSON log is installed, else
/// the line `error: <message>` on stderr.
pub fn fatal(message: &str) {
    // A JSON log whose filter drops errors (RUST_LOG=off) must not swallow why it stopped.
    if INSTALLED.get() == Some(&LogFormat::Json) && tracing::enabled!(tracing::Level::ERROR) {
        tracing::error!(fatal = true, "{message}");
    } else {
        eprintln!("error: {message}");
    }
}
