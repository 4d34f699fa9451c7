//! Evaluates a checked filter against one decoded message, its links and its time.

use std::net::IpAddr;

use super::parse::{Expr, Field, HeaderField, Lit, Op, Path, Rhs, Seg, Test};
use crate::capture::Timestamp;
use crate::decode::Message;
use crate::netlink::{errno, header, protocol};
use crate::session::Link;
use crate::tree::{NodeId, Tree, Value};

pub struct Ctx<'a> {
    pub msg: &'a Message,
    pub link: &'a Link,
    pub first: Timestamp,
}

pub fn matches(e: &Expr, ctx: &Ctx) -> bool {
    match e {
        Expr::And(a, b) => matches(a, ctx) && matches(b, ctx),
        Expr::Or(a, b) => matches(a, ctx) || matches(b, ctx),
        Expr::Not(a) => !matches(a, ctx),
        Expr::Test(t) => test(t, ctx),
    }
}

/// What a header field is for one message.
enum HeaderValue<'a> {
    Absent,
    Number(i128),
    /// A time in the field's unit (seconds for `time`, milliseconds for `latency`), and that unit
    /// in nanoseconds (for literals written with a unit).
    Duration(f64, f64),
    /// A number with the names it goes by (protocol names, a type's name, an errno's name).
    Named(i128, Vec<&'a str>),
    Text(&'a str),
    Flags(u16, header::FlagNames),
}

fn test(t: &Test, ctx: &Ctx) -> bool {
    match &t.field {
        Field::Header(h) => {
            let v = header_value(*h, ctx);
            match &t.cmp {
                None => match (h, &v) {
                    (_, HeaderValue::Absent) => false,
                    // `error` alone: an error reply (an ACK carries errno 0).
                    (HeaderField::Error, HeaderValue::Named(e, _)) => *e != 0,
                    _ => true,
                },
                Some((Op::Ne, rhs)) => !header_cmp(&v, Op::Eq, rhs),
                Some((op, rhs)) => header_cmp(&v, *op, rhs),
            }
        }
        Field::Attr(path) => {
            if !in_scope(path, ctx.msg) {
                return false;
            }
            let tree = &ctx.msg.tree;
            let mut found = false;
            let mut any = |id: NodeId| {
                let ok = match &t.cmp {
                    None => true,
                    Some((Op::Ne, rhs)) => node_cmp(tree, &tree.node(id).value, Op::Eq, rhs),
                    Some((op, rhs)) => node_cmp(tree, &tree.node(id).value, *op, rhs),
                };
                found |= ok;
                !found
            };
            walk(tree, &path.segs, 0..tree.len(), &mut any);
            match &t.cmp {
                Some((Op::Ne, _)) => !found,
                _ => found,
            }
        }
    }
}

fn in_scope(path: &Path, msg: &Message) -> bool {
    match &path.scope {
        None => true,
        Some(s) => protocol::lower_name(msg.protocol) == Some(s.as_str()) || msg.genl_family.as_deref() == Some(s),
    }
}

/// Calls `f` with every node in `range` that matches the last of `segs` below nodes matching the
/// ones before, in order; stops when `f` returns false. Returns false once stopped.
fn walk(tree: &Tree, segs: &[Seg], range: std::ops::Range<NodeId>, f: &mut impl FnMut(NodeId) -> bool) -> bool {
    let mut id = range.start;
    while id < range.end {
        let end = tree.end(id);
        if seg_matches(tree, id, &segs[0]) {
            if segs.len() == 1 {
                if !f(id) {
                    return false;
                }
            } else if !walk(tree, &segs[1..], id + 1..end, f) {
                return false;
            }
        }
        // Descend: the first name may be anywhere below too.
        id += 1;
    }
    true
}

fn seg_matches(tree: &Tree, id: NodeId, seg: &Seg) -> bool {
    seg.full.as_ref().is_some_and(|name| tree.name(id) == name)
        || seg.short.as_ref().is_some_and(|short| tree.known(id).and_then(|k| k.short_name) == Some(short.as_str()))
}

fn header_value<'a>(h: HeaderField, ctx: &Ctx<'a>) -> HeaderValue<'a> {
    let msg = ctx.msg;
    let hdr = msg.header;
    let num = |v: Option<u64>| v.map_or(HeaderValue::Absent, |v| HeaderValue::Number(i128::from(v)));
    match h {
        HeaderField::Frame => HeaderValue::Number(i128::from(msg.frame)),
        HeaderField::Time => HeaderValue::Duration(msg.time.nanos_since(&ctx.first) as f64 / 1e9, 1e9),
        HeaderField::Protocol => {
            let mut names = Vec::new();
            if let (Some(lower), Some(upper)) = (protocol::lower_name(msg.protocol), protocol::name(msg.protocol)) {
                names.push(lower);
                names.push(upper);
            }
            HeaderValue::Named(i128::from(msg.protocol), names)
        }
        HeaderField::Type => match hdr {
            Some(h) => HeaderValue::Named(i128::from(h.ty), msg.type_name().into_iter().collect()),
            None => msg.type_name().map_or(HeaderValue::Absent, HeaderValue::Text),
        },
        HeaderField::Flags => match hdr {
            Some(h) => HeaderValue::Flags(h.flags, header::flag_names(h.flags, msg.op_kind)),
            None => HeaderValue::Absent,
        },
        HeaderField::Seq => num(hdr.map(|h| u64::from(h.seq))),
        HeaderField::Pid => num(hdr.map(|h| u64::from(h.pid))),
        HeaderField::Len => HeaderValue::Number(hdr.map_or(msg.length as i128, |h| i128::from(h.len))),
        HeaderField::Direction => HeaderValue::Text(msg.direction.as_str()),
        HeaderField::GenlFamily => msg.genl_family.as_deref().map_or(HeaderValue::Absent, HeaderValue::Text),
        HeaderField::Cmd => {
            let cmd = msg.genl_family.as_ref().and_then(|_| msg.find("cmd")).map(|c| msg.tree.node(c).value);
            match cmd {
                Some(Value::Enum { raw, name }) => {
                    HeaderValue::Named(i128::from(raw), name.map(|n| msg.tree.str(n)).into_iter().collect())
                }
                _ => HeaderValue::Absent,
            }
        }
        HeaderField::Errno | HeaderField::Error => match msg.error {
            Some(e) => {
                // A positive value is a success's result, not an errno.
                let n = if e < 0 { i128::from(e.unsigned_abs()) } else { 0 };
                let names =
                    errno::lookup(e.unsigned_abs()).filter(|_| e < 0).map(|(name, _)| name).into_iter().collect();
                HeaderValue::Named(n, names)
            }
            None => HeaderValue::Absent,
        },
        // Which process owns a port is known only when capturing live.
        HeaderField::Process => msg.process.as_ref().map_or(HeaderValue::Absent, |p| HeaderValue::Text(&p.comm)),
        HeaderField::Latency => {
            ctx.link.latency_ns.map_or(HeaderValue::Absent, |ns| HeaderValue::Duration(ns as f64 / 1e6, 1e6))
        }
    }
}

