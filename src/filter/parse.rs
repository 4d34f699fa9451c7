//! Tokens to a checked expression: the grammar of [`super`], names resolved against [`Names`],
//! and values read into every form they could be compared as.

use std::net::IpAddr;

use regex::Regex;

use super::FilterError;
use super::lex::{Tok, Token};
use super::names::{Names, class};

#[derive(Debug)]
pub enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Test(Box<Test>),
}

/// A field, alone (it is there) or compared.
#[derive(Debug)]
pub struct Test {
    pub field: Field,
    pub cmp: Option<(Op, Rhs)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderField {
    Frame,
    Time,
    Protocol,
    Type,
    Flags,
    Seq,
    Pid,
    Len,
    Direction,
    GenlFamily,
    Cmd,
    Errno,
    Error,
    Process,
    Latency,
}

const HEADER_FIELDS: &[(&str, HeaderField)] = &[
    ("frame", HeaderField::Frame),
    ("time", HeaderField::Time),
    ("protocol", HeaderField::Protocol),
    ("family", HeaderField::Protocol),
    ("type", HeaderField::Type),
    ("flags", HeaderField::Flags),
    ("seq", HeaderField::Seq),
    ("pid", HeaderField::Pid),
    ("len", HeaderField::Len),
    ("direction", HeaderField::Direction),
    ("genl_family", HeaderField::GenlFamily),
    ("cmd", HeaderField::Cmd),
    ("errno", HeaderField::Errno),
    ("error", HeaderField::Error),
    ("process", HeaderField::Process),
    ("latency", HeaderField::Latency),
];

/// Protocols whose messages are text records with field names of their own.
const TEXT_FAMILIES: &[&str] = &["kobject_uevent", "audit"];

#[derive(Debug)]
pub enum Field {
    Header(HeaderField),
    Attr(Path),
}

/// Attribute names, each an ancestor of the next, optionally within a protocol or generic family.
#[derive(Debug)]
pub struct Path {
    pub scope: Option<String>,
    pub segs: Vec<Seg>,
}

/// One name of a path: the name the tree shows (`IFLA_IFNAME`), or a spec's short name
/// (`ifname`, in the spec's spelling: `-` for `_`), or both when a word is both.
#[derive(Debug)]
pub struct Seg {
    pub full: Option<String>,
    pub short: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Matches,
    In,
    Has,
}

#[derive(Debug)]
pub enum Rhs {
    One(Lit),
    Set(Vec<Lit>),
    Regex(Regex),
}

/// A value as written, read as everything it could be.
#[derive(Debug, Clone, Default)]
pub struct Lit {
    pub text: String,
    pub quoted: bool,
    pub int: Option<i128>,
    pub float: Option<f64>,
    pub ip: Option<IpAddr>,
    pub prefix: Option<(IpAddr, u8)>,
    pub mac: Option<Vec<u8>>,
    /// With a time unit (`1.5ms`, `200us`), in nanoseconds.
    pub nanos: Option<f64>,
}

impl Lit {
    fn read(text: &str, quoted: bool) -> Lit {
        let mut l = Lit { text: text.to_string(), quoted, ..Lit::default() };
        if quoted {
            return l;
        }
        l.int = parse_int(text);
        l.float = text.parse::<f64>().ok().filter(|f| f.is_finite());
        l.ip = text.parse().ok();
        if let Some((addr, len)) = text.split_once('/')
            && let (Ok(a), Ok(n)) = (addr.parse::<IpAddr>(), len.parse::<u8>())
            && n <= if a.is_ipv4() { 32 } else { 128 }
        {
            l.prefix = Some((a, n));
        }
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() >= 2 && parts.iter().all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit())) {
            l.mac = Some(parts.iter().map(|p| u8::from_str_radix(p, 16).expect("hex")).collect());
        }
        for (unit, scale) in [("ns", 1.0), ("us", 1e3), ("ms", 1e6), ("s", 1e9)] {
            if let Some(n) = text.strip_suffix(unit).and_then(|n| n.parse::<f64>().ok()) {
                l.nanos = Some(n * scale);
                break;
            }
        }
        l
    }

    /// True when the word is a number, an address, a MAC or a duration (not a name).
    fn is_literal(&self) -> bool {
        self.int.is_some()
            || self.float.is_some()
            || self.ip.is_some()
            || self.prefix.is_some()
            || self.mac.is_some()
            || self.nanos.is_some()
    }
}

