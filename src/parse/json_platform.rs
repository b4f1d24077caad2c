//! Lambda's JSON-format platform records (`{"time":…,"type":"platform.report","record":{…}}`) as platform items.
//!
//! With `LogFormat=JSON` Lambda writes its system log events to CloudWatch Logs in the Telemetry API's `Event`
//! shape (AWS, "Lambda Telemetry API `Event` schema reference"). `status` and `errorType` sit on the record
//! itself, next to `metrics`, not inside it; SnapStart's report adds `metrics.restoreDurationMs` and
//! `metrics.billedRestoreDurationMs`.

use super::{
    Ctx, Format, InitStart, Item, ParseError, PhaseReport, PlatformRecord, PlatformSpan, Report, RuntimeDone, Tracing,
};
use crate::telemetry::{AnyValue, SpanId, TraceId};
use crate::time::parse_timestamp;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use sonic_rs::{JsonValueTrait, LazyValue};

const TYPE_PREFIX: &str = "platform.";

pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    // Lambda writes its records bare; behind a runtime prefix the line is application output quoting one.
    if ctx.prefix.is_some() {
        return Ok(None);
    }
    let text = line.trim_start();
    // Every JSON line passes through here, so reject on a substring scan before paying for a parse.
    if !text.starts_with('{') || !text.contains("\"platform.") {
        return Ok(None);
    }
    let envelope: Envelope<'_> = match sonic_rs::from_str(text) {
        Ok(envelope) => envelope,
        // Unparsed, the top-level type is unknown; only Lambda's own compact spelling is taken as a claim, so
        // a broken application line that merely mentions a platform event stays someone else's.
        Err(e) if text.contains("\"type\":\"platform.") => return Err(broken(format!("invalid JSON: {e}"))),
        Err(_) => return Ok(None),
    };
    let Some(kind) = envelope.kind.as_ref().and_then(JsonValueTrait::as_str) else {
        return Ok(None);
    };
    if !kind.starts_with(TYPE_PREFIX) {
        return Ok(None);
    }
    let Some(record) = envelope.record.as_ref() else {
        return Err(broken(format!("{kind}: missing record")));
    };
    let time_ns =
        envelope.time.as_ref().and_then(JsonValueTrait::as_str).and_then(parse_timestamp).unwrap_or(ctx.observed_ns);
    let record = platform_record(kind, record.as_raw_str())?;
    Ok(Some(vec![Item::Platform { time_ns, record }]))
}

/// The outer object; `record` stays unparsed until `type` says which shape it has, so it is parsed once.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, rename = "type")]
    kind: Option<LazyValue<'a>>,
    #[serde(borrow)]
    time: Option<LazyValue<'a>>,
    #[serde(borrow)]
    record: Option<LazyValue<'a>>,
}

fn platform_record(kind: &str, raw: &str) -> Result<PlatformRecord, ParseError> {
    Ok(match kind {
        "platform.initStart" => PlatformRecord::InitStart(typed::<StartRecord>(kind, raw)?.into()),
        // restoreStart documents no initializationType or phase; whatever it carries is kept as-is.
        "platform.restoreStart" => PlatformRecord::RestoreStart(typed::<StartRecord>(kind, raw)?.into()),
        "platform.initReport" => PlatformRecord::InitReport(phase_report(kind, typed(kind, raw)?)?),
        "platform.restoreReport" => PlatformRecord::RestoreReport(phase_report(kind, typed(kind, raw)?)?),
        "platform.start" => {
            let r: InvokeStartRecord = typed(kind, raw)?;
            PlatformRecord::Start {
                request_id: request_id(kind, r.request_id)?,
                version: r.version,
                tracing: r.tracing.and_then(TraceContext::into_tracing),
            }
        }
        "platform.runtimeDone" => PlatformRecord::RuntimeDone(runtime_done(kind, typed(kind, raw)?)?),
        "platform.report" => PlatformRecord::Report(report(kind, typed(kind, raw)?)?),
        // initRuntimeDone/restoreRuntimeDone repeat the status and errorType their *Report carries, so they stay
        // notices rather than count a failed init twice; extension, subscription, logsDropped and types Lambda
        // adds later are kept whole, never rejected for being new.
        _ => PlatformRecord::Notice { kind: kind.to_owned(), message: typed::<AnyValue>(kind, raw)? },
    })
}

fn typed<T: DeserializeOwned>(kind: &str, raw: &str) -> Result<T, ParseError> {
    sonic_rs::from_str(raw).map_err(|e| broken(format!("{kind}: invalid record: {e}")))
}

fn broken(reason: String) -> ParseError {
    ParseError::new(Format::JsonPlatform, reason)
}

