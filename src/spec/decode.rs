//! The interpreter: decodes structs and attribute sets as a compiled spec describes them.
//!
//! Every function takes the bytes to decode and `base`, their offset within the frame, and
//! returns nodes with frame offsets. Nothing here fails: what does not fit the spec becomes a node
//! with a [`Problem`] and the bytes it covers, and decoding goes on with the next attribute.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use nom::number::Endianness;

use super::registry::{
    AttrSet, AttrSpec, AttrType, Family, Hint, MemberSpec, MemberType, Order, Presentation, Scalar, SetId, StructId,
};
use crate::netlink::attr::{self, RawAttr};
use crate::netlink::header::read_uint;
use crate::tree::{Node, Problem, Value};

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
}

impl<'a> Ctx<'a> {
    pub fn new(family: &'a Family, host: Endianness) -> Self {
        Ctx { family, host, header: None }
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
        return Value::Ipv4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]));
    }
    if let Some(e) = pres.enumeration {
        let def = &ctx.family.enums[e];
        if pres.as_flags {
            return flags_value(raw, def.entries.as_slice());
        }
        return match def.name_of(raw) {
            Some(name) => Value::Enum { raw, name: Some(Cow::Borrowed(name)) },
            // A handle-like field with a few named values (TC_H_ROOT) and many plain ones.
            None if pres.hint == Some(Hint::Hex) => Value::Hex(raw),
            None => Value::Enum { raw, name: None },
        };
    }
    if pres.hint == Some(Hint::Hex) {
        return Value::Hex(raw);
    }
    if s.signed() { Value::Signed(raw as i64) } else { Value::Unsigned(raw) }
}

/// A flag set named from `(mask, name)` entries.
pub fn flags_value(raw: u64, entries: &[(u64, &'static str)]) -> Value {
    let mut names = Vec::new();
    let mut left = raw;
    for &(mask, name) in entries {
        if mask != 0 && raw & mask == mask {
            names.push(Cow::Borrowed(name));
            left &= !mask;
        }
    }
    Value::Flags { raw, names, unknown_bits: left }
}

/// Bytes shown by their display hint.
fn bytes_value(bytes: &[u8], hint: Option<Hint>) -> Value {
    match (hint, bytes.len()) {
        (Some(Hint::Mac), _) if !bytes.is_empty() => Value::Mac(bytes.to_vec()),
        (Some(Hint::Ipv4 | Hint::Ipv4OrV6), 4) => Value::Ipv4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        (Some(Hint::Ipv6 | Hint::Ipv4OrV6), 16) => {
            Value::Ipv6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes).expect("16 bytes")))
        }
        (Some(Hint::Uuid), 16) => Value::Uuid(bytes.try_into().expect("16 bytes")),
        _ => Value::Bytes(bytes.to_vec()),
    }
}

const AF_INET: u64 = 2;

/// The address family a struct node names in a member of its own (`family`, `rtm_family`,
/// `idiag_family`...).
fn own_family(n: &Node) -> Option<u64> {
    n.children.iter().find(|c| c.name == "family" || c.name.ends_with("_family")).and_then(|c| c.value.as_u64())
}

/// 16-byte address fields (xfrm_address_t, inet_diag_sockid) hold an IPv4 address in their first
/// four bytes when the family is AF_INET: show it as one. The family is the nearest one named by
/// the node or an enclosing struct; `inherited` is the message header's.
pub fn narrow_ipv4(nodes: &mut [Node], inherited: Option<u64>) {
    fn any_ipv6(nodes: &[Node]) -> bool {
        nodes.iter().any(|n| matches!(n.value, Value::Ipv6(_)) || any_ipv6(&n.children))
    }
    // Most messages have no 16-byte address at all: do not look for families then.
    if any_ipv6(nodes) {
        narrow(nodes, inherited);
    }
}

fn narrow(nodes: &mut [Node], inherited: Option<u64>) {
    for n in nodes {
        let family = own_family(n).or(inherited);
        if let (Some(AF_INET), Value::Ipv6(a)) = (family, &n.value) {
            let o = a.octets();
            if o[4..].iter().all(|&b| b == 0) {
                n.value = Value::Ipv4(Ipv4Addr::new(o[0], o[1], o[2], o[3]));
            }
        }
        narrow(&mut n.children, family);
    }
}

