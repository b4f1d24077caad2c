//! Test support for the real OTLP receiver (rotel, run by `.ci/services.sh`): post to it, read back what it received.
//!
//! `.ci/services.sh start` runs `rotel-agent start --exporter blackhole --debug-log traces --debug-log metrics
//! --debug-log logs --debug-log-verbosity detailed` on a loopback port and exports `LOGSHIP_TEST_OTLP_ENDPOINT`
//! and `LOGSHIP_TEST_ROTEL_LOG`. rotel prints every request it accepted to that log, and this module parses the
//! log back into spans, metrics and log records.
//!
//! Isolation: [`Rotel::mark`] is the log's length now, and [`Rotel::received_since`] reads only what came after.
//! Tests in one `cargo test` run overlap in time, so a test also filters by a marker of its own, normally a
//! unique `service.name` ([`unique_service_name`], [`Received::for_service`]).
//!
//! The layout this parser expects (rotel 0.0.1a15, the agent reports itself as `0.0.1-alpha10`), trimmed:
//!
//! ```text
//! 2026-11-22T03:47:31.174112Z  INFO Starting Rotel. grpc_endpoint="127.0.0.1:0" http_endpoint="127.0.0.1:4318"
//! ResourceSpans #0
//! Resource SchemaURL:
//! Resource attributes:
//!      -> service.name: Str(checkout-api)
//!      -> faas.max_memory: Int(536870912)
//!      -> aws.log.group.names: Slice(Str(/aws/lambda/checkout-api))
//! ScopeSpans #0
//! ScopeSpans SchemaURL:
//! InstrumentationScope logship 0.1.0
//! Span #2
//!     Trace ID       : 6ae729c411f517cf54f705187db72351
//!     Parent ID      :
//!     ID             : b99c849463217004
//!     Name           : checkout-api
//!     Kind           : SPAN_KIND_SERVER
//! Start time: 1793534404280000000
//! End time: 1793534404414830000
//!     Status code    : STATUS_CODE_ERROR
//!     Status message : Error: Card declined: insufficient_funds
//! Attributes:
//!      -> faas.invocation_id: Str(5aa2c8c7-02a7-4725-bbdc-781918f84675)
//!      -> faas.coldstart: Bool(false)
//!      -> aws.lambda.duration_ms: Double(134.83)
//! Events:
//! SpanEvent #0
//!      -> Name: exception
//!      -> Timestamp: 1
//!      -> DroppedAttributesCount: 0
//!      -> Attributes::
//!           -> exception.message: Str(boom)
//! Links:
//! SpanLink #0
//!      -> Trace ID: 0102030405060708090a0b0c0d0e0f11
//!      -> ID: 0102030405060709
//! ResourceMetrics #0
//! (Resource …, ScopeMetrics … as above)
//! Metric #9
//! Descriptor:
//!      -> Name: aws.lambda.estimated_cost
//!      -> Description: Estimated compute and request cost from billed GB-seconds
//!      -> Unit: USD
//!      -> DataType: Sum
//!      -> IsMonotonic: true
//!      -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA
//! NumberDataPoints #0
//! Data point attributes:
//!      -> env: Str(prod)
//! StartTimestamp: 1793534401526000000
//! Timestamp: 1793534408973630000
//! Value: 0.00000749168005
//! Metric #3
//! Descriptor:
//!      -> Name: hist
//!      -> DataType: Histogram
//! HistogramDataPoints #0
//! Count: 3
//! Sum: 1.5
//! ExplicitBounds #0: 1
//! Buckets #0, Count: 1
//! Buckets #1, Count: 2
//! ResourceLog #0
//! (Resource …, ScopeLogs … as above)
//! LogRecord #11
//! ObservedTimestamp: 1793534404354000000
//! Timestamp: 1793534404354000000
//! SeverityText: ERROR
//! SeverityNumber: SEVERITY_NUMBER_ERROR(17)
//! Body: Str(Payment failed Error: Card declined: insufficient_funds
//!     at charge (file:///var/task/payments.mjs:42:11))
//! Attributes:
//!      -> faas.invocation_id: Str(5aa2c8c7-02a7-4725-bbdc-781918f84675)
//!     Trace ID       : 6ae729c411f517cf54f705187db72351
//!     Span ID        : b99c849463217004
//! Flags: 0
//! ```
//!
//! What the parser relies on: a block per request, written before rotel answers it; a `Name #N` line opening each
//! item; `Key: value` fields (padded keys allowed); `-> key: Type(value)` attribute lines, one level of indent
//! deeper inside span events; strings printed raw, so a value with newlines runs over several physical lines:
//! any line that is not a known header continues the line before it. Status lines appear only when the span has
//! a status. rotel's own log lines (timestamp, level) may sit between blocks; WARN and ERROR ones are kept in
//! [`Received::errors`] ("Failed to decode OTLP HTTP/JSON request" is how a rejected body shows up).
//!
//! rotel 0.0.1a15's JSON decoder drops 64-bit integers sent as strings, which is how the OTLP/JSON mapping (and
//! so `otlp_json`) writes them, except in timestamps and attributes: an `asInt` point prints without `Value:`
//! and a histogram prints as `DataType: Empty` with no points. Protobuf requests decode in full.

