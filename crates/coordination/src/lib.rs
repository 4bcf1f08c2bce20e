//! # snowdrift-coordination
//!
//! Gives every running Snowdrift generator its own worker slot and records how far in time each
//! slot has gone, so that no ID is ever repeated: not across threads, restarts, clock steps, or
//! a change of the process that holds a slot. Nothing here is on the ID hot path; the generator
//! issues from memory inside a window this crate has already made durable.
//!
//! Two backends:
//! - [`Backend::Local`]: a state directory on one host (`flock` per slot, fsynced marks);
//! - [`Backend::Etcd`]: an etcd cluster (leases, ownership-checked transactions), for clusters.
//!   Behind the `etcd` feature, on by default.
//!
//! Both sit behind the coordinator seam ([`Coordinator`], [`SlotHolder`]), which a simulated
//! store can implement too; the protocol's decisions are pure functions in [`floor`] and
//! [`window`]. The protocol is described in [`node`] and in `docs/PROTOCOL.md`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), snowdrift_coordination::CoordError> {
//! use snowdrift_coordination::{Backend, LocalOptions, MachineChoice, Node, NodeConfig};
//! let node = Node::start(
//!     Backend::Local(LocalOptions { data_dir: "/var/lib/snowdrift".into(), datacenter: 1, machine: MachineChoice::Fixed(2) }),
//!     NodeConfig::new(snowdrift::Layout::default()),
//! ).await?;
//! assert!(node.is_ready());
//! let block = node.generator().next_ids(100)?;
//! # Ok(()) }
//! ```

mod backend;
pub mod clock_behind;
mod error;
pub mod etcd;
pub mod floor;
// Entry points of the `fuzz/` targets; not an API for users.
#[doc(hidden)]
pub mod fuzzing;
mod identity;
pub mod local;
pub mod node;
pub mod seam;
mod status;
#[cfg(feature = "test-support")]
pub mod testing;
pub mod window;

pub use backend::{Backend, Holder};
pub use clock_behind::ClockBehind;
pub use error::CoordError;
#[cfg(feature = "etcd")]
pub use etcd::{ClockSkewPolicy, EtcdAuth, EtcdOptions, EtcdTls};
pub use identity::HolderIdentity;
pub use local::LocalOptions;
pub use node::{MarkAtStop, Node, NodeConfig, Stopped};
pub use seam::{ClaimContext, Coordinator, SlotHolder};
pub use status::{ClockAdvance, LeaseStatus, NodePhase, NodeStatus, NotReady, StoreReset};
pub use window::WindowConfig;

/// Which machine slot to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MachineChoice {
    /// Exactly this machine ID; fail if it is held.
    Fixed(u64),
    /// The lowest free machine ID in the datacenter.
    Auto,
}

impl std::str::FromStr for MachineChoice {
    type Err = CoordError;
    /// `auto` or a number.
    fn from_str(text: &str) -> Result<Self, CoordError> {
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(MachineChoice::Auto);
        }
        text.trim().parse().map(MachineChoice::Fixed).map_err(|_| {
            CoordError::Config(format!(
                "machine id must be a number or \"auto\", got {text:?}"
            ))
        })
    }
}

impl std::fmt::Display for MachineChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MachineChoice::Fixed(n) => write!(f, "{n}"),
            MachineChoice::Auto => f.write_str("auto"),
        }
    }
}
