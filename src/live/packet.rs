//! Capture from an nlmon device through a packet socket bound to it: the link-layer address
//! says which netlink protocol each frame is, the kernel stamps it (nanoseconds), the receive
//! buffer is large, and the kernel's drop counter (PACKET_STATISTICS) is read as frames arrive.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::nlmon::{self, OwnNlmon};
use super::{Counters, LiveError, Stop, now, sys};
use crate::capture::{CaptureError, Direction, Frame, Source, Timestamp};

/// Receive buffer asked for: a dump of 100,000 routes arrives faster than it is decoded.
const RECEIVE_BUFFER: i32 = 256 << 20;
/// Netlink skbs reach 32 KiB (dumps), and some families send more: room for anything.
const FRAME_BUFFER: usize = 1 << 20;
/// How often the drop counter is read.
const STATS_EVERY: Duration = Duration::from_millis(500);
/// How long a wait for a frame lasts before the stop flag is looked at again.
const POLL_MS: i32 = 100;
/// ARPHRD_NETLINK.
const ARPHRD_NETLINK: u16 = 824;

/// Frames from one nlmon device.
pub struct PacketSource {
    fd: OwnedFd,
    buf: Vec<u8>,
    number: u64,
    stop: Stop,
    pub counters: Arc<Counters>,
    last_stats: Instant,
    /// The device, when nlscope created it (removed when the source is dropped).
    _own: Option<OwnNlmon>,
    pub device: String,
}

/// The name nlscope gives the nlmon device it creates.
pub const AUTO_NAME: &str = "nlscope0";

impl PacketSource {
    /// Opens `device`, or with `auto` an existing nlmon device or a new one that goes away with
    /// the source.
    pub fn open(device: &str, stop: Stop) -> Result<PacketSource, LiveError> {
        let mut own = None;
        let name = if device == "auto" {
            let devices =
                nlmon::devices().map_err(|e| LiveError::from_request("listing network devices", "CAP_NET_ADMIN", e))?;
            match devices.into_iter().find(|d| d.kind.as_deref() == Some("nlmon")) {
                Some(d) => d.name,
                None => {
                    let created = nlmon::create(AUTO_NAME).map_err(|e| match e.errno().map(i32::abs) {
                        Some(libc::EOPNOTSUPP) => LiveError::NoNlmon,
                        _ => LiveError::from_request("creating an nlmon device", "CAP_NET_ADMIN", e),
                    })?;
                    let name = created.device.name.clone();
                    own = Some(created);
                    name
                }
            }
        } else {
            // A device of another kind carries no netlink traffic: say so rather than wait.
            if let Ok(devices) = nlmon::devices()
                && let Some(d) = devices.iter().find(|d| d.name == device)
                && d.kind.as_deref() != Some("nlmon")
            {
                return Err(LiveError::NotNlmon(device.to_string()));
            }
            device.to_string()
        };
        let index = sys::interface_index(&name).ok_or_else(|| LiveError::NoDevice(name.clone()))?;
        let fd = sys::packet_socket().map_err(|e| LiveError::from_io("capturing from a device", "CAP_NET_RAW", e))?;
        sys::bind_packet(&fd, index as i32)
            .map_err(|e| LiveError::from_io("binding to the device", "CAP_NET_RAW", e))?;
        sys::grow_receive_buffer(&fd, RECEIVE_BUFFER);
        let _ = sys::set_int_option(&fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1);
        // Counters start now.
        let _ = sys::packet_statistics(&fd);
        // nlscope's own nlctrl dump, made now that the device taps this namespace, is the first
        // traffic captured: what is recorded names the generic families.
        let _ = super::genl::families();
        Ok(PacketSource {
            fd,
            buf: vec![0; FRAME_BUFFER],
            number: 0,
            stop,
            counters: Arc::default(),
            last_stats: Instant::now(),
            _own: own,
            device: name,
        })
    }

    /// Reads the kernel's drop counter into the counters (it resets on each read).
    pub fn read_statistics(&mut self) {
        if let Ok((_, drops)) = sys::packet_statistics(&self.fd) {
            self.counters.kernel_drops.fetch_add(u64::from(drops), std::sync::atomic::Ordering::Relaxed);
        }
        self.last_stats = Instant::now();
    }
}

impl Drop for PacketSource {
    fn drop(&mut self) {
        self.read_statistics();
    }
}

impl Source for PacketSource {
    fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>> {
        loop {
            if self.last_stats.elapsed() >= STATS_EVERY {
                self.read_statistics();
            }
            if self.stop.requested() {
                return None;
            }
            match sys::wait_readable(&[&self.fd], POLL_MS) {
                Ok(ready) if ready[0] => {}
                Ok(_) => continue,
                Err(e) => return Some(Err(CaptureError::Io { what: self.device.clone(), source: e })),
            }
            let got = match sys::receive(&self.fd, &mut self.buf) {
                Ok(got) => got,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(CaptureError::Io { what: self.device.clone(), source: e })),
            };
            if got.hatype != ARPHRD_NETLINK {
                continue;
            }
            if got.orig_len > got.len {
                self.counters.cut.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            self.number += 1;
            let time = got.time.map_or_else(now, |(secs, nanos)| Timestamp { secs, nanos });
            frame.fill_netlink(self.number, time, got.protocol, Direction::Unknown, &self.buf[..got.len], got.orig_len);
            self.counters.frames.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return Some(Ok(()));
        }
    }
}
