//! NETLINK_KOBJECT_UEVENT payloads, which have no netlink header: the kernel's
//! `ACTION@DEVPATH\0KEY=VALUE\0...` and udev's `libudev\0` + header + `KEY=VALUE\0...`.

use nom::number::Endianness;

use super::Message;
use crate::capture::{Direction, Frame};
use crate::netlink::header::{OpKind, read_uint};
use crate::netlink::protocol::NETLINK_KOBJECT_UEVENT;
use crate::tree::{Text, Tree, Value};

const LIBUDEV_PREFIX: &[u8] = b"libudev\0";
const LIBUDEV_MAGIC: u64 = 0xfeed_cafe;
/// `struct udev_monitor_netlink_header` (systemd's libudev).
const LIBUDEV_HEADER_LEN: usize = 40;

/// `KEY=VALUE` strings separated by NULs, from frame offset `base`.
fn properties(tree: &mut Tree, data: &[u8], base: usize) {
    let mut pos = 0;
    for part in data.split(|&b| b == 0) {
        if !part.is_empty() {
            let text = String::from_utf8_lossy(part);
            match text.split_once('=') {
                Some((k, v)) => {
                    let (name, value) = (tree.text(k), Value::Str(tree.text(v)));
                    tree.leaf(name, "string", value, base + pos, part.len());
                }
                None => {
                    let value = Value::Str(tree.text(&text));
                    tree.leaf("header", "string", value, base + pos, part.len());
                }
            }
        }
        pos += part.len() + 1;
    }
}

pub(super) fn decode(frame: &Frame, payload: &[u8], base: usize) -> Message {
    let mut tree = Tree::default();
    let type_name;
    if payload.starts_with(LIBUDEV_PREFIX) {
        type_name = "udev-event";
        if payload.len() < LIBUDEV_HEADER_LEN {
            let why = tree.truncated(format_args!("{} bytes of a {LIBUDEV_HEADER_LEN}-byte header", payload.len()));
            tree.problem_bytes("udev header", payload, base, why);
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
            let header = tree.open("udev_monitor_netlink_header", "struct", Value::None, base, LIBUDEV_HEADER_LEN);
            tree.leaf("prefix", "string", Value::Str(Text::Static("libudev")), base, 8);
            for (name, o, v) in [
                ("magic", 8, Value::Hex(be(8))),
                ("header_size", 12, Value::Unsigned(h(12))),
                ("properties_off", 16, Value::Unsigned(h(16))),
                ("properties_len", 20, Value::Unsigned(h(20))),
                ("filter_subsystem_hash", 24, Value::Hex(h(24))),
                ("filter_devtype_hash", 28, Value::Hex(h(28))),
                ("filter_tag_bloom_hi", 32, Value::Hex(h(32))),
                ("filter_tag_bloom_lo", 36, Value::Hex(h(36))),
            ] {
                tree.leaf(name, "u32", v, base + o, 4);
            }
            tree.close(header);
            if be(8) != LIBUDEV_MAGIC {
                let why = tree.malformed(format_args!("magic 0x{:x}, expected 0xfeedcafe", be(8)));
                tree.set_problem(header, why);
            }
            let off = h(16) as usize;
            let len = h(20) as usize;
            match off.checked_add(len).filter(|&end| off >= LIBUDEV_HEADER_LEN && end <= payload.len()) {
                Some(end) => properties(&mut tree, &payload[off..end], base + off),
                None => {
                    let why = tree.malformed(format_args!(
                        "properties at {off}+{len} lie outside the {}-byte payload",
                        payload.len()
                    ));
                    tree.problem_bytes("properties", &payload[LIBUDEV_HEADER_LEN..], base + LIBUDEV_HEADER_LEN, why);
                }
            }
        }
    } else {
        type_name = "uevent";
        properties(&mut tree, payload, base);
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
        type_name: Some(Text::Static(type_name)),
        op_kind: OpKind::Other,
        offset: base,
        length: payload.len(),
        tree,
        body_start: 0,
        unknown: false,
        error: None,
        nsid: frame.nsid,
        process: frame.process.clone(),
    }
}
