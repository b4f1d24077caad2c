//! Shared fuzz harness: the invariants every pipeline result must hold, and the `awslogs` event builder.
//!
//! A broken invariant panics, which libFuzzer reports as a crash and saves the input under `fuzz/artifacts/`.

use base64::Engine as _;
use logship::export::otlp_json::{self, Signal};
use logship::parse::{runtime_prefix, Item, ParsedLine};
use logship::pipeline::Output;
use logship::telemetry::AnyValue;
use serde::Serialize;
use sonic_rs::JsonValueTrait as _;

/// Checks what `process_event` returned for a readable event.
pub fn check_output(out: &Output) {
    let s = &out.stats;
    let by_format: u64 = s.lines_by_format.values().sum();
    assert_eq!(s.lines, by_format, "stats.lines != sum of lines_by_format: {s:?}");
    assert!(s.malformed() <= s.lines, "more malformed lines than lines: {s:?}");
    // A malformed line is counted under the format it claimed, so per format the same bound must hold.
    for (format, bad) in &s.malformed_by_format {
        let seen = s.lines_by_format.get(format).copied().unwrap_or(0);
        assert!(*bad <= seen, "{format}: {bad} malformed of {seen} lines: {s:?}");
    }
    for r in &out.telemetry.resources {
        for span in &r.spans {
            assert!(span.end_ns >= span.start_ns, "span ends before it starts: {span:?}");
        }
    }
    for signal in Signal::ALL {
        let body = otlp_json::encode(&out.telemetry, signal);
        // `encode` turns a serializer error into an empty body, so "parses as a JSON object" also catches those.
        match sonic_rs::from_slice::<sonic_rs::Value>(&body) {
            Ok(v) if v.is_object() => {}
            Ok(_) => panic!("{signal:?} request is JSON but not an object: {}", String::from_utf8_lossy(&body)),
            Err(e) => panic!("{signal:?} request is not JSON ({e}): {}", String::from_utf8_lossy(&body)),
        }
    }
}

/// Checks what `parse_line` made of `message`.
pub fn check_parsed_line(message: &str, parsed: &ParsedLine) {
    assert!(!parsed.items.is_empty(), "no items for {message:?}: {parsed:?}");
    let Some(err) = &parsed.error else { return };
    assert_eq!(err.format, parsed.format, "error names another format than the line's: {parsed:?}");
    // parse_line's own framing rule: "\n" and "\r" at the end are not content.
    let line = message.trim_end_matches(['\n', '\r']);
    // Behind a runtime prefix, the timestamp, request id and level move into the record's fields by design and
    // the body is the text after the prefix; either is "the line" for this check.
    let after_prefix = runtime_prefix::strip(line).map(|p| p.message);
    let kept = parsed.items.iter().any(|item| match item {
        Item::Log(log) => matches!(&log.body, AnyValue::Str(b) if b == line || Some(b.as_str()) == after_prefix),
        _ => false,
    });
    assert!(kept, "malformed line was not forwarded as a text log with its own text: {message:?} → {parsed:?}");
}

/// One CloudWatch log event as the subscription delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Where the structured target's synthetic log events start: a plausible recent epoch, so time parsing and
/// invocation joining behave as in production unless the input moves the clock on purpose.
pub const BASE_TIMESTAMP_MS: i64 = 1_700_000_000_000;

/// Separates log events in the `awslogs_lines` input; ASCII "record separator", so messages may hold newlines.
pub const RECORD_SEP: u8 = 0x1e;
/// Brackets an optional signed decimal millisecond delta at the start of a record; ASCII "unit separator".
pub const DELTA_MARK: u8 = 0x1f;

/// Reads the `awslogs_lines` input format: records separated by [`RECORD_SEP`], each optionally starting with
/// `DELTA_MARK <signed ms> DELTA_MARK` (the time since the previous event; 1 ms when absent). Text, so seeds are
/// easy to write and libFuzzer's dictionary and splicing mutations stay meaningful.
pub fn split_records(data: &[u8]) -> Vec<LogLine> {
    // One before the base, so a first record without a delta lands exactly on it.
    let mut ts = BASE_TIMESTAMP_MS - 1;
    let mut out = Vec::new();
    for record in data.split(|b| *b == RECORD_SEP) {
        let (delta, body) = match record.strip_prefix(&[DELTA_MARK]) {
            Some(rest) => match rest.iter().position(|b| *b == DELTA_MARK) {
                Some(end) => {
                    let delta = std::str::from_utf8(&rest[..end]).ok().and_then(|d| d.trim().parse::<i64>().ok());
                    (delta.unwrap_or(1), &rest[end + 1..])
                }
                None => (1, record),
            },
            None => (1, record),
        };
        ts = ts.saturating_add(delta);
        // Lossy rather than skipped: invalid bytes still teach the fuzzer something via U+FFFD.
        out.push(LogLine { timestamp_ms: ts, message: String::from_utf8_lossy(body).into_owned() });
    }
    out
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogsData<'a> {
    message_type: &'static str,
    owner: &'static str,
    log_group: &'static str,
    log_stream: &'static str,
    subscription_filters: [&'static str; 1],
    log_events: Vec<WireEvent<'a>>,
}

#[derive(Serialize)]
struct WireEvent<'a> {
    id: String,
    timestamp: i64,
    message: &'a str,
}

/// Wraps `lines` into a real CloudWatch Logs subscription event: LogsData JSON → gzip → base64 → `awslogs.data`.
pub fn awslogs_event(lines: &[LogLine]) -> Vec<u8> {
    let logs_data = LogsData {
        message_type: "DATA_MESSAGE",
        owner: "123456789012",
        log_group: "/aws/lambda/fuzz-fn",
        log_stream: "2026/11/01/[$LATEST]0123456789abcdef0123456789abcdef",
        subscription_filters: ["logship"],
        log_events: lines
            .iter()
            .enumerate()
            .map(|(i, l)| WireEvent { id: format!("{i:056}"), timestamp: l.timestamp_ms, message: &l.message })
            .collect(),
    };
    let json = sonic_rs::to_vec(&logs_data).expect("LogsData of strings and integers always serializes");
    // Level 1: the decoder only cares that it is valid gzip, and every exec pays for this.
    let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::fastest());
    let mut gz = vec![0; c.gzip_compress_bound(json.len())];
    let n = c.gzip_compress(&json, &mut gz).expect("buffer sized by gzip_compress_bound");
    gz.truncate(n);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&gz);
    format!(r#"{{"awslogs":{{"data":"{b64}"}}}}"#).into_bytes()
}
