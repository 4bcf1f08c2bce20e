//! The seam between the node's lifecycle and the places slots live: each backend claims a slot,
//! persists its high-water mark and, for leased backends, says when the holding must be given up.
//!
//! An enum rather than a trait object: there are exactly two backends, their futures stay
//! `Send` without boxing, and the match makes every backend's behaviour visible in one place.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use snowdrift::Layout;

use crate::error::CoordError;
use crate::etcd::reset::StoreMemory;
#[cfg(feature = "etcd")]
use crate::etcd::{EtcdHolder, EtcdOptions};
use crate::floor::Genesis;
use crate::identity::HolderIdentity;
use crate::local::{LocalHolder, LocalOptions};
use crate::status::LeaseStatus;

/// What a claim needs from the node besides the layout and its identity: the bounds it must
/// fit in, and what the node remembers from its earlier claims.
#[derive(Debug, Clone)]
pub(crate) struct ClaimContext {
    /// The node's window, which a cluster record must allow.
    #[cfg_attr(not(feature = "etcd"), allow(dead_code))]
    pub(crate) window: Duration,
    /// The node's memory of the etcd store across claims (unused by the local backend).
    pub(crate) store: Arc<Mutex<StoreMemory>>,
}

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
        match self {
            Backend::Local(_) => "local",
            #[cfg(feature = "etcd")]
            Backend::Etcd(_) => "etcd",
        }
    }

    /// Claims a slot for `layout`, after checking the layout pin.
    // Only the etcd backend reads the context.
    #[cfg_attr(not(feature = "etcd"), allow(unused_variables))]
    pub(crate) async fn claim(
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
                    .map(Holder::Local)
            }
            #[cfg(feature = "etcd")]
            Backend::Etcd(options) => {
                EtcdHolder::claim(options, layout, me, context.window, &context.store)
                    .await
                    .map(|holder| Holder::Etcd(Box::new(holder)))
            }
        }
    }
}

/// A claimed slot.
#[derive(Debug)]
pub(crate) enum Holder {
    Local(LocalHolder),
    // Boxed: the etcd client inside is a few kilobytes, the local holder a few words.
    #[cfg(feature = "etcd")]
    Etcd(Box<EtcdHolder>),
}

impl Holder {
    /// `(datacenter, machine)`.
    pub(crate) fn slot(&self) -> (u64, u64) {
        match self {
            Holder::Local(h) => h.slot(),
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.slot(),
        }
    }

    /// The mark left by earlier holders of the slot, if any.
    pub(crate) fn previous_high_water(&self) -> Option<u64> {
        match self {
            Holder::Local(h) => h.previous_high_water(),
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.previous_high_water(),
        }
    }

    /// The cluster record's genesis bound, for backends that have one (etcd).
    pub(crate) fn genesis(&self) -> Option<Genesis> {
        match self {
            Holder::Local(_) => None,
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.genesis(),
        }
    }

    /// `(incarnation, created_unix_ms)` of the cluster record joined (etcd, current records).
    pub(crate) fn record(&self) -> Option<(String, u64)> {
        match self {
            Holder::Local(_) => None,
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.record(),
        }
    }

    /// Makes a mark of at least `tick` durable while this holder owns the slot; returns the
    /// mark that is durable now. Only after this returns may the generator's ceiling rise.
    pub(crate) async fn persist(&self, tick: u64) -> Result<u64, CoordError> {
        match self {
            Holder::Local(h) => h.persist(tick).await,
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.persist(tick).await,
        }
    }

    /// At a clean shutdown, after the generator was fenced with `bound` (no tick above it was
    /// or will be issued): lowers the persisted mark to `bound` under the ownership check, if
    /// the mark is still the one this holder last wrote. Returns the mark when it was lowered.
    pub(crate) async fn lower_mark(&self, bound: u64) -> Result<Option<u64>, CoordError> {
        match self {
            Holder::Local(h) => h.lower_mark(bound).await,
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.lower_mark(bound).await,
        }
    }

    /// When the holder must stop issuing because its ownership may lapse (leased backends).
    pub(crate) fn fence_deadline(&self) -> Option<Instant> {
        match self {
            Holder::Local(_) => None,
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => Some(h.fence_deadline()),
        }
    }

    /// The lease, for leased backends.
    pub(crate) fn lease(&self) -> Option<LeaseStatus> {
        match self {
            Holder::Local(_) => None,
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => Some(h.lease()),
        }
    }

    /// Where the slot's mark lives: its file, or its etcd key.
    pub(crate) fn mark_place(&self) -> String {
        match self {
            Holder::Local(h) => h.mark_place(),
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.mark_place(),
        }
    }

    /// A human description of where the slot lives.
    pub(crate) fn describe(&self) -> String {
        match self {
            Holder::Local(h) => h.describe(),
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => h.describe(),
        }
    }

    /// Gives the slot up so that another process can take it at once.
    pub(crate) async fn release(self) -> Result<(), CoordError> {
        match self {
            Holder::Local(h) => {
                h.release();
                Ok(())
            }
            #[cfg(feature = "etcd")]
            Holder::Etcd(h) => (*h).release().await,
        }
    }
}
