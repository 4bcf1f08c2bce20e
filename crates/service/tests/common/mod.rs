//! Test harness: runs the real `snowdrift` binary and talks to it over loopback HTTP.
//!
//! Every server starts on `--http 127.0.0.1:0` with its own temporary state directory; the
//! harness reads the actual port from the `listening http=…` line on the child's stdout. Both
//! output streams are drained by threads (so a chatty child never blocks on a full pipe) and
//! kept for assertions. Every wait is bounded, and a [`Server`] kills its child when dropped,
//! so a failing test leaves no process behind.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a server may take to print its `listening` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_snowdrift")
}

/// A `snowdrift` command with a clean environment: no `SNOWDRIFT_*` from the caller, quiet
/// logs unless the test asks.
pub fn command() -> Command {
    let mut cmd = Command::new(bin());
    for (key, _) in std::env::vars() {
        if key.starts_with("SNOWDRIFT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

/// The outcome of a command that ran to completion.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    pub fn code(&self) -> i32 {
        self.status.code().unwrap_or(-1)
    }
}

/// Runs `cmd` to completion, killing it after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Finished {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn snowdrift");
    let (stdout, stdout_done) = drain(child.stdout.take().unwrap(), None);
    let (stderr, stderr_done) = drain(child.stderr.take().unwrap(), None);
    let status = wait_timeout(&mut child, timeout).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "command did not finish in {timeout:?}; stderr so far: {}",
            stderr.lock().unwrap()
        )
    });
    // The pipes close when the child exits, so the readers end: wait for them to read the
    // tail (a fixed pause lost the tail on a busy machine).
    let _ = (stdout_done.join(), stderr_done.join());
    let out = stdout.lock().unwrap().clone();
    let err = stderr.lock().unwrap().clone();
    Finished {
        status,
        stdout: out,
        stderr: err,
    }
}

/// Runs `snowdrift ARGS…` to completion (bounded to 60 s).
pub fn run(args: &[&str]) -> Finished {
    let mut cmd = command();
    cmd.args(args);
    run_with_timeout(cmd, Duration::from_secs(60))
}

/// Polls `child` until it exits or `timeout` passes.
pub fn wait_timeout(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads `stream` to its end on a thread, into a shared string; each line also goes to `lines`.
fn drain(
    stream: impl Read + Send + 'static,
    lines: Option<mpsc::Sender<String>>,
) -> (Arc<Mutex<String>>, std::thread::JoinHandle<()>) {
    let text = Arc::new(Mutex::new(String::new()));
    let sink = Arc::clone(&text);
    let reader = std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            sink.lock().unwrap().push_str(&line);
            if let Some(lines) = &lines {
                let _ = lines.send(line.trim_end().to_string());
            }
            line.clear();
        }
    });
    (text, reader)
}

/// A running `snowdrift serve`.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    _temp: Option<tempfile::TempDir>,
}

/// How to start a server.
pub struct ServerBuilder {
    cmd: Command,
    data_dir: PathBuf,
    temp: Option<tempfile::TempDir>,
}

impl ServerBuilder {
    /// A server on its own fresh state directory.
    pub fn new() -> ServerBuilder {
        let temp = tempfile::tempdir().unwrap();
        let data_dir = temp.path().join("state");
        let mut builder = ServerBuilder::on(&data_dir);
        builder.temp = Some(temp);
        builder
    }

    /// A server on the given state directory (shared with other servers of the test).
    pub fn on(data_dir: &Path) -> ServerBuilder {
        let mut cmd = command();
        cmd.arg("serve")
            .arg("--http")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(data_dir);
        ServerBuilder {
            cmd,
            data_dir: data_dir.to_path_buf(),
            temp: None,
        }
    }

