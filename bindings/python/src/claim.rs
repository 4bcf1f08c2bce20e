//! `snowdrift.claim()`: a generator that holds its own slot in a state directory, in the same
//! format as `snowdrift serve` (a `flock` per slot, the layout pinned, a high-water mark
//! persisted ahead of the clock), so Python processes and the service share one ID space.
//!
//! # The hot path
//! `generate_id` loads the current generator from an `ArcSwap` and issues from it, exactly as
//! `IDGenerator` does. Everything else (a closed claim, a forked child) shows up there as a
//! fenced generator, so the check costs nothing until it matters; the slow path then decides.
//!
//! # Fork safety
//! A child made by `fork()` shares its parent's memory image, hence its generator and its
//! slot. An `os.register_at_fork(after_in_child=...)` handler (registered when the module is
//! imported) fences every inherited generator in the child and drops its inherited session
//! (which leaks it, see [`crate::session`]) and closes its descriptor of the parent's lock
//! (see [`crate::inherited`]). The child's first ID then claims a slot of its own, the lowest
//! free one in the same datacenter, before it is issued.
//!
//! # Locks and the GIL
//! The registry and each claim's state are locked only by threads attached to the interpreter
//! (holding the GIL), and never across a release of it. `os.fork()` keeps the GIL while it
//! forks, so no other thread can hold those locks at the fork, and the child's handler can take
//! them safely.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use snowdrift::IdGenerator;
use snowdrift_coordination::{MachineChoice, NodeConfig};

use crate::args::{datacenter_message, int_in_range, machine_message};
use crate::block::PyIdBlock;
use crate::errors::{coord_error, core_error, error};
use crate::generator::{block_list, issue_block, issue_one};
use crate::layout::PyLayout;
use crate::session::{Session, Settings};

/// Every claim alive in this process, for the fork and exit handlers.
static CLAIMS: Mutex<Vec<Weak<ClaimCore>>> = Mutex::new(Vec::new());

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are updated in single steps; a panic cannot leave them torn.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The state of one claim, shared by the Python object and the registry.
struct ClaimCore {
    /// The generator IDs come from; fenced when the claim is closed or was inherited.
    hot: ArcSwap<IdGenerator>,
    settings: Settings,
    state: Mutex<ClaimState>,
}

struct ClaimState {
    /// The slot held, if any in this process.
    session: Option<Session>,
    closed: bool,
}

fn closed_error() -> PyErr {
    error(
        "this claim was closed; call snowdrift.claim() again for a new slot",
        "closed",
    )
}

impl ClaimCore {
    /// The generator to issue from after the current one refused as fenced: the session's, or
    /// a new session's in a forked child. Raises if the claim was closed.
    fn refresh(&self, py: Python<'_>) -> PyResult<Arc<IdGenerator>> {
        {
            let state = lock(&self.state);
            if state.closed {
                return Err(closed_error());
            }
            if let Some(session) = state.session.as_ref().filter(|s| s.belongs_here()) {
                return self.adopt(session);
            }
        }
        // A forked child: claim a slot of its own. Its parent holds the one asked for, so a
        // fixed machine becomes the lowest free one.
        let fresh = py
            .detach(|| Session::start(&self.settings, MachineChoice::Auto))
            .map_err(coord_error)?;
        let mut state = lock(&self.state);
        if state.closed {
            drop(state);
            py.detach(move || drop(fresh));
            return Err(closed_error());
        }
        if let Some(session) = state.session.as_ref().filter(|s| s.belongs_here()) {
            // Another thread of this process claimed first: keep its slot, give ours back.
            let generator = self.adopt(session);
            drop(state);
            py.detach(move || drop(fresh));
            return generator;
        }
        let generator = self.adopt(&fresh);
        // Replacing an inherited session leaks it (it belongs to the parent).
        state.session = Some(fresh);
        generator
    }

    /// Makes the session's generator the hot one.
    fn adopt(&self, session: &Session) -> PyResult<Arc<IdGenerator>> {
        let generator = session.generator().ok_or_else(closed_error)?;
        if generator.is_fenced() {
            return Err(core_error(snowdrift::Error::Fenced));
        }
        self.hot.store(Arc::clone(&generator));
        Ok(generator)
    }

    /// The generator to use now, claiming first in a forked child.
    fn current(&self, py: Python<'_>) -> PyResult<Arc<IdGenerator>> {
        let hot = self.hot.load_full();
        if hot.is_fenced() {
            self.refresh(py)
        } else {
            Ok(hot)
        }
    }

