//! `snowdrift serve`: settings → listeners bound → slot claimed → serving → graceful stop.
//!
//! The order matters:
//! 1. settings are merged and checked (exit 2 on a bad one) before anything else happens;
//! 2. sockets are bound before the slot is claimed, so a busy port changes no state;
//! 3. the node claims its slot and persists its first window; it is ready when it returns;
//! 4. the `listening …` line is printed on stdout only then, so whoever waits for it (a script,
//!    a test) can send requests at once; the log has the addresses as a field of its start-up
//!    record rather than a copy of the line, which a terminal would show twice;
//! 5. on SIGTERM or SIGINT the listeners stop accepting and drain, within the listeners'
//!    drain deadline (connections still open then are closed), and only then is the node
//!    shut down (window keeper stopped, slot released); the exit code is 0.

use std::io::Write;

use snowdrift_coordination::{Backend, CoordError, MarkAtStop, Node, Stopped};
use tokio::task::JoinSet;

use super::Failure;
use crate::app::App;
use crate::cli::ServeArgs;
use crate::config::{self, print, ServeConfig};
use crate::listeners::{self, Guard, Limits, Protocol};
use crate::shutdown;

/// Runs `snowdrift serve`.
pub fn run(args: &ServeArgs) -> Result<(), Failure> {
    let vars = std::env::vars_os().map(|(name, value)| {
        (
            name.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
        )
    });
    let loaded = config::load(args, vars)?;
    if args.print_config {
        return super::write_stdout(|out| write!(out, "{}", print::to_toml(&loaded)));
    }
    let guard = crate::security::load(&loaded)?;
    let config = loaded.config;
    let planned = listeners::plan(&config);
    crate::logging::init(config.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("snowdrift-worker")
        .build()
        .map_err(|err| Failure::Runtime(format!("cannot start the async runtime: {err}")))?;
    runtime.block_on(serve(config, planned, guard))
}

async fn serve(
    config: ServeConfig,
    planned: Vec<listeners::Planned>,
    guard: Guard,
) -> Result<(), Failure> {
    // Before anything else, so no SIGTERM from here on is lost (see `OsSignals`).
    let mut signals = shutdown::OsSignals::install();
    let metrics = crate::metrics::install();
    tokio::spawn(crate::metrics::upkeep(metrics.clone()));
    // First, so a SIGHUP during the start-up wait reloads rather than kills.
    tokio::spawn(crate::security::reload_on_sighup(guard.clone()));

    let bound = listeners::bind(&planned)
        .await
        .map_err(|err| Failure::Runtime(err.to_string()))?;

    let node_config =
        config.node_config(bound.iter().map(listeners::Listener::advertised).collect());
    let backend = config.backend();
    let cluster = match &backend {
        Backend::Etcd(options) => Some(options.clone()),
        _ => None,
    };

    // Start-up may wait for a clock behind the persisted mark; a signal meanwhile ends it.
    let node = tokio::select! {
        started = Node::start(backend, node_config) => started.map_err(start_failure)?,
        signal = signals.next() => {
            tracing::info!(signal, "stopped during start-up");
            return Ok(());
        }
    };
    log_started(&node, &config, &listening_line(&bound), &guard);

    let app = App::with_cluster(
        node,
        config.layout.name(),
        config.max_batch,
        config.window_config().max_wait,
        cluster,
    );
    let (trigger, _) = shutdown::channel();
    let limits = Limits {
        handshake_timeout: config.tls_handshake_timeout,
        ..Limits::default()
    };
    let mut tasks = JoinSet::new();
    let mut running = Vec::new();
    let mut open = Vec::new();
    for listener in bound {
        let serving = listener.spawn(
            app.clone(),
            metrics.clone(),
            limits,
            guard.clone(),
            trigger.subscribe(),
        );
        running.push((serving.protocol, serving.local_addr));
        open.push(serving.connections);
        let (protocol, task) = (serving.protocol, serving.task);
        tasks.spawn(async move { (protocol, task.await) });
    }
    announce(&running);

    let outcome = tokio::select! {
        signal = signals.next() => {
            tracing::info!(signal, "shutting down: no new connections, finishing requests in flight");
            Ok(())
        }
        Some(ended) = tasks.join_next() => Err(listener_ended(ended)),
    };
    trigger.trigger();
    listeners::drain(&mut tasks, &open, limits.drain).await;

    match app.shutdown().await {
        Ok(stopped) => log_stopped(&stopped),
        Err(err) => {
            tracing::error!(error = %err, "shutting the node down failed");
            return Err(Failure::Runtime(format!("shutdown: {err}")));
        }
    }
    outcome
}

/// The last line of a clean stop: what became of the slot and its mark, as it happened.
fn log_stopped(stopped: &Stopped) {
    match stopped {
        Stopped::Released(MarkAtStop::Lowered(tick)) => tracing::info!(
            high_water_tick = tick,
            "stopped: mark lowered to the last tick issued and persisted, slot released"
        ),
        Stopped::Released(MarkAtStop::Kept) => {
            tracing::info!("stopped: the persisted mark covers every ID issued, slot released")
        }
        Stopped::Released(MarkAtStop::NotLowered(reason)) => tracing::warn!(
            error = %reason,
            "stopped: slot released, but the mark could not be lowered: it stays a window \
             ahead, and the next holder waits until the clock passes it"
        ),
        Stopped::NoSlot => {
            tracing::warn!("stopped: no slot was held (the node was claiming one again)")
        }
    }
}

/// `http=127.0.0.1:8080 grpc=…`: every listener and its bound address.
fn addresses<'a>(
    listeners: impl IntoIterator<Item = (Protocol, &'a std::net::SocketAddr)>,
) -> String {
    listeners
        .into_iter()
        .map(|(protocol, addr)| format!("{protocol}={addr}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The bound listeners' addresses, for the start-up record.
fn listening_line(bound: &[listeners::Listener]) -> String {
    addresses(
        bound
            .iter()
            .map(|listener| (listener.protocol, &listener.local_addr)),
    )
}

/// Prints the `listening` line on stdout, for scripts and tests. The log already has the
/// addresses (the `listen` field of the start-up record): logging the line again would show it
/// twice on a terminal.
fn announce(running: &[(Protocol, std::net::SocketAddr)]) {
    let line = addresses(running.iter().map(|(protocol, addr)| (*protocol, addr)));
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    // If stdout is closed nobody is waiting for the line; the log has the addresses.
    let _ = writeln!(out, "listening {line}").and_then(|()| out.flush());
}

/// The start-up record: layout, slot, window, the layout's end date, the listeners, and which
/// of them speak TLS and whether tokens are needed (never the files' contents).
fn log_started(node: &Node, config: &ServeConfig, listen: &str, guard: &Guard) {
    let tls: Vec<&str> = listeners::plan(config)
        .iter()
        .filter(|planned| planned.tls)
        .map(|planned| planned.protocol.name())
        .collect();
    let tls = if tls.is_empty() {
        "off".to_string()
    } else {
        tls.join(",")
    };
    let mutual = config.tls_client_ca.is_some();
    let auth = match (guard.auth.enabled(), guard.auth.guards_probes()) {
        (false, _) => "off",
        (true, false) => "tokens (probes open)",
        (true, true) => "tokens (probes too)",
    };
    let status = node.status();
    let layout = node.layout();
    let window_end = status
        .ceiling_tick
        .map(|tick| crate::describe::rfc3339_ms(layout.unix_ms_of_tick(tick)))
        .unwrap_or_else(|| "closed".to_string());
    tracing::info!(
        layout = %format!("{} ({layout})", config.layout.name()),
        slot = %format!("datacenter {} machine {}", status.datacenter, status.machine),
        slot_location = %status.slot_location,
        floor_tick = status.floor_tick,
        window_until = %window_end,
        window = %humantime::format_duration(config.window),
        layout_ends = %crate::describe::rfc3339_ms(layout.end_unix_ms()),
        listen,
        tls = %tls,
        mutual_tls = mutual,
        auth,
        "snowdrift started"
    );
}

/// A failed start: bad settings exit 2, everything else 1, always one line.
fn start_failure(err: CoordError) -> Failure {
    let message = format!("cannot start: {err}");
    match err {
        CoordError::Config(_) | CoordError::Setting { .. } | CoordError::Generator(_) => {
            Failure::Usage(message)
        }
        _ => Failure::Runtime(message),
    }
}

/// Describes a listener that stopped while it should have been serving.
fn listener_ended(ended: Result<listeners::Ended, tokio::task::JoinError>) -> Failure {
    let message = match ended {
        Ok((protocol, Ok(Ok(())))) => format!("the {protocol} listener stopped unexpectedly"),
        Ok((protocol, Ok(Err(err)))) => format!("the {protocol} listener failed: {err}"),
        Ok((protocol, Err(err))) => format!("the {protocol} listener crashed: {err}"),
        Err(err) => format!("a listener crashed: {err}"),
    };
    tracing::error!("{message}; shutting down");
    Failure::Runtime(message)
}
