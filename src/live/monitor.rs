//! Monitor mode: no nlmon device, one netlink socket per family joined to every multicast group
//! it has — all rtnetlink groups, every generic family's groups (learned from nlctrl, and those
//! of families registered later), the nfnetlink groups, xfrm, selinux, kobject uevents (kernel
//! and udev), audit's read-log group, and the proc connector (which needs a subscribe message).
//! This is how AUDIT, KOBJECT_UEVENT, SELINUX and CONNECTOR traffic is recorded at all. Every
//! frame is a notification to user space (its direction is known). A full receive buffer loses
//! notifications (ENOBUFS): counted and reported, never ignored.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::genl::parse_family;
use super::{Counters, LiveError, Stop, now, sys};
use crate::capture::{CaptureError, Direction, Frame, Source, Timestamp};
use crate::netlink::header::{self, NLMSG_DONE, NLMSG_HDRLEN};
use crate::netlink::protocol;

/// Group numbers from the 6.1 uapi headers: RTNLGRP_MAX, NFNLGRP_MAX, XFRMNLGRP_MAX,
/// SELNLGRP_AVC, AUDIT_NLGRP_READLOG, the uevent kernel and udev groups, CN_IDX_PROC.
const RTNLGRP_MAX: u32 = 36;
const NFNLGRP_MAX: u32 = 9;
const XFRMNLGRP_MAX: u32 = 8;

const NETLINK_ADD_MEMBERSHIP: i32 = 1;
const NETLINK_LISTEN_ALL_NSID: i32 = 8;
const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_NEWFAMILY: u8 = 1;
const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
const PROC_CN_MCAST_LISTEN: u32 = 1;
const RECEIVE_BUFFER: i32 = 64 << 20;
const POLL_MS: i32 = 100;

/// The families monitor mode listens to, by protocol number, with their groups (generic
/// netlink's are learned at run time).
fn groups(protocol: i32) -> Vec<u32> {
    match protocol {
        libc::NETLINK_ROUTE => (1..=RTNLGRP_MAX).collect(),
        libc::NETLINK_NETFILTER => (1..=NFNLGRP_MAX).collect(),
        libc::NETLINK_XFRM => (1..=XFRMNLGRP_MAX).collect(),
        libc::NETLINK_SELINUX | libc::NETLINK_AUDIT => vec![1],
        libc::NETLINK_KOBJECT_UEVENT => vec![1, 2],
        libc::NETLINK_CONNECTOR => vec![CN_IDX_PROC],
        _ => Vec::new(),
    }
}

/// Every family monitor mode can listen to.
pub const ALL: &[i32] = &[
    libc::NETLINK_ROUTE,
    libc::NETLINK_GENERIC,
    libc::NETLINK_NETFILTER,
    libc::NETLINK_XFRM,
    libc::NETLINK_SELINUX,
    libc::NETLINK_KOBJECT_UEVENT,
    libc::NETLINK_AUDIT,
    libc::NETLINK_CONNECTOR,
];

/// A family name (`route`, `NETLINK_ROUTE`, `uevent`...) as `--monitor` takes it.
pub fn family_by_name(name: &str) -> Option<i32> {
    let n = match name.to_ascii_lowercase().as_str() {
        "uevent" | "uevents" => "kobject_uevent".to_string(),
        "genl" => "generic".to_string(),
        "nfnetlink" | "nf" => "netfilter".to_string(),
        other => other.to_string(),
    };
    let p = i32::from(protocol::by_name(&n)?);
    ALL.contains(&p).then_some(p)
}

struct Listener {
    protocol: i32,
    fd: OwnedFd,
}

/// Notifications from the multicast groups of every family asked for.
pub struct MonitorSource {
    listeners: Vec<Listener>,
    buf: Vec<u8>,
    number: u64,
    stop: Stop,
    pub counters: Arc<Counters>,
    /// Families that could not be listened to, and why (reported once at the start).
    pub skipped: Vec<String>,
    /// Where the next wait starts looking, so that no family starves the others.
    next: usize,
    joined_genl: Vec<u32>,
    /// nlscope's own nlctrl dump (to the kernel: true), handed out as the first frames so that
    /// what is recorded names the generic families.
    prelude: std::collections::VecDeque<(bool, Vec<u8>)>,
}

