//! The window protocol as a stateright model: nodes, one slot in an etcd-like store (leases,
//! revisions, create-if-absent and ownership-checked transactions), clocks within a bounded
//! skew that step, crashes and restarts, partitions (a cut-off holder keeps issuing to its
//! ceiling), late and lost answers, the store losing its data or being restored from a
//! backup, and clean shutdowns.
//!
//! The nodes' decisions are not retold here: every action calls the crate's own decision code,
//! the same the keeper runs: `floor::claim_floor` and `floor::claim_time_bound` (the floor),
//! `window::first_mark` and
//! `window::keeper_step` (what to persist, when to fence), `window::lowering` (the clean
//! shutdown), and `etcd::reset::{assess, StoreMemory::observe, StoreMemory::join}` and
//! `ClusterRecord::genesis` (noticing a reset of the store, and the genesis bound). What the
//! model writes itself is the store's side of each transaction, as `etcd/*.rs` sends it.
//!
//! A [`Mutant`] removes one protection, to show the checker finds the violation it prevents.

use std::fmt;

use snowdrift::{Layout, LayoutSpec};
use snowdrift_coordination::etcd::record::{Bounds, ClusterRecord};
use snowdrift_coordination::etcd::reset::{assess, Action as Verdict, Observation, StoreMemory};
use snowdrift_coordination::floor::{claim_floor, claim_time_bound, FloorInputs};
use snowdrift_coordination::window::{first_mark, keeper_step, lowering, KeeperStep};
use stateright::{Model, Property};

use crate::state::{Budget, Holding, Joined, Node, Record, SlotKey, State, Store, Write};

/// At most this many persists on the wire at once (a late one among them).
const MAX_WIRE: usize = 2;

/// One protection removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// The floor ignores the cluster record's genesis bound.
    NoGenesisFloor,
    /// The floor ignores the node's own memory of its last ceiling.
    NoOwnMemory,
    /// The keeper never fences when its lease deadline passes.
    NoLeaseFence,
    /// A clean shutdown lowers the mark to what was issued so far without fencing first.
    NoShutdownFence,
    /// Resets go unnoticed: every record is joined as it is, every answer accepted.
    NoResetDetection,
    /// The generator's ceiling rises when the persist is sent, not when it is acknowledged.
    CeilingBeforeAck,
    /// The persist transaction does not check that the slot is still the sender's.
    NoOwnershipCheck,
    /// The floor comes from a mark the node read earlier (its previous attempt, standing for a
    /// cached snapshot), not from the read inside the claim transaction.
    StaleFloorRead,
    /// The floor ignores the claim-time bound (the fix for restores nobody can notice).
    NoTimeFloor,
    /// The store's restore drops every lease, so restored slots are free at once (the model's
    /// earlier simplification; etcd restores leases with the data).
    RestoreDropsLeases,
}

/// Who may join a restored cluster record before a node that notices the restore replaces it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestoreJoins {
    /// Only a node whose memory shows the restore (it saw a revision above the restored
    /// store's): it replaces the record. Detection alone covers only these; the claim-time
    /// bound covers the other two as well.
    Noticing,
    /// Also a node that joined before but saw nothing newer than the backup (it was cut off
    /// or idle since): it cannot tell, and joins the restored record as it is.
    Remembering,
    /// Also a fresh process, which remembers nothing (the gap `docs/PROTOCOL.md` documents).
    Anyone,
}

/// The model's bounds.
#[derive(Clone, Debug)]
pub struct Config {
    pub nodes: usize,
    /// Real time stops here.
    pub horizon: u64,
    pub window: u64,
    pub ttl: u64,
    /// The keeper fences this long before its lease deadline.
    pub margin: u64,
    /// Clocks read real time plus an offset in `0..=skew` (so any two differ by at most the
    /// skew); a step moves a clock within that range.
    pub skew: u64,
    /// How far a clock may step: up to `skew` keeps every clock inside the skew; more breaks
    /// the genesis floor's assumption (used with a single node, where it isolates the
    /// node's own memory).
    pub step: u64,
    pub budget: Budget,
    /// Who may claim while a restored record has not been replaced yet.
    pub restore_joins: RestoreJoins,
    /// The protections removed (none: the protocol as written).
    pub mutants: Vec<Mutant>,
}

