//! Reads pcap and pcapng captures from any byte stream (file, pipe, stdin) into [`Frame`]s.
//!
//! The format is sniffed from the magic number. Parsing is pcap-file's; buffering is ours, so that
//! memory stays bounded (one record at a time), a stream that ends early is a clear error, and a
//! record length that lies is caught before anything is allocated for it. A bad pcapng block is
//! reported and skipped (block lengths let us resynchronise); in plain pcap nothing after a broken
//! record header can be trusted, so reading stops there.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use pcap_file::pcap::PcapParser;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketOption;
use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{Endianness, PcapError};
use thiserror::Error;

use super::frame::{Direction, Frame, Link, Timestamp};
use super::linktype::{is_netlink_linktype, linktype_name, parse_link_header};

/// The largest record or block nlscope accepts; anything larger is a corrupt length field.
pub const MAX_RECORD_LEN: usize = 16 << 20;
const READ_CHUNK: usize = 256 << 10;

const PCAP_MAGICS: [[u8; 4]; 4] =
    [[0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d]];
const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const PCAPNG_SHB: u32 = 0x0A0D_0D0A;

#[derive(Debug, Error)]
pub enum CaptureError {
    #[error("cannot read {what}: {source}")]
    Io { what: String, source: io::Error },
    #[error("{what} is empty: there is no capture in it")]
    Empty { what: String },
    #[error("{what} is not a pcap or pcapng file (it starts with {start}{hint})")]
    NotACapture { what: String, start: String, hint: &'static str },
    #[error(
        "{what} has link type {linktype}, which is not netlink: nlscope reads link types 253 (NETLINK), \
         113 (LINUX_SLL) and 276 (LINUX_SLL2), as written by `tcpdump -i nlmon0`"
    )]
    NotNetlink { what: String, linktype: String },
    #[error("{what}: bad file header: {reason}")]
    BadHeader { what: String, reason: String },
    #[error(
        "{what}: the capture ends in the middle of record {record} ({have} of {need} bytes present): truncated file"
    )]
    Truncated { what: String, record: u64, have: usize, need: usize },
    #[error(
        "{what}: record {record} claims {claimed} bytes, more than the {max} a record may have: the file is corrupt \
         from here on"
    )]
    TooLarge { what: String, record: u64, claimed: u64, max: usize },
    #[error("{what}: record {record} is malformed ({reason}){skipped}")]
    BadRecord { what: String, record: u64, reason: String, skipped: &'static str },
}

enum Format {
    Pcap { parser: PcapParser, linktype: u32 },
    PcapNg { parser: PcapNgParser, seen_netlink: bool },
}

/// The byte stream with a window of buffered bytes `buf[start..end]`.
struct Input {
    what: String,
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

/// A streaming reader of frames. Iterating yields frames and per-record errors; after an error
/// from which it cannot recover it yields `None`.
pub struct CaptureReader {
    input: Input,
    done: bool,
    format: Format,
    /// Records and blocks seen so far (for error messages).
    record: u64,
    /// Frames yielded so far.
    frames: u64,
}

/// Opens a capture file, or standard input for `-`.
pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
    if path == Path::new("-") {
        return CaptureReader::new("standard input".into(), Box::new(io::stdin()));
    }
    let what = path.display().to_string();
    let file = File::open(path).map_err(|source| CaptureError::Io { what: what.clone(), source })?;
    CaptureReader::new(what, Box::new(file))
}

