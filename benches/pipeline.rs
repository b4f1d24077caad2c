//! Per-stage, end-to-end and floor timings of the pipeline over the bundled fixtures; read `floor / end_to_end`.
//!
//! Every benchmark of one fixture reports the same counters, the fixture's log events and its inflated LogsData
//! bytes, so the throughput columns compare across stages. The absolute times on a shared machine drift from run
//! to run; `floor` runs in the same process on the same payloads, so `efficiency = floor / end_to_end` is the
//! number to track: it says how much the pipeline costs on top of merely reading what it was sent.

use base64::Engine as _;
use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use logship::assemble::Assembler;
use logship::config::Config;
use logship::decode::{
    decode_event, inflate_capped, DecodeError, DecodeOptions, LogBatch, MessageType, Origin, Payload,
};
use logship::export::otlp_json::{encode, Signal};
use logship::parse::{parse_line, ParsedLine};
use logship::pipeline::process_event;
use logship::telemetry::{ms_to_ns, Telemetry};
use serde::Deserialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The fixtures worth timing: a typical delivery, CloudWatch's largest, Lambda's JSON log format, and a small one
/// whose per-delivery fixed costs dominate.
const FIXTURES: &[&str] = &["typical-1000.json", "big-1mib.json", "json-format-1000.json", "node-text.json"];

fn main() {
    if present().is_empty() {
        panic!("none of {FIXTURES:?} is in {}; run `make fixtures`", fixture_dir().display());
    }
    divan::main();
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join("events")
}

/// A missing fixture drops its row instead of failing the run, so the bench keeps working while fixtures change.
fn present() -> Vec<&'static str> {
    FIXTURES.iter().copied().filter(|name| fixture_dir().join(name).is_file()).collect()
}

/// One subscription event and what each stage hands the next, precomputed so a stage is timed alone.
struct Event {
    raw: Vec<u8>,
    /// `awslogs.data` / `Records[].kinesis.data`, empty for a raw gzip or plain LogsData event.
    base64: Vec<String>,
    gzip: Vec<Vec<u8>>,
    payloads: &'static [Payload],
    /// DATA batches only: control messages stop before classification in the pipeline too.
    batches: Vec<LogBatch<'static>>,
    parsed: Vec<Vec<ParsedLine>>,
    telemetry: Telemetry,
}

struct Fixture {
    events: Vec<Event>,
    log_events: u64,
    inflated_bytes: u64,
}

impl Fixture {
    fn load(name: &str) -> Fixture {
        let path = fixture_dir().join(name);
        let content = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let config = Config::default();
        let events: Vec<Event> = split_events(&content).into_iter().map(|raw| Event::new(raw, &config)).collect();
        let log_events = events.iter().flat_map(|e| &e.batches).map(|b| b.log_events.len() as u64).sum();
        let inflated_bytes = events.iter().flat_map(|e| e.payloads).map(|p| p.json.len() as u64).sum();
        Fixture { events, log_events, inflated_bytes }
    }

    fn batches(&self) -> impl Iterator<Item = &LogBatch<'static>> {
        self.events.iter().flat_map(|e| &e.batches)
    }
}

impl Event {
    fn new(raw: Vec<u8>, config: &Config) -> Event {
        let payloads: &'static [Payload] = decode_event(&raw, &config.decode_options())
            .unwrap_or_else(|e| panic!("fixture event does not decode: {e}"))
            .leak();
        let base64 = base64_payloads(&raw);
        let gzip = gzip_members(&raw);
        let batches: Vec<LogBatch<'static>> = payloads
            .iter()
            .map(|p| p.batch().unwrap_or_else(|e| panic!("fixture payload is not LogsData: {e}")))
            .filter(|b| b.message_type == MessageType::Data)
            .collect();
        let parsed = batches.iter().map(classify).collect();
        let telemetry = process_event(&raw, config).unwrap_or_else(|e| panic!("fixture event fails: {e}")).telemetry;
        Event { raw, base64, gzip, payloads, batches, parsed, telemetry }
    }
}

