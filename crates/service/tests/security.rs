//! Security, end to end, against the real binary (issue 11): TLS on every listener with a CA
//! made for the test, tokens on HTTP, gRPC and RESP, mutual TLS, a certificate swapped on
//! disk and reloaded by SIGHUP while an old connection keeps working, a stalled handshake
//! dropped, refusals to start on bad files, a node on an etcd with TLS and auth, and no secret
//! in any output.
//!
//! The clients are the real tools where the issue names them (`curl`, `redis-cli`,
//! `snowdrift fetch`), and rustls's blocking client where a test must hold a connection open
//! across a reload. Every wait is bounded: curl and redis-cli run under `timeout`, servers are
//! killed on drop, and handshake and header timeouts are set to a second or so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{run_with_timeout, Server, ServerBuilder};
use snowdrift_coordination::testing::{CertFiles, EtcdSecurity, EtcdServer, TestCa};
use tokio_rustls::rustls;

const TOKEN_A: &str = "tok-aaaaaaaaaaaaaaaaaaaa-first";
const TOKEN_B: &str = "tok-bbbbbbbbbbbbbbbbbbbb-second";

/// A CA, a server certificate it signed, and a directory for everything else.
struct Pki {
    dir: tempfile::TempDir,
    ca: TestCa,
    server: CertFiles,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new(dir.path(), "node").unwrap();
        let server = ca.server("server").unwrap();
        Pki { dir, ca, server }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A token file holding `text`.
    fn tokens(&self, text: &str) -> PathBuf {
        let file = self.path("tokens");
        std::fs::write(&file, text).unwrap();
        file
    }

    /// A node with TLS on every listener it has, plus `extra` flags.
    fn node(&self, extra: &[&str]) -> ServerBuilder {
        ServerBuilder::new()
            .arg("--tls-cert")
            .arg(&self.server.cert)
            .arg("--tls-key")
            .arg(&self.server.key)
            .args(extra)
    }
}

/// The address of `protocol` from the server's `listening` line.
fn addr_of(server: &Server, protocol: &str) -> SocketAddr {
    let stdout = server.stdout();
    let line = stdout
        .lines()
        .find(|line| line.starts_with("listening "))
        .expect("a listening line");
    line.split_whitespace()
        .find_map(|part| part.strip_prefix(&format!("{protocol}=")))
        .unwrap_or_else(|| panic!("no {protocol} in {line:?}"))
        .parse()
        .unwrap()
}

/// Output of a tool run under a time limit.
struct Tool {
    code: i32,
    stdout: String,
    stderr: String,
}

fn tool(program: &str, args: &[&str]) -> Tool {
    let mut cmd = Command::new("timeout");
    cmd.arg("15").arg(program).args(args);
    let finished = run_with_timeout(cmd, Duration::from_secs(20));
    Tool {
        code: finished.code(),
        stdout: finished.stdout,
        stderr: finished.stderr,
    }
}

/// `curl URL` with `args`; stdout is the body, then a line with the status code.
fn curl(url: &str, args: &[&str]) -> Tool {
    let mut all = vec!["-sS", "--max-time", "10", "-w", "\n%{http_code}", "-D", "-"];
    all.extend_from_slice(args);
    all.push(url);
    tool("curl", &all)
}

/// The status code curl printed last.
fn status(out: &Tool) -> u16 {
    out.stdout
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(0)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A blocking TLS connection trusting only the CA at `ca`, as a client that stays connected.
fn tls_connect(
    addr: SocketAddr,
    ca: &Path,
) -> rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(ca).unwrap();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    rustls::StreamOwned::new(conn, sock)
}

use rustls::pki_types::pem::PemObject;

/// Sends a RESP command on `stream` and reads one reply line.
fn resp_line<S: Read + Write>(stream: &mut S, command: &[&str]) -> String {
    let mut frame = format!("*{}\r\n", command.len());
    for arg in command {
        frame.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(frame.as_bytes()).unwrap();
    stream.flush().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        let n = stream.read(&mut byte).unwrap();
        assert_eq!(n, 1, "connection closed after {line:?}");
        line.push(byte[0]);
    }
    String::from_utf8(line).unwrap().trim_end().to_string()
}

