//! Line classification: every CloudWatch log event becomes platform records, log records, metric samples or spans.
//!
//! Every format module has the same shape, [`ParseFn`]: `Ok(None)` means "not mine", `Err` means "mine, but
//! broken" (the line is then still forwarded as a text log record and counted as malformed), `Ok(Some(items))`
//! is the result. Adding a format is one file plus one line in [`FORMATS`].

pub mod beeline;
pub mod emf;
pub mod json_log;
pub mod json_platform;
pub mod monitoring;
pub mod platform;
pub mod runtime_prefix;

use crate::telemetry::{AnyValue, Attributes, KeyValue, Number, Severity, Span, SpanId, TraceId, UnixNanos};
use std::fmt;

/// The formats a line can be in; also the keys of the per-format counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Lambda's text platform lines: START, END, REPORT, XRAY, INIT_START, timeouts…
    Platform,
    /// Lambda's JSON log format platform records (`"type":"platform.*"`).
    JsonPlatform,
    /// Structured JSON application logs, Lambda's JSON app records included.
    JsonLog,
    /// `MONITORING|epoch|value|type|name[|#tags]` custom metric lines.
    Monitoring,
    /// CloudWatch Embedded Metric Format documents.
    Emf,
    /// Honeycomb beeline / libhoney events written to stdout.
    Beeline,
    /// Anything else: plain text, possibly behind a runtime's prefix.
    Text,
}

impl Format {
    pub const ALL: [Format; 7] = [
        Format::Platform,
        Format::JsonPlatform,
        Format::JsonLog,
        Format::Monitoring,
        Format::Emf,
        Format::Beeline,
        Format::Text,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Platform => "platform",
            Format::JsonPlatform => "json_platform",
            Format::JsonLog => "json_log",
            Format::Monitoring => "monitoring",
            Format::Emf => "emf",
            Format::Beeline => "beeline",
            Format::Text => "text",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line that claimed a format but did not hold to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed {format} line: {reason}")]
pub struct ParseError {
    pub format: Format,
    pub reason: String,
}

impl ParseError {
    pub fn new(format: Format, reason: impl Into<String>) -> Self {
        ParseError { format, reason: reason.into() }
    }
}

/// The shape of every format parser.
pub type ParseFn = fn(&str, &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError>;

/// The registry, in the order formats are tried. Cheap "is it mine" checks come first inside each parser.
pub const FORMATS: &[(Format, ParseFn)] = &[
    (Format::JsonPlatform, json_platform::parse),
    (Format::Emf, emf::parse),
    (Format::Beeline, beeline::parse),
    (Format::JsonLog, json_log::parse),
    (Format::Platform, platform::parse),
    (Format::Monitoring, monitoring::parse),
];

/// What the parsers know about a line besides its text.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// CloudWatch's timestamp of the log event.
    pub observed_ns: UnixNanos,
    /// The runtime prefix the message sat behind, if any.
    pub prefix: Option<&'a runtime_prefix::Prefix<'a>>,
    /// Render JSON bodies as OTLP/protobuf while checking them ([`crate::telemetry::JsonDoc::otlp`]).
    pub render_otlp: bool,
}

impl Ctx<'_> {
    /// The best time known before a parser reads the message itself.
    pub fn time_ns(&self) -> UnixNanos {
        self.prefix.and_then(|p| p.time_ns).unwrap_or(self.observed_ns)
    }

    pub fn request_id(&self) -> Option<&str> {
        self.prefix.and_then(|p| p.request_id)
    }

    pub fn severity(&self) -> Option<Severity> {
        self.prefix.and_then(|p| p.level).map(Severity::parse)
    }
}

/// One thing a line says.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    Platform { time_ns: UnixNanos, record: PlatformRecord },
    Log(AppLog),
    Metric(MetricSample),
    Span(Span),
}

