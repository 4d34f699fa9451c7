//! Control messages: NLMSG_NOOP, NLMSG_ERROR (ACKs and errors, with the echoed request and the
//! extended-ACK TLVs), NLMSG_DONE (end of dump, possibly with an error) and NLMSG_OVERRUN.

use std::borrow::Cow;

use super::{Decoder, Message, connector};
use crate::capture::Frame;
use crate::netlink::attr::align;
use crate::netlink::header::{self, NLMSG_HDRLEN, NlMsgHdr, OpKind, read_uint};
use crate::spec::decode::{Ctx, decode_attrs, decode_generic_attrs, decode_struct};
use crate::tree::{Node, Problem, Value};

/// NLM_F_CAPPED on an NLMSG_ERROR: only the request's header is echoed.
const NLM_F_CAPPED: u16 = 0x100;
/// NLM_F_ACK_TLVS: extended-ACK attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// The spec holding the extended-ACK attribute set.
const EXT_ACK_SPEC: &str = "netlink-ext-ack";
/// Echoed requests are decoded; an echo inside an echo is not followed further.
const MAX_ECHO_DEPTH: usize = 1;

fn errno_node(body: &[u8], base: usize, msg: &Message) -> Option<(Node, i32)> {
    let bytes = body.get(..4)?;
    let e = read_uint(bytes, 0..4, msg.endian) as u32 as i32;
    Some((Node::new("error", "s32", Value::Errno(e), base, 4), e))
}

const NETLINK_NETFILTER: u16 = 12;
const NFGENMSG_LEN: usize = 4;

/// The netfilter specs' `struct nfgenmsg`, decoded from `body`.
fn nfgenmsg(decoder: &Decoder, msg: &Message, body: &[u8], base: usize) -> Option<Node> {
    let (family, sid) = decoder
        .registry
        .families()
        .iter()
        .filter(|f| f.protonum == Some(NETLINK_NETFILTER))
        .find_map(|f| Some((f, f.structs.iter().position(|s| s.name == "nfgenmsg")?)))?;
    Some(decode_struct(Ctx::new(family, msg.endian), sid, Cow::Borrowed("nfgenmsg"), body, base, 0))
}

fn ext_ack(decoder: &Decoder, msg: &Message, data: &[u8], base: usize) -> Vec<Node> {
    if data.is_empty() {
        return Vec::new();
    }
    let nodes = match decoder.registry.genl_family(EXT_ACK_SPEC) {
        Some(family) => {
            let set = family.sets.iter().position(|s| s.name == "extack-attrs");
            decode_attrs(Ctx::new(family, msg.endian), set, data, base, 0)
        }
        None => decode_generic_attrs(data, base, msg.endian, 0),
    };
    vec![Node::new("extended ack", "attributes", Value::None, base, data.len()).with_children(nodes)]
}

/// The name of a control message type.
pub(super) fn name(ty: u16) -> &'static str {
    match ty {
        header::NLMSG_NOOP => "NLMSG_NOOP",
        header::NLMSG_ERROR => "NLMSG_ERROR",
        header::NLMSG_DONE => "NLMSG_DONE",
        header::NLMSG_OVERRUN => "NLMSG_OVERRUN",
        _ => "reserved control type",
    }
}