    pub fn arg(mut self, arg: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// Starts it and waits for the `listening` line; panics with the child's stderr if it
    /// exits or stays silent instead.
    pub fn start(self) -> Server {
        match self.try_start() {
            Ok(server) => server,
            Err(failed) => panic!(
                "server did not start (exit {:?}); stderr:\n{}",
                failed.status.code(),
                failed.stderr
            ),
        }
    }

    /// Starts it; on failure returns how the child exited and what it said.
    pub fn try_start(mut self) -> Result<Server, Finished> {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.cmd.spawn().expect("spawn snowdrift serve");
        let (lines_tx, lines) = mpsc::channel();
        let (stdout, _) = drain(child.stdout.take().unwrap(), Some(lines_tx));
        let (stderr, _) = drain(child.stderr.take().unwrap(), None);
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    if let Some(addr) = parse_listening(&line) {
                        return Ok(Server {
                            child: Some(child),
                            addr,
                            data_dir: self.data_dir,
                            stdout,
                            stderr,
                            _temp: self.temp,
                        });
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {}
            }
            if let Ok(Some(status)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(50));
                let err = stderr.lock().unwrap().clone();
                let out = stdout.lock().unwrap().clone();
                return Err(Finished {
                    status,
                    stdout: out,
                    stderr: err,
                });
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let status = child.wait().unwrap();
                let err = stderr.lock().unwrap().clone();
                return Err(Finished {
                    status,
                    stdout: String::new(),
                    stderr: format!("(no listening line within {START_TIMEOUT:?})\n{err}"),
                });
            }
        }
    }
}

/// `listening http=127.0.0.1:PORT …` → the HTTP address.
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    let rest = line.strip_prefix("listening ")?;
    rest.split_whitespace()
        .find_map(|part| part.strip_prefix("http="))
        .and_then(|addr| addr.parse().ok())
}

impl Server {
    /// A server with default settings on a fresh state directory.
    pub fn start() -> Server {
        ServerBuilder::new().start()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits (bounded) until stderr contains `needle` — the drain thread may lag the child —
    /// and returns all of stderr.
    pub fn wait_for_stderr(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let text = self.stderr();
            if text.contains(needle) || Instant::now() >= deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (e.g. "TERM", "KILL") to the child.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits (bounded) for the child to exit and returns its status.
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let child = self.child.as_mut().expect("child already reaped");
        let status = wait_timeout(child, timeout).unwrap_or_else(|| {
            let _ = child.kill();
            panic!("server did not exit within {timeout:?}")
        });
        self.child = None;
        std::thread::sleep(Duration::from_millis(50));
        status
    }

    /// kill -9, and reap.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A blocking HTTP client with a bound on every request.
pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(15))
        .no_proxy()
        .build()
        .unwrap()
}

/// GET `url` → (status, headers, body).
pub fn get(url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = client().get(url).send().expect("request");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().unwrap();
    (status, headers, body)
}

/// GET `url` and parse the body as one of the wire contract's shapes
/// (`snowdrift_wire::json`).
pub fn get_as<T: serde::de::DeserializeOwned>(url: &str) -> (u16, T) {
    let (status, _, body) = get(url);
    let parsed = serde_json::from_str(&body).unwrap_or_else(|err| {
        panic!(
            "body of {url} is not a {} ({err}): {body}",
            std::any::type_name::<T>()
        )
    });
    (status, parsed)
}

/// GET `url` and parse the body as JSON.
pub fn get_json(url: &str) -> (u16, serde_json::Value) {
    let (status, _, body) = get(url);
    let json = serde_json::from_str(&body)
        .unwrap_or_else(|err| panic!("body of {url} is not JSON ({err}): {body}"));
    (status, json)
}

/// Where Debian's faketime package puts the multi-threaded preload library, for tests that
/// shift one server's wall clock (`LD_PRELOAD` + `FAKETIME`, so the test holds the server's
/// own pid).
pub fn libfaketime() -> PathBuf {
    [
        "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/aarch64-linux-gnu/faketime/libfaketimeMT.so.1",
        "/usr/lib/faketime/libfaketimeMT.so.1",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|path| path.exists())
    .expect("libfaketime is missing: apt-get install faketime (scripts/test installs it)")
}
