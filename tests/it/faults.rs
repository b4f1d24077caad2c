//! Delivery under faults, against a scripted local server: what arrived, how often, and what the report says.
//!
//! The exporter speaks OTLP/JSON here so the server can read exactly which spans and log records each request
//! carried; every test checks that each item arrived once, in a request that was answered 200.

use crate::fault_server::{closed_url, FaultServer, Reply, Seen};
use logship::config::Config;
use logship::export::config::ExportConfig;
use logship::export::fanout::Exporters;
use logship::export::http::HttpClient;
use logship::export::{ExportReport, Signal};
use logship::pipeline::process_event;
use logship::telemetry::Telemetry;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;
use tokio::time::Instant;

fn telemetry(fixture: &str) -> Telemetry {
    let path = crate::fixtures("events").into_iter().find(|p| p.ends_with(fixture)).unwrap();
    process_event(&std::fs::read(path).unwrap(), &Config::default()).unwrap().telemetry
}

fn exporters(url: &str, extra: &[(&str, &str)]) -> Exporters {
    let mut vars: HashMap<String, String> = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", url),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("LOGSHIP_RETRY_INITIAL_BACKOFF_MS", "10"),
        ("LOGSHIP_RETRY_MAX_BACKOFF_MS", "50"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let config = ExportConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
    Exporters::new(config, HttpClient::new().unwrap()).unwrap()
}

fn export(ex: &Exporters, t: &Telemetry, within: Duration) -> (ExportReport, Duration) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let report = ex.export(t, start + within).await;
        (report, start.elapsed())
    })
}

/// Span ids and log record ids carried by requests the server accepted, each as often as it arrived.
fn accepted_items(seen: &[Seen]) -> Vec<String> {
    let mut out: Vec<String> = seen.iter().filter(|s| s.status == 200).flat_map(|s| ids_in(&s.body)).collect();
    out.sort();
    out
}

/// `span:<spanId>` and `log:<log.record.uid>` of every item in one OTLP/JSON request body.
fn ids_in(body: &[u8]) -> Vec<String> {
    use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
    let v: Value = sonic_rs::from_slice(body).unwrap();
    let arr = |v: &Value, k: &str| {
        v.get(k).and_then(|x| x.as_array()).map(|a| a.iter().cloned().collect::<Vec<_>>()).unwrap_or_default()
    };
    let mut ids = Vec::new();
    for rs in arr(&v, "resourceSpans") {
        for ss in arr(&rs, "scopeSpans") {
            for span in arr(&ss, "spans") {
                ids.push(format!("span:{}", span.get("spanId").and_then(|x| x.as_str()).unwrap()));
            }
        }
    }
    for rl in arr(&v, "resourceLogs") {
        for sl in arr(&rl, "scopeLogs") {
            for log in arr(&sl, "logRecords") {
                let uid = arr(&log, "attributes")
                    .into_iter()
                    .find(|a| a.get("key").and_then(|k| k.as_str()) == Some("log.record.uid"))
                    .and_then(|a| {
                        a.get("value").and_then(|v| v.get("stringValue")).and_then(|s| s.as_str()).map(str::to_owned)
                    })
                    .unwrap();
                ids.push(format!("log:{uid}"));
            }
        }
    }
    ids
}

/// Every span id and log record uid the telemetry holds.
fn all_items(t: &Telemetry, signal: Signal) -> Vec<String> {
    let mut out: Vec<String> = match signal {
        Signal::Traces => t.resources.iter().flat_map(|r| &r.spans).map(|s| format!("span:{}", s.span_id)).collect(),
        Signal::Logs => t
            .resources
            .iter()
            .flat_map(|r| &r.logs)
            .map(|l| {
                let uid = logship::telemetry::attr(&l.attributes, "log.record.uid").and_then(|v| v.as_str());
                format!("log:{}", uid.unwrap())
            })
            .collect(),
        Signal::Metrics => unreachable!(),
    };
    out.sort();
    out
}

fn only_traces() -> [(&'static str, &'static str); 2] {
    [("LOGSHIP_METRICS_TO", "none"), ("LOGSHIP_LOGS_TO", "none")]
}

