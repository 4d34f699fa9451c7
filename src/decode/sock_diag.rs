//! NETLINK_SOCK_DIAG's SOCK_DIAG_BY_FAMILY: one message type whose layout depends on the socket
//! family in its first byte and on the direction (request structs to the kernel, reply structs
//! back). The layouts are data, in the `sock-diag` spec's sub-messages `sock-diag-request` and
//! `sock-diag-reply`, keyed by family; this picks one. (IPv4 addresses in the 16-byte inet_diag
//! fields are shown as IPv4 by the family rule every body gets.)

use nom::number::Endianness;

use super::decode_body;
use crate::spec::Family;
use crate::spec::decode::Ctx;
use crate::tree::Tree;

pub(super) const NETLINK_SOCK_DIAG: u16 = 4;
pub(super) const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// Decodes the body with the layout for its family and direction; false if the spec has none.
pub(super) fn decode(
    tree: &mut Tree,
    family: &Family,
    endian: Endianness,
    to_user: bool,
    body: &[u8],
    base: usize,
) -> bool {
    let Some(&sdiag_family) = body.first() else { return false };
    let wanted = if to_user { "sock-diag-reply" } else { "sock-diag-request" };
    let Some(sm) = family.sub_messages.iter().find(|s| s.name == wanted) else { return false };
    let Some(format) = sm.formats.iter().find(|f| f.value == sdiag_family.to_string()) else { return false };
    decode_body(tree, Ctx::new(family, endian), false, format.fixed_header, format.set, body, base);
    true
}
