//! Honeycomb's Events API: every span and log record as one event, batched per dataset to `POST /1/batch/{dataset}`.
//!
//! What this relies on, from Honeycomb's API reference ("Create Events" and its OpenAPI description) and the
//! clients Honeycomb maintains (libhoney-go, libhoney-js, and husky, the translator behind its OTLP ingest):
//! - The body is a JSON array of `{"time": RFC 3339, "samplerate": n, "data": {…}}`, the key goes in
//!   `X-Honeycomb-Team`, and gzip is accepted with `Content-Encoding: gzip`. A 200 answer holds one
//!   `{"status": 202}` or `{"status": 4xx, "error": "…"}` per event, in request order.
//! - Whole-request answers: 400 (empty, malformed, "Request body is too large", "Dataset has too many columns"),
//!   401 (unknown key), 403 (administrative throttling), 404, 429 (rate limiting, or an administrative denylist).
//! - Limits: an event has at most 2,000 fields and is under 1 MB of uncompressed JSON; a string field holds at
//!   most 64 KB (the storage engine's 16-bit length, where husky cuts values too); a batch body is at most 5 MB
//!   uncompressed (libhoney-go's `apiMaxBatchSize`). No event count per batch is documented.
//! - Field names are those of Honeycomb's own OTLP ingest (husky), so an event reads the same whichever way it
//!   reaches Honeycomb: `trace.trace_id`, `trace.parent_id`, `span.kind`, `status_code`, `severity`,
//!   `severity_code`, `meta.signal_type`, `meta.annotation_type`, `library.name`.

use super::config::HoneycombConfig;
use super::http::{Request, Response};
use super::retry::{parse_retry_after, Outcome};
use super::{Backend, Signal};
use crate::secret::{Secret, SecretSource};
use crate::telemetry::{
    self, AnyValue, KeyValue, LogRecord, Resource, Span, SpanId, SpanKind, Status, Telemetry, TraceId, UnixNanos,
};
use base64::Engine as _;
use bytes::Bytes;
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, SystemTime};

/// The largest uncompressed batch body (libhoney-go's `apiMaxBatchSize`).
pub const MAX_BATCH_BYTES: usize = 5_000_000;
/// "The entire event must be less than 1 MB of uncompressed JSON."
pub const MAX_EVENT_BYTES: usize = 1_000_000;
/// Not an API limit: every per-event status must fit in the 64 KiB the transport reads of an answer, and 500 of
/// them with Honeycomb's longest documented error text take 35 KiB.
pub const MAX_BATCH_EVENTS: usize = 500;
/// "Each string field has a maximum length of 64KB"; longer ones would be cut by Honeycomb, so they are cut here
/// (on a character boundary) instead of being sent.
pub const MAX_STRING_BYTES: usize = 65_535;
/// Nested maps become dotted keys this deep, as in Honeycomb's OTLP ingest; deeper ones are sent as JSON text.
const MAX_FLATTEN_DEPTH: usize = 5;
const DEFAULT_DATASET: &str = "logship";
const TEAM_HEADER: &str = "x-honeycomb-team";
/// What the beeline parser kept of a libhoney envelope: it travels in the event's envelope (or its ids), not in
/// its data.
const ENVELOPE: [&str; 6] = [
    "honeycomb.dataset",
    "honeycomb.samplerate",
    "honeycomb.trace_id",
    "honeycomb.span_id",
    "honeycomb.parent_id",
    "honeycomb.user_agent",
];

/// The Honeycomb backend: spans and logs (Honeycomb's events API takes no metrics).
#[derive(Debug, Clone)]
pub struct Honeycomb {
    /// `{api_url}/1/batch/`; the dataset completes it.
    batch_url: String,
    key: Secret,
    dataset: Option<String>,
    gzip_level: i32,
    timeout: Duration,
    limits: Limits,
}

/// A configuration the backend cannot work with. Never carries the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoneycombError {
    #[error("LOGSHIP_HONEYCOMB_API_KEY is a secret reference that has not been resolved; resolve secrets first")]
    UnresolvedKey,
    #[error("LOGSHIP_HONEYCOMB_API_KEY is empty")]
    EmptyKey,
    #[error("LOGSHIP_HONEYCOMB_API_KEY holds characters an HTTP header cannot carry")]
    InvalidKey,
    #[error("LOGSHIP_HONEYCOMB_API_URL={url:?}: expected an http:// or https:// URL")]
    InvalidUrl { url: String },
    #[error("LOGSHIP_HONEYCOMB_DATASET={dataset:?}: Honeycomb dataset names cannot contain '/'")]
    InvalidDataset { dataset: String },
}

impl Honeycomb {
    pub fn new(config: &HoneycombConfig) -> Result<Honeycomb, HoneycombError> {
        let key = match &config.api_key {
            SecretSource::Arn(_) => return Err(HoneycombError::UnresolvedKey),
            SecretSource::Value(key) => key.clone(),
        };
        if key.expose().trim().is_empty() {
            return Err(HoneycombError::EmptyKey);
        }
        // Checked once here: a value the transport refuses later would look like a failure worth retrying.
        if reqwest::header::HeaderValue::from_str(key.expose()).is_err() {
            return Err(HoneycombError::InvalidKey);
        }
        let url = config.api_url.trim();
        let valid = reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
        if !valid {
            return Err(HoneycombError::InvalidUrl { url: url.to_owned() });
        }
        let dataset = config.dataset.as_deref().map(str::trim).filter(|d| !d.is_empty());
        // Honeycomb takes URL-encoded special characters in a dataset name, except slashes.
        if let Some(d) = dataset.filter(|d| d.contains('/')) {
            return Err(HoneycombError::InvalidDataset { dataset: d.to_owned() });
        }
        Ok(Honeycomb {
            batch_url: format!("{}/1/batch/", url.trim_end_matches('/')),
            key,
            dataset: dataset.map(str::to_owned),
            gzip_level: config.gzip_level,
            timeout: config.timeout,
            limits: Limits::HONEYCOMB,
        })
    }

