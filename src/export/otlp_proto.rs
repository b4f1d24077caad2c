//! OTLP/protobuf encoding of [`Telemetry`], and decoding of an OTLP/HTTP collector's answers, by hand.
//!
//! A request carries exactly what [`otlp_json`](super::otlp_json) writes: one `Resource{Spans,Metrics,Logs}` per
//! resource that has the signal, one scope (`logship` + version) in it, and the same fields left out. Scalars at
//! their proto3 default are left off the wire, as every protobuf encoder does, so a decoder reads the same values.
//! Fields go out in field-number order, which makes the bytes identical to what prost would produce.
//!
//! Encoding is one pass straight into the caller's buffer: each nested message gets a one-byte length slot, and the
//! few that outgrow it are moved right, so no message is measured twice or built apart (see `Writer::nested`).
//!
//! Field numbers and wire types are those of opentelemetry-proto (`common`, `resource`, `trace`, `metrics`,
//! `logs` v1 and `collector/*/v1/*_service.proto`) and of `google.rpc.Status` / `google.rpc.RetryInfo`.

use super::batch::{item_count, Batch};
use super::otlp_json::Signal;
use crate::json;
use crate::telemetry::{
    AnyValue, HistogramPoint, JsonDoc, JsonKey, KeyValue, LogRecord, Metric, MetricData, Number, NumberPoint, Resource,
    ResourceTelemetry, Span, Status, Telemetry,
};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use std::ops::Range;
use std::time::Duration;

/// Encodes one `Export{Trace,Metrics,Logs}ServiceRequest` for `signal`.
pub fn encode(t: &Telemetry, signal: Signal) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(t, signal, &mut out);
    out
}

/// Appends the request for `signal` to `out`.
///
/// `out` is not cleared, so a caller can reuse one buffer (clear it first: no regrowth once it has held a request
/// that large) or put a frame header before the message.
pub fn encode_into(t: &Telemetry, signal: Signal, out: &mut Vec<u8>) {
    Request { t, signal }.encode(&mut Writer { out });
}

const SCOPE_NAME: &str = "logship";
const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

// Wire types.
const VARINT: u32 = 0;
const I64: u32 = 1;
const LEN: u32 = 2;

fn varint_len(v: u64) -> usize {
    // One byte per started group of 7 bits; `| 1` makes zero take one byte.
    (((v | 1).leading_zeros() ^ 63) * 9 + 73) as usize / 64
}

/// Writes protobuf into a caller's buffer, in one pass.
#[derive(Debug)]
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    fn varint(&mut self, mut v: u64) {
        // Keys, enums and the lengths of attributes: nearly every varint is one byte.
        if v < 0x80 {
            self.out.push(v as u8);
            return;
        }
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    fn fixed64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }

    /// A length-delimited field whose content `body` writes.
    fn nested(&mut self, field: u32, body: impl FnOnce(&mut Self)) {
        let at = self.open(field);
        body(self);
        self.close(at);
    }

    /// Starts a length-delimited field; [`Writer::close`] with the returned slot ends it.
    fn open(&mut self, field: u32) -> usize {
        if field < 16 {
            // The key and the length slot in one append.
            self.out.extend_from_slice(&[(field << 3 | LEN) as u8, 0]);
            return self.out.len() - 1;
        }
        self.key(field, LEN);
        // One byte is reserved for the length, enough for most messages (attributes, values, small spans). A longer
        // message moves right by the bytes its length needs: lengths stay minimal, as protobuf encoders write them,
        // and nothing is measured twice. Only the few large messages (records, scopes, resources) pay a move.
        self.out.push(0);
        self.out.len() - 1
    }

    fn close(&mut self, at: usize) {
        let start = at + 1;
        let end = self.out.len();
        let n = (end - start) as u64;
        // Most messages are short: the reserved byte is the whole length.
        if n < 0x80 {
            if let Some(slot) = self.out.get_mut(at) {
                *slot = n as u8;
            }
            return;
        }
        let width = varint_len(n);
        if width > 1 {
            self.out.resize(end + width - 1, 0);
            self.out.copy_within(start..end, start + width - 1);
        }
        if let Some(slot) = self.out.get_mut(at..at + width) {
            let mut v = n;
            for b in slot.iter_mut() {
                *b = (v as u8) | 0x80;
                v >>= 7;
            }
            if let Some(last) = slot.last_mut() {
                *last &= 0x7f;
            }
        }
    }

    fn message<T: Encode + ?Sized>(&mut self, field: u32, msg: &T) {
        self.nested(field, |w| msg.encode(w));
    }

    fn repeated<T: Encode>(&mut self, field: u32, items: &[T]) {
        for item in items {
            self.message(field, item);
        }
    }

    /// `bytes`, or a string that is sent even when empty (a oneof member has presence).
    fn len_field(&mut self, field: u32, b: &[u8]) {
        if field < 16 && b.len() < 0x80 {
            // Key and length are a byte each: one append for both, one for the content.
            self.out.extend_from_slice(&[(field << 3 | LEN) as u8, b.len() as u8]);
        } else {
            self.key(field, LEN);
            self.varint(b.len() as u64);
        }
        self.bytes(b);
    }

    /// A plain proto3 `string`: empty means absent.
    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.len_field(field, s.as_bytes());
        }
    }

    /// A plain proto3 varint scalar (`uint32`, `bool`, an enum): zero means absent.
    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, VARINT);
            self.varint(v);
        }
    }

    /// A plain proto3 `fixed64`: zero means absent.
    fn fixed(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, I64);
            self.fixed64(v);
        }
    }

    /// A `double` with presence (oneof member or `optional`): written even when zero.
    fn double(&mut self, field: u32, v: f64) {
        self.key(field, I64);
        self.fixed64(v.to_bits());
    }

    /// `AnyValue.bool_value`, a oneof member: written even when false.
    fn bool_value(&mut self, v: bool) {
        self.key(2, VARINT);
        self.varint(u64::from(v));
    }

    /// `AnyValue.int_value`, a oneof member: written even when zero.
    fn int_value(&mut self, v: i64) {
        // int64 is a plain varint of the two's complement: negatives take ten bytes.
        self.key(3, VARINT);
        self.varint(v as u64);
    }

    /// A packed `repeated fixed64` or `repeated double` (as bits); nothing when empty.
    fn packed_fixed64(&mut self, field: u32, vs: impl ExactSizeIterator<Item = u64>) {
        if vs.len() > 0 {
            self.key(field, LEN);
            self.varint(8 * vs.len() as u64);
            self.out.reserve(8 * vs.len());
            for v in vs {
                self.fixed64(v);
            }
        }
    }
}

/// A model value as the protobuf message it maps to.
trait Encode {
    fn encode(&self, w: &mut Writer);
}

struct Request<'a> {
    t: &'a Telemetry,
    signal: Signal,
}

impl Encode for Request<'_> {
    fn encode(&self, s: &mut Writer) {
        for r in &self.t.resources {
            resource_entry(s, &r.resource, Items::of(r, self.signal, 0..item_count(r, self.signal)));
        }
    }
}

/// Encodes the request for the items of one [`Batch`] of `t`, straight from `t`: the same bytes as encoding
/// `batch.materialize(t)`, without copying the items out.
pub fn encode_batch(t: &Telemetry, batch: &Batch) -> Vec<u8> {
    let mut out = Vec::new();
    encode_batch_into(t, batch, &mut out);
    out
}

/// [`encode_batch`], appended to `out`.
pub fn encode_batch_into(t: &Telemetry, batch: &Batch, out: &mut Vec<u8>) {
    let s = &mut Writer { out };
    for slice in &batch.slices {
        if let Some(r) = t.resources.get(slice.resource) {
            resource_entry(s, &r.resource, Items::of(r, batch.signal, slice.start..slice.end));
        }
    }
}

