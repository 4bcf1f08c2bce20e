//! Validation of the merged settings, once, while loading, for every command path
//! (`--print-config` included).
//!
//! Each check is the owning layer's own validator: the core's layout and generator builder,
//! [`snowdrift_coordination::NodeConfig::validate`] (the window's rules, the layout's end, the
//! etcd options and the lease TTL), run on the very options `serve` will use.
//! This file only turns their answers into errors that name the flag, variable or key the user
//! wrote, with its value.

use snowdrift::{Error as CoreError, IdGenerator};
use snowdrift_coordination::CoordError;

use super::settings::ServeConfig;
use super::values::MachineChoice;
use super::{ConfigError, Loaded};

impl Loaded {
    /// Checks the settings against each other and against the layers that will use them.
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let config = &self.config;
        let layout = config.layout();
        layout
            .check_worker(config.datacenter_id, 0)
            .map_err(|err| self.blame("datacenter_id", err))?;
        if let MachineChoice::Fixed(machine) = config.machine_id {
            layout
                .check_worker(0, machine)
                .map_err(|err| self.blame("machine_id", err))?;
        }
        let generator = IdGenerator::builder(layout)
            .max_lead_ticks(config.max_lead_ticks)
            .max_wait(config.window_config().max_wait)
            .build()
            .map_err(|err| match err {
                CoreError::CountOutOfRange {
                    what: "max_lead_ticks",
                    ..
                } => self.blame("max_lead_ticks", err),
                other => self.blame("layout", other),
            })?;
        // A request must fit in one reservation, so that it is one block.
        let most = generator.max_batch();
        if !(1..=most).contains(&config.max_batch) {
            return Err(self.blame(
                "max_batch",
                format!("use 1..={most}, the most one reservation of this layout can hold"),
            ));
        }
        // The window against the start-up wait, the layout's end and (etcd) the lease TTL,
        // and the etcd options: the checks `Node::start` makes, run here so they name flags.
        config
            .node_config(Vec::new())
            .validate(&config.backend())
            .map_err(|err| self.option_error(err))?;
        self.validate_security()?;
        Ok(())
    }

    /// The TLS and token settings that only make sense together.
    fn validate_security(&self) -> Result<(), ConfigError> {
        let config = &self.config;
        let flag = |key: &str| super::sources::flag_name(key);
        match (&config.tls_cert, &config.tls_key) {
            (Some(_), None) => {
                return Err(self.blame(
                    "tls_cert",
                    format!("a certificate needs its key: set {} too", flag("tls_key")),
                ))
            }
            (None, Some(_)) => {
                return Err(self.blame(
                    "tls_key",
                    format!("a key needs its certificate: set {} too", flag("tls_cert")),
                ))
            }
            _ => {}
        }
        if config.tls_client_ca.is_some() && config.tls_cert.is_none() {
            return Err(self.blame(
                "tls_client_ca",
                format!(
                    "mutual TLS needs the node's own certificate: set {} and {}",
                    flag("tls_cert"),
                    flag("tls_key")
                ),
            ));
        }
        if config.tls_handshake_timeout.is_zero() {
            return Err(self.blame(
                "tls_handshake_timeout",
                "must be above zero: every TLS client would be dropped".to_string(),
            ));
        }
        if config.auth_probes && config.auth_token_file.is_none() {
            return Err(self.blame(
                "auth_probes",
                format!(
                    "there are no tokens to require: set {}",
                    flag("auth_token_file")
                ),
            ));
        }
        Ok(())
    }

    /// A coordination validator's refusal, blamed on the setting behind the field it names.
    fn option_error(&self, err: CoordError) -> ConfigError {
        match err {
            CoordError::Setting { setting, reason } => {
                self.blame(ServeConfig::key_of_option(setting), reason)
            }
            other => ConfigError::new(format!("invalid settings: {other}")),
        }
    }
}
