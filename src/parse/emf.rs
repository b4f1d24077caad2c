//! CloudWatch Embedded Metric Format documents: a histogram sample per value and dimension set, plus the document as a log.
//!
//! Follows the CloudWatch EMF specification: `_aws.CloudWatchMetrics` holds MetricDirectives; each names a
//! `Namespace`, `Dimensions` (an array of DimensionSets, each an array of root member names) and `Metrics`
//! (MetricDefinitions: `Name`, optional `Unit`, optional `StorageResolution`). A metric's value is the root
//! member with its name: a number or an array of up to 100 numbers. A metric with N dimension sets is N
//! CloudWatch metrics, so it becomes N samples per value here too.
//!
//! Every value becomes a [`Instrument::Histogram`] sample. CloudWatch keeps an EMF value as one sample of a
//! statistic set (SampleCount, Sum, Min, Max, percentiles), which is what an OTel histogram carries; EMF says
//! nothing about whether a value is a level or an increment, and a `Count` value is still summed right. A
//! gauge would be wrong for arrays: the values of one array share the timestamp and attributes, so a backend
//! would keep only one of them.

use super::{clip, AppLog, Ctx, Format, Instrument, Item, MetricSample, ParseError};
use crate::telemetry::{AnyValue, Attributes, KeyValue, Number, TraceId, UnixNanos};

const FORMAT: Format = Format::Emf;

/// Spec limits: MetricDefinitions per directive, keys per DimensionSet, values per metric array, and the
/// length of a dimension value.
const MAX_METRICS_PER_DIRECTIVE: usize = 100;
const MAX_DIMENSIONS_PER_SET: usize = 30;
const MAX_VALUES_PER_METRIC: usize = 100;
const MAX_DIMENSION_VALUE_CHARS: usize = 1024;

/// Dimension sets multiply metrics × values, so a small document could otherwise expand into millions of
/// samples; 10 000 is a hundred full 100-value metrics, far above what any EMF library writes.
const MAX_SAMPLES_PER_DOCUMENT: usize = 10_000;

pub(crate) const NAMESPACE_KEY: &str = "aws.cloudwatch.namespace";
const STORAGE_RESOLUTION_KEY: &str = "aws.cloudwatch.storage_resolution";
/// Where a `Unit` that is not a CloudWatch unit is kept, since it has no UCUM spelling to go in `unit`.
const UNIT_KEY: &str = "aws.cloudwatch.unit";

/// CloudWatch's unit names (the `StandardUnit` enum) and their UCUM spelling as OpenTelemetry writes units.
/// The SI prefixes are decimal in CloudWatch's names, so `Kilobytes` is `kBy` (UCUM is case-sensitive: `k`
/// is kilo), not the binary `KiBy`. `Count` is `{count}`: OTel asks counts of things for a curly-brace
/// annotation, and `1` would read as a ratio (Prometheus translators suffix it `_ratio`). `None` is no unit.
const CLOUDWATCH_UNITS: &[(&str, &str)] = &[
    ("Seconds", "s"),
    ("Microseconds", "us"),
    ("Milliseconds", "ms"),
    ("Bytes", "By"),
    ("Kilobytes", "kBy"),
    ("Megabytes", "MBy"),
    ("Gigabytes", "GBy"),
    ("Terabytes", "TBy"),
    ("Bits", "bit"),
    ("Kilobits", "kbit"),
    ("Megabits", "Mbit"),
    ("Gigabits", "Gbit"),
    ("Terabits", "Tbit"),
    ("Percent", "%"),
    ("Count", "{count}"),
    ("Bytes/Second", "By/s"),
    ("Kilobytes/Second", "kBy/s"),
    ("Megabytes/Second", "MBy/s"),
    ("Gigabytes/Second", "GBy/s"),
    ("Terabytes/Second", "TBy/s"),
    ("Bits/Second", "bit/s"),
    ("Kilobits/Second", "kbit/s"),
    ("Megabits/Second", "Mbit/s"),
    ("Gigabits/Second", "Gbit/s"),
    ("Terabits/Second", "Tbit/s"),
    ("Count/Second", "{count}/s"),
    ("None", ""),
];

/// The UCUM unit of a CloudWatch unit name, matched without regard to ASCII case because hand-written
/// lines use `count` and `milliseconds`; `None` when it is not a CloudWatch unit.
pub(crate) fn cloudwatch_unit(name: &str) -> Option<&'static str> {
    CLOUDWATCH_UNITS.iter().find(|(cw, _)| cw.eq_ignore_ascii_case(name)).map(|(_, ucum)| *ucum)
}

pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    let text = line.trim_start();
    if !text.starts_with('{') || !text.contains("\"_aws\"") {
        return Ok(None);
    }
    let doc: AnyValue = super::from_json(FORMAT, text)?;
    let AnyValue::Map(root) = &doc else {
        return Err(ParseError::new(FORMAT, "document is not a JSON object"));
    };
    // The substring scan also matches `"_aws"` inside a string or a nested object; those are JSON logs.
    let Some(aws) = member(root, "_aws") else {
        return Ok(None);
    };
    let AnyValue::Map(aws) = aws else {
        return Err(ParseError::new(FORMAT, "`_aws` must be an object"));
    };
    let time_ns = match member(aws, "Timestamp") {
        None => ctx.time_ns(),
        Some(ts) => timestamp(ts)?,
    };
    let directives = match member(aws, "CloudWatchMetrics") {
        Some(AnyValue::Array(directives)) => directives,
        Some(_) => return Err(ParseError::new(FORMAT, "`_aws.CloudWatchMetrics` must be an array")),
        None => return Err(ParseError::new(FORMAT, "`_aws.CloudWatchMetrics` is missing")),
    };

    let mut items = Vec::with_capacity(1 + directives.len());
    let mut samples = 0;
    for (i, directive) in directives.iter().enumerate() {
        extract(i, directive, root, time_ns, &mut samples, &mut items)?;
    }

    // The runtime prefix is Lambda's own word on the request; the document's members are the writer's.
    let request_id = ctx.request_id().or_else(|| first_str(root, &["requestId", "function_request_id"]));
    let request_id = request_id.map(str::to_owned);
    let trace_id = first_str(root, &["traceId", "xray_trace_id"]).and_then(TraceId::from_xray);
    // The document goes into the log body whole (with `_aws`), so a query over logs sees what CloudWatch saw.
    items.push(Item::Log(AppLog {
        time_ns,
        request_id,
        severity: ctx.severity(),
        body: doc,
        attributes: Vec::new(),
        trace_id,
        span_id: None,
    }));
    Ok(Some(items))
}

/// The samples of one MetricDirective, appended to `out`.
fn extract(
    i: usize,
    directive: &AnyValue,
    root: &[KeyValue],
    time_ns: UnixNanos,
    samples: &mut usize,
    out: &mut Vec<Item>,
) -> Result<(), ParseError> {
    let at = || format!("CloudWatchMetrics[{i}]");
    let AnyValue::Map(directive) = directive else {
        return Err(ParseError::new(FORMAT, format!("{} must be an object", at())));
    };
    let namespace = match member(directive, "Namespace") {
        Some(AnyValue::Str(ns)) if !ns.is_empty() => ns,
        Some(_) => return Err(ParseError::new(FORMAT, format!("{}.Namespace must be a non-empty string", at()))),
        None => return Err(ParseError::new(FORMAT, format!("{}.Namespace is missing", at()))),
    };
    let metrics = match member(directive, "Metrics") {
        Some(AnyValue::Array(metrics)) => metrics,
        Some(_) => return Err(ParseError::new(FORMAT, format!("{}.Metrics must be an array", at()))),
        None => return Err(ParseError::new(FORMAT, format!("{}.Metrics is missing", at()))),
    };
    if metrics.len() > MAX_METRICS_PER_DIRECTIVE {
        let reason = format!(
            "{}.Metrics has {} definitions, over the limit of {MAX_METRICS_PER_DIRECTIVE}",
            at(),
            metrics.len()
        );
        return Err(ParseError::new(FORMAT, reason));
    }
    let dimension_sets = dimension_sets(i, directive, root, namespace)?;

    for (j, definition) in metrics.iter().enumerate() {
        let at = || format!("CloudWatchMetrics[{i}].Metrics[{j}]");
        let AnyValue::Map(definition) = definition else {
            return Err(ParseError::new(FORMAT, format!("{} must be an object", at())));
        };
        let name = match member(definition, "Name") {
            Some(AnyValue::Str(name)) if !name.is_empty() => name,
            Some(_) => return Err(ParseError::new(FORMAT, format!("{}.Name must be a non-empty string", at()))),
            None => return Err(ParseError::new(FORMAT, format!("{}.Name is missing", at()))),
        };
        let mut extra: Attributes = Vec::new();
        let unit = match member(definition, "Unit") {
            None => "",
            Some(AnyValue::Str(unit)) => cloudwatch_unit(unit).unwrap_or_else(|| {
                extra.push(KeyValue::new(UNIT_KEY, unit.as_str()));
                ""
            }),
            Some(_) => return Err(ParseError::new(FORMAT, format!("{}.Unit must be a string", at()))),
        };
        match member(definition, "StorageResolution") {
            // 60 is the default; only the high-resolution case says something worth an attribute.
            Some(AnyValue::Int(1)) => extra.push(KeyValue::new(STORAGE_RESOLUTION_KEY, 1i64)),
            Some(AnyValue::Double(r)) if *r == 1.0 => extra.push(KeyValue::new(STORAGE_RESOLUTION_KEY, 1i64)),
            None | Some(AnyValue::Int(_) | AnyValue::Double(_)) => {}
            Some(_) => {
                return Err(ParseError::new(FORMAT, format!("{}.StorageResolution must be a number", at())));
            }
        }
        let values = values(name, root)?;

        *samples += values.len() * dimension_sets.len();
        if *samples > MAX_SAMPLES_PER_DOCUMENT {
            let reason = format!("document expands to more than {MAX_SAMPLES_PER_DOCUMENT} metric samples");
            return Err(ParseError::new(FORMAT, reason));
        }
        for dimensions in &dimension_sets {
            for value in &values {
                let mut attributes = Vec::with_capacity(dimensions.len() + extra.len());
                attributes.extend_from_slice(dimensions);
                attributes.extend_from_slice(&extra);
                out.push(Item::Metric(MetricSample {
                    name: name.clone(),
                    unit: unit.to_owned(),
                    instrument: Instrument::Histogram,
                    value: *value,
                    time_ns,
                    attributes,
                }));
            }
        }
    }
    Ok(())
}

