//! Netlink attributes (`struct nlattr`): length, type with its NESTED and NET_BYTEORDER bits,
//! payload, and the 4-byte alignment between them.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::take;
use nom::number::Endianness;
use nom::number::complete::{be_u16, le_u16};

pub const NLA_HDRLEN: usize = 4;
pub const NLA_F_NESTED: u16 = 0x8000;
pub const NLA_F_NET_BYTEORDER: u16 = 0x4000;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// Rounds up to the 4-byte netlink alignment.
pub fn align(len: usize) -> usize {
    (len + 3) & !3
}

/// One attribute as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawAttr<'a> {
    /// Offset of the attribute header within the walked slice.
    pub offset: usize,
    /// `nla_len`: header plus payload, without trailing padding.
    pub len: usize,
    /// The type without its flag bits.
    pub ty: u16,
    pub nested: bool,
    pub net_byteorder: bool,
    pub payload: &'a [u8],
}

/// Why the attribute walk stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrError {
    /// Offset within the walked slice of the bytes that could not be read as an attribute.
    pub offset: usize,
    pub reason: String,
}

/// `nla_len` and `nla_type`.
fn nlattr_header(input: &[u8], big: bool) -> IResult<&[u8], (u16, u16)> {
    if big { (be_u16, be_u16).parse(input) } else { (le_u16, le_u16).parse(input) }
}

/// Iterates over the attributes in `data`. A bad attribute ends the walk with an [`AttrError`]
/// covering the rest of the bytes (nothing after a lying length can be trusted).
pub struct AttrIter<'a> {
    data: &'a [u8],
    pos: usize,
    big: bool,
    failed: bool,
}

pub fn attrs(data: &[u8], endian: Endianness) -> AttrIter<'_> {
    AttrIter { data, pos: 0, big: endian == Endianness::Big, failed: false }
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = Result<RawAttr<'a>, AttrError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let offset = self.pos;
        let fail = |it: &mut Self, reason: String| {
            it.failed = true;
            Some(Err(AttrError { offset, reason }))
        };
        let Ok((after_hdr, (len, ty))) = nlattr_header(rest, self.big) else {
            return fail(self, format!("{} stray bytes where an attribute header (4 bytes) should be", rest.len()));
        };
        let len = usize::from(len);
        if len < NLA_HDRLEN {
            return fail(self, format!("attribute length {len} is shorter than its 4-byte header"));
        }
        if len > rest.len() {
            return fail(self, format!("attribute length {len} runs past the {} bytes left in its parent", rest.len()));
        }
        let payload_res: IResult<&[u8], &[u8]> = take(len - NLA_HDRLEN)(after_hdr);
        let Ok((_, payload)) = payload_res else {
            return fail(self, "attribute payload missing".into());
        };
        self.pos += align(len).min(rest.len());
        Some(Ok(RawAttr {
            offset,
            len,
            ty: ty & NLA_TYPE_MASK,
            nested: ty & NLA_F_NESTED != 0,
            net_byteorder: ty & NLA_F_NET_BYTEORDER != 0,
            payload,
        }))
    }
}

/// True if `data` is exactly a well-formed sequence of attributes (used to guess whether opaque
/// bytes are really a nest).
pub fn looks_like_attrs(data: &[u8], endian: Endianness) -> bool {
    !data.is_empty() && data.len() >= NLA_HDRLEN && attrs(data, endian).all(|a| a.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LE: Endianness = Endianness::Little;

    #[test]
    fn walks_padded_attributes() {
        // IFLA_IFNAME "lo\0" (len 7, padded to 8), then IFLA_MTU 65536.
        let data = [7, 0, 3, 0, b'l', b'o', 0, 0, 8, 0, 4, 0, 0, 0, 1, 0];
        let v: Vec<_> = attrs(&data, LE).collect::<Result<_, _>>().unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!((v[0].ty, v[0].len, v[0].payload), (3, 7, &b"lo\0"[..]));
        assert_eq!((v[1].offset, v[1].ty, v[1].payload), (8, 4, &[0, 0, 1, 0][..]));
    }

    #[test]
    fn flag_bits_are_split_off() {
        let data = [4, 0, 0x12, 0xc0];
        let a = attrs(&data, LE).next().unwrap().unwrap();
        assert_eq!((a.ty, a.nested, a.net_byteorder), (0x12, true, true));
    }

    #[test]
    fn length_below_header_is_an_error() {
        let data = [2, 0, 1, 0, 9, 9];
        let e = attrs(&data, LE).next().unwrap().unwrap_err();
        assert_eq!(e.offset, 0);
        assert!(e.reason.contains("shorter than its 4-byte header"), "{}", e.reason);
    }

    #[test]
    fn length_beyond_parent_is_an_error_after_good_ones() {
        let data = [4, 0, 1, 0, 200, 0, 2, 0, 1, 2];
        let v: Vec<_> = attrs(&data, LE).collect();
        assert_eq!(v.len(), 2);
        assert!(v[0].is_ok());
        let e = v[1].clone().unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(e.reason.contains("runs past"), "{}", e.reason);
    }

    #[test]
    fn stray_tail_is_an_error() {
        let data = [4, 0, 1, 0, 0, 0];
        let v: Vec<_> = attrs(&data, LE).collect();
        assert!(matches!(&v[1], Err(e) if e.offset == 4 && e.reason.contains("stray")));
        assert!(!looks_like_attrs(&data, LE));
        assert!(looks_like_attrs(&data[..4], LE));
    }
}
