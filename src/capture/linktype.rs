//! Link-layer headers that carry netlink: LINKTYPE_NETLINK (253), Linux cooked v1 (113) and v2 (276).
//!
//! All their fields are big-endian. The netlink protocol number sits where an Ethernet type would
//! be, and the hardware type is ARPHRD_NETLINK (824).

use super::frame::Link;

pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_NETLINK: u32 = 253;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;
pub const ARPHRD_NETLINK: u16 = 824;

/// Length of the 253/113 cooked header.
pub const SLL_HEADER_LEN: usize = 16;
/// Length of the 276 cooked header.
pub const SLL2_HEADER_LEN: usize = 20;

/// Field ranges of the 16-byte header (link types 253 and 113).
mod sll {
    use std::ops::Range;
    pub const HATYPE: Range<usize> = 2..4;
    pub const PROTOCOL: Range<usize> = 14..16;
}

/// Field ranges of the 20-byte header (link type 276).
mod sll2 {
    use std::ops::Range;
    pub const PROTOCOL: Range<usize> = 0..2;
    pub const HATYPE: Range<usize> = 8..10;
}

/// The 16-byte LINKTYPE_NETLINK header before a netlink message of `protocol`, as nlmon
/// captures and nlscope's own files carry it: pkttype, ARPHRD_NETLINK, no address, protocol.
pub fn netlink_header(protocol: u16, pkttype: u16) -> [u8; SLL_HEADER_LEN] {
    let mut h = [0u8; SLL_HEADER_LEN];
    h[0..2].copy_from_slice(&pkttype.to_be_bytes());
    h[sll::HATYPE].copy_from_slice(&ARPHRD_NETLINK.to_be_bytes());
    h[sll::PROTOCOL].copy_from_slice(&protocol.to_be_bytes());
    h
}

/// True for the link types nlscope can decode.
pub fn is_netlink_linktype(linktype: u32) -> bool {
    matches!(linktype, LINKTYPE_NETLINK | LINKTYPE_LINUX_SLL | LINKTYPE_LINUX_SLL2)
}

/// A readable name for any pcap link type, for messages.
pub fn linktype_name(linktype: u32) -> String {
    let name = format!("{:?}", pcap_file::DataLink::from(linktype));
    if name.starts_with("Unknown") { format!("{linktype}") } else { format!("{linktype} ({name})") }
}

fn be16(data: &[u8], r: std::ops::Range<usize>) -> u16 {
    u16::from_be_bytes([data[r.start], data[r.start + 1]])
}

/// Reads the link-layer header of one record.
pub fn parse_link_header(linktype: u32, data: &[u8]) -> Link {
    let (len, hatype, protocol) = match linktype {
        LINKTYPE_NETLINK | LINKTYPE_LINUX_SLL => {
            if data.len() < SLL_HEADER_LEN {
                return Link::NotNetlink(format!(
                    "record of {} bytes is shorter than the {SLL_HEADER_LEN}-byte cooked header",
                    data.len()
                ));
            }
            (SLL_HEADER_LEN, be16(data, sll::HATYPE), be16(data, sll::PROTOCOL))
        }
        LINKTYPE_LINUX_SLL2 => {
            if data.len() < SLL2_HEADER_LEN {
                return Link::NotNetlink(format!(
                    "record of {} bytes is shorter than the {SLL2_HEADER_LEN}-byte cooked v2 header",
                    data.len()
                ));
            }
            (SLL2_HEADER_LEN, be16(data, sll2::HATYPE), be16(data, sll2::PROTOCOL))
        }
        other => return Link::NotNetlink(format!("link type {} is not netlink", linktype_name(other))),
    };
    // LINKTYPE_NETLINK always means netlink; the cooked types carry every kind of traffic and
    // only ARPHRD_NETLINK records are netlink.
    if linktype != LINKTYPE_NETLINK && hatype != ARPHRD_NETLINK {
        return Link::NotNetlink(format!(
            "cooked record with hardware type {hatype} (not ARPHRD_NETLINK {ARPHRD_NETLINK}): not netlink"
        ));
    }
    Link::Netlink { protocol, payload_offset: len }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netlink_header_gives_protocol() {
        let mut rec = vec![0u8; 16];
        rec[2..4].copy_from_slice(&824u16.to_be_bytes());
        rec[14..16].copy_from_slice(&16u16.to_be_bytes());
        assert_eq!(parse_link_header(253, &rec), Link::Netlink { protocol: 16, payload_offset: 16 });
        assert_eq!(parse_link_header(113, &rec), Link::Netlink { protocol: 16, payload_offset: 16 });
    }

    #[test]
    fn sll2_header_gives_protocol() {
        let mut rec = vec![0u8; 24];
        rec[0..2].copy_from_slice(&12u16.to_be_bytes());
        rec[8..10].copy_from_slice(&824u16.to_be_bytes());
        assert_eq!(parse_link_header(276, &rec), Link::Netlink { protocol: 12, payload_offset: 20 });
    }

    #[test]
    fn cooked_ethernet_is_not_netlink() {
        let mut rec = vec![0u8; 60];
        rec[2..4].copy_from_slice(&1u16.to_be_bytes());
        assert!(matches!(parse_link_header(113, &rec), Link::NotNetlink(r) if r.contains("hardware type 1")));
    }

    #[test]
    fn short_record_and_other_linktypes_are_reported() {
        assert!(matches!(parse_link_header(253, &[0; 8]), Link::NotNetlink(r) if r.contains("shorter")));
        assert!(matches!(parse_link_header(1, &[0; 64]), Link::NotNetlink(r) if r.contains("ETHERNET")));
    }
}