/// An application log line, before it is joined to its invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct AppLog {
    pub time_ns: UnixNanos,
    pub request_id: Option<String>,
    pub severity: Option<Severity>,
    /// The message: a string, or a map when the line was JSON.
    pub body: AnyValue,
    pub attributes: Attributes,
    /// A trace the line names itself (X-Ray id, W3C trace id), which wins over the invocation's.
    pub trace_id: Option<TraceId>,
    pub span_id: Option<SpanId>,
}

impl AppLog {
    /// A text line with what the context knows.
    pub fn text(message: &str, ctx: &Ctx<'_>) -> Self {
        AppLog {
            time_ns: ctx.time_ns(),
            request_id: ctx.request_id().map(str::to_owned),
            severity: ctx.severity(),
            body: AnyValue::Str(message.to_owned()),
            attributes: Vec::new(),
            trace_id: None,
            span_id: None,
        }
    }
}

/// Which OpenTelemetry instrument a custom metric maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Instrument {
    /// A monotonic delta sum.
    Counter,
    /// A non-monotonic delta sum.
    UpDownCounter,
    Gauge,
    /// One sample of a distribution.
    Histogram,
}

/// One custom metric value, with its own timestamp and tags; never aggregated away.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSample {
    pub name: String,
    /// UCUM unit (`ms`, `By`, `1`), empty when unknown.
    pub unit: String,
    pub instrument: Instrument,
    pub value: Number,
    pub time_ns: UnixNanos,
    pub attributes: Attributes,
}

/// An X-Ray / Lambda tracing context as the platform reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tracing {
    pub trace_id: Option<TraceId>,
    /// The segment Lambda created for the invocation (`SegmentId`, `tracing.spanId`).
    pub segment_id: Option<SpanId>,
    /// The caller's segment (`Parent=` of the trace header).
    pub parent_id: Option<SpanId>,
    pub sampled: Option<bool>,
}

/// Lambda platform events, from text lines and from `platform.*` JSON records alike.
#[derive(Debug, Clone, PartialEq)]
pub enum PlatformRecord {
    InitStart(InitStart),
    InitReport(PhaseReport),
    RestoreStart(InitStart),
    RestoreReport(PhaseReport),
    Start {
        request_id: String,
        version: Option<String>,
        tracing: Option<Tracing>,
    },
    RuntimeDone(RuntimeDone),
    End {
        request_id: String,
    },
    Report(Report),
    /// `<ts> <request id> Task timed out after N seconds`.
    Timeout {
        request_id: String,
        after_s: f64,
    },
    /// `RequestId: … Error: Runtime exited with error: signal: killed` and its kin.
    RuntimeError {
        request_id: Option<String>,
        message: String,
        out_of_memory: bool,
    },
    /// Extension, telemetry-subscription and other platform notices, kept as logs.
    Notice {
        kind: String,
        message: AnyValue,
    },
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct InitStart {
    pub runtime_version: Option<String>,
    pub runtime_version_arn: Option<String>,
    pub function_name: Option<String>,
    pub function_version: Option<String>,
    pub initialization_type: Option<String>,
    pub phase: Option<String>,
}

/// `INIT_REPORT`, `RESTORE_REPORT`, `platform.initReport`, `platform.restoreReport`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PhaseReport {
    pub duration_ms: Option<f64>,
    pub phase: Option<String>,
    pub status: Option<String>,
    pub error_type: Option<String>,
    pub initialization_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuntimeDone {
    pub request_id: String,
    pub status: Option<String>,
    pub error_type: Option<String>,
    pub duration_ms: Option<f64>,
    pub produced_bytes: Option<u64>,
    pub spans: Vec<PlatformSpan>,
    pub tracing: Option<Tracing>,
}

/// A phase span Lambda reports inside `platform.runtimeDone` (`responseLatency`, `responseDuration`…).
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformSpan {
    pub name: String,
    pub start_ns: UnixNanos,
    pub duration_ms: f64,
}

/// A REPORT line or `platform.report` record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_duration_ms: Option<f64>,
    pub memory_size_mb: Option<u64>,
    pub max_memory_used_mb: Option<u64>,
    pub init_duration_ms: Option<f64>,
    pub restore_duration_ms: Option<f64>,
    pub billed_restore_duration_ms: Option<f64>,
    /// `timeout`, `error`, `failure`, `success`; absent on text REPORT lines of successful invocations.
    pub status: Option<String>,
    pub error_type: Option<String>,
    pub tracing: Option<Tracing>,
}