/// A step of the system.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// Real time advances one tick; the store expires lapsed leases.
    Tick,
    /// Join the cluster record (create, check or replace it), then grant a lease and claim
    /// the slot if free, reading its mark in the claim's transaction; decide the floor. (One
    /// step: a reset between the join and the claim is seen by the claim's revision check.)
    Claim(usize),
    /// The keeper's check: fence, or send a persist, or nothing.
    Keep(usize),
    /// The store applies a persist on the wire; its answer reaches the sender (if it waits).
    Apply(Write),
    /// The store applies it; the answer is lost.
    ApplyLoseAnswer(Write),
    Crash(usize),
    Restart(usize),
    Cut(usize),
    Heal(usize),
    ClockBack(usize),
    ClockAhead(usize),
    /// Fence, lower the mark to the fence's bound, release the lease, exit.
    Shutdown(usize),
    /// The store loses all its data.
    Wipe,
    /// Take a backup of the store.
    Backup,
    /// The store is restored from the backup.
    Restore,
}

/// The model.
pub struct SlotModel {
    pub config: Config,
    pub layout: Layout,
}

impl SlotModel {
    pub fn new(config: Config) -> SlotModel {
        SlotModel {
            config,
            layout: Layout::default(),
        }
    }

    fn mutant(&self, mutant: Mutant) -> bool {
        self.config.mutants.contains(&mutant)
    }

    fn bounds(&self) -> Bounds {
        Bounds {
            window_ms: self.config.window,
            max_clock_skew_ms: self.config.skew,
        }
    }

    /// A node's clock, in ticks.
    fn clock(&self, state: &State, n: usize) -> u64 {
        state.now + state.nodes[n].offset
    }

    fn unix_ms(&self, tick: u64) -> u64 {
        self.layout.epoch_ms() + tick
    }

    fn record_of(&self, record: &Record) -> ClusterRecord {
        ClusterRecord {
            layout: LayoutSpec::from(self.layout),
            incarnation: Some(format!("i{}", record.incarnation)),
            created_unix_ms: self.unix_ms(record.created),
            bounds: Some(self.bounds()),
        }
    }

    /// `StoreMemory::observe` on an answer of the store (cluster ID 1: the model's store is
    /// never replaced by another cluster). `false`: the answer breaks the history.
    fn observe(&self, state: &mut State, n: usize) -> bool {
        if self.mutant(Mutant::NoResetDetection) {
            return true;
        }
        let revision = state.store.revision;
        let now = self.unix_ms(self.clock(state, n));
        state.nodes[n].memory.observe(1, revision, now).is_ok()
    }

    fn new_record(&self, state: &mut State, n: usize) -> Record {
        state.next_incarnation += 1;
        Record {
            incarnation: state.next_incarnation,
            created: self.clock(state, n),
        }
    }

    /// `etcd/join.rs`: create the record if absent, judge it against the memory, replace it
    /// if it may predate a reset, join it.
    fn join(&self, state: &mut State, n: usize) {
        let created_now = state.store.record.is_none();
        if created_now {
            let record = self.new_record(state, n);
            state.store.record = Some(record);
            state.store.restored_record = false;
            state.store.write();
        }
        let Some(stored) = state.store.record.clone() else {
            return;
        };
        let record = self.record_of(&stored);
        let seen = Observation {
            cluster_id: 1,
            revision: state.store.revision,
            record: &record,
            created_now,
        };
        let memory = &state.nodes[n].memory;
        let verdict = if self.mutant(Mutant::NoResetDetection) {
            None
        } else {
            Some(assess(memory, &seen, self.config.skew))
        };
        let (record, reset) = match verdict {
            Some(verdict) if verdict.action == Verdict::Replace => {
                let replacement = self.new_record(state, n);
                state.store.record = Some(replacement.clone());
                state.store.restored_record = false;
                state.store.write();
                (self.record_of(&replacement), verdict.reset)
            }
            Some(verdict) => (record, verdict.reset),
            None => (record, None),
        };
        if reset.is_some() {
            state.resets = state.resets.saturating_add(1);
        }
        let revision = state.store.revision;
        let now = self.unix_ms(self.clock(state, n));
        let node = &mut state.nodes[n];
        node.memory.join(&record, 1, revision, now, reset);
        node.joined = Some(Joined {
            genesis: record.genesis(node.memory.bounds),
            early_mark: node.last_read,
        });
        node.last_read = state.store.hwm;
    }

