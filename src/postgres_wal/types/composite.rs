//! Composite value texts: arrays of any element type, and `hstore`.

use super::{ValueError, parse_value};
use crate::event::{DataType, Value};

/// hstore text, `"a"=>"1", "b"=>NULL`: pairs in source order, `NULL` (unquoted) values as
/// `None`.
pub(super) fn parse_hstore(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut scanner = Scanner::new(text);
    let mut pairs = Vec::new();
    scanner.skip_whitespace();
    while !scanner.at_end() {
        let (key, _) = scanner.hstore_token()?;
        scanner.skip_whitespace();
        if !scanner.eat(b'=') || !scanner.eat(b'>') {
            return Err(format!("expected => at byte {}", scanner.pos));
        }
        scanner.skip_whitespace();
        let (value, quoted) = scanner.hstore_token()?;
        let value = if !quoted && value.eq_ignore_ascii_case("NULL") {
            None
        } else {
            Some(value)
        };
        pairs.push((key, value));
        scanner.skip_whitespace();
        if scanner.at_end() {
            break;
        }
        if !scanner.eat(b',') {
            return Err(format!("expected , at byte {}", scanner.pos));
        }
        scanner.skip_whitespace();
    }
    Ok(pairs)
}

/// PostgreSQL allows at most six array dimensions.
const MAX_ARRAY_DIMENSIONS: usize = 6;

/// Array text `{1,2,NULL}`, `{{1,2},{3,4}}` or `[0:1]={1,2}`; elements parsed as `element`.
pub(super) fn parse_array(
    text: &str,
    element: &DataType,
    element_name: &str,
) -> Result<Vec<Value>, String> {
    let body = if text.starts_with('[') {
        let (bounds, body) = text
            .split_once('=')
            .ok_or_else(|| "array bounds without =".to_owned())?;
        if !bounds
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'[' | b']' | b':' | b'-' | b'+'))
        {
            return Err("malformed array bounds".to_owned());
        }
        body
    } else {
        text
    };
    let mut scanner = Scanner::new(body);
    let mut parser = ArrayParser {
        element,
        element_name,
        count: 0,
        // PostGIS types print their arrays with their `typdelim`, `:`.
        delimiter: match element {
            DataType::Geometry | DataType::Geography => b':',
            _ => b',',
        },
    };
    scanner.skip_whitespace();
    let values = parser.array(&mut scanner, 1)?;
    scanner.skip_whitespace();
    if !scanner.at_end() {
        return Err(format!(
            "unexpected text after the array at byte {}",
            scanner.pos
        ));
    }
    Ok(values)
}

struct ArrayParser<'a> {
    element: &'a DataType,
    element_name: &'a str,
    /// Elements read so far, to name the bad one in errors.
    count: usize,
    /// The element type's `typdelim`.
    delimiter: u8,
}

impl ArrayParser<'_> {
    fn array(&mut self, scanner: &mut Scanner<'_>, depth: usize) -> Result<Vec<Value>, String> {
        if depth > MAX_ARRAY_DIMENSIONS {
            return Err(format!("more than {MAX_ARRAY_DIMENSIONS} array dimensions"));
        }
        if !scanner.eat(b'{') {
            return Err(format!("expected {{ at byte {}", scanner.pos));
        }
        let mut values = Vec::new();
        scanner.skip_whitespace();
        if scanner.eat(b'}') {
            return Ok(values);
        }
        loop {
            scanner.skip_whitespace();
            let value = match scanner.peek() {
                Some(b'{') => Value::Array(self.array(scanner, depth + 1)?),
                Some(_) => {
                    let (text, quoted) = scanner.array_element(self.delimiter)?;
                    self.count += 1;
                    if !quoted && text.eq_ignore_ascii_case("NULL") {
                        Value::Null
                    } else {
                        parse_value(self.element, self.element_name, &text).map_err(|reason| {
                            let error = ValueError::Invalid {
                                type_name: self.element_name.to_owned(),
                                text,
                                reason,
                            };
                            format!("element {}: {error}", self.count)
                        })?
                    }
                }
                None => return Err("unterminated array".to_owned()),
            };
            values.push(value);
            scanner.skip_whitespace();
            match scanner.next() {
                Some(b) if b == self.delimiter => {}
                Some(b'}') => return Ok(values),
                Some(_) => {
                    return Err(format!(
                        "expected {} or }} at byte {}",
                        char::from(self.delimiter),
                        scanner.pos - 1
                    ));
                }
                None => return Err("unterminated array".to_owned()),
            }
        }
    }
}

