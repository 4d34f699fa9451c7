//! Live capture: frames from an nlmon device (AF_PACKET), or from the multicast groups of every
//! netlink family (monitor mode, where no nlmon exists), entering the same pipeline as files.
//!
//! Sources stop when asked ([`Stop`], set by Ctrl-C/SIGTERM or a deadline) and count what they
//! could not deliver ([`Counters`]: the kernel's packet drops, notifications lost to full
//! receive buffers), which the caller reports while running and at the end: never silently.

mod conversation;
pub mod genl;
pub mod monitor;
pub mod nlmon;
pub mod packet;
pub mod process;
pub(crate) mod sys;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::capture::Timestamp;

pub use conversation::RequestError;

/// Asks a live source to stop: Ctrl-C, SIGTERM, `--duration`.
#[derive(Debug, Clone, Default)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Stop {
    pub fn new(after: Option<Duration>) -> Self {
        Stop { flag: Arc::default(), deadline: after.map(|d| Instant::now() + d) }
    }

    pub fn request(&self) {
        self.flag.store(true, Ordering::SeqCst);
    }

    /// A handle the signal handler sets.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    pub fn requested(&self) -> bool {
        self.flag.load(Ordering::SeqCst) || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// What a live source has seen and missed so far.
#[derive(Debug, Default)]
pub struct Counters {
    pub frames: AtomicU64,
    /// Frames the kernel dropped because the packet socket's buffer was full.
    pub kernel_drops: AtomicU64,
    /// Times a monitor socket's buffer overflowed (ENOBUFS): notifications were lost.
    pub lost_notifications: AtomicU64,
    /// Frames cut because they were longer than the receive buffer.
    pub cut: AtomicU64,
}

impl Counters {
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }

    /// One line for the end of a run, or while running.
    pub fn report(&self) -> String {
        let mut s = format!("{} frames", Self::get(&self.frames));
        let drops = Self::get(&self.kernel_drops);
        if drops > 0 {
            s.push_str(&format!(", {drops} DROPPED by the kernel (receive buffer full)"));
        } else {
            s.push_str(", none dropped by the kernel");
        }
        let lost = Self::get(&self.lost_notifications);
        if lost > 0 {
            s.push_str(&format!(", notifications LOST {lost} times (ENOBUFS)"));
        }
        let cut = Self::get(&self.cut);
        if cut > 0 {
            s.push_str(&format!(", {cut} frames cut short"));
        }
        s
    }
}

/// The time now, for frames the kernel gives no timestamp.
fn now() -> Timestamp {
    Timestamp::from_duration(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default())
}

/// Why live capture cannot start, in words that say what to do.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error(
        "{what} needs the {capability} capability: run nlscope as root (sudo), or grant it once with \
         `sudo setcap cap_net_raw,cap_net_admin+eip {binary}`"
    )]
    Permission { what: String, capability: &'static str, binary: String },
    #[error(
        "this kernel has no nlmon device (the nlmon module is missing: try `modprobe nlmon`); \
         use --monitor to listen to every family's notifications instead"
    )]
    NoNlmon,
    #[error("there is no network device named {0} (nlscope -D lists capture sources)")]
    NoDevice(String),
    #[error("{0} is not an nlmon device, so it carries no netlink traffic (nlscope -D lists capture sources)")]
    NotNlmon(String),
    #[error("{what}: {error}")]
    Io { what: String, error: std::io::Error },
    #[error("{what}: {error}")]
    Request { what: String, error: RequestError },
}

impl LiveError {
    fn from_io(what: &str, capability: &'static str, error: std::io::Error) -> LiveError {
        if error.kind() == std::io::ErrorKind::PermissionDenied || error.raw_os_error() == Some(libc::EPERM) {
            LiveError::Permission { what: what.to_string(), capability, binary: binary() }
        } else {
            LiveError::Io { what: what.to_string(), error }
        }
    }

    fn from_request(what: &str, capability: &'static str, error: RequestError) -> LiveError {
        match error.errno().map(i32::abs) {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                LiveError::Permission { what: what.to_string(), capability, binary: binary() }
            }
            _ => LiveError::Request { what: what.to_string(), error },
        }
    }
}

fn binary() -> String {
    std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "nlscope".into())
}

/// A capture source nlscope can open: nlmon devices, and monitor mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub name: String,
    pub description: String,
}

/// What `-D` lists.
pub fn list_sources() -> Result<Vec<SourceInfo>, LiveError> {
    let devices =
        nlmon::devices().map_err(|e| LiveError::from_request("listing network devices", "CAP_NET_ADMIN", e))?;
    let mut out: Vec<SourceInfo> = devices
        .into_iter()
        .filter(|d| d.kind.as_deref() == Some("nlmon"))
        .map(|d| SourceInfo {
            description: format!("nlmon device (index {}, {})", d.index, if d.up { "up" } else { "down" }),
            name: d.name,
        })
        .collect();
    out.push(SourceInfo {
        name: "auto".into(),
        description: "an nlmon device created for the run and removed after it (needs CAP_NET_ADMIN and CAP_NET_RAW)"
            .into(),
    });
    out.push(SourceInfo {
        name: "--monitor".into(),
        description: "every family's multicast notifications (no nlmon needed; no requests or replies)".into(),
    });
    Ok(out)
}