impl Input {
    fn avail(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Ensures at least `need` bytes are buffered, unless the stream ends first.
    fn fill(&mut self, need: usize) -> Result<(), CaptureError> {
        if self.end - self.start >= need {
            return Ok(());
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < need {
            self.buf.resize(need.max(READ_CHUNK), 0);
        }
        while self.end < need && !self.eof {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => return Err(CaptureError::Io { what: self.what.clone(), source }),
            }
        }
        Ok(())
    }

    fn header_error(&self, e: PcapError) -> CaptureError {
        let reason = match e {
            PcapError::IncompleteBuffer => "the file ends inside its header".to_string(),
            other => other.to_string(),
        };
        CaptureError::BadHeader { what: self.what.clone(), reason }
    }
}

/// The total length of the pcapng block at the start of `b`, if its header is there. Section
/// header blocks carry their own byte order; other blocks use the section's.
fn pcapng_block_len(b: &[u8], section_big_endian: bool) -> Option<usize> {
    let ty: [u8; 4] = b.get(0..4)?.try_into().ok()?;
    let len: [u8; 4] = b.get(4..8)?.try_into().ok()?;
    let big = if u32::from_be_bytes(ty) == PCAPNG_SHB {
        b.get(8..12)? == [0x1a, 0x2b, 0x3c, 0x4d]
    } else {
        section_big_endian
    };
    Some(if big { u32::from_be_bytes(len) } else { u32::from_le_bytes(len) } as usize)
}

impl CaptureReader {
    /// Reads the file header from `src`; `what` names the source in messages.
    pub fn new(what: String, src: Box<dyn Read + Send>) -> Result<Self, CaptureError> {
        let mut input = Input { what, src, buf: vec![0; READ_CHUNK], start: 0, end: 0, eof: false };
        input.fill(4)?;
        let avail = input.avail();
        if avail.is_empty() {
            return Err(CaptureError::Empty { what: input.what });
        }
        let magic: [u8; 4] = avail.get(..4).and_then(|m| m.try_into().ok()).unwrap_or([0; 4]);
        let format = if PCAP_MAGICS.contains(&magic) {
            input.fill(24)?;
            let (rem, parser) = PcapParser::new(input.avail()).map_err(|e| input.header_error(e))?;
            input.start = input.end - rem.len();
            let linktype = u32::from(parser.header().datalink);
            if !is_netlink_linktype(linktype) {
                return Err(CaptureError::NotNetlink { what: input.what, linktype: linktype_name(linktype) });
            }
            Format::Pcap { parser, linktype }
        } else if magic == PCAPNG_MAGIC {
            input.fill(12)?;
            let need = pcapng_block_len(input.avail(), false).unwrap_or(28);
            input.fill(need.min(MAX_RECORD_LEN))?;
            let (rem, parser) = PcapNgParser::new(input.avail()).map_err(|e| input.header_error(e))?;
            input.start = input.end - rem.len();
            Format::PcapNg { parser, seen_netlink: false }
        } else {
            let shown = &avail[..avail.len().min(8)];
            let start = shown.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(" ");
            let head = &avail[..avail.len().min(64)];
            let text = head.iter().all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace());
            let hint = if text { ", which looks like text" } else { "" };
            return Err(CaptureError::NotACapture { what: input.what, start: format!("bytes {start}"), hint });
        };
        Ok(CaptureReader { input, done: false, format, record: 0, frames: 0 })
    }