/// The attributes of each metric the directive defines: the namespace plus one DimensionSet's values. No
/// `Dimensions` member, or an empty array of sets, is one metric with no dimensions.
fn dimension_sets(
    i: usize,
    directive: &[KeyValue],
    root: &[KeyValue],
    namespace: &str,
) -> Result<Vec<Attributes>, ParseError> {
    let namespace = KeyValue::new(NAMESPACE_KEY, namespace);
    let sets = match member(directive, "Dimensions") {
        None => return Ok(vec![vec![namespace]]),
        Some(AnyValue::Array(sets)) if sets.is_empty() => return Ok(vec![vec![namespace]]),
        Some(AnyValue::Array(sets)) => sets,
        Some(_) => {
            let reason = format!("CloudWatchMetrics[{i}].Dimensions must be an array of arrays");
            return Err(ParseError::new(FORMAT, reason));
        }
    };
    let mut out = Vec::with_capacity(sets.len());
    for (j, set) in sets.iter().enumerate() {
        let at = || format!("CloudWatchMetrics[{i}].Dimensions[{j}]");
        let AnyValue::Array(keys) = set else {
            return Err(ParseError::new(FORMAT, format!("{} must be an array of member names", at())));
        };
        if keys.len() > MAX_DIMENSIONS_PER_SET {
            let reason = format!("{} has {} keys, over the limit of {MAX_DIMENSIONS_PER_SET}", at(), keys.len());
            return Err(ParseError::new(FORMAT, reason));
        }
        let mut attributes = Vec::with_capacity(1 + keys.len());
        attributes.push(namespace.clone());
        for key in keys {
            let AnyValue::Str(key) = key else {
                return Err(ParseError::new(FORMAT, format!("{} holds a key that is not a string", at())));
            };
            let value = match member(root, key) {
                Some(AnyValue::Str(value)) => value,
                Some(_) => {
                    let reason = format!("dimension `{}` must have a string value", clip(key));
                    return Err(ParseError::new(FORMAT, reason));
                }
                None => {
                    let reason = format!("dimension `{}` has no member in the document", clip(key));
                    return Err(ParseError::new(FORMAT, reason));
                }
            };
            if value.len() > MAX_DIMENSION_VALUE_CHARS && value.chars().count() > MAX_DIMENSION_VALUE_CHARS {
                let reason = format!("dimension `{}` is longer than {MAX_DIMENSION_VALUE_CHARS} characters", clip(key));
                return Err(ParseError::new(FORMAT, reason));
            }
            attributes.push(KeyValue::new(key.clone(), value.as_str()));
        }
        out.push(attributes);
    }
    Ok(out)
}

/// The values of the metric named `name`: its root member, a number or an array of numbers.
fn values(name: &str, root: &[KeyValue]) -> Result<Vec<Number>, ParseError> {
    let not_numeric = || {
        let reason = format!("metric `{}` must be a number or an array of numbers", clip(name));
        ParseError::new(FORMAT, reason)
    };
    match member(root, name) {
        None => Err(ParseError::new(FORMAT, format!("metric `{}` has no member in the document", clip(name)))),
        Some(AnyValue::Array(items)) => {
            if items.len() > MAX_VALUES_PER_METRIC {
                let reason = format!(
                    "metric `{}` has {} values, over the limit of {MAX_VALUES_PER_METRIC}",
                    clip(name),
                    items.len()
                );
                return Err(ParseError::new(FORMAT, reason));
            }
            items.iter().map(|v| number(v).ok_or_else(not_numeric)).collect()
        }
        // aws-embedded-metrics-java writes statistic sets (`Max`/`Min`/`Count`/`Sum`) and histograms
        // (`Values`/`Counts`); a sample has no weight to carry them, so they are refused by name, not guessed.
        Some(AnyValue::Map(_)) => {
            let reason = format!(
                "metric `{}` is a statistic set or histogram object, which logship cannot carry as samples",
                clip(name)
            );
            Err(ParseError::new(FORMAT, reason))
        }
        Some(value) => number(value).map(|n| vec![n]).ok_or_else(not_numeric),
    }
}

fn number(value: &AnyValue) -> Option<Number> {
    match value {
        AnyValue::Int(i) => Some(Number::Int(*i)),
        AnyValue::Double(d) if d.is_finite() => Some(Number::Double(*d)),
        _ => None,
    }
}

