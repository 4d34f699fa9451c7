//! Writes frames to pcap (link type 253, the 16-byte netlink header) or pcapng (with each
//! frame's direction, when known, in `epb_flags`), through pcap-file's writers. Every frame is
//! flushed to the file as it is written, so that a `kill -9` loses at most the frame being
//! written. Long runs can write a ring of files (`-C MB -W N`, as tcpdump does).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::{DataLink, TsResolution};

use super::frame::{Direction, Frame};
use super::linktype::LINKTYPE_NETLINK;

/// The file format written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    Pcap,
    PcapNg,
}

impl WriteFormat {
    /// pcapng for `.pcapng`/`.ntar` names, pcap otherwise.
    pub fn for_path(path: &Path) -> WriteFormat {
        match path.extension().and_then(|e| e.to_str()) {
            Some("pcapng" | "ntar") => WriteFormat::PcapNg,
            _ => WriteFormat::Pcap,
        }
    }
}

/// Longest record written: what a netlink skb can hold, and more.
const SNAPLEN: u32 = 1 << 20;

/// pcapng `epb_flags` direction bits: 1 inbound (to the user socket), 2 outbound (to the kernel).
fn epb_direction(d: Direction) -> Option<u32> {
    match d {
        Direction::ToUser => Some(1),
        Direction::ToKernel => Some(2),
        Direction::Unknown => None,
    }
}

enum Inner {
    Pcap(PcapWriter<BufWriter<Box<dyn Write + Send>>>),
    PcapNg(PcapNgWriter<BufWriter<Box<dyn Write + Send>>>),
}

/// Where frames are written: one file (or standard output), or a ring of files.
pub struct CaptureWriter {
    inner: Inner,
    format: WriteFormat,
    /// Ring: the base name, the size that starts the next file, and how many files at most.
    ring: Option<(PathBuf, u64, Option<u32>)>,
    file_number: u32,
    written: u64,
    pub frames: u64,
}

fn io_err(e: pcap_file::PcapError) -> io::Error {
    match e {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

fn open_inner(out: Box<dyn Write + Send>, format: WriteFormat) -> io::Result<Inner> {
    let out = BufWriter::with_capacity(1 << 16, out);
    Ok(match format {
        WriteFormat::Pcap => {
            let header = PcapHeader {
                snaplen: SNAPLEN,
                datalink: DataLink::from(LINKTYPE_NETLINK),
                ts_resolution: TsResolution::NanoSecond,
                ..PcapHeader::default()
            };
            let mut w = PcapWriter::with_header(out, header).map_err(io_err)?;
            w.flush().map_err(io_err)?;
            Inner::Pcap(w)
        }
        WriteFormat::PcapNg => {
            let mut w = PcapNgWriter::new(out).map_err(io_err)?;
            let idb = InterfaceDescriptionBlock {
                linktype: DataLink::from(LINKTYPE_NETLINK),
                snaplen: SNAPLEN,
                options: vec![
                    InterfaceDescriptionOption::IfName("nlscope".into()),
                    InterfaceDescriptionOption::IfTsResol(9),
                ],
            };
            w.write_pcapng_block(idb).map_err(io_err)?;
            w.get_mut().flush()?;
            Inner::PcapNg(w)
        }
    })
}

/// The name of file `n` of a ring: `NAME` with the number before its extension (`x3.pcap`).
fn ring_name(base: &Path, n: u32) -> PathBuf {
    let stem = base.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}{n}"),
    };
    base.with_file_name(name)
}

impl CaptureWriter {
    /// Writes to `path` (`-` for standard output) in `format`. With `rotate_bytes`, a new file
    /// starts when one reaches that size; with `max_files` too, the oldest is overwritten.
    pub fn create(
        path: &Path,
        format: WriteFormat,
        rotate_bytes: Option<u64>,
        max_files: Option<u32>,
    ) -> io::Result<CaptureWriter> {
        let ring = rotate_bytes.map(|b| (path.to_path_buf(), b, max_files));
        let first = if ring.is_some() { ring_name(path, 0) } else { path.to_path_buf() };
        let out: Box<dyn Write + Send> =
            if path == Path::new("-") { Box::new(io::stdout()) } else { Box::new(File::create(&first)?) };
        Ok(CaptureWriter { inner: open_inner(out, format)?, format, ring, file_number: 0, written: 0, frames: 0 })
    }

    /// Writes one frame and flushes it to the file.
    pub fn write(&mut self, frame: &Frame) -> io::Result<()> {
        let ts = std::time::Duration::new(frame.timestamp.secs.max(0) as u64, frame.timestamp.nanos);
        let orig = frame.original_len as u32;
        match &mut self.inner {
            Inner::Pcap(w) => {
                w.write_packet(&PcapPacket::new(ts, orig, &frame.data)).map_err(io_err)?;
                w.flush().map_err(io_err)?;
            }
            Inner::PcapNg(w) => {
                let options = epb_direction(frame.direction).map(EnhancedPacketOption::Flags).into_iter().collect();
                // Timestamps in the interface's resolution (if_tsresol 9: nanoseconds).
                let mut epb = EnhancedPacketBlock::default();
                epb.timestamp = ts;
                epb.original_len = orig;
                epb.data = std::borrow::Cow::Borrowed(&frame.data);
                epb.options = options;
                w.write_pcapng_block(epb).map_err(io_err)?;
                w.get_mut().flush()?;
            }
        }
        self.frames += 1;
        self.written += frame.data.len() as u64 + 32;
        if let Some((base, limit, max)) = &self.ring
            && self.written >= *limit
        {
            self.file_number += 1;
            let n = match max {
                Some(m) => self.file_number % m,
                None => self.file_number,
            };
            let file = File::create(ring_name(base, n))?;
            self.inner = open_inner(Box::new(file), self.format)?;
            self.written = 0;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_files_are_numbered_before_the_extension() {
        assert_eq!(ring_name(Path::new("/tmp/x.pcap"), 3), PathBuf::from("/tmp/x3.pcap"));
        assert_eq!(ring_name(Path::new("trace"), 0), PathBuf::from("trace0"));
        assert_eq!(WriteFormat::for_path(Path::new("a.pcapng")), WriteFormat::PcapNg);
        assert_eq!(WriteFormat::for_path(Path::new("a.pcap")), WriteFormat::Pcap);
    }
}
