//! Control messages: NLMSG_NOOP, NLMSG_ERROR (ACKs and errors, with the echoed request and the
//! extended-ACK TLVs), NLMSG_DONE (end of dump, possibly with an error) and NLMSG_OVERRUN.

use nom::number::Endianness;

use super::{Decoder, Message, connector};
use crate::capture::Frame;
use crate::netlink::attr::align;
use crate::netlink::header::{self, NLMSG_HDRLEN, NlMsgHdr, OpKind, read_uint};
use crate::spec::decode::{Ctx, decode_attrs, decode_generic_attrs, decode_struct, nest_set_at};
use crate::spec::registry::{Family, SetId, StructId};
use crate::tree::{NodeId, Problem, Siblings, Text, Tree, Value};

/// NLM_F_CAPPED on an NLMSG_ERROR: only the request's header is echoed.
const NLM_F_CAPPED: u16 = 0x100;
/// NLM_F_ACK_TLVS: extended-ACK attributes follow.
const NLM_F_ACK_TLVS: u16 = 0x200;
/// The spec holding the extended-ACK attribute set.
const EXT_ACK_SPEC: &str = "netlink-ext-ack";
/// Echoed requests are decoded; an echo inside an echo is not followed further.
const MAX_ECHO_DEPTH: usize = 1;
/// The generic netlink header (`struct genlmsghdr`) before a generic request's fixed header.
const GENL_HDRLEN: usize = 4;

/// The errno at the start of `body`, if it is there.
fn errno_at(body: &[u8], msg: &Message) -> Option<i32> {
    let bytes = body.get(..4)?;
    Some(read_uint(bytes, 0..4, msg.endian) as u32 as i32)
}

fn push_errno(msg: &mut Message, e: i32, base: usize) {
    msg.tree.leaf("error", "s32", Value::Errno(e), base, 4);
    msg.error = Some(e);
}

const NETLINK_NETFILTER: u16 = 12;
const NFGENMSG_LEN: usize = 4;

/// The netfilter specs' `struct nfgenmsg`, decoded from `body`; false if no netfilter spec is
/// loaded.
fn nfgenmsg(decoder: &Decoder, msg: &mut Message, body: &[u8], base: usize) -> bool {
    let found = decoder
        .registry
        .raw_families(NETLINK_NETFILTER)
        .find_map(|f| Some((f, f.structs.iter().position(|s| s.name == "nfgenmsg")?)));
    let Some((family, sid)) = found else { return false };
    decode_struct(&mut msg.tree, Ctx::new(family, msg.endian), sid, Text::Static("nfgenmsg"), body, base, 0);
    true
}

/// The extended-ACK TLVs as one node; returns its id.
fn ext_ack(decoder: &Decoder, msg: &mut Message, data: &[u8], base: usize) -> Option<NodeId> {
    if data.is_empty() {
        return None;
    }
    let tree = &mut msg.tree;
    let id = tree.open("extended ack", "attributes", Value::None, base, data.len());
    match decoder.registry.genl_family(EXT_ACK_SPEC) {
        Some(family) => {
            let set = family.sets.iter().position(|s| s.name == "extack-attrs");
            decode_attrs(tree, Ctx::new(family, msg.endian), set, data, base, 0);
        }
        None => decode_generic_attrs(tree, data, base, msg.endian, 0),
    }
    tree.close(id);
    Some(id)
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
            msg.type_name = Some(msg.tree.text_fmt(format_args!("type {} (reserved for control messages)", hdr.ty)));
            msg.unknown = true;
            if !body.is_empty() {
                msg.tree.problem_bytes("payload", body, base, Problem::Unknown);
            }
            return;
        }
    };
    msg.type_name = Some(Text::Static(name));
    match hdr.ty {
        header::NLMSG_ERROR => decode_error(decoder, frame, msg, body, base, depth),
        header::NLMSG_DONE if msg.protocol == connector::NETLINK_CONNECTOR => {
            // Connector messages all travel as NLMSG_DONE: a cn_msg, not an end of dump.
            if !connector::decode(&mut msg.tree, decoder.registry, msg.endian, body, base) && !body.is_empty() {
                msg.tree.problem_bytes("payload", body, base, Problem::Unknown);
            }
        }
        header::NLMSG_DONE => {
            msg.op_kind = OpKind::Ack;
            // nfnetlink_log ends a batch of packets with NLMSG_DONE carrying a nfgenmsg.
            if msg.protocol == NETLINK_NETFILTER && body.len() == NFGENMSG_LEN && nfgenmsg(decoder, msg, body, base) {
                return;
            }
            if let Some(e) = errno_at(body, msg).filter(|e| (-4095..=0).contains(e)) {
                push_errno(msg, e, base);
                if hdr.flags & NLM_F_ACK_TLVS != 0 {
                    ext_ack(decoder, msg, &body[4..], base + 4);
                } else if body.len() > 4 {
                    // Families put their own data after the status (nf_tables, audit): keep it.
                    msg.tree.problem_bytes("payload", &body[4..], base + 4, Problem::Unknown);
                }
            } else if !body.is_empty() {
                msg.tree.problem_bytes("payload", body, base, Problem::Unknown);
            }
        }
        _ => {
            if !body.is_empty() {
                msg.tree.problem_bytes("payload", body, base, Problem::Unknown);
            }
        }
    }
}