#[test]
fn https_with_a_test_ca_works_and_plaintext_to_a_tls_port_fails() {
    let pki = Pki::new();
    let node = pki
        .node(&[
            "--resp",
            "127.0.0.1:0",
            "--grpc",
            "127.0.0.1:0",
            "--plaintext",
            "resp",
        ])
        .start();
    let url = format!("https://localhost:{}/v1/id", node.addr.port());
    let ok = curl(&url, &["--cacert", s(pki.ca.cert())]);
    assert_eq!(status(&ok), 200, "{} {}", ok.stdout, ok.stderr);
    assert!(ok.stdout.contains("\"id\""), "{}", ok.stdout);

    // The same port in plaintext: no HTTP answer at all.
    let plain = curl(&format!("http://127.0.0.1:{}/v1/id", node.addr.port()), &[]);
    assert_ne!(status(&plain), 200, "{}", plain.stdout);
    assert_ne!(plain.code, 0, "plaintext to a TLS port must fail");

    // Not trusting the CA fails the handshake.
    let untrusted = curl(&url, &[]);
    assert_ne!(untrusted.code, 0);

    // gRPC speaks TLS too: `snowdrift fetch` over grpcs:// with the CA.
    let grpc = addr_of(&node, "grpc");
    let fetched = tool(
        common::bin(),
        &[
            "fetch",
            "--endpoint",
            &format!("grpcs://localhost:{}", grpc.port()),
            "--tls-ca",
            s(pki.ca.cert()),
            "-n",
            "3",
        ],
    );
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    assert_eq!(fetched.stdout.lines().count(), 3, "{}", fetched.stdout);
    // ...and without the CA the client refuses to start rather than trust anything.
    let no_ca = tool(
        common::bin(),
        &[
            "fetch",
            "--endpoint",
            &format!("grpcs://localhost:{}", grpc.port()),
        ],
    );
    assert_ne!(no_ca.code, 0);
    assert!(no_ca.stderr.contains("tls_ca_pem"), "{}", no_ca.stderr);

    // The RESP listener opted out: plaintext redis-cli works on it.
    let resp = addr_of(&node, "resp");
    let ping = tool(
        "redis-cli",
        &["-h", "127.0.0.1", "-p", &resp.port().to_string(), "PING"],
    );
    assert_eq!(ping.stdout.trim(), "PONG", "{}", ping.stderr);

    // The probes and /v1/info answer on the TLS port like every route.
    let healthz = curl(
        &format!("https://localhost:{}/healthz", node.addr.port()),
        &["--cacert", s(pki.ca.cert())],
    );
    assert_eq!(status(&healthz), 200, "{}", healthz.stdout);
}

