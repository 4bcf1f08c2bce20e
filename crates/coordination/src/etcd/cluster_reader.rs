//! [`ClusterReader`]: the cluster's status read over one etcd client kept between reads, for a
//! node that answers `/v1/cluster` on every dashboard refresh.
//!
//! Connecting costs a TCP (and TLS) handshake, and with etcd's user/password authentication a
//! bcrypt check on etcd's side: once per request, a dashboard left open would make etcd do that
//! every few seconds per viewer. The reader connects on its first read, shares that client with
//! every later read (an etcd client is a handle on one HTTP/2 channel, cheap to clone), and
//! forgets it after a failed read, so the next read connects afresh instead of reusing a
//! connection that may be dead.

use etcd_client::Client;
use tokio::sync::Mutex;

use super::client::connect;
use super::cluster_status::{read_status, ClusterStatus};
use super::options::EtcdOptions;
use crate::error::CoordError;

/// Reads [`ClusterStatus`] of `options.cluster` over a kept connection.
///
/// ```no_run
/// # async fn demo() -> Result<(), snowdrift_coordination::CoordError> {
/// use snowdrift_coordination::etcd::{ClusterReader, EtcdOptions};
///
/// let options = EtcdOptions::new(vec!["127.0.0.1:2379".into()], "prod", 0);
/// let reader = ClusterReader::new(options);
/// let first = reader.read().await?; // connects
/// let again = reader.read().await?; // same connection
/// println!("{} slots, then {}", first.slots.len(), again.slots.len());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClusterReader {
    options: EtcdOptions,
    kept: Mutex<Kept>,
}

/// The kept client, numbered by the connection that made it: a failed read forgets the
/// client only if it is still the one that read used, not one another read connected since.
#[derive(Default)]
struct Kept {
    connects: u64,
    client: Option<Client>,
}

impl std::fmt::Debug for Kept {
    // etcd's client has no Debug: say whether one is kept.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("connects", &self.connects)
            .field("connected", &self.client.is_some())
            .finish()
    }
}

impl ClusterReader {
    /// A reader with the node's etcd settings; it connects on its first read.
    pub fn new(options: EtcdOptions) -> ClusterReader {
        ClusterReader {
            options,
            kept: Mutex::new(Kept::default()),
        }
    }

    /// The settings it reads with.
    pub fn options(&self) -> &EtcdOptions {
        &self.options
    }

    /// Reads the status, connecting first if no connection is kept.
    pub async fn read(&self) -> Result<ClusterStatus, CoordError> {
        let (connection, client) = self.client().await?;
        let status = read_status(&client, &self.options).await;
        if status.is_err() {
            let mut kept = self.kept.lock().await;
            if kept.connects == connection {
                kept.client = None;
            }
        }
        status
    }

    /// The kept client, or a new one. The lock is held while connecting, so reads that arrive
    /// together open one connection between them, not one each.
    async fn client(&self) -> Result<(u64, Client), CoordError> {
        let mut kept = self.kept.lock().await;
        if let Some(client) = &kept.client {
            return Ok((kept.connects, client.clone()));
        }
        let client = connect(&self.options).await?;
        kept.connects += 1;
        kept.client = Some(client.clone());
        Ok((kept.connects, client))
    }

    /// How many connections it has made so far.
    pub async fn connects(&self) -> u64 {
        self.kept.lock().await.connects
    }
}