/// A string without its terminating NUL (and anything after it). A string that starts with a NUL
/// but goes on (an abstract UNIX socket name) is shown as `ss` shows it, `@name`, not as empty.
pub fn string_value(bytes: &[u8]) -> Value {
    if bytes.first() == Some(&0) && bytes[1..].iter().any(|&b| b != 0) {
        let rest = &bytes[1..];
        let end = rest.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        return Value::Str(format!("@{}", String::from_utf8_lossy(&rest[..end])));
    }
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    Value::Str(String::from_utf8_lossy(&bytes[..end]).into_owned())
}

/// Decodes a struct from the start of `data`. Members that do not fit are left out when whole
/// (older kernels send shorter structs) and flagged when cut in the middle.
pub fn decode_struct(ctx: Ctx, sid: StructId, name: Cow<'static, str>, data: &[u8], base: usize, depth: usize) -> Node {
    let def = &ctx.family.structs[sid];
    let mut children = Vec::with_capacity(def.members.len());
    let mut pos = 0;
    for m in &def.members {
        let size = m.size(&ctx.family.structs);
        if pos + size > data.len() {
            if pos < data.len() {
                children.push(Node::problem_bytes(
                    m.name,
                    &data[pos..],
                    base + pos,
                    Problem::Truncated(format!("{} needs {size} bytes, {} left", m.name, data.len() - pos)),
                ));
                pos = data.len();
            }
            break;
        }
        let bytes = &data[pos..pos + size];
        if let MemberType::Flexible { structure } = &m.ty {
            let rest = &data[pos..];
            children.push(flexible_member(ctx, m, *structure, rest, base + pos, depth));
            pos = data.len();
            break;
        }
        let node = match &m.ty {
            MemberType::Pad(_) => {
                pos += size;
                continue;
            }
            MemberType::Scalar(s) => {
                Node::new(m.name, m.kind, scalar_value(ctx, bytes, *s, &m.pres, false), base + pos, size)
            }
            MemberType::String(_) => Node::new(m.name, m.kind, string_value(bytes), base + pos, size),
            MemberType::Binary { structure: Some(inner), .. } if depth < MAX_DEPTH => {
                decode_struct(ctx, *inner, Cow::Borrowed(m.name), bytes, base + pos, depth + 1)
            }
            MemberType::Binary { .. } | MemberType::Flexible { .. } => {
                Node::new(m.name, m.kind, bytes_value(bytes, m.pres.hint), base + pos, size)
            }
        };
        children.push(node);
        pos += size;
    }
    Node::new(name, def.kind, Value::None, base, pos).with_children(children)
}

/// A flexible array member: entries of a struct, or addresses, or bytes.
fn flexible_member(
    ctx: Ctx,
    m: &MemberSpec,
    structure: Option<StructId>,
    rest: &[u8],
    base: usize,
    depth: usize,
) -> Node {
    let node = Node::new(m.name, m.kind, Value::None, base, rest.len());
    let entry = match (structure, m.pres.hint) {
        (Some(s), _) => ctx.family.structs[s].size,
        (None, Some(Hint::Ipv6)) => 16,
        (None, Some(Hint::Ipv4)) => 4,
        (None, _) => 0,
    };
    if rest.is_empty() || entry == 0 || depth >= MAX_DEPTH {
        let mut n = node;
        n.value = bytes_value(rest, m.pres.hint);
        return n;
    }
    let mut children = Vec::with_capacity(rest.len() / entry);
    let mut pos = 0;
    while pos < rest.len() {
        let name = Cow::Owned(format!("[{}]", children.len()));
        let child = match structure {
            Some(s) => decode_struct(ctx, s, name, &rest[pos..], base + pos, depth + 1),
            None => {
                let b = &rest[pos..(pos + entry).min(rest.len())];
                Node::new(name, "binary", bytes_value(b, m.pres.hint), base + pos, b.len())
            }
        };
        // A struct entry ends where its members end; one with a flexible member takes the rest.
        pos += child.length.max(1);
        children.push(child);
    }
    node.with_children(children)
}