    /// The item's own dataset (a beeline's), else the configured one, else its service, else `logship`.
    fn dataset<'a>(&'a self, attrs: &'a [KeyValue], resource: &'a Resource) -> &'a str {
        non_empty(telemetry::attr(attrs, "honeycomb.dataset"))
            .or(self.dataset.as_deref())
            .or_else(|| non_empty(telemetry::attr(&resource.attributes, "service.name")))
            .unwrap_or(DEFAULT_DATASET)
    }

    /// Encodes every item of `signal` once, then packs the encoded events into batches.
    fn plan(&self, t: &Telemetry, signal: Signal) -> Vec<EventBatch> {
        if signal == Signal::Metrics {
            return Vec::new();
        }
        let mut encoder = Encoder::default();
        let mut buf = Vec::new();
        let mut events: Vec<(&str, usize, usize)> = Vec::new();
        for r in &t.resources {
            match signal {
                Signal::Traces => {
                    for span in &r.spans {
                        let start = buf.len();
                        encoder.span(&mut buf, &r.resource, span);
                        events.push((self.dataset(&span.attributes, &r.resource), start, buf.len()));
                    }
                }
                Signal::Logs => {
                    for log in &r.logs {
                        let start = buf.len();
                        encoder.log(&mut buf, &r.resource, log);
                        events.push((self.dataset(&log.attributes, &r.resource), start, buf.len()));
                    }
                }
                Signal::Metrics => {}
            }
        }
        // One allocation for all events; batches hold cheap slices of it.
        let buf = Bytes::from(buf);
        pack(events.into_iter().map(|(dataset, start, end)| (dataset, buf.slice(start..end))), self.limits)
    }

    /// What a Honeycomb answer means for the batch, at `now` (for `Retry-After` dates).
    pub fn classify_at(&self, r: &Response, now: SystemTime) -> Outcome {
        match r.status {
            200..=299 => self.per_event(&r.body),
            400 if mentions(&r.body, "too large") => Outcome::TooLarge { reason: self.reason(r, None) },
            401 => Outcome::Permanent { reason: self.reason(r, Some("Honeycomb refused the API key")) },
            403 => {
                Outcome::Permanent { reason: self.reason(r, Some("Honeycomb refused events sent with this API key")) }
            }
            413 => Outcome::TooLarge { reason: self.reason(r, None) },
            // A denylisted dataset stays denylisted for longer than any retry would wait.
            429 if mentions(&r.body, "denylist") => Outcome::Permanent { reason: self.reason(r, None) },
            408 | 429 | 500..=599 => Outcome::Retry {
                after: r.retry_after.as_deref().and_then(|v| parse_retry_after(v, now)),
                reason: self.reason(r, None),
            },
            _ => Outcome::Permanent { reason: self.reason(r, None) },
        }
    }

    /// A 200 answer: every status other than 202 is an event Honeycomb refused. An answer that cannot be read
    /// still counts as delivered: Honeycomb accepted the request, and sending it again would duplicate the events
    /// it has already queued.
    fn per_event(&self, body: &[u8]) -> Outcome {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Outcome::Delivered { rejected: 0, message: None };
        }
        let statuses: Vec<EventStatus> = match sonic_rs::from_slice(body) {
            Ok(s) => s,
            Err(_) => {
                return Outcome::Delivered {
                    rejected: 0,
                    message: Some("HTTP 200 with unreadable per-event statuses; counted as delivered".to_owned()),
                }
            }
        };
        // Refusals grouped by status and text, so a batch refused for one reason reads as one line.
        let mut refusals: Vec<(u16, String, u64)> = Vec::new();
        let mut rejected = 0u64;
        for s in statuses.iter().filter(|s| s.status != 202) {
            rejected += 1;
            let text = self.scrub(s.error.as_deref().unwrap_or("").trim());
            match refusals.iter_mut().find(|(status, t, _)| *status == s.status && *t == text) {
                Some((_, _, n)) => *n += 1,
                None => refusals.push((s.status, text, 1)),
            }
        }
        if rejected == 0 {
            return Outcome::Delivered { rejected: 0, message: None };
        }
        let mut message = format!("{rejected} of {} events refused by Honeycomb: ", statuses.len());
        for (i, (status, text, n)) in refusals.iter().enumerate() {
            if i == 5 {
                message.push_str("; …");
                break;
            }
            if i > 0 {
                message.push_str("; ");
            }
            let _ = write!(message, "{status}");
            if !text.is_empty() {
                let _ = write!(message, " {}", clip(text, 200));
            }
            if *n > 1 {
                let _ = write!(message, " (×{n})");
            }
        }
        Outcome::Delivered { rejected, message: Some(message) }
    }

    /// `HTTP 401 Unauthorized: <note> (<server text>)`, with the key blotted out of anything the server echoed.
    fn reason(&self, r: &Response, note: Option<&str>) -> String {
        let canonical = reqwest::StatusCode::from_u16(r.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let mut out = format!("HTTP {} {canonical}", r.status).trim_end().to_owned();
        let detail = error_text(&r.body).map(|d| self.scrub(&d));
        match (note, detail) {
            (Some(note), Some(d)) => {
                let _ = write!(out, ": {note} ({d})");
            }
            (Some(note), None) => {
                let _ = write!(out, ": {note}");
            }
            (None, Some(d)) => {
                let _ = write!(out, ": {d}");
            }
            (None, None) => {}
        }
        out
    }

    fn scrub(&self, text: &str) -> String {
        let key = self.key.expose();
        if key.is_empty() {
            text.to_owned()
        } else {
            text.replace(key, "<redacted>")
        }
    }
}

impl Backend for Honeycomb {
    type Batch = EventBatch;

    fn name(&self) -> &str {
        "honeycomb"
    }

    fn batches(&self, t: &Telemetry, signal: Signal) -> Vec<EventBatch> {
        self.plan(t, signal)
    }

    fn items(&self, batch: &EventBatch) -> usize {
        batch.len()
    }

    fn request(&self, _t: &Telemetry, batch: &EventBatch) -> Request {
        let raw = batch.body();
        let raw_len = raw.len();
        // libdeflate's level 0 is stored blocks: all of gzip's framing for none of its savings.
        let (body, content_encoding) =
            if self.gzip_level > 0 { (super::gzip::gzip(&raw, self.gzip_level), Some("gzip")) } else { (raw, None) };
        Request {
            url: format!("{}{}", self.batch_url, path_segment(&batch.dataset)),
            content_type: "application/json",
            content_encoding,
            headers: vec![(TEAM_HEADER.to_owned(), self.key.clone())],
            body: body.into(),
            raw_len,
        }
    }

    fn max_body_bytes(&self) -> usize {
        self.limits.batch_bytes
    }

    fn split(&self, batch: EventBatch) -> Result<(EventBatch, EventBatch), EventBatch> {
        batch.split()
    }

    fn classify(&self, _signal: Signal, response: &Response) -> Outcome {
        self.classify_at(response, SystemTime::now())
    }

    fn timeout(&self) -> Duration {
        self.timeout
    }
}

/// Encoded events bound for one dataset, in delivery order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBatch {
    dataset: String,
    /// Each one event's JSON object, as sent.
    events: Vec<Bytes>,
}

impl EventBatch {
    fn new(dataset: &str) -> Self {
        EventBatch { dataset: dataset.to_owned(), events: Vec::new() }
    }

    pub fn dataset(&self) -> &str {
        &self.dataset
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The request body's uncompressed size: `[`, the events, a comma between each two, `]`.
    pub fn body_len(&self) -> usize {
        2 + self.events.iter().map(Bytes::len).sum::<usize>() + self.events.len().saturating_sub(1)
    }

    fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.body_len());
        out.push(b'[');
        for (i, e) in self.events.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(e);
        }
        out.push(b']');
        out
    }

    fn split(mut self) -> Result<(EventBatch, EventBatch), EventBatch> {
        if self.events.len() < 2 {
            return Err(self);
        }
        let right = self.events.split_off(self.events.len() / 2);
        let right = EventBatch { dataset: self.dataset.clone(), events: right };
        Ok((self, right))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Limits {
    batch_bytes: usize,
    batch_events: usize,
    event_bytes: usize,
}

impl Limits {
    const HONEYCOMB: Limits =
        Limits { batch_bytes: MAX_BATCH_BYTES, batch_events: MAX_BATCH_EVENTS, event_bytes: MAX_EVENT_BYTES };
}

/// Packs encoded events into batches of one dataset each, in order, within `limits`. An event over the per-event
/// limit goes alone: Honeycomb will refuse it, and that answer then concerns it and nothing else.
fn pack<'d>(events: impl IntoIterator<Item = (&'d str, Bytes)>, limits: Limits) -> Vec<EventBatch> {
    let mut done = Vec::new();
    // The batch each dataset is filling, with its body size so far.
    let mut open: Vec<(EventBatch, usize)> = Vec::new();
    let mut slot: HashMap<&'d str, usize> = HashMap::new();
    for (dataset, event) in events {
        if event.len() > limits.event_bytes || event.len() + 2 > limits.batch_bytes {
            done.push(EventBatch { dataset: dataset.to_owned(), events: vec![event] });
            continue;
        }
        let i = *slot.entry(dataset).or_insert_with(|| {
            open.push((EventBatch::new(dataset), 2));
            open.len() - 1
        });
        let (batch, len) = &mut open[i];
        if !batch.is_empty() && (*len + 1 + event.len() > limits.batch_bytes || batch.len() >= limits.batch_events) {
            done.push(std::mem::replace(batch, EventBatch::new(dataset)));
            *len = 2;
        }
        *len += event.len() + usize::from(!batch.is_empty());
        batch.events.push(event);
    }
    done.extend(open.into_iter().map(|(b, _)| b).filter(|b| !b.is_empty()));
    done
}

/// One value of an event's `data`.
#[derive(Debug, Clone, PartialEq)]
enum Field<'a> {
    Str(&'a str),
    Owned(String),
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Ids stay bytes until written, as hex.
    Trace(TraceId),
    Span(SpanId),
}

impl From<TraceId> for Field<'_> {
    fn from(id: TraceId) -> Self {
        Field::Trace(id)
    }
}

impl From<SpanId> for Field<'_> {
    fn from(id: SpanId) -> Self {
        Field::Span(id)
    }
}

