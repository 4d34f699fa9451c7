//! nlscope: a netlink traffic debugger and protocol analyzer.
//!
//! Data flows one way: a capture source yields [`capture::Frame`]s, [`decode`] turns each into
//! messages with a [`tree`] of nodes (driven by the specs in `dissectors/`), and renderers in
//! [`render`] print them. Decoders never print; renderers never parse.

// Unsafe code is denied everywhere but in `live::sys`, the one module that calls the operating
// system directly (and says so with `#![allow(unsafe_code)]`).
#![deny(unsafe_code)]

pub mod capture;
pub mod decode;
pub mod filter;
pub mod first_pass;
pub mod headless;
pub mod live;
pub mod netlink;
pub mod render;
pub mod session;
pub mod spec;
pub mod tree;
pub mod tui;