fn request_id(kind: &str, id: Option<String>) -> Result<String, ParseError> {
    // Without it the record cannot be joined to its invocation, which is all it is for.
    id.filter(|id| !id.is_empty()).ok_or_else(|| broken(format!("{kind}: missing requestId")))
}

/// A metric in milliseconds, bytes or MB; JSON's numbers are never NaN, but a negative one is a broken record.
fn metric(kind: &str, name: &str, value: Option<f64>) -> Result<Option<f64>, ParseError> {
    match value {
        Some(v) if v < 0.0 || !v.is_finite() => Err(broken(format!("{kind}: {name} is not a non-negative number"))),
        v => Ok(v),
    }
}

/// Counts (MB, bytes) are integers in the schema, but a float spelling of one is still the same count.
fn count(kind: &str, name: &str, value: Option<f64>) -> Result<Option<u64>, ParseError> {
    Ok(metric(kind, name, value)?.map(|v| v.round() as u64))
}

/// `platform.initStart` and `platform.restoreStart`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartRecord {
    runtime_version: Option<String>,
    runtime_version_arn: Option<String>,
    function_name: Option<String>,
    function_version: Option<String>,
    initialization_type: Option<String>,
    phase: Option<String>,
}

impl From<StartRecord> for InitStart {
    fn from(r: StartRecord) -> Self {
        InitStart {
            runtime_version: r.runtime_version,
            runtime_version_arn: r.runtime_version_arn,
            function_name: r.function_name,
            function_version: r.function_version,
            initialization_type: r.initialization_type,
            phase: r.phase,
        }
    }
}

/// `platform.initReport` and `platform.restoreReport`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhaseReportRecord {
    status: Option<String>,
    error_type: Option<String>,
    initialization_type: Option<String>,
    phase: Option<String>,
    metrics: Option<DurationMetrics>,
}

/// `InitReportMetrics` and `RestoreReportMetrics`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DurationMetrics {
    duration_ms: Option<f64>,
}

fn phase_report(kind: &str, r: PhaseReportRecord) -> Result<PhaseReport, ParseError> {
    Ok(PhaseReport {
        duration_ms: metric(kind, "metrics.durationMs", r.metrics.and_then(|m| m.duration_ms))?,
        phase: r.phase,
        status: r.status,
        error_type: r.error_type,
        initialization_type: r.initialization_type,
    })
}

/// `platform.start`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InvokeStartRecord {
    request_id: Option<String>,
    version: Option<String>,
    tracing: Option<TraceContext>,
}

/// `platform.runtimeDone`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeDoneRecord {
    request_id: Option<String>,
    status: Option<String>,
    error_type: Option<String>,
    metrics: Option<RuntimeDoneMetrics>,
    spans: Option<Vec<SpanRecord>>,
    tracing: Option<TraceContext>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RuntimeDoneMetrics {
    duration_ms: Option<f64>,
    produced_bytes: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpanRecord {
    name: Option<String>,
    start: Option<String>,
    duration_ms: Option<f64>,
}

impl SpanRecord {
    /// A span without a name, a readable start or a duration cannot be drawn; the record around it still can.
    fn into_span(self) -> Option<PlatformSpan> {
        let start_ns = parse_timestamp(self.start.as_deref()?)?;
        let duration_ms = self.duration_ms.filter(|d| *d >= 0.0 && d.is_finite())?;
        Some(PlatformSpan { name: self.name?, start_ns, duration_ms })
    }
}

fn runtime_done(kind: &str, r: RuntimeDoneRecord) -> Result<RuntimeDone, ParseError> {
    let (duration_ms, produced_bytes) = match r.metrics {
        Some(m) => (
            metric(kind, "metrics.durationMs", m.duration_ms)?,
            count(kind, "metrics.producedBytes", m.produced_bytes)?,
        ),
        None => (None, None),
    };
    Ok(RuntimeDone {
        request_id: request_id(kind, r.request_id)?,
        status: r.status,
        error_type: r.error_type,
        duration_ms,
        produced_bytes,
        spans: r.spans.unwrap_or_default().into_iter().filter_map(SpanRecord::into_span).collect(),
        tracing: r.tracing.and_then(TraceContext::into_tracing),
    })
}

/// `platform.report`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportRecord {
    request_id: Option<String>,
    status: Option<String>,
    error_type: Option<String>,
    metrics: Option<ReportMetrics>,
    tracing: Option<TraceContext>,
}

/// `ReportMetrics`; only `durationMs` is always there (Managed Instances report nothing else).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReportMetrics {
    duration_ms: Option<f64>,
    billed_duration_ms: Option<f64>,
    #[serde(rename = "memorySizeMB")]
    memory_size_mb: Option<f64>,
    #[serde(rename = "maxMemoryUsedMB")]
    max_memory_used_mb: Option<f64>,
    init_duration_ms: Option<f64>,
    restore_duration_ms: Option<f64>,
    billed_restore_duration_ms: Option<f64>,
}

