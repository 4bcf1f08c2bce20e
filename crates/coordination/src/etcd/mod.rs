//! The `etcd` backend: worker slots on leases, persisted high-water windows, self-fencing.
//!
//! Keys (DESIGN.md): `/snowdrift/<cluster>/layout` (the cluster record), `/snowdrift/<cluster>/slots/<dc>/<machine>`
//! (the holder's identity, bound to its lease) and `/snowdrift/<cluster>/hwm/<dc>/<machine>`
//! (the persisted high-water tick, no lease).
//!
//! One concern per file:
//! - `options.rs`: settings and defaults;
//! - `keys.rs`: the key space and the fixed-width encoding of marks;
//! - `client.rs`: connecting, time bounds and error counting;
//! - `lease.rs`: the lease, its renewals and the node's conservative deadline;
//! - `record.rs`: the cluster record (layout, incarnation, creation time, bounds) and its encoding;
//! - `reset.rs`: the node's memory of the store and the rules that notice a reset (pure);
//! - `join.rs`: creating, checking or replacing the cluster record (one layout per cluster);
//! - `snapshot.rs`: a consistent read of the cluster;
//! - `clock_check.rs`: clock sanity against the live holders;
//! - `claim.rs`: the create-if-absent slot claim;
//! - `persist.rs`: the ownership-checked, grow-only mark transaction;
//! - `secure.rs`: TLS and user/password authentication towards etcd;
//! - `holder.rs`: the claim sequence and the held slot;
//! - `cluster_status.rs`: the listing behind `snowdrift cluster status`;
//! - `cluster_reader.rs`: that listing over one kept connection, for the node's `/v1/cluster`.
//!
//! The protocol and the argument for why it cannot repeat an ID are in `docs/PROTOCOL.md`.
//!
//! Everything that talks to etcd is behind the `etcd` feature (on by default); `record.rs` and
//! `reset.rs` are pure and always built, because the node keeps its store memory either way.

#[cfg(feature = "etcd")]
mod claim;
#[cfg(feature = "etcd")]
mod client;
#[cfg(feature = "etcd")]
mod clock_check;
#[cfg(feature = "etcd")]
mod cluster_reader;
#[cfg(feature = "etcd")]
mod cluster_status;
#[cfg(feature = "etcd")]
mod holder;
#[cfg(feature = "etcd")]
mod join;
#[cfg(feature = "etcd")]
pub(crate) mod keys;
#[cfg(feature = "etcd")]
mod lease;
#[cfg(feature = "etcd")]
mod options;
#[cfg(feature = "etcd")]
mod persist;
pub mod record;
pub mod reset;
#[cfg(feature = "etcd")]
mod secure;
#[cfg(feature = "etcd")]
mod snapshot;

#[cfg(feature = "etcd")]
pub use cluster_reader::ClusterReader;
#[cfg(feature = "etcd")]
pub use cluster_status::{cluster_status, ClusterStatus, SlotReport};
#[cfg(feature = "etcd")]
pub(crate) use holder::EtcdHolder;
#[cfg(feature = "etcd")]
pub use options::{ClockSkewPolicy, EtcdOptions};
#[cfg(feature = "etcd")]
pub use secure::{EtcdAuth, EtcdTls};
