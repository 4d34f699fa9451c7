//! Asking the kernel things over netlink: building requests and reading their answers (the
//! replies, up to the ACK, the error or the end of a dump). Used to create and remove the nlmon
//! device, to list devices, and to learn generic netlink families and their multicast groups.

use std::io;
use std::os::fd::OwnedFd;

use super::sys;
use crate::netlink::attr::{self, NLA_F_NESTED};
use crate::netlink::header::{self, NLM_F_ACK, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN};

/// This host's byte order, which netlink uses.
pub const HOST: nom::number::Endianness =
    if cfg!(target_endian = "big") { nom::number::Endianness::Big } else { nom::number::Endianness::Little };

/// A netlink message under construction (host byte order, as the kernel expects).
#[derive(Debug, Clone)]
pub struct Request {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl Request {
    pub fn new(ty: u16, flags: u16) -> Self {
        let mut buf = vec![0; NLMSG_HDRLEN];
        buf[4..6].copy_from_slice(&ty.to_ne_bytes());
        buf[6..8].copy_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
        Request { buf, nests: Vec::new() }
    }

    /// Appends a fixed header or other bytes, padded to 4.
    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.buf.extend_from_slice(b);
        self.buf.resize(attr::align(self.buf.len()), 0);
        self
    }

    pub fn attr(mut self, ty: u16, payload: &[u8]) -> Self {
        let len = (attr::NLA_HDRLEN + payload.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.buf.resize(attr::align(self.buf.len()), 0);
        self
    }

    /// A string attribute, NUL-terminated.
    pub fn attr_str(self, ty: u16, s: &str) -> Self {
        let mut b = s.as_bytes().to_vec();
        b.push(0);
        self.attr(ty, &b)
    }

    pub fn begin_nest(mut self, ty: u16) -> Self {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0]);
        self.buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    pub fn end_nest(mut self) -> Self {
        let start = self.nests.pop().expect("a nest was begun");
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// Why a request failed.
#[derive(Debug)]
pub enum RequestError {
    /// The socket failed.
    Io(io::Error),
    /// The kernel said no: the errno and the extended ACK's message, if it gave one.
    Kernel { errno: i32, message: Option<String> },
}

impl RequestError {
    pub fn errno(&self) -> Option<i32> {
        match self {
            RequestError::Io(e) => e.raw_os_error(),
            RequestError::Kernel { errno, .. } => Some(*errno),
        }
    }
}

impl std::fmt::Display for RequestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RequestError::Io(e) => write!(f, "{e}"),
            RequestError::Kernel { errno, message } => {
                let (name, text) = crate::netlink::errno::lookup(errno.unsigned_abs()).unwrap_or(("?", "unknown"));
                write!(f, "{name} ({text})")?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
        }
    }
}

impl From<io::Error> for RequestError {
    fn from(e: io::Error) -> Self {
        RequestError::Io(e)
    }
}

/// A datagram of a conversation: true when sent to the kernel.
pub type Datagram = (bool, Vec<u8>);

/// A netlink socket for requests.
#[derive(Debug)]
pub struct Conversation {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
    /// When recording: every datagram sent (true) and received (false), in order.
    pub record: Option<Vec<Datagram>>,
}

/// NETLINK_CAP_ACK and NETLINK_EXT_ACK (linux/netlink.h): short ACKs with the error's text.
const NETLINK_CAP_ACK: i32 = 10;
const NETLINK_EXT_ACK: i32 = 11;
const NLMSGERR_ATTR_MSG: u16 = 1;

impl Conversation {
    pub fn open(protocol: i32) -> io::Result<Self> {
        let fd = sys::netlink_socket(protocol)?;
        sys::bind_netlink(&fd, 0)?;
        let _ = sys::set_int_option(&fd, libc::SOL_NETLINK, NETLINK_CAP_ACK, 1);
        let _ = sys::set_int_option(&fd, libc::SOL_NETLINK, NETLINK_EXT_ACK, 1);
        Ok(Conversation { fd, seq: 1, buf: vec![0; 1 << 16], record: None })
    }

