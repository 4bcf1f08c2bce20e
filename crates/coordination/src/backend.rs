//! The two built-in backends behind the coordinator seam ([`crate::seam`]): [`Backend`] is the
//! [`Coordinator`] the service configures, and [`Holder`] its [`SlotHolder`], each a match over
//! the local state directory and etcd. A simulated store implements the same traits on its own.

use std::time::Instant;

use snowdrift::Layout;

use crate::error::CoordError;
#[cfg(feature = "etcd")]
use crate::etcd::{EtcdHolder, EtcdOptions};
use crate::floor::Genesis;
use crate::identity::HolderIdentity;
use crate::local::{LocalHolder, LocalOptions};
use crate::node::NodeConfig;
use crate::seam::{ClaimContext, Coordinator, SlotHolder};
use crate::status::LeaseStatus;

/// Where worker slots and high-water marks are kept.
#[derive(Debug, Clone)]
#[non_exhaustive]
// Built once per process and moved, never stored in bulk: boxing the etcd options would only
// make every caller's `Backend::Etcd(options)` longer.
#[allow(clippy::large_enum_variant)]
pub enum Backend {
    /// A state directory on this host.
    Local(LocalOptions),
    /// An etcd cluster: slots on leases, marks in ownership-checked transactions.
    #[cfg(feature = "etcd")]
    Etcd(EtcdOptions),
}

impl Backend {
    /// The backend's name, as shown in status and logs.
    pub fn name(&self) -> &'static str {
        <Backend as Coordinator>::name(self)
    }
}

impl Coordinator for Backend {
    type Holder = Holder;

    fn name(&self) -> &'static str {
        match self {
            Backend::Local(_) => "local",
            #[cfg(feature = "etcd")]
            Backend::Etcd(_) => "etcd",
        }
    }

    fn validate(&self, config: &NodeConfig, _now_unix_ms: u64) -> Result<(), CoordError> {
        match self {
            Backend::Local(_) => {
                let _ = config;
                Ok(())
            }
            #[cfg(feature = "etcd")]
            Backend::Etcd(options) => {
                options.validate()?;
                options.validate_window(config.window.window)
            }
        }
    }

    // Only the etcd backend reads the context.
    #[cfg_attr(not(feature = "etcd"), allow(unused_variables))]
    async fn claim(
        &self,
        layout: &Layout,
        me: &HolderIdentity,
        context: &ClaimContext,
    ) -> Result<Holder, CoordError> {
        match self {
            Backend::Local(options) => {
                let (options, layout, me) = (options.clone(), *layout, me.clone());
                tokio::task::spawn_blocking(move || LocalHolder::claim(&options, &layout, &me))
                    .await
                    .map_err(|e| CoordError::Backend(format!("claim task failed: {e}")))?
                    .map(|holder| Holder(Inner::Local(holder)))
            }
            #[cfg(feature = "etcd")]
            Backend::Etcd(options) => {
                EtcdHolder::claim(options, layout, me, context.window, &context.store)
                    .await
                    .map(|holder| Holder(Inner::Etcd(Box::new(holder))))
            }
        }
    }
}

/// A slot claimed from a [`Backend`].
#[derive(Debug)]
pub struct Holder(Inner);

#[derive(Debug)]
enum Inner {
    /// In a local state directory.
    Local(LocalHolder),
    /// In etcd.
    // Boxed: the etcd client inside is a few kilobytes, the local holder a few words.
    #[cfg(feature = "etcd")]
    Etcd(Box<EtcdHolder>),
}

impl SlotHolder for Holder {
    /// `(datacenter, machine)`.
    fn slot(&self) -> (u64, u64) {
        match &self.0 {
            Inner::Local(h) => h.slot(),
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.slot(),
        }
    }

    /// The mark left by earlier holders of the slot, if any.
    fn previous_high_water(&self) -> Option<u64> {
        match &self.0 {
            Inner::Local(h) => h.previous_high_water(),
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.previous_high_water(),
        }
    }

    /// The cluster record's genesis bound, for backends that have one (etcd).
    fn genesis(&self) -> Option<Genesis> {
        match &self.0 {
            Inner::Local(_) => None,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.genesis(),
        }
    }

    /// The claim-time bound (etcd; the local backend's state directory is not restored under
    /// a running node).
    fn claim_time(&self) -> Option<Genesis> {
        match &self.0 {
            Inner::Local(_) => None,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => Some(h.claim_time()),
        }
    }

    /// `(incarnation, created_unix_ms)` of the cluster record joined (etcd, current records).
    fn record(&self) -> Option<(String, u64)> {
        match &self.0 {
            Inner::Local(_) => None,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.record(),
        }
    }

    /// Makes a mark of at least `tick` durable while this holder owns the slot; returns the
    /// mark that is durable now. Only after this returns may the generator's ceiling rise.
    async fn persist(&self, tick: u64) -> Result<u64, CoordError> {
        match &self.0 {
            Inner::Local(h) => h.persist(tick).await,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.persist(tick).await,
        }
    }

    /// At a clean shutdown, after the generator was fenced with `bound` (no tick above it was
    /// or will be issued): lowers the persisted mark to `bound` under the ownership check, if
    /// the mark is still the one this holder last wrote. Returns the mark when it was lowered.
    async fn lower_mark(&self, bound: u64) -> Result<Option<u64>, CoordError> {
        match &self.0 {
            Inner::Local(h) => h.lower_mark(bound).await,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.lower_mark(bound).await,
        }
    }

    /// When the holder must stop issuing because its ownership may lapse (leased backends).
    fn fence_deadline(&self) -> Option<Instant> {
        match &self.0 {
            Inner::Local(_) => None,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => Some(h.fence_deadline()),
        }
    }

    /// The lease, for leased backends.
    fn lease(&self) -> Option<LeaseStatus> {
        match &self.0 {
            Inner::Local(_) => None,
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => Some(h.lease()),
        }
    }

    /// Where the slot's mark lives: its file, or its etcd key.
    fn mark_place(&self) -> String {
        match &self.0 {
            Inner::Local(h) => h.mark_place(),
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.mark_place(),
        }
    }

    /// A human description of where the slot lives.
    fn describe(&self) -> String {
        match &self.0 {
            Inner::Local(h) => h.describe(),
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => h.describe(),
        }
    }

    /// Gives the slot up so that another process can take it at once.
    async fn release(self) -> Result<(), CoordError> {
        match self.0 {
            Inner::Local(h) => {
                h.release();
                Ok(())
            }
            #[cfg(feature = "etcd")]
            Inner::Etcd(h) => (*h).release().await,
        }
    }
}
