//! OTLP/JSON encoding of [`Telemetry`]: one `ExportTrace/Metrics/LogsServiceRequest` per signal.
//!
//! Follows the OTLP JSON mapping: lowerCamelCase names, trace and span ids as hex (not base64), 64-bit integers
//! as decimal strings, enums as numbers, empty fields left out. The same encoding serves the stdout sink (the
//! Collector file exporter's format) and OTLP/HTTP with `application/json`.

use crate::telemetry::{
    AnyValue, HistogramPoint, KeyValue, LogRecord, Metric, MetricData, Number, NumberPoint, Resource,
    ResourceTelemetry, Span, Status, Telemetry,
};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

/// Which signal a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Signal {
    pub const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Metrics => "metrics",
            Signal::Logs => "logs",
        }
    }

    /// Whether `t` has anything of this signal; empty requests are never sent.
    pub fn present_in(self, t: &Telemetry) -> bool {
        match self {
            Signal::Traces => t.span_count() > 0,
            Signal::Metrics => t.point_count() > 0,
            Signal::Logs => t.log_count() > 0,
        }
    }
}

/// Encodes one export request for `signal`.
pub fn encode(t: &Telemetry, signal: Signal) -> Vec<u8> {
    let request = Request { t, signal };
    // Serializing plain data into a Vec cannot fail; an empty body would only ever mean a bug here.
    sonic_rs::to_vec(&request).unwrap_or_default()
}

struct Request<'a> {
    t: &'a Telemetry,
    signal: Signal,
}

impl Serialize for Request<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (key, scope_key) = match self.signal {
            Signal::Traces => ("resourceSpans", "scopeSpans"),
            Signal::Metrics => ("resourceMetrics", "scopeMetrics"),
            Signal::Logs => ("resourceLogs", "scopeLogs"),
        };
        let signal = self.signal;
        let present = |r: &&ResourceTelemetry| match signal {
            Signal::Traces => !r.spans.is_empty(),
            Signal::Metrics => !r.metrics.is_empty(),
            Signal::Logs => !r.logs.is_empty(),
        };
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(key, &Resources { t: self.t, present, scope_key, signal })?;
        m.end()
    }
}

struct Resources<'a, P> {
    t: &'a Telemetry,
    present: P,
    scope_key: &'static str,
    signal: Signal,
}

impl<P: Fn(&&ResourceTelemetry) -> bool> Serialize for Resources<'_, P> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for r in self.t.resources.iter().filter(&self.present) {
            seq.serialize_element(&ResourceEntry { r, scope_key: self.scope_key, signal: self.signal })?;
        }
        seq.end()
    }
}

struct ResourceEntry<'a> {
    r: &'a ResourceTelemetry,
    scope_key: &'static str,
    signal: Signal,
}

impl Serialize for ResourceEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("resource", &J(&self.r.resource))?;
        m.serialize_entry(self.scope_key, &[ScopeEntry { r: self.r, signal: self.signal }])?;
        m.end()
    }
}

struct ScopeEntry<'a> {
    r: &'a ResourceTelemetry,
    signal: Signal,
}

impl Serialize for ScopeEntry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("scope", &Scope)?;
        match self.signal {
            Signal::Traces => m.serialize_entry("spans", &J(self.r.spans.as_slice()))?,
            Signal::Metrics => m.serialize_entry("metrics", &J(self.r.metrics.as_slice()))?,
            Signal::Logs => m.serialize_entry("logRecords", &J(self.r.logs.as_slice()))?,
        }
        m.end()
    }
}

struct Scope;

impl Serialize for Scope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", "logship")?;
        m.serialize_entry("version", env!("CARGO_PKG_VERSION"))?;
        m.end()
    }
}

/// The OTLP/JSON view of a model value.
struct J<'a, T: ?Sized>(&'a T);

impl<T> Serialize for J<'_, [T]>
where
    for<'b> J<'b, T>: Serialize,
{
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(&J(item))?;
        }
        seq.end()
    }
}

/// 64-bit integers are decimal strings in the OTLP JSON mapping.
impl Serialize for J<'_, u64> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

impl Serialize for J<'_, i64> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

/// JSON has no NaN or infinity; the proto3 JSON strings stand in for them.
impl Serialize for J<'_, f64> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = *self.0;
        if v.is_nan() {
            s.serialize_str("NaN")
        } else if v == f64::INFINITY {
            s.serialize_str("Infinity")
        } else if v == f64::NEG_INFINITY {
            s.serialize_str("-Infinity")
        } else {
            s.serialize_f64(v)
        }
    }
}

impl Serialize for J<'_, Resource> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("attributes", &J(self.0.attributes.as_slice()))?;
        m.end()
    }
}