/// A run of one resource's items of one signal.
#[derive(Clone, Copy)]
enum Items<'a> {
    Spans(&'a [Span]),
    Metrics(&'a [Metric]),
    Logs(&'a [LogRecord]),
}

impl<'a> Items<'a> {
    /// `range` of `r`'s items of `signal`; none when the range is out of bounds, as `Batch::materialize` reads it.
    fn of(r: &'a ResourceTelemetry, signal: Signal, range: Range<usize>) -> Self {
        match signal {
            Signal::Traces => Items::Spans(r.spans.get(range).unwrap_or_default()),
            Signal::Metrics => Items::Metrics(r.metrics.get(range).unwrap_or_default()),
            Signal::Logs => Items::Logs(r.logs.get(range).unwrap_or_default()),
        }
    }

    fn is_empty(self) -> bool {
        match self {
            Items::Spans(v) => v.is_empty(),
            Items::Metrics(v) => v.is_empty(),
            Items::Logs(v) => v.is_empty(),
        }
    }
}

/// One `Resource{Spans,Metrics,Logs}` entry of a request; nothing when there are no items.
fn resource_entry(s: &mut Writer, resource: &Resource, items: Items<'_>) {
    if items.is_empty() {
        return;
    }
    // Export*ServiceRequest.resource_{spans,metrics,logs} = 1
    s.nested(1, |s| {
        // Resource{Spans,Metrics,Logs}: resource = 1, scope_{spans,metrics,logs} = 2.
        s.message(1, resource);
        s.nested(2, |s| {
            // Scope{Spans,Metrics,Logs}: scope = 1 (InstrumentationScope: name = 1, version = 2), items = 2.
            s.nested(1, |s| {
                s.string(1, SCOPE_NAME);
                s.string(2, SCOPE_VERSION);
            });
            match items {
                Items::Spans(v) => s.repeated(2, v),
                Items::Metrics(v) => s.repeated(2, v),
                Items::Logs(v) => s.repeated(2, v),
            }
        });
    });
}

impl Encode for Resource {
    fn encode(&self, s: &mut Writer) {
        s.repeated(1, &self.attributes);
    }
}

impl Encode for KeyValue {
    fn encode(&self, s: &mut Writer) {
        s.string(1, &self.key);
        s.message(2, &self.value);
    }
}

impl Encode for AnyValue {
    fn encode(&self, s: &mut Writer) {
        match self {
            AnyValue::Str(v) => s.len_field(1, v.as_bytes()),
            AnyValue::Bool(v) => s.bool_value(*v),
            AnyValue::Int(v) => s.int_value(*v),
            AnyValue::Double(v) => s.double(4, *v),
            // ArrayValue.values = 1, KeyValueList.values = 1
            AnyValue::Array(vs) => s.nested(5, |s| s.repeated(1, vs)),
            AnyValue::Map(kvs) => s.nested(6, |s| s.repeated(1, kvs)),
            AnyValue::Bytes(b) => s.len_field(7, b),
            AnyValue::Json(doc) => json_value(s, doc),
        }
    }
}

/// A JSON document as the `AnyValue` its tree would be, written straight from the text: the same bytes as building
/// the tree and encoding it (the same calls `AnyValue`'s encoding makes), without a node or a string allocated.
fn json_value(s: &mut Writer, doc: &JsonDoc) {
    if let Some(rendered) = doc.otlp() {
        s.bytes(rendered);
        return;
    }
    let start = s.out.len();
    if json_events(s, doc.as_str()).is_ok() {
        return;
    }
    // The reader and sonic-rs agree on what parses, so this is not reached; should they not, the tree sonic-rs
    // builds decides, as it does for every other exporter.
    s.out.truncate(start);
    let mut de = sonic_rs::Deserializer::from_str(doc.as_str());
    let written = DeserializeSeed::deserialize(JsonToProto(s), &mut de).and_then(|()| de.end());
    if written.is_err() {
        // `JsonDoc` holds text that parsed; should it not, its tree is the text as a string, and so is this.
        s.out.truncate(start);
        s.len_field(1, doc.as_str().as_bytes());
    }
}

/// Writes a document as [`json::Reader`] walks it.
fn json_events(s: &mut Writer, text: &str) -> Result<(), json::Error> {
    // Protobuf of a JSON document is rarely larger than its text, so one reservation covers the whole walk.
    s.out.reserve(text.len());
    json::Reader::new(text).document(&mut JsonWriter::new(s.out))
}

/// A JSON value's `AnyValue` message content, written as a [`json::Reader`] walk reports it: the same bytes as
/// building the tree and encoding it. Every value inside a container is wrapped: an array element in
/// `ArrayValue.values` (1), an object member in `KeyValueList.values` (1) holding `key` (1) and `value` (2).
///
/// Public so the JSON log parser can render a body in the walk that checks it (see [`JsonDoc::otlp`]).
#[derive(Debug)]
pub struct JsonWriter<'o> {
    s: Writer<'o>,
    /// Text of strings with escapes, resolved here.
    scratch: String,
}

impl<'o> JsonWriter<'o> {
    /// Appends to `out`.
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        JsonWriter { s: Writer { out }, scratch: String::new() }
    }
}

impl<'a> json::Visitor<'a> for JsonWriter<'_> {
    /// The length slots a container, element or member left open.
    type Mark = (usize, usize);

    fn scalar(&mut self, value: json::Scalar<'a>) {
        match value {
            // The tree's null: an empty string.
            json::Scalar::Null => self.s.len_field(1, b""),
            json::Scalar::Bool(v) => self.s.bool_value(v),
            json::Scalar::Number(json::Number::Int(v)) => self.s.int_value(v),
            json::Scalar::Number(json::Number::Double(v)) => self.s.double(4, v),
            json::Scalar::Str(v) => match v.plain() {
                Some(plain) => self.s.len_field(1, plain.as_bytes()),
                None => {
                    self.scratch.clear();
                    v.push_to(&mut self.scratch);
                    self.s.len_field(1, self.scratch.as_bytes());
                }
            },
        }
    }

    fn begin_array(&mut self) -> (usize, usize) {
        (self.s.open(5), 0)
    }

    fn end_array(&mut self, (at, _): (usize, usize)) {
        self.s.close(at);
    }

    fn begin_element(&mut self) -> (usize, usize) {
        (self.s.open(1), 0)
    }

    fn end_element(&mut self, (at, _): (usize, usize)) {
        self.s.close(at);
    }

    fn begin_object(&mut self) -> (usize, usize) {
        (self.s.open(6), 0)
    }

    fn end_object(&mut self, (at, _): (usize, usize)) {
        self.s.close(at);
    }

    fn begin_member(&mut self, key: json::Str<'a>) -> (usize, usize) {
        let member = self.s.open(1);
        match key.plain() {
            Some(plain) => self.s.string(1, plain),
            None => {
                self.scratch.clear();
                key.push_to(&mut self.scratch);
                self.s.string(1, &self.scratch);
            }
        }
        (member, self.s.open(2))
    }

    fn end_member(&mut self, (member, value): (usize, usize)) {
        self.s.close(value);
        self.s.close(member);
    }
}

/// Writes the JSON value it is handed as an `AnyValue` message's content.
struct JsonToProto<'w, 'o>(&'w mut Writer<'o>);

impl<'de> DeserializeSeed<'de> for JsonToProto<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonToProto<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    // Scalars go straight to the writer, the same calls `AnyValue`'s encoding makes: no value is built and dropped
    // per number of every log body.
    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.0.bool_value(v);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.0.int_value(v);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        // Past i64, the tree holds a double.
        match i64::try_from(v) {
            Ok(v) => self.0.int_value(v),
            Err(_) => self.0.double(4, v as f64),
        }
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        self.0.double(4, v);
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.0.len_field(1, v.as_bytes());
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        // The tree's null: an empty string.
        self.0.len_field(1, b"");
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        self.0.len_field(1, b"");
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut result = Ok(());
        // ArrayValue: values = 1, each an AnyValue. A slot is opened before knowing whether an element follows,
        // and taken back at the end.
        self.0.nested(5, |s| loop {
            let mark = s.out.len();
            let mut next = Ok(None);
            s.nested(1, |s| next = seq.next_element_seed(JsonToProto(s)));
            match next {
                Ok(Some(())) => {}
                Ok(None) => {
                    s.out.truncate(mark);
                    break;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        });
        result
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut result = Ok(());
        // KeyValueList: values = 1, each a KeyValue { key = 1, value = 2 }.
        self.0.nested(6, |s| loop {
            let key = match map.next_key::<JsonKey<'de>>() {
                Ok(Some(key)) => key,
                Ok(None) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            };
            s.nested(1, |s| {
                s.string(1, &key.0);
                s.nested(2, |s| result = map.next_value_seed(JsonToProto(s)));
            });
            if result.is_err() {
                break;
            }
        });
        result
    }
}

impl Encode for Span {
    fn encode(&self, s: &mut Writer) {
        s.len_field(1, &self.trace_id.0);
        s.len_field(2, &self.span_id.0);
        if let Some(parent) = &self.parent_span_id {
            s.len_field(4, &parent.0);
        }
        s.string(5, &self.name);
        s.uint(6, self.kind as u64);
        s.fixed(7, self.start_ns);
        s.fixed(8, self.end_ns);
        s.repeated(9, &self.attributes);
        // Status: message = 2, code = 3 (OK = 1, ERROR = 2); no status at all means UNSET.
        match &self.status {
            Status::Unset => {}
            Status::Ok => s.nested(15, |s| s.uint(3, 1)),
            Status::Error(message) => s.nested(15, |s| {
                s.string(2, message);
                s.uint(3, 2);
            }),
        }
    }
}

impl Encode for LogRecord {
    fn encode(&self, s: &mut Writer) {
        s.fixed(1, self.time_ns);
        if let Some(sev) = &self.severity {
            s.uint(2, u64::from(sev.number));
            s.string(3, &sev.text);
        }
        s.message(5, &self.body);
        s.repeated(6, &self.attributes);
        if let Some(trace_id) = &self.trace_id {
            s.len_field(9, &trace_id.0);
        }
        if let Some(span_id) = &self.span_id {
            s.len_field(10, &span_id.0);
        }
        s.fixed(11, self.observed_ns);
    }
}

impl Encode for Metric {
    fn encode(&self, s: &mut Writer) {
        s.string(1, &self.name);
        s.string(2, &self.description);
        s.string(3, &self.unit);
        // Gauge / Sum / Histogram: data_points = 1, aggregation_temporality = 2; Sum.is_monotonic = 3.
        match &self.data {
            MetricData::Gauge(points) => s.nested(5, |s| s.repeated(1, points)),
            MetricData::Sum { points, temporality, monotonic } => s.nested(7, |s| {
                s.repeated(1, points);
                s.uint(2, *temporality as u64);
                s.uint(3, u64::from(*monotonic));
            }),
            MetricData::Histogram { points, temporality } => s.nested(9, |s| {
                s.repeated(1, points);
                s.uint(2, *temporality as u64);
            }),
        }
    }
}

impl Encode for NumberPoint {
    fn encode(&self, s: &mut Writer) {
        s.fixed(2, self.start_ns);
        s.fixed(3, self.time_ns);
        match self.value {
            Number::Double(v) => s.double(4, v),
            Number::Int(v) => {
                // as_int is sfixed64, not a varint.
                s.key(6, I64);
                s.fixed64(v as u64);
            }
        }
        s.repeated(7, &self.attributes);
    }
}

impl Encode for HistogramPoint {
    fn encode(&self, s: &mut Writer) {
        s.fixed(2, self.start_ns);
        s.fixed(3, self.time_ns);
        s.fixed(4, self.count);
        // `optional double sum`: always present, as in the JSON (it is 0 when count is 0, as the proto requires).
        s.double(5, self.sum);
        s.packed_fixed64(6, self.bucket_counts.iter().copied());
        s.packed_fixed64(7, self.bounds.iter().map(|b| b.to_bits()));
        s.repeated(9, &self.attributes);
        // Without samples min and max are ±infinity placeholders, not values.
        if self.count > 0 {
            s.double(11, self.min);
            s.double(12, self.max);
        }
    }
}

/// What a collector refused of an accepted request (`Export*ServiceResponse.partial_success`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartialSuccess {
    /// Spans, data points or log records rejected, by the signal of the request.
    pub rejected: u64,
    /// Why, or a warning when nothing was rejected.
    pub error_message: String,
}