fn report(kind: &str, r: ReportRecord) -> Result<Report, ParseError> {
    let request_id = request_id(kind, r.request_id)?;
    let m = r.metrics.ok_or_else(|| broken(format!("{kind}: missing metrics.durationMs")))?;
    let duration_ms = metric(kind, "metrics.durationMs", m.duration_ms)?
        .ok_or_else(|| broken(format!("{kind}: missing metrics.durationMs")))?;
    Ok(Report {
        request_id,
        duration_ms,
        billed_duration_ms: metric(kind, "metrics.billedDurationMs", m.billed_duration_ms)?,
        memory_size_mb: count(kind, "metrics.memorySizeMB", m.memory_size_mb)?,
        max_memory_used_mb: count(kind, "metrics.maxMemoryUsedMB", m.max_memory_used_mb)?,
        init_duration_ms: metric(kind, "metrics.initDurationMs", m.init_duration_ms)?,
        restore_duration_ms: metric(kind, "metrics.restoreDurationMs", m.restore_duration_ms)?,
        billed_restore_duration_ms: metric(kind, "metrics.billedRestoreDurationMs", m.billed_restore_duration_ms)?,
        status: r.status,
        error_type: r.error_type,
        tracing: r.tracing.and_then(TraceContext::into_tracing),
    })
}

/// `TraceContext`: `{"spanId":…,"type":"X-Amzn-Trace-Id","value":"Root=…;Parent=…;Sampled=1"}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TraceContext {
    span_id: Option<String>,
    value: Option<String>,
}

impl TraceContext {
    /// `None` when nothing in it is usable, so an empty or foreign context does not pose as a trace.
    fn into_tracing(self) -> Option<Tracing> {
        let mut t = Tracing { segment_id: self.span_id.as_deref().and_then(SpanId::from_hex), ..Tracing::default() };
        if let Some(value) = self.value.as_deref() {
            t.trace_id = TraceId::from_xray(value);
            for (key, v) in value.split(';').filter_map(|part| part.trim().split_once('=')) {
                match key {
                    "Parent" => t.parent_id = SpanId::from_hex(v.trim()),
                    // `Sampled=?` is a deferred decision: neither sampled nor not.
                    "Sampled" => {
                        t.sampled = match v.trim() {
                            "1" => Some(true),
                            "0" => Some(false),
                            _ => None,
                        }
                    }
                    _ => {}
                }
            }
        }
        (t != Tracing::default()).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::runtime_prefix::strip;
    use crate::telemetry::UnixNanos;
    use proptest::prelude::*;

    const OBSERVED: UnixNanos = 1_700_000_000_000_000_000;
    const CTX: Ctx<'static> = Ctx { observed_ns: OBSERVED, prefix: None, render_otlp: false };

    fn ts(s: &str) -> UnixNanos {
        parse_timestamp(s).unwrap_or_else(|| panic!("bad test timestamp {s}"))
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_owned())
    }

    /// The trace context of the Telemetry API reference's `platform.start`/`runtimeDone` examples.
    const DOC_TRACING: &str = r#"{"spanId":"54565fb41ac79632","type":"X-Amzn-Trace-Id","value":"Root=1-62e900b2-710d76f009d6e7785905449a;Parent=0efbd19962d95b05;Sampled=1"}"#;

    fn doc_tracing() -> Option<Tracing> {
        Some(Tracing {
            trace_id: TraceId::from_hex("62e900b2710d76f009d6e7785905449a"),
            segment_id: SpanId::from_hex("54565fb41ac79632"),
            parent_id: SpanId::from_hex("0efbd19962d95b05"),
            sampled: Some(true),
        })
    }

    fn one(line: &str) -> (UnixNanos, PlatformRecord) {
        match parse(line, &CTX) {
            Ok(Some(mut items)) if items.len() == 1 => match items.pop() {
                Some(Item::Platform { time_ns, record }) => (time_ns, record),
                other => panic!("expected a platform item for {line}, got {other:?}"),
            },
            other => panic!("expected one item for {line}, got {other:?}"),
        }
    }

    enum Want {
        Record(PlatformRecord),
        /// A notice of this kind whose message map holds `key: value`.
        Notice(&'static str, &'static str, AnyValue),
    }

