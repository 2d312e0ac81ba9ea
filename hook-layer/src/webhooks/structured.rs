//! The part of RFC 8941 (Structured Field Values) that signed webhooks
//! need: dictionaries of items and inner lists, with parameters, and the
//! serialization of an inner list. Strict (no duplicate keys, no decimals)
//! and bounded (length, members, items, parameters).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The longest field value parsed, in bytes.
pub(crate) const MAX_FIELD_LEN: usize = 8 * 1024;
const MAX_MEMBERS: usize = 8;
const MAX_ITEMS: usize = 32;
const MAX_PARAMS: usize = 16;
const MAX_KEY_LEN: usize = 64;
/// RFC 8941 section 3.3.1: at most fifteen digits.
const MAX_DIGITS: usize = 15;

/// A bare item: every type but decimals and the later RFC 9651 additions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BareItem {
    Integer(i64),
    String(String),
    Token(String),
    Bytes(Vec<u8>),
    Boolean(bool),
}

/// Parameters, in the order sent.
pub(crate) type Params = Vec<(String, BareItem)>;

/// An item with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) bare: BareItem,
    pub(crate) params: Params,
}

/// A dictionary member's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Member {
    Item(Item),
    InnerList(Vec<Item>, Params),
}

/// Why a field value is not a structured field this parser accepts. The
/// message names the rule, never the input.
pub(crate) type ParseError = &'static str;

/// Parses a dictionary (RFC 8941 section 4.2.2). Duplicate keys are
/// refused, where the RFC keeps the last: a signature field with two
/// members of one name is not something a signer makes.
pub(crate) fn parse_dictionary(input: &str) -> Result<Vec<(String, Member)>, ParseError> {
    if input.len() > MAX_FIELD_LEN {
        return Err("field too long");
    }
    let mut parser = Parser {
        bytes: input.as_bytes(),
        pos: 0,
    };
    parser.skip_sp();
    let mut members: Vec<(String, Member)> = Vec::new();
    if parser.at_end() {
        return Err("empty dictionary");
    }
    loop {
        let key = parser.key()?;
        let member = if parser.eat(b'=') {
            if parser.peek() == Some(b'(') {
                let (items, params) = parser.inner_list()?;
                Member::InnerList(items, params)
            } else {
                Member::Item(parser.item()?)
            }
        } else {
            Member::Item(Item {
                bare: BareItem::Boolean(true),
                params: parser.params()?,
            })
        };
        if members.iter().any(|(k, _)| *k == key) {
            return Err("duplicate dictionary key");
        }
        if members.len() == MAX_MEMBERS {
            return Err("too many dictionary members");
        }
        members.push((key, member));
        parser.skip_ows();
        if parser.at_end() {
            return Ok(members);
        }
        if !parser.eat(b',') {
            return Err("expected a comma between members");
        }
        parser.skip_ows();
        if parser.at_end() {
            return Err("trailing comma");
        }
    }
}

/// Serializes an inner list (RFC 8941 section 4.1.1.1), as the
/// `@signature-params` line of a signature base does.
pub(crate) fn serialize_inner_list(items: &[Item], params: &Params) -> String {
    let mut out = String::from("(");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        serialize_bare(&item.bare, &mut out);
        serialize_params(&item.params, &mut out);
    }
    out.push(')');
    serialize_params(params, &mut out);
    out
}

fn serialize_params(params: &Params, out: &mut String) {
    for (key, value) in params {
        out.push(';');
        out.push_str(key);
        if *value != BareItem::Boolean(true) {
            out.push('=');
            serialize_bare(value, out);
        }
    }
}

