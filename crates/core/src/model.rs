//! The user's object model: `Datacenter` and `IdSystem`, built on [`IdGenerator`].
//!
//! These keep the names of the design that was asked for. They suit a single process that plays
//! several workers (tests, simulations, sharded writers); a real deployment runs one generator
//! per process and lets the coordination layer hand out the worker slot.

use crate::error::{Error, Result};
use crate::generator::IdGenerator;
use crate::layout::Layout;

/// The generators of one datacenter, one per machine.
///
/// ```
/// use snowdrift::Datacenter;
/// let dc = Datacenter::new(1, 5, snowdrift::DEFAULT_EPOCH_MS)?;
/// let id = dc.get_worker(2)?.generate_id()?;
/// assert_eq!(id.parts(&dc.layout())?.machine, 2);
/// assert!(dc.get_worker(5).is_err());
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug)]
pub struct Datacenter {
    datacenter_id: u64,
    layout: Layout,
    workers: Vec<IdGenerator>,
}

impl Datacenter {
    /// `workers` generators (machines `0..workers`) for `datacenter_id` in the default layout
    /// with a custom epoch.
    pub fn new(datacenter_id: u64, workers: u64, epoch_ms: u64) -> Result<Self> {
        Datacenter::with_layout(
            Layout::builder().epoch_ms(epoch_ms).build()?,
            datacenter_id,
            workers,
        )
    }

    /// The same, in any layout.
    pub fn with_layout(layout: Layout, datacenter_id: u64, workers: u64) -> Result<Self> {
        layout.check_worker(datacenter_id, 0)?;
        let max = layout.max_machine() + 1;
        if workers == 0 || workers > max {
            return Err(Error::CountOutOfRange {
                what: "workers per datacenter",
                value: workers,
                max,
            });
        }
        let workers = (0..workers)
            .map(|machine| {
                IdGenerator::builder(layout)
                    .worker(datacenter_id, machine)
                    .build()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Datacenter {
            datacenter_id,
            layout,
            workers,
        })
    }

    /// The generator of `machine_id`.
    pub fn get_worker(&self, machine_id: u64) -> Result<&IdGenerator> {
        usize::try_from(machine_id)
            .ok()
            .and_then(|index| self.workers.get(index))
            .ok_or(Error::MachineOutOfRange {
                value: machine_id,
                max: self.workers.len() as u64 - 1,
            })
    }

    /// This datacenter's ID.
    pub fn datacenter_id(&self) -> u64 {
        self.datacenter_id
    }

    /// Number of workers.
    pub fn worker_count(&self) -> u64 {
        self.workers.len() as u64
    }

    /// The layout shared by every worker.
    pub fn layout(&self) -> Layout {
        self.layout
    }
}

/// Every datacenter of a system, each with the same number of workers.
///
/// ```
/// use snowdrift::IdSystem;
/// let system = IdSystem::new(3, 5, snowdrift::DEFAULT_EPOCH_MS)?;
/// let id = system.get_generator(1, 2)?.generate_id()?;
/// let parts = id.parts(&system.layout())?;
/// assert_eq!((parts.datacenter, parts.machine), (1, 2));
/// assert_eq!(system.get_generator(3, 0).unwrap_err().code(), "datacenter_out_of_range");
/// # Ok::<(), snowdrift::Error>(())
/// ```
#[derive(Debug)]
pub struct IdSystem {
    layout: Layout,
    datacenters: Vec<Datacenter>,
}

impl IdSystem {
    /// `datacenters` × `workers_per_datacenter` generators in the default layout with a custom epoch.
    pub fn new(datacenters: u64, workers_per_datacenter: u64, epoch_ms: u64) -> Result<Self> {
        IdSystem::with_layout(
            Layout::builder().epoch_ms(epoch_ms).build()?,
            datacenters,
            workers_per_datacenter,
        )
    }

    /// The same, in any layout.
    pub fn with_layout(
        layout: Layout,
        datacenters: u64,
        workers_per_datacenter: u64,
    ) -> Result<Self> {
        let max = layout.max_datacenter() + 1;
        if datacenters == 0 || datacenters > max {
            return Err(Error::CountOutOfRange {
                what: "datacenters",
                value: datacenters,
                max,
            });
        }
        let datacenters = (0..datacenters)
            .map(|dc| Datacenter::with_layout(layout, dc, workers_per_datacenter))
            .collect::<Result<Vec<_>>>()?;
        Ok(IdSystem {
            layout,
            datacenters,
        })
    }

    /// The datacenter `datacenter_id`.
    pub fn get_datacenter(&self, datacenter_id: u64) -> Result<&Datacenter> {
        usize::try_from(datacenter_id)
            .ok()
            .and_then(|index| self.datacenters.get(index))
            .ok_or(Error::DatacenterOutOfRange {
                value: datacenter_id,
                max: self.datacenters.len() as u64 - 1,
            })
    }

    /// The generator of machine `machine_id` in datacenter `datacenter_id`.
    pub fn get_generator(&self, datacenter_id: u64, machine_id: u64) -> Result<&IdGenerator> {
        self.get_datacenter(datacenter_id)?.get_worker(machine_id)
    }

    /// The layout shared by every generator.
    pub fn layout(&self) -> Layout {
        self.layout
    }
}