#[test]
fn tokens_guard_http_and_either_of_two_rotated_tokens_works() {
    let pki = Pki::new();
    let tokens = pki.tokens(&format!(
        "# new first, old second\n{TOKEN_B}\n\n{TOKEN_A}\n"
    ));
    let node = ServerBuilder::new()
        .arg("--auth-token-file")
        .arg(&tokens)
        .arg("--grpc")
        .arg("127.0.0.1:0")
        .env("RUST_LOG", "debug")
        .start();
    let url = node.url("/v1/id");

    let missing = curl(&url, &[]);
    assert_eq!(status(&missing), 401, "{}", missing.stdout);
    assert!(
        missing
            .stdout
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer realm=\"snowdrift\""),
        "{}",
        missing.stdout
    );
    let wrong = curl(
        &url,
        &["-H", "Authorization: Bearer tok-not-the-right-one-000"],
    );
    assert_eq!(status(&wrong), 401);
    assert!(wrong.stdout.contains("invalid_token"), "{}", wrong.stdout);

    for token in [TOKEN_A, TOKEN_B] {
        let ok = curl(&url, &["-H", &format!("Authorization: Bearer {token}")]);
        assert_eq!(status(&ok), 200, "{}", ok.stdout);
    }
    // Probes stay open by default.
    assert_eq!(status(&curl(&node.url("/healthz"), &[])), 200);
    let metrics = curl(&node.url("/metrics"), &[]);
    assert_eq!(status(&metrics), 200);
    assert!(
        metrics
            .stdout
            .contains("snowdrift_auth_failures_total{protocol=\"http\",reason=\"missing\"} 1"),
        "{}",
        metrics.stdout
    );

    // gRPC: the token as metadata, through the client library (`snowdrift fetch`).
    let grpc = format!("grpc://{}", addr_of(&node, "grpc"));
    let refused = tool(
        common::bin(),
        &["fetch", "--endpoint", &grpc, "--timeout", "1s"],
    );
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("unauthenticated"),
        "{}",
        refused.stderr
    );
    let file_a = pki.path("client-token");
    std::fs::write(&file_a, format!("{TOKEN_A}\n")).unwrap();
    let fetched = tool(
        common::bin(),
        &[
            "fetch",
            "--endpoint",
            &grpc,
            "--auth-token-file",
            s(&file_a),
            "-n",
            "2",
        ],
    );
    assert_eq!(fetched.code, 0, "{}", fetched.stderr);
    assert_eq!(fetched.stdout.lines().count(), 2);

    // Rotation finished: only B stays; SIGHUP; A is refused, B still works.
    std::fs::write(&tokens, format!("{TOKEN_B}\n")).unwrap();
    node.signal("HUP");
    node.wait_for_stderr("reloaded the token file", Duration::from_secs(10));
    let old = curl(&url, &["-H", &format!("Authorization: Bearer {TOKEN_A}")]);
    assert_eq!(status(&old), 401);
    let new = curl(&url, &["-H", &format!("Authorization: Bearer {TOKEN_B}")]);
    assert_eq!(status(&new), 200);

    // No token in anything the node showed: logs, /v1/info, /metrics, the 401s.
    let info = curl(
        &node.url("/v1/info"),
        &["-H", &format!("Authorization: Bearer {TOKEN_B}")],
    );
    let metrics = curl(&node.url("/metrics"), &[]);
    let printed = run_with_timeout(
        {
            let mut cmd = common::command();
            cmd.args(["serve", "--print-config", "--auth-token-file"])
                .arg(&tokens);
            cmd
        },
        Duration::from_secs(20),
    );
    assert!(
        printed.stdout.contains("auth_token_file"),
        "{}",
        printed.stdout
    );
    let outputs = [
        node.stderr(),
        node.stdout(),
        info.stdout,
        metrics.stdout,
        missing.stdout,
        wrong.stdout,
        old.stdout,
        refused.stderr,
        printed.stdout,
        printed.stderr,
    ];
    for (index, output) in outputs.iter().enumerate() {
        for token in [TOKEN_A, TOKEN_B, "tok-not-the-right-one"] {
            assert!(
                !output.contains(token),
                "output {index} leaks a token:\n{output}"
            );
        }
    }
}

#[test]
fn redis_cli_over_tls_needs_auth() {
    let pki = Pki::new();
    let tokens = pki.tokens(&format!("{TOKEN_A}\n"));
    let node = pki
        .node(&["--resp", "127.0.0.1:0", "--auth-token-file", s(&tokens)])
        .start();
    let port = addr_of(&node, "resp").port().to_string();
    let cli = |extra: &[&str]| {
        let mut args = vec![
            "--tls",
            "--cacert",
            s(pki.ca.cert()),
            "--sni",
            "localhost",
            "-h",
            "127.0.0.1",
            "-p",
            &port,
            "--no-auth-warning",
        ];
        args.extend_from_slice(extra);
        tool("redis-cli", &args)
    };
    let ok = cli(&["-a", TOKEN_A, "NEXTID"]);
    assert!(
        ok.stdout.trim().parse::<u64>().is_ok(),
        "{} {}",
        ok.stdout,
        ok.stderr
    );
    let noauth = cli(&["NEXTID"]);
    assert!(
        noauth.stdout.contains("NOAUTH"),
        "{} {}",
        noauth.stdout,
        noauth.stderr
    );
    let wrong = cli(&["-a", "tok-not-the-right-one-000", "NEXTID"]);
    assert!(
        format!("{}{}", wrong.stdout, wrong.stderr).contains("WRONGPASS"),
        "{} {}",
        wrong.stdout,
        wrong.stderr
    );
    // As RESP3 clients send it, and ACL-style with the user.
    let hello = cli(&["HELLO", "3", "AUTH", "default", TOKEN_A]);
    assert!(
        hello.stdout.contains("snowdrift") && hello.stdout.contains("proto"),
        "{}",
        hello.stdout
    );
    let bad_hello = cli(&["HELLO", "3", "AUTH", "default", "tok-not-the-right-one-000"]);
    assert!(
        bad_hello.stdout.contains("WRONGPASS"),
        "{} {}",
        bad_hello.stdout,
        bad_hello.stderr
    );
    let acl = cli(&["--user", "default", "--pass", TOKEN_A, "NEXTID"]);
    assert!(
        acl.stdout.trim().parse::<u64>().is_ok(),
        "{} {}",
        acl.stdout,
        acl.stderr
    );
    assert!(!node.stderr().contains(TOKEN_A));
}