fn decode_error(decoder: &mut Decoder, frame: &Frame, msg: &mut Message, body: &[u8], base: usize, depth: usize) {
    let hdr = msg.header.expect("header");
    msg.op_kind = OpKind::Ack;
    let Some(e) = errno_at(body, msg) else {
        let why = msg.tree.truncated(format_args!("{} bytes of a struct nlmsgerr (at least 20)", body.len()));
        msg.tree.problem_bytes("nlmsgerr", body, base, why);
        return;
    };
    push_errno(msg, e, base);
    let echoed = &body[4..];
    let echo_base = base + 4;
    let Some(req) = NlMsgHdr::parse(echoed, msg.endian) else {
        let why = msg.tree.truncated(format_args!("{} bytes of the echoed 16-byte request header", echoed.len()));
        msg.tree.problem_bytes("request", echoed, echo_base, why);
        return;
    };
    let capped = hdr.flags & NLM_F_CAPPED != 0;
    let req_len = req.len as usize;
    let echo_len = if capped { NLMSG_HDRLEN } else { req_len.clamp(NLMSG_HDRLEN, echoed.len()) };
    let echo_bytes = &echoed[..echo_len];
    let kind = if capped { "echoed header" } else { "echoed request" };
    let request = if depth < MAX_ECHO_DEPTH {
        let id = msg.tree.open("request", kind, Value::None, echo_base, echo_len);
        let tree = std::mem::take(&mut msg.tree);
        let inner =
            decoder.decode_message(frame, msg.protocol, msg.endian, req, echo_bytes, echo_base, depth + 1, None, tree);
        msg.tree = inner.tree;
        msg.tree.close(id);
        msg.tree.node_mut(id).value = Value::Enum { raw: u64::from(req.ty), name: inner.type_name };
        id
    } else {
        let v = Value::Bytes(msg.tree.bytes(echo_bytes));
        msg.tree.leaf("request", "echoed request", v, echo_base, echo_len)
    };
    if !capped && req_len > echoed.len() {
        let why = msg.tree.truncated(format_args!("echoed nlmsg_len {req_len}, {} bytes present", echoed.len()));
        msg.tree.set_problem(request, why);
    }
    let tlv_start = if capped { NLMSG_HDRLEN } else { align(req_len).max(NLMSG_HDRLEN) };
    if tlv_start < echoed.len() {
        let rest = &echoed[tlv_start..];
        if hdr.flags & NLM_F_ACK_TLVS != 0 {
            let Some(tlvs) = ext_ack(decoder, msg, rest, echo_base + tlv_start) else { return };
            let nest = msg.tree.find_under(tlvs, "NLMSGERR_ATTR_MISS_NEST");
            if !capped {
                for at in [msg.tree.find_under(tlvs, "NLMSGERR_ATTR_OFFS"), nest].into_iter().flatten() {
                    point_at_attribute(&mut msg.tree, at, request, echo_base);
                }
            }
            if let Some(miss) = msg.tree.find_under(tlvs, "NLMSGERR_ATTR_MISS_TYPE") {
                // Capped, a nest is named once the request is found in its own frame.
                let request_bytes = if capped { None } else { Some(echo_bytes) };
                if nest.is_none() || request_bytes.is_some() {
                    let at = MissingAt { header: &req, request: request_bytes, nest };
                    name_missing_attribute(decoder, msg.protocol, msg.frame, msg.endian, &mut msg.tree, miss, at);
                }
            }
        } else {
            msg.tree.problem_bytes("trailing bytes", rest, echo_base + tlv_start, Problem::Unknown);
        }
    }
}

