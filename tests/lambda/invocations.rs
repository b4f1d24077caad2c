//! Every way an invocation can go, through the emulator and the shipper bootstrap: shipped to OTLP, written to
//! stdout, refused as unreadable, failed for an unreachable backend, and several served by one warm process.
//!
//! What the shipper should produce is computed with the library (`process_event`, the pipeline `logship replay`
//! runs too), so the checks are exact: ids, names, counts, bytes.

use crate::emulator::{Emulator, Invocation};
use crate::http::split_url;
use crate::proxy::Proxy;
use crate::rotel::{attr, Rotel};
use crate::shipper::Shipper;
use crate::{fixture, moto};
use logship::config::Config;
use logship::export::otlp_json::{encode, Signal};
use logship::pipeline::{process_event, Output};
use logship::telemetry::{MetricData, Status, Telemetry};
use serde_json::Value;
use std::time::Duration;

/// The function timeout of invocations meant to succeed: far more than they need.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for the emulator's answer to an invocation.
const WAIT: Duration = Duration::from_secs(60);

/// What the shipper should make of `event`, reporting `region` as `cloud.region`.
fn expected(event: &[u8], region: &str) -> Output {
    process_event(event, &Config { region: Some(region.into()), ..Config::default() }).unwrap()
}

/// Answered 200 with nothing handed back: `null` for a subscription event, an empty partial batch response for a
/// Kinesis or SQS batch (`{"Records":…}`).
#[track_caller]
fn assert_succeeded(inv: &Invocation, event: &[u8], shipper: &Shipper) {
    assert_eq!(inv.status(), 200, "the invocation failed: {}\n{}", inv.body(), shipper.output());
    let answer: Value = serde_json::from_str(&inv.body()).unwrap_or_else(|e| panic!("{e}: {:?}", inv.body()));
    let batch = serde_json::from_slice::<Value>(event).unwrap().get("Records").is_some();
    let want = if batch { serde_json::json!({ "batchItemFailures": [] }) } else { Value::Null };
    assert_eq!(answer, want);
}

/// Answered as a failed invocation (the emulator passes the runtime's error report on as a 500); its message.
#[track_caller]
fn assert_failed(inv: &Invocation, shipper: &Shipper) -> String {
    assert_eq!(inv.status(), 500, "expected the invocation to fail: {}\n{}", inv.body(), shipper.output());
    let (kind, message) = inv.error().unwrap_or_else(|| panic!("not a Lambda error report: {:?}", inv.body()));
    assert!(kind.starts_with("logship."), "a named errorType: {}", inv.body());
    message
}

/// The EMF summary line of one invocation: the `logship` namespace, this function, these counts.
#[track_caller]
fn assert_summary(summary: &Value, function: &str, want: &Output, failed: u64) {
    let directive = &summary["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "logship", "{summary}");
    assert_eq!(directive["Dimensions"], serde_json::json!([["FunctionName"]]), "{summary}");
    assert_eq!(summary["FunctionName"], function, "{summary}");
    let counts = ["LinesIn", "SpansOut", "PointsOut", "LogRecordsOut", "ItemsFailed"].map(|k| summary[k].as_u64());
    let s = &want.stats;
    assert_eq!(counts, [s.lines, s.spans, s.points, s.log_records, failed].map(Some), "{summary}");
    assert_eq!(summary["level"], if failed == 0 { "INFO" } else { "ERROR" }, "{summary}");
}

fn status_code(status: &Status) -> &'static str {
    match status {
        Status::Unset => "STATUS_CODE_UNSET",
        Status::Ok => "STATUS_CODE_OK",
        Status::Error(_) => "STATUS_CODE_ERROR",
    }
}

/// `http://127.0.0.1:PORT` with nothing listening: a backend that is down.
fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("http://{}", listener.local_addr().unwrap())
}

