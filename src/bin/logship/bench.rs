//! `logship bench`: events/s per core end to end, read against the floor measured in the same run, plus output
//! bytes, allocations per event, peak RSS per fixture (each in a fresh child process) and shipper start-up.
//!
//! End to end means what the shipper does with one delivery short of the network: `pipeline::process_event`, then
//! the OTLP backend's own batching, encoding and gzip (`export::requests`, the code `export::deliver` sends from).
//! Absolute times on a shared machine drift, so every round times the floor and both end-to-end cases back to
//! back, and `efficiency = floor / end-to-end` is the median of those same-round ratios.

use crate::floor;
use anyhow::{bail, Context, Result};
use logship::config::Config;
use logship::decode::{captured_events, inflate_capped, DecodeError, DecodeOptions, Origin};
use logship::export::config::{ExportConfig, OtlpConfig, DEFAULT_GZIP_LEVEL};
use logship::export::otlp::Otlp;
use logship::export::{requests, Signal};
use logship::pipeline::process_event;
use std::hint::black_box;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The fixtures the targets are about, run when no file is named.
const DEFAULT_FIXTURES: [&str; 3] = ["typical-1000", "big-1mib", "json-format-1000"];

/// Only an address for the request URLs the exporter builds; nothing is ever sent.
const UNUSED_ENDPOINT: &str = "http://127.0.0.1:4318";

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Event files, read as `logship replay` reads them; default: the typical-1000, big-1mib and json-format-1000
    /// fixtures.
    files: Vec<PathBuf>,
    /// Two rounds of one pass each and few start-up runs: proves the bench works, measures nothing.
    #[arg(long)]
    quick: bool,
    /// Timed rounds per fixture; each round times the floor, with-logs and spans+metrics-only back to back.
    #[arg(long, default_value_t = 15)]
    rounds: usize,
    /// The least time one timed sample runs, in milliseconds (passes over the fixture are repeated to reach it).
    #[arg(long, default_value_t = 25)]
    sample_ms: u64,
    /// gzip level of the request bodies (0–12: 1 is ISA-L's level 1, the others libdeflate's); default
    /// LOGSHIP_GZIP_LEVEL, else the shipper's default.
    #[arg(long)]
    gzip_level: Option<i32>,
    /// Encode OTLP/JSON instead of the shipper's default protobuf.
    #[arg(long)]
    json: bool,
    /// Also time this shipper binary's cold start (`SHIPPER --check`) against spawning `true`.
    #[arg(long, value_name = "SHIPPER")]
    startup: Option<PathBuf>,
    /// With --startup: time the start-up only, no fixtures.
    #[arg(long, requires = "startup")]
    startup_only: bool,
    /// Internal: run one case in this fresh process and print its peak RSS.
    #[arg(long, value_enum, hide = true)]
    child: Option<Case>,
}

/// What one timed pass does to every event of a fixture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Case {
    /// base64 + gunzip + LogsData JSON only.
    Floor,
    /// The pipeline and every signal's requests, logs included.
    Logs,
    /// The pipeline and the trace and metric requests only (`LOGSHIP_LOGS_TO=none`).
    NoLogs,
    /// Nothing: the fixture loaded and the exporters built, for the resident baseline.
    Idle,
}

impl Case {
    const TIMED: [Case; 3] = [Case::Floor, Case::Logs, Case::NoLogs];

    fn as_arg(self) -> &'static str {
        match self {
            Case::Floor => "floor",
            Case::Logs => "logs",
            Case::NoLogs => "no-logs",
            Case::Idle => "idle",
        }
    }
}

/// The shipper's side of a pass: its pipeline configuration and one OTLP exporter per signal.
#[derive(Debug)]
struct Shipper {
    config: Config,
    /// The same with `drop_logs`, as the shipper runs when logs are routed nowhere.
    no_logs: Config,
    exporters: Vec<Otlp>,
}

/// What a pass sent.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sent {
    events: u64,
    requests: u64,
    /// Request bodies as sent (gzip when on).
    bytes: u64,
    /// The same before compression.
    raw_bytes: u64,
}

