//! The one place nlscope calls the operating system directly: netlink and packet sockets, their
//! options, and receiving with the kernel's ancillary data (timestamps, the link-layer address,
//! the namespace id). Each function is a safe wrapper over one or two system calls whose
//! arguments it builds itself, so that every `unsafe` block is small enough to check against the
//! man page beside it (socket(2), bind(2), setsockopt(2), recvmsg(2), packet(7), netlink(7)).
//! The rest of the crate forbids unsafe code.

#![allow(unsafe_code)]

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 { Err(io::Error::last_os_error()) } else { Ok(ret) }
}

fn check_size(ret: libc::ssize_t) -> io::Result<usize> {
    if ret < 0 { Err(io::Error::last_os_error()) } else { Ok(ret as usize) }
}

fn socket(domain: libc::c_int, protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes plain integers; a non-negative result is a new descriptor we own.
    let fd = check(unsafe { libc::socket(domain, libc::SOCK_RAW | libc::SOCK_CLOEXEC, protocol) })?;
    // SAFETY: `fd` was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A netlink socket of `protocol` (NETLINK_ROUTE...).
pub fn netlink_socket(protocol: i32) -> io::Result<OwnedFd> {
    socket(libc::AF_NETLINK, protocol)
}

/// A packet socket receiving every protocol (ETH_P_ALL), not yet bound to a device.
pub fn packet_socket() -> io::Result<OwnedFd> {
    socket(libc::AF_PACKET, i32::from((libc::ETH_P_ALL as u16).to_be()))
}

/// Binds a netlink socket (the kernel picks the port id) to `groups` (the legacy bit mask) and
/// returns its port id.
pub fn bind_netlink(fd: &OwnedFd, groups: u32) -> io::Result<u32> {
    // SAFETY: sockaddr_nl is plain data; zeroed is a valid value for it.
    let mut addr: libc::sockaddr_nl = unsafe { zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    addr.nl_groups = groups;
    let len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: `addr` is a valid sockaddr_nl of `len` bytes for the whole call.
    check(unsafe { libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len) })?;
    let mut bound_len = len;
    // SAFETY: getsockname writes at most `bound_len` bytes into `addr`, which has that many.
    check(unsafe { libc::getsockname(fd.as_raw_fd(), (&raw mut addr).cast(), &mut bound_len) })?;
    Ok(addr.nl_pid)
}

/// Binds a packet socket to the device with index `ifindex`.
pub fn bind_packet(fd: &OwnedFd, ifindex: i32) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain data; zeroed is a valid value for it.
    let mut addr: libc::sockaddr_ll = unsafe { zeroed() };
    addr.sll_family = libc::AF_PACKET as u16;
    addr.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    addr.sll_ifindex = ifindex;
    let len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `addr` is a valid sockaddr_ll of `len` bytes for the whole call.
    check(unsafe { libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len) })?;
    Ok(())
}

/// Sets an integer socket option.
pub fn set_int_option(fd: &OwnedFd, level: i32, name: i32, value: i32) -> io::Result<()> {
    let len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the option value is one c_int that lives across the call.
    check(unsafe { libc::setsockopt(fd.as_raw_fd(), level, name, (&raw const value).cast(), len) })?;
    Ok(())
}

/// Asks for a large receive buffer: past the system limit when allowed (CAP_NET_ADMIN), else as
/// large as the limit lets.
pub fn grow_receive_buffer(fd: &OwnedFd, bytes: i32) {
    if set_int_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes).is_err() {
        let _ = set_int_option(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, bytes);
    }
}

/// A packet socket's counters since they were last read: (packets received, packets dropped).
pub fn packet_statistics(fd: &OwnedFd) -> io::Result<(u32, u32)> {
    // SAFETY: tpacket_stats is plain data; zeroed is valid.
    let mut stats: libc::tpacket_stats = unsafe { zeroed() };
    let mut len = size_of::<libc::tpacket_stats>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `stats`, which has that many.
    check(unsafe {
        libc::getsockopt(fd.as_raw_fd(), libc::SOL_PACKET, libc::PACKET_STATISTICS, (&raw mut stats).cast(), &mut len)
    })?;
    Ok((stats.tp_packets, stats.tp_drops))
}

/// Sends one datagram to the kernel (netlink port 0).
pub fn send_to_kernel(fd: &OwnedFd, data: &[u8]) -> io::Result<usize> {
    // SAFETY: sockaddr_nl is plain data; zeroed (port 0, no groups) addresses the kernel.
    let mut addr: libc::sockaddr_nl = unsafe { zeroed() };
    addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    let len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: `data` and `addr` are valid for the lengths given throughout the call.
    check_size(unsafe {
        libc::sendto(fd.as_raw_fd(), data.as_ptr().cast(), data.len(), 0, (&raw const addr).cast(), len)
    })
}

