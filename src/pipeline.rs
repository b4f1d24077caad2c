//! decode → parse → assemble for one subscription event: what the shipper Lambda and `logship replay` both run.

use crate::assemble::Assembler;
use crate::config::Config;
use crate::decode::{decode_event, DecodeError, MessageType};
use crate::parse::{parse_line, Format};
use crate::telemetry::{ms_to_ns, Telemetry};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::AddAssign;

/// What one or more events contained and produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub events: u64,
    pub batches: u64,
    pub control_messages: u64,
    pub inflated_bytes: u64,
    pub lines: u64,
    pub lines_by_format: BTreeMap<Format, u64>,
    /// Lines that claimed a format and broke it; each was still forwarded as a log record.
    pub malformed_by_format: BTreeMap<Format, u64>,
    pub spans: u64,
    pub points: u64,
    pub log_records: u64,
}

impl Stats {
    pub fn malformed(&self) -> u64 {
        self.malformed_by_format.values().sum()
    }
}

impl AddAssign<&Stats> for Stats {
    fn add_assign(&mut self, o: &Stats) {
        self.events += o.events;
        self.batches += o.batches;
        self.control_messages += o.control_messages;
        self.inflated_bytes += o.inflated_bytes;
        self.lines += o.lines;
        for (f, n) in &o.lines_by_format {
            *self.lines_by_format.entry(*f).or_default() += n;
        }
        for (f, n) in &o.malformed_by_format {
            *self.malformed_by_format.entry(*f).or_default() += n;
        }
        self.spans += o.spans;
        self.points += o.points;
        self.log_records += o.log_records;
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "events {}  batches {}  control messages {}  inflated bytes {}",
            self.events, self.batches, self.control_messages, self.inflated_bytes
        )?;
        writeln!(f, "lines {}  malformed {}", self.lines, self.malformed())?;
        for format in Format::ALL {
            let n = self.lines_by_format.get(&format).copied().unwrap_or(0);
            let bad = self.malformed_by_format.get(&format).copied().unwrap_or(0);
            if n > 0 || bad > 0 {
                writeln!(f, "  {:<14} {n:>8}  malformed {bad}", format.as_str())?;
            }
        }
        write!(f, "out: spans {}  metric points {}  log records {}", self.spans, self.points, self.log_records)
    }
}

/// The result of one event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub telemetry: Telemetry,
    pub stats: Stats,
}

/// Runs one subscription or Kinesis event through the pipeline. Only an unreadable payload is an error;
/// every line of a readable one comes out as telemetry.
pub fn process_event(event: &[u8], config: &Config) -> Result<Output, DecodeError> {
    let payloads = decode_event(event, &config.decode_options())?;
    let mut stats = Stats { events: 1, ..Stats::default() };
    let mut assembler = Assembler::new(config);
    for payload in &payloads {
        let batch = payload.batch()?;
        stats.batches += 1;
        stats.inflated_bytes += payload.json.len() as u64;
        if batch.message_type == MessageType::Control {
            stats.control_messages += 1;
            continue;
        }
        let stream = assembler.stream(&batch.owner, &batch.log_group, &batch.log_stream);
        for event in &batch.log_events {
            let observed_ns = ms_to_ns(event.timestamp);
            let parsed = parse_line(&event.message, observed_ns);
            stats.lines += 1;
            *stats.lines_by_format.entry(parsed.format).or_default() += 1;
            if let Some(err) = &parsed.error {
                *stats.malformed_by_format.entry(err.format).or_default() += 1;
            }
            assembler.add(stream, &event.id, observed_ns, parsed);
        }
    }
    let telemetry = assembler.finish();
    stats.spans = telemetry.span_count() as u64;
    stats.points = telemetry.point_count() as u64;
    stats.log_records = telemetry.log_count() as u64;
    Ok(Output { telemetry, stats })
}