/// NLMSGERR_ATTR_OFFS counts bytes from the start of the request: name the attribute there, as a
/// path of attribute names (`.NFTA_RULE_EXPRESSIONS.NFTA_LIST_ELEM...`), with its span so it can be
/// highlighted in the echoed request.
fn point_at_attribute(tree: &mut Tree, offs: NodeId, request: NodeId, request_base: usize) {
    let Some(target) = tree.node(offs).value.as_u64().map(|o| request_base + o as usize) else { return };
    let mut path = Vec::new();
    let Some(hit) = attribute_at(tree, tree.children(request), target, &mut path) else {
        let why =
            tree.malformed(format_args!("offset {} is not at an attribute of the request", target - request_base));
        tree.set_problem(offs, why);
        return;
    };
    let text = path_text(tree, &path);
    let (o, l) = (tree.node(hit).offset(), tree.node(hit).length());
    let value = Value::Str(tree.text(&text));
    tree.append_child(offs, "attribute", "path", value, o, l);
}

/// `.A.B.C` from the nodes on the way to an attribute.
fn path_text(tree: &Tree, path: &[NodeId]) -> String {
    path.iter().map(|&p| format!(".{}", tree.name(p))).collect()
}

/// How a request's operation lays out its body: its family, fixed header and attribute set,
/// and where the fixed header and the attributes start (counted from the request's header).
struct Layout<'r> {
    family: &'r Family,
    fixed_header: Option<StructId>,
    set: SetId,
    header_at: usize,
    attrs_at: usize,
}

/// The layout of a request of `protocol` with header `req`, whose bytes (header included) begin
/// with `head` (the generic netlink command is read there).
fn layout<'r>(decoder: &Decoder<'r>, protocol: u16, frame: u64, req: &NlMsgHdr, head: &[u8]) -> Option<Layout<'r>> {
    let (family, op_value, header_at) = if protocol == crate::netlink::protocol::NETLINK_GENERIC {
        let cmd = head.get(NLMSG_HDRLEN).copied()?;
        let name = decoder.genl.name(req.ty, frame)?;
        (decoder.registry.genl_family(name)?, u16::from(cmd), NLMSG_HDRLEN + GENL_HDRLEN)
    } else {
        (decoder.registry.raw_family(protocol, req.ty)?, req.ty, NLMSG_HDRLEN)
    };
    let op = family.resolve(op_value, false, false)?.1;
    let attrs_at = header_at + op.fixed_header.map_or(0, |h| align(family.structs[h].size));
    Some(Layout { family, fixed_header: op.fixed_header, set: op.set?, header_at, attrs_at })
}

/// What is known of the request a NLMSGERR_ATTR_MISS_TYPE is about.
struct MissingAt<'a> {
    header: &'a NlMsgHdr,
    /// The request's bytes, header included, when they are at hand (echoed whole, or from the
    /// request's own frame).
    request: Option<&'a [u8]>,
    /// The NLMSGERR_ATTR_MISS_NEST node, when the attribute is missing from a nest.
    nest: Option<NodeId>,
}

/// NLMSGERR_ATTR_MISS_TYPE gives the number of a required attribute the request lacked: name it
/// from the attribute set of the nest NLMSGERR_ATTR_MISS_NEST points at (an offset into the
/// request, like NLMSGERR_ATTR_OFFS), or without one from the set of the request's operation.
fn name_missing_attribute(
    decoder: &Decoder,
    protocol: u16,
    frame: u64,
    endian: Endianness,
    tree: &mut Tree,
    miss: NodeId,
    at: MissingAt,
) {
    let Some(ty) = tree.node(miss).value.as_u64().and_then(|t| u16::try_from(t).ok()) else { return };
    let head = at.request.unwrap_or_default();
    let Some(l) = layout(decoder, protocol, frame, at.header, head) else { return };
    let set = match at.nest {
        None => Some(l.set),
        Some(nest) => (|| {
            let request = at.request?;
            let offs = usize::try_from(tree.node(nest).value.as_u64()?).ok()?;
            let mut ctx = Ctx::new(l.family, endian);
            ctx.header = l.fixed_header.zip(request.get(l.header_at..));
            nest_set_at(ctx, l.set, request.get(l.attrs_at..)?, offs.checked_sub(l.attrs_at)?)
        })(),
    };
    if let Some(name) = set.and_then(|s| l.family.sets[s].get(ty)).map(|a| a.name) {
        tree.node_mut(miss).value = Value::Enum { raw: u64::from(ty), name: Some(Text::Static(name)) };
    }
}

