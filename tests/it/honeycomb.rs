//! The Honeycomb backend end to end: fixture → pipeline → `deliver` → a local server that checks Honeycomb's
//! documented batch API shape and answers with per-event statuses.

use crate::fault_server::{self, FaultServer};
use logship::export::config::HoneycombConfig;
use logship::export::honeycomb::Honeycomb;
use logship::export::http::HttpClient;
use logship::export::{deliver, Delivery, Signal, SignalReport};
use logship::secret::{Secret, SecretSource};
use logship::telemetry::Telemetry;
use sonic_rs::{JsonContainerTrait, JsonValueTrait, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const KEY: &str = "hcaik_01integrationtestsecret";

/// One request as the server read it, body un-gzipped and parsed.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    events: Vec<Value>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn dataset(&self) -> &str {
        self.path.strip_prefix("/1/batch/").unwrap_or("")
    }
}

/// What the server answers: status, extra headers, JSON body.
type Reply = (u16, Vec<(&'static str, String)>, String);

/// The integration tests' scripted server, checking every request against Honeycomb's documented shape first: a
/// request that breaks it is answered 400, as Honeycomb does, and the script never sees it.
struct Server {
    url: String,
    inner: FaultServer,
}

impl Server {
    fn start(mut script: impl FnMut(usize, &Seen) -> Reply + Send + 'static) -> Server {
        let inner = FaultServer::start(move |n, request| {
            let seen = Seen::from(request);
            let (status, extra, answer) = match shape_error(&seen, &request.body) {
                Some(problem) => {
                    (400, vec![], format!(r#"{{"error":"Request body is malformed and cannot be read. ({problem})"}}"#))
                }
                None => script(n, &seen),
            };
            extra.into_iter().fold(fault_server::Reply::status(status).json(&answer), |r, (k, v)| r.header(k, &v))
        });
        Server { url: inner.url.clone(), inner }
    }

    fn seen(&self) -> Vec<Seen> {
        self.inner.seen().iter().map(Seen::from).collect()
    }
}

impl From<&fault_server::Seen> for Seen {
    /// The events of a body of the documented shape; none of one that breaks it.
    fn from(r: &fault_server::Seen) -> Seen {
        let mut seen =
            Seen { method: r.method.clone(), path: r.path.clone(), headers: r.headers.clone(), events: vec![] };
        if shape_error(&seen, &r.body).is_none() {
            seen.events = sonic_rs::from_slice::<Value>(&r.body).unwrap().as_array().unwrap().iter().cloned().collect();
        }
        seen
    }
}

/// What Honeycomb's "Create Events" reference requires of a request; `None` when it is all there.
fn shape_error(seen: &Seen, body: &[u8]) -> Option<String> {
    if seen.method != "POST" {
        return Some(format!("method {}", seen.method));
    }
    if seen.dataset().is_empty() || seen.dataset().contains('/') {
        return Some(format!("path {}", seen.path));
    }
    if seen.header("x-honeycomb-team") != Some(KEY) {
        return Some("X-Honeycomb-Team".into());
    }
    if seen.header("content-type") != Some("application/json") {
        return Some(format!("content type {:?}", seen.header("content-type")));
    }
    let Ok(events) = sonic_rs::from_slice::<Value>(body) else {
        return Some("not JSON".into());
    };
    let Some(events) = events.as_array() else {
        return Some("not a JSON array".into());
    };
    if events.is_empty() {
        return Some("no events".into());
    }
    for e in events.iter() {
        let time = e.get("time").and_then(|t| t.as_str()).unwrap_or("");
        // RFC 3339 with sub-second precision, in UTC.
        if !(time.len() > 20 && time.as_bytes()[10] == b'T' && time.contains('.') && time.ends_with('Z')) {
            return Some(format!("time {time:?}"));
        }
        if e.get("samplerate").and_then(|s| s.as_u64()).is_none_or(|s| s < 1) {
            return Some("samplerate".into());
        }
        if !e.get("data").is_some_and(|d| d.is_object()) {
            return Some("data".into());
        }
    }
    None
}

fn accepted(seen: &Seen) -> String {
    format!("[{}]", vec![r#"{"status":202}"#; seen.events.len()].join(","))
}

fn ok(seen: &Seen) -> Reply {
    (200, vec![], accepted(seen))
}

fn telemetry(fixture: &str) -> Telemetry {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/events").join(fixture);
    let event = std::fs::read(&path).unwrap();
    logship::pipeline::process_event(&event, &logship::config::Config::default()).unwrap().telemetry
}

fn honeycomb(url: &str, dataset: Option<&str>) -> Honeycomb {
    Honeycomb::new(&HoneycombConfig {
        api_url: url.to_owned(),
        api_key: SecretSource::Value(Secret::new(KEY)),
        dataset: dataset.map(str::to_owned),
        gzip_level: 6,
        timeout: Duration::from_secs(5),
    })
    .unwrap()
}

fn run(server: &Server, t: &Telemetry, signal: Signal) -> SignalReport {
    run_with(&honeycomb(&server.url, None), t, signal)
}

fn run_with(h: &Honeycomb, t: &Telemetry, signal: Signal) -> SignalReport {
    let client = HttpClient::new().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        deliver(h, &client, &Delivery::default(), t, signal, deadline).await
    })
}

fn data<'v>(e: &'v Value, key: &str) -> Option<&'v str> {
    e["data"].get(key).and_then(|v| v.as_str())
}

/// `name → count` of every event the server took.
fn names(seen: &[Seen]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for e in seen.iter().flat_map(|s| &s.events) {
        *out.entry(data(e, "name").unwrap_or("?").to_owned()).or_insert(0) += 1;
    }
    out
}

#[test]
fn beeline_spans_arrive_as_honeycomb_events() {
    let server = Server::start(|_, seen| ok(seen));
    let t = telemetry("beeline.json");
    let report = run(&server, &t, Signal::Traces);
    let seen = server.seen();

    assert_eq!(seen.len(), 1, "one dataset, one request: {seen:?}");
    assert_eq!(seen[0].path, "/1/batch/search-api");
    assert_eq!(seen[0].header("content-encoding"), Some("gzip"));
    let want: BTreeMap<String, usize> =
        [("search-api", 2), ("handler", 2), ("dynamodb.getItem", 2), ("https.request", 2), ("opensearch.query", 2)]
            .into_iter()
            .map(|(n, c)| (n.to_owned(), c))
            .collect();
    assert_eq!(names(&seen), want);

    let events = &seen[0].events;
    assert!(events.iter().all(|e| e["samplerate"].as_u64() == Some(1)));
    // Beeline spans keep the ids their other services use; the invocation spans carry X-Ray's, as hex.
    let traces: BTreeMap<&str, &str> = events
        .iter()
        .filter(|e| data(e, "name") != Some("search-api"))
        .map(|e| (data(e, "trace.span_id").unwrap(), data(e, "trace.trace_id").unwrap()))
        .collect();
    assert_eq!(traces.len(), 8);
    let trace_ids: std::collections::BTreeSet<&str> = traces.values().copied().collect();
    assert_eq!(
        trace_ids.into_iter().collect::<Vec<_>>(),
        ["0dfa5535-ab25-4f4e-bd90-616c80396cce", "b2c42111-9179-4969-9c21-1636c40d906b"]
    );
    let handler = events
        .iter()
        .find(|e| data(e, "trace.span_id") == Some("5898a3d9-8ba0-42a7-b07f-e15ed3257374"))
        .expect("the first handler span");
    assert_eq!(data(handler, "name"), Some("handler"));
    assert!(handler["data"].get("trace.parent_id").is_none(), "a root");
    assert_eq!(handler["time"].as_str(), Some("2026-11-01T12:40:00.331000000Z"));
    assert_eq!(handler["data"]["duration_ms"].as_f64(), Some(147.548488));
    assert_eq!(data(handler, "service.name"), Some("search-api"));
    let child =
        events.iter().find(|e| data(e, "trace.span_id") == Some("7ea9c5e1-7089-4d83-bc22-8abd071ba171")).unwrap();
    assert_eq!(data(child, "trace.parent_id"), Some("5898a3d9-8ba0-42a7-b07f-e15ed3257374"));
    let invocations: Vec<&str> = events
        .iter()
        .filter(|e| data(e, "name") == Some("search-api"))
        .map(|e| data(e, "trace.trace_id").unwrap())
        .collect();
    assert!(invocations.contains(&"6ae7332005437e505ceebfa7fad973c5"), "{invocations:?}");
    assert!(events.iter().all(|e| e["data"].as_object().unwrap().iter().all(|(k, _)| !k.starts_with("honeycomb."))));

    assert_eq!((report.backend.as_str(), report.signal), ("honeycomb", Some(Signal::Traces)));
    assert_eq!((report.items, report.delivered, report.rejected), (10, 10, 0));
    assert_eq!((report.requests, report.retries), (1, 0));
    assert!(report.failures.is_empty() && report.rejections.is_empty(), "{report:?}");
}

#[test]
fn logs_and_metrics() {
    let server = Server::start(|_, seen| ok(seen));
    let t = telemetry("beeline.json");
    let report = run(&server, &t, Signal::Logs);
    let seen = server.seen();
    let events: Vec<&Value> = seen.iter().flat_map(|s| &s.events).collect();
    assert_eq!(report.items, t.log_count() as u64);
    assert_eq!((report.delivered, events.len() as u64), (report.items, report.items));
    assert!(events.iter().all(|e| data(e, "meta.signal_type") == Some("log")));
    let search = events.iter().find(|e| data(e, "body") == Some(r#"search q="running shoes""#)).expect("an app log");
    assert_eq!(data(search, "severity"), Some("info"));
    assert!(data(search, "trace.trace_id").is_some(), "tied to its invocation's trace");

    let metrics = run(&server, &t, Signal::Metrics);
    assert_eq!((metrics.items, metrics.requests), (0, 0), "Honeycomb's events API takes no metrics");
    assert_eq!(server.seen().len(), seen.len());
}

#[test]
fn datasets_and_sample_rates_come_from_the_beeline() {
    let server = Server::start(|_, seen| ok(seen));
    let t = telemetry("go-al2023.json");
    // Events that name no dataset go to the configured one; the beeline's name theirs.
    let report = run_with(&honeycomb(&server.url, Some("lambda")), &t, Signal::Traces);
    let mut by_dataset: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for s in server.seen() {
        assert!(!by_dataset.contains_key(s.dataset()), "one request per dataset here");
        let events = s.events.iter().map(|e| (data(e, "name").unwrap().to_owned(), e["samplerate"].as_u64().unwrap()));
        by_dataset.insert(s.dataset().to_owned(), events.collect());
    }
    assert_eq!(by_dataset.keys().collect::<Vec<_>>(), ["geo-lookup", "lambda"]);
    let mut beeline = by_dataset["geo-lookup"].clone();
    beeline.sort();
    assert_eq!(
        beeline,
        [("geo-lookup", 1), ("geo-lookup", 1), ("geo-lookup", 10), ("mmdb.lookup", 1), ("mmdb.lookup", 10)]
            .map(|(n, r)| (n.to_owned(), r))
    );
    assert_eq!(by_dataset["lambda"], vec![("geo-lookup".to_owned(), 1); 3], "the invocation spans, unsampled");
    assert_eq!((report.items, report.delivered), (8, 8));
}

#[test]
fn per_event_refusals_are_counted_with_their_message() {
    let server = Server::start(|_, seen| {
        let statuses: Vec<&str> = seen
            .events
            .iter()
            .map(|e| match data(e, "name") {
                Some("https.request") => r#"{"status":400,"error":"Event has too many columns."}"#,
                _ => r#"{"status":202}"#,
            })
            .collect();
        (200, vec![], format!("[{}]", statuses.join(",")))
    });
    let report = run(&server, &telemetry("beeline.json"), Signal::Traces);
    assert_eq!((report.items, report.delivered, report.rejected), (10, 8, 2));
    assert_eq!(report.rejections, ["2 of 10 events refused by Honeycomb: 400 Event has too many columns. (×2)"]);
    assert!(report.failures.is_empty());
    assert_eq!(report.retries, 0, "a refusal is final");
}

#[test]
fn a_refused_key_fails_the_batch_without_naming_the_key() {
    let server =
        Server::start(|_, _| (401, vec![], format!(r#"{{"error":"unknown API key {KEY} - check your credentials"}}"#)));
    let report = run(&server, &telemetry("beeline.json"), Signal::Traces);
    assert_eq!((report.delivered, report.requests, report.retries), (0, 1, 0));
    assert_eq!(report.failures.len(), 1);
    let failure = &report.failures[0];
    assert_eq!((failure.backend.as_str(), failure.items), ("honeycomb", 10));
    assert!(failure.reason.contains("Honeycomb refused the API key"), "{}", failure.reason);
    assert!(!format!("{report:?}").contains(KEY), "{report:?}");
}

#[test]
fn unavailable_then_accepted_is_one_retry() {
    let server = Server::start(|n, seen| match n {
        0 => (503, vec![("Retry-After", "0".to_owned())], r#"{"error":"try again"}"#.to_owned()),
        _ => ok(seen),
    });
    let report = run(&server, &telemetry("beeline.json"), Signal::Traces);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].events, seen[1].events, "the same batch, sent again");
    assert_eq!((report.requests, report.retries, report.delivered, report.rejected), (2, 1, 10, 0));
    assert!(report.failures.is_empty(), "{report:?}");
}
