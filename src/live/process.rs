//! Which process is on the other end of a message: netlink port ids mapped to the processes that
//! own their sockets, for live capture ("who changed my routes" is answered by a port id, which
//! means nothing to a person until it is a `pid 1234 (ip)`).
//!
//! The kernel lists the netlink sockets of this network namespace with their port ids and inode
//! numbers (a NETLINK_SOCK_DIAG dump of `struct netlink_diag_msg`, linux/netlink_diag.h), and a
//! process holding a socket has a `/proc/PID/fd/N -> socket:[INODE]` link. A port is looked up
//! again when one that is not in the map appears, at most once every [`MIN_REFRESH`], so that a
//! flood of new ports does not rescan `/proc` for each message; the whole map is also rebuilt
//! when it is older than [`MAX_AGE`] (port ids are reused once their socket is closed). Port 0
//! is the kernel's. Sockets shared by several processes (inherited across fork) are attributed
//! to the lowest pid. A process that exited before its port was looked up stays unknown.
//!
//! Files record none of this: only live sources are wrapped in [`Attributed`].

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::conversation::{Conversation, HOST, Request, RequestError};
use crate::capture::{CaptureError, Direction, Frame, Process, Source};
use crate::decode::guess_direction;
use crate::netlink::header::{self, NLM_F_MATCH, NLM_F_ROOT, NLMSG_HDRLEN};

/// The soonest a port that is not in the map causes another look at the system.
pub const MIN_REFRESH: Duration = Duration::from_millis(250);
/// The oldest the map gets while ports are being looked up.
pub const MAX_AGE: Duration = Duration::from_secs(5);

const NETLINK_SOCK_DIAG: i32 = 4;
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const AF_NETLINK: u8 = 16;
/// NDIAG_PROTO_ALL: sockets of every netlink protocol.
const NDIAG_PROTO_ALL: u8 = 0xff;
/// `struct netlink_diag_msg`: family, type, protocol, state (one byte each), then portid,
/// dst_portid, dst_group, ino (u32) and a 64-bit cookie.
const DIAG_MSG_LEN: usize = 24;
const DIAG_PORTID: usize = 4;
const DIAG_INO: usize = 16;

/// Netlink ports of this network namespace and the processes that own them.
#[derive(Debug)]
pub struct ProcessMap {
    /// The socket the dumps are asked on (kept: a new one per refresh would be a new port).
    diag: Option<Conversation>,
    /// (protocol, port id) to owner.
    owners: HashMap<(u16, u32), Process>,
    kernel: Process,
    refreshed: Option<Instant>,
}

impl ProcessMap {
    /// A map filled from the system now. Without the NETLINK_SOCK_DIAG socket (a kernel without
    /// netlink_diag) it knows the kernel only.
    pub fn new() -> ProcessMap {
        let diag = Conversation::open(NETLINK_SOCK_DIAG).ok();
        let mut map = ProcessMap { diag, owners: HashMap::new(), kernel: Process::kernel(), refreshed: None };
        let _ = map.refresh();
        map
    }

    /// The owner of `port` of netlink `protocol` as last looked up; port 0 is the kernel.
    pub fn lookup(&self, protocol: u16, port: u32) -> Option<&Process> {
        if port == 0 { Some(&self.kernel) } else { self.owners.get(&(protocol, port)) }
    }

    /// [`ProcessMap::lookup`], looking at the system again first when the port is not known (or
    /// the map is old), as often as [`MIN_REFRESH`] allows.
    pub fn resolve(&mut self, protocol: u16, port: u32) -> Option<&Process> {
        let age = self.refreshed.map(|t| t.elapsed());
        let unknown = port != 0 && !self.owners.contains_key(&(protocol, port));
        let due = age.is_none_or(|a| (unknown && a >= MIN_REFRESH) || a >= MAX_AGE);
        if due && port != 0 {
            let _ = self.refresh();
        }
        self.lookup(protocol, port)
    }

