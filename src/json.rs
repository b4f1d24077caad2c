//! A strict JSON reader that walks a document into a [`Visitor`] without building it: the scanner under log bodies.
//!
//! Every structured log line is walked on its way out, to lift the time, level and ids out of it and, when it goes
//! out as OTLP/protobuf, to write it as protobuf in the same walk; neither needs a tree or serde's machinery. This
//! reader is a recursive descent over the bytes whose visitor calls compile away where a caller ignores them:
//! strings are scanned eight bytes at a time, escapes are resolved only when a caller asks for the text, and
//! integers and short decimals are read in place.
//!
//! It must agree with sonic-rs, which parses every other JSON in the crate and builds `AnyValue` trees when code
//! looks into a body: it accepts the same documents (nesting limit included) and reports each value as the tree
//! holds it. Where sonic-rs has a quirk — `-0` and `-0.0` are `+0.0`, a double that overflows is an error — the
//! number is handed to sonic-rs itself. Property tests and the `parse_line` fuzz target pin the agreement.

use std::borrow::Cow;

/// Where and why a document was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at byte {at}: {reason}")]
pub struct Error {
    pub at: usize,
    pub reason: &'static str,
}

/// A number as the tree holds it: an integer that fits `i64`, else a double.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Double(f64),
}

/// A string as it stands between its quotes; escapes, already checked, are resolved on request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Str<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Str<'a> {
    /// The text: borrowed unless it had escapes.
    pub fn get(&self) -> Cow<'a, str> {
        if self.escaped {
            let mut out = String::with_capacity(self.raw.len());
            unescape(self.raw, &mut out);
            Cow::Owned(out)
        } else {
            Cow::Borrowed(self.raw)
        }
    }

    /// The text when it had no escapes.
    pub fn plain(&self) -> Option<&'a str> {
        (!self.escaped).then_some(self.raw)
    }

    /// Appends the text to `out`.
    pub fn push_to(&self, out: &mut String) {
        if self.escaped {
            unescape(self.raw, out);
        } else {
            out.push_str(self.raw);
        }
    }
}

/// A scalar value (`null` is the tree's empty string).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Str<'a>),
}

/// What a walk reports. Each `begin_*` hands back a mark that its `end_*` receives, so a visitor that writes
/// length-prefixed output keeps no stack of its own. Every method has an empty default.
pub trait Visitor<'a> {
    type Mark: Copy + Default;

    fn scalar(&mut self, _value: Scalar<'a>) {}
    fn begin_array(&mut self) -> Self::Mark {
        Self::Mark::default()
    }
    fn end_array(&mut self, _mark: Self::Mark) {}
    /// Before each element of an array.
    fn begin_element(&mut self) -> Self::Mark {
        Self::Mark::default()
    }
    fn end_element(&mut self, _mark: Self::Mark) {}
    fn begin_object(&mut self) -> Self::Mark {
        Self::Mark::default()
    }
    fn end_object(&mut self, _mark: Self::Mark) {}
    /// Before each member's value.
    fn begin_member(&mut self, _key: Str<'a>) -> Self::Mark {
        Self::Mark::default()
    }
    fn end_member(&mut self, _mark: Self::Mark) {}
}

/// The visitor that only checks.
#[derive(Debug, Default)]
pub struct Check;

impl Visitor<'_> for Check {
    type Mark = ();
}

/// How deep containers may nest: sonic-rs refuses a document at 255 levels.
const MAX_DEPTH: usize = 254;

