//! Renderers: text (summary lines and trees), hex dumps, JSON Lines. They read decoded messages
//! and never parse bytes.

pub mod hex;
pub mod json;
pub mod stats;
pub mod summary;
pub mod text;
