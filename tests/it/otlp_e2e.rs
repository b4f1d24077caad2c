//! End to end into a real OTLP receiver: `logship replay` with only `OTEL_EXPORTER_OTLP_ENDPOINT` set, rotel listening.
//!
//! The exporter runs as users run it: the CLI binary, default protocol (protobuf) and compression (gzip). Each
//! test reports a `cloud.region` of its own, so parallel tests read only what they sent from rotel's output.

use crate::rotel::{Received, Rotel};
use logship::config::Config;
use logship::pipeline::process_event;
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

fn fixture(name: &str) -> std::path::PathBuf {
    crate::fixtures("events").into_iter().find(|p| p.ends_with(name)).unwrap()
}

/// Runs `logship replay FILE --stats` against `endpoint` with nothing else configured; returns stderr.
fn replay_to(endpoint: &str, file: &std::path::Path, region: &str, extra_env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_logship"));
    for (k, _) in std::env::vars() {
        if k.starts_with("OTEL_") || k.starts_with("LOGSHIP_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .envs(extra_env.iter().copied())
        .args(["replay", "--stats", "--region", region])
        .arg(file)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(out.status.success(), "{stderr}");
    assert!(out.stdout.is_empty(), "with an exporter configured nothing goes to stdout");
    stderr
}

fn wait(rotel: &Rotel, mark: crate::rotel::Mark, region: &str, spans: usize, metrics: usize, logs: usize) -> Received {
    let got = rotel.wait_for_since(
        mark,
        |r| {
            let r = r.with_resource("cloud.region", region);
            r.spans.len() >= spans && r.metrics.len() >= metrics && r.logs.len() >= logs
        },
        Duration::from_secs(20),
    );
    got.with_resource("cloud.region", region)
}

#[test]
fn only_the_otel_endpoint_set_delivers_spans_metrics_and_logs() {
    let Some(rotel) = Rotel::require("only_the_otel_endpoint_set_delivers_spans_metrics_and_logs") else { return };
    let region = "e2e-node-1";
    let path = fixture("node-text.json");
    let want =
        process_event(&std::fs::read(&path).unwrap(), &Config { region: Some(region.into()), ..Config::default() })
            .unwrap()
            .telemetry;
    let mark = rotel.mark();
    let stderr = replay_to(rotel.endpoint(), &path, region, &[]);
    assert!(stderr.contains("export: delivered 32  rejected 0  failed 0  requests 3"), "{stderr}");

    let got = wait(&rotel, mark, region, 4, 13, 15);
    assert!(got.errors.is_empty(), "rotel complained: {:?}", got.errors);
    // Spans: the same ids, names, status and invocation ids the pipeline produced.
    let want_spans: BTreeSet<(String, String, String)> = want.resources[0]
        .spans
        .iter()
        .map(|s| (s.trace_id.to_string(), s.span_id.to_string(), s.name.clone()))
        .collect();
    let got_spans: BTreeSet<(String, String, String)> =
        got.spans.iter().map(|s| (s.trace_id.clone(), s.span_id.clone(), s.name.clone())).collect();
    assert_eq!(got_spans, want_spans);
    let errors: Vec<&str> =
        got.spans.iter().filter(|s| s.status == "STATUS_CODE_ERROR").map(|s| s.status_message.as_str()).collect();
    assert_eq!(errors, ["Error: Card declined: insufficient_funds"]);
    assert!(got.spans.iter().all(|s| s.attr("faas.invocation_id").is_some() && s.kind.contains("SERVER")));

    // Metrics, values included: protobuf carries every number exactly.
    let names: BTreeSet<&str> = got.metrics.iter().map(|m| m.name.as_str()).collect();
    for name in [
        "faas.invoke_duration",
        "faas.init_duration",
        "faas.coldstarts",
        "faas.invocations",
        "faas.errors",
        "aws.lambda.estimated_cost",
        "checkout.orders.created",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let invoke = got.metric("faas.invoke_duration").unwrap();
    assert_eq!((invoke.unit.as_str(), invoke.points[0].count), ("s", Some(4)));
    let coldstarts = got.metric("faas.coldstarts").unwrap();
    assert_eq!(coldstarts.points[0].value.as_deref(), Some("1"));

    // Logs: every record, linked to its invocation's trace when the batch knew it.
    assert_eq!(got.logs.len(), 15);
    let linked = got.logs.iter().filter(|l| !l.trace_id.is_empty()).count();
    let want_linked = want.resources[0].logs.iter().filter(|l| l.trace_id.is_some()).count();
    assert_eq!(linked, want_linked);
}

#[test]
fn a_thousand_event_batch_arrives_whole_over_json_too() {
    let Some(rotel) = Rotel::require("a_thousand_event_batch_arrives_whole_over_json_too") else { return };
    let region = "e2e-typical-json";
    let mark = rotel.mark();
    let stderr = replay_to(
        rotel.endpoint(),
        &fixture("typical-1000.json"),
        region,
        &[("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")],
    );
    assert!(stderr.contains("failed 0"), "{stderr}");
    let got = wait(&rotel, mark, region, 112, 12, 541);
    assert_eq!((got.spans.len(), got.logs.len()), (112, 541));
    let distinct: BTreeSet<&str> = got.spans.iter().map(|s| s.span_id.as_str()).collect();
    assert_eq!(distinct.len(), 112, "each span arrived once");
}
