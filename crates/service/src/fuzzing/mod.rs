//! Entry points for the `fuzz/` targets of the service's parsers: RESP frames and commands,
//! the HTTP routes' path and query extractors, and the TOML config file.
//!
//! Hidden from the docs: not an API for users, but a stable place for the fuzz targets (and
//! the unit tests below each) to call, so the targets need no knowledge of how a frame, a
//! request or a config file is handled, and the checks are compiled, linted and tested with
//! the crate. A panic here is a finding: either a parser panicked on its own, or a property
//! that must hold (a round trip, a limit, an error's shape) did not.

pub mod config;
pub mod http;
pub mod resp;

use std::path::Path;

use snowdrift::Layout;
use snowdrift_coordination::{Backend, LocalOptions, MachineChoice, Node, NodeConfig};

use crate::app::App;

/// A started service on a local state directory, with the runtime its node's keeper runs on:
/// what the HTTP and RESP targets send their parsed requests to.
#[derive(Debug)]
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    app: App,
}

impl Harness {
    /// Starts a node (slot 0/0, the default layout, `max_batch` 10 000 as in `serve`) on
    /// `data_dir`, which the caller creates and removes.
    pub fn start(data_dir: &Path) -> Result<Harness, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| format!("cannot build a runtime: {e}"))?;
        let backend = Backend::Local(LocalOptions {
            data_dir: data_dir.to_path_buf(),
            datacenter: 0,
            machine: MachineChoice::Fixed(0),
        });
        let config = NodeConfig::new(Layout::default());
        // The request bound the node's generator was built with, as `serve` passes it.
        let max_wait = config.window.max_wait;
        let node = runtime
            .block_on(Node::start(backend, config))
            .map_err(|e| format!("cannot start a node: {e}"))?;
        Ok(Harness {
            runtime,
            app: App::new(node, "snowdrift", 10_000, max_wait),
        })
    }

    /// The service.
    pub fn app(&self) -> &App {
        &self.app
    }

    /// Runs `future` to completion on the harness's runtime.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