    /// Rebuilds the map from the kernel's socket list and `/proc`.
    pub fn refresh(&mut self) -> Result<(), RequestError> {
        self.refreshed = Some(Instant::now());
        let diag = self.diag.as_mut().ok_or_else(|| io::Error::from(io::ErrorKind::Unsupported))?;
        let ports = dump_ports(diag)?;
        let pids = socket_owners(|inode| ports.contains_key(&inode));
        let mut comms: HashMap<u32, Arc<str>> = HashMap::new();
        self.owners.clear();
        for (inode, keys) in ports {
            let Some(&pid) = pids.get(&inode) else { continue };
            let comm = comms.entry(pid).or_insert_with(|| comm(pid)).clone();
            for key in keys {
                self.owners.insert(key, Process { pid, comm: comm.clone() });
            }
        }
        Ok(())
    }

    /// The owner of the port `frame`'s messages name: the first message's port, or the kernel
    /// for a message it sends with port 0. A request with port 0 names nobody (the sender left
    /// it to the kernel to fill in).
    pub fn owner_of(&mut self, frame: &Frame) -> Option<Process> {
        let protocol = frame.protocol()?;
        let payload = frame.payload();
        let (_, hdr) = header::walk(payload, crate::decode::guess_endianness(payload)).next()?;
        let direction = match frame.direction {
            Direction::Unknown => guess_direction(&hdr),
            known => known,
        };
        if hdr.pid == 0 && direction != Direction::ToUser {
            return None;
        }
        self.resolve(protocol, hdr.pid).cloned()
    }
}

impl Default for ProcessMap {
    fn default() -> Self {
        ProcessMap::new()
    }
}

/// Socket inode to the (protocol, port id) pairs of this namespace's netlink sockets (a socket
/// has one pair; the map is keyed by inode because `/proc` is).
fn dump_ports(diag: &mut Conversation) -> Result<HashMap<u32, Vec<(u16, u32)>>, RequestError> {
    // struct netlink_diag_req: family, protocol, pad, ino, show, cookie[2].
    let mut req = [0u8; 20];
    req[0] = AF_NETLINK;
    req[1] = NDIAG_PROTO_ALL;
    let replies = diag.request(Request::new(SOCK_DIAG_BY_FAMILY, NLM_F_ROOT | NLM_F_MATCH).bytes(&req))?;
    let mut ports: HashMap<u32, Vec<(u16, u32)>> = HashMap::new();
    for m in &replies {
        if let Some((protocol, port, inode)) = parse_diag_msg(m) {
            ports.entry(inode).or_default().push((protocol, port));
        }
    }
    Ok(ports)
}

/// (protocol, port id, inode) of one `netlink_diag_msg` reply (header included); kernel
/// sockets (port 0) and short messages are skipped.
fn parse_diag_msg(m: &[u8]) -> Option<(u16, u32, u32)> {
    let d = m.get(NLMSG_HDRLEN..NLMSG_HDRLEN + DIAG_MSG_LEN)?;
    let u32_at = |at: usize| header::read_uint(d, at..at + 4, HOST) as u32;
    let (port, inode) = (u32_at(DIAG_PORTID), u32_at(DIAG_INO));
    (port != 0 && d[0] == AF_NETLINK).then_some((u16::from(d[2]), port, inode))
}

/// The lowest pid holding each socket inode `wanted` accepts, from `/proc/*/fd`. Processes that
/// go away meanwhile, and ones whose descriptors cannot be read, are skipped.
fn socket_owners(wanted: impl Fn(u32) -> bool) -> HashMap<u32, u32> {
    let mut owners: HashMap<u32, u32> = HashMap::new();
    let Ok(proc) = std::fs::read_dir("/proc") else { return owners };
    for entry in proc.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else { continue };
        for fd in fds.flatten() {
            let Ok(target) = std::fs::read_link(fd.path()) else { continue };
            let Some(inode) = target.to_str().and_then(socket_inode).filter(|&i| wanted(i)) else { continue };
            owners.entry(inode).and_modify(|p| *p = (*p).min(pid)).or_insert(pid);
        }
    }
    owners
}

