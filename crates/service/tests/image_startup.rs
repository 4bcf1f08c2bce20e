//! The container image's start-up, without a container engine: no image can be built or
//! pulled on these machines, so this runs the binary the way `deploy/Dockerfile` says the image
//! runs it, with what the test reads from that file:
//! - as its `USER` (uid 65532, no capabilities, no new privileges), through `setpriv`;
//! - with exactly its `ENV` (`SNOWDRIFT_HTTP=0.0.0.0:8080`, the data directory, JSON logs) and
//!   its `ENTRYPOINT` + `CMD`;
//! - in a network namespace of its own (so `0.0.0.0:8080` is the namespace's, not the host's)
//!   and a mount namespace where its `VOLUME` is a fresh directory and the root filesystem is
//!   remounted read-only (where the kernel allows it; the test says when it does not);
//! - then its `HEALTHCHECK` command, in the same network namespace, must report ready within
//!   the health check's start period, and its `STOPSIGNAL` must stop it cleanly (exit 0, slot
//!   released) within Docker's default stop timeout of 10 s, leaving the slot free for the next
//!   start on the same volume.
//!
//! A second run locks it down the way `deploy/compose/docker-compose.local.secure.yml` does:
//! that file's `SNOWDRIFT_*` variables on top of the image's, and its secrets (a certificate,
//! its key and a token file made here, owned by the image's user) mounted read-only under
//! `/run/secrets`. The image's unchanged HEALTHCHECK must still report ready (over HTTPS), an
//! HTTPS request with the token must get an ID, and one without must get 401.
//!
//! It needs root (namespaces, `setpriv`), as CI and the project's machines have; `unshare`,
//! `setpriv` (util-linux), `nsenter`, `ip` (iproute2) and `curl` are installed by scripts/test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::wait_timeout;

/// Docker's default `docker stop` timeout: the strictest grace of the deployment targets
/// (compose and Kubernetes give 30 s).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// What the runtime stage of the Dockerfile says about how the image runs.
#[derive(Debug, Default)]
struct Image {
    env: Vec<(String, String)>,
    user: (u32, u32),
    volume: PathBuf,
    stop_signal: String,
    /// ENTRYPOINT followed by CMD.
    command: Vec<String>,
    healthcheck: Vec<String>,
    /// The health check's `--start-period`.
    start_period: Duration,
}

/// A JSON array of strings, as the exec form of ENTRYPOINT, CMD and HEALTHCHECK writes it.
fn exec_form(text: &str) -> Vec<String> {
    serde_json::from_str(text.trim()).unwrap_or_else(|err| panic!("not exec form ({err}): {text}"))
}

impl Image {
    fn read() -> Image {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/Dockerfile");
        let text = std::fs::read_to_string(&path).unwrap().replace("\\\n", " ");
        // The runtime stage: everything after the last FROM.
        let runtime = text.rsplit("\nFROM ").next().unwrap();
        let mut image = Image::default();
        let (mut entrypoint, mut cmd) = (Vec::new(), Vec::new());
        for line in runtime.lines().map(str::trim) {
            let (instruction, rest) = line.split_once(' ').unwrap_or((line, ""));
            match instruction {
                "ENV" => {
                    for pair in rest.split_whitespace() {
                        let (name, value) = pair.split_once('=').expect("ENV NAME=value");
                        image.env.push((name.to_string(), value.to_string()));
                    }
                }
                "USER" => {
                    let (uid, gid) = rest.split_once(':').expect("USER uid:gid");
                    image.user = (uid.parse().unwrap(), gid.parse().unwrap());
                }
                "VOLUME" => image.volume = PathBuf::from(&exec_form(rest)[0]),
                "STOPSIGNAL" => image.stop_signal = rest.trim().to_string(),
                "ENTRYPOINT" => entrypoint = exec_form(rest),
                "CMD" => cmd = exec_form(rest),
                "HEALTHCHECK" => {
                    let (options, command) = rest.split_once("CMD").expect("HEALTHCHECK ... CMD");
                    image.healthcheck = exec_form(command);
                    let period = options
                        .split_whitespace()
                        .find_map(|option| option.strip_prefix("--start-period="))
                        .expect("a --start-period");
                    image.start_period = humantime::parse_duration(period).unwrap();
                }
                _ => {}
            }
        }
        image.command = entrypoint.into_iter().chain(cmd).collect();
        assert!(
            !image.command.is_empty(),
            "no ENTRYPOINT/CMD in {}",
            path.display()
        );
        image
    }

    /// `argv` with the image's binary replaced by the one under test.
    fn local(&self, argv: &[String]) -> Vec<String> {
        let mut argv = argv.to_vec();
        assert_eq!(argv[0], "/usr/local/bin/snowdrift", "{argv:?}");
        argv[0] = common::bin().to_string();
        argv
    }

