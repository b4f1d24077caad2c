//! Lambda's text platform lines: START, END, REPORT (+XRAY), INIT_START, INIT_REPORT, RESTORE_*, timeouts, runtime exits.
//!
//! Fields are tab-separated in CloudWatch, but copies from the console and some tools turn tabs into spaces, so
//! fields are found by their labels rather than by splitting on tabs.

use super::{Ctx, Format, InitStart, Item, ParseError, PhaseReport, PlatformRecord, Report, Tracing};
use crate::telemetry::{AnyValue, SpanId, TraceId};

const FORMAT: Format = Format::Platform;

/// `REPORT` labels, longest first so `Billed Duration` is not read as `Duration`.
const REPORT_LABELS: &[&str] = &[
    "Billed Restore Duration",
    "Restore Duration",
    "Billed Duration",
    "Max Memory Used",
    "Init Duration",
    "Memory Size",
    "Error Type",
    "Duration",
    "Status",
];
const XRAY_LABELS: &[&str] = &["TraceId", "SegmentId", "Sampled"];
const INIT_START_LABELS: &[&str] = &["Runtime Version ARN", "Runtime Version"];
const PHASE_REPORT_LABELS: &[&str] = &["Restore Duration", "Init Duration", "Error Type", "Phase", "Status"];
const NOTICE_LABELS: &[&str] = &["Name", "State", "Events", "Types"];

pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    let time_ns = ctx.observed_ns;
    let item = |record| Item::Platform { time_ns, record };
    let (keyword, rest) = line.split_once([' ', '\t']).unwrap_or((line, ""));
    let record = match keyword {
        "START" => start(rest)?,
        "END" => PlatformRecord::End { request_id: request_id(rest)?.to_owned() },
        "REPORT" => return report(rest).map(|r| Some(vec![item(PlatformRecord::Report(r))])),
        "XRAY" => PlatformRecord::Notice { kind: "XRAY".into(), message: AnyValue::Str(line.to_owned()) },
        "INIT_START" => PlatformRecord::InitStart(init_start(rest)),
        "RESTORE_START" => PlatformRecord::RestoreStart(init_start(rest)),
        "INIT_REPORT" => PlatformRecord::InitReport(phase_report(rest, "Init Duration")?),
        "RESTORE_REPORT" => PlatformRecord::RestoreReport(phase_report(rest, "Restore Duration")?),
        "EXTENSION" | "TELEMETRY" | "LOGS" | "INIT_RUNTIME_DONE" => notice(keyword, rest),
        "RequestId:" => runtime_error(rest)?,
        _ => match timeout(line) {
            Some(record) => record,
            None => return Ok(None),
        },
    };
    Ok(Some(vec![item(record)]))
}

fn start(rest: &str) -> Result<PlatformRecord, ParseError> {
    let fields = labelled(rest, &["RequestId", "Version"]);
    let request_id = field(&fields, "RequestId").filter(|v| !v.is_empty());
    let request_id = request_id.ok_or_else(|| ParseError::new(FORMAT, "START without RequestId"))?;
    Ok(PlatformRecord::Start {
        request_id: request_id.to_owned(),
        version: field(&fields, "Version").filter(|v| !v.is_empty()).map(str::to_owned),
        tracing: None,
    })
}

/// `RequestId: <id>` at the start of `rest`, as END and REPORT begin.
fn request_id(rest: &str) -> Result<&str, ParseError> {
    rest.trim_start()
        .strip_prefix("RequestId:")
        .map(|r| r.trim_start().split(|c: char| c.is_whitespace()).next().unwrap_or(""))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ParseError::new(FORMAT, "missing RequestId"))
}