impl PartialSuccess {
    fn new(rejected: i64, error_message: String) -> Option<Self> {
        // The spec: rejected = 0 with an empty message is the same as no partial_success at all.
        // A negative count is nonsense from the server; it rejected nothing we can count.
        let rejected = u64::try_from(rejected).unwrap_or(0);
        (rejected > 0 || !error_message.is_empty()).then_some(PartialSuccess { rejected, error_message })
    }
}

/// `Export*PartialSuccess.rejected_<signal>`: field number, JSON name, original name.
fn rejected_field(signal: Signal) -> (u32, &'static str, &'static str) {
    match signal {
        Signal::Traces => (1, "rejectedSpans", "rejected_spans"),
        Signal::Metrics => (1, "rejectedDataPoints", "rejected_data_points"),
        Signal::Logs => (1, "rejectedLogRecords", "rejected_log_records"),
    }
}

/// The partial success of a protobuf `Export*ServiceResponse`; None when there is none, or the body is not one.
pub fn partial_success(signal: Signal, body: &[u8]) -> Option<PartialSuccess> {
    let (rejected_no, _, _) = rejected_field(signal);
    let (mut rejected, mut message): (i64, &[u8]) = (0, &[]);
    for field in fields(body) {
        match field.ok()? {
            // A message field sent twice is merged, so later values win field by field.
            (1, Field::Len(ps)) => {
                for f in fields(ps) {
                    match f.ok()? {
                        (n, Field::Varint(v)) if n == rejected_no => rejected = v as i64,
                        (2, Field::Len(m)) => message = m,
                        (n, _) if n == rejected_no || n == 2 => return None,
                        _ => {}
                    }
                }
            }
            (1, _) => return None,
            _ => {}
        }
    }
    PartialSuccess::new(rejected, String::from_utf8_lossy(message).into_owned())
}

/// The `RetryInfo.retry_delay` among the details of a protobuf `google.rpc.Status` (an OTLP error body).
///
/// Only a hint next to the `Retry-After` header; None when absent, negative or the body is not a Status.
pub fn retry_delay(status_body: &[u8]) -> Option<Duration> {
    for field in fields(status_body) {
        // Status.details = 3, each a google.protobuf.Any { type_url = 1, value = 2 }.
        let (3, detail) = field.ok()? else { continue };
        let Field::Len(any) = detail else { return None };
        let (mut type_url, mut value): (&[u8], &[u8]) = (&[], &[]);
        for f in fields(any) {
            match f.ok()? {
                (1, Field::Len(u)) => type_url = u,
                (2, Field::Len(v)) => value = v,
                (1 | 2, _) => return None,
                _ => {}
            }
        }
        if is_retry_info(type_url) {
            return retry_info(value);
        }
    }
    None
}

/// `Status.message` of a protobuf `google.rpc.Status`, when there is one.
///
/// Check the content type first: a proxy's HTML page is rarely valid protobuf, but it can be.
pub fn status_message(status_body: &[u8]) -> Option<String> {
    let mut message: &[u8] = &[];
    for field in fields(status_body) {
        match field.ok()? {
            (2, Field::Len(m)) => message = m,
            (2, _) => return None,
            _ => {}
        }
    }
    (!message.is_empty()).then(|| String::from_utf8_lossy(message).into_owned())
}

fn is_retry_info(type_url: &[u8]) -> bool {
    type_url == b"google.rpc.RetryInfo" || type_url.ends_with(b"/google.rpc.RetryInfo")
}

fn retry_info(msg: &[u8]) -> Option<Duration> {
    // RetryInfo.retry_delay = 1, a google.protobuf.Duration.
    let mut delay = None;
    for field in fields(msg) {
        match field.ok()? {
            (1, Field::Len(d)) => delay = Some(d),
            (1, _) => return None,
            _ => {}
        }
    }
    proto_duration(delay?)
}

fn proto_duration(msg: &[u8]) -> Option<Duration> {
    // Duration: seconds = 1 (int64), nanos = 2 (int32); both plain varints of the two's complement.
    let (mut seconds, mut nanos) = (0i64, 0i64);
    for field in fields(msg) {
        match field.ok()? {
            (1, Field::Varint(v)) => seconds = v as i64,
            (2, Field::Varint(v)) => nanos = v as i64,
            (1 | 2, _) => return None,
            _ => {}
        }
    }
    // A negative wait means nothing; nanos outside [0, 1e9) is not a valid Duration.
    let nanos = u32::try_from(nanos).ok().filter(|n| *n < 1_000_000_000)?;
    Some(Duration::new(u64::try_from(seconds).ok()?, nanos))
}

/// The partial success of an `application/json` `Export*ServiceResponse`, as [`partial_success`] reads protobuf.
pub fn partial_success_json(signal: Signal, body: &[u8]) -> Option<PartialSuccess> {
    let (_, json_name, proto_name) = rejected_field(signal);
    let root: Value = sonic_rs::from_slice(body).ok()?;
    let ps = json_field(&root, "partialSuccess", "partial_success")?;
    let rejected = match json_field(ps, json_name, proto_name) {
        Some(v) => json_int64(v)?,
        None => 0,
    };
    let message = match json_field(ps, "errorMessage", "error_message") {
        Some(v) => v.as_str()?,
        None => "",
    };
    PartialSuccess::new(rejected, message.to_owned())
}

/// The retry delay in an `application/json` `google.rpc.Status`, as [`retry_delay`] reads protobuf.
pub fn retry_delay_json(status_body: &[u8]) -> Option<Duration> {
    let root: Value = sonic_rs::from_slice(status_body).ok()?;
    let details = json_field(&root, "details", "details")?.as_array()?;
    let info = details
        .iter()
        .find(|d| d.get("@type").and_then(|t| t.as_str()).is_some_and(|t| is_retry_info(t.as_bytes())))?;
    json_duration(json_field(info, "retryDelay", "retry_delay")?.as_str()?)
}

/// `message` of an `application/json` `google.rpc.Status`, when there is one.
pub fn status_message_json(status_body: &[u8]) -> Option<String> {
    let root: Value = sonic_rs::from_slice(status_body).ok()?;
    json_field(&root, "message", "message")?.as_str().filter(|m| !m.is_empty()).map(str::to_owned)
}

/// proto3 JSON parsers accept the lowerCamelCase name and the original one; `null` means the default.
fn json_field<'v>(obj: &'v Value, json_name: &str, proto_name: &str) -> Option<&'v Value> {
    obj.get(json_name).or_else(|| obj.get(proto_name)).filter(|v| !v.is_null())
}

/// int64 is a decimal string in proto3 JSON; parsers take a number too.
fn json_int64(v: &Value) -> Option<i64> {
    match v.as_str() {
        Some(s) => s.parse().ok(),
        None => v.as_i64(),
    }
}

/// A proto3 JSON Duration: whole seconds, up to nine fractional digits, then `s` (`"1.5s"`, `"0.000001s"`).
fn json_duration(s: &str) -> Option<Duration> {
    let number = s.strip_suffix('s')?;
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |d: &str| d.bytes().all(|b| b.is_ascii_digit());
    // Digits only: this also refuses a sign, so a negative delay is no delay.
    if whole.is_empty() || !digits(whole) || frac.len() > 9 || !digits(frac) {
        return None;
    }
    let seconds: u64 = whole.parse().ok()?;
    let nanos = if frac.is_empty() { 0 } else { frac.parse::<u32>().ok()? * 10u32.pow(9 - frac.len() as u32) };
    Some(Duration::new(seconds, nanos))
}

/// One field's value as read off the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field<'a> {
    Varint(u64),
    Len(&'a [u8]),
    /// fixed64 / fixed32: nothing we read has one, so only their size matters.
    Fixed,
}

/// Bytes that are not a protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Malformed;

/// The highest field number protobuf allows.
const MAX_FIELD: u32 = (1 << 29) - 1;

/// The fields of one message in wire order, unknown ones included for the caller to skip.
/// After the first malformed byte it yields one `Err` and stops.
#[derive(Debug, Clone)]
struct Fields<'a> {
    rest: &'a [u8],
}

fn fields(msg: &[u8]) -> Fields<'_> {
    Fields { rest: msg }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, Field<'a>), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let field = read_field(&mut self.rest);
        if field.is_err() {
            self.rest = &[];
        }
        Some(field)
    }
}

fn read_field<'a>(buf: &mut &'a [u8]) -> Result<(u32, Field<'a>), Malformed> {
    let key = read_varint(buf)?;
    let number = u32::try_from(key >> 3).map_err(|_| Malformed)?;
    if number == 0 || number > MAX_FIELD {
        return Err(Malformed);
    }
    let value = match key & 7 {
        0 => Field::Varint(read_varint(buf)?),
        1 => take(buf, 8).map(|_| Field::Fixed)?,
        2 => {
            let n = usize::try_from(read_varint(buf)?).map_err(|_| Malformed)?;
            Field::Len(take(buf, n)?)
        }
        5 => take(buf, 4).map(|_| Field::Fixed)?,
        // 3 and 4 are the deprecated groups, which cannot be skipped without parsing them; 6 and 7 do not exist.
        _ => return Err(Malformed),
    };
    Ok((number, value))
}

