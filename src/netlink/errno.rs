//! Linux errno numbers with their names and texts, for NLMSG_ERROR and extended ACKs.

use super::errno_table::ERRNOS;

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