fn join(fd: &OwnedFd, group: u32) -> std::io::Result<()> {
    sys::set_int_option(fd, libc::SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group as i32)
}

/// The proc connector's subscription: a cn_msg asking for process events.
fn proc_connector_listen() -> Vec<u8> {
    let mut m = vec![0u8; NLMSG_HDRLEN];
    let total = (NLMSG_HDRLEN + 20 + 4) as u32;
    m[0..4].copy_from_slice(&total.to_ne_bytes());
    m[4..6].copy_from_slice(&NLMSG_DONE.to_ne_bytes());
    for v in [CN_IDX_PROC, CN_VAL_PROC, 0, 0] {
        m.extend_from_slice(&v.to_ne_bytes());
    }
    m.extend_from_slice(&4u16.to_ne_bytes()); // len
    m.extend_from_slice(&0u16.to_ne_bytes()); // flags
    m.extend_from_slice(&PROC_CN_MCAST_LISTEN.to_ne_bytes());
    m
}

impl MonitorSource {
    /// Opens a socket per family in `families` (protocol numbers) and joins their groups.
    pub fn open(families: &[i32], stop: Stop) -> Result<MonitorSource, LiveError> {
        let mut listeners = Vec::new();
        let mut skipped = Vec::new();
        let mut joined_genl = Vec::new();
        let mut prelude = std::collections::VecDeque::new();
        for &p in families {
            let name = protocol::lower_name(p as u16).unwrap_or("?");
            let fd = match sys::netlink_socket(p) {
                Ok(fd) => fd,
                Err(e) => {
                    skipped.push(format!("{name}: {e}"));
                    continue;
                }
            };
            if let Err(e) = sys::bind_netlink(&fd, 0) {
                skipped.push(format!("{name}: {e}"));
                continue;
            }
            sys::grow_receive_buffer(&fd, RECEIVE_BUFFER);
            // Notifications from other network namespaces too, with their namespace id.
            if p == libc::NETLINK_ROUTE || p == libc::NETLINK_NETFILTER {
                let _ = sys::set_int_option(&fd, libc::SOL_NETLINK, NETLINK_LISTEN_ALL_NSID, 1);
            }
            let mut groups = groups(p);
            if p == libc::NETLINK_GENERIC {
                match super::genl::families_recorded() {
                    Ok((families, datagrams)) => {
                        groups.extend(families.iter().flat_map(|f| f.groups.iter().map(|g| g.1)));
                        prelude.extend(datagrams);
                    }
                    Err(e) => skipped.push(format!("generic netlink families: {e}")),
                }
                joined_genl.clone_from(&groups);
            }
            let mut joined = 0;
            let mut refused = None;
            for g in groups {
                match join(&fd, g) {
                    Ok(()) => joined += 1,
                    Err(e) => refused = Some(e),
                }
            }
            if joined == 0 {
                let audit = refused.is_some() && p == libc::NETLINK_AUDIT;
                let why = refused.map_or("no multicast group".to_string(), |e| e.to_string());
                if audit {
                    skipped.push(format!("{name}: {why} (reading the audit log needs CAP_AUDIT_READ)"));
                } else {
                    skipped.push(format!("{name}: {why}"));
                }
                continue;
            }
            if p == libc::NETLINK_CONNECTOR
                && let Err(e) = sys::send_to_kernel(&fd, &proc_connector_listen())
            {
                skipped.push(format!("connector: the proc connector subscription failed: {e}"));
            }
            listeners.push(Listener { protocol: p, fd });
        }
        if listeners.is_empty() {
            let why = skipped.join("; ");
            return Err(LiveError::from_io(
                &format!("listening to netlink notifications ({why})"),
                "CAP_NET_ADMIN",
                std::io::Error::from_raw_os_error(libc::EPERM),
            ));
        }
        Ok(MonitorSource {
            listeners,
            buf: vec![0; 1 << 20],
            number: 0,
            stop,
            counters: Arc::default(),
            skipped,
            next: 0,
            joined_genl,
            prelude,
        })
    }