/// Records of a struct whose first member is the record's length, each followed by attributes
/// (RTA_MULTIPATH: `struct rtnexthop` and the next hop's own route attributes).
fn decode_records(ctx: Ctx, sid: StructId, set: SetId, p: &[u8], pbase: usize, depth: usize) -> Vec<Node> {
    let def = &ctx.family.structs[sid];
    let len_width = def.members.first().map(|m| m.size(&ctx.family.structs)).unwrap_or(0);
    let mut nodes = Vec::new();
    let mut pos = 0;
    while pos < p.len() {
        let rest = &p[pos..];
        let rec_len =
            if len_width > 0 && rest.len() >= len_width { read_uint(rest, 0..len_width, ctx.host) as usize } else { 0 };
        if rec_len < def.size || rec_len > rest.len() {
            let why = format!("record length {rec_len} does not fit ({} bytes left, header {})", rest.len(), def.size);
            nodes.push(Node::problem_bytes("bad record", rest, pbase + pos, Problem::Malformed(why)));
            break;
        }
        let rec = &rest[..rec_len];
        let mut n = decode_struct(ctx, sid, Cow::Owned(format!("[{}]", nodes.len())), rec, pbase + pos, depth + 1);
        let at = attr::align(def.size).min(rec.len());
        n.children.extend(decode_attrs(ctx, Some(set), &rec[at..], pbase + pos + at, depth + 1));
        n.length = rec_len;
        nodes.push(n);
        pos += attr::align(rec_len);
    }
    nodes
}