    /// In a forked child: stop the inherited generator, forget the inherited session, and close
    /// the inherited descriptor of the parent's slot lock (see [`crate::inherited`]).
    fn after_fork_in_child(&self) {
        let hot = self.hot.load_full();
        hot.fence();
        let inherited = lock(&self.state).session.take();
        if inherited.is_some() {
            let path = snowdrift_coordination::local::slot_lock_path(
                &self.settings.data_dir,
                hot.datacenter_id(),
                hot.machine_id(),
            );
            crate::inherited::close_descriptors_of(&path);
        }
        drop(inherited); // leaked by `Session::drop`: it belongs to the parent
    }

    /// Stops issuing and releases the slot.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let session = {
            let mut state = lock(&self.state);
            state.closed = true;
            self.hot.load().fence();
            state.session.take()
        };
        match session {
            Some(session) if session.belongs_here() => {
                py.detach(move || session.shutdown()).map_err(coord_error)
            }
            _ => Ok(()),
        }
    }
}

/// A generator that holds its own slot in a state directory; made by `snowdrift.claim()`.
///
/// It has `IDGenerator`'s methods. The slot is released by `close()`, at the end of a `with`
/// block, or at interpreter exit. In a child made by `fork()` the first ID claims the child's
/// own slot (the lowest free one of the datacenter), so `machine_id` differs from the parent's.
#[pyclass(frozen, weakref, module = "snowdrift", name = "ClaimedGenerator")]
pub struct PyClaimedGenerator {
    core: Arc<ClaimCore>,
}

#[pymethods]
impl PyClaimedGenerator {
    /// The next ID. Waits (without the GIL) when this millisecond's sequence is used up.
    fn generate_id(&self, py: Python<'_>) -> PyResult<u64> {
        let hot = self.core.hot.load();
        match issue_one(py, &hot) {
            Err(snowdrift::Error::Fenced) => {
                drop(hot);
                let generator = self.core.refresh(py)?;
                issue_one(py, &generator).map_err(core_error)
            }
            other => other.map_err(core_error),
        }
    }

    /// `count` consecutive IDs from one atomic reservation, as a list of `int`.
    fn next_ids<'py>(
        &self,
        py: Python<'py>,
        count: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let generator = self.core.current(py)?;
        block_list(py, issue_block(py, &generator, count)?)
    }

    /// `count` consecutive IDs as an `IDBlock`, which makes no Python objects until iterated.
    fn next_block(&self, py: Python<'_>, count: &Bound<'_, PyAny>) -> PyResult<PyIdBlock> {
        let generator = self.core.current(py)?;
        Ok(PyIdBlock::new(issue_block(py, &generator, count)?))
    }

    /// Stops issuing and releases the slot; later calls raise `snowdrift.Error`.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.core.close(py)
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        lock(&self.core.state).closed
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<bool> {
        self.core.close(py)?;
        Ok(false)
    }

    /// The datacenter field of the slot.
    #[getter]
    fn datacenter_id(&self) -> u64 {
        self.core.settings.datacenter
    }
    /// The machine field of the slot this process holds (a forked child claims its own first).
    #[getter]
    fn machine_id(&self, py: Python<'_>) -> PyResult<u64> {
        Ok(self.core.current(py)?.machine_id())
    }
    /// The custom epoch, in Unix milliseconds.
    #[getter]
    fn epoch(&self) -> u64 {
        self.core.settings.config.layout.epoch_ms()
    }
    /// The layout pinned in the state directory.
    #[getter]
    fn layout(&self) -> PyLayout {
        PyLayout::new(self.core.settings.config.layout)
    }
    /// The state directory.
    #[getter]
    fn data_dir(&self) -> PathBuf {
        self.core.settings.data_dir.clone()
    }

    /// The slot's state: the window (`floor_tick`, `ceiling_tick`, `high_water_tick`), the
    /// clock, readiness and where the slot's files are.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        self.core.current(py)?;
        let status = {
            let state = lock(&self.core.state);
            state.session.as_ref().and_then(Session::status)
        };
        let status = status.ok_or_else(closed_error)?;
        let dict = PyDict::new(py);
        dict.set_item("datacenter_id", status.datacenter)?;
        dict.set_item("machine_id", status.machine)?;
        dict.set_item("slot_location", status.slot_location)?;
        dict.set_item("floor_tick", status.floor_tick)?;
        dict.set_item("ceiling_tick", status.ceiling_tick)?;
        dict.set_item("high_water_tick", status.high_water_tick)?;
        dict.set_item("clock_tick", status.clock_tick)?;
        dict.set_item("next_tick", status.next_tick)?;
        dict.set_item("ready", status.ready)?;
        dict.set_item("persist_failures", status.persist_failures)?;
        dict.set_item("last_error", status.last_error)?;
        dict.set_item("pid", std::process::id())?;
        Ok(dict)
    }

    fn __repr__(&self) -> String {
        let state = lock(&self.core.state);
        let machine = match state.session.as_ref().filter(|s| s.belongs_here()) {
            Some(_) => self.core.hot.load().machine_id().to_string(),
            None if state.closed => "closed".to_string(),
            None => "unclaimed in this process".to_string(),
        };
        format!(
            "ClaimedGenerator(data_dir={:?}, datacenter_id={}, machine_id={})",
            self.core.settings.data_dir.display().to_string(),
            self.core.settings.datacenter,
            machine
        )
    }
}

