//! The nlmon device: finding one, creating one (nlscope's own RTM_NEWLINK of kind "nlmon") and
//! setting it up, and removing it again when nlscope made it, whatever way the run ends.

use super::conversation::{Conversation, HOST, Request, RequestError};
use crate::netlink::attr;
use crate::netlink::header::{NLM_F_CREATE, NLM_F_EXCL, NLM_F_MATCH, NLM_F_ROOT};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_GETLINK: u16 = 18;
const IFLA_IFNAME: u16 = 3;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFF_UP: u32 = 1;
const IFINFOMSG_LEN: usize = 16;

/// A network device as the kernel lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub index: i32,
    pub name: String,
    /// The link kind (`nlmon`, `veth`...), when it has one.
    pub kind: Option<String>,
    pub up: bool,
}

/// `struct ifinfomsg` for a device index, with flags and the flags that change.
fn ifinfomsg(index: i32, flags: u32, change: u32) -> [u8; IFINFOMSG_LEN] {
    let mut b = [0u8; IFINFOMSG_LEN];
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b[8..12].copy_from_slice(&flags.to_ne_bytes());
    b[12..16].copy_from_slice(&change.to_ne_bytes());
    b
}

fn text(payload: &[u8]) -> String {
    let end = payload.iter().position(|&b| b == 0).unwrap_or(payload.len());
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

/// Every network device of this network namespace.
pub fn devices() -> Result<Vec<Device>, RequestError> {
    let mut c = Conversation::open(libc::NETLINK_ROUTE)?;
    let replies = c.request(Request::new(RTM_GETLINK, NLM_F_ROOT | NLM_F_MATCH).bytes(&ifinfomsg(0, 0, 0)))?;
    let mut out = Vec::new();
    for msg in replies {
        let Some(body) = msg.get(16..) else { continue };
        if body.len() < IFINFOMSG_LEN {
            continue;
        }
        let index = i32::from_ne_bytes(body[4..8].try_into().expect("4 bytes"));
        let flags = u32::from_ne_bytes(body[8..12].try_into().expect("4 bytes"));
        let mut d = Device { index, name: String::new(), kind: None, up: flags & IFF_UP != 0 };
        for a in attr::attrs(&body[IFINFOMSG_LEN..], HOST).flatten() {
            match a.ty {
                IFLA_IFNAME => d.name = text(a.payload),
                IFLA_LINKINFO => {
                    d.kind =
                        attr::attrs(a.payload, HOST).flatten().find(|i| i.ty == IFLA_INFO_KIND).map(|i| text(i.payload))
                }
                _ => {}
            }
        }
        out.push(d);
    }
    Ok(out)
}

/// An nlmon device nlscope created, removed when dropped.
#[derive(Debug)]
pub struct OwnNlmon {
    pub device: Device,
}

impl Drop for OwnNlmon {
    fn drop(&mut self) {
        let _ = remove(self.device.index);
    }
}

/// Removes a device.
pub fn remove(index: i32) -> Result<(), RequestError> {
    let mut c = Conversation::open(libc::NETLINK_ROUTE)?;
    c.request(Request::new(RTM_DELLINK, 0).bytes(&ifinfomsg(index, 0, 0)))?;
    Ok(())
}

/// Creates the nlmon device `name` and sets it up.
pub fn create(name: &str) -> Result<OwnNlmon, RequestError> {
    let mut c = Conversation::open(libc::NETLINK_ROUTE)?;
    let new = Request::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL)
        .bytes(&ifinfomsg(0, 0, 0))
        .attr_str(IFLA_IFNAME, name)
        .begin_nest(IFLA_LINKINFO)
        .attr_str(IFLA_INFO_KIND, "nlmon")
        .end_nest();
    c.request(new)?;
    let device = devices()?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or(RequestError::Kernel { errno: -libc::ENODEV, message: Some("the new device is not listed".into()) })?;
    // Owned from here on: an error below removes it again.
    let mut own = OwnNlmon { device };
    c.request(Request::new(RTM_NEWLINK, 0).bytes(&ifinfomsg(own.device.index, IFF_UP, IFF_UP)))?;
    own.device.up = true;
    Ok(own)
}
