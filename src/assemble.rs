//! Joins parsed lines per log stream and request id into invocation spans, FaaS metrics and trace-linked logs.
//!
//! One [`Assembler`] lives for one shipper invocation, so requests whose lines arrive in several Kinesis records
//! of the same delivery still join. Nothing carries over between deliveries: ids that must agree across
//! deliveries are derived from the request id, never remembered.

use crate::config::Config;
use crate::parse::{
    AppLog, InitStart, Instrument, Item, MetricSample, ParsedLine, PhaseReport, PlatformRecord, Report, RuntimeDone,
    Tracing,
};
use crate::telemetry::{
    AnyValue, Attributes, HistogramPoint, KeyValue, LogRecord, Metric, MetricData, Number, NumberPoint, Resource,
    ResourceTelemetry, Severity, Span, SpanId, SpanKind, Status, Telemetry, Temporality, TraceId, UnixNanos,
};
/// std's map with aHash: see Cargo.toml.
type HashMap<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

/// The bucket bounds the FaaS conventions prescribe for `faas.invoke_duration` and `faas.init_duration`.
const FAAS_DURATION_BOUNDS_S: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];
/// The same, stretched to Lambda's 900 s limit, for logship's own duration histograms.
const DURATION_BOUNDS_S: &[f64] =
    &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 30.0, 60.0, 300.0, 900.0];
const MIB: f64 = 1024.0 * 1024.0;
/// Bucket bounds in bytes for memory used: the memory sizes people configure.
const MEMORY_BOUNDS_BY: &[f64] = &[
    64.0 * MIB,
    128.0 * MIB,
    256.0 * MIB,
    512.0 * MIB,
    1024.0 * MIB,
    2048.0 * MIB,
    3072.0 * MIB,
    4096.0 * MIB,
    6144.0 * MIB,
    8192.0 * MIB,
    10240.0 * MIB,
];

/// Collects parsed lines and turns them into [`Telemetry`] at the end of a delivery.
#[derive(Debug)]
pub struct Assembler<'c> {
    config: &'c Config,
    envs: Vec<Env>,
    index: HashMap<(String, String), usize>,
}

/// Identifies the log stream (one Lambda execution environment) a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamId(usize);

#[derive(Debug, Default)]
struct Env {
    owner: String,
    group: String,
    stream: String,
    function: Option<String>,
    version: Option<String>,
    memory_size_mb: Option<u64>,
    invocations: Vec<Invocation>,
    by_request: HashMap<String, usize>,
    /// Init or restore records seen since the last invocation started: they belong to the next one.
    pending_init: Option<Init>,
    logs: Vec<PendingLog>,
    /// `!Config::drop_logs`.
    keep_logs: bool,
    samples: Vec<MetricSample>,
    spans: Vec<Span>,
}

#[derive(Debug)]
struct PendingLog {
    log: AppLog,
    observed_ns: UnixNanos,
    record_id: String,
}

#[derive(Debug, Default, Clone)]
struct Init {
    restore: bool,
    start: InitStart,
    report: Option<PhaseReport>,
}

#[derive(Debug, Default)]
struct Invocation {
    request_id: String,
    /// When the last platform record about it was seen: the time of a failure whose REPORT never came.
    last_seen_ns: UnixNanos,
    start_ns: Option<UnixNanos>,
    version: Option<String>,
    tracing: Option<Tracing>,
    report: Option<(UnixNanos, Report)>,
    runtime_done: Option<RuntimeDone>,
    timeout_after_s: Option<f64>,
    runtime_error: Option<(String, bool)>,
    app_error: Option<String>,
    init: Option<Init>,
}

impl<'c> Assembler<'c> {
    pub fn new(config: &'c Config) -> Self {
        Assembler { config, envs: Vec::new(), index: HashMap::default() }
    }

    pub fn config(&self) -> &'c Config {
        self.config
    }

    /// The stream lines are about to be added for; call once per batch.
    pub fn stream(&mut self, owner: &str, group: &str, stream: &str) -> StreamId {
        let key = (group.to_owned(), stream.to_owned());
        if let Some(&i) = self.index.get(&key) {
            return StreamId(i);
        }
        let (function, version) = function_identity(group, stream);
        self.envs.push(Env {
            owner: owner.to_owned(),
            group: group.to_owned(),
            stream: stream.to_owned(),
            function,
            version,
            keep_logs: !self.config.drop_logs,
            ..Env::default()
        });
        self.index.insert(key, self.envs.len() - 1);
        StreamId(self.envs.len() - 1)
    }

    /// Room for `lines` more lines of `stream`: most become log records, and one growth beats a dozen.
    pub fn reserve(&mut self, stream: StreamId, lines: usize) {
        if let Some(env) = self.envs.get_mut(stream.0).filter(|env| env.keep_logs) {
            env.logs.reserve(lines);
        }
    }

    /// Adds one parsed log event.
    pub fn add(&mut self, stream: StreamId, event_id: &str, observed_ns: UnixNanos, line: ParsedLine) {
        let Some(env) = self.envs.get_mut(stream.0) else { return };
        for item in line.items {
            match item {
                Item::Platform { time_ns, record } => env.platform(time_ns, record, event_id, observed_ns),
                Item::Log(log) => {
                    env.note_app_error(&log);
                    if env.keep_logs {
                        env.logs.push(PendingLog { log, observed_ns, record_id: event_id.to_owned() });
                    }
                }
                Item::Metric(sample) => env.samples.push(sample),
                Item::Span(span) => env.spans.push(span),
            }
        }
    }

    pub fn finish(self) -> Telemetry {
        let config = self.config;
        Telemetry { resources: self.envs.into_iter().map(|env| env.finish(config)).collect() }
    }
}

