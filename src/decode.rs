//! Subscription events in: the `awslogs` envelope, Kinesis or SQS records → capped gunzip → [`LogBatch`]; AWS wire shapes end here.
//!
//! The cap matters because the payload is untrusted: CloudWatch Logs delivers at most 1 MiB of messages per batch
//! (plus per-event overhead), so anything that inflates past [`DEFAULT_MAX_INFLATED_BYTES`] is not a real
//! delivery. libdeflater inflates into a buffer sized from the gzip trailer, which is checked against the cap
//! before a byte is allocated; a trailer that lies makes the inflate fail rather than grow.

use base64::Engine as _;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// 16 MiB: sixteen times CloudWatch's largest batch, room for JSON escaping and envelope overhead.
pub const DEFAULT_MAX_INFLATED_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy)]
pub struct DecodeOptions {
    pub max_inflated_bytes: usize,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions { max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES }
    }
}

/// Where in the event a payload came from, so errors can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `awslogs.data` of a CloudWatch Logs subscription event.
    AwsLogs,
    /// `Records[i].kinesis.data` of a Kinesis event.
    Kinesis { index: usize, sequence_number: Option<String> },
    /// `Records[i].body` of an SQS event: a subscription event kept by the dead-letter queue, being redriven.
    Sqs { index: usize, message_id: Option<String> },
    /// Raw gzip or LogsData JSON given directly (CLI replay of a captured payload).
    Raw,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::AwsLogs => f.write_str("awslogs.data"),
            Origin::Kinesis { index, sequence_number: Some(seq) } => {
                write!(f, "Records[{index}].kinesis.data (sequence number {seq})")
            }
            Origin::Kinesis { index, sequence_number: None } => write!(f, "Records[{index}].kinesis.data"),
            Origin::Sqs { index, message_id: Some(id) } => write!(f, "Records[{index}].body (message {id})"),
            Origin::Sqs { index, message_id: None } => write!(f, "Records[{index}].body"),
            Origin::Raw => f.write_str("payload"),
        }
    }
}

impl Origin {
    /// The id an event source mapping takes back in `batchItemFailures`: the Kinesis sequence number or the SQS
    /// message id. `None` for a single-payload event, where the whole invocation stands or falls.
    pub fn item_identifier(&self) -> Option<&str> {
        match self {
            Origin::Kinesis { sequence_number, .. } => sequence_number.as_deref(),
            Origin::Sqs { message_id, .. } => message_id.as_deref(),
            Origin::AwsLogs | Origin::Raw => None,
        }
    }
}

/// Which envelope an event came in: it decides what a record that cannot be read costs the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// One payload, invoked asynchronously by CloudWatch Logs: an unreadable payload fails the invocation.
    AwsLogs,
    /// An ordered shard batch: records after an unreadable one wait for it (Lambda retries from its sequence number).
    Kinesis,
    /// A redrive from the dead-letter queue: messages are independent, so an unreadable one holds up no other.
    Sqs,
    /// A raw gzip payload or LogsData document (replay).
    Raw,
}

/// Why an event could not be read. Each variant names the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("event is not valid JSON: {0}")]
    EventJson(String),
    #[error("event is neither a CloudWatch Logs subscription event ({{\"awslogs\":{{\"data\":…}}}}), a Kinesis event ({{\"Records\":[{{\"kinesis\":…}}]}}) nor an SQS event ({{\"Records\":[{{\"body\":…}}]}})")]
    UnknownEvent,
    #[error("{origin}: {reason}")]
    Record { origin: Origin, reason: String },
    #[error("{origin}: not valid base64: {source}")]
    Base64 { origin: Origin, source: base64::DecodeError },
    #[error("{origin}: not gzip data ({reason})")]
    Gzip { origin: Origin, reason: &'static str },
    #[error("{origin}: inflated size {size} bytes exceeds the {limit}-byte cap")]
    TooLarge { origin: Origin, size: u64, limit: usize },
    #[error("{origin}: inflated data is not CloudWatch Logs data: {reason}")]
    LogsData { origin: Origin, reason: String },
}

