//! The short "what matters" text of a summary line: interface, address/prefix, route
//! destination, error code... picked from the decoded tree by attribute name.

use std::fmt::Write;

use crate::decode::Message;
use crate::tree::{Node, Value, find_in};

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

/// The position in [`PICKS`] of a node name (a sorted index: every node of every message is looked up).
fn pick_index(name: &str) -> Option<usize> {
    static INDEX: std::sync::OnceLock<Vec<(&'static str, usize)>> = std::sync::OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut v: Vec<_> = PICKS.iter().enumerate().map(|(i, p)| (p.0, i)).collect();
        v.sort();
        v
    });
    index.binary_search_by(|e| e.0.cmp(name)).ok().map(|i| index[i].1)
}

/// A short value: enum names without their number, strings without quotes.
fn short(v: &Value) -> String {
    let mut s = String::new();
    push_short(&mut s, v);
    s
}

fn push_short(s: &mut String, v: &Value) {
    match v {
        Value::Enum { name: Some(n), .. } => s.push_str(n),
        Value::Str(text) => s.push_str(text),
        other => {
            let _ = write!(s, "{other}");
        }
    }
}

fn error_text(msg: &Message) -> Option<String> {
    let e = msg.error?;
    let request = find_in(&msg.body, "request").and_then(|r| match &r.value {
        Value::Enum { name: Some(n), .. } => Some(n.to_string()),
        Value::Enum { raw, .. } => Some(format!("type {raw}")),
        _ => None,
    });
    let mut s = if e == 0 {
        match (&request, msg.type_name.as_deref()) {
            (_, Some("NLMSG_DONE")) => "end of dump".to_string(),
            (Some(r), _) => format!("ACK for {r}"),
            (None, _) => "ACK".to_string(),
        }
    } else {
        let mut s = Value::Errno(e).to_string();
        if let Some(r) = &request {
            s.push_str(&format!(" for {r}"));
        }
        s
    };
    if let Some(Node { value: Value::Str(text), .. }) = find_in(&msg.body, "NLMSGERR_ATTR_MSG") {
        s.push_str(&format!(": \"{text}\""));
    }
    if let Some(Node { value: Value::Str(path), .. }) =
        find_in(&msg.body, "NLMSGERR_ATTR_OFFS").and_then(|o| o.children.first())
    {
        s.push_str(&format!(" at {path}"));
    }
    Some(s)
}

/// Records, for each entry of [`PICKS`], the first node of that name within `depth` levels
/// (deeper ones are details, not summary), in one walk.
fn collect<'a>(nodes: &'a [Node], depth: usize, found: &mut [Option<&'a Node>; PICKS.len()]) {
    for n in nodes {
        if let Some(i) = pick_index(&n.name) {
            found[i].get_or_insert(n);
        }
    }
    if depth > 1 {
        for n in nodes {
            collect(&n.children, depth - 1, found);
        }
    }
}

/// The summary text of one message.
pub fn summary(msg: &Message) -> String {
    if let Some(s) = error_text(msg) {
        return s;
    }
    let mut s = String::new();
    let sep = |s: &mut String| {
        if !s.is_empty() {
            s.push(' ');
        }
    };
    if let Some(g) = &msg.genl_family {
        s.push_str(g);
    }
    let mut found = [None; PICKS.len()];
    collect(&msg.body, 3, &mut found);
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
        sep(&mut s);
        s.push_str(label);
        s.push(' ');
        push_short(&mut s, &node.value);
        if let Some(len) = prefix.and_then(|p| find_in(&msg.body, p)).and_then(|n| n.value.as_u64()) {
            let _ = write!(s, "/{len}");
        }
        picked += 1;
    }
    if picked == 0 {
        // Anything else: the first few named leaf values.
        let leaves = msg.body.iter().filter(|n| n.attr_type.is_some() && n.problem.is_none());
        for n in leaves.filter(|n| !matches!(n.value, Value::None | Value::Bytes(_))).take(3) {
            sep(&mut s);
            let _ = write!(s, "{}=", n.name);
            push_short(&mut s, &n.value);
        }
    }
    if msg.header.is_none() {
        // uevents: the ACTION@DEVPATH line or ACTION and DEVPATH.
        if let Some(h) = find_in(&msg.body, "header") {
            sep(&mut s);
            push_short(&mut s, &h.value);
        } else if let (Some(a), Some(d)) = (find_in(&msg.body, "ACTION"), find_in(&msg.body, "DEVPATH")) {
            sep(&mut s);
            let _ = write!(s, "{}@{}", short(&a.value), short(&d.value));
        }
    }
    s
}
