//! Structured JSON application logs: Lambda's JSON log format, Powertools, pino, bunyan and their kin.
//!
//! The whole document becomes the record's body; the time, level, request id and trace context are read out of
//! it (and stay in the body) under the names these loggers use:
//!
//! | field | keys, first usable one wins |
//! | --- | --- |
//! | time | `timestamp` (Lambda, Powertools), `time` (pino, bunyan), `@timestamp` (ECS), `ts` (zap); RFC 3339 or epoch |
//! | level | `level`, `levelname`, `severity`, `log.level`; a word or a pino/bunyan number |
//! | request id | `requestId` (Node.js, Python, .NET, Ruby), `AWSRequestId` (Java), `function_request_id` (Powertools), `aws_request_id`, `awsRequestId` |
//! | trace | `xray_trace_id`, `traceId` (.NET sends the whole X-Ray header), `trace_id`, `_X_AMZN_TRACE_ID`; X-Ray or W3C |
//! | span | `spanId`, `span_id` |
//!
//! What the document does not say comes from the context: the runtime prefix the JSON sat behind
//! (`console.log(JSON.stringify(obj))`), else CloudWatch's event time.

use super::{from_json, AppLog, Ctx, Format, Item, ParseError};
use crate::export::otlp_proto;
use crate::json;
use crate::telemetry::{AnyValue, JsonDoc, JsonKey, Severity, SpanId, TraceId, UnixNanos};
use crate::time::{from_epoch_digits, from_epoch_number, from_epoch_str, parse_timestamp};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// Claims every line that opens with `{`; a line that opens like an array or a number is claimed only when it
/// parses, because text lines start that way too (`[INFO] …`, `2024-03-01 …`).
///
/// An object is read once, for the few fields lifted out of it, and kept as its text: the exporters write the body
/// from the text, so no tree of the document is built for the common case of shipping it.
pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    let text = line.trim_start_matches(JSON_WHITESPACE);
    let (fields, body) = match text.as_bytes().first() {
        Some(b'{') => {
            let mut fields = Lifted::default();
            match walk_object::<false>(text, ctx.render_otlp, &mut fields) {
                Ok(Some((body, _))) => (fields, body),
                // A document the reader refuses goes to sonic-rs, whose message the malformed record carries.
                Ok(None) | Err(_) => {
                    (from_json::<Lifted<'_>>(Format::JsonLog, text)?, AnyValue::Json(JsonDoc::new_parsed(text)))
                }
            }
        }
        Some(b'[') if text.trim_end_matches(JSON_WHITESPACE).ends_with(']') => match whole_json(text) {
            Some(value) => (Lifted::default(), value),
            None => return Ok(None),
        },
        Some(b'-' | b'0'..=b'9') if text.bytes().all(|c| c.is_ascii_digit() || b"+-.eE \t\r\n".contains(&c)) => {
            match whole_json(text) {
                Some(value) => (Lifted::default(), value),
                None => return Ok(None),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(vec![Item::Log(record(&fields, body, ctx))]))
}

/// A line [`parse_unrouted`] read as a JSON log, and what its top-level keys leave for the dispatcher to ask.
#[derive(Debug)]
pub(crate) struct Unrouted {
    pub items: Vec<Item>,
    /// The keys that would let beeline's parser claim a valid document (`data`) were there.
    pub beeline: bool,
    /// The keys that would let the JSON platform parser claim a valid document (`type`, or `time` or `record`
    /// twice, which its envelope refuses) were there.
    pub platform: bool,
}

/// [`parse`] for a line that opens with `{`, reading in the same walk whether another JSON format could want the
/// line: each of them claims a valid document only for what its top-level keys say, so keys that say nothing to
/// them settle the line without their substring scans and parses. `None` where the walk cannot settle it — a key
/// EMF or beeline claims by (`_aws`, `trace.trace_id`), a platform record's `"type":"platform.…`, or a document
/// the reader refuses, whose claimant depends on substrings — for the dispatcher to try the formats in order.
pub(crate) fn parse_unrouted(line: &str, ctx: &Ctx<'_>) -> Option<Unrouted> {
    let text = line.trim_start_matches(JSON_WHITESPACE);
    let bare = ctx.prefix.is_none();
    // Filled in place: the fields are too big to move about by value for every line.
    let mut fields = Lifted::default();
    let (body, seen) = walk_object::<true>(text, ctx.render_otlp, &mut fields).ok()??;
    let items = vec![Item::Log(record(&fields, body, ctx))];
    Some(Unrouted { items, beeline: seen.data, platform: bare && seen.platform })
}

/// Walks an object line once into `fields`, checking all of it, and renders its body as OTLP/protobuf when
/// `render`. `Ok(None)` where a `ROUTE` walk stopped at a key that makes the line likely another format's (see
/// [`lift`]).
fn walk_object<'a, const ROUTE: bool>(
    text: &'a str,
    render: bool,
    fields: &mut Lifted<'a>,
) -> Result<Option<(AnyValue, Seen)>, json::Error> {
    let kept = |seen: Seen| !(seen.routed || seen.platform_record);
    if !render {
        let seen = lift::<_, ROUTE>(text, &mut json::Check, fields)?;
        return Ok(kept(seen).then(|| (AnyValue::Json(JsonDoc::new_parsed(text)), seen)));
    }
    // Rendered into a reused buffer and copied out at its size only once the line is kept: a line handed back (a
    // platform record, EMF, a beeline span) then costs no allocation, and a kept body no spare capacity.
    let mut walk = |otlp: &mut Vec<u8>| {
        otlp.clear();
        let seen = lift::<_, ROUTE>(text, &mut otlp_proto::JsonWriter::new(otlp), fields)?;
        Ok(kept(seen).then(|| (AnyValue::Json(JsonDoc::with_otlp(text, otlp.clone())), seen)))
    };
    RENDERED.with(|cell| match cell.try_borrow_mut() {
        Ok(mut otlp) => walk(&mut otlp),
        // Only reentrancy could find it borrowed; a buffer of its own is still right.
        Err(_) => walk(&mut Vec::new()),
    })
}

thread_local! {
    /// [`walk_object`]'s rendering of the line being read.
    static RENDERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// JSON's insignificant whitespace; `str::trim` would also eat Unicode spaces the JSON parser then rejects.
pub(crate) const JSON_WHITESPACE: [char; 4] = [' ', '\t', '\r', '\n'];

fn whole_json(text: &str) -> Option<AnyValue> {
    sonic_rs::from_str(text).ok()
}

fn record(fields: &Lifted<'_>, body: AnyValue, ctx: &Ctx<'_>) -> AppLog {
    let time_ns = fields.first(TIME_KEYS, time_of).unwrap_or_else(|| ctx.time_ns());
    let severity = fields.first(LEVEL_KEYS, severity_of).or_else(|| ctx.severity());
    let request_id = fields
        .first(REQUEST_ID_KEYS, |v| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .or_else(|| ctx.request_id().map(str::to_owned));
    let trace_id = fields.first(TRACE_KEYS, |v| v.as_str().and_then(trace_of));
    let span_id = fields.first(SPAN_KEYS, |v| v.as_str().and_then(|s| SpanId::from_hex(s.trim())));
    AppLog { time_ns, request_id, severity, body, attributes: Vec::new(), trace_id, span_id }
}

/// Every top-level key a field may be lifted from, grouped by field in the order the groups below name them: each
/// field is read by index range, so no key is compared again once the document has been read.
const LIFTED_KEYS: [&str; 19] = [
    "timestamp",
    "time",
    "@timestamp",
    "ts",
    "level",
    "levelname",
    "severity",
    "log.level",
    "requestId",
    "AWSRequestId",
    "function_request_id",
    "aws_request_id",
    "awsRequestId",
    "xray_trace_id",
    "traceId",
    "trace_id",
    "_X_AMZN_TRACE_ID",
    "spanId",
    "span_id",
];
/// The index of `key` in [`LIFTED_KEYS`]; a test keeps the two lists equal.
fn lifted_slot(key: &str) -> Option<usize> {
    key_slot(key).filter(|&slot| slot < LIFTED_KEYS.len())
}

/// Top-level keys that make a document another format's, or may: EMF's `_aws`, beeline's `trace.trace_id` and
/// `data`, the JSON platform envelope's `type` and `record` (its `time` is lifted anyway). [`key_slot`] numbers them
/// after [`LIFTED_KEYS`], so one `match` tells both kinds apart.
const ROUTING_KEYS: [&str; 5] = ["_aws", "trace.trace_id", "data", "type", "record"];
const AWS_SLOT: usize = LIFTED_KEYS.len();
const TRACE_SLOT: usize = AWS_SLOT + 1;
const DATA_SLOT: usize = AWS_SLOT + 2;
const TYPE_SLOT: usize = AWS_SLOT + 3;
const RECORD_SLOT: usize = AWS_SLOT + 4;
const TIME_SLOT: usize = 1;
const _: () = assert!(RECORD_SLOT + 1 == LIFTED_KEYS.len() + ROUTING_KEYS.len());

/// The slot of a top-level key in [`LIFTED_KEYS`] then [`ROUTING_KEYS`], as a `match` (a jump on the length, then
/// one comparison) rather than a comparison per key for every key of every document.
fn key_slot(key: &str) -> Option<usize> {
    Some(match key {
        "timestamp" => 0,
        "time" => 1,
        "@timestamp" => 2,
        "ts" => 3,
        "level" => 4,
        "levelname" => 5,
        "severity" => 6,
        "log.level" => 7,
        "requestId" => 8,
        "AWSRequestId" => 9,
        "function_request_id" => 10,
        "aws_request_id" => 11,
        "awsRequestId" => 12,
        "xray_trace_id" => 13,
        "traceId" => 14,
        "trace_id" => 15,
        "_X_AMZN_TRACE_ID" => 16,
        "spanId" => 17,
        "span_id" => 18,
        "_aws" => 19,
        "trace.trace_id" => 20,
        "data" => 21,
        "type" => 22,
        "record" => 23,
        _ => return None,
    })
}

const TIME_KEYS: Range<usize> = 0..4;
const LEVEL_KEYS: Range<usize> = 4..8;
const REQUEST_ID_KEYS: Range<usize> = 8..13;
const TRACE_KEYS: Range<usize> = 13..17;
const SPAN_KEYS: Range<usize> = 17..19;

/// What a walk saw of the top-level keys in [`ROUTING_KEYS`].
#[derive(Debug, Default, Clone, Copy)]
struct Seen {
    /// `_aws` or `trace.trace_id`: the walk stopped there, when asked to.
    routed: bool,
    /// `data`.
    data: bool,
    /// `type`, or a second `time` or `record` (which the platform envelope refuses as duplicates, and its parser
    /// then claims the line by a substring).
    platform: bool,
    /// `type` with a value spelled as Lambda spells a platform record's: the walk stopped there, when asked to.
    platform_record: bool,
}

/// Reads a top-level object into `out` (empty before), checking the whole document and walking all of it into
/// `visitor` (which renders the body when the pipeline asks for it, and is [`json::Check`] otherwise). With `ROUTE`,
/// it stops early, the rest unchecked, at a key that makes the line likely some other format's (see [`Seen`]): the
/// line is then read again by whichever format takes it, so the rest of the walk would be wasted.
fn lift<'a, V: json::Visitor<'a>, const ROUTE: bool>(
    text: &'a str,
    visitor: &mut V,
    out: &mut Lifted<'a>,
) -> Result<Seen, json::Error> {
    let mut reader = json::Reader::new(text);
    let mut seen = Seen::default();
    if !reader.enter_object() {
        return json::Reader::new(text).document(visitor).map(|()| seen);
    }
    let object = visitor.begin_object();
    let mut first = true;
    let mut record = false;
    while let Some(key) = reader.member(first)? {
        first = false;
        let slot = match key.plain() {
            Some(key) => key_slot(key),
            None => key_slot(&key.get()),
        };
        let member = visitor.begin_member(key);
        match slot {
            Some(i) if i < LIFTED_KEYS.len() && out.0[i].is_none() => {
                let scalar = reader.scalar_or_walk(visitor, 1)?;
                out.0[i] = Some(match scalar {
                    Some(json::Scalar::Str(s)) => Scalar::Str(s.get()),
                    Some(json::Scalar::Number(json::Number::Int(i))) => Scalar::Int(i),
                    Some(json::Scalar::Number(json::Number::Double(d))) => Scalar::Double(d),
                    // The tree's null is an empty string.
                    Some(json::Scalar::Null) => Scalar::Str(Cow::Borrowed("")),
                    Some(json::Scalar::Bool(_)) | None => Scalar::Other,
                });
                if let Some(scalar) = scalar {
                    visitor.scalar(scalar);
                }
            }
            Some(AWS_SLOT | TRACE_SLOT) if ROUTE => {
                seen.routed = true;
                return Ok(seen);
            }
            Some(TYPE_SLOT) if ROUTE && reader.value_starts_with("\"platform.") => {
                seen.platform_record = true;
                return Ok(seen);
            }
            slot => {
                match slot {
                    Some(DATA_SLOT) => seen.data = true,
                    Some(TYPE_SLOT | TIME_SLOT) => seen.platform = true,
                    Some(RECORD_SLOT) => {
                        seen.platform |= record;
                        record = true;
                    }
                    _ => {}
                }
                reader.value(visitor, 1)?;
            }
        }
        visitor.end_member(member);
    }
    visitor.end_object(object);
    reader.end().map(|()| seen)
}

/// The first value of each of [`LIFTED_KEYS`] in a top-level object, the rest of the document checked but not kept.
/// It accepts exactly the documents `AnyValue`'s `Deserialize` does: every value goes through `deserialize_any`.
#[derive(Debug, Default)]
struct Lifted<'a>([Option<Scalar<'a>>; LIFTED_KEYS.len()]);

impl<'a> Lifted<'a> {
    /// The first of the keys at `keys` in [`LIFTED_KEYS`], in their order, whose value `read` accepts.
    fn first<T>(&self, keys: Range<usize>, read: impl Fn(&Scalar<'a>) -> Option<T>) -> Option<T> {
        self.0.get(keys)?.iter().find_map(|v| v.as_ref().and_then(&read))
    }
}

/// A lifted value: what the readers look at, and `Other` for what they never accept.
#[derive(Debug)]
enum Scalar<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    Double(f64),
    Other,
}

impl Scalar<'_> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Lifted<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lifted<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lifted<'de>, A::Error> {
                let mut out = Lifted::default();
                while let Some(JsonKey(key)) = map.next_key()? {
                    match lifted_slot(&key) {
                        Some(i) if out.0[i].is_none() => out.0[i] = Some(map.next_value()?),
                        _ => map.next_value::<Checked>().map(|_| ())?,
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Int(v))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(i64::try_from(v).map_or(Scalar::Double(v as f64), Scalar::Int))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Double(v))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(v)))
            }
            // The tree's null is an empty string.
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed("")))
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed("")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar<'de>, A::Error> {
                Checked::seq(seq).map(|_| Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar<'de>, A::Error> {
                Checked::map(map).map(|_| Scalar::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// Any JSON value, read as the tree would read it (so the same documents fail) and then forgotten.
struct Checked;

impl Checked {
    fn seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Checked, A::Error> {
        while map.next_entry::<JsonKey<'de>, Checked>()?.is_some() {}
        Ok(Checked)
    }
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Checked;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_unit<E>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_none<E>(self) -> Result<Checked, E> {
                Ok(Checked)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Checked, A::Error> {
                Checked::seq(seq)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Checked, A::Error> {
                Checked::map(map)
            }
        }
        d.deserialize_any(V)
    }
}

fn time_of(value: &Scalar<'_>) -> Option<UnixNanos> {
    match value {
        Scalar::Str(s) => {
            let s = s.trim();
            parse_timestamp(s).or_else(|| from_epoch_str(s))
        }
        Scalar::Int(i) => u64::try_from(*i).ok().and_then(|v| from_epoch_digits(v, "")),
        Scalar::Double(d) => from_epoch_number(*d),
        Scalar::Other => None,
    }
}

fn severity_of(value: &Scalar<'_>) -> Option<Severity> {
    match value {
        Scalar::Str(s) if !s.trim().is_empty() => Some(Severity::parse(s)),
        // pino and bunyan: 10 trace … 60 fatal; custom levels keep their number as text.
        Scalar::Int(n) => Some(Severity::parse(&n.to_string())),
        _ => None,
    }
}

fn trace_of(s: &str) -> Option<TraceId> {
    TraceId::from_xray(s).or_else(|| TraceId::from_hex(s.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::runtime_prefix::{self, Prefix, Runtime};
    use crate::parse::{parse_line, ParsedLine};
    use crate::telemetry::KeyValue;
    use proptest::prelude::*;

    const RID: &str = "8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f";
    /// 2024-03-01T12:00:00Z
    const BASE: u64 = 1_709_294_400_000_000_000;
    const OBSERVED: u64 = 1_709_294_499_000_000_000;

    #[test]
    fn lifted_slots_are_the_lifted_keys() {
        for (i, key) in LIFTED_KEYS.iter().enumerate() {
            assert_eq!(lifted_slot(key), Some(i), "{key}");
        }
        for key in ["", "Time", "times", "level ", "msg", "trace.trace_id", "span", "requestid"] {
            assert_eq!(lifted_slot(key), None, "{key}");
        }
        for (i, key) in ROUTING_KEYS.iter().enumerate() {
            assert_eq!(key_slot(key), Some(AWS_SLOT + i), "{key}");
            assert_eq!(lifted_slot(key), None, "{key}");
        }
        assert_eq!(key_slot("time"), Some(TIME_SLOT));
    }

    fn ctx() -> Ctx<'static> {
        Ctx { observed_ns: OBSERVED, prefix: None, render_otlp: false }
    }

    fn one_log(line: &str, ctx: &Ctx<'_>) -> AppLog {
        match parse(line, ctx) {
            Ok(Some(mut items)) if items.len() == 1 => match items.remove(0) {
                Item::Log(log) => log,
                other => panic!("expected a log from {line:?}, got {other:?}"),
            },
            other => panic!("expected one item from {line:?}, got {other:?}"),
        }
    }

    /// (time, severity number and text, request id, trace id, span id) as read from a line.
    type Lifted = (u64, Option<(u8, String)>, Option<String>, Option<String>, Option<String>);

    fn lifted(log: &AppLog) -> Lifted {
        (
            log.time_ns,
            log.severity.as_ref().map(|s| (s.number, s.text.clone())),
            log.request_id.clone(),
            log.trace_id.map(|t| t.to_string()),
            log.span_id.map(|s| s.to_string()),
        )
    }

    fn want(
        time_ns: u64,
        severity: Option<(u8, &str)>,
        request_id: Option<&str>,
        trace: Option<&str>,
        span: Option<&str>,
    ) -> Lifted {
        (
            time_ns,
            severity.map(|(n, t)| (n, t.to_owned())),
            request_id.map(str::to_owned),
            trace.map(str::to_owned),
            span.map(str::to_owned),
        )
    }

    #[test]
    fn key_ranges_name_the_documented_keys() {
        let keys = |r: std::ops::Range<usize>| LIFTED_KEYS[r].to_vec();
        assert_eq!(keys(TIME_KEYS), ["timestamp", "time", "@timestamp", "ts"]);
        assert_eq!(keys(LEVEL_KEYS), ["level", "levelname", "severity", "log.level"]);
        assert_eq!(
            keys(REQUEST_ID_KEYS),
            ["requestId", "AWSRequestId", "function_request_id", "aws_request_id", "awsRequestId"]
        );
        assert_eq!(keys(TRACE_KEYS), ["xray_trace_id", "traceId", "trace_id", "_X_AMZN_TRACE_ID"]);
        assert_eq!(keys(SPAN_KEYS), ["spanId", "span_id"]);
        assert_eq!(SPAN_KEYS.end, LIFTED_KEYS.len());
    }

    #[test]
    fn lifts_fields_from_every_logger_shape() {
        let ms = |n: u64| BASE + n * 1_000_000;
        let cases = [
            // Lambda JSON log format, Node.js.
            (
                format!(r#"{{"timestamp":"2024-03-01T12:00:00.123Z","level":"INFO","requestId":"{RID}","message":"hi"}}"#),
                want(ms(123), Some((9, "INFO")), Some(RID), None, None),
            ),
            // Lambda JSON log format, Python, with an exception.
            (
                format!(
                    r#"{{"timestamp":"2024-03-01T12:00:00Z","level":"ERROR","message":"failed","logger":"root","stackTrace":["  File \"/var/task/app.py\", line 3\n"],"errorType":"KeyError","errorMessage":"'id'","requestId":"{RID}","location":"/var/task/app.py:handler:3"}}"#
                ),
                want(BASE, Some((17, "ERROR")), Some(RID), None, None),
            ),
            // Python during init: an empty request id is no request id.
            (
                r#"{"timestamp":"2024-03-01T12:00:00Z","level":"WARNING","message":"init","requestId":""}"#.to_owned(),
                want(BASE, Some((13, "WARNING")), None, None, None),
            ),
            // Lambda JSON log format, Java LambdaLogger.
            (
                format!(r#"{{"timestamp":"2024-03-01T12:00:00.500Z","message":"hello","level":"INFO","AWSRequestId":"{RID}"}}"#),
                want(ms(500), Some((9, "INFO")), Some(RID), None, None),
            ),
            // Lambda JSON log format, .NET: full level names and the whole X-Ray header as traceId.
            (
                format!(
                    r#"{{"timestamp":"2024-03-01T12:00:00.001Z","level":"Information","requestId":"{RID}","traceId":"Root=1-65e1c340-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1","message":"Order 42 placed","orderId":42}}"#
                ),
                want(ms(1), Some((9, "Information")), Some(RID), Some("65e1c340bd862e3fe1be46a994272793"), None),
            ),
            // Powertools for AWS Lambda (Python).
            (
                format!(
                    r#"{{"level":"INFO","location":"collect_payment:14","message":"Collecting payment","timestamp":"2024-03-01 14:00:00,250+0200","service":"payment","cold_start":true,"function_request_id":"{RID}","xray_trace_id":"1-65e1c340-bd862e3fe1be46a994272793"}}"#
                ),
                want(ms(250), Some((9, "INFO")), Some(RID), Some("65e1c340bd862e3fe1be46a994272793"), None),
            ),
            // pino: numeric level, epoch milliseconds, exactly.
            (
                r#"{"level":30,"time":1709294400631,"pid":8,"hostname":"169.254.1.1","msg":"hello"}"#.to_owned(),
                want(ms(631), Some((9, "30")), None, None, None),
            ),
            // bunyan.
            (
                r#"{"name":"app","hostname":"h","pid":8,"level":50,"msg":"boom","time":"2024-03-01T12:00:00.007Z","v":0}"#
                    .to_owned(),
                want(ms(7), Some((17, "50")), None, None, None),
            ),
            // zap: epoch seconds as a float.
            (
                r#"{"level":"warn","ts":1709294400.5,"msg":"slow"}"#.to_owned(),
                want(ms(500), Some((13, "warn")), None, None, None),
            ),
            // ECS and OpenTelemetry-style ids.
            (
                r#"{"@timestamp":"2024-03-01T12:00:00Z","log.level":"debug","trace_id":"5b8aa5a2d2c872e8321cf37308d69df2","span_id":"051581bf3cb55c13","message":"m"}"#.to_owned(),
                want(BASE, Some((5, "debug")), None, Some("5b8aa5a2d2c872e8321cf37308d69df2"), Some("051581bf3cb55c13")),
            ),
            (
                format!(
                    r#"{{"severity":"CRITICAL","awsRequestId":"{RID}","traceId":"5b8aa5a2d2c872e8321cf37308d69df2","spanId":"051581bf3cb55c13"}}"#
                ),
                want(
                    OBSERVED,
                    Some((21, "CRITICAL")),
                    Some(RID),
                    Some("5b8aa5a2d2c872e8321cf37308d69df2"),
                    Some("051581bf3cb55c13"),
                ),
            ),
            (
                format!(r#"{{"levelname":"INFO","aws_request_id":"{RID}","_X_AMZN_TRACE_ID":"Root=1-65e1c340-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"}}"#),
                want(OBSERVED, Some((9, "INFO")), Some(RID), Some("65e1c340bd862e3fe1be46a994272793"), None),
            ),
            // Unusable values fall through to the next key, then to the context.
            (
                r#"{"timestamp":"yesterday","time":"1709294400002","level":"","severity":"warn","requestId":7,"trace_id":"nope","span_id":"0000000000000000"}"#.to_owned(),
                want(ms(2), Some((13, "warn")), None, None, None),
            ),
            (r#"{"message":"no metadata at all"}"#.to_owned(), want(OBSERVED, None, None, None, None)),
            (r#"  {"nested":{"level":"ERROR"}}"#.to_owned(), want(OBSERVED, None, None, None, None)),
        ];
        for (line, expected) in &cases {
            assert_eq!(lifted(&one_log(line, &ctx())), *expected, "{line}");
        }
    }

    #[test]
    fn the_body_is_the_whole_document() {
        let log = one_log(r#"{"level":"INFO","message":"hi","n":1,"tags":["a"]}"#, &ctx());
        assert_eq!(
            log.body,
            AnyValue::Map(vec![
                KeyValue::new("level", "INFO"),
                KeyValue::new("message", "hi"),
                KeyValue::new("n", 1i64),
                KeyValue::new("tags", AnyValue::Array(vec!["a".into()])),
            ])
        );
        assert!(log.attributes.is_empty());
    }

    #[test]
    fn arrays_and_numbers_are_json_when_they_parse() {
        assert_eq!(one_log("[1, \"two\"]", &ctx()).body, AnyValue::Array(vec![AnyValue::Int(1), "two".into()]));
        assert_eq!(one_log("42", &ctx()).body, AnyValue::Int(42));
        assert_eq!(one_log("-1.5e3\r", &ctx()).body, AnyValue::Double(-1500.0));
        for text in ["[INFO] not json", "[1, 2", "2024-03-01 12:00:00 text", "4 apples", "-", "hello", "", "   "] {
            assert_eq!(parse(text, &ctx()), Ok(None), "{text:?}");
        }
    }

    #[test]
    fn broken_objects_are_mine_but_malformed() {
        for text in
            [r#"{"level":"INFO","message":"cut off"#, "{not json}", "{", r#"{"a":1} trailing"#, r#"{"a":1}{"b":2}"#]
        {
            match parse(text, &ctx()) {
                Err(e) => assert_eq!(e.format, Format::JsonLog, "{text}"),
                other => panic!("expected an error for {text:?}, got {other:?}"),
            }
        }
    }

    #[test]
    fn a_prefix_supplies_the_defaults_and_the_document_wins() {
        let prefix = Prefix {
            runtime: Runtime::Node,
            time_ns: Some(BASE),
            request_id: Some(RID),
            level: Some("WARN"),
            message: "",
        };
        let ctx = Ctx { observed_ns: OBSERVED, prefix: Some(&prefix), render_otlp: false };
        let log = one_log(r#"{"orderId":42}"#, &ctx);
        assert_eq!(lifted(&log), want(BASE, Some((13, "WARN")), Some(RID), None, None));

        let own = r#"{"timestamp":"2024-03-01T12:00:01Z","level":"ERROR","requestId":"another"}"#;
        let log = one_log(own, &ctx);
        assert_eq!(lifted(&log), want(BASE + 1_000_000_000, Some((17, "ERROR")), Some("another"), None, None));
    }

    #[test]
    fn prefixed_json_end_to_end() {
        let line = format!("2024-03-01T12:00:00.123Z\t{RID}\tINFO\t{{\"orderId\":42,\"level\":\"debug\"}}\n");
        let ParsedLine { format, items, error } = parse_line(&line, OBSERVED);
        assert_eq!((format, error), (Format::JsonLog, None));
        match &items[..] {
            [Item::Log(log)] => {
                assert_eq!(lifted(log), want(BASE + 123_000_000, Some((5, "debug")), Some(RID), None, None));
                assert_eq!(log.body.parsed().get("orderId"), Some(&AnyValue::Int(42)));
            }
            other => panic!("expected one log, got {other:?}"),
        }

        // Broken JSON behind a prefix is forwarded as the prefix's text record and counted.
        let line = format!("[INFO]\t2024-03-01T12:00:00.123Z\t{RID}\t{{\"cut\": ");
        let parsed = parse_line(&line, OBSERVED);
        assert_eq!(parsed.format, Format::JsonLog);
        assert!(parsed.error.is_some());
        match &parsed.items[..] {
            [Item::Log(log)] => {
                assert_eq!(log.body, AnyValue::Str("{\"cut\": ".into()));
                assert_eq!(log.request_id.as_deref(), Some(RID));
            }
            other => panic!("expected one log, got {other:?}"),
        }
    }

    #[test]
    fn snapshot_of_realistic_lines() {
        let prefix = runtime_prefix::strip("2024-03-01T12:00:00.900Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t");
        let prefixed = Ctx { observed_ns: OBSERVED, prefix: prefix.as_ref(), render_otlp: false };
        let lines: [(&str, &Ctx<'_>); 7] = [
            (
                r#"{"timestamp":"2024-03-01T12:00:00.123Z","level":"ERROR","requestId":"8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f","message":{"errorType":"Error","errorMessage":"boom","stackTrace":["Error: boom","    at Runtime.handler (file:///var/task/index.mjs:3:9)"]},"errorType":"Error","errorMessage":"boom","stackTrace":["Error: boom"]}"#,
                &ctx(),
            ),
            (
                r#"{"timestamp":"2024-03-01T12:00:00Z","level":"INFO","message":"Order placed","logger":"orders","requestId":"8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f","orderId":42}"#,
                &ctx(),
            ),
            (
                r#"{"timestamp":"2024-03-01T12:00:00.321Z","level":"WARN","message":"retrying","AWSRequestId":"8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f"}"#,
                &ctx(),
            ),
            (
                r#"{"level":"INFO","location":"handler:10","message":"Collecting payment","timestamp":"2024-03-01 12:00:00,494+0000","service":"payment","cold_start":true,"function_name":"pay","function_memory_size":128,"function_arn":"arn:aws:lambda:eu-west-1:123456789012:function:pay","function_request_id":"8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f","xray_trace_id":"1-65e1c340-bd862e3fe1be46a994272793","sampling_rate":0.1}"#,
                &ctx(),
            ),
            (
                r#"{"level":40,"time":1709294400631,"pid":8,"hostname":"169.254.1.1","msg":"low stock","sku":null}"#,
                &ctx(),
            ),
            (r#"{"orderId":42,"status":"placed","amount":19.99}"#, &prefixed),
            ("[\"not\", \"an\", \"object\"]", &ctx()),
        ];
        let parsed: Vec<_> = lines.iter().map(|(line, ctx)| parse(line, ctx)).collect();
        insta::assert_debug_snapshot!(parsed);
    }

    proptest! {
        #[test]
        fn parse_never_panics(line in any::<String>()) {
            let _ = parse(&line, &ctx());
        }

        /// Reading only the lifted fields refuses exactly the documents building the whole tree refuses.
        #[test]
        fn lifting_accepts_what_the_tree_accepts(line in r#"\{["{}\[\]:,0-9a-z .eE+\\-]{0,40}\}?"#) {
            let lifted = from_json::<super::Lifted<'_>>(Format::JsonLog, &line).is_ok();
            let tree = matches!(from_json::<AnyValue>(Format::JsonLog, &line), Ok(AnyValue::Map(_)));
            prop_assert_eq!(lifted, tree, "{}", line);
        }

        #[test]
        fn parse_never_panics_on_json_like_lines(line in r#"[ \t]?[{\[0-9-]["{}\[\]:,0-9a-zA-Z .eE+-]{0,60}"#) {
            let _ = parse(&line, &ctx());
        }
    }
}
