//! The `local` backend: worker slots and high-water marks in a state directory on one host.
//!
//! Layout of the directory:
//! ```text
//! <data-dir>/layout.json                         the pinned layout and epoch
//! <data-dir>/slots/dc-<D>-machine-<M>.lock       flock held by the slot's process, with its identity
//! <data-dir>/slots/dc-<D>-machine-<M>.hwm        the slot's persisted high-water tick
//! ```
//! Processes on one host coordinate through `flock`; nothing is shared across hosts, so give
//! each host its own datacenter/machine range (or use the etcd backend).

mod durable;
pub(crate) mod high_water;
#[cfg(feature = "test-support")]
pub(crate) mod hooks;
pub(crate) mod layout_pin;
mod slot_lock;

use std::path::{Path, PathBuf};

use snowdrift::Layout;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::error::CoordError;
use crate::identity::HolderIdentity;
use crate::MachineChoice;
use high_water::HighWaterFile;
use slot_lock::{Attempt, SlotLock};

/// The lock file of a slot: `<data-dir>/slots/dc-<D>-machine-<M>.lock`. The slot belongs to
/// whoever holds an exclusive `flock` on it. (A process forked from the holder shares that lock
/// through its inherited descriptor; the Python bindings close it in the child, by this path.)
///
/// ```
/// use std::path::Path;
/// let path = snowdrift_coordination::local::slot_lock_path(Path::new("/srv/ids"), 1, 7);
/// assert_eq!(path, Path::new("/srv/ids/slots/dc-1-machine-7.lock"));
/// ```
pub fn slot_lock_path(data_dir: &Path, datacenter: u64, machine: u64) -> PathBuf {
    data_dir
        .join("slots")
        .join(format!("dc-{datacenter}-machine-{machine}.lock"))
}

/// Settings of the local backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// The state directory (created if absent).
    pub data_dir: PathBuf,
    /// The datacenter field.
    pub datacenter: u64,
    /// A fixed machine, or the first free one.
    pub machine: MachineChoice,
}

/// A slot held through the state directory.
#[derive(Debug)]
pub(crate) struct LocalHolder {
    datacenter: u64,
    machine: u64,
    lock: SlotLock,
    high_water: HighWaterFile,
    previous: Option<u64>,
    /// The slot's one writer: whoever holds it may write the mark, so writes never overlap.
    writer: Mutex<Writer>,
}

/// The state of the slot's mark writes.
#[derive(Debug)]
struct Writer {
    /// The highest mark known durable: the previous holders' mark, then each completed write.
    durable: Option<u64>,
    /// A write whose caller stopped waiting for it (the keeper's timeout). It is never
    /// abandoned: the next caller waits for it before anything else, so writes land in the
    /// order they were made and a late one can never land under a newer one.
    in_flight: Option<JoinHandle<Result<u64, CoordError>>>,
}

impl Writer {
    /// Waits for the write in flight, if any, and takes its answer in: the mark it made
    /// durable, or its error. Cancel-safe: a caller that stops waiting leaves the write in
    /// flight for the next caller.
    async fn settle(&mut self) -> Option<Result<u64, CoordError>> {
        let handle = self.in_flight.as_mut()?;
        let outcome = handle.await;
        self.in_flight = None;
        let result = outcome
            .map_err(|e| CoordError::Backend(format!("the high-water write task failed: {e}")))
            .and_then(|written| written);
        if let Ok(mark) = result {
            self.durable = self.durable.max(Some(mark));
        }
        Some(result)
    }
}

