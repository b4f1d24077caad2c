//! The OpenTelemetry-shaped model the pipeline speaks: spans, metrics, log records and their resources.
//!
//! Nothing here knows about AWS wire types or an export encoding; decoders produce it, exporters consume it.

use std::borrow::Cow;
use std::fmt;

/// Nanoseconds since the Unix epoch, the unit of every OTLP timestamp.
pub type UnixNanos = u64;

/// Converts milliseconds since the epoch (CloudWatch's unit) to nanoseconds; negative times clamp to 0.
pub fn ms_to_ns(ms: i64) -> UnixNanos {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// Converts a duration in fractional milliseconds (Lambda's REPORT unit) to whole nanoseconds.
pub fn duration_ms_to_ns(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        // Round rather than truncate: 102.25 ms must become 102_250_000 ns exactly.
        (ms * 1_000_000.0).round() as u64
    } else {
        0
    }
}

/// An attribute key; the common ones are static so they cost no allocation.
pub type Key = Cow<'static, str>;

/// An OTLP `AnyValue`.
///
/// Equality and `Debug` see a [`AnyValue::Json`] document as the tree it stands for, so it compares equal to and
/// prints like the value parsing it would have built.
#[derive(Clone)]
pub enum AnyValue {
    Str(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Array(Vec<AnyValue>),
    Map(Vec<KeyValue>),
    Bytes(Vec<u8>),
    /// A JSON document kept as its text: the value it parses to, not built. Structured log lines are shipped far
    /// more often than looked into, so the protobuf encoder writes them straight from the text and only code that
    /// walks a value builds the tree ([`AnyValue::parsed`]).
    Json(JsonDoc),
}

/// The text of one JSON value that parsed (the parser that made it checked it, depth included).
///
/// It may also carry the value's OTLP/protobuf `AnyValue` encoding, rendered by the parser in the same walk that
/// checked it when the pipeline knows bodies will be shipped that way (`Config::render_otlp_bodies`): the one
/// encoding every body pays for is then not a second walk. Equality sees the text only.
#[derive(Clone)]
pub struct JsonDoc {
    text: Box<str>,
    otlp: Option<Vec<u8>>,
}

impl PartialEq for JsonDoc {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for JsonDoc {}

impl JsonDoc {
    /// Wraps `text` that has been parsed successfully, as the JSON of one value, by the caller; `parse` falls
    /// back to the text as a string if it was not, so a wrong promise shows in the output rather than panicking.
    pub fn new_parsed(text: &str) -> Self {
        JsonDoc { text: text.into(), otlp: None }
    }

    /// The same, with the `AnyValue` message content the OTLP/protobuf encoder would write for it.
    pub fn with_otlp(text: &str, otlp: Vec<u8>) -> Self {
        JsonDoc { text: text.into(), otlp: Some(otlp) }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The OTLP/protobuf encoding rendered while parsing, if it was.
    pub fn otlp(&self) -> Option<&[u8]> {
        self.otlp.as_deref()
    }

    /// The tree, exactly as `AnyValue`'s `Deserialize` builds it.
    pub fn parse(&self) -> AnyValue {
        sonic_rs::from_str(&self.text).unwrap_or_else(|_| AnyValue::Str(self.text.to_string()))
    }
}

/// A JSON object key, borrowed from the text unless it had escapes.
#[derive(Debug)]
pub struct JsonKey<'de>(pub Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for JsonKey<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<JsonKey<'de>, E> {
                Ok(JsonKey(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<JsonKey<'de>, E> {
                Ok(JsonKey(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<JsonKey<'de>, E> {
                Ok(JsonKey(Cow::Owned(v)))
            }
        }
        d.deserialize_string(V)
    }
}

impl fmt::Debug for JsonDoc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.parse(), f)
    }
}

impl fmt::Debug for AnyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnyValue::Str(v) => f.debug_tuple("Str").field(v).finish(),
            AnyValue::Bool(v) => f.debug_tuple("Bool").field(v).finish(),
            AnyValue::Int(v) => f.debug_tuple("Int").field(v).finish(),
            AnyValue::Double(v) => f.debug_tuple("Double").field(v).finish(),
            AnyValue::Array(v) => f.debug_tuple("Array").field(v).finish(),
            AnyValue::Map(v) => f.debug_tuple("Map").field(v).finish(),
            AnyValue::Bytes(v) => f.debug_tuple("Bytes").field(v).finish(),
            AnyValue::Json(doc) => fmt::Debug::fmt(doc, f),
        }
    }
}

