//! NETLINK_AUDIT text records: user messages (AUDIT_USER_*) and kernel event records
//! (AUDIT_SYSCALL, AUDIT_PATH, ...) are text, `audit(SECONDS.MILLIS:SERIAL): key=value ...` for
//! the kernel's and `key=value ...` for user space's. Split into nodes, each with its byte span.

use std::borrow::Cow;

use crate::netlink::header::{NLM_F_REQUEST, NLMSG_HDRLEN, NlMsgHdr};
use crate::netlink::protocol::NETLINK_AUDIT;
use crate::tree::{Node, Value};

/// The first message type of audit event records (AUDIT_FIRST_USER_MSG is 1100).
const AUDIT_FIRST_RECORD: u16 = 1100;
/// A user space message, logged by the kernel as a record.
const AUDIT_USER: u16 = 1005;

/// The kernel's audit records (from `audit_log_end`) carry an nlmsg_len that leaves out the
/// 16-byte header, a quirk user space has always worked around. True when this message is such a
/// record: an audit record type whose stated length is exactly 16 short of what the frame holds.
pub(super) fn length_excludes_header(protocol: u16, hdr: &NlMsgHdr, available: usize) -> bool {
    let record = hdr.ty == AUDIT_USER || hdr.ty >= AUDIT_FIRST_RECORD;
    protocol == NETLINK_AUDIT
        && record
        && hdr.flags & NLM_F_REQUEST == 0
        && hdr.len as usize + NLMSG_HDRLEN == available
}

/// True when `body` reads as an audit text record (printable, possibly NUL-terminated).
pub(super) fn is_text(body: &[u8]) -> bool {
    let text = body.strip_suffix(&[0]).unwrap_or(body);
    !text.is_empty() && text.iter().all(|&b| b.is_ascii_graphic() || b == b' ' || b == b'\t' || b == b'\n')
}

/// The record as a `record` string node, the `audit(...)` stamp, and one node per key=value.
pub(super) fn decode_text(body: &[u8], base: usize) -> Vec<Node> {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    let text = String::from_utf8_lossy(&body[..end]).into_owned();
    let mut nodes = vec![Node::new("record", "string", Value::Str(text.clone()), base, body.len())];
    let mut pos = 0;
    if let Some(rest) = text.strip_prefix("audit(")
        && let Some(close) = rest.find("):")
    {
        let stamp = &rest[..close];
        let len = "audit(".len() + close + 2;
        let mut n = Node::new("stamp", "string", Value::Str(stamp.to_string()), base, len);
        if let Some((time, serial)) = stamp.split_once(':') {
            n.children.push(Node::new("time", "string", Value::Str(time.to_string()), base + 6, time.len()));
            let serial_value = serial.parse().map(Value::Unsigned).unwrap_or(Value::Str(serial.to_string()));
            n.children.push(Node::new("serial", "u64", serial_value, base + 7 + time.len(), serial.len()));
        }
        nodes.push(n);
        pos = len;
    }
    nodes.extend(field_nodes(&text[pos..], base + pos));
    nodes
}

/// One node per `key=value`; the `msg='...'` of user messages holds fields of its own.
fn field_nodes(s: &str, base: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    for (start, len, key, value) in fields(s) {
        let mut n = Node::new(Cow::Owned(key.to_string()), "field", Value::Str(String::new()), base + start, len);
        if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            n.value = Value::Str(inner.to_string());
            n.children = field_nodes(inner, base + start + key.len() + 2);
        } else {
            n.value = Value::Str(value.trim_matches('"').to_string());
        }
        nodes.push(n);
    }
    nodes
}

/// (offset, length, key, value) of each `key=value` (values may be double-quoted, with spaces).
fn fields(s: &str) -> Vec<(usize, usize, &str, &str)> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= b.len() || b[i] != b'=' {
            continue;
        }
        let key_end = i;
        i += 1;
        let value_start = i;
        if i < b.len() && b[i] == b'\'' {
            // msg='...' is the last field and may quote values of its own: it runs to the last quote.
            i = s.rfind('\'').filter(|&q| q > i).map_or(b.len(), |q| q + 1);
        } else if i < b.len() && b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += 1;
            }
            i = (i + 1).min(b.len());
        } else {
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += 1;
            }
        }
        out.push((start, i - start, &s[start..key_end], &s[value_start..i]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_record_splits_into_stamp_and_fields() {
        let text =
            b"audit(1732450000.123:42): arch=c000003e syscall=59 success=yes comm=\"ip\" exe=\"/usr/bin/ip a\"\0";
        assert!(is_text(text));
        let nodes = decode_text(text, 100);
        assert_eq!(nodes[1].name, "stamp");
        assert_eq!(nodes[1].children[1].value, Value::Unsigned(42));
        let comm = nodes.iter().find(|n| n.name == "comm").unwrap();
        assert_eq!(comm.value, Value::Str("ip".into()));
        let at = text.windows(5).position(|w| w == b"comm=").unwrap();
        assert_eq!((comm.offset, comm.length), (100 + at, "comm=\"ip\"".len()));
        let exe = nodes.iter().find(|n| n.name == "exe").unwrap();
        assert_eq!(exe.value, Value::Str("/usr/bin/ip a".into()));
        assert!(!is_text(&[1, 2, 3]));
        let user = decode_text(b"pid=7 msg='op=test text=\"a b\" res=success'", 0);
        let msg = user.iter().find(|n| n.name == "msg").unwrap();
        assert_eq!(msg.children.iter().map(|c| c.name.as_ref()).collect::<Vec<_>>(), ["op", "text", "res"]);
        assert_eq!(msg.children[1].value, Value::Str("a b".into()));
    }
}