    /// `etcd/claim.rs` and the floor: create the slot key if absent, read the mark in the same
    /// transaction, check the answer against the memory, and decide the floor.
    fn claim(&self, state: &mut State, n: usize) {
        let Some(joined) = state.nodes[n].joined.take() else {
            return;
        };
        if state.store.slot.is_some() {
            return; // held: the node joins and tries again later
        }
        state.next_claim += 1;
        let claim = state.next_claim;
        state.store.slot = Some(SlotKey {
            node: n,
            claim,
            expires: state.now + self.config.ttl,
        });
        state.store.write();
        let read = state.store.hwm;
        if !self.observe(state, n) {
            // The claim is given up (its lease revoked) and made again later.
            state.store.slot = None;
            state.store.write();
            return;
        }
        let stored_mark = if self.mutant(Mutant::StaleFloorRead) {
            joined.early_mark
        } else {
            read
        };
        let genesis = if self.mutant(Mutant::NoGenesisFloor) {
            None
        } else {
            joined.genesis
        };
        let remembered = if self.mutant(Mutant::NoOwnMemory) {
            None
        } else {
            state.nodes[n].remembered
        };
        // The clock is read after the claim's answer, as `etcd/holder.rs` does.
        let claim_time = (!self.mutant(Mutant::NoTimeFloor)).then(|| {
            claim_time_bound(
                self.unix_ms(self.clock(state, n)),
                joined.genesis,
                self.config.window,
                self.config.skew,
            )
        });
        let floor = match claim_floor(&FloorInputs {
            stored_mark,
            genesis,
            remembered_ceiling: remembered,
            claim_time,
            layout: &self.layout,
        }) {
            Ok(floor) => floor.tick,
            Err(_) => return,
        };
        if state.max_issued.is_some_and(|issued| floor <= issued) {
            state.low_floor = true;
        }
        state.nodes[n].holding = Some(Holding {
            claim,
            era: state.store.era,
            floor,
            ceiling: None,
            last: None,
            deadline: state.now + self.config.ttl,
            durable: read,
            waiting: None,
            shut_down: false,
        });
    }

    /// Whether the store would accept a transaction of holding `claim` from node `n`.
    fn owns(store: &Store, n: usize, claim: u64) -> bool {
        store
            .slot
            .as_ref()
            .is_some_and(|slot| slot.node == n && slot.claim == claim)
    }