/// The result of classifying one log event.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedLine {
    /// The format that took the line (or claimed it, when `error` is set).
    pub format: Format,
    pub items: Vec<Item>,
    pub error: Option<ParseError>,
}

/// Classifies one CloudWatch log event. Never fails and never drops the line: a line no format takes, or one
/// that breaks the format it claims, comes back as a text log record.
pub fn parse_line(message: &str, observed_ns: UnixNanos) -> ParsedLine {
    parse_line_rendering(message, observed_ns, false)
}

/// [`parse_line`], with JSON bodies also rendered as OTLP/protobuf in the walk that checks them when
/// `render_otlp`: the pipeline asks for it when logs will be shipped that way.
pub fn parse_line_rendering(message: &str, observed_ns: UnixNanos, render_otlp: bool) -> ParsedLine {
    parse_line_with(message, observed_ns, render_otlp, true)
}

/// [`parse_line_rendering`], settling lines that open with `{` by their walk when `routed` ([`classify_object`]),
/// else by [`classify_by_trial`] alone: the general routine the routed one is tested against.
fn parse_line_with(message: &str, observed_ns: UnixNanos, render_otlp: bool, routed: bool) -> ParsedLine {
    // Lambda terminates text lines with "\n"; the newline is framing, not content.
    let kept = message.bytes().rposition(|c| !matches!(c, b'\n' | b'\r')).map_or(0, |i| i + 1);
    let line = &message[..kept];
    let ctx = Ctx { observed_ns, prefix: None, render_otlp };
    if let Some(prefix) = runtime_prefix::strip(line) {
        let ctx = Ctx { observed_ns, prefix: Some(&prefix), render_otlp };
        return classify(prefix.message, &ctx, routed);
    }
    classify(line, &ctx, routed)
}

fn classify(text: &str, ctx: &Ctx<'_>, routed: bool) -> ParsedLine {
    let skipped = text.bytes().position(|c| !json_log::JSON_WHITESPACE.contains(&char::from(c))).unwrap_or(text.len());
    let json = &text[skipped..];
    let first = json.as_bytes().first().copied();
    if matches!(first, Some(b'{' | b'[')) && nested_deeper_than(json, MAX_JSON_DEPTH) {
        // Text that merely opens with brackets is text; an object this deep is a JSON line nobody can read.
        return match first {
            Some(b'{') => malformed(
                text,
                ctx,
                ParseError::new(Format::JsonLog, format!("nested deeper than {MAX_JSON_DEPTH} levels")),
            ),
            _ => ParsedLine { format: Format::Text, items: vec![Item::Log(AppLog::text(text, ctx))], error: None },
        };
    }
    if routed && first == Some(b'{') {
        if let Some(parsed) = classify_object(text, ctx) {
            return parsed;
        }
    }
    classify_by_trial(text, ctx, first)
}

/// The general routine: each format in [`FORMATS`] order, until one takes the line.
fn classify_by_trial(text: &str, ctx: &Ctx<'_>, first: Option<u8>) -> ParsedLine {
    // These formats read only a line that opens, after whitespace, with a JSON value or a quoted one; a line
    // opening with any other printable ASCII (START, REPORT, MONITORING, most text) needs none of their checks.
    let json_led =
        !matches!(first, Some(c) if c.is_ascii_graphic() && !matches!(c, b'{' | b'[' | b'"' | b'-' | b'0'..=b'9'));
    for (format, parse) in FORMATS {
        if !json_led && matches!(format, Format::JsonPlatform | Format::Emf | Format::Beeline | Format::JsonLog) {
            continue;
        }
        match parse(text, ctx) {
            Ok(None) => continue,
            Ok(Some(items)) => return ParsedLine { format: *format, items, error: None },
            Err(error) => return malformed(text, ctx, error),
        }
    }
    ParsedLine { format: Format::Text, items: vec![Item::Log(AppLog::text(text, ctx))], error: None }
}