impl PartialEq for AnyValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AnyValue::Str(a), AnyValue::Str(b)) => a == b,
            (AnyValue::Bool(a), AnyValue::Bool(b)) => a == b,
            (AnyValue::Int(a), AnyValue::Int(b)) => a == b,
            (AnyValue::Double(a), AnyValue::Double(b)) => a == b,
            (AnyValue::Array(a), AnyValue::Array(b)) => a == b,
            (AnyValue::Map(a), AnyValue::Map(b)) => a == b,
            (AnyValue::Bytes(a), AnyValue::Bytes(b)) => a == b,
            (AnyValue::Json(a), AnyValue::Json(b)) if a == b => true,
            (AnyValue::Json(a), b) => a.parse() == *b,
            (a, AnyValue::Json(b)) => *a == b.parse(),
            _ => false,
        }
    }
}

impl AnyValue {
    /// This value with any JSON document built into its tree: what code that looks into values walks.
    pub fn parsed(&self) -> Cow<'_, AnyValue> {
        match self {
            AnyValue::Json(doc) => Cow::Owned(doc.parse()),
            other => Cow::Borrowed(other),
        }
    }

    /// The value of `key` when this is a map (a [`AnyValue::Json`] document is not looked into: see `parsed`).
    pub fn get(&self, key: &str) -> Option<&AnyValue> {
        match self {
            AnyValue::Map(kvs) => kvs.iter().find(|kv| kv.key == key).map(|kv| &kv.value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            AnyValue::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Numeric view: ints and doubles, and strings that hold a number (EMF and beelines send both).
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AnyValue::Int(i) => Some(*i as f64),
            AnyValue::Double(d) => Some(*d),
            AnyValue::Str(s) => s.trim().parse::<f64>().ok().filter(|v| v.is_finite()),
            _ => None,
        }
    }
}

impl From<&str> for AnyValue {
    fn from(s: &str) -> Self {
        AnyValue::Str(s.to_owned())
    }
}
impl From<String> for AnyValue {
    fn from(s: String) -> Self {
        AnyValue::Str(s)
    }
}
impl From<bool> for AnyValue {
    fn from(b: bool) -> Self {
        AnyValue::Bool(b)
    }
}
impl From<i64> for AnyValue {
    fn from(i: i64) -> Self {
        AnyValue::Int(i)
    }
}
impl From<f64> for AnyValue {
    fn from(d: f64) -> Self {
        AnyValue::Double(d)
    }
}

