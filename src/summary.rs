//! The shipper's own line per invocation, in Embedded Metric Format: its health becomes CloudWatch metrics for free.

use crate::export::ExportReport;
use crate::pipeline::Stats;
use serde::Serialize;
use std::time::Duration;

/// CloudWatch namespace of logship's own metrics.
pub const NAMESPACE: &str = "logship";

const METRICS: [(&str, &str); 13] = [
    ("LinesIn", "Count"),
    ("UnreadableRecords", "Count"),
    ("MalformedLines", "Count"),
    ("BytesIn", "Bytes"),
    ("SpansOut", "Count"),
    ("PointsOut", "Count"),
    ("LogRecordsOut", "Count"),
    ("Requests", "Count"),
    ("Retries", "Count"),
    ("BytesSent", "Bytes"),
    ("ItemsRejected", "Count"),
    ("ItemsFailed", "Count"),
    ("Duration", "Milliseconds"),
];

#[derive(Serialize)]
struct Line<'a> {
    #[serde(rename = "_aws")]
    aws: Aws,
    level: &'static str,
    message: String,
    #[serde(rename = "FunctionName")]
    function: &'a str,
    #[serde(rename = "LinesIn")]
    lines_in: u64,
    #[serde(rename = "UnreadableRecords")]
    unreadable: u64,
    #[serde(rename = "MalformedLines")]
    malformed: u64,
    #[serde(rename = "BytesIn")]
    bytes_in: u64,
    #[serde(rename = "SpansOut")]
    spans: u64,
    #[serde(rename = "PointsOut")]
    points: u64,
    #[serde(rename = "LogRecordsOut")]
    logs: u64,
    #[serde(rename = "Requests")]
    requests: u64,
    #[serde(rename = "Retries")]
    retries: u64,
    #[serde(rename = "BytesSent")]
    bytes_sent: u64,
    #[serde(rename = "ItemsRejected")]
    rejected: u64,
    #[serde(rename = "ItemsFailed")]
    failed: u64,
    #[serde(rename = "Duration")]
    duration_ms: f64,
    failures: Vec<String>,
    rejections: Vec<&'a str>,
}

#[derive(Serialize)]
struct Aws {
    #[serde(rename = "Timestamp")]
    timestamp: u64,
    #[serde(rename = "CloudWatchMetrics")]
    directives: [Directive; 1],
}

#[derive(Serialize)]
struct Directive {
    #[serde(rename = "Namespace")]
    namespace: &'static str,
    #[serde(rename = "Dimensions")]
    dimensions: [[&'static str; 1]; 1],
    #[serde(rename = "Metrics")]
    metrics: Vec<MetricDef>,
}

#[derive(Serialize)]
struct MetricDef {
    #[serde(rename = "Name")]
    name: &'static str,
    #[serde(rename = "Unit")]
    unit: &'static str,
}

/// One JSON line for the invocation: counts in, counts out, what delivery cost, and every failure by name.
pub fn emf_line(function: &str, stats: &Stats, report: &ExportReport, took: Duration, now_ms: u64) -> String {
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    let failed: u64 = report.failures().map(|f| f.items).sum();
    let rejections: Vec<&str> = report.signals.iter().flat_map(|s| s.rejections.iter().map(String::as_str)).collect();
    let message = if failures.is_empty() {
        let mut m = format!(
            "shipped {} spans, {} metric points, {} log records from {} lines",
            stats.spans, stats.points, stats.log_records, stats.lines
        );
        if stats.rejected_records > 0 {
            m += &format!("; {} unreadable records handed back for retry", stats.rejected_records);
        }
        m
    } else {
        format!("delivery failed for {failed} items; the event will be retried")
    };
    let line = Line {
        aws: Aws {
            timestamp: now_ms,
            directives: [Directive {
                namespace: NAMESPACE,
                dimensions: [["FunctionName"]],
                metrics: METRICS.iter().map(|(name, unit)| MetricDef { name, unit }).collect(),
            }],
        },
        level: match (failures.is_empty(), stats.rejected_records) {
            (false, _) => "ERROR",
            (true, 0) => "INFO",
            (true, _) => "WARN",
        },
        message,
        function,
        lines_in: stats.lines,
        unreadable: stats.rejected_records,
        malformed: stats.malformed(),
        bytes_in: stats.inflated_bytes,
        spans: stats.spans,
        points: stats.points,
        logs: stats.log_records,
        requests: report.requests(),
        retries: report.retries(),
        bytes_sent: report.bytes(),
        rejected: report.rejected(),
        failed,
        duration_ms: took.as_secs_f64() * 1000.0,
        failures,
        rejections,
    };
    sonic_rs::to_string(&line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Failure, Signal, SignalReport};

    #[test]
    fn the_line_is_an_emf_document_every_metric_of_which_is_present() {
        let stats =
            Stats { lines: 31, spans: 4, points: 13, log_records: 15, inflated_bytes: 8088, ..Stats::default() };
        let report = ExportReport {
            signals: vec![SignalReport {
                backend: "otlp".into(),
                signal: Some(Signal::Logs),
                items: 15,
                requests: 3,
                retries: 2,
                bytes: 2048,
                failures: vec![Failure {
                    backend: "otlp".into(),
                    signal: Signal::Logs,
                    items: 15,
                    reason: "HTTP 503".into(),
                }],
                ..SignalReport::default()
            }],
        };
        let line = emf_line("logship-shipper", &stats, &report, Duration::from_millis(250), 1_793_534_400_000);
        // The project's own EMF parser reads it back: every declared metric has a numeric member.
        let parsed = crate::parse::parse_line(&line, 0);
        assert_eq!(parsed.format, crate::parse::Format::Emf, "{line}");
        let names: Vec<String> = parsed
            .items
            .iter()
            .filter_map(|i| match i {
                crate::parse::Item::Metric(m) => Some(m.name.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(names, METRICS.iter().map(|(n, _)| n.to_string()).collect::<Vec<_>>());
        assert!(line.contains(r#""ItemsFailed":15"#), "{line}");
        assert!(line.contains(r#""failures":["otlp logs: 15 log records not delivered: HTTP 503"]"#), "{line}");
        assert!(line.contains(r#""level":"ERROR""#));
    }
}
