//! Per-stage, end-to-end and floor timings of the pipeline over the bundled fixtures; read `floor / end_to_end`.
//!
//! Every benchmark of one fixture reports the same counters, the fixture's log events and its inflated LogsData
//! bytes, so the throughput columns compare across stages. The absolute times on a shared machine drift from run
//! to run; `floor` runs in the same process on the same payloads, so `efficiency = floor / end_to_end` is the
//! number to track: it says how much the pipeline costs on top of merely reading what it was sent.

use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use logship::assemble::Assembler;
use logship::config::Config;
use logship::decode::{
    captured_events, decode_event, inflate_capped, DecodeOptions, LogBatch, MessageType, Origin, Payload,
};
use logship::export::config::ExportConfig;
use logship::export::gzip::gzip;
use logship::export::otlp::Otlp;
use logship::export::{otlp_json, otlp_proto, requests, Signal};
use logship::parse::{parse_line, ParsedLine};
use logship::pipeline::process_event;
use logship::telemetry::{ms_to_ns, Telemetry};
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
        let events: Vec<Event> =
            captured_events(&content).into_iter().map(|(_, raw)| Event::new(raw.to_vec(), &config)).collect();
        let log_events = events.iter().flat_map(|e| &e.batches).map(|b| b.log_events.len() as u64).sum();
        let inflated_bytes = events.iter().flat_map(|e| e.payloads).map(|p| p.json().len() as u64).sum();
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

/// The floor, shared with `logship bench` so both read against the same yardstick.
#[path = "../src/bin/logship/floor.rs"]
mod floor;

fn base64_payloads(raw: &[u8]) -> Vec<String> {
    floor::base64_payloads(raw).into_iter().map(|c| c.into_owned()).collect()
}

fn gzip_members(raw: &[u8]) -> Vec<Vec<u8>> {
    floor::gzip_members(raw)
        .unwrap_or_else(|e| panic!("fixture payload is not base64: {e:?}"))
        .into_iter()
        .map(|c| c.into_owned())
        .collect()
}

fn unbase64(data: &str) -> Vec<u8> {
    floor::unbase64(data).unwrap_or_else(|e| panic!("fixture payload is not base64: {e:?}"))
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
            black_box(floor::read(black_box(&event.raw)).is_ok());
        }
    });
}

/// The shipper's OTLP exporters (protobuf + gzip at the configured level, the defaults), one per signal; the
/// endpoint only names the request URLs, nothing is sent.
static EXPORTERS: LazyLock<Vec<Otlp>> = LazyLock::new(|| {
    let config = ExportConfig::from_lookup(|k| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://127.0.0.1:4318".to_owned()),
        _ => std::env::var(k).ok(),
    })
    .unwrap_or_else(|e| panic!("exporter configuration: {e}"));
    let otlp = config.otlp.unwrap_or_else(|| panic!("an endpoint configures OTLP"));
    Signal::ALL.iter().filter_map(|s| Otlp::for_signal(&otlp, *s)).collect()
});

/// Every request body the exporters would send for `t`, logs included or not: `export::requests` is the code
/// `export::deliver` sends from.
fn ship(t: &Telemetry, logs: bool) {
    for exporter in EXPORTERS.iter().filter(|e| logs || e.signal() != Signal::Logs) {
        for request in requests(exporter, t, exporter.signal()) {
            black_box(request);
        }
    }
}

/// What the shipper does per delivery, short of the network: the whole pipeline, then the OTLP exporters' batching,
/// protobuf encoding and gzip for every signal.
#[divan::bench(args = present())]
fn end_to_end(bencher: Bencher, name: &str) {
    // As the shipper configures itself when logs go out as OTLP/protobuf.
    deliveries(bencher, name, &Config { render_otlp_bodies: true, ..Config::default() }, true);
}

/// The same with logs routed nowhere (`LOGSHIP_LOGS_TO=none`): spans and metrics only.
#[divan::bench(args = present())]
fn end_to_end_no_logs(bencher: Bencher, name: &str) {
    deliveries(bencher, name, &Config { drop_logs: true, ..Config::default() }, false);
}

fn deliveries(bencher: Bencher, name: &str, config: &Config, logs: bool) {
    let fx = fixture(name);
    counted(bencher, fx).bench(|| {
        for event in &fx.events {
            if let Ok(out) = process_event(black_box(&event.raw), config) {
                ship(&out.telemetry, logs);
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

    fn encode_all(bencher: Bencher, name: &str, signal: Signal, encode: fn(&Telemetry, Signal) -> Vec<u8>) {
        let fx = fixture(name);
        counted(bencher, fx).bench(|| {
            for event in &fx.events {
                if signal.present_in(&event.telemetry) {
                    black_box(encode(black_box(&event.telemetry), signal));
                }
            }
        });
    }

    /// OTLP/protobuf, the shipper's default wire format.
    #[divan::bench(args = present())]
    fn s6_proto_traces(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Traces, otlp_proto::encode);
    }

    #[divan::bench(args = present())]
    fn s6_proto_metrics(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Metrics, otlp_proto::encode);
    }

    #[divan::bench(args = present())]
    fn s6_proto_logs(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Logs, otlp_proto::encode);
    }

    /// OTLP/JSON, for the stdout sink and `http/json`.
    #[divan::bench(args = present())]
    fn s6_json_traces(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Traces, otlp_json::encode);
    }

    #[divan::bench(args = present())]
    fn s6_json_metrics(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Metrics, otlp_json::encode);
    }

    #[divan::bench(args = present())]
    fn s6_json_logs(bencher: Bencher, name: &str) {
        encode_all(bencher, name, Signal::Logs, otlp_json::encode);
    }

    /// Output gzip of every signal's protobuf body at the shipper's default level (1, ISA-L's), at libdeflate's
    /// next (2) and at zlib's default (6).
    #[divan::bench(args = present(), consts = [1, 2, 6])]
    fn s7_gzip<const LEVEL: i32>(bencher: Bencher, name: &str) {
        let fx = fixture(name);
        let bodies: Vec<Vec<u8>> = fx
            .events
            .iter()
            .flat_map(|e| {
                Signal::ALL
                    .into_iter()
                    .filter(|s| s.present_in(&e.telemetry))
                    .map(|s| otlp_proto::encode(&e.telemetry, s))
            })
            .collect();
        counted(bencher, fx).bench(|| {
            for body in &bodies {
                black_box(gzip(black_box(body), LEVEL));
            }
        });
    }
}
