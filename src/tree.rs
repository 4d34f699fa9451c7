//! The decoded tree: what every decoder produces and every renderer reads.
//!
//! A [`Node`] carries its byte span within the frame (offset from the first byte of the captured
//! record, link-layer header included, as tshark's `pos`), so the hex pane and the JSON
//! `offset`/`length` keys come straight from it. A node that could not be interpreted keeps its
//! bytes and says why through [`Problem`]; decoding of its siblings goes on.

use std::borrow::Cow;
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Names come from the compiled-in specs (`'static`) or are built at run time.
pub type Name = Cow<'static, str>;

/// A typed value of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Containers (nests, structs, headers): the meaning is in the children.
    None,
    Unsigned(u64),
    Signed(i64),
    /// A number best read in hex (handles, masks).
    Hex(u64),
    /// A NUL-free string (any terminating NUL removed).
    Str(String),
    /// Opaque bytes, shown as hex.
    Bytes(Vec<u8>),
    /// A netlink flag attribute (present means set).
    Flag,
    Ipv4(Ipv4Addr),
    Ipv6(Ipv6Addr),
    Mac(Vec<u8>),
    /// A named constant; `name` is `None` when the number is not in the enum.
    Enum {
        raw: u64,
        name: Option<Name>,
    },
    /// A bit set with the names of the set bits; `unknown_bits` has the bits no name covers.
    Flags {
        raw: u64,
        names: Vec<Name>,
        unknown_bits: u64,
    },
    /// A 16-byte UUID.
    Uuid([u8; 16]),
    /// A negated errno as netlink carries it (0 is success).
    Errno(i32),
}

/// Why a node could not be decoded as its spec says.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    /// No dissector knows this attribute or message type: kept as bytes.
    Unknown,
    /// Bytes are there but wrong (a length that lies, a value out of range, nesting too deep...).
    Malformed(String),
    /// The data ends before the structure does.
    Truncated(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Unknown => f.write_str("unknown"),
            Problem::Malformed(why) => write!(f, "malformed: {why}"),
            Problem::Truncated(why) => write!(f, "truncated: {why}"),
        }
    }
}

/// One decoded field, attribute, header or message part.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: Name,
    /// The wire type as the spec names it (`u32`, `nest`, `string`, `struct ifinfomsg`...).
    pub kind: Name,
    /// The attribute number, for attributes.
    pub attr_type: Option<u16>,
    pub value: Value,
    /// Offset of the first byte within the frame.
    pub offset: usize,
    pub length: usize,
    pub children: Vec<Node>,
    pub problem: Option<Problem>,
}

impl Node {
    pub fn new(name: impl Into<Name>, kind: impl Into<Name>, value: Value, offset: usize, length: usize) -> Self {
        Node {
            name: name.into(),
            kind: kind.into(),
            attr_type: None,
            value,
            offset,
            length,
            children: Vec::new(),
            problem: None,
        }
    }

    pub fn with_children(mut self, children: Vec<Node>) -> Self {
        self.children = children;
        self
    }

    pub fn with_problem(mut self, problem: Problem) -> Self {
        self.problem = Some(problem);
        self
    }

    pub fn with_attr_type(mut self, attr_type: u16) -> Self {
        self.attr_type = Some(attr_type);
        self
    }

    /// A problem node holding raw bytes.
    pub fn problem_bytes(name: impl Into<Name>, bytes: &[u8], offset: usize, problem: Problem) -> Self {
        Node::new(name, "bytes", Value::Bytes(bytes.to_vec()), offset, bytes.len()).with_problem(problem)
    }

    /// The first node with this name, searching depth-first.
    pub fn find(&self, name: &str) -> Option<&Node> {
        if self.name == name {
            return Some(self);
        }
        find_in(&self.children, name)
    }

    /// The first node with this name, searching depth-first, to change it.
    pub fn find_mut(&mut self, name: &str) -> Option<&mut Node> {
        if self.name == name {
            return Some(self);
        }
        self.children.iter_mut().find_map(|c| c.find_mut(name))
    }

    /// True if this node or any descendant carries a problem matching `pred`.
    pub fn any_problem(&self, pred: &impl Fn(&Problem) -> bool) -> bool {
        self.problem.as_ref().is_some_and(pred) || self.children.iter().any(|c| c.any_problem(pred))
    }
}

/// The first node with this name among `nodes` and their descendants, depth-first.
pub fn find_in<'a>(nodes: &'a [Node], name: &str) -> Option<&'a Node> {
    nodes.iter().find_map(|n| n.find(name))
}

impl Value {
    /// The number behind numeric values (plain, enum, flags).
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::Unsigned(v) | Value::Hex(v) => Some(v),
            Value::Signed(v) => u64::try_from(v).ok(),
            Value::Enum { raw, .. } | Value::Flags { raw, .. } => Some(raw),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::None => Ok(()),
            Value::Unsigned(v) => write!(f, "{v}"),
            Value::Signed(v) => write!(f, "{v}"),
            Value::Hex(v) => write!(f, "0x{v:x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Bytes(b) if b.is_empty() => f.write_str("(empty)"),
            Value::Bytes(b) => write_hex(f, b),
            Value::Flag => f.write_str("true"),
            Value::Ipv4(a) => write!(f, "{a}"),
            Value::Ipv6(a) => write!(f, "{a}"),
            Value::Mac(b) => write_mac(f, b),
            Value::Enum { raw, name: Some(n) } => write!(f, "{n} ({})", enum_number(*raw)),
            Value::Enum { raw, name: None } => write!(f, "{} (unknown value)", enum_number(*raw)),
            Value::Flags { raw, names, unknown_bits } => {
                write!(f, "0x{raw:x}")?;
                if !names.is_empty() || *unknown_bits != 0 {
                    f.write_str(" (")?;
                    let mut sep = "";
                    for n in names {
                        write!(f, "{sep}{n}")?;
                        sep = "|";
                    }
                    if *unknown_bits != 0 {
                        write!(f, "{sep}0x{unknown_bits:x}")?;
                    }
                    f.write_str(")")?;
                }
                Ok(())
            }
            Value::Errno(0) => f.write_str("0 (success)"),
            Value::Errno(e) => match crate::netlink::errno::lookup(e.unsigned_abs()) {
                Some((name, text)) => write!(f, "{e} {name} ({text})"),
                None => write!(f, "{e} (unknown errno)"),
            },
            Value::Uuid(u) => {
                let h = hex::encode(u);
                write!(f, "{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
            }
        }
    }
}

/// An enum's number as it was meant: signed fields' negative values (NFT_CONTINUE = -1) are
/// stored sign-extended, and no netlink enum has positive values of 2^63 or more.
pub fn enum_number(raw: u64) -> i128 {
    if raw > i64::MAX as u64 { i128::from(raw as i64) } else { i128::from(raw) }
}

/// Lower-case hex without allocating.
fn write_hex(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 128];
    for chunk in b.chunks(64) {
        for (i, byte) in chunk.iter().enumerate() {
            buf[2 * i] = DIGITS[usize::from(byte >> 4)];
            buf[2 * i + 1] = DIGITS[usize::from(byte & 15)];
        }
        f.write_str(std::str::from_utf8(&buf[..2 * chunk.len()]).expect("hex digits"))?;
    }
    Ok(())
}

fn write_mac(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    for (i, byte) in b.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{byte:02x}")?;
    }
    Ok(())
}
