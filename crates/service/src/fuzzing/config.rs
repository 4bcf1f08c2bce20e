//! The config target: fuzzed text as the TOML file of `snowdrift serve --config FILE`, loaded
//! the way `serve` loads it (defaults < file; no variables, no flags) and validated.
//!
//! Beyond "no panic" it checks: an accepted file, printed by `--print-config` and loaded
//! again, gives the same settings (parse ∘ print = id); a refused file gets one line that names
//! the file or a setting's key, never an anonymous message.

use std::path::{Path, PathBuf};

use clap::Parser;

use crate::cli::{Cli, Command, ServeArgs};
use crate::config::{load, print, sources, Loaded};

/// Loads config files written into a directory the caller owns.
#[derive(Debug)]
pub struct Config {
    file: PathBuf,
    printed: PathBuf,
}

impl Config {
    /// Files `fuzz.toml` and `printed.toml` in `dir`.
    pub fn new(dir: &Path) -> Config {
        Config {
            file: dir.join("fuzz.toml"),
            printed: dir.join("printed.toml"),
        }
    }

    /// Loads `text` as the config file; `Ok` with the settings, or the error's message.
    pub fn load(&self, text: &[u8]) -> Result<Loaded, String> {
        let loaded = load_file(&self.file, text)?;
        let keys = sources::setting_keys();
        match &loaded {
            Ok(loaded) => {
                let printed = print::to_toml(loaded);
                let reread = load_file(&self.printed, printed.as_bytes())?;
                match reread {
                    Ok(reread) => assert_eq!(
                        reread.config, loaded.config,
                        "the printed settings read back differently:\n{printed}"
                    ),
                    Err(err) => panic!("the printed settings are refused: {err}\n{printed}"),
                }
            }
            Err(err) => {
                let message = err.to_string();
                assert!(!message.contains('\n'), "not one line: {message}");
                let path = self.file.display().to_string();
                assert!(
                    message.contains(&path) || keys.iter().any(|key| message.contains(key)),
                    "names neither the file nor a key: {message}"
                );
            }
        }
        loaded.map_err(|err| err.to_string())
    }
}

/// Writes `text` to `path` and loads it as `serve --config PATH` would. The outer error is a
/// failure of the harness itself (the file cannot be written), not of the settings.
fn load_file(
    path: &Path,
    text: &[u8],
) -> Result<Result<Loaded, crate::config::ConfigError>, String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    let args = serve_args(path)?;
    Ok(load(&args, Vec::new()))
}

/// `snowdrift serve --config PATH`, as clap parses it.
fn serve_args(path: &Path) -> Result<ServeArgs, String> {
    let cli = Cli::try_parse_from([
        "snowdrift".as_ref(),
        "serve".as_ref(),
        "--config".as_ref(),
        path.as_os_str(),
    ])
    .map_err(|e| e.to_string())?;
    match cli.command {
        Command::Serve(args) => Ok(*args),
        _ => Err("`serve` parsed as another command".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_accepted_and_reprinted_or_refused_naming_a_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::new(dir.path());
        let loaded = config
            .load(b"datacenter_id = 3\nwindow = \"5s\"\n")
            .unwrap();
        assert_eq!(loaded.config.datacenter_id, 3);
        let err = config.load(b"max_batch = 0\n").unwrap_err();
        assert!(err.contains("max_batch"), "{err}");
        let err = config.load(b"nope = 1\n").unwrap_err();
        assert!(err.contains("nope"), "{err}");
        assert!(config.load(b"[[[").is_err());
        assert!(config.load(&[0xff, 0xfe]).is_err());
    }
}
