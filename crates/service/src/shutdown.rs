//! Graceful shutdown: one trigger, many listeners that watch it, and the OS signals that pull it.
//!
//! `serve` creates the pair with [`channel`], hands a [`Shutdown`] to every listener, and pulls
//! the [`Trigger`] on SIGTERM or SIGINT (or when a listener fails). Each listener stops
//! accepting, finishes what is in flight and returns; only then is the node shut down, so the
//! last IDs handed out are covered by the persisted window and the slot is released cleanly.

use tokio::sync::watch;

/// Pulls the shutdown for every [`Shutdown`] made from the same [`channel`].
#[derive(Debug)]
pub struct Trigger {
    sender: watch::Sender<bool>,
}

/// Tells a listener when to stop. Cheap to clone: one per task.
#[derive(Debug, Clone)]
pub struct Shutdown {
    receiver: watch::Receiver<bool>,
}

/// A new trigger and the first of its watchers.
pub fn channel() -> (Trigger, Shutdown) {
    let (sender, receiver) = watch::channel(false);
    (Trigger { sender }, Shutdown { receiver })
}

impl Trigger {
    /// Tells every watcher to stop. Calling it again does nothing.
    pub fn trigger(&self) {
        self.sender.send_replace(true);
    }

    /// A new watcher of this trigger.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            receiver: self.sender.subscribe(),
        }
    }
}

impl Shutdown {
    /// Completes once shutdown was triggered (at once if it already was).
    pub async fn wait(mut self) {
        // An error means the trigger was dropped, which also means "stop".
        let _ = self.receiver.wait_for(|stop| *stop).await;
    }

    /// Whether shutdown was triggered.
    pub fn is_triggered(&self) -> bool {
        *self.receiver.borrow()
    }
}

/// Completes on SIGTERM or SIGINT (Ctrl-C) and returns the signal's name.
pub async fn os_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            },
            _ => {
                // Without signal handlers, Ctrl-C through tokio's portable path still works.
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_watcher_sees_the_trigger() {
        let (trigger, first) = channel();
        let second = trigger.subscribe();
        assert!(!first.is_triggered());
        trigger.trigger();
        trigger.trigger();
        first.clone().wait().await;
        second.wait().await;
        assert!(first.is_triggered());
    }

    #[tokio::test]
    async fn a_dropped_trigger_also_stops_watchers() {
        let (trigger, watcher) = channel();
        drop(trigger);
        watcher.wait().await;
    }
}