/// A position in a document, and the steps of JSON's grammar from there.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(text: &'a str) -> Self {
        Reader { text, pos: 0 }
    }

    /// Walks the whole document (one value, then nothing but whitespace) into `visitor`.
    pub fn document<V: Visitor<'a>>(mut self, visitor: &mut V) -> Result<(), Error> {
        self.value(visitor, 0)?;
        self.end()
    }

    /// Checks that nothing but whitespace is left.
    pub fn end(&mut self) -> Result<(), Error> {
        self.skip_whitespace();
        if self.pos < self.text.len() {
            return Err(self.error("trailing characters after the document"));
        }
        Ok(())
    }

    /// Walks the value that comes next into `visitor`; `depth` counts the containers already open around it.
    pub fn value<V: Visitor<'a>>(&mut self, visitor: &mut V, depth: usize) -> Result<(), Error> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{') => {
                self.open(depth)?;
                let mark = visitor.begin_object();
                let mut more = !self.closes(b'}');
                while more {
                    self.skip_whitespace();
                    let key = self.key()?;
                    let member = visitor.begin_member(key);
                    self.value(visitor, depth + 1)?;
                    visitor.end_member(member);
                    more = self.next_member(b'}')?;
                }
                visitor.end_object(mark);
            }
            Some(b'[') => {
                self.open(depth)?;
                let mark = visitor.begin_array();
                let mut more = !self.closes(b']');
                while more {
                    let element = visitor.begin_element();
                    self.value(visitor, depth + 1)?;
                    visitor.end_element(element);
                    more = self.next_member(b']')?;
                }
                visitor.end_array(mark);
            }
            _ => {
                let scalar = self.scalar()?;
                visitor.scalar(scalar);
            }
        }
        Ok(())
    }

    /// The value that comes next if it is a scalar, not reported to `visitor`; a container is walked into
    /// `visitor` and gives `None`.
    pub fn scalar_or_walk<V: Visitor<'a>>(
        &mut self,
        visitor: &mut V,
        depth: usize,
    ) -> Result<Option<Scalar<'a>>, Error> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{' | b'[') => self.value(visitor, depth).map(|()| None),
            _ => self.scalar().map(Some),
        }
    }

    /// Enters the object that should come next (after whitespace); `false` if something else does.
    pub fn enter_object(&mut self) -> bool {
        self.skip_whitespace();
        let object = self.peek() == Some(b'{');
        self.pos += usize::from(object);
        object
    }

    /// Whether the value that comes next (after whitespace) is spelled starting with `prefix`, read or not: a
    /// peek at its text, for a caller that decides how to read it.
    pub fn value_starts_with(&mut self, prefix: &str) -> bool {
        self.skip_whitespace();
        self.text.as_bytes().get(self.pos..).is_some_and(|rest| rest.starts_with(prefix.as_bytes()))
    }

    /// Inside an entered object: the next member's key, leaving the reader before its value; `None` once the
    /// object has closed. `first` for the first member.
    pub fn member(&mut self, first: bool) -> Result<Option<Str<'a>>, Error> {
        let more = if first { !self.closes(b'}') } else { self.next_member(b'}')? };
        if !more {
            return Ok(None);
        }
        self.skip_whitespace();
        self.key().map(Some)
    }

    #[inline(always)]
    fn scalar(&mut self) -> Result<Scalar<'a>, Error> {
        match self.peek() {
            Some(b'"') => self.string().map(Scalar::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Scalar::Number),
            Some(b't') => self.literal("true", Scalar::Bool(true)),
            Some(b'f') => self.literal("false", Scalar::Bool(false)),
            Some(b'n') => self.literal("null", Scalar::Null),
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of the document")),
        }
    }

    #[cold]
    fn error(&self, reason: &'static str) -> Error {
        Error { at: self.pos, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    #[inline(always)]
    fn skip_whitespace(&mut self) {
        let bytes = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Steps into a container whose bracket is next.
    fn open(&mut self, depth: usize) -> Result<(), Error> {
        if depth >= MAX_DEPTH {
            return Err(self.error("nested too deep"));
        }
        self.pos += 1;
        Ok(())
    }

    /// Just inside a container: whether it closes at once with `close` (consumed).
    #[inline(always)]
    fn closes(&mut self, close: u8) -> bool {
        self.skip_whitespace();
        let closes = self.peek() == Some(close);
        self.pos += usize::from(closes);
        closes
    }

    /// After a member or element: `true` past a `,`, `false` past the closing bracket.
    #[inline(always)]
    fn next_member(&mut self, close: u8) -> Result<bool, Error> {
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(false)
            }
            None => Err(self.error("unexpected end of the document")),
            Some(_) if close == b'}' => Err(self.error("expected `,` or `}`")),
            Some(_) => Err(self.error("expected `,` or `]`")),
        }
    }

    /// A member's key and its colon, from where the key's quote should be.
    #[inline(always)]
    fn key(&mut self) -> Result<Str<'a>, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.error("expected a key"));
        }
        let key = self.string()?;
        self.skip_whitespace();
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:`"));
        }
        self.pos += 1;
        Ok(key)
    }

    fn literal(&mut self, word: &'static str, value: Scalar<'a>) -> Result<Scalar<'a>, Error> {
        if !self.text.as_bytes()[self.pos..].starts_with(word.as_bytes()) {
            return Err(self.error("expected a value"));
        }
        self.pos += word.len();
        Ok(value)
    }

    /// A string from its opening quote: control characters refused, escapes checked (surrogates must pair).
    #[inline(always)]
    fn string(&mut self) -> Result<Str<'a>, Error> {
        let bytes = self.text.as_bytes();
        let start = self.pos + 1;
        let mut i = start;
        let mut escaped = false;
        loop {
            i += special_offset(&bytes[i..]);
            match bytes.get(i) {
                Some(b'"') => {
                    self.pos = i + 1;
                    return Ok(Str { raw: &self.text[start..i], escaped });
                }
                Some(b'\\') => {
                    escaped = true;
                    i = self.escape(i)?;
                }
                Some(_) => {
                    self.pos = i;
                    return Err(self.error("control character in a string"));
                }
                None => {
                    self.pos = i;
                    return Err(self.error("unterminated string"));
                }
            }
        }
    }

    /// Checks the escape at `at` (a backslash) and returns the offset after it. Kept out of line: most strings
    /// have no escape, and their scan should not pay for this one's registers.
    #[cold]
    #[inline(never)]
    fn escape(&mut self, at: usize) -> Result<usize, Error> {
        let bytes = self.text.as_bytes();
        match bytes.get(at + 1) {
            Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 2),
            Some(b'u') => {
                let Some(unit) = hex4(bytes, at + 2) else {
                    self.pos = at;
                    return Err(self.error("invalid \\u escape"));
                };
                match unit {
                    0xD800..=0xDBFF => {
                        let low = (bytes.get(at + 6..at + 8) == Some(b"\\u")).then(|| hex4(bytes, at + 8)).flatten();
                        match low {
                            Some(0xDC00..=0xDFFF) => Ok(at + 12),
                            _ => {
                                self.pos = at;
                                Err(self.error("unpaired surrogate"))
                            }
                        }
                    }
                    0xDC00..=0xDFFF => {
                        self.pos = at;
                        Err(self.error("unpaired surrogate"))
                    }
                    _ => Ok(at + 6),
                }
            }
            _ => {
                self.pos = at;
                Err(self.error("invalid escape"))
            }
        }
    }

    /// A number by JSON's grammar. Plain integers are read here; anything else goes to sonic-rs, whose rounding and
    /// quirks the tree has.
    #[inline(always)]
    fn number(&mut self) -> Result<Number, Error> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start + usize::from(bytes[start] == b'-');
        let int_start = i;
        match bytes.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i += digits(&bytes[i..]),
            _ => {
                self.pos = i;
                return Err(self.error("invalid number"));
            }
        }
        let int_end = i;
        let mut plain = true;
        if bytes.get(i) == Some(&b'.') {
            plain = false;
            let n = digits(&bytes[i + 1..]);
            if n == 0 {
                self.pos = i + 1;
                return Err(self.error("invalid number"));
            }
            i += 1 + n;
        }
        if let Some(b'e' | b'E') = bytes.get(i) {
            plain = false;
            i += 1;
            if let Some(b'+' | b'-') = bytes.get(i) {
                i += 1;
            }
            let n = digits(&bytes[i..]);
            if n == 0 {
                self.pos = i;
                return Err(self.error("invalid number"));
            }
            i += n;
        }
        self.pos = i;
        let negative = int_start > start;
        // Up to 18 digits always fit an i64; `-0` is left to sonic-rs, which reads it as a double.
        if plain && int_end - int_start <= 18 && !(negative && bytes[int_start] == b'0') {
            let magnitude = bytes[int_start..int_end].iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
            return Ok(Number::Int(if negative { -magnitude } else { magnitude }));
        }
        if let Some(v) = exact_double(&bytes[int_start..i]) {
            return Ok(Number::Double(if negative { -v } else { v }));
        }
        by_sonic(&self.text[start..i]).ok_or(Error { at: start, reason: "number out of range" })
    }
}

/// How many ASCII digits `bytes` starts with.
fn digits(bytes: &[u8]) -> usize {
    bytes.iter().take_while(|b| b.is_ascii_digit()).count()
}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let hex = bytes.get(at..at + 4)?;
    hex.iter().try_fold(0u32, |n, &c| Some(n << 4 | char::from(c).to_digit(16)?))
}

/// The offset of the first `"`, `\` or control character in `bytes`, or its length: eight bytes per step, the
/// lowest flagged byte being exact (a borrow can only flag bytes above a true match).
fn special_offset(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut chunks = bytes.chunks_exact(8);
    let mut offset = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let quote = w ^ (ONES * u64::from(b'"'));
        let backslash = w ^ (ONES * u64::from(b'\\'));
        let zero = |v: u64| v.wrapping_sub(ONES) & !v;
        let found = (zero(quote) | zero(backslash) | w.wrapping_sub(ONES * 0x20) & !w) & HIGH;
        if found != 0 {
            return offset + (found.trailing_zeros() / 8) as usize;
        }
        offset += 8;
    }
    offset
        + chunks
            .remainder()
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(chunks.remainder().len())
}

