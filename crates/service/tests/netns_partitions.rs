//! Partitions on a real network (issue 9 §4): three etcd members (a real Raft cluster) and
//! three `snowdrift serve` nodes, each in a network namespace of its own, joined by veth links
//! to a bridge in a hub namespace, on addresses this test creates (10.213.0.0/24, which exists
//! only inside those namespaces). The clients run in a namespace of their own and fetch IDs
//! from every node without pause, with the real `snowdrift fetch`.
//!
//! Under that load, in turn:
//! 1. the etcd leader is isolated, then healed;
//! 2. one node is cut off from etcd while its clients still reach it (blackhole routes in its
//!    namespace); once its lease has expired a spare node starts, and must take its slot; then
//!    the cut node is healed and claims a slot again;
//! 3. a node is cut off entirely, then healed;
//! 4. one etcd member's data is wiped and the member rejoins the cluster;
//! 5. the whole etcd cluster is wiped and restarted with the same flags;
//! 6. a node restarts with its wall clock 1.5 s behind (libfaketime).
//!
//! Every ID any client received is kept, and none may repeat. The test prints how long the node
//! cut off from etcd went on serving, and how long the takeover of its slot took:
//! `cargo test -p snowdrift-service --test netns_partitions -- --nocapture`.
//!
//! It needs root (network namespaces) and `ip` (iproute2), as CI has; elsewhere it skips with
//! a message that says so. It is bounded (about a minute and a half), and the processes and
//! namespaces it made are removed when it ends, pass or fail.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::fs::File;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{bin, libfaketime};

const SUBNET: &str = "10.213.0";
/// The etcd members' host numbers in the subnet.
const ETCD: [u8; 3] = [11, 12, 13];
const CLIENT: u8 = 2;
const LEASE_TTL: Duration = Duration::from_secs(3);

fn ip_of(host: u8) -> String {
    format!("{SUBNET}.{host}")
}

/// Runs a command to its end, failing the test if it cannot start.
fn output(program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}"))
}

/// Runs a command that must succeed.
fn sh(program: &str, args: &[&str]) {
    let out = output(program, args);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Why this machine cannot run the test, if it cannot.
fn unsupported() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uid = status
        .lines()
        .find(|line| line.starts_with("Uid:"))
        .and_then(|line| line.split_whitespace().nth(2));
    if uid != Some("0") {
        return Some("network namespaces need root (CI runs as root)".into());
    }
    match Command::new("ip").arg("-V").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("`ip` is missing: apt-get install iproute2".into()),
    }
    // Root without the right to make namespaces (some containers): say so rather than fail.
    let probe = format!("sdnt{}-probe", std::process::id());
    let made = output("ip", &["netns", "add", &probe]);
    let _ = output("ip", &["netns", "del", &probe]);
    (!made.status.success()).then(|| {
        format!(
            "cannot create a network namespace here: {}",
            String::from_utf8_lossy(&made.stderr).trim()
        )
    })
}

/// A process run inside a namespace, killed (SIGKILL) on drop. `ip netns exec` executes the
/// program in place, so the child's pid is the program's own.
struct Proc {
    child: Child,
    log: std::path::PathBuf,
}