    /// Sends `req` with NLM_F_ACK and returns every reply message (header included) until the
    /// ACK, or until NLMSG_DONE for a dump. A dump interrupted by a change is asked again.
    pub fn request(&mut self, req: Request) -> Result<Vec<Vec<u8>>, RequestError> {
        for _ in 0..3 {
            let (replies, interrupted) = self.exchange(req.clone())?;
            if !interrupted {
                return Ok(replies);
            }
        }
        let (replies, _) = self.exchange(req)?;
        Ok(replies)
    }

    fn exchange(&mut self, req: Request) -> Result<(Vec<Vec<u8>>, bool), RequestError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut bytes = req.finish(seq);
        let flags = u16::from_ne_bytes([bytes[6], bytes[7]]) | NLM_F_ACK;
        bytes[6..8].copy_from_slice(&flags.to_ne_bytes());
        sys::send_to_kernel(&self.fd, &bytes)?;
        if let Some(r) = self.record.as_mut() {
            r.push((true, bytes));
        }
        let mut replies = Vec::new();
        let mut interrupted = false;
        loop {
            let got = sys::receive(&self.fd, &mut self.buf)?;
            if got.orig_len > self.buf.len() {
                self.buf.resize(got.orig_len.next_power_of_two(), 0);
                continue;
            }
            let data = &self.buf[..got.len];
            if let Some(r) = self.record.as_mut() {
                r.push((false, data.to_vec()));
            }
            for (pos, hdr) in header::walk(data, HOST) {
                if hdr.seq != seq {
                    continue;
                }
                let msg = &data[pos..pos + hdr.len as usize];
                interrupted |= hdr.flags & NLM_F_DUMP_INTR != 0;
                match hdr.ty {
                    NLMSG_ERROR => {
                        let errno = msg.get(16..20).map_or(0, |b| i32::from_ne_bytes(b.try_into().expect("4 bytes")));
                        if errno == 0 {
                            return Ok((replies, interrupted));
                        }
                        return Err(RequestError::Kernel { errno, message: ext_ack_message(msg) });
                    }
                    NLMSG_DONE => return Ok((replies, interrupted)),
                    _ => replies.push(msg.to_vec()),
                }
            }
        }
    }
}

/// NLMSGERR_ATTR_MSG of a (capped) error message.
fn ext_ack_message(msg: &[u8]) -> Option<String> {
    // nlmsghdr, the error, the echoed request's header (capped), then the TLVs.
    let tlvs = msg.get(NLMSG_HDRLEN + 4 + NLMSG_HDRLEN..)?;
    attr::attrs(tlvs, HOST).flatten().find(|a| a.ty == NLMSGERR_ATTR_MSG).map(|a| {
        let end = a.payload.iter().position(|&b| b == 0).unwrap_or(a.payload.len());
        String::from_utf8_lossy(&a.payload[..end]).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_laid_out_as_netlink() {
        let r = Request::new(16, 0).bytes(&[0; 16]).attr_str(3, "x").begin_nest(18).attr_str(1, "nlmon").end_nest();
        let b = r.finish(7);
        assert_eq!(u32::from_ne_bytes(b[0..4].try_into().unwrap()) as usize, b.len());
        assert_eq!(u32::from_ne_bytes(b[8..12].try_into().unwrap()), 7);
        // ifinfomsg (16), IFLA_IFNAME "x\0" (8 with padding), IFLA_LINKINFO nest of 4 + 12.
        assert_eq!(b.len(), 16 + 16 + 8 + 16);
        assert_eq!(u16::from_ne_bytes(b[40..42].try_into().unwrap()), 16);
        assert_eq!(u16::from_ne_bytes(b[42..44].try_into().unwrap()), 18 | NLA_F_NESTED);
    }

    #[test]
    fn the_kernel_lists_its_devices() {
        let mut c = Conversation::open(libc::NETLINK_ROUTE).unwrap();
        // RTM_GETLINK dump with a struct ifinfomsg.
        let links = c.request(Request::new(18, header::NLM_F_ROOT | header::NLM_F_MATCH).bytes(&[0; 16])).unwrap();
        assert!(!links.is_empty());
    }
}
