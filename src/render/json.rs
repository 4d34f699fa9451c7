//! JSON Lines output (`-T json`), one object per netlink message, in capture order.
//!
//! The keys are a contract (see README): `frame`, `index`, `time`, `protocol`, `family`,
//! `genl_family`, `type`, `type_id`, `flags`, `seq`, `pid`, `len`, `direction`, `body` (`type_id`,
//! `seq` and `pid` are null for payloads without a netlink header: kobject uevents), and on
//! control messages `errno`/`error_name`; a message no dissector knows has `"unknown": true`;
//! correlation adds `reply_to` and `replied_in` (`{"frame", "index"}`), `latency_ns`, and on the
//! NLMSG_DONE that ends a dump `dump_parts` and `dump_interrupted`.
//! Nodes have `name`, `kind`, `value`, `offset`, `length`, `attr` (the attribute number),
//! `children`, and `"unknown": true` or `"error": "<reason>"`. A frame that holds no message
//! (not netlink, stray bytes) is one object with `frame`, `index`, `time` and `error`.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value as Json, json};

use crate::capture::Frame;
use crate::decode::Message;
use crate::netlink::errno;
use crate::session::{Link, MsgRef};
use crate::tree::{Node, Problem, Value, enum_number};

/// A node value as JSON: numbers, strings, hex for bytes, objects for enums and flag sets.
struct ValueJson<'a>(&'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::None => s.serialize_none(),
            Value::Unsigned(n) | Value::Hex(n) => s.serialize_u64(*n),
            Value::Signed(n) => s.serialize_i64(*n),
            Value::Errno(e) => s.serialize_i32(*e),
            Value::Str(text) => s.serialize_str(text),
            Value::Flag => s.serialize_bool(true),
            Value::Enum { raw, name } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("value", &enum_number(*raw))?;
                m.serialize_entry("name", name)?;
                m.end()
            }
            Value::Flags { raw, names, unknown_bits } => {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("value", raw)?;
                m.serialize_entry("flags", names)?;
                if *unknown_bits != 0 {
                    m.serialize_entry("unknown_bits", unknown_bits)?;
                }
                m.end()
            }
            // Bytes (as hex), addresses, MACs, UUIDs: their text form.
            other => s.collect_str(other),
        }
    }
}

/// A node with its children.
pub struct NodeJson<'a>(pub &'a Node);

impl Serialize for NodeJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &n.name)?;
        m.serialize_entry("kind", &n.kind)?;
        if let Some(t) = n.attr_type {
            m.serialize_entry("attr", &t)?;
        }
        m.serialize_entry("value", &ValueJson(&n.value))?;
        m.serialize_entry("offset", &n.offset)?;
        m.serialize_entry("length", &n.length)?;
        match &n.problem {
            None => {}
            Some(Problem::Unknown) => m.serialize_entry("unknown", &true)?,
            Some(p) => m.serialize_entry("error", &p.to_string())?,
        }
        if !n.children.is_empty() {
            m.serialize_entry("children", &Nodes(&n.children))?;
        }
        m.end()
    }
}

struct Nodes<'a>(&'a [Node]);

impl Serialize for Nodes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(NodeJson))
    }
}

/// A message's nodes: its netlink header, then its body.
struct Body<'a>(&'a Message);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.header_node.iter().chain(&self.0.body).map(NodeJson))
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
        m.serialize_entry("type", &msg.type_name)?;
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
        if let Some(e) = msg.error {
            m.serialize_entry("errno", &e.unsigned_abs())?;
            if let Some((name, _)) = errno::lookup(e.unsigned_abs()) {
                m.serialize_entry("error_name", name)?;
            }
        }
        if msg.unknown {
            m.serialize_entry("unknown", &true)?;
        }
        let at = |(frame, index): MsgRef| serde_json::json!({ "frame": frame, "index": index });
        if let Some(r) = self.1.reply_to {
            m.serialize_entry("reply_to", &at(r))?;
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
        m.serialize_entry("body", &Body(msg))?;
        m.end()
    }
}

pub fn write_message(out: &mut impl Write, msg: &Message, link: Link) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &MessageJson(msg, link))?;
    out.write_all(b"\n")
}

/// A frame that holds no decodable message.
pub fn write_frame_problem(out: &mut impl Write, frame: &Frame, index: usize, problem: &Node) -> io::Result<()> {
    let mut m = Map::new();
    m.insert("frame".into(), json!(frame.number));
    m.insert("index".into(), json!(index));
    m.insert("time".into(), json!(frame.timestamp.to_string()));
    if let Some(p) = frame.protocol() {
        m.insert("protocol".into(), json!(p));
    }
    m.insert("error".into(), json!(problem.problem.as_ref().map(|p| p.to_string())));
    m.insert("offset".into(), json!(problem.offset));
    m.insert("length".into(), json!(problem.length));
    serde_json::to_writer(&mut *out, &Json::Object(m))?;
    out.write_all(b"\n")
}