impl Serialize for J<'_, KeyValue> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("key", &*self.0.key)?;
        m.serialize_entry("value", &J(&self.0.value))?;
        m.end()
    }
}

impl Serialize for J<'_, AnyValue> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if let AnyValue::Json(doc) = self.0 {
            return J(&doc.parse()).serialize(s);
        }
        let mut m = s.serialize_map(Some(1))?;
        match self.0 {
            AnyValue::Str(v) => m.serialize_entry("stringValue", v)?,
            AnyValue::Bool(v) => m.serialize_entry("boolValue", v)?,
            AnyValue::Int(v) => m.serialize_entry("intValue", &J(v))?,
            AnyValue::Double(v) => m.serialize_entry("doubleValue", &J(v))?,
            AnyValue::Array(vs) => m.serialize_entry("arrayValue", &Values(J(vs.as_slice())))?,
            AnyValue::Map(kvs) => m.serialize_entry("kvlistValue", &Values(J(kvs.as_slice())))?,
            AnyValue::Bytes(b) => {
                use base64::Engine as _;
                m.serialize_entry("bytesValue", &base64::engine::general_purpose::STANDARD.encode(b))?
            }
            // Turned into its tree above.
            AnyValue::Json(_) => {}
        }
        m.end()
    }
}

/// `{"values": …}`, the wrapper of OTLP's ArrayValue and KeyValueList.
struct Values<T>(T);

impl<T: Serialize> Serialize for Values<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("values", &self.0)?;
        m.end()
    }
}

impl Serialize for J<'_, Span> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let span = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("traceId", &span.trace_id.to_string())?;
        m.serialize_entry("spanId", &span.span_id.to_string())?;
        if let Some(parent) = span.parent_span_id {
            m.serialize_entry("parentSpanId", &parent.to_string())?;
        }
        m.serialize_entry("name", &span.name)?;
        m.serialize_entry("kind", &(span.kind as u8))?;
        m.serialize_entry("startTimeUnixNano", &J(&span.start_ns))?;
        m.serialize_entry("endTimeUnixNano", &J(&span.end_ns))?;
        if !span.attributes.is_empty() {
            m.serialize_entry("attributes", &J(span.attributes.as_slice()))?;
        }
        match &span.status {
            Status::Unset => {}
            Status::Ok => m.serialize_entry("status", &StatusOut(1, ""))?,
            Status::Error(message) => m.serialize_entry("status", &StatusOut(2, message))?,
        }
        m.end()
    }
}

struct StatusOut<'a>(u8, &'a str);

impl Serialize for StatusOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if !self.1.is_empty() {
            m.serialize_entry("message", self.1)?;
        }
        m.serialize_entry("code", &self.0)?;
        m.end()
    }
}

impl Serialize for J<'_, LogRecord> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let log = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("timeUnixNano", &J(&log.time_ns))?;
        m.serialize_entry("observedTimeUnixNano", &J(&log.observed_ns))?;
        if let Some(sev) = &log.severity {
            if sev.number > 0 {
                m.serialize_entry("severityNumber", &sev.number)?;
            }
            if !sev.text.is_empty() {
                m.serialize_entry("severityText", &sev.text)?;
            }
        }
        m.serialize_entry("body", &J(&log.body))?;
        if !log.attributes.is_empty() {
            m.serialize_entry("attributes", &J(log.attributes.as_slice()))?;
        }
        if let Some(t) = log.trace_id {
            m.serialize_entry("traceId", &t.to_string())?;
        }
        if let Some(sp) = log.span_id {
            m.serialize_entry("spanId", &sp.to_string())?;
        }
        m.end()
    }
}

impl Serialize for J<'_, Metric> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let metric = self.0;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", &metric.name)?;
        if !metric.description.is_empty() {
            m.serialize_entry("description", &metric.description)?;
        }
        if !metric.unit.is_empty() {
            m.serialize_entry("unit", &metric.unit)?;
        }
        match &metric.data {
            MetricData::Gauge(points) => m.serialize_entry("gauge", &Points(points, None, false))?,
            MetricData::Sum { points, temporality, monotonic } => {
                m.serialize_entry("sum", &Points(points, Some(*temporality as u8), *monotonic))?
            }
            MetricData::Histogram { points, temporality } => {
                m.serialize_entry("histogram", &HistogramOut(points, *temporality as u8))?
            }
        }
        m.end()
    }
}

struct Points<'a>(&'a [NumberPoint], Option<u8>, bool);

impl Serialize for Points<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("dataPoints", &J(self.0))?;
        if let Some(t) = self.1 {
            m.serialize_entry("aggregationTemporality", &t)?;
            if self.2 {
                m.serialize_entry("isMonotonic", &true)?;
            }
        }
        m.end()
    }
}

