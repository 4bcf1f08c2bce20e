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
mod high_water;
pub(crate) mod layout_pin;
mod slot_lock;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use snowdrift::Layout;

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
    /// The mark on disk plus one; 0 while there is none. Only the window keeper writes.
    on_disk_plus_one: AtomicU64,
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
        std::fs::create_dir_all(&slots_dir).map_err(|source| CoordError::StateDir {
            path: slots_dir.clone(),
            source,
        })?;
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
                    let previous = high_water.read()?;
                    return Ok(LocalHolder {
                        datacenter: options.datacenter,
                        machine: *machine,
                        lock,
                        high_water,
                        previous,
                        on_disk_plus_one: AtomicU64::new(previous.map_or(0, |mark| mark + 1)),
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

    pub(crate) fn describe(&self) -> String {
        format!(
            "{} (hwm {})",
            self.lock.path().display(),
            self.high_water.path().display()
        )
    }

    /// Durably records a mark of at least `tick`; returns the mark now on disk. Marks never
    /// go down: asking for a lower one returns the current mark without writing.
    pub(crate) async fn persist(&self, tick: u64) -> Result<u64, CoordError> {
        let on_disk_plus_one = self.on_disk_plus_one.load(Ordering::Acquire);
        if on_disk_plus_one > tick {
            return Ok(on_disk_plus_one - 1);
        }
        let file = self.high_water.clone();
        tokio::task::spawn_blocking(move || file.write(tick))
            .await
            .map_err(|e| CoordError::Backend(format!("persist task failed: {e}")))??;
        self.on_disk_plus_one.fetch_max(tick + 1, Ordering::AcqRel);
        Ok(tick)
    }

    /// At a clean shutdown, after the generator was fenced with `bound`: lowers the mark file
    /// to `bound` if it still holds the mark this holder last wrote (read back under the slot's
    /// flock, which is still held). Returns the mark left on disk when it was lowered.
    pub(crate) async fn lower_mark(&self, bound: u64) -> Result<Option<u64>, CoordError> {
        let Some(expected) = self.on_disk_plus_one.load(Ordering::Acquire).checked_sub(1) else {
            return Ok(None);
        };
        if bound >= expected {
            return Ok(None);
        }
        let file = self.high_water.clone();
        let lowered = tokio::task::spawn_blocking(move || {
            if file.read()? != Some(expected) {
                return Ok(false);
            }
            file.write(bound).map(|()| true)
        })
        .await
        .map_err(|e| CoordError::Backend(format!("lowering task failed: {e}")))??;
        Ok(lowered.then_some(bound))
    }

    pub(crate) fn release(self) {
        self.lock.release();
    }
}
