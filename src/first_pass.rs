//! The first pass over a capture file, before anything is decoded: the generic netlink family
//! ids nlctrl names anywhere in it (messages sent before the reply that names their family are
//! named too), and which reply answers which request (a request can say where it was answered).
//! Message headers only.

use std::path::Path;

use crate::capture::{self, CaptureError, Frame};
use crate::decode::{Decoder, GenlFamilies};
use crate::session::Correlator;
use crate::spec::Registry;

/// What the first pass found.
pub struct Scan {
    pub families: GenlFamilies,
    /// Where each request was answered.
    pub ahead: Correlator,
}

/// Reads `path` once. `manual` names generic netlink family ids by hand (they win over nlctrl).
pub fn scan(path: &Path, manual: &[(String, u16)]) -> Result<Scan, CaptureError> {
    let no_specs = Registry::default();
    let mut scout = Decoder::new(&no_specs);
    for (name, id) in manual {
        scout.set_genl_family(*id, name);
    }
    let mut ahead = Correlator::looking_ahead();
    let mut reader = capture::open(path)?;
    let mut frame = Frame::empty();
    // Unreadable records are skipped here; the second pass reports them in order.
    while let Some(read) = reader.read_into(&mut frame) {
        if read.is_ok() {
            scout.learn_genl_families(&frame);
            ahead.observe_frame(&frame, |_, _| {});
        }
    }
    Ok(Scan { families: scout.into_families(), ahead })
}
