//! Properties of the whole pipeline over generated batches.

use logship::config::Config;
use logship::pipeline::process_event;
use logship::telemetry::{attr, AnyValue, MetricData};
use proptest::prelude::*;

fn logs_data(reports: &[(String, u32)]) -> String {
    let events: Vec<String> = reports
        .iter()
        .enumerate()
        .map(|(i, (rid, centi_ms))| {
            let d = f64::from(*centi_ms) / 100.0;
            let msg = format!(
                "REPORT RequestId: {rid}\\tDuration: {d:.2} ms\\tBilled Duration: {} ms\\tMemory Size: 256 MB\\tMax Memory Used: 80 MB\\t\\n",
                d.ceil()
            );
            format!(r#"{{"id":"{i}","timestamp":{},"message":"{msg}"}}"#, 1_793_534_400_000u64 + i as u64 * 10)
        })
        .collect();
    format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/p","logStream":"2026/11/01/[$LATEST]ab","subscriptionFilters":["f"],"logEvents":[{}]}}"#,
        events.join(",")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every REPORT becomes exactly one span whose length is its Duration, and every duration is counted once.
    #[test]
    fn span_durations_equal_report_durations(durations in proptest::collection::vec(1u32..90_000_000, 1..40)) {
        let reports: Vec<(String, u32)> = durations
            .iter()
            .enumerate()
            .map(|(i, d)| (format!("00000000-0000-4000-8000-{i:012}"), *d))
            .collect();
        let out = process_event(&crate::awslogs_event(&logs_data(&reports)), &Config::default()).unwrap();
        let r = &out.telemetry.resources[0];
        prop_assert_eq!(r.spans.len(), reports.len());
        for (span, (rid, centi_ms)) in r.spans.iter().zip(&reports) {
            prop_assert_eq!(attr(&span.attributes, "faas.invocation_id"), Some(&AnyValue::Str(rid.clone())));
            prop_assert_eq!(span.end_ns - span.start_ns, u64::from(*centi_ms) * 10_000);
        }
        let hist = r.metrics.iter().find(|m| m.name == "faas.invoke_duration").unwrap();
        let MetricData::Histogram { points, .. } = &hist.data else { panic!("histogram expected") };
        prop_assert_eq!(points.iter().map(|p| p.count).sum::<u64>(), reports.len() as u64);
        let want: f64 = reports.iter().map(|(_, c)| f64::from(*c) / 100_000.0).sum();
        prop_assert!((points[0].sum - want).abs() < 1e-6 * want.max(1.0));
    }

    /// Any message text is forwarded: a line never disappears, whatever it holds.
    #[test]
    fn no_line_is_lost(messages in proptest::collection::vec("\\PC{0,120}", 1..30)) {
        let events: Vec<String> = messages
            .iter()
            .enumerate()
            .map(|(i, m)| format!(r#"{{"id":"{i}","timestamp":1793534400000,"message":{}}}"#, sonic_rs::to_string(m).unwrap()))
            .collect();
        let doc = format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/lambda/p","logStream":"s","subscriptionFilters":[],"logEvents":[{}]}}"#,
            events.join(",")
        );
        let out = process_event(&crate::awslogs_event(&doc), &Config::default()).unwrap();
        prop_assert_eq!(out.stats.lines, messages.len() as u64);
        let by_format: u64 = out.stats.lines_by_format.values().sum();
        prop_assert_eq!(by_format, messages.len() as u64);
        // Every line is a log record, a metric, a span, or a platform record consumed into one.
        let produced = out.stats.log_records + out.stats.points + out.stats.spans;
        let platform = out.stats.lines_by_format.get(&logship::parse::Format::Platform).copied().unwrap_or(0)
            + out.stats.lines_by_format.get(&logship::parse::Format::JsonPlatform).copied().unwrap_or(0);
        prop_assert!(produced + platform >= messages.len() as u64);
    }
}

/// With logs routed nowhere the pipeline builds no log record, and nothing else changes: every fixture's spans
/// (statuses from handler errors in app lines included) and metrics are the same as with logs.
#[test]
fn dropping_logs_changes_nothing_but_the_logs() {
    for path in crate::fixtures("events") {
        let event = std::fs::read(&path).unwrap();
        let full = process_event(&event, &Config::default()).unwrap().telemetry;
        let lean = process_event(&event, &Config { drop_logs: true, ..Config::default() }).unwrap().telemetry;
        assert_eq!(lean.log_count(), 0, "{}", path.display());
        let without_logs = |t: &logship::telemetry::Telemetry| {
            let mut t = t.clone();
            t.resources.iter_mut().for_each(|r| r.logs.clear());
            t
        };
        assert_eq!(lean, without_logs(&full), "{}", path.display());
    }
}

/// Bodies rendered while they are parsed (`render_otlp_bodies`, as the shipper runs when logs go out as
/// OTLP/protobuf) are the bytes the encoder writes from the text: every fixture's requests are identical either way.
#[test]
fn bodies_rendered_while_parsing_encode_as_the_encoder_would() {
    use logship::export::{otlp_proto, Signal};
    let mut rendered_bodies = 0;
    for path in crate::fixtures("events") {
        let event = std::fs::read(&path).unwrap();
        let plain = process_event(&event, &Config::default()).unwrap().telemetry;
        let config = Config { render_otlp_bodies: true, ..Config::default() };
        let rendered = process_event(&event, &config).unwrap().telemetry;
        for signal in Signal::ALL {
            let (a, b) = (otlp_proto::encode(&plain, signal), otlp_proto::encode(&rendered, signal));
            assert!(a == b, "{} {signal:?}: the rendered bodies encode differently", path.display());
        }
        let bodies = |t: &logship::telemetry::Telemetry| {
            t.resources
                .iter()
                .flat_map(|r| &r.logs)
                .filter_map(|l| match &l.body {
                    AnyValue::Json(doc) => Some(doc.otlp().is_some()),
                    _ => None,
                })
                .collect::<Vec<bool>>()
        };
        assert!(bodies(&plain).iter().all(|r| !r), "{}: rendered without being asked", path.display());
        assert!(bodies(&rendered).iter().all(|r| *r), "{}: a JSON body was not rendered", path.display());
        rendered_bodies += bodies(&rendered).len();
    }
    assert!(rendered_bodies > 1000, "the fixtures hold JSON bodies: {rendered_bodies}");
}