/// The replay CLI's rule: a file is one event, or one event per line.
fn split_events(content: &[u8]) -> Vec<Vec<u8>> {
    let single = decode_event(content, &DecodeOptions::default());
    if matches!(single, Err(DecodeError::EventJson(_))) {
        return content
            .split(|b| *b == b'\n')
            .filter(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
            .map(<[u8]>::to_vec)
            .collect();
    }
    vec![content.to_vec()]
}

/// Lets the whole payload stay borrowed: the pipeline's envelope types are private, and the floor must not
/// depend on them anyway.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: Option<Data<'a>>,
    #[serde(rename = "Records", borrow, default)]
    records: Vec<Record<'a>>,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    kinesis: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

fn base64_payloads(raw: &[u8]) -> Vec<String> {
    match sonic_rs::from_slice::<Envelope<'_>>(raw) {
        Ok(Envelope { awslogs: Some(a), .. }) => vec![a.data.into_owned()],
        Ok(Envelope { records, .. }) => records.into_iter().map(|r| r.kinesis.data.into_owned()).collect(),
        Err(_) => Vec::new(),
    }
}

/// The gzip members of one event, decoded straight from the borrowed envelope as a lean reader would.
fn gzip_members(raw: &[u8]) -> Vec<Vec<u8>> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        return vec![raw.to_vec()];
    }
    match sonic_rs::from_slice::<Envelope<'_>>(raw) {
        Ok(Envelope { awslogs: Some(a), .. }) => vec![unbase64(&a.data)],
        Ok(Envelope { records, .. }) => records.iter().map(|r| unbase64(&r.kinesis.data)).collect(),
        Err(_) => Vec::new(),
    }
}

/// The same engine and trimming the decoder uses.
fn unbase64(data: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .unwrap_or_else(|e| panic!("fixture payload is not base64: {e}"))
}

/// The LogsData document as the obvious serde reader would take it. A copy of `decode::LogBatch` on purpose: when
/// the pipeline's own reading gets cheaper, the floor must not follow, or the ratio would hide the gain.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
struct LogsData<'a> {
    message_type: Cow<'a, str>,
    #[serde(borrow, default)]
    owner: Cow<'a, str>,
    #[serde(borrow, default)]
    log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    log_events: Vec<LogsDataEvent<'a>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct LogsDataEvent<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    timestamp: i64,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// Bare libdeflate into a buffer sized from the gzip trailer: what `inflate_capped` does minus its checks.
fn gunzip(gz: &[u8]) -> Vec<u8> {
    let isize_le: [u8; 4] = gz[gz.len().saturating_sub(4)..].try_into().unwrap_or_default();
    let mut out = vec![0u8; u32::from_le_bytes(isize_le) as usize];
    let n = libdeflater::Decompressor::new()
        .gzip_decompress(gz, &mut out)
        .unwrap_or_else(|e| panic!("fixture payload does not inflate: {e}"));
    out.truncate(n);
    out
}

fn classify(batch: &LogBatch<'_>) -> Vec<ParsedLine> {
    batch.log_events.iter().map(|e| parse_line(&e.message, ms_to_ns(e.timestamp))).collect()
}

/// Loaded once for the whole run: parsing and pre-running the big fixtures per benchmark would dominate the run.
static LOADED: LazyLock<Vec<(&'static str, Fixture)>> =
    LazyLock::new(|| present().into_iter().map(|name| (name, Fixture::load(name))).collect());

fn fixture(name: &str) -> &'static Fixture {
    LOADED.iter().find(|(n, _)| *n == name).map(|(_, f)| f).unwrap_or_else(|| panic!("fixture {name} was not loaded"))
}

fn counted<'a, 'b>(bencher: Bencher<'a, 'b>, fx: &Fixture) -> Bencher<'a, 'b> {
    bencher.counter(ItemsCount::new(fx.log_events)).counter(BytesCount::new(fx.inflated_bytes))
}

/// What any shipper must do just to read a delivery: envelope JSON, base64, gunzip, LogsData JSON. Written with
/// the crates directly rather than through `logship::decode`, so the yardstick does not move when the code does.
#[divan::bench(args = present())]
fn floor(bencher: Bencher, name: &str) {
    let fx = fixture(name);
    counted(bencher, fx).bench(|| {
        for event in &fx.events {
            for gz in gzip_members(black_box(&event.raw)) {
                let json = gunzip(&gz);
                let batch = sonic_rs::from_slice::<LogsData<'_>>(&json);
                black_box(batch.is_ok());
            }
        }
    });
}

