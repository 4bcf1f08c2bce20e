//! Helpers shared by the in-process unit tests of the listeners (compiled for tests only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use snowdrift::{IdGenerator, Layout};
use snowdrift_coordination::{Backend, LocalOptions, MachineChoice, Node, NodeConfig};

use crate::app::App;

/// A started app on a fresh state directory, and its generator (so a test can fence it).
pub(crate) async fn started_app(dir: &tempfile::TempDir) -> (App, Arc<IdGenerator>) {
    started_app_with(dir, Layout::default(), 10_000).await
}

/// A started app of `layout` that hands out at most `max_batch` IDs a request.
pub(crate) async fn started_app_with(
    dir: &tempfile::TempDir,
    layout: Layout,
    max_batch: u64,
) -> (App, Arc<IdGenerator>) {
    let backend = Backend::Local(LocalOptions {
        data_dir: dir.path().to_path_buf(),
        datacenter: 0,
        machine: MachineChoice::Fixed(0),
    });
    let config = NodeConfig::new(layout);
    let max_wait = config.window.max_wait;
    let node = Node::start(backend, config).await.unwrap();
    let generator = node.generator();
    (App::new(node, "custom", max_batch, max_wait), generator)
}