pub(super) fn decode(decoder: &mut Decoder, frame: &Frame, msg: &mut Message, body: &[u8], base: usize, depth: usize) {
    let hdr = msg.header.expect("control messages have a header");
    let name = match hdr.ty {
        header::NLMSG_NOOP..=header::NLMSG_OVERRUN => name(hdr.ty),
        _ => {
            msg.type_name = Some(Cow::Owned(format!("type {} (reserved for control messages)", hdr.ty)));
            msg.unknown = true;
            if !body.is_empty() {
                msg.body = vec![Node::problem_bytes("payload", body, base, Problem::Unknown)];
            }
            return;
        }
    };
    msg.type_name = Some(Cow::Borrowed(name));
    match hdr.ty {
        header::NLMSG_ERROR => decode_error(decoder, frame, msg, body, base, depth),
        header::NLMSG_DONE if msg.protocol == connector::NETLINK_CONNECTOR => {
            // Connector messages all travel as NLMSG_DONE: a cn_msg, not an end of dump.
            if let Some(nodes) = connector::decode(decoder.registry, msg.endian, body, base) {
                msg.body = nodes;
            } else if !body.is_empty() {
                msg.body.push(Node::problem_bytes("payload", body, base, Problem::Unknown));
            }
        }
        header::NLMSG_DONE => {
            msg.op_kind = OpKind::Ack;
            if msg.protocol == NETLINK_NETFILTER && body.len() == NFGENMSG_LEN {
                // nfnetlink_log ends a batch of packets with NLMSG_DONE carrying a nfgenmsg.
                if let Some(node) = nfgenmsg(decoder, msg, body, base) {
                    msg.body.push(node);
                    return;
                }
            }
            if let Some((node, e)) = errno_node(body, base, msg).filter(|(_, e)| (-4095..=0).contains(e)) {
                msg.body.push(node);
                msg.error = Some(e);
                if hdr.flags & NLM_F_ACK_TLVS != 0 {
                    let tlvs = ext_ack(decoder, msg, &body[4..], base + 4);
                    msg.body.extend(tlvs);
                } else if body.len() > 4 {
                    // Families put their own data after the status (nf_tables, audit): keep it.
                    msg.body.push(Node::problem_bytes("payload", &body[4..], base + 4, Problem::Unknown));
                }
            } else if !body.is_empty() {
                msg.body.push(Node::problem_bytes("payload", body, base, Problem::Unknown));
            }
        }
        _ => {
            if !body.is_empty() {
                msg.body.push(Node::problem_bytes("payload", body, base, Problem::Unknown));
            }
        }
    }
}

fn decode_error(decoder: &mut Decoder, frame: &Frame, msg: &mut Message, body: &[u8], base: usize, depth: usize) {
    let hdr = msg.header.expect("header");
    msg.op_kind = OpKind::Ack;
    let Some((node, e)) = errno_node(body, base, msg) else {
        msg.body.push(Node::problem_bytes(
            "nlmsgerr",
            body,
            base,
            Problem::Truncated(format!("{} bytes of a struct nlmsgerr (at least 20)", body.len())),
        ));
        return;
    };
    msg.body.push(node);
    msg.error = Some(e);
    let echoed = &body[4..];
    let echo_base = base + 4;
    let Some(req) = NlMsgHdr::parse(echoed, msg.endian) else {
        msg.body.push(Node::problem_bytes(
            "request",
            echoed,
            echo_base,
            Problem::Truncated(format!("{} bytes of the echoed 16-byte request header", echoed.len())),
        ));
        return;
    };
    let capped = hdr.flags & NLM_F_CAPPED != 0;
    let req_len = req.len as usize;
    let echo_len = if capped { NLMSG_HDRLEN } else { req_len.clamp(NLMSG_HDRLEN, echoed.len()) };
    let echo_bytes = &echoed[..echo_len];
    let mut request = if depth < MAX_ECHO_DEPTH {
        let inner = decoder.decode_message(frame, msg.protocol, msg.endian, req, echo_bytes, echo_base, depth + 1);
        let mut children: Vec<Node> = inner.header_node.into_iter().collect();
        children.extend(inner.body);
        let value = Value::Enum { raw: u64::from(req.ty), name: inner.type_name };
        Node::new("request", if capped { "echoed header" } else { "echoed request" }, value, echo_base, echo_len)
            .with_children(children)
    } else {
        Node::new("request", "echoed request", Value::Bytes(echo_bytes.to_vec()), echo_base, echo_len)
    };
    if !capped && req_len > echoed.len() {
        request.problem =
            Some(Problem::Truncated(format!("echoed nlmsg_len {req_len}, {} bytes present", echoed.len())));
    }
    msg.body.push(request);
    let tlv_start = if capped { NLMSG_HDRLEN } else { align(req_len).max(NLMSG_HDRLEN) };
    if tlv_start < echoed.len() {
        let rest = &echoed[tlv_start..];
        if hdr.flags & NLM_F_ACK_TLVS != 0 {
            let mut tlvs = ext_ack(decoder, msg, rest, echo_base + tlv_start);
            if !capped {
                let request = msg.body.iter().find(|n| n.name == "request");
                if let (Some(request), Some(offs)) =
                    (request, tlvs.iter_mut().find_map(|n| n.find_mut("NLMSGERR_ATTR_OFFS")))
                {
                    point_at_attribute(offs, request, echo_base);
                }
            }
            let in_nest = crate::tree::find_in(&tlvs, "NLMSGERR_ATTR_MISS_NEST").is_some();
            if let Some(miss) = tlvs.iter_mut().find_map(|n| n.find_mut("NLMSGERR_ATTR_MISS_TYPE")).filter(|_| !in_nest)
            {
                name_missing_attribute(decoder, msg, &req, echoed, miss);
            }
            msg.body.extend(tlvs);
        } else {
            msg.body.push(Node::problem_bytes("trailing bytes", rest, echo_base + tlv_start, Problem::Unknown));
        }
    }
}