impl Env {
    fn invocation(&mut self, request_id: &str) -> &mut Invocation {
        let i = match self.by_request.get(request_id) {
            Some(&i) => i,
            None => {
                self.invocations.push(Invocation { request_id: request_id.to_owned(), ..Invocation::default() });
                self.by_request.insert(request_id.to_owned(), self.invocations.len() - 1);
                self.invocations.len() - 1
            }
        };
        &mut self.invocations[i]
    }

    fn platform(&mut self, time_ns: UnixNanos, record: PlatformRecord, event_id: &str, observed_ns: UnixNanos) {
        let request_id = match &record {
            PlatformRecord::Start { request_id, .. }
            | PlatformRecord::End { request_id }
            | PlatformRecord::Timeout { request_id, .. }
            | PlatformRecord::RuntimeError { request_id: Some(request_id), .. } => Some(request_id.as_str()),
            PlatformRecord::Report(r) => Some(r.request_id.as_str()),
            PlatformRecord::RuntimeDone(d) => Some(d.request_id.as_str()),
            _ => None,
        };
        if let Some(request_id) = request_id {
            let inv = self.invocation(request_id);
            inv.last_seen_ns = inv.last_seen_ns.max(time_ns);
        }
        match record {
            PlatformRecord::InitStart(start) => self.init_start(start, false),
            PlatformRecord::RestoreStart(start) => self.init_start(start, true),
            PlatformRecord::InitReport(report) | PlatformRecord::RestoreReport(report) => {
                if let Some(status) = report.status.as_deref().filter(|s| !is_success(s)) {
                    let body = format!(
                        "{} phase {} {status}{}",
                        if report.phase.as_deref() == Some("restore") { "restore" } else { "init" },
                        report.phase.as_deref().unwrap_or("init"),
                        report.error_type.as_deref().map(|e| format!(": {e}")).unwrap_or_default(),
                    );
                    self.platform_log(
                        time_ns,
                        observed_ns,
                        event_id,
                        "INIT_REPORT",
                        error_severity(),
                        AnyValue::Str(body),
                    );
                }
                self.pending_init.get_or_insert_with(Init::default).report = Some(report);
            }
            PlatformRecord::Start { request_id, version, tracing } => {
                let init = self.pending_init.take();
                let inv = self.invocation(&request_id);
                inv.start_ns.get_or_insert(time_ns);
                if inv.version.is_none() {
                    inv.version = version;
                }
                merge_tracing(&mut inv.tracing, tracing);
                if inv.init.is_none() {
                    inv.init = init;
                }
            }
            PlatformRecord::RuntimeDone(done) => {
                let inv = self.invocation(&done.request_id);
                merge_tracing(&mut inv.tracing, done.tracing.clone());
                inv.runtime_done = Some(done);
            }
            PlatformRecord::End { .. } => {}
            PlatformRecord::Report(report) => {
                if self.memory_size_mb.is_none() {
                    self.memory_size_mb = report.memory_size_mb;
                }
                let pending = self.pending_init.take();
                let inv = self.invocation(&report.request_id);
                merge_tracing(&mut inv.tracing, report.tracing.clone());
                // A START in an earlier delivery would have claimed the init; here the REPORT is all we have.
                if inv.init.is_none() && inv.start_ns.is_none() {
                    inv.init = pending;
                } else if let Some(p) = pending {
                    self.pending_init = Some(p);
                }
                let inv = self.invocation(&report.request_id);
                inv.report = Some((time_ns, report));
            }
            PlatformRecord::Timeout { request_id, after_s } => {
                self.invocation(&request_id).timeout_after_s = Some(after_s);
            }
            PlatformRecord::RuntimeError { request_id: Some(request_id), message, out_of_memory } => {
                self.invocation(&request_id).runtime_error = Some((message, out_of_memory));
            }
            PlatformRecord::RuntimeError { request_id: None, message, .. } => {
                let body = AnyValue::Str(message);
                self.platform_log(time_ns, observed_ns, event_id, "RUNTIME_ERROR", error_severity(), body);
            }
            PlatformRecord::Notice { kind, message } => {
                let number = if kind == "platform.logsDropped" { 13 } else { 9 };
                let severity = Severity { number, text: String::new() };
                self.platform_log(time_ns, observed_ns, event_id, kind, severity, message);
            }
        }
    }

    fn init_start(&mut self, start: InitStart, restore: bool) {
        if self.function.is_none() {
            self.function.clone_from(&start.function_name);
        }
        if self.version.is_none() {
            self.version.clone_from(&start.function_version);
        }
        self.pending_init = Some(Init { restore, start, report: None });
    }

    /// A platform fact no span carries (an init failure, an extension notice), forwarded as a log record.
    fn platform_log(
        &mut self,
        time_ns: UnixNanos,
        observed_ns: UnixNanos,
        event_id: &str,
        kind: impl Into<AnyValue>,
        severity: Severity,
        body: AnyValue,
    ) {
        let log = AppLog {
            time_ns,
            request_id: None,
            severity: Some(severity),
            body,
            attributes: vec![KeyValue::new("aws.lambda.platform.type", kind)],
            trace_id: None,
            span_id: None,
        };
        if self.keep_logs {
            self.logs.push(PendingLog { log, observed_ns, record_id: event_id.to_owned() });
        }
    }

