//! A TCP proxy between nodes and etcd that can be told to stop forwarding: a network
//! partition on loopback.
//!
//! While partitioned, bytes stop flowing in both directions but connections stay open, as
//! when packets are dropped: the node sees requests hang, not fail. New connections are
//! accepted and held silent. On healing, every connection that lived through the partition is
//! closed (as TCP would eventually time it out) and new ones forward normally.

use std::net::{Ipv4Addr, SocketAddr};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running proxy; dropping it closes every connection.
#[derive(Debug)]
pub struct Proxy {
    addr: SocketAddr,
    forwarding: watch::Sender<bool>,
    acceptor: JoinHandle<()>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let (forwarding, watching) = watch::channel(true);
        let acceptor = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(client, upstream, watching.clone()));
            }
        });
        Ok(Proxy {
            addr,
            forwarding,
            acceptor,
        })
    }

    /// The URL to give the node instead of etcd's.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops forwarding.
    pub fn partition(&self) {
        self.forwarding.send_replace(false);
    }

    /// Forwards again.
    pub fn heal(&self) {
        self.forwarding.send_replace(true);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

/// Waits until forwarding is `wanted`; `false` if the proxy is gone.
async fn until(watching: &mut watch::Receiver<bool>, wanted: bool) -> bool {
    watching.wait_for(|now| *now == wanted).await.is_ok()
}

async fn relay(mut client: TcpStream, upstream: SocketAddr, mut watching: watch::Receiver<bool>) {
    if !*watching.borrow() {
        // Accepted during a partition: hold it silent, close it on healing.
        until(&mut watching, true).await;
        return;
    }
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => return,
        gone = until(&mut watching, false) => if !gone { return },
    }
    // Partitioned: keep both sockets open and silent until healed, then close them.
    until(&mut watching, true).await;
}
