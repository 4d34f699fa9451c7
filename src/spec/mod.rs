//! The spec engine: YNL-format dissector specs (`dissectors/`) loaded, compiled and interpreted.

pub mod decode;
pub mod model;
pub mod registry;

pub use registry::{Family, Op, Registry, SpecError};