/// NLMSGERR_ATTR_OFFS counts bytes from the start of the request: name the attribute there, as a
/// path of attribute names (`.NFTA_RULE_EXPRESSIONS.NFTA_LIST_ELEM...`), with its span so it can be
/// highlighted in the echoed request.
fn point_at_attribute(offs: &mut Node, request: &Node, request_base: usize) {
    let Some(target) = offs.value.as_u64().map(|o| request_base + o as usize) else { return };
    let mut path = Vec::new();
    let Some(hit) = attribute_at(&request.children, target, &mut path) else {
        offs.problem =
            Some(Problem::Malformed(format!("offset {} is not at an attribute of the request", target - request_base)));
        return;
    };
    let text: String = path.iter().map(|p| format!(".{p}")).collect();
    offs.children.push(Node::new("attribute", "path", Value::Str(text), hit.offset, hit.length));
}

/// NLMSGERR_ATTR_MISS_TYPE gives the number of a required attribute the request lacked: name it
/// from the attribute set of the request's operation. (With NLMSGERR_ATTR_MISS_NEST the attribute
/// belongs to a nest whose set the tree does not record: the caller leaves the number as it is.)
fn name_missing_attribute(decoder: &Decoder, msg: &Message, req: &NlMsgHdr, echoed: &[u8], miss: &mut Node) {
    let Some(ty) = miss.value.as_u64().and_then(|t| u16::try_from(t).ok()) else { return };
    let op_set = if msg.protocol == crate::netlink::protocol::NETLINK_GENERIC {
        let cmd = echoed.get(NLMSG_HDRLEN).copied();
        let family = decoder.genl.name(req.ty, msg.frame).and_then(|n| decoder.registry.genl_family(n));
        family.zip(cmd).and_then(|(f, cmd)| Some((f, f.resolve(u16::from(cmd), false, false)?.1.set?)))
    } else {
        let family = decoder.registry.raw_family(msg.protocol, req.ty);
        family.and_then(|f| Some((f, f.resolve(req.ty, false, false)?.1.set?)))
    };
    let name = op_set.and_then(|(f, set)| f.sets[set].get(ty)).map(|a| a.name);
    if let Some(name) = name {
        miss.value = Value::Enum { raw: u64::from(ty), name: Some(Cow::Borrowed(name)) };
    }
}

/// For an error whose request was not echoed whole (CAPPED): names the NLMSGERR_ATTR_OFFS
/// attribute in the request itself, decoded from its own frame (`request`, found by correlation).
/// The path node keeps the error's own span and says which frame holds the attribute.
pub(super) fn point_at_attribute_in_request(error: &mut Message, request: &Message) {
    let Some(offs) = error.body.iter_mut().find_map(|n| n.find_mut("NLMSGERR_ATTR_OFFS")) else { return };
    if !offs.children.is_empty() {
        return;
    }
    let Some(target) = offs.value.as_u64().map(|o| request.offset + o as usize) else { return };
    let mut path = Vec::new();
    if attribute_at(&request.body, target, &mut path).is_some() {
        let text: String = path.iter().map(|p| format!(".{p}")).collect();
        let kind = format!("path (in frame {}.{})", request.frame, request.index);
        offs.children.push(Node::new("attribute", kind, Value::Str(text), offs.offset, offs.length));
    }
}

/// The attribute starting at frame offset `target`, the deepest such, with the names leading to it.
fn attribute_at<'a>(nodes: &'a [Node], target: usize, path: &mut Vec<String>) -> Option<&'a Node> {
    for n in nodes {
        if target < n.offset || target >= n.offset + n.length.max(1) {
            continue;
        }
        let is_attr = n.attr_type.is_some();
        if is_attr {
            path.push(n.name.to_string());
        }
        if let Some(inner) = attribute_at(&n.children, target, path) {
            return Some(inner);
        }
        if is_attr && n.offset == target {
            return Some(n);
        }
        if is_attr {
            path.pop();
        }
    }
    None
}