    /// The keeper's check (`node/keeper.rs`, and the first persist of `node/start.rs`).
    fn keep(&self, state: &mut State, n: usize) {
        let clock = self.clock(state, n);
        let now = state.now;
        let max_tick = self.layout.max_tick();
        let window = self.config.window;
        let margin = self.config.margin;
        let lease_fence = !self.mutant(Mutant::NoLeaseFence);
        let Some(holding) = state.nodes[n].holding.as_mut() else {
            return;
        };
        let overdue = lease_fence && now >= holding.deadline.saturating_sub(margin);
        let step = if holding.ceiling.is_none() && !overdue {
            if clock < holding.floor {
                // `start_generator` waits for a clock behind the floor before the first
                // persist, so the first mark is a window ahead of a clock at the floor.
                return;
            }
            KeeperStep::Extend(first_mark(clock, holding.floor, window, max_tick))
        } else {
            keeper_step(overdue, clock, holding.ceiling, window, max_tick)
        };
        match step {
            KeeperStep::Wait => {}
            KeeperStep::Fence => self.fence_and_release(state, n),
            KeeperStep::Extend(mark) => {
                if holding.durable.is_some_and(|durable| durable >= mark) {
                    // `persist` skips the write: the mark is already durable.
                    let durable = holding.durable;
                    holding.ceiling = holding.ceiling.max(durable);
                    return;
                }
                holding.waiting = Some(mark);
                let claim = holding.claim;
                if self.mutant(Mutant::CeilingBeforeAck) {
                    holding.ceiling = holding.ceiling.max(Some(mark));
                }
                if !state.nodes[n].cut && state.wire.len() < MAX_WIRE {
                    let write = Write {
                        node: n,
                        claim,
                        mark,
                    };
                    if !state.wire.contains(&write) {
                        state.wire.push(write);
                        state.wire.sort();
                    }
                }
            }
        }
    }

    /// Fences the generator, revokes the lease if the store can be reached, and leaves the
    /// node free to claim again.
    fn fence_and_release(&self, state: &mut State, n: usize) {
        let Some(holding) = state.nodes[n].holding.take() else {
            return;
        };
        if !state.nodes[n].cut && Self::owns(&state.store, n, holding.claim) {
            state.store.slot = None;
            state.store.write();
        }
    }

    /// `etcd/persist.rs`, the store's side: if the slot is still the sender's, grow the mark;
    /// answer with the mark the store holds. The sender raises its ceiling to the answer.
    fn apply(&self, state: &mut State, write: &Write, answered: bool) {
        state.wire.retain(|w| w != write);
        let owned = Self::owns(&state.store, write.node, write.claim)
            || self.mutant(Mutant::NoOwnershipCheck);
        let answer = if owned {
            if state.store.hwm.is_none_or(|hwm| hwm < write.mark) {
                state.store.hwm = Some(write.mark);
            }
            state.store.write();
            state.store.hwm
        } else {
            None
        };
        let n = write.node;
        let node = &state.nodes[n];
        let waiting = node.up
            && !node.cut
            && node
                .holding
                .as_ref()
                .is_some_and(|h| h.claim == write.claim && h.waiting == Some(write.mark));
        if !answered || !waiting {
            return;
        }
        let Some(mark) = answer else {
            // SlotLost: fence and claim again.
            self.fence_and_release(state, n);
            return;
        };
        if !self.observe(state, n) {
            // The answer came from a store whose history broke: give the slot up.
            self.fence_and_release(state, n);
            return;
        }
        let node = &mut state.nodes[n];
        node.remembered = node.remembered.max(Some(mark));
        if let Some(holding) = node.holding.as_mut() {
            holding.waiting = None;
            holding.durable = holding.durable.max(Some(mark));
            holding.ceiling = holding.ceiling.max(Some(mark));
        }
    }

    /// `etcd/lease.rs`: a renewal sent and answered at a tick (the send time and the arrival are the
    /// same tick, so the node's deadline equals the store's expiry). A lease the store no
    /// longer has is lost: the deadline drops to now.
    fn renew(&self, state: &mut State, n: usize) {
        let now = state.now;
        let ttl = self.config.ttl;
        let Some(holding) = state.nodes[n].holding.as_mut() else {
            return;
        };
        match state.store.slot.as_mut() {
            Some(slot) if slot.node == n && slot.claim == holding.claim => {
                slot.expires = now + ttl;
                holding.deadline = now + ttl;
            }
            _ => holding.deadline = holding.deadline.min(now),
        }
    }

