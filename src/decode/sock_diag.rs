//! NETLINK_SOCK_DIAG's SOCK_DIAG_BY_FAMILY: one message type whose layout depends on the socket
//! family in its first byte and on the direction (request structs to the kernel, reply structs
//! back). The layouts are data, in the `sock-diag` spec's sub-messages `sock-diag-request` and
//! `sock-diag-reply`, keyed by family; this picks one. (IPv4 addresses in the 16-byte inet_diag
//! fields are shown as IPv4 by the family rule every body gets.)

use super::decode_body;
use crate::spec::Family;
use crate::spec::decode::Ctx;
use crate::spec::registry::{SetId, StructId};
use crate::tree::Tree;

pub(super) const NETLINK_SOCK_DIAG: u16 = 4;
pub(super) const SOCK_DIAG_BY_FAMILY: u16 = 20;

/// The fixed header and attribute set for a body of this direction, by its family byte; None
/// if the spec has none.
pub(super) fn layout(family: &Family, to_user: bool, body: &[u8]) -> Option<(Option<StructId>, Option<SetId>)> {
    let &sdiag_family = body.first()?;
    let wanted = if to_user { "sock-diag-reply" } else { "sock-diag-request" };
    let sm = family.sub_messages.iter().find(|s| s.name == wanted)?;
    let format = sm.formats.iter().find(|f| f.value == sdiag_family.to_string())?;
    Some((format.fixed_header, format.set))
}

/// Decodes the body with the layout for its family and direction; false if the spec has none.
pub(super) fn decode(tree: &mut Tree, ctx: Ctx, to_user: bool, body: &[u8], base: usize) -> bool {
    let Some((fixed_header, set)) = layout(ctx.family, to_user, body) else { return false };
    decode_body(tree, ctx, false, fixed_header, set, body, base);
    true
}