/// A REPORT log event: the REPORT line and, on traced functions, the XRAY line after it in the same event.
fn report(rest: &str) -> Result<Report, ParseError> {
    let (report_line, xray_line) = match rest.split_once('\n') {
        Some((r, x)) => (r, x.trim_start().strip_prefix("XRAY")),
        None => (rest, None),
    };
    let request_id = request_id(report_line)?.to_owned();
    let fields = labelled(report_line, REPORT_LABELS);
    let ms = |label: &str| measure(&fields, label, "ms");
    let mb = |label: &str| -> Result<Option<u64>, ParseError> {
        measure(&fields, label, "MB")?
            .map(|v| if v >= 0.0 && v.fract() == 0.0 { Ok(v as u64) } else { Err(bad(label, &v.to_string())) })
            .transpose()
    };
    let duration_ms = ms("Duration")?.ok_or_else(|| ParseError::new(FORMAT, "REPORT without Duration"))?;
    Ok(Report {
        request_id,
        duration_ms,
        billed_duration_ms: ms("Billed Duration")?,
        memory_size_mb: mb("Memory Size")?,
        max_memory_used_mb: mb("Max Memory Used")?,
        init_duration_ms: ms("Init Duration")?,
        restore_duration_ms: ms("Restore Duration")?,
        billed_restore_duration_ms: ms("Billed Restore Duration")?,
        status: field(&fields, "Status").filter(|s| !s.is_empty()).map(str::to_owned),
        error_type: field(&fields, "Error Type").filter(|s| !s.is_empty()).map(str::to_owned),
        tracing: xray_line.map(xray),
    })
}

/// `XRAY TraceId: 1-… SegmentId: … Sampled: true`; an unreadable id is left out rather than failing the report.
fn xray(line: &str) -> Tracing {
    let fields = labelled(line, XRAY_LABELS);
    Tracing {
        trace_id: field(&fields, "TraceId").and_then(TraceId::from_xray),
        segment_id: field(&fields, "SegmentId").and_then(SpanId::from_hex),
        parent_id: None,
        sampled: field(&fields, "Sampled").and_then(|s| s.parse().ok()),
    }
}

fn init_start(rest: &str) -> InitStart {
    let fields = labelled(rest, INIT_START_LABELS);
    InitStart {
        runtime_version: field(&fields, "Runtime Version").map(str::to_owned),
        runtime_version_arn: field(&fields, "Runtime Version ARN").map(str::to_owned),
        ..InitStart::default()
    }
}

fn phase_report(rest: &str, duration_label: &str) -> Result<PhaseReport, ParseError> {
    let fields = labelled(rest, PHASE_REPORT_LABELS);
    Ok(PhaseReport {
        duration_ms: measure(&fields, duration_label, "ms")?,
        phase: field(&fields, "Phase").map(str::to_owned),
        status: field(&fields, "Status").map(str::to_owned),
        error_type: field(&fields, "Error Type").map(str::to_owned),
        initialization_type: None,
    })
}

fn notice(kind: &str, rest: &str) -> PlatformRecord {
    let fields = labelled(rest, NOTICE_LABELS);
    let message = if fields.is_empty() {
        AnyValue::Str(rest.trim().to_owned())
    } else {
        AnyValue::Map(fields.iter().map(|(k, v)| crate::telemetry::KeyValue::new(k.to_string(), *v)).collect())
    };
    PlatformRecord::Notice { kind: kind.to_owned(), message }
}

/// `RequestId: <id> Error: Runtime exited with error: signal: killed` (and a `Runtime.ExitError` line after it).
fn runtime_error(rest: &str) -> Result<PlatformRecord, ParseError> {
    let rest = rest.trim_start();
    let (id, message) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let message = message.trim();
    if id.is_empty() || !message.starts_with("Error") {
        return Err(ParseError::new(FORMAT, "RequestId line without an error"));
    }
    // The Lambda runtime reports the OOM killer's SIGKILL this way; newer runtimes also name it outright.
    let out_of_memory = message.contains("signal: killed") || message.contains("OutOfMemory");
    Ok(PlatformRecord::RuntimeError { request_id: Some(id.to_owned()), message: message.to_owned(), out_of_memory })
}

