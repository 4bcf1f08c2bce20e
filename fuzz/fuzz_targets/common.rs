//! What the targets that start a node share: a state directory of their own, under
//! `fuzz/target/state/` (ignored by git and removed by `scripts/fuzz`), because libFuzzer ends
//! the process with `exit`, which never runs a temporary directory's destructor.

use std::path::PathBuf;

/// A new directory for this process's node state.
pub fn state_dir(target: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/state");
    std::fs::create_dir_all(&root).expect("create fuzz/target/state");
    tempfile::Builder::new()
        .prefix(&format!("{target}-"))
        .tempdir_in(&root)
        .expect("create a state directory")
        .keep()
}