fn parse_int(text: &str) -> Option<i128> {
    let (neg, t) = match text.strip_prefix('-') {
        Some(t) => (true, t),
        None => (false, text),
    };
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => i128::from_str_radix(h, 16).ok()?,
        None if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() => t.parse().ok()?,
        None => return None,
    };
    Some(if neg { -v } else { v })
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    names: &'a Names,
    /// Column just past the end of the filter (for "expected ... at the end").
    end: usize,
}

pub fn parse(tokens: &[Token], names: &Names, len: usize) -> Result<Expr, FilterError> {
    let mut p = Parser { tokens, pos: 0, names, end: len + 1 };
    if tokens.is_empty() {
        return Err(FilterError::at(1, "the filter is empty"));
    }
    let e = p.or()?;
    if let Some(t) = p.peek() {
        return Err(FilterError::at(
            t.column,
            format!("expected `and`, `or` or the end of the filter, found {}", t.tok.describe()),
        ));
    }
    Ok(e)
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        self.pos += 1;
        t
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end, |t| t.column)
    }

    fn found(&self) -> String {
        self.peek().map_or("the end of the filter".to_string(), |t| t.tok.describe())
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.and()?;
        while self.peek().is_some_and(|t| t.tok == Tok::Or) {
            self.pos += 1;
            e = Expr::Or(Box::new(e), Box::new(self.and()?));
        }
        Ok(e)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut e = self.unary()?;
        while self.peek().is_some_and(|t| t.tok == Tok::And) {
            self.pos += 1;
            e = Expr::And(Box::new(e), Box::new(self.unary()?));
        }
        Ok(e)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        match self.peek().map(|t| &t.tok) {
            Some(Tok::Not) => {
                self.pos += 1;
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            Some(Tok::LParen) => {
                self.pos += 1;
                let e = self.or()?;
                match self.next() {
                    Some(Token { tok: Tok::RParen, .. }) => Ok(e),
                    _ => {
                        self.pos -= 1;
                        Err(FilterError::at(self.column(), format!("expected `)`, found {}", self.found())))
                    }
                }
            }
            Some(Tok::Word(w)) if w == "has" => {
                self.pos += 1;
                let (field, _) = self.field()?;
                Ok(Expr::Test(Box::new(Test { field, cmp: None })))
            }
            Some(Tok::Word(_)) => self.test(),
            _ => Err(FilterError::at(self.column(), format!("expected a field, `not` or `(`, found {}", self.found()))),
        }
    }

    fn test(&mut self) -> Result<Expr, FilterError> {
        let field_column = self.column();
        let (field, info) = self.field()?;
        let op = match self.peek().map(|t| &t.tok) {
            Some(Tok::Eq) => Some(Op::Eq),
            Some(Tok::Ne) => Some(Op::Ne),
            Some(Tok::Lt) => Some(Op::Lt),
            Some(Tok::Le) => Some(Op::Le),
            Some(Tok::Gt) => Some(Op::Gt),
            Some(Tok::Ge) => Some(Op::Ge),
            Some(Tok::Word(w)) => match w.as_str() {
                "contains" => Some(Op::Contains),
                "matches" => Some(Op::Matches),
                "in" => Some(Op::In),
                "has" => Some(Op::Has),
                _ => None,
            },
            _ => None,
        };
        let Some(op) = op else { return Ok(Expr::Test(Box::new(Test { field, cmp: None }))) };
        self.pos += 1;
        if info.classes == class::NEST {
            return Err(FilterError::at(
                field_column,
                "this attribute holds other attributes: test it alone (it is there) or compare what is inside it",
            ));
        }
        let rhs = match op {
            Op::Matches => {
                let (text, column) = self.value_text()?;
                Rhs::Regex(
                    Regex::new(&text.text)
                        .map_err(|e| FilterError::at(column, format!("bad regular expression: {e}")))?,
                )
            }
            Op::In if self.peek().is_some_and(|t| t.tok == Tok::LBrace) => {
                self.pos += 1;
                let mut set = vec![self.value(&field, &info)?];
                loop {
                    match self.next().map(|t| t.tok.clone()) {
                        Some(Tok::Comma) => set.push(self.value(&field, &info)?),
                        Some(Tok::RBrace) => break,
                        _ => {
                            self.pos -= 1;
                            return Err(FilterError::at(
                                self.column(),
                                format!("expected `,` or `}}`, found {}", self.found()),
                            ));
                        }
                    }
                }
                Rhs::Set(set)
            }
            Op::In => {
                let column = self.column();
                let v = self.value(&field, &info)?;
                if v.prefix.is_none() {
                    return Err(FilterError::at(
                        column,
                        "`in` takes a set `{a, b}` or an address prefix such as 10.0.0.0/8",
                    ));
                }
                Rhs::One(v)
            }
            // Any text is a substring.
            Op::Contains => Rhs::One(self.value_text()?.0),
            _ => Rhs::One(self.value(&field, &info)?),
        };
        Ok(Expr::Test(Box::new(Test { field, cmp: Some((op, rhs)) })))
    }

    /// A value token's text, quoted or not, and its column.
    fn value_text(&mut self) -> Result<(Lit, usize), FilterError> {
        let column = self.column();
        match self.next().map(|t| t.tok.clone()) {
            Some(Tok::Word(w)) => Ok((Lit::read(&w, false), column)),
            Some(Tok::Str(s)) => Ok((Lit::read(&s, true), column)),
            _ => {
                self.pos -= 1;
                Err(FilterError::at(column, format!("expected a value, found {}", self.found())))
            }
        }
    }

    /// A value, checked against what the field can hold: an unquoted word that is no number,
    /// address or MAC must be a name the specs know (an enum or flag value, an errno, a type...)
    /// unless the field holds strings.
    fn value(&mut self, field: &Field, info: &super::names::FieldInfo) -> Result<Lit, FilterError> {
        let (lit, column) = self.value_text()?;
        if lit.quoted || lit.is_literal() {
            return Ok(lit);
        }
        let strings = info.classes & class::STRING != 0
            || matches!(field, Field::Header(HeaderField::GenlFamily | HeaderField::Process));
        if strings || self.names.values.contains(&lit.text) || info.values.contains(lit.text.as_str()) {
            return Ok(lit);
        }
        let hint = if info.values.is_empty() {
            Names::suggest(&lit.text, self.names.values.iter().map(String::as_str))
        } else {
            Names::suggest(&lit.text, info.values.iter().copied())
        };
        Err(FilterError::at(
            column,
            match hint {
                Some(h) => format!("unknown value `{}`; did you mean `{h}`? (quote it for a string)", lit.text),
                None => format!("unknown value `{}` (quote it for a string)", lit.text),
            },
        ))
    }

    /// A field name: a header field or an attribute path. Returns what the specs say of it.
    fn field(&mut self) -> Result<(Field, super::names::FieldInfo), FilterError> {
        let column = self.column();
        let word = match self.next().map(|t| t.tok.clone()) {
            Some(Tok::Word(w)) => w,
            _ => {
                self.pos -= 1;
                return Err(FilterError::at(column, format!("expected a field, found {}", self.found())));
            }
        };
        if let Some(&(_, h)) = HEADER_FIELDS.iter().find(|(n, _)| *n == word) {
            let classes = match h {
                HeaderField::Direction | HeaderField::GenlFamily | HeaderField::Process => class::STRING,
                HeaderField::Type
                | HeaderField::Protocol
                | HeaderField::Cmd
                | HeaderField::Errno
                | HeaderField::Error => class::ENUM | class::NUMBER,
                HeaderField::Flags => class::FLAGS | class::NUMBER,
                _ => class::NUMBER,
            };
            return Ok((Field::Header(h), super::names::FieldInfo { classes, values: Default::default() }));
        }
        let mut parts: Vec<&str> = word.split('.').collect();
        let mut scope = None;
        if parts.len() > 1 && self.names.families.contains(parts[0]) {
            scope = Some(parts.remove(0).to_string());
        }
        // Text records name their fields themselves (uevent keys, audit fields): any name goes.
        if scope.as_deref().is_some_and(|s| TEXT_FAMILIES.contains(&s)) {
            let segs = parts.iter().map(|p| Seg { full: Some(p.to_string()), short: None }).collect();
            let info = super::names::FieldInfo { classes: class::STRING | class::NUMBER, values: Default::default() };
            return Ok((Field::Attr(Path { scope, segs }), info));
        }
        let mut segs = Vec::new();
        let mut info = super::names::FieldInfo::default();
        let mut offset = column;
        for (i, part) in parts.iter().enumerate() {
            let last = i + 1 == parts.len();
            if part.is_empty() {
                return Err(FilterError::at(offset, "an empty name in the path"));
            }
            let short = part.replace('_', "-");
            let full = self.names.fields.get(*part);
            let by_family = self.names.short.get(&short);
            if full.is_none() && by_family.is_none() {
                let message = if self.names.values.contains(*part) {
                    format!("`{part}` is a value, not a field: compare a field with it (`type == {part}`, say)")
                } else {
                    let candidates = HEADER_FIELDS
                        .iter()
                        .map(|h| h.0)
                        .chain(self.names.fields.keys().copied())
                        .chain(self.names.short.keys().map(String::as_str));
                    match Names::suggest(part, candidates) {
                        Some(s) => format!("unknown field `{part}`; did you mean `{s}`?"),
                        None => format!("unknown field `{part}`"),
                    }
                };
                return Err(FilterError::at(offset, message));
            }
            if let Some(by_family) = by_family
                && parts.len() == 1
                && full.is_none()
                && let Some((family, names)) = by_family.iter().find(|(_, names)| names.len() > 1)
            {
                let all: Vec<&str> = names.iter().copied().collect();
                return Err(FilterError::at(
                    offset,
                    format!(
                        "`{part}` names several attributes in {family} ({}): give a path or the full name",
                        all.join(", ")
                    ),
                ));
            }
            if last {
                let infos = full.into_iter().chain(
                    by_family.into_iter().flat_map(|b| b.values().flatten()).filter_map(|f| self.names.fields.get(f)),
                );
                for f in infos {
                    info.classes |= f.classes;
                    info.values.extend(f.values.iter().copied());
                }
            }
            segs.push(Seg { full: full.map(|_| part.to_string()), short: by_family.map(|_| short) });
            offset += part.chars().count() + 1;
        }
        Ok((Field::Attr(Path { scope, segs }), info))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_read_as_everything_they_can_be() {
        let l = Lit::read("10.0.0.0/8", false);
        assert_eq!(l.prefix, Some(("10.0.0.0".parse().unwrap(), 8)));
        assert_eq!(Lit::read("0x1c", false).int, Some(28));
        assert_eq!(Lit::read("-17", false).int, Some(-17));
        assert_eq!(Lit::read("aa:bb:cc:00:11:22", false).mac.unwrap(), [0xaa, 0xbb, 0xcc, 0, 0x11, 0x22]);
        assert_eq!(Lit::read("1.5ms", false).nanos, Some(1.5e6));
        assert!(Lit::read("fe80::1", false).ip.is_some());
        assert!(!Lit::read("RT_TABLE_MAIN", false).is_literal());
    }
}
