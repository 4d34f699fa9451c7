//! Text output: one summary line per message, and with `-V` the whole tree, optionally coloured.
//! Everything is written into a byte buffer (the caller decides when it reaches the terminal).

use std::io::Write;

use super::summary::write_summary_text;
use crate::capture::{Direction, Timestamp};
use crate::decode::Message;
use crate::session::Link;
use crate::tree::{NodeId, PREFIX_PAD, Problem, Tree, Value};

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn begin(&self, out: &mut Vec<u8>, code: &str) {
        if self.color {
            out.extend_from_slice(b"\x1b[");
            out.extend_from_slice(code.as_bytes());
            out.push(b'm');
        }
    }

    fn end(&self, out: &mut Vec<u8>) {
        if self.color {
            out.extend_from_slice(b"\x1b[0m");
        }
    }

    /// Writes `text` in colour `code`.
    fn write(&self, out: &mut Vec<u8>, code: &str, text: &str) {
        self.begin(out, code);
        out.extend_from_slice(text.as_bytes());
        self.end(out);
    }

    /// A colour per protocol, so families stand apart in a long listing.
    fn family_code(protocol: u16) -> &'static str {
        match protocol {
            0 => "36",  // route: cyan
            16 => "35", // generic: magenta
            12 => "34", // netfilter: blue
            4 => "32",  // sock_diag: green
            _ => "33",
        }
    }
}

fn arrow(d: Direction) -> &'static str {
    match d {
        Direction::ToKernel => "->K",
        Direction::ToUser => "K->",
        Direction::Unknown => " ? ",
    }
}

/// `n` right-aligned in `width` columns.
fn pad_left(out: &mut Vec<u8>, text: &[u8], width: usize) {
    out.resize(out.len() + width.saturating_sub(text.len()), b' ');
    out.extend_from_slice(text);
}

fn number(out: &mut Vec<u8>, n: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// ` (… +1.234 ms)`: a latency in milliseconds with three decimals.
fn millis(out: &mut Vec<u8>, ns: Option<i64>) {
    let Some(ns) = ns else { return };
    out.extend_from_slice(b", ");
    if ns < 0 {
        out.push(b'-');
    } else {
        out.push(b'+');
    }
    // Rounded to the nearest microsecond, as `{:.3}` of the milliseconds would be.
    let us = (ns.unsigned_abs() + 500) / 1000;
    number(out, us / 1000);
    out.push(b'.');
    let frac = us % 1000;
    out.extend_from_slice(&[b'0' + (frac / 100) as u8, b'0' + (frac / 10 % 10) as u8, b'0' + (frac % 10) as u8]);
    out.extend_from_slice(b" ms");
}

/// `frame.index  time  dir  FAMILY  TYPE  [FLAGS]  seq pid  summary`.
pub fn write_summary(out: &mut Vec<u8>, msg: &Message, link: Link, first: Timestamp, style: Style) {
    // Seconds and microseconds since the first frame (the nanoseconds borrow a second if need be).
    let (mut secs, mut nanos) = (msg.time.secs - first.secs, i64::from(msg.time.nanos) - i64::from(first.nanos));
    if nanos < 0 {
        secs -= 1;
        nanos += 1_000_000_000;
    }
    let micros = (nanos / 1000) as u32;
    let mut num = itoa::Buffer::new();
    pad_left(out, num.format(msg.frame).as_bytes(), 6);
    out.push(b'.');
    let index = num.format(msg.index).as_bytes();
    out.extend_from_slice(index);
    out.resize(out.len() + 3usize.saturating_sub(index.len()), b' ');
    out.push(b' ');
    pad_left(out, num.format(secs).as_bytes(), 5);
    out.push(b'.');
    let us = num.format(micros).as_bytes();
    out.resize(out.len() + 6usize.saturating_sub(us.len()), b'0');
    out.extend_from_slice(us);
    out.push(b' ');
    out.extend_from_slice(arrow(msg.direction).as_bytes());
    out.push(b' ');
    style.begin(out, Style::family_code(msg.protocol));
    match msg.protocol_name() {
        Some(name) => out.extend_from_slice(name.as_bytes()),
        None => {
            out.extend_from_slice(b"proto ");
            number(out, msg.protocol);
        }
    }
    style.end(out);
    out.push(b' ');
    if style.color {
        // Only colour needs to know: walking the tree costs time on big dumps.
        let error = msg.is_error_reply() || msg.has_error_nodes();
        style.begin(
            out,
            if error {
                "1;31"
            } else if msg.unknown {
                "33"
            } else {
                "1"
            },
        );
    }
    match (msg.type_name(), msg.header) {
        (Some(t), _) => out.extend_from_slice(t.as_bytes()),
        (None, Some(h)) => {
            out.extend_from_slice(b"type ");
            crate::tree::write_hex_number(out, u64::from(h.ty));
        }
        (None, None) => {}
    }
    style.end(out);
    // Messages without a netlink header (uevents) have no flags, sequence number or port.
    if let Some(h) = msg.header {
        out.extend_from_slice(b" [");
        let names = crate::netlink::header::flag_names(h.flags, msg.op_kind);
        for (i, f) in names.as_slice().iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(f.as_bytes());
        }
        if names.left != 0 {
            if !names.as_slice().is_empty() {
                out.push(b',');
            }
            crate::tree::write_hex_number(out, u64::from(names.left));
        }
        out.extend_from_slice(b"] seq=");
        number(out, h.seq);
        out.extend_from_slice(b" pid=");
        number(out, h.pid);
    }
    if let Some(n) = msg.nsid {
        out.extend_from_slice(b" nsid=");
        out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
    }
    if let Some(p) = &msg.process {
        let _ = write!(out, " [{p}]");
    }
    let before = out.len();
    out.extend_from_slice(b"  ");
    write_summary_text(out, msg);
    if out.len() == before + 2 {
        out.truncate(before);
    }
    write_link(out, &link, style);
    out.push(b'\n');
}