/// The inode of a `socket:[INODE]` link target.
fn socket_inode(target: &str) -> Option<u32> {
    target.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// `/proc/PID/comm` without its newline (`?` when the process is gone).
fn comm(pid: u32) -> Arc<str> {
    match std::fs::read_to_string(format!("/proc/{pid}/comm")) {
        Ok(s) => Arc::from(s.trim_end_matches('\n')),
        Err(_) => Arc::from("?"),
    }
}

/// A live source whose frames say who owns the port their messages name.
pub struct Attributed<S> {
    inner: S,
    /// `None`: frames pass as they are (nothing is printed, so nobody would read it).
    pub processes: Option<ProcessMap>,
}

impl<S> Attributed<S> {
    /// Wraps `inner`; with `attribute` false, frames pass through untouched.
    pub fn new(inner: S, attribute: bool) -> Self {
        Attributed { inner, processes: attribute.then(ProcessMap::new) }
    }
}

impl<S: Source> Source for Attributed<S> {
    fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>> {
        let read = self.inner.read_into(frame)?;
        if let (Ok(()), Some(map)) = (&read, self.processes.as_mut()) {
            frame.process = map.owner_of(frame);
        }
        Some(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_owns_a_socket_it_opens() {
        let fd = super::super::sys::netlink_socket(libc::NETLINK_ROUTE).unwrap();
        let port = super::super::sys::bind_netlink(&fd, 0).unwrap();
        let map = ProcessMap::new();
        if map.diag.is_none() {
            eprintln!("skipped: no NETLINK_SOCK_DIAG socket");
            return;
        }
        let me = map.lookup(0, port).expect("the socket is listed");
        assert_eq!(me.pid, std::process::id());
        assert_eq!(*me.comm, *comm(std::process::id()));
        assert_ne!(&*me.comm, "?");
    }

    #[test]
    fn socket_links_and_diag_messages_parse() {
        assert_eq!(socket_inode("socket:[123456]"), Some(123_456));
        assert_eq!(socket_inode("pipe:[5]"), None);
        assert_eq!(socket_inode("socket:[12"), None);
        let mut m = vec![0u8; NLMSG_HDRLEN + DIAG_MSG_LEN];
        let d = NLMSG_HDRLEN;
        m[d] = AF_NETLINK;
        m[d + 2] = 16; // NETLINK_GENERIC
        m[d + DIAG_PORTID..d + DIAG_PORTID + 4].copy_from_slice(&4242u32.to_ne_bytes());
        m[d + DIAG_INO..d + DIAG_INO + 4].copy_from_slice(&777u32.to_ne_bytes());
        assert_eq!(parse_diag_msg(&m), Some((16, 4242, 777)));
        assert_eq!(parse_diag_msg(&m[..m.len() - 1]), None, "short");
        m[d + DIAG_PORTID..d + DIAG_PORTID + 4].copy_from_slice(&0u32.to_ne_bytes());
        assert_eq!(parse_diag_msg(&m), None, "the kernel's own socket");
    }

    #[test]
    fn port_zero_is_the_kernel_and_requests_that_leave_it_zero_name_nobody() {
        let mut map = ProcessMap {
            diag: None,
            owners: HashMap::new(),
            kernel: Process::kernel(),
            refreshed: Some(Instant::now()),
        };
        assert_eq!(map.lookup(0, 0).map(|p| p.to_string()).as_deref(), Some("kernel"));
        map.owners.insert((0, 99), Process { pid: 1234, comm: Arc::from("ip") });
        assert_eq!(map.lookup(0, 99).map(|p| p.to_string()).as_deref(), Some("pid 1234 (ip)"));
        assert_eq!(map.lookup(16, 99), None, "port ids are per protocol");
        let frame = |flags: u16, pid: u32| {
            let mut msg = vec![0u8; NLMSG_HDRLEN];
            msg[0..4].copy_from_slice(&16u32.to_ne_bytes());
            msg[4..6].copy_from_slice(&16u16.to_ne_bytes());
            msg[6..8].copy_from_slice(&flags.to_ne_bytes());
            msg[12..16].copy_from_slice(&pid.to_ne_bytes());
            let mut f = Frame::empty();
            f.fill_netlink(1, crate::capture::Timestamp::default(), 0, Direction::Unknown, &msg, msg.len());
            f
        };
        let request = header::NLM_F_REQUEST;
        assert_eq!(map.owner_of(&frame(0, 0)), Some(Process::kernel()), "a notification");
        assert_eq!(map.owner_of(&frame(request, 0)), None, "a request that left its port to the kernel");
        assert_eq!(map.owner_of(&frame(request, 99)).map(|p| p.pid), Some(1234));
        assert_eq!(map.owner_of(&frame(0, 99)).map(|p| p.pid), Some(1234), "a reply to port 99");
    }
}