/// A line that opens with `{`, settled by the walk that lifts its JSON log fields: the formats before
/// [`Format::JsonLog`] claim a document the walk reads only by its top-level keys, so they are asked only when those
/// keys are there ([`json_log::parse_unrouted`]) — the same answer as [`classify_by_trial`] without a substring scan
/// of every JSON line per format. `None` for the lines the walk leaves to the general routine.
fn classify_object(text: &str, ctx: &Ctx<'_>) -> Option<ParsedLine> {
    let log = json_log::parse_unrouted(text, ctx)?;
    // In `FORMATS` order. EMF is not asked: the walk keeps only documents without a top-level `_aws`, which it
    // never claims.
    let asked: [(Format, bool, ParseFn); 2] =
        [(Format::JsonPlatform, log.platform, json_platform::parse), (Format::Beeline, log.beeline, beeline::parse)];
    for (format, ask, parse) in asked {
        if !ask {
            continue;
        }
        match parse(text, ctx) {
            Ok(None) => {}
            Ok(Some(items)) => return Some(ParsedLine { format, items, error: None }),
            Err(error) => return Some(malformed(text, ctx, error)),
        }
    }
    Some(ParsedLine { format: Format::JsonLog, items: log.items, error: None })
}

/// A line that broke the format it claimed: forwarded whole as text, tagged with what was wrong.
fn malformed(text: &str, ctx: &Ctx<'_>, error: ParseError) -> ParsedLine {
    let mut log = AppLog::text(text, ctx);
    log.attributes.push(KeyValue::new("logship.parse_error", error.to_string()));
    ParsedLine { format: error.format, items: vec![Item::Log(log)], error: Some(error) }
}

/// How deep a JSON line may nest. sonic-rs recurses once per level and stops only at 255, which overflows a
/// 2 MiB thread stack in an unoptimised build; no real log line comes near this.
pub(crate) const MAX_JSON_DEPTH: usize = 64;