impl Serialize for J<'_, NumberPoint> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        if !p.attributes.is_empty() {
            m.serialize_entry("attributes", &J(p.attributes.as_slice()))?;
        }
        if p.start_ns > 0 {
            m.serialize_entry("startTimeUnixNano", &J(&p.start_ns))?;
        }
        m.serialize_entry("timeUnixNano", &J(&p.time_ns))?;
        match &p.value {
            Number::Int(v) => m.serialize_entry("asInt", &J(v))?,
            Number::Double(v) => m.serialize_entry("asDouble", &J(v))?,
        }
        m.end()
    }
}

struct HistogramOut<'a>(&'a [HistogramPoint], u8);

impl Serialize for HistogramOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("dataPoints", &J(self.0))?;
        m.serialize_entry("aggregationTemporality", &self.1)?;
        m.end()
    }
}

impl Serialize for J<'_, HistogramPoint> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut m = s.serialize_map(None)?;
        if !p.attributes.is_empty() {
            m.serialize_entry("attributes", &J(p.attributes.as_slice()))?;
        }
        if p.start_ns > 0 {
            m.serialize_entry("startTimeUnixNano", &J(&p.start_ns))?;
        }
        m.serialize_entry("timeUnixNano", &J(&p.time_ns))?;
        m.serialize_entry("count", &J(&p.count))?;
        m.serialize_entry("sum", &J(&p.sum))?;
        m.serialize_entry("bucketCounts", &J(p.bucket_counts.as_slice()))?;
        if !p.bounds.is_empty() {
            m.serialize_entry("explicitBounds", &J(p.bounds.as_slice()))?;
        }
        if p.count > 0 {
            m.serialize_entry("min", &J(&p.min))?;
            m.serialize_entry("max", &J(&p.max))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{Severity, SpanId, SpanKind, Temporality, TraceId};

    fn sample() -> Telemetry {
        let resource = Resource { attributes: vec![KeyValue::new("service.name", "checkout")] };
        let span = Span {
            trace_id: TraceId::from_hex("5759e988bd862e3fe1be46a994272793").unwrap(),
            span_id: SpanId::from_hex("53995c3f42cd8ad8").unwrap(),
            parent_span_id: None,
            name: "checkout".into(),
            kind: SpanKind::Server,
            start_ns: 1_000_000_000_000_000_001,
            end_ns: 1_000_000_000_102_250_001,
            attributes: vec![
                KeyValue::new("faas.coldstart", true),
                KeyValue::new("aws.lambda.memory_size_mb", 128i64),
                KeyValue::new("aws.lambda.duration_ms", 102.25),
                KeyValue::new("tags", AnyValue::Array(vec!["a".into()])),
            ],
            status: Status::Error("Task timed out after 3.00 seconds".into()),
        };
        let log = LogRecord {
            time_ns: 5,
            observed_ns: 6,
            severity: Some(Severity::parse("WARN")),
            body: AnyValue::Map(vec![KeyValue::new("msg", "hi"), KeyValue::new("n", 1i64)]),
            attributes: vec![],
            trace_id: None,
            span_id: None,
        };
        let metric = Metric {
            name: "faas.invoke_duration".into(),
            description: String::new(),
            unit: "s".into(),
            data: MetricData::Histogram {
                points: vec![HistogramPoint::from_samples(vec![], 1, 2, &[0.1], [0.05, 0.2])],
                temporality: Temporality::Delta,
            },
        };
        let counter = Metric {
            name: "orders".into(),
            description: String::new(),
            unit: String::new(),
            data: MetricData::Sum {
                points: vec![NumberPoint { attributes: vec![], start_ns: 3, time_ns: 3, value: Number::Int(2) }],
                temporality: Temporality::Delta,
                monotonic: true,
            },
        };
        Telemetry {
            resources: vec![ResourceTelemetry {
                resource,
                spans: vec![span],
                metrics: vec![metric, counter],
                logs: vec![log],
            }],
        }
    }

    #[test]
    fn requests_follow_the_otlp_json_mapping() {
        let t = sample();
        let out: Vec<String> = Signal::ALL.iter().map(|s| String::from_utf8(encode(&t, *s)).unwrap()).collect();
        insta::assert_snapshot!(out.join("\n"));
    }

    #[test]
    fn resources_without_the_signal_are_left_out() {
        let mut t = sample();
        t.resources[0].logs.clear();
        assert!(!Signal::Logs.present_in(&t));
        assert_eq!(String::from_utf8(encode(&t, Signal::Logs)).unwrap(), r#"{"resourceLogs":[]}"#);
    }
}