/// A byte cursor over array and hstore text. Every byte it stops at is ASCII, so the slices it
/// takes are whole UTF-8 sequences.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            bytes: text.as_bytes(),
            pos: 0,
        }
    }

    fn at_end(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Some(b)
    }

    fn eat(&mut self, expected: u8) -> bool {
        if self.peek() == Some(expected) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    /// A double-quoted string after its opening quote; `\` escapes the next character.
    fn quoted(&mut self) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        loop {
            match self.next() {
                None => return Err("unterminated quoted string".to_owned()),
                Some(b'"') => return Ok(out),
                Some(b'\\') => match self.next() {
                    Some(b) => out.push(b),
                    None => return Err("unterminated quoted string".to_owned()),
                },
                Some(b) => out.push(b),
            }
        }
    }

    /// An unquoted token up to a byte in `stops` or unescaped whitespace at its end; returns
    /// the bytes with surrounding unescaped whitespace removed.
    fn unquoted(&mut self, stops: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        // Length of `out` up to its last non-whitespace or escaped byte.
        let mut kept = 0;
        while let Some(b) = self.peek() {
            if stops.contains(&b) {
                break;
            }
            self.pos += 1;
            if b == b'\\' {
                let escaped = self
                    .next()
                    .ok_or_else(|| "backslash at end of text".to_owned())?;
                out.push(escaped);
                kept = out.len();
            } else if b == b'"' {
                return Err(format!("unexpected \" at byte {}", self.pos - 1));
            } else {
                out.push(b);
                if !b.is_ascii_whitespace() {
                    kept = out.len();
                }
            }
        }
        out.truncate(kept);
        Ok(out)
    }

    /// One array element (quoted or not) and whether it was quoted.
    fn array_element(&mut self, delimiter: u8) -> Result<(String, bool), String> {
        let (bytes, quoted) = if self.eat(b'"') {
            (self.quoted()?, true)
        } else {
            let bytes = self.unquoted(&[delimiter, b'{', b'}'])?;
            if self.peek() == Some(b'{') {
                return Err(format!("unexpected {{ at byte {}", self.pos));
            }
            if bytes.is_empty() {
                return Err(format!("empty unquoted array element at byte {}", self.pos));
            }
            (bytes, false)
        };
        let text = String::from_utf8(bytes).map_err(|_| "invalid UTF-8".to_owned())?;
        Ok((text, quoted))
    }

    /// One hstore key or value (quoted or not) and whether it was quoted.
    fn hstore_token(&mut self) -> Result<(String, bool), String> {
        let (bytes, quoted) = if self.eat(b'"') {
            (self.quoted()?, true)
        } else {
            let start = self.pos;
            let mut bytes = Vec::new();
            while let Some(b) = self.peek() {
                if b.is_ascii_whitespace() || matches!(b, b',' | b'=' | b'"') {
                    break;
                }
                self.pos += 1;
                if b == b'\\' {
                    let escaped = self
                        .next()
                        .ok_or_else(|| "backslash at end of text".to_owned())?;
                    bytes.push(escaped);
                } else {
                    bytes.push(b);
                }
            }
            if self.pos == start {
                return Err(format!("expected a key or value at byte {start}"));
            }
            (bytes, false)
        };
        let text = String::from_utf8(bytes).map_err(|_| "invalid UTF-8".to_owned())?;
        Ok((text, quoted))
    }
}