#[test]
fn subscription_and_kinesis_events_are_shipped_to_an_otlp_receiver() {
    const TEST: &str = "subscription_and_kinesis_events_are_shipped_to_an_otlp_receiver";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let Some(rotel) = Rotel::require(TEST) else { return };
    let function = emulator.function("otlp");
    // Reported as every resource's cloud.region: the function's unique name picks this test's data out of rotel's.
    let region = function.name.clone();
    let events = [fixture("events/node-text.json"), fixture("events/kinesis.json")];
    let want: Vec<Telemetry> = events.iter().map(|e| expected(e, &region).telemetry).collect();
    let shipper = Shipper::start(
        &function,
        TIMEOUT,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", rotel.endpoint()), ("AWS_REGION", &region)],
    );

    let mark = rotel.mark();
    for event in &events {
        assert_succeeded(&function.invoke(event, WAIT), event, &shipper);
    }

    let spans: usize = want.iter().map(Telemetry::span_count).sum();
    let metrics: usize = want.iter().flat_map(|t| &t.resources).map(|r| r.metrics.len()).sum();
    let logs: usize = want.iter().map(Telemetry::log_count).sum();
    assert!(spans > 4 && metrics > 0 && logs > 15, "both fixtures carry every signal");
    let got = rotel
        .wait_for_since(
            mark,
            |r| {
                let r = r.with_resource("cloud.region", &region);
                r.spans.len() >= spans && r.metrics.len() >= metrics && r.logs.len() >= logs
            },
            Duration::from_secs(20),
        )
        .with_resource("cloud.region", &region);
    assert!(got.errors.is_empty(), "rotel complained: {:?}", got.errors);

    // Spans: exactly the ones the pipeline makes of both events, ids, names and status included.
    let mut want_spans: Vec<(String, String, String, &str)> = want
        .iter()
        .flat_map(|t| &t.resources)
        .flat_map(|r| &r.spans)
        .map(|s| (s.trace_id.to_string(), s.span_id.to_string(), s.name.clone(), status_code(&s.status)))
        .collect();
    let mut got_spans: Vec<(String, String, String, &str)> =
        got.spans.iter().map(|s| (s.trace_id.clone(), s.span_id.clone(), s.name.clone(), s.status.as_str())).collect();
    want_spans.sort();
    got_spans.sort();
    assert_eq!(got_spans, want_spans);

    // Metrics: every one, by name, kind and number of points.
    let mut want_metrics: Vec<(String, &str, usize)> = want
        .iter()
        .flat_map(|t| &t.resources)
        .flat_map(|r| &r.metrics)
        .map(|m| {
            let kind = match &m.data {
                MetricData::Gauge(_) => "Gauge",
                MetricData::Sum { .. } => "Sum",
                MetricData::Histogram { .. } => "Histogram",
            };
            (m.name.clone(), kind, m.point_count())
        })
        .collect();
    let mut got_metrics: Vec<(String, &str, usize)> =
        got.metrics.iter().map(|m| (m.name.clone(), m.data_type.as_str(), m.points.len())).collect();
    want_metrics.sort();
    got_metrics.sort();
    assert_eq!(got_metrics, want_metrics);

    // Log records: every one, by CloudWatch event id, with its trace link and severity.
    let mut want_logs: Vec<(String, String, u8)> = want
        .iter()
        .flat_map(|t| &t.resources)
        .flat_map(|r| &r.logs)
        .map(|l| {
            let uid = l.attributes.iter().find(|kv| kv.key == "log.record.uid").and_then(|kv| kv.value.as_str());
            (
                uid.unwrap_or_default().to_owned(),
                l.trace_id.as_ref().map_or(String::new(), ToString::to_string),
                l.severity.as_ref().map_or(0, |s| s.number),
            )
        })
        .collect();
    let mut got_logs: Vec<(String, String, u8)> = got
        .logs
        .iter()
        .map(|l| {
            (
                attr(&l.attributes, "log.record.uid").unwrap_or_default().to_owned(),
                l.trace_id.clone(),
                l.severity_number,
            )
        })
        .collect();
    want_logs.sort();
    got_logs.sort();
    assert!(want_logs.iter().all(|(uid, _, _)| !uid.is_empty()), "every record carries its event id");
    assert_eq!(got_logs, want_logs);

    // And the shipper's own account of each invocation.
    let summaries = shipper.wait_for_summaries(2);
    for (summary, event) in summaries.iter().zip(&events) {
        assert_summary(summary, &function.name, &expected(event, &region), 0);
    }
}

