//! The first pass over a capture file, before anything is decoded: which protocols and generic
//! netlink families it holds (only their specs are compiled), the family ids nlctrl names anywhere
//! in it (messages sent before the reply that names their family are named too), and which reply
//! answers which request (a request can say where it was answered). Message headers only.
//!
//! Only the specs a capture needs are compiled: for netlink-raw protocols, the spec files that
//! describe the message types it holds (and those echoed in its error replies). Compiling them
//! overlaps the pass: the message types of the first frames are nearly always all of them, so
//! their specs are compiled on another core while the rest is read.

use std::path::Path;

use rustc_hash::FxHashSet;

use crate::capture::{self, CaptureError, Frame};
use crate::decode::{Decoder, GenlFamilies, guess_endianness};
use crate::netlink::header::{self, NLMSG_ERROR, NLMSG_HDRLEN, NLMSG_MIN_TYPE, read_uint};
use crate::netlink::protocol::{NETLINK_GENERIC, NETLINK_KOBJECT_UEVENT};
use crate::session::Correlator;
use crate::spec::{BuiltinSpec, Registry, SpecError};

/// What the first pass found.
pub struct Scan {
    pub registry: Registry,
    pub families: GenlFamilies,
    /// Where each request was answered.
    pub ahead: Correlator,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("the built-in dissector specs do not load: {0}")]
    Specs(#[from] SpecError),
}

/// Frames read before the specs of the protocols seen so far start compiling.
const EARLY_FRAMES: usize = 256;

/// The generic netlink specs every capture may need: nlctrl itself, and the extended-ACK
/// attributes of error replies.
fn always_wanted(name: &str) -> bool {
    name == "nlctrl" || name == "netlink-ext-ack"
}

/// The protocols and netlink-raw message types a capture holds.
#[derive(Default, Clone)]
struct Seen {
    protocols: FxHashSet<u16>,
    /// (protocol, nlmsg_type) of non-control messages, and of requests echoed in errors.
    types: FxHashSet<(u16, u16)>,
    /// Protocols with at least one such type.
    typed: FxHashSet<u16>,
}

impl Seen {
    fn look(&mut self, frame: &Frame) {
        let Some(protocol) = frame.protocol() else { return };
        self.protocols.insert(protocol);
        if protocol == NETLINK_GENERIC || protocol == NETLINK_KOBJECT_UEVENT {
            return;
        }
        let payload = frame.payload();
        let endian = guess_endianness(payload);
        for (pos, hdr) in header::walk(payload, endian) {
            let ty = if hdr.ty == NLMSG_ERROR {
                // struct nlmsgerr: the error, then the request's header (its type at byte 4).
                let at = pos + NLMSG_HDRLEN + 4 + 4;
                match payload.get(at..at + 2).filter(|_| hdr.len as usize >= NLMSG_HDRLEN + 4 + 6) {
                    Some(b) => read_uint(b, 0..2, endian) as u16,
                    None => continue,
                }
            } else {
                hdr.ty
            };
            if ty >= NLMSG_MIN_TYPE {
                self.types.insert((protocol, ty));
                self.typed.insert(protocol);
            }
        }
    }

    /// Whether a built-in spec is needed. A netlink-raw spec is when its protocol is there and it
    /// describes one of the types there, or describes none (its messages are control messages:
    /// the connector), or the protocol brought control messages only (decoding them may use any
    /// of the protocol's specs).
    fn wants(&self, spec: &BuiltinSpec, families: Option<&GenlFamilies>) -> bool {
        match spec.protonum {
            Some(p) => {
                self.protocols.contains(&p)
                    && (spec.types.is_empty()
                        || !self.typed.contains(&p)
                        || spec.types.iter().any(|&t| self.types.contains(&(p, t))))
            }
            None => always_wanted(spec.name) || families.is_some_and(|f| f.knows(spec.name)),
        }
    }
}

/// Reads `path` once. `manual` names generic netlink family ids by hand (they win over nlctrl).
pub fn scan(path: &Path, manual: &[(String, u16)]) -> Result<Scan, ScanError> {
    let no_specs = Registry::default();
    let mut scout = Decoder::new(&no_specs);
    for (name, id) in manual {
        scout.set_genl_family(*id, name);
    }
    let mut ahead = Correlator::looking_ahead();
    let mut seen = Seen::default();
    let mut reader = capture::open(path)?;
    let mut frame = Frame::empty();
    let mut look = |frame: &Frame, scout: &mut Decoder, seen: &mut Seen| {
        scout.learn_genl_families(frame);
        ahead.observe_frame(frame, |_, _| {});
        seen.look(frame);
    };
    // Unreadable records are skipped here; the second pass reports them in order.
    for _ in 0..EARLY_FRAMES {
        match reader.read_into(&mut frame) {
            Some(Ok(())) => look(&frame, &mut scout, &mut seen),
            Some(Err(_)) => {}
            None => break,
        }
    }
    let early = seen.clone();
    let (early_registry, ()) = std::thread::scope(|s| {
        let compile = s.spawn(|| Registry::builtin_only(|spec| early.wants(spec, None)));
        while let Some(read) = reader.read_into(&mut frame) {
            if read.is_ok() {
                look(&frame, &mut scout, &mut seen);
            }
        }
        (compile.join().expect("the spec compiler does not panic"), ())
    });
    let mut registry = early_registry?;
    let families = scout.into_families();
    registry.add_builtin(|spec| seen.wants(spec, Some(&families)))?;
    Ok(Scan { registry, families, ahead })
}