    /// The runtimes report a handler's uncaught error only as an application line; it still fails the invocation.
    fn note_app_error(&mut self, log: &AppLog) {
        let Some(request_id) = log.request_id.as_deref() else { return };
        if log.severity.as_ref().is_some_and(|s| s.number != 0 && s.number < 17) {
            return;
        }
        let message = match &log.body {
            AnyValue::Str(s) if s.starts_with("Invoke Error") || s.starts_with("Uncaught Exception") => {
                let json = s.split_once('\t').map_or("", |(_, j)| j.trim());
                let doc: Option<AnyValue> = sonic_rs::from_str(json).ok();
                Some(doc.as_ref().map_or_else(|| s.lines().next().unwrap_or("").to_owned(), error_text))
            }
            body @ AnyValue::Map(_) if body.get("errorType").is_some() => Some(error_text(body)),
            // Only lines that may report an error get here, so building the tree is rare.
            AnyValue::Json(doc) => {
                let body = doc.parse();
                body.get("errorType").is_some().then(|| error_text(&body))
            }
            _ => None,
        };
        if let Some(message) = message {
            let inv = self.invocation(request_id);
            inv.app_error.get_or_insert(message);
        }
    }

    fn finish(mut self, config: &Config) -> ResourceTelemetry {
        let resource = self.resource(config);
        let base = self.identity(config);
        let name = self.function.clone().unwrap_or_else(|| self.group.clone());
        let mut spans = Vec::with_capacity(self.invocations.len() + self.spans.len());
        let mut links: HashMap<&str, (TraceId, SpanId)> = HashMap::default();
        let mut faas = FaasSamples::default();
        let mut orphans = Vec::new();
        for inv in &self.invocations {
            if let Some((report_ns, report)) = &inv.report {
                let span =
                    invocation_span(&name, &base, inv, *report_ns, report, self.version.as_deref(), config, &mut faas);
                links.insert(&inv.request_id, (span.trace_id, span.span_id));
                spans.push(span);
            } else {
                // Known trace context (JSON platform.start) links logs even when the REPORT comes in a later delivery.
                if let Some(Tracing { trace_id: Some(t), segment_id: Some(s), .. }) = inv.tracing {
                    links.insert(&inv.request_id, (t, s));
                }
                if let Some(message) = orphan_error(inv).filter(|_| self.keep_logs) {
                    orphans.push((inv.request_id.clone(), inv.last_seen_ns, message));
                }
            }
        }
        spans.append(&mut self.spans);

        let mut logs = Vec::with_capacity(self.logs.len() + orphans.len());
        for (request_id, time_ns, message) in orphans {
            logs.push(LogRecord {
                time_ns,
                observed_ns: time_ns,
                severity: Some(error_severity()),
                body: AnyValue::Str(message),
                attributes: vec![KeyValue::new("faas.invocation_id", request_id)],
                trace_id: None,
                span_id: None,
            });
        }
        for pending in self.logs {
            logs.push(log_record(pending, &links));
        }

        let mut metrics = faas.into_metrics(self.memory_size_mb);
        metrics.extend(custom_metrics(self.samples));
        ResourceTelemetry { resource, spans, metrics, logs }
    }

    fn resource(&self, config: &Config) -> Resource {
        let mut attributes = Vec::with_capacity(12);
        let service = self.function.clone().unwrap_or_else(|| self.group.clone());
        attributes.push(KeyValue::new("service.name", service));
        attributes.extend(self.identity(config));
        if let Some(mb) = self.memory_size_mb {
            attributes.push(KeyValue::new("faas.max_memory", mib_to_bytes(mb)));
        }
        attributes.push(KeyValue::new("aws.log.stream.names", AnyValue::Array(vec![self.stream.as_str().into()])));
        Resource { attributes }
    }

    /// The attributes the FaaS/cloud conventions put on an invocation and that the issue contract repeats on
    /// every span, so backends that ignore resources still see them.
    fn identity(&self, config: &Config) -> Attributes {
        let mut a = Vec::with_capacity(9);
        a.push(KeyValue::new("cloud.provider", "aws"));
        if self.function.is_some() {
            a.push(KeyValue::new("cloud.platform", "aws_lambda"));
        }
        if !self.owner.is_empty() {
            a.push(KeyValue::new("cloud.account.id", self.owner.as_str()));
        }
        if let Some(region) = &config.region {
            a.push(KeyValue::new("cloud.region", region.as_str()));
        }
        if let Some(f) = &self.function {
            a.push(KeyValue::new("faas.name", f.as_str()));
        }
        if let Some(v) = &self.version {
            a.push(KeyValue::new("faas.version", v.as_str()));
        }
        a.push(KeyValue::new("faas.instance", self.stream.as_str()));
        a.push(KeyValue::new("aws.log.group.names", AnyValue::Array(vec![self.group.as_str().into()])));
        a
    }
}

fn error_severity() -> Severity {
    Severity { number: 17, text: "ERROR".into() }
}

/// Lambda's "MB" are MiB. The value comes from a log line, so an absurd one saturates instead of overflowing.
fn mib_to_bytes(mb: u64) -> i64 {
    i64::try_from(mb.saturating_mul(1 << 20)).unwrap_or(i64::MAX)
}

fn is_success(status: &str) -> bool {
    status.eq_ignore_ascii_case("success")
}

