//! Netlink protocol (family) numbers from `<linux/netlink.h>`.

/// (number, name as in `NETLINK_<NAME>`).
const PROTOCOLS: &[(u16, &str)] = &[
    (0, "ROUTE"),
    (1, "UNUSED"),
    (2, "USERSOCK"),
    (3, "FIREWALL"),
    (4, "SOCK_DIAG"),
    (5, "NFLOG"),
    (6, "XFRM"),
    (7, "SELINUX"),
    (8, "ISCSI"),
    (9, "AUDIT"),
    (10, "FIB_LOOKUP"),
    (11, "CONNECTOR"),
    (12, "NETFILTER"),
    (13, "IP6_FW"),
    (14, "DNRTMSG"),
    (15, "KOBJECT_UEVENT"),
    (16, "GENERIC"),
    (18, "SCSITRANSPORT"),
    (19, "ECRYPTFS"),
    (20, "RDMA"),
    (21, "CRYPTO"),
    (22, "SMC"),
];

pub const NETLINK_ROUTE: u16 = 0;
pub const NETLINK_USERSOCK: u16 = 2;
pub const NETLINK_AUDIT: u16 = 9;
pub const NETLINK_KOBJECT_UEVENT: u16 = 15;
pub const NETLINK_GENERIC: u16 = 16;

/// The `NETLINK_*` name without its prefix (`ROUTE`), if the number is one.
pub fn name(protocol: u16) -> Option<&'static str> {
    PROTOCOLS.iter().find(|p| p.0 == protocol).map(|p| p.1)
}

/// The number of a protocol given by name (`route`, `NETLINK_ROUTE`, `sock_diag`) or number.
pub fn by_name(s: &str) -> Option<u16> {
    if let Ok(n) = s.parse() {
        return Some(n);
    }
    let upper = s.to_ascii_uppercase();
    let bare = upper.strip_prefix("NETLINK_").unwrap_or(&upper);
    PROTOCOLS.iter().find(|p| p.1 == bare).map(|p| p.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_and_numbers() {
        assert_eq!(super::name(16), Some("GENERIC"));
        assert_eq!(super::name(17), None);
        assert_eq!(super::by_name("netlink_sock_diag"), Some(4));
        assert_eq!(super::by_name("12"), Some(12));
    }
}
