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

/// SIGTERM and SIGINT (Ctrl-C), listened for from the moment [`OsSignals::install`] returns.
///
/// Install it once, before anything is announced, and keep it for the whole run. Once tokio has
/// installed its handler for a signal, the default action (exit) is gone for good; a signal that
/// arrives while nobody listens is then simply lost. Creating a fresh listener for each wait
/// (start-up, then serving) left such a gap: a SIGTERM sent right after the `listening` line
/// could be swallowed and the process would never stop.
#[derive(Debug)]
pub struct OsSignals {
    #[cfg(unix)]
    listening: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl OsSignals {
    /// Starts listening for SIGTERM and SIGINT. Must be called inside the tokio runtime.
    pub fn install() -> OsSignals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listening = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                (Err(err), _) | (_, Err(err)) => {
                    tracing::warn!(error = %err, "cannot listen for SIGTERM; only Ctrl-C stops the node");
                    None
                }
            };
            OsSignals { listening }
        }
        #[cfg(not(unix))]
        {
            OsSignals {}
        }
    }

    /// Completes on the next SIGTERM or SIGINT (including one that arrived since the last call)
    /// and returns the signal's name.
    pub async fn next(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            match &mut self.listening {
                Some((term, int)) => tokio::select! {
                    _ = term.recv() => "SIGTERM",
                    _ = int.recv() => "SIGINT",
                },
                None => {
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

    /// The defect this type fixes: a SIGTERM delivered before anyone awaits it must still be
    /// seen by the next wait. (Were the listener created only at the wait, as before, this
    /// would time out.)
    #[cfg(unix)]
    #[tokio::test]
    async fn a_signal_that_arrives_before_the_wait_is_not_lost() {
        let mut signals = OsSignals::install();
        let sent = std::process::Command::new("kill")
            .args(["-INT", &std::process::id().to_string()])
            .status()
            .map(|status| status.success());
        assert_eq!(sent.ok(), Some(true), "kill -INT on ourselves");
        // Give the signal time to be delivered while nobody is waiting.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        let seen = tokio::time::timeout(std::time::Duration::from_secs(10), signals.next()).await;
        assert_eq!(seen.ok(), Some("SIGINT"));
    }

    #[tokio::test]
    async fn a_dropped_trigger_also_stops_watchers() {
        let (trigger, watcher) = channel();
        drop(trigger);
        watcher.wait().await;
    }
}
