//! The decoded tree: what every decoder produces and every renderer reads.
//!
//! A message's nodes live in one flat vector in pre-order (a node, then its descendants), each
//! knowing its depth and where its subtree ends; strings and bytes that values carry live in two
//! arenas beside it. Decoding a message is then a handful of allocations however many attributes
//! it has, and rendering is a walk down one vector.
//!
//! A [`Node`] carries its byte span within the frame (offset from the first byte of the captured
//! record, link-layer header included, as tshark's `pos`), so the hex pane and the JSON
//! `offset`/`length` keys come straight from it. A node that could not be interpreted keeps its
//! bytes and says why through [`Problem`]; decoding of its siblings goes on.

use std::fmt::Write as _;
use std::ops::Range;

use crate::netlink::header::{self, OpKind};

/// Bytes in one of a tree's arenas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    fn range(self) -> Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

/// A name, kind or string: from the compiled-in specs (`'static`), or built while decoding and
/// kept in the tree's text arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    Static(&'static str),
    Arena(Span),
}

impl From<&'static str> for Text {
    fn from(s: &'static str) -> Self {
        Text::Static(s)
    }
}

/// The names a flag set's bits have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagTable {
    /// `(mask, name)` entries of a spec's flags definition.
    Spec(&'static [(u64, &'static str)]),
    /// `nlmsg_flags`, named for this kind of operation.
    Header(OpKind),
}

impl FlagTable {
    /// Calls `f` with the name of each bit set in `raw`; returns the bits no name covers.
    pub fn for_each_name(self, raw: u64, mut f: impl FnMut(&'static str)) -> u64 {
        match self {
            FlagTable::Spec(entries) => {
                let mut left = raw;
                for &(mask, name) in entries {
                    if mask != 0 && raw & mask == mask {
                        f(name);
                        left &= !mask;
                    }
                }
                left
            }
            FlagTable::Header(kind) => {
                let names = header::flag_names(raw as u16, kind);
                names.as_slice().iter().for_each(|n| f(n));
                u64::from(names.left) | (raw & !0xffff)
            }
        }
    }

    /// The names of the bits set in `raw`, and the bits no name covers.
    pub fn names(self, raw: u64) -> (Vec<&'static str>, u64) {
        let mut names = Vec::new();
        let left = self.for_each_name(raw, |n| names.push(n));
        (names, left)
    }
}

/// A typed value of a node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    /// Containers (nests, structs, headers): the meaning is in the children.
    None,
    Unsigned(u64),
    Signed(i64),
    /// A number best read in hex (handles, masks).
    Hex(u64),
    /// A NUL-free string (any terminating NUL removed).
    Str(Text),
    /// Opaque bytes, shown as hex.
    Bytes(Span),
    /// A netlink flag attribute (present means set).
    Flag,
    Ipv4([u8; 4]),
    Ipv6([u8; 16]),
    Mac(Span),
    /// A named constant; `name` is `None` when the number is not in the enum.
    Enum {
        raw: u64,
        name: Option<Text>,
    },
    /// A bit set, named by its table.
    Flags {
        raw: u64,
        table: FlagTable,
    },
    /// A 16-byte UUID.
    Uuid([u8; 16]),
    /// An MPLS label stack: 32-bit big-endian entries (label 20 bits, traffic class 3,
    /// bottom of stack 1, TTL 8).
    Mpls(Span),
    /// A negated errno as netlink carries it (0 is success).
    Errno(i32),
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

/// Why a node could not be decoded as its spec says; reasons are in the tree's text arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// No dissector knows this attribute or message type: kept as bytes.
    Unknown,
    /// Bytes are there but wrong (a length that lies, a value out of range, nesting too deep...).
    Malformed(Span),
    /// The data ends before the structure does.
    Truncated(Span),
}

/// Index of a node within its tree.
pub type NodeId = usize;

/// One decoded field, attribute, header or message part.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: Text,
    /// The wire type as the spec names it (`u32`, `nest`, `string`, `struct ifinfomsg`...).
    pub kind: Text,
    pub value: Value,
    /// Offset of the first byte within the frame.
    pub offset: u32,
    pub length: u32,
    /// The attribute number, for attributes.
    pub attr_type: Option<u16>,
    /// 0 for the top level.
    pub depth: u16,
    pub problem: Option<Problem>,
    /// One past the index of this node's last descendant.
    end: u32,
    /// What is known of the node ahead of decoding (nodes a spec describes).
    known: Option<&'static Known>,
}

