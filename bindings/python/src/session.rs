//! A slot held by this process: a small tokio runtime running the coordination crate's window
//! keeper, and the `Node` it keeps. Nothing here is on the ID path.
//!
//! # Across `fork()`
//! A child inherits the session's memory but not its threads, so the runtime is dead there, and
//! the slot's `flock` is shared with the parent. A session therefore remembers the process that
//! made it. Dropped in any other process it is leaked on purpose: dropping the runtime would
//! wait for threads that do not exist, waking the keeper could take locks a dead thread held,
//! and releasing the lock would release the parent's (an unlock acts on the lock both share).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use snowdrift::IdGenerator;
use snowdrift_coordination::{
    Backend, CoordError, LocalOptions, MachineChoice, Node, NodeConfig, NodeStatus,
};
use tokio::runtime::Runtime;

/// What a claim asked for, kept so that a forked child can claim a slot of its own (the machine
/// is not kept: a child always takes the lowest free one).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The state directory, shared with `snowdrift serve`.
    pub(crate) data_dir: PathBuf,
    /// The datacenter field.
    pub(crate) datacenter: u64,
    /// The layout and the window protocol's settings.
    pub(crate) config: NodeConfig,
}

/// A claimed slot and the runtime that keeps its window persisted.
pub(crate) struct Session {
    pid: u32,
    /// `None` only once dropped or leaked.
    runtime: Option<Runtime>,
    /// `None` once shut down.
    node: Option<Node>,
}

impl Session {
    /// Claims a slot in the state directory and persists its first window. Blocking: call it
    /// without the GIL.
    pub(crate) fn start(
        settings: &Settings,
        machine: MachineChoice,
    ) -> Result<Session, CoordError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .max_blocking_threads(2)
            .thread_name("snowdrift-keeper")
            .enable_time()
            .build()
            .map_err(|e| CoordError::Backend(format!("cannot start the window keeper: {e}")))?;
        let backend = Backend::Local(LocalOptions {
            data_dir: settings.data_dir.clone(),
            datacenter: settings.datacenter,
            machine,
        });
        match runtime.block_on(Node::start(backend, settings.config.clone())) {
            Ok(node) => Ok(Session {
                pid: std::process::id(),
                runtime: Some(runtime),
                node: Some(node),
            }),
            Err(e) => {
                runtime.shutdown_timeout(Duration::from_secs(1));
                Err(e)
            }
        }
    }

    /// Whether this process made the session (it is not a forked child's inheritance).
    pub(crate) fn belongs_here(&self) -> bool {
        self.pid == std::process::id()
    }

    /// The node's current generator.
    pub(crate) fn generator(&self) -> Option<Arc<IdGenerator>> {
        self.node.as_ref().map(Node::generator)
    }

    /// The node's state, for `ClaimedGenerator.status()`.
    pub(crate) fn status(&self) -> Option<NodeStatus> {
        self.node.as_ref().map(Node::status)
    }

    /// Stops the keeper and releases the slot. Blocking: call it without the GIL.
    pub(crate) fn shutdown(mut self) -> Result<(), CoordError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), CoordError> {
        match (self.node.take(), &self.runtime) {
            // The report (mark lowered or not) matters to a service's log, not to Python.
            (Some(node), Some(runtime)) => runtime.block_on(node.shutdown()).map(|_| ()),
            _ => Ok(()),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.belongs_here() {
            // A forked child's inheritance: leak it (see the module docs).
            std::mem::forget(self.node.take());
            std::mem::forget(self.runtime.take());
            return;
        }
        // Dropped without `shutdown` (garbage collected): release the slot all the same. The
        // persisted mark already covers every issued ID, so an error here loses nothing.
        let _ = self.stop();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}
