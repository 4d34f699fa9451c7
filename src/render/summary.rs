//! The short "what matters" text of a summary line: interface, address/prefix, route
//! destination, error code... picked from the decoded tree by attribute name.

use crate::decode::Message;
use crate::tree::{NodeId, Tree, Value};

/// (attribute or field, label, prefix-length field that belongs to it).
const PICKS: &[(&str, &str, Option<&str>)] = &[
    ("IFLA_IFNAME", "dev", None),
    ("IFA_LABEL", "label", None),
    ("IFA_LOCAL", "local", Some("ifa_prefixlen")),
    ("IFA_ADDRESS", "addr", Some("ifa_prefixlen")),
    ("RTA_DST", "dst", Some("rtm_dst_len")),
    ("RTA_SRC", "src", Some("rtm_src_len")),
    ("RTA_GATEWAY", "via", None),
    ("RTA_OIF", "oif", None),
    ("RTA_TABLE", "table", None),
    ("NDA_DST", "neigh", None),
    ("NDA_LLADDR", "lladdr", None),
    ("ifi_index", "index", None),
    ("ifa_index", "index", None),
    ("ndm_ifindex", "index", None),
    ("IFLA_MTU", "mtu", None),
    ("IFLA_OPERSTATE", "state", None),
    ("IFLA_INFO_KIND", "kind", None),
    ("IFLA_MASTER", "master", None),
    ("idiag_state", "state", None),
    ("idiag_src", "src", None),
    ("idiag_sport", "sport", None),
    ("idiag_dst", "dst", None),
    ("idiag_dport", "dport", None),
    ("fl_addr", "lookup", None),
    ("what", "event", None),
    ("child_pid", "child", None),
    ("process_pid", "pid", None),
    ("op", "op", None),
    ("prefixlen", "prefixlen", None),
    ("tb_id", "table", None),
];

/// The position in [`PICKS`] of a node name (every node near the top of every message is looked
/// up: a `match` on the string compiles to a switch on its length, then a few comparisons).
fn pick_index(name: &str) -> Option<usize> {
    macro_rules! index_of {
        ($($name:literal => $i:literal,)*) => {{
            // The literals below must be PICKS' names in order.
            debug_assert!([$($name),*].iter().zip(PICKS).all(|(n, p)| *n == p.0));
            match name { $($name => Some($i),)* _ => None }
        }};
    }
    index_of! {
        "IFLA_IFNAME" => 0, "IFA_LABEL" => 1, "IFA_LOCAL" => 2, "IFA_ADDRESS" => 3, "RTA_DST" => 4,
        "RTA_SRC" => 5, "RTA_GATEWAY" => 6, "RTA_OIF" => 7, "RTA_TABLE" => 8, "NDA_DST" => 9,
        "NDA_LLADDR" => 10, "ifi_index" => 11, "ifa_index" => 12, "ndm_ifindex" => 13, "IFLA_MTU" => 14,
        "IFLA_OPERSTATE" => 15, "IFLA_INFO_KIND" => 16, "IFLA_MASTER" => 17, "idiag_state" => 18,
        "idiag_src" => 19, "idiag_sport" => 20, "idiag_dst" => 21, "idiag_dport" => 22, "fl_addr" => 23,
        "what" => 24, "child_pid" => 25, "process_pid" => 26, "op" => 27, "prefixlen" => 28, "tb_id" => 29,
    }
}

/// A short value: enum names without their number, strings without quotes.
fn push_short(out: &mut Vec<u8>, tree: &Tree, v: &Value) {
    match *v {
        Value::Enum { name: Some(n), .. } => out.extend_from_slice(tree.str(n).as_bytes()),
        Value::Str(text) => out.extend_from_slice(tree.str(text).as_bytes()),
        ref other => tree.write_value(out, other),
    }
}

/// The name of the request an error or ACK answers, from its echoed `request` node.
pub fn error_request(msg: &Message) -> Option<String> {
    let r = msg.find("request")?;
    match msg.tree.node(r).value {
        Value::Enum { name: Some(n), .. } => Some(msg.tree.str(n).to_string()),
        Value::Enum { raw, .. } => Some(format!("type {raw}")),
        _ => None,
    }
}

fn write_error_text(out: &mut Vec<u8>, msg: &Message) -> bool {
    let Some(e) = msg.error else { return false };
    let tree = &msg.tree;
    let request = error_request(msg);
    if e == 0 {
        match (&request, msg.type_name()) {
            (_, Some("NLMSG_DONE")) => out.extend_from_slice(b"end of dump"),
            (Some(r), _) => {
                out.extend_from_slice(b"ACK for ");
                out.extend_from_slice(r.as_bytes());
            }
            (None, _) => out.extend_from_slice(b"ACK"),
        }
    } else {
        tree.write_value(out, &Value::Errno(e));
        if let Some(r) = &request {
            out.extend_from_slice(b" for ");
            out.extend_from_slice(r.as_bytes());
        }
    }
    if let Some(text) = msg.find("NLMSGERR_ATTR_MSG").and_then(|m| tree.str_value(m)) {
        out.extend_from_slice(b": \"");
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    }
    let path = msg.find("NLMSGERR_ATTR_OFFS").and_then(|o| tree.children(o).next()).and_then(|p| tree.str_value(p));
    if let Some(path) = path {
        out.extend_from_slice(b" at ");
        out.extend_from_slice(path.as_bytes());
    }
    true
}

/// Records, for each entry of [`PICKS`], the first node of that name among the top three levels
/// of the body (deeper ones are details, not summary): the top level first, then under each
/// top-level node its children, then their children.
fn collect(msg: &Message, found: &mut [Option<NodeId>; PICKS.len()]) {
    let tree = &msg.tree;
    let mut check = |id: NodeId| {
        if let Some(i) = pick_index(tree.name(id)) {
            found[i].get_or_insert(id);
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
}

/// The summary text of one message.
pub fn summary(msg: &Message) -> String {
    let mut out = Vec::new();
    write_summary_text(&mut out, msg);
    String::from_utf8_lossy(&out).into_owned()
}

/// Writes the summary text of one message.
pub fn write_summary_text(out: &mut Vec<u8>, msg: &Message) {
    if write_error_text(out, msg) {
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
    let mut found = [None; PICKS.len()];
    collect(msg, &mut found);
    let mut have_index = false;
    let mut picked = 0;
    for (i, &(_, label, prefix)) in PICKS.iter().enumerate() {
        let Some(node) = found[i] else {
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
        if let Some(len) = prefix.and_then(|p| msg.find(p)).and_then(|n| tree.node(n).value.as_u64()) {
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
        if let Some(h) = msg.find("header") {
            sep(out);
            push_short(out, tree, &tree.node(h).value);
        } else if let (Some(a), Some(d)) = (msg.find("ACTION"), msg.find("DEVPATH")) {
            sep(out);
            push_short(out, tree, &tree.node(a).value);
            out.push(b'@');
            push_short(out, tree, &tree.node(d).value);
        }
    }
}