#[test]
fn with_no_backend_configured_otlp_json_and_the_summary_go_to_stdout() {
    const TEST: &str = "with_no_backend_configured_otlp_json_and_the_summary_go_to_stdout";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let function = emulator.function("stdout");
    let event = fixture("events/node-text.json");
    let want = expected(&event, "us-east-1");
    let shipper = Shipper::start(&function, TIMEOUT, &[]);

    assert_succeeded(&function.invoke(&event, WAIT), &event, &shipper);
    let summary = shipper.wait_for_summaries(1).remove(0);
    assert_summary(&summary, &function.name, &want, 0);
    assert_eq!(summary["Requests"], 3, "one line per signal: {summary}");

    // The export requests `logship replay` writes for the same event, byte for byte, then the summary line.
    let stdout = shipper.stdout();
    let is_otlp = |l: &&String| l.starts_with(r#"{"resource"#);
    let otlp: Vec<&String> = stdout.iter().filter(is_otlp).collect();
    let want_otlp: Vec<String> = Signal::ALL
        .iter()
        .filter(|s| s.present_in(&want.telemetry))
        .map(|s| String::from_utf8(encode(&want.telemetry, *s)).unwrap())
        .collect();
    assert_eq!(otlp.len(), 3, "{}", shipper.output());
    assert_eq!(otlp, want_otlp.iter().collect::<Vec<_>>());
    let summary_at = stdout.iter().position(|l| l.contains(r#""_aws""#)).unwrap();
    assert!(stdout.iter().rposition(|l| is_otlp(&l)).unwrap() < summary_at, "the summary comes last");
}

#[test]
fn an_unreadable_payload_fails_the_invocation_naming_the_step_and_the_process_carries_on() {
    const TEST: &str = "an_unreadable_payload_fails_the_invocation_naming_the_step_and_the_process_carries_on";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let function = emulator.function("bad");
    let shipper = Shipper::start(&function, TIMEOUT, &[]);

    let inv = function.invoke(&fixture("bad/not-gzip.json"), WAIT);
    let message = assert_failed(&inv, &shipper);
    assert!(message.contains("awslogs.data: not gzip data"), "{message}");
    assert_eq!(inv.error().unwrap().0, "logship.UnreadableEvent");

    // The runtime reported the error and asked for the next event: a good one is shipped by the same process.
    let event = fixture("events/node-text.json");
    assert_succeeded(&function.invoke(&event, WAIT), &event, &shipper);
    let summaries = shipper.wait_for_summaries(1);
    assert_summary(summaries.last().unwrap(), &function.name, &expected(&event, "us-east-1"), 0);
    // Nothing of the unreadable payload was shipped: the only export requests are the good event's.
    let otlp = shipper.stdout().iter().filter(|l| l.starts_with(r#"{"resource"#)).count();
    assert_eq!(otlp, 3, "{}", shipper.output());
    let calls = shipper.runtime_calls();
    let posted = |end: &str| calls.iter().filter(|c| c.method == "POST" && c.path.ends_with(end)).count();
    assert_eq!((posted("/error"), posted("/response")), (1, 1), "{calls:?}");
}

/// The dead-letter queue redriven through an SQS mapping: readable messages are shipped, the unreadable one alone is
/// handed back by its message id, and the invocation succeeds so SQS deletes the rest.
#[test]
fn a_dead_letter_redrive_hands_back_only_its_unreadable_message() {
    const TEST: &str = "a_dead_letter_redrive_hands_back_only_its_unreadable_message";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let function = emulator.function("redrive");
    let good = fixture("events/sqs-redrive.json");
    let want = expected(&good, "us-east-1");
    let mut event: Value = serde_json::from_slice(&good).unwrap();
    let records = event["Records"].as_array_mut().unwrap();
    let mut bad = records[0].clone();
    bad["messageId"] = Value::from("4f3b1c1e-5a3c-4d1e-9a57-0d1c2b3a4e5f");
    bad["body"] = Value::from(r#"{"awslogs":{"data":"bm90IGd6aXA="}}"#);
    records.insert(1, bad);
    let event = serde_json::to_vec(&event).unwrap();
    let shipper = Shipper::start(&function, TIMEOUT, &[]);

    let inv = function.invoke(&event, WAIT);
    assert_eq!(inv.status(), 200, "{}\n{}", inv.body(), shipper.output());
    let answer: Value = serde_json::from_str(&inv.body()).unwrap();
    assert_eq!(
        answer,
        serde_json::json!({ "batchItemFailures": [{ "itemIdentifier": "4f3b1c1e-5a3c-4d1e-9a57-0d1c2b3a4e5f" }] })
    );
    let summary = shipper.wait_for_summaries(1).remove(0);
    assert_summary_level(&summary, "WARN");
    let counts = ["LinesIn", "SpansOut", "LogRecordsOut", "UnreadableRecords"].map(|k| summary[k].as_u64());
    let s = &want.stats;
    assert_eq!(counts, [Some(s.lines), Some(s.spans), Some(s.log_records), Some(1)], "{summary}");
    // Both readable messages' lines were shipped (the stdout sink), the unreadable one's handed back.
    let otlp: Vec<String> = shipper.stdout().into_iter().filter(|l| l.starts_with(r#"{"resource"#)).collect();
    let want_otlp: Vec<String> = Signal::ALL
        .iter()
        .filter(|s| s.present_in(&want.telemetry))
        .map(|s| String::from_utf8(encode(&want.telemetry, *s)).unwrap())
        .collect();
    assert_eq!(otlp, want_otlp, "{}", shipper.output());
}

#[track_caller]
fn assert_summary_level(summary: &Value, level: &str) {
    assert_eq!(summary["level"], level, "{summary}");
}

#[test]
fn undelivered_data_fails_the_invocation_before_its_deadline() {
    const TEST: &str = "undelivered_data_fails_the_invocation_before_its_deadline";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let function = emulator.function("down");
    let event = fixture("events/node-text.json");
    let want = expected(&event, "us-east-1");
    // A 3 s function timeout; the shipper keeps 500 ms of it back to report.
    let timeout = Duration::from_secs(3);
    let shipper = Shipper::start(
        &function,
        timeout,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &closed_port()), ("LOGSHIP_DEADLINE_MARGIN_MS", "500")],
    );

    let inv = function.invoke(&event, WAIT);
    let message = assert_failed(&inv, &shipper);
    assert_eq!(inv.error().unwrap().0, "logship.DeliveryFailed");
    // Each signal's loss by name, so Lambda's retry and the on-failure destination keep the event.
    for lost in [
        format!("otlp traces: {} spans not delivered", want.stats.spans),
        format!("otlp logs: {} log records not delivered", want.stats.log_records),
    ] {
        assert!(message.contains(&lost), "{lost:?} missing from {message:?}");
    }
    assert!(inv.took < timeout, "answered after {:?}, past the function's {timeout:?} timeout", inv.took);

    let summary = shipper.wait_for_summaries(1).remove(0);
    let s = &want.stats;
    assert_summary(&summary, &function.name, &want, s.spans + s.points + s.log_records);
    // It tried until its deadline rather than giving up at once: the deadline the runtime gave it was honoured.
    assert!(summary["Retries"].as_u64().is_some_and(|n| n > 0), "{summary}");
}

/// Stores an SSM SecureString parameter in moto, with the SDK the shipper uses.
fn put_parameter(moto: &str, name: &str, value: &str) {
    use aws_sdk_ssm::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(moto)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    let put = aws_sdk_ssm::Client::from_conf(conf)
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(put).unwrap_or_else(|e| panic!("PutParameter {name} in moto at {moto}: {e:?}"));
}

#[test]
fn one_process_serves_several_invocations_after_a_single_init() {
    const TEST: &str = "one_process_serves_several_invocations_after_a_single_init";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let Some(moto) = moto(TEST) else { return };
    let function = emulator.function("warm");
    // Init's observable work: the OTLP headers secret, an SSM parameter in moto, read through a proxy that counts.
    let parameter = format!("/logship/lambda-it/{}", function.name);
    put_parameter(&moto, &parameter, "x-logship-test=warm");
    let ssm = Proxy::start(split_url(&moto).0, None);
    let secret = format!("arn:aws:ssm:us-east-1:123456789012:parameter{parameter}");
    let endpoint = closed_port();
    let mut shipper = Shipper::start(
        &function,
        TIMEOUT,
        &[
            ("AWS_ENDPOINT_URL", &ssm.url()),
            ("LOGSHIP_OTLP_HEADERS_SECRET", &secret),
            // The secret belongs to the OTLP backend, so one is configured; the data is routed to stdout instead.
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("LOGSHIP_TRACES_TO", "stdout"),
            ("LOGSHIP_METRICS_TO", "stdout"),
            ("LOGSHIP_LOGS_TO", "stdout"),
        ],
    );
    let reads = || ssm.seen().iter().filter(|s| s.target.as_deref() == Some("AmazonSSM.GetParameter")).count();
    assert_eq!((reads(), ssm.seen().len()), (1, 1), "init reads the secret, once: {:?}", ssm.seen());
    assert_eq!(ssm.seen()[0].status, 200, "moto answered the read");

    let events = [fixture("events/node-text.json"), fixture("events/kinesis.json"), fixture("events/node-text.json")];
    for event in &events {
        assert_succeeded(&function.invoke(event, WAIT), event, &shipper);
    }
    assert!(shipper.is_running(), "the process lives on for the next event\n{}", shipper.output());
    assert_eq!(ssm.seen().len(), 1, "warm invocations call no AWS API: {:?}", ssm.seen());

    // One process answered all three, each counted on its own (nothing carried over from the one before).
    let summaries = shipper.wait_for_summaries(events.len());
    for (summary, event) in summaries.iter().zip(&events) {
        assert_summary(summary, &function.name, &expected(event, "us-east-1"), 0);
    }
    let calls = shipper.runtime_calls();
    let handed = calls.iter().filter(|c| c.path.ends_with("/invocation/next") && c.status == 200).count();
    let posted = |end: &str| calls.iter().filter(|c| c.method == "POST" && c.path.ends_with(end)).count();
    assert_eq!((handed, posted("/response"), posted("/error")), (3, 3, 0), "{calls:?}");
    assert!(!calls.iter().any(|c| c.path.contains("/init/")), "{calls:?}");
}