/// One inflated LogsData document, kept as bytes so [`LogBatch`] can borrow its strings.
#[derive(Debug)]
pub struct Payload {
    pub origin: Origin,
    pub json: Vec<u8>,
}

impl Payload {
    /// Parses the LogsData document.
    pub fn batch(&self) -> Result<LogBatch<'_>, DecodeError> {
        let batch: LogBatch<'_> = sonic_rs::from_slice(&self.json)
            .map_err(|e| DecodeError::LogsData { origin: self.origin.clone(), reason: e.to_string() })?;
        if batch.message_type == MessageType::Data && batch.log_group.is_empty() {
            return Err(DecodeError::LogsData { origin: self.origin.clone(), reason: "logGroup is empty".into() });
        }
        Ok(batch)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MessageType {
    #[serde(rename = "DATA_MESSAGE")]
    Data,
    /// CloudWatch's reachability probe when a subscription is created: carries nothing to ship.
    #[serde(rename = "CONTROL_MESSAGE")]
    Control,
}

/// A CloudWatch Logs delivery: the lines of one log stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogBatch<'a> {
    pub message_type: MessageType,
    #[serde(borrow, default)]
    pub owner: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    pub log_stream: Cow<'a, str>,
    #[serde(borrow, default)]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub log_events: Vec<LogEvent<'a>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LogEvent<'a> {
    #[serde(borrow, default)]
    pub id: Cow<'a, str>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    #[serde(borrow)]
    pub message: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: Option<AwsLogs<'a>>,
    #[serde(rename = "Records", borrow)]
    records: Option<Vec<Record<'a>>>,
    /// Present only on a bare LogsData document; a string, so nothing nested is built for it.
    #[serde(rename = "messageType", borrow)]
    message_type: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Record<'a> {
    #[serde(borrow)]
    kinesis: Option<KinesisData<'a>>,
    /// SQS: the message body, here a subscription event as the dead-letter queue kept it.
    #[serde(borrow)]
    body: Option<Cow<'a, str>>,
    #[serde(rename = "messageId", default)]
    message_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KinesisData<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
    #[serde(default)]
    sequence_number: Option<String>,
}

/// An SQS message body: the subscription event itself (a Lambda dead-letter queue keeps the event as it was), or
/// an on-failure destination record, which wraps it in `requestPayload`.
#[derive(Deserialize)]
struct SqsBody<'a> {
    #[serde(borrow)]
    awslogs: Option<AwsLogs<'a>>,
    #[serde(rename = "requestPayload", borrow)]
    request_payload: Option<RequestPayload<'a>>,
}

#[derive(Deserialize)]
struct RequestPayload<'a> {
    #[serde(borrow)]
    awslogs: Option<AwsLogs<'a>>,
}

/// One payload of an event, read or not: in a Kinesis or SQS event each record stands or falls on its own.
#[derive(Debug)]
pub struct DecodedRecord {
    pub origin: Origin,
    pub payload: Result<Payload, DecodeError>,
}

/// An event's payloads in delivery order, and the envelope they came in.
#[derive(Debug)]
pub struct Decoded {
    pub kind: EventKind,
    pub records: Vec<DecodedRecord>,
}

