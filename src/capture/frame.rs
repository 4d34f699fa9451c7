//! The unit every source produces: one captured record with its netlink protocol number and time.
//!
//! Live and file sources both produce [`Frame`]s, so everything downstream is tested on files.

use std::fmt;
use std::sync::Arc;

/// The pkttype nlmon gives every frame (the kernel overwrites the real direction).
const PACKET_OUTGOING: u16 = 4;

/// Who sent a message, as far as anyone can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToKernel,
    ToUser,
    Unknown,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToKernel => "to-kernel",
            Direction::ToUser => "to-user",
            Direction::Unknown => "unknown",
        }
    }
}

/// The process at the user end of a frame's messages: the owner of the netlink socket whose port
/// their headers name (the sender of a request, the receiver of a reply, the requester whose
/// change a notification reports). Only live capture knows it (`live::process`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    /// 0 for the kernel.
    pub pid: u32,
    /// The process's name (`/proc/PID/comm`), `kernel` for the kernel.
    pub comm: Arc<str>,
}

impl Process {
    /// The kernel, which owns port 0 of every protocol.
    pub fn kernel() -> Process {
        Process { pid: 0, comm: Arc::from("kernel") }
    }

    pub fn is_kernel(&self) -> bool {
        self.pid == 0
    }
}

impl fmt::Display for Process {
    /// `pid 1234 (ip)`, or `kernel`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_kernel() { f.write_str("kernel") } else { write!(f, "pid {} ({})", self.pid, self.comm) }
    }
}

/// Seconds and nanoseconds since the Unix epoch (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Timestamp {
    pub secs: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn from_duration(d: std::time::Duration) -> Self {
        Timestamp { secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: d.subsec_nanos() }
    }

    /// Nanoseconds from `earlier` to `self` (negative if `self` is earlier).
    pub fn nanos_since(&self, earlier: &Timestamp) -> i128 {
        (i128::from(self.secs) - i128::from(earlier.secs)) * 1_000_000_000 + i128::from(self.nanos)
            - i128::from(earlier.nanos)
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC with nanoseconds: `2026-11-24T11:16:57.123456789Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z", rem / 3600, rem % 3600 / 60, rem % 60, self.nanos)
    }
}

/// Gregorian date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// What the link-layer header said about a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// Netlink data starts at `payload_offset`, for netlink protocol `protocol`.
    Netlink { protocol: u16, payload_offset: usize },
    /// The record is not netlink or its link-layer header is broken; the reason says which.
    NotNetlink(String),
}

/// One captured record.
#[derive(Debug, Clone)]
pub struct Frame {
    /// 1-based position in the capture.
    pub number: u64,
    pub timestamp: Timestamp,
    /// The pcap link type of the record (253, 113 or 276 for netlink).
    pub linktype: u32,
    pub link: Link,
    /// Known when the source recorded it (frames nlscope captured itself); else inferred later.
    pub direction: Direction,
    /// The whole captured record, link-layer header included.
    pub data: Vec<u8>,
    /// The length on the wire; larger than `data.len()` when the capture cut the record short.
    pub original_len: usize,
    /// Monitor mode: the id of the network namespace a notification came from, when it was
    /// another one (NETLINK_LISTEN_ALL_NSID).
    pub nsid: Option<i32>,
    /// Live capture: who owns the port the frame's messages name, when that is known.
    pub process: Option<Process>,
}

impl Frame {
    /// A frame with no data, to read into.
    pub fn empty() -> Self {
        Frame {
            number: 0,
            timestamp: Timestamp::default(),
            linktype: 0,
            link: Link::NotNetlink(String::new()),
            direction: Direction::Unknown,
            data: Vec::new(),
            original_len: 0,
            nsid: None,
            process: None,
        }
    }

    /// The netlink bytes after the link-layer header (empty for non-netlink records).
    pub fn payload(&self) -> &[u8] {
        match self.link {
            Link::Netlink { payload_offset, .. } => self.data.get(payload_offset..).unwrap_or(&[]),
            Link::NotNetlink(_) => &[],
        }
    }

    /// Makes this a LINKTYPE_NETLINK frame of `protocol` holding `payload` (live sources), reusing
    /// the frame's memory. `orig_len` is the payload's length before any cut.
    pub fn fill_netlink(
        &mut self,
        number: u64,
        timestamp: Timestamp,
        protocol: u16,
        direction: Direction,
        payload: &[u8],
        orig_len: usize,
    ) {
        let header = super::linktype::netlink_header(protocol, PACKET_OUTGOING);
        self.number = number;
        self.timestamp = timestamp;
        self.linktype = super::linktype::LINKTYPE_NETLINK;
        self.direction = direction;
        self.data.clear();
        self.data.extend_from_slice(&header);
        self.data.extend_from_slice(payload);
        self.original_len = header.len() + orig_len.max(payload.len());
        self.link = Link::Netlink { protocol, payload_offset: header.len() };
        self.nsid = None;
        self.process = None;
    }

    pub fn payload_offset(&self) -> usize {
        match self.link {
            Link::Netlink { payload_offset, .. } => payload_offset,
            Link::NotNetlink(_) => self.data.len(),
        }
    }

    pub fn protocol(&self) -> Option<u16> {
        match self.link {
            Link::Netlink { protocol, .. } => Some(protocol),
            Link::NotNetlink(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_with_nanoseconds() {
        let t = Timestamp { secs: 1_782_000_000, nanos: 5 };
        assert_eq!(t.to_string(), "2026-06-21T00:00:00.000000005Z");
        assert_eq!(Timestamp { secs: 0, nanos: 0 }.to_string(), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(Timestamp { secs: 951_782_400, nanos: 0 }.to_string(), "2000-02-29T00:00:00.000000000Z");
    }
}