impl Shipper {
    fn new(gzip_level: Option<i32>, json: bool) -> Result<Shipper> {
        let config = Config::from_env().context("configuration")?;
        let level = gzip_level.map(|l| l.to_string());
        let export = ExportConfig::from_lookup(|k| match k {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(UNUSED_ENDPOINT.to_owned()),
            "OTEL_EXPORTER_OTLP_PROTOCOL" if json => Some("http/json".to_owned()),
            "LOGSHIP_GZIP_LEVEL" if level.is_some() => level.clone(),
            // Per-signal endpoints would send a signal elsewhere; the bench times every signal the same way.
            k if k.ends_with("_ENDPOINT") => None,
            _ => std::env::var(k).ok(),
        })
        .context("exporter configuration")?;
        let otlp: OtlpConfig = export.otlp.context("no OTLP configuration")?;
        let exporters = Signal::ALL.iter().filter_map(|s| Otlp::for_signal(&otlp, *s)).collect();
        // As the shipper configures its pipeline from where logs go.
        let config = Config { render_otlp_bodies: !json, ..config };
        let no_logs = Config { drop_logs: true, ..config.clone() };
        Ok(Shipper { config, no_logs, exporters })
    }

    /// One delivery, as the shipper handles it up to the network.
    fn ship(&self, event: &[u8], logs: bool) -> Result<Sent, DecodeError> {
        let out = process_event(event, if logs { &self.config } else { &self.no_logs })?;
        let mut sent = Sent { events: out.stats.lines, ..Sent::default() };
        for exporter in &self.exporters {
            let signal = exporter.signal();
            if signal == Signal::Logs && !logs {
                continue;
            }
            for request in requests(exporter, &out.telemetry, signal) {
                sent.requests += 1;
                sent.bytes += request.body.len() as u64;
                sent.raw_bytes += request.raw_len as u64;
                black_box(&request);
            }
        }
        Ok(sent)
    }

    /// A digest of every request body, uncompressed, logs included: equal digests mean identical output, so an
    /// optimisation can be checked to change nothing. The second digest is of the same telemetry with every JSON
    /// body built into its tree first, the way bodies were encoded before they were written from their text.
    fn digest(&self, events: &[Vec<u8>]) -> (u64, u64) {
        let (mut shipped, mut tree) = (Fnv::default(), Fnv::default());
        for event in events {
            let Ok(out) = process_event(event, &self.config) else { continue };
            let mut expanded = out.telemetry.clone();
            for log in expanded.resources.iter_mut().flat_map(|r| r.logs.iter_mut()) {
                log.body = log.body.parsed().into_owned();
            }
            for (t, h) in [(&out.telemetry, &mut shipped), (&expanded, &mut tree)] {
                for exporter in &self.exporters {
                    for request in requests(exporter, t, exporter.signal()) {
                        let raw = match request.content_encoding {
                            Some(_) => inflate_capped(&request.body, &Origin::Raw, &DecodeOptions::default())
                                .unwrap_or_default(),
                            None => request.body.to_vec(),
                        };
                        h.write(&(raw.len() as u64).to_le_bytes());
                        h.write(&raw);
                    }
                }
            }
        }
        (shipped.0, tree.0)
    }

    /// One pass of `case` over every event.
    fn pass(&self, events: &[Vec<u8>], case: Case) -> Sent {
        let mut total = Sent::default();
        for event in events {
            let event = black_box(event.as_slice());
            let sent = match case {
                Case::Floor => Sent { events: floor::read(event).unwrap_or(0) as u64, ..Sent::default() },
                Case::Logs => self.ship(event, true).unwrap_or_default(),
                Case::NoLogs => self.ship(event, false).unwrap_or_default(),
                Case::Idle => Sent::default(),
            };
            total.events += sent.events;
            total.requests += sent.requests;
            total.bytes += sent.bytes;
            total.raw_bytes += sent.raw_bytes;
        }
        black_box(total)
    }
}

/// FNV-1a, 64 bits: enough to notice any change in output.
#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A fixture, loaded: its events and what the floor reads of them.
#[derive(Debug)]
struct Fixture {
    name: String,
    path: PathBuf,
    events: Vec<Vec<u8>>,
    log_events: u64,
    logs_data_bytes: u64,
}

