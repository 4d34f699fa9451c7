//! NETLINK_SOCK_DIAG's SOCK_DIAG_BY_FAMILY: one message type whose layout depends on the socket
//! family in its first byte and on the direction (request structs to the kernel, reply structs
//! back). The layouts are data, in the `sock-diag` spec's sub-messages `sock-diag-request` and
//! `sock-diag-reply`, keyed by family; this picks one.

use nom::number::Endianness;

use super::decode_body;
use crate::spec::Family;
use crate::spec::decode::Ctx;
use crate::tree::{Node, Value};

pub(super) const NETLINK_SOCK_DIAG: u16 = 4;
pub(super) const SOCK_DIAG_BY_FAMILY: u16 = 20;
const AF_INET: u8 = 2;

/// Decodes the body with the layout for its family and direction, if the spec has one.
pub(super) fn decode(
    family: &Family,
    endian: Endianness,
    to_user: bool,
    body: &[u8],
    base: usize,
) -> Option<Vec<Node>> {
    let sdiag_family = *body.first()?;
    let wanted = if to_user { "sock-diag-reply" } else { "sock-diag-request" };
    let sm = family.sub_messages.iter().find(|s| s.name == wanted)?;
    let format = sm.formats.iter().find(|f| f.value == sdiag_family.to_string())?;
    let mut nodes = decode_body(Ctx::new(family, endian), false, format.fixed_header, format.set, body, base);
    if sdiag_family == AF_INET {
        nodes.iter_mut().for_each(ipv4_in_16_bytes);
    }
    Some(nodes)
}

/// inet_diag addresses are 16 bytes; an AF_INET socket uses the first 4 and zeroes the rest.
fn ipv4_in_16_bytes(n: &mut Node) {
    if let (true, Value::Ipv6(a)) = (n.name == "idiag_src" || n.name == "idiag_dst", &n.value) {
        let o = a.octets();
        if o[4..].iter().all(|&b| b == 0) {
            n.value = Value::Ipv4(std::net::Ipv4Addr::new(o[0], o[1], o[2], o[3]));
        }
    }
    n.children.iter_mut().for_each(ipv4_in_16_bytes);
}