fn ordered<T: PartialOrd>(a: T, op: Op, b: T) -> bool {
    match op {
        Op::Eq | Op::In => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        Op::Contains | Op::Matches | Op::Has => false,
    }
}

/// A number compared with a literal: as an integer, or (for `-17` against an errno) by size.
fn number_cmp(n: i128, op: Op, lit: &Lit) -> bool {
    match (lit.int, lit.float) {
        (Some(i), _) => ordered(n, op, i),
        (None, Some(f)) => ordered(n as f64, op, f),
        _ => false,
    }
}

fn text_cmp(text: &str, op: Op, rhs: &Rhs) -> bool {
    match (op, rhs) {
        (Op::Matches, Rhs::Regex(re)) => re.is_match(text),
        (Op::Contains, Rhs::One(l)) => text.contains(l.text.as_str()),
        (Op::In, Rhs::Set(set)) => set.iter().any(|l| l.text == text),
        (_, Rhs::One(l)) => ordered(text, op, l.text.as_str()),
        _ => false,
    }
}

fn header_cmp(v: &HeaderValue, op: Op, rhs: &Rhs) -> bool {
    if let Rhs::Set(set) = rhs {
        return set.iter().any(|l| header_cmp(v, Op::Eq, &Rhs::One(l.clone())));
    }
    match v {
        HeaderValue::Absent => false,
        HeaderValue::Number(n) => match rhs {
            Rhs::One(l) => number_cmp(*n, op, l),
            _ => text_cmp(&n.to_string(), op, rhs),
        },
        HeaderValue::Duration(v, unit) => match rhs {
            Rhs::One(l) => match (l.nanos, l.float) {
                (Some(ns), _) => ordered(*v, op, ns / unit),
                (None, Some(x)) => ordered(*v, op, x),
                _ => false,
            },
            _ => false,
        },
        HeaderValue::Named(n, names) => match (op, rhs) {
            (Op::Matches | Op::Contains, _) => names.iter().any(|name| text_cmp(name, op, rhs)),
            (_, Rhs::One(l)) if l.int.is_some() => number_cmp(*n, op, l) || l.int == Some(-*n),
            (Op::Eq | Op::In, Rhs::One(l)) => names.iter().any(|name| *name == l.text),
            _ => false,
        },
        HeaderValue::Text(t) => text_cmp(t, op, rhs),
        HeaderValue::Flags(raw, names) => match (op, rhs) {
            (Op::Has | Op::Eq | Op::Contains, Rhs::One(l)) if l.int.is_none() => {
                names.as_slice().contains(&l.text.as_str())
            }
            (_, Rhs::One(l)) => number_cmp(i128::from(*raw), op, l),
            _ => false,
        },
    }
}