/// For an error whose request was not echoed whole (CAPPED): names the NLMSGERR_ATTR_OFFS
/// attribute in the request itself, decoded from its own frame (`request`, found by correlation).
/// The path node keeps the error's own span and says which frame holds the attribute.
pub(super) fn point_at_attribute_in_request(error: &mut Message, request: &Message) {
    for name in OFFSET_ATTRS {
        let Some(offs) = error.find(name) else { continue };
        if error.tree.node(offs).is_parent(offs) {
            continue;
        }
        let Some(target) = error.tree.node(offs).value.as_u64().map(|o| request.offset + o as usize) else { continue };
        let mut path = Vec::new();
        let rtree = &request.tree;
        if attribute_at(rtree, rtree.roots_from(request.body_start), target, &mut path).is_some() {
            let text = path_text(rtree, &path);
            let tree = &mut error.tree;
            let kind = tree.text_fmt(format_args!("path (in frame {}.{})", request.frame, request.index));
            let value = Value::Str(tree.text(&text));
            let (o, l) = (tree.node(offs).offset(), tree.node(offs).length());
            tree.append_child(offs, "attribute", kind, value, o, l);
        }
    }
}

/// The extended-ACK attributes that are offsets into the request.
const OFFSET_ATTRS: [&str; 2] = ["NLMSGERR_ATTR_OFFS", "NLMSGERR_ATTR_MISS_NEST"];

/// True for an error that names things in its request but could not name them from its echo
/// (the request was not echoed whole): offsets into it (NLMSGERR_ATTR_OFFS,
/// NLMSGERR_ATTR_MISS_NEST) or a missing attribute (NLMSGERR_ATTR_MISS_TYPE).
pub(super) fn needs_request(error: &Message) -> bool {
    let unnamed_offset =
        OFFSET_ATTRS.iter().any(|name| error.find(name).is_some_and(|o| !error.tree.node(o).is_parent(o)));
    unnamed_offset || error.find("NLMSGERR_ATTR_MISS_TYPE").is_some_and(|m| !missing_named(error, m))
}

fn missing_named(error: &Message, miss: NodeId) -> bool {
    matches!(error.tree.node(miss).value, Value::Enum { name: Some(_), .. })
}

/// For an error whose request was not echoed whole: names NLMSGERR_ATTR_MISS_TYPE (in the set of
/// the NLMSGERR_ATTR_MISS_NEST nest, when there is one) from the request's own bytes
/// (`request_bytes`, header included).
pub(super) fn name_missing_in_request(decoder: &Decoder, error: &mut Message, request: &Message, request_bytes: &[u8]) {
    let (Some(miss), Some(header)) = (error.find("NLMSGERR_ATTR_MISS_TYPE"), request.header) else { return };
    if missing_named(error, miss) {
        return;
    }
    let at = MissingAt { header: &header, request: Some(request_bytes), nest: error.find("NLMSGERR_ATTR_MISS_NEST") };
    name_missing_attribute(decoder, request.protocol, request.frame, request.endian, &mut error.tree, miss, at);
}

/// The attribute starting at frame offset `target`, the deepest such, with the nodes leading to it.
fn attribute_at(tree: &Tree, nodes: Siblings, target: usize, path: &mut Vec<NodeId>) -> Option<NodeId> {
    for id in nodes {
        let n = tree.node(id);
        if target < n.offset() || target >= n.offset() + n.length().max(1) {
            continue;
        }
        let is_attr = n.attr_type.is_some();
        if is_attr {
            path.push(id);
        }
        if let Some(inner) = attribute_at(tree, tree.children(id), target, path) {
            return Some(inner);
        }
        if is_attr && n.offset() == target {
            return Some(id);
        }
        if is_attr {
            path.pop();
        }
    }
    None
}
