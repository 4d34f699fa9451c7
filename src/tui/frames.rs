//! The frames the terminal UI keeps, compactly: the bytes of every frame side by side in large
//! buffers, and a fixed-size record of the rest. A [`Frame`] of its own per record would cost
//! about 120 bytes of struct and an allocation each; kept so, a capture costs its bytes plus
//! 64 bytes a frame. Frames are handed out again as [`Frame`]s, to decode.

use rustc_hash::FxHashMap as HashMap;

use crate::capture::{Direction, Frame, Link, Process, Timestamp};

/// The size of one buffer of frame bytes. A frame that does not fit in what is left of the last
/// one starts a new one (a frame bigger than this gets a buffer of its own size).
const CHUNK: usize = 1 << 20;

/// What is kept of a frame besides its bytes.
struct Kept {
    number: u64,
    timestamp: Timestamp,
    original_len: u64,
    nsid: Option<i32>,
    /// Where the bytes are: buffer, offset in it, length.
    chunk: u32,
    offset: u32,
    len: u32,
    linktype: u32,
    /// `Link::Netlink` when `netlink`; else the reason is in `Frames::not_netlink`.
    payload_offset: u32,
    protocol: u16,
    netlink: bool,
    direction: Direction,
}

#[derive(Default)]
pub struct Frames {
    kept: Vec<Kept>,
    chunks: Vec<Vec<u8>>,
    /// Why a record is not netlink, by frame index (rare).
    not_netlink: HashMap<u32, String>,
    /// Live capture: who owns the port a frame's messages name, by frame index.
    processes: HashMap<u32, Process>,
}

impl Frames {
    pub fn len(&self) -> usize {
        self.kept.len()
    }

    /// Keeps a frame; returns its index.
    pub fn push(&mut self, frame: Frame) -> u32 {
        let f = self.kept.len() as u32;
        let len = frame.data.len();
        if self.chunks.last().is_none_or(|c| c.capacity() - c.len() < len) {
            self.chunks.push(Vec::with_capacity(CHUNK.max(len)));
        }
        let chunk = self.chunks.last_mut().expect("a buffer was just made");
        let offset = chunk.len();
        chunk.extend_from_slice(&frame.data);
        let (netlink, protocol, payload_offset) = match frame.link {
            Link::Netlink { protocol, payload_offset } => (true, protocol, payload_offset),
            Link::NotNetlink(why) => {
                self.not_netlink.insert(f, why);
                (false, 0, 0)
            }
        };
        if let Some(p) = frame.process {
            self.processes.insert(f, p);
        }
        // Offsets and lengths fit in u32: a buffer is at most one frame or CHUNK big, and a
        // captured record is at most 4 GiB (pcap's and pcapng's length fields).
        self.kept.push(Kept {
            number: frame.number,
            timestamp: frame.timestamp,
            original_len: frame.original_len as u64,
            nsid: frame.nsid,
            chunk: (self.chunks.len() - 1) as u32,
            offset: offset as u32,
            len: len as u32,
            linktype: frame.linktype,
            payload_offset: payload_offset as u32,
            protocol,
            netlink,
            direction: frame.direction,
        });
        f
    }

    /// The frame at index `f`, whole again.
    pub fn get(&self, f: u32) -> Frame {
        let k = &self.kept[f as usize];
        let link = if k.netlink {
            Link::Netlink { protocol: k.protocol, payload_offset: k.payload_offset as usize }
        } else {
            Link::NotNetlink(self.not_netlink.get(&f).cloned().unwrap_or_default())
        };
        Frame {
            number: k.number,
            timestamp: k.timestamp,
            linktype: k.linktype,
            link,
            direction: k.direction,
            data: self.bytes(f).to_vec(),
            original_len: k.original_len as usize,
            nsid: k.nsid,
            process: self.processes.get(&f).cloned(),
        }
    }

    /// The captured bytes of frame `f`, link-layer header included.
    pub fn bytes(&self, f: u32) -> &[u8] {
        let k = &self.kept[f as usize];
        let start = k.offset as usize;
        &self.chunks[k.chunk as usize][start..start + k.len as usize]
    }

    /// The number the capture gives frame `f` (1-based).
    pub fn number(&self, f: u32) -> u64 {
        self.kept[f as usize].number
    }

    pub fn timestamp(&self, f: u32) -> Timestamp {
        self.kept[f as usize].timestamp
    }

    /// Gives frame `f` the process `p` if it names none yet; true if it did so.
    pub fn lend_process(&mut self, f: u32, p: &Process) -> bool {
        if f as usize >= self.kept.len() || self.processes.contains_key(&f) {
            return false;
        }
        self.processes.insert(f, p.clone());
        true
    }

    /// The index of the frame the capture numbers `number`.
    pub fn find(&self, number: u64) -> Option<u32> {
        self.kept.binary_search_by_key(&number, |k| k.number).ok().map(|f| f as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(number: u64, data: Vec<u8>, link: Link) -> Frame {
        Frame {
            number,
            timestamp: Timestamp { secs: number as i64, nanos: 7 },
            linktype: 253,
            link,
            direction: Direction::ToKernel,
            original_len: data.len() + 3,
            data,
            nsid: Some(-1),
            process: None,
        }
    }

    #[test]
    fn frames_come_back_as_they_went_in() {
        let mut frames = Frames::default();
        let netlink = Link::Netlink { protocol: 16, payload_offset: 16 };
        let cases = [
            frame(1, vec![1; 40], netlink.clone()),
            frame(2, vec![2; CHUNK - 10], netlink.clone()),
            // Does not fit in what the first buffer has left, nor in CHUNK.
            frame(5, vec![5; CHUNK + 1], Link::NotNetlink("link type 1 is not netlink".into())),
            frame(9, Vec::new(), netlink),
        ];
        for c in &cases {
            frames.push(c.clone());
        }
        assert_eq!(frames.chunks.len(), 3);
        for (f, c) in cases.iter().enumerate() {
            let back = frames.get(f as u32);
            assert_eq!(
                (back.number, back.timestamp, back.link, back.data.as_slice(), back.original_len, back.nsid),
                (c.number, c.timestamp, c.link.clone(), c.data.as_slice(), c.original_len, c.nsid)
            );
            assert_eq!(back.direction, c.direction);
        }
        assert_eq!(frames.find(5), Some(2));
        assert_eq!(frames.find(4), None);
        assert_eq!(frames.get(2).protocol(), None);
        assert_eq!(frames.get(3).protocol(), Some(16));
        let ip = Process { pid: 42, comm: "ip".into() };
        assert!(frames.lend_process(0, &ip));
        assert!(!frames.lend_process(0, &Process::kernel()), "a frame keeps the process it has");
        assert_eq!(frames.get(0).process.map(|p| p.pid), Some(42));
    }
}