    /// The generators run at full load: after every step, each holding issues every tick it
    /// may use and has not issued yet, up to its clock: `[max(floor, last + 1), min(clock,
    /// ceiling)]`. What a holding has issued is therefore always the whole interval from its
    /// floor to its last tick, a superset of what any slower caller pattern (or a clock that
    /// stepped back) could make it issue, so a duplicate any execution can produce shows here.
    fn issue(&self, state: &mut State, n: usize) {
        let clock = self.clock(state, n);
        let Some(holding) = state.nodes[n].holding.as_mut() else {
            return;
        };
        let Some(ceiling) = holding.ceiling else {
            return;
        };
        let first = holding
            .last
            .map_or(holding.floor, |last| last + 1)
            .max(holding.floor);
        let last = clock.min(ceiling);
        if first > last {
            return;
        }
        holding.last = Some(last);
        let (claim, era) = (holding.claim, holding.era);
        let node = &mut state.nodes[n];
        if node.last_issued.is_some_and(|before| first <= before) {
            state.backwards = true;
        }
        node.last_issued = Some(last);
        // Ticks first..=last as bits (the model's ticks stay below 120, see `within_boundary`).
        let bits = (u128::MAX >> (127 - last)) & !((1u128 << first) - 1);
        if state.issued & bits != 0 {
            state.duplicate = true;
        }
        state.issued |= bits;
        state.max_issued = state.max_issued.max(Some(last));
        if era > 0 {
            state.issued_after_reset = true;
        }
        if claim > 1 {
            state.issued_after_takeover = true;
        }
        if state.lowered_at.is_some_and(|(_, by)| claim > by) {
            state.issued_after_clean_restart = true;
        }
    }

    /// `Node::shutdown`: fence (the bound: the last tick issued, or the floor − 1), lower the
    /// mark to it if the store still holds this holding's last durable mark and the slot is
    /// still its own, revoke the lease, exit.
    fn shutdown(&self, state: &mut State, n: usize) {
        let Some(holding) = state.nodes[n].holding.clone() else {
            return;
        };
        let bound = holding.last.or(holding.floor.checked_sub(1));
        let reachable = !state.nodes[n].cut;
        let mut lowered = false;
        if let Some(expected) = bound.and_then(|bound| lowering(bound, holding.durable)) {
            let owned = Self::owns(&state.store, n, holding.claim);
            if reachable && owned && state.store.hwm == Some(expected) {
                state.store.hwm = bound;
                state.store.write();
                lowered = true;
            }
        }
        if reachable && Self::owns(&state.store, n, holding.claim) {
            state.store.slot = None;
            state.store.write();
        }
        if lowered {
            state.lowered_at = Some((state.now, holding.claim));
        }
        let node = &mut state.nodes[n];
        if self.mutant(Mutant::NoShutdownFence) {
            // The generator goes on serving up to its ceiling after the mark was lowered.
            if let Some(h) = node.holding.as_mut() {
                h.shut_down = true;
            }
            return;
        }
        *node = Node {
            up: false,
            holding: None,
            joined: None,
            ..node.clone()
        };
    }
}

impl Model for SlotModel {
    type State = State;
    type Action = Step;

    fn init_states(&self) -> Vec<State> {
        let node = Node {
            up: true,
            cut: false,
            offset: 0,
            memory: StoreMemory::default(),
            remembered: None,
            joined: None,
            holding: None,
            last_issued: None,
            last_read: None,
        };
        // Clocks start anywhere within the skew; the first node's reads real time.
        let mut starts = vec![vec![node.clone()]];
        for _ in 1..self.config.nodes {
            let mut next = Vec::new();
            for nodes in starts {
                for offset in 0..=self.config.skew {
                    let mut nodes = nodes.clone();
                    nodes.push(Node {
                        offset,
                        ..node.clone()
                    });
                    next.push(nodes);
                }
            }
            starts = next;
        }
        starts
            .into_iter()
            .map(|nodes| State {
                now: 0,
                store: Store::default(),
                backup: None,
                nodes,
                wire: Vec::new(),
                next_claim: 0,
                next_incarnation: 0,
                budget: self.config.budget.clone(),
                issued: 0,
                max_issued: None,
                duplicate: false,
                backwards: false,
                low_floor: false,
                issued_after_reset: false,
                issued_after_takeover: false,
                issued_after_clean_restart: false,
                lowered_at: None,
                resets: 0,
            })
            .collect()
    }

