//! Test support (feature `test-support`): a real etcd server on ephemeral loopback ports and a
//! TCP proxy that can partition a node from it. Shared by this crate's tests and the service's
//! process-level tests. Nothing here mocks etcd: the tests talk to the real binary.

mod etcd_server;
mod proxy;

pub use etcd_server::{Backup, EtcdServer};
pub use proxy::Proxy;