impl Fixture {
    fn load(path: &Path) -> Result<Fixture> {
        let content = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let events: Vec<Vec<u8>> = captured_events(&content).into_iter().map(|(_, e)| e.to_vec()).collect();
        let mut log_events = 0;
        let mut logs_data_bytes = 0;
        for event in &events {
            for gz in floor::gzip_members(event).map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))? {
                let json = floor::gunzip(&gz).map_err(|e| anyhow::anyhow!("{}: {e:?}", path.display()))?;
                logs_data_bytes += json.len() as u64;
                log_events += floor::logs_data(&json).map(|d| d.log_events.len() as u64).unwrap_or(0);
            }
        }
        if log_events == 0 {
            bail!("{}: no log events in a subscription or Kinesis event", path.display());
        }
        let name = path.file_stem().map_or_else(|| path.display().to_string(), |s| s.to_string_lossy().into_owned());
        Ok(Fixture { name, path: path.to_owned(), events, log_events, logs_data_bytes })
    }
}

/// The default fixtures, found from the working directory (a checkout) or the crate the binary was built from.
fn default_fixtures() -> Result<Vec<PathBuf>> {
    let dirs = [PathBuf::from("fixtures/events"), Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/events")];
    let dir = dirs
        .iter()
        .find(|d| d.join("typical-1000.json").is_file())
        .context("no fixtures/events here: name the event files, or run from a logship checkout")?;
    Ok(DEFAULT_FIXTURES.iter().map(|n| dir.join(format!("{n}.json"))).collect())
}

/// Timings of one case over the rounds, seconds per pass.
#[derive(Debug, Default, Clone)]
struct Samples(Vec<f64>);

impl Samples {
    fn quantile(&self, q: f64) -> f64 {
        let mut v = self.0.clone();
        v.sort_by(f64::total_cmp);
        match v.len() {
            0 => f64::NAN,
            n => {
                // Linear interpolation between the closest ranks.
                let pos = q * (n - 1) as f64;
                let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
                v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
            }
        }
    }

    fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// Half the interquartile range relative to the median: the ± of a typical round.
    fn spread(&self) -> f64 {
        (self.quantile(0.75) - self.quantile(0.25)) / 2.0 / self.median()
    }
}

/// One case's result on one fixture.
#[derive(Debug, Default, Clone)]
struct CaseResult {
    seconds: Samples,
    /// floor / this, per round.
    efficiency: Samples,
    sent: Sent,
    allocations_per_event: f64,
    peak_rss_kib: Option<u64>,
}

#[derive(Debug)]
struct FixtureResult {
    fixture: Fixture,
    floor: CaseResult,
    logs: CaseResult,
    no_logs: CaseResult,
    idle_rss_kib: Option<u64>,
    /// Of the output, and of the output with JSON bodies encoded from their tree.
    digest: (u64, u64),
}

/// Runs `logship bench`.
pub fn run(args: &BenchArgs) -> Result<bool> {
    let shipper = Shipper::new(args.gzip_level, args.json)?;
    if let Some(case) = args.child {
        return child(&shipper, args, case);
    }
    let files = match (args.startup_only, args.files.is_empty()) {
        (true, _) => Vec::new(),
        (false, true) => default_fixtures()?,
        (false, false) => args.files.clone(),
    };
    let fixtures = files.iter().map(|f| Fixture::load(f)).collect::<Result<Vec<_>>>()?;
    let (rounds, sample) =
        if args.quick { (2, Duration::ZERO) } else { (args.rounds.max(3), Duration::from_millis(args.sample_ms)) };
    let stderr = &mut std::io::stderr();
    let mut results = Vec::new();
    for fixture in fixtures {
        let _ = write!(stderr, "{}: ", fixture.name);
        let result = measure(&shipper, fixture, rounds, sample, args, stderr)?;
        let _ = writeln!(stderr, " done");
        results.push(result);
    }
    let startup = match &args.startup {
        Some(shipper) => Some(startup(shipper, if args.quick { 3 } else { 40 })?),
        None => None,
    };
    print_report(&results, startup.as_ref(), args, rounds, sample);
    Ok(true)
}

fn measure(
    shipper: &Shipper,
    fixture: Fixture,
    rounds: usize,
    sample: Duration,
    args: &BenchArgs,
    progress: &mut impl Write,
) -> Result<FixtureResult> {
    let events = &fixture.events;
    // Warm-up: caches, branch predictors, the allocator's free lists, CPU frequency.
    let warm_until = Instant::now() + sample * 4;
    let mut sent = [Sent::default(); 3];
    loop {
        for (i, case) in Case::TIMED.iter().enumerate() {
            sent[i] = shipper.pass(events, *case);
        }
        if Instant::now() >= warm_until {
            break;
        }
    }
    if sent[1].events != fixture.log_events {
        bail!("{}: the pipeline read {} log events, the floor {}", fixture.name, sent[1].events, fixture.log_events);
    }
    // Passes per sample, from the slowest case, so every case of a round runs about as long.
    let one = {
        let t = Instant::now();
        shipper.pass(events, Case::Logs);
        t.elapsed()
    };
    let passes = (sample.as_secs_f64() / one.as_secs_f64().max(1e-9)).ceil().max(1.0) as u32;
    let mut results: [CaseResult; 3] = Default::default();
    for round in 0..rounds {
        let mut times = [0.0; 3];
        // The order rotates so no case always runs right after the same one.
        for k in 0..3 {
            let i = (round + k) % 3;
            let t = Instant::now();
            for _ in 0..passes {
                shipper.pass(events, Case::TIMED[i]);
            }
            times[i] = t.elapsed().as_secs_f64() / f64::from(passes);
        }
        for i in 0..3 {
            results[i].seconds.0.push(times[i]);
            results[i].efficiency.0.push(times[0] / times[i]);
        }
        let _ = write!(progress, ".");
        let _ = progress.flush();
    }
    for (i, case) in Case::TIMED.iter().enumerate() {
        let before = crate::GLOBAL.stats();
        shipper.pass(events, *case);
        let after = crate::GLOBAL.stats();
        results[i].allocations_per_event = (after.allocations - before.allocations) as f64 / fixture.log_events as f64;
        results[i].sent = sent[i];
        if *case != Case::Floor {
            results[i].peak_rss_kib = peak_rss_in_child(&fixture.path, *case, args)?;
        }
    }
    let idle_rss_kib = peak_rss_in_child(&fixture.path, Case::Idle, args)?;
    let digest = shipper.digest(events);
    let [floor, logs, no_logs] = results;
    Ok(FixtureResult { fixture, floor, logs, no_logs, idle_rss_kib, digest })
}

/// Peak RSS of `case` on one fixture, in a process of its own so no other fixture's high-water mark counts.
fn peak_rss_in_child(path: &Path, case: Case, args: &BenchArgs) -> Result<Option<u64>> {
    let exe = std::env::current_exe().context("cannot find the logship binary to re-run")?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench", "--child", case.as_arg()]).arg(path);
    if let Some(level) = args.gzip_level {
        cmd.arg("--gzip-level").arg(level.to_string());
    }
    if args.json {
        cmd.arg("--json");
    }
    let out = cmd.stderr(Stdio::inherit()).output().context("cannot run the RSS child")?;
    if !out.status.success() {
        bail!("the RSS child for {} ({}) failed", path.display(), case.as_arg());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse().ok())
}

/// The child: a few passes of one case, then the process's peak resident set on stdout.
fn child(shipper: &Shipper, args: &BenchArgs, case: Case) -> Result<bool> {
    let path = args.files.first().context("--child needs one event file")?;
    let fixture = Fixture::load(path)?;
    for _ in 0..3 {
        shipper.pass(&fixture.events, case);
    }
    let rss = peak_rss_kib().context("no VmHWM in /proc/self/status")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{rss}")?;
    Ok(true)
}

/// The resident high-water mark of this process, from Linux's `/proc/self/status`.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse().ok()
}

