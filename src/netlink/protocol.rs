//! Netlink protocol (family) numbers from `<linux/netlink.h>`.

/// (number, name as in `NETLINK_<NAME>`, the same in lower case).
const PROTOCOLS: &[(u16, &str, &str)] = &[
    (0, "ROUTE", "route"),
    (1, "UNUSED", "unused"),
    (2, "USERSOCK", "usersock"),
    (3, "FIREWALL", "firewall"),
    (4, "SOCK_DIAG", "sock_diag"),
    (5, "NFLOG", "nflog"),
    (6, "XFRM", "xfrm"),
    (7, "SELINUX", "selinux"),
    (8, "ISCSI", "iscsi"),
    (9, "AUDIT", "audit"),
    (10, "FIB_LOOKUP", "fib_lookup"),
    (11, "CONNECTOR", "connector"),
    (12, "NETFILTER", "netfilter"),
    (13, "IP6_FW", "ip6_fw"),
    (14, "DNRTMSG", "dnrtmsg"),
    (15, "KOBJECT_UEVENT", "kobject_uevent"),
    (16, "GENERIC", "generic"),
    (18, "SCSITRANSPORT", "scsitransport"),
    (19, "ECRYPTFS", "ecryptfs"),
    (20, "RDMA", "rdma"),
    (21, "CRYPTO", "crypto"),
    (22, "SMC", "smc"),
];

pub const NETLINK_ROUTE: u16 = 0;
pub const NETLINK_USERSOCK: u16 = 2;
pub const NETLINK_XFRM: u16 = 6;
pub const NETLINK_AUDIT: u16 = 9;
pub const NETLINK_KOBJECT_UEVENT: u16 = 15;
pub const NETLINK_GENERIC: u16 = 16;

/// The `NETLINK_*` name without its prefix (`ROUTE`), if the number is one.
pub fn name(protocol: u16) -> Option<&'static str> {
    PROTOCOLS.iter().find(|p| p.0 == protocol).map(|p| p.1)
}

/// Every protocol's number and name.
pub fn all() -> impl Iterator<Item = (u16, &'static str)> {
    PROTOCOLS.iter().map(|p| (p.0, p.1))
}

/// The name in lower case (`route`, `sock_diag`), as JSON's `family` key gives it.
pub fn lower_name(protocol: u16) -> Option<&'static str> {
    PROTOCOLS.iter().find(|p| p.0 == protocol).map(|p| p.2)
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