fn merge_tracing(into: &mut Option<Tracing>, from: Option<Tracing>) {
    let Some(from) = from else { return };
    match into {
        None => *into = Some(from),
        Some(t) => {
            t.trace_id = t.trace_id.or(from.trace_id);
            t.segment_id = t.segment_id.or(from.segment_id);
            t.parent_id = t.parent_id.or(from.parent_id);
            t.sampled = t.sampled.or(from.sampled);
        }
    }
}

fn error_text(doc: &AnyValue) -> String {
    let kind = doc.get("errorType").and_then(AnyValue::as_str).unwrap_or("Error");
    match doc.get("errorMessage").and_then(AnyValue::as_str) {
        Some(msg) => format!("{kind}: {msg}"),
        None => kind.to_owned(),
    }
}

/// Why an invocation failed, and the `error.type` to record, or `None` when it did not.
fn failure(inv: &Invocation, report: Option<&Report>) -> Option<(String, String)> {
    let status = report.and_then(|r| r.status.as_deref()).filter(|s| !is_success(s));
    let error_type = report.and_then(|r| r.error_type.as_deref());
    let oom = error_type.is_some_and(|e| e.contains("OutOfMemory"))
        || inv.runtime_error.as_ref().is_some_and(|(_, oom)| *oom)
        || report.is_some_and(|r| {
            status.is_some()
                && matches!((r.max_memory_used_mb, r.memory_size_mb), (Some(used), Some(size)) if used >= size)
        });
    if status == Some("timeout") || inv.timeout_after_s.is_some() {
        let after = inv.timeout_after_s.or(report.map(|r| r.duration_ms / 1000.0)).unwrap_or(0.0);
        return Some((format!("Task timed out after {after:.2} seconds"), "timeout".into()));
    }
    if oom {
        let used = report.and_then(|r| r.max_memory_used_mb.zip(r.memory_size_mb));
        let detail = used.map(|(u, s)| format!(" (Max Memory Used {u} MB of {s} MB)")).unwrap_or_default();
        return Some((format!("Runtime out of memory{detail}"), "Runtime.OutOfMemory".into()));
    }
    if let Some((message, _)) = &inv.runtime_error {
        return Some((message.clone(), error_type.unwrap_or("Runtime.ExitError").to_owned()));
    }
    let done = inv.runtime_done.as_ref().filter(|d| d.status.as_deref().is_some_and(|s| !is_success(s)));
    if let Some(message) = &inv.app_error {
        let kind = message.split(':').next().unwrap_or("Error").to_owned();
        return Some((message.clone(), kind));
    }
    if status.is_some() || done.is_some() {
        let kind = error_type
            .or(done.and_then(|d| d.error_type.as_deref()))
            .or(status)
            .or(done.and_then(|d| d.status.as_deref()))
            .unwrap_or("error");
        return Some((format!("Invocation failed: {kind}"), kind.to_owned()));
    }
    None
}

/// A timeout or crash whose REPORT is not in this delivery still has to reach the user.
fn orphan_error(inv: &Invocation) -> Option<String> {
    (inv.timeout_after_s.is_some() || inv.runtime_error.is_some()).then(|| failure(inv, None).map(|(m, _)| m)).flatten()
}

#[derive(Default)]
struct FaasSamples {
    durations_s: Vec<f64>,
    billed_s: Vec<f64>,
    init_s: Vec<f64>,
    restore_s: Vec<f64>,
    mem_used_by: Vec<f64>,
    cost_usd: f64,
    has_cost: bool,
    invocations: i64,
    coldstarts: i64,
    errors: i64,
    timeouts: i64,
    window_start: UnixNanos,
    window_end: UnixNanos,
}