type Fields<'a> = Vec<(Cow<'a, str>, Field<'a>)>;

/// Writes events straight from the model. Its buffers are reused from one event to the next.
#[derive(Default)]
struct Encoder<'a> {
    /// The event's fields in writing order; a later field wins over an earlier one of the same name.
    fields: Fields<'a>,
    keep: Vec<bool>,
    names: NameSet,
    time: Clock,
}

impl<'a> Encoder<'a> {
    /// A span: its identity and timing, then the resource's attributes, then its own. Attributes win over the
    /// computed fields, as in Honeycomb's OTLP ingest, so a beeline's own `error` text survives.
    fn span(&mut self, out: &mut Vec<u8>, resource: &'a Resource, span: &'a Span) {
        self.fields.clear();
        let attrs = span.attributes.as_slice();
        self.put("name", Field::Str(clip(&span.name, MAX_STRING_BYTES)));
        self.put("trace.trace_id", id(attrs, "honeycomb.trace_id", span.trace_id));
        self.put("trace.span_id", id(attrs, "honeycomb.span_id", span.span_id));
        if let Some(parent) = &span.parent_span_id {
            self.put("trace.parent_id", id(attrs, "honeycomb.parent_id", *parent));
        }
        self.put("duration_ms", Field::Float(span.end_ns.saturating_sub(span.start_ns) as f64 / 1e6));
        self.put("span.kind", Field::Str(kind_name(span.kind)));
        match &span.status {
            Status::Unset => self.put("status_code", Field::Int(0)),
            Status::Ok => self.put("status_code", Field::Int(1)),
            Status::Error(message) => {
                self.put("status_code", Field::Int(2));
                if !message.is_empty() {
                    self.put("status_message", Field::Str(clip(message, MAX_STRING_BYTES)));
                }
                self.put("error", Field::Bool(true));
            }
        }
        self.put("meta.signal_type", Field::Str("trace"));
        self.scope();
        self.attributes(&resource.attributes);
        self.attributes(attrs);
        self.write(out, span.start_ns, sample_rate(attrs));
    }

    /// A log record: severity and trace link, the resource's attributes, the body (a map's fields at the top
    /// level, as a structured log's fields are in Honeycomb; anything else as `body`), then its attributes.
    fn log(&mut self, out: &mut Vec<u8>, resource: &'a Resource, log: &'a LogRecord) {
        self.fields.clear();
        let attrs = log.attributes.as_slice();
        let (number, text) = log.severity.as_ref().map_or((0, ""), |s| (s.number, s.text.as_str()));
        self.put("severity", Field::Str(severity_name(number)));
        self.put("severity_code", Field::Int(i64::from(number)));
        if !text.is_empty() {
            self.put("severity_text", Field::Str(clip(text, MAX_STRING_BYTES)));
        }
        self.put("meta.signal_type", Field::Str("log"));
        if let Some(trace) = &log.trace_id {
            self.put("trace.trace_id", id(attrs, "honeycomb.trace_id", *trace));
            if let Some(span) = &log.span_id {
                self.put("trace.parent_id", id(attrs, "honeycomb.parent_id", *span));
            }
            // How Honeycomb's OTLP ingest marks a trace-linked log: the trace view draws it on its span.
            self.put("meta.annotation_type", Field::Str("span_event"));
        }
        // A beeline's span event or link arrives with its name as the body; Honeycomb shows them by `name`.
        if let (Some(_), AnyValue::Str(name)) = (telemetry::attr(attrs, "meta.annotation_type"), &log.body) {
            self.put("name", Field::Str(clip(name, MAX_STRING_BYTES)));
        }
        self.scope();
        self.attributes(&resource.attributes);
        match &log.body {
            AnyValue::Map(kvs) => {
                for kv in kvs.iter().filter(|kv| !kv.key.is_empty()) {
                    self.value(Cow::Borrowed(kv.key.as_ref()), &kv.value, 0);
                }
            }
            AnyValue::Json(doc) => match doc.parse() {
                AnyValue::Map(kvs) => {
                    for kv in kvs.into_iter().filter(|kv| !kv.key.is_empty()) {
                        self.value_tree(Cow::Owned(kv.key.into_owned()), kv.value, 0);
                    }
                }
                body => self.value_tree(Cow::Borrowed("body"), body, 0),
            },
            body => self.value(Cow::Borrowed("body"), body, 0),
        }
        self.attributes(attrs);
        self.write(out, log.time_ns, sample_rate(attrs));
    }

    fn put(&mut self, key: &'static str, value: Field<'a>) {
        self.fields.push((Cow::Borrowed(key), value));
    }

    /// The instrumentation scope, as the OTLP export names it.
    fn scope(&mut self) {
        self.put("library.name", Field::Str("logship"));
        self.put("library.version", Field::Str(env!("CARGO_PKG_VERSION")));
    }

    fn attributes(&mut self, attrs: &'a [KeyValue]) {
        for kv in attrs {
            if kv.key.is_empty() || ENVELOPE.contains(&kv.key.as_ref()) {
                continue;
            }
            self.value(Cow::Borrowed(kv.key.as_ref()), &kv.value, 0);
        }
    }

    /// Honeycomb fields hold strings, numbers and booleans: maps become dotted keys, arrays JSON text, bytes
    /// base64, and a non-finite double (which JSON cannot write) is left out.
    fn value(&mut self, key: Cow<'a, str>, v: &'a AnyValue, depth: usize) {
        let field = match v {
            AnyValue::Str(s) => Field::Str(clip(s, MAX_STRING_BYTES)),
            AnyValue::Bool(b) => Field::Bool(*b),
            AnyValue::Int(i) => Field::Int(*i),
            AnyValue::Double(d) if d.is_finite() => Field::Float(*d),
            AnyValue::Double(_) => return,
            AnyValue::Bytes(b) => Field::Owned(clip_owned(base64::engine::general_purpose::STANDARD.encode(b))),
            AnyValue::Map(kvs) if depth < MAX_FLATTEN_DEPTH => {
                for kv in kvs.iter().filter(|kv| !kv.key.is_empty()) {
                    self.value(Cow::Owned(format!("{key}.{}", kv.key)), &kv.value, depth + 1);
                }
                return;
            }
            AnyValue::Array(_) | AnyValue::Map(_) => {
                Field::Owned(clip_owned(sonic_rs::to_string(&Plain(v)).unwrap_or_default()))
            }
            AnyValue::Json(doc) => return self.value_tree(key, doc.parse(), depth),
        };
        self.fields.push((key, field));
    }

    /// [`Self::value`] for a tree built here from a JSON document: the same fields, owning their text.
    fn value_tree(&mut self, key: Cow<'a, str>, v: AnyValue, depth: usize) {
        let field = match v {
            AnyValue::Str(s) => Field::Owned(clip_owned(s)),
            AnyValue::Bool(b) => Field::Bool(b),
            AnyValue::Int(i) => Field::Int(i),
            AnyValue::Double(d) if d.is_finite() => Field::Float(d),
            AnyValue::Double(_) => return,
            AnyValue::Bytes(b) => Field::Owned(clip_owned(base64::engine::general_purpose::STANDARD.encode(b))),
            AnyValue::Map(kvs) if depth < MAX_FLATTEN_DEPTH => {
                for kv in kvs.into_iter().filter(|kv| !kv.key.is_empty()) {
                    self.value_tree(Cow::Owned(format!("{key}.{}", kv.key)), kv.value, depth + 1);
                }
                return;
            }
            AnyValue::Array(_) | AnyValue::Map(_) => {
                Field::Owned(clip_owned(sonic_rs::to_string(&Plain(&v)).unwrap_or_default()))
            }
            AnyValue::Json(doc) => return self.value_tree(key, doc.parse(), depth),
        };
        self.fields.push((key, field));
    }

