//! Display filters: which messages a headless run prints and the TUI shows (`-Y FILTER`).
//!
//! ```text
//! filter  := or
//! or      := and (("or" | "||") and)*
//! and     := unary (("and" | "&&") unary)*
//! unary   := ("not" | "!") unary | "(" filter ")" | "has" field | field [op value]
//! op      := == != < <= > >= contains matches in has
//! value   := word | "string" | "{" value ("," value)* "}"
//! field   := frame time protocol family type flags seq pid len direction genl_family cmd
//!            errno error process latency | attribute path
//! ```
//!
//! Attributes are named as the tree shows them (`IFLA_IFNAME`), by the spec's short name
//! (`ifname`, where it names one attribute in the family), by a path whose parts are ancestors in
//! order (`IFLA_LINKINFO.IFLA_INFO_KIND`, `linkinfo.kind`), optionally after a protocol or
//! generic family (`nl80211.NL80211_ATTR_SSID`). A field alone tests that it is there. A test
//! holds when any node the field names passes it; `!=` holds when none equals. Values are typed
//! by what they are compared with: numbers, strings, addresses and prefixes (`RTA_DST in
//! 10.0.0.0/8`), MACs, enum and flag names, errno names; `latency` takes a unit (`1.5ms`; ms
//! without one), `time` is seconds since the first frame. Names are checked when the filter is
//! compiled: an unknown one is an error that points at its column and suggests the closest.

mod eval;
mod lex;
mod names;
mod parse;

use std::fmt;

use crate::capture::Timestamp;
use crate::decode::Message;
use crate::session::Link;
use crate::spec::Registry;

pub use names::Names;

/// A filter that does not compile: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl FilterError {
    fn at(column: usize, message: impl Into<String>) -> Self {
        FilterError { column, message: message.into() }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for FilterError {}

/// A compiled filter.
#[derive(Debug)]
pub struct Filter {
    expr: parse::Expr,
    text: String,
}

impl Filter {
    /// Compiles `text`, checking its names against `names` (see [`Names::gather`]).
    pub fn compile(text: &str, names: &Names) -> Result<Filter, FilterError> {
        let tokens = lex::tokens(text)?;
        let expr = parse::parse(&tokens, names, text.chars().count())?;
        Ok(Filter { expr, text: text.to_string() })
    }

    /// Compiles `text` with the names of every spec in `registry`.
    pub fn compile_for(text: &str, registry: &Registry) -> Result<Filter, FilterError> {
        Filter::compile(text, &Names::gather(registry))
    }

    /// The filter as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True if the message passes. `link` is what correlation found for it, `first` the time of
    /// the first frame (`time` counts from it).
    pub fn matches(&self, msg: &Message, link: &Link, first: Timestamp) -> bool {
        eval::matches(&self.expr, &eval::Ctx { msg, link, first })
    }
}

/// Shows a filter error under the filter, with a caret at its column.
pub fn pointed(text: &str, e: &FilterError) -> String {
    format!("{text}\n{}^ {}", " ".repeat(e.column.saturating_sub(1)), e.message)
}
