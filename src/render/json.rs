//! JSON Lines output (`-T json`), one object per netlink message, in capture order.
//!
//! The keys are a contract (see README): `frame`, `index`, `time`, `protocol`, `family`,
//! `genl_family`, `type`, `type_id`, `flags`, `seq`, `pid`, `len`, `direction`, `body`, and on
//! control messages `errno`/`error_name`; a message no dissector knows has `"unknown": true`.
//! Nodes have `name`, `kind`, `value`, `offset`, `length`, `attr` (the attribute number),
//! `children`, and `"unknown": true` or `"error": "<reason>"`. A frame that holds no message
//! (not netlink, stray bytes) is one object with `frame`, `index`, `time` and `error`.

use std::io::{self, Write};

use serde_json::{Map, Value as Json, json};

use crate::capture::Frame;
use crate::decode::Message;
use crate::netlink::errno;
use crate::tree::{Node, Problem, Value};

fn value_json(v: &Value) -> Json {
    match v {
        Value::None => Json::Null,
        Value::Unsigned(n) | Value::Hex(n) => json!(n),
        Value::Signed(n) => json!(n),
        Value::Errno(e) => json!(e),
        Value::Str(s) => json!(s),
        Value::Bytes(b) => json!(hex::encode(b)),
        Value::Flag => json!(true),
        Value::Enum { raw, name } => json!({ "value": raw, "name": name }),
        Value::Flags { raw, names, unknown_bits } => {
            let mut m = Map::new();
            m.insert("value".into(), json!(raw));
            m.insert("flags".into(), json!(names));
            if *unknown_bits != 0 {
                m.insert("unknown_bits".into(), json!(unknown_bits));
            }
            Json::Object(m)
        }
        Value::Ipv4(_) | Value::Ipv6(_) | Value::Mac(_) | Value::Uuid(_) => json!(v.to_string()),
    }
}

pub fn node_json(n: &Node) -> Json {
    let mut m = Map::new();
    m.insert("name".into(), json!(n.name));
    m.insert("kind".into(), json!(n.kind));
    if let Some(t) = n.attr_type {
        m.insert("attr".into(), json!(t));
    }
    m.insert("value".into(), value_json(&n.value));
    m.insert("offset".into(), json!(n.offset));
    m.insert("length".into(), json!(n.length));
    match &n.problem {
        None => {}
        Some(Problem::Unknown) => {
            m.insert("unknown".into(), json!(true));
        }
        Some(p) => {
            m.insert("error".into(), json!(p.to_string()));
        }
    }
    if !n.children.is_empty() {
        m.insert("children".into(), Json::Array(n.children.iter().map(node_json).collect()));
    }
    Json::Object(m)
}

pub fn message_json(msg: &Message) -> Json {
    let mut m = Map::new();
    m.insert("frame".into(), json!(msg.frame));
    m.insert("index".into(), json!(msg.index));
    m.insert("time".into(), json!(msg.time.to_string()));
    m.insert("protocol".into(), json!(msg.protocol));
    m.insert("family".into(), json!(msg.family_key()));
    if let Some(g) = &msg.genl_family {
        m.insert("genl_family".into(), json!(g));
    }
    m.insert("type".into(), json!(msg.type_name));
    if let Some(h) = msg.header {
        m.insert("type_id".into(), json!(h.ty));
        m.insert("flags".into(), json!(msg.flag_names()));
        m.insert("seq".into(), json!(h.seq));
        m.insert("pid".into(), json!(h.pid));
        m.insert("len".into(), json!(h.len));
    } else {
        m.insert("len".into(), json!(msg.length));
    }
    m.insert("direction".into(), json!(msg.direction.as_str()));
    if let Some(e) = msg.error {
        m.insert("errno".into(), json!(e.unsigned_abs()));
        if let Some((name, _)) = errno::lookup(e.unsigned_abs()) {
            m.insert("error_name".into(), json!(name));
        }
    }
    if msg.unknown {
        m.insert("unknown".into(), json!(true));
    }
    let body: Vec<Json> = msg.header_node.iter().chain(&msg.body).map(node_json).collect();
    m.insert("body".into(), Json::Array(body));
    Json::Object(m)
}

pub fn write_message(out: &mut impl Write, msg: &Message) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &message_json(msg))?;
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
