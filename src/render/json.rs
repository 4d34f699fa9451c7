//! JSON Lines output (`-T json`), one object per netlink message, in capture order.
//!
//! The keys are a contract (see README): `frame`, `index`, `time`, `protocol`, `family`,
//! `genl_family`, `type`, `type_id`, `flags`, `seq`, `pid`, `len`, `direction`, `body` (`type_id`,
//! `seq` and `pid` are null for payloads without a netlink header: kobject uevents), and on
//! control messages `errno`/`error_name`; a message no dissector knows has `"unknown": true`;
//! correlation adds `reply_to` and `replied_in` (`{"frame", "index"}`), `latency_ns`,
//! `"notification": true` beside `reply_to` on a notification its request caused (not the
//! request's answer, which is its ACK: the request's `replied_in` names the ACK), and on the
//! NLMSG_DONE that ends a dump `dump_parts` and `dump_interrupted`; live capture adds `process`
//! (`{"pid", "comm"}`, pid 0 and `kernel` for the kernel) where it knows who owns the port.
//! Nodes have `name`, `kind`, `value`, `offset`, `length`, `attr` (the attribute number),
//! `children`, and `"unknown": true` or `"error": "<reason>"`. A frame that holds no message
//! (not netlink, stray bytes) is one object with `frame`, `index`, `time` and `error`.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value as Json, json};

use crate::capture::Frame;
use crate::decode::Message;
use crate::netlink::errno;
use crate::session::{Link, MsgRef};
use crate::tree::{NodeId, Problem, Siblings, Tree, Value, enum_number};

/// A node value as JSON: numbers, strings, hex for bytes, objects for enums and flag sets.
struct ValueJson<'a>(&'a Tree, &'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tree = self.0;
        match *self.1 {
            Value::None => s.serialize_none(),
            Value::Unsigned(n) | Value::Hex(n) => s.serialize_u64(n),
            Value::Signed(n) => s.serialize_i64(n),
            Value::Errno(e) => s.serialize_i32(e),
            Value::Str(text) => s.serialize_str(tree.str(text)),
            Value::Flag => s.serialize_bool(true),
            Value::Enum { raw, name } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("value", &enum_number(raw))?;
                m.serialize_entry("name", &name.map(|n| tree.str(n)))?;
                m.end()
            }
            Value::Flags { raw, table } => {
                let (names, unknown_bits) = table.names(raw);
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("value", &raw)?;
                m.serialize_entry("flags", &names)?;
                if unknown_bits != 0 {
                    m.serialize_entry("unknown_bits", &unknown_bits)?;
                }
                m.end()
            }
            // Bytes (as hex), addresses, MACs, UUIDs: their text form.
            ref other => {
                let text = tree.value_string(other);
                s.serialize_str(&text)
            }
        }
    }
}

/// A node with its children.
pub struct NodeJson<'a>(pub &'a Tree, pub NodeId);

impl Serialize for NodeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (tree, id) = (self.0, self.1);
        let n = tree.node(id);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", tree.str(n.name))?;
        m.serialize_entry("kind", tree.str(n.kind))?;
        if let Some(t) = n.attr_type {
            m.serialize_entry("attr", &t)?;
        }
        m.serialize_entry("value", &ValueJson(tree, &n.value))?;
        m.serialize_entry("offset", &n.offset)?;
        m.serialize_entry("length", &n.length)?;
        match n.problem {
            None => {}
            Some(Problem::Unknown) => m.serialize_entry("unknown", &true)?,
            Some(p) => m.serialize_entry("error", &tree.problem_text(p))?,
        }
        if n.is_parent(id) {
            m.serialize_entry("children", &Nodes(tree.children(id)))?;
        }
        m.end()
    }
}

/// Sibling nodes as a JSON array.
struct Nodes<'a>(Siblings<'a>);

impl Serialize for Nodes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let tree = self.0.tree();
        s.collect_seq(self.0.clone().map(|id| NodeJson(tree, id)))
    }
}

/// One message as the JSON Lines contract describes it, with what correlation found.
pub struct MessageJson<'a>(pub &'a Message, pub Link);