impl Node {
    pub fn offset(&self) -> usize {
        self.offset as usize
    }

    pub fn length(&self) -> usize {
        self.length as usize
    }

    /// True when the node has children.
    pub fn is_parent(&self, id: NodeId) -> bool {
        self.end as usize > id + 1
    }
}

/// Spaces before a node's ready-made line start (see [`Known::prefix`]).
pub const PREFIX_PAD: usize = 64;

/// What is known of a node before decoding, shared by every node of one spec attribute or
/// struct member: renderers use it instead of working it out for each node.
#[derive(Debug, PartialEq, Eq)]
pub struct Known {
    /// The node's name, attribute number and kind as one text (`IFLA_MTU (4) u32`), after
    /// [`PREFIX_PAD`] spaces: a text line takes its indentation and its start in one piece.
    pub prefix: &'static str,
    /// The node's place among the fields summary lines read (see `render::summary`).
    pub summary_field: Option<u8>,
    /// The spec's own name of an attribute (`ifname` for IFLA_IFNAME), which filters accept.
    pub short_name: Option<&'static str>,
}

/// A [`Known`] for a node named in the code, from a string literal `"name kind"` (such nodes are
/// never summary fields; a test in `render::summary` checks the ones used).
#[macro_export]
macro_rules! known {
    ($s:literal) => {
        &$crate::tree::Known {
            prefix: concat!("                                                                ", $s),
            summary_field: None,
            short_name: None,
        }
    };
}

/// A [`Known`] built at run time from `name (number) kind` (and kept for good: specs are).
pub fn leak_known(line: &str, name: &str, short_name: Option<&'static str>) -> &'static Known {
    let mut padded = " ".repeat(PREFIX_PAD);
    padded.push_str(line);
    let summary_field = crate::render::summary::field_index(name).map(|i| i as u8);
    Box::leak(Box::new(Known { prefix: Box::leak(padded.into_boxed_str()), summary_field, short_name }))
}

/// Where a tree was, to go back to (a decoder that changes its mind about a part).
#[derive(Debug, Clone, Copy)]
pub struct Mark {
    nodes: usize,
    depth: u16,
}

/// A message's decoded nodes, in pre-order, with the arenas their values use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tree {
    nodes: Vec<Node>,
    text: String,
    bytes: Vec<u8>,
    /// The depth the next pushed node gets (builder state).
    depth: u16,
}

fn span(start: usize, len: usize) -> Span {
    Span { start: start as u32, len: len as u32 }
}

impl Tree {
    // ---- building ----

    /// Empties the tree, keeping its memory for the next message.
    pub fn clear(&mut self) {
        self.nodes.clear();
        self.text.clear();
        self.bytes.clear();
        self.depth = 0;
    }

    /// A string kept in the tree.
    pub fn text(&mut self, s: &str) -> Text {
        let start = self.text.len();
        self.text.push_str(s);
        Text::Arena(span(start, s.len()))
    }

    /// Formatted text kept in the tree, written in place (no intermediate string).
    pub fn text_fmt(&mut self, args: std::fmt::Arguments) -> Text {
        let start = self.text.len();
        let _ = self.text.write_fmt(args);
        Text::Arena(span(start, self.text.len() - start))
    }

    /// `[i]`, the name of an array entry.
    pub fn index_name(&mut self, i: usize) -> Text {
        let start = self.text.len();
        self.text.push('[');
        self.text.push_str(itoa::Buffer::new().format(i));
        self.text.push(']');
        Text::Arena(span(start, self.text.len() - start))
    }

    /// Bytes kept in the tree.
    pub fn bytes(&mut self, b: &[u8]) -> Span {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(b);
        span(start, b.len())
    }

    pub fn malformed(&mut self, args: std::fmt::Arguments) -> Problem {
        match self.text_fmt(args) {
            Text::Arena(s) => Problem::Malformed(s),
            Text::Static(_) => unreachable!("text_fmt keeps its text"),
        }
    }

    pub fn truncated(&mut self, args: std::fmt::Arguments) -> Problem {
        match self.text_fmt(args) {
            Text::Arena(s) => Problem::Truncated(s),
            Text::Static(_) => unreachable!("text_fmt keeps its text"),
        }
    }

    fn push(&mut self, name: Text, kind: Text, value: Value, offset: usize, length: usize) -> NodeId {
        let id = self.nodes.len();
        self.nodes.push(Node {
            name,
            kind,
            value,
            offset: offset as u32,
            length: length as u32,
            attr_type: None,
            depth: self.depth,
            problem: None,
            end: id as u32 + 1,
            known: None,
        });
        id
    }