#[test]
fn mutual_tls_refuses_a_client_without_a_certificate() {
    let pki = Pki::new();
    let client = pki.ca.client("client").unwrap();
    let node = pki
        .node(&["--tls-client-ca", s(pki.ca.cert()), "--grpc", "127.0.0.1:0"])
        .start();
    let url = format!("https://localhost:{}/v1/id", node.addr.port());
    let without = curl(&url, &["--cacert", s(pki.ca.cert())]);
    assert_ne!(status(&without), 200, "{}", without.stdout);
    assert_ne!(without.code, 0);
    let with = curl(
        &url,
        &[
            "--cacert",
            s(pki.ca.cert()),
            "--cert",
            s(&client.cert),
            "--key",
            s(&client.key),
        ],
    );
    assert_eq!(status(&with), 200, "{} {}", with.stdout, with.stderr);

    // The client library with a client certificate, over both transports.
    for endpoint in [
        format!("grpcs://localhost:{}", addr_of(&node, "grpc").port()),
        format!("https://localhost:{}", node.addr.port()),
    ] {
        let fetched = tool(
            common::bin(),
            &[
                "fetch",
                "--endpoint",
                &endpoint,
                "--tls-ca",
                s(pki.ca.cert()),
                "--tls-cert",
                s(&client.cert),
                "--tls-key",
                s(&client.key),
            ],
        );
        assert_eq!(fetched.code, 0, "{endpoint}: {}", fetched.stderr);
        let refused = tool(
            common::bin(),
            &[
                "fetch",
                "--endpoint",
                &endpoint,
                "--tls-ca",
                s(pki.ca.cert()),
                "--timeout",
                "1s",
            ],
        );
        assert_ne!(
            refused.code, 0,
            "{endpoint} served a client without a certificate"
        );
    }
    let metrics = curl(
        &format!("https://localhost:{}/metrics", node.addr.port()),
        &[
            "--cacert",
            s(pki.ca.cert()),
            "--cert",
            s(&client.cert),
            "--key",
            s(&client.key),
        ],
    );
    assert!(
        metrics
            .stdout
            .contains("snowdrift_tls_handshake_failures_total{protocol=\"http\"}"),
        "{}",
        metrics.stdout
    );
}

#[test]
fn a_certificate_swapped_on_disk_and_sighup_serves_new_connections_and_keeps_old_ones() {
    let pki = Pki::new();
    let node = pki.node(&["--resp", "127.0.0.1:0"]).start();
    let resp = addr_of(&node, "resp");
    let mut old = tls_connect(resp, pki.ca.cert());
    assert_eq!(resp_line(&mut old, &["PING"]), "+PONG");

    // A new CA and certificate, written over the same files.
    let other_dir = tempfile::tempdir().unwrap();
    let other_ca = TestCa::new(other_dir.path(), "renewed").unwrap();
    let renewed = other_ca.server("server").unwrap();
    std::fs::copy(&renewed.cert, &pki.server.cert).unwrap();
    std::fs::copy(&renewed.key, &pki.server.key).unwrap();
    node.signal("HUP");
    let log = node.wait_for_stderr("reloaded the TLS certificate", Duration::from_secs(10));
    assert!(log.contains("reloaded the TLS certificate"), "{log}");

    let https = format!("https://localhost:{}/healthz", node.addr.port());
    let new = curl(&https, &["--cacert", s(other_ca.cert())]);
    assert_eq!(status(&new), 200, "the renewed certificate: {}", new.stderr);
    let stale = curl(&https, &["--cacert", s(pki.ca.cert())]);
    assert_ne!(
        stale.code, 0,
        "the old certificate is still served to new connections"
    );
    // The connection made before the reload is untouched.
    assert_eq!(resp_line(&mut old, &["PING"]), "+PONG");
    let mut fresh = tls_connect(resp, other_ca.cert());
    assert_eq!(resp_line(&mut fresh, &["PING"]), "+PONG");

    // A broken file at the next reload keeps the renewed certificate serving.
    std::fs::write(&pki.server.key, "not a key").unwrap();
    node.signal("HUP");
    node.wait_for_stderr("cannot reload TLS", Duration::from_secs(10));
    let still = curl(&https, &["--cacert", s(other_ca.cert())]);
    assert_eq!(status(&still), 200);
    let metrics = curl(
        &format!("https://localhost:{}/metrics", node.addr.port()),
        &["--cacert", s(other_ca.cert())],
    );
    for line in [
        "snowdrift_tls_reloads_total{result=\"ok\"} 1",
        "snowdrift_tls_reloads_total{result=\"error\"} 1",
    ] {
        assert!(
            metrics.stdout.contains(line),
            "{line} missing:\n{}",
            metrics.stdout
        );
    }
}