/// Serializes a bare item (RFC 8941 section 4.1.3.1).
pub(crate) fn serialize_bare(bare: &BareItem, out: &mut String) {
    match bare {
        BareItem::Integer(n) => out.push_str(&n.to_string()),
        BareItem::String(s) => {
            out.push('"');
            for c in s.chars() {
                if c == '"' || c == '\\' {
                    out.push('\\');
                }
                out.push(c);
            }
            out.push('"');
        }
        BareItem::Token(t) => out.push_str(t),
        BareItem::Bytes(b) => {
            out.push(':');
            out.push_str(&STANDARD.encode(b));
            out.push(':');
        }
        BareItem::Boolean(b) => out.push_str(if *b { "?1" } else { "?0" }),
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_sp(&mut self) {
        while self.peek() == Some(b' ') {
            self.pos += 1;
        }
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn key(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        match self.peek() {
            Some(b'a'..=b'z' | b'*') => self.pos += 1,
            _ => return Err("a key must start with a lowercase letter or *"),
        }
        while let Some(b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*') = self.peek() {
            self.pos += 1;
        }
        if self.pos - start > MAX_KEY_LEN {
            return Err("key too long");
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned())
    }

    fn params(&mut self) -> Result<Params, ParseError> {
        let mut params: Params = Vec::new();
        while self.eat(b';') {
            self.skip_sp();
            let key = self.key()?;
            let value = if self.eat(b'=') {
                self.bare_item()?
            } else {
                BareItem::Boolean(true)
            };
            if params.iter().any(|(k, _)| *k == key) {
                return Err("duplicate parameter");
            }
            if params.len() == MAX_PARAMS {
                return Err("too many parameters");
            }
            params.push((key, value));
        }
        Ok(params)
    }

    fn item(&mut self) -> Result<Item, ParseError> {
        let bare = self.bare_item()?;
        let params = self.params()?;
        Ok(Item { bare, params })
    }

    fn inner_list(&mut self) -> Result<(Vec<Item>, Params), ParseError> {
        if !self.eat(b'(') {
            return Err("expected an inner list");
        }
        let mut items = Vec::new();
        loop {
            self.skip_sp();
            if self.eat(b')') {
                let params = self.params()?;
                return Ok((items, params));
            }
            if items.len() == MAX_ITEMS {
                return Err("too many items in an inner list");
            }
            items.push(self.item()?);
            match self.peek() {
                Some(b' ' | b')') => {}
                _ => return Err("items of an inner list are separated by spaces"),
            }
        }
    }

    fn bare_item(&mut self) -> Result<BareItem, ParseError> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => self.integer(),
            Some(b'"') => self.string(),
            Some(b':') => self.bytes(),
            Some(b'?') => self.boolean(),
            Some(b'A'..=b'Z' | b'a'..=b'z' | b'*') => Ok(self.token()),
            _ => Err("not a bare item"),
        }
    }

    fn integer(&mut self) -> Result<BareItem, ParseError> {
        let negative = self.eat(b'-');
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        let digits = self.pos - start;
        if digits == 0 {
            return Err("expected a digit");
        }
        if digits > MAX_DIGITS {
            return Err("integer too long");
        }
        if self.peek() == Some(b'.') {
            return Err("decimals are not accepted");
        }
        let mut n: i64 = 0;
        for &d in &self.bytes[start..self.pos] {
            // Fifteen digits fit an i64 with room to spare.
            n = n * 10 + i64::from(d - b'0');
        }
        Ok(BareItem::Integer(if negative { -n } else { n }))
    }

    fn string(&mut self) -> Result<BareItem, ParseError> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string"),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(BareItem::String(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c @ (b'"' | b'\\')) => {
                            out.push(char::from(c));
                            self.pos += 1;
                        }
                        _ => return Err("bad escape in a string"),
                    }
                }
                Some(c @ 0x20..=0x7e) => {
                    out.push(char::from(c));
                    self.pos += 1;
                }
                Some(_) => return Err("a string holds printable ASCII only"),
            }
        }
    }

    fn token(&mut self) -> BareItem {
        let start = self.pos;
        self.pos += 1;
        while let Some(c) = self.peek() {
            let tchar = c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&c);
            if !tchar {
                break;
            }
            self.pos += 1;
        }
        BareItem::Token(String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned())
    }

    fn bytes(&mut self) -> Result<BareItem, ParseError> {
        self.pos += 1;
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b':' {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == b'+' || c == b'/' || c == b'=') {
                return Err("bad character in a byte sequence");
            }
            self.pos += 1;
        }
        if !self.eat(b':') {
            return Err("unterminated byte sequence");
        }
        STANDARD
            .decode(&self.bytes[start..self.pos - 1])
            .map(BareItem::Bytes)
            .map_err(|_| "bad base64 in a byte sequence")
    }

    fn boolean(&mut self) -> Result<BareItem, ParseError> {
        self.pos += 1;
        let value = match self.peek() {
            Some(b'0') => false,
            Some(b'1') => true,
            _ => return Err("a boolean is ?0 or ?1"),
        };
        self.pos += 1;
        Ok(BareItem::Boolean(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_signature_input_and_serializes_its_inner_list_back() {
        let input = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
        let dict = parse_dictionary(input).unwrap();
        assert_eq!(dict.len(), 1);
        let Member::InnerList(items, params) = &dict[0].1 else {
            panic!("an inner list");
        };
        assert_eq!(items.len(), 6);
        assert_eq!(params[0], ("created".into(), BareItem::Integer(1618884473)));
        assert_eq!(
            format!("sig-b26={}", serialize_inner_list(items, params)),
            input
        );
    }

    #[test]
    fn parses_byte_sequences_tokens_and_booleans() {
        let dict = parse_dictionary("a=:aGk=:, b=tok/en:1, c, d=?0;x").unwrap();
        assert_eq!(
            dict[0].1,
            Member::Item(Item {
                bare: BareItem::Bytes(b"hi".to_vec()),
                params: vec![]
            })
        );
        assert_eq!(
            dict[1].1,
            Member::Item(Item {
                bare: BareItem::Token("tok/en:1".into()),
                params: vec![]
            })
        );
        assert_eq!(
            dict[2].1,
            Member::Item(Item {
                bare: BareItem::Boolean(true),
                params: vec![]
            })
        );
        assert_eq!(
            dict[3].1,
            Member::Item(Item {
                bare: BareItem::Boolean(false),
                params: vec![("x".into(), BareItem::Boolean(true))]
            })
        );
    }

    #[test]
    fn refuses_what_is_not_strictly_a_dictionary() {
        for bad in [
            "",
            "   ",
            "A=1",
            "a=1,",
            "a=1,,b=2",
            "a=1, a=2",
            "a=1.5",
            "a=1234567890123456",
            "a=\"unterminated",
            "a=\"bad\\escape\"",
            "a=:not base64:",
            "a=:aGk",
            "a=(\"x\"\"y\")",
            "a=(\"x\"",
            "a=?2",
            "a=1;p=1;p=2",
            "a=1 b=2",
            "a=\"caf\u{e9}\"",
        ] {
            assert!(parse_dictionary(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bounds_what_it_reads() {
        let long = format!("a=\"{}\"", "x".repeat(MAX_FIELD_LEN));
        assert_eq!(parse_dictionary(&long), Err("field too long"));
        let many = (0..=MAX_MEMBERS)
            .map(|i| format!("k{i}=1"))
            .collect::<Vec<_>>()
            .join(", ");
        assert_eq!(parse_dictionary(&many), Err("too many dictionary members"));
        let items = format!("a=({})", vec!["1"; MAX_ITEMS + 1].join(" "));
        assert_eq!(
            parse_dictionary(&items),
            Err("too many items in an inner list")
        );
    }

    #[test]
    fn strings_round_trip_with_escapes() {
        let mut out = String::new();
        serialize_bare(&BareItem::String("a\"b\\c".into()), &mut out);
        assert_eq!(out, r#""a\"b\\c""#);
        let dict = parse_dictionary(&format!("k={out}")).unwrap();
        assert_eq!(
            dict[0].1,
            Member::Item(Item {
                bare: BareItem::String("a\"b\\c".into()),
                params: vec![]
            })
        );
    }
}
