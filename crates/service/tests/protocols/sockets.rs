//! The socket options of a running node, read from outside it: the sockets it accepted on a
//! port are found in its `/proc` entries, duplicated into the test with `pidfd_getfd` (the test
//! is the node's parent, so it may), and asked for their options with `getsockopt`. This proves
//! what the node's sockets are, whatever the machine's speed.

use std::collections::HashSet;
use std::os::fd::OwnedFd;

use rustix::process::{pidfd_getfd, pidfd_open, Pid, PidfdFlags, PidfdGetfdFlags};

/// The established TCP sockets of process `pid` whose local port is `port` (the connections
/// it accepted on that listener), duplicated into this process.
pub fn accepted_sockets(pid: u32, port: u16) -> Vec<OwnedFd> {
    let inodes = established_inodes(pid, port);
    let raw_pid = i32::try_from(pid).expect("a pid fits i32");
    let pidfd = pidfd_open(
        Pid::from_raw(raw_pid).expect("a positive pid"),
        PidfdFlags::empty(),
    )
    .expect("pidfd_open on the node");
    let mut sockets = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd")).expect("the node's fd table") {
        let entry = entry.expect("an fd entry");
        let Ok(link) = std::fs::read_link(entry.path()) else {
            continue; // closed since the listing
        };
        let link = link.to_string_lossy();
        let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        if !inodes.contains(&inode) {
            continue;
        }
        let fd: i32 = entry
            .file_name()
            .to_string_lossy()
            .parse()
            .expect("fd number");
        let dup = pidfd_getfd(&pidfd, fd, PidfdGetfdFlags::empty()).unwrap_or_else(|err| {
            panic!("pidfd_getfd of the node's fd {fd} refused ({err}): the check needs it")
        });
        sockets.push(dup);
    }
    sockets
}

/// Whether `socket` has `TCP_NODELAY` set.
pub fn nodelay(socket: &OwnedFd) -> bool {
    rustix::net::sockopt::tcp_nodelay(socket).expect("getsockopt TCP_NODELAY")
}

/// Inodes of the established sockets with local port `port`, from the node's view of
/// `/proc/net/tcp` and `tcp6` (columns: local address, remote address, state, ..., inode).
fn established_inodes(pid: u32, port: u16) -> HashSet<u64> {
    let mut inodes = HashSet::new();
    for table in ["tcp", "tcp6"] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{table}")) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(local), Some(state), Some(inode)) =
                (fields.get(1), fields.get(3), fields.get(9))
            else {
                continue;
            };
            let local_port = local
                .rsplit(':')
                .next()
                .and_then(|hex| u16::from_str_radix(hex, 16).ok());
            // State 01 is ESTABLISHED; the listening socket itself is 0A.
            if local_port == Some(port) && *state == "01" {
                if let Ok(inode) = inode.parse() {
                    inodes.insert(inode);
                }
            }
        }
    }
    inodes
}
