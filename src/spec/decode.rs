//! The interpreter: decodes structs and attribute sets as a compiled spec describes them.
//!
//! Every function takes the bytes to decode and `base`, their offset within the frame, and
//! returns nodes with frame offsets. Nothing here fails: what does not fit the spec becomes a node
//! with a [`Problem`] and the bytes it covers, and decoding goes on with the next attribute.

use nom::number::Endianness;

use super::registry::{
    AttrSet, AttrSpec, AttrType, Family, Hint, MemberSpec, MemberType, Order, Presentation, Scalar, SetId, StructId,
    SubMsgFormat,
};
use crate::netlink::attr::{self, RawAttr};
use crate::netlink::header::read_uint;
use crate::tree::{FlagTable, NodeId, Problem, Text, Tree, Value};

/// Nesting deeper than this is reported instead of followed (the kernel caps nesting at
/// `MAX_POLICY_RECURSION_DEPTH` = 10; 32 leaves room for anything real).
pub const MAX_DEPTH: usize = 32;

/// What the decoder needs besides the bytes.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub family: &'a Family,
    /// The capturing host's byte order.
    pub host: Endianness,
    /// The message's fixed header and its bytes: sub-message selectors may name one of its
    /// fields (`ifi-family` picks how IFLA_AF_SPEC and IFLA_PROTINFO are laid out).
    pub header: Option<(StructId, &'a [u8])>,
    /// The address family in force: the fixed header's, or that of the struct being decoded
    /// (`rtvia_family`). An `ipv4-or-v6` field of an AF_MPLS message is a label stack.
    pub addr_family: Option<u64>,
    /// For a reply whose request is known: the request's layout in the same spec, where a
    /// `request-selector` finds its value.
    pub request: Option<Request<'a>>,
}

/// The request a reply answers, laid out by the same spec: its fixed header and attributes.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub header: Option<(StructId, &'a [u8])>,
    pub set: Option<SetId>,
    /// The bytes of its attributes (after the fixed header).
    pub attrs: &'a [u8],
}

impl<'a> Ctx<'a> {
    pub fn new(family: &'a Family, host: Endianness) -> Self {
        Ctx { family, host, header: None, addr_family: None, request: None }
    }
}

fn order(o: Order, host: Endianness) -> Endianness {
    match o {
        Order::Host => host,
        Order::Big => Endianness::Big,
        Order::Little => Endianness::Little,
    }
}

fn sign_extend(v: u64, width: usize) -> i64 {
    let shift = 64 - 8 * width as u32;
    ((v << shift) as i64) >> shift
}

