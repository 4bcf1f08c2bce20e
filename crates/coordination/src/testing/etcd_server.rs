//! A real etcd (Debian's `etcd-server` package provides the `etcd` binary) started for one
//! test: ephemeral loopback ports, a temporary data directory, a health wait, and a kill on
//! drop. It can be paused (SIGSTOP), killed, and started again on the same ports and data,
//! which is how the tests take etcd away from running nodes; or killed, its data directory
//! deleted and started again with the same flags, which is how they make it lose its data;
//! or backed up (a copy of its data directory) and later restored from that copy.
//!
//! [`EtcdServer::start_secure`] starts one the way a production etcd is run: clients over TLS
//! with certificates made for the test ([`TestCa`]), optionally requiring a client
//! certificate (`--client-cert-auth`), and optionally with authentication enabled for a user
//! that may read and write every key. Its health is then probed on a plaintext metrics port,
//! since the client port speaks only TLS.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::certs::{CertFiles, TestCa};

/// How long etcd may take to become healthy.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How [`EtcdServer::start_secure`] guards etcd.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EtcdSecurity {
    /// Also require a client certificate signed by the test CA (`--client-cert-auth`).
    pub client_cert_auth: bool,
    /// Enable authentication, with this user and password allowed to read and write every
    /// key (a `root` user with another password is made too, as etcd requires).
    pub user: Option<(String, String)>,
}

/// The TLS files of a secure etcd.
#[derive(Debug)]
struct Secure {
    ca: PathBuf,
    server: CertFiles,
    client: CertFiles,
    client_cert_auth: bool,
    metrics_port: u16,
}

/// A running (or stopped) etcd owned by a test.
#[derive(Debug)]
pub struct EtcdServer {
    dir: tempfile::TempDir,
    client_port: u16,
    peer_port: u16,
    child: Option<Child>,
    secure: Option<Secure>,
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
                secure: None,
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

    /// Starts etcd with TLS on its client port (certificates from a CA made for it) and, as
    /// `security` says, client-certificate checks and authentication. Waits until it is healthy
    /// and, with a user, until authentication is on.
    pub async fn start_secure(security: EtcdSecurity) -> std::io::Result<EtcdServer> {
        let dir = tempfile::tempdir()?;
        let ca = TestCa::new(dir.path(), "etcd")?;
        let mut server = EtcdServer {
            client_port: free_port()?,
            peer_port: free_port()?,
            child: None,
            secure: Some(Secure {
                ca: ca.cert().to_path_buf(),
                server: ca.server("etcd-server")?,
                client: ca.client("etcd-client")?,
                client_cert_auth: security.client_cert_auth,
                metrics_port: free_port()?,
            }),
            dir,
        };
        server.start_again().await?;
        if let Some((user, password)) = &security.user {
            server.enable_auth(user, password).await?;
        }
        Ok(server)
    }

    /// The client URL, `http://127.0.0.1:<port>` (`https://` when started secure).
    pub fn endpoint(&self) -> String {
        let scheme = if self.secure.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.client_port)
    }

    /// With TLS: the CA that signed etcd's certificate and the client certificate.
    pub fn ca_file(&self) -> Option<&std::path::Path> {
        self.secure.as_ref().map(|secure| secure.ca.as_path())
    }

    /// With TLS: a client certificate and key etcd accepts (signed by [`Self::ca_file`]).
    pub fn client_cert(&self) -> Option<&CertFiles> {
        self.secure.as_ref().map(|secure| &secure.client)
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
        let client = self.endpoint();
        let peer = format!("http://127.0.0.1:{}", self.peer_port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("etcd.log"))?;
        let mut command = Command::new("etcd");
        if let Some(secure) = &self.secure {
            command
                .arg(format!("--cert-file={}", secure.server.cert.display()))
                .arg(format!("--key-file={}", secure.server.key.display()))
                .arg(format!("--trusted-ca-file={}", secure.ca.display()))
                .arg(format!(
                    "--listen-metrics-urls=http://127.0.0.1:{}",
                    secure.metrics_port
                ));
            if secure.client_cert_auth {
                command.arg("--client-cert-auth");
            }
        }
        let child = command
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
            let probe = match &self.secure {
                Some(secure) => SocketAddr::from((Ipv4Addr::LOCALHOST, secure.metrics_port)),
                None => self.client_addr(),
            };
            if healthy(probe).await {
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

impl EtcdServer {
    /// Adds `user` (read and write on every key) and `root`, then enables authentication.
    async fn enable_auth(&self, user: &str, password: &str) -> std::io::Result<()> {
        use etcd_client::{Certificate, ConnectOptions, Identity, Permission, TlsOptions};
        let fail = |step: &str, e: etcd_client::Error| {
            std::io::Error::other(format!("enabling etcd auth: {step}: {e}"))
        };
        let mut options = ConnectOptions::new().with_connect_timeout(START_TIMEOUT);
        if let Some(secure) = &self.secure {
            let mut tls =
                TlsOptions::new().ca_certificate(Certificate::from_pem(std::fs::read(&secure.ca)?));
            if secure.client_cert_auth {
                tls = tls.identity(Identity::from_pem(
                    std::fs::read(&secure.client.cert)?,
                    std::fs::read(&secure.client.key)?,
                ));
            }
            options = options.with_tls(tls);
        }
        let mut client = etcd_client::Client::connect([self.endpoint()], Some(options))
            .await
            .map_err(|e| fail("connect", e))?;
        client
            .role_add("snowdrift")
            .await
            .map_err(|e| fail("role add", e))?;
        client
            .role_grant_permission("snowdrift", Permission::read_write("").with_all_keys())
            .await
            .map_err(|e| fail("grant", e))?;
        client
            .user_add(user, password, None)
            .await
            .map_err(|e| fail("user add", e))?;
        client
            .user_grant_role(user, "snowdrift")
            .await
            .map_err(|e| fail("user grant", e))?;
        client
            .user_add("root", format!("{password}-root"), None)
            .await
            .map_err(|e| fail("root add", e))?;
        client
            .user_grant_role("root", "root")
            .await
            .map_err(|e| fail("root grant", e))?;
        client
            .auth_enable()
            .await
            .map_err(|e| fail("auth enable", e))?;
        Ok(())
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
