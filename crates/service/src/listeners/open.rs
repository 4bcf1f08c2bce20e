//! The connections a listener has open: how many, waiting for them all to end, and closing
//! them all at once when the drain deadline has passed.
//!
//! Closing from outside is what makes the drain deadline hold whatever a protocol does: a
//! connection blocked on a client that stopped reading (an HTTP pipeline, a gRPC stream whose
//! window is full) is parked on its socket, so it cannot be asked to stop. Shutting the socket
//! down (`shutdown(2)`, both directions) wakes it: its reads see the end of the stream and its
//! writes fail, so hyper, tonic and the Redis-protocol handler each end the connection and
//! drop what it held. The socket itself is closed when the [`Conn`](super::Conn) drops.
//!
//! Each open connection's socket descriptor is kept here, keyed by a number, from accept until
//! the `Conn` drops; nothing is touched per request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;

/// A socket's descriptor as the registry keeps it.
#[cfg(unix)]
pub(super) type RawSocket = std::os::fd::RawFd;
/// A socket's descriptor as the registry keeps it (closing from outside is unix-only).
#[cfg(not(unix))]
pub(super) type RawSocket = ();

/// The open connections of one listener. Cheap to clone: one `Arc`.
#[derive(Debug, Clone, Default)]
pub struct Connections {
    inner: Arc<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    /// Every open connection's socket, by key.
    sockets: Mutex<HashMap<u64, RawSocket>>,
    next_key: AtomicU64,
    /// Notified each time the last open connection ends.
    emptied: Notify,
}

impl Connections {
    /// An empty registry.
    pub fn new() -> Connections {
        Connections::default()
    }

    /// How many connections are open now.
    pub fn open(&self) -> usize {
        self.inner.lock().len()
    }

    /// Completes once no connection is open (at once if none is).
    pub async fn closed(&self) {
        loop {
            // Registered before the check, so an end between the two is not missed.
            let emptied = self.inner.emptied.notified();
            tokio::pin!(emptied);
            emptied.as_mut().enable();
            if self.open() == 0 {
                return;
            }
            emptied.await;
        }
    }

    /// Shuts down every open connection's socket in both directions, which wakes the task
    /// that serves it and makes it end. Returns how many there were.
    pub fn close_all(&self) -> usize {
        let sockets = self.inner.lock();
        #[cfg(unix)]
        for &fd in sockets.values() {
            // SAFETY: `fd` belongs to an open `Conn`, whose `TcpStream` owns it. `Conn::drop`
            // removes the entry, under this same lock, before that stream is dropped and the
            // descriptor closed; so while the lock is held here the descriptor is still open
            // and still that socket's, never a number the kernel has handed to another file.
            let socket = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            // A socket the client already closed fails with ENOTCONN, which is fine.
            let _ = socket2::SockRef::from(&socket).shutdown(std::net::Shutdown::Both);
        }
        sockets.len()
    }

    /// Records a newly accepted connection; `Conn` calls [`Connections::remove`] on drop.
    pub(super) fn insert(&self, socket: RawSocket) -> u64 {
        let key = self.inner.next_key.fetch_add(1, Ordering::Relaxed);
        self.inner.lock().insert(key, socket);
        key
    }

    /// Forgets a connection that is ending.
    pub(super) fn remove(&self, key: u64) {
        let mut sockets = self.inner.lock();
        sockets.remove(&key);
        if sockets.is_empty() {
            self.inner.emptied.notify_waiters();
        }
    }
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, RawSocket>> {
        // Nothing panics while holding the lock; if something did, the map is still whole.
        self.sockets.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