/// `2024-03-01T12:00:03.012Z 8f5c… Task timed out after 3.00 seconds`.
fn timeout(line: &str) -> Option<PlatformRecord> {
    let mut parts = line.splitn(3, [' ', '\t']);
    let ts = parts.next()?;
    let id = parts.next()?;
    let what = parts.next()?.strip_prefix("Task timed out after ")?;
    crate::time::parse_timestamp(ts)?;
    let after_s = what.trim().trim_end_matches("seconds").trim().parse().ok()?;
    Some(PlatformRecord::Timeout { request_id: id.to_owned(), after_s })
}

/// Splits `rest` into `(label, value)` pairs by finding each known label (`Label: `) at a word boundary.
fn labelled<'a>(rest: &'a str, labels: &[&'static str]) -> Vec<(&'static str, &'a str)> {
    let bytes = rest.as_bytes();
    let mut found: Vec<(usize, usize, &'static str)> = Vec::with_capacity(labels.len());
    for label in labels {
        let mut from = 0;
        while let Some(pos) = find(&rest[from..], label).map(|p| p + from) {
            let end = pos + label.len();
            let at_boundary = pos == 0 || bytes[pos - 1].is_ascii_whitespace();
            let has_colon = bytes.get(end) == Some(&b':');
            let overlaps = found.iter().any(|(s, e, _)| pos < *e && end > *s);
            if at_boundary && has_colon && !overlaps {
                found.push((pos, end + 1, label));
                break;
            }
            from = end;
        }
    }
    found.sort_unstable_by_key(|(start, _, _)| *start);
    let mut out = Vec::with_capacity(found.len());
    for (i, (_, value_start, label)) in found.iter().enumerate() {
        let value_end = found.get(i + 1).map_or(rest.len(), |(next, _, _)| *next);
        out.push((*label, rest[*value_start..value_end].trim()));
    }
    out
}

/// `hay.find(needle)`, led by a memchr for the needle's first character: the labels are short and a line has few
/// candidates, so this beats building a two-way searcher for each label of each line.
fn find(hay: &str, needle: &str) -> Option<usize> {
    let first = needle.chars().next()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.find(first) {
        let at = from + i;
        if hay.get(at..)?.starts_with(needle) {
            return Some(at);
        }
        from = at + first.len_utf8();
    }
    None
}

fn field<'a>(fields: &[(&'static str, &'a str)], label: &str) -> Option<&'a str> {
    fields.iter().find(|(l, _)| *l == label).map(|(_, v)| *v)
}

/// A `102.25 ms` / `128 MB` value; present but unreadable is an error.
fn measure(fields: &[(&'static str, &str)], label: &str, unit: &str) -> Result<Option<f64>, ParseError> {
    let Some(raw) = field(fields, label) else { return Ok(None) };
    let number = raw.strip_suffix(unit).unwrap_or(raw).trim();
    number.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(Some).ok_or_else(|| bad(label, raw))
}

fn bad(label: &str, raw: &str) -> ParseError {
    ParseError::new(FORMAT, format!("{label} is not a number: {raw:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RID: &str = "6f7f0961-8a8b-4a5b-9d3c-2e1f0a9b8c7d";

    fn one(line: &str) -> PlatformRecord {
        let ctx = Ctx { observed_ns: 42, prefix: None, render_otlp: false };
        match parse(line, &ctx) {
            Ok(Some(mut items)) if items.len() == 1 => match items.remove(0) {
                Item::Platform { time_ns: 42, record } => record,
                other => panic!("not a platform item: {other:?}"),
            },
            other => panic!("{line:?} parsed to {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        match parse(line, &Ctx { observed_ns: 0, prefix: None, render_otlp: false }) {
            Err(e) => e.reason,
            other => panic!("{line:?} should be malformed, got {other:?}"),
        }
    }

    #[test]
    fn start_and_end() {
        assert_eq!(
            one(&format!("START RequestId: {RID} Version: $LATEST")),
            PlatformRecord::Start { request_id: RID.into(), version: Some("$LATEST".into()), tracing: None }
        );
        assert_eq!(
            one(&format!("START RequestId: {RID}\tVersion: 12")),
            PlatformRecord::Start { request_id: RID.into(), version: Some("12".into()), tracing: None }
        );
        assert_eq!(one(&format!("END RequestId: {RID}")), PlatformRecord::End { request_id: RID.into() });
    }

    #[test]
    fn report_variants() {
        let cases: Vec<(String, Report)> = vec![
            (
                format!("REPORT RequestId: {RID}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 66 MB\t"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 102.25,
                    billed_duration_ms: Some(103.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(66),
                    ..Report::default()
                },
            ),
            (
                // Console copies turn the tabs into spaces.
                format!("REPORT RequestId: {RID} Duration: 2.43 ms Billed Duration: 3 ms Memory Size: 1024 MB Max Memory Used: 80 MB Init Duration: 176.42 ms"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 2.43,
                    billed_duration_ms: Some(3.0),
                    memory_size_mb: Some(1024),
                    max_memory_used_mb: Some(80),
                    init_duration_ms: Some(176.42),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tStatus: timeout"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 3000.0,
                    billed_duration_ms: Some(3000.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(70),
                    status: Some("timeout".into()),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 812.90 ms\tBilled Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 812.9,
                    billed_duration_ms: Some(813.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(128),
                    status: Some("error".into()),
                    error_type: Some("Runtime.OutOfMemory".into()),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 20.91 ms\tBilled Duration: 21 ms\tMemory Size: 2048 MB\tMax Memory Used: 141 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 140 ms\t"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 20.91,
                    billed_duration_ms: Some(21.0),
                    memory_size_mb: Some(2048),
                    max_memory_used_mb: Some(141),
                    restore_duration_ms: Some(474.16),
                    billed_restore_duration_ms: Some(140.0),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t\n"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 1.5,
                    billed_duration_ms: Some(2.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(60),
                    tracing: Some(Tracing {
                        trace_id: TraceId::from_hex("5759e988bd862e3fe1be46a994272793"),
                        segment_id: SpanId::from_hex("53995c3f42cd8ad8"),
                        parent_id: None,
                        sampled: Some(true),
                    }),
                    ..Report::default()
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(one(&line), PlatformRecord::Report(want), "{line}");
        }
    }

    #[test]
    fn init_restore_and_notices() {
        assert_eq!(
            one("INIT_START Runtime Version: nodejs:20.v13\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:0f2c"),
            PlatformRecord::InitStart(InitStart {
                runtime_version: Some("nodejs:20.v13".into()),
                runtime_version_arn: Some("arn:aws:lambda:eu-west-1::runtime:0f2c".into()),
                ..InitStart::default()
            })
        );
        assert_eq!(
            one("INIT_REPORT Init Duration: 10000.40 ms\tPhase: init\tStatus: timeout"),
            PlatformRecord::InitReport(PhaseReport {
                duration_ms: Some(10000.4),
                phase: Some("init".into()),
                status: Some("timeout".into()),
                ..PhaseReport::default()
            })
        );
        assert_eq!(
            one("INIT_REPORT Init Duration: 1203.91 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError"),
            PlatformRecord::InitReport(PhaseReport {
                duration_ms: Some(1203.91),
                phase: Some("invoke".into()),
                status: Some("error".into()),
                error_type: Some("Runtime.ExitError".into()),
                ..PhaseReport::default()
            })
        );
        assert_eq!(
            one("RESTORE_REPORT Restore Duration: 571.67 ms"),
            PlatformRecord::RestoreReport(PhaseReport { duration_ms: Some(571.67), ..PhaseReport::default() })
        );
        assert!(
            matches!(one("RESTORE_START Runtime Version: java:21.v12\tRuntime Version ARN: arn:x"), PlatformRecord::RestoreStart(s) if s.runtime_version.as_deref() == Some("java:21.v12"))
        );
        assert!(matches!(
            one("EXTENSION\tName: datadog-agent\tState: Ready\tEvents: [INVOKE,SHUTDOWN]"),
            PlatformRecord::Notice { kind, .. } if kind == "EXTENSION"
        ));
    }

    #[test]
    fn timeouts_and_runtime_exits() {
        assert_eq!(
            one(&format!("2024-03-01T12:00:03.012Z {RID} Task timed out after 3.00 seconds")),
            PlatformRecord::Timeout { request_id: RID.into(), after_s: 3.0 }
        );
        assert_eq!(
            one(&format!("RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError")),
            PlatformRecord::RuntimeError {
                request_id: Some(RID.into()),
                message: "Error: Runtime exited with error: signal: killed\nRuntime.ExitError".into(),
                out_of_memory: true,
            }
        );
        assert!(matches!(
            one(&format!("RequestId: {RID} Error: Runtime exited with error: exit status 1")),
            PlatformRecord::RuntimeError { out_of_memory: false, .. }
        ));
    }

    #[test]
    fn not_platform_lines() {
        let ctx = Ctx { observed_ns: 0, prefix: None, render_otlp: false };
        for line in [
            "STARTED the server",
            "Task timed out after 3.00 seconds",
            "2024-03-01T12:00:03.012Z\tabc\tINFO\tTask timed out after 3.00 seconds",
            "REPORTS are ready",
            "hello",
            "",
        ] {
            assert_eq!(parse(line, &ctx), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn malformed_platform_lines() {
        assert_eq!(err("REPORT RequestId: abc\tBilled Duration: 3 ms"), "REPORT without Duration");
        assert_eq!(err("REPORT RequestId: abc\tDuration: fast ms"), "Duration is not a number: \"fast ms\"");
        assert_eq!(err("REPORT Duration: 3 ms"), "missing RequestId");
        assert_eq!(err("START RequestId:"), "START without RequestId");
        assert_eq!(err("END"), "missing RequestId");
        assert_eq!(
            err("REPORT RequestId: abc\tDuration: 1 ms\tMemory Size: 1.5 MB"),
            "Memory Size is not a number: \"1.5\""
        );
    }

    #[test]
    fn snapshot_of_a_cold_traced_invocation() {
        let lines = [
            "INIT_START Runtime Version: python:3.12.v36\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:e7c1\n".to_owned(),
            format!("START RequestId: {RID} Version: $LATEST\n"),
            format!("END RequestId: {RID}\n"),
            format!("REPORT RequestId: {RID}\tDuration: 245.10 ms\tBilled Duration: 246 ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB\tInit Duration: 480.22 ms\t\nXRAY TraceId: 1-6724f2c0-3b5a1e0d9c8f7a6b5e4d3c2b\tSegmentId: 1a2b3c4d5e6f7081\tSampled: true\t\n"),
        ];
        let parsed: Vec<_> = lines.iter().map(|l| crate::parse::parse_line(l, 1_700_000_000_000_000_000)).collect();
        insta::assert_debug_snapshot!(parsed);
    }

    proptest::proptest! {
        #[test]
        fn find_is_str_find(hay in "[a-cé D:]{0,40}", needle in "[a-cé D:]{1,4}") {
            proptest::prop_assert_eq!(find(&hay, &needle), hay.find(needle.as_str()));
        }

        #[test]
        fn never_panics(line in "\\PC{0,200}") {
            let _ = parse(&line, &Ctx { observed_ns: 0, prefix: None, render_otlp: false });
        }

        #[test]
        fn report_duration_round_trips(ms in 0u32..900_000_000, id in "[a-f0-9-]{8,36}") {
            let d = f64::from(ms) / 100.0;
            let line = format!("REPORT RequestId: {id}\tDuration: {d:.2} ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\t");
            let record = one(&line);
            proptest::prop_assert!(matches!(record, PlatformRecord::Report(r) if (r.duration_ms - d).abs() < 1e-9 && r.request_id == id));
        }
    }
}
