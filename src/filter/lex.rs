//! Splits a filter into tokens, each with the column it starts at (for error messages).
//!
//! Words are runs of letters, digits and `_ - . : /`, so that names with paths
//! (`linkinfo.kind`), addresses (`10.0.0.0/8`, `fe80::1`, `aa:bb:cc:dd:ee:ff`) and numbers with
//! units (`1.5ms`) are one token each; the parser decides what a word is.

use super::FilterError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Word(String),
    Str(String),
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Not,
    LParen,
    RParen,
    LBrace,
    RBrace,
    Comma,
}

impl Tok {
    /// How the token reads in an error message.
    pub fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Str(s) => format!("{s:?}"),
            Tok::Eq => "`==`".into(),
            Tok::Ne => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::And => "`and`".into(),
            Tok::Or => "`or`".into(),
            Tok::Not => "`not`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBrace => "`{`".into(),
            Tok::RBrace => "`}`".into(),
            Tok::Comma => "`,`".into(),
        }
    }
}

/// A token and its column (1-based, in characters).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub column: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '/')
}

pub fn tokens(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let two = |next: char| chars.get(i + 1) == Some(&next);
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '=' if two('=') => (Tok::Eq, 2),
            '=' => return Err(FilterError::at(column, "`=` is not an operator: write `==` to compare")),
            '!' if two('=') => (Tok::Ne, 2),
            '!' => (Tok::Not, 1),
            '<' if two('=') => (Tok::Le, 2),
            '<' => (Tok::Lt, 1),
            '>' if two('=') => (Tok::Ge, 2),
            '>' => (Tok::Gt, 1),
            '&' if two('&') => (Tok::And, 2),
            '|' if two('|') => (Tok::Or, 2),
            '&' | '|' => return Err(FilterError::at(column, format!("write `{c}{c}` (or `and`/`or`)"))),
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '{' => (Tok::LBrace, 1),
            '}' => (Tok::RBrace, 1),
            ',' => (Tok::Comma, 1),
            '"' | '\'' => {
                let (s, len) = string(&chars[i..], column)?;
                (Tok::Str(s), len)
            }
            c if is_word_char(c) => {
                let len = chars[i..].iter().take_while(|&&c| is_word_char(c)).count();
                let word: String = chars[i..i + len].iter().collect();
                let tok = match word.as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    _ => Tok::Word(word),
                };
                (tok, len)
            }
            c => return Err(FilterError::at(column, format!("unexpected character `{c}`"))),
        };
        out.push(Token { tok, column });
        i += len;
    }
    Ok(out)
}

/// A quoted string at the start of `chars` (`\"`, `\\`, `\n`, `\t` escapes); its text and length.
fn string(chars: &[char], column: usize) -> Result<(String, usize), FilterError> {
    let quote = chars[0];
    let mut s = String::new();
    let mut i = 1;
    while i < chars.len() {
        match chars[i] {
            c if c == quote => return Ok((s, i + 1)),
            '\\' => {
                let e = *chars.get(i + 1).ok_or_else(|| FilterError::at(column + i, "a `\\` ends the filter"))?;
                s.push(match e {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                i += 2;
            }
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(FilterError::at(column, format!("this string has no closing {quote}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_operators_and_strings() {
        let t = tokens(r#"linkinfo.kind=="vx\"lan" && RTA_DST in 10.0.0.0/8"#).unwrap();
        let toks: Vec<_> = t.iter().map(|t| t.tok.clone()).collect();
        assert_eq!(
            toks,
            [
                Tok::Word("linkinfo.kind".into()),
                Tok::Eq,
                Tok::Str("vx\"lan".into()),
                Tok::And,
                Tok::Word("RTA_DST".into()),
                Tok::Word("in".into()),
                Tok::Word("10.0.0.0/8".into()),
            ]
        );
        assert_eq!(t[3].column, 26);
    }

    #[test]
    fn errors_name_their_column() {
        assert_eq!(tokens("seq = 1").unwrap_err().column, 5);
        assert_eq!(tokens("x == \"open").unwrap_err().column, 6);
        assert_eq!(tokens("a & b").unwrap_err().column, 3);
    }
}
