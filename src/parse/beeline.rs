//! Honeycomb beeline / libhoney events written to stdout: one span per event; span events and links become logs.
//!
//! The shapes, as the libraries write them:
//! - libhoney-go `WriterSender`: `{"data":{…},"samplerate":N,"time":"…","dataset":"…"}`, `samplerate` left out
//!   when it is 1 and `time` left out when unset.
//! - libhoney-py `FileTransmission`: `{"time","samplerate","dataset","user_agent","data"}`; Python's naive
//!   `isoformat()` plus `Z`, so the fraction is missing when it is zero; `trace.parent_id` is `null` on roots.
//! - libhoney-js `ConsoleTransmission`/`StdoutTransmission`: `{"time","samplerate","data"}`; the deprecated
//!   `WriterTransmission` logs `JSON.stringify` of the already-serialized event, i.e. a JSON string literal.
//! - libhoney-js `AWSExtensionTransmission`: the bare `data` object with `meta.samplerate` added, no envelope.
//!
//! `time` is the span's start (all beelines stamp the event when the span opens) and the line is written when the
//! span ends, which is why an event without `time` ends at the log line's time rather than starting there.

use super::{from_json, AppLog, Ctx, Format, Item, ParseError};
use crate::telemetry::{self, AnyValue, Attributes, KeyValue, Span, SpanId, SpanKind, Status, TraceId, UnixNanos};

const TRACE_ID: &str = "trace.trace_id";
const SPAN_ID: &str = "trace.span_id";
const PARENT_ID: &str = "trace.parent_id";
const DURATION: &str = "duration_ms";

/// Fields whose presence marks a span as failed, first found wins: Honeycomb's standard `error` (bool or string;
/// beeline-go's gRPC client and beeline-nodejs's mysql2 and mongodb instrumentations write the error text there),
/// beeline-nodejs's hapi `error.message`, `app.error` (written by no beeline, but where an application's own
/// error lands under the `app.` namespace beeline-nodejs and beeline-python give trace fields), beeline-python's
/// tracer (`app.exception_*`), beeline-go's sql wrappers (`db.error`). No beeline writes `meta.error`.
const ERROR_KEYS: [&str; 6] =
    ["error", "error.message", "app.error", "app.exception_string", "app.exception_type", "db.error"];

/// Where the text of an error lives when the flag is only `error: true`. `error_detail` comes before even a
/// textual flag, being the longer account.
const DETAIL_KEYS: [&str; 3] = ["error.message", "app.exception_string", "status.message"];

/// Parses one beeline / libhoney event. Lines that name `trace.trace_id` but are not usable events are errors;
/// events without trace fields are left to the JSON log parser.
pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    let text = line.trim();
    if !(text.starts_with('{') || text.starts_with("\"{")) || !text.contains(TRACE_ID) {
        return Ok(None);
    }
    let top: AnyValue = if text.starts_with('{') {
        from_shallow_json(text)?
    } else {
        // libhoney-js's deprecated WriterTransmission: the event, serialized once more as a string.
        let inner: String = from_json(Format::Beeline, text)?;
        from_shallow_json(&inner)?
    };
    let AnyValue::Map(top) = top else {
        return Err(err("not a JSON object"));
    };
    let Some(event) = Event::from_top(top)? else {
        return Ok(None);
    };
    event.into_item(ctx).map(|item| Some(vec![item]))
}

/// The event nested in a string is checked here; the line itself was checked by the dispatcher.
fn from_shallow_json(text: &str) -> Result<AnyValue, ParseError> {
    if super::nested_deeper_than(text, super::MAX_JSON_DEPTH) {
        return Err(err(format!("nested deeper than {} levels", super::MAX_JSON_DEPTH)));
    }
    from_json(Format::Beeline, text)
}

fn err(reason: impl Into<String>) -> ParseError {
    ParseError::new(Format::Beeline, reason)
}

/// One event, envelope taken apart.
#[derive(Debug)]
struct Event {
    data: Vec<KeyValue>,
    /// Start of the span when the event says.
    time_ns: Option<UnixNanos>,
    sample_rate: i64,
    dataset: Option<String>,
    user_agent: Option<String>,
}

