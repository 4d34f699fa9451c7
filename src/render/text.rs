//! Text output: one summary line per message, and with `-V` the whole tree, optionally coloured.

use std::io::{self, Write};

use super::summary::summary;
use crate::capture::{Direction, Timestamp};
use crate::decode::Message;
use crate::tree::{Node, Problem, Value};

/// ANSI colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color { format!("\x1b[{code}m{text}\x1b[0m") } else { text.to_string() }
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
pub fn write_summary(out: &mut impl Write, msg: &Message, first: Timestamp, style: Style) -> io::Result<()> {
    let rel = msg.time.nanos_since(&first);
    let time = format!("{}.{:06}", rel.div_euclid(1_000_000_000), rel.rem_euclid(1_000_000_000) / 1000);
    let family = msg.protocol_name().map(str::to_string).unwrap_or_else(|| format!("proto {}", msg.protocol));
    let ty = msg
        .type_name
        .as_deref()
        .map(str::to_string)
        .unwrap_or_else(|| msg.header.map(|h| format!("type 0x{:x}", h.ty)).unwrap_or_default());
    let flags = msg.flag_names().join(",");
    let (seq, pid) = msg.header.map(|h| (h.seq, h.pid)).unwrap_or((0, 0));
    let text = summary(msg);
    let error = msg.error.is_some_and(|e| e != 0) || msg.has_error_nodes();
    let ty_styled = if error {
        style.paint("1;31", &ty)
    } else if msg.unknown {
        style.paint("33", &ty)
    } else {
        style.paint("1", &ty)
    };
    writeln!(
        out,
        "{:>6}.{:<3} {:>12} {} {} {} [{}] seq={} pid={}{}{}",
        msg.frame,
        msg.index,
        time,
        arrow(msg.direction),
        style.paint(Style::family_code(msg.protocol), &family),
        ty_styled,
        flags,
        seq,
        pid,
        if text.is_empty() { "" } else { "  " },
        text
    )
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

pub fn write_node(out: &mut impl Write, n: &Node, depth: usize, style: Style) -> io::Result<()> {
    let indent = "  ".repeat(depth);
    let num = n.attr_type.map(|t| format!(" ({t})")).unwrap_or_default();
    let value = match &n.value {
        Value::None => String::new(),
        v => format!(": {v}"),
    };
    let problem = match &n.problem {
        None => String::new(),
        Some(p @ Problem::Unknown) => format!("  {}", style.paint("33", &format!("[{p}]"))),
        Some(p) => format!("  {}", style.paint("1;31", &format!("[{p}]"))),
    };
    writeln!(out, "{indent}{}{num} {}{value}{problem}", n.name, style.paint("2", &n.kind))?;
    for c in &n.children {
        write_node(out, c, depth + 1, style)?;
    }
    Ok(())
}