    fn actions(&self, state: &State, actions: &mut Vec<Step>) {
        let budget = &state.budget;
        if state.now < self.config.horizon {
            actions.push(Step::Tick);
        }
        for (n, node) in state.nodes.iter().enumerate() {
            if !node.up {
                actions.push(Step::Restart(n));
                continue;
            }
            if budget.crashes > 0 {
                actions.push(Step::Crash(n));
            }
            if budget.partitions > 0 && !node.cut {
                actions.push(Step::Cut(n));
            }
            if node.cut {
                actions.push(Step::Heal(n));
            }
            if budget.clock_steps > 0 {
                if node.offset > 0 {
                    actions.push(Step::ClockBack(n));
                }
                if node.offset < self.config.step.max(self.config.skew) {
                    actions.push(Step::ClockAhead(n));
                }
            }
            match &node.holding {
                None if node.cut => {}
                None => {
                    let fresh = node.memory.joined.is_none();
                    // A node tries when the slot is free, or to join at all: a claim of a
                    // held slot changes nothing but the node's memory of the store.
                    let worth = fresh || state.store.slot.is_none();
                    let noticing = node.memory.max_revision > state.store.revision;
                    let allowed = !state.store.restored_record
                        || match self.config.restore_joins {
                            RestoreJoins::Noticing => noticing,
                            RestoreJoins::Remembering => noticing || !fresh,
                            RestoreJoins::Anyone => true,
                        };
                    if worth && allowed {
                        actions.push(Step::Claim(n));
                    }
                }
                Some(holding) => {
                    if holding.shut_down {
                        continue;
                    }
                    if holding.waiting.is_none() {
                        actions.push(Step::Keep(n));
                    }
                    if budget.shutdowns > 0 {
                        actions.push(Step::Shutdown(n));
                    }
                }
            }
        }
        for write in &state.wire {
            actions.push(Step::Apply(write.clone()));
            if budget.lost_acks > 0 {
                actions.push(Step::ApplyLoseAnswer(write.clone()));
            }
        }
        if budget.wipes > 0 {
            actions.push(Step::Wipe);
        }
        if budget.backups > 0 {
            actions.push(Step::Backup);
        }
        if budget.restores > 0 && state.backup.is_some() {
            actions.push(Step::Restore);
        }
    }