#[test]
fn backend_down_fails_the_export_and_reports_nothing_sent() {
    let t = telemetry("node-text.json");
    let ex = exporters(&closed_url(), &[]);
    let (report, elapsed) = export(&ex, &t, Duration::from_secs(2));
    assert!(elapsed < Duration::from_secs(3), "retrying is bounded by the deadline: {elapsed:?}");
    assert_eq!(report.signals.iter().map(|s| s.delivered).sum::<u64>(), 0);
    assert!(report.retries() > 0, "connection errors are retried");
    let err = report.into_result().unwrap_err();
    assert_eq!(err.failures.len(), 3, "one failure per signal: {err}");
    let msg = err.to_string();
    for want in [
        "otlp traces: 4 spans not delivered",
        "otlp metrics: 13 metrics not delivered",
        "otlp logs: 15 log records not delivered",
        "cannot connect",
    ] {
        assert!(msg.contains(want), "{msg:?} lacks {want:?}");
    }
}

#[test]
fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let t = telemetry("node-text.json");
    let server = FaultServer::sequence(vec![Reply::status(429).header("Retry-After", "1")]);
    let ex = exporters(&server.url, &only_traces());
    let (report, elapsed) = export(&ex, &t, Duration::from_secs(10));
    assert!(elapsed >= Duration::from_secs(1), "Retry-After was honoured: {elapsed:?}");
    let report = report.into_result().unwrap();
    assert_eq!((report.retries(), report.requests()), (1, 2));
    assert_eq!(accepted_items(&server.seen()), all_items(&t, Signal::Traces));
}

#[test]
fn unavailable_twice_then_ok_is_two_retries() {
    let t = telemetry("node-text.json");
    let server = FaultServer::sequence(vec![Reply::status(503), Reply::status(503)]);
    let ex = exporters(&server.url, &only_traces());
    let (report, _) = export(&ex, &t, Duration::from_secs(10));
    let report = report.into_result().unwrap();
    assert_eq!(report.retries(), 2);
    assert_eq!(report.get("otlp", Signal::Traces).unwrap().delivered, 4);
    let seen = server.seen();
    assert_eq!(seen.iter().map(|s| s.status).collect::<Vec<_>>(), [503, 503, 200]);
    assert!(seen.iter().all(|s| s.path == "/v1/traces" && s.header("content-type") == Some("application/json")));
    assert_eq!(accepted_items(&seen), all_items(&t, Signal::Traces));
}

