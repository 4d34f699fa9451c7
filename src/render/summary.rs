//! The short "what matters" text of a summary line: interface, address/prefix, route
//! destination, error code... picked from the decoded tree by attribute name.

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
];

/// A short value: enum names without their number.
fn short(v: &Value) -> String {
    match v {
        Value::Enum { name: Some(n), .. } => n.to_string(),
        Value::Str(s) => s.clone(),
        other => other.to_string(),
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
    Some(s)
}

/// The first node named `name` within `depth` levels (deeper ones are details, not summary).
fn find_shallow<'a>(nodes: &'a [Node], name: &str, depth: usize) -> Option<&'a Node> {
    if depth == 0 {
        return None;
    }
    nodes
        .iter()
        .find(|n| n.name == name)
        .or_else(|| nodes.iter().find_map(|n| find_shallow(&n.children, name, depth - 1)))
}

/// The summary text of one message.
pub fn summary(msg: &Message) -> String {
    if let Some(s) = error_text(msg) {
        return s;
    }
    let mut parts: Vec<String> = Vec::new();
    if let Some(g) = &msg.genl_family {
        parts.push(g.clone());
    }
    for &(name, label, prefix) in PICKS {
        let Some(node) = find_shallow(&msg.body, name, 3) else {
            continue;
        };
        let mut text = short(&node.value);
        if let Some(len) = prefix.and_then(|p| find_in(&msg.body, p)).and_then(|n| n.value.as_u64()) {
            text = format!("{text}/{len}");
        }
        if label == "index" && parts.iter().any(|p| p.starts_with("index ")) {
            continue;
        }
        parts.push(format!("{label} {text}"));
    }
    if parts.is_empty() || (parts.len() == 1 && msg.genl_family.is_some()) {
        // Anything else: the first few named leaf values.
        for n in msg.body.iter().filter(|n| n.attr_type.is_some() && n.problem.is_none()).take(3) {
            if matches!(n.value, Value::None | Value::Bytes(_)) {
                continue;
            }
            parts.push(format!("{}={}", n.name, short(&n.value)));
        }
    }
    if msg.header.is_none() {
        // uevents: the ACTION@DEVPATH line or ACTION and DEVPATH.
        if let Some(h) = find_in(&msg.body, "header") {
            parts.push(short(&h.value));
        } else if let (Some(a), Some(d)) = (find_in(&msg.body, "ACTION"), find_in(&msg.body, "DEVPATH")) {
            parts.push(format!("{}@{}", short(&a.value), short(&d.value)));
        }
    }
    parts.join(" ")
}
