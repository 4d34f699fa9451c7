//! NETLINK_KOBJECT_UEVENT payloads, which have no netlink header: the kernel's
//! `ACTION@DEVPATH\0KEY=VALUE\0...` and udev's `libudev\0` + header + `KEY=VALUE\0...`.

use std::borrow::Cow;

use nom::number::Endianness;

use super::Message;
use crate::capture::{Direction, Frame};
use crate::netlink::header::{OpKind, read_uint};
use crate::netlink::protocol::NETLINK_KOBJECT_UEVENT;
use crate::tree::{Node, Problem, Value};

const LIBUDEV_PREFIX: &[u8] = b"libudev\0";
const LIBUDEV_MAGIC: u64 = 0xfeed_cafe;
/// `struct udev_monitor_netlink_header` (systemd's libudev).
const LIBUDEV_HEADER_LEN: usize = 40;

/// `KEY=VALUE` strings separated by NULs, from frame offset `base`.
fn properties(data: &[u8], base: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    let mut pos = 0;
    for part in data.split(|&b| b == 0) {
        if !part.is_empty() {
            let text = String::from_utf8_lossy(part);
            let node = match text.split_once('=') {
                Some((k, v)) => Node::new(k.to_string(), "string", Value::Str(v.to_string()), base + pos, part.len()),
                None => Node::new("header", "string", Value::Str(text.into_owned()), base + pos, part.len()),
            };
            nodes.push(node);
        }
        pos += part.len() + 1;
    }
    nodes
}

pub(super) fn decode(frame: &Frame, payload: &[u8], base: usize) -> Message {
    let mut body = Vec::new();
    let type_name;
    if payload.starts_with(LIBUDEV_PREFIX) {
        type_name = "udev-event";
        if payload.len() < LIBUDEV_HEADER_LEN {
            body.push(Node::problem_bytes(
                "udev header",
                payload,
                base,
                Problem::Truncated(format!("{} bytes of a {LIBUDEV_HEADER_LEN}-byte header", payload.len())),
            ));
        } else {
            let be = |o: usize| read_uint(payload, o..o + 4, Endianness::Big);
            // Fields after the magic are in host order; the magic tells nothing about it, so take
            // the order in which header_size is 40.
            let host = if read_uint(payload, 12..16, Endianness::Little) == LIBUDEV_HEADER_LEN as u64 {
                Endianness::Little
            } else {
                Endianness::Big
            };
            let h = |o: usize| read_uint(payload, o..o + 4, host);
            let field = |name: &'static str, o: usize, v: Value| Node::new(name, "u32", v, base + o, 4);
            let mut header = Node::new("udev_monitor_netlink_header", "struct", Value::None, base, LIBUDEV_HEADER_LEN)
                .with_children(vec![
                    Node::new("prefix", "string", Value::Str("libudev".into()), base, 8),
                    field("magic", 8, Value::Hex(be(8))),
                    field("header_size", 12, Value::Unsigned(h(12))),
                    field("properties_off", 16, Value::Unsigned(h(16))),
                    field("properties_len", 20, Value::Unsigned(h(20))),
                    field("filter_subsystem_hash", 24, Value::Hex(h(24))),
                    field("filter_devtype_hash", 28, Value::Hex(h(28))),
                    field("filter_tag_bloom_hi", 32, Value::Hex(h(32))),
                    field("filter_tag_bloom_lo", 36, Value::Hex(h(36))),
                ]);
            if be(8) != LIBUDEV_MAGIC {
                header.problem = Some(Problem::Malformed(format!("magic 0x{:x}, expected 0xfeedcafe", be(8))));
            }
            body.push(header);
            let off = h(16) as usize;
            let len = h(20) as usize;
            match off.checked_add(len).filter(|&end| off >= LIBUDEV_HEADER_LEN && end <= payload.len()) {
                Some(end) => body.extend(properties(&payload[off..end], base + off)),
                None => body.push(Node::problem_bytes(
                    "properties",
                    &payload[LIBUDEV_HEADER_LEN..],
                    base + LIBUDEV_HEADER_LEN,
                    Problem::Malformed(format!(
                        "properties at {off}+{len} lie outside the {}-byte payload",
                        payload.len()
                    )),
                )),
            }
        }
    } else {
        type_name = "uevent";
        body = properties(payload, base);
    }
    Message {
        frame: frame.number,
        index: 0,
        time: frame.timestamp,
        protocol: NETLINK_KOBJECT_UEVENT,
        header: None,
        endian: Endianness::Little,
        direction: Direction::ToUser,
        genl_family: None,
        type_name: Some(Cow::Borrowed(type_name)),
        op_kind: OpKind::Other,
        offset: base,
        length: payload.len(),
        header_node: None,
        body,
        unknown: false,
        error: None,
    }
}