    /// Says what is known of a node ahead; its text must be what the node's name, attribute
    /// number and kind make (checked in debug builds).
    pub fn set_known(&mut self, id: NodeId, known: &'static Known) {
        debug_assert_eq!(&known.prefix[PREFIX_PAD..], self.prefix_text(id), "the prefix must match the node");
        self.nodes[id].known = Some(known);
    }

    /// `name (number) kind`, as the node's fields make it.
    fn prefix_text(&self, id: NodeId) -> String {
        let n = &self.nodes[id];
        match n.attr_type {
            Some(t) => format!("{} ({t}) {}", self.str(n.name), self.str(n.kind)),
            None => format!("{} {}", self.str(n.name), self.str(n.kind)),
        }
    }

    /// What is known of the node ahead, if anything.
    pub fn known(&self, id: NodeId) -> Option<&'static Known> {
        self.nodes[id].known
    }

    /// Adds a node without children.
    pub fn leaf(
        &mut self,
        name: impl Into<Text>,
        kind: impl Into<Text>,
        value: Value,
        offset: usize,
        length: usize,
    ) -> NodeId {
        self.push(name.into(), kind.into(), value, offset, length)
    }

    /// Adds a node whose children are the nodes added until [`Tree::close`].
    pub fn open(
        &mut self,
        name: impl Into<Text>,
        kind: impl Into<Text>,
        value: Value,
        offset: usize,
        length: usize,
    ) -> NodeId {
        let id = self.push(name.into(), kind.into(), value, offset, length);
        self.depth += 1;
        id
    }

    /// Ends the children of `id` (the last node opened and not closed).
    pub fn close(&mut self, id: NodeId) {
        self.depth -= 1;
        debug_assert_eq!(self.nodes[id].depth, self.depth, "close the innermost open node");
        self.nodes[id].end = self.nodes.len() as u32;
    }

    /// A problem node holding raw bytes.
    pub fn problem_bytes(&mut self, name: impl Into<Text>, bytes: &[u8], offset: usize, problem: Problem) -> NodeId {
        let value = Value::Bytes(self.bytes(bytes));
        let id = self.leaf(name, "bytes", value, offset, bytes.len());
        self.nodes[id].problem = Some(problem);
        id
    }

    pub fn node_mut(&mut self, id: NodeId) -> &mut Node {
        &mut self.nodes[id]
    }

    pub fn set_problem(&mut self, id: NodeId, problem: Problem) {
        self.nodes[id].problem = Some(problem);
    }

    /// The id the next node will get.
    pub fn next_id(&self) -> NodeId {
        self.nodes.len()
    }

    pub fn mark(&self) -> Mark {
        Mark { nodes: self.nodes.len(), depth: self.depth }
    }

    /// Drops every node added since `mark` (their arena bytes stay, unused).
    pub fn rollback(&mut self, mark: Mark) {
        self.nodes.truncate(mark.nodes);
        self.depth = mark.depth;
    }

    /// Adds a leaf as the last child of `parent`, after the tree is built (an annotation that
    /// only a later part of the message makes possible). Returns the new node's id.
    pub fn append_child(
        &mut self,
        parent: NodeId,
        name: impl Into<Text>,
        kind: impl Into<Text>,
        value: Value,
        offset: usize,
        length: usize,
    ) -> NodeId {
        let at = self.nodes[parent].end as usize;
        let depth = self.nodes[parent].depth + 1;
        for (i, n) in self.nodes.iter_mut().enumerate() {
            // Every node that ends at or after the insertion point and encloses it grows by one;
            // nodes after it move by one.
            if i >= at || (i <= parent && n.end as usize >= at) {
                n.end += 1;
            }
        }
        let node = Node {
            name: name.into(),
            kind: kind.into(),
            value,
            offset: offset as u32,
            length: length as u32,
            attr_type: None,
            depth,
            problem: None,
            end: at as u32 + 1,
            known: None,
        };
        self.nodes.insert(at, node);
        at
    }

    /// Changes the depth of every node in `range` by `delta` levels (a part decoded on its own
    /// and then placed under another node).
    pub fn shift_depth(&mut self, range: Range<NodeId>, delta: u16) {
        for n in &mut self.nodes[range] {
            n.depth += delta;
        }
    }

    // ---- reading ----

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// One past the last descendant of `id`.
    pub fn end(&self, id: NodeId) -> NodeId {
        self.nodes[id].end as usize
    }

    /// The direct children of `id`.
    pub fn children(&self, id: NodeId) -> Siblings<'_> {
        Siblings { tree: self, next: id + 1, end: self.end(id) }
    }

    /// The top-level nodes from `from` on (`from` must be one).
    pub fn roots_from(&self, from: NodeId) -> Siblings<'_> {
        Siblings { tree: self, next: from, end: self.nodes.len() }
    }

    /// The string of a text.
    pub fn str(&self, t: Text) -> &str {
        match t {
            Text::Static(s) => s,
            Text::Arena(s) => &self.text[s.range()],
        }
    }

    pub fn byte_slice(&self, s: Span) -> &[u8] {
        &self.bytes[s.range()]
    }

    pub fn name(&self, id: NodeId) -> &str {
        self.str(self.nodes[id].name)
    }

    pub fn kind(&self, id: NodeId) -> &str {
        self.str(self.nodes[id].kind)
    }

    /// The reason a problem gives, as text (`unknown`, `malformed: ...`).
    pub fn problem_text(&self, p: Problem) -> String {
        match p {
            Problem::Unknown => "unknown".to_string(),
            Problem::Malformed(s) => format!("malformed: {}", &self.text[s.range()]),
            Problem::Truncated(s) => format!("truncated: {}", &self.text[s.range()]),
        }
    }

    /// The first node named `name` among `range`, in pre-order.
    pub fn find_in(&self, range: Range<NodeId>, name: &str) -> Option<NodeId> {
        let start = range.start;
        self.nodes[range].iter().position(|n| self.str(n.name) == name).map(|i| start + i)
    }

    /// The first node named `name` anywhere in the tree.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.find_in(0..self.nodes.len(), name)
    }

    /// The first node named `name` in the subtree of `id` (itself included).
    pub fn find_under(&self, id: NodeId, name: &str) -> Option<NodeId> {
        self.find_in(id..self.end(id), name)
    }

    /// True if a node in `range` carries a problem matching `pred`.
    pub fn any_problem(&self, range: Range<NodeId>, pred: impl Fn(&Problem) -> bool) -> bool {
        self.nodes[range].iter().any(|n| n.problem.as_ref().is_some_and(&pred))
    }

    /// A value's text form, as `-V` shows it.
    pub fn write_value(&self, out: &mut Vec<u8>, v: &Value) {
        match *v {
            Value::None => {}
            Value::Unsigned(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            Value::Signed(n) => out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes()),
            Value::Hex(n) => write_hex_number(out, n),
            Value::Str(t) => write_quoted(out, self.str(t)),
            Value::Bytes(s) if s.len == 0 => out.extend_from_slice(b"(empty)"),
            Value::Bytes(s) => write_hex_bytes(out, self.byte_slice(s)),
            Value::Flag => out.extend_from_slice(b"true"),
            Value::Ipv4(a) => write_ipv4(out, a),
            Value::Ipv6(a) => {
                let _ = write!(Adapter(out), "{}", std::net::Ipv6Addr::from(a));
            }
            Value::Mac(s) => write_mac(out, self.byte_slice(s)),
            Value::Enum { raw, name } => {
                let num = enum_number(raw);
                match name {
                    Some(n) => {
                        out.extend_from_slice(self.str(n).as_bytes());
                        out.extend_from_slice(b" (");
                        out.extend_from_slice(itoa::Buffer::new().format(num).as_bytes());
                        out.push(b')');
                    }
                    None => {
                        out.extend_from_slice(itoa::Buffer::new().format(num).as_bytes());
                        out.extend_from_slice(b" (unknown value)");
                    }
                }
            }
            Value::Flags { raw, table } => {
                write_hex_number(out, raw);
                let open = out.len();
                out.extend_from_slice(b" (");
                let mut first = true;
                let unknown_bits = table.for_each_name(raw, |n| {
                    if !first {
                        out.push(b'|');
                    }
                    first = false;
                    out.extend_from_slice(n.as_bytes());
                });
                if unknown_bits != 0 {
                    if !first {
                        out.push(b'|');
                    }
                    write_hex_number(out, unknown_bits);
                } else if first {
                    // No bit set that has a name, none left over: just the number.
                    out.truncate(open);
                    return;
                }
                out.push(b')');
            }
            Value::Mpls(s) => write_mpls(out, self.byte_slice(s)),
            Value::Errno(0) => out.extend_from_slice(b"0 (success)"),
            Value::Errno(e) if e > 0 => {
                let _ = write!(Adapter(out), "{e} (success: a value the family's handler returned, not an errno)");
            }
            Value::Errno(e) => {
                out.extend_from_slice(itoa::Buffer::new().format(e).as_bytes());
                match crate::netlink::errno::lookup(e.unsigned_abs()) {
                    Some((name, text)) => {
                        out.push(b' ');
                        out.extend_from_slice(name.as_bytes());
                        out.extend_from_slice(b" (");
                        out.extend_from_slice(text.as_bytes());
                        out.push(b')');
                    }
                    None => out.extend_from_slice(b" (unknown errno)"),
                }
            }
            Value::Uuid(u) => {
                for (i, chunk) in [&u[0..4], &u[4..6], &u[6..8], &u[8..10], &u[10..16]].iter().enumerate() {
                    if i > 0 {
                        out.push(b'-');
                    }
                    write_hex_bytes(out, chunk);
                }
            }
        }
    }

    /// A value's text form as a string.
    pub fn value_string(&self, v: &Value) -> String {
        let mut out = Vec::new();
        self.write_value(&mut out, v);
        String::from_utf8(out).expect("values are written as UTF-8")
    }

    /// The value of a string node, if it is one.
    pub fn str_value(&self, id: NodeId) -> Option<&str> {
        match self.nodes[id].value {
            Value::Str(t) => Some(self.str(t)),
            _ => None,
        }
    }
}

