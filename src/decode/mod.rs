//! Turns a [`Frame`] into the netlink [`Message`]s it holds, each with its decoded tree.
//!
//! The frame's bytes are split on `nlmsghdr` boundaries (several messages per frame are normal:
//! dumps pack up to hundreds), the host byte order is guessed per frame, and each message body is
//! decoded by its family: control messages and a few text families by hand, everything else by
//! the spec engine. Nothing here prints.

mod audit;
mod connector;
mod control;
mod endian;
mod genl;
mod sock_diag;
mod uevent;

use std::borrow::Cow;
use std::sync::Arc;

use nom::number::Endianness;

pub use endian::guess_endianness;
pub use genl::GenlFamilies;

use crate::capture::{Direction, Frame, Timestamp};
use crate::netlink::header::{self, NLMSG_HDRLEN, NlMsgHdr, OpKind, field};
use crate::netlink::protocol::{self, NETLINK_AUDIT, NETLINK_GENERIC, NETLINK_KOBJECT_UEVENT, NETLINK_USERSOCK};
use crate::spec::Registry;
use crate::spec::decode::{Ctx, decode_attrs, decode_generic_attrs, decode_struct, narrow_ipv4, own_family};
use crate::tree::{FlagTable, NodeId, Problem, Text, Tree, Value};

/// One decoded netlink message.
#[derive(Debug, Clone)]
pub struct Message {
    pub frame: u64,
    /// Position of the message within its frame, from 0.
    pub index: usize,
    pub time: Timestamp,
    pub protocol: u16,
    /// `None` for payloads without a netlink header (kobject uevents).
    pub header: Option<NlMsgHdr>,
    pub endian: Endianness,
    pub direction: Direction,
    /// The generic netlink family name, for generic messages whose family is known.
    pub genl_family: Option<String>,
    /// The message type name (`RTM_NEWLINK`, `NLMSG_ERROR`, `CTRL_CMD_NEWFAMILY`), in `tree`.
    pub type_name: Option<Text>,
    /// What the flags mean for this type.
    pub op_kind: OpKind,
    /// Offset of the message within the frame.
    pub offset: usize,
    /// Bytes of the message within the frame (up to `nlmsg_len`, or what the frame holds).
    pub length: usize,
    /// The `nlmsghdr` node (when there is a header), then the family header and attributes.
    pub tree: Tree,
    /// The first top-level node of the body (after the `nlmsghdr` node).
    pub body_start: NodeId,
    /// No dissector knows this message type.
    pub unknown: bool,
    /// Set on NLMSG_ERROR and NLMSG_DONE: the error code (0 for an ACK).
    pub error: Option<i32>,
    /// The network namespace a notification came from (monitor mode), when not this one.
    pub nsid: Option<i32>,
    /// Live capture: the process that owns the port the message names (see
    /// [`crate::capture::Process`]).
    pub process: Option<crate::capture::Process>,
}

