//! The netlink message header (`struct nlmsghdr`) and its flags, named in their context.

use std::ops::Range;

use nom::number::Endianness;

/// Length of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;

/// Field ranges within `struct nlmsghdr`.
pub mod field {
    use std::ops::Range;
    pub const LEN: Range<usize> = 0..4;
    pub const TYPE: Range<usize> = 4..6;
    pub const FLAGS: Range<usize> = 6..8;
    pub const SEQ: Range<usize> = 8..12;
    pub const PID: Range<usize> = 12..16;
}

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;
/// Types below this are control messages.
pub const NLMSG_MIN_TYPE: u16 = 0x10;

pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
pub const NLM_F_ECHO: u16 = 0x08;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_MATCH: u16 = 0x200;
/// NLM_F_ROOT|NLM_F_MATCH: a GET request for everything.
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;

/// Reads an integer of the given width at `r` (callers check bounds).
pub fn read_uint(data: &[u8], r: Range<usize>, endian: Endianness) -> u64 {
    let b = &data[r];
    let big = endian == Endianness::Big;
    macro_rules! fixed {
        ($t:ty) => {{
            let a = b.try_into().expect("width checked");
            u64::from(if big { <$t>::from_be_bytes(a) } else { <$t>::from_le_bytes(a) })
        }};
    }
    match b.len() {
        1 => u64::from(b[0]),
        2 => fixed!(u16),
        4 => fixed!(u32),
        8 => fixed!(u64),
        _ => {
            let mut v: u64 = 0;
            if big {
                b.iter().for_each(|x| v = (v << 8) | u64::from(*x));
            } else {
                b.iter().rev().for_each(|x| v = (v << 8) | u64::from(*x));
            }
            v
        }
    }
}

/// A decoded `struct nlmsghdr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlMsgHdr {
    pub len: u32,
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
}

impl NlMsgHdr {
    /// Parses the header at the start of `data`, which must hold at least 16 bytes.
    pub fn parse(data: &[u8], endian: Endianness) -> Option<NlMsgHdr> {
        if data.len() < NLMSG_HDRLEN {
            return None;
        }
        let u16_at = |r: Range<usize>| {
            let a = data[r].try_into().expect("2 bytes");
            if endian == Endianness::Big { u16::from_be_bytes(a) } else { u16::from_le_bytes(a) }
        };
        let u32_at = |r: Range<usize>| {
            let a = data[r].try_into().expect("4 bytes");
            if endian == Endianness::Big { u32::from_be_bytes(a) } else { u32::from_le_bytes(a) }
        };
        Some(NlMsgHdr {
            len: u32_at(field::LEN),
            ty: u16_at(field::TYPE),
            flags: u16_at(field::FLAGS),
            seq: u32_at(field::SEQ),
            pid: u32_at(field::PID),
        })
    }
}

/// The messages of a netlink payload by their headers alone: `(offset, header)` of each, until one
/// whose length does not fit (shorter than a header, or past the end).
pub fn walk(payload: &[u8], endian: Endianness) -> impl Iterator<Item = (usize, NlMsgHdr)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let hdr = NlMsgHdr::parse(payload.get(pos..)?, endian)?;
        let len = hdr.len as usize;
        if len < NLMSG_HDRLEN || len > payload.len() - pos {
            return None;
        }
        let at = pos;
        pos += crate::netlink::attr::align(len);
        Some((at, hdr))
    })
}

/// What kind of operation a message type is, which gives the meaning of flag bits 8-11.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Get,
    New,
    Del,
    /// NLMSG_ERROR (ACK): CAPPED, ACK_TLVS.
    Ack,
    Other,
}

impl OpKind {
    /// Guesses the kind from an operation name such as `getlink`, `newroute`, `del-station`,
    /// `ct-get`, `get-family`.
    pub fn from_op_name(name: &str) -> OpKind {
        let lower = name.to_ascii_lowercase();
        let parts: Vec<&str> = lower.split(['-', '_']).collect();
        let starts = |p: &str| parts.iter().any(|w| w.starts_with(p));
        // sock_diag's requests (SOCK_DIAG_BY_FAMILY) are lookups and dumps.
        if starts("get") || starts("dump") || starts("list") || starts("diag") {
            OpKind::Get
        } else if starts("new") || starts("add") || starts("create") {
            OpKind::New
        } else if starts("del") || starts("remove") || starts("destroy") {
            OpKind::Del
        } else {
            OpKind::Other
        }
    }
}

const COMMON_FLAGS: &[(u16, &str)] =
    &[(0x01, "REQUEST"), (0x02, "MULTI"), (0x04, "ACK"), (0x08, "ECHO"), (0x10, "DUMP_INTR"), (0x20, "DUMP_FILTERED")];
