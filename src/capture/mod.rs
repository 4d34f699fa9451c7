//! Capture sources: everything that produces [`Frame`]s.

pub mod frame;
pub mod linktype;
pub mod reader;

pub use frame::{Direction, Frame, Link, Timestamp};
pub use reader::{CaptureError, CaptureReader, open};