    /// The families listened to.
    pub fn families(&self) -> Vec<&'static str> {
        self.listeners.iter().filter_map(|l| protocol::lower_name(l.protocol as u16)).collect()
    }

    /// Joins the groups of generic families that nlctrl announces as they register.
    fn follow_new_families(&mut self, payload: &[u8]) {
        let Some(genl) = self.listeners.iter().find(|l| l.protocol == libc::NETLINK_GENERIC) else { return };
        for (pos, hdr) in header::walk(payload, super::conversation::HOST) {
            let body = &payload[pos + NLMSG_HDRLEN..pos + hdr.len as usize];
            if hdr.ty != GENL_ID_CTRL || body.first() != Some(&CTRL_CMD_NEWFAMILY) || body.len() < 4 {
                continue;
            }
            if let Some(f) = parse_family(&body[4..]) {
                for (_, id) in f.groups {
                    if !self.joined_genl.contains(&id) && join(&genl.fd, id).is_ok() {
                        self.joined_genl.push(id);
                    }
                }
            }
        }
    }
}

impl Source for MonitorSource {
    fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>> {
        if let Some((to_kernel, bytes)) = self.prelude.pop_front() {
            self.number += 1;
            let direction = if to_kernel { Direction::ToKernel } else { Direction::ToUser };
            frame.fill_netlink(self.number, now(), libc::NETLINK_GENERIC as u16, direction, &bytes, bytes.len());
            self.counters.frames.fetch_add(1, Ordering::Relaxed);
            return Some(Ok(()));
        }
        loop {
            if self.stop.requested() {
                return None;
            }
            let fds: Vec<&OwnedFd> = self.listeners.iter().map(|l| &l.fd).collect();
            let ready = match sys::wait_readable(&fds, POLL_MS) {
                Ok(r) => r,
                Err(e) => return Some(Err(CaptureError::Io { what: "monitor sockets".into(), source: e })),
            };
            let n = self.listeners.len();
            let Some(i) = (0..n).map(|k| (self.next + k) % n).find(|&i| ready[i]) else { continue };
            self.next = (i + 1) % n;
            let protocol = self.listeners[i].protocol;
            let got = match sys::receive(&self.listeners[i].fd, &mut self.buf) {
                Ok(got) => got,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    // The socket's buffer overflowed: notifications are gone. Say so and go on.
                    self.counters.lost_notifications.fetch_add(1, Ordering::Relaxed);
                    let name = protocol::name(protocol as u16).unwrap_or("?");
                    eprintln!(
                        "nlscope: {name} notifications were LOST: the receive buffer overflowed (ENOBUFS, {} times so far)",
                        Counters::get(&self.counters.lost_notifications)
                    );
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(CaptureError::Io { what: "monitor socket".into(), source: e })),
            };
            if got.orig_len > got.len {
                self.counters.cut.fetch_add(1, Ordering::Relaxed);
            }
            self.number += 1;
            let time = got.time.map_or_else(now, |(secs, nanos)| Timestamp { secs, nanos });
            let payload = &self.buf[..got.len];
            frame.fill_netlink(self.number, time, protocol as u16, Direction::ToUser, payload, got.orig_len);
            frame.nsid = got.nsid;
            if protocol == libc::NETLINK_GENERIC {
                let payload = payload.to_vec();
                self.follow_new_families(&payload);
            }
            self.counters.frames.fetch_add(1, Ordering::Relaxed);
            return Some(Ok(()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_names() {
        assert_eq!(family_by_name("route"), Some(libc::NETLINK_ROUTE));
        assert_eq!(family_by_name("uevent"), Some(libc::NETLINK_KOBJECT_UEVENT));
        assert_eq!(family_by_name("NETLINK_AUDIT"), Some(libc::NETLINK_AUDIT));
        assert_eq!(family_by_name("sock_diag"), None, "no notifications");
    }

    #[test]
    fn proc_connector_subscription_is_a_cn_msg() {
        let m = proc_connector_listen();
        assert_eq!(m.len(), 16 + 20 + 4);
        assert_eq!(u32::from_ne_bytes(m[0..4].try_into().unwrap()), 40);
    }
}