impl Message {
    pub fn protocol_name(&self) -> Option<&'static str> {
        protocol::name(self.protocol)
    }

    /// The `family` key of the JSON output: the protocol name in lower case.
    pub fn family_key(&self) -> Cow<'static, str> {
        match protocol::lower_name(self.protocol) {
            Some(n) => Cow::Borrowed(n),
            None => Cow::Owned(format!("netlink-{}", self.protocol)),
        }
    }

    /// The message type's name.
    pub fn type_name(&self) -> Option<&str> {
        self.type_name.map(|t| self.tree.str(t))
    }

    /// The flags named in this message's context, with any bits left over as a hex number.
    pub fn flag_names(&self) -> Vec<Cow<'static, str>> {
        let Some(h) = self.header else { return Vec::new() };
        let names = header::flag_names(h.flags, self.op_kind);
        let mut v: Vec<Cow<'static, str>> = names.as_slice().iter().map(|&n| Cow::Borrowed(n)).collect();
        if names.left != 0 {
            v.push(Cow::Owned(format!("0x{:x}", names.left)));
        }
        v
    }

    /// The nodes of the body, as a range of node ids.
    pub fn body(&self) -> std::ops::Range<NodeId> {
        self.body_start..self.tree.len()
    }

    /// The `nlmsghdr` node, when the message has a header.
    pub fn header_node(&self) -> Option<NodeId> {
        (self.body_start > 0).then_some(0)
    }

    /// The first body node named `name`, depth-first.
    pub fn find(&self, name: &str) -> Option<NodeId> {
        self.tree.find_in(self.body(), name)
    }

    /// True for an NLMSG_ERROR or NLMSG_DONE that reports an error (a negative errno; a positive
    /// value is what a family's handler returned on success, as mac80211_hwsim's new radio id).
    pub fn is_error_reply(&self) -> bool {
        self.error.is_some_and(|e| e < 0)
    }

    /// True if any node of this message is malformed or truncated.
    pub fn has_error_nodes(&self) -> bool {
        self.tree.any_problem(0..self.tree.len(), |p| !matches!(p, Problem::Unknown))
    }
}

/// A message of a frame and the request it answers, kept from an earlier frame: (the message's
/// index in its frame, the request's frame, the request's index in that frame). Replies whose
/// layout depends on their request (`request-selector`) are decoded with it.
pub type RequestOf = (usize, Arc<Frame>, usize);

/// The bytes of message `index` of a frame (its header included).
fn message_bytes(frame: &Frame, index: usize) -> Option<&[u8]> {
    let payload = frame.payload();
    let (pos, hdr) = header::walk(payload, guess_endianness(payload)).nth(index)?;
    payload.get(pos..pos + hdr.len as usize)
}

/// A frame's messages, or why it has none.
#[derive(Debug, Clone)]
pub struct DecodedFrame {
    pub messages: Vec<Message>,
    /// Set when the frame could not be split into messages at all (not netlink, or bytes that are
    /// not a netlink header): a tree of one node covering the bytes concerned.
    pub problem: Option<Tree>,
    /// Zero bytes after the last message (some programs send a fixed-size buffer; the kernel
    /// ignores what follows a zero `nlmsg_len`).
    pub padding: usize,
}

/// How a frame ended, after its messages.
#[derive(Debug)]
pub struct FrameEnd {
    /// Messages handed out.
    pub messages: usize,
    /// As [`DecodedFrame::problem`].
    pub problem: Option<Tree>,
    /// As [`DecodedFrame::padding`].
    pub padding: usize,
    /// The receiver asked to stop before the end.
    pub stopped: bool,
}

/// A tree of one problem node.
fn problem_tree(name: &'static str, bytes: &[u8], offset: usize, malformed: bool, why: std::fmt::Arguments) -> Tree {
    let mut t = Tree::default();
    let p = if malformed { t.malformed(why) } else { t.truncated(why) };
    t.problem_bytes(name, bytes, offset, p);
    t
}

/// Decodes frames with a set of specs.
#[derive(Clone)]
pub struct Decoder<'r> {
    pub registry: &'r Registry,
    genl: genl::GenlFamilies,
    /// Trees of messages already printed, emptied, for the next ones (see [`Decoder::recycle`]).
    spare: Vec<Tree>,
}

/// Spare trees kept at most (a dump frame holds up to a few hundred messages).
const SPARE_TREES: usize = 1024;

/// Nodes of the `nlmsghdr` node: itself and its five fields.
const HEADER_NODES: usize = 6;

impl<'r> Decoder<'r> {
    pub fn new(registry: &'r Registry) -> Self {
        Decoder { registry, genl: genl::GenlFamilies::default(), spare: Vec::new() }
    }

    /// A decoder that starts from family ids learned before (by a first pass).
    pub fn with_families(registry: &'r Registry, genl: GenlFamilies) -> Self {
        Decoder { registry, genl, spare: Vec::new() }
    }

