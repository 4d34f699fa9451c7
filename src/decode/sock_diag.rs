//! NETLINK_SOCK_DIAG's SOCK_DIAG_BY_FAMILY: one message type whose layout depends on the socket
//! family in its first byte and on the direction (request structs to the kernel, reply structs
//! back). The layouts are data, in the `sock-diag` spec's sub-messages `sock-diag-request` and
//! `sock-diag-reply`, keyed by family; this picks one. (IPv4 addresses in the 16-byte inet_diag
//! fields are shown as IPv4 by the family rule every body gets.) One field's meaning depends on
//! the rest of the message: see [`name_sctp_association_state`].

use super::decode_body;
use crate::spec::Family;
use crate::spec::decode::Ctx;
use crate::spec::registry::{SetId, StructId};
use crate::tree::{NodeId, Text, Tree, Value};

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
    let first = tree.next_id();
    decode_body(tree, ctx, false, fixed_header, set, body, base);
    if to_user {
        name_sctp_association_state(tree, ctx.family, first);
    }
    true
}

/// sctp_diag answers with one inet_diag_msg per SCTP endpoint and per association. An endpoint's
/// idiag_state is a TCP state (TCP_LISTEN, TCP_CLOSE...), but an association's is its enum
/// sctp_state (net/sctp/diag.c: `r->idiag_state = asoc->state`), whose 3 is ESTABLISHED, not
/// TCP_SYN_RECV. Only associations carry INET_DIAG_PEERS: in a reply that has it, idiag_state is
/// named from the spec's `sctp-state` enum instead.
fn name_sctp_association_state(tree: &mut Tree, family: &Family, first: NodeId) {
    let end = tree.next_id();
    if !tree.roots_from(first).any(|id| tree.name(id) == "INET_DIAG_PEERS") {
        return;
    }
    let Some(state) = tree.find_in(first..end, "idiag_state") else { return };
    let Some(sctp) = family.enums.iter().find(|e| e.name == "sctp-state") else { return };
    if let Value::Enum { raw, .. } = tree.node(state).value {
        tree.node_mut(state).value = Value::Enum { raw, name: sctp.name_of(raw).map(Text::Static) };
    }
}