/// The direct children of a node, or the top-level nodes of a tree.
#[derive(Debug, Clone)]
pub struct Siblings<'a> {
    tree: &'a Tree,
    next: NodeId,
    end: NodeId,
}

impl<'a> Siblings<'a> {
    /// The tree the nodes are in.
    pub fn tree(&self) -> &'a Tree {
        self.tree
    }
}

impl Iterator for Siblings<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        self.next = self.tree.end(id);
        Some(id)
    }
}

/// An enum's number as it was meant: signed fields' negative values (NFT_CONTINUE = -1) are
/// stored sign-extended, and no netlink enum has positive values of 2^63 or more.
pub fn enum_number(raw: u64) -> i64 {
    raw as i64
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `0x` and lower-case hex digits.
pub fn write_hex_number(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"0x");
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1);
    for i in (0..digits).rev() {
        out.push(DIGITS[((n >> (4 * i)) & 15) as usize]);
    }
}

/// Lower-case hex of bytes.
pub fn write_hex_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.reserve(2 * b.len());
    for &byte in b {
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 15)]);
    }
}

fn write_mac(out: &mut Vec<u8>, b: &[u8]) {
    for (i, &byte) in b.iter().enumerate() {
        if i > 0 {
            out.push(b':');
        }
        out.push(DIGITS[usize::from(byte >> 4)]);
        out.push(DIGITS[usize::from(byte & 15)]);
    }
}