/// What correlation knows of a message, after its summary: `  (reply to 3.0, +0.210 ms)`,
/// `  (answered in 4.0, ...)`, `  (dump of 3.0: 12 messages, ...)`; nothing when it knows
/// nothing. The one wording of links, for the text output and the terminal UI.
pub fn write_link(out: &mut Vec<u8>, link: &Link, style: Style) {
    if let Some(parts) = link.dump_parts {
        let (frame, index) = link.reply_to.unwrap_or_default();
        out.extend_from_slice(b"  (dump of ");
        msg_ref(out, (frame, index));
        out.extend_from_slice(b": ");
        number(out, parts);
        out.extend_from_slice(b" messages");
        millis(out, link.latency_ns);
        out.push(b')');
        if link.dump_interrupted {
            out.extend_from_slice(b"  ");
            style.write(
                out,
                "1;31",
                "INCONSISTENT DUMP: interrupted (NLM_F_DUMP_INTR), the kernel's data changed meanwhile",
            );
        }
    } else if let Some((frame, index)) = link.reply_to {
        out.extend_from_slice(if link.notification { b"  (notification of " } else { b"  (reply to " });
        msg_ref(out, (frame, index));
        millis(out, link.latency_ns);
        out.push(b')');
    } else if let Some(at) = link.replied_in {
        out.extend_from_slice(b"  (answered in ");
        msg_ref(out, at);
        millis(out, link.latency_ns);
        out.push(b')');
    }
}

/// `3.0`: frame number and message index.
fn msg_ref(out: &mut Vec<u8>, (frame, index): (u64, usize)) {
    number(out, frame);
    out.push(b'.');
    number(out, index);
}

/// The full tree of a message, indented two spaces per level.
pub fn write_tree(out: &mut Vec<u8>, msg: &Message, style: Style) {
    out.extend_from_slice(b"  Netlink ");
    match msg.protocol_name() {
        Some(name) => out.extend_from_slice(name.as_bytes()),
        None => {
            out.extend_from_slice(b"proto ");
            number(out, msg.protocol);
        }
    }
    if let Some(g) = &msg.genl_family {
        out.extend_from_slice(b" (");
        out.extend_from_slice(g.as_bytes());
        out.push(b')');
    }
    out.extend_from_slice(b" message ");
    number(out, msg.index);
    out.extend_from_slice(b" of frame ");
    number(out, msg.frame);
    out.extend_from_slice(b": ");
    number(out, msg.length);
    out.extend_from_slice(b" bytes at offset ");
    number(out, msg.offset);
    out.extend_from_slice(b", ");
    out.extend_from_slice(msg.direction.as_str().as_bytes());
    if msg.unknown {
        out.extend_from_slice(b", type not known to any dissector");
    }
    out.push(b'\n');
    write_nodes(out, &msg.tree, 0..msg.tree.len(), 2, style);
}

const SPACES: &[u8; 64] = &[b' '; 64];

/// The nodes `range` of a tree, one line each, indented by depth (`depth` levels more).
pub fn write_nodes(out: &mut Vec<u8>, tree: &Tree, range: std::ops::Range<NodeId>, depth: usize, style: Style) {
    for id in range {
        write_line(out, tree, id, depth, style);
    }
}

fn write_line(out: &mut Vec<u8>, tree: &Tree, id: NodeId, depth: usize, style: Style) {
    let indent = (2 * (depth + usize::from(tree.node(id).depth))).min(SPACES.len());
    write_indented(out, tree, id, indent, style);
    out.push(b'\n');
}

/// One node as a tree line shows it, without indentation or line end: `IFLA_MTU (4) u32: 1500`,
/// with its problem in brackets.
pub fn write_node_text(out: &mut Vec<u8>, tree: &Tree, id: NodeId) {
    write_indented(out, tree, id, 0, Style { color: false });
}

fn write_indented(out: &mut Vec<u8>, tree: &Tree, id: NodeId, indent: usize, style: Style) {
    let n = tree.node(id);
    match tree.known(id).filter(|_| !style.color && indent <= PREFIX_PAD) {
        // Indentation and line start in one piece.
        Some(known) => out.extend_from_slice(&known.prefix.as_bytes()[PREFIX_PAD - indent..]),
        None => {
            out.extend_from_slice(&SPACES[..indent]);
            out.extend_from_slice(tree.str(n.name).as_bytes());
            if let Some(t) = n.attr_type {
                out.extend_from_slice(b" (");
                number(out, t);
                out.push(b')');
            }
            out.push(b' ');
            style.write(out, "2", tree.str(n.kind));
        }
    }
    if !matches!(n.value, Value::None) {
        out.extend_from_slice(b": ");
        tree.write_value(out, &n.value);
    }
    if let Some(p) = n.problem {
        let code = if matches!(p, Problem::Unknown) { "33" } else { "1;31" };
        out.extend_from_slice(b"  ");
        style.begin(out, code);
        out.push(b'[');
        out.extend_from_slice(tree.problem_text(p).as_bytes());
        out.push(b']');
        style.end(out);
    }
}