/// Appends the text of a string whose escapes [`Reader`] checked.
fn unescape(raw: &str, out: &mut String) {
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let bytes = rest.as_bytes();
        let (c, len) = match bytes.get(i + 1) {
            Some(b'b') => ('\u{8}', 2),
            Some(b'f') => ('\u{c}', 2),
            Some(b'n') => ('\n', 2),
            Some(b'r') => ('\r', 2),
            Some(b't') => ('\t', 2),
            Some(b'u') => {
                let unit = hex4(bytes, i + 2).unwrap_or(0xFFFD);
                if (0xD800..0xDC00).contains(&unit) {
                    let low = hex4(bytes, i + 8).unwrap_or(0xDC00);
                    let c = 0x10000 + ((unit - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                    (char::from_u32(c).unwrap_or('\u{FFFD}'), 12)
                } else {
                    (char::from_u32(unit).unwrap_or('\u{FFFD}'), 6)
                }
            }
            Some(&c) => (char::from(c), 2),
            None => break,
        };
        out.push(c);
        rest = rest.get(i + len..).unwrap_or("");
    }
    out.push_str(rest);
}

/// A decimal (`12.5`, `3e-2`; grammar already checked, sign taken off) that one IEEE operation reads exactly:
/// at most 2^53 as an integer significand and a power of ten up to 22, both exact doubles, so the product or
/// quotient is the correctly rounded value, which is what sonic-rs gives too. Zero is left to sonic-rs (`-0.0`).
fn exact_double(text: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
        1e20, 1e21, 1e22,
    ];
    let (mut significand, mut digits, mut scale) = (0u64, 0u32, 0i32);
    let mut rest = text;
    let mut fraction = false;
    while let Some((&c, tail)) = rest.split_first() {
        match c {
            b'0'..=b'9' => {
                digits += 1;
                if digits > 19 {
                    return None;
                }
                significand = significand * 10 + u64::from(c - b'0');
                scale -= i32::from(fraction);
            }
            b'.' => fraction = true,
            _ => break,
        }
        rest = tail;
    }
    if let Some((b'e' | b'E', exponent)) = rest.split_first() {
        let (negative, digits) = match exponent.split_first() {
            Some((b'-', d)) => (true, d),
            Some((b'+', d)) => (false, d),
            _ => (false, exponent),
        };
        if digits.len() > 3 {
            return None;
        }
        let e = digits.iter().fold(0i32, |n, d| n * 10 + i32::from(d - b'0'));
        scale += if negative { -e } else { e };
    }
    if significand == 0 || significand > 1 << 53 {
        return None;
    }
    let power = *POW10.get(scale.unsigned_abs() as usize)?;
    Some(if scale < 0 { significand as f64 / power } else { significand as f64 * power })
}