/// What one received datagram was, besides its bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Received {
    /// Bytes stored in the buffer.
    pub len: usize,
    /// Bytes the datagram had (more than `len` when the buffer was too small).
    pub orig_len: usize,
    /// Packet sockets: the link-layer protocol (for nlmon, the netlink protocol), host order.
    pub protocol: u16,
    pub pkttype: u8,
    pub hatype: u16,
    pub ifindex: i32,
    /// The kernel's receive time (SO_TIMESTAMPNS), when it gave one.
    pub time: Option<(i64, u32)>,
    /// Netlink sockets with NETLINK_LISTEN_ALL_NSID: the namespace id the message came from.
    pub nsid: Option<i32>,
}

/// Receives one datagram into `buf` with its source address and ancillary data.
pub fn receive(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<Received> {
    // SAFETY: sockaddr_storage and msghdr are plain data; zeroed is valid for both.
    let mut name: libc::sockaddr_storage = unsafe { zeroed() };
    let mut control = [0u64; 16];
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&raw mut name).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &raw mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>();
    // SAFETY: every pointer in `msg` refers to a live buffer of the length stored beside it;
    // MSG_TRUNC makes the result the datagram's real length.
    let orig_len = check_size(unsafe { libc::recvmsg(fd.as_raw_fd(), &raw mut msg, libc::MSG_TRUNC) })?;
    let mut r = Received { len: orig_len.min(buf.len()), orig_len, ..Received::default() };
    if i32::from(name.ss_family) == libc::AF_PACKET {
        // SAFETY: the kernel filled `name` with a sockaddr_ll (its family says so), which fits in
        // sockaddr_storage.
        let ll = unsafe { &*(&raw const name).cast::<libc::sockaddr_ll>() };
        r.protocol = u16::from_be(ll.sll_protocol);
        r.pkttype = ll.sll_pkttype;
        r.hatype = ll.sll_hatype;
        r.ifindex = ll.sll_ifindex;
    }
    // SAFETY: CMSG_FIRSTHDR/CMSG_NXTHDR walk the control buffer the kernel filled, within
    // msg_controllen; each header's data is read only as the type its level and type declare.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&raw const msg);
        while !c.is_null() {
            let (level, ty) = ((*c).cmsg_level, (*c).cmsg_type);
            let data = libc::CMSG_DATA(c);
            if level == libc::SOL_SOCKET && ty == libc::SCM_TIMESTAMPNS {
                let ts = data.cast::<libc::timespec>().read_unaligned();
                r.time = Some((ts.tv_sec, ts.tv_nsec as u32));
            } else if level == libc::SOL_NETLINK && ty == libc::NETLINK_LISTEN_ALL_NSID {
                r.nsid = Some(data.cast::<libc::c_int>().read_unaligned());
            }
            c = libc::CMSG_NXTHDR(&raw const msg, c);
        }
    }
    Ok(r)
}

/// Waits until one of `fds` is readable or `timeout_ms` passes; returns which are readable.
pub fn wait_readable(fds: &[&OwnedFd], timeout_ms: i32) -> io::Result<Vec<bool>> {
    let mut polls: Vec<libc::pollfd> =
        fds.iter().map(|fd| libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 }).collect();
    // SAFETY: `polls` holds `polls.len()` valid pollfd entries for the whole call.
    match check(unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, timeout_ms) }) {
        Ok(_) => Ok(polls.iter().map(|p| p.revents & (libc::POLLIN | libc::POLLERR) != 0).collect()),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(vec![false; fds.len()]),
        Err(e) => Err(e),
    }
}

/// What a terminal's descriptor has after a wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TerminalInput {
    /// Bytes to read (keys, mouse).
    Ready,
    Timeout,
    /// The terminal hung up (its window or server went away): nothing will come.
    HungUp,
}

/// Waits up to `timeout_ms` for input on a terminal descriptor (the terminal UI's keys). Reading
/// a hung-up terminal returns nothing forever, which crossterm would take for input over and over:
/// this says so instead.
pub fn wait_for_terminal(fd: &OwnedFd, timeout_ms: i32) -> io::Result<TerminalInput> {
    let mut p = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: `p` is one valid pollfd entry for the whole call.
    match check(unsafe { libc::poll(&mut p, 1, timeout_ms) }) {
        Ok(0) => Ok(TerminalInput::Timeout),
        Ok(_) if p.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 => Ok(TerminalInput::HungUp),
        Ok(_) => Ok(TerminalInput::Ready),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(TerminalInput::Timeout),
        Err(e) => Err(e),
    }
}

/// The index of the network device named `name`, if there is one.
pub fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a NUL-terminated string that lives across the call.
    let index = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (index != 0).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_netlink_socket_binds_and_gets_a_port() {
        let fd = netlink_socket(libc::NETLINK_ROUTE).unwrap();
        let port = bind_netlink(&fd, 0).unwrap();
        assert_ne!(port, 0);
        assert_eq!(interface_index("lo"), Some(1));
        assert_eq!(interface_index("no-such-device-here"), None);
    }
}