    /// Appends the event to `out`, each field name once.
    fn write(&mut self, out: &mut Vec<u8>, time_ns: UnixNanos, samplerate: i64) {
        let Encoder { fields, keep, names, time } = self;
        names.keep_last(fields, keep);
        // An unknown time is left out: Honeycomb then stamps the event on arrival.
        let time = (time_ns > 0).then(|| time.rfc3339(time_ns));
        let event = Event { time, samplerate, fields: fields.as_slice(), keep: keep.as_slice() };
        let start = out.len();
        if sonic_rs::to_writer(&mut *out, &event).is_err() {
            // Cannot happen for these types; were it to, an empty event keeps the batch valid JSON and counted,
            // and Honeycomb's refusal of it is reported like any other.
            out.truncate(start);
            out.extend_from_slice(b"{}");
        }
    }
}

/// An open-addressing set of field positions by name, reused from one event to the next: finding each name's
/// last occurrence costs a hash per field rather than a sort of the names.
#[derive(Default)]
struct NameSet {
    slots: Vec<u32>,
}

impl NameSet {
    const EMPTY: u32 = u32::MAX;

    /// Marks in `keep` the last field of each name.
    fn keep_last(&mut self, fields: &Fields<'_>, keep: &mut Vec<bool>) {
        keep.clear();
        keep.resize(fields.len(), true);
        let mask = (fields.len() * 2).next_power_of_two().max(16) - 1;
        self.slots.clear();
        self.slots.resize(mask + 1, Self::EMPTY);
        for (i, (name, _)) in fields.iter().enumerate().rev() {
            let mut slot = name_hash(name) as usize & mask;
            loop {
                match self.slots[slot] {
                    Self::EMPTY => {
                        self.slots[slot] = i as u32;
                        break;
                    }
                    j if fields[j as usize].0 == *name => {
                        keep[i] = false;
                        break;
                    }
                    _ => slot = (slot + 1) & mask,
                }
            }
        }
    }
}

/// FxHash over eight bytes at a time: field names are short and the set is rebuilt for every event.
fn name_hash(name: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = name.len() as u64;
    let mut chunks = name.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    let mut word = [0u8; 8];
    let rest = chunks.remainder();
    word[..rest.len()].copy_from_slice(rest);
    (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K)
}

/// RFC 3339 with nanoseconds, the "high precision" form Honeycomb asks for. Events of one delivery share their
/// seconds more often than not, so the date and time of day are formatted once per second seen.
#[derive(Default)]
struct Clock {
    second: Option<u64>,
    text: String,
}

impl Clock {
    fn rfc3339(&mut self, ns: UnixNanos) -> &str {
        let second = ns / 1_000_000_000;
        if self.second != Some(second) {
            let ms = crate::time::format_rfc3339_ms(ns);
            self.text.clear();
            self.text.push_str(ms.get(..19).unwrap_or(&ms));
            self.second = Some(second);
        }
        self.text.truncate(19);
        let _ = write!(self.text, ".{:09}Z", ns % 1_000_000_000);
        &self.text
    }
}

fn id<'a>(attrs: &'a [KeyValue], original: &str, id: impl Into<Field<'a>>) -> Field<'a> {
    match non_empty(telemetry::attr(attrs, original)) {
        // The id the beeline printed, so this trace joins the same trace sent from the app's other services.
        Some(raw) => Field::Str(clip(raw, MAX_STRING_BYTES)),
        None => id.into(),
    }
}

fn non_empty(v: Option<&AnyValue>) -> Option<&str> {
    v.and_then(AnyValue::as_str).map(str::trim).filter(|s| !s.is_empty())
}

/// The beeline's sample rate: each event stands for that many. Honeycomb's rates are whole numbers from 1.
fn sample_rate(attrs: &[KeyValue]) -> i64 {
    match telemetry::attr(attrs, "honeycomb.samplerate").and_then(AnyValue::as_f64) {
        Some(r) if r >= 1.0 => r.round().min(f64::from(i32::MAX)) as i64,
        _ => 1,
    }
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

/// The severity words of Honeycomb's OTLP log ingest, by OTLP severity range.
fn severity_name(number: u8) -> &'static str {
    match number {
        1..=4 => "trace",
        5..=8 => "debug",
        9..=12 => "info",
        13..=16 => "warn",
        17..=20 => "error",
        21..=24 => "fatal",
        _ => "unspecified",
    }
}

/// At most `max` bytes of `s`, cut on a character boundary.
fn clip(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default()
}

fn clip_owned(mut s: String) -> String {
    let end = clip(&s, MAX_STRING_BYTES).len();
    s.truncate(end);
    s
}

/// Lower-case hex of `bytes` in `out`, which holds two bytes per byte.
fn hex<'b>(bytes: &[u8], out: &'b mut [u8]) -> &'b str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    std::str::from_utf8(out).unwrap_or_default()
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so any dataset name is one path segment.
fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Case-insensitive: whether an answer's body says `needle`.
fn mentions(body: &[u8], needle: &str) -> bool {
    String::from_utf8_lossy(body).to_ascii_lowercase().contains(needle)
}

/// The server's explanation: `{"error": …}` as Honeycomb writes it (or an RFC 7807 `detail`), else the text.
fn error_text(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(default)]
        error: Option<String>,
        #[serde(default)]
        detail: Option<String>,
        #[serde(default)]
        message: Option<String>,
    }
    let text = match sonic_rs::from_slice::<ErrorBody>(body) {
        Ok(e) => e.error.or(e.detail).or(e.message)?,
        Err(_) => String::from_utf8_lossy(body).into_owned(),
    };
    let text = text.trim();
    (!text.is_empty()).then(|| clip(text, 200).to_owned())
}

#[derive(serde::Deserialize)]
struct EventStatus {
    status: u16,
    #[serde(default)]
    error: Option<String>,
}

struct Event<'x, 'a> {
    time: Option<&'x str>,
    samplerate: i64,
    fields: &'x [(Cow<'a, str>, Field<'a>)],
    keep: &'x [bool],
}

impl Serialize for Event<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(time) = self.time {
            m.serialize_entry("time", time)?;
        }
        m.serialize_entry("samplerate", &self.samplerate)?;
        m.serialize_entry("data", &Data { fields: self.fields, keep: self.keep })?;
        m.end()
    }
}

struct Data<'x, 'a> {
    fields: &'x [(Cow<'a, str>, Field<'a>)],
    keep: &'x [bool],
}

impl Serialize for Data<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        for ((key, value), keep) in self.fields.iter().zip(self.keep) {
            if *keep {
                m.serialize_entry(key.as_ref(), value)?;
            }
        }
        m.end()
    }
}

impl Serialize for Field<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Str(v) => s.serialize_str(v),
            Field::Owned(v) => s.serialize_str(v),
            Field::Bool(v) => s.serialize_bool(*v),
            Field::Int(v) => s.serialize_i64(*v),
            Field::Float(v) => s.serialize_f64(*v),
            Field::Trace(id) => s.serialize_str(hex(&id.0, &mut [0; 32])),
            Field::Span(id) => s.serialize_str(hex(&id.0, &mut [0; 16])),
        }
    }
}

/// An `AnyValue` as plain JSON, for the arrays and deep maps sent as text.
struct Plain<'a>(&'a AnyValue);