// The API is for the end-to-end tests to come; the one test here uses only part of it.
#![allow(dead_code)]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A key and its value as rotel printed it, with scalars unwrapped (see [`plain_value`]).
pub type Attrs = Vec<(String, String)>;

/// The value of `key` in `attrs`.
pub fn attr<'a>(attrs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    attrs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// A `service.name` no other test (or earlier run against the same rotel) uses.
pub fn unique_service_name(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("logship-it-{test}-{}-{nanos}", std::process::id())
}

/// The running rotel, as `.ci/services.sh start` announced it.
#[derive(Debug, Clone)]
pub struct Rotel {
    endpoint: String,
    log: PathBuf,
    /// Where the log ended when this handle was made: [`Rotel::wait_for`] reads from here.
    start: Mark,
}

/// A byte offset into rotel's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark(pub u64);

impl Rotel {
    /// `None` when the services are not running (the variables are unset).
    pub fn from_env() -> Option<Rotel> {
        let endpoint = std::env::var("LOGSHIP_TEST_OTLP_ENDPOINT").ok().filter(|s| !s.is_empty())?;
        let log = PathBuf::from(std::env::var_os("LOGSHIP_TEST_ROTEL_LOG").filter(|s| !s.is_empty())?);
        let mut rotel = Rotel { endpoint: endpoint.trim_end_matches('/').to_owned(), log, start: Mark(0) };
        rotel.start = rotel.mark();
        Some(rotel)
    }