    /// `setpriv … env -i VARS… ARGV`: as the image's user, with only the image's environment.
    fn as_image_user(&self, argv: &[String]) -> Vec<String> {
        let (uid, gid) = self.user;
        let mut wrapped: Vec<String> = [
            "setpriv",
            &format!("--reuid={uid}"),
            &format!("--regid={gid}"),
            "--clear-groups",
            "--no-new-privs",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--",
            "env",
            "-i",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        wrapped.extend(
            self.env
                .iter()
                .map(|(name, value)| format!("{name}={value}")),
        );
        wrapped.extend(self.local(argv));
        wrapped
    }
}

/// Quotes `word` for sh.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A node started the image's way; stderr is collected.
struct Container {
    child: Option<Child>,
    stderr: Arc<Mutex<String>>,
}

impl Container {
    /// Starts the image's command in new mount and network namespaces, with `volume` mounted
    /// at the image's VOLUME and the root read-only.
    fn start(image: &Image, volume: &Path) -> Container {
        Container::start_with(image, volume, None)
    }

    /// [`Container::start`], and with `secrets` (a directory) mounted read-only at
    /// `/run/secrets`, as Compose mounts a service's secrets.
    fn start_with(image: &Image, volume: &Path, secrets: Option<&Path>) -> Container {
        let target = &image.volume;
        // The VOLUME path may not exist on this host: mount a scratch tmpfs on its parent (in
        // this mount namespace only) and make it there.
        let parent = target.parent().unwrap();
        let server: Vec<String> = image
            .as_image_user(&image.command)
            .iter()
            .map(|word| quote(word))
            .collect();
        let script = format!(
            "set -e\n\
             mount --make-rprivate /\n\
             if [ ! -d {target} ]; then mount -t tmpfs -o mode=0755 tmpfs {parent}; mkdir -p {target}; fi\n\
             mount --bind {volume} {target}\n\
             {secrets}\
             ip link set lo up\n\
             if mount -o remount,bind,ro / 2>/dev/null; then echo 'image-test: root read-only' >&2;\n\
             else echo 'image-test: root stays writable: the kernel refused a read-only remount' >&2; fi\n\
             exec {server}\n",
            target = quote(&target.display().to_string()),
            parent = quote(&parent.display().to_string()),
            volume = quote(&volume.display().to_string()),
            secrets = secrets
                .map(|dir| format!(
                    "mount -t tmpfs -o mode=0755 tmpfs /run\n\
                     mkdir /run/secrets\n\
                     mount --bind -o ro {dir} /run/secrets\n\
                     mount -o remount,bind,ro /run/secrets\n",
                    dir = quote(&dir.display().to_string())
                ))
                .unwrap_or_default(),
            server = server.join(" "),
        );
        // No --fork: unshare, sh, setpriv and env each exec the next, so the child's pid is
        // the server's own, to signal and to enter.
        let mut child = Command::new("unshare")
            .args(["--mount", "--net", "--", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("unshare (util-linux) is missing");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        Container {
            child: Some(child),
            stderr,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Runs the image's HEALTHCHECK command in the node's network namespace; true on exit 0.
    fn healthcheck(&self, image: &Image) -> bool {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/proc/{}/ns/net", self.pid()))
            .arg("--")
            .args(image.as_image_user(&image.healthcheck))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("nsenter (util-linux) is missing");
        wait_timeout(&mut child, Duration::from_secs(10)).is_some_and(|status| status.success())
    }

    /// Fetches IDs from the node over HTTP, from inside its network namespace.
    fn fetch(&self, image: &Image, count: u32) -> Vec<String> {
        let argv: Vec<String> = ["/usr/local/bin/snowdrift", "fetch", "--endpoint"]
            .iter()
            .map(|s| s.to_string())
            .chain([
                "http://127.0.0.1:8080".to_string(),
                "-n".into(),
                count.to_string(),
            ])
            .collect();
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/proc/{}/ns/net", self.pid()))
            .arg("--")
            .args(image.as_image_user(&argv));
        let out = common::run_with_timeout(cmd, Duration::from_secs(20));
        assert_eq!(out.code(), 0, "{}", out.stderr);
        out.stdout.lines().map(str::to_string).collect()
    }

    /// `curl` from inside the node's network namespace: the HTTP status it got.
    fn curl_status(&self, args: &[String]) -> String {
        let mut cmd = Command::new("nsenter");
        cmd.arg(format!("--net=/proc/{}/ns/net", self.pid()))
            .args(["--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"])
            .args(args)
            .env_remove("http_proxy")
            .env_remove("https_proxy");
        let out = common::run_with_timeout(cmd, Duration::from_secs(20));
        assert_eq!(out.code(), 0, "curl {args:?}: {}", out.stderr);
        out.stdout.trim().to_string()
    }

    /// Waits (bounded by the health check's start period) for the health check to pass.
    fn wait_ready(&mut self, image: &Image) -> Duration {
        let started = Instant::now();
        while !self.healthcheck(image) {
            assert!(
                started.elapsed() < image.start_period,
                "not ready within the start period {:?}; stderr:\n{}",
                image.start_period,
                self.stderr()
            );
            assert!(
                self.running(),
                "the node exited; stderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        started.elapsed()
    }

    fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(Child::try_wait), Some(Ok(None)))
    }

    /// Sends `signal` and waits for the exit; returns the exit code and how long it took.
    fn stop(&mut self, signal: &str) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let status = Command::new("kill")
            .arg(format!("-{}", signal.trim_start_matches("SIG")))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
        let mut child = self.child.take().unwrap();
        let exited = wait_timeout(&mut child, STOP_GRACE * 3).unwrap_or_else(|| {
            let _ = child.kill();
            panic!("no exit after {signal}; stderr:\n{}", self.stderr())
        });
        (exited.code(), started.elapsed())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

/// The `Uid:` line of /proc/PID/status: real, effective, saved, filesystem.
fn uids(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .unwrap()
        .to_string()
}

/// Whether the process's root mount is read-only (its /proc/PID/mountinfo line for `/`).
fn root_read_only(pid: u32) -> bool {
    let info = std::fs::read_to_string(format!("/proc/{pid}/mountinfo")).unwrap();
    info.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        fields.get(4) == Some(&"/")
            && fields
                .get(5)
                .is_some_and(|o| o.split(',').any(|o| o == "ro"))
    })
}

#[test]
fn the_image_starts_as_nonroot_on_a_fresh_volume_reports_ready_and_stops_cleanly_on_its_stop_signal(
) {
    assert!(
        is_root(),
        "this test runs the image's start-up in namespaces and needs root, as CI has"
    );
    let image = Image::read();
    assert_eq!(image.user, (65532, 65532), "{image:?}");
    assert!(
        image
            .env
            .contains(&("SNOWDRIFT_HTTP".into(), "0.0.0.0:8080".into())),
        "{image:?}"
    );
    assert_eq!(image.stop_signal, "SIGTERM");

    // A fresh volume, owned by the image's user as Docker makes a named volume from the image.
    let temp = tempfile::tempdir().unwrap();
    let volume = temp.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    std::os::unix::fs::chown(&volume, Some(image.user.0), Some(image.user.1)).unwrap();

    let mut first = Container::start(&image, &volume);
    let ready_after = first.wait_ready(&image);
    eprintln!("ready (healthcheck passed) {ready_after:?} after start");
    let stderr = first.stderr();
    let uid = uids(first.pid());
    assert_eq!(
        uid.split_whitespace().skip(1).collect::<Vec<_>>(),
        ["65532"; 4],
        "{uid}"
    );
    if stderr.contains("image-test: root read-only") {
        assert!(root_read_only(first.pid()), "the root is not read-only");
    } else {
        eprintln!("note: {}", stderr.lines().next().unwrap_or(""));
    }
    // The image logs JSON: every line after the set-up's own is a JSON record.
    for line in stderr
        .lines()
        .filter(|line| !line.starts_with("image-test:"))
    {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|err| panic!("not a JSON log record ({err}): {line}"));
    }
    let ids = first.fetch(&image, 3);
    assert_eq!(ids.len(), 3, "{ids:?}");
    // The state went to the volume: the pinned layout and the slot's mark.
    assert!(volume.join("layout.json").is_file(), "{stderr}");
    assert!(
        volume.join("slots/dc-0-machine-0.hwm").is_file(),
        "{stderr}"
    );

    let (code, took) = first.stop(&image.stop_signal);
    let stderr = first.stderr();
    eprintln!("{} stopped it in {took:?}", image.stop_signal);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(took < STOP_GRACE, "{took:?} to stop; stderr:\n{stderr}");
    let stopped = stderr
        .lines()
        .find(|line| line.contains("stopped:"))
        .unwrap_or_else(|| panic!("no stopped record:\n{stderr}"));
    assert!(stopped.contains("slot released"), "{stopped}");
    assert!(stopped.contains("mark lowered"), "{stopped}");

    // The slot is free: the next container on the same volume takes machine 0 again (a held
    // slot would refuse it, naming the holder) and is ready at once.
    let mut second = Container::start(&image, &volume);
    let again = second.wait_ready(&image);
    eprintln!("second start ready {again:?} after start");
    let later = second.fetch(&image, 3);
    assert!(
        later.iter().all(|id| ids
            .iter()
            .all(|old| id.parse::<u64>().unwrap() > old.parse::<u64>().unwrap())),
        "{later:?} not above {ids:?}"
    );
    let (code, _) = second.stop(&image.stop_signal);
    assert_eq!(code, Some(0), "{}", second.stderr());
}

/// `SNOWDRIFT_NAME: value` lines of a compose file: the settings it gives the node.
fn compose_settings(file: &str) -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy/compose")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("SNOWDRIFT_"))
        .filter_map(|line| line.split_once(": "))
        .map(|(name, value)| (name.to_string(), value.trim().to_string()))
        .collect()
}

#[test]
fn the_locked_down_image_serves_https_with_a_token_reports_ready_and_refuses_without_it() {
    use snowdrift_coordination::testing::TestCa;

    assert!(
        is_root(),
        "this test runs the image's start-up in namespaces and needs root, as CI has"
    );
    let mut image = Image::read();
    let settings = compose_settings("docker-compose.local.secure.yml");
    let names: Vec<&str> = settings.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        names.contains(&"SNOWDRIFT_TLS_CERT") && names.contains(&"SNOWDRIFT_AUTH_TOKEN_FILE"),
        "{settings:?}"
    );
    image.env.extend(settings.iter().cloned());