    /// The generic netlink family ids learned so far.
    pub fn into_families(self) -> GenlFamilies {
        self.genl
    }

    /// Names a generic netlink family id by hand (`--genl-family NAME=ID`).
    pub fn set_genl_family(&mut self, id: u16, name: &str) {
        self.genl.insert(id, name);
    }

    /// The first pass over a file: records what nlctrl says about family ids anywhere in the
    /// capture, so that messages sent before the reply that names their family are named too.
    /// Builds no trees. True when the frame told something about a family.
    pub fn learn_genl_families(&mut self, frame: &Frame) -> bool {
        if frame.protocol() != Some(NETLINK_GENERIC) {
            return false;
        }
        let before = self.genl.event_count();
        let payload = frame.payload();
        let endian = guess_endianness(payload);
        for (pos, hdr) in header::walk(payload, endian) {
            let len = hdr.len as usize;
            if hdr.ty == genl::GENL_ID_CTRL && len >= NLMSG_HDRLEN + 4 {
                let body = &payload[pos + NLMSG_HDRLEN..pos + len];
                self.genl.learn(frame.number, body[0], &body[4..], endian);
            }
        }
        self.genl.event_count() != before
    }

    /// Decodes every message of a frame.
    pub fn decode_frame(&mut self, frame: &Frame) -> DecodedFrame {
        self.decode_frame_with(frame, &[])
    }

    /// Decodes every message of a frame, replies with the requests they answer (see
    /// [`RequestOf`]).
    pub fn decode_frame_with(&mut self, frame: &Frame, requests: &[RequestOf]) -> DecodedFrame {
        let mut messages = Vec::new();
        let end = self.split_frame(frame, requests, |_, msg| {
            messages.push(msg);
            true
        });
        DecodedFrame { messages, problem: end.problem, padding: end.padding }
    }

    /// Decodes the messages of a frame one at a time, handing each to `each` while its tree is
    /// still in the processor's cache, and reusing its memory for the next; `each` returns false
    /// to stop. `each` gets the decoder too (to decode another frame, say).
    pub fn stream_frame(
        &mut self,
        frame: &Frame,
        requests: &[RequestOf],
        mut each: impl FnMut(&mut Self, &Message) -> bool,
    ) -> FrameEnd {
        self.split_frame(frame, requests, |decoder, msg| {
            let go_on = each(decoder, &msg);
            decoder.recycle_tree(msg.tree);
            go_on
        })
    }

    fn recycle_tree(&mut self, mut tree: Tree) {
        if self.spare.len() < SPARE_TREES {
            tree.clear();
            self.spare.push(tree);
        }
    }

