//! Generic netlink: the `genlmsghdr` (command, version), the family behind the dynamic id, and
//! the family's attributes.
//!
//! Ids are assigned at run time. The control family is always 0x10 (`nlctrl`); other ids are
//! learned from nlctrl's NEWFAMILY/DELFAMILY messages (see [`GenlFamilies`]), or given by the user.

use std::collections::HashMap;

use super::{Message, decode_body, unknown_payload};
use crate::netlink::attr;
use crate::netlink::header::{OpKind, read_uint};
use crate::spec::decode::Ctx;
use crate::tree::{Text, Value};

pub const GENL_ID_CTRL: u16 = 0x10;
const GENL_HDRLEN: usize = 4;
const CTRL_CMD_NEWFAMILY: u8 = 1;
const CTRL_CMD_DELFAMILY: u8 = 2;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// What nlctrl said about one id at one frame: registered under a name, or removed (`None`).
type Event = (u64, Option<String>);

/// Family ids to names, over the course of a capture.
///
/// Each NEWFAMILY/DELFAMILY is recorded with its frame. A message is named by the last event at
/// or before its frame (so removal and re-registration take effect from that point on), or, when
/// the id is used before nlctrl first names it, by the first event after it. Reading a file, a
/// first pass over the capture records every event before anything is decoded; live, events are
/// recorded as they pass. Ids named by the user win.
#[derive(Debug, Default, Clone)]
pub struct GenlFamilies {
    manual: HashMap<u16, String>,
    events: HashMap<u16, Vec<Event>>,
}

impl GenlFamilies {
    pub fn insert(&mut self, id: u16, name: &str) {
        self.manual.insert(id, name.to_string());
    }

    /// Records a family the running kernel reports before capture starts (live capture): in force
    /// from the first frame, until nlctrl says otherwise.
    pub fn known_at_start(&mut self, id: u16, name: &str) {
        self.events.entry(id).or_default().insert(0, (0, Some(name.to_string())));
    }

    /// True if some id was ever named `name` (by the user or by nlctrl).
    pub fn knows(&self, name: &str) -> bool {
        self.manual.values().any(|n| n == name) || self.events.values().flatten().any(|e| e.1.as_deref() == Some(name))
    }

    pub(super) fn event_count(&self) -> usize {
        self.events.values().map(Vec::len).sum()
    }

    pub(super) fn name(&self, id: u16, frame: u64) -> Option<&str> {
        if id == GENL_ID_CTRL {
            return Some("nlctrl");
        }
        if let Some(n) = self.manual.get(&id) {
            return Some(n);
        }
        let events = self.events.get(&id)?;
        let event = events.iter().rev().find(|e| e.0 <= frame).or_else(|| events.first())?;
        event.1.as_deref()
    }

    /// Records an nlctrl NEWFAMILY (id registered or reported) or DELFAMILY (id gone).
    pub(super) fn learn(&mut self, frame: u64, cmd: u8, attrs: &[u8], endian: nom::number::Endianness) {
        if cmd != CTRL_CMD_NEWFAMILY && cmd != CTRL_CMD_DELFAMILY {
            return;
        }
        let mut id = None;
        let mut name = None;
        for a in attr::attrs(attrs, endian).flatten() {
            match (a.ty, a.payload.len()) {
                (CTRL_ATTR_FAMILY_ID, 2) => id = Some(read_uint(a.payload, 0..2, endian) as u16),
                (CTRL_ATTR_FAMILY_NAME, _) => {
                    let end = a.payload.iter().position(|&b| b == 0).unwrap_or(a.payload.len());
                    name = Some(String::from_utf8_lossy(&a.payload[..end]).into_owned());
                }
                _ => {}
            }
        }
        let (Some(id), Some(name)) = (id, name) else { return };
        let event = (frame, (cmd == CTRL_CMD_NEWFAMILY).then_some(name));
        let events = self.events.entry(id).or_default();
        // Kept in frame order; the same event seen in the first pass and again live is kept once.
        let at = events.partition_point(|e| e.0 <= frame);
        if !events[..at].contains(&event) {
            events.insert(at, event);
        }
    }
}

pub(super) fn decode(decoder: &mut super::Decoder, msg: &mut Message, body: &[u8], base: usize) {
    let hdr = msg.header.expect("header");
    if body.len() < GENL_HDRLEN {
        msg.unknown = true;
        let why = msg.tree.truncated(format_args!("{} bytes of the 4-byte generic netlink header", body.len()));
        msg.tree.problem_bytes("genlmsghdr", body, base, why);
        return;
    }
    let cmd = body[0];
    let attrs = &body[GENL_HDRLEN..];
    let attrs_base = base + GENL_HDRLEN;
    if hdr.ty == GENL_ID_CTRL {
        decoder.genl.learn(msg.frame, cmd, attrs, msg.endian);
    }
    let family_name = decoder.genl.name(hdr.ty, msg.frame).map(str::to_string);
    let spec = family_name.as_deref().and_then(|n| decoder.registry.genl_family(n));
    let to_user = msg.direction == crate::capture::Direction::ToUser;
    let notification = hdr.pid == 0 && hdr.seq == 0;
    let resolved = spec.and_then(|f| Some((f, f.resolve(u16::from(cmd), to_user, notification)?)));
    let cmd_value = Value::Enum { raw: u64::from(cmd), name: resolved.map(|(_, (name, _))| Text::Static(name)) };
    let tree = &mut msg.tree;
    let genl_header = tree.open("genlmsghdr", "struct genlmsghdr", Value::None, base, GENL_HDRLEN);
    tree.set_known(genl_header, crate::known!("genlmsghdr struct genlmsghdr"));
    let id = tree.leaf("cmd", "u8", cmd_value, base, 1);
    tree.set_known(id, crate::known!("cmd u8"));
    let id = tree.leaf("version", "u8", Value::Unsigned(u64::from(body[1])), base + 1, 1);
    tree.set_known(id, crate::known!("version u8"));
    let id = tree.leaf("reserved", "u16", Value::Unsigned(read_uint(body, 2..4, msg.endian)), base + 2, 2);
    tree.set_known(id, crate::known!("reserved u16"));
    tree.close(genl_header);
    match resolved {
        Some((family, (name, op))) => {
            msg.type_name = Some(Text::Static(name));
            msg.op_kind = op.kind;
            let ctx = Ctx::new(family, msg.endian);
            decode_body(&mut msg.tree, ctx, false, op.fixed_header, op.set, attrs, attrs_base);
        }
        _ => {
            msg.unknown = true;
            msg.op_kind = OpKind::Other;
            msg.type_name = Some(match &family_name {
                Some(_) => msg.tree.text_fmt(format_args!("cmd {cmd}")),
                None => msg.tree.text_fmt(format_args!("genl family 0x{:x} (unresolved) cmd {cmd}", hdr.ty)),
            });
            if !attrs.is_empty() {
                unknown_payload(&mut msg.tree, attrs, attrs_base, msg.endian);
            }
        }
    }
    msg.genl_family = family_name;
}
