//! decode → parse → assemble for one subscription event: what the shipper Lambda and `logship replay` both run.

use crate::assemble::Assembler;
use crate::config::Config;
use crate::decode::{decode_records, DecodeError, EventKind, MessageType, Origin, Payload};
use crate::parse::{parse_line_rendering, Format};
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
    /// Kinesis or SQS records left out because they could not be read; handed back to the event source.
    pub rejected_records: u64,
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
        self.rejected_records += o.rejected_records;
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
        if self.rejected_records > 0 {
            writeln!(f, "unreadable records {}", self.rejected_records)?;
        }
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

/// A Kinesis or SQS record that could not be read, so none of its lines are in the output.
#[derive(Debug)]
pub struct Rejected {
    pub origin: Origin,
    pub error: DecodeError,
}

/// The result of one event that may be shipped in part: what was read, and the records that weren't.
#[derive(Debug)]
pub struct Processed {
    pub kind: EventKind,
    pub output: Output,
    /// Kinesis: at most one, the first unreadable record; the records after it are left for Lambda's retry, which
    /// resumes from it. SQS: every unreadable message. Never anything for the single-payload events.
    pub rejected: Vec<Rejected>,
}

/// Runs one subscription or Kinesis event through the pipeline, whole: only an unreadable payload is an error, and
/// every line of a readable one comes out as telemetry.
pub fn process_event(event: &[u8], config: &Config) -> Result<Output, DecodeError> {
    let processed = process_records(event, config)?;
    match processed.rejected.into_iter().next() {
        Some(rejected) => Err(rejected.error),
        None => Ok(processed.output),
    }
}

/// Runs an event through the pipeline record by record, for event source mappings that take back the records
/// that failed (`batchItemFailures`) instead of retrying a whole batch for one unreadable record. A single-payload
/// event fails as a whole, as in [`process_event`].
pub fn process_records(event: &[u8], config: &Config) -> Result<Processed, DecodeError> {
    let decoded = decode_records(event, &config.decode_options())?;
    let mut stats = Stats { events: 1, ..Stats::default() };
    let mut assembler = Assembler::new(config);
    let mut rejected = Vec::new();
    for record in decoded.records {
        let read = record.payload.and_then(|payload| add_payload(&payload, &mut assembler, &mut stats));
        let Err(error) = read else { continue };
        match decoded.kind {
            EventKind::AwsLogs | EventKind::Raw => return Err(error),
            EventKind::Kinesis => {
                rejected.push(Rejected { origin: record.origin, error });
                break;
            }
            EventKind::Sqs => rejected.push(Rejected { origin: record.origin, error }),
        }
    }
    stats.rejected_records = rejected.len() as u64;
    let telemetry = assembler.finish();
    stats.spans = telemetry.span_count() as u64;
    stats.points = telemetry.point_count() as u64;
    stats.log_records = telemetry.log_count() as u64;
    Ok(Processed { kind: decoded.kind, output: Output { telemetry, stats }, rejected })
}