    fn next_state(&self, last: &State, step: Step) -> Option<State> {
        let mut state = last.clone();
        match step {
            Step::Tick => {
                state.now += 1;
                // The renewer runs far more often than the TTL: every holder that reaches the
                // store renews within each tick (a partition or a crash stops it).
                for n in 0..state.nodes.len() {
                    if state.nodes[n].up && !state.nodes[n].cut {
                        self.renew(&mut state, n);
                    }
                    // A persist is bounded by half the window, one tick here: a keeper still
                    // waiting gives up, and its request stays on the wire (it may land late).
                    if let Some(holding) = state.nodes[n].holding.as_mut() {
                        holding.waiting = None;
                    }
                }
                if state
                    .store
                    .slot
                    .as_ref()
                    .is_some_and(|slot| slot.expires <= state.now)
                {
                    state.store.slot = None;
                    state.store.write();
                }
            }
            Step::Claim(n) => {
                self.join(&mut state, n);
                self.claim(&mut state, n);
            }
            Step::Keep(n) => self.keep(&mut state, n),
            Step::Apply(write) => self.apply(&mut state, &write, true),
            Step::ApplyLoseAnswer(write) => {
                state.budget.lost_acks -= 1;
                self.apply(&mut state, &write, false);
            }
            Step::Crash(n) => {
                state.budget.crashes -= 1;
                let node = &mut state.nodes[n];
                node.up = false;
                node.holding = None;
                node.joined = None;
            }
            Step::Restart(n) => {
                // A new process: it remembers nothing.
                let node = &mut state.nodes[n];
                *node = Node {
                    up: true,
                    memory: StoreMemory::default(),
                    remembered: None,
                    joined: None,
                    holding: None,
                    last_issued: None,
                    last_read: None,
                    ..node.clone()
                };
            }
            Step::Cut(n) => {
                state.budget.partitions -= 1;
                state.nodes[n].cut = true;
            }
            Step::Heal(n) => state.nodes[n].cut = false,
            Step::ClockBack(n) => {
                state.budget.clock_steps -= 1;
                let offset = &mut state.nodes[n].offset;
                *offset = offset.saturating_sub(self.config.step.max(1));
            }
            Step::ClockAhead(n) => {
                state.budget.clock_steps -= 1;
                let top = self.config.step.max(self.config.skew);
                let offset = &mut state.nodes[n].offset;
                *offset = (*offset + self.config.step.max(1)).min(top);
            }
            Step::Shutdown(n) => {
                state.budget.shutdowns -= 1;
                self.shutdown(&mut state, n);
            }
            Step::Wipe => {
                state.budget.wipes -= 1;
                let era = state.store.era + 1;
                // etcd starts again from revision 1 with nothing in it.
                state.store = Store {
                    era,
                    ..Store::default()
                };
            }
            Step::Backup => {
                state.budget.backups -= 1;
                state.backup = Some(state.store.clone());
            }
            Step::Restore => {
                state.budget.restores -= 1;
                let era = state.store.era + 1;
                let backup = state.backup.take()?;
                // etcd restores leases with the data (a snapshot or a file-level backup keeps
                // them) and starts their TTL again: a restored slot key stays until its holder
                // revokes it or stops renewing for a TTL, and the holder's renewals and
                // ownership checks pass against it.
                let ttl = self.config.ttl;
                let slot = if self.mutant(Mutant::RestoreDropsLeases) {
                    None
                } else {
                    backup.slot.clone().map(|slot| SlotKey {
                        expires: state.now + ttl,
                        ..slot
                    })
                };
                state.store = Store {
                    era,
                    slot,
                    restored_record: backup.record.is_some(),
                    ..backup
                };
            }
        }
        for n in 0..state.nodes.len() {
            if state.nodes[n].up {
                self.issue(&mut state, n);
            }
        }
        // A state that changed nothing is not a step.
        (state != *last).then_some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("no ID issued twice", |_, s: &State| !s.duplicate),
            Property::always("each process issues increasing ticks", |_, s: &State| {
                !s.backwards
            }),
            Property::always(
                "every floor lies above everything issued before it",
                |_, s: &State| !s.low_floor,
            ),
            Property::always(
                "no ceiling above the store's durable mark",
                |_, s: &State| ceilings_durable(s),
            ),
            Property::sometimes("a takeover issues", |_, s: &State| s.issued_after_takeover),
            Property::sometimes("a node issues after the store was reset", |_, s: &State| {
                s.issued_after_reset
            }),
            Property::sometimes("a restart after a clean shutdown issues", |_, s: &State| {
                s.issued_after_clean_restart
            }),
        ]
    }

    fn within_boundary(&self, state: &State) -> bool {
        // Ticks fit the 128-bit set of issued ticks.
        state.now + self.config.step.max(self.config.skew) + self.config.window < 120
    }

    fn format_action(&self, action: &Step) -> String {
        format!("{action:?}")
    }
}

/// For every live holding of the store's current era: its ceiling is at most the mark the
/// store holds (the store never lost it, and the ceiling only rises to acknowledged marks).
fn ceilings_durable(state: &State) -> bool {
    state.nodes.iter().all(|node| {
        let Some(holding) = node.holding.as_ref().filter(|h| h.era == state.store.era) else {
            return true;
        };
        match holding.ceiling {
            None => true,
            Some(ceiling) => state.store.hwm.is_some_and(|hwm| hwm >= ceiling),
        }
    })
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