#[allow(clippy::too_many_arguments)]
fn invocation_span(
    name: &str,
    base: &Attributes,
    inv: &Invocation,
    report_ns: UnixNanos,
    report: &Report,
    stream_version: Option<&str>,
    config: &Config,
    faas: &mut FaasSamples,
) -> Span {
    let duration_ns = crate::telemetry::duration_ms_to_ns(report.duration_ms);
    let start_ns = inv.start_ns.unwrap_or_else(|| report_ns.saturating_sub(duration_ns));
    // Saturating: the duration is whatever the line said.
    let end_ns = start_ns.saturating_add(duration_ns);
    let init_ms = report.init_duration_ms.or_else(|| {
        inv.init
            .as_ref()
            .and_then(|i| i.report.as_ref())
            .filter(|_| inv.init.as_ref().is_some_and(|i| !i.restore))
            .and_then(|r| r.duration_ms)
    });
    let cold = report.init_duration_ms.is_some() || report.restore_duration_ms.is_some() || inv.init.is_some();
    let tracing = inv.tracing.clone().unwrap_or_default();
    let trace_id = tracing.trace_id.unwrap_or_else(|| TraceId::derive(&inv.request_id));
    let span_id = tracing.segment_id.unwrap_or_else(|| SpanId::derive(&inv.request_id));
    let parent_span_id = tracing.trace_id.and(tracing.parent_id);

    let mut a = Vec::with_capacity(base.len() + 16);
    a.push(KeyValue::new("faas.invocation_id", inv.request_id.as_str()));
    a.push(KeyValue::new("faas.coldstart", cold));
    a.extend(base.iter().filter(|kv| kv.key != "faas.version").cloned());
    if let Some(v) = inv.version.as_deref().or(stream_version) {
        a.push(KeyValue::new("faas.version", v));
    }
    a.push(KeyValue::new("aws.lambda.duration_ms", report.duration_ms));
    let mut push_ms = |key: &'static str, v: Option<f64>| {
        if let Some(v) = v {
            a.push(KeyValue::new(key, v));
        }
    };
    push_ms("aws.lambda.billed_duration_ms", report.billed_duration_ms);
    push_ms("aws.lambda.init_duration_ms", init_ms);
    push_ms("aws.lambda.restore_duration_ms", report.restore_duration_ms);
    push_ms("aws.lambda.billed_restore_duration_ms", report.billed_restore_duration_ms);
    if let Some(mb) = report.memory_size_mb {
        a.push(KeyValue::new("aws.lambda.memory_size_mb", mb as i64));
    }
    if let Some(mb) = report.max_memory_used_mb {
        a.push(KeyValue::new("aws.lambda.max_memory_used_mb", mb as i64));
    }
    if let Some(s) = &report.status {
        a.push(KeyValue::new("aws.lambda.status", s.as_str()));
    }
    if let Some(bytes) = inv.runtime_done.as_ref().and_then(|d| d.produced_bytes) {
        a.push(KeyValue::new("aws.lambda.produced_bytes", bytes as i64));
    }
    if let Some(init) = &inv.init {
        if let Some(v) = &init.start.runtime_version {
            a.push(KeyValue::new("aws.lambda.runtime_version", v.as_str()));
        }
        if let Some(v) = &init.start.initialization_type {
            a.push(KeyValue::new("aws.lambda.initialization_type", v.as_str()));
        }
    }
    if let Some(sampled) = tracing.sampled {
        a.push(KeyValue::new("aws.xray.sampled", sampled));
    }
    let arch = config.pricing.arch_of(name);
    let billed_ms = report.billed_duration_ms.unwrap_or(report.duration_ms.ceil())
        + report.billed_restore_duration_ms.unwrap_or(0.0);
    if let Some(mb) = report.memory_size_mb {
        let cost = config.pricing.invocation_cost(arch, billed_ms, mb);
        a.push(KeyValue::new("aws.lambda.estimated_cost", cost));
        faas.cost_usd += cost;
        faas.has_cost = true;
    }
    a.push(KeyValue::new("aws.lambda.architecture", arch.as_str()));
    let failed = failure(inv, Some(report));
    let status = match &failed {
        Some((message, kind)) => {
            a.push(KeyValue::new("error.type", kind.as_str()));
            Status::Error(message.clone())
        }
        None => Status::Unset,
    };

    faas.window_start = if faas.invocations == 0 { start_ns } else { faas.window_start.min(start_ns) };
    faas.window_end = faas.window_end.max(end_ns);
    faas.invocations += 1;
    faas.durations_s.push(report.duration_ms / 1000.0);
    if let Some(b) = report.billed_duration_ms {
        faas.billed_s.push(b / 1000.0);
    }
    if cold {
        faas.coldstarts += 1;
        if let Some(i) = init_ms {
            faas.init_s.push(i / 1000.0);
        }
    }
    if let Some(r) = report.restore_duration_ms {
        faas.restore_s.push(r / 1000.0);
    }
    if let Some(mb) = report.max_memory_used_mb {
        faas.mem_used_by.push(mb as f64 * MIB);
    }
    if let Some((_, kind)) = &failed {
        faas.errors += 1;
        if kind == "timeout" {
            faas.timeouts += 1;
        }
    }

    Span {
        trace_id,
        span_id,
        parent_span_id,
        name: name.to_owned(),
        kind: SpanKind::Server,
        start_ns,
        end_ns,
        attributes: a,
        status,
    }
}

impl FaasSamples {
    fn into_metrics(self, memory_size_mb: Option<u64>) -> Vec<Metric> {
        if self.invocations == 0 {
            return Vec::new();
        }
        let (start, end) = (self.window_start, self.window_end);
        let hist = |name: &str, desc: &str, unit: &str, bounds: &[f64], samples: &[f64]| Metric {
            name: name.to_owned(),
            description: desc.to_owned(),
            unit: unit.to_owned(),
            data: MetricData::Histogram {
                points: vec![HistogramPoint::from_samples(Vec::new(), start, end, bounds, samples.iter().copied())],
                temporality: Temporality::Delta,
            },
        };
        let counter = |name: &str, desc: &str, unit: &str, value: Number| Metric {
            name: name.to_owned(),
            description: desc.to_owned(),
            unit: unit.to_owned(),
            data: MetricData::Sum {
                points: vec![NumberPoint { attributes: Vec::new(), start_ns: start, time_ns: end, value }],
                temporality: Temporality::Delta,
                monotonic: true,
            },
        };
        let mut m = vec![hist(
            "faas.invoke_duration",
            "Measures the duration of the function's logic execution",
            "s",
            FAAS_DURATION_BOUNDS_S,
            &self.durations_s,
        )];
        if !self.init_s.is_empty() {
            m.push(hist(
                "faas.init_duration",
                "Measures the duration of the function's initialization, such as a cold start",
                "s",
                FAAS_DURATION_BOUNDS_S,
                &self.init_s,
            ));
        }
        m.push(counter(
            "faas.coldstarts",
            "Number of invocation cold starts",
            "{coldstart}",
            Number::Int(self.coldstarts),
        ));
        m.push(counter("faas.errors", "Number of invocation errors", "{error}", Number::Int(self.errors)));
        m.push(counter("faas.timeouts", "Number of invocation timeouts", "{timeout}", Number::Int(self.timeouts)));
        // The conventions count successes here; failures are in faas.errors, so the two add up to all invocations.
        let successes = self.invocations - self.errors;
        m.push(counter("faas.invocations", "Number of successful invocations", "{invocation}", Number::Int(successes)));
        if !self.mem_used_by.is_empty() {
            m.push(hist(
                "faas.mem_usage",
                "Distribution of max memory usage per invocation",
                "By",
                MEMORY_BOUNDS_BY,
                &self.mem_used_by,
            ));
        }
        if !self.billed_s.is_empty() {
            m.push(hist(
                "aws.lambda.billed_duration",
                "Billed duration per invocation",
                "s",
                DURATION_BOUNDS_S,
                &self.billed_s,
            ));
        }
        if let Some(mb) = memory_size_mb {
            m.push(Metric {
                name: "aws.lambda.memory_size".into(),
                description: "Memory configured for the function".into(),
                unit: "By".into(),
                data: MetricData::Gauge(vec![NumberPoint {
                    attributes: Vec::new(),
                    start_ns: 0,
                    time_ns: end,
                    value: Number::Int(mib_to_bytes(mb)),
                }]),
            });
        }
        if !self.restore_s.is_empty() {
            m.push(hist(
                "aws.lambda.restore_duration",
                "SnapStart snapshot restore duration",
                "s",
                DURATION_BOUNDS_S,
                &self.restore_s,
            ));
        }
        if self.has_cost {
            m.push(counter(
                "aws.lambda.estimated_cost",
                "Estimated compute and request cost from billed GB-seconds",
                "USD",
                Number::Double(self.cost_usd),
            ));
        }
        m
    }
}