/// Reads `machine_id`: `"auto"` or an integer in the layout's range.
fn machine_choice(value: &Bound<'_, PyAny>, max: u64) -> PyResult<MachineChoice> {
    if let Ok(text) = value.cast::<PyString>() {
        let text = text.to_cow()?;
        if text.trim().eq_ignore_ascii_case("auto") {
            return Ok(MachineChoice::Auto);
        }
        return Err(PyValueError::new_err(format!(
            "machine_id must be an integer or \"auto\", got {text:?}"
        )));
    }
    int_in_range(value, max, || machine_message(max)).map(MachineChoice::Fixed)
}

/// Seconds as a `Duration`, refusing negatives, NaN and infinities.
fn seconds(value: f64, what: &str) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| PyValueError::new_err(format!("{what} must be a number of seconds ≥ 0")))
}

/// Claims a slot in the state directory `data_dir` and returns a generator that holds it.
///
/// `machine_id="auto"` takes the lowest free machine of `datacenter_id`; a number takes that
/// one or fails if it is held. The state directory is the one `snowdrift serve --data-dir`
/// uses: its layout is pinned on first use and must match. The high-water mark is persisted
/// `window` seconds ahead of the clock; a restart waits up to `startup_max_wait` seconds for a
/// clock that is behind the mark (after a crash, or with the clock set back), or raises
/// `ClockBehind`, and never repeats an ID.
#[pyfunction]
#[pyo3(
    signature = (data_dir, datacenter_id=None, machine_id=None, *, layout=None, window=2.0, startup_max_wait=5.0),
    text_signature = "(data_dir, datacenter_id=0, machine_id='auto', *, layout=None, window=2.0, startup_max_wait=5.0)"
)]
pub fn claim(
    py: Python<'_>,
    data_dir: PathBuf,
    datacenter_id: Option<&Bound<'_, PyAny>>,
    machine_id: Option<&Bound<'_, PyAny>>,
    layout: Option<PyLayout>,
    window: f64,
    startup_max_wait: f64,
) -> PyResult<PyClaimedGenerator> {
    let layout = PyLayout::resolve(layout, None)?;
    let datacenter = match datacenter_id {
        Some(value) => int_in_range(value, layout.max_datacenter(), || {
            datacenter_message(layout.max_datacenter())
        })?,
        None => 0,
    };
    let machine = match machine_id {
        Some(value) => machine_choice(value, layout.max_machine())?,
        None => MachineChoice::Auto,
    };
    let mut config = NodeConfig::new(layout);
    config.window.window = seconds(window, "window")?;
    config.window.startup_max_wait = seconds(startup_max_wait, "startup_max_wait")?;
    let settings = Settings {
        data_dir,
        datacenter,
        config,
    };
    let session = py
        .detach(|| Session::start(&settings, machine))
        .map_err(coord_error)?;
    let generator = session.generator().ok_or_else(closed_error)?;
    let core = Arc::new(ClaimCore {
        hot: ArcSwap::new(generator),
        settings,
        state: Mutex::new(ClaimState {
            session: Some(session),
            closed: false,
        }),
    });
    let mut claims = lock(&CLAIMS);
    claims.retain(|weak| weak.strong_count() > 0);
    claims.push(Arc::downgrade(&core));
    Ok(PyClaimedGenerator { core })
}

/// Every live claim, upgraded; the registry lock is released before they are used.
fn live_claims() -> Vec<Arc<ClaimCore>> {
    lock(&CLAIMS).iter().filter_map(Weak::upgrade).collect()
}

/// Registered with `os.register_at_fork(after_in_child=...)`: restarts the clock's ticker and
/// makes every inherited claim claim a slot of its own before its next ID.
#[pyfunction]
pub fn _after_fork_in_child() {
    snowdrift::clock::SystemClock::restart_after_fork();
    for claim in live_claims() {
        claim.after_fork_in_child();
    }
}

/// Registered with `atexit`: releases every slot still held by this process.
#[pyfunction]
pub fn _close_all(py: Python<'_>) {
    for claim in live_claims() {
        // At exit there is no one to tell; the slot's persisted mark covers every ID anyway.
        let _ = claim.close(py);
    }
}