impl Proc {
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// The namespaces of one run: a hub with a bridge, and one namespace per member, each on a
/// veth whose hub end is a bridge port. Every namespace is deleted on drop.
struct Lab {
    prefix: String,
    spaces: Vec<String>,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let mut lab = Lab {
            prefix: format!("sdnt{}", std::process::id()),
            spaces: Vec::new(),
            dir: tempfile::tempdir().unwrap(),
        };
        let hub = lab.ns("hub");
        sh("ip", &["netns", "add", &hub]);
        lab.spaces.push(hub.clone());
        sh("ip", &["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        sh("ip", &["-n", &hub, "link", "set", "br0", "up"]);
        lab
    }

    fn ns(&self, name: &str) -> String {
        format!("{}-{name}", self.prefix)
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// Adds the namespace `name` with the address `SUBNET.host` on a link to the hub.
    fn add(&mut self, name: &str, host: u8) {
        let ns = self.ns(name);
        let hub = self.ns("hub");
        let port = format!("h-{name}");
        sh("ip", &["netns", "add", &ns]);
        self.spaces.push(ns.clone());
        sh(
            "ip",
            &[
                "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns",
                &ns,
            ],
        );
        sh(
            "ip",
            &["-n", &hub, "link", "set", &port, "master", "br0", "up"],
        );
        let cidr = format!("{}/24", ip_of(host));
        sh("ip", &["-n", &ns, "addr", "add", &cidr, "dev", "eth0"]);
        sh("ip", &["-n", &ns, "link", "set", "eth0", "up"]);
        sh("ip", &["-n", &ns, "link", "set", "lo", "up"]);
    }

    /// Cuts (or restores) every link of `name`: nobody reaches it, it reaches nobody.
    fn link(&self, name: &str, up: bool) {
        let state = if up { "up" } else { "down" };
        sh(
            "ip",
            &[
                "-n",
                &self.ns("hub"),
                "link",
                "set",
                &format!("h-{name}"),
                state,
            ],
        );
    }

    /// Drops (or restores) the traffic from `name` to the etcd members only.
    fn cut_from_etcd(&self, name: &str, cut: bool) {
        let op = if cut { "add" } else { "del" };
        for host in ETCD {
            let dest = format!("{}/32", ip_of(host));
            sh(
                "ip",
                &["-n", &self.ns(name), "route", op, "blackhole", &dest],
            );
        }
    }

    /// Starts `program` in the namespace `name`, its output in the lab's `log` file.
    fn spawn(
        &self,
        name: &str,
        program: &str,
        args: &[String],
        env: &[(&str, String)],
        log: &str,
    ) -> Proc {
        let log = self.path(log);
        let file = File::options()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(name), program])
            .args(args)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap_or_else(|err| panic!("cannot start {program} in {name}: {err}"));
        Proc { child, log }
    }