impl Serialize for MessageJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let msg = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("frame", &msg.frame)?;
        m.serialize_entry("index", &msg.index)?;
        m.serialize_entry("time", &msg.time.to_string())?;
        m.serialize_entry("protocol", &msg.protocol)?;
        m.serialize_entry("family", &msg.family_key())?;
        if let Some(g) = &msg.genl_family {
            m.serialize_entry("genl_family", g)?;
        }
        m.serialize_entry("type", &msg.type_name())?;
        if let Some(h) = msg.header {
            m.serialize_entry("type_id", &h.ty)?;
            m.serialize_entry("flags", &msg.flag_names())?;
            m.serialize_entry("seq", &h.seq)?;
            m.serialize_entry("pid", &h.pid)?;
            m.serialize_entry("len", &h.len)?;
        } else {
            // No netlink header (kobject uevents): the keys stay, without values.
            m.serialize_entry("type_id", &None::<u16>)?;
            m.serialize_entry("flags", &[] as &[&str])?;
            m.serialize_entry("seq", &None::<u32>)?;
            m.serialize_entry("pid", &None::<u32>)?;
            m.serialize_entry("len", &msg.length)?;
        }
        m.serialize_entry("direction", msg.direction.as_str())?;
        match msg.error {
            Some(e) if e > 0 => {
                // Success, with a value the family's handler returned (no errno).
                m.serialize_entry("errno", &0)?;
                m.serialize_entry("ack_value", &e)?;
            }
            Some(e) => {
                m.serialize_entry("errno", &e.unsigned_abs())?;
                if let Some((name, _)) = errno::lookup(e.unsigned_abs()) {
                    m.serialize_entry("error_name", name)?;
                }
            }
            None => {}
        }
        if let Some(n) = msg.nsid {
            m.serialize_entry("nsid", &n)?;
        }
        if let Some(p) = &msg.process {
            m.serialize_entry("process", &json!({ "pid": p.pid, "comm": &*p.comm }))?;
        }
        if msg.unknown {
            m.serialize_entry("unknown", &true)?;
        }
        let at = |(frame, index): MsgRef| serde_json::json!({ "frame": frame, "index": index });
        if let Some(r) = self.1.reply_to {
            m.serialize_entry("reply_to", &at(r))?;
            if self.1.notification {
                m.serialize_entry("notification", &true)?;
            }
        }
        if let Some(r) = self.1.replied_in {
            m.serialize_entry("replied_in", &at(r))?;
        }
        if let Some(ns) = self.1.latency_ns {
            m.serialize_entry("latency_ns", &ns)?;
        }
        if let Some(parts) = self.1.dump_parts {
            m.serialize_entry("dump_parts", &parts)?;
            m.serialize_entry("dump_interrupted", &self.1.dump_interrupted)?;
        }
        m.serialize_entry("body", &Nodes(msg.tree.roots_from(0)))?;
        m.end()
    }
}

pub fn write_message(out: &mut Vec<u8>, msg: &Message, link: Link) {
    serde_json::to_writer(&mut *out, &MessageJson(msg, link)).expect("JSON into memory");
    out.push(b'\n');
}

/// A frame that holds no decodable message; `problem` is a tree of one node.
pub fn write_frame_problem(out: &mut Vec<u8>, frame: &Frame, index: usize, problem: &Tree) {
    let node = problem.node(0);
    let mut m = Map::new();
    m.insert("frame".into(), json!(frame.number));
    m.insert("index".into(), json!(index));
    m.insert("time".into(), json!(frame.timestamp.to_string()));
    if let Some(p) = frame.protocol() {
        m.insert("protocol".into(), json!(p));
    }
    m.insert("error".into(), json!(node.problem.map(|p| problem.problem_text(p))));
    m.insert("offset".into(), json!(node.offset));
    m.insert("length".into(), json!(node.length));
    serde_json::to_writer(&mut *out, &Json::Object(m)).expect("JSON into memory");
    out.push(b'\n');
}