#[test]
fn bad_request_is_not_retried_and_says_why() {
    let t = telemetry("node-text.json");
    let server = FaultServer::always(Reply::status(400).json(r#"{"code":3,"message":"span name must not be empty"}"#));
    let ex = exporters(&server.url, &only_traces());
    let (report, _) = export(&ex, &t, Duration::from_secs(10));
    assert_eq!(report.requests(), 1);
    let err = report.into_result().unwrap_err().to_string();
    assert_eq!(
        err,
        "delivery failed: otlp traces: 4 spans not delivered: HTTP 400 Bad Request: span name must not be empty"
    );
}

#[test]
fn a_slow_backend_cannot_hold_past_the_deadline() {
    let t = telemetry("node-text.json");
    let server = FaultServer::always(Reply::status(200).delay(Duration::from_secs(5)));
    let ex = exporters(&server.url, &only_traces());
    let (report, elapsed) = export(&ex, &t, Duration::from_millis(1500));
    assert!(elapsed < Duration::from_millis(2500), "{elapsed:?}");
    let err = report.into_result().unwrap_err().to_string();
    assert!(err.contains("timed out") && err.contains("deadline"), "{err}");
}

#[test]
fn oversized_batches_are_split_before_sending_and_on_413() {
    let t = telemetry("typical-1000.json");
    let want = all_items(&t, Signal::Logs);
    // Our own limit: no request body over 64 KiB uncompressed.
    let server = FaultServer::always(Reply::status(200));
    let ex = exporters(
        &server.url,
        &[("LOGSHIP_TRACES_TO", "none"), ("LOGSHIP_METRICS_TO", "none"), ("LOGSHIP_OTLP_MAX_BATCH_BYTES", "65536")],
    );
    let (report, _) = export(&ex, &t, Duration::from_secs(20));
    let report = report.into_result().unwrap();
    let seen = server.seen();
    assert!(seen.len() > 5, "split into {} requests", seen.len());
    assert!(seen.iter().all(|s| s.body.len() <= 65536 || ids_in(&s.body).len() == 1));
    assert_eq!(accepted_items(&seen), want);
    assert_eq!(report.get("otlp", Signal::Logs).unwrap().delivered as usize, want.len());

    // The backend's limit, lower than ours: it answers 413 and the halves go again.
    let server =
        FaultServer::start(|_, req| if req.body.len() > 100_000 { Reply::status(413) } else { Reply::status(200) });
    let ex = exporters(&server.url, &[("LOGSHIP_TRACES_TO", "none"), ("LOGSHIP_METRICS_TO", "none")]);
    let (report, _) = export(&ex, &t, Duration::from_secs(20));
    report.into_result().unwrap();
    let seen = server.seen();
    assert!(seen.iter().any(|s| s.status == 413));
    assert_eq!(accepted_items(&seen), want, "every record exactly once");
}

#[test]
fn partial_success_counts_rejections_without_failing() {
    let t = telemetry("node-text.json");
    let server = FaultServer::always(
        Reply::status(200).json(r#"{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"2 records too old"}}"#),
    );
    let ex = exporters(&server.url, &[("LOGSHIP_TRACES_TO", "none"), ("LOGSHIP_METRICS_TO", "none")]);
    let (report, _) = export(&ex, &t, Duration::from_secs(10));
    let report = report.into_result().unwrap();
    let logs = report.get("otlp", Signal::Logs).unwrap();
    assert_eq!((logs.items, logs.delivered, logs.rejected), (15, 13, 2));
    assert_eq!(logs.rejections, ["2 records too old"]);
}

#[test]
fn one_backend_down_does_not_cost_the_others_their_data() {
    let t = telemetry("node-text.json");
    let up = FaultServer::always(Reply::status(200));
    let ex = exporters(&closed_url(), &[("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", &format!("{}/v1/logs", up.url))]);
    let (report, _) = export(&ex, &t, Duration::from_secs(2));
    let err = report.into_result().unwrap_err();
    assert_eq!(accepted_items(&up.seen()), all_items(&t, Signal::Logs), "logs arrived in full");
    let lost: Vec<Signal> = err.failures.iter().map(|f| f.signal).collect();
    assert_eq!(lost, [Signal::Traces, Signal::Metrics]);
}

#[test]
fn signals_fan_out_to_the_backends_they_are_routed_to() {
    let t = telemetry("beeline.json");
    let otlp = FaultServer::always(Reply::status(200));
    // Honeycomb answers each event of a batch with its own status.
    let honeycomb = FaultServer::start(|_, req| {
        let events: Vec<sonic_rs::Value> = sonic_rs::from_slice(&req.body).unwrap();
        let statuses = vec![r#"{"status":202}"#; events.len()].join(",");
        Reply::status(200).json(&format!("[{statuses}]"))
    });
    let ex = exporters(
        &otlp.url,
        &[
            ("LOGSHIP_HONEYCOMB_API_KEY", "hcaik_test"),
            ("LOGSHIP_HONEYCOMB_API_URL", &honeycomb.url),
            ("LOGSHIP_TRACES_TO", "honeycomb"),
            ("LOGSHIP_LOGS_TO", "otlp"),
        ],
    );
    let (report, _) = export(&ex, &t, Duration::from_secs(10));
    let report = report.into_result().unwrap();
    let spans = t.span_count() as u64;
    assert_eq!(report.get("honeycomb", Signal::Traces).map(|r| r.delivered), Some(spans));
    assert!(report.get("otlp", Signal::Traces).is_none(), "traces go only where routed");
    assert_eq!(
        report.get("otlp", Signal::Metrics).map(|r| r.delivered),
        Some(t.resources.iter().map(|r| r.metrics.len() as u64).sum())
    );
    assert_eq!(report.get("otlp", Signal::Logs).map(|r| r.delivered), Some(t.log_count() as u64));
    let paths: BTreeSet<(String, String)> = otlp.seen().iter().map(|s| (s.method.clone(), s.path.clone())).collect();
    let post = |path: &str| ("POST".to_owned(), path.to_owned());
    assert_eq!(paths, BTreeSet::from([post("/v1/logs"), post("/v1/metrics")]));
    let seen = honeycomb.seen();
    assert!(seen.iter().all(|s| s.method == "POST"
        && s.path.starts_with("/1/batch/")
        && s.header("x-honeycomb-team") == Some("hcaik_test")));
    let events: usize = seen.iter().map(|s| sonic_rs::from_slice::<Vec<sonic_rs::Value>>(&s.body).unwrap().len()).sum();
    assert_eq!(events as u64, spans);
}