/// JSON → `AnyValue` without an intermediate tree: objects keep their key order, integers that fit
/// stay integers, everything else numeric becomes a double.
impl<'de> serde::Deserialize<'de> for AnyValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = AnyValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<AnyValue, E> {
                Ok(AnyValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<AnyValue, E> {
                Ok(AnyValue::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<AnyValue, E> {
                Ok(i64::try_from(v).map_or(AnyValue::Double(v as f64), AnyValue::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<AnyValue, E> {
                Ok(AnyValue::Double(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<AnyValue, E> {
                Ok(AnyValue::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<AnyValue, E> {
                Ok(AnyValue::Str(v))
            }
            fn visit_unit<E>(self) -> Result<AnyValue, E> {
                // OTLP has no null; an empty value is the closest faithful rendering.
                Ok(AnyValue::Str(String::new()))
            }
            fn visit_none<E>(self) -> Result<AnyValue, E> {
                Ok(AnyValue::Str(String::new()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<AnyValue, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element()? {
                    out.push(v);
                }
                Ok(AnyValue::Array(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<AnyValue, A::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, AnyValue>()? {
                    out.push(KeyValue::new(k, v));
                }
                Ok(AnyValue::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// One attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyValue {
    pub key: Key,
    pub value: AnyValue,
}

impl KeyValue {
    pub fn new(key: impl Into<Key>, value: impl Into<AnyValue>) -> Self {
        KeyValue { key: key.into(), value: value.into() }
    }
}

pub type Attributes = Vec<KeyValue>;

/// Looks an attribute up by key.
pub fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attrs.iter().find(|kv| kv.key == key).map(|kv| &kv.value)
}

/// A W3C / OTLP trace id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TraceId(pub [u8; 16]);

/// A W3C / OTLP span id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SpanId(pub [u8; 8]);

impl TraceId {
    /// Exactly 32 hex digits (any case); anything else is not a trace id. All-zero ids are invalid in OTLP.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 16];
        if let Ok(hex) = <&[u8; 32]>::try_from(s.as_bytes()) {
            return hex_exact(hex, &mut out).filter(|()| out != [0; 16]).map(|()| TraceId(out));
        }
        decode_hex(s, &mut out).filter(|()| out != [0; 16]).map(|()| TraceId(out))
    }

    /// The X-Ray root `1-5759e988-bd862e3fe1be46a994272793` (also as `Root=…;Parent=…` header) as its 32 hex digits.
    pub fn from_xray(s: &str) -> Option<Self> {
        // The bare root, or a header that starts with it, is what Lambda prints; the general parse below
        // walks the string several times over. Bytes that are all hex hold no `;`, `-` or whitespace, so
        // these shapes read exactly as the general parse reads them.
        let b = s.as_bytes();
        let root = match b.len() {
            35 => Some(b),
            40.. if b.starts_with(b"Root=") && b.get(40).is_none_or(|c| *c == b';') => Some(&b[5..40]),
            _ => None,
        };
        if let Some(r) = root.filter(|r| r.starts_with(b"1-") && r[10] == b'-') {
            let mut out = [0u8; 16];
            let (epoch, unique) = out.split_at_mut(4);
            if hex_exact(&r[2..10], epoch).and_then(|()| hex_exact(&r[11..35], unique)).is_some() {
                return (out != [0; 16]).then_some(TraceId(out));
            }
        }
        Self::from_xray_general(s)
    }

    /// Every shape [`TraceId::from_xray`] accepts.
    fn from_xray_general(s: &str) -> Option<Self> {
        let root = s.split(';').find_map(|part| part.trim().strip_prefix("Root=")).unwrap_or(s).trim();
        let rest = root.strip_prefix("1-")?;
        let (epoch, unique) = rest.split_once('-')?;
        if epoch.len() != 8 || unique.len() != 24 {
            return None;
        }
        let mut hex = [0u8; 32];
        hex[..8].copy_from_slice(epoch.as_bytes());
        hex[8..].copy_from_slice(unique.as_bytes());
        std::str::from_utf8(&hex).ok().and_then(TraceId::from_hex)
    }

    /// A stable id for a string that is not a trace id (a request id, a beeline UUID): a UUID's own 32 hex
    /// digits when it is one, otherwise a 128-bit FNV-1a hash, so every batch derives the same id.
    pub fn derive(s: &str) -> Self {
        let compact: String = s.chars().filter(|c| *c != '-').collect();
        TraceId::from_hex(&compact).unwrap_or_else(|| TraceId(fnv1a_128(s.as_bytes()).to_be_bytes()))
    }
}

impl SpanId {
    /// Exactly 16 hex digits; all-zero is invalid.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 8];
        if let Ok(hex) = <&[u8; 16]>::try_from(s.as_bytes()) {
            return hex_exact(hex, &mut out).filter(|()| out != [0; 8]).map(|()| SpanId(out));
        }
        decode_hex(s, &mut out).filter(|()| out != [0; 8]).map(|()| SpanId(out))
    }

    /// A stable span id for any string: its hex when it is one, otherwise 64 bits of a hash of it.
    pub fn derive(s: &str) -> Self {
        SpanId::from_hex(s).unwrap_or_else(|| {
            let h = fnv1a_128(s.as_bytes()).to_be_bytes();
            let mut id = [0u8; 8];
            id.copy_from_slice(&h[8..]);
            if id == [0; 8] {
                id[7] = 1;
            }
            SpanId(id)
        })
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}
impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

// Hex in Debug output too, so snapshots and assertion failures read like the ids users see.
impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}
impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}

fn decode_hex(s: &str, out: &mut [u8]) -> Option<()> {
    let bytes = s.as_bytes();
    if bytes.len() != out.len() * 2 {
        return None;
    }
    fn nibble(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        out[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
    }
    Some(())
}

/// Nibble values by byte, 0xff for bytes that are not hex digits: one load per digit instead of a range match.
const HEX_NIBBLE: [u8; 256] = {
    let mut t = [0xff; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// [`decode_hex`] for a `hex` already known to be twice as long as `out`, without a branch per digit.
fn hex_exact(hex: &[u8], out: &mut [u8]) -> Option<()> {
    let mut bad = 0;
    for (o, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        let (hi, lo) = (HEX_NIBBLE[usize::from(pair[0])], HEX_NIBBLE[usize::from(pair[1])]);
        bad |= hi | lo;
        *o = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(())
}

fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    bytes.iter().fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME))
}

/// OTLP span kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanKind {
    Internal = 1,
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// OTLP span status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Unset,
    Ok,
    Error(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub parent_span_id: Option<SpanId>,
    pub name: String,
    pub kind: SpanKind,
    pub start_ns: UnixNanos,
    pub end_ns: UnixNanos,
    pub attributes: Attributes,
    pub status: Status,
}

/// OTLP severity: the number (1..=24) and the text the source used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Severity {
    pub number: u8,
    pub text: String,
}

impl Severity {
    /// Reads the level spellings of the Lambda runtimes and common loggers: `INFO`, `warning`, .NET's
    /// `fail`/`crit`/`dbug`/`trce`, Ruby's `I`/`W`/`E`, pino/bunyan numbers (`30`), syslog-ish `notice`.
    /// Unknown words keep their text with number 0 (unspecified).
    pub fn parse(level: &str) -> Severity {
        // `trim` decodes chars from both ends; a level that starts and ends in a printable ASCII byte has
        // nothing to trim (every Unicode space other than ASCII's starts with a byte >= 0x80).
        let text = match level.as_bytes() {
            [first, .., last] if first.is_ascii_graphic() && last.is_ascii_graphic() => level,
            [only] if only.is_ascii_graphic() => level,
            _ => level.trim(),
        };
        Severity { number: Self::number_of(text), text: text.to_owned() }
    }

    /// The number of a trimmed level word: lower-cased once into a buffer and matched as a whole, instead of
    /// up to 39 case-insensitive compares. No word is longer than 11 bytes, and lower-casing leaves every
    /// non-ASCII byte alone, so this agrees with [`Severity::number_general`] everywhere.
    fn number_of(text: &str) -> u8 {
        let b = text.as_bytes();
        let mut buf = [0u8; 11];
        let Some(lower) = buf.get_mut(..b.len()) else {
            return Self::number_general(text);
        };
        for (l, c) in lower.iter_mut().zip(b) {
            *l = c.to_ascii_lowercase();
        }
        match &*lower {
            b"trace" | b"trce" | b"t" | b"10" | b"finest" | b"finer" => 1,
            b"debug" | b"dbug" | b"d" | b"20" | b"fine" | b"config" => 5,
            b"info" | b"information" | b"i" | b"30" | b"notice" | b"log" => 9,
            b"warn" | b"warning" | b"w" | b"40" => 13,
            b"error" | b"err" | b"fail" | b"e" | b"50" | b"severe" => 17,
            b"fatal" | b"crit" | b"critical" | b"f" | b"60" | b"alert" | b"emergency" | b"emerg" | b"panic" => 21,
            _ => 0,
        }
    }

    /// The reference list [`Severity::number_of`] must agree with.
    const WORDS: [(u8, &[&str]); 6] = [
        (1, &["trace", "trce", "t", "10", "finest", "finer"]),
        (5, &["debug", "dbug", "d", "20", "fine", "config"]),
        (9, &["info", "information", "i", "30", "notice", "log"]),
        (13, &["warn", "warning", "w", "40"]),
        (17, &["error", "err", "fail", "e", "50", "severe"]),
        (21, &["fatal", "crit", "critical", "f", "60", "alert", "emergency", "emerg", "panic"]),
    ];

    fn number_general(text: &str) -> u8 {
        // Compared without case rather than lower-cased first: one allocation less on every log line.
        Self::WORDS.iter().find(|(_, words)| words.iter().any(|w| w.eq_ignore_ascii_case(text))).map_or(0, |(n, _)| *n)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// When the event happened, from the line itself when it says, else CloudWatch's event time.
    pub time_ns: UnixNanos,
    /// CloudWatch's event timestamp: when the line was seen.
    pub observed_ns: UnixNanos,
    pub severity: Option<Severity>,
    pub body: AnyValue,
    pub attributes: Attributes,
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
}

/// Aggregation temporality of sums and histograms; logship only ever reports what one batch saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    Delta = 1,
    Cumulative = 2,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Double(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Double(d) => d,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct NumberPoint {
    pub attributes: Attributes,
    pub start_ns: UnixNanos,
    pub time_ns: UnixNanos,
    pub value: Number,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HistogramPoint {
    pub attributes: Attributes,
    pub start_ns: UnixNanos,
    pub time_ns: UnixNanos,
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// Upper bounds; `bucket_counts` has one more entry than this (the overflow bucket).
    pub bounds: Vec<f64>,
    pub bucket_counts: Vec<u64>,
}

impl HistogramPoint {
    /// A histogram of the given samples over explicit bucket `bounds`.
    pub fn from_samples(
        attributes: Attributes,
        start_ns: UnixNanos,
        time_ns: UnixNanos,
        bounds: &[f64],
        samples: impl IntoIterator<Item = f64>,
    ) -> Self {
        let mut p = HistogramPoint {
            attributes,
            start_ns,
            time_ns,
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            bounds: bounds.to_vec(),
            bucket_counts: vec![0; bounds.len() + 1],
        };
        for v in samples {
            p.count += 1;
            p.sum += v;
            p.min = p.min.min(v);
            p.max = p.max.max(v);
            // OTLP buckets are (previous bound, bound]: a value equal to a bound falls in that bound's bucket.
            let i = bounds.partition_point(|b| *b < v);
            p.bucket_counts[i] += 1;
        }
        p
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetricData {
    Gauge(Vec<NumberPoint>),
    Sum { points: Vec<NumberPoint>, temporality: Temporality, monotonic: bool },
    Histogram { points: Vec<HistogramPoint>, temporality: Temporality },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    pub name: String,
    pub description: String,
    /// UCUM unit, as OpenTelemetry writes it (`s`, `By`, `{invocation}`).
    pub unit: String,
    pub data: MetricData,
}

impl Metric {
    pub fn point_count(&self) -> usize {
        match &self.data {
            MetricData::Gauge(p) | MetricData::Sum { points: p, .. } => p.len(),
            MetricData::Histogram { points, .. } => points.len(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resource {
    pub attributes: Attributes,
}

/// Everything one resource (one Lambda execution environment, i.e. one log stream) produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceTelemetry {
    pub resource: Resource,
    pub spans: Vec<Span>,
    pub metrics: Vec<Metric>,
    pub logs: Vec<LogRecord>,
}

/// The pipeline's output for one invocation of the shipper.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Telemetry {
    pub resources: Vec<ResourceTelemetry>,
}

impl Telemetry {
    pub fn span_count(&self) -> usize {
        self.resources.iter().map(|r| r.spans.len()).sum()
    }
    pub fn point_count(&self) -> usize {
        self.resources.iter().flat_map(|r| &r.metrics).map(Metric::point_count).sum()
    }
    pub fn log_count(&self) -> usize {
        self.resources.iter().map(|r| r.logs.len()).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Hex digits in both cases, with zeros common enough to hit the all-zero id, and now and then a byte
    /// that is not hex (including the separators the X-Ray parse splits on).
    fn hex(n: usize) -> impl Strategy<Value = String> {
        let digits =
            move |class: &str| proptest::string::string_regex(&format!("[{class}]{{{n}}}")).expect("valid regex");
        let odd = prop::sample::select(vec!["g", "G", ";", "-", " ", "\t", "=", "é", "/", ":", "@", "`"]);
        let spoiled = (digits("0-9a-fA-F"), 0..n, odd).prop_map(|(h, at, c)| {
            let mut h = h.into_bytes();
            h.splice(at..=at, c.bytes());
            String::from_utf8(h).expect("hex and one char")
        });
        prop_oneof![4 => digits("0-9a-fA-F"), 1 => digits("0"), 2 => spoiled]
    }

    /// X-Ray roots and headers, mostly well formed, with one part or another now and then not.
    fn xray() -> impl Strategy<Value = String> {
        fn mostly(good: &'static str, bad: &[&'static str]) -> impl Strategy<Value = &'static str> + Clone {
            prop_oneof![6 => Just(good), 1 => Just(""), 2 => prop::sample::select(bad.to_vec())]
        }
        let version = mostly("1-", &["2-", "1_", "-", "1", "11-", "1--"]);
        let sep = mostly("-", &[";", "_", "--", " "]);
        let head = prop_oneof![2 => Just(""), 2 => Just("Root="), 1 => prop::sample::select(vec!["root=", "Parent=1;Root=", "Root= ", "Root=;", " Root="])];
        let pad = mostly("", &[" ", "\t", "\u{a0}", ";"]);
        let tail = mostly(
            "",
            &[
                ";Parent=53995c3f42cd8ad8;Sampled=1",
                ";",
                "x",
                "0",
                " ;Sampled=0",
                ";Root=1-5759e988-bd862e3fe1be46a994272793",
            ],
        );
        (pad.clone(), head, version, hex(8), sep, hex(24), pad, tail)
            .prop_map(|(p1, h, v, e, sep, u, p2, t)| format!("{p1}{h}{v}{e}{sep}{u}{p2}{t}"))
    }

    fn decode_general<const N: usize>(s: &str) -> Option<[u8; N]> {
        let mut out = [0u8; N];
        decode_hex(s, &mut out).filter(|()| out != [0; N]).map(|()| out)
    }

    /// Level words in random case, with the odd whitespace loggers pad them with.
    fn level() -> impl Strategy<Value = String> {
        let words: Vec<&str> = Severity::WORDS.iter().flat_map(|(_, w)| w.iter().copied()).collect();
        let word = prop_oneof![
            4 => prop::sample::select(words),
            1 => prop::sample::select(vec!["verbose", "informations", "warnings", "", "İnfo", "ınfo", "K", "9"]),
        ];
        let case = prop::collection::vec(any::<bool>(), 12);
        let pad = prop::sample::select(vec![
            "", "", "", " ", "\t", "\n", "\u{b}", "\u{c}", "\r", "\u{a0}", "\u{3000}", "\u{85}", "x",
        ]);
        (pad.clone(), word, case, pad).prop_map(|(a, w, case, b)| {
            let w: String = w
                .chars()
                .zip(case.into_iter().chain(std::iter::repeat(false)))
                .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            format!("{a}{w}{b}")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn fast_xray_ids_agree_with_the_general_parse(s in prop_oneof![xray(), any::<String>(), ".{30,45}"]) {
            prop_assert_eq!(TraceId::from_xray(&s), TraceId::from_xray_general(&s), "{:?}", s);
        }

        #[test]
        fn fast_hex_ids_agree_with_the_general_decode(
            s in prop_oneof![hex(32), hex(16), hex(31), hex(33), any::<String>()]
        ) {
            prop_assert_eq!(TraceId::from_hex(&s).map(|t| t.0), decode_general::<16>(&s), "{:?}", s);
            prop_assert_eq!(SpanId::from_hex(&s).map(|t| t.0), decode_general::<8>(&s), "{:?}", s);
        }

        #[test]
        fn fast_levels_agree_with_the_word_list(s in prop_oneof![level(), any::<String>(), "\\PC{0,12}"]) {
            let text = s.trim();
            let want = Severity { number: Severity::number_general(text), text: text.to_owned() };
            prop_assert_eq!(Severity::parse(&s), want, "{:?}", s);
        }
    }

    #[test]
    fn xray_root_becomes_its_hex_digits() {
        let id = TraceId::from_xray("1-5759e988-bd862e3fe1be46a994272793").map(|t| t.to_string());
        assert_eq!(id.as_deref(), Some("5759e988bd862e3fe1be46a994272793"));
        let hdr = TraceId::from_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
        assert_eq!(hdr.map(|t| t.to_string()).as_deref(), Some("5759e988bd862e3fe1be46a994272793"));
        assert_eq!(TraceId::from_xray("1-5759e988-short"), None);
        assert_eq!(TraceId::from_xray("2-5759e988-bd862e3fe1be46a994272793"), None);
    }

    #[test]
    fn derived_ids_are_stable_and_use_uuid_digits() {
        let rid = "8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f";
        assert_eq!(TraceId::derive(rid).to_string(), "8f5c1c4e2b2a4b4e9d8e0a1b2c3d4e5f");
        assert_eq!(TraceId::derive("not-a-uuid"), TraceId::derive("not-a-uuid"));
        assert_ne!(TraceId::derive("a"), TraceId::derive("b"));
        assert_eq!(SpanId::derive("x"), SpanId::derive("x"));
        assert_eq!(SpanId::derive("53995c3f42cd8ad8").to_string(), "53995c3f42cd8ad8");
    }

    #[test]
    fn durations_round_to_exact_nanoseconds() {
        assert_eq!(duration_ms_to_ns(102.25), 102_250_000);
        assert_eq!(duration_ms_to_ns(0.01), 10_000);
        assert_eq!(duration_ms_to_ns(f64::NAN), 0);
        assert_eq!(ms_to_ns(-5), 0);
    }

    #[test]
    fn severity_reads_every_runtime_spelling() {
        for (text, n) in [
            ("INFO", 9),
            ("warning", 13),
            ("fail", 17),
            ("crit", 21),
            ("dbug", 5),
            ("W", 13),
            ("50", 17),
            ("TRACE", 1),
            ("verbose", 0),
        ] {
            assert_eq!(Severity::parse(text).number, n, "{text}");
        }
    }

    #[test]
    fn histogram_buckets_are_upper_inclusive() {
        let p = HistogramPoint::from_samples(vec![], 0, 1, &[1.0, 2.0], [0.5, 1.0, 1.5, 2.0, 9.0]);
        assert_eq!(p.bucket_counts, vec![2, 2, 1]);
        assert_eq!((p.count, p.min, p.max), (5, 0.5, 9.0));
        assert!((p.sum - 14.0).abs() < 1e-9);
    }
}
