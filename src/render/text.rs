//! Text output: one summary line per message, and with `-V` the whole tree, optionally coloured.

use std::io::{self, Write};

use super::summary::summary;
use crate::capture::{Direction, Timestamp};
use crate::decode::Message;
use crate::session::Link;
use crate::tree::{Node, Problem, Value, enum_number};

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn begin(&self, out: &mut impl Write, code: &str) -> io::Result<()> {
        if self.color { write!(out, "\x1b[{code}m") } else { Ok(()) }
    }

    fn end(&self, out: &mut impl Write) -> io::Result<()> {
        if self.color { out.write_all(b"\x1b[0m") } else { Ok(()) }
    }

    /// Writes `text` in colour `code` without building a string.
    fn write(&self, out: &mut impl Write, code: &str, text: &str) -> io::Result<()> {
        self.begin(out, code)?;
        out.write_all(text.as_bytes())?;
        self.end(out)
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

/// `frame.index  time  dir  FAMILY  TYPE  [FLAGS]  seq pid  summary`.
pub fn write_summary(
    out: &mut impl Write,
    msg: &Message,
    link: Link,
    first: Timestamp,
    style: Style,
) -> io::Result<()> {
    let rel = msg.time.nanos_since(&first);
    let (secs, micros) = (rel.div_euclid(1_000_000_000) as i64, (rel.rem_euclid(1_000_000_000) / 1000) as u32);
    write!(out, "{:>6}.{:<3} {:>5}.{micros:06} {} ", msg.frame, msg.index, secs, arrow(msg.direction))?;
    style.begin(out, Style::family_code(msg.protocol))?;
    match msg.protocol_name() {
        Some(name) => out.write_all(name.as_bytes())?,
        None => write!(out, "proto {}", msg.protocol)?,
    }
    style.end(out)?;
    out.write_all(b" ")?;
    if style.color {
        // Only colour needs to know: walking the tree costs time on big dumps.
        let error = msg.error.is_some_and(|e| e != 0) || msg.has_error_nodes();
        style.begin(
            out,
            if error {
                "1;31"
            } else if msg.unknown {
                "33"
            } else {
                "1"
            },
        )?;
    }
    match (&msg.type_name, msg.header) {
        (Some(t), _) => out.write_all(t.as_bytes())?,
        (None, Some(h)) => write!(out, "type 0x{:x}", h.ty)?,
        (None, None) => {}
    }
    style.end(out)?;
    out.write_all(b" [")?;
    for (i, f) in msg.flag_names().iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(f.as_bytes())?;
    }
    let (seq, pid) = msg.header.map(|h| (h.seq, h.pid)).unwrap_or((0, 0));
    write!(out, "] seq={seq} pid={pid}")?;
    let text = summary(msg);
    if !text.is_empty() {
        out.write_all(b"  ")?;
        out.write_all(text.as_bytes())?;
    }
    let ms = |ns: Option<i64>| ns.map(|n| format!(", +{:.3} ms", n as f64 / 1e6)).unwrap_or_default();
    if let Some(parts) = link.dump_parts {
        let (frame, index) = link.reply_to.unwrap_or_default();
        write!(out, "  (dump of {frame}.{index}: {parts} messages{})", ms(link.latency_ns))?;
        if link.dump_interrupted {
            out.write_all(b"  ")?;
            style.write(
                out,
                "1;31",
                "INCONSISTENT DUMP: interrupted (NLM_F_DUMP_INTR), the kernel's data changed meanwhile",
            )?;
        }
    } else if let Some((frame, index)) = link.reply_to {
        write!(out, "  (reply to {frame}.{index}{})", ms(link.latency_ns))?;
    } else if let Some((frame, index)) = link.replied_in {
        write!(out, "  (answered in {frame}.{index}{})", ms(link.latency_ns))?;
    }
    out.write_all(b"\n")
}

/// The full tree of a message, indented two spaces per level.
pub fn write_tree(out: &mut impl Write, msg: &Message, style: Style) -> io::Result<()> {
    let family = msg.protocol_name().map(str::to_string).unwrap_or_else(|| format!("proto {}", msg.protocol));
    let genl = msg.genl_family.as_deref().map(|g| format!(" ({g})")).unwrap_or_default();
    writeln!(
        out,
        "  Netlink {family}{genl} message {} of frame {}: {} bytes at offset {}, {}{}",
        msg.index,
        msg.frame,
        msg.length,
        msg.offset,
        msg.direction.as_str(),
        if msg.unknown { ", type not known to any dissector" } else { "" }
    )?;
    for n in msg.header_node.iter().chain(&msg.body) {
        write_node(out, n, 2, style)?;
    }
    Ok(())
}

const SPACES: &[u8; 64] = &[b' '; 64];

/// A value as `Display` shows it, with the common cases written without `core::fmt` (the tree of
/// a big dump has millions of them).
fn write_value(out: &mut impl Write, v: &Value, num: &mut itoa::Buffer) -> io::Result<()> {
    match v {
        Value::Unsigned(n) => out.write_all(num.format(*n).as_bytes()),
        Value::Signed(n) => out.write_all(num.format(*n).as_bytes()),
        Value::Enum { raw, name: Some(name) } => {
            out.write_all(name.as_bytes())?;
            out.write_all(b" (")?;
            out.write_all(num.format(enum_number(*raw)).as_bytes())?;
            out.write_all(b")")
        }
        other => write!(out, "{other}"),
    }
}

pub fn write_node(out: &mut impl Write, n: &Node, depth: usize, style: Style) -> io::Result<()> {
    out.write_all(&SPACES[..(2 * depth).min(SPACES.len())])?;
    out.write_all(n.name.as_bytes())?;
    let mut num = itoa::Buffer::new();
    if let Some(t) = n.attr_type {
        out.write_all(b" (")?;
        out.write_all(num.format(t).as_bytes())?;
        out.write_all(b")")?;
    }
    out.write_all(b" ")?;
    style.write(out, "2", &n.kind)?;
    if !matches!(n.value, Value::None) {
        out.write_all(b": ")?;
        write_value(out, &n.value, &mut num)?;
    }
    match &n.problem {
        None => {}
        Some(p) => {
            let code = if matches!(p, Problem::Unknown) { "33" } else { "1;31" };
            out.write_all(b"  ")?;
            style.begin(out, code)?;
            write!(out, "[{p}]")?;
            style.end(out)?;
        }
    }
    out.write_all(b"\n")?;
    for c in &n.children {
        write_node(out, c, depth + 1, style)?;
    }
    Ok(())
}