#[test]
fn a_stalled_handshake_is_dropped_and_the_header_timeout_holds_over_tls() {
    let pki = Pki::new();
    let node = pki.node(&["--tls-handshake-timeout", "1s"]).start();
    // Connect and say nothing: the node hangs up after the handshake timeout.
    let mut silent = TcpStream::connect(node.addr).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(8)))
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let read = silent.read(&mut buf);
    let waited = started.elapsed();
    assert!(
        matches!(read, Ok(0)) || read.is_err() && waited < Duration::from_secs(8),
        "{read:?} after {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(6),
        "dropped only after {waited:?}"
    );
    assert!(
        waited >= Duration::from_millis(900),
        "dropped too early: {waited:?}"
    );

    // Over TLS, a request whose headers never end is cut by the header timeout (5 s).
    let mut slow = tls_connect(node.addr, pki.ca.cert());
    slow.write_all(b"GET /v1/id HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    slow.flush().unwrap();
    let started = Instant::now();
    let mut rest = Vec::new();
    let _ = slow.read_to_end(&mut rest);
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(9),
        "no header timeout on TLS: {waited:?}"
    );
    // Either a 408 or a plain close; never a 200.
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
}

#[test]
fn refuses_to_start_on_missing_mismatched_or_bad_files() {
    let pki = Pki::new();
    let other = pki.ca.server("other").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "--tls-cert".into(),
                s(&pki.path("nope.pem")).into(),
                "--tls-key".into(),
                s(&pki.server.key).into(),
            ],
            "cannot read",
        ),
        (
            vec![
                "--tls-cert".into(),
                s(&pki.server.cert).into(),
                "--tls-key".into(),
                s(&other.key).into(),
            ],
            "does not match",
        ),
        (
            vec![
                "--tls-cert".into(),
                s(&pki.server.key).into(),
                "--tls-key".into(),
                s(&pki.server.key).into(),
            ],
            "holds no PEM certificate",
        ),
        (
            vec!["--tls-cert".into(), s(&pki.server.cert).into()],
            "needs its key",
        ),
    ];
    for (args, needle) in cases {
        let failed = match ServerBuilder::new().args(&args).try_start() {
            Ok(_) => panic!("started with {args:?}"),
            Err(failed) => failed,
        };
        assert_eq!(failed.code(), 2, "{args:?}: {}", failed.stderr);
        assert!(
            failed.stderr.contains(needle),
            "{args:?}: {}",
            failed.stderr
        );
        assert!(!failed.stderr.contains("PRIVATE KEY"), "{}", failed.stderr);
    }
    let secret = "short-secret";
    let tokens = pki.tokens(&format!("{TOKEN_A}\n{secret}\n"));
    let failed = ServerBuilder::new()
        .arg("--auth-token-file")
        .arg(&tokens)
        .try_start()
        .err()
        .expect("a short token is refused");
    assert!(failed.stderr.contains("line 2"), "{}", failed.stderr);
    assert!(!failed.stderr.contains(secret) && !failed.stderr.contains(TOKEN_A));
}