    /// Splits a frame into messages, decodes each and hands it to `take` (false: stop).
    fn split_frame(
        &mut self,
        frame: &Frame,
        requests: &[RequestOf],
        mut take: impl FnMut(&mut Self, Message) -> bool,
    ) -> FrameEnd {
        let mut end = FrameEnd { messages: 0, problem: None, padding: 0, stopped: false };
        let Some(protocol) = frame.protocol() else {
            let why = match &frame.link {
                crate::capture::Link::NotNetlink(why) => why.as_str(),
                crate::capture::Link::Netlink { .. } => unreachable!(),
            };
            end.problem = Some(problem_tree("frame", &frame.data, 0, true, format_args!("{why}")));
            return end;
        };
        let payload = frame.payload();
        let base = frame.payload_offset();
        let cut = frame.original_len > frame.data.len();
        if protocol == NETLINK_KOBJECT_UEVENT {
            end.messages = 1;
            end.stopped = !take(self, uevent::decode(frame, payload, base));
            return end;
        }
        let endian = guess_endianness(payload);
        let mut pos = 0;
        while pos < payload.len() {
            let rest = &payload[pos..];
            if end.messages > 0 && rest.iter().all(|&b| b == 0) {
                end.padding = rest.len();
                return end;
            }
            let Some(hdr) = NlMsgHdr::parse(rest, endian) else {
                let at = base + pos;
                end.problem = Some(if cut {
                    problem_tree(
                        "trailing bytes",
                        rest,
                        at,
                        false,
                        format_args!("{} bytes left, the capture cut the frame short", rest.len()),
                    )
                } else {
                    problem_tree(
                        "trailing bytes",
                        rest,
                        at,
                        false,
                        format_args!("{} stray bytes after the last message (a netlink header has 16)", rest.len()),
                    )
                });
                return end;
            };
            let mut len = hdr.len as usize;
            if audit::length_excludes_header(protocol, &hdr, rest.len()) {
                len += NLMSG_HDRLEN;
            }
            if len < NLMSG_HDRLEN {
                end.problem = Some(problem_tree(
                    "netlink message",
                    rest,
                    base + pos,
                    true,
                    format_args!("nlmsg_len {len} is less than the 16-byte header"),
                ));
                return end;
            }
            let (msg_bytes, truncated) = if len > rest.len() { (rest, true) } else { (&rest[..len], false) };
            let tree = self.spare.pop().unwrap_or_default();
            let request = requests.iter().find(|r| r.0 == end.messages).and_then(|r| message_bytes(&r.1, r.2));
            let mut msg = self.decode_message(frame, protocol, endian, hdr, msg_bytes, base + pos, 0, request, tree);
            msg.index = end.messages;
            if truncated {
                let why = if cut {
                    msg.tree.truncated(format_args!(
                        "nlmsg_len {len}, but the capture kept only {} bytes of it",
                        rest.len()
                    ))
                } else {
                    msg.tree.truncated(format_args!(
                        "nlmsg_len {len} runs past the end of the frame ({} bytes left)",
                        rest.len()
                    ))
                };
                msg.tree.set_problem(0, why);
            }
            end.messages += 1;
            if !take(self, msg) {
                end.stopped = true;
                return end;
            }
            if truncated {
                break;
            }
            pos += crate::netlink::attr::align(len).min(rest.len());
        }
        end
    }

    /// True for the netlink control messages (types 1-4) and the other types below 16 that no
    /// spec of the protocol claims (NETLINK_ISCSI numbers its requests from 11).
    fn is_control(&self, protocol: u16, ty: u16) -> bool {
        (1..=header::NLMSG_OVERRUN).contains(&ty)
            || ((1..header::NLMSG_MIN_TYPE).contains(&ty) && self.registry.raw_family(protocol, ty).is_none())
    }

    /// Names a message type without decoding a body (for capped echoed headers).
    fn name_only(&self, msg: &mut Message, protocol: u16, hdr: NlMsgHdr) {
        if protocol == NETLINK_GENERIC {
            let name = self.genl.name(hdr.ty, msg.frame);
            msg.genl_family = name.map(str::to_string);
            msg.type_name = Some(match name {
                Some(n) => msg.tree.text_fmt(format_args!("{n} message")),
                None => msg.tree.text_fmt(format_args!("genl family 0x{:x} (unresolved)", hdr.ty)),
            });
        } else if self.is_control(protocol, hdr.ty) {
            msg.type_name = Some(Text::Static(control::name(hdr.ty)));
        } else if let Some(f) = self.registry.raw_family(protocol, hdr.ty) {
            msg.type_name = f.op(hdr.ty).map(|o| Text::Static(o.name));
        }
    }