/// `_aws.Timestamp`: epoch milliseconds by the spec; other magnitudes are read as what they evidently are.
fn timestamp(value: &AnyValue) -> Result<UnixNanos, ParseError> {
    let ns = match value {
        AnyValue::Int(i) => u64::try_from(*i).ok().and_then(|v| crate::time::from_epoch_digits(v, "")),
        // Python's EMF writers print `1656685750622.0`; a whole double takes the exact integer path.
        AnyValue::Double(d) if d.fract() == 0.0 && *d >= 0.0 && *d < 1.8e19 => {
            crate::time::from_epoch_digits(*d as u64, "")
        }
        AnyValue::Double(d) => crate::time::from_epoch_number(*d),
        _ => return Err(ParseError::new(FORMAT, "`_aws.Timestamp` must be a number")),
    };
    ns.ok_or_else(|| ParseError::new(FORMAT, format!("`_aws.Timestamp` {value:?} is not a Unix time")))
}

/// A member of a JSON object; the last one wins on duplicates, as in `JSON.parse` and CloudWatch.
fn member<'a>(object: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    object.iter().rev().find(|kv| kv.key == key).map(|kv| &kv.value)
}

fn first_str<'a>(object: &'a [KeyValue], keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|key| member(object, key).and_then(AnyValue::as_str)).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OBSERVED: UnixNanos = 1_700_000_000_123_000_000;
    const TRACE_HEADER: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    fn ctx() -> Ctx<'static> {
        Ctx { observed_ns: OBSERVED, prefix: None, render_otlp: false }
    }

    fn attrs(attributes: &[KeyValue]) -> String {
        let shown: Vec<String> = attributes
            .iter()
            .map(|kv| match &kv.value {
                AnyValue::Str(v) => format!("{}={v}", kv.key),
                other => format!("{}={other:?}", kv.key),
            })
            .collect();
        shown.join(", ")
    }

    /// Every item of a document in a compact form: samples, then the log (without its body).
    fn show_with(line: &str, ctx: &Ctx<'_>) -> Vec<String> {
        match parse(line, ctx) {
            Ok(Some(items)) => items
                .iter()
                .map(|item| match item {
                    Item::Metric(m) => format!(
                        "{} [{}] {:?} {:?} @{} {{{}}}",
                        m.name,
                        m.unit,
                        m.instrument,
                        m.value,
                        m.time_ns,
                        attrs(&m.attributes)
                    ),
                    Item::Log(log) => format!(
                        "log @{} rid={:?} sev={:?} trace={:?} map={}",
                        log.time_ns,
                        log.request_id,
                        log.severity.as_ref().map(|s| s.number),
                        log.trace_id.map(|t| t.to_string()),
                        matches!(log.body, AnyValue::Map(_)),
                    ),
                    other => panic!("unexpected {other:?}"),
                })
                .collect(),
            other => panic!("{line:?} gave {other:?}"),
        }
    }

    fn show(line: &str) -> Vec<String> {
        show_with(line, &ctx())
    }

    fn err(line: &str) -> String {
        match parse(line, &ctx()) {
            Err(e) => {
                assert_eq!(e.format, Format::Emf);
                e.reason
            }
            other => panic!("{line:?} should be malformed, got {other:?}"),
        }
    }

    /// A document with one directive whose body is `directive` and extra root members `rest`.
    fn doc(directive: &str, rest: &str) -> String {
        format!(r#"{{"_aws":{{"Timestamp":1574109732004,"CloudWatchMetrics":[{{{directive}}}]}}{rest}}}"#)
    }

    const LOG: &str = "log @1574109732004000000 rid=None sev=None trace=None map=true";

    #[test]
    fn shapes() {
        let ns = "aws.cloudwatch.namespace";
        let cases: Vec<(String, Vec<String>)> = vec![
            // The specification's own example.
            (
                r#"{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"lambda-function-metrics","Dimensions":[["functionVersion"]],"Metrics":[{"Name":"time","Unit":"Milliseconds","StorageResolution":60}]}]},"functionVersion":"$LATEST","time":100,"requestId":"989ffbf8-9ace-4817-a57c-e4dd734019ee"}"#.into(),
                vec![
                    format!("time [ms] Histogram Int(100) @1574109732004000000 {{{ns}=lambda-function-metrics, functionVersion=$LATEST}}"),
                    r#"log @1574109732004000000 rid=Some("989ffbf8-9ace-4817-a57c-e4dd734019ee") sev=None trace=None map=true"#.into(),
                ],
            ),
            // No dimension sets at all, in each spelling: one metric with only the namespace.
            (
                doc(r#""Namespace":"N","Metrics":[{"Name":"m"}]"#, r#","m":1"#),
                vec![format!("m [] Histogram Int(1) @1574109732004000000 {{{ns}=N}}"), LOG.into()],
            ),
            (
                doc(r#""Namespace":"N","Dimensions":[],"Metrics":[{"Name":"m"}]"#, r#","m":1"#),
                vec![format!("m [] Histogram Int(1) @1574109732004000000 {{{ns}=N}}"), LOG.into()],
            ),
            (
                doc(r#""Namespace":"N","Dimensions":[[]],"Metrics":[{"Name":"m"}]"#, r#","m":1"#),
                vec![format!("m [] Histogram Int(1) @1574109732004000000 {{{ns}=N}}"), LOG.into()],
            ),
            // N dimension sets × M values = N·M samples, set by set.
            (
                doc(r#""Namespace":"N","Dimensions":[["a"],["a","b"]],"Metrics":[{"Name":"m","Unit":"Count"}]"#, r#","a":"x","b":"y","m":[1,2.5]"#),
                vec![
                    format!("m [{{count}}] Histogram Int(1) @1574109732004000000 {{{ns}=N, a=x}}"),
                    format!("m [{{count}}] Histogram Double(2.5) @1574109732004000000 {{{ns}=N, a=x}}"),
                    format!("m [{{count}}] Histogram Int(1) @1574109732004000000 {{{ns}=N, a=x, b=y}}"),
                    format!("m [{{count}}] Histogram Double(2.5) @1574109732004000000 {{{ns}=N, a=x, b=y}}"),
                    LOG.into(),
                ],
            ),
            // An empty array records nothing but is not broken.
            (doc(r#""Namespace":"N","Metrics":[{"Name":"m"}]"#, r#","m":[]"#), vec![LOG.into()]),
            // Units: CloudWatch names in any case; anything else is kept as an attribute.
            (
                doc(
                    r#""Namespace":"N","Metrics":[{"Name":"a","Unit":"milliseconds"},{"Name":"b","Unit":"Kilobytes/Second"},{"Name":"c","Unit":"Requests"},{"Name":"d","Unit":"None"},{"Name":"e","Unit":"Percent"}]"#,
                    r#","a":1,"b":2,"c":3,"d":4,"e":5"#,
                ),
                vec![
                    format!("a [ms] Histogram Int(1) @1574109732004000000 {{{ns}=N}}"),
                    format!("b [kBy/s] Histogram Int(2) @1574109732004000000 {{{ns}=N}}"),
                    format!("c [] Histogram Int(3) @1574109732004000000 {{{ns}=N, aws.cloudwatch.unit=Requests}}"),
                    format!("d [] Histogram Int(4) @1574109732004000000 {{{ns}=N}}"),
                    format!("e [%] Histogram Int(5) @1574109732004000000 {{{ns}=N}}"),
                    LOG.into(),
                ],
            ),
            // Only high resolution is worth an attribute.
            (
                doc(
                    r#""Namespace":"N","Metrics":[{"Name":"a","StorageResolution":1},{"Name":"b","StorageResolution":1.0},{"Name":"c","StorageResolution":60}]"#,
                    r#","a":1,"b":2,"c":3"#,
                ),
                vec![
                    format!("a [] Histogram Int(1) @1574109732004000000 {{{ns}=N, aws.cloudwatch.storage_resolution=Int(1)}}"),
                    format!("b [] Histogram Int(2) @1574109732004000000 {{{ns}=N, aws.cloudwatch.storage_resolution=Int(1)}}"),
                    format!("c [] Histogram Int(3) @1574109732004000000 {{{ns}=N}}"),
                    LOG.into(),
                ],
            ),
            // Several directives; a duplicated member takes its last value, as JSON.parse does.
            (
                r#"{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"A","Metrics":[{"Name":"m"}]},{"Namespace":"B","Metrics":[{"Name":"m"}]}]},"m":1,"m":2}"#.into(),
                vec![
                    format!("m [] Histogram Int(2) @1574109732004000000 {{{ns}=A}}"),
                    format!("m [] Histogram Int(2) @1574109732004000000 {{{ns}=B}}"),
                    LOG.into(),
                ],
            ),
            // Timestamps: absent → the event's time; whole doubles and seconds are read exactly.
            (
                r#"  {"_aws":{"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"m"}]}]},"m":-3}"#.into(),
                vec![
                    format!("m [] Histogram Int(-3) @{OBSERVED} {{{ns}=N}}"),
                    format!("log @{OBSERVED} rid=None sev=None trace=None map=true"),
                ],
            ),
            (
                r#"{"_aws":{"Timestamp":1656685750622.0,"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"m"}]}]},"m":1}"#.into(),
                vec![
                    format!("m [] Histogram Int(1) @1656685750622000000 {{{ns}=N}}"),
                    "log @1656685750622000000 rid=None sev=None trace=None map=true".into(),
                ],
            ),
            (
                r#"{"_aws":{"Timestamp":1656685750,"CloudWatchMetrics":[{"Namespace":"N","Metrics":[{"Name":"m"}]}]},"m":1}"#.into(),
                vec![
                    format!("m [] Histogram Int(1) @1656685750000000000 {{{ns}=N}}"),
                    "log @1656685750000000000 rid=None sev=None trace=None map=true".into(),
                ],
            ),
            // Context the document carries for its log: request id and X-Ray trace.
            (
                doc(r#""Namespace":"N","Metrics":[]"#, &format!(r#","function_request_id":"rid-1","traceId":"{TRACE_HEADER}""#)),
                vec![r#"log @1574109732004000000 rid=Some("rid-1") sev=None trace=Some("5759e988bd862e3fe1be46a994272793") map=true"#.into()],
            ),
            (
                doc(r#""Namespace":"N","Metrics":[]"#, r#","xray_trace_id":"1-5759e988-bd862e3fe1be46a994272793","requestId":"""#),
                vec![r#"log @1574109732004000000 rid=None sev=None trace=Some("5759e988bd862e3fe1be46a994272793") map=true"#.into()],
            ),
        ];
        for (line, want) in cases {
            assert_eq!(show(&line), want, "{line}");
        }
    }

    #[test]
    fn context_from_the_runtime_prefix_wins() {
        let line = doc(r#""Namespace":"N","Metrics":[]"#, r#","requestId":"from-doc""#);
        let node = format!("2024-03-01T12:00:00.000Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t{line}");
        let prefix = crate::parse::runtime_prefix::strip(&node).expect("a Node prefix");
        assert_eq!(prefix.message, line);
        let ctx = Ctx { observed_ns: OBSERVED, prefix: Some(&prefix), render_otlp: false };
        assert_eq!(
            show_with(prefix.message, &ctx),
            vec![
                r#"log @1574109732004000000 rid=Some("8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f") sev=Some(9) trace=None map=true"#
            ]
        );
    }

    #[test]
    fn the_log_body_is_the_whole_document() {
        let line = r#"{"_aws":{"CloudWatchMetrics":[]},"service":"booking","n":[1,2]}"#;
        let items = parse(line, &ctx()).unwrap().unwrap();
        let [Item::Log(log)] = &items[..] else { panic!("{items:?}") };
        let AnyValue::Map(body) = &log.body else { panic!("{:?}", log.body) };
        let keys: Vec<&str> = body.iter().map(|kv| kv.key.as_ref()).collect();
        assert_eq!(keys, ["_aws", "service", "n"]);
        assert_eq!(log.body.get("n"), Some(&AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Int(2)])));
    }

    #[test]
    fn other_lines_are_not_mine() {
        for line in [
            "",
            "hello _aws",
            r#"[{"_aws":{"CloudWatchMetrics":[]}}]"#,
            r#"{"msg":"no metrics here"}"#,
            r#"{"_awsx":{"CloudWatchMetrics":[]}}"#,
            // `"_aws"` inside a string or a nested object does not make a document EMF.
            r#"{"msg":"_aws"}"#,
            r#"{"detail":{"_aws":{"CloudWatchMetrics":[]}}}"#,
            "MONITORING|1489795335|1|count|x",
        ] {
            assert_eq!(parse(line, &ctx()), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn malformed_documents_say_what_is_wrong() {
        let m1 = r#""Namespace":"N","Metrics":[{"Name":"m"}]"#;
        let many_keys: Vec<String> = (0..31).map(|k| format!("\"k{k}\"")).collect();
        let many_keys_rest: String = (0..31).map(|k| format!(",\"k{k}\":\"v\"")).collect();
        let many_metrics: Vec<String> = (0..101).map(|k| format!(r#"{{"Name":"m{k}"}}"#)).collect();
        let many_values: Vec<String> = (0..101).map(|k| k.to_string()).collect();
        let cases: Vec<(String, String)> = vec![
            (r#"{"_aws":1}"#.into(), "`_aws` must be an object".into()),
            (r#"{"_aws":{}}"#.into(), "`_aws.CloudWatchMetrics` is missing".into()),
            (r#"{"_aws":{"CloudWatchMetrics":{}}}"#.into(), "`_aws.CloudWatchMetrics` must be an array".into()),
            (
                r#"{"_aws":{"Timestamp":"now","CloudWatchMetrics":[]}}"#.into(),
                "`_aws.Timestamp` must be a number".into(),
            ),
            (
                r#"{"_aws":{"Timestamp":-1,"CloudWatchMetrics":[]}}"#.into(),
                "`_aws.Timestamp` Int(-1) is not a Unix time".into(),
            ),
            (
                r#"{"_aws":{"Timestamp":0,"CloudWatchMetrics":[]}}"#.into(),
                "`_aws.Timestamp` Int(0) is not a Unix time".into(),
            ),
            (r#"{"_aws":{"CloudWatchMetrics":[1]}}"#.into(), "CloudWatchMetrics[0] must be an object".into()),
            (doc(r#""Metrics":[]"#, ""), "CloudWatchMetrics[0].Namespace is missing".into()),
            (
                doc(r#""Namespace":5,"Metrics":[]"#, ""),
                "CloudWatchMetrics[0].Namespace must be a non-empty string".into(),
            ),
            (
                doc(r#""Namespace":"","Metrics":[]"#, ""),
                "CloudWatchMetrics[0].Namespace must be a non-empty string".into(),
            ),
            (doc(r#""Namespace":"N""#, ""), "CloudWatchMetrics[0].Metrics is missing".into()),
            (doc(r#""Namespace":"N","Metrics":{}"#, ""), "CloudWatchMetrics[0].Metrics must be an array".into()),
            (
                doc(&format!(r#""Namespace":"N","Metrics":[{}]"#, many_metrics.join(",")), ""),
                "CloudWatchMetrics[0].Metrics has 101 definitions, over the limit of 100".into(),
            ),
            (
                doc(r#""Namespace":"N","Dimensions":"a","Metrics":[]"#, ""),
                "CloudWatchMetrics[0].Dimensions must be an array of arrays".into(),
            ),
            (
                doc(r#""Namespace":"N","Dimensions":["a"],"Metrics":[]"#, ""),
                "CloudWatchMetrics[0].Dimensions[0] must be an array of member names".into(),
            ),
            (
                doc(r#""Namespace":"N","Dimensions":[["a"],[1]],"Metrics":[]"#, r#","a":"x""#),
                "CloudWatchMetrics[0].Dimensions[1] holds a key that is not a string".into(),
            ),
            (
                doc(
                    &format!(r#""Namespace":"N","Dimensions":[[{}]],"Metrics":[]"#, many_keys.join(",")),
                    &many_keys_rest,
                ),
                "CloudWatchMetrics[0].Dimensions[0] has 31 keys, over the limit of 30".into(),
            ),
            (
                doc(r#""Namespace":"N","Dimensions":[["service"]],"Metrics":[]"#, ""),
                "dimension `service` has no member in the document".into(),
            ),
            (
                doc(r#""Namespace":"N","Dimensions":[["service"]],"Metrics":[]"#, r#","service":1"#),
                "dimension `service` must have a string value".into(),
            ),
            (
                doc(
                    r#""Namespace":"N","Dimensions":[["service"]],"Metrics":[]"#,
                    &format!(r#","service":"{}""#, "x".repeat(1025)),
                ),
                "dimension `service` is longer than 1024 characters".into(),
            ),
            (doc(r#""Namespace":"N","Metrics":[1]"#, ""), "CloudWatchMetrics[0].Metrics[0] must be an object".into()),
            (
                doc(r#""Namespace":"N","Metrics":[{"Unit":"Count"}]"#, ""),
                "CloudWatchMetrics[0].Metrics[0].Name is missing".into(),
            ),
            (
                doc(r#""Namespace":"N","Metrics":[{"Name":""}]"#, ""),
                "CloudWatchMetrics[0].Metrics[0].Name must be a non-empty string".into(),
            ),
            (
                doc(r#""Namespace":"N","Metrics":[{"Name":["m"]}]"#, ""),
                "CloudWatchMetrics[0].Metrics[0].Name must be a non-empty string".into(),
            ),
            (
                doc(r#""Namespace":"N","Metrics":[{"Name":"m","Unit":5}]"#, r#","m":1"#),
                "CloudWatchMetrics[0].Metrics[0].Unit must be a string".into(),
            ),
            (
                doc(r#""Namespace":"N","Metrics":[{"Name":"m","StorageResolution":"1"}]"#, r#","m":1"#),
                "CloudWatchMetrics[0].Metrics[0].StorageResolution must be a number".into(),
            ),
            (doc(m1, ""), "metric `m` has no member in the document".into()),
            (doc(m1, r#","m":"100""#), "metric `m` must be a number or an array of numbers".into()),
            (doc(m1, r#","m":true"#), "metric `m` must be a number or an array of numbers".into()),
            (doc(m1, r#","m":null"#), "metric `m` must be a number or an array of numbers".into()),
            (doc(m1, r#","m":[1,"2"]"#), "metric `m` must be a number or an array of numbers".into()),
            (
                doc(m1, &format!(r#","m":[{}]"#, many_values.join(","))),
                "metric `m` has 101 values, over the limit of 100".into(),
            ),
            (
                doc(m1, r#","m":{"Max":3,"Min":1,"Count":2,"Sum":4}"#),
                "metric `m` is a statistic set or histogram object, which logship cannot carry as samples".into(),
            ),
            (
                doc(m1, r#","m":{"Values":[1,2],"Counts":[3,1],"Max":2,"Min":1,"Count":4,"Sum":5}"#),
                "metric `m` is a statistic set or histogram object, which logship cannot carry as samples".into(),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(err(&line), want, "{line}");
        }
        assert!(err(r#"{"_aws": "#).starts_with("invalid JSON: "));
        assert!(err(r#"{"_aws":{"CloudWatchMetrics":[]}} trailing"#).starts_with("invalid JSON: "));
    }

    #[test]
    fn limits_are_inclusive() {
        let keys: Vec<String> = (0..30).map(|k| format!("\"k{k}\"")).collect();
        let rest: String = (0..30).map(|k| format!(",\"k{k}\":\"v\"")).collect();
        let values: Vec<String> = (0..100).map(|k| k.to_string()).collect();
        let line = doc(
            &format!(r#""Namespace":"N","Dimensions":[[{}]],"Metrics":[{{"Name":"m"}}]"#, keys.join(",")),
            &format!(r#"{rest},"m":[{}]"#, values.join(",")),
        );
        assert_eq!(show(&line).len(), 101);
        // 1024 characters, but 2048 bytes.
        let long = "é".repeat(1024);
        let line = doc(r#""Namespace":"N","Dimensions":[["d"]],"Metrics":[]"#, &format!(r#","d":"{long}""#));
        assert_eq!(show(&line), vec![LOG]);
    }

    #[test]
    fn expansion_is_capped() {
        let metrics: Vec<String> = (0..100).map(|k| format!(r#"{{"Name":"m{k}"}}"#)).collect();
        let values: Vec<String> = (0..100).map(|k| k.to_string()).collect();
        let members: String = (0..100).map(|k| format!(r#","m{k}":[{}]"#, values.join(","))).collect();
        let line = doc(&format!(r#""Namespace":"N","Dimensions":[[],[]],"Metrics":[{}]"#, metrics.join(",")), &members);
        assert_eq!(err(&line), "document expands to more than 10000 metric samples");
        let line = doc(&format!(r#""Namespace":"N","Dimensions":[[]],"Metrics":[{}]"#, metrics.join(",")), &members);
        assert_eq!(show(&line).len(), 10_001);
    }

    #[test]
    fn cloudwatch_units_map_to_ucum() {
        assert_eq!(CLOUDWATCH_UNITS.len(), 27, "every StandardUnit");
        for (cw, ucum) in [
            ("Seconds", "s"),
            ("MICROSECONDS", "us"),
            ("Bytes", "By"),
            ("Megabytes", "MBy"),
            ("Count/Second", "{count}/s"),
            ("Bits/Second", "bit/s"),
        ] {
            assert_eq!(cloudwatch_unit(cw), Some(ucum), "{cw}");
        }
        assert_eq!(cloudwatch_unit("Requests"), None);
    }

    #[test]
    fn the_dispatcher_routes_documents_here() {
        let line = doc(r#""Namespace":"N","Metrics":[{"Name":"m"}]"#, r#","m":1,"type":"order""#);
        for text in
            [line.clone(), format!("2024-03-01T12:00:00.000Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t{line}\n")]
        {
            let parsed = crate::parse::parse_line(&text, OBSERVED);
            assert_eq!((parsed.format, &parsed.error), (Format::Emf, &None), "{text}");
            assert!(matches!(&parsed.items[..], [Item::Metric(_), Item::Log(_)]), "{parsed:?}");
        }
    }

    #[test]
    fn realistic_documents_snapshot() {
        let docs = [
            // Powertools for AWS Lambda (Python): multi-value metric, values always an array of floats.
            r#"{"_aws":{"Timestamp":1656685750622,"CloudWatchMetrics":[{"Namespace":"ServerlessAirline","Dimensions":[["environment","service"]],"Metrics":[{"Name":"TurbineReads","Unit":"Count"}]}]},"environment":"dev","service":"booking","TurbineReads":[1.0,8.0]}"#,
            // Powertools metadata: a member no directive names stays in the log only.
            r#"{"_aws":{"Timestamp":1656688250155,"CloudWatchMetrics":[{"Namespace":"ServerlessAirline","Dimensions":[["service"]],"Metrics":[{"Name":"SuccessfulBooking","Unit":"Count"}]}]},"service":"booking","booking_id":"00347014-341d-4b8e-8421-a89d3d588ab3","SuccessfulBooking":[1.0]}"#,
            // aws-embedded-metrics (Node) in Lambda: default dimensions plus a custom set, array values, high resolution.
            r#"{"LogGroup":"checkout","ServiceName":"checkout","ServiceType":"AWS::Lambda::Function","Operation":"PlaceOrder","executionEnvironment":"AWS_Lambda_nodejs18.x","memorySize":"256","functionVersion":"$LATEST","logStreamId":"2024/03/01/[$LATEST]0123456789abcdef","traceId":"Root=1-65e1c3a0-5f2b8c1d9e0a4b3c2d1e0f9a;Parent=53995c3f42cd8ad8;Sampled=1","_aws":{"Timestamp":1709294400123,"CloudWatchMetrics":[{"Dimensions":[["LogGroup","ServiceName","ServiceType"],["Operation"]],"Metrics":[{"Name":"ProcessingLatency","Unit":"Milliseconds","StorageResolution":1},{"Name":"ItemsProcessed","Unit":"Count"}],"Namespace":"aws-embedded-metrics"}]},"ProcessingLatency":[101.5,99,230],"ItemsProcessed":3}"#,
        ];
        let parsed: Vec<_> = docs.iter().map(|line| parse(line, &ctx())).collect();
        insta::assert_debug_snapshot!(parsed);
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in any::<String>()) {
            let _ = parse(&s, &ctx());
            let _ = parse(&format!(r#"{{"_aws":{s}}}"#), &ctx());
        }

        #[test]
        fn arbitrary_members_never_panic(
            ts in prop_oneof![Just("1574109732004".to_owned()), "-?[0-9]{0,21}(\\.[0-9]{0,3})?(e[0-9]{1,3})?", Just("\"x\"".to_owned())],
            value in prop_oneof![Just("null".to_owned()), "-?[0-9]{1,25}(\\.[0-9]{1,5})?", Just("[1,\"a\"]".to_owned()), Just("{}".to_owned())],
            dims in "\\[(\\[(\"[abm]\",?){0,3}\\],?){0,3}\\]",
        ) {
            let line = format!(
                r#"{{"_aws":{{"Timestamp":{ts},"CloudWatchMetrics":[{{"Namespace":"N","Dimensions":{dims},"Metrics":[{{"Name":"m"}}]}}]}},"a":"x","b":"y","m":{value}}}"#
            );
            let _ = parse(&line, &ctx());
        }
    }
}