#[test]
fn a_node_reaches_an_etcd_with_tls_client_certificates_and_auth() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let password = "etcd-pass-4b1d9e";
    let etcd = runtime
        .block_on(EtcdServer::start_secure(EtcdSecurity {
            client_cert_auth: true,
            user: Some(("snowdrift".to_string(), password.to_string())),
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let password_file = dir.path().join("etcd-password");
    std::fs::write(&password_file, format!("{password}\n")).unwrap();
    let client = etcd.client_cert().unwrap();
    let node = |password_file: &Path| {
        ServerBuilder::new()
            .args([
                "--coordinator",
                "etcd",
                "--cluster",
                "secure",
                // The default lease, so the connect timeout (a fifth of it) leaves etcd
                // time for its bcrypt password check on a loaded machine.
                "--lease-ttl",
                "10s",
            ])
            .args([
                "--startup-max-wait",
                "2s",
                "--etcd-endpoints",
                &etcd.endpoint(),
            ])
            .arg("--etcd-ca")
            .arg(etcd.ca_file().unwrap())
            .arg("--etcd-cert")
            .arg(&client.cert)
            .arg("--etcd-key")
            .arg(&client.key)
            .args(["--etcd-user", "snowdrift", "--etcd-password-file"])
            .arg(password_file)
            .env("RUST_LOG", "debug")
    };
    let server = node(&password_file).start();
    let (code, _, body) = common::get(&server.url("/v1/id"));
    assert_eq!(code, 200, "{body}");
    let (_, _, info) = common::get(&server.url("/v1/info"));
    assert!(info.contains("etcd"), "{info}");
    for output in [server.stderr(), info] {
        assert!(
            !output.contains(password),
            "the etcd password leaked:\n{output}"
        );
    }

    // `snowdrift cluster status` reaches the same etcd with the same flags, and shows the
    // node in its slot, with the listener it advertises.
    let listed = tool(
        common::bin(),
        &[
            "cluster",
            "status",
            "--cluster",
            "secure",
            "--json",
            "--etcd-endpoints",
            &etcd.endpoint(),
            "--etcd-ca",
            s(etcd.ca_file().unwrap()),
            "--etcd-cert",
            s(&client.cert),
            "--etcd-key",
            s(&client.key),
            "--etcd-user",
            "snowdrift",
            "--etcd-password-file",
            s(&password_file),
        ],
    );
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(
        listed.stdout.contains("http://127.0.0.1"),
        "{}",
        listed.stdout
    );
    assert!(!listed.stdout.contains(password) && !listed.stderr.contains(password));

    // A wrong password is refused by etcd, and the node says so without the password.
    let wrong_file = dir.path().join("wrong");
    std::fs::write(&wrong_file, "not-the-password-77\n").unwrap();
    let failed = node(&wrong_file)
        .try_start()
        .err()
        .expect("a wrong password is refused");
    assert_ne!(failed.code(), 0);
    assert!(
        !failed.stderr.contains("not-the-password-77"),
        "{}",
        failed.stderr
    );
    let last = failed.stderr.lines().last().unwrap_or_default().to_string();
    assert!(last.contains("authentication failed"), "{last}");
    drop(server);
    drop(etcd);
}

#[test]
fn auth_probes_puts_the_probes_behind_the_token_too() {
    let pki = Pki::new();
    let tokens = pki.tokens(&format!("{TOKEN_A}\n"));
    let node = ServerBuilder::new()
        .arg("--auth-token-file")
        .arg(&tokens)
        .arg("--auth-probes")
        .start();
    let bearer = format!("Authorization: Bearer {TOKEN_A}");
    for route in ["/healthz", "/readyz", "/metrics"] {
        assert_eq!(status(&curl(&node.url(route), &[])), 401, "{route}");
        assert_eq!(
            status(&curl(&node.url(route), &["-H", &bearer])),
            200,
            "{route}"
        );
    }
    // A path no route matches needs the token too: its 404 lists the routes.
    assert_eq!(status(&curl(&node.url("/nope"), &[])), 401);
    let metrics = curl(&node.url("/metrics"), &["-H", &bearer]);
    assert!(
        metrics
            .stdout
            .contains("# HELP snowdrift_auth_failures_total"),
        "{}",
        metrics.stdout
    );
}