    let temp = tempfile::tempdir().unwrap();
    let volume = temp.path().join("volume");
    std::fs::create_dir(&volume).unwrap();
    std::os::unix::fs::chown(&volume, Some(image.user.0), Some(image.user.1)).unwrap();
    // The secrets, where the compose file's settings name them under /run/secrets/.
    let secrets = temp.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let ca = TestCa::new(temp.path(), "image").unwrap();
    let server = ca.server("node").unwrap();
    let token = "image-test-token-0123456789abcdef";
    let in_secrets = |name: &str| {
        let (_, value) = settings.iter().find(|(n, _)| n == name).unwrap();
        secrets.join(
            value
                .strip_prefix("/run/secrets/")
                .expect("a /run/secrets/ file"),
        )
    };
    std::fs::copy(&server.cert, in_secrets("SNOWDRIFT_TLS_CERT")).unwrap();
    std::fs::copy(&server.key, in_secrets("SNOWDRIFT_TLS_KEY")).unwrap();
    std::fs::write(
        in_secrets("SNOWDRIFT_AUTH_TOKEN_FILE"),
        format!("{token}\n"),
    )
    .unwrap();
    for entry in std::fs::read_dir(&secrets).unwrap() {
        let path = entry.unwrap().path();
        std::os::unix::fs::chown(&path, Some(image.user.0), Some(image.user.1)).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o400))
            .unwrap();
    }

    let mut node = Container::start_with(&image, &volume, Some(&secrets));
    // The image's own HEALTHCHECK, unchanged: it follows SNOWDRIFT_TLS_CERT to https://.
    let ready_after = node.wait_ready(&image);
    eprintln!("locked down: ready (healthcheck over https) {ready_after:?} after start");
    let url = "https://localhost:8080/v1/id".to_string();
    let cacert = ca.cert().display().to_string();
    let with_token = node.curl_status(&[
        "--cacert".into(),
        cacert.clone(),
        "-H".into(),
        format!("Authorization: Bearer {token}"),
        url.clone(),
    ]);
    assert_eq!(with_token, "200", "{}", node.stderr());
    let without = node.curl_status(&["--cacert".into(), cacert.clone(), url.clone()]);
    assert_eq!(without, "401", "{}", node.stderr());
    let wrong = node.curl_status(&[
        "--cacert".into(),
        cacert,
        "-H".into(),
        "Authorization: Bearer not-the-token-0123456789".into(),
        url,
    ]);
    assert_eq!(wrong, "401", "{}", node.stderr());
    // Plaintext to the TLS port gets no HTTP answer (curl reports status 000 or fails).
    let mut plain = Command::new("nsenter");
    plain
        .arg(format!("--net=/proc/{}/ns/net", node.pid()))
        .args(["--", "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg("http://127.0.0.1:8080/v1/id");
    let out = common::run_with_timeout(plain, Duration::from_secs(20));
    assert!(
        out.code() != 0 || out.stdout.trim() == "000",
        "{}",
        out.stdout
    );
    assert!(
        !node.stderr().contains(token),
        "the token appeared in the log:\n{}",
        node.stderr()
    );

    let (code, took) = node.stop(&image.stop_signal);
    assert_eq!(code, Some(0), "{}", node.stderr());
    assert!(took < STOP_GRACE, "{took:?} to stop");
}