impl Event {
    fn from_top(mut top: Vec<KeyValue>) -> Result<Option<Event>, ParseError> {
        if top.iter().any(|kv| kv.key == TRACE_ID) {
            // The flat shape: the event is its own `data`, and a field called `data` is just a field.
            let sample_rate = take(&mut top, "meta.samplerate").as_ref().map_or(1, sample_rate);
            let time_ns = ["time", "timestamp"].into_iter().find_map(|k| telemetry::attr(&top, k).and_then(timestamp));
            return Ok(Some(Event { data: top, time_ns, sample_rate, dataset: None, user_agent: None }));
        }
        let data = match take(&mut top, "data") {
            Some(AnyValue::Map(data)) => data,
            Some(_) => return Err(err("`data` is not an object")),
            None => return Ok(None),
        };
        if !data.iter().any(|kv| kv.key == TRACE_ID) {
            return Ok(None);
        }
        Ok(Some(Event {
            data,
            time_ns: telemetry::attr(&top, "time").and_then(timestamp),
            // libhoney-go leaves `samplerate` out when it is 1; the publisher treats anything below 1 the same way.
            sample_rate: telemetry::attr(&top, "samplerate").map_or(1, sample_rate),
            // libhoney-py writes `null` when no dataset is configured.
            dataset: take_string(&mut top, "dataset").filter(|d| !d.is_empty()),
            user_agent: take_string(&mut top, "user_agent").filter(|u| !u.is_empty()),
        }))
    }

    fn into_item(mut self, ctx: &Ctx<'_>) -> Result<Item, ParseError> {
        // Derived ids cannot be searched for in the tool that wrote them, so originals that differ from the id as
        // printed stay alongside.
        let mut originals = Attributes::new();
        let trace_raw = required_id(&mut self.data, TRACE_ID)?;
        let trace_id = trace_id(&trace_raw);
        keep_original(&mut originals, "honeycomb.trace_id", trace_id, trace_raw);
        let parent = match take(&mut self.data, PARENT_ID) {
            None => None,
            // beeline-python writes `null` for a root; AnyValue reads null as "".
            Some(AnyValue::Str(s)) if s.trim().is_empty() => None,
            Some(AnyValue::Str(s)) => {
                let id = SpanId::derive(&s);
                keep_original(&mut originals, "honeycomb.parent_id", id, s);
                Some(id)
            }
            Some(_) => return Err(err(format!("{PARENT_ID} is not a string"))),
        };

        if let Some(kind) = annotation_type(&self.data) {
            return Ok(Item::Log(self.annotation(kind, ctx, trace_id, parent, originals)));
        }

        let span_raw = required_id(&mut self.data, SPAN_ID)?;
        let span_id = SpanId::derive(&span_raw);
        keep_original(&mut originals, "honeycomb.span_id", span_id, span_raw);
        let duration_ns = match take(&mut self.data, DURATION) {
            // Honeycomb draws an event without a duration as an instant; so do we.
            None => 0,
            Some(v) => match v.as_f64() {
                Some(ms) if ms >= 0.0 => telemetry::duration_ms_to_ns(ms),
                Some(_) => return Err(err(format!("{DURATION} is negative"))),
                None => return Err(err(format!("{DURATION} is not a number"))),
            },
        };
        let start_ns = self.time_ns.unwrap_or_else(|| ctx.time_ns().saturating_sub(duration_ns));
        let name = take_string(&mut self.data, "name")
            .filter(|n| !n.is_empty())
            .or_else(|| telemetry::attr(&self.data, "service_name").and_then(AnyValue::as_str).map(str::to_owned))
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "beeline span".to_owned());
        // beeline-go marks the entry span of each process `root` (no remote parent) or `subroot` (continuing a
        // propagated trace); the other beelines write no span type, so a span without a parent stands for it.
        let entry = matches!(
            telemetry::attr(&self.data, "meta.span_type").and_then(AnyValue::as_str),
            Some("root" | "subroot")
        );
        let kind = if entry || parent.is_none() { SpanKind::Server } else { SpanKind::Internal };
        let status = error_status(&self.data);
        let mut attributes = self.attributes();
        attributes.append(&mut originals);
        // The span's own trace is the beeline's, not the invocation's; the request id its line was printed under
        // is what ties the two together.
        if let Some(request_id) = ctx.request_id() {
            if telemetry::attr(&attributes, "faas.invocation_id").is_none() {
                attributes.push(KeyValue::new("faas.invocation_id", request_id));
            }
        }
        Ok(Item::Span(Span {
            trace_id,
            span_id,
            parent_span_id: parent,
            name,
            kind,
            start_ns,
            end_ns: start_ns.saturating_add(duration_ns),
            attributes,
            status,
        }))
    }

    /// A span event or link: Honeycomb sends them as separate events that point at their span through
    /// `trace.parent_id` and carry no `trace.span_id`. `telemetry::Span` has neither events nor links, and the span
    /// they belong to may sit in another batch, so they travel as log records correlated to that span (OTLP's own
    /// model for timestamped span annotations); a link keeps `trace.link.trace_id`/`trace.link.span_id`.
    fn annotation(
        mut self,
        kind: &str,
        ctx: &Ctx<'_>,
        trace_id: TraceId,
        span_id: Option<SpanId>,
        mut originals: Attributes,
    ) -> AppLog {
        let body = take_string(&mut self.data, "name").filter(|n| !n.is_empty()).unwrap_or_else(|| kind.to_owned());
        let mut attributes = self.attributes();
        attributes.append(&mut originals);
        AppLog {
            time_ns: self.time_ns.unwrap_or_else(|| ctx.time_ns()),
            request_id: ctx.request_id().map(str::to_owned),
            severity: ctx.severity(),
            body: AnyValue::Str(body),
            attributes,
            trace_id: Some(trace_id),
            span_id,
        }
    }

    /// The event's remaining fields with their JSON types, then what the envelope said.
    fn attributes(&mut self) -> Attributes {
        let mut attributes = std::mem::take(&mut self.data);
        if let Some(dataset) = self.dataset.take() {
            attributes.push(KeyValue::new("honeycomb.dataset", dataset));
        }
        // Each event stands for `samplerate` events (1 in N were kept): any count or sum built from these spans
        // must be weighted by it, and a Honeycomb export must send it back as the event's sample rate.
        attributes.push(KeyValue::new("honeycomb.samplerate", self.sample_rate));
        if let Some(user_agent) = self.user_agent.take() {
            attributes.push(KeyValue::new("honeycomb.user_agent", user_agent));
        }
        attributes
    }
}