/// What the shipper does per delivery: the whole pipeline, then one OTLP/JSON body per signal present.
#[divan::bench(args = present())]
fn end_to_end(bencher: Bencher, name: &str) {
    let fx = fixture(name);
    let config = Config::default();
    counted(bencher, fx).bench(|| {
        for event in &fx.events {
            if let Ok(out) = process_event(black_box(&event.raw), &config) {
                for signal in Signal::ALL {
                    if signal.present_in(&out.telemetry) {
                        black_box(encode(&out.telemetry, signal));
                    }
                }
            }
        }
    });
}

/// decode → parse → assemble without the export; the stages below should add up to it.
#[divan::bench(args = present())]
fn process_event_only(bencher: Bencher, name: &str) {
    let fx = fixture(name);
    let config = Config::default();
    counted(bencher, fx).bench(|| {
        for event in &fx.events {
            black_box(process_event(black_box(&event.raw), &config).is_ok());
        }
    });
}

/// One stage at a time, each fed the previous stage's precomputed output. Names sort in pipeline order.
mod stage {
    use super::*;

    #[divan::bench(args = present())]
    fn s1_base64(bencher: Bencher, name: &str) {
        let fx = fixture(name);
        counted(bencher, fx).bench(|| {
            for data in fx.events.iter().flat_map(|e| &e.base64) {
                black_box(unbase64(black_box(data)));
            }
        });
    }

    #[divan::bench(args = present())]
    fn s2_gunzip(bencher: Bencher, name: &str) {
        let fx = fixture(name);
        let opts = DecodeOptions::default();
        counted(bencher, fx).bench(|| {
            for gz in fx.events.iter().flat_map(|e| &e.gzip) {
                black_box(inflate_capped(black_box(gz), &Origin::AwsLogs, &opts).is_ok());
            }
        });
    }

    #[divan::bench(args = present())]
    fn s3_logs_data(bencher: Bencher, name: &str) {
        let fx = fixture(name);
        counted(bencher, fx).bench(|| {
            for payload in fx.events.iter().flat_map(|e| e.payloads) {
                black_box(black_box(payload).batch().is_ok());
            }
        });
    }

    /// Returns the lines so that dropping them, which the assembler does in the pipeline, is not charged here.
    #[divan::bench(args = present())]
    fn s4_classify(bencher: Bencher, name: &str) {
        let fx = fixture(name);
        counted(bencher, fx).bench(|| fx.batches().map(|b| classify(black_box(b))).collect::<Vec<_>>());
    }

    /// `Assembler::add` consumes the parsed lines, so each iteration gets a fresh copy made outside the timing.
    #[divan::bench(args = present())]
    fn s5_assemble(bencher: Bencher, name: &str) {
        let fx = fixture(name);
        let config = Config::default();
        counted(bencher, fx)
            .with_inputs(|| fx.events.iter().map(|e| e.parsed.clone()).collect::<Vec<_>>())
            .bench_local_values(|parsed| {
                let mut out = Vec::with_capacity(fx.events.len());
                for (event, per_batch) in fx.events.iter().zip(parsed) {
                    let mut assembler = Assembler::new(&config);
                    for (batch, lines) in event.batches.iter().zip(per_batch) {
                        let stream = assembler.stream(&batch.owner, &batch.log_group, &batch.log_stream);
                        for (e, line) in batch.log_events.iter().zip(lines) {
                            assembler.add(stream, &e.id, ms_to_ns(e.timestamp), line);
                        }
                    }
                    out.push(assembler.finish());
                }
                out
            });
    }

    fn encode_all(bencher: Bencher, name: &str, signal: Signal) {
        let fx = fixture(name);
        counted(bencher, fx).bench(|| {
            for event in &fx.events {
                if signal.present_in(&event.telemetry) {
                    black_box(encode(black_box(&event.telemetry), signal));
                }
            }
        });
    }

    #[divan::bench(args = present())]
    fn s6_encode_traces(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Traces);
    }

    #[divan::bench(args = present())]
    fn s6_encode_metrics(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Metrics);
    }

    #[divan::bench(args = present())]
    fn s6_encode_logs(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Logs);
    }
}
