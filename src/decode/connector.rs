//! NETLINK_CONNECTOR: every message (sent as NLMSG_DONE) is a `struct cn_msg` addressed by
//! (idx, val). The proc connector's subscription op and process events are decoded from the
//! `connector` spec's structs: the event struct is chosen by `what` (sub-message
//! `proc-event-data`); payloads of other connectors are kept as bytes, labelled by index.

use std::borrow::Cow;

use nom::number::Endianness;

use crate::netlink::header::read_uint;
use crate::spec::Registry;
use crate::spec::decode::{Ctx, decode_struct};
use crate::tree::{Node, Problem};

pub(super) const NETLINK_CONNECTOR: u16 = 11;
const CN_MSG_LEN: usize = 20;
const CN_IDX_PROC: u64 = 1;
const PROC_EVENT_LEN: usize = 16;

/// Decodes a connector message body; `None` when the spec is not loaded.
pub(super) fn decode(registry: &Registry, endian: Endianness, body: &[u8], base: usize) -> Option<Vec<Node>> {
    let family = registry.families().iter().find(|f| f.name == "connector")?;
    let ctx = Ctx::new(family, endian);
    let sid = |name: &str| family.structs.iter().position(|s| s.name == name);
    let mut nodes = vec![decode_struct(ctx, sid("cn_msg")?, Cow::Borrowed("cn_msg"), body, base, 0)];
    if body.len() < CN_MSG_LEN {
        nodes[0].problem = Some(Problem::Truncated(format!("{} bytes of a 20-byte struct cn_msg", body.len())));
        return Some(nodes);
    }
    let idx = read_uint(body, 0..4, endian);
    let val = read_uint(body, 4..8, endian);
    let data = &body[CN_MSG_LEN..];
    let data_base = base + CN_MSG_LEN;
    if data.is_empty() {
        return Some(nodes);
    }
    if (idx, val) != (CN_IDX_PROC, 1) {
        nodes.push(Node::problem_bytes(format!("connector {idx}.{val} data"), data, data_base, Problem::Unknown));
        return Some(nodes);
    }
    if data.len() == 4 {
        // PROC_CN_MCAST_LISTEN / IGNORE from a subscriber.
        nodes.push(decode_struct(ctx, sid("proc_cn_mcast")?, Cow::Borrowed("proc_cn_mcast"), data, data_base, 0));
        return Some(nodes);
    }
    let header = decode_struct(ctx, sid("proc_event")?, Cow::Borrowed("proc_event"), data, data_base, 0);
    nodes.push(header);
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
                let name = family.structs[h].name;
                nodes.push(decode_struct(ctx, h, Cow::Borrowed(name), event, event_base, 0));
            }
            None => nodes.push(Node::problem_bytes("event_data", event, event_base, Problem::Unknown)),
        }
    }
    Some(nodes)
}