/// The decimal digits of every byte value, and how many there are.
const BYTE_DIGITS: [([u8; 3], u8); 256] = {
    let mut t = [([0u8; 3], 0u8); 256];
    let mut i = 0;
    while i < 256 {
        let (h, d, u) = ((i / 100) as u8, (i / 10 % 10) as u8, (i % 10) as u8);
        t[i] = if i >= 100 {
            ([b'0' + h, b'0' + d, b'0' + u], 3)
        } else if i >= 10 {
            ([b'0' + d, b'0' + u, 0], 2)
        } else {
            ([b'0' + u, 0, 0], 1)
        };
        i += 1;
    }
    t
};

/// Labels joined by `/` as iproute2 writes them (`100/200`), each with its traffic class and TTL
/// when they are not 0, and a note when the last entry lacks the bottom-of-stack bit.
fn write_mpls(out: &mut Vec<u8>, b: &[u8]) {
    let entries: Vec<u32> = b.chunks_exact(4).map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes"))).collect();
    for (i, &e) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        let (label, tc, ttl) = (e >> 12, (e >> 9) & 7, e & 0xff);
        out.extend_from_slice(itoa::Buffer::new().format(label).as_bytes());
        if tc != 0 {
            let _ = write!(Adapter(out), " tc {tc}");
        }
        if ttl != 0 {
            let _ = write!(Adapter(out), " ttl {ttl}");
        }
    }
    if entries.last().is_some_and(|&e| e & 0x100 == 0) {
        out.extend_from_slice(b" (no bottom-of-stack bit)");
    }
}

