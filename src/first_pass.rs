//! The first pass over a capture file, before anything is decoded: which protocols and generic
//! netlink families it holds (only their specs are compiled), the family ids nlctrl names anywhere
//! in it (messages sent before the reply that names their family are named too), and which reply
//! answers which request (a request can say where it was answered). Message headers only.
//!
//! Compiling the specs overlaps the pass: the protocols of the first frames are nearly always
//! all of them, so their specs are compiled on another core while the rest is read.

use std::collections::BTreeSet;
use std::path::Path;

use crate::capture::{self, CaptureError, Frame};
use crate::decode::{Decoder, GenlFamilies};
use crate::session::Correlator;
use crate::spec::{Registry, SpecError};

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

/// Reads `path` once. `manual` names generic netlink family ids by hand (they win over nlctrl).
pub fn scan(path: &Path, manual: &[(String, u16)]) -> Result<Scan, ScanError> {
    let no_specs = Registry::default();
    let mut scout = Decoder::new(&no_specs);
    for (name, id) in manual {
        scout.set_genl_family(*id, name);
    }
    let mut ahead = Correlator::looking_ahead();
    let mut protocols = BTreeSet::new();
    let mut reader = capture::open(path)?;
    let mut frame = Frame::empty();
    let mut look = |frame: &Frame, scout: &mut Decoder, protocols: &mut BTreeSet<u16>| {
        scout.learn_genl_families(frame);
        ahead.observe_frame(frame, |_, _| {});
        protocols.extend(frame.protocol());
    };
    // Unreadable records are skipped here; the second pass reports them in order.
    for _ in 0..EARLY_FRAMES {
        match reader.read_into(&mut frame) {
            Some(Ok(())) => look(&frame, &mut scout, &mut protocols),
            Some(Err(_)) => {}
            None => break,
        }
    }
    let early = protocols.clone();
    let (early_registry, ()) = std::thread::scope(|s| {
        let compile = s.spawn(|| {
            Registry::builtin_only(|protonum, name| match protonum {
                Some(p) => early.contains(&p),
                None => always_wanted(name),
            })
        });
        while let Some(read) = reader.read_into(&mut frame) {
            if read.is_ok() {
                look(&frame, &mut scout, &mut protocols);
            }
        }
        (compile.join().expect("the spec compiler does not panic"), ())
    });
    let mut registry = early_registry?;
    let families = scout.into_families();
    registry.add_builtin(|protonum, name| match protonum {
        Some(p) => protocols.contains(&p),
        None => always_wanted(name) || families.knows(name),
    })?;
    Ok(Scan { registry, families, ahead })
}