/// Custom metrics keep every sample with its own timestamp; samples of one name, unit and instrument share a metric.
fn custom_metrics(samples: Vec<MetricSample>) -> Vec<Metric> {
    let mut out: Vec<Metric> = Vec::new();
    let mut index: HashMap<(String, String, Instrument), usize> = HashMap::default();
    for s in samples {
        let key = (s.name.clone(), s.unit.clone(), s.instrument);
        let i = *index.entry(key).or_insert_with(|| {
            let data = match s.instrument {
                Instrument::Counter => {
                    MetricData::Sum { points: Vec::new(), temporality: Temporality::Delta, monotonic: true }
                }
                Instrument::UpDownCounter => {
                    MetricData::Sum { points: Vec::new(), temporality: Temporality::Delta, monotonic: false }
                }
                Instrument::Gauge => MetricData::Gauge(Vec::new()),
                Instrument::Histogram => MetricData::Histogram { points: Vec::new(), temporality: Temporality::Delta },
            };
            out.push(Metric { name: s.name.clone(), description: String::new(), unit: s.unit.clone(), data });
            out.len() - 1
        });
        let point = NumberPoint { attributes: s.attributes, start_ns: s.time_ns, time_ns: s.time_ns, value: s.value };
        match &mut out[i].data {
            MetricData::Gauge(points) | MetricData::Sum { points, .. } => points.push(point),
            MetricData::Histogram { points, .. } => {
                let v = point.value.as_f64();
                points.push(HistogramPoint::from_samples(point.attributes, point.start_ns, point.time_ns, &[], [v]));
            }
        }
    }
    out
}

fn log_record(pending: PendingLog, links: &HashMap<&str, (TraceId, SpanId)>) -> LogRecord {
    let PendingLog { log, observed_ns, record_id } = pending;
    let mut attributes = Vec::with_capacity(log.attributes.len() + 2);
    let link = log.request_id.as_deref().and_then(|r| links.get(r)).copied();
    if let Some(request_id) = log.request_id {
        attributes.push(KeyValue::new("faas.invocation_id", request_id));
    }
    if !record_id.is_empty() {
        // CloudWatch's event id is unique per event: a backend can drop redelivered duplicates with it.
        attributes.push(KeyValue::new("log.record.uid", record_id));
    }
    attributes.extend(log.attributes);
    let (trace_id, span_id) = match (log.trace_id, link) {
        (Some(t), _) => (Some(t), log.span_id),
        (None, Some((t, s))) => (Some(t), Some(log.span_id.unwrap_or(s))),
        (None, None) => (None, log.span_id.filter(|_| false)),
    };
    LogRecord {
        time_ns: log.time_ns,
        observed_ns,
        severity: log.severity,
        body: log.body,
        attributes,
        trace_id,
        span_id,
    }
}

/// Function name and version from the log group and stream names.
///
/// `/aws/lambda/<name>` (Lambda@Edge replicas: `/aws/lambda/us-east-1.<name>`), streams
/// `2024/03/01/[$LATEST]<instance>`, and for custom or shared log groups `2024/03/01/<name>[$LATEST]<instance>`.
pub fn function_identity(group: &str, stream: &str) -> (Option<String>, Option<String>) {
    let after_date = stream.splitn(4, '/').nth(3).unwrap_or("");
    let (stream_name, stream_version) = match (after_date.find('['), after_date.find(']')) {
        (Some(open), Some(close)) if open < close => {
            (Some(&after_date[..open]).filter(|n| !n.is_empty()), Some(&after_date[open + 1..close]))
        }
        _ => (None, None),
    };
    let group_name = group.strip_prefix("/aws/lambda/").filter(|n| !n.is_empty()).map(strip_edge_region);
    let name = stream_name.or(group_name).map(str::to_owned);
    (name, stream_version.filter(|v| !v.is_empty()).map(str::to_owned))
}