/// Parses one payload's lines into the assembler. LogsData is checked before any line is added, so a payload is
/// in the output entirely or not at all.
fn add_payload(payload: &Payload, assembler: &mut Assembler<'_>, stats: &mut Stats) -> Result<(), DecodeError> {
    let batch = payload.batch()?;
    stats.batches += 1;
    stats.inflated_bytes += payload.json().len() as u64;
    if batch.message_type == MessageType::Control {
        stats.control_messages += 1;
        return Ok(());
    }
    let stream = assembler.stream(&batch.owner, &batch.log_group, &batch.log_stream);
    assembler.reserve(stream, batch.log_events.len());
    let render_otlp = assembler.config().render_otlp_bodies && !assembler.config().drop_logs;
    for event in &batch.log_events {
        let observed_ns = ms_to_ns(event.timestamp);
        let parsed = parse_line_rendering(&event.message, observed_ns, render_otlp);
        stats.lines += 1;
        *stats.lines_by_format.entry(parsed.format).or_default() += 1;
        if let Some(err) = &parsed.error {
            *stats.malformed_by_format.entry(err.format).or_default() += 1;
        }
        assembler.add(stream, &event.id, observed_ns, parsed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn data(logs_data: &str) -> String {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut gz = vec![0; c.gzip_compress_bound(logs_data.len())];
        let n = c.gzip_compress(logs_data.as_bytes(), &mut gz).unwrap();
        gz.truncate(n);
        base64::engine::general_purpose::STANDARD.encode(gz)
    }

    fn logs_data(request: &str) -> String {
        format!(
            r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/f","logStream":"2026/11/01/[$LATEST]ab","subscriptionFilters":["logship"],"logEvents":[{{"id":"1","timestamp":1700000000000,"message":"START RequestId: {request} Version: $LATEST\n"}},{{"id":"2","timestamp":1700000000005,"message":"hello from {request}\n"}}]}}"#
        )
    }

    fn kinesis(records: &[(&str, String)]) -> Vec<u8> {
        let records: Vec<String> = records
            .iter()
            .map(|(seq, data)| {
                format!(r#"{{"kinesis":{{"data":"{data}","sequenceNumber":"{seq}"}},"eventSource":"aws:kinesis"}}"#)
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
    }

    fn sqs(records: &[(&str, String)]) -> Vec<u8> {
        let records: Vec<String> = records
            .iter()
            .map(|(id, body)| {
                format!(
                    r#"{{"messageId":"{id}","body":{},"eventSource":"aws:sqs"}}"#,
                    sonic_rs::to_string(body).unwrap()
                )
            })
            .collect();
        format!(r#"{{"Records":[{}]}}"#, records.join(",")).into_bytes()
    }

    fn requests(out: &Output) -> Vec<String> {
        let mut ids: Vec<String> = out
            .telemetry
            .resources
            .iter()
            .flat_map(|r| &r.logs)
            .filter_map(|l| l.body.as_str().and_then(|b| b.strip_prefix("hello from ")).map(str::to_owned))
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn kinesis_stops_at_the_first_unreadable_record() {
        let event = kinesis(&[
            ("1", data(&logs_data("a"))),
            ("2", data("{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[]}")),
            ("3", data(&logs_data("c"))),
        ]);
        let processed = process_records(&event, &Config::default()).unwrap();
        assert_eq!(processed.kind, EventKind::Kinesis);
        assert_eq!(requests(&processed.output), ["a"], "records after the unreadable one wait for the retry");
        assert_eq!(processed.rejected.len(), 1);
        assert_eq!(processed.rejected[0].origin.item_identifier(), Some("2"));
        assert!(
            processed.rejected[0].error.to_string().contains("logGroup is empty"),
            "{}",
            processed.rejected[0].error
        );
        assert_eq!(processed.output.stats.rejected_records, 1);
        assert_eq!(processed.output.stats.batches, 1);
        assert!(process_event(&event, &Config::default()).is_err(), "taken whole, the event fails");
    }

    #[test]
    fn sqs_ships_every_readable_message() {
        let event = sqs(&[
            ("m1", format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, data(&logs_data("a")))),
            ("m2", "not json".into()),
            ("m3", format!(r#"{{"requestPayload":{{"awslogs":{{"data":"{}"}}}}}}"#, data(&logs_data("c")))),
            ("m4", r#"{"awslogs":{"data":"bm90IGd6aXA="}}"#.into()),
        ]);
        let processed = process_records(&event, &Config::default()).unwrap();
        assert_eq!(processed.kind, EventKind::Sqs);
        assert_eq!(requests(&processed.output), ["a", "c"]);
        let rejected: Vec<_> = processed.rejected.iter().map(|r| r.origin.item_identifier().unwrap()).collect();
        assert_eq!(rejected, ["m2", "m4"]);
        assert_eq!(processed.output.stats.lines, 4);
    }

    #[test]
    fn a_single_payload_event_fails_whole() {
        let event = format!(r#"{{"awslogs":{{"data":"{}"}}}}"#, data("[]"));
        let err = process_records(event.as_bytes(), &Config::default()).unwrap_err();
        assert!(err.to_string().starts_with("awslogs.data: inflated data is not CloudWatch Logs data"), "{err}");
    }
}