    /// Reads the next frame into `frame`, reusing its memory (a pass over a file that looks at
    /// frames one at a time allocates nothing per frame). `None` at the end.
    pub fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>> {
        while !self.done {
            match self.next_record(frame) {
                Ok(true) => {
                    self.frames += 1;
                    return Some(Ok(()));
                }
                Ok(false) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }

    /// Reads one record or block into `frame`: `Ok(false)` for blocks that hold no packet and
    /// at the end.
    fn next_record(&mut self, frame: &mut Frame) -> Result<bool, CaptureError> {
        let header_len = if matches!(self.format, Format::Pcap { .. }) { 16 } else { 12 };
        let fatal = |r: &mut Self, e| {
            r.done = true;
            Err(e)
        };
        if let Err(e) = self.input.fill(header_len) {
            return fatal(self, e);
        }
        if self.input.avail().is_empty() {
            self.done = true;
            return Ok(false);
        }
        self.record += 1;
        let need = match &self.format {
            Format::Pcap { parser, .. } => self.input.avail().get(8..12).map(|f| {
                let f: [u8; 4] = f.try_into().expect("4 bytes");
                let incl = match parser.header().endianness {
                    Endianness::Big => u32::from_be_bytes(f),
                    Endianness::Little => u32::from_le_bytes(f),
                };
                16 + incl as usize
            }),
            Format::PcapNg { parser, .. } => {
                pcapng_block_len(self.input.avail(), parser.section().endianness == Endianness::Big)
            }
        }
        .unwrap_or(header_len);
        let (what, record) = (self.input.what.clone(), self.record);
        if need > MAX_RECORD_LEN {
            return fatal(self, CaptureError::TooLarge { what, record, claimed: need as u64, max: MAX_RECORD_LEN });
        }
        if let Err(e) = self.input.fill(need) {
            return fatal(self, e);
        }
        let have = self.input.avail().len();
        if have < need {
            return fatal(self, CaptureError::Truncated { what, record, have, need });
        }
        let number = self.frames + 1;
        let avail = &self.input.buf[self.input.start..self.input.end];
        match &mut self.format {
            Format::Pcap { parser, linktype } => match parser.next_raw_packet(avail) {
                Ok((rem, raw)) => {
                    let used = avail.len() - rem.len();
                    let frac_nanos = match parser.header().ts_resolution {
                        pcap_file::TsResolution::MicroSecond => u64::from(raw.ts_frac) * 1000,
                        pcap_file::TsResolution::NanoSecond => u64::from(raw.ts_frac),
                    };
                    let secs = i64::from(raw.ts_sec) + (frac_nanos / 1_000_000_000) as i64;
                    let timestamp = Timestamp { secs, nanos: (frac_nanos % 1_000_000_000) as u32 };
                    fill_frame(frame, number, timestamp, *linktype, Direction::Unknown, &raw.data, raw.orig_len);
                    self.input.start += used;
                    Ok(true)
                }
                Err(e) => {
                    let reason = e.to_string();
                    fatal(
                        self,
                        CaptureError::BadRecord { what, record, reason, skipped: "; nothing after it can be read" },
                    )
                }
            },
            Format::PcapNg { parser, seen_netlink } => match parser.next_block(avail) {
                Ok((rem, block)) => {
                    let used = avail.len() - rem.len();
                    let filled = pcapng_frame(frame, parser, number, block);
                    self.input.start += used;
                    if !filled {
                        return Ok(false);
                    }
                    if frame.protocol().is_some() {
                        *seen_netlink = true;
                    } else if !*seen_netlink && !is_netlink_linktype(frame.linktype) {
                        // A capture of some other link layer altogether: say so once and stop.
                        return fatal(self, CaptureError::NotNetlink { what, linktype: linktype_name(frame.linktype) });
                    }
                    Ok(true)
                }
                Err(e) => {
                    // The block length was checked against the data: skip just this block.
                    self.input.start += need.clamp(12, have);
                    Err(CaptureError::BadRecord { what, record, reason: e.to_string(), skipped: "; block skipped" })
                }
            },
        }
    }
}

/// The frame in a pcapng packet block, into `frame`; false for blocks that carry no packet.
fn pcapng_frame(frame: &mut Frame, parser: &PcapNgParser, number: u64, block: Block<'_>) -> bool {
    let linktype_of = |id: usize| parser.interfaces().get(id).map(|i| u32::from(i.linktype)).unwrap_or(u32::MAX);
    match block {
        Block::EnhancedPacket(epb) => {
            let direction = epb
                .options
                .iter()
                .find_map(|o| match o {
                    EnhancedPacketOption::Flags(f) => Some(direction_from_epb_flags(*f)),
                    _ => None,
                })
                .unwrap_or(Direction::Unknown);
            let ts = Timestamp::from_duration(epb.timestamp);
            let linktype = linktype_of(epb.interface_id as usize);
            fill_frame(frame, number, ts, linktype, direction, &epb.data, epb.original_len);
            true
        }
        Block::SimplePacket(spb) => {
            let ts = Timestamp::default();
            fill_frame(frame, number, ts, linktype_of(0), Direction::Unknown, &spb.data, spb.original_len);
            true
        }
        Block::Packet(pb) => {
            // The obsolete packet block: timestamps in microseconds.
            let ts =
                Timestamp { secs: (pb.timestamp / 1_000_000) as i64, nanos: (pb.timestamp % 1_000_000) as u32 * 1000 };
            let linktype = linktype_of(usize::from(pb.interface_id));
            fill_frame(frame, number, ts, linktype, Direction::Unknown, &pb.data, pb.original_len);
            true
        }
        _ => false,
    }
}

impl Iterator for CaptureReader {
    type Item = Result<Frame, CaptureError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut frame = Frame::empty();
        Some(self.read_into(&mut frame)?.map(|()| frame))
    }
}

/// pcapng `epb_flags` bits 0-1: 1 = inbound (to the user socket), 2 = outbound (to the kernel).
fn direction_from_epb_flags(flags: u32) -> Direction {
    match flags & 3 {
        1 => Direction::ToUser,
        2 => Direction::ToKernel,
        _ => Direction::Unknown,
    }
}

fn fill_frame(
    frame: &mut Frame,
    number: u64,
    timestamp: Timestamp,
    linktype: u32,
    direction: Direction,
    data: &[u8],
    orig: u32,
) {
    frame.link = if linktype == u32::MAX {
        Link::NotNetlink("packet names an interface the capture never described".into())
    } else {
        parse_link_header(linktype, data)
    };
    frame.number = number;
    frame.timestamp = timestamp;
    frame.linktype = linktype;
    frame.direction = direction;
    frame.data.clear();
    frame.data.extend_from_slice(data);
    frame.original_len = (orig as usize).max(data.len());
    frame.nsid = None;
    frame.process = None;
}