fn read_varint(buf: &mut &[u8]) -> Result<u64, Malformed> {
    let mut v = 0u64;
    for i in 0..10 {
        let (&byte, rest) = buf.split_first().ok_or(Malformed)?;
        *buf = rest;
        // The tenth byte can only hold bit 63.
        if i == 9 && byte > 1 {
            return Err(Malformed);
        }
        v |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Ok(v);
        }
    }
    Err(Malformed)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], Malformed> {
    let (head, tail) = buf.split_at_checked(n).ok_or(Malformed)?;
    *buf = tail;
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{Severity, SpanId, SpanKind, Temporality, TraceId};
    use proptest::prelude::*;

    fn bytes_of<T: Encode + ?Sized>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        v.encode(&mut Writer { out: &mut out });
        out
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
    }

    /// `xxd`-style: offset, 16 bytes, their printable ASCII.
    fn hex_dump(b: &[u8]) -> String {
        b.chunks(16)
            .enumerate()
            .map(|(i, row)| {
                let ascii: String =
                    row.iter().map(|&c| if c.is_ascii_graphic() || c == b' ' { c as char } else { '.' }).collect();
                format!("{:04x}: {:<47}  {ascii}", i * 16, hex(row))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    // ---- a test-only protobuf walker, independent of the reader above ----

    #[derive(Debug, Clone, Copy)]
    enum W<'a> {
        V(u64),
        F64(u64),
        L(&'a [u8]),
    }

    /// One decoded message: its fields in wire order. Panics on anything malformed.
    struct M<'a>(Vec<(u32, W<'a>)>);

    fn walk(mut b: &[u8]) -> M<'_> {
        fn varint(b: &mut &[u8]) -> u64 {
            let mut v = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = b[0];
                *b = &b[1..];
                v |= u64::from(byte & 0x7f) << shift;
                if byte & 0x80 == 0 {
                    return v;
                }
            }
            panic!("varint too long")
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = varint(&mut b);
            let value = match key & 7 {
                0 => W::V(varint(&mut b)),
                1 => {
                    let (v, rest) = b.split_at(8);
                    b = rest;
                    W::F64(u64::from_le_bytes(v.try_into().unwrap()))
                }
                2 => {
                    let n = varint(&mut b) as usize;
                    let (v, rest) = b.split_at(n);
                    b = rest;
                    W::L(v)
                }
                w => panic!("wire type {w} never written"),
            };
            out.push(((key >> 3) as u32, value));
        }
        // Canonical order, the one prost writes: by field number.
        assert!(out.windows(2).all(|w| w[0].0 <= w[1].0), "fields out of order: {out:?}");
        M(out)
    }

    impl<'a> M<'a> {
        fn all(&self, n: u32) -> Vec<W<'a>> {
            self.0.iter().filter(|(f, _)| *f == n).map(|(_, v)| *v).collect()
        }
        fn one(&self, n: u32) -> Option<W<'a>> {
            let all = self.all(n);
            assert!(all.len() <= 1, "field {n} repeated");
            all.first().copied()
        }
        fn bytes(&self, n: u32) -> Option<&'a [u8]> {
            self.one(n).map(|w| match w {
                W::L(b) => b,
                other => panic!("field {n}: {other:?}"),
            })
        }
        fn string(&self, n: u32) -> String {
            String::from_utf8(self.bytes(n).unwrap_or_default().to_vec()).unwrap()
        }
        fn msg(&self, n: u32) -> Option<M<'a>> {
            self.bytes(n).map(walk)
        }
        fn msgs(&self, n: u32) -> Vec<M<'a>> {
            self.all(n)
                .into_iter()
                .map(|w| match w {
                    W::L(b) => walk(b),
                    other => panic!("field {n}: {other:?}"),
                })
                .collect()
        }
        fn varint(&self, n: u32) -> u64 {
            match self.one(n) {
                None => 0,
                Some(W::V(v)) => v,
                Some(other) => panic!("field {n}: {other:?}"),
            }
        }
        fn fixed(&self, n: u32) -> Option<u64> {
            self.one(n).map(|w| match w {
                W::F64(v) => v,
                other => panic!("field {n}: {other:?}"),
            })
        }
        fn packed_fixed64(&self, n: u32) -> Vec<u64> {
            self.bytes(n)
                .unwrap_or_default()
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
                .collect()
        }
    }

    fn w_any(m: &M) -> AnyValue {
        assert_eq!(m.0.len(), 1, "a oneof holds exactly one field");
        match m.0[0] {
            (1, W::L(b)) => AnyValue::Str(String::from_utf8(b.to_vec()).unwrap()),
            (2, W::V(v)) => AnyValue::Bool(v != 0),
            (3, W::V(v)) => AnyValue::Int(v as i64),
            (4, W::F64(v)) => AnyValue::Double(f64::from_bits(v)),
            (5, W::L(b)) => AnyValue::Array(walk(b).msgs(1).iter().map(w_any).collect()),
            (6, W::L(b)) => AnyValue::Map(walk(b).msgs(1).iter().map(w_kv).collect()),
            (7, W::L(b)) => AnyValue::Bytes(b.to_vec()),
            other => panic!("AnyValue field {other:?}"),
        }
    }

    fn w_kv(m: &M) -> KeyValue {
        KeyValue::new(m.string(1), w_any(&m.msg(2).expect("value")))
    }

    fn w_attrs(m: &M, n: u32) -> Vec<KeyValue> {
        m.msgs(n).iter().map(w_kv).collect()
    }

    fn kind(v: u64) -> SpanKind {
        match v {
            1 => SpanKind::Internal,
            2 => SpanKind::Server,
            3 => SpanKind::Client,
            4 => SpanKind::Producer,
            5 => SpanKind::Consumer,
            _ => panic!("kind {v}"),
        }
    }

    fn temporality(v: u64) -> Temporality {
        match v {
            1 => Temporality::Delta,
            2 => Temporality::Cumulative,
            _ => panic!("temporality {v}"),
        }
    }

    fn w_span(m: &M) -> Span {
        let status = match m.msg(15) {
            None => Status::Unset,
            Some(st) => match st.varint(3) {
                1 => Status::Ok,
                2 => Status::Error(st.string(2)),
                c => panic!("status code {c}"),
            },
        };
        Span {
            trace_id: TraceId(m.bytes(1).unwrap().try_into().unwrap()),
            span_id: SpanId(m.bytes(2).unwrap().try_into().unwrap()),
            parent_span_id: m.bytes(4).map(|b| SpanId(b.try_into().unwrap())),
            name: m.string(5),
            kind: kind(m.varint(6)),
            start_ns: m.fixed(7).unwrap_or(0),
            end_ns: m.fixed(8).unwrap_or(0),
            attributes: w_attrs(m, 9),
            status,
        }
    }

    fn w_log(m: &M) -> LogRecord {
        let (number, text) = (m.varint(2) as u8, m.string(3));
        LogRecord {
            time_ns: m.fixed(1).unwrap_or(0),
            observed_ns: m.fixed(11).unwrap_or(0),
            severity: (number > 0 || !text.is_empty()).then_some(Severity { number, text }),
            body: w_any(&m.msg(5).expect("body")),
            attributes: w_attrs(m, 6),
            trace_id: m.bytes(9).map(|b| TraceId(b.try_into().unwrap())),
            span_id: m.bytes(10).map(|b| SpanId(b.try_into().unwrap())),
        }
    }

    fn w_number(m: &M) -> NumberPoint {
        let value = match (m.fixed(4), m.fixed(6)) {
            (Some(d), None) => Number::Double(f64::from_bits(d)),
            (None, Some(i)) => Number::Int(i as i64),
            other => panic!("NumberDataPoint value {other:?}"),
        };
        NumberPoint {
            attributes: w_attrs(m, 7),
            start_ns: m.fixed(2).unwrap_or(0),
            time_ns: m.fixed(3).unwrap_or(0),
            value,
        }
    }

    fn w_histogram(m: &M) -> HistogramPoint {
        let double = |n| f64::from_bits(m.fixed(n).unwrap_or_else(|| panic!("field {n} missing")));
        HistogramPoint {
            attributes: w_attrs(m, 9),
            start_ns: m.fixed(2).unwrap_or(0),
            time_ns: m.fixed(3).unwrap_or(0),
            count: m.fixed(4).unwrap_or(0),
            sum: double(5),
            min: double(11),
            max: double(12),
            bounds: m.packed_fixed64(7).into_iter().map(f64::from_bits).collect(),
            bucket_counts: m.packed_fixed64(6),
        }
    }

    fn w_metric(m: &M) -> Metric {
        let data = match (m.msg(5), m.msg(7), m.msg(9)) {
            (Some(g), None, None) => MetricData::Gauge(g.msgs(1).iter().map(w_number).collect()),
            (None, Some(s), None) => MetricData::Sum {
                points: s.msgs(1).iter().map(w_number).collect(),
                temporality: temporality(s.varint(2)),
                monotonic: s.varint(3) != 0,
            },
            (None, None, Some(h)) => MetricData::Histogram {
                points: h.msgs(1).iter().map(w_histogram).collect(),
                temporality: temporality(h.varint(2)),
            },
            _ => panic!("metric data is a oneof"),
        };
        Metric { name: m.string(1), description: m.string(2), unit: m.string(3), data }
    }

    /// Reads a request back into the model with the walker.
    fn walk_request(bytes: &[u8], signal: Signal) -> Telemetry {
        let request = walk(bytes);
        assert!(request.0.iter().all(|(f, _)| *f == 1));
        let resources = request
            .msgs(1)
            .iter()
            .map(|rx| {
                let scopes = rx.msgs(2);
                assert_eq!(scopes.len(), 1, "one scope per resource");
                let scope = scopes[0].msg(1).expect("scope");
                assert_eq!((scope.string(1), scope.string(2)), (SCOPE_NAME.to_owned(), SCOPE_VERSION.to_owned()));
                let items = scopes[0].msgs(2);
                let mut r = ResourceTelemetry {
                    resource: Resource { attributes: w_attrs(&rx.msg(1).expect("resource"), 1) },
                    ..Default::default()
                };
                match signal {
                    Signal::Traces => r.spans = items.iter().map(w_span).collect(),
                    Signal::Metrics => r.metrics = items.iter().map(w_metric).collect(),
                    Signal::Logs => r.logs = items.iter().map(w_log).collect(),
                }
                r
            })
            .collect();
        Telemetry { resources }
    }

    /// `t` as one signal's request sees it: that signal only, resources without it left out.
    fn only(t: &Telemetry, signal: Signal) -> Telemetry {
        let resources = t
            .resources
            .iter()
            .map(|r| ResourceTelemetry {
                resource: r.resource.clone(),
                spans: if signal == Signal::Traces { r.spans.clone() } else { vec![] },
                metrics: if signal == Signal::Metrics { r.metrics.clone() } else { vec![] },
                logs: if signal == Signal::Logs { r.logs.clone() } else { vec![] },
            })
            .filter(|r| !(r.spans.is_empty() && r.metrics.is_empty() && r.logs.is_empty()))
            .collect();
        Telemetry { resources }
    }

    fn trace_id() -> TraceId {
        TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap()
    }

    /// Every AnyValue kind, nested; every metric kind with attributes; spans with parents and statuses; logs with ids.
    fn rich() -> Telemetry {
        let every_value = vec![
            KeyValue::new("s", "text"),
            KeyValue::new("empty", ""),
            KeyValue::new("t", true),
            KeyValue::new("f", false),
            KeyValue::new("zero", 0i64),
            KeyValue::new("neg", -1i64),
            KeyValue::new("big", i64::MAX),
            KeyValue::new("min", i64::MIN),
            KeyValue::new("d", 102.25),
            KeyValue::new("dzero", 0.0),
            KeyValue::new("inf", f64::NEG_INFINITY),
            KeyValue::new("bytes", AnyValue::Bytes(vec![0, 1, 0xff])),
            KeyValue::new("nobytes", AnyValue::Bytes(vec![])),
            KeyValue::new(
                "arr",
                AnyValue::Array(vec!["a".into(), 1i64.into(), AnyValue::Array(vec![]), AnyValue::Map(vec![])]),
            ),
            KeyValue::new(
                "map",
                AnyValue::Map(vec![
                    KeyValue::new(
                        "inner",
                        AnyValue::Map(vec![KeyValue::new("deep", AnyValue::Array(vec![true.into()]))]),
                    ),
                    KeyValue::new("", "empty key"),
                ]),
            ),
            KeyValue::new("unicode ✓", "naïve — ok"),
            KeyValue::new("long", "x".repeat(300)),
        ];
        let root = Span {
            trace_id: trace_id(),
            span_id: SpanId::from_hex("53995c3f42cd8ad8").unwrap(),
            parent_span_id: None,
            name: "checkout".into(),
            kind: SpanKind::Server,
            start_ns: 1_000_000_000_000_000_001,
            end_ns: 1_000_000_000_102_250_001,
            attributes: every_value.clone(),
            status: Status::Error("Task timed out after 3.00 seconds".into()),
        };
        let child = Span {
            span_id: SpanId::from_hex("0000000000000001").unwrap(),
            parent_span_id: Some(root.span_id),
            name: "db".into(),
            kind: SpanKind::Client,
            start_ns: 0,
            attributes: vec![],
            status: Status::Ok,
            ..root
        };
        let unset = Span {
            span_id: SpanId([9; 8]),
            name: String::new(),
            kind: SpanKind::Internal,
            status: Status::Unset,
            ..child.clone()
        };
        let attrs = vec![KeyValue::new("faas.name", "checkout"), KeyValue::new("cold", true)];
        let metrics = vec![
            Metric {
                name: "mem".into(),
                description: "memory used".into(),
                unit: "By".into(),
                data: MetricData::Gauge(vec![
                    NumberPoint { attributes: attrs.clone(), start_ns: 0, time_ns: 7, value: Number::Double(0.0) },
                    NumberPoint { attributes: vec![], start_ns: 1, time_ns: 7, value: Number::Int(-2) },
                ]),
            },
            Metric {
                name: "orders".into(),
                description: String::new(),
                unit: "{order}".into(),
                data: MetricData::Sum {
                    points: vec![NumberPoint {
                        attributes: attrs.clone(),
                        start_ns: 3,
                        time_ns: 4,
                        value: Number::Int(i64::MAX),
                    }],
                    temporality: Temporality::Delta,
                    monotonic: true,
                },
            },
            Metric {
                name: "level".into(),
                description: String::new(),
                unit: String::new(),
                data: MetricData::Sum {
                    points: vec![NumberPoint {
                        attributes: vec![],
                        start_ns: 3,
                        time_ns: 4,
                        value: Number::Double(-1.5),
                    }],
                    temporality: Temporality::Cumulative,
                    monotonic: false,
                },
            },
            Metric {
                name: "faas.invoke_duration".into(),
                description: String::new(),
                unit: "s".into(),
                data: MetricData::Histogram {
                    points: vec![
                        HistogramPoint::from_samples(attrs.clone(), 1, 2, &[0.1, 1.0, 10.0], [0.05, 0.2, 0.2, 30.0]),
                        HistogramPoint::from_samples(vec![], 0, 2, &[], [1.0]),
                    ],
                    temporality: Temporality::Delta,
                },
            },
        ];
        let logs = vec![
            LogRecord {
                time_ns: 5,
                observed_ns: 6,
                severity: Some(Severity::parse("WARN")),
                body: AnyValue::Map(every_value),
                attributes: attrs,
                trace_id: Some(trace_id()),
                span_id: Some(root.span_id),
            },
            LogRecord {
                time_ns: 0,
                observed_ns: 6,
                severity: Some(Severity::parse("verbose")),
                body: AnyValue::Str(String::new()),
                attributes: vec![],
                trace_id: None,
                span_id: None,
            },
            LogRecord {
                time_ns: 1,
                observed_ns: 2,
                severity: None,
                body: "plain".into(),
                attributes: vec![],
                trace_id: None,
                span_id: None,
            },
        ];
        let fn_resource = Resource {
            attributes: vec![
                KeyValue::new("service.name", "checkout"),
                KeyValue::new("faas.max_memory", 134_217_728i64),
            ],
        };
        Telemetry {
            resources: vec![
                ResourceTelemetry {
                    resource: fn_resource,
                    spans: vec![root, child, unset],
                    metrics,
                    logs: logs.clone(),
                },
                // Logs only: absent from the traces and metrics requests.
                ResourceTelemetry {
                    resource: Resource::default(),
                    spans: vec![],
                    metrics: vec![],
                    logs: logs[1..].to_vec(),
                },
                // Nothing at all: in no request.
                ResourceTelemetry {
                    resource: Resource { attributes: vec![KeyValue::new("service.name", "idle")] },
                    ..Default::default()
                },
            ],
        }
    }

    #[test]
    fn every_signal_decodes_back_to_the_model() {
        let t = rich();
        for signal in Signal::ALL {
            let bytes = encode(&t, signal);
            assert_eq!(walk_request(&bytes, signal), only(&t, signal), "{signal:?}");
        }
    }

    #[test]
    fn resources_without_the_signal_are_left_out() {
        let t = rich();
        let count = |signal| walk(&encode(&t, signal)).msgs(1).len();
        assert_eq!((count(Signal::Traces), count(Signal::Metrics), count(Signal::Logs)), (1, 1, 2));
        assert!(encode(&Telemetry::default(), Signal::Traces).is_empty());
    }

    #[test]
    fn encode_into_appends() {
        let t = rich();
        let expected = encode(&t, Signal::Logs);
        let mut buf = vec![0u8, 0, 0, 0, 0];
        encode_into(&t, Signal::Logs, &mut buf);
        assert_eq!((&buf[..5], &buf[5..]), (&[0u8; 5][..], &expected[..]));
        buf.clear();
        encode_into(&t, Signal::Logs, &mut buf);
        assert_eq!(buf, expected);
    }

    #[test]
    fn histogram_min_max_only_with_samples() {
        let empty = HistogramPoint::from_samples(vec![], 1, 2, &[1.0], []);
        let bytes = bytes_of(&empty);
        let m = walk(&bytes);
        assert_eq!((m.fixed(11), m.fixed(12)), (None, None));
        assert_eq!(m.fixed(5), Some(0f64.to_bits()), "sum stays, as in the JSON");
        assert_eq!(m.fixed(4), None, "count 0 is the default");
        assert_eq!(m.packed_fixed64(6), vec![0, 0]);
    }

    #[test]
    fn a_single_attribute_byte_for_byte() {
        // KeyValue { key = 1: "a", value = 2: AnyValue { string_value = 1: "b" } }
        assert_eq!(hex(&bytes_of(&KeyValue::new("a", "b"))), "0a 01 61 12 03 0a 01 62");
        // Resource { attributes = 1: that }
        let r = Resource { attributes: vec![KeyValue::new("a", "b")] };
        assert_eq!(hex(&bytes_of(&r)), "0a 08 0a 01 61 12 03 0a 01 62");
    }

    #[test]
    fn scalars_byte_for_byte() {
        for (v, expected) in [
            (AnyValue::Int(0), "18 00"),
            (AnyValue::Int(1), "18 01"),
            (AnyValue::Int(127), "18 7f"),
            (AnyValue::Int(128), "18 80 01"),
            (AnyValue::Int(300), "18 ac 02"),
            (AnyValue::Int(-1), "18 ff ff ff ff ff ff ff ff ff 01"),
            (AnyValue::Bool(false), "10 00"),
            (AnyValue::Bool(true), "10 01"),
            (AnyValue::Double(1.5), "21 00 00 00 00 00 00 f8 3f"),
            (AnyValue::Str(String::new()), "0a 00"),
            (AnyValue::Bytes(vec![0xde, 0xad]), "3a 02 de ad"),
            (AnyValue::Array(vec![]), "2a 00"),
            (AnyValue::Map(vec![]), "32 00"),
        ] {
            assert_eq!(hex(&bytes_of(&v)), expected, "{v:?}");
        }
        // sfixed64 as_int = 6 after fixed64 time_unix_nano = 3.
        let p = NumberPoint { attributes: vec![], start_ns: 0, time_ns: 1, value: Number::Int(-2) };
        assert_eq!(hex(&bytes_of(&p)), "19 01 00 00 00 00 00 00 00 31 fe ff ff ff ff ff ff ff");
    }

    #[test]
    fn nested_lengths_cross_the_one_byte_boundary() {
        // KeyValue { 0a 01 'k', 12 <len> AnyValue { 0a <n> "x"*n } } is 7 + n bytes while n < 126.
        for (n, head) in [(120, vec![0x0a, 0x7f]), (121, vec![0x0a, 0x80, 0x01])] {
            let r = Resource { attributes: vec![KeyValue::new("k", "x".repeat(n))] };
            let b = bytes_of(&r);
            assert_eq!(b[..head.len()], head[..], "n = {n}");
            assert_eq!(b.len(), head.len() + 7 + n);
        }
        // The AnyValue itself reaching 128 bytes: 0a 7e + 126 bytes.
        let b = bytes_of(&KeyValue::new("k", "x".repeat(126)));
        assert_eq!(hex(&b[..7]), "0a 01 6b 12 80 01 0a");
        assert_eq!(b.len(), 3 + 3 + 2 + 126);
        // Three-byte lengths, one inside the other.
        let big = Resource { attributes: vec![KeyValue::new("k", "x".repeat(20_000))] };
        let b = bytes_of(&big);
        assert_eq!(hex(&b[..4]), "0a ab 9c 01", "KeyValue of 3 + 4 + 20_004 = 20_011 bytes");
        assert_eq!(w_attrs(&walk(&b), 1), big.attributes);
    }

    #[test]
    fn varint_len_matches_the_writer() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u64::from(u32::MAX), 1 << 56, (1 << 63) - 1, 1 << 63, u64::MAX] {
            let mut out = Vec::new();
            Writer { out: &mut out }.varint(v);
            assert_eq!(varint_len(v), out.len(), "{v}");
            assert_eq!(read_varint(&mut &out[..]), Ok(v));
        }
    }

    fn small() -> Telemetry {
        Telemetry {
            resources: vec![ResourceTelemetry {
                resource: Resource { attributes: vec![KeyValue::new("service.name", "checkout")] },
                spans: vec![Span {
                    trace_id: trace_id(),
                    span_id: SpanId::from_hex("53995c3f42cd8ad8").unwrap(),
                    parent_span_id: None,
                    name: "checkout".into(),
                    kind: SpanKind::Server,
                    start_ns: 1_000_000_000_000_000_001,
                    end_ns: 1_000_000_000_102_250_001,
                    attributes: vec![KeyValue::new("faas.coldstart", true)],
                    status: Status::Error("timeout".into()),
                }],
                metrics: vec![],
                logs: vec![],
            }],
        }
    }

    #[test]
    fn small_trace_request_hex() {
        insta::assert_snapshot!(hex_dump(&encode(&small(), Signal::Traces)));
    }

    // ---- cross-check against the prost types generated from opentelemetry-proto ----

    mod prost_types {
        use super::*;
        use opentelemetry_proto::tonic::collector::logs::v1::{
            ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
        };
        use opentelemetry_proto::tonic::collector::metrics::v1::{
            ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
        };
        use opentelemetry_proto::tonic::collector::trace::v1::{
            ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
        };
        use opentelemetry_proto::tonic::common::v1::{
            any_value, AnyValue as PAny, InstrumentationScope, KeyValue as PKv,
        };
        use opentelemetry_proto::tonic::logs::v1 as pl;
        use opentelemetry_proto::tonic::metrics::v1 as pm;
        use opentelemetry_proto::tonic::resource::v1::Resource as PResource;
        use opentelemetry_proto::tonic::trace::v1 as pt;
        use prost::Message;

        fn p_any(v: &PAny) -> AnyValue {
            match v.value.as_ref().expect("value set") {
                any_value::Value::StringValue(s) => AnyValue::Str(s.clone()),
                any_value::Value::BoolValue(b) => AnyValue::Bool(*b),
                any_value::Value::IntValue(i) => AnyValue::Int(*i),
                any_value::Value::DoubleValue(d) => AnyValue::Double(*d),
                any_value::Value::ArrayValue(a) => AnyValue::Array(a.values.iter().map(p_any).collect()),
                any_value::Value::KvlistValue(l) => AnyValue::Map(l.values.iter().map(kv).collect()),
                any_value::Value::BytesValue(b) => AnyValue::Bytes(b.clone()),
                other => panic!("{other:?}"),
            }
        }

        fn kv(k: &PKv) -> KeyValue {
            assert_eq!(k.key_strindex, 0);
            KeyValue::new(k.key.clone(), p_any(k.value.as_ref().expect("value")))
        }

        fn attrs(a: &[PKv]) -> Vec<KeyValue> {
            a.iter().map(kv).collect()
        }

        fn resource(r: &Option<PResource>) -> Resource {
            let r = r.as_ref().expect("resource always set, as in the JSON");
            assert_eq!((r.dropped_attributes_count, r.entity_refs.len()), (0, 0));
            Resource { attributes: attrs(&r.attributes) }
        }

        fn scope(s: &Option<InstrumentationScope>) {
            let s = s.as_ref().expect("scope");
            assert_eq!((s.name.as_str(), s.version.as_str()), (SCOPE_NAME, SCOPE_VERSION));
        }

        fn span(s: &pt::Span) -> Span {
            assert_eq!((s.flags, s.trace_state.as_str(), s.events.len(), s.links.len()), (0, "", 0, 0));
            let status = match &s.status {
                None => Status::Unset,
                Some(st) if st.code == pt::status::StatusCode::Ok as i32 && st.message.is_empty() => Status::Ok,
                Some(st) if st.code == pt::status::StatusCode::Error as i32 => Status::Error(st.message.clone()),
                Some(st) => panic!("{st:?}"),
            };
            Span {
                trace_id: TraceId(s.trace_id.as_slice().try_into().unwrap()),
                span_id: SpanId(s.span_id.as_slice().try_into().unwrap()),
                parent_span_id: (!s.parent_span_id.is_empty())
                    .then(|| SpanId(s.parent_span_id.as_slice().try_into().unwrap())),
                name: s.name.clone(),
                kind: kind(u64::try_from(s.kind).unwrap()),
                start_ns: s.start_time_unix_nano,
                end_ns: s.end_time_unix_nano,
                attributes: attrs(&s.attributes),
                status,
            }
        }

        fn log(l: &pl::LogRecord) -> LogRecord {
            assert_eq!((l.flags, l.dropped_attributes_count, l.event_name.as_str()), (0, 0, ""));
            let number = u8::try_from(l.severity_number).unwrap();
            LogRecord {
                time_ns: l.time_unix_nano,
                observed_ns: l.observed_time_unix_nano,
                severity: (number > 0 || !l.severity_text.is_empty())
                    .then(|| Severity { number, text: l.severity_text.clone() }),
                body: p_any(l.body.as_ref().expect("body")),
                attributes: attrs(&l.attributes),
                trace_id: (!l.trace_id.is_empty()).then(|| TraceId(l.trace_id.as_slice().try_into().unwrap())),
                span_id: (!l.span_id.is_empty()).then(|| SpanId(l.span_id.as_slice().try_into().unwrap())),
            }
        }

        fn number(p: &pm::NumberDataPoint) -> NumberPoint {
            assert_eq!((p.flags, p.exemplars.len()), (0, 0));
            let value = match p.value.expect("value") {
                pm::number_data_point::Value::AsDouble(d) => Number::Double(d),
                pm::number_data_point::Value::AsInt(i) => Number::Int(i),
            };
            NumberPoint {
                attributes: attrs(&p.attributes),
                start_ns: p.start_time_unix_nano,
                time_ns: p.time_unix_nano,
                value,
            }
        }

        fn histogram(p: &pm::HistogramDataPoint) -> HistogramPoint {
            HistogramPoint {
                attributes: attrs(&p.attributes),
                start_ns: p.start_time_unix_nano,
                time_ns: p.time_unix_nano,
                count: p.count,
                sum: p.sum.expect("sum"),
                min: p.min.expect("min"),
                max: p.max.expect("max"),
                bounds: p.explicit_bounds.clone(),
                bucket_counts: p.bucket_counts.clone(),
            }
        }

        fn metric(m: &pm::Metric) -> Metric {
            assert!(m.metadata.is_empty());
            let data = match m.data.as_ref().expect("data") {
                pm::metric::Data::Gauge(g) => MetricData::Gauge(g.data_points.iter().map(number).collect()),
                pm::metric::Data::Sum(s) => MetricData::Sum {
                    points: s.data_points.iter().map(number).collect(),
                    temporality: temporality(u64::try_from(s.aggregation_temporality).unwrap()),
                    monotonic: s.is_monotonic,
                },
                pm::metric::Data::Histogram(h) => MetricData::Histogram {
                    points: h.data_points.iter().map(histogram).collect(),
                    temporality: temporality(u64::try_from(h.aggregation_temporality).unwrap()),
                },
                other => panic!("{other:?}"),
            };
            Metric { name: m.name.clone(), description: m.description.clone(), unit: m.unit.clone(), data }
        }

        /// Decodes with prost into the model, and checks prost writes back the very same bytes.
        fn decode(bytes: &[u8], signal: Signal) -> Telemetry {
            let (resources, reencoded): (Vec<ResourceTelemetry>, Vec<u8>) = match signal {
                Signal::Traces => {
                    let req = ExportTraceServiceRequest::decode(bytes).unwrap();
                    let rs = req
                        .resource_spans
                        .iter()
                        .map(|rs| {
                            assert_eq!(rs.scope_spans.len(), 1);
                            scope(&rs.scope_spans[0].scope);
                            ResourceTelemetry {
                                resource: resource(&rs.resource),
                                spans: rs.scope_spans[0].spans.iter().map(span).collect(),
                                ..Default::default()
                            }
                        })
                        .collect();
                    (rs, req.encode_to_vec())
                }
                Signal::Metrics => {
                    let req = ExportMetricsServiceRequest::decode(bytes).unwrap();
                    let rs = req
                        .resource_metrics
                        .iter()
                        .map(|rm| {
                            assert_eq!(rm.scope_metrics.len(), 1);
                            scope(&rm.scope_metrics[0].scope);
                            ResourceTelemetry {
                                resource: resource(&rm.resource),
                                metrics: rm.scope_metrics[0].metrics.iter().map(metric).collect(),
                                ..Default::default()
                            }
                        })
                        .collect();
                    (rs, req.encode_to_vec())
                }
                Signal::Logs => {
                    let req = ExportLogsServiceRequest::decode(bytes).unwrap();
                    let rs = req
                        .resource_logs
                        .iter()
                        .map(|rl| {
                            assert_eq!(rl.scope_logs.len(), 1);
                            scope(&rl.scope_logs[0].scope);
                            ResourceTelemetry {
                                resource: resource(&rl.resource),
                                logs: rl.scope_logs[0].log_records.iter().map(log).collect(),
                                ..Default::default()
                            }
                        })
                        .collect();
                    (rs, req.encode_to_vec())
                }
            };
            assert!(
                reencoded == bytes,
                "prost writes other bytes for {signal:?}:\n{}\n{}",
                hex(bytes),
                hex(&reencoded)
            );
            Telemetry { resources }
        }

        #[test]
        fn prost_reads_the_model_back_and_writes_the_same_bytes() {
            let t = rich();
            for signal in Signal::ALL {
                assert_eq!(decode(&encode(&t, signal), signal), only(&t, signal), "{signal:?}");
            }
        }

        #[test]
        fn the_json_encoding_carries_the_same_resources_and_items() {
            let t = rich();
            for signal in Signal::ALL {
                let json: Value = sonic_rs::from_slice(&crate::export::otlp_json::encode(&t, signal)).unwrap();
                let decoded = decode(&encode(&t, signal), signal);
                let (rkey, skey, ikey) = match signal {
                    Signal::Traces => ("resourceSpans", "scopeSpans", "spans"),
                    Signal::Metrics => ("resourceMetrics", "scopeMetrics", "metrics"),
                    Signal::Logs => ("resourceLogs", "scopeLogs", "logRecords"),
                };
                let rs = json.get(rkey).unwrap().as_array().unwrap();
                assert_eq!(rs.len(), decoded.resources.len());
                for (rj, rp) in rs.iter().zip(&decoded.resources) {
                    let attrs = rj.get("resource").unwrap().get("attributes").unwrap().as_array().unwrap();
                    let keys: Vec<&str> = attrs.iter().map(|a| a.get("key").unwrap().as_str().unwrap()).collect();
                    let pkeys: Vec<&str> = rp.resource.attributes.iter().map(|a| &*a.key).collect();
                    assert_eq!(keys, pkeys);
                    let scopes = rj.get(skey).unwrap().as_array().unwrap();
                    assert_eq!(scopes.len(), 1);
                    let scope = scopes.iter().next().unwrap().get("scope").unwrap();
                    assert_eq!(scope.get("name").unwrap().as_str(), Some(SCOPE_NAME));
                    assert_eq!(scope.get("version").unwrap().as_str(), Some(SCOPE_VERSION));
                    let items = scopes.iter().next().unwrap().get(ikey).unwrap().as_array().unwrap().len();
                    assert_eq!(items, rp.spans.len() + rp.metrics.len() + rp.logs.len());
                }
            }
        }

        #[test]
        fn partial_success_from_prost_encoded_responses() {
            let body = ExportTraceServiceResponse {
                partial_success: Some(ExportTracePartialSuccess {
                    rejected_spans: 3,
                    error_message: "bad span".into(),
                }),
            }
            .encode_to_vec();
            assert_eq!(
                partial_success(Signal::Traces, &body),
                Some(PartialSuccess { rejected: 3, error_message: "bad span".into() })
            );
            let body = ExportMetricsServiceResponse {
                partial_success: Some(ExportMetricsPartialSuccess {
                    rejected_data_points: 1 << 40,
                    error_message: String::new(),
                }),
            }
            .encode_to_vec();
            assert_eq!(
                partial_success(Signal::Metrics, &body),
                Some(PartialSuccess { rejected: 1 << 40, error_message: String::new() })
            );
            let body = ExportLogsServiceResponse {
                partial_success: Some(ExportLogsPartialSuccess {
                    rejected_log_records: 0,
                    error_message: "slow down".into(),
                }),
            }
            .encode_to_vec();
            assert_eq!(
                partial_success(Signal::Logs, &body),
                Some(PartialSuccess { rejected: 0, error_message: "slow down".into() })
            );
            let empty = ExportLogsServiceResponse { partial_success: Some(ExportLogsPartialSuccess::default()) }
                .encode_to_vec();
            assert_eq!(hex(&empty), "0a 00");
            assert_eq!(partial_success(Signal::Logs, &empty), None);
        }

        fn arb_any() -> impl Strategy<Value = AnyValue> {
            let leaf = prop_oneof![
                ".{0,12}".prop_map(AnyValue::Str),
                any::<bool>().prop_map(AnyValue::Bool),
                any::<i64>().prop_map(AnyValue::Int),
                (-1e300..1e300f64).prop_map(AnyValue::Double),
                proptest::collection::vec(any::<u8>(), 0..8).prop_map(AnyValue::Bytes),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..4).prop_map(AnyValue::Array),
                    proptest::collection::vec((".{0,6}", inner), 0..4)
                        .prop_map(|kvs| AnyValue::Map(kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect())),
                ]
            })
        }

        fn arb_attrs() -> impl Strategy<Value = Vec<KeyValue>> {
            proptest::collection::vec(("[a-z.]{0,8}", arb_any()), 0..4)
                .prop_map(|kvs| kvs.into_iter().map(|(k, v)| KeyValue::new(k, v)).collect())
        }

        fn arb_log() -> impl Strategy<Value = LogRecord> {
            (
                any::<u64>(),
                any::<u64>(),
                proptest::option::of((1u8..=24, "[A-Z]{0,5}")),
                arb_any(),
                arb_attrs(),
                any::<bool>(),
            )
                .prop_map(|(time_ns, observed_ns, sev, body, attributes, linked)| LogRecord {
                    time_ns,
                    observed_ns,
                    severity: sev.map(|(number, text)| Severity { number, text }),
                    body,
                    attributes,
                    trace_id: linked.then(trace_id),
                    span_id: linked.then_some(SpanId([7; 8])),
                })
        }

        fn arb_span() -> impl Strategy<Value = Span> {
            (any::<u64>(), any::<u64>(), ".{0,10}", 1u8..=5, arb_attrs(), any::<[u8; 8]>(), 0u8..3).prop_map(
                |(start_ns, end_ns, name, k, attributes, parent, st)| Span {
                    trace_id: trace_id(),
                    span_id: SpanId([1; 8]),
                    parent_span_id: (parent != [0; 8]).then_some(SpanId(parent)),
                    name,
                    kind: kind(u64::from(k)),
                    start_ns,
                    end_ns,
                    attributes,
                    status: match st {
                        0 => Status::Unset,
                        1 => Status::Ok,
                        _ => Status::Error("boom".into()),
                    },
                },
            )
        }

        proptest! {
            #[test]
            fn arbitrary_spans_and_logs_round_trip_through_prost(
                spans in proptest::collection::vec(arb_span(), 1..4),
                logs in proptest::collection::vec(arb_log(), 1..4),
                resource in arb_attrs(),
            ) {
                let t = Telemetry { resources: vec![ResourceTelemetry {
                    resource: Resource { attributes: resource }, spans, metrics: vec![], logs,
                }] };
                for signal in [Signal::Traces, Signal::Logs] {
                    let bytes = encode(&t, signal);
                    prop_assert_eq!(decode(&bytes, signal), only(&t, signal));
                    prop_assert_eq!(walk_request(&bytes, signal), only(&t, signal));
                }
            }

            /// A batch is encoded from its slices exactly as from its materialized copy, whole or cut.
            #[test]
            fn batches_encode_as_their_copies(
                sizes in proptest::collection::vec(0usize..5, 1..4),
                max in 1usize..6,
                log in arb_log(),
                span in arb_span(),
            ) {
                let t = Telemetry { resources: sizes.iter().enumerate().map(|(i, n)| ResourceTelemetry {
                    resource: Resource { attributes: vec![KeyValue::new("i", i as i64)] },
                    spans: vec![span.clone(); *n],
                    metrics: vec![],
                    logs: vec![log.clone(); n + 1],
                }).collect() };
                for signal in [Signal::Traces, Signal::Logs] {
                    for batch in crate::export::batch::plan(&t, signal, max) {
                        prop_assert_eq!(encode_batch(&t, &batch), encode(&batch.materialize(&t), signal));
                    }
                }
            }
        }
    }

    // ---- responses ----

    fn var(field: u32, v: u64) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = Writer { out: &mut out };
        w.key(field, VARINT);
        w.varint(v);
        out
    }

    fn len(field: u32, b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        Writer { out: &mut out }.len_field(field, b);
        out
    }

    fn retry_info_any(type_url: &str, seconds: i64, nanos: i32) -> Vec<u8> {
        let duration = [var(1, seconds as u64), var(2, nanos as i64 as u64)].concat();
        let info = len(1, &duration);
        len(3, &[len(1, type_url.as_bytes()), len(2, &info)].concat())
    }

    const RETRY_INFO: &str = "type.googleapis.com/google.rpc.RetryInfo";

    #[test]
    fn partial_success_table() {
        let ps = |rejected, msg: &str| Some(PartialSuccess { rejected, error_message: msg.into() });
        let cases: Vec<(&str, Vec<u8>, Option<PartialSuccess>)> = vec![
            ("empty body", vec![], None),
            ("absent", var(9, 1), None),
            ("empty partial success", len(1, &[]), None),
            ("rejected and message", len(1, &[var(1, 3), len(2, b"bad")].concat()), ps(3, "bad")),
            ("hand bytes", vec![0x0a, 0x07, 0x08, 0x03, 0x12, 0x03, b'b', b'a', b'd'], ps(3, "bad")),
            ("warning only", len(1, &len(2, b"slow down")), ps(0, "slow down")),
            (
                "unknown fields of every wire type around it",
                [
                    var(7, 1),
                    vec![0x39, 1, 2, 3, 4, 5, 6, 7, 8],
                    vec![0x45, 1, 2, 3, 4],
                    len(1, &[var(3, 5), len(1_000, b"x"), var(1, 2)].concat()),
                    len(5, b"zz"),
                ]
                .concat(),
                ps(2, ""),
            ),
            ("merged when sent twice", [len(1, &var(1, 2)), len(1, &len(2, b"m"))].concat(), ps(2, "m")),
            ("negative count", len(1, &var(1, u64::MAX)), None),
            ("invalid utf-8 message", len(1, &len(2, &[0xff, b'a'])), ps(0, "\u{fffd}a")),
            ("truncated", vec![0x0a, 0x07, 0x08, 0x03], None),
            ("length past the end", vec![0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], None),
            ("group start", vec![0x0b, 0x0c], None),
            ("group end", vec![0x0c], None),
            ("wire type 6", vec![0x0e], None),
            ("field 0", vec![0x02, 0x00], None),
            ("eleven-byte varint", [vec![0x08], vec![0x80; 10], vec![0x01]].concat(), None),
            ("varint overflowing 64 bits", [vec![0x08], vec![0xff; 9], vec![0x02]].concat(), None),
            ("wrong wire type for partial_success", var(1, 3), None),
            ("wrong wire type for rejected", len(1, &len(1, b"3")), None),
            ("html", b"<html><body>502 Bad Gateway</body></html>".to_vec(), None),
        ];
        for (name, body, expected) in cases {
            for signal in Signal::ALL {
                assert_eq!(partial_success(signal, &body), expected, "{name}");
            }
        }
    }

    #[test]
    fn retry_delay_table() {
        let error_info =
            len(3, &[len(1, b"type.googleapis.com/google.rpc.ErrorInfo"), len(2, &len(1, b"RATE"))].concat());
        let status = |details: &[Vec<u8>]| [var(1, 8), len(2, b"too many requests"), details.concat()].concat();
        let cases: Vec<(&str, Vec<u8>, Option<Duration>)> = vec![
            ("empty", vec![], None),
            ("no details", status(&[]), None),
            ("other details only", status(std::slice::from_ref(&error_info)), None),
            (
                "after other details",
                status(&[error_info, retry_info_any(RETRY_INFO, 1, 500_000_000)]),
                Some(Duration::from_millis(1500)),
            ),
            ("bare type name", status(&[retry_info_any("google.rpc.RetryInfo", 2, 0)]), Some(Duration::from_secs(2))),
            (
                "first of two",
                status(&[retry_info_any(RETRY_INFO, 3, 0), retry_info_any(RETRY_INFO, 9, 0)]),
                Some(Duration::from_secs(3)),
            ),
            ("zero", status(&[retry_info_any(RETRY_INFO, 0, 0)]), Some(Duration::ZERO)),
            ("look-alike type", status(&[retry_info_any("type.googleapis.com/google.rpc.RetryInfoX", 1, 0)]), None),
            ("suffix without a slash", status(&[retry_info_any("xgoogle.rpc.RetryInfo", 1, 0)]), None),
            ("negative seconds", status(&[retry_info_any(RETRY_INFO, -1, 0)]), None),
            ("negative nanos", status(&[retry_info_any(RETRY_INFO, 1, -1)]), None),
            ("nanos of a whole second", status(&[retry_info_any(RETRY_INFO, 1, 1_000_000_000)]), None),
            ("no retry_delay", status(&[len(3, &[len(1, RETRY_INFO.as_bytes()), len(2, &[])].concat())]), None),
            (
                "value before type_url",
                status(&[len(3, &[len(2, &len(1, &var(1, 4))), len(1, RETRY_INFO.as_bytes())].concat())]),
                Some(Duration::from_secs(4)),
            ),
            ("truncated", status(&[retry_info_any(RETRY_INFO, 1, 0)])[..30].to_vec(), None),
            ("garbage", vec![0xff; 16], None),
        ];
        for (name, body, expected) in cases {
            assert_eq!(retry_delay(&body), expected, "{name}");
        }
        assert_eq!(status_message(&status(&[])).as_deref(), Some("too many requests"));
        assert_eq!(status_message(&var(1, 14)), None);
        assert_eq!(status_message(&[0x12, 0x05, b'a']), None);
    }

    #[test]
    fn json_responses() {
        let ps = |rejected, msg: &str| Some(PartialSuccess { rejected, error_message: msg.into() });
        for (signal, body, expected) in [
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":"3","errorMessage":"bad"}}"#, ps(3, "bad")),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":3}}"#, ps(3, "")),
            (Signal::Metrics, r#"{"partialSuccess":{"rejectedDataPoints":"12"}}"#, ps(12, "")),
            (Signal::Logs, r#"{"partial_success":{"rejected_log_records":"1","error_message":"x"}}"#, ps(1, "x")),
            (Signal::Logs, r#"{"partialSuccess":{"errorMessage":"warn"}}"#, ps(0, "warn")),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedDataPoints":"3"}}"#, None),
            (Signal::Traces, r#"{"partialSuccess":{}}"#, None),
            (Signal::Traces, r#"{"partialSuccess":null}"#, None),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":null,"errorMessage":"m"}}"#, ps(0, "m")),
            (Signal::Traces, r#"{}"#, None),
            (Signal::Traces, "", None),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":"three"}}"#, None),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":"-3"}}"#, None),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":[3]}}"#, None),
            (Signal::Traces, r#"{"partialSuccess":{"rejectedSpans":"3""#, None),
            (Signal::Traces, r#"[1,2]"#, None),
        ] {
            assert_eq!(partial_success_json(signal, body.as_bytes()), expected, "{body}");
        }
        let status = |delay: &str| {
            format!(
                r#"{{"code":8,"message":"slow down","details":[{{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE"}},{{"@type":"{RETRY_INFO}","retryDelay":{delay}}}]}}"#
            )
        };
        for (delay, expected) in [
            (r#""1.5s""#, Some(Duration::from_millis(1500))),
            (r#""2s""#, Some(Duration::from_secs(2))),
            (r#""0.000000001s""#, Some(Duration::from_nanos(1))),
            (r#""30.100s""#, Some(Duration::from_millis(30_100))),
            (r#""0s""#, Some(Duration::ZERO)),
            (r#""-1s""#, None),
            (r#""1.0000000001s""#, None),
            (r#""1.5""#, None),
            (r#""s""#, None),
            (r#""1,5s""#, None),
            (r#""+1s""#, None),
            (r#"1.5"#, None),
            (r#"null"#, None),
        ] {
            assert_eq!(retry_delay_json(status(delay).as_bytes()), expected, "{delay}");
        }
        assert_eq!(retry_delay_json(br#"{"code":8,"message":"m"}"#), None);
        assert_eq!(
            retry_delay_json(br#"{"details":[{"@type":"google.rpc.RetryInfo","retry_delay":"3s"}]}"#),
            Some(Duration::from_secs(3))
        );
        assert_eq!(status_message_json(status(r#""1s""#).as_bytes()).as_deref(), Some("slow down"));
        assert_eq!(status_message_json(br#"{"message":""}"#), None);
        assert_eq!(status_message_json(b"<html>"), None);
    }

    /// JSON text of any shape: every scalar kind, escapes, empty and long strings, nesting.
    fn arb_json() -> impl Strategy<Value = String> {
        let string = prop_oneof![Just(String::new()), "[a-z\\\"\u{e9}\u{1f600} ]{0,8}", "[a-z]{120,140}"]
            .prop_map(|s| sonic_rs::to_string(&s).unwrap_or_default());
        let leaf = prop_oneof![
            Just("null".to_owned()),
            any::<bool>().prop_map(|b| b.to_string()),
            any::<i64>().prop_map(|i| i.to_string()),
            any::<u64>().prop_map(|i| i.to_string()),
            (-1e6f64..1e6).prop_map(|d| format!("{d:e}")),
            string.clone(),
        ];
        leaf.prop_recursive(4, 32, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(|vs| format!("[{}]", vs.join(","))),
                proptest::collection::vec((string.clone(), inner), 0..6).prop_map(|kvs| {
                    let body: Vec<String> = kvs.into_iter().map(|(k, v)| format!("{k}:{v}")).collect();
                    format!("{{{}}}", body.join(","))
                }),
            ]
        })
    }

    /// A JSON document written from its text is byte for byte the tree it parses to, encoded.
    fn assert_json_as_tree(text: &str) {
        let doc = AnyValue::Json(JsonDoc::new_parsed(text));
        let tree = doc.parsed().into_owned();
        assert!(!matches!(tree, AnyValue::Json(_)));
        assert_eq!(hex(&bytes_of(&doc)), hex(&bytes_of(&tree)), "{text}");
        // Rendered by the JSON log parser in the walk that reads the line, it is the same bytes again.
        if text.trim_start().starts_with('{') {
            let ctx = crate::parse::Ctx { observed_ns: 0, prefix: None, render_otlp: true };
            let items = crate::parse::json_log::parse(text, &ctx).expect("a JSON log").expect("a JSON log");
            let [crate::parse::Item::Log(log)] = &items[..] else { panic!("one log from {text}: {items:?}") };
            assert!(matches!(&log.body, AnyValue::Json(d) if d.otlp().is_some()), "{text} was not rendered");
            assert_eq!(hex(&bytes_of(&log.body)), hex(&bytes_of(&tree)), "{text}");
        }
    }

    #[test]
    fn json_documents_encode_as_their_tree() {
        let long = "x".repeat(300);
        for text in [
            r#"{"level":"info","time":1793538600432,"msg":"price quote","http":{"method":"GET","status":200}}"#,
            r#"{"a":null,"b":true,"c":false,"d":-7,"e":18446744073709551615,"f":9223372036854775807,"g":1.5e3}"#,
            r#"{"":1,"esc\"aped":"\u00e9\n","arr":[],"obj":{},"nested":[[1,[2,{"x":[null]}]],{"k":"v"}]}"#,
            r#"  {"dup":1,"dup":2}  "#,
            &format!(r#"{{"long":"{long}","list":["{long}","{long}"],"deep":{{"m":{{"long":"{long}"}}}}}}"#),
            r#"[1,"two",{"three":3}]"#,
            "-0.0",
            r#""just a string""#,
        ] {
            assert_json_as_tree(text);
        }
        // Text that does not parse is encoded as the string it is, as its tree would be.
        assert_eq!(bytes_of(&AnyValue::Json(JsonDoc::new_parsed("{nope"))), bytes_of(&AnyValue::Str("{nope".into())));
    }

    proptest! {
        #[test]
        fn json_text_encodes_as_its_tree(value in arb_json(), pad in "[ \t]{0,2}") {
            assert_json_as_tree(&format!("{pad}{value}{pad}"));
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(any::<u8>(), 0..256)) {
            for signal in Signal::ALL {
                let _ = partial_success(signal, &body);
                let _ = partial_success_json(signal, &body);
            }
            let _ = retry_delay(&body);
            let _ = retry_delay_json(&body);
            let _ = status_message(&body);
            let _ = status_message_json(&body);
        }

        #[test]
        fn corrupted_responses_never_panic(cut in 0usize..64, flip in 0usize..64, bit in 0u8..8) {
            let mut body = [var(1, 8), len(2, b"m"), retry_info_any(RETRY_INFO, 1, 5), len(1, &[var(1, 3), len(2, b"bad")].concat())].concat();
            let i = flip % body.len();
            body[i] ^= 1 << bit;
            body.truncate(cut.min(body.len()));
            let _ = retry_delay(&body);
            let _ = status_message(&body);
            let _ = partial_success(Signal::Traces, &body);
        }
    }
}
