//! Guessing the capturing host's byte order, which the capture file does not record.
//!
//! Every message in a frame starts with `nlmsg_len`; read in the right order the lengths chain
//! exactly through the frame, read in the wrong one they are absurd. Ties go to little-endian,
//! the order of nearly every host that runs Linux today.

use nom::number::Endianness;

use crate::netlink::attr::align;
use crate::netlink::header::{NLMSG_HDRLEN, NlMsgHdr};

/// How well the frame parses as messages in this order: (messages that fit, ends exactly).
fn score(payload: &[u8], endian: Endianness) -> (usize, bool) {
    let mut pos = 0;
    let mut fits = 0;
    while let Some(h) = NlMsgHdr::parse(&payload[pos..], endian) {
        let len = h.len as usize;
        if len < NLMSG_HDRLEN || len > payload.len() - pos {
            return (fits, false);
        }
        fits += 1;
        pos += align(len).min(payload.len() - pos);
        if pos == payload.len() {
            return (fits, true);
        }
    }
    (fits, pos == payload.len())
}

/// The byte order in which `payload` best splits into netlink messages.
pub fn guess_endianness(payload: &[u8]) -> Endianness {
    let le = score(payload, Endianness::Little);
    let be = score(payload, Endianness::Big);
    if (be.1, be.0) > (le.1, le.0) { Endianness::Big } else { Endianness::Little }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_order_whose_lengths_chain() {
        let le = [20, 0, 0, 0, 3, 0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(guess_endianness(&le), Endianness::Little);
        let be = [0, 0, 0, 20, 0, 3, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(guess_endianness(&be), Endianness::Big);
        assert_eq!(guess_endianness(&[1, 2, 3]), Endianness::Little);
    }
}