    #[test]
    fn every_documented_record_type() {
        let rid = "6d68ca91-49c9-448d-89b8-7ca3e6dc66aa";
        let cases: Vec<(&str, String, Want)> = vec![
            (
                // Telemetry API reference, platform.initStart example.
                "initStart",
                r#"{"time":"2022-10-12T00:00:15.064Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"nodejs-14.v3","runtimeVersionArn":"arn","functionName":"myFunction","functionVersion":"$LATEST","instanceId":"82561ce0-53dd-47d1-90e0-c8f5e063e62e","instanceMaxMemory":256}}"#.into(),
                Want::Record(PlatformRecord::InitStart(InitStart {
                    runtime_version: s("nodejs-14.v3"),
                    runtime_version_arn: s("arn"),
                    function_name: s("myFunction"),
                    function_version: s("$LATEST"),
                    initialization_type: s("on-demand"),
                    phase: s("init"),
                })),
            ),
            (
                // Telemetry API reference, platform.initRuntimeDone example (the doc's copy lacks the comma after
                // "on-demand"; restored here).
                "initRuntimeDone",
                r#"{"time":"2022-10-12T00:01:15.000Z","type":"platform.initRuntimeDone","record":{"initializationType":"on-demand","status":"success","spans":[{"name":"someTimeSpan","start":"2022-06-02T12:02:33.913Z","durationMs":70.5}]}}"#.into(),
                Want::Notice("platform.initRuntimeDone", "status", "success".into()),
            ),
            (
                // Telemetry API reference, platform.initReport example.
                "initReport",
                r#"{"time":"2022-10-12T00:01:15.000Z","type":"platform.initReport","record":{"initializationType":"on-demand","status":"success","phase":"init","metrics":{"durationMs":125.33},"spans":[{"name":"someTimeSpan","start":"2022-06-02T12:02:33.913Z","durationMs":90.1}]}}"#.into(),
                Want::Record(PlatformRecord::InitReport(PhaseReport {
                    duration_ms: Some(125.33),
                    phase: s("init"),
                    status: s("success"),
                    error_type: None,
                    initialization_type: s("on-demand"),
                })),
            ),
            (
                // platform.initReport schema with its optional errorType: a failed init.
                "initReport error",
                r#"{"time":"2022-10-12T00:01:15.000Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"error","errorType":"Runtime.ImportModuleError","metrics":{"durationMs":1023}}}"#.into(),
                Want::Record(PlatformRecord::InitReport(PhaseReport {
                    duration_ms: Some(1023.0),
                    phase: s("init"),
                    status: s("error"),
                    error_type: s("Runtime.ImportModuleError"),
                    initialization_type: s("on-demand"),
                })),
            ),
            (
                // Telemetry API reference, platform.start example.
                "start",
                format!(r#"{{"time":"2022-10-12T00:00:15.064Z","type":"platform.start","record":{{"requestId":"{rid}","version":"$LATEST","tracing":{DOC_TRACING}}}}}"#),
                Want::Record(PlatformRecord::Start { request_id: rid.into(), version: s("$LATEST"), tracing: doc_tracing() }),
            ),
            (
                // Telemetry API reference, platform.runtimeDone example plus its `responseLatency` Span example. The
                // doc's own span start "12:01:23:521Z" is not RFC 3339, so that span is dropped, not the record.
                "runtimeDone",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.runtimeDone","record":{{"requestId":"{rid}","status":"success","tracing":{DOC_TRACING},"spans":[{{"name":"someTimeSpan","start":"2022-08-02T12:01:23:521Z","durationMs":80.0}},{{"name":"responseLatency","start":"2022-08-02T12:01:23.521Z","durationMs":23.02}}],"metrics":{{"durationMs":140.0,"producedBytes":16}}}}}}"#),
                Want::Record(PlatformRecord::RuntimeDone(RuntimeDone {
                    request_id: rid.into(),
                    status: s("success"),
                    error_type: None,
                    duration_ms: Some(140.0),
                    produced_bytes: Some(16),
                    spans: vec![PlatformSpan {
                        name: "responseLatency".into(),
                        start_ns: ts("2022-08-02T12:01:23.521Z"),
                        duration_ms: 23.02,
                    }],
                    tracing: doc_tracing(),
                })),
            ),
            (
                // platform.runtimeDone schema: a failed invoke carries errorType beside status; metrics are optional.
                "runtimeDone error",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.runtimeDone","record":{{"requestId":"{rid}","status":"error","errorType":"Runtime.ExitError"}}}}"#),
                Want::Record(PlatformRecord::RuntimeDone(RuntimeDone {
                    request_id: rid.into(),
                    status: s("error"),
                    error_type: s("Runtime.ExitError"),
                    ..RuntimeDone::default()
                })),
            ),
            (
                // Telemetry API reference, platform.report example: cold start, no status, no tracing (the doc's
                // copy has a trailing comma after requestId; removed here).
                "report cold start",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{{"metrics":{{"billedDurationMs":694,"durationMs":693.92,"initDurationMs":397.68,"maxMemoryUsedMB":84,"memorySizeMB":128}},"requestId":"{rid}"}}}}"#),
                Want::Record(PlatformRecord::Report(Report {
                    request_id: rid.into(),
                    duration_ms: 693.92,
                    billed_duration_ms: Some(694.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(84),
                    init_duration_ms: Some(397.68),
                    ..Report::default()
                })),
            ),
            (
                // platform.report with TraceContext, as the Telemetry API sends it for an active-tracing function.
                "report traced",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{{"requestId":"{rid}","metrics":{{"durationMs":2599.4,"billedDurationMs":2600,"memorySizeMB":128,"maxMemoryUsedMB":94}},"tracing":{DOC_TRACING},"status":"success"}}}}"#),
                Want::Record(PlatformRecord::Report(Report {
                    request_id: rid.into(),
                    duration_ms: 2599.4,
                    billed_duration_ms: Some(2600.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(94),
                    status: s("success"),
                    tracing: doc_tracing(),
                    ..Report::default()
                })),
            ),
            (
                // SnapStart: ReportMetrics' restoreDurationMs plus billedRestoreDurationMs, which the reference's
                // ReportMetrics omits but Lambda's published event schema and real records carry.
                "report SnapStart",
                format!(r#"{{"time":"2024-02-09T08:42:44.080Z","type":"platform.report","record":{{"requestId":"{rid}","status":"success","metrics":{{"durationMs":147.156,"billedDurationMs":201,"memorySizeMB":512,"maxMemoryUsedMB":91,"restoreDurationMs":500.795,"billedRestoreDurationMs":53}}}}}}"#),
                Want::Record(PlatformRecord::Report(Report {
                    request_id: rid.into(),
                    duration_ms: 147.156,
                    billed_duration_ms: Some(201.0),
                    memory_size_mb: Some(512),
                    max_memory_used_mb: Some(91),
                    restore_duration_ms: Some(500.795),
                    billed_restore_duration_ms: Some(53.0),
                    status: s("success"),
                    ..Report::default()
                })),
            ),
            (
                // Status object: `timeout` is one of the four documented values.
                "report timeout",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{{"requestId":"{rid}","status":"timeout","metrics":{{"durationMs":3000.0,"billedDurationMs":3000,"memorySizeMB":128,"maxMemoryUsedMB":60}}}}}}"#),
                Want::Record(PlatformRecord::Report(Report {
                    request_id: rid.into(),
                    duration_ms: 3000.0,
                    billed_duration_ms: Some(3000.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(60),
                    status: s("timeout"),
                    ..Report::default()
                })),
            ),
            (
                // Status object: `error` comes with an errorType, on the record next to status. Counts spelled as
                // floats ("memorySizeMB":128.0) are still counts.
                "report error",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{{"requestId":"{rid}","status":"error","errorType":"Runtime.ExitError","metrics":{{"durationMs":12,"billedDurationMs":12,"memorySizeMB":128.0,"maxMemoryUsedMB":128}}}}}}"#),
                Want::Record(PlatformRecord::Report(Report {
                    request_id: rid.into(),
                    duration_ms: 12.0,
                    billed_duration_ms: Some(12.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(128),
                    status: s("error"),
                    error_type: s("Runtime.ExitError"),
                    ..Report::default()
                })),
            ),
            (
                // Lambda Managed Instances: ReportMetrics hold durationMs only.
                "report managed instances",
                format!(r#"{{"time":"2022-10-12T00:01:15.000Z","type":"platform.report","record":{{"requestId":"{rid}","status":"success","metrics":{{"durationMs":5.5}}}}}}"#),
                Want::Record(PlatformRecord::Report(Report {
                    request_id: rid.into(),
                    duration_ms: 5.5,
                    status: s("success"),
                    ..Report::default()
                })),
            ),
            (
                // Telemetry API reference, platform.restoreStart example.
                "restoreStart",
                r#"{"time":"2022-10-12T00:00:15.064Z","type":"platform.restoreStart","record":{"runtimeVersion":"nodejs-14.v3","runtimeVersionArn":"arn","functionName":"myFunction","functionVersion":"$LATEST","instanceId":"82561ce0-53dd-47d1-90e0-c8f5e063e62e","instanceMaxMemory":256}}"#.into(),
                Want::Record(PlatformRecord::RestoreStart(InitStart {
                    runtime_version: s("nodejs-14.v3"),
                    runtime_version_arn: s("arn"),
                    function_name: s("myFunction"),
                    function_version: s("$LATEST"),
                    initialization_type: None,
                    phase: None,
                })),
            ),
            (
                // Telemetry API reference, platform.restoreRuntimeDone example.
                "restoreRuntimeDone",
                r#"{"time":"2022-10-12T00:00:15.064Z","type":"platform.restoreRuntimeDone","record":{"status":"success","spans":[{"name":"someTimeSpan","start":"2022-08-02T12:01:23:521Z","durationMs":80.0}]}}"#.into(),
                Want::Notice("platform.restoreRuntimeDone", "status", "success".into()),
            ),
            (
                // Telemetry API reference, platform.restoreReport example (RestoreReportMetrics.durationMs).
                "restoreReport",
                r#"{"time":"2022-10-12T00:00:15.064Z","type":"platform.restoreReport","record":{"status":"success","metrics":{"durationMs":15.19},"spans":[{"name":"someTimeSpan","start":"2022-08-02T12:01:23:521Z","durationMs":30.0}]}}"#.into(),
                Want::Record(PlatformRecord::RestoreReport(PhaseReport {
                    duration_ms: Some(15.19),
                    status: s("success"),
                    ..PhaseReport::default()
                })),
            ),
            (
                // Telemetry API reference, platform.extension example.
                "extension",
                r#"{"time":"2022-10-12T00:02:15.000Z","type":"platform.extension","record":{"events":["INVOKE","SHUTDOWN"],"name":"my-telemetry-extension","state":"Ready"}}"#.into(),
                Want::Notice("platform.extension", "state", "Ready".into()),
            ),
            (
                // Telemetry API reference, platform.telemetrySubscription example.
                "telemetrySubscription",
                r#"{"time":"2022-10-12T00:02:35.000Z","type":"platform.telemetrySubscription","record":{"name":"my-telemetry-extension","state":"Subscribed","types":["platform","function"]}}"#.into(),
                Want::Notice("platform.telemetrySubscription", "state", "Subscribed".into()),
            ),
            (
                // Telemetry API reference, platform.logsDropped example.
                "logsDropped",
                r#"{"time":"2022-10-12T00:02:35.000Z","type":"platform.logsDropped","record":{"droppedBytes":12345,"droppedRecords":123,"reason":"Some logs were dropped because the downstream consumer is slower than the logs production rate"}}"#.into(),
                Want::Notice("platform.logsDropped", "droppedRecords", AnyValue::Int(123)),
            ),
            (
                // A type Lambda has not documented yet is a notice, never an error.
                "future type",
                r#"{"time":"2022-10-12T00:02:35.000Z","type":"platform.somethingNew","record":{"detail":"x"}}"#.into(),
                Want::Notice("platform.somethingNew", "detail", "x".into()),
            ),
        ];
        for (name, line, want) in cases {
            let (time_ns, record) = one(&line);
            assert_ne!(time_ns, OBSERVED, "{name}: time should come from the record");
            match want {
                Want::Record(expected) => assert_eq!(record, expected, "{name}"),
                Want::Notice(kind, key, value) => match record {
                    PlatformRecord::Notice { kind: k, message } => {
                        assert_eq!(k, kind, "{name}");
                        assert_eq!(message.get(key), Some(&value), "{name}: {message:?}");
                    }
                    other => panic!("{name}: expected a notice, got {other:?}"),
                },
            }
        }
    }

    #[test]
    fn time_comes_from_the_record_else_from_cloudwatch() {
        let line = r#"{"time":"2024-03-01T12:00:00.123Z","type":"platform.start","record":{"requestId":"r"}}"#;
        assert_eq!(one(line).0, 1_709_294_400_123_000_000);
        for line in [
            r#"{"type":"platform.start","record":{"requestId":"r"}}"#,
            r#"{"time":"yesterday","type":"platform.start","record":{"requestId":"r"}}"#,
            r#"{"time":17,"type":"platform.start","record":{"requestId":"r"}}"#,
        ] {
            assert_eq!(one(line).0, OBSERVED, "{line}");
        }
    }

    #[test]
    fn record_may_come_before_type_and_unknown_fields_are_ignored() {
        // CloudWatch JSON format adds `functionArn` to platform.start; other writers may reorder keys.
        let line = r#"{"record":{"requestId":"r","functionArn":"arn:aws:lambda:eu-central-1:123456789012:function:f","version":"7","extra":{"a":[1]}},"type":"platform.start","time":"2024-03-01T12:00:00Z","level":"INFO"}"#;
        let (_, record) = one(line);
        assert_eq!(record, PlatformRecord::Start { request_id: "r".into(), version: s("7"), tracing: None });
    }

    #[test]
    fn tracing_header_parts() {
        let tc = |span: Option<&str>, value: Option<&str>| {
            TraceContext { span_id: span.map(str::to_owned), value: value.map(str::to_owned) }.into_tracing()
        };
        let root = "Root=1-5759e988-bd862e3fe1be46a994272793";
        let got = tc(None, Some(&format!("{root}; Parent=53995c3f42cd8ad8; Sampled=0; Lineage=a:1")));
        assert_eq!(
            got,
            Some(Tracing {
                trace_id: TraceId::from_hex("5759e988bd862e3fe1be46a994272793"),
                segment_id: None,
                parent_id: SpanId::from_hex("53995c3f42cd8ad8"),
                sampled: Some(false),
            })
        );
        assert_eq!(tc(None, Some(&format!("{root};Sampled=?"))).and_then(|t| t.sampled), None);
        assert_eq!(tc(None, None), None);
        assert_eq!(tc(Some("not hex"), Some("garbage")), None);
    }

    #[test]
    fn broken_platform_records_are_errors_with_a_reason() {
        let cases = [
            (r#"{"time":"2024-03-01T12:00:00Z","type":"platform.report"}"#, "platform.report: missing record"),
            (r#"{"type":"platform.start","record":null}"#, "platform.start: missing record"),
            (
                r#"{"type":"platform.report","record":{"metrics":{"durationMs":1,"billedDurationMs":1,"memorySizeMB":128,"maxMemoryUsedMB":50}}}"#,
                "platform.report: missing requestId",
            ),
            (
                r#"{"type":"platform.report","record":{"requestId":"","metrics":{"durationMs":1}}}"#,
                "platform.report: missing requestId",
            ),
            (r#"{"type":"platform.report","record":{"requestId":"r"}}"#, "platform.report: missing metrics.durationMs"),
            (
                r#"{"type":"platform.report","record":{"requestId":"r","metrics":{"billedDurationMs":1}}}"#,
                "platform.report: missing metrics.durationMs",
            ),
            (
                r#"{"type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":"abc"}}}"#,
                "platform.report: invalid record: ",
            ),
            (
                r#"{"type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":"12.5"}}}"#,
                "platform.report: invalid record: ",
            ),
            (
                r#"{"type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":-1}}}"#,
                "platform.report: metrics.durationMs is not a non-negative number",
            ),
            (
                r#"{"type":"platform.report","record":{"requestId":"r","metrics":{"durationMs":1,"maxMemoryUsedMB":-5}}}"#,
                "platform.report: metrics.maxMemoryUsedMB is not a non-negative number",
            ),
            (r#"{"type":"platform.start","record":{"version":"$LATEST"}}"#, "platform.start: missing requestId"),
            (r#"{"type":"platform.start","record":"START"}"#, "platform.start: invalid record: "),
            (r#"{"type":"platform.start","record":{"requestId":7}}"#, "platform.start: invalid record: "),
            (
                r#"{"type":"platform.runtimeDone","record":{"status":"success"}}"#,
                "platform.runtimeDone: missing requestId",
            ),
            (
                r#"{"type":"platform.runtimeDone","record":{"requestId":"r","metrics":{"durationMs":1,"producedBytes":-16}}}"#,
                "platform.runtimeDone: metrics.producedBytes is not a non-negative number",
            ),
            (
                r#"{"type":"platform.initReport","record":{"metrics":{"durationMs":[]}}}"#,
                "platform.initReport: invalid record: ",
            ),
            // Truncated by a size limit mid-record: Lambda's spelling of the type still claims it.
            (
                r#"{"time":"2024-03-01T12:00:00Z","type":"platform.report","record":{"requestId":"r","metri"#,
                "invalid JSON: ",
            ),
        ];
        for (line, reason) in cases {
            match parse(line, &CTX) {
                Err(e) => {
                    assert_eq!(e.format, Format::JsonPlatform, "{line}");
                    assert!(e.reason.starts_with(reason), "{line}: got {:?}, want {reason:?}", e.reason);
                }
                other => panic!("{line}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn other_lines_are_not_mine() {
        let lines = [
            // Lambda's JSON application record mentioning a platform event in its message.
            r#"{"timestamp":"2024-03-01T12:00:00Z","level":"INFO","requestId":"r","message":"the type is platform.start"}"#,
            r#"{"timestamp":"2024-03-01T12:00:00Z","level":"INFO","message":"{\"type\":\"platform.report\",\"record\":{}}"}"#,
            r#"{"level":"INFO","event":{"type":"platform.start","record":{"requestId":"r"}}}"#,
            r#"{"type":"function","record":"platform.start happened"}"#,
            r#"{"type":"platformX.start","record":{}}"#,
            r#"{"type":["platform.start"],"record":{}}"#,
            r#"{"type":"PLATFORM.START","record":{"requestId":"r"}}"#,
            // Broken JSON that only mentions a platform event.
            r#"{"message":"platform.start was slow"#,
            r#"{"message": "saw \"type\": \"platform.report\"" "#,
            r#"[{"type":"platform.start","record":{"requestId":"r"}}]"#,
            "START RequestId: 6d68ca91-49c9-448d-89b8-7ca3e6dc66aa Version: $LATEST",
            "platform.start",
            "",
            "{",
        ];
        for line in lines {
            assert_eq!(parse(line, &CTX), Ok(None), "{line}");
        }
    }

    #[test]
    fn lines_behind_a_runtime_prefix_are_application_output() {
        let line = "2024-03-01T12:00:00.123Z\t6d68ca91-49c9-448d-89b8-7ca3e6dc66aa\tINFO\t{\"type\":\"platform.start\",\"record\":{\"requestId\":\"r\"}}";
        let prefix = strip(line).unwrap_or_else(|| panic!("a Node.js prefix should strip: {line}"));
        let ctx = Ctx { observed_ns: OBSERVED, prefix: Some(&prefix), render_otlp: false };
        assert_eq!(parse(prefix.message, &ctx), Ok(None));
    }

    /// One cold, traced invocation as a nodejs22.x function with LogFormat=JSON logs it: CloudWatch's record shapes
    /// (initStart with instanceId/instanceMaxMemory, start with functionArn) and the Telemetry API's
    /// runtimeDone spans.
    const COLD_INVOCATION: &[&str] = &[
        r#"{"time":"2024-10-08T07:30:27.768Z","type":"platform.initStart","record":{"initializationType":"on-demand","phase":"init","runtimeVersion":"nodejs:22.v31","runtimeVersionArn":"arn:aws:lambda:eu-central-1::runtime:775dab0d220a0b97f3ec34fe1692d7a07b5d13049153b00f03204c9543bd69e4","functionName":"orders-notifier","functionVersion":"$LATEST","instanceId":"2024/10/08/orders-notifier[$LATEST]22be53a8cfde4e68b844f8ec293b2543","instanceMaxMemory":268435456}}"#,
        r#"{"time":"2024-10-08T07:30:28.229Z","type":"platform.initRuntimeDone","record":{"initializationType":"on-demand","phase":"init","status":"success"}}"#,
        r#"{"time":"2024-10-08T07:30:28.231Z","type":"platform.initReport","record":{"initializationType":"on-demand","phase":"init","status":"success","metrics":{"durationMs":463.512}}}"#,
        r#"{"time":"2024-10-08T07:30:28.235Z","type":"platform.start","record":{"requestId":"79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36","functionArn":"arn:aws:lambda:eu-central-1:123456789012:function:orders-notifier","version":"$LATEST","tracing":{"spanId":"24cd7d670fa455f0","type":"X-Amzn-Trace-Id","value":"Root=1-6704e014-1e2c502e358361800241fd45;Parent=35465b3a9e2f7c6a;Sampled=1"}}}"#,
        r#"{"time":"2024-10-08T07:30:29.468Z","type":"platform.runtimeDone","record":{"requestId":"79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36","status":"success","tracing":{"spanId":"24cd7d670fa455f0","type":"X-Amzn-Trace-Id","value":"Root=1-6704e014-1e2c502e358361800241fd45;Parent=35465b3a9e2f7c6a;Sampled=1"},"spans":[{"name":"responseLatency","start":"2024-10-08T07:30:28.236Z","durationMs":1231.2},{"name":"responseDuration","start":"2024-10-08T07:30:29.467Z","durationMs":0.315},{"name":"runtimeOverhead","start":"2024-10-08T07:30:29.468Z","durationMs":1.25}],"metrics":{"durationMs":1233.96,"producedBytes":59}}}"#,
        r#"{"time":"2024-10-08T07:30:29.470Z","type":"platform.report","record":{"requestId":"79b5e81f-9cdd-4145-b1f6-7c50ef8a2a36","metrics":{"durationMs":1233.96,"billedDurationMs":1698,"memorySizeMB":256,"maxMemoryUsedMB":123,"initDurationMs":463.512},"tracing":{"spanId":"24cd7d670fa455f0","type":"X-Amzn-Trace-Id","value":"Root=1-6704e014-1e2c502e358361800241fd45;Parent=35465b3a9e2f7c6a;Sampled=1"},"status":"success"}}"#,
    ];

    #[test]
    fn snapshot_of_a_cold_traced_invocation() {
        let parsed: Vec<_> = COLD_INVOCATION.iter().map(|line| parse(line, &CTX)).collect();
        insta::assert_debug_snapshot!(parsed);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(line in ".*") {
            let _ = parse(&line, &CTX);
        }

        #[test]
        fn platform_shaped_text_never_panics_and_claims_consistently(
            kind in "platform\\.[a-zA-Z]{0,16}",
            time in "[0-9TZ:.+-]{0,30}",
            body in "[{}\\[\\]\":,a-zA-Z0-9.-]{0,80}",
        ) {
            let line = format!(r#"{{"time":"{time}","type":"{kind}","record":{body}"#);
            match parse(&line, &CTX) {
                Ok(Some(items)) => prop_assert_eq!(items.len(), 1),
                Ok(None) => prop_assert!(false, "a platform type was not claimed: {}", line),
                Err(e) => prop_assert_eq!(e.format, Format::JsonPlatform),
            }
        }
    }
}