/// The value of a scalar of `width` bytes, shown as its presentation says.
fn scalar_value(ctx: Ctx, bytes: &[u8], s: Scalar, pres: &Presentation, net_byteorder: bool) -> Value {
    let endian = if net_byteorder { Endianness::Big } else { order(pres.order, ctx.host) };
    let mut raw = read_uint(bytes, 0..bytes.len(), endian);
    if s.signed() {
        // Enum entries of signed fields are stored sign-extended (-1 as u64::MAX).
        raw = sign_extend(raw, bytes.len()) as u64;
    }
    if pres.hint == Some(Hint::Ipv4) && bytes.len() == 4 {
        // An address is its bytes on the wire, whatever the integer's declared byte order.
        return Value::Ipv4([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    if let Some(e) = pres.enumeration {
        let def = &ctx.family.enums[e];
        if pres.as_flags {
            return Value::Flags { raw, table: FlagTable::Spec(def.entries) };
        }
        return match def.name_of(raw) {
            Some(name) => Value::Enum { raw, name: Some(Text::Static(name)) },
            // A handle-like field with a few named values (TC_H_ROOT) and many plain ones.
            None if pres.hint == Some(Hint::Hex) => Value::Hex(raw),
            // A number with a few named special values (NETCONFA_IFINDEX_ALL = -1).
            None if def.sentinels_only && s.signed() => Value::Signed(raw as i64),
            None if def.sentinels_only => Value::Unsigned(raw),
            None => Value::Enum { raw, name: None },
        };
    }
    if pres.hint == Some(Hint::Hex) {
        return Value::Hex(raw);
    }
    if pres.hint == Some(Hint::Errno) && s.signed() && bytes.len() <= 4 {
        return Value::Errno(raw as i64 as i32);
    }
    if s.signed() { Value::Signed(raw as i64) } else { Value::Unsigned(raw) }
}

const AF_MPLS: u64 = 28;

/// Bytes shown by their display hint, in the address family in force.
fn bytes_value(tree: &mut Tree, bytes: &[u8], hint: Option<Hint>, addr_family: Option<u64>) -> Value {
    let label_stack = !bytes.is_empty() && bytes.len().is_multiple_of(4);
    match (hint, bytes.len()) {
        (Some(Hint::Mpls), _) if label_stack => Value::Mpls(tree.bytes(bytes)),
        (Some(Hint::Ipv4OrV6), _) if label_stack && addr_family == Some(AF_MPLS) => Value::Mpls(tree.bytes(bytes)),
        (Some(Hint::Mac), _) if !bytes.is_empty() => Value::Mac(tree.bytes(bytes)),
        (Some(Hint::Ipv4 | Hint::Ipv4OrV6), 4) => Value::Ipv4([bytes[0], bytes[1], bytes[2], bytes[3]]),
        (Some(Hint::Ipv6 | Hint::Ipv4OrV6), 16) => Value::Ipv6(bytes.try_into().expect("16 bytes")),
        (Some(Hint::Uuid), 16) => Value::Uuid(bytes.try_into().expect("16 bytes")),
        _ => Value::Bytes(tree.bytes(bytes)),
    }
}

const AF_INET: u64 = 2;

/// The address family a struct node names in a member of its own (`family`, `rtm_family`,
/// `idiag_family`...).
pub fn own_family(tree: &Tree, id: NodeId) -> Option<u64> {
    tree.children(id)
        .find(|&c| {
            let name = tree.name(c);
            name == "family" || name.ends_with("_family")
        })
        .and_then(|c| tree.node(c).value.as_u64())
}

/// 16-byte address fields (xfrm_address_t, inet_diag_sockid) hold an IPv4 address in their first
/// four bytes when the family is AF_INET: show it as one. The family is the nearest one named by
/// the node or an enclosing struct; `inherited` is the message header's. `from` is the first of the
/// top-level nodes to look at (the rest of the tree is theirs).
pub fn narrow_ipv4(tree: &mut Tree, from: NodeId, inherited: Option<u64>) {
    // Most messages have no 16-byte address at all: do not look for families then.
    if !tree.nodes()[from..].iter().any(|n| matches!(n.value, Value::Ipv6(_))) {
        return;
    }
    // (end of the subtree, family in force inside it)
    let mut scopes: Vec<(NodeId, Option<u64>)> = Vec::new();
    for id in from..tree.len() {
        while scopes.last().is_some_and(|&(end, _)| end <= id) {
            scopes.pop();
        }
        let outer = scopes.last().map_or(inherited, |s| s.1);
        let family = own_family(tree, id).or(outer);
        if let (Some(AF_INET), Value::Ipv6(o)) = (family, tree.node(id).value)
            && o[4..].iter().all(|&b| b == 0)
        {
            tree.node_mut(id).value = Value::Ipv4([o[0], o[1], o[2], o[3]]);
        }
        if tree.node(id).is_parent(id) {
            scopes.push((tree.end(id), family));
        }
    }
}

/// A string without its terminating NUL (and anything after it). A string that starts with a NUL
/// but goes on (an abstract UNIX socket name) is shown as `ss` shows it, `@name`, not as empty.
pub fn string_value(tree: &mut Tree, bytes: &[u8]) -> Value {
    if bytes.first() == Some(&0) && bytes[1..].iter().any(|&b| b != 0) {
        let rest = &bytes[1..];
        let end = rest.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        return Value::Str(tree.text_fmt(format_args!("@{}", String::from_utf8_lossy(&rest[..end]))));
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Value::Str(tree.text(&String::from_utf8_lossy(&bytes[..end])))
}

/// Decodes a struct from the start of `data` into one node with a child per member. Members that
/// do not fit are left out when whole (older kernels send shorter structs) and flagged when cut in
/// the middle.
pub fn decode_struct(
    tree: &mut Tree,
    ctx: Ctx,
    sid: StructId,
    name: Text,
    data: &[u8],
    base: usize,
    depth: usize,
) -> NodeId {
    let id = open_struct(tree, ctx, sid, name, data, base, depth);
    tree.close(id);
    id
}

/// [`decode_struct`], leaving the node open for more children; its length is what the members
/// used.
fn open_struct(tree: &mut Tree, ctx: Ctx, sid: StructId, name: Text, data: &[u8], base: usize, depth: usize) -> NodeId {
    let def = &ctx.family.structs[sid];
    let id = tree.open(name, def.kind, Value::None, base, 0);
    let mut pos = 0;
    // A struct's own address family governs the members after it (`rtvia_family`, `rtvia_addr`).
    let mut ctx = ctx;
    for m in &def.members {
        let size = m.size(&ctx.family.structs);
        if pos + size > data.len() {
            if pos < data.len() {
                let why = tree.truncated(format_args!("{} needs {size} bytes, {} left", m.name, data.len() - pos));
                tree.problem_bytes(m.name, &data[pos..], base + pos, why);
                pos = data.len();
            }
            break;
        }
        let bytes = &data[pos..pos + size];
        if let MemberType::Flexible { structure } = &m.ty {
            if m.select.is_some() && depth < MAX_DEPTH {
                union_member(tree, ctx, def, id, m, &data[pos..], base + pos, depth);
            } else {
                flexible_member(tree, ctx, m, *structure, &data[pos..], base + pos, depth);
            }
            pos = data.len();
            break;
        }
        match &m.ty {
            MemberType::Pad(_) => {}
            MemberType::Scalar(s) => {
                let value = scalar_value(ctx, bytes, *s, &m.pres, false);
                if m.name == "family" || m.name.ends_with("_family") {
                    ctx.addr_family = value.as_u64();
                }
                let id = tree.leaf(m.name, m.kind, value, base + pos, size);
                tree.set_known(id, m.line);
            }
            MemberType::String(_) => {
                let v = string_value(tree, bytes);
                let id = tree.leaf(m.name, m.kind, v, base + pos, size);
                tree.set_known(id, m.line);
            }
            MemberType::Binary { structure: Some(inner), .. } if depth < MAX_DEPTH => {
                decode_struct(tree, ctx, *inner, Text::Static(m.name), bytes, base + pos, depth + 1);
            }
            MemberType::Binary { .. } if m.select.is_some() && depth < MAX_DEPTH => {
                union_member(tree, ctx, def, id, m, bytes, base + pos, depth);
            }
            MemberType::Binary { .. } | MemberType::Flexible { .. } => {
                let v = bytes_value(tree, bytes, m.pres.hint, ctx.addr_family);
                let id = tree.leaf(m.name, m.kind, v, base + pos, size);
                tree.set_known(id, m.line);
            }
        }
        pos += size;
    }
    tree.node_mut(id).length = pos as u32;
    id
}

/// A union member (or the flexible last member: what follows the struct) laid out by the
/// sub-message format an earlier member of its struct (open as node `parent`) chooses; its bytes
/// when none fits.
#[allow(clippy::too_many_arguments)]
fn union_member(
    tree: &mut Tree,
    ctx: Ctx,
    def: &super::registry::StructDef,
    parent: NodeId,
    m: &MemberSpec,
    bytes: &[u8],
    base: usize,
    depth: usize,
) {
    let (sm, selector) = m.select.expect("a union member");
    // The struct is still open: its members so far are the nodes after it.
    let raw = tree.roots_from(parent + 1).find(|&c| tree.name(c) == selector).and_then(|c| tree.node(c).value.as_u64());
    let spec_name = def
        .members
        .iter()
        .find(|p| p.name == selector)
        .and_then(|p| p.pres.enumeration)
        .zip(raw)
        .and_then(|(e, raw)| ctx.family.enums[e].spec_name_of(raw));
    let chosen = raw.and_then(|raw| {
        ctx.family.sub_messages[sm]
            .formats
            .iter()
            .find(|f| f.value == raw.to_string() || Some(f.value.as_str()) == spec_name)
            .and_then(|f| f.fixed_header)
    });
    match chosen {
        Some(h) => {
            let id = decode_struct(tree, ctx, h, Text::Static(m.name), bytes, base, depth + 1);
            let kind = tree.text_fmt(format_args!("binary ({})", ctx.family.structs[h].kind));
            let n = tree.node_mut(id);
            n.kind = kind;
            n.length = bytes.len() as u32;
        }
        None => {
            let v = bytes_value(tree, bytes, m.pres.hint, ctx.addr_family);
            let id = tree.leaf(m.name, m.kind, v, base, bytes.len());
            tree.set_known(id, m.line);
        }
    }
}

/// A flexible array member: entries of a struct, or addresses, or bytes.
fn flexible_member(
    tree: &mut Tree,
    ctx: Ctx,
    m: &MemberSpec,
    structure: Option<StructId>,
    rest: &[u8],
    base: usize,
    depth: usize,
) {
    let entry = match (structure, m.pres.hint) {
        (Some(s), _) => ctx.family.structs[s].size,
        (None, Some(Hint::Ipv6)) => 16,
        (None, Some(Hint::Ipv4)) => 4,
        (None, _) => 0,
    };
    if rest.is_empty() || entry == 0 || depth >= MAX_DEPTH {
        let v = bytes_value(tree, rest, m.pres.hint, ctx.addr_family);
        tree.leaf(m.name, m.kind, v, base, rest.len());
        return;
    }
    let id = tree.open(m.name, m.kind, Value::None, base, rest.len());
    let mut pos = 0;
    let mut i = 0;
    while pos < rest.len() {
        let name = tree.index_name(i);
        let child = match structure {
            Some(s) => decode_struct(tree, ctx, s, name, &rest[pos..], base + pos, depth + 1),
            None => {
                let b = &rest[pos..(pos + entry).min(rest.len())];
                let v = bytes_value(tree, b, m.pres.hint, ctx.addr_family);
                tree.leaf(name, "binary", v, base + pos, b.len())
            }
        };
        // A struct entry ends where its members end; one with a flexible member takes the rest.
        pos += tree.node(child).length().max(1);
        i += 1;
    }
    tree.close(id);
}

/// Records of a struct whose first member is the record's length, each followed by attributes
/// (RTA_MULTIPATH: `struct rtnexthop` and the next hop's own route attributes).
fn decode_records(tree: &mut Tree, ctx: Ctx, sid: StructId, set: SetId, p: &[u8], pbase: usize, depth: usize) {
    let def = &ctx.family.structs[sid];
    let len_width = def.members.first().map(|m| m.size(&ctx.family.structs)).unwrap_or(0);
    let mut pos = 0;
    let mut i = 0;
    while pos < p.len() {
        let rest = &p[pos..];
        let rec_len =
            if len_width > 0 && rest.len() >= len_width { read_uint(rest, 0..len_width, ctx.host) as usize } else { 0 };
        if rec_len < def.size || rec_len > rest.len() {
            let why = tree.malformed(format_args!(
                "record length {rec_len} does not fit ({} bytes left, header {})",
                rest.len(),
                def.size
            ));
            tree.problem_bytes("bad record", rest, pbase + pos, why);
            break;
        }
        let rec = &rest[..rec_len];
        let name = tree.index_name(i);
        let n = open_struct(tree, ctx, sid, name, rec, pbase + pos, depth + 1);
        let at = attr::align(def.size).min(rec.len());
        decode_attrs(tree, ctx, Some(set), &rec[at..], pbase + pos + at, depth + 1);
        tree.close(n);
        tree.node_mut(n).length = rec_len as u32;
        pos += attr::align(rec_len);
        i += 1;
    }
}

/// A `nest-type-value`: each level's attribute types carry a value (nlctrl's policy dump: policy
/// index, then attribute number); the innermost level holds attributes of `set`.
fn type_value_levels(
    tree: &mut Tree,
    ctx: Ctx,
    set: Option<SetId>,
    labels: &[&'static str],
    p: &[u8],
    pbase: usize,
    depth: usize,
) {
    if depth > MAX_DEPTH {
        let why = tree.malformed(format_args!("nesting too deep"));
        tree.problem_bytes("nested attributes", p, pbase, why);
        return;
    }
    for e in attr::attrs(p, ctx.host) {
        match e {
            Ok(e) => {
                let eoff = pbase + e.offset;
                let inner_base = eoff + attr::NLA_HDRLEN;
                // Named by the label, numbered by the attribute type: `policy-id (3)`.
                let n = tree.open(labels[0], "nest", Value::None, eoff, e.len);
                tree.node_mut(n).attr_type = Some(e.ty);
                match labels {
                    [_] => decode_attrs(tree, ctx, set, e.payload, inner_base, depth + 1),
                    [_, rest @ ..] => type_value_levels(tree, ctx, set, rest, e.payload, inner_base, depth + 1),
                    [] => unreachable!("at least one label"),
                }
                tree.close(n);
            }
            Err(err) => bad_attribute(tree, p, pbase, err),
        }
    }
}

/// The bytes from a bad attribute header to the end of its parent: nothing after a lying length
/// can be trusted.
fn bad_attribute(tree: &mut Tree, data: &[u8], base: usize, e: attr::AttrError) {
    let why = tree.malformed(format_args!("{}", e.reason));
    tree.problem_bytes("bad attribute", &data[e.offset..], base + e.offset, why);
}

/// Decodes `data` as attributes of `set` (or generically, if `None`).
pub fn decode_attrs(tree: &mut Tree, ctx: Ctx, set: Option<SetId>, data: &[u8], base: usize, depth: usize) {
    if depth > MAX_DEPTH {
        let why = tree.malformed(format_args!("nesting deeper than {MAX_DEPTH} levels is not followed"));
        tree.problem_bytes("nested attributes", data, base, why);
        return;
    }
    for a in attr::attrs(data, ctx.host) {
        match a {
            Ok(a) => decode_attr(tree, ctx, set, &a, data, base, depth),
            Err(e) => bad_attribute(tree, data, base, e),
        }
    }
}

/// Decodes attributes no spec describes: numbers and bytes, and children where the NESTED flag
/// says so. Every node is marked unknown.
pub fn decode_generic_attrs(tree: &mut Tree, data: &[u8], base: usize, host: Endianness, depth: usize) {
    for a in attr::attrs(data, host) {
        match a {
            Ok(a) => generic_attr(tree, &a, base, host, depth),
            Err(e) => bad_attribute(tree, data, base, e),
        }
    }
}

fn generic_attr(tree: &mut Tree, a: &RawAttr, base: usize, host: Endianness, depth: usize) {
    let offset = base + a.offset;
    let payload_base = offset + attr::NLA_HDRLEN;
    let id = if a.nested && depth < MAX_DEPTH && attr::looks_like_attrs(a.payload, host) {
        let id = tree.open("attr", "nest", Value::None, offset, a.len);
        decode_generic_attrs(tree, a.payload, payload_base, host, depth + 1);
        tree.close(id);
        id
    } else {
        let v = Value::Bytes(tree.bytes(a.payload));
        tree.leaf("attr", "bytes", v, offset, a.len)
    };
    let n = tree.node_mut(id);
    n.attr_type = Some(a.ty);
    n.problem = Some(Problem::Unknown);
}

/// The values a sub-message selector takes: from a sibling attribute (its string, or its number
/// and enum name) or else from a field of the message's fixed header. `siblings` are the bytes of
/// the attributes the sub-message attribute is one of.
fn selector_values(
    ctx: Ctx,
    set: Option<&AttrSet>,
    header: Option<(StructId, &[u8])>,
    selector: &str,
    siblings: &[u8],
) -> Vec<String> {
    let named = |raw: u64, pres: &Presentation| {
        let mut v = vec![raw.to_string()];
        if let Some(name) = pres.enumeration.and_then(|e| ctx.family.enums[e].spec_name_of(raw)) {
            v.push(name.to_string());
        }
        v
    };
    if let Some((set, ty)) = set.and_then(|s| Some((s, s.type_of(selector)?))) {
        let spec = set.get(ty).expect("type_of found it");
        let Some(raw) = attr::attrs(siblings, ctx.host).flatten().find(|r| r.ty == ty) else { return Vec::new() };
        return match &spec.ty {
            AttrType::String => {
                let end = raw.payload.iter().position(|&b| b == 0).unwrap_or(raw.payload.len());
                vec![String::from_utf8_lossy(&raw.payload[..end]).into_owned()]
            }
            AttrType::Scalar(s) if s.width().is_none_or(|w| w == raw.payload.len()) && raw.payload.len() <= 8 => {
                let endian = if raw.net_byteorder { Endianness::Big } else { order(spec.pres.order, ctx.host) };
                named(read_uint(raw.payload, 0..raw.payload.len(), endian), &spec.pres)
            }
            _ => Vec::new(),
        };
    }
    let Some((sid, bytes)) = header else { return Vec::new() };
    let field = selector.replace('-', "_");
    let mut pos = 0;
    for m in &ctx.family.structs[sid].members {
        let size = m.size(&ctx.family.structs);
        if m.name == field {
            return match (&m.ty, bytes.get(pos..pos + size)) {
                (MemberType::Scalar(_), Some(b)) => {
                    named(read_uint(b, 0..size, order(m.pres.order, ctx.host)), &m.pres)
                }
                _ => Vec::new(),
            };
        }
        pos += size;
    }
    Vec::new()
}

fn decode_attr(tree: &mut Tree, ctx: Ctx, set: Option<SetId>, a: &RawAttr, siblings: &[u8], base: usize, depth: usize) {
    let spec = set.and_then(|s| ctx.family.sets[s].get(a.ty));
    let Some(spec) = spec else {
        return generic_attr(tree, a, base, ctx.host, depth);
    };
    let offset = base + a.offset;
    let id = decode_attr_payload(tree, ctx, spec, set, a, siblings, offset + attr::NLA_HDRLEN, depth);
    let n = tree.node_mut(id);
    n.offset = offset as u32;
    n.length = a.len as u32;
    n.attr_type = Some(a.ty);
    // Named and typed as the spec says: the spec's text fits (a sub-message shows as a nest).
    if n.name == Text::Static(spec.name) {
        if n.kind == Text::Static(spec.kind) {
            tree.set_known(id, spec.line);
        } else if let Some(nest) = spec.line_as_nest.filter(|_| n.kind == Text::Static("nest")) {
            tree.set_known(id, nest);
        }
    }
}

/// Decodes an attribute's payload into one node (with its children); the node's span is fixed up
/// by the caller.
#[allow(clippy::too_many_arguments)]
fn decode_attr_payload(
    tree: &mut Tree,
    ctx: Ctx,
    spec: &AttrSpec,
    set: Option<SetId>,
    a: &RawAttr,
    siblings: &[u8],
    pbase: usize,
    depth: usize,
) -> NodeId {
    let p = a.payload;
    let wrong_len = |tree: &mut Tree, expected: std::fmt::Arguments| {
        let v = Value::Bytes(tree.bytes(p));
        let id = tree.leaf(spec.name, spec.kind, v, 0, 0);
        let why = tree.malformed(format_args!("{} needs {expected}, has {} bytes", spec.kind, p.len()));
        tree.set_problem(id, why);
        id
    };
    match &spec.ty {
        AttrType::Unused | AttrType::Pad => {
            let v = Value::Bytes(tree.bytes(p));
            tree.leaf(spec.name, spec.kind, v, 0, 0)
        }
        AttrType::Flag if p.is_empty() => tree.leaf(spec.name, spec.kind, Value::Flag, 0, 0),
        // Some kernel code puts a flag attribute with a u8 (IFLA_VXLAN_TTL_INHERIT in 6.1): show
        // the number, it is what the kernel sent.
        AttrType::Flag if p.len() <= 8 => {
            tree.leaf(spec.name, spec.kind, Value::Unsigned(read_uint(p, 0..p.len(), ctx.host)), 0, 0)
        }
        AttrType::Flag => wrong_len(tree, format_args!("0 bytes")),
        AttrType::String => {
            let v = string_value(tree, p);
            tree.leaf(spec.name, spec.kind, v, 0, 0)
        }
        AttrType::Scalar(s) => match s.width() {
            Some(w) if w == p.len() => {
                tree.leaf(spec.name, spec.kind, scalar_value(ctx, p, *s, &spec.pres, a.net_byteorder), 0, 0)
            }
            None if p.len() == 4 || p.len() == 8 => {
                tree.leaf(spec.name, spec.kind, scalar_value(ctx, p, *s, &spec.pres, a.net_byteorder), 0, 0)
            }
            Some(w) => wrong_len(tree, format_args!("{w} bytes")),
            None => wrong_len(tree, format_args!("4 or 8 bytes")),
        },
        AttrType::Binary { structure: Some(sid), struct_array: true, then: Some(set), .. } => {
            let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
            decode_records(tree, ctx, *sid, *set, p, pbase, depth);
            tree.close(id);
            id
        }
        AttrType::Binary { structure: Some(sid), struct_array: true, .. } => {
            let size = ctx.family.structs[*sid].size.max(1);
            let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
            let mut last = None;
            for (i, c) in p.chunks(size).enumerate() {
                let name = tree.index_name(i);
                last = Some(decode_struct(tree, ctx, *sid, name, c, pbase + i * size, depth + 1));
            }
            if let Some(last) = last.filter(|_| !p.len().is_multiple_of(size)) {
                let why =
                    tree.truncated(format_args!("{} bytes is not a whole number of {size}-byte entries", p.len()));
                tree.set_problem(last, why);
            }
            tree.close(id);
            id
        }
        AttrType::Binary { structure: Some(sid), then, .. } => {
            let id = open_struct(tree, ctx, *sid, Text::Static(spec.name), p, pbase, depth + 1);
            let used = tree.node(id).length();
            if used < p.len() {
                match then {
                    Some(set) => {
                        let at = attr::align(used).min(p.len());
                        decode_attrs(tree, ctx, Some(*set), &p[at..], pbase + at, depth + 1);
                    }
                    None => {
                        tree.problem_bytes("trailing bytes", &p[used..], pbase + used, Problem::Unknown);
                    }
                }
            }
            tree.close(id);
            tree.node_mut(id).kind = Text::Static(spec.kind);
            id
        }
        AttrType::Binary { sub_type: Some(s), .. } => match s.width() {
            Some(w) if p.len().is_multiple_of(w) => {
                let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
                for (i, c) in p.chunks(w).enumerate() {
                    let name = tree.index_name(i);
                    tree.leaf(name, s.name(), scalar_value(ctx, c, *s, &spec.pres, false), pbase + i * w, w);
                }
                tree.close(id);
                id
            }
            _ => wrong_len(tree, format_args!("a whole number of elements")),
        },
        AttrType::Binary { .. } => {
            let v = bytes_value(tree, p, spec.pres.hint, ctx.addr_family);
            tree.leaf(spec.name, spec.kind, v, 0, 0)
        }
        AttrType::Bitfield32 if p.len() == 8 => {
            let pres = spec.pres;
            let value = scalar_value(ctx, &p[0..4], Scalar::U32, &pres, a.net_byteorder);
            let selector = scalar_value(ctx, &p[4..8], Scalar::U32, &pres, a.net_byteorder);
            let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
            tree.leaf("value", "u32", value, pbase, 4);
            tree.leaf("selector", "u32", selector, pbase + 4, 4);
            tree.close(id);
            id
        }
        AttrType::Bitfield32 => wrong_len(tree, format_args!("8 bytes")),
        AttrType::Nest(inner) => {
            let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
            decode_attrs(tree, ctx, *inner, p, pbase, depth + 1);
            tree.close(id);
            id
        }
        AttrType::IndexedArray { sub_type } => {
            let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
            for e in attr::attrs(p, ctx.host) {
                match e {
                    Ok(e) => {
                        let eoff = pbase + e.offset;
                        let ebase = eoff + attr::NLA_HDRLEN;
                        let name = tree.index_name(usize::from(e.ty));
                        let n = match sub_type.as_ref() {
                            AttrType::Nest(s) => {
                                let n = tree.open(name, "nest", Value::None, 0, 0);
                                decode_attrs(tree, ctx, *s, e.payload, ebase, depth + 2);
                                tree.close(n);
                                n
                            }
                            AttrType::Scalar(s) if s.width().is_none_or(|w| w == e.payload.len()) => tree.leaf(
                                name,
                                s.name(),
                                scalar_value(ctx, e.payload, *s, &spec.pres, e.net_byteorder),
                                0,
                                0,
                            ),
                            AttrType::Binary { structure: Some(sid), .. } => {
                                decode_struct(tree, ctx, *sid, name, e.payload, ebase, depth + 2)
                            }
                            _ => {
                                let v = Value::Bytes(tree.bytes(e.payload));
                                tree.leaf(name, "binary", v, 0, 0)
                            }
                        };
                        // The index is in the name (`[2]`); attr_type stays unset so it is not shown twice.
                        let n = tree.node_mut(n);
                        n.offset = eoff as u32;
                        n.length = e.len as u32;
                    }
                    Err(err) => bad_attribute(tree, p, pbase, err),
                }
            }
            tree.close(id);
            id
        }
        AttrType::NestTypeValue { set: inner, type_value } => {
            let labels: &[&'static str] = if type_value.is_empty() { &["type"] } else { type_value };
            let id = tree.open(spec.name, spec.kind, Value::None, 0, 0);
            type_value_levels(tree, ctx, *inner, labels, p, pbase, depth + 1);
            tree.close(id);
            id
        }
        AttrType::SubMessage { sub_message, selector, request_selector, default } => {
            let sm = &ctx.family.sub_messages[*sub_message];
            let mut sel = selector_values(ctx, set.map(|s| &ctx.family.sets[s]), ctx.header, selector, siblings);
            if let Some(req) = ctx.request.filter(|_| sel.is_empty()) {
                let req_set = req.set.map(|s| &ctx.family.sets[s]);
                for name in request_selector {
                    sel = selector_values(ctx, req_set, req.header, name, req.attrs);
                    if !sel.is_empty() {
                        break;
                    }
                }
            }
            // Nothing says: take the spec's default, and say so.
            let assumed = match default {
                Some(d) if sel.is_empty() => {
                    sel.push(d.to_string());
                    true
                }
                _ => false,
            };
            let format = sm.formats.iter().find(|f| sel.contains(&f.value));
            let mark_assumed = |tree: &mut Tree, id: NodeId| {
                if assumed {
                    let what = if request_selector.is_empty() { "" } else { " and the request is not in the capture" };
                    let kind = tree.kind(id).to_string();
                    let kind = tree.text_fmt(format_args!(
                        "{kind}; {selector} {} assumed: the message does not say{what}",
                        sel[0]
                    ));
                    tree.node_mut(id).kind = kind;
                }
            };
            match format {
                // A struct alone (INET_DIAG_INFO's tcp_info): the attribute is that struct.
                Some(&SubMsgFormat { fixed_header: Some(h), set: None, .. }) => {
                    let id = open_struct(tree, ctx, h, Text::Static(spec.name), p, pbase, depth + 1);
                    let used = tree.node(id).length();
                    if used < p.len() {
                        tree.problem_bytes("trailing bytes", &p[used..], pbase + used, Problem::Unknown);
                    }
                    tree.close(id);
                    let kind = tree.text_fmt(format_args!("binary ({})", ctx.family.structs[h].kind));
                    tree.node_mut(id).kind = kind;
                    mark_assumed(tree, id);
                    id
                }
                Some(f) => {
                    // What the selector chose is a nest like any other to the reader.
                    let id = tree.open(spec.name, "nest", Value::None, 0, 0);
                    let mut used = 0;
                    if let Some(h) = f.fixed_header {
                        let name = Text::Static(ctx.family.structs[h].name);
                        let n = decode_struct(tree, ctx, h, name, p, pbase, depth + 1);
                        used = attr::align(tree.node(n).length()).min(p.len());
                    }
                    if f.set.is_some() {
                        decode_attrs(tree, ctx, f.set, &p[used..], pbase + used, depth + 1);
                    } else if used < p.len() {
                        tree.problem_bytes("trailing bytes", &p[used..], pbase + used, Problem::Unknown);
                    }
                    tree.close(id);
                    mark_assumed(tree, id);
                    id
                }
                // Nothing inside (`ingress` and `clsact` qdiscs have empty options): nothing unknown.
                None if p.is_empty() => tree.leaf(spec.name, spec.kind, Value::None, 0, 0),
                None => {
                    // A kind the spec does not describe: walk it generically if it is attributes.
                    let kind = match sel.first() {
                        Some(v) => {
                            tree.text_fmt(format_args!("sub-message (no format for {selector} {v:?} in {})", sm.name))
                        }
                        None if !request_selector.is_empty() && ctx.request.is_none() => tree.text_fmt(format_args!(
                            "binary (layout unknown: no {selector} attribute, and the request is not in the capture)"
                        )),
                        None => tree.text_fmt(format_args!("sub-message (selector {selector} is missing)")),
                    };
                    let id = if attr::looks_like_attrs(p, ctx.host) {
                        let id = tree.open(spec.name, kind, Value::None, 0, 0);
                        decode_generic_attrs(tree, p, pbase, ctx.host, depth + 1);
                        tree.close(id);
                        id
                    } else {
                        let v = Value::Bytes(tree.bytes(p));
                        tree.leaf(spec.name, kind, v, 0, 0)
                    };
                    tree.set_problem(id, Problem::Unknown);
                    id
                }
            }
        }
    }
}

/// The attribute set of the nest whose header is at `target` within `data`, attributes of `set`:
/// found by walking down the attributes that hold `target` as [`decode_attrs`] chooses their
/// sets (nests, indexed arrays of nests, sub-messages by their selector, structs followed by
/// attributes). NLMSGERR_ATTR_MISS_NEST points at such a nest, and the attribute the kernel says
/// is missing there (NLMSGERR_ATTR_MISS_TYPE) is numbered in its set, not the top level's.
pub fn nest_set_at(ctx: Ctx, set: SetId, data: &[u8], target: usize) -> Option<SetId> {
    let (mut set, mut data, mut target) = (set, data, target);
    for _ in 0..=MAX_DEPTH {
        let holds = |a: &RawAttr| a.offset <= target && target < a.offset + a.len.max(attr::NLA_HDRLEN);
        let a = attr::attrs(data, ctx.host).flatten().find(holds)?;
        let spec = ctx.family.sets[set].get(a.ty)?;
        let payload_at = a.offset + attr::NLA_HDRLEN;
        // Where the inner attributes start within the payload, and their set.
        let (skip, inner) = match &spec.ty {
            AttrType::Nest(inner) => (0, (*inner)?),
            AttrType::Binary { structure: Some(sid), struct_array: false, then: Some(inner), .. } => {
                (attr::align(ctx.family.structs[*sid].size), *inner)
            }
            AttrType::SubMessage { sub_message, selector, .. } => {
                let sel = selector_values(ctx, Some(&ctx.family.sets[set]), ctx.header, selector, data);
                let f = ctx.family.sub_messages[*sub_message].formats.iter().find(|f| sel.contains(&f.value))?;
                (f.fixed_header.map_or(0, |h| attr::align(ctx.family.structs[h].size)), f.set?)
            }
            AttrType::IndexedArray { sub_type } => {
                let AttrType::Nest(Some(inner)) = sub_type.as_ref() else { return None };
                // The array's entries are the nests; `target` is at one of them or inside one.
                let rel = target.checked_sub(payload_at)?;
                let e =
                    attr::attrs(a.payload, ctx.host).flatten().find(|e| e.offset <= rel && rel < e.offset + e.len)?;
                if e.offset == rel {
                    return Some(*inner);
                }
                (set, data, target) = (*inner, e.payload, rel.checked_sub(e.offset + attr::NLA_HDRLEN)?);
                continue;
            }
            _ => return None,
        };
        if a.offset == target {
            return Some(inner);
        }
        let rel = target.checked_sub(payload_at + skip)?;
        (set, data, target) = (inner, a.payload.get(skip..)?, rel);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_lose_their_nul_and_abstract_names_show_as_at() {
        let mut t = Tree::default();
        let mut text = |b: &[u8]| {
            let v = string_value(&mut t, b);
            t.value_string(&v)
        };
        assert_eq!(text(b"eth0\0\0\0"), "\"eth0\"");
        assert_eq!(text(b"\0"), "\"\"");
        assert_eq!(text(b"\0/tmp/.X11-unix/X0\0"), "\"@/tmp/.X11-unix/X0\"");
    }
}