    /// Decodes one message whose bytes (header included) are `data`, at frame offset `base`, by
    /// adding its nodes to `tree` (an echoed request goes into the tree of its error message).
    /// `depth` counts how deep inside echoed requests this is. `request` is the bytes of the
    /// request a reply answers, when known.
    #[allow(clippy::too_many_arguments)]
    fn decode_message(
        &mut self,
        frame: &Frame,
        protocol: u16,
        endian: Endianness,
        hdr: NlMsgHdr,
        data: &[u8],
        base: usize,
        depth: usize,
        request: Option<&[u8]>,
        mut tree: Tree,
    ) -> Message {
        let direction = match frame.direction {
            // An echoed request (inside an NLMSG_ERROR) went to the kernel, whichever way the
            // error goes: it is laid out as a request.
            _ if depth > 0 => Direction::ToKernel,
            Direction::Unknown => guess_direction(&hdr),
            known => known,
        };
        let header_id = reserve_header(&mut tree, base);
        let mut msg = Message {
            frame: frame.number,
            index: 0,
            time: frame.timestamp,
            protocol,
            header: Some(hdr),
            endian,
            direction,
            genl_family: None,
            type_name: None,
            op_kind: OpKind::Other,
            offset: base,
            length: data.len(),
            body_start: header_id + HEADER_NODES,
            tree,
            unknown: false,
            error: None,
            nsid: frame.nsid,
            process: frame.process.clone(),
        };
        let body = &data[NLMSG_HDRLEN.min(data.len())..];
        let body_base = base + NLMSG_HDRLEN;
        let echoed_header_only = depth > 0 && body.is_empty();
        if echoed_header_only {
            // A capped echo: only the request's header is there; name its type.
            self.name_only(&mut msg, protocol, hdr);
        } else if self.is_control(protocol, hdr.ty) {
            // Type 0 is no control message: NETLINK_FIB_LOOKUP's requests use it.
            control::decode(self, frame, &mut msg, body, body_base, depth);
        } else if protocol == NETLINK_GENERIC {
            genl::decode(self, &mut msg, body, body_base);
        } else if let Some((family, (name, op))) = self.registry.raw_family(protocol, hdr.ty).and_then(|f| {
            let notification = hdr.pid == 0 && hdr.seq == 0;
            Some((f, f.resolve(hdr.ty, direction == Direction::ToUser, notification)?))
        }) {
            msg.type_name = Some(Text::Static(name));
            // Flags mean what the named type's operation makes them mean: a RTM_NEWROUTE
            // notification carries the creating request's EXCL|CREATE, even though it is laid
            // out as a GETROUTE reply.
            msg.op_kind = family.op(hdr.ty).map_or(op.kind, |o| o.kind);
            let legacy = op.kind == OpKind::Get && hdr.flags & header::NLM_F_REQUEST != 0;
            let to_user = direction == Direction::ToUser;
            let by_family = (protocol, hdr.ty) == (sock_diag::NETLINK_SOCK_DIAG, sock_diag::SOCK_DIAG_BY_FAMILY);
            let audit_text = protocol == NETLINK_AUDIT && op.fixed_header.is_none() && op.set.is_none();
            let mut ctx = Ctx::new(family, endian);
            if family.uses_request && to_user {
                ctx.request = request.and_then(|r| request_layout(family, protocol, r, endian));
            }
            let tree = &mut msg.tree;
            let done = if by_family {
                sock_diag::decode(tree, ctx, to_user, body, body_base)
            } else if audit_text && audit::is_text(body) {
                audit::decode_text(tree, body, body_base);
                true
            } else {
                false
            };
            if !done {
                decode_body(tree, ctx, legacy, op.fixed_header, op.set, body, body_base);
            }
        } else if protocol == NETLINK_USERSOCK {
            // User-to-user messages: their layout is the programs' own business. Walk them as
            // attributes when they are exactly that, else keep the bytes, and say so.
            msg.type_name = Some(msg.tree.text_fmt(format_args!("user-defined type 0x{:x}", hdr.ty)));
            if !body.is_empty() {
                let from = msg.tree.next_id();
                unknown_payload(&mut msg.tree, body, body_base, endian);
                user_defined(&mut msg.tree, from);
            }
        } else {
            msg.unknown = true;
            if !body.is_empty() {
                unknown_payload(&mut msg.tree, body, body_base, endian);
            }
        }
        fill_header(&mut msg, header_id);
        msg
    }
}

