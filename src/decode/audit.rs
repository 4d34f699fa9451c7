//! NETLINK_AUDIT text records: user messages (AUDIT_USER_*) and kernel event records
//! (AUDIT_SYSCALL, AUDIT_PATH, ...) are text, `audit(SECONDS.MILLIS:SERIAL): key=value ...` for
//! the kernel's and `key=value ...` for user space's. Split into nodes, each with its byte span.

use crate::netlink::header::{NLM_F_REQUEST, NLMSG_HDRLEN, NlMsgHdr};
use crate::netlink::protocol::NETLINK_AUDIT;
use crate::tree::{Tree, Value};

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
pub(super) fn decode_text(tree: &mut Tree, body: &[u8], base: usize) {
    let end = body.iter().position(|&b| b == 0).unwrap_or(body.len());
    let text = String::from_utf8_lossy(&body[..end]);
    let record = Value::Str(tree.text(&text));
    tree.leaf("record", "string", record, base, body.len());
    let mut pos = 0;
    if let Some(rest) = text.strip_prefix("audit(")
        && let Some(close) = rest.find("):")
    {
        let stamp = &rest[..close];
        let len = "audit(".len() + close + 2;
        let v = Value::Str(tree.text(stamp));
        let n = tree.open("stamp", "string", v, base, len);
        if let Some((time, serial)) = stamp.split_once(':') {
            let t = Value::Str(tree.text(time));
            tree.leaf("time", "string", t, base + 6, time.len());
            let serial_value = match serial.parse() {
                Ok(n) => Value::Unsigned(n),
                Err(_) => Value::Str(tree.text(serial)),
            };
            tree.leaf("serial", "u64", serial_value, base + 7 + time.len(), serial.len());
        }
        tree.close(n);
        pos = len;
    }
    field_nodes(tree, &text[pos..], base + pos);
}

/// One node per `key=value`; the `msg='...'` of user messages holds fields of its own.
fn field_nodes(tree: &mut Tree, s: &str, base: usize) {
    for (start, len, key, value) in fields(s) {
        let name = tree.text(key);
        if let Some(inner) = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
            let v = Value::Str(tree.text(inner));
            let n = tree.open(name, "field", v, base + start, len);
            field_nodes(tree, inner, base + start + key.len() + 2);
            tree.close(n);
        } else {
            let v = Value::Str(tree.text(value.trim_matches('"')));
            tree.leaf(name, "field", v, base + start, len);
        }
    }
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
        let mut t = Tree::default();
        decode_text(&mut t, text, 100);
        let stamp = t.find("stamp").unwrap();
        let serial = t.children(stamp).nth(1).unwrap();
        assert_eq!(t.node(serial).value, Value::Unsigned(42));
        let comm = t.find("comm").unwrap();
        assert_eq!(t.str_value(comm), Some("ip"));
        let at = text.windows(5).position(|w| w == b"comm=").unwrap();
        assert_eq!((t.node(comm).offset(), t.node(comm).length()), (100 + at, "comm=\"ip\"".len()));
        assert_eq!(t.str_value(t.find("exe").unwrap()), Some("/usr/bin/ip a"));
        assert!(!is_text(&[1, 2, 3]));
        let mut user = Tree::default();
        decode_text(&mut user, b"pid=7 msg='op=test text=\"a b\" res=success'", 0);
        let msg = user.find("msg").unwrap();
        let names: Vec<_> = user.children(msg).map(|c| user.name(c).to_string()).collect();
        assert_eq!(names, ["op", "text", "res"]);
        assert_eq!(user.str_value(user.find("text").unwrap()), Some("a b"));
    }
}