/// Whether brackets outside strings nest deeper than `max`: one flat byte scan, so no recursive parse starts.
pub(crate) fn nested_deeper_than(text: &str, max: usize) -> bool {
    // Depth never exceeds the number of opening brackets, and counting them is one vectorised pass: nearly every
    // line is settled here without the byte-at-a-time scan below. A byte-wide count per 255-byte chunk cannot
    // overflow, and lets the compiler count sixteen bytes at a time.
    let opening: usize = text
        .as_bytes()
        .chunks(255)
        .map(|chunk| usize::from(chunk.iter().fold(0u8, |n, &c| n + u8::from(matches!(c, b'{' | b'[')))))
        .sum();
    if opening <= max {
        return false;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for c in text.bytes() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Input echoed into an error reason, cut so a huge field cannot bloat the malformed-line record.
pub(crate) fn clip(s: &str) -> &str {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s;
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Parses a JSON object into its typed form for a format parser, naming the format on failure.
pub(crate) fn from_json<'a, T: serde::Deserialize<'a>>(format: Format, text: &'a str) -> Result<T, ParseError> {
    sonic_rs::from_str(text).map_err(|e| ParseError::new(format, format!("invalid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_before_any_json_parser_runs() {
        let ok = format!("{}1{}", r#"{"a":"#.repeat(MAX_JSON_DEPTH), "}".repeat(MAX_JSON_DEPTH));
        assert_eq!(parse_line(&ok, 0).format, Format::JsonLog);
        assert_eq!(parse_line(&ok, 0).error, None);
        let deep = format!("{}1{}", r#"{"a":"#.repeat(MAX_JSON_DEPTH + 1), "}".repeat(MAX_JSON_DEPTH + 1));
        let p = parse_line(&deep, 0);
        assert_eq!(p.error.map(|e| e.format), Some(Format::JsonLog));
        assert!(matches!(&p.items[..], [Item::Log(log)] if log.body == AnyValue::Str(deep)));
        // Brackets inside strings, escaped quotes included, do not count.
        let quoted = format!(r#"{{"a":"\"{}\\","b":1}}"#, "[".repeat(1000));
        assert_eq!(parse_line(&quoted, 0).error, None);
        assert_eq!(parse_line(&quoted, 0).format, Format::JsonLog);
        assert_eq!(parse_line(&"[".repeat(100_000), 0).format, Format::Text);
        assert!(parse_line(&"{".repeat(100_000), 0).error.is_some());
        let platform = format!(
            r#"{{"time":"2026-11-01T00:00:00Z","type":"platform.extension","record":{}1{}}}"#,
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(parse_line(&platform, 0).error.is_some());
    }

    /// Lines that open with `{` and whose top-level keys, spelled plainly or escaped, repeated or nested, would
    /// interest another JSON format.
    const ODD_OBJECTS: [&str; 16] = [
        r#"{"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["d"]],"Metrics":[{"Name":"m"}]}]},"d":"x","m":1}"#,
        r#"{"_\u0061ws":{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[],"Metrics":[{"Name":"m"}]}]},"m":1}"#,
        r#"{"_\u0061ws":{"CloudWatchMetrics":[]},"x":"_aws"}"#,
        r#"{"a":{"_aws":{"CloudWatchMetrics":[]}},"_aws":"not an object"}"#,
        r#"{"a":{"_aws":{"CloudWatchMetrics":[]}},"b":"_aws"}"#,
        r#"{"trace.trace_id":"t1","trace.span_id":"s1","name":"n","duration_ms":1}"#,
        r#"{"trace\u002etrace_id":"t1","trace.span_id":"s1"}"#,
        r#"{"data":"not an object","msg":"names trace.trace_id"}"#,
        r#"{"data":{"trace.trace_id":"t1","trace.span_id":"s1"},"time":"2024-03-01T12:00:00Z","data":1}"#,
        r#"{"d\u0061ta":{"trace.trace_id":"t1","trace.span_id":"s1"}}"#,
        r#"{"time":"2024-03-01T12:00:00Z","type":"platform.start","record":{"requestId":"r1"}}"#,
        r#"{"time":"2024-03-01T12:00:00Z","t\u0079pe":"platform.start","record":{"requestId":"r1"}}"#,
        r#"{"time":1,"time":2,"x":{"type":"platform.start"}}"#,
        r#"{"record":1,"rec\u006frd":2,"x":{"type":"platform.start"}}"#,
        r#"{"type": "platform.start","record":{}, "type":"x"}"#,
        r#"{"level":"info","x":{"type":"platform.start","_aws":{},"trace.trace_id":"t"}}"#,
    ];

    #[test]
    fn routing_by_the_walk_agrees_with_trying_every_format() {
        const PREFIX: &str = "2024-03-01T12:00:00.900Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t";
        for line in ODD_OBJECTS {
            for line in [line.to_owned(), format!("{PREFIX}{line}"), format!(" {line}\u{a0}"), line.replace('}', "")] {
                for render in [false, true] {
                    assert_eq!(
                        parse_line_rendering(&line, 7, render),
                        parse_line_with(&line, 7, render, false),
                        "{line}"
                    );
                }
            }
        }
        // Quirks of the substring scans, kept: an escaped `_aws` is EMF only where `"_aws"` is spelled out somewhere,
        // `data` that is no object is a broken beeline event where `trace.trace_id` is, and duplicate envelope keys
        // make a broken platform record only where `"type":"platform.` is spelled compactly.
        let formats: Vec<_> = ODD_OBJECTS.iter().map(|line| parse_line(line, 7).format).collect();
        use Format::*;
        let want = [
            Emf,
            JsonLog,
            Emf,
            Emf,
            JsonLog,
            Beeline,
            JsonLog,
            Beeline,
            Beeline,
            Beeline,
            JsonPlatform,
            JsonPlatform,
            JsonPlatform,
            JsonPlatform,
            JsonLog,
            JsonLog,
        ];
        assert_eq!(formats, want);
    }

    fn object_line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let keys = vec![
            "_aws",
            "_\\u0061ws",
            "trace.trace_id",
            "trace\\u002etrace_id",
            "trace.span_id",
            "data",
            "d\\u0061ta",
            "type",
            "t\\u0079pe",
            "time",
            "record",
            "rec\\u006frd",
            "level",
            "requestId",
            "name",
            "duration_ms",
            "m",
        ];
        let values = vec![
            "1",
            "null",
            "true",
            "[1,\"a\"]",
            "{}",
            "\"x\"",
            "\"_aws\"",
            "\"trace.trace_id\"",
            "\"platform.start\"",
            "\"2024-03-01T12:00:00Z\"",
            "1700000000000",
            "\"t\\u0031\"",
            r#"{"CloudWatchMetrics":[{"Namespace":"N","Dimensions":[["m"]],"Metrics":[{"Name":"m","Unit":"Count"}]}]}"#,
            r#"{"trace.trace_id":"t1","trace.span_id":"s1"}"#,
            r#"{"type":"platform.start","record":{}}"#,
            r#"{"requestId":"r1","version":"$LATEST"}"#,
            r#"{"_aws":{"CloudWatchMetrics":[]}}"#,
        ];
        let member =
            (proptest::sample::select(keys), proptest::sample::select(values), prop_oneof![Just(":"), Just(" : ")]);
        let junk = proptest::option::weighted(
            0.2,
            (any::<proptest::sample::Index>(), proptest::sample::select(vec!["", "\"", ",", "}", "{", "\\", "]", "x"])),
        );
        let edges = proptest::sample::select(vec![
            ("", ""),
            (" \t", " "),
            ("\u{a0}", ""),
            ("", "\u{a0}"),
            ("2024-03-01T12:00:00.900Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t", ""),
        ]);
        (proptest::collection::vec(member, 0..6), junk, edges).prop_map(|(members, junk, (before, after))| {
            let members: Vec<String> = members.iter().map(|(k, v, colon)| format!("\"{k}\"{colon}{v}")).collect();
            let mut body = format!("{{{}}}", members.join(","));
            // Broken lines: cut short, or a stray character put in. The body is ASCII, so any index is a boundary.
            match junk {
                Some((at, "")) => body.truncate(at.index(body.len())),
                Some((at, piece)) => body.insert_str(at.index(body.len() + 1), piece),
                None => {}
            }
            format!("{before}{body}{after}")
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The walk asks a format only when the keys it claims by are there; every line comes out as if each format
        /// had been tried in turn.
        #[test]
        fn routed_lines_parse_as_the_general_routine_parses_them(line in object_line(), render in proptest::bool::ANY) {
            proptest::prop_assert_eq!(parse_line_rendering(&line, 7, render), parse_line_with(&line, 7, render, false));
        }
    }

    #[test]
    fn unknown_text_is_a_log_record() {
        let p = parse_line("hello world\n", 7);
        assert_eq!(p.format, Format::Text);
        assert_eq!(p.error, None);
        match &p.items[..] {
            [Item::Log(log)] => {
                assert_eq!(log.body, AnyValue::Str("hello world".into()));
                assert_eq!(log.time_ns, 7);
            }
            other => panic!("expected one log, got {other:?}"),
        }
    }
}