/// Reads whatever a subscriber can be handed: an `awslogs` event, a Kinesis event, an SQS event redriving the
/// dead-letter queue, or (for replay) a raw gzip payload or a plain LogsData document. Fails only when the envelope
/// itself can't be read; a record that can't be read is an error in its own [`DecodedRecord`].
pub fn decode_records(event: &[u8], opts: &DecodeOptions) -> Result<Decoded, DecodeError> {
    let single = |kind, origin: Origin, payload: Result<Vec<u8>, DecodeError>| Decoded {
        kind,
        records: vec![DecodedRecord { payload: payload.map(|json| Payload { origin: origin.clone(), json }), origin }],
    };
    if event.starts_with(&[0x1f, 0x8b]) {
        return Ok(single(EventKind::Raw, Origin::Raw, inflate_capped(event, &Origin::Raw, opts)));
    }
    let envelope: Envelope<'_> = sonic_rs::from_slice(event).map_err(|e| DecodeError::EventJson(e.to_string()))?;
    if let Some(awslogs) = envelope.awslogs {
        let origin = Origin::AwsLogs;
        let json = unbase64(&awslogs.data, &origin).and_then(|gz| inflate_capped(&gz, &origin, opts));
        return Ok(single(EventKind::AwsLogs, origin, json));
    }
    if let Some(records) = envelope.records {
        // The first record tells the envelope: an event source mapping never mixes sources in one batch.
        let kind = match records.first() {
            Some(r) if r.kinesis.is_some() => EventKind::Kinesis,
            Some(r) if r.body.is_some() => EventKind::Sqs,
            _ => return Err(DecodeError::UnknownEvent),
        };
        let records = records
            .into_iter()
            .enumerate()
            .map(|(index, record)| match kind {
                EventKind::Kinesis => kinesis_record(index, record, opts),
                _ => sqs_record(index, record, opts),
            })
            .collect();
        return Ok(Decoded { kind, records });
    }
    if envelope.message_type.is_some() {
        return Ok(single(EventKind::Raw, Origin::Raw, Ok(event.to_vec())));
    }
    Err(DecodeError::UnknownEvent)
}

/// [`decode_records`] for callers that take an event whole: the first record that can't be read fails it.
pub fn decode_event(event: &[u8], opts: &DecodeOptions) -> Result<Vec<Payload>, DecodeError> {
    decode_records(event, opts)?.records.into_iter().map(|r| r.payload).collect()
}

/// How a captured file holds events, the rule `logship replay` and the benchmarks share: one event, or — when the
/// whole is no JSON document and has several lines — one event per non-blank line, with its line number (from 1).
pub fn captured_events(content: &[u8]) -> Vec<(Option<usize>, &[u8])> {
    let several_lines = content.iter().filter(|b| **b == b'\n').count() > 1;
    // Exactly when `decode_records` would fail with `EventJson`, without inflating anything to find out.
    let one_document = content.starts_with(&[0x1f, 0x8b]) || sonic_rs::from_slice::<Envelope<'_>>(content).is_ok();
    if several_lines && !one_document {
        return content
            .split(|b| *b == b'\n')
            .enumerate()
            .filter(|(_, line)| line.iter().any(|b| !b.is_ascii_whitespace()))
            .map(|(i, line)| (Some(i + 1), line))
            .collect();
    }
    vec![(None, content)]
}

fn kinesis_record(index: usize, record: Record<'_>, opts: &DecodeOptions) -> DecodedRecord {
    let Some(kinesis) = record.kinesis else {
        let origin = Origin::Kinesis { index, sequence_number: None };
        let reason = "not a Kinesis record (no `kinesis` object)".into();
        return DecodedRecord { payload: Err(DecodeError::Record { origin: origin.clone(), reason }), origin };
    };
    let origin = Origin::Kinesis { index, sequence_number: kinesis.sequence_number };
    let payload = unbase64(&kinesis.data, &origin)
        .and_then(|gz| inflate_capped(&gz, &origin, opts))
        .map(|json| Payload { origin: origin.clone(), json });
    DecodedRecord { origin, payload }
}