impl LocalHolder {
    /// Opens the directory, pins the layout and claims a slot. Blocking: call it off the runtime.
    pub(crate) fn claim(
        options: &LocalOptions,
        layout: &Layout,
        me: &HolderIdentity,
    ) -> Result<LocalHolder, CoordError> {
        layout
            .check_worker(options.datacenter, 0)
            .map_err(CoordError::Generator)?;
        let slots_dir = options.data_dir.join("slots");
        // Each directory created here is made durable in its parent: a mark fsynced into a
        // directory whose own entry was lost in a power cut is lost with it.
        durable::create_dirs(&slots_dir)?;
        layout_pin::pin_or_check(&options.data_dir, layout)?;

        let candidates: Vec<u64> = match options.machine {
            MachineChoice::Fixed(machine) => {
                layout
                    .check_worker(options.datacenter, machine)
                    .map_err(CoordError::Generator)?;
                vec![machine]
            }
            MachineChoice::Auto => (0..=layout.max_machine()).collect(),
        };
        for machine in &candidates {
            let lock_path = slot_lock_path(&options.data_dir, options.datacenter, *machine);
            match SlotLock::try_acquire(&lock_path, me)? {
                Attempt::Acquired(lock) => {
                    let high_water = HighWaterFile::new(lock_path.with_extension("hwm"));
                    // Holding the slot, nobody else writes its mark: what crashed writes
                    // left behind can go.
                    high_water.remove_leftovers();
                    let previous = high_water.read()?;
                    return Ok(LocalHolder {
                        datacenter: options.datacenter,
                        machine: *machine,
                        lock,
                        high_water,
                        previous,
                        writer: Mutex::new(Writer {
                            durable: previous,
                            in_flight: None,
                        }),
                    });
                }
                Attempt::Held(holder) if options.machine != MachineChoice::Auto => {
                    return Err(CoordError::SlotHeld {
                        datacenter: options.datacenter,
                        machine: *machine,
                        holder,
                    });
                }
                Attempt::Held(_) => continue,
            }
        }
        Err(CoordError::SlotsExhausted {
            scope: options.data_dir.display().to_string(),
            datacenter: options.datacenter,
            slots: layout.max_machine() + 1,
        })
    }

    pub(crate) fn slot(&self) -> (u64, u64) {
        (self.datacenter, self.machine)
    }

    pub(crate) fn previous_high_water(&self) -> Option<u64> {
        self.previous
    }

    /// The mark's file.
    pub(crate) fn mark_place(&self) -> String {
        self.high_water.path().display().to_string()
    }

    pub(crate) fn describe(&self) -> String {
        format!(
            "{} (hwm {})",
            self.lock.path().display(),
            self.high_water.path().display()
        )
    }

    /// Durably records a mark of at least `tick`; returns the mark now on disk. Marks never
    /// go down: asking for a lower one returns the current mark without writing.
    ///
    /// One write at a time: a write still in flight (its caller timed out) is waited for
    /// first. Cancel-safe: if this future is dropped, its write goes on and the next call
    /// waits for it. The mark returned is durable, so the ceiling may rise to it.
    pub(crate) async fn persist(&self, tick: u64) -> Result<u64, CoordError> {
        let mut writer = self.writer.lock().await;
        // An earlier write's error was already reported to its caller as a timeout; this
        // call writes on its own.
        let _ = writer.settle().await;
        if let Some(durable) = writer.durable.filter(|&durable| durable >= tick) {
            return Ok(durable);
        }
        let file = self.high_water.clone();
        let locked = self.lock.share()?;
        writer.in_flight = Some(tokio::task::spawn_blocking(move || {
            let _locked = locked;
            file.raise(tick)
        }));
        let written = writer
            .settle()
            .await
            .unwrap_or_else(|| Err(CoordError::Backend("the high-water write vanished".into())))?;
        Ok(writer
            .durable
            .map_or(written, |durable| durable.max(written)))
    }

    /// At a clean shutdown, after the generator was fenced with `bound`: lowers the mark file
    /// to `bound` if it still holds the mark this holder last made durable (read back under
    /// the slot's flock, which is still held). Waits for a write in flight first, so no late
    /// write can land after the lowering. Returns the mark left on disk when it was lowered.
    pub(crate) async fn lower_mark(&self, bound: u64) -> Result<Option<u64>, CoordError> {
        let mut writer = self.writer.lock().await;
        let _ = writer.settle().await;
        let Some(expected) = crate::window::lowering(bound, writer.durable) else {
            return Ok(None);
        };
        let file = self.high_water.clone();
        let locked = self.lock.share()?;
        let lowered = tokio::task::spawn_blocking(move || {
            let _locked = locked;
            file.lower(expected, bound)
        })
        .await
        .map_err(|e| CoordError::Backend(format!("lowering task failed: {e}")))??;
        if lowered {
            writer.durable = Some(bound);
        }
        Ok(lowered.then_some(bound))
    }

    /// Gives the slot up. A write still running keeps the slot locked until it has finished
    /// (it holds a descriptor of the lock), so the next holder never reads a mark that a
    /// write of this holder can still change.
    pub(crate) fn release(self) {
        self.lock.release();
    }
}