/// Lambda@Edge writes to `/aws/lambda/<region>.<name>` in each region it runs in.
fn strip_edge_region(name: &str) -> &str {
    match name.split_once('.') {
        Some((region, rest)) if !rest.is_empty() && is_region(region) => rest,
        _ => name,
    }
}

fn is_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[0].bytes().all(|b| b.is_ascii_lowercase())
        && parts.last().is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;

    const GROUP: &str = "/aws/lambda/checkout";
    const STREAM: &str = "2026/11/01/[$LATEST]0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    const RID: &str = "a1b2c3d4-0000-4000-8000-000000000001";
    const T0: i64 = 1_793_534_400_000; // 2026-11-01T10:40:00Z

    fn run(lines: &[(i64, String)]) -> Telemetry {
        let config = Config { region: Some("eu-west-1".into()), ..Config::default() };
        let mut asm = Assembler::new(&config);
        let s = asm.stream("123456789012", GROUP, STREAM);
        for (i, (ms, line)) in lines.iter().enumerate() {
            let ns = crate::telemetry::ms_to_ns(*ms);
            asm.add(s, &i.to_string(), ns, parse_line(line, ns));
        }
        asm.finish()
    }

    fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a AnyValue> {
        crate::telemetry::attr(&span.attributes, key)
    }

    #[test]
    fn identity_from_group_and_stream() {
        let cases = [
            ("/aws/lambda/checkout", "2026/11/01/[$LATEST]abc", Some("checkout"), Some("$LATEST")),
            ("/aws/lambda/checkout", "2026/11/01/[7]abc", Some("checkout"), Some("7")),
            ("/aws/lambda/us-east-1.edge-auth", "2026/11/01/[3]abc", Some("edge-auth"), Some("3")),
            ("/aws/lambda/my.dotted.fn", "x", Some("my.dotted.fn"), None),
            ("/shared/lambda", "2026/11/01/orders[$LATEST]abc", Some("orders"), Some("$LATEST")),
            ("/ecs/web", "web/web/abc", None, None),
        ];
        for (group, stream, name, version) in cases {
            let (n, v) = function_identity(group, stream);
            assert_eq!((n.as_deref(), v.as_deref()), (name, version), "{group} {stream}");
        }
    }

    #[test]
    fn cold_traced_invocation_becomes_one_server_span() {
        let t = run(&[
            (T0, "INIT_START Runtime Version: nodejs:20.v13\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:1\n".into()),
            (T0 + 300, format!("START RequestId: {RID} Version: $LATEST\n")),
            (T0 + 301, format!("2026-11-01T10:40:00.301Z\t{RID}\tINFO\thello\n")),
            (T0 + 402, format!("END RequestId: {RID}\n")),
            (T0 + 402, format!("REPORT RequestId: {RID}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 1024 MB\tMax Memory Used: 66 MB\tInit Duration: 290.10 ms\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t\n")),
        ]);
        let r = &t.resources[0];
        assert_eq!(r.spans.len(), 1);
        let span = &r.spans[0];
        assert_eq!(span.name, "checkout");
        assert_eq!(span.kind, SpanKind::Server);
        assert_eq!(span.trace_id.to_string(), "5759e988bd862e3fe1be46a994272793");
        assert_eq!(span.span_id.to_string(), "53995c3f42cd8ad8");
        assert_eq!(span.start_ns, crate::telemetry::ms_to_ns(T0 + 300));
        assert_eq!(span.end_ns - span.start_ns, 102_250_000);
        assert_eq!(attr(span, "faas.invocation_id"), Some(&AnyValue::Str(RID.into())));
        assert_eq!(attr(span, "faas.coldstart"), Some(&AnyValue::Bool(true)));
        assert_eq!(attr(span, "faas.version"), Some(&AnyValue::Str("$LATEST".into())));
        assert_eq!(attr(span, "cloud.region"), Some(&AnyValue::Str("eu-west-1".into())));
        assert_eq!(attr(span, "cloud.account.id"), Some(&AnyValue::Str("123456789012".into())));
        assert_eq!(attr(span, "aws.lambda.runtime_version"), Some(&AnyValue::Str("nodejs:20.v13".into())));
        assert_eq!(span.status, Status::Unset);
        // The app line joins the invocation's trace.
        assert_eq!(r.logs.len(), 1);
        assert_eq!(r.logs[0].trace_id, Some(span.trace_id));
        assert_eq!(r.logs[0].span_id, Some(span.span_id));
        // 1 GiB for 103 ms on x86_64 + one request.
        let cost = attr(span, "aws.lambda.estimated_cost").and_then(AnyValue::as_f64).unwrap();
        assert!((cost - (0.103 * 0.000_016_666_7 + 0.000_000_2)).abs() < 1e-15, "{cost}");
    }

    #[test]
    fn untraced_warm_invocation_derives_ids_and_starts_at_report_minus_duration() {
        let t = run(&[(
            T0 + 1000,
            format!("REPORT RequestId: {RID}\tDuration: 250.00 ms\tBilled Duration: 250 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\n"),
        )]);
        let span = &t.resources[0].spans[0];
        assert_eq!(span.trace_id.to_string(), "a1b2c3d4000040008000000000000001");
        assert_eq!(span.span_id, SpanId::derive(RID));
        assert_eq!(span.end_ns, crate::telemetry::ms_to_ns(T0 + 1000));
        assert_eq!(span.end_ns - span.start_ns, 250_000_000);
        assert_eq!(attr(span, "faas.coldstart"), Some(&AnyValue::Bool(false)));
    }

    #[test]
    fn failures_set_error_status() {
        let report = |extra: &str| {
            format!("REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\t{extra}\n")
        };
        let cases: Vec<(Vec<String>, &str, &str)> = vec![
            (
                vec![format!("2026-11-01T10:40:03.000Z {RID} Task timed out after 3.00 seconds\n"), report("Status: timeout")],
                "Task timed out after 3.00 seconds",
                "timeout",
            ),
            (vec![report("Status: timeout")], "Task timed out after 3.00 seconds", "timeout"),
            (
                vec![format!("RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError\n"), report("")],
                "Runtime out of memory (Max Memory Used 128 MB of 128 MB)",
                "Runtime.OutOfMemory",
            ),
            (
                vec![report("Status: error\tError Type: Runtime.OutOfMemory")],
                "Runtime out of memory (Max Memory Used 128 MB of 128 MB)",
                "Runtime.OutOfMemory",
            ),
            (
                vec![
                    format!("2026-11-01T10:40:00.100Z\t{RID}\tERROR\tInvoke Error \t{{\"errorType\":\"TypeError\",\"errorMessage\":\"x is undefined\",\"stack\":[]}}\n"),
                    report(""),
                ],
                "TypeError: x is undefined",
                "TypeError",
            ),
        ];
        for (lines, message, kind) in cases {
            let lines: Vec<(i64, String)> = lines.into_iter().map(|l| (T0, l)).collect();
            let t = run(&lines);
            let span = &t.resources[0].spans[0];
            assert_eq!(span.status, Status::Error(message.into()), "{lines:?}");
            assert_eq!(attr(span, "error.type"), Some(&AnyValue::Str(kind.into())));
            let errors = t.resources[0].metrics.iter().find(|m| m.name == "faas.errors").unwrap();
            assert!(matches!(&errors.data, MetricData::Sum { points, .. } if points[0].value == Number::Int(1)));
            let successes = t.resources[0].metrics.iter().find(|m| m.name == "faas.invocations").unwrap();
            assert!(matches!(&successes.data, MetricData::Sum { points, .. } if points[0].value == Number::Int(0)));
        }
    }

    #[test]
    fn timeout_without_report_is_still_reported() {
        let t = run(&[(T0, format!("2026-11-01T10:40:03.000Z {RID} Task timed out after 3.00 seconds\n"))]);
        let r = &t.resources[0];
        assert!(r.spans.is_empty());
        assert_eq!(r.logs.len(), 1);
        assert_eq!(r.logs[0].body, AnyValue::Str("Task timed out after 3.00 seconds".into()));
        assert_eq!(r.logs[0].time_ns, crate::telemetry::ms_to_ns(T0));
        assert_eq!(r.logs[0].severity.as_ref().map(|s| s.number), Some(17));
    }

    /// Found by fuzzing (fuzz/regressions/decode_parse-memory-size-overflow): MB → bytes overflowed.
    #[test]
    fn absurd_memory_size_saturates() {
        let t = run(&[(T0, format!("REPORT RequestId: {RID}\tDuration: 1 ms\tMemory Size: 17592186044416 MB\tMax Memory Used: 18446744073709551615 MB"))]);
        let r = &t.resources[0];
        assert_eq!(crate::telemetry::attr(&r.resource.attributes, "faas.max_memory"), Some(&AnyValue::Int(i64::MAX)));
        assert_eq!(r.spans.len(), 1);
    }

    /// Found by fuzzing (fuzz/regressions/decode_parse-report-duration-overflow): start + duration overflowed.
    #[test]
    fn absurd_duration_saturates() {
        let t = run(&[
            (T0, format!("START RequestId: {RID}")),
            (T0 + 1, format!("REPORT RequestId: {RID}\tDuration: 99999999999999999999 ms")),
        ]);
        let span = &t.resources[0].spans[0];
        assert_eq!(span.end_ns, u64::MAX);
        assert!(span.end_ns >= span.start_ns);
    }

    #[test]
    fn every_duration_lands_in_exactly_one_point() {
        let mut lines = Vec::new();
        for i in 0..5 {
            let rid = format!("a1b2c3d4-0000-4000-8000-00000000000{i}");
            let init = if i == 0 { "Init Duration: 100.00 ms\t" } else { "" };
            lines.push((T0 + i * 1000, format!("REPORT RequestId: {rid}\tDuration: {}.00 ms\tBilled Duration: 10 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t{init}\n", 10 * (i + 1))));
        }
        let t = run(&lines);
        let m = &t.resources[0].metrics;
        let get = |name: &str| m.iter().find(|x| x.name == name).unwrap_or_else(|| panic!("{name} missing"));
        let MetricData::Histogram { points, .. } = &get("faas.invoke_duration").data else { panic!("not a histogram") };
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].count, 5);
        assert!((points[0].sum - 0.15).abs() < 1e-12);
        assert_eq!(get("faas.invoke_duration").unit, "s");
        let MetricData::Histogram { points, .. } = &get("faas.init_duration").data else { panic!("not a histogram") };
        assert_eq!(points[0].count, 1);
        let count = |name| match &get(name).data {
            MetricData::Sum { points, monotonic: true, temporality: Temporality::Delta } => points[0].value,
            other => panic!("{other:?}"),
        };
        assert_eq!(count("faas.invocations"), Number::Int(5));
        assert_eq!(count("faas.coldstarts"), Number::Int(1));
        assert_eq!(count("faas.errors"), Number::Int(0));
    }
}