/// The layout of a request (its bytes, header included) in `family`, for the reply that answers
/// it; None if the request is not of this spec.
fn request_layout<'a>(
    family: &'a crate::spec::Family,
    protocol: u16,
    request: &'a [u8],
    endian: Endianness,
) -> Option<crate::spec::decode::Request<'a>> {
    let hdr = NlMsgHdr::parse(request, endian)?;
    let body = request.get(NLMSG_HDRLEN..)?;
    let (header, set) = if (protocol, hdr.ty) == (sock_diag::NETLINK_SOCK_DIAG, sock_diag::SOCK_DIAG_BY_FAMILY) {
        sock_diag::layout(family, false, body)?
    } else {
        let (_, op) = family.resolve(hdr.ty, false, false)?;
        (op.fixed_header, op.set)
    };
    let used = header.map_or(0, |h| crate::netlink::attr::align(family.structs[h].size).min(body.len()));
    Some(crate::spec::decode::Request { header: header.map(|h| (h, body)), set, attrs: &body[used..] })
}

/// Names what an error says about its request when the request was not echoed whole (CAPPED):
/// the attributes NLMSGERR_ATTR_OFFS and NLMSGERR_ATTR_MISS_NEST point at, and the missing
/// attribute NLMSGERR_ATTR_MISS_TYPE numbers. `request` is the request message, decoded from
/// `request_frame`, its own frame.
pub fn annotate_error_from_request(decoder: &Decoder, error: &mut Message, request: &Message, request_frame: &Frame) {
    control::point_at_attribute_in_request(error, request);
    if let Some(bytes) = request_frame.data.get(request.offset..request.offset + request.length) {
        control::name_missing_in_request(decoder, error, request, bytes);
    }
}

/// True for an error that names things in its request (an offending attribute, a missing one)
/// which its echo could not name: [`annotate_error_from_request`] can, given the request.
pub fn error_needs_request(error: &Message) -> bool {
    control::needs_request(error)
}

/// A fixed header followed by attributes, as a spec operation describes the body.
pub(crate) fn decode_body(
    tree: &mut Tree,
    ctx: Ctx,
    get_request: bool,
    fixed_header: Option<usize>,
    set: Option<usize>,
    body: &[u8],
    base: usize,
) {
    let first = tree.next_id();
    let mut used = 0;
    // An empty body is a header-only message (a bare dump request): nothing to decode. GET
    // requests may carry a short fixed header (legacy `struct rtgenmsg`, one byte padded to four)
    // or none at all (xfrm dump requests put their attributes right after the netlink header:
    // taken when only that reading makes the bytes attributes). Anywhere else a short header is
    // truncated.
    let mut ctx = ctx;
    let header_absent = |h: usize| {
        let size = crate::netlink::attr::align(ctx.family.structs[h].size);
        get_request
            && set.is_some()
            && crate::netlink::attr::looks_like_attrs(body, ctx.host)
            && !body
                .get(size..)
                .is_some_and(|rest| rest.is_empty() || crate::netlink::attr::looks_like_attrs(rest, ctx.host))
    };
    let mut header_node = None;
    if let Some(h) = fixed_header.filter(|&h| !body.is_empty() && !header_absent(h)) {
        ctx.header = Some((h, body));
        let def = &ctx.family.structs[h];
        let node = decode_struct(tree, ctx, h, Text::Static(def.name), body, base, 0);
        tree.set_known(node, def.line);
        header_node = Some(node);
        ctx.addr_family = own_family(tree, node);
        used = tree.node(node).length();
        if used < def.size {
            tree.node_mut(node).length = body.len() as u32;
            used = body.len();
        }
        if used < def.size && !get_request {
            let why =
                tree.truncated(format_args!("{} has {} bytes, the message only {}", def.name, def.size, body.len()));
            tree.set_problem(node, why);
        }
    }
    // Attributes start at the next 4-byte boundary after the fixed header (NLMSG_ALIGN).
    let used = crate::netlink::attr::align(used).min(body.len());
    let rest = &body[used..];
    if !rest.is_empty() {
        if set.is_some() {
            decode_attrs(tree, ctx, set, rest, base + used, 0);
        } else {
            unknown_payload(tree, rest, base + used, ctx.host);
        }
    }
    let header_family = header_node.and_then(|h| own_family(tree, h));
    narrow_ipv4(tree, first, header_family);
}

