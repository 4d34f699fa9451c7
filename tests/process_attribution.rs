//! Process attribution on this machine's kernel (as root; skipped otherwise): a netlink socket
//! opened by a child process is attributed to the child's pid and name, checked against the
//! kernel's own table in /proc/net/netlink (an independent path: it is not the sock_diag dump
//! nlscope asks); and in monitor mode, the notification of an address the child adds names it.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use nlscope::live::process::ProcessMap;

fn is_root() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    // Uid: real, effective, saved, filesystem.
    status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|l| l.split_whitespace().nth(1)) == Some("0")
}

/// The socket inodes `pid` holds.
fn socket_inodes(pid: u32) -> Vec<u32> {
    let Ok(fds) = std::fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    fds.flatten()
        .filter_map(|fd| std::fs::read_link(fd.path()).ok())
        .filter_map(|t| t.to_str()?.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok())
        .collect()
}

/// (protocol, port id) of the netlink socket with this inode, from /proc/net/netlink
/// (`sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode`).
fn netlink_port(inode: u32) -> Option<(u16, u32)> {
    let table = std::fs::read_to_string("/proc/net/netlink").ok()?;
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.get(9)?.parse::<u32>().ok()? == inode).then_some((f[1].parse().ok()?, f[2].parse().ok()?))
    })
}

#[test]
fn a_childs_netlink_socket_is_attributed_to_the_child() {
    if !is_root() {
        eprintln!("skipped: needs root");
        return;
    }
    // `ip monitor` opens a NETLINK_ROUTE socket, binds it (the kernel picks the port) and waits.
    let mut child = Command::new("ip").args(["monitor", "link"]).stdout(Stdio::null()).spawn().unwrap();
    let pid = child.id();
    let deadline = Instant::now() + Duration::from_secs(5);
    let ports = loop {
        let ports: Vec<(u16, u32)> = socket_inodes(pid).into_iter().filter_map(netlink_port).collect();
        if !ports.is_empty() || Instant::now() > deadline {
            break ports;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut map = ProcessMap::new();
    let found: Vec<_> = ports.iter().map(|&(protocol, port)| map.resolve(protocol, port).cloned()).collect();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(ports.iter().any(|&(protocol, port)| protocol == 0 && port != 0), "a bound rtnetlink socket: {ports:?}");
    for (p, owner) in ports.iter().zip(&found) {
        let owner = owner.as_ref().unwrap_or_else(|| panic!("port {p:?} of pid {pid} is not attributed"));
        assert_eq!((owner.pid, &*owner.comm), (pid, "ip"), "port {p:?}");
        assert_eq!(owner.to_string(), format!("pid {pid} (ip)"));
    }
    assert_eq!(map.lookup(0, 0).map(|k| k.to_string()).as_deref(), Some("kernel"));
}

#[test]
fn monitor_mode_names_the_process_whose_request_a_notification_reports() {
    if !is_root() || !Command::new("unshare").args(["-n", "true"]).status().is_ok_and(|s| s.success()) {
        eprintln!("skipped: needs root and unshare");
        return;
    }
    let dir = std::env::temp_dir().join(format!("nlscope-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (out, text, pidfile) = (dir.join("out.json"), dir.join("out.txt"), dir.join("ip.pid"));
    // In a network namespace of its own: nlscope listens, then `ip -batch -` adds an address and
    // keeps its socket open (its standard input stays open for 1.5 s more) while nlscope looks
    // the port up. `$!` of a background pipeline is its last command: ip.
    let script = format!(
        "{bin} --monitor route -T json --duration 3 > {out} & {bin} --monitor route --duration 3 > {text} & \
         sleep 0.7; \
         (echo 'link set lo up'; echo 'addr add 192.0.2.7/32 dev lo'; sleep 1.5) | ip -batch - & \
         echo $! > {pidfile}; wait",
        bin = env!("CARGO_BIN_EXE_nlscope"),
        out = out.display(),
        text = text.display(),
        pidfile = pidfile.display(),
    );
    let run = Command::new("unshare").args(["-n", "sh", "-c", &script]).output().unwrap();
    assert!(run.status.success(), "{}", stderr(&run));
    let ip_pid: u64 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let msgs: Vec<serde_json::Value> =
        std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let local = |m: &&serde_json::Value| {
        m["body"].as_array().unwrap().iter().any(|n| n["name"] == "IFA_LOCAL" && n["value"] == "192.0.2.7")
    };
    let added: Vec<_> = msgs.iter().filter(|m| m["type"] == "RTM_NEWADDR").filter(local).collect();
    assert!(!added.is_empty(), "{msgs:?}");
    for m in &added {
        assert_ne!(m["pid"], 0, "the notification carries the requester's port");
        assert_eq!(m["process"], serde_json::json!({ "pid": ip_pid, "comm": "ip" }), "{m}");
    }
    // Notifications the kernel sends of its own accord (port 0) are the kernel's.
    let kernel: Vec<_> = msgs.iter().filter(|m| m["pid"] == 0).collect();
    assert!(kernel.iter().all(|m| m["process"] == serde_json::json!({ "pid": 0, "comm": "kernel" })), "{kernel:?}");
    // Summary lines say the same.
    let text = std::fs::read_to_string(&text).unwrap();
    let line = text.lines().find(|l| l.contains("RTM_NEWADDR") && l.contains("192.0.2.7")).expect("a line");
    assert!(line.contains(&format!(" [pid {ip_pid} (ip)]  ")), "{line}");
}