/// Cold start to "ready for the first event" of the shipper binary, less spawning a trivial process.
#[derive(Debug)]
struct Startup {
    check: Samples,
    baseline: Samples,
}

fn startup(shipper: &Path, runs: usize) -> Result<Startup> {
    let spawn = |cmd: &mut Command| -> Result<f64> {
        let t = Instant::now();
        let status = cmd.stdout(Stdio::null()).stderr(Stdio::null()).status()?;
        let elapsed = t.elapsed().as_secs_f64();
        if !status.success() {
            bail!("{:?} exited with {status}", cmd.get_program());
        }
        Ok(elapsed)
    };
    let check = || {
        let mut cmd = Command::new(shipper);
        // An OTLP endpoint makes the cold start build the HTTP client, as a configured shipper does.
        cmd.arg("--check").env("OTEL_EXPORTER_OTLP_ENDPOINT", UNUSED_ENDPOINT);
        cmd
    };
    spawn(&mut check()).with_context(|| format!("{} --check", shipper.display()))?;
    let mut result = Startup { check: Samples::default(), baseline: Samples::default() };
    for _ in 0..runs {
        result.check.0.push(spawn(&mut check())?);
        result.baseline.0.push(spawn(&mut Command::new("true")).context("cannot run `true`")?);
    }
    Ok(result)
}