pub fn write_ipv4(out: &mut Vec<u8>, a: [u8; 4]) {
    // At most 15 bytes, assembled on the stack and added at once.
    let mut buf = [0u8; 16];
    let mut n = 0;
    for (i, &octet) in a.iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        let (digits, len) = BYTE_DIGITS[usize::from(octet)];
        buf[n..n + 3].copy_from_slice(&digits);
        n += usize::from(len);
    }
    out.extend_from_slice(&buf[..n]);
}

/// A string in double quotes with Rust's `{:?}` escapes (what earlier output showed).
fn write_quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if s.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\') {
        out.extend_from_slice(s.as_bytes());
    } else {
        for c in s.chars() {
            let _ = write!(Adapter(out), "{}", c.escape_debug());
        }
    }
    out.push(b'"');
}

/// `fmt::Write` into a byte vector.
struct Adapter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for Adapter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_pre_order_with_subtree_ends() {
        let mut t = Tree::default();
        let a = t.open("a", "nest", Value::None, 0, 12);
        t.leaf("b", "u8", Value::Unsigned(1), 4, 1);
        let c = t.open("c", "nest", Value::None, 8, 4);
        t.leaf("d", "u8", Value::Unsigned(2), 8, 1);
        t.close(c);
        t.close(a);
        t.leaf("e", "u8", Value::Unsigned(3), 12, 1);
        assert_eq!(t.roots_from(0).collect::<Vec<_>>(), [0, 4]);
        assert_eq!(t.children(a).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(t.nodes().iter().map(|n| n.depth).collect::<Vec<_>>(), [0, 1, 1, 2, 0]);
        assert_eq!(t.find("d"), Some(3));
        assert_eq!(t.find_under(c, "b"), None);
        // An annotation added later lands under its parent and moves what follows.
        let x = t.append_child(c, "x", "path", Value::Flag, 8, 1);
        assert_eq!(x, 4);
        assert_eq!(t.children(c).collect::<Vec<_>>(), [3, 4]);
        assert_eq!(t.children(a).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(t.roots_from(0).collect::<Vec<_>>(), [0, 5]);
        assert_eq!(t.node(4).depth, 2);
    }

    #[test]
    fn known_texts_have_the_pad() {
        let known: &Known = crate::known!("x u8");
        assert_eq!(known.prefix.len(), PREFIX_PAD + 4);
        assert_eq!(leak_known("x u8", "x", None), known);
        assert_eq!(leak_known("IFLA_MTU (4) u32", "IFLA_MTU", Some("mtu")).summary_field, Some(14));
    }

    #[test]
    fn values_render_as_before() {
        let mut t = Tree::default();
        let s = Value::Str(t.text("eth\"0"));
        assert_eq!(t.value_string(&s), "\"eth\\\"0\"");
        assert_eq!(t.value_string(&Value::Hex(0)), "0x0");
        assert_eq!(t.value_string(&Value::Hex(0x10049)), "0x10049");
        assert_eq!(t.value_string(&Value::Ipv4([10, 0, 0, 1])), "10.0.0.1");
        let b = Value::Bytes(t.bytes(&[0xde, 0xad]));
        assert_eq!(t.value_string(&b), "dead");
        let mac = Value::Mac(t.bytes(&[0xf2, 0xec, 0x45, 0x63, 0x4f, 0xbc]));
        assert_eq!(t.value_string(&mac), "f2:ec:45:63:4f:bc");
        let flags = Value::Flags { raw: 0x13, table: FlagTable::Spec(&[(1, "A"), (2, "B")]) };
        assert_eq!(t.value_string(&flags), "0x13 (A|B|0x10)");
        assert_eq!(
            t.value_string(&Value::Enum { raw: u64::MAX, name: Some("NFT_CONTINUE".into()) }),
            "NFT_CONTINUE (-1)"
        );
        assert_eq!(t.value_string(&Value::Errno(-17)), "-17 EEXIST (File exists)");
        let mpls = Value::Mpls(t.bytes(&[0x00, 0x06, 0x40, 0x00, 0x00, 0x0c, 0x81, 0x40]));
        assert_eq!(t.value_string(&mpls), "100/200 ttl 64");
        let cut = Value::Mpls(t.bytes(&[0x00, 0x06, 0x40, 0x00]));
        assert_eq!(t.value_string(&cut), "100 (no bottom-of-stack bit)");
        let u = Value::Uuid(*b"\x12\x34\x56\x78\x9a\xbc\xde\xf0\x12\x34\x56\x78\x9a\xbc\xde\xf0");
        assert_eq!(t.value_string(&u), "12345678-9abc-def0-1234-56789abcdef0");
    }
}
