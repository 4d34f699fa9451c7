//! The running kernel's generic netlink families: ids, names and multicast groups, from an
//! nlctrl dump (CTRL_CMD_GETFAMILY). Live capture names ids with them from the first frame, and
//! monitor mode joins the groups.

use super::conversation::{Conversation, Datagram, HOST, Request, RequestError};
use crate::netlink::attr;
use crate::netlink::header::{NLM_F_MATCH, NLM_F_ROOT, NLMSG_HDRLEN};

const GENL_ID_CTRL: u16 = 0x10;
const CTRL_CMD_GETFAMILY: u8 = 3;
const CTRL_ATTR_FAMILY_ID: u16 = 1;
const CTRL_ATTR_FAMILY_NAME: u16 = 2;
const CTRL_ATTR_MCAST_GROUPS: u16 = 7;
const CTRL_ATTR_MCAST_GRP_NAME: u16 = 1;
const CTRL_ATTR_MCAST_GRP_ID: u16 = 2;
const GENL_HDRLEN: usize = 4;

/// One generic netlink family as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    pub id: u16,
    pub name: String,
    /// (group name, group id).
    pub groups: Vec<(String, u32)>,
}

fn text(p: &[u8]) -> String {
    let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
    String::from_utf8_lossy(&p[..end]).into_owned()
}

/// A family from the attributes of an nlctrl NEWFAMILY message (after its genlmsghdr).
pub fn parse_family(attrs: &[u8]) -> Option<Family> {
    let mut f = Family { id: 0, name: String::new(), groups: Vec::new() };
    for a in attr::attrs(attrs, HOST).flatten() {
        match a.ty {
            CTRL_ATTR_FAMILY_ID if a.payload.len() == 2 => f.id = u16::from_ne_bytes([a.payload[0], a.payload[1]]),
            CTRL_ATTR_FAMILY_NAME => f.name = text(a.payload),
            CTRL_ATTR_MCAST_GROUPS => {
                for g in attr::attrs(a.payload, HOST).flatten() {
                    let mut name = String::new();
                    let mut id = None;
                    for x in attr::attrs(g.payload, HOST).flatten() {
                        match x.ty {
                            CTRL_ATTR_MCAST_GRP_NAME => name = text(x.payload),
                            CTRL_ATTR_MCAST_GRP_ID if x.payload.len() == 4 => {
                                id = Some(u32::from_ne_bytes(x.payload.try_into().expect("4 bytes")))
                            }
                            _ => {}
                        }
                    }
                    if let Some(id) = id {
                        f.groups.push((name, id));
                    }
                }
            }
            _ => {}
        }
    }
    (f.id != 0 && !f.name.is_empty()).then_some(f)
}

/// Every generic netlink family the kernel has now.
pub fn families() -> Result<Vec<Family>, RequestError> {
    Ok(families_recorded()?.0)
}

/// [`families`], with the datagrams of the nlctrl dump that asked for them (true: sent to the
/// kernel): monitor mode records them, so that a capture file names its families.
pub fn families_recorded() -> Result<(Vec<Family>, Vec<Datagram>), RequestError> {
    let mut c = Conversation::open(libc::NETLINK_GENERIC)?;
    c.record = Some(Vec::new());
    let req = Request::new(GENL_ID_CTRL, NLM_F_ROOT | NLM_F_MATCH).bytes(&[CTRL_CMD_GETFAMILY, 1, 0, 0]);
    let replies = c.request(req)?;
    let families = replies.iter().filter_map(|m| parse_family(m.get(NLMSG_HDRLEN + GENL_HDRLEN..)?)).collect();
    Ok((families, c.record.take().unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_kernel_has_nlctrl() {
        let families = super::families().unwrap();
        let ctrl = families.iter().find(|f| f.name == "nlctrl").expect("nlctrl");
        assert_eq!(ctrl.id, 0x10);
        assert!(ctrl.groups.iter().any(|(name, _)| name == "notify"), "{ctrl:?}");
    }
}
