//! Capture sources: everything that produces [`Frame`]s.

pub mod frame;
pub mod linktype;
pub mod reader;
pub mod writer;

pub use frame::{Direction, Frame, Link, Process, Timestamp};
pub use reader::{CaptureError, CaptureReader, open};

/// Anything frames come from: capture files, standard input, live sockets.
pub trait Source {
    /// Reads the next frame into `frame`, reusing its memory; `None` at the end.
    fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>>;
}

impl Source for CaptureReader {
    fn read_into(&mut self, frame: &mut Frame) -> Option<Result<(), CaptureError>> {
        CaptureReader::read_into(self, frame)
    }
}
