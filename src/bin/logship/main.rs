//! `logship` CLI: replays captured subscription events through the shipper's own pipeline on a laptop, and
//! benchmarks that pipeline (`logship bench`).

mod bench;
mod floor;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use logship::config::Config;
use logship::decode::{captured_events, DecodeError};
use logship::export::config::ExportConfig;
use logship::export::fanout::Exporters;
use logship::export::http::HttpClient;
use logship::export::{ExportReport, Signal};
use logship::pipeline::{process_event, Output, Stats};
use logship::secret::NoAws;
use logship::telemetry::Telemetry;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// mimalloc, as the shipper runs, counted for `logship bench`'s allocations per event (two relaxed atomic adds per
/// call).
#[global_allocator]
static GLOBAL: stats_alloc::StatsAlloc<mimalloc::MiMalloc> = stats_alloc::StatsAlloc::new(mimalloc::MiMalloc);

#[derive(Parser)]
#[command(name = "logship", version, about = "Agentless telemetry shipper for AWS Lambda")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run captured events (awslogs or Kinesis Lambda events, raw gzip payloads, LogsData JSON, or JSON lines of
    /// events) through exactly the pipeline the shipper Lambda runs.
    Replay(ReplayArgs),
    /// Measure the pipeline: events/s per core with and without logs, read against the floor (base64 + gunzip +
    /// LogsData JSON) timed in the same run, request bytes, allocations per event, peak RSS, shipper start-up.
    Bench(bench::BenchArgs),
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// Event files; `-` reads standard input.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// What to print on standard output.
    #[arg(long, value_enum, default_value_t = View::Otlp)]
    view: View,
    /// Also write the OTLP/JSON lines to this file.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Print a summary (lines by kind, malformed, spans, points, records) on standard error.
    #[arg(long)]
    stats: bool,
    /// Colour in the waterfall.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// `cloud.region` to report (the shipper's own region); defaults to AWS_REGION.
    #[arg(long)]
    region: Option<String>,
    /// Width of the waterfall's timeline bars, in columns.
    #[arg(long, default_value_t = 40)]
    width: usize,
    /// Send to this OTLP/HTTP endpoint (as OTEL_EXPORTER_OTLP_ENDPOINT); the OTEL_* and LOGSHIP_* variables
    /// configure the exporters as they do in the Lambda.
    #[arg(long)]
    endpoint: Option<String>,
    /// How long delivery of one event may take, retries included, in seconds (the Lambda uses its own deadline).
    #[arg(long, default_value_t = 30.0)]
    deadline: f64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum View {
    /// OTLP/JSON export requests, one per line (the Collector file exporter's format).
    Otlp,
    /// A per-invocation timeline, like the X-Ray console's trace view.
    Waterfall,
    /// Nothing (use with --output or --stats).
    None,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("logship: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Returns whether every event was read.
fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Replay(args) => replay_files(&args),
        Command::Bench(args) => bench::run(&args),
    }
}

/// `logship replay`; returns whether every event was read.
fn replay_files(args: &ReplayArgs) -> Result<bool> {
    let mut config = Config::from_env().context("configuration")?;
    if args.region.is_some() {
        config.region.clone_from(&args.region);
    }
    let endpoint = args.endpoint.clone();
    let mut export_config = ExportConfig::from_lookup(|k| match (k, &endpoint) {
        ("OTEL_EXPORTER_OTLP_ENDPOINT", Some(url)) => Some(url.clone()),
        _ => std::env::var(k).ok(),
    })
    .context("exporter configuration")?;
    // As the shipper does: bodies shipped as OTLP/protobuf are rendered in the walk that reads them.
    config.render_otlp_bodies = export_config.ships_otlp_protobuf(Signal::Logs);
    let deadline = Duration::try_from_secs_f64(args.deadline).context("--deadline")?;
    // Network exporters run on a small runtime of their own; without them nothing here is async.
    let network = match export_config.has_network_backends() {
        false => None,
        true => {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            rt.block_on(export_config.resolve_secrets(&NoAws)).context("exporter configuration")?;
            let exporters = Exporters::new(export_config, HttpClient::new()?)?;
            Some((rt, exporters))
        }
    };
    let mut delivery = ExportReport::default();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut file = match &args.output {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
        )),
        None => None,
    };
    let mut all = Telemetry::default();
    let mut totals = Stats::default();
    let mut ok = true;
    for path in &args.files {
        let name = path.display().to_string();
        let content = read(path).with_context(|| format!("cannot read {name}"))?;
        for (label, result) in replay(&content, &config) {
            match result {
                Ok(Output { telemetry, stats }) => {
                    totals += &stats;
                    if let Some((rt, exporters)) = &network {
                        out.flush()?;
                        let until = tokio::time::Instant::now() + deadline;
                        let report = rt.block_on(exporters.export(&telemetry, until));
                        if let Err(e) = report.clone().into_result() {
                            ok = false;
                            eprintln!("logship: {name}{label}: {e}");
                        }
                        delivery.signals.extend(report.signals);
                    } else if args.view == View::Otlp {
                        logship::export::stdout::write_lines(&mut out, &telemetry)?;
                    }
                    if let Some(f) = file.as_mut() {
                        logship::export::stdout::write_lines(f, &telemetry).with_context(|| {
                            format!("cannot write {}", args.output.as_deref().unwrap_or(path).display())
                        })?;
                    }
                    if args.view == View::Waterfall {
                        all.resources.extend(telemetry.resources);
                    }
                }
                Err(e) => {
                    ok = false;
                    out.flush()?;
                    eprintln!("logship: {name}{label}: {e}");
                }
            }
        }
    }
    if args.view == View::Waterfall {
        let color = match args.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stdout().is_terminal(),
        };
        let opts = logship::view::WaterfallOptions { width: args.width.max(10), color, ..Default::default() };
        out.write_all(logship::view::waterfall(&all, &opts).as_bytes())?;
    }
    out.flush()?;
    if let Some(mut f) = file {
        f.flush()?;
    }
    if args.stats {
        eprintln!("{totals}");
        if network.is_some() {
            let sent: u64 = delivery.signals.iter().map(|s| s.delivered).sum();
            let failed: u64 = delivery.failures().map(|f| f.items).sum();
            eprintln!(
                "export: delivered {sent}  rejected {}  failed {failed}  requests {}  bytes {}  retries {}",
                delivery.rejected(),
                delivery.requests(),
                delivery.bytes(),
                delivery.retries()
            );
        }
    }
    Ok(ok)
}

fn read(path: &PathBuf) -> std::io::Result<Vec<u8>> {
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(path)
    }
}

/// One file holds one event, or one event per line (a capture of many deliveries).
fn replay(content: &[u8], config: &Config) -> Vec<(String, Result<Output, DecodeError>)> {
    captured_events(content)
        .into_iter()
        .map(|(line, event)| (line.map_or_else(String::new, |n| format!(":{n}")), process_event(event, config)))
        .collect()
}