const GET_FLAGS: &[(u16, &str)] = &[(0x100, "ROOT"), (0x200, "MATCH"), (0x400, "ATOMIC")];
const NEW_FLAGS: &[(u16, &str)] = &[(0x100, "REPLACE"), (0x200, "EXCL"), (0x400, "CREATE"), (0x800, "APPEND")];
const DEL_FLAGS: &[(u16, &str)] = &[(0x100, "NONREC"), (0x200, "BULK")];
const ACK_FLAGS: &[(u16, &str)] = &[(0x100, "CAPPED"), (0x200, "ACK_TLVS")];

/// Every name a header flag has in some context (`REQUEST`, `DUMP`, `EXCL`...).
pub const ALL_FLAG_NAMES: &[&str] = &[
    "REQUEST",
    "MULTI",
    "ACK",
    "ECHO",
    "DUMP_INTR",
    "DUMP_FILTERED",
    "DUMP",
    "ROOT",
    "MATCH",
    "ATOMIC",
    "REPLACE",
    "EXCL",
    "CREATE",
    "APPEND",
    "NONREC",
    "BULK",
    "CAPPED",
    "ACK_TLVS",
];

/// The names of a header's set flags, without allocating: at most six common flags, DUMP and
/// four of the operation's own.
#[derive(Debug, Clone, Copy)]
pub struct FlagNames {
    names: [&'static str; 12],
    len: usize,
    /// Bits that have no name in this context.
    pub left: u16,
}

impl FlagNames {
    pub fn as_slice(&self) -> &[&'static str] {
        &self.names[..self.len]
    }

    fn push(&mut self, name: &'static str) {
        self.names[self.len] = name;
        self.len += 1;
    }
}

/// The names of the set flags (`DUMP` for ROOT|MATCH on GET requests), and the bits that have no
/// name in this context.
pub fn flag_names(flags: u16, kind: OpKind) -> FlagNames {
    let context: &[(u16, &str)] = match kind {
        OpKind::Get => GET_FLAGS,
        OpKind::New => NEW_FLAGS,
        OpKind::Del => DEL_FLAGS,
        OpKind::Ack => ACK_FLAGS,
        OpKind::Other => &[],
    };
    let mut out = FlagNames { names: [""; 12], len: 0, left: flags };
    for &(bit, name) in COMMON_FLAGS {
        if flags & bit != 0 {
            out.push(name);
            out.left &= !bit;
        }
    }
    if kind == OpKind::Get && flags & (NLM_F_ROOT | NLM_F_MATCH) == NLM_F_ROOT | NLM_F_MATCH {
        out.push("DUMP");
        out.left &= !(NLM_F_ROOT | NLM_F_MATCH);
    }
    for &(bit, name) in context {
        if out.left & bit != 0 {
            out.push(name);
            out.left &= !bit;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_byte_orders() {
        let le = [0x24, 0, 0, 0, 0x12, 0, 0x01, 0x03, 5, 0, 0, 0, 0x39, 0x30, 0, 0];
        let h = NlMsgHdr::parse(&le, Endianness::Little).unwrap();
        assert_eq!(h, NlMsgHdr { len: 36, ty: 18, flags: 0x301, seq: 5, pid: 12345 });
        let be = [0, 0, 0, 0x24, 0, 0x12, 0x03, 0x01, 0, 0, 0, 5, 0, 0, 0x30, 0x39];
        assert_eq!(NlMsgHdr::parse(&be, Endianness::Big).unwrap(), h);
        assert_eq!(NlMsgHdr::parse(&le[..15], Endianness::Little), None);
    }

    #[test]
    fn flags_in_context() {
        let names = |flags, kind| {
            let n = flag_names(flags, kind);
            (n.as_slice().to_vec(), n.left)
        };
        assert_eq!(names(0x301, OpKind::Get), (vec!["REQUEST", "DUMP"], 0));
        assert_eq!(names(0x405, OpKind::Get), (vec!["REQUEST", "ACK", "ATOMIC"], 0));
        assert_eq!(names(0x605, OpKind::New), (vec!["REQUEST", "ACK", "EXCL", "CREATE"], 0));
        assert_eq!(names(0x100, OpKind::Ack), (vec!["CAPPED"], 0));
        assert_eq!(names(0x1002, OpKind::Other), (vec!["MULTI"], 0x1000));
        assert_eq!(names(0x22, OpKind::Del), (vec!["MULTI", "DUMP_FILTERED"], 0));
        assert_eq!(names(0xfff, OpKind::Get).0.len(), 8);
        assert_eq!(names(0xfff, OpKind::New).0.len(), 10);
    }

    #[test]
    fn op_kinds_from_names() {
        assert_eq!(OpKind::from_op_name("getlink"), OpKind::Get);
        assert_eq!(OpKind::from_op_name("ct-get-ctrzero"), OpKind::Get);
        assert_eq!(OpKind::from_op_name("newroute"), OpKind::New);
        assert_eq!(OpKind::from_op_name("delneigh"), OpKind::Del);
        assert_eq!(OpKind::from_op_name("setlink"), OpKind::Other);
        assert_eq!(OpKind::from_op_name("sock-diag-by-family"), OpKind::Get);
    }
}
