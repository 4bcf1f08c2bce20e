//! Helpers shared by the in-process unit tests of the listeners (compiled for tests only).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use snowdrift::{IdGenerator, Layout};
use snowdrift_coordination::{Backend, LocalOptions, MachineChoice, Node, NodeConfig};

use crate::app::App;

/// A started app on a fresh state directory, and its generator (so a test can fence it).
pub(crate) async fn started_app(dir: &tempfile::TempDir) -> (App, Arc<IdGenerator>) {
    let backend = Backend::Local(LocalOptions {
        data_dir: dir.path().to_path_buf(),
        datacenter: 0,
        machine: MachineChoice::Fixed(0),
    });
    let node = Node::start(backend, NodeConfig::new(Layout::default()))
        .await
        .unwrap();
    let generator = node.generator();
    (App::new(node, "snowdrift", 10_000), generator)
}