    /// For a test that needs rotel: the handle, or `None` (the test returns) when `LOGSHIP_SKIP_SERVICES=1`.
    /// Otherwise a missing rotel fails the test, so a CI run without services cannot pass by testing nothing.
    pub fn require(test: &str) -> Option<Rotel> {
        if let Some(rotel) = Rotel::from_env() {
            return Some(rotel);
        }
        if std::env::var("LOGSHIP_SKIP_SERVICES").is_ok_and(|v| v == "1") {
            eprintln!("{test}: skipped: LOGSHIP_SKIP_SERVICES=1 and no rotel (LOGSHIP_TEST_OTLP_ENDPOINT unset)");
            return None;
        }
        panic!(
            "{test} needs the test services, and LOGSHIP_TEST_OTLP_ENDPOINT / LOGSHIP_TEST_ROTEL_LOG are not set.\n\
             Start them (`make services` or `.ci/services.sh start`) and export the variables they print:\n\
             \x20   eval \"$(.ci/services.sh start)\"\n\
             or run the tests inside them:  .ci/services.sh run cargo test\n\
             or skip tests that need them:  LOGSHIP_SKIP_SERVICES=1 cargo test"
        );
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn log(&self) -> &Path {
        &self.log
    }

    /// The log's end now; what a test sends after this is in [`Rotel::received_since`] of it.
    pub fn mark(&self) -> Mark {
        Mark(std::fs::metadata(&self.log).map_or(0, |m| m.len()))
    }

    /// Everything rotel printed after `mark`, parsed. A block still being written at the end is read as far as
    /// its last complete line; [`Rotel::wait_for`] reads again until what it waits for is there.
    pub fn received_since(&self, mark: Mark) -> Received {
        parse(&self.read_since(mark))
    }

    /// Polls [`Rotel::received_since`] from this handle's creation until `pred` holds, and returns what was
    /// received then. Panics after `timeout` with a summary of what did arrive.
    pub fn wait_for(&self, pred: impl Fn(&Received) -> bool, timeout: Duration) -> Received {
        self.wait_for_since(self.start, pred, timeout)
    }

    pub fn wait_for_since(&self, mark: Mark, pred: impl Fn(&Received) -> bool, timeout: Duration) -> Received {
        let deadline = Instant::now() + timeout;
        loop {
            if pred(&self.received_since(mark)) {
                // A block can be caught half-written; a re-read a moment later has the rest of it.
                std::thread::sleep(Duration::from_millis(50));
                let settled = self.received_since(mark);
                if pred(&settled) {
                    return settled;
                }
            }
            if Instant::now() >= deadline {
                let got = self.received_since(mark);
                panic!(
                    "rotel did not receive the expected telemetry within {timeout:?}; since the mark it got {} \
                     spans, {} metrics, {} log records (services: {:?}), rotel errors: {:?}; log: {}",
                    got.spans.len(),
                    got.metrics.len(),
                    got.logs.len(),
                    got.service_names(),
                    got.errors,
                    self.log.display()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    fn read_since(&self, mark: Mark) -> String {
        // Reads from one byte before the mark, to see whether the mark is at a line start; `None` means from the top.
        let read = || -> std::io::Result<(Option<u64>, Vec<u8>)> {
            let mut f = File::open(&self.log)?;
            // A log shorter than the mark means services.sh restarted rotel (it truncates the log): all of it is new.
            let before = mark.0.checked_sub(1).filter(|_| mark.0 <= f.metadata().map_or(0, |m| m.len()));
            f.seek(SeekFrom::Start(before.unwrap_or(0)))?;
            let mut bytes = Vec::new();
            f.read_to_end(&mut bytes)?;
            Ok((before, bytes))
        };
        let (before, bytes) = read().unwrap_or_else(|e| panic!("rotel log {}: {e}", self.log.display()));
        let from = match (before, bytes.first()) {
            (None, _) => 0,
            (Some(_), Some(b'\n')) => 1,
            // The mark fell inside a line someone else's request was writing: start at the next one.
            (Some(_), _) => bytes.iter().position(|b| *b == b'\n').map_or(bytes.len(), |i| i + 1),
        };
        // A block being written at the end is read as far as its last complete line.
        let end = bytes.iter().rposition(|b| *b == b'\n').map_or(from, |i| (i + 1).max(from));
        String::from_utf8_lossy(&bytes[from..end]).into_owned()
    }

    /// POSTs `body` to `path` (e.g. `/v1/traces`) over plain HTTP/1.1; returns the status and the response body.
    pub fn post(&self, path: &str, content_type: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
        let authority = self.endpoint.strip_prefix("http://").unwrap_or(&self.endpoint);
        let mut stream = TcpStream::connect(authority)?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        stream.flush()?;
        // `Connection: close` makes the end of the stream the end of the response: no framing to parse.
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        let text = String::from_utf8_lossy(&response);
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not an HTTP response: {text:?}"));
        let status = text.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()).ok_or_else(bad)?;
        let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b).to_owned();
        Ok((status, body))
    }
}

/// What rotel printed, in the order it printed it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub spans: Vec<ReceivedSpan>,
    pub metrics: Vec<ReceivedMetric>,
    pub logs: Vec<ReceivedLog>,
    /// rotel's own WARN and ERROR lines, e.g. a request body it could not decode.
    pub errors: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedSpan {
    pub resource: Attrs,
    /// `name version` of the instrumentation scope.
    pub scope: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub name: String,
    /// `SPAN_KIND_SERVER` and so on.
    pub kind: String,
    /// `STATUS_CODE_UNSET`, `STATUS_CODE_OK` or `STATUS_CODE_ERROR`.
    pub status: String,
    pub status_message: String,
    pub attributes: Attrs,
    pub events: Vec<ReceivedEvent>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedEvent {
    pub name: String,
    pub attributes: Attrs,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedMetric {
    pub resource: Attrs,
    pub scope: String,
    pub name: String,
    pub description: String,
    pub unit: String,
    /// `Sum`, `Gauge`, `Histogram`, … or `Empty` when rotel could not read the data (see the module doc).
    pub data_type: String,
    pub points: Vec<ReceivedPoint>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedPoint {
    pub attributes: Attrs,
    /// A number point's value as printed; `None` when rotel printed none.
    pub value: Option<String>,
    pub count: Option<u64>,
    pub sum: Option<f64>,
    pub explicit_bounds: Vec<f64>,
    pub bucket_counts: Vec<u64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReceivedLog {
    pub resource: Attrs,
    pub scope: String,
    /// A string body as is; other bodies as rotel renders them (`Map(level:Str(info), …)`); empty when none.
    pub body: String,
    /// The severity text (`INFO`, `warn`, …), empty when none.
    pub severity: String,
    /// 0 when unspecified.
    pub severity_number: u8,
    /// Empty when the record has none.
    pub trace_id: String,
    pub span_id: String,
    pub attributes: Attrs,
}

impl ReceivedSpan {
    pub fn attr(&self, key: &str) -> Option<&str> {
        attr(&self.attributes, key)
    }
}

impl ReceivedLog {
    pub fn attr(&self, key: &str) -> Option<&str> {
        attr(&self.attributes, key)
    }
}

impl Received {
    /// Only what came with resource attribute `key` = `value` (a scalar's plain text).
    pub fn with_resource(&self, key: &str, value: &str) -> Received {
        let keep = |r: &Attrs| attr(r, key) == Some(value);
        Received {
            spans: self.spans.iter().filter(|s| keep(&s.resource)).cloned().collect(),
            metrics: self.metrics.iter().filter(|m| keep(&m.resource)).cloned().collect(),
            logs: self.logs.iter().filter(|l| keep(&l.resource)).cloned().collect(),
            errors: self.errors.clone(),
        }
    }

    pub fn for_service(&self, service_name: &str) -> Received {
        self.with_resource("service.name", service_name)
    }

    /// Only the spans and log records of one trace (metrics have no trace).
    pub fn for_trace(&self, trace_id: &str) -> Received {
        Received {
            spans: self.spans.iter().filter(|s| s.trace_id == trace_id).cloned().collect(),
            metrics: Vec::new(),
            logs: self.logs.iter().filter(|l| l.trace_id == trace_id).cloned().collect(),
            errors: self.errors.clone(),
        }
    }

    pub fn metric(&self, name: &str) -> Option<&ReceivedMetric> {
        self.metrics.iter().find(|m| m.name == name)
    }

    pub fn metric_names(&self) -> Vec<&str> {
        self.metrics.iter().map(|m| m.name.as_str()).collect()
    }

    /// The distinct `service.name`s seen, for failure messages.
    pub fn service_names(&self) -> Vec<&str> {
        let all = self.spans.iter().map(|s| &s.resource).chain(self.metrics.iter().map(|m| &m.resource));
        let mut names: Vec<&str> =
            all.chain(self.logs.iter().map(|l| &l.resource)).filter_map(|r| attr(r, "service.name")).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// rotel's rendering of a value, with `Str(x)`, `Int(n)`, `Double(f)` and `Bool(b)` unwrapped to their text and
/// `Empty` to nothing; slices, maps and bytes stay as printed (`Slice(Str(a))`, `Map(k:Int(1))`, `Bytes([1, 2])`).
pub fn plain_value(v: &str) -> String {
    if v == "Empty" {
        return String::new();
    }
    ["Str(", "Int(", "Double(", "Bool("]
        .iter()
        .find_map(|p| v.strip_prefix(p).and_then(|rest| rest.strip_suffix(')')))
        .unwrap_or(v)
        .to_owned()
}

/// One logical line of the log: a header with what follows it on that line (continuations joined with `\n`).
#[derive(Debug)]
enum Line {
    /// `Span #3`, `LogRecord #0`, …
    Item(&'static str),
    /// `Trace ID       : abc`, `Value: 7`, `Resource attributes:`, …
    Field(&'static str, String),
    /// `-> key: value` at an indent depth (1 for 5 spaces, 2 for 10).
    Arrow(usize, String, String),
    /// `InstrumentationScope name version`
    Scope(String),
    /// `ExplicitBounds #0: 1`
    Bound(String),
    /// `Buckets #0, Count: 1`
    Bucket(String),
    /// rotel's own log line
    Diag(String),
}

const ITEMS: &[&str] = &[
    "ResourceSpans",
    "ResourceMetrics",
    "ResourceLog",
    "ResourceLogs",
    "ScopeSpans",
    "ScopeMetrics",
    "ScopeLogs",
    "Span",
    "SpanEvent",
    "SpanLink",
    "Metric",
    "NumberDataPoints",
    "HistogramDataPoints",
    "ExponentialHistogramDataPoints",
    "SummaryDataPoints",
    "Exemplar",
    "LogRecord",
];

const FIELDS: &[&str] = &[
    "Resource SchemaURL",
    "Resource attributes",
    "ScopeSpans SchemaURL",
    "ScopeMetrics SchemaURL",
    "ScopeLogs SchemaURL",
    "Trace ID",
    "Parent ID",
    "Span ID",
    "ID",
    "Name",
    "Kind",
    "Start time",
    "End time",
    "Status code",
    "Status message",
    "Attributes",
    "Events",
    "Links",
    "Descriptor",
    "Data point attributes",
    "StartTimestamp",
    "Timestamp",
    "Value",
    "Count",
    "Sum",
    "Min",
    "Max",
    "Scale",
    "ZeroCount",
    "Exemplars",
    "ObservedTimestamp",
    "SeverityText",
    "SeverityNumber",
    "EventName",
    "Body",
    "Flags",
];

fn header(raw: &str) -> Option<Line> {
    let t = raw.trim_start();
    if let Some(rest) = t.strip_prefix("-> ") {
        let depth = (raw.len() - t.len()).div_ceil(5).max(1);
        let (k, v) = rest.split_once(':').unwrap_or((rest, ""));
        return Some(Line::Arrow(depth, k.to_owned(), v.strip_prefix(' ').unwrap_or(v).to_owned()));
    }
    if let Some(rest) = t.strip_prefix("InstrumentationScope ") {
        return Some(Line::Scope(rest.trim().to_owned()));
    }
    if t.starts_with("ExplicitBounds #") {
        return Some(Line::Bound(t.split_once(": ").map_or("", |(_, v)| v).to_owned()));
    }
    if t.starts_with("Buckets #") {
        return Some(Line::Bucket(t.split_once("Count: ").map_or("", |(_, v)| v).to_owned()));
    }
    if is_diag(raw) {
        return Some(Line::Diag(raw.to_owned()));
    }
    if let Some((name, n)) = t.split_once(" #") {
        if n.bytes().all(|b| b.is_ascii_digit()) && !n.is_empty() {
            return ITEMS.iter().find(|i| **i == name).map(|i| Line::Item(i));
        }
    }
    // `Key: value`, `Key:` or a padded `Key      : value`; nothing else counts, so that a body's continuation
    // line that merely starts with a key word stays part of the body.
    let (key, value) = t.split_once(':')?;
    let field = FIELDS.iter().find(|f| **f == key.trim_end())?;
    Some(Line::Field(field, value.strip_prefix(' ').unwrap_or(value).to_owned()))
}

/// `2026-11-22T03:33:53.102945Z ERROR Failed to decode …`: rotel's own log, in its default text format.
fn is_diag(raw: &str) -> bool {
    let b = raw.as_bytes();
    let date = b.len() > 20
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && raw.contains("Z ");
    date && raw.split_whitespace().nth(1).is_some_and(|l| ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(&l))
}

fn logical_lines(text: &str) -> Vec<Line> {
    let mut out: Vec<Line> = Vec::new();
    for raw in text.lines() {
        if let Some(line) = header(raw) {
            out.push(line);
        } else if let Some(Line::Field(_, v) | Line::Arrow(_, _, v)) = out.last_mut() {
            v.push('\n');
            v.push_str(raw);
        }
        // Any other unknown line comes before the first header (the tail of a block that began before the mark)
        // or after one that takes no continuation: nothing of ours.
    }
    out
}

#[derive(Clone, Copy, PartialEq)]
enum Current {
    None,
    Span,
    Metric,
    Point,
    Log,
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Fields,
    ResourceAttrs,
    ItemAttrs,
    PointAttrs,
    Events,
    Other,
}

/// Parses rotel's detailed debug output (the layout in the module doc).
pub fn parse(text: &str) -> Received {
    let mut got = Received::default();
    let mut resource: Attrs = Vec::new();
    let mut scope = String::new();
    let mut current = Current::None;
    let mut section = Section::Other;
    let mut in_block = false;
    for line in logical_lines(text) {
        match line {
            Line::Diag(l) => {
                if l.contains(" WARN ") || l.contains(" ERROR ") {
                    got.errors.push(l);
                }
            }
            // The tail of a block that began before the mark: its resource is unknown, so none of it is used.
            Line::Item(item) if !in_block && !item.starts_with("Resource") => {}
            Line::Item(item) => {
                section = Section::Fields;
                match item {
                    "ResourceSpans" | "ResourceMetrics" | "ResourceLog" | "ResourceLogs" => {
                        in_block = true;
                        resource.clear();
                        scope.clear();
                        current = Current::None;
                        section = Section::Other;
                    }
                    "ScopeSpans" | "ScopeMetrics" | "ScopeLogs" => {
                        scope.clear();
                        current = Current::None;
                        section = Section::Other;
                    }
                    "Span" => {
                        got.spans.push(ReceivedSpan {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            status: "STATUS_CODE_UNSET".into(),
                            ..ReceivedSpan::default()
                        });
                        current = Current::Span;
                    }
                    "SpanEvent" => {
                        if let (Current::Span, Some(s)) = (current, got.spans.last_mut()) {
                            s.events.push(ReceivedEvent::default());
                        }
                        section = Section::Events;
                    }
                    "SpanLink" | "Exemplar" => section = Section::Other,
                    "Metric" => {
                        got.metrics.push(ReceivedMetric {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            ..ReceivedMetric::default()
                        });
                        current = Current::Metric;
                    }
                    "NumberDataPoints"
                    | "HistogramDataPoints"
                    | "ExponentialHistogramDataPoints"
                    | "SummaryDataPoints" => {
                        if let Some(m) = got.metrics.last_mut().filter(|_| current != Current::None) {
                            m.points.push(ReceivedPoint::default());
                            current = Current::Point;
                        }
                    }
                    "LogRecord" => {
                        got.logs.push(ReceivedLog {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            ..ReceivedLog::default()
                        });
                        current = Current::Log;
                    }
                    _ => section = Section::Other,
                }
            }
            Line::Scope(s) => scope = s,
            Line::Field(key, value) => {
                section = match key {
                    "Resource attributes" => Section::ResourceAttrs,
                    "Attributes" => Section::ItemAttrs,
                    "Data point attributes" => Section::PointAttrs,
                    "Events" => Section::Events,
                    "Links" | "Exemplars" | "Descriptor" => Section::Other,
                    _ => Section::Fields,
                };
                let value = value.trim_end_matches(['\r']).to_owned();
                match current {
                    Current::Span => {
                        if let Some(s) = got.spans.last_mut() {
                            span_field(s, key, value);
                        }
                    }
                    Current::Log => {
                        if let Some(l) = got.logs.last_mut() {
                            log_field(l, key, value);
                        }
                    }
                    Current::Point => {
                        if let Some(p) = got.metrics.last_mut().and_then(|m| m.points.last_mut()) {
                            point_field(p, key, &value);
                        }
                    }
                    Current::Metric | Current::None => {}
                }
            }
            Line::Arrow(depth, key, value) => {
                let kv = (key, plain_value(&value));
                match (section, current) {
                    (Section::ResourceAttrs, _) => resource.push(kv),
                    (Section::ItemAttrs, Current::Span) => {
                        if let Some(s) = got.spans.last_mut() {
                            s.attributes.push(kv);
                        }
                    }
                    (Section::ItemAttrs, Current::Log) => {
                        if let Some(l) = got.logs.last_mut() {
                            l.attributes.push(kv);
                        }
                    }
                    (Section::PointAttrs, Current::Point) => {
                        if let Some(p) = got.metrics.last_mut().and_then(|m| m.points.last_mut()) {
                            p.attributes.push(kv);
                        }
                    }
                    (Section::Events, Current::Span) => {
                        if let Some(e) = got.spans.last_mut().and_then(|s| s.events.last_mut()) {
                            match (depth, kv.0.as_str()) {
                                (1, "Name") => e.name = kv.1,
                                (1, _) => {}
                                _ => e.attributes.push(kv),
                            }
                        }
                    }
                    (_, Current::Metric | Current::Point) if depth == 1 => {
                        if let Some(m) = got.metrics.last_mut() {
                            match kv.0.as_str() {
                                "Name" => m.name = kv.1,
                                "Description" => m.description = kv.1,
                                "Unit" => m.unit = kv.1,
                                // Raw: `Empty` here is rotel saying it could not read the data, worth seeing.
                                "DataType" => m.data_type = value,
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            Line::Bound(v) => {
                if let (Current::Point, Some(p)) = (current, got.metrics.last_mut().and_then(|m| m.points.last_mut())) {
                    p.explicit_bounds.extend(v.trim().parse::<f64>().ok());
                }
            }
            Line::Bucket(v) => {
                if let (Current::Point, Some(p)) = (current, got.metrics.last_mut().and_then(|m| m.points.last_mut())) {
                    p.bucket_counts.extend(v.trim().parse::<u64>().ok());
                }
            }
        }
    }
    got
}

fn span_field(s: &mut ReceivedSpan, key: &str, value: String) {
    match key {
        "Trace ID" => s.trace_id = value,
        "ID" => s.span_id = value,
        "Parent ID" => s.parent_span_id = value,
        "Name" => s.name = value,
        "Kind" => s.kind = value,
        "Status code" => s.status = value,
        "Status message" => s.status_message = value,
        _ => {}
    }
}

fn log_field(l: &mut ReceivedLog, key: &str, value: String) {
    match key {
        "Body" => l.body = plain_value(&value),
        "SeverityText" => l.severity = value,
        // `SEVERITY_NUMBER_INFO(9)`
        "SeverityNumber" => {
            l.severity_number =
                value.rsplit_once('(').and_then(|(_, n)| n.trim_end_matches(')').parse().ok()).unwrap_or(0);
        }
        "Trace ID" => l.trace_id = value,
        "Span ID" => l.span_id = value,
        _ => {}
    }
}

fn point_field(p: &mut ReceivedPoint, key: &str, value: &str) {
    match key {
        "Value" => p.value = Some(value.trim().to_owned()),
        "Count" => p.count = value.trim().parse().ok(),
        "Sum" => p.sum = value.trim().parse().ok(),
        _ => {}
    }
}

mod tests {
    use super::*;
    use logship::config::Config;
    use logship::export::otlp_json::{encode, Signal};
    use logship::pipeline::process_event;
    use logship::telemetry::{AnyValue, KeyValue, MetricData, Number, Status, Telemetry};

    /// rotel's rendering of a value after [`plain_value`]: what a received attribute or body should equal.
    fn rendered(v: &AnyValue) -> String {
        fn typed(v: &AnyValue) -> String {
            match v {
                AnyValue::Str(s) => format!("Str({s})"),
                AnyValue::Int(i) => format!("Int({i})"),
                AnyValue::Double(d) => format!("Double({d})"),
                AnyValue::Bool(b) => format!("Bool({b})"),
                AnyValue::Array(a) => format!("Slice({})", a.iter().map(typed).collect::<Vec<_>>().join(", ")),
                AnyValue::Map(m) => {
                    format!(
                        "Map({})",
                        m.iter().map(|kv| format!("{}:{}", kv.key, typed(&kv.value))).collect::<Vec<_>>().join(", ")
                    )
                }
                AnyValue::Bytes(b) => format!("Bytes({b:?})"),
                AnyValue::Json(doc) => typed(&doc.parse()),
            }
        }
        plain_value(&typed(v))
    }

    fn pairs(attrs: &[KeyValue]) -> Attrs {
        attrs.iter().map(|kv| (kv.key.to_string(), rendered(&kv.value))).collect()
    }

    /// Numbers to 12 significant digits: rotel's JSON decoder can land one ulp off the double we sent
    /// (1.3250022500000001e-6 prints as 0.00000132500225), which is rotel's rounding, not a lost value.
    fn approx(attrs: &[(String, String)]) -> Attrs {
        attrs.iter().map(|(k, v)| (k.clone(), num(v))).collect()
    }

    fn num(v: &str) -> String {
        v.parse::<f64>().ok().filter(|d| d.is_finite()).map_or_else(|| v.to_owned(), |d| format!("{d:.11e}"))
    }

    fn node_text() -> Telemetry {
        let path = crate::fixtures("events").into_iter().find(|p| p.ends_with("node-text.json")).unwrap();
        process_event(&std::fs::read(path).unwrap(), &Config::default()).unwrap().telemetry
    }

    #[test]
    fn rotel_receives_logship_otlp_json() {
        let Some(rotel) = Rotel::require("rotel_receives_logship_otlp_json") else { return };
        let mut sent = node_text();
        let service = unique_service_name("otlp-json");
        for r in &mut sent.resources {
            r.resource.attributes.retain(|kv| kv.key != "service.name");
            r.resource.attributes.insert(0, KeyValue::new("service.name", service.as_str()));
        }

        let mark = rotel.mark();
        for signal in Signal::ALL {
            let (status, body) =
                rotel.post(&format!("/v1/{signal}"), "application/json", &encode(&sent, signal)).unwrap_or_else(|e| {
                    panic!("POST /v1/{signal} to {}: {e} (is rotel up? .ci/services.sh status)", rotel.endpoint())
                });
            assert_eq!(status, 200, "rotel rejected our {signal}: {body}");
        }

        let spans: Vec<_> = sent.resources.iter().flat_map(|r| &r.spans).collect();
        let metrics: Vec<_> = sent.resources.iter().flat_map(|r| &r.metrics).collect();
        let logs: Vec<_> = sent.resources.iter().flat_map(|r| &r.logs).collect();
        assert_eq!(spans.len(), 4, "node-text.json has four invocations");
        let got = rotel
            .wait_for_since(
                mark,
                |r| {
                    let r = r.for_service(&service);
                    r.spans.len() >= spans.len() && r.metrics.len() >= metrics.len() && r.logs.len() >= logs.len()
                },
                Duration::from_secs(10),
            )
            .for_service(&service);

        // Exactly the four invocation spans, with ids, names, status and every attribute as sent.
        let want: Vec<_> = spans
            .iter()
            .map(|s| {
                let (status, message) = match &s.status {
                    Status::Unset => ("STATUS_CODE_UNSET", ""),
                    Status::Ok => ("STATUS_CODE_OK", ""),
                    Status::Error(m) => ("STATUS_CODE_ERROR", m.as_str()),
                };
                (
                    s.trace_id.to_string(),
                    s.span_id.to_string(),
                    s.name.clone(),
                    status,
                    message,
                    approx(&pairs(&s.attributes)),
                )
            })
            .collect();
        let have: Vec<_> = got
            .spans
            .iter()
            .map(|s| {
                let status = s.status.as_str();
                (
                    s.trace_id.clone(),
                    s.span_id.clone(),
                    s.name.clone(),
                    status,
                    s.status_message.as_str(),
                    approx(&s.attributes),
                )
            })
            .collect();
        assert_eq!(have, want);
        let invocations: Vec<_> = got.spans.iter().map(|s| s.attr("faas.invocation_id").unwrap_or("")).collect();
        assert_eq!(
            invocations,
            [
                "6be922d3-2f94-4715-b2e5-f9187dd46975",
                "76eb9fd0-884e-4de0-82dd-bdb8c716c3a9",
                "5aa2c8c7-02a7-4725-bbdc-781918f84675",
                "91c70028-e0d7-49a3-a0cc-6d40b46e25f7"
            ]
        );
        assert!(got.spans.iter().all(|s| s.kind == "SPAN_KIND_SERVER" && s.scope.starts_with("logship ")));
        assert_eq!(
            got.spans[0].resource.iter().find(|(k, _)| k == "faas.max_memory"),
            Some(&("faas.max_memory".to_owned(), "536870912".to_owned()))
        );

        // Every metric by name, in order; number points as far as rotel's JSON decoder keeps them (module doc).
        let names: Vec<&str> = metrics.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(got.metric_names(), names);
        for m in &metrics {
            let r = got.metric(&m.name).unwrap();
            assert_eq!(r.unit, m.unit, "{}", m.name);
            let (kind, points) = match &m.data {
                MetricData::Gauge(p) => ("Gauge", p),
                MetricData::Sum { points, .. } => ("Sum", points),
                MetricData::Histogram { .. } => continue,
            };
            assert_eq!(r.data_type, kind, "{}", m.name);
            assert_eq!(r.points.len(), points.len(), "{}", m.name);
            for (rp, p) in r.points.iter().zip(points.iter()) {
                assert_eq!(approx(&rp.attributes), approx(&pairs(&p.attributes)), "{}", m.name);
                if let Number::Double(d) = p.value {
                    assert_eq!(rp.value.as_deref().map(num), Some(num(&d.to_string())), "{}", m.name);
                }
            }
        }

        // Every log record: body, severity, trace context and attributes, in order.
        let want: Vec<_> = logs
            .iter()
            .map(|l| {
                let sev = l.severity.as_ref();
                (
                    rendered(&l.body),
                    sev.map_or(String::new(), |s| s.text.clone()),
                    sev.map_or(0, |s| s.number),
                    l.trace_id.as_ref().map_or(String::new(), ToString::to_string),
                    l.span_id.as_ref().map_or(String::new(), ToString::to_string),
                    approx(&pairs(&l.attributes)),
                )
            })
            .collect();
        let have: Vec<_> = got
            .logs
            .iter()
            .map(|l| {
                (
                    l.body.clone(),
                    l.severity.clone(),
                    l.severity_number,
                    l.trace_id.clone(),
                    l.span_id.clone(),
                    approx(&l.attributes),
                )
            })
            .collect();
        assert_eq!(have, want);
        assert!(got.logs.iter().any(|l| l.body.contains("\n    at charge (file:///var/task/payments.mjs:42:11)")));
    }
}