impl Serialize for Plain<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            AnyValue::Str(v) => s.serialize_str(v),
            AnyValue::Bool(v) => s.serialize_bool(*v),
            AnyValue::Int(v) => s.serialize_i64(*v),
            AnyValue::Double(v) => s.serialize_f64(*v),
            AnyValue::Bytes(v) => s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(v)),
            AnyValue::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Plain(item))?;
                }
                seq.end()
            }
            AnyValue::Map(kvs) => {
                let mut m = s.serialize_map(Some(kvs.len()))?;
                for kv in kvs {
                    m.serialize_entry(kv.key.as_ref(), &Plain(&kv.value))?;
                }
                m.end()
            }
            AnyValue::Json(doc) => Plain(&doc.parse()).serialize(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{inflate_capped, DecodeOptions, Origin};
    use crate::parse::{parse_line, Item};
    use crate::telemetry::{ResourceTelemetry, Severity};
    use proptest::prelude::*;
    use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};

    const KEY: &str = "hcaik_01unittestsecretkeyvalue";
    /// 2024-03-01T12:00:00Z
    const BASE: UnixNanos = 1_709_294_400_000_000_000;
    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn config() -> HoneycombConfig {
        HoneycombConfig {
            api_url: "https://api.honeycomb.example/".into(),
            api_key: SecretSource::Value(Secret::new(KEY)),
            dataset: None,
            gzip_level: 6,
            timeout: Duration::from_secs(10),
        }
    }

    fn honeycomb() -> Honeycomb {
        Honeycomb::new(&config()).unwrap()
    }

    fn resource(service: &str) -> Resource {
        Resource {
            attributes: vec![KeyValue::new("service.name", service), KeyValue::new("cloud.region", "eu-west-1")],
        }
    }

    fn span(name: &str, span_id: &str, parent: Option<&str>) -> Span {
        Span {
            trace_id: TraceId::from_hex(TRACE).unwrap(),
            span_id: SpanId::from_hex(span_id).unwrap(),
            parent_span_id: parent.map(|p| SpanId::from_hex(p).unwrap()),
            name: name.into(),
            kind: if parent.is_some() { SpanKind::Internal } else { SpanKind::Server },
            start_ns: BASE + 123_456_789,
            end_ns: BASE + 123_456_789 + 12_500_000,
            attributes: vec![],
            status: Status::Unset,
        }
    }

    fn log(body: AnyValue) -> LogRecord {
        LogRecord {
            time_ns: BASE + 5_000_000,
            observed_ns: BASE + 6_000_000,
            severity: Some(Severity::parse("WARN")),
            body,
            attributes: vec![],
            trace_id: None,
            span_id: None,
        }
    }

    fn spans(service: &str, spans: Vec<Span>) -> Telemetry {
        Telemetry {
            resources: vec![ResourceTelemetry { resource: resource(service), spans, ..ResourceTelemetry::default() }],
        }
    }

    fn logs(service: &str, logs: Vec<LogRecord>) -> Telemetry {
        Telemetry {
            resources: vec![ResourceTelemetry { resource: resource(service), logs, ..ResourceTelemetry::default() }],
        }
    }

    /// Every event sent for `signal`, with the dataset its batch went to.
    fn events(h: &Honeycomb, t: &Telemetry, signal: Signal) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for batch in h.batches(t, signal) {
            let body: Value = sonic_rs::from_slice(&batch.body()).unwrap();
            for event in body.as_array().unwrap().iter() {
                out.push((batch.dataset().to_owned(), event.clone()));
            }
        }
        out
    }

    fn only_event(t: &Telemetry, signal: Signal) -> (String, Value) {
        let mut all = events(&honeycomb(), t, signal);
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
        v["data"].get(key).and_then(|f| f.as_str())
    }

    #[test]
    fn a_root_span_is_one_event() {
        let (dataset, e) =
            only_event(&spans("checkout", vec![span("handler", "00f067aa0ba902b7", None)]), Signal::Traces);
        assert_eq!(dataset, "checkout");
        assert_eq!(e["time"].as_str(), Some("2024-03-01T12:00:00.123456789Z"));
        assert_eq!(e["samplerate"].as_i64(), Some(1));
        let d = &e["data"];
        assert_eq!(str_of(&e, "name"), Some("handler"));
        assert_eq!(str_of(&e, "trace.trace_id"), Some(TRACE));
        assert_eq!(str_of(&e, "trace.span_id"), Some("00f067aa0ba902b7"));
        assert!(d.get("trace.parent_id").is_none(), "roots have no parent field");
        assert_eq!(d["duration_ms"].as_f64(), Some(12.5));
        assert_eq!(str_of(&e, "span.kind"), Some("server"));
        assert_eq!(str_of(&e, "service.name"), Some("checkout"));
        assert_eq!(str_of(&e, "cloud.region"), Some("eu-west-1"));
        assert_eq!(d["status_code"].as_i64(), Some(0));
        assert!(d.get("error").is_none() && d.get("status_message").is_none());
        assert_eq!(str_of(&e, "meta.signal_type"), Some("trace"));
        assert_eq!(str_of(&e, "library.name"), Some("logship"));
    }

    #[test]
    fn child_and_error_spans() {
        let mut child = span("db.query", "1111111111111111", Some("00f067aa0ba902b7"));
        child.kind = SpanKind::Client;
        child.status = Status::Error("connect ETIMEDOUT".into());
        child.attributes = vec![KeyValue::new("db.system", "mysql")];
        let (_, e) = only_event(&spans("checkout", vec![child]), Signal::Traces);
        assert_eq!(str_of(&e, "trace.parent_id"), Some("00f067aa0ba902b7"));
        assert_eq!(str_of(&e, "span.kind"), Some("client"));
        assert_eq!(e["data"]["status_code"].as_i64(), Some(2));
        assert_eq!(str_of(&e, "status_message"), Some("connect ETIMEDOUT"));
        assert_eq!(e["data"]["error"].as_bool(), Some(true));
        assert_eq!(str_of(&e, "db.system"), Some("mysql"));

        let mut ok = span("ok", "2222222222222222", None);
        ok.status = Status::Ok;
        let (_, e) = only_event(&spans("checkout", vec![ok]), Signal::Traces);
        assert_eq!(e["data"]["status_code"].as_i64(), Some(1));
        assert!(e["data"].get("error").is_none());
    }

    /// The beeline parser's own output: UUID ids, a sample rate and a dataset from the libhoney envelope.
    fn beeline_item(line: &str) -> Item {
        let parsed = parse_line(line, BASE + 5_000_000_000);
        assert_eq!(parsed.error, None);
        parsed.items.into_iter().next().unwrap()
    }

    #[test]
    fn beeline_spans_keep_their_ids_dataset_and_samplerate() {
        let line = r#"{"data":{"duration_ms":3.5,"name":"QueryContext","service_name":"inventory","trace.parent_id":"56c10d68-e8db-46d5-97ad-0d508a3c08bf","trace.span_id":"28320411-35c9-45dc-b968-b8b9d091f4bf","trace.trace_id":"6614adb4-a74e-47a2-92de-06435f548eb1","error":"deadlock"},"samplerate":5,"time":"2024-03-01T12:00:00.011402917Z","dataset":"inventory-ds","user_agent":"libhoney-go/1.15.0"}"#;
        let Item::Span(s) = beeline_item(line) else { panic!("a span") };
        let (dataset, e) = only_event(&spans("inventory-fn", vec![s]), Signal::Traces);
        assert_eq!(dataset, "inventory-ds");
        assert_eq!(e["samplerate"].as_i64(), Some(5));
        assert_eq!(e["time"].as_str(), Some("2024-03-01T12:00:00.011402917Z"));
        assert_eq!(str_of(&e, "trace.trace_id"), Some("6614adb4-a74e-47a2-92de-06435f548eb1"));
        assert_eq!(str_of(&e, "trace.span_id"), Some("28320411-35c9-45dc-b968-b8b9d091f4bf"));
        assert_eq!(str_of(&e, "trace.parent_id"), Some("56c10d68-e8db-46d5-97ad-0d508a3c08bf"));
        assert_eq!(e["data"]["duration_ms"].as_f64(), Some(3.5));
        // The beeline's own `error` text wins over the computed flag, as in Honeycomb's OTLP ingest.
        assert_eq!(str_of(&e, "error"), Some("deadlock"));
        assert_eq!(str_of(&e, "status_message"), Some("deadlock"));
        let keys: Vec<&str> = e["data"].as_object().unwrap().iter().map(|(k, _)| k).collect();
        assert!(keys.iter().all(|k| !k.starts_with("honeycomb.")), "{keys:?}");
    }

    #[test]
    fn hex_beeline_ids_are_sent_as_they_are() {
        let line = format!(
            r#"{{"samplerate":20,"data":{{"trace.trace_id":"{TRACE}","trace.span_id":"00f067aa0ba902b7","name":"x","duration_ms":1}},"time":"2024-03-01T12:00:00Z"}}"#
        );
        let Item::Span(s) = beeline_item(&line) else { panic!("a span") };
        let (dataset, e) = only_event(&spans("fn", vec![s]), Signal::Traces);
        assert_eq!(dataset, "fn", "no dataset in the envelope: the service's");
        assert_eq!(e["samplerate"].as_i64(), Some(20));
        assert_eq!(str_of(&e, "trace.trace_id"), Some(TRACE));
        assert_eq!(e["time"].as_str(), Some("2024-03-01T12:00:00.000000000Z"));
    }

    #[test]
    fn attributes_are_flattened_and_the_later_value_wins() {
        let deep = (0..7).fold(AnyValue::Int(7), |v, i| AnyValue::Map(vec![KeyValue::new(format!("l{i}"), v)]));
        let mut s = span("flat", "00f067aa0ba902b7", None);
        s.attributes = vec![
            KeyValue::new("cloud.region", "us-east-1"),
            KeyValue::new("list", AnyValue::Array(vec![AnyValue::Int(1), "a".into(), AnyValue::Bool(true)])),
            KeyValue::new(
                "http",
                AnyValue::Map(vec![
                    KeyValue::new("method", "GET"),
                    KeyValue::new("response", AnyValue::Map(vec![KeyValue::new("status", AnyValue::Int(200))])),
                ]),
            ),
            KeyValue::new("deep", deep),
            KeyValue::new("raw", AnyValue::Bytes(vec![0, 1, 2, 255])),
            KeyValue::new("nan", AnyValue::Double(f64::NAN)),
            KeyValue::new("ratio", AnyValue::Double(0.25)),
            KeyValue::new("", "no name"),
            KeyValue::new("long", "é".repeat(40_000)),
        ];
        let t = spans("fn", vec![s]);
        let batch = honeycomb().batches(&t, Signal::Traces).remove(0);
        let raw = String::from_utf8(batch.body()).unwrap();
        assert_eq!(raw.matches("\"cloud.region\":").count(), 1, "one field per name");
        let (_, e) = only_event(&t, Signal::Traces);
        let d = &e["data"];
        assert_eq!(str_of(&e, "cloud.region"), Some("us-east-1"), "the span's attribute wins over the resource's");
        assert_eq!(str_of(&e, "list"), Some(r#"[1,"a",true]"#));
        assert_eq!(str_of(&e, "http.method"), Some("GET"));
        assert_eq!(d["http.response.status"].as_i64(), Some(200));
        assert_eq!(str_of(&e, "deep.l6.l5.l4.l3.l2"), Some(r#"{"l1":{"l0":7}}"#), "five levels, then JSON");
        assert_eq!(str_of(&e, "raw"), Some("AAEC/w=="));
        assert!(d.get("nan").is_none());
        assert_eq!(d["ratio"].as_f64(), Some(0.25));
        assert!(d.get("").is_none());
        let long = str_of(&e, "long").unwrap();
        assert_eq!(long.len(), 65_534, "cut to 64 KB on a character boundary");
        assert!(long.chars().all(|c| c == 'é'));
    }

    #[test]
    fn logs_map_like_honeycombs_otlp_ingest() {
        // A plain line.
        let (dataset, e) = only_event(&logs("fn", vec![log("START of work".into())]), Signal::Logs);
        assert_eq!(dataset, "fn");
        assert_eq!(e["time"].as_str(), Some("2024-03-01T12:00:00.005000000Z"));
        assert_eq!(str_of(&e, "body"), Some("START of work"));
        assert_eq!(str_of(&e, "severity"), Some("warn"));
        assert_eq!(e["data"]["severity_code"].as_i64(), Some(13));
        assert_eq!(str_of(&e, "severity_text"), Some("WARN"));
        assert_eq!(str_of(&e, "meta.signal_type"), Some("log"));
        assert!(e["data"].get("trace.trace_id").is_none() && e["data"].get("meta.annotation_type").is_none());

        // A structured line: its fields are the event's fields.
        let body = AnyValue::Map(vec![
            KeyValue::new("message", "charged"),
            KeyValue::new("amount", AnyValue::Double(12.5)),
            KeyValue::new("customer", AnyValue::Map(vec![KeyValue::new("id", "c-1")])),
        ]);
        let mut structured = log(body);
        structured.severity = None;
        structured.attributes = vec![KeyValue::new("faas.invocation_id", "r-1")];
        let (_, e) = only_event(&logs("fn", vec![structured]), Signal::Logs);
        assert_eq!(str_of(&e, "message"), Some("charged"));
        assert_eq!(e["data"]["amount"].as_f64(), Some(12.5));
        assert_eq!(str_of(&e, "customer.id"), Some("c-1"));
        assert!(e["data"].get("body").is_none());
        assert_eq!(str_of(&e, "faas.invocation_id"), Some("r-1"));
        assert_eq!(str_of(&e, "severity"), Some("unspecified"));
        assert_eq!(e["data"]["severity_code"].as_i64(), Some(0));
        assert!(e["data"].get("severity_text").is_none());

        // A line tied to its invocation's span.
        let mut linked = log(AnyValue::Int(42));
        linked.trace_id = TraceId::from_hex(TRACE);
        linked.span_id = SpanId::from_hex("00f067aa0ba902b7");
        let (_, e) = only_event(&logs("fn", vec![linked]), Signal::Logs);
        assert_eq!(e["data"]["body"].as_i64(), Some(42));
        assert_eq!(str_of(&e, "trace.trace_id"), Some(TRACE));
        assert_eq!(str_of(&e, "trace.parent_id"), Some("00f067aa0ba902b7"));
        assert_eq!(str_of(&e, "meta.annotation_type"), Some("span_event"));
    }

    #[test]
    fn beeline_span_events_keep_their_name_and_original_ids() {
        let line = r#"{"samplerate":3,"dataset":"orders","data":{"trace.trace_id":"6614adb4-a74e-47a2-92de-06435f548eb1","trace.parent_id":"56c10d68-e8db-46d5-97ad-0d508a3c08bf","meta.annotation_type":"span_event","name":"cache_miss"}}"#;
        let Item::Log(l) = beeline_item(line) else { panic!("a log") };
        let record = LogRecord {
            time_ns: l.time_ns,
            observed_ns: l.time_ns,
            severity: l.severity,
            body: l.body,
            attributes: l.attributes,
            trace_id: l.trace_id,
            span_id: l.span_id,
        };
        let (dataset, e) = only_event(&logs("fn", vec![record]), Signal::Logs);
        assert_eq!(dataset, "orders");
        assert_eq!(e["samplerate"].as_i64(), Some(3));
        assert_eq!(str_of(&e, "name"), Some("cache_miss"));
        assert_eq!(str_of(&e, "meta.annotation_type"), Some("span_event"));
        assert_eq!(str_of(&e, "trace.trace_id"), Some("6614adb4-a74e-47a2-92de-06435f548eb1"));
        assert_eq!(str_of(&e, "trace.parent_id"), Some("56c10d68-e8db-46d5-97ad-0d508a3c08bf"));
    }

    #[test]
    fn dataset_selection() {
        let with = |attrs: Vec<KeyValue>| {
            let mut s = span("s", "00f067aa0ba902b7", None);
            s.attributes = attrs;
            s
        };
        let named = |d: &str| vec![KeyValue::new("honeycomb.dataset", d)];
        let configured = Honeycomb::new(&HoneycombConfig { dataset: Some(" shared ".into()), ..config() }).unwrap();
        let no_service = Resource { attributes: vec![KeyValue::new("service.name", "  ")] };
        let cases: Vec<(&Honeycomb, Resource, Vec<KeyValue>, &str)> = vec![
            (&configured, resource("fn"), named("beeline-ds"), "beeline-ds"),
            (&configured, resource("fn"), vec![], "shared"),
            (&configured, resource("fn"), named(""), "shared"),
            (&configured, no_service.clone(), vec![], "shared"),
        ];
        let plain = honeycomb();
        let more: Vec<(&Honeycomb, Resource, Vec<KeyValue>, &str)> = vec![
            (&plain, resource("fn"), named("beeline-ds"), "beeline-ds"),
            (&plain, resource("fn"), vec![], "fn"),
            (&plain, no_service, vec![], "logship"),
            (&plain, Resource::default(), vec![], "logship"),
        ];
        for (h, r, attrs, want) in cases.into_iter().chain(more) {
            let t = Telemetry {
                resources: vec![ResourceTelemetry { resource: r, spans: vec![with(attrs)], ..Default::default() }],
            };
            let got: Vec<String> = h.batches(&t, Signal::Traces).iter().map(|b| b.dataset().to_owned()).collect();
            assert_eq!(got, [want]);
        }
    }

    #[test]
    fn metrics_are_not_sent() {
        let mut t = spans("fn", vec![span("s", "00f067aa0ba902b7", None)]);
        t.resources[0].metrics.push(crate::telemetry::Metric {
            name: "m".into(),
            description: String::new(),
            unit: "1".into(),
            data: crate::telemetry::MetricData::Gauge(vec![]),
        });
        assert!(honeycomb().batches(&t, Signal::Metrics).is_empty());
        assert_eq!(honeycomb().batches(&t, Signal::Logs), vec![]);
    }

    #[test]
    fn requests_follow_the_batch_api() {
        let h = Honeycomb::new(&HoneycombConfig { api_url: "https://api.eu1.honeycomb.example".into(), ..config() })
            .unwrap();
        let mut s = span("s", "00f067aa0ba902b7", None);
        s.attributes = vec![KeyValue::new("honeycomb.dataset", "my team/ä ds")];
        let t = spans("fn", vec![s, span("t", "1111111111111111", None)]);
        let batches = h.batches(&t, Signal::Traces);
        assert_eq!(batches.len(), 2, "one batch per dataset");
        let r = h.request(&t, &batches[0]);
        assert_eq!(r.url, "https://api.eu1.honeycomb.example/1/batch/my%20team%2F%C3%A4%20ds");
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.content_encoding, Some("gzip"));
        assert_eq!(r.headers.len(), 1);
        assert_eq!((r.headers[0].0.as_str(), r.headers[0].1.expose()), ("x-honeycomb-team", KEY));
        let raw = inflate_capped(&r.body, &Origin::Raw, &DecodeOptions::default()).unwrap();
        assert_eq!(raw.len(), r.raw_len);
        assert_eq!(raw, batches[0].body());
        assert_eq!(h.request(&t, &batches[1]).url, "https://api.eu1.honeycomb.example/1/batch/fn");

        let plain = Honeycomb::new(&HoneycombConfig { gzip_level: 0, ..config() }).unwrap();
        let r = plain.request(&t, &batches[1]);
        assert_eq!(r.content_encoding, None);
        assert_eq!(&r.body[..], batches[1].body().as_slice());
        assert!(!format!("{h:?} {r:?}").contains(KEY), "the key never reaches Debug output");
    }

    #[test]
    fn splitting_halves_and_stops_at_one_event() {
        let t = spans("fn", (0..5).map(|i| span(&format!("s{i}"), "00f067aa0ba902b7", None)).collect());
        let h = honeycomb();
        let batch = h.batches(&t, Signal::Traces).remove(0);
        assert_eq!(h.items(&batch), 5);
        let (a, b) = h.split(batch).unwrap();
        assert_eq!((a.len(), b.len(), a.dataset(), b.dataset()), (2, 3, "fn", "fn"));
        let (one, _) = h.split(a).unwrap();
        assert_eq!(h.split(one.clone()), Err(one));
    }

    #[test]
    fn a_large_delivery_is_cut_within_the_limits() {
        let mut h = honeycomb();
        h.limits = Limits { batch_bytes: 4_000, batch_events: 7, event_bytes: 1_500 };
        let mut all = Vec::new();
        for i in 0..60 {
            let mut s = span(&format!("s{i}"), "00f067aa0ba902b7", None);
            s.attributes = vec![KeyValue::new("pad", "x".repeat(i * 37))];
            if i % 3 == 0 {
                s.attributes.push(KeyValue::new("honeycomb.dataset", "other"));
            }
            all.push(s);
        }
        let t = spans("fn", all);
        let mut seen = Vec::new();
        for batch in h.batches(&t, Signal::Traces) {
            let body: Value = sonic_rs::from_slice(&batch.body()).unwrap();
            let events = body.as_array().unwrap();
            assert_eq!(events.len(), batch.len());
            let oversized = batch.events.iter().any(|e| e.len() > h.limits.event_bytes);
            if oversized {
                assert_eq!(batch.len(), 1, "an event over the limit goes alone");
            } else {
                assert!(batch.body_len() <= h.limits.batch_bytes && batch.len() <= h.limits.batch_events);
            }
            assert_eq!(batch.body_len(), batch.body().len());
            for e in events.iter() {
                let name = e["data"]["name"].as_str().unwrap().to_owned();
                let i: usize = name[1..].parse().unwrap();
                assert_eq!(batch.dataset(), if i % 3 == 0 { "other" } else { "fn" }, "{name}");
                seen.push(i);
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..60).collect::<Vec<_>>());
    }

    /// An event whose content names its dataset and position, padded to `size`.
    fn fake_event(dataset: &str, id: usize, size: usize) -> Bytes {
        let mut s = format!("{dataset}:{id:05}:");
        while s.len() < size {
            s.push('x');
        }
        Bytes::from(s)
    }

    proptest! {
        /// Every event exactly once, in order within its batch, no batch mixing datasets, none over a limit (an
        /// event over the per-event limit alone in its batch), none empty.
        #[test]
        fn packing_keeps_every_event_once_within_the_limits(
            specs in prop::collection::vec((0usize..3, 8usize..400), 0..80),
            batch_bytes in 40usize..2_000,
            batch_events in 1usize..12,
            event_bytes in 8usize..600,
        ) {
            let limits = Limits { batch_bytes, batch_events, event_bytes };
            let names = ["a", "b", "c"];
            let input: Vec<(&str, Bytes)> =
                specs.iter().enumerate().map(|(i, (d, size))| (names[*d], fake_event(names[*d], i, *size))).collect();
            let batches = pack(input.clone(), limits);
            let mut seen: Vec<usize> = Vec::new();
            for b in &batches {
                let mut last = None;
                prop_assert!(!b.is_empty());
                let alone = b.events.iter().any(|e| e.len() > event_bytes || e.len() + 2 > batch_bytes);
                if alone {
                    prop_assert_eq!(b.len(), 1);
                } else {
                    prop_assert!(b.body_len() <= batch_bytes, "{} > {}", b.body_len(), batch_bytes);
                    prop_assert!(b.len() <= batch_events);
                }
                for e in &b.events {
                    let text = std::str::from_utf8(e).unwrap();
                    let mut parts = text.split(':');
                    prop_assert_eq!(parts.next(), Some(b.dataset()));
                    let id: usize = parts.next().unwrap().parse().unwrap();
                    prop_assert!(last < Some(id), "order kept within a batch");
                    last = Some(id);
                    seen.push(id);
                }
            }
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..input.len()).collect::<Vec<_>>());
        }
    }

    proptest! {
        /// Exactly the last field of each name is kept, whatever the names and however they collide.
        #[test]
        fn the_last_field_of_each_name_is_kept(names in prop::collection::vec("[a-c.]{0,10}", 0..80)) {
            let fields: Fields<'_> = names.iter().map(|n| (Cow::Borrowed(n.as_str()), Field::Bool(true))).collect();
            let (mut set, mut keep) = (NameSet::default(), Vec::new());
            set.keep_last(&fields, &mut keep);
            for (i, name) in names.iter().enumerate() {
                prop_assert_eq!(keep[i], !names[i + 1..].contains(name), "{} at {}", name, i);
            }
        }
    }

    fn response(status: u16, body: &str) -> Response {
        Response {
            status,
            retry_after: None,
            content_type: Some("application/json".into()),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn per_event_statuses() {
        let h = honeycomb();
        let now = SystemTime::now();
        let echoed = format!(r#"[{{"status":400,"error":"bad key {KEY} in event"}}]"#);
        let delivered =
            |rejected, message: Option<&str>| Outcome::Delivered { rejected, message: message.map(str::to_owned) };
        let cases: Vec<(&str, Outcome)> = vec![
            (r#"[{"status":202},{"status":202}]"#, delivered(0, None)),
            ("", delivered(0, None)),
            ("[]", delivered(0, None)),
            (
                r#"[{"status":202},{"status":400,"error":"Event has too many columns."},{"status":202},{"status":400,"error":"Event has too many columns."},{"status":429}]"#,
                delivered(3, Some("3 of 5 events refused by Honeycomb: 400 Event has too many columns. (×2); 429")),
            ),
            (&echoed, delivered(1, Some("1 of 1 events refused by Honeycomb: 400 bad key <redacted> in event"))),
            // Accepted, but what it said of each event is unreadable: sending again would duplicate them.
            (
                r#"[{"status":202},{"stat"#,
                delivered(0, Some("HTTP 200 with unreadable per-event statuses; counted as delivered")),
            ),
            (
                "<html>ok</html>",
                delivered(0, Some("HTTP 200 with unreadable per-event statuses; counted as delivered")),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(h.classify_at(&response(200, body), now), want, "{body}");
        }
        let many: String = format!(
            "[{}]",
            (0..8).map(|i| format!(r#"{{"status":400,"error":"e{i}"}}"#)).collect::<Vec<_>>().join(",")
        );
        let Outcome::Delivered { rejected: 8, message: Some(m) } = h.classify_at(&response(200, &many), now) else {
            panic!("eight refusals")
        };
        assert!(m.ends_with("400 e4; …"), "{m}");
    }

    #[test]
    fn whole_request_statuses() {
        let h = honeycomb();
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let retry = |after: Option<u64>, reason: &str| Outcome::Retry {
            after: after.map(Duration::from_secs),
            reason: reason.to_owned(),
        };
        let echoed = format!(r#"{{"error":"unknown API key {KEY}"}}"#);
        let permanent = |reason: &str| Outcome::Permanent { reason: reason.to_owned() };
        let too_large = |reason: &str| Outcome::TooLarge { reason: reason.to_owned() };
        let cases: Vec<(u16, &str, Option<&str>, Outcome)> = vec![
            (400, r#"{"error":"Request body is malformed and cannot be read."}"#, None, permanent("HTTP 400 Bad Request: Request body is malformed and cannot be read.")),
            (400, r#"{"error":"Dataset has too many columns."}"#, None, permanent("HTTP 400 Bad Request: Dataset has too many columns.")),
            (400, r#"{"error":"Request body is too large."}"#, None, too_large("HTTP 400 Bad Request: Request body is too large.")),
            (401, r#"{"error":"unknown API key - check your credentials"}"#, None, permanent("HTTP 401 Unauthorized: Honeycomb refused the API key (unknown API key - check your credentials)")),
            (401, &echoed, None, permanent("HTTP 401 Unauthorized: Honeycomb refused the API key (unknown API key <redacted>)")),
            (401, "", None, permanent("HTTP 401 Unauthorized: Honeycomb refused the API key")),
            (403, r#"{"error":"Event dropped due to administrative throttling"}"#, None, permanent("HTTP 403 Forbidden: Honeycomb refused events sent with this API key (Event dropped due to administrative throttling)")),
            (404, r#"{"error":"dataset not found"}"#, None, permanent("HTTP 404 Not Found: dataset not found")),
            (413, "", None, too_large("HTTP 413 Payload Too Large")),
            (429, r#"{"error":"Request dropped due to rate limiting."}"#, Some("7"), retry(Some(7), "HTTP 429 Too Many Requests: Request dropped due to rate limiting.")),
            (429, r#"{"error":"Event dropped due to administrative denylist"}"#, None, permanent("HTTP 429 Too Many Requests: Event dropped due to administrative denylist")),
            (500, "oops", None, retry(None, "HTTP 500 Internal Server Error: oops")),
            (502, "", None, retry(None, "HTTP 502 Bad Gateway")),
            (503, "", Some("Wed, 21 Oct 2015 07:28:30 GMT"), retry(Some(30), "HTTP 503 Service Unavailable")),
            (504, "", Some("soon"), retry(None, "HTTP 504 Gateway Timeout")),
            (408, "", None, retry(None, "HTTP 408 Request Timeout")),
            (418, "", None, permanent("HTTP 418 I'm a teapot")),
        ];
        for (status, body, retry_after, want) in cases {
            let r = Response { retry_after: retry_after.map(str::to_owned), ..response(status, body) };
            let got = h.classify_at(&r, now);
            assert_eq!(got, want, "{status} {body}");
            assert!(!format!("{got:?}").contains(KEY));
        }
    }

    #[test]
    fn configuration_errors_never_show_the_key() {
        let cases = [
            (
                HoneycombConfig { api_key: SecretSource::parse("arn:aws:ssm:eu-west-1:1:parameter/hc"), ..config() },
                HoneycombError::UnresolvedKey,
            ),
            (HoneycombConfig { api_key: SecretSource::Value(Secret::new(" ")), ..config() }, HoneycombError::EmptyKey),
            (
                HoneycombConfig { api_key: SecretSource::Value(Secret::new("hcaik\n1")), ..config() },
                HoneycombError::InvalidKey,
            ),
            (
                HoneycombConfig { api_url: "api.honeycomb.io".into(), ..config() },
                HoneycombError::InvalidUrl { url: "api.honeycomb.io".into() },
            ),
            (
                HoneycombConfig { api_url: "ftp://api.honeycomb.io".into(), ..config() },
                HoneycombError::InvalidUrl { url: "ftp://api.honeycomb.io".into() },
            ),
            (
                HoneycombConfig { dataset: Some("a/b".into()), ..config() },
                HoneycombError::InvalidDataset { dataset: "a/b".into() },
            ),
        ];
        for (c, want) in cases {
            let err = Honeycomb::new(&c).unwrap_err();
            assert_eq!(err, want);
            assert!(!err.to_string().contains(KEY));
        }
        assert_eq!(honeycomb().batch_url, "https://api.honeycomb.example/1/batch/");
    }

    #[test]
    fn times_carry_nanoseconds() {
        let mut clock = Clock::default();
        for (ns, want) in [
            (BASE, "2024-03-01T12:00:00.000000000Z"),
            (BASE + 1, "2024-03-01T12:00:00.000000001Z"),
            (BASE + 999_999_999, "2024-03-01T12:00:00.999999999Z"),
            (BASE + 1_000_000_000, "2024-03-01T12:00:01.000000000Z"),
            (BASE - 1, "2024-03-01T11:59:59.999999999Z"),
            (1, "1970-01-01T00:00:00.000000001Z"),
        ] {
            assert_eq!(clock.rfc3339(ns), want);
        }
        let mut s = span("unknown start", "00f067aa0ba902b7", None);
        s.start_ns = 0;
        let (_, e) = only_event(&spans("fn", vec![s]), Signal::Traces);
        assert!(e.get("time").is_none(), "Honeycomb stamps it on arrival");
    }

    /// The whole mapping at a glance: a root, an errored child, and their logs.
    #[test]
    fn snapshot_of_a_request() {
        let mut child = span("dynamodb.getItem", "1111111111111111", Some("00f067aa0ba902b7"));
        child.kind = SpanKind::Client;
        child.status = Status::Error("ConditionalCheckFailed".into());
        child.attributes = vec![KeyValue::new("aws.dynamodb.table_names", AnyValue::Array(vec!["carts".into()]))];
        let mut linked = log(AnyValue::Map(vec![
            KeyValue::new("level", "WARN"),
            KeyValue::new("message", "retrying"),
            KeyValue::new("attempt", AnyValue::Int(2)),
        ]));
        linked.trace_id = TraceId::from_hex(TRACE);
        linked.span_id = SpanId::from_hex("00f067aa0ba902b7");
        let t = Telemetry {
            resources: vec![ResourceTelemetry {
                resource: resource("checkout"),
                spans: vec![span("handler", "00f067aa0ba902b7", None), child],
                logs: vec![linked, log("plain text".into())],
                ..Default::default()
            }],
        };
        let h = honeycomb();
        let mut out = String::new();
        for signal in [Signal::Traces, Signal::Logs] {
            for batch in h.batches(&t, signal) {
                let body: Value = sonic_rs::from_slice(&batch.body()).unwrap();
                out.push_str(&format!(
                    "POST {}\n{}\n",
                    h.request(&t, &batch).url,
                    sonic_rs::to_string_pretty(&body).unwrap()
                ));
            }
        }
        insta::assert_snapshot!(out);
    }
}