fn node_cmp(tree: &Tree, v: &Value, op: Op, rhs: &Rhs) -> bool {
    if let Rhs::Set(set) = rhs {
        return set.iter().any(|l| node_cmp(tree, v, Op::Eq, &Rhs::One(l.clone())));
    }
    if let Rhs::Regex(_) = rhs {
        return text_cmp(&display(tree, v), op, rhs);
    }
    let Rhs::One(l) = rhs else { return false };
    if op == Op::Contains {
        return match v {
            Value::Str(t) => tree.str(*t).contains(l.text.as_str()),
            Value::Flags { raw, table } => {
                let mut has = false;
                table.for_each_name(*raw, |n| has |= n == l.text);
                has
            }
            _ => display(tree, v).contains(l.text.as_str()),
        };
    }
    match *v {
        Value::None => false,
        Value::Unsigned(n) | Value::Hex(n) => number_cmp(i128::from(n), op, l),
        Value::Signed(n) => number_cmp(i128::from(n), op, l),
        Value::Errno(e) => {
            number_cmp(i128::from(e), op, l)
                || number_cmp(i128::from(e.unsigned_abs()), op, l)
                || (matches!(op, Op::Eq | Op::In) && errno::by_name(&l.text) == Some(e.unsigned_abs()))
        }
        Value::Enum { raw, name } => match l.int {
            Some(_) => number_cmp(i128::from(raw as i64), op, l),
            None => matches!(op, Op::Eq | Op::In) && name.is_some_and(|n| tree.str(n) == l.text),
        },
        Value::Flags { raw, table } => match l.int {
            Some(_) => number_cmp(i128::from(raw), op, l),
            None if matches!(op, Op::Eq | Op::Has | Op::In) => {
                let mut has = false;
                table.for_each_name(raw, |n| has |= n == l.text);
                has
            }
            None => false,
        },
        Value::Str(t) => text_cmp(tree.str(t), op, rhs),
        Value::Flag => matches!(op, Op::Eq) && (l.int == Some(1) || l.text == "true"),
        Value::Ipv4(a) => addr_cmp(IpAddr::from(a), op, l),
        Value::Ipv6(a) => addr_cmp(IpAddr::from(a), op, l),
        Value::Mac(s) => match &l.mac {
            Some(m) => ordered(tree.byte_slice(s), op, m.as_slice()),
            None => text_cmp(&display(tree, v), op, rhs),
        },
        Value::Mpls(_) | Value::Bytes(_) | Value::Uuid(_) => {
            let text = display(tree, v);
            match l.int {
                // The first label of a label stack.
                Some(i) if matches!(v, Value::Mpls(_)) => text
                    .split(['/', ' '])
                    .next()
                    .and_then(|f| f.parse::<i128>().ok())
                    .is_some_and(|f| ordered(f, op, i)),
                _ => text_cmp(&text, op, rhs),
            }
        }
    }
}

fn addr_cmp(a: IpAddr, op: Op, l: &Lit) -> bool {
    if let Some((net, len)) = l.prefix {
        return matches!(op, Op::Eq | Op::In) && in_prefix(a, net, len);
    }
    match l.ip {
        Some(b) => ordered(a, op, b),
        None => false,
    }
}

fn in_prefix(a: IpAddr, net: IpAddr, len: u8) -> bool {
    match (a, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - u32::from(len)) };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if len == 0 { 0 } else { u128::MAX << (128 - u32::from(len)) };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn display(tree: &Tree, v: &Value) -> String {
    match v {
        Value::Str(t) => tree.str(*t).to_string(),
        other => tree.value_string(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_contain_their_addresses() {
        let a: IpAddr = "10.1.2.3".parse().unwrap();
        assert!(in_prefix(a, "10.0.0.0".parse().unwrap(), 8));
        assert!(!in_prefix(a, "10.0.0.0".parse().unwrap(), 16));
        assert!(in_prefix(a, "0.0.0.0".parse().unwrap(), 0));
        let b: IpAddr = "2001:db8::1".parse().unwrap();
        assert!(in_prefix(b, "2001:db8::".parse().unwrap(), 32));
        assert!(!in_prefix(b, "10.0.0.0".parse().unwrap(), 8));
    }
}
