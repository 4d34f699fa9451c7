//! The short "what matters" text of a summary line: interface, address/prefix, route
//! destination, error code... picked from the decoded tree by attribute name.

use std::io::Write;

use crate::decode::Message;
use crate::tree::{NodeId, Tree, Value};

/// Declares the fields the summary reads (node names, each with its position) and the lookup
/// from a name to its position: a `match` on the string, which compiles to a switch on its length
/// and a few comparisons (every node near the top of every message is looked up).
macro_rules! fields {
    ($($i:literal $name:literal,)*) => {
        const FIELDS: &[&str] = &[$($name),*];
        /// The place of a node name among the fields summary lines read.
        pub fn field_index(name: &str) -> Option<usize> {
            match name { $($name => Some($i),)* _ => None }
        }
    };
}

fields! {
    0 "IFLA_IFNAME", 1 "IFA_LABEL", 2 "IFA_LOCAL", 3 "IFA_ADDRESS", 4 "RTA_DST", 5 "RTA_SRC",
    6 "RTA_GATEWAY", 7 "RTA_OIF", 8 "RTA_TABLE", 9 "NDA_DST", 10 "NDA_LLADDR", 11 "ifi_index",
    12 "ifa_index", 13 "ndm_ifindex", 14 "IFLA_MTU", 15 "IFLA_OPERSTATE", 16 "IFLA_INFO_KIND",
    17 "IFLA_MASTER", 18 "idiag_state", 19 "idiag_src", 20 "idiag_sport", 21 "idiag_dst",
    22 "idiag_dport", 23 "fl_addr", 24 "what", 25 "child_pid", 26 "process_pid", 27 "op",
    28 "prefixlen", 29 "tb_id",
    // Not shown themselves: prefix lengths, the parts of error replies, uevent lines.
    30 "ifa_prefixlen", 31 "rtm_dst_len", 32 "rtm_src_len", 33 "request", 34 "NLMSGERR_ATTR_MSG",
    35 "NLMSGERR_ATTR_OFFS", 36 "header", 37 "ACTION", 38 "DEVPATH", 39 "NLMSGERR_ATTR_MISS_TYPE",
    40 "NLMSGERR_ATTR_MISS_NEST",
}

const IFA_PREFIXLEN: usize = 30;
const RTM_DST_LEN: usize = 31;
const RTM_SRC_LEN: usize = 32;
const REQUEST: usize = 33;
const ERR_MSG: usize = 34;
const ERR_OFFS: usize = 35;
const UEVENT_HEADER: usize = 36;
const ACTION: usize = 37;
const DEVPATH: usize = 38;
const ERR_MISS_TYPE: usize = 39;
const ERR_MISS_NEST: usize = 40;

/// The fields shown, in order: (position in FIELDS, label, position of its prefix length).
const SHOWN: &[(usize, &str, Option<usize>)] = &[
    (0, "dev", None),
    (1, "label", None),
    (2, "local", Some(IFA_PREFIXLEN)),
    (3, "addr", Some(IFA_PREFIXLEN)),
    (4, "dst", Some(RTM_DST_LEN)),
    (5, "src", Some(RTM_SRC_LEN)),
    (6, "via", None),
    (7, "oif", None),
    (8, "table", None),
    (9, "neigh", None),
    (10, "lladdr", None),
    (11, "index", None),
    (12, "index", None),
    (13, "index", None),
    (14, "mtu", None),
    (15, "state", None),
    (16, "kind", None),
    (17, "master", None),
    (18, "state", None),
    (19, "src", None),
    (20, "sport", None),
    (21, "dst", None),
    (22, "dport", None),
    (23, "lookup", None),
    (24, "event", None),
    (25, "child", None),
    (26, "pid", None),
    (27, "op", None),
    (28, "prefixlen", None),
    (29, "table", None),
];

/// The first node of each field among the top three levels of the body ([`NONE`] where there is
/// none): node ids fit in 32 bits, and the array stays small enough to live in registers' reach.
type Found = [u32; FIELDS.len()];

const NONE: u32 = u32::MAX;

fn get(found: &Found, field: usize) -> Option<NodeId> {
    (found[field] != NONE).then_some(found[field] as NodeId)
}

/// A short value: enum names without their number, strings without quotes.
fn push_short(out: &mut Vec<u8>, tree: &Tree, v: &Value) {
    match *v {
        Value::Enum { name: Some(n), .. } => out.extend_from_slice(tree.str(n).as_bytes()),
        Value::Str(text) => out.extend_from_slice(tree.str(text).as_bytes()),
        ref other => tree.write_value(out, other),
    }
}

