//! A real etcd (Debian's `etcd-server` package provides the `etcd` binary) started for one
//! test: ephemeral loopback ports, a temporary data directory, a health wait, and a kill on
//! drop. It can be paused (SIGSTOP), killed, and started again on the same ports and data,
//! which is how the tests take etcd away from running nodes; or killed, its data directory
//! deleted and started again with the same flags, which is how they make it lose its data;
//! or backed up (a copy of its data directory) and later restored from that copy.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long etcd may take to become healthy.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A running (or stopped) etcd owned by a test.
#[derive(Debug)]
pub struct EtcdServer {
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
}

impl EtcdServer {
    /// Starts etcd on free loopback ports with a fresh data directory and waits until it is
    /// healthy. Ports are found by binding port 0 first; if etcd loses the race for one, it
    /// is started again on new ports.
    pub async fn start() -> std::io::Result<EtcdServer> {
        let mut dir = tempfile::tempdir()?;
        let mut last_error = None;
        for _ in 0..3 {
            let (client_port, peer_port) = (free_port()?, free_port()?);
            let mut server = EtcdServer {
                dir,
                client_port,
                peer_port,
                child: None,
            };
            match server.start_again().await {
                Ok(()) => return Ok(server),
                Err(e) => {
                    last_error = Some(e);
                    server.kill();
                    dir = tempfile::tempdir()?;
                }
            }
        }
        Err(last_error.unwrap_or_else(|| std::io::Error::other("etcd did not start")))
    }

    /// The client URL, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// The client address.
    pub fn client_addr(&self) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::LOCALHOST, self.client_port))
    }

    /// The process ID while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The data directory (kept across restarts, removed on drop).
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Starts etcd again (after [`EtcdServer::kill`]) on the same ports and data, and waits
    /// until it is healthy.
    pub async fn start_again(&mut self) -> std::io::Result<()> {
        if self.child.is_some() {
            return Ok(());
        }
        let client = format!("http://127.0.0.1:{}", self.client_port);
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("etcd.log"))?;
        let child = Command::new("etcd")
            .arg("--name=snowdrift-test")
            .arg(format!("--data-dir={}", self.data_dir().display()))
            .arg(format!("--listen-client-urls={client}"))
            .arg(format!("--advertise-client-urls={client}"))
            .arg(format!("--listen-peer-urls={peer}"))
            .arg(format!("--initial-advertise-peer-urls={peer}"))
            .arg(format!("--initial-cluster=snowdrift-test={peer}"))
            .arg("--logger=zap")
            .arg("--log-outputs=stderr")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "cannot run `etcd` ({e}); install it with: apt-get install etcd-server"
                    ),
                )
            })?;
        self.child = Some(child);
        self.wait_healthy().await
    }

    /// Kills etcd (SIGKILL) and waits for it to exit; the data directory stays.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Makes etcd lose everything, as an SRE who wipes a broken member would: SIGKILL, delete
    /// the data directory, start again on the same ports with the same flags, and wait until it
    /// is healthy. A single member started with the same `--initial-cluster` keeps its cluster
    /// and member IDs; its revisions start again from 1.
    pub async fn wipe_and_restart(&mut self) -> std::io::Result<()> {
        self.kill();
        match std::fs::remove_dir_all(self.data_dir()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        self.start_again().await
    }

    /// Takes a backup as an operator with file-level backups would: stops etcd (SIGKILL, so
    /// nothing is flushed on the way out), copies its data directory, and starts it again.
    pub async fn backup(&mut self) -> std::io::Result<Backup> {
        self.kill();
        let copy = tempfile::tempdir()?;
        copy_dir(&self.data_dir(), &copy.path().join("data"))?;
        self.start_again().await?;
        Ok(Backup { dir: copy })
    }

    /// Restores `backup` while nodes run: SIGKILL, replace the data directory with the copy,
    /// start again with the same flags. Revisions, marks and leases go back to the backup's.
    pub async fn restore(&mut self, backup: &Backup) -> std::io::Result<()> {
        self.kill();
        match std::fs::remove_dir_all(self.data_dir()) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        copy_dir(&backup.dir.path().join("data"), &self.data_dir())?;
        self.start_again().await
    }

    /// Freezes etcd (SIGSTOP): connections stay open and nothing answers.
    pub fn pause(&self) -> std::io::Result<()> {
        self.signal("-STOP")
    }

    /// Thaws etcd after [`EtcdServer::pause`] (SIGCONT).
    pub fn resume(&self) -> std::io::Result<()> {
        self.signal("-CONT")
    }

    /// The tail of etcd's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        text.get(start..).unwrap_or_default().to_string()
    }

    fn signal(&self, signal: &str) -> std::io::Result<()> {
        let pid = self
            .pid()
            .ok_or_else(|| std::io::Error::other("etcd is not running"))?;
        let status = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill {signal} {pid} failed")))
        }
    }

    async fn wait_healthy(&mut self) -> std::io::Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    self.child = None;
                    return Err(std::io::Error::other(format!(
                        "etcd exited with {status} while starting:\n{}",
                        self.log_tail()
                    )));
                }
            }
            if healthy(self.client_addr()).await {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(std::io::Error::other(format!(
                    "etcd was not healthy within {START_TIMEOUT:?}:\n{}",
                    self.log_tail()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A copy of an etcd data directory, made by [`EtcdServer::backup`]; removed on drop.
#[derive(Debug)]
pub struct Backup {
    dir: tempfile::TempDir,
}

/// Copies a directory tree (files and directories only, as etcd's data directory holds).
fn copy_dir(from: &std::path::Path, to: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
        .local_addr()?
        .port())
}

/// `GET /health` answered with `"health":"true"`.
async fn healthy(addr: SocketAddr) -> bool {
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        std::io::Result::Ok(String::from_utf8_lossy(&answer).contains("\"health\":\"true\""))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(1), probe).await,
        Ok(Ok(true))
    )
}
