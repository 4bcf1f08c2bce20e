//! Test support (feature `test-support`): a real etcd server on ephemeral loopback ports (in
//! plaintext, or with TLS and user/password auth), test certificates, a TCP proxy that can
//! partition a node from it, and hooks in the local backend's writers (a slow mark write, the
//! directories made durable). Shared by this crate's tests and the service's process-level
//! tests. Nothing here mocks etcd: the tests talk to the real binary.

mod certs;
mod etcd_server;
mod proxy;

pub use crate::local::hooks::{synced_dirs_under, MarkWriteHook};
pub use certs::{CertFiles, TestCa};
pub use etcd_server::{Backup, EtcdSecurity, EtcdServer};
pub use proxy::Proxy;