/// `span_event` or `link` when the event annotates a span rather than being one. Honeycomb's field is
/// `meta.annotation_type`; some exporters (OpenTelemetry Ruby's, logback's) write the same values in
/// `meta.span_type`.
fn annotation_type(data: &[KeyValue]) -> Option<&'static str> {
    ["meta.annotation_type", "meta.span_type"].into_iter().find_map(|k| {
        match telemetry::attr(data, k).and_then(AnyValue::as_str) {
            Some("span_event") => Some("span_event"),
            Some("link") => Some("link"),
            _ => None,
        }
    })
}

fn take(kvs: &mut Vec<KeyValue>, key: &str) -> Option<AnyValue> {
    let i = kvs.iter().position(|kv| kv.key == key)?;
    Some(kvs.remove(i).value)
}

/// Removes `key` when it holds a string; any other value stays behind as an attribute.
fn take_string(kvs: &mut Vec<KeyValue>, key: &str) -> Option<String> {
    let i = kvs.iter().position(|kv| kv.key == key && matches!(kv.value, AnyValue::Str(_)))?;
    match kvs.remove(i).value {
        AnyValue::Str(s) => Some(s),
        _ => None,
    }
}

/// Honeycomb requires ids to be strings; an empty one identifies nothing.
fn required_id(data: &mut Vec<KeyValue>, key: &str) -> Result<String, ParseError> {
    match take(data, key) {
        None => Err(err(format!("no {key}"))),
        Some(AnyValue::Str(s)) if s.trim().is_empty() => Err(err(format!("empty {key}"))),
        Some(AnyValue::Str(s)) => Ok(s),
        Some(_) => Err(err(format!("{key} is not a string"))),
    }
}

/// W3C hex ids (beeline-python, newer beelines) are used as they are; beeline-nodejs's AWS propagation puts the
/// X-Ray root there, which must land on the trace Lambda itself reports; UUIDs (beeline-go, older beelines) and
/// anything else are derived.
fn trace_id(raw: &str) -> TraceId {
    TraceId::from_hex(raw).or_else(|| TraceId::from_xray(raw)).unwrap_or_else(|| TraceId::derive(raw))
}

fn keep_original(attributes: &mut Attributes, key: &'static str, id: impl std::fmt::Display, raw: String) {
    if id.to_string() != raw {
        attributes.push(KeyValue::new(key, raw));
    }
}

fn timestamp(v: &AnyValue) -> Option<UnixNanos> {
    match v {
        AnyValue::Str(s) => crate::time::parse_timestamp(s.trim()),
        AnyValue::Int(_) | AnyValue::Double(_) => v.as_f64().and_then(crate::time::from_epoch_number),
        _ => None,
    }
}

/// Honeycomb sample rates are positive integers; anything else means "not sampled".
fn sample_rate(v: &AnyValue) -> i64 {
    match v.as_f64() {
        Some(r) if r >= 1.0 && r < i64::MAX as f64 => r.round() as i64,
        _ => 1,
    }
}

fn error_status(data: &[KeyValue]) -> Status {
    let Some(value) = ERROR_KEYS.into_iter().find_map(|k| telemetry::attr(data, k).filter(|v| flags_error(v))) else {
        return Status::Unset;
    };
    let message = telemetry::attr(data, "error_detail")
        .and_then(error_text)
        .or_else(|| error_text(value))
        .or_else(|| DETAIL_KEYS.into_iter().find_map(|k| telemetry::attr(data, k).and_then(error_text)))
        .unwrap_or("error");
    Status::Error(message.to_owned())
}

