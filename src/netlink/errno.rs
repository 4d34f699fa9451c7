//! Linux errno numbers with their names and texts, for NLMSG_ERROR and extended ACKs.

use super::errno_table::ERRNOS;

/// Every errno's number and name.
pub fn all() -> impl Iterator<Item = (u32, &'static str)> {
    ERRNOS.iter().map(|e| (e.0, e.1))
}

/// The number of an errno name (`EEXIST`).
pub fn by_name(name: &str) -> Option<u32> {
    ERRNOS.iter().find(|e| e.1 == name).map(|e| e.0)
}

/// The name (`EEXIST`) and text (`File exists`) of a positive errno value.
pub fn lookup(errno: u32) -> Option<(&'static str, &'static str)> {
    ERRNOS.binary_search_by_key(&errno, |e| e.0).ok().map(|i| (ERRNOS[i].1, ERRNOS[i].2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_and_unknown() {
        assert_eq!(super::lookup(17), Some(("EEXIST", "File exists")));
        assert_eq!(super::lookup(95), Some(("EOPNOTSUPP", "Operation not supported")));
        assert_eq!(super::lookup(524), Some(("ENOTSUPP", "Operation is not supported")));
        assert_eq!(super::lookup(9999), None);
    }
}
