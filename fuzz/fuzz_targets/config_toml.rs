//! The TOML config file: the fuzzer's bytes are the file given to `snowdrift serve --config`,
//! loaded through the figment layers (defaults < file) and validated as `serve` does.
//!
//! Asserted beyond "no panic" (`snowdrift_service::fuzzing::config`): accepted settings,
//! printed by `--print-config` and loaded again, are the same settings (load ∘ print = id); a
//! refusal is one line naming the file or a setting's key.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use snowdrift_service::fuzzing::config::Config;

static CONFIG: OnceLock<(PathBuf, Config)> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let (_, config) = CONFIG.get_or_init(|| {
        // Files on tmpfs if there is one: two small writes per input.
        let dir = tempfile::tempdir().expect("create a directory").keep();
        let config = Config::new(&dir);
        (dir, config)
    });
    let _ = config.load(data);
});