fn sqs_record(index: usize, record: Record<'_>, opts: &DecodeOptions) -> DecodedRecord {
    let origin = Origin::Sqs { index, message_id: record.message_id };
    let fail = |reason: String| Err(DecodeError::Record { origin: origin.clone(), reason });
    let payload = match record.body {
        None => fail("not an SQS record (no `body`)".into()),
        Some(body) => match sonic_rs::from_str::<SqsBody<'_>>(&body) {
            Err(e) => fail(format!("body is not a JSON subscription event: {e}")),
            Ok(SqsBody { awslogs: Some(awslogs), .. })
            | Ok(SqsBody { request_payload: Some(RequestPayload { awslogs: Some(awslogs) }), .. }) => {
                unbase64(&awslogs.data, &origin)
                    .and_then(|gz| inflate_capped(&gz, &origin, opts))
                    .map(|json| Payload { origin: origin.clone(), json })
            }
            Ok(_) => fail("body is not a CloudWatch Logs subscription event (no `awslogs.data`)".into()),
        },
    };
    DecodedRecord { origin, payload }
}

fn unbase64(data: &str, origin: &Origin) -> Result<Vec<u8>, DecodeError> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|source| DecodeError::Base64 { origin: origin.clone(), source })
}

/// Gunzips a single-member gzip stream, refusing to produce more than `opts.max_inflated_bytes`.
pub fn inflate_capped(gz: &[u8], origin: &Origin, opts: &DecodeOptions) -> Result<Vec<u8>, DecodeError> {
    let gzip_err = |reason| DecodeError::Gzip { origin: origin.clone(), reason };
    if gz.len() < 18 || gz[0] != 0x1f || gz[1] != 0x8b {
        return Err(gzip_err("missing gzip header"));
    }
    // ISIZE, the last four bytes: the inflated size modulo 2^32.
    let trailer: [u8; 4] = gz[gz.len() - 4..].try_into().map_err(|_| gzip_err("truncated"))?;
    let size = u32::from_le_bytes(trailer) as usize;
    if size > opts.max_inflated_bytes {
        return Err(DecodeError::TooLarge {
            origin: origin.clone(),
            size: size as u64,
            limit: opts.max_inflated_bytes,
        });
    }
    let mut out = vec![0u8; size];
    let n = libdeflater::Decompressor::new().gzip_decompress(gz, &mut out).map_err(|e| match e {
        // libdeflate checks ISIZE and CRC, so a too-small buffer means the true size is ISIZE + k·4 GiB.
        libdeflater::DecompressionError::InsufficientSpace => DecodeError::TooLarge {
            origin: origin.clone(),
            size: size as u64 + (1 << 32),
            limit: opts.max_inflated_bytes,
        },
        libdeflater::DecompressionError::BadData => gzip_err("corrupt or truncated deflate stream"),
    })?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
        let mut out = vec![0; c.gzip_compress_bound(data.len())];
        let n = c.gzip_compress(data, &mut out).unwrap();
        out.truncate(n);
        out
    }

    fn awslogs_event(logs_data: &str) -> Vec<u8> {
        let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(logs_data.as_bytes()));
        format!(r#"{{"awslogs":{{"data":"{b64}"}}}}"#).into_bytes()
    }

    const LOGS_DATA: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/hello","logStream":"2026/11/01/[$LATEST]0123","subscriptionFilters":["logship"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"START RequestId: a Version: $LATEST\n"},{"id":"2","timestamp":1700000000001,"message":"say \"hi\"\n"}]}"#;

    #[test]
    fn awslogs_event_decodes_to_one_batch() {
        let payloads = decode_event(&awslogs_event(LOGS_DATA), &DecodeOptions::default()).unwrap();
        assert_eq!(payloads.len(), 1);
        let batch = payloads[0].batch().unwrap();
        assert_eq!(batch.message_type, MessageType::Data);
        assert_eq!(batch.log_group, "/aws/lambda/hello");
        assert_eq!(batch.subscription_filters, vec!["logship"]);
        assert_eq!(batch.log_events.len(), 2);
        assert_eq!(batch.log_events[1].message, "say \"hi\"\n");
        assert_eq!(batch.log_events[0].timestamp, 1_700_000_000_000);
    }

    #[test]
    fn kinesis_records_decode_in_order() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(LOGS_DATA.as_bytes()));
        let event = format!(
            r#"{{"Records":[{{"kinesis":{{"data":"{b64}","sequenceNumber":"49"}},"eventSource":"aws:kinesis"}},{{"kinesis":{{"data":"{b64}"}}}}]}}"#
        );
        let payloads = decode_event(event.as_bytes(), &DecodeOptions::default()).unwrap();
        assert_eq!(payloads.len(), 2);
        assert_eq!(payloads[0].origin, Origin::Kinesis { index: 0, sequence_number: Some("49".into()) });
        assert_eq!(payloads[1].batch().unwrap().log_events.len(), 2);
    }

    #[test]
    fn sqs_redrive_records_stand_alone() {
        let awslogs = String::from_utf8(awslogs_event(LOGS_DATA)).unwrap();
        let destination = format!(
            r#"{{"version":"1.0","requestContext":{{"condition":"RetriesExhausted"}},"requestPayload":{awslogs}}}"#
        );
        let body = |s: &str| sonic_rs::to_string(s).unwrap();
        let event = format!(
            r#"{{"Records":[{{"messageId":"m1","body":{}}},{{"messageId":"m2","body":{}}},{{"messageId":"m3","body":"{{\"awslogs\":{{\"data\":\"??\"}}}}"}},{{"messageId":"m4","body":"hello"}}]}}"#,
            body(&awslogs),
            body(&destination),
        );
        let decoded = decode_records(event.as_bytes(), &DecodeOptions::default()).unwrap();
        assert_eq!(decoded.kind, EventKind::Sqs);
        let ids: Vec<_> = decoded.records.iter().map(|r| r.origin.item_identifier().unwrap()).collect();
        assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
        for ok in &decoded.records[..2] {
            assert_eq!(ok.payload.as_ref().unwrap().batch().unwrap().log_events.len(), 2);
        }
        let errors: Vec<String> =
            decoded.records[2..].iter().map(|r| r.payload.as_ref().unwrap_err().to_string()).collect();
        assert_eq!(errors[0], "Records[2].body (message m3): not valid base64: Invalid symbol 63, offset 0.");
        assert!(
            errors[1].starts_with("Records[3].body (message m4): body is not a JSON subscription event"),
            "{}",
            errors[1]
        );
        // Taken whole, the event fails on its first unreadable record.
        let err = decode_event(event.as_bytes(), &DecodeOptions::default()).unwrap_err();
        assert!(err.to_string().starts_with("Records[2].body (message m3)"), "{err}");
    }

    #[test]
    fn an_unreadable_kinesis_record_is_its_own_error() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(gzip(LOGS_DATA.as_bytes()));
        let event = format!(
            r#"{{"Records":[{{"kinesis":{{"data":"{b64}","sequenceNumber":"1"}}}},{{"kinesis":{{"data":"bm90IGd6aXA=","sequenceNumber":"2"}}}},{{"eventSource":"aws:sqs"}}]}}"#
        );
        let decoded = decode_records(event.as_bytes(), &DecodeOptions::default()).unwrap();
        assert_eq!(decoded.kind, EventKind::Kinesis);
        assert!(decoded.records[0].payload.is_ok());
        assert_eq!(decoded.records[1].origin.item_identifier(), Some("2"));
        let msg = decoded.records[1].payload.as_ref().unwrap_err().to_string();
        assert_eq!(msg, "Records[1].kinesis.data (sequence number 2): not gzip data (missing gzip header)");
        let msg = decoded.records[2].payload.as_ref().unwrap_err().to_string();
        assert_eq!(msg, "Records[2].kinesis.data: not a Kinesis record (no `kinesis` object)");
        assert_eq!(decoded.records[2].origin.item_identifier(), None);
    }

    #[test]
    fn raw_gzip_and_plain_logs_data_are_accepted() {
        let raw = decode_event(&gzip(LOGS_DATA.as_bytes()), &DecodeOptions::default()).unwrap();
        assert_eq!(raw[0].batch().unwrap().log_events.len(), 2);
        let plain = decode_event(LOGS_DATA.as_bytes(), &DecodeOptions::default()).unwrap();
        assert_eq!(plain[0].batch().unwrap().owner, "123456789012");
    }

    #[test]
    fn control_message_has_no_group() {
        let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1700000000000,"message":"CWL CONTROL MESSAGE: Checking health of destination Lambda function."}]}"#;
        let payloads = decode_event(&awslogs_event(control), &DecodeOptions::default()).unwrap();
        assert_eq!(payloads[0].batch().unwrap().message_type, MessageType::Control);
    }

    #[test]
    fn each_failing_step_is_named() {
        let opts = DecodeOptions::default();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"not json".to_vec(), "event is not valid JSON"),
            (br#"{"detail":{}}"#.to_vec(), "neither a CloudWatch Logs subscription event"),
            (br#"{"awslogs":{"data":"***"}}"#.to_vec(), "awslogs.data: not valid base64"),
            (
                br#"{"awslogs":{"data":"aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGd6aXA="}}"#.to_vec(),
                "awslogs.data: not gzip data",
            ),
            (awslogs_event("{\"nope\":1}"), "awslogs.data: inflated data is not CloudWatch Logs data"),
            (
                br#"{"Records":[{"kinesis":{"data":"!!","sequenceNumber":"7"}}]}"#.to_vec(),
                "Records[0].kinesis.data (sequence number 7): not valid base64",
            ),
        ];
        for (event, want) in cases {
            let got: Result<(), DecodeError> =
                decode_event(&event, &opts).and_then(|p| p.iter().try_for_each(|p| p.batch().map(|_| ())));
            let msg = got.expect_err(want).to_string();
            assert!(msg.contains(want), "{msg:?} should contain {want:?}");
        }
    }

    #[test]
    fn a_capture_is_one_event_or_one_per_line() {
        let one = awslogs_event(LOGS_DATA);
        assert_eq!(captured_events(&one), vec![(None, &one[..])]);
        let pretty = b"{\n  \"messageType\": \"DATA_MESSAGE\",\n  \"logGroup\": \"g\"\n}\n";
        assert_eq!(captured_events(pretty).len(), 1, "a multi-line JSON document is one event");
        let lines = [&one[..], b"\n\n", &one[..], b"\n"].concat();
        let events = captured_events(&lines);
        assert_eq!(events, vec![(Some(1), &one[..]), (Some(3), &one[..])]);
    }

    #[test]
    fn inflate_is_capped() {
        let big = vec![b'a'; 2 * 1024 * 1024];
        let opts = DecodeOptions { max_inflated_bytes: 1024 * 1024 };
        let err = inflate_capped(&gzip(&big), &Origin::AwsLogs, &opts).unwrap_err();
        assert!(matches!(err, DecodeError::TooLarge { size: 2097152, limit: 1048576, .. }), "{err}");
        assert_eq!(inflate_capped(&gzip(&big), &Origin::AwsLogs, &DecodeOptions::default()).unwrap().len(), big.len());
    }

    #[test]
    fn lying_trailer_fails_instead_of_growing() {
        let mut gz = gzip(&vec![b'a'; 100_000]);
        let n = gz.len();
        gz[n - 4..].copy_from_slice(&10u32.to_le_bytes());
        assert!(inflate_capped(&gz, &Origin::Raw, &DecodeOptions::default()).is_err());
        let truncated = &gzip(b"hello world hello world")[..20];
        assert!(inflate_capped(truncated, &Origin::Raw, &DecodeOptions::default()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            if let Ok(payloads) = decode_event(&bytes, &DecodeOptions::default()) {
                for p in payloads {
                    let _ = p.batch();
                }
            }
            let _ = inflate_capped(&bytes, &Origin::Raw, &DecodeOptions::default());
        }
    }
}