fn print_report(
    results: &[FixtureResult],
    startup: Option<&Startup>,
    args: &BenchArgs,
    rounds: usize,
    sample: Duration,
) {
    let level = args.gzip_level.map_or_else(
        || std::env::var("LOGSHIP_GZIP_LEVEL").unwrap_or_else(|_| DEFAULT_GZIP_LEVEL.to_string()),
        |l| l.to_string(),
    );
    let build = if cfg!(debug_assertions) { "debug build (numbers mean nothing)" } else { "release build" };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "logship bench: {build}, one thread, {} + gzip level {level}; {rounds} rounds × ≥{} ms, median (± half IQR)\n",
        if args.json { "OTLP/JSON" } else { "OTLP/protobuf" },
        sample.as_millis(),
    );
    if !results.is_empty() {
        print_tables(&mut out, results);
    }
    if let Some(s) = startup {
        let (check, base) = (s.check.median(), s.baseline.median());
        let _ = writeln!(
            out,
            "\nstart-up to ready (`shipper --check`, {} runs): {:.2} ms ±{:.0}%, spawning `true` {:.2} ms: {:.2} ms of its own",
            s.check.0.len(),
            check * 1e3,
            s.check.spread() * 100.0,
            base * 1e3,
            (check - base) * 1e3,
        );
    }
}

/// The per-fixture tables, Markdown.
fn print_tables(out: &mut impl Write, results: &[FixtureResult]) {
    let _ = writeln!(
        out,
        "| fixture | events | LogsData | floor | with logs | MB/s | efficiency | spans+metrics only | MB/s | efficiency |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in results {
        let f = &r.fixture;
        let rate = |c: &CaseResult| f.log_events as f64 / c.seconds.median();
        let mbs = |c: &CaseResult| f.logs_data_bytes as f64 / 1e6 / c.seconds.median();
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} KB | {:.3} ms ({} ev/s) | {} ev/s ±{:.0}% | {:.0} | {:.2} | {} ev/s ±{:.0}% | {:.0} | {:.2} |",
            f.name,
            f.log_events,
            f.logs_data_bytes as f64 / 1e3,
            r.floor.seconds.median() * 1e3,
            si(rate(&r.floor)),
            si(rate(&r.logs)),
            r.logs.seconds.spread() * 100.0,
            mbs(&r.logs),
            r.logs.efficiency.median(),
            si(rate(&r.no_logs)),
            r.no_logs.seconds.spread() * 100.0,
            mbs(&r.no_logs),
            r.no_logs.efficiency.median(),
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "| fixture | requests | bytes / 1000 events (uncompressed) | allocations / event (spans+metrics only) | peak RSS (spans+metrics only; idle) | output digest |"
    );
    let _ = writeln!(out, "| --- | ---: | ---: | ---: | ---: | --- |");
    for r in results {
        let per_1000 = |b: u64| b as f64 * 1000.0 / r.fixture.log_events as f64 / 1024.0;
        let _ = writeln!(
            out,
            "| {} | {} | {:.1} KiB ({:.1} KiB) | {:.1} ({:.1}) | {} ({}; {}) | {:016x}{} |",
            r.fixture.name,
            r.logs.sent.requests,
            per_1000(r.logs.sent.bytes),
            per_1000(r.logs.sent.raw_bytes),
            r.logs.allocations_per_event,
            r.no_logs.allocations_per_event,
            mib(r.logs.peak_rss_kib),
            mib(r.no_logs.peak_rss_kib),
            mib(r.idle_rss_kib),
            r.digest.0,
            if r.digest.0 == r.digest.1 { "" } else { " DIFFERS from the tree encoding" },
        );
    }
}

/// 394k, 1.23M.
fn si(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else {
        format!("{:.0}k", v / 1e3)
    }
}

fn mib(kib: Option<u64>) -> String {
    kib.map_or_else(|| "?".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
}
