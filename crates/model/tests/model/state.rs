//! The model's state: one slot in a linearizable store with leases and revisions, the nodes
//! that compete for it (each with its clock, its process memory and its holding), the
//! persist requests on the wire, and what has been issued so far. Every tick is a layout tick
//! of `Layout::default()` (1 ms), counted from the layout's epoch.

use snowdrift_coordination::etcd::reset::StoreMemory;

/// The cluster record as the store keeps it (the model draws incarnations from a counter, so
/// that states are comparable; the node code gets a real `ClusterRecord` built from it).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Record {
    /// The incarnation, `i<n>`.
    pub incarnation: u64,
    /// The creator's clock when it created the record, in ticks.
    pub created: u64,
}

/// The slot key: who holds it, under which claim (its create revision stands for the lease
/// and the revision together), and when the store expires its lease (real time).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct SlotKey {
    pub node: usize,
    pub claim: u64,
    pub expires: u64,
}

/// The store: etcd's keys for one slot, and its revision counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, Default)]
pub struct Store {
    pub record: Option<Record>,
    pub slot: Option<SlotKey>,
    pub hwm: Option<u64>,
    pub revision: i64,
    /// Counts wipes and restores: a holding of an earlier era holds a mark the store lost.
    pub era: u64,
    /// The record was restored with the data and no node replaced it yet.
    pub restored_record: bool,
}

impl Store {
    /// One write transaction.
    pub fn write(&mut self) {
        self.revision += 1;
    }
}

/// What a node learnt when it joined the record (the first half of a claim).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Joined {
    pub genesis: Option<snowdrift_coordination::floor::Genesis>,
    /// The slot's mark as the node read it at its previous attempt (the stale-read mutant).
    pub early_mark: Option<u64>,
}

/// A node's holding of the slot: its generator and its keeper.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Holding {
    /// The claim (create revision) it holds the slot under.
    pub claim: u64,
    /// The store's era when it claimed.
    pub era: u64,
    pub floor: u64,
    /// The generator's ceiling (`None`: the first window is not durable yet).
    pub ceiling: Option<u64>,
    /// The last tick this holding issued.
    pub last: Option<u64>,
    /// The node's own lease deadline (real time): the last renewal's send time + TTL.
    pub deadline: u64,
    /// The highest mark the store acknowledged to this holding.
    pub durable: Option<u64>,
    /// The mark the keeper is waiting for (one persist at a time).
    pub waiting: Option<u64>,
    /// Fenced by a mutant that lowers at shutdown without fencing: still issuing.
    pub shut_down: bool,
}

/// A node: a process (or none while crashed) and its clock.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Node {
    pub up: bool,
    /// Cut off from the store (its clients still reach it).
    pub cut: bool,
    /// Its clock reads real time plus this many ticks.
    pub offset: u64,
    /// The process's memory of the store (lost with the process).
    pub memory: StoreMemory,
    /// The highest ceiling this process held on the slot (lost with the process).
    pub remembered: Option<u64>,
    pub joined: Option<Joined>,
    pub holding: Option<Holding>,
    /// The last tick this process issued, across its holdings.
    pub last_issued: Option<u64>,
    /// The slot's mark as this process read it at its previous claim attempt (only the
    /// stale-read mutant uses it).
    pub last_read: Option<u64>,
}

/// A persist transaction on the wire: it may land late (after its sender gave up waiting,
/// was fenced, crashed or was cut off), and its answer may be lost.
#[derive(Clone, Debug, Hash, PartialEq, Eq, PartialOrd, Ord)]
pub struct Write {
    pub node: usize,
    pub claim: u64,
    pub mark: u64,
}

/// How many times each adversarial event may still happen.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct Budget {
    pub crashes: u8,
    pub wipes: u8,
    pub restores: u8,
    pub backups: u8,
    pub lost_acks: u8,
    pub clock_steps: u8,
    pub partitions: u8,
    pub shutdowns: u8,
}

/// The whole system.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct State {
    /// Real time, in ticks.
    pub now: u64,
    pub store: Store,
    pub backup: Option<Store>,
    pub nodes: Vec<Node>,
    /// Persist requests on the wire, sorted (a set).
    pub wire: Vec<Write>,
    pub next_claim: u64,
    pub next_incarnation: u64,
    pub budget: Budget,
    /// Every tick issued so far (one bit per tick: the model issues one ID per tick and
    /// holding, so two holdings issuing one tick have issued the same ID).
    pub issued: u128,
    pub max_issued: Option<u64>,
    /// A tick was issued twice.
    pub duplicate: bool,
    /// A process issued a tick at or below one it issued before.
    pub backwards: bool,
    /// A holding started at a floor at or below a tick issued before it.
    pub low_floor: bool,
    /// For the reachability properties.
    pub issued_after_reset: bool,
    pub issued_after_takeover: bool,
    pub issued_after_clean_restart: bool,
    /// When the last clean shutdown whose lowering applied happened, and the claim it ended.
    pub lowered_at: Option<(u64, u64)>,
    pub resets: u8,
}