fn write_error_text(out: &mut Vec<u8>, msg: &Message, found: &Found) -> bool {
    let Some(e) = msg.error else { return false };
    let tree = &msg.tree;
    let request = get(found, REQUEST).and_then(|r| match tree.node(r).value {
        Value::Enum { name: Some(n), .. } => Some(tree.str(n).to_string()),
        Value::Enum { raw, .. } => Some(format!("type {raw}")),
        _ => None,
    });
    if e >= 0 {
        match (&request, msg.type_name()) {
            (_, Some("NLMSG_DONE")) => out.extend_from_slice(b"end of dump"),
            (Some(r), _) => {
                out.extend_from_slice(b"ACK for ");
                out.extend_from_slice(r.as_bytes());
            }
            (None, _) => out.extend_from_slice(b"ACK"),
        }
        if e > 0 {
            let _ = write!(out, " (returned {e})");
        }
    } else {
        tree.write_value(out, &Value::Errno(e));
        if let Some(r) = &request {
            out.extend_from_slice(b" for ");
            out.extend_from_slice(r.as_bytes());
        }
    }
    if let Some(text) = get(found, ERR_MSG).and_then(|m| tree.str_value(m)) {
        out.extend_from_slice(b": \"");
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
    if let Some(path) = get(found, ERR_OFFS).and_then(|o| tree.children(o).next()).and_then(|p| tree.str_value(p)) {
        out.extend_from_slice(b" at ");
        out.extend_from_slice(path.as_bytes());
    }
    if let Some(miss) = get(found, ERR_MISS_TYPE) {
        match tree.node(miss).value {
            Value::Enum { name: Some(n), .. } => {
                out.extend_from_slice(b" missing ");
                out.extend_from_slice(tree.str(n).as_bytes());
            }
            ref v => {
                out.extend_from_slice(b" missing attribute ");
                tree.write_value(out, v);
            }
        }
        let nest = get(found, ERR_MISS_NEST).and_then(|n| tree.children(n).next()).and_then(|p| tree.str_value(p));
        if let Some(path) = nest {
            out.extend_from_slice(b" in ");
            out.extend_from_slice(path.as_bytes());
        }
    }
    true
}

/// Records, for each field, the first node of that name among the top three levels of the body
/// (deeper ones are details, not summary): the top level first, then under each top-level node
/// its children, then their children.
fn collect(msg: &Message) -> Found {
    let mut found = [NONE; FIELDS.len()];
    let tree = &msg.tree;
    let mut check = |id: NodeId| {
        // Spec nodes know their field ahead; others are looked up by name.
        let field = match tree.known(id) {
            Some(known) => known.summary_field.map(usize::from),
            None => field_index(tree.name(id)),
        };
        if let Some(i) = field
            && found[i] == NONE
        {
            found[i] = id as u32;
        }
    };
    let roots = || tree.roots_from(msg.body_start);
    roots().for_each(&mut check);
    for r in roots() {
        tree.children(r).for_each(&mut check);
        for c in tree.children(r) {
            tree.children(c).for_each(&mut check);
        }
    }
    found
}

/// The summary text of one message.
pub fn summary(msg: &Message) -> String {
    let mut out = Vec::new();
    write_summary_text(&mut out, msg);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the summary text of one message.
pub fn write_summary_text(out: &mut Vec<u8>, msg: &Message) {
    let found = collect(msg);
    if write_error_text(out, msg, &found) {
        return;
    }
    let start = out.len();
    let sep = |out: &mut Vec<u8>| {
        if out.len() > start {
            out.push(b' ');
        }
    };
    let tree = &msg.tree;
    if let Some(g) = &msg.genl_family {
        out.extend_from_slice(g.as_bytes());
    }
    let mut have_index = false;
    let mut picked = 0;
    for &(field, label, prefix) in SHOWN {
        let Some(node) = get(&found, field) else {
            continue;
        };
        if label == "index" {
            if have_index {
                continue;
            }
            have_index = true;
        }
        sep(out);
        out.extend_from_slice(label.as_bytes());
        out.push(b' ');
        push_short(out, tree, &tree.node(node).value);
        // A prefix length belongs to addresses (an MPLS label is 20 bits, always).
        let is_address = !matches!(tree.node(node).value, Value::Mpls(_));
        if let Some(len) =
            prefix.filter(|_| is_address).and_then(|p| get(&found, p)).and_then(|n| tree.node(n).value.as_u64())
        {
            out.push(b'/');
            out.extend_from_slice(itoa::Buffer::new().format(len).as_bytes());
        }
        picked += 1;
    }
    if picked == 0 {
        // Anything else: the first few named leaf values.
        let leaves = tree.roots_from(msg.body_start).map(|id| tree.node(id));
        let leaves = leaves.filter(|n| n.attr_type.is_some() && n.problem.is_none());
        for n in leaves.filter(|n| !matches!(n.value, Value::None | Value::Bytes(_))).take(3) {
            sep(out);
            out.extend_from_slice(tree.str(n.name).as_bytes());
            out.push(b'=');
            push_short(out, tree, &n.value);
        }
    }
    if msg.header.is_none() {
        // uevents: the ACTION@DEVPATH line or ACTION and DEVPATH.
        if let Some(h) = get(&found, UEVENT_HEADER) {
            sep(out);
            push_short(out, tree, &tree.node(h).value);
        } else if let (Some(a), Some(d)) = (get(&found, ACTION), get(&found, DEVPATH)) {
            sep(out);
            push_short(out, tree, &tree.node(a).value);
            out.push(b'@');
            push_short(out, tree, &tree.node(d).value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_found_at_its_position() {
        for (i, name) in FIELDS.iter().enumerate() {
            assert_eq!(field_index(name), Some(i), "{name}");
        }
        assert!(SHOWN.iter().all(|&(f, _, p)| f < FIELDS.len() && p.is_none_or(|p| p < FIELDS.len())));
        assert!(FIELDS.len() < usize::from(u8::MAX));
        // Nodes named in the code say they are no summary field.
        for name in ["nlmsghdr", "nlmsg_len", "nlmsg_type", "nlmsg_flags", "nlmsg_seq", "nlmsg_pid"] {
            assert_eq!(field_index(name), None, "{name}");
        }
        for name in ["genlmsghdr", "cmd", "version", "reserved"] {
            assert_eq!(field_index(name), None, "{name}");
        }
    }
}