/// A `nest-type-value`: each level's attribute types carry a value (nlctrl's policy dump: policy
/// index, then attribute number); the innermost level holds attributes of `set`.
fn type_value_levels(
    ctx: Ctx,
    set: Option<SetId>,
    labels: &[&'static str],
    p: &[u8],
    pbase: usize,
    depth: usize,
) -> Vec<Node> {
    if depth > MAX_DEPTH {
        return vec![Node::problem_bytes("nested attributes", p, pbase, Problem::Malformed("nesting too deep".into()))];
    }
    let mut children = Vec::new();
    for e in attr::attrs(p, ctx.host) {
        match e {
            Ok(e) => {
                let eoff = pbase + e.offset;
                let inner_base = eoff + attr::NLA_HDRLEN;
                let inner = match labels {
                    [_] => decode_attrs(ctx, set, e.payload, inner_base, depth + 1),
                    [_, rest @ ..] => type_value_levels(ctx, set, rest, e.payload, inner_base, depth + 1),
                    [] => unreachable!("at least one label"),
                };
                // Named by the label, numbered by the attribute type: `policy-id (3)`.
                let mut n = Node::new(labels[0], "nest", Value::None, eoff, e.len).with_children(inner);
                n.attr_type = Some(e.ty);
                children.push(n);
            }
            Err(err) => children.push(bad_attribute(p, pbase, err)),
        }
    }
    children
}

/// The bytes from a bad attribute header to the end of its parent: nothing after a lying length
/// can be trusted.
fn bad_attribute(data: &[u8], base: usize, e: attr::AttrError) -> Node {
    Node::problem_bytes("bad attribute", &data[e.offset..], base + e.offset, Problem::Malformed(e.reason))
}

/// Decodes `data` as attributes of `set` (or generically, if `None`).
pub fn decode_attrs(ctx: Ctx, set: Option<SetId>, data: &[u8], base: usize, depth: usize) -> Vec<Node> {
    if depth > MAX_DEPTH {
        return vec![Node::problem_bytes(
            "nested attributes",
            data,
            base,
            Problem::Malformed(format!("nesting deeper than {MAX_DEPTH} levels is not followed")),
        )];
    }
    let mut raws: Vec<RawAttr> = Vec::with_capacity(data.len() / 8 + 1);
    let mut error = None;
    for a in attr::attrs(data, ctx.host) {
        match a {
            Ok(a) => raws.push(a),
            Err(e) => error = Some(e),
        }
    }
    let mut nodes = Vec::with_capacity(raws.len() + usize::from(error.is_some()));
    for a in &raws {
        nodes.push(decode_attr(ctx, set, a, &raws, base, depth));
    }
    if let Some(e) = error {
        nodes.push(bad_attribute(data, base, e));
    }
    nodes
}

/// Decodes attributes no spec describes: numbers and bytes, and children where the NESTED flag
/// says so. Every node is marked unknown.
pub fn decode_generic_attrs(data: &[u8], base: usize, host: Endianness, depth: usize) -> Vec<Node> {
    let mut nodes = Vec::new();
    for a in attr::attrs(data, host) {
        match a {
            Ok(a) => nodes.push(generic_attr(&a, base, host, depth)),
            Err(e) => nodes.push(bad_attribute(data, base, e)),
        }
    }
    nodes
}

fn generic_attr(a: &RawAttr, base: usize, host: Endianness, depth: usize) -> Node {
    let offset = base + a.offset;
    let payload_base = offset + attr::NLA_HDRLEN;
    let mut node = if a.nested && depth < MAX_DEPTH && attr::looks_like_attrs(a.payload, host) {
        Node::new("attr", "nest", Value::None, offset, a.len).with_children(decode_generic_attrs(
            a.payload,
            payload_base,
            host,
            depth + 1,
        ))
    } else {
        Node::new("attr", "bytes", Value::Bytes(a.payload.to_vec()), offset, a.len)
    };
    node.attr_type = Some(a.ty);
    node.problem = Some(Problem::Unknown);
    node
}

/// The values a sub-message selector takes: from a sibling attribute (its string, or its number
/// and enum name) or else from a field of the message's fixed header.
fn selector_values(ctx: Ctx, set: Option<&AttrSet>, selector: &str, siblings: &[RawAttr]) -> Vec<String> {
    let named = |raw: u64, pres: &Presentation| {
        let mut v = vec![raw.to_string()];
        if let Some(name) = pres.enumeration.and_then(|e| ctx.family.enums[e].spec_name_of(raw)) {
            v.push(name.to_string());
        }
        v
    };
    if let Some((set, ty)) = set.and_then(|s| Some((s, s.type_of(selector)?))) {
        let spec = set.get(ty).expect("type_of found it");
        let Some(raw) = siblings.iter().find(|r| r.ty == ty) else { return Vec::new() };
        return match &spec.ty {
            AttrType::String => match string_value(raw.payload) {
                Value::Str(s) => vec![s],
                _ => Vec::new(),
            },
            AttrType::Scalar(s) if s.width().is_none_or(|w| w == raw.payload.len()) && raw.payload.len() <= 8 => {
                let endian = if raw.net_byteorder { Endianness::Big } else { order(spec.pres.order, ctx.host) };
                named(read_uint(raw.payload, 0..raw.payload.len(), endian), &spec.pres)
            }
            _ => Vec::new(),
        };
    }
    let Some((sid, bytes)) = ctx.header else { return Vec::new() };
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

fn decode_attr(ctx: Ctx, set: Option<SetId>, a: &RawAttr, siblings: &[RawAttr], base: usize, depth: usize) -> Node {
    let spec = set.and_then(|s| ctx.family.sets[s].get(a.ty));
    let Some(spec) = spec else {
        return generic_attr(a, base, ctx.host, depth);
    };
    let offset = base + a.offset;
    let mut node = decode_attr_payload(ctx, spec, set, a, siblings, offset + attr::NLA_HDRLEN, depth);
    node.offset = offset;
    node.length = a.len;
    node.attr_type = Some(a.ty);
    node
}

/// Decodes an attribute's payload; the returned node's span is fixed up by the caller.
fn decode_attr_payload(
    ctx: Ctx,
    spec: &AttrSpec,
    set: Option<SetId>,
    a: &RawAttr,
    siblings: &[RawAttr],
    pbase: usize,
    depth: usize,
) -> Node {
    let p = a.payload;
    let leaf = |value| Node::new(spec.name, spec.kind, value, 0, 0);
    let wrong_len = |expected: &str| {
        leaf(Value::Bytes(p.to_vec())).with_problem(Problem::Malformed(format!(
            "{} needs {expected}, has {} bytes",
            spec.kind,
            p.len()
        )))
    };
    match &spec.ty {
        AttrType::Unused | AttrType::Pad => leaf(Value::Bytes(p.to_vec())),
        AttrType::Flag if p.is_empty() => leaf(Value::Flag),
        // Some kernel code puts a flag attribute with a u8 (IFLA_VXLAN_TTL_INHERIT in 6.1): show
        // the number, it is what the kernel sent.
        AttrType::Flag if p.len() <= 8 => leaf(Value::Unsigned(read_uint(p, 0..p.len(), ctx.host))),
        AttrType::Flag => wrong_len("0 bytes"),
        AttrType::String => leaf(string_value(p)),
        AttrType::Scalar(s) => match s.width() {
            Some(w) if w == p.len() => leaf(scalar_value(ctx, p, *s, &spec.pres, a.net_byteorder)),
            None if p.len() == 4 || p.len() == 8 => leaf(scalar_value(ctx, p, *s, &spec.pres, a.net_byteorder)),
            Some(w) => wrong_len(&format!("{w} bytes")),
            None => wrong_len("4 or 8 bytes"),
        },
        AttrType::Binary { structure: Some(sid), struct_array: true, then: Some(set), .. } => {
            leaf(Value::None).with_children(decode_records(ctx, *sid, *set, p, pbase, depth))
        }
        AttrType::Binary { structure: Some(sid), struct_array: true, .. } => {
            let size = ctx.family.structs[*sid].size.max(1);
            let mut children: Vec<Node> = p
                .chunks(size)
                .enumerate()
                .map(|(i, c)| decode_struct(ctx, *sid, Cow::Owned(format!("[{i}]")), c, pbase + i * size, depth + 1))
                .collect();
            if let Some(last) = children.last_mut().filter(|_| !p.len().is_multiple_of(size)) {
                last.problem =
                    Some(Problem::Truncated(format!("{} bytes is not a whole number of {size}-byte entries", p.len())));
            }
            leaf(Value::None).with_children(children)
        }
        AttrType::Binary { structure: Some(sid), then, .. } => {
            let mut n = decode_struct(ctx, *sid, Cow::Borrowed(spec.name), p, pbase, depth + 1);
            let used = n.length;
            if used < p.len() {
                match then {
                    Some(set) => {
                        let at = attr::align(used).min(p.len());
                        n.children.extend(decode_attrs(ctx, Some(*set), &p[at..], pbase + at, depth + 1));
                    }
                    None => n.children.push(Node::problem_bytes(
                        "trailing bytes",
                        &p[used..],
                        pbase + used,
                        Problem::Unknown,
                    )),
                }
            }
            n.length = p.len();
            n.kind = Cow::Borrowed(spec.kind);
            n
        }
        AttrType::Binary { sub_type: Some(s), .. } => match s.width() {
            Some(w) if p.len().is_multiple_of(w) => {
                let children = p
                    .chunks(w)
                    .enumerate()
                    .map(|(i, c)| {
                        Node::new(
                            format!("[{i}]"),
                            s.name(),
                            scalar_value(ctx, c, *s, &spec.pres, false),
                            pbase + i * w,
                            w,
                        )
                    })
                    .collect();
                leaf(Value::None).with_children(children)
            }
            _ => wrong_len("a whole number of elements"),
        },
        AttrType::Binary { .. } => leaf(bytes_value(p, spec.pres.hint)),
        AttrType::Bitfield32 if p.len() == 8 => {
            let pres = spec.pres;
            let value = scalar_value(ctx, &p[0..4], Scalar::U32, &pres, a.net_byteorder);
            let selector = scalar_value(ctx, &p[4..8], Scalar::U32, &pres, a.net_byteorder);
            leaf(Value::None).with_children(vec![
                Node::new("value", "u32", value, pbase, 4),
                Node::new("selector", "u32", selector, pbase + 4, 4),
            ])
        }
        AttrType::Bitfield32 => wrong_len("8 bytes"),
        AttrType::Nest(inner) => leaf(Value::None).with_children(decode_attrs(ctx, *inner, p, pbase, depth + 1)),
        AttrType::IndexedArray { sub_type } => {
            let mut children = Vec::new();
            for e in attr::attrs(p, ctx.host) {
                match e {
                    Ok(e) => {
                        let eoff = pbase + e.offset;
                        let ebase = eoff + attr::NLA_HDRLEN;
                        let mut n = match sub_type.as_ref() {
                            AttrType::Nest(s) => Node::new(format!("[{}]", e.ty), "nest", Value::None, 0, 0)
                                .with_children(decode_attrs(ctx, *s, e.payload, ebase, depth + 2)),
                            AttrType::Scalar(s) if s.width().is_none_or(|w| w == e.payload.len()) => Node::new(
                                format!("[{}]", e.ty),
                                s.name(),
                                scalar_value(ctx, e.payload, *s, &spec.pres, e.net_byteorder),
                                0,
                                0,
                            ),
                            AttrType::Binary { structure: Some(sid), .. } => {
                                decode_struct(ctx, *sid, Cow::Owned(format!("[{}]", e.ty)), e.payload, ebase, depth + 2)
                            }
                            _ => Node::new(format!("[{}]", e.ty), "binary", Value::Bytes(e.payload.to_vec()), 0, 0),
                        };
                        // The index is in the name (`[2]`); attr_type stays unset so it is not shown twice.
                        n.offset = eoff;
                        n.length = e.len;
                        children.push(n);
                    }
                    Err(err) => children.push(bad_attribute(p, pbase, err)),
                }
            }
            leaf(Value::None).with_children(children)
        }
        AttrType::NestTypeValue { set: inner, type_value } => {
            let labels: &[&'static str] = if type_value.is_empty() { &["type"] } else { type_value };
            leaf(Value::None).with_children(type_value_levels(ctx, *inner, labels, p, pbase, depth + 1))
        }
        AttrType::SubMessage { sub_message, selector } => {
            let sm = &ctx.family.sub_messages[*sub_message];
            let sel = selector_values(ctx, set.map(|s| &ctx.family.sets[s]), selector, siblings);
            let format = sm.formats.iter().find(|f| sel.contains(&f.value));
            match format {
                Some(f) => {
                    let mut children = Vec::new();
                    let mut used = 0;
                    if let Some(h) = f.fixed_header {
                        let n = decode_struct(ctx, h, Cow::Borrowed(ctx.family.structs[h].name), p, pbase, depth + 1);
                        used = attr::align(n.length).min(p.len());
                        children.push(n);
                    }
                    if f.set.is_some() {
                        children.extend(decode_attrs(ctx, f.set, &p[used..], pbase + used, depth + 1));
                    } else if used < p.len() {
                        children.push(Node::problem_bytes(
                            "trailing bytes",
                            &p[used..],
                            pbase + used,
                            Problem::Unknown,
                        ));
                    }
                    // What the selector chose is a nest like any other to the reader.
                    let mut n = leaf(Value::None).with_children(children);
                    n.kind = Cow::Borrowed("nest");
                    n
                }
                // Nothing inside (`ingress` and `clsact` qdiscs have empty options): nothing unknown.
                None if p.is_empty() => leaf(Value::None),
                None => {
                    // A kind the spec does not describe: walk it generically if it is attributes.
                    let why = match sel.first() {
                        Some(v) => format!("no format for {selector} {v:?} in {}", sm.name),
                        None => format!("selector {selector} is missing"),
                    };
                    let mut n = if attr::looks_like_attrs(p, ctx.host) {
                        leaf(Value::None).with_children(decode_generic_attrs(p, pbase, ctx.host, depth + 1))
                    } else {
                        leaf(Value::Bytes(p.to_vec()))
                    };
                    n.kind = Cow::Owned(format!("sub-message ({why})"));
                    n.with_problem(Problem::Unknown)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_lose_their_nul_and_abstract_names_show_as_at() {
        assert_eq!(string_value(b"eth0\0\0\0"), Value::Str("eth0".into()));
        assert_eq!(string_value(b"\0"), Value::Str(String::new()));
        assert_eq!(string_value(b"\0/tmp/.X11-unix/X0\0"), Value::Str("@/tmp/.X11-unix/X0".into()));
    }
}