fn flags_error(v: &AnyValue) -> bool {
    match v {
        AnyValue::Bool(b) => *b,
        AnyValue::Str(s) => !s.trim().is_empty() && s != "false",
        AnyValue::Int(i) => *i != 0,
        AnyValue::Double(d) => *d != 0.0,
        // A JavaScript `Error` passed to `addContext` serializes as `{}`: present, yet empty.
        AnyValue::Map(_) => true,
        AnyValue::Array(a) => !a.is_empty(),
        AnyValue::Bytes(b) => !b.is_empty(),
        AnyValue::Json(doc) => flags_error(&doc.parse()),
    }
}

fn error_text(v: &AnyValue) -> Option<&str> {
    match v {
        AnyValue::Str(s) if !s.trim().is_empty() && s != "false" => Some(s),
        AnyValue::Map(_) => v.get("message").and_then(error_text),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_line;
    use proptest::prelude::*;

    /// 2024-03-01T12:00:00Z
    const BASE: UnixNanos = 1_709_294_400_000_000_000;
    const OBSERVED: UnixNanos = BASE + 5_000_000_000;

    fn ctx() -> Ctx<'static> {
        Ctx { observed_ns: OBSERVED, prefix: None, render_otlp: false }
    }

    fn run(line: &str) -> Result<Option<Vec<Item>>, ParseError> {
        parse(line, &ctx())
    }

    /// One line per item, the fields a reader checks first.
    fn summary(items: &[Item]) -> String {
        items
            .iter()
            .map(|item| match item {
                Item::Span(s) => format!(
                    "span {:?} trace={} span={} parent={} start=+{} dur={} {:?} {:?}",
                    s.name,
                    s.trace_id,
                    s.span_id,
                    s.parent_span_id.map_or("-".to_owned(), |p| p.to_string()),
                    s.start_ns as i128 - BASE as i128,
                    s.end_ns - s.start_ns,
                    s.kind,
                    s.status,
                ),
                Item::Log(l) => format!(
                    "log {:?} trace={} span={} time=+{}",
                    l.body,
                    l.trace_id.map_or("-".to_owned(), |t| t.to_string()),
                    l.span_id.map_or("-".to_owned(), |p| p.to_string()),
                    l.time_ns as i128 - BASE as i128,
                ),
                other => format!("{other:?}"),
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    const HEX_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const HEX_SPAN: &str = "00f067aa0ba902b7";

    #[test]
    fn shapes_become_spans() {
        let cases: &[(&str, String, &str)] = &[
            (
                "libhoney-go WriterSender: sorted keys, samplerate omitted",
                format!(
                    r#"{{"data":{{"duration_ms":12.5,"name":"handler","trace.span_id":"{HEX_SPAN}","trace.trace_id":"{HEX_TRACE}"}},"time":"2024-03-01T12:00:00.25Z","dataset":"orders"}}"#
                ),
                "span \"handler\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+250000000 dur=12500000 Server Unset",
            ),
            (
                "libhoney-py FileTransmission: null parent is a root, fraction-less time",
                format!(
                    r#"{{"time": "2024-03-01T12:00:01Z", "samplerate": 1, "dataset": "svc", "user_agent": "libhoney-py/2.4.0", "data": {{"trace.trace_id": "{HEX_TRACE}", "trace.parent_id": null, "trace.span_id": "{HEX_SPAN}", "name": "lambda_handler", "duration_ms": 0.01}}}}"#
                ),
                "span \"lambda_handler\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+1000000000 dur=10000 Server Unset",
            ),
            (
                "child with a parent is internal",
                format!(
                    r#"{{"time":"2024-03-01T12:00:00.100Z","samplerate":1,"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"1111111111111111","trace.parent_id":"{HEX_SPAN}","name":"db.query","duration_ms":3}}}}"#
                ),
                "span \"db.query\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=1111111111111111 parent=00f067aa0ba902b7 start=+100000000 dur=3000000 Internal Unset",
            ),
            (
                "beeline-go subroot continuing a remote trace is the entry span",
                format!(
                    r#"{{"data":{{"duration_ms":1,"meta.span_type":"subroot","name":"h","trace.parent_id":"2222222222222222","trace.span_id":"{HEX_SPAN}","trace.trace_id":"{HEX_TRACE}"}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"h\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=2222222222222222 start=+0 dur=1000000 Server Unset",
            ),
            (
                "beeline-nodejs AWS propagation: the X-Ray root joins Lambda's trace, a string duration",
                r#"{"time":"2024-03-01T12:00:00Z","data":{"trace.trace_id":"1-65e1c340-bd862e3fe1be46a994272793","trace.span_id":"53995c3f42cd8ad8","trace.parent_id":"1-65e1c340-bd862e3fe1be46a994272793","name":"x","duration_ms":"43"}}"#.to_owned(),
                "span \"x\" trace=65e1c340bd862e3fe1be46a994272793 span=53995c3f42cd8ad8 parent=236a26e782f2d70f start=+0 dur=43000000 Internal Unset",
            ),
            (
                "no time: the line is written when the span ends",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"late","duration_ms":1500}}}}"#
                ),
                "span \"late\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+3500000000 dur=1500000000 Server Unset",
            ),
            (
                "no name: service_name, then a fixed name",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","service_name":"orders","duration_ms":1}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"orders\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Unset",
            ),
            (
                "no duration: an instant",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":7}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"beeline span\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=0 Server Unset",
            ),
            (
                "AWSExtensionTransmission: flat, meta.samplerate, no time",
                format!(
                    r#"{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"flat","duration_ms":250,"meta.samplerate":4,"data":"a user field"}}"#
                ),
                "span \"flat\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+4750000000 dur=250000000 Server Unset",
            ),
            (
                "libhoney-js WriterTransmission: the event as a JSON string literal",
                format!(
                    r#""{{\"time\":\"2024-03-01T12:00:00.000Z\",\"samplerate\":1,\"data\":{{\"trace.trace_id\":\"{HEX_TRACE}\",\"trace.span_id\":\"{HEX_SPAN}\",\"name\":\"old-node\",\"duration_ms\":2}}}}""#
                ),
                "span \"old-node\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=2000000 Server Unset",
            ),
            (
                "error as text (beeline-go gRPC client, beeline-nodejs mysql2)",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"q","duration_ms":1,"error":"Error: connect ETIMEDOUT"}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"q\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Error(\"Error: connect ETIMEDOUT\")",
            ),
            (
                "error flag with its detail elsewhere",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"q","duration_ms":1,"error":true,"error_detail":"boom"}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"q\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Error(\"boom\")",
            ),
            (
                "error_detail is the longer account of a textual error",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"q","duration_ms":1,"error":"TypeError","error_detail":"cart is undefined"}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"q\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Error(\"cart is undefined\")",
            ),
            (
                "error: false and an empty error are not errors",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"q","duration_ms":1,"error":false,"app.error":""}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"q\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Unset",
            ),
            (
                "a JavaScript Error object serialized as {}",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"q","duration_ms":1,"error":{{}}}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"q\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Error(\"error\")",
            ),
            (
                "beeline-python exception fields",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"q","duration_ms":1,"app.exception_type":"<class 'KeyError'>","app.exception_string":"'sku'"}},"time":"2024-03-01T12:00:00Z"}}"#
                ),
                "span \"q\" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 parent=- start=+0 dur=1000000 Server Error(\"'sku'\")",
            ),
            (
                "span event: a log on the span it annotates",
                format!(
                    r#"{{"time":"2024-03-01T12:00:00.5Z","data":{{"trace.trace_id":"{HEX_TRACE}","trace.parent_id":"{HEX_SPAN}","meta.annotation_type":"span_event","name":"cache_miss"}}}}"#
                ),
                "log Str(\"cache_miss\") trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 time=+500000000",
            ),
            (
                "link written with meta.span_type",
                format!(
                    r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.parent_id":"{HEX_SPAN}","trace.link.trace_id":"x","trace.link.span_id":"y","meta.span_type":"link"}}}}"#
                ),
                "log Str(\"link\") trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7 time=+5000000000",
            ),
        ];
        for (what, line, want) in cases {
            let got = run(line).map(|items| items.as_deref().map(summary));
            assert_eq!(got, Ok(Some((*want).to_owned())), "{what}");
        }
    }

    #[test]
    fn not_mine() {
        for line in [
            "plain text mentioning trace.trace_id",
            r#"{"level":"info","msg":"no trace fields here"}"#,
            r#"{"time":"2024-03-01T12:00:00Z","data":{"name":"untraced event","duration_ms":1}}"#,
            r#"{"level":"info","ctx":{"trace.trace_id":"nested, not an event field"}}"#,
            r#"{"data":{"msg":"the field trace.trace_id is only named in a value"}}"#,
            r#"["trace.trace_id"]"#,
        ] {
            assert_eq!(run(line), Ok(None), "{line}");
        }
    }

    #[test]
    fn malformed_lines_say_why() {
        let cases = [
            (r#"{"data":{"trace.trace_id":"abc","#.to_owned(), "invalid JSON"),
            (r#"{"time":2024-03-01T12:00:00.000Z,"data":{"trace.trace_id":"a"}}"#.to_owned(), "invalid JSON"),
            (r#"{"time":"2024-03-01T12:00:00Z","data":"trace.trace_id=abc"}"#.to_owned(), "`data` is not an object"),
            (r#"{"data":{"trace.trace_id":"abc","name":"n","duration_ms":1}}"#.to_owned(), "no trace.span_id"),
            (
                r#"{"data":{"trace.trace_id":"abc","trace.span_id":"","duration_ms":1}}"#.to_owned(),
                "empty trace.span_id",
            ),
            (r#"{"data":{"trace.trace_id":"","trace.span_id":"s"}}"#.to_owned(), "empty trace.trace_id"),
            (r#"{"data":{"trace.trace_id":42,"trace.span_id":"s"}}"#.to_owned(), "trace.trace_id is not a string"),
            (r#"{"data":{"trace.trace_id":"a","trace.span_id":7}}"#.to_owned(), "trace.span_id is not a string"),
            (
                r#"{"data":{"trace.trace_id":"a","trace.span_id":"s","trace.parent_id":9}}"#.to_owned(),
                "trace.parent_id is not a string",
            ),
            (
                r#"{"data":{"trace.trace_id":"a","trace.span_id":"s","duration_ms":"slow"}}"#.to_owned(),
                "duration_ms is not a number",
            ),
            (
                r#"{"data":{"trace.trace_id":"a","trace.span_id":"s","duration_ms":true}}"#.to_owned(),
                "duration_ms is not a number",
            ),
            (
                r#"{"data":{"trace.trace_id":"a","trace.span_id":"s","duration_ms":-1}}"#.to_owned(),
                "duration_ms is negative",
            ),
            (r#""{\"data\":{\"trace.trace_id\":\"a\"""#.to_owned(), "invalid JSON"),
        ];
        for (line, reason) in cases {
            match run(&line) {
                Err(e) => {
                    assert_eq!(e.format, Format::Beeline, "{line}");
                    assert!(e.reason.starts_with(reason), "{line}: got {:?}, want {reason:?}", e.reason);
                }
                other => panic!("{line}: expected an error, got {other:?}"),
            }
        }
    }

    #[test]
    fn derived_ids_keep_their_originals_and_agree_across_spans() {
        let root = r#"{"data":{"trace.trace_id":"6614adb4-a74e-47a2-92de-06435f548eb1","trace.span_id":"56c10d68-e8db-46d5-97ad-0d508a3c08bf","name":"root","duration_ms":5}}"#;
        let child = r#"{"data":{"trace.trace_id":"6614adb4-a74e-47a2-92de-06435f548eb1","trace.span_id":"28320411-35c9-45dc-b968-b8b9d091f4bf","trace.parent_id":"56c10d68-e8db-46d5-97ad-0d508a3c08bf","name":"child","duration_ms":1}}"#;
        let (Ok(Some(r)), Ok(Some(c))) = (run(root), run(child)) else { panic!("both parse") };
        let (Item::Span(r), Item::Span(c)) = (&r[0], &c[0]) else { panic!("both spans") };
        assert_eq!(r.trace_id.to_string(), "6614adb4a74e47a292de06435f548eb1");
        assert_eq!(c.trace_id, r.trace_id);
        assert_eq!(c.parent_span_id, Some(r.span_id));
        let get = |s: &Span, k: &str| telemetry::attr(&s.attributes, k).cloned();
        assert_eq!(get(r, "honeycomb.trace_id"), Some(AnyValue::from("6614adb4-a74e-47a2-92de-06435f548eb1")));
        assert_eq!(get(r, "honeycomb.span_id"), Some(AnyValue::from("56c10d68-e8db-46d5-97ad-0d508a3c08bf")));
        assert_eq!(get(c, "honeycomb.parent_id"), Some(AnyValue::from("56c10d68-e8db-46d5-97ad-0d508a3c08bf")));
        assert_eq!(get(r, "honeycomb.samplerate"), Some(AnyValue::Int(1)));

        let event = r#"{"data":{"trace.trace_id":"6614adb4-a74e-47a2-92de-06435f548eb1","trace.parent_id":"56c10d68-e8db-46d5-97ad-0d508a3c08bf","meta.annotation_type":"span_event","name":"cache_miss"}}"#;
        let Ok(Some(e)) = run(event) else { panic!("parses") };
        let Item::Log(e) = &e[0] else { panic!("a log") };
        assert_eq!((e.trace_id, e.span_id), (Some(r.trace_id), Some(r.span_id)));
        assert_eq!(
            telemetry::attr(&e.attributes, "honeycomb.parent_id"),
            Some(&AnyValue::from("56c10d68-e8db-46d5-97ad-0d508a3c08bf"))
        );
    }

    #[test]
    fn hex_ids_are_not_duplicated_as_attributes() {
        let line = format!(
            r#"{{"samplerate":20,"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","trace.parent_id":"1111111111111111","duration_ms":1}}}}"#
        );
        let Ok(Some(items)) = run(&line) else { panic!("parses") };
        let Item::Span(span) = &items[0] else { panic!("a span") };
        let keys: Vec<&str> = span.attributes.iter().map(|kv| kv.key.as_ref()).collect();
        assert_eq!(keys, ["honeycomb.samplerate"]);
        assert_eq!(span.attributes[0].value, AnyValue::Int(20));
    }

    #[test]
    fn request_id_and_level_come_from_the_runtime_prefix() {
        // libhoney-js's ConsoleTransmission goes through console.log, so the Node runtime prefixes the event.
        let line = format!(
            "2024-03-01T12:00:00.007Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t{}\n",
            format_args!(
                r#"{{"data":{{"trace.trace_id":"{HEX_TRACE}","trace.parent_id":"{HEX_SPAN}","meta.annotation_type":"span_event","name":"retry"}}}}"#
            )
        );
        let parsed = parse_line(&line, OBSERVED);
        assert_eq!((parsed.format, parsed.error), (Format::Beeline, None));
        let [Item::Log(log)] = &parsed.items[..] else { panic!("one log, got {:?}", parsed.items) };
        assert_eq!(log.time_ns, BASE + 7_000_000);
        assert_eq!(log.request_id.as_deref(), Some("8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f"));
        assert_eq!(log.severity.as_ref().map(|s| s.number), Some(9));
        assert_eq!(log.span_id.map(|s| s.to_string()).as_deref(), Some(HEX_SPAN));
    }

    #[test]
    fn spans_printed_behind_a_prefix_carry_the_request_id() {
        let line = format!(
            "2024-03-01T12:00:00.200Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t{{\"time\":\"2024-03-01T12:00:00Z\",\"data\":{{\"trace.trace_id\":\"{HEX_TRACE}\",\"trace.span_id\":\"{HEX_SPAN}\",\"duration_ms\":1}}}}\n"
        );
        let parsed = parse_line(&line, OBSERVED);
        let [Item::Span(span)] = &parsed.items[..] else { panic!("{parsed:?}") };
        assert_eq!(
            telemetry::attr(&span.attributes, "faas.invocation_id"),
            Some(&AnyValue::Str("8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f".into()))
        );
    }

    #[test]
    fn registry_routes_beeline_lines_here() {
        let line = format!(
            r#"{{"time":"2024-03-01T12:00:00Z","data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","duration_ms":1}}}}"#
        );
        let parsed = parse_line(&format!("{line}\n"), OBSERVED);
        assert_eq!((parsed.format, parsed.error), (Format::Beeline, None));
        assert!(matches!(parsed.items[..], [Item::Span(_)]));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = |n: usize| format!(r#"{{"trace.trace_id":{}{}}}"#, "[".repeat(n), "]".repeat(n));
        assert_eq!(run(&deep(200_000)).map_err(|e| e.reason), Err("nested deeper than 64 levels".to_owned()));
        // Brackets inside strings are text, not nesting.
        let quoted = format!(r#"{{"data":{{"trace.trace_id":"a","trace.span_id":"b","x":"{}\"]"}}}}"#, "[".repeat(100));
        assert!(matches!(run(&quoted), Ok(Some(_))), "{:?}", run(&quoted));
        let at_limit = run(&deep(63)).map_err(|e| e.reason);
        assert_eq!(at_limit, Err("trace.trace_id is not a string".to_owned()));
    }

    /// beeline-nodejs 2.x through libhoney-js's ConsoleTransmission, as a Lambda handler wrapped in
    /// `startTrace`/`finishTrace` writes them: a root span and an instrumented mysql2 child that failed.
    const NODE_ROOT: &str = r#"{"time":"2024-03-01T12:00:00.120Z","samplerate":1,"data":{"meta.local_hostname":"169.254.78.1","service_name":"checkout","name":"handler","trace.trace_id":"b8f1b7c2-9d6e-4f3a-8c1d-2e5f6a7b8c9d","trace.span_id":"0d3c1f7e-5b2a-4c8d-9e1f-3a4b5c6d7e8f","app.function_name":"checkout-prod","app.request_id":"c6af9ac6-7b61-11e6-9a41-93e812345678","app.cold_start":true,"duration_ms":842.113,"meta.instrumentations":["child_process","http","https","mysql2"],"meta.instrumentation_count":4,"meta.beeline_version":"2.8.2","meta.node_version":"v18.19.0"}}"#;
    const NODE_CHILD: &str = r#"{"time":"2024-03-01T12:00:00.301Z","samplerate":1,"data":{"meta.local_hostname":"169.254.78.1","service_name":"checkout","meta.type":"mysql2","name":"query","db.query":"SELECT * FROM carts WHERE id = ?","db.query_args":["c-123"],"trace.trace_id":"b8f1b7c2-9d6e-4f3a-8c1d-2e5f6a7b8c9d","trace.span_id":"7a1e2b3c-4d5e-4f60-8172-93a4b5c6d7e8","trace.parent_id":"0d3c1f7e-5b2a-4c8d-9e1f-3a4b5c6d7e8f","error":"Error: connect ETIMEDOUT 10.0.3.17:3306","duration_ms":500.007,"meta.instrumentations":["child_process","http","https","mysql2"],"meta.instrumentation_count":4,"meta.beeline_version":"2.8.2","meta.node_version":"v18.19.0"}}"#;

    /// beeline-go through libhoney-go's WriterSender: keys sorted, `samplerate` written only when not 1, the
    /// root span sent last because sending a parent sends its finished children first.
    const GO_CHILD: &str = r#"{"data":{"db.call":"QueryContext","db.query":"SELECT sku FROM items","duration_ms":3.402712,"meta.beeline_version":"1.15.0","meta.local_hostname":"169.254.12.9","meta.sent_by_parent":true,"meta.span_type":"leaf","name":"QueryContext","service_name":"inventory","trace.parent_id":"a3d2b0c4e5f60718","trace.span_id":"5c7e9a1b3d5f7092","trace.trace_id":"0af7651916cd43dd8448eb211c80319c"},"samplerate":5,"time":"2024-03-01T12:00:00.011402917Z","dataset":"inventory"}"#;
    const GO_ROOT: &str = r#"{"data":{"duration_ms":15.930251,"meta.beeline_version":"1.15.0","meta.local_hostname":"169.254.12.9","meta.span_type":"subroot","name":"HandleRequest","response.status_code":200,"service_name":"inventory","trace.parent_id":"b7ad6b7169203331","trace.span_id":"a3d2b0c4e5f60718","trace.trace_id":"0af7651916cd43dd8448eb211c80319c"},"samplerate":5,"time":"2024-03-01T12:00:00.009873Z","dataset":"inventory"}"#;

    #[test]
    fn snapshot_beeline_nodejs() {
        let items: Vec<_> = [NODE_ROOT, NODE_CHILD].into_iter().map(run).collect();
        insta::assert_debug_snapshot!("beeline_nodejs", items);
    }

    #[test]
    fn snapshot_beeline_go() {
        let items: Vec<_> = [GO_CHILD, GO_ROOT].into_iter().map(run).collect();
        insta::assert_debug_snapshot!("beeline_go", items);
    }

    fn event_line(start_s: u64, micros: u32, duration_ms: f64, with_time: bool) -> String {
        let time = crate::time::format_rfc3339_ms(start_s * 1_000_000_000);
        let time = format!("{}{:06}Z", &time[..20], micros);
        let time_field = if with_time { format!(r#","time":"{time}""#) } else { String::new() };
        format!(
            r#"{{"samplerate":1{time_field},"data":{{"trace.trace_id":"{HEX_TRACE}","trace.span_id":"{HEX_SPAN}","name":"p","duration_ms":{duration_ms}}}}}"#
        )
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = run(&s);
            let _ = run(&format!("{{\"trace.trace_id\":{s}"));
            let _ = run(&format!("{{\"data\":{{\"trace.trace_id\":\"a\",\"trace.span_id\":\"b\",{s}"));
        }

        #[test]
        fn end_minus_start_is_the_duration(
            start_s in 0u64..4_000_000_000,
            micros in 0u32..1_000_000,
            whole in 0u64..100_000_000,
            frac in 0u32..1000,
            with_time: bool,
        ) {
            let duration_ms: f64 = format!("{whole}.{frac:03}").parse().unwrap_or(0.0);
            let line = event_line(start_s, micros, duration_ms, with_time);
            let got = run(&line);
            let Ok(Some(items)) = got else { return Err(TestCaseError::fail(format!("{line}: {got:?}"))) };
            let [Item::Span(span)] = &items[..] else { return Err(TestCaseError::fail(format!("{items:?}"))) };
            prop_assert_eq!(span.end_ns - span.start_ns, telemetry::duration_ms_to_ns(duration_ms));
            prop_assert_eq!(span.end_ns - span.start_ns, whole * 1_000_000 + u64::from(frac) * 1000);
            if with_time {
                prop_assert_eq!(span.start_ns, start_s * 1_000_000_000 + u64::from(micros) * 1000);
            } else {
                prop_assert_eq!(span.end_ns, OBSERVED.max(span.end_ns - span.start_ns));
            }
        }
    }
}
