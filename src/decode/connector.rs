//! NETLINK_CONNECTOR: every message (sent as NLMSG_DONE) is a `struct cn_msg` addressed by
//! (idx, val). The proc connector's subscription op and process events are decoded from the
//! `connector` spec's structs: the event struct is chosen by `what` (sub-message
//! `proc-event-data`); payloads of other connectors are kept as bytes, labelled by index.

use nom::number::Endianness;

use crate::netlink::header::read_uint;
use crate::spec::Registry;
use crate::spec::decode::{Ctx, decode_struct};
use crate::tree::{Problem, Text, Tree};

pub(super) const NETLINK_CONNECTOR: u16 = 11;
const CN_MSG_LEN: usize = 20;
const CN_IDX_PROC: u64 = 1;
const PROC_EVENT_LEN: usize = 16;

/// Decodes a connector message body; false when the spec is not loaded.
pub(super) fn decode(tree: &mut Tree, registry: &Registry, endian: Endianness, body: &[u8], base: usize) -> bool {
    let Some(family) = registry.family_named("connector") else { return false };
    let ctx = Ctx::new(family, endian);
    let sid = |name: &str| family.structs.iter().position(|s| s.name == name);
    let (Some(cn_msg), Some(mcast), Some(event)) = (sid("cn_msg"), sid("proc_cn_mcast"), sid("proc_event")) else {
        return false;
    };
    let head = decode_struct(tree, ctx, cn_msg, Text::Static("cn_msg"), body, base, 0);
    if body.len() < CN_MSG_LEN {
        let why = tree.truncated(format_args!("{} bytes of a 20-byte struct cn_msg", body.len()));
        tree.set_problem(head, why);
        return true;
    }
    let idx = read_uint(body, 0..4, endian);
    let val = read_uint(body, 4..8, endian);
    let data = &body[CN_MSG_LEN..];
    let data_base = base + CN_MSG_LEN;
    if data.is_empty() {
        return true;
    }
    if (idx, val) != (CN_IDX_PROC, 1) {
        let name = tree.text_fmt(format_args!("connector {idx}.{val} data"));
        tree.problem_bytes(name, data, data_base, Problem::Unknown);
        return true;
    }
    if data.len() == 4 {
        // PROC_CN_MCAST_LISTEN / IGNORE from a subscriber.
        decode_struct(tree, ctx, mcast, Text::Static("proc_cn_mcast"), data, data_base, 0);
        return true;
    }
    decode_struct(tree, ctx, event, Text::Static("proc_event"), data, data_base, 0);
    if data.len() > PROC_EVENT_LEN {
        let what = read_uint(data, 0..4, endian);
        let what_name = family.enums.iter().find(|e| e.name == "proc-event-what").and_then(|e| e.spec_name_of(what));
        let format = family
            .sub_messages
            .iter()
            .find(|s| s.name == "proc-event-data")
            .and_then(|s| s.formats.iter().find(|f| Some(f.value.as_str()) == what_name));
        let event = &data[PROC_EVENT_LEN..];
        let event_base = data_base + PROC_EVENT_LEN;
        match format.and_then(|f| f.fixed_header) {
            Some(h) => {
                decode_struct(tree, ctx, h, Text::Static(family.structs[h].name), event, event_base, 0);
            }
            None => {
                tree.problem_bytes("event_data", event, event_base, Problem::Unknown);
            }
        }
    }
    true
}