    /// `curl` from the client namespace: the body, or `None` when it failed.
    fn curl(&self, args: &[&str]) -> Option<String> {
        let client = self.ns("client");
        let mut all = vec!["netns", "exec", client.as_str(), "curl", "-sf", "-m", "1"];
        all.extend_from_slice(args);
        let out = output("ip", &all);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// One call to etcd's JSON gateway: the answer, or `None` if none came.
    fn etcd_post(&self, host: u8, path: &str, body: &str) -> Option<serde_json::Value> {
        let url = format!("http://{}:2379{path}", ip_of(host));
        let text = self.curl(&["-X", "POST", "-d", body, &url])?;
        serde_json::from_str(&text).ok()
    }

    /// A membership change through etcd's JSON gateway, retried until it is done (a retry whose
    /// first try had landed gets `already`, which counts as done) or 20 s have passed.
    fn etcd_change(&self, host: u8, path: &str, body: &str, already: &str) {
        let client = self.ns("client");
        let url = format!("http://{}:2379{path}", ip_of(host));
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let args = [
                "netns", "exec", &client, "curl", "-s", "-m", "5", "-X", "POST", "-d", body, &url,
            ];
            let answer = String::from_utf8_lossy(&output("ip", &args).stdout).into_owned();
            let done = serde_json::from_str::<serde_json::Value>(&answer)
                .is_ok_and(|v| v.get("error").is_none() && v.get("code").is_none());
            if done || answer.contains(already) {
                return;
            }
            assert!(Instant::now() < deadline, "{path} {body}: {answer:?}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    fn wait_until(&self, what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + timeout;
        while !ok() {
            assert!(Instant::now() < deadline, "{what}: not within {timeout:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn etcd_healthy(&self, host: u8) -> bool {
        let url = format!("http://{}:2379/health", ip_of(host));
        self.curl(&[&url]).is_some_and(|body| body.contains("true"))
    }

    fn node_ready(&self, host: u8) -> bool {
        let url = format!("http://{}:8080/readyz", ip_of(host));
        self.curl(&[&url]).is_some()
    }

    fn node_info(&self, host: u8) -> Option<serde_json::Value> {
        let url = format!("http://{}:8080/v1/info", ip_of(host));
        serde_json::from_str(&self.curl(&[&url])?).ok()
    }

    fn node_machine(&self, host: u8) -> Option<u64> {
        self.node_info(host)?["machine"].as_u64()
    }

    /// The host number of the etcd leader, as its members report it.
    fn etcd_leader(&self) -> Option<u8> {
        ETCD.into_iter().find(|&host| {
            self.etcd_post(host, "/v3/maintenance/status", "{}")
                .is_some_and(|status| status["leader"] == status["header"]["member_id"])
        })
    }

    fn etcd(&self, host: u8, state: &str) -> Proc {
        let name = format!("e{host}");
        let me = ip_of(host);
        let cluster: Vec<String> = ETCD
            .iter()
            .map(|&h| format!("e{h}=http://{}:2380", ip_of(h)))
            .collect();
        let args = vec![
            format!("--name={name}"),
            format!("--data-dir={}", self.path(&name).display()),
            format!("--listen-client-urls=http://{me}:2379"),
            format!("--advertise-client-urls=http://{me}:2379"),
            format!("--listen-peer-urls=http://{me}:2380"),
            format!("--initial-advertise-peer-urls=http://{me}:2380"),
            format!("--initial-cluster={}", cluster.join(",")),
            format!("--initial-cluster-state={state}"),
            "--initial-cluster-token=snowdrift-netns".to_string(),
            "--logger=zap".to_string(),
            "--log-outputs=stderr".to_string(),
        ];
        self.spawn(&name, "etcd", &args, &[], &format!("{name}.log"))
    }

    fn node(&self, host: u8, machine: &str, env: &[(&str, String)]) -> Proc {
        let name = format!("n{host}");
        let endpoints: Vec<String> = ETCD
            .iter()
            .map(|&h| format!("http://{}:2379", ip_of(h)))
            .collect();
        let args: Vec<String> = [
            "serve",
            "--coordinator",
            "etcd",
            "--etcd-endpoints",
            &endpoints.join(","),
            "--cluster",
            "netns",
            "--datacenter-id",
            "0",
            "--machine-id",
            machine,
            "--http",
            &format!("{}:8080", ip_of(host)),
            "--data-dir",
            &self.path(&format!("{name}-data")).display().to_string(),
            "--lease-ttl",
            "3s",
            "--window",
            "1s",
            "--max-clock-skew",
            "500ms",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        self.spawn(&name, bin(), &args, env, &format!("{name}.log"))
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.spaces.iter().rev() {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// What one client loop received from one node.
#[derive(Default)]
struct Received {
    ids: Vec<u64>,
    /// When each successful fetch ended.
    ok_at: Vec<Instant>,
    failures: u64,
}

/// A client loop in the client namespace: `snowdrift fetch` against one node, over and over.
struct Loader {
    host: u8,
    received: Arc<Mutex<Received>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Loader {
    fn start(lab: &Lab, host: u8) -> Loader {
        let received = Arc::new(Mutex::new(Received::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let client = lab.ns("client");
        let endpoint = format!("http://{}:8080", ip_of(host));
        let (r, s) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                let out = output(
                    "ip",
                    &[
                        "netns",
                        "exec",
                        &client,
                        bin(),
                        "fetch",
                        "--endpoint",
                        &endpoint,
                        "-n",
                        "2000",
                        "--timeout",
                        "1s",
                    ],
                );
                let mut got = r.lock().unwrap();
                if out.status.success() {
                    let text = String::from_utf8_lossy(&out.stdout);
                    got.ids
                        .extend(text.lines().map(|line| line.parse::<u64>().unwrap()));
                    got.ok_at.push(Instant::now());
                } else {
                    got.failures += 1;
                    drop(got);
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        });
        Loader {
            host,
            received,
            stop,
            thread: Some(thread),
        }
    }

    fn last_ok(&self) -> Option<Instant> {
        self.received.lock().unwrap().ok_at.last().copied()
    }

    fn first_ok_after(&self, t: Instant) -> Option<Instant> {
        self.received
            .lock()
            .unwrap()
            .ok_at
            .iter()
            .copied()
            .find(|&at| at > t)
    }

    fn last_ok_after(&self, t: Instant) -> Option<Instant> {
        self.last_ok().filter(|&at| at > t)
    }

    fn finish(mut self) -> Received {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

#[test]
fn no_partition_wipe_or_clock_step_repeats_an_id() {
    if let Some(why) = unsupported() {
        eprintln!("skipped: {why}");
        return;
    }
    let _ = libfaketime(); // fail early, and clearly, if it is missing
    let started = Instant::now();
    let mut lab = Lab::new();
    lab.add("client", CLIENT);
    for host in ETCD {
        lab.add(&format!("e{host}"), host);
    }
    for host in [21, 22, 23, 24] {
        lab.add(&format!("n{host}"), host);
    }

    let mut etcd: Vec<Proc> = ETCD.iter().map(|&h| lab.etcd(h, "new")).collect();
    for host in ETCD {
        lab.wait_until("etcd healthy", Duration::from_secs(20), || {
            lab.etcd_healthy(host)
        });
    }
    let mut nodes: Vec<Proc> = [21, 22, 23]
        .iter()
        .map(|&h| lab.node(h, "auto", &[]))
        .collect();
    for host in [21, 22, 23] {
        lab.wait_until(&format!("n{host} ready"), Duration::from_secs(30), || {
            lab.node_ready(host)
        });
    }
    let mut loaders: Vec<Loader> = [21, 22, 23]
        .iter()
        .map(|&h| Loader::start(&lab, h))
        .collect();
    std::thread::sleep(Duration::from_secs(2));

    // 1. Isolate the etcd leader; the other two elect a new one.
    // Which node holds which machine slot, as each reports it (nodes not answering are left
    // out; `*` marks a node that is not ready).
    let slots = |lab: &Lab| {
        [21, 22, 23, 24]
            .iter()
            .filter_map(|&h| {
                // A node that is not ready (fenced, or claiming again) is marked with `*`.
                let info = lab.node_info(h)?;
                let mark = if info["ready"] == true { "" } else { "*" };
                Some(format!("n{h}:{}{mark}", info["machine"]))
            })
            .collect::<Vec<_>>()
            .join(" ")
    };
    let before = slots(&lab);
    let leader = lab.etcd_leader().expect("an etcd leader");
    lab.link(&format!("e{leader}"), false);
    std::thread::sleep(Duration::from_secs(5));
    lab.link(&format!("e{leader}"), true);
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "1. etcd leader e{leader} isolated for 5 s, healed; slots {before} before, {} after",
        slots(&lab)
    );

    // 2. n21 loses etcd but not its clients. A spare asks for n21's very slot until it gets
    // it: a node refuses a slot that is held, so it gets it once n21's lease has expired.
    let machine_21 = lab.node_machine(21).expect("n21's slot");
    let cut = Instant::now();
    lab.cut_from_etcd("n21", true);
    let wanted = machine_21.to_string();
    let deadline = Instant::now() + Duration::from_secs(30);
    let spare = loop {
        let mut spare = lab.node(24, &wanted, &[]);
        let ready = Instant::now() + Duration::from_secs(10);
        while spare.child.try_wait().unwrap().is_none()
            && !lab.node_ready(24)
            && Instant::now() < ready
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        if lab.node_ready(24) {
            break spare;
        }
        spare.kill9();
        assert!(
            Instant::now() < deadline,
            "the spare never got n21's slot:\n{}",
            spare.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    nodes.push(spare);
    let takeover = cut.elapsed();
    assert_eq!(
        lab.node_machine(24),
        Some(machine_21),
        "the spare must hold n21's slot"
    );
    assert!(
        takeover >= LEASE_TTL,
        "the slot was taken {takeover:?} after the cut, before n21's lease ({LEASE_TTL:?}) could expire"
    );
    loaders.push(Loader::start(&lab, 24));
    std::thread::sleep(Duration::from_secs(2));
    let served = loaders[0].last_ok_after(cut).map(|at| at - cut);
    lab.cut_from_etcd("n21", false);
    lab.wait_until("n21 ready again", Duration::from_secs(20), || {
        lab.node_ready(21)
    });
    let reclaimed = lab.node_machine(21);
    println!(
        "2. n21 (machine {machine_21}) cut from etcd: served for {} after the cut (lease {}); \
         spare n24 took machine {machine_21} and was ready {} after the cut; healed n21 claimed machine {reclaimed:?}; slots {}",
        served.map_or("no fetch completed".to_string(), secs),
        secs(LEASE_TTL),
        secs(takeover),
        slots(&lab),
    );
    assert_ne!(
        reclaimed,
        Some(machine_21),
        "n21 must not take back a slot n24 holds"
    );

    // 3. n22 cut off entirely, then healed.
    lab.link("n22", false);
    std::thread::sleep(Duration::from_secs(5));
    lab.link("n22", true);
    let healed = Instant::now();
    lab.wait_until("n22 ready again", Duration::from_secs(20), || {
        lab.node_ready(22)
    });
    println!(
        "3. n22 cut off for 5 s; ready {} after the heal; slots {}",
        secs(healed.elapsed()),
        slots(&lab)
    );

    // 4. One member (not the one we ask) loses its data and rejoins.
    let wiped = ETCD[2];
    let members = lab
        .etcd_post(ETCD[0], "/v3/cluster/member/list", "{}")
        .expect("member list");
    let id = members["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == format!("e{wiped}"))
        .map(|m| m["ID"].clone())
        .expect("the member's ID");
    etcd[2].kill9();
    std::fs::remove_dir_all(lab.path(&format!("e{wiped}"))).unwrap();
    let remove = serde_json::json!({ "ID": id }).to_string();
    lab.etcd_change(
        ETCD[0],
        "/v3/cluster/member/remove",
        &remove,
        "member not found",
    );
    let add =
        serde_json::json!({ "peerURLs": [format!("http://{}:2380", ip_of(wiped))] }).to_string();
    lab.etcd_change(ETCD[0], "/v3/cluster/member/add", &add, "already");
    etcd[2] = lab.etcd(wiped, "existing");
    lab.wait_until("the wiped member rejoined", Duration::from_secs(20), || {
        lab.etcd_healthy(wiped)
    });
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "4. etcd member e{wiped} wiped and rejoined; slots {}",
        slots(&lab)
    );

    // 5. The whole etcd cluster loses its data and restarts with the same flags.
    for member in &mut etcd {
        member.kill9();
    }
    for host in ETCD {
        std::fs::remove_dir_all(lab.path(&format!("e{host}"))).unwrap();
    }
    etcd = ETCD.iter().map(|&h| lab.etcd(h, "new")).collect();
    for host in ETCD {
        lab.wait_until("wiped etcd healthy", Duration::from_secs(20), || {
            lab.etcd_healthy(host)
        });
    }
    let reset = Instant::now();
    std::thread::sleep(Duration::from_secs(8));
    let back: Vec<String> = loaders
        .iter()
        .map(|l| match l.first_ok_after(reset) {
            Some(at) => format!("n{} after {}", l.host, secs(at - reset)),
            None => format!("n{} not yet", l.host),
        })
        .collect();
    println!(
        "5. etcd cluster wiped and restarted; serving again: {}; slots {}",
        back.join(", "),
        slots(&lab)
    );
    assert!(
        loaders.iter().any(|l| l.first_ok_after(reset).is_some()),
        "no node served after the wipe:\n{}",
        nodes
            .iter()
            .map(Proc::log)
            .collect::<Vec<_>>()
            .join("\n---\n")
    );

    // 6. n23 restarts with its wall clock 1.5 s behind.
    nodes[2].kill9();
    let faketime = [
        ("LD_PRELOAD", libfaketime().display().to_string()),
        ("FAKETIME", "-1.5s".to_string()),
        ("FAKETIME_DONT_FAKE_MONOTONIC", "1".to_string()),
    ];
    let restart = Instant::now();
    nodes[2] = lab.node(23, "auto", &faketime);
    lab.wait_until(
        "n23 ready after its restart",
        Duration::from_secs(20),
        || lab.node_ready(23),
    );
    std::thread::sleep(Duration::from_secs(2));
    println!(
        "6. n23 restarted 1.5 s behind; ready after {}; slots {}",
        secs(restart.elapsed()),
        slots(&lab)
    );

    // Every ID any client received, from every node: none may repeat.
    let mut total = 0usize;
    let mut seen = HashSet::new();
    let mut repeats = 0usize;
    for loader in loaders {
        let host = loader.host;
        let got = loader.finish();
        println!(
            "   n{host}: {} IDs in {} fetches, {} failed",
            got.ids.len(),
            got.ok_at.len(),
            got.failures
        );
        total += got.ids.len();
        for id in got.ids {
            if !seen.insert(id) {
                repeats += 1;
            }
        }
    }
    println!(
        "   {total} IDs checked, {repeats} repeated, in {}",
        secs(started.elapsed())
    );
    assert_eq!(repeats, 0, "{repeats} of {total} IDs repeated");
    assert!(
        total > 50_000,
        "too little load to prove anything: {total} IDs"
    );
    // Stop the nodes before etcd, and both before the namespaces go.
    drop(nodes);
    drop(etcd);
}