/// Bytes whose layout no spec gives: walked as attributes if they are exactly that, else kept
/// as one unknown node.
pub(crate) fn unknown_payload(tree: &mut Tree, data: &[u8], base: usize, host: Endianness) {
    if crate::netlink::attr::looks_like_attrs(data, host) {
        decode_generic_attrs(tree, data, base, host, 0);
    } else {
        tree.problem_bytes("payload", data, base, Problem::Unknown);
    }
}

/// Marks generically walked nodes (from `from` on) as user-defined rather than unknown
/// (NETLINK_USERSOCK).
fn user_defined(tree: &mut Tree, from: NodeId) {
    for id in from..tree.len() {
        if tree.node(id).problem == Some(Problem::Unknown) {
            let old = tree.kind(id).to_string();
            let kind = tree.text_fmt(format_args!("{old} (user-defined)"));
            let n = tree.node_mut(id);
            n.problem = None;
            n.kind = kind;
        }
    }
}

/// The direction a message most likely went, from its header alone.
pub fn guess_direction(hdr: &NlMsgHdr) -> Direction {
    if hdr.flags & header::NLM_F_REQUEST != 0 { Direction::ToKernel } else { Direction::ToUser }
}

/// Adds the `nlmsghdr` node and its fields with placeholder values (they are filled in by
/// [`fill_header`] once the body tells what the type and flags mean); returns its id.
fn reserve_header(tree: &mut Tree, base: usize) -> NodeId {
    let at = |r: std::ops::Range<usize>| (base + r.start, r.len());
    let id = tree.open("nlmsghdr", "struct nlmsghdr", Value::None, base, NLMSG_HDRLEN);
    tree.set_known(id, crate::known!("nlmsghdr struct nlmsghdr"));
    for (name, kind, prefix, r) in [
        ("nlmsg_len", "u32", crate::known!("nlmsg_len u32"), field::LEN),
        ("nlmsg_type", "u16", crate::known!("nlmsg_type u16"), field::TYPE),
        ("nlmsg_flags", "u16", crate::known!("nlmsg_flags u16"), field::FLAGS),
        ("nlmsg_seq", "u32", crate::known!("nlmsg_seq u32"), field::SEQ),
        ("nlmsg_pid", "u32", crate::known!("nlmsg_pid u32"), field::PID),
    ] {
        let (o, l) = at(r);
        let leaf = tree.leaf(name, kind, Value::None, o, l);
        tree.set_known(leaf, prefix);
    }
    tree.close(id);
    id
}

fn fill_header(msg: &mut Message, id: NodeId) {
    let hdr = msg.header.expect("messages with a header node have a header");
    // In generic netlink the header's type is the family id; the command is in genlmsghdr.
    let type_name = if msg.protocol == NETLINK_GENERIC && hdr.ty >= header::NLMSG_MIN_TYPE {
        Some(match &msg.genl_family {
            Some(f) => msg.tree.text_fmt(format_args!("genl family {f}")),
            None => msg.tree.text_fmt(format_args!("genl family 0x{:x} (unresolved)", hdr.ty)),
        })
    } else {
        msg.type_name
    };
    let values = [
        Value::Unsigned(u64::from(hdr.len)),
        Value::Enum { raw: u64::from(hdr.ty), name: type_name },
        Value::Flags { raw: u64::from(hdr.flags), table: FlagTable::Header(msg.op_kind) },
        Value::Unsigned(u64::from(hdr.seq)),
        Value::Unsigned(u64::from(hdr.pid)),
    ];
    for (i, v) in values.into_iter().enumerate() {
        msg.tree.node_mut(id + 1 + i).value = v;
    }
}