/// A number that is not a plain integer, read by sonic-rs as the tree reads it.
fn by_sonic(text: &str) -> Option<Number> {
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Number;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a number")
        }
        fn visit_i64<E>(self, v: i64) -> Result<Number, E> {
            Ok(Number::Int(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Number, E> {
            Ok(i64::try_from(v).map_or(Number::Double(v as f64), Number::Int))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Number, E> {
            Ok(Number::Double(v))
        }
    }
    let mut de = sonic_rs::Deserializer::from_str(text);
    serde::Deserializer::deserialize_any(&mut de, V).ok()
}

/// Checks a whole document.
pub fn validate(text: &str) -> Result<(), Error> {
    Reader::new(text).document(&mut Check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{AnyValue, KeyValue};
    use proptest::prelude::*;

    /// The tree a walk describes, built the way `AnyValue`'s `Deserialize` builds it.
    #[derive(Default)]
    struct Tree {
        /// Open containers: their values so far, and per object member its key.
        open: Vec<(Vec<AnyValue>, Vec<String>)>,
        done: Option<AnyValue>,
    }

    impl Tree {
        fn push(&mut self, v: AnyValue) {
            match self.open.last_mut() {
                Some((values, _)) => values.push(v),
                None => self.done = Some(v),
            }
        }
    }

    impl<'a> Visitor<'a> for Tree {
        type Mark = ();
        fn scalar(&mut self, value: Scalar<'a>) {
            self.push(match value {
                Scalar::Null => AnyValue::Str(String::new()),
                Scalar::Bool(b) => AnyValue::Bool(b),
                Scalar::Number(Number::Int(i)) => AnyValue::Int(i),
                Scalar::Number(Number::Double(d)) => AnyValue::Double(d),
                Scalar::Str(s) => AnyValue::Str(s.get().into_owned()),
            });
        }
        fn begin_array(&mut self) {
            self.open.push(Default::default());
        }
        fn end_array(&mut self, (): ()) {
            let (values, _) = self.open.pop().expect("an open array");
            self.push(AnyValue::Array(values));
        }
        fn begin_object(&mut self) {
            self.open.push(Default::default());
        }
        fn begin_member(&mut self, key: Str<'a>) {
            self.open.last_mut().expect("an open object").1.push(key.get().into_owned());
        }
        fn end_object(&mut self, (): ()) {
            let (values, keys) = self.open.pop().expect("an open object");
            assert_eq!(values.len(), keys.len());
            self.push(AnyValue::Map(keys.into_iter().zip(values).map(|(k, v)| KeyValue::new(k, v)).collect()));
        }
    }

    fn tree(text: &str) -> Result<AnyValue, Error> {
        let mut tree = Tree::default();
        Reader::new(text).document(&mut tree)?;
        Ok(tree.done.expect("a value"))
    }

    /// Equality that tells `0.0` from `-0.0` and compares NaN-free doubles by bits.
    fn same(a: &AnyValue, b: &AnyValue) -> bool {
        match (a, b) {
            (AnyValue::Double(x), AnyValue::Double(y)) => x.to_bits() == y.to_bits(),
            (AnyValue::Array(x), AnyValue::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
            (AnyValue::Map(x), AnyValue::Map(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(a, b)| a.key == b.key && same(&a.value, &b.value))
            }
            _ => a == b,
        }
    }

    fn agrees(text: &str) -> Result<(), TestCaseError> {
        let ours = tree(text);
        let theirs: Result<AnyValue, _> = sonic_rs::from_str(text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => prop_assert!(same(a, b), "{text:?}: ours {a:?}, sonic-rs {b:?}"),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "{text:?}: ours {ours:?}, sonic-rs {theirs:?}"),
        }
        // Validation alone, and the member-by-member walk the JSON log parser makes of an object, agree with it.
        prop_assert_eq!(validate(text).is_ok(), ours.is_ok());
        let mut r = Reader::new(text);
        if r.enter_object() {
            let members = |r: &mut Reader<'_>| -> Result<(), Error> {
                let mut first = true;
                while r.member(first)?.is_some() {
                    first = false;
                    r.scalar_or_walk(&mut Check, 1)?;
                }
                r.end()
            };
            prop_assert_eq!(members(&mut r).is_ok(), ours.is_ok(), "member by member: {:?}", text);
        }
        Ok(())
    }

    #[test]
    fn edge_cases_agree_with_sonic() {
        let cases = [
            "-0",
            "0",
            "-0.0",
            "-0e-0",
            "-0.0e5",
            "01",
            "-01",
            "00",
            "1.",
            ".5",
            "+1",
            "1e400",
            "-1e400",
            "1e-400",
            "-1e-400",
            "18446744073709551615",
            "18446744073709551616",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "999999999999999999",
            "-999999999999999999",
            "1E2",
            "1e+2",
            "0.1",
            "1.7976931348623159e308",
            "4.9e-324",
            "2.4703282292062327e-324",
            "-",
            "-a",
            "1e",
            "1e+",
            "0e1",
            r#""\ud800""#,
            r#""\ud800\udc00""#,
            r#""\udc00""#,
            r#""\ud800x""#,
            r#""\ud800\u0041""#,
            r#""\u00e9""#,
            r#""\U00e9""#,
            r#""\x""#,
            "\"a\tb\"",
            "\"a\u{1}b\"",
            "\"a\u{7f}b\"",
            r#""\/""#,
            r#""\u0000""#,
            r#""\uD834\uDD1E""#,
            r#""\uDBFF\uDFFF""#,
            r#""\u12""#,
            r#""\u12G4""#,
            r#""abc"#,
            r#""\"#,
            " 1 ",
            "1 2",
            "",
            " ",
            "nul",
            "null",
            "true",
            "tru",
            "truex",
            "false",
            "nulls",
            "[1,]",
            "[,1]",
            "[1 2]",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            "{1:2}",
            "[]",
            "{}",
            "[[[]]]",
            r#"{"":1}"#,
            r#"{"a":1,"a":2}"#,
            "\u{c}1",
            "1\u{b}",
            "[",
            "{",
            r#"{"a""#,
            r#"{"a":"#,
            r#"{"a":1"#,
            "[1",
            "]",
            "}",
            "[}",
            "{]",
            r#"{"a":1]"#,
            "\u{a0}1",
            "1\u{a0}",
            r#""é\u00e9😀""#,
            "\"\u{2028}\"",
        ];
        for case in cases {
            agrees(case).unwrap();
        }
    }

    #[test]
    fn nesting_stops_where_sonic_stops() {
        let deep_ok = format!("{}{}", "[{\"a\":".repeat(MAX_DEPTH / 2), "}]".repeat(MAX_DEPTH / 2));
        let too_deep = format!("[{deep_ok}]");
        // sonic-rs recurses once per level: an unoptimised build needs more than a test thread's stack.
        let big_stack = std::thread::Builder::new().stack_size(256 << 20);
        big_stack
            .spawn(move || [deep_ok, too_deep].iter().try_for_each(|doc| agrees(doc)))
            .unwrap()
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(validate(&"[".repeat(100_000)).unwrap_err().reason, "nested too deep");
    }

    #[test]
    fn strings_resolve_their_escapes_lazily() {
        let mut r = Reader::new(r#" {"plain":"a b","esc\"aped":"tab\there \u00e9 \ud83d\ude00 \\ \/", "n": [1]} "#);
        assert!(r.enter_object());
        let key = r.member(true).unwrap().unwrap();
        assert_eq!(key.plain(), Some("plain"));
        let Ok(Some(Scalar::Str(v))) = r.scalar_or_walk(&mut Check, 1) else { panic!("a string") };
        assert!(matches!(v.get(), Cow::Borrowed("a b")));
        let key = r.member(false).unwrap().unwrap();
        assert_eq!((key.plain(), key.get().as_ref()), (None, "esc\"aped"));
        let Ok(Some(Scalar::Str(v))) = r.scalar_or_walk(&mut Check, 1) else { panic!("a string") };
        let mut out = String::from(">");
        v.push_to(&mut out);
        assert_eq!(out, ">tab\there é 😀 \\ /");
        assert_eq!(r.member(false).unwrap().and_then(|k| k.plain()), Some("n"));
        assert_eq!(r.scalar_or_walk(&mut Check, 1), Ok(None));
        assert_eq!(r.member(false), Ok(None));
        assert_eq!(r.end(), Ok(()));
    }

    #[test]
    fn errors_say_where() {
        assert_eq!(validate(r#"{"a":tru}"#), Err(Error { at: 5, reason: "expected a value" }));
        assert_eq!(validate("[1]x").unwrap_err().reason, "trailing characters after the document");
        assert_eq!(validate("\"a\u{1}\"").unwrap_err().at, 2);
    }

    /// JSON made of valid and broken pieces, so both acceptance and refusal get exercised.
    fn soup() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("{".to_owned()),
            Just("}".to_owned()),
            Just("[".to_owned()),
            Just("]".to_owned()),
            Just(",".to_owned()),
            Just(":".to_owned()),
            Just(" ".to_owned()),
            Just("\n".to_owned()),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("fals".to_owned()),
            Just(r#""k""#.to_owned()),
            Just(r#""\u00e9\n""#.to_owned()),
            Just(r#""\ud800""#.to_owned()),
            Just(r#""\q""#.to_owned()),
            Just("\"".to_owned()),
            "-?[0-9]{0,3}(\\.[0-9]{0,3})?([eE][+-]?[0-9]{0,3})?",
            "\"[ -~é\t\u{1}\\\\]{0,6}\"",
        ];
        prop::collection::vec(piece, 0..12).prop_map(|p| p.concat())
    }

    /// Valid documents of every shape, written with odd spacing and escapes.
    fn document() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u64>().prop_map(|i| i.to_string()),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| f.to_string()),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| format!("{f:e}")),
            "-?(0|[1-9][0-9]{0,24})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,2})?",
            any::<String>().prop_map(|s| sonic_rs::to_string(&s).unwrap_or_default()),
            "[ -~]{0,10}".prop_map(|s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\u0022"))),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(|v| format!("[{}]", v.join(" , "))),
                prop::collection::vec(("[a-z\\\\\"]{0,4}", inner), 0..6).prop_map(|kv| {
                    let members: Vec<String> = kv
                        .into_iter()
                        .map(|(k, v)| format!("{}:\t{v}", sonic_rs::to_string(&k).unwrap_or_default()))
                        .collect();
                    format!("{{ {} }}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #[test]
        fn documents_read_as_sonic_reads_them(doc in document()) {
            prop_assert!(validate(&doc).is_ok(), "{:?}", doc);
            agrees(&doc)?;
        }

        #[test]
        fn broken_documents_are_refused_as_sonic_refuses_them(text in soup()) {
            agrees(&text)?;
        }

        #[test]
        fn numbers_read_as_sonic_reads_them(text in "-?[0-9]{1,22}(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,3})?") {
            agrees(&text)?;
        }

        #[test]
        fn any_text_is_refused_or_read_as_sonic_reads_it(text in any::<String>()) {
            agrees(&text)?;
        }
    }
}
