//! Hex and ASCII dump of a frame's bytes, 16 per line, like `tcpdump -X`.

use std::io::Write;

pub fn write_hex(out: &mut Vec<u8>, data: &[u8]) {
    for (i, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, "  {:04x}  ", i * 16);
        for j in 0..16 {
            match chunk.get(j) {
                Some(b) => crate::tree::write_hex_bytes(out, &[*b]),
                None => out.extend_from_slice(b"  "),
            }
            out.push(b' ');
            if j == 7 {
                out.push(b' ');
            }
        }
        out.push(b' ');
        for &b in chunk {
            out.push(if b.is_ascii_graphic() || b == b' ' { b } else { b'.' });
        }
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dumps_with_ascii() {
        let mut out = Vec::new();
        super::write_hex(&mut out, b"lo\0\x01abcdefghijklmnop");
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "  0000  6c 6f 00 01 61 62 63 64  65 66 67 68 69 6a 6b 6c  lo..abcdefghijkl\n  0010  6d 6e 6f 70                                       mnop\n"
        );
    }
}
