//! Netlink wire facts: protocol numbers, the message header and its flags, attributes, errno.

pub mod attr;
pub mod errno;
mod errno_table;
pub mod header;
pub mod protocol;
