//! Subscription events in: the `awslogs` envelope, Kinesis or SQS records → capped gunzip → [`LogBatch`]; AWS wire shapes end here.
//!
//! The cap matters because the payload is untrusted: CloudWatch Logs delivers at most 1 MiB of messages per batch
//! (plus per-event overhead), so anything that inflates past [`DEFAULT_MAX_INFLATED_BYTES`] is not a real
//! delivery. libdeflater inflates into a buffer sized from the gzip trailer, which is checked against the cap
//! before a byte is allocated; a trailer that lies makes the inflate fail rather than grow.
//!
//! The LogsData document is read by hand ([`Payload::batch`]) rather than by a serde deserializer, which made a
//! `String` of every message with an escape (nearly all: Lambda ends each line with `\n`). Unescaping them into one
//! buffer per payload, with a reader that knows this one shape, costs some 40% fewer instructions and no allocation
//! per message. It accepts exactly what sonic-rs with serde derives of [`LogBatch`] accepts, which the tests check.

use base64::Engine as _;
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

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
    /// Private, so the unescaped buffer kept below always belongs to it.
    json: Vec<u8>,
    /// The escaped strings of `json`, unescaped end to end: what a [`LogBatch`] borrows them from.
    unescaped: OnceLock<String>,
}

impl Payload {
    /// An inflated LogsData document, not yet read.
    pub fn new(origin: Origin, json: Vec<u8>) -> Payload {
        Payload { origin, json, unescaped: OnceLock::new() }
    }

    /// The inflated document.
    pub fn json(&self) -> &[u8] {
        &self.json
    }

    /// Parses the LogsData document.
    ///
    /// Every string is unescaped into one buffer per payload rather than a `String` each (nearly every message has
    /// an escape: Lambda ends each line with `\n`), and the buffer is checked for UTF-8 once rather than each string
    /// or the whole document. The payload keeps the buffer so the batch can borrow it. A later call reads the
    /// document again, so every call costs the same, and borrows the first call's buffer: the document cannot have
    /// changed, so its buffer is the same.
    pub fn batch(&self) -> Result<LogBatch<'_>, DecodeError> {
        let fail = |reason| DecodeError::LogsData { origin: self.origin.clone(), reason };
        let doc = read_logs_data(&self.json).map_err(fail)?;
        let batch = doc.batch.resolve(self.unescaped.get_or_init(|| doc.unescaped));
        if batch.message_type == MessageType::Data && batch.log_group.is_empty() {
            return Err(fail("logGroup is empty".into()));
        }
        Ok(batch)
    }
}

// The serde derives are the reference the hand-written reader is tested against (see `Reader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Deserialize))]
pub enum MessageType {
    #[cfg_attr(test, serde(rename = "DATA_MESSAGE"))]
    Data,
    /// CloudWatch's reachability probe when a subscription is created: carries nothing to ship.
    #[cfg_attr(test, serde(rename = "CONTROL_MESSAGE"))]
    Control,
}

/// A CloudWatch Logs delivery: the lines of one log stream.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(Deserialize), serde(rename_all = "camelCase"))]
pub struct LogBatch<'a> {
    pub message_type: MessageType,
    #[cfg_attr(test, serde(borrow, default))]
    pub owner: Cow<'a, str>,
    #[cfg_attr(test, serde(borrow, default))]
    pub log_group: Cow<'a, str>,
    #[cfg_attr(test, serde(borrow, default))]
    pub log_stream: Cow<'a, str>,
    #[cfg_attr(test, serde(borrow, default))]
    pub subscription_filters: Vec<Cow<'a, str>>,
    #[cfg_attr(test, serde(borrow, default))]
    pub log_events: Vec<LogEvent<'a>>,
}

#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(test, derive(Deserialize))]
pub struct LogEvent<'a> {
    #[cfg_attr(test, serde(borrow, default))]
    pub id: Cow<'a, str>,
    /// Milliseconds since the epoch.
    pub timestamp: i64,
    #[cfg_attr(test, serde(borrow))]
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
        records: vec![DecodedRecord { payload: payload.map(|json| Payload::new(origin.clone(), json)), origin }],
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
        .map(|json| Payload::new(origin.clone(), json));
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
                    .map(|json| Payload::new(origin.clone(), json))
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

/// A LogsData document as [`Reader`] reads it: strings still [`Text`], the buffer they index beside them.
struct Document<'a> {
    batch: RawBatch<'a>,
    unescaped: String,
}

/// [`LogBatch`] with its strings still [`Text`].
struct RawBatch<'a> {
    message_type: MessageType,
    owner: Text<'a>,
    log_group: Text<'a>,
    log_stream: Text<'a>,
    subscription_filters: Vec<Text<'a>>,
    log_events: Vec<RawEvent<'a>>,
}

struct RawEvent<'a> {
    id: Text<'a>,
    timestamp: i64,
    message: Text<'a>,
}

/// A string of the document: a range of the unescaped buffer, which cannot be borrowed while it still grows; `Json`
/// only for a field the document leaves out.
#[derive(Clone, Copy)]
enum Text<'a> {
    Json(&'a str),
    Unescaped(usize, usize),
}

impl<'a> Text<'a> {
    /// The text, borrowed from the document or from `unescaped`, the buffer it was unescaped into.
    fn get(self, unescaped: &'a str) -> Cow<'a, str> {
        match self {
            Text::Json(s) => Cow::Borrowed(s),
            Text::Unescaped(start, end) => Cow::Borrowed(&unescaped[start..end]),
        }
    }
}

impl<'a> RawBatch<'a> {
    fn resolve(self, buffer: &'a str) -> LogBatch<'a> {
        let events = self.log_events.into_iter();
        LogBatch {
            message_type: self.message_type,
            owner: self.owner.get(buffer),
            log_group: self.log_group.get(buffer),
            log_stream: self.log_stream.get(buffer),
            subscription_filters: self.subscription_filters.into_iter().map(|f| f.get(buffer)).collect(),
            log_events: events
                .map(|e| LogEvent { id: e.id.get(buffer), timestamp: e.timestamp, message: e.message.get(buffer) })
                .collect(),
        }
    }
}

const BATCH_FIELDS: [&str; 6] = ["messageType", "owner", "logGroup", "logStream", "subscriptionFilters", "logEvents"];
const EVENT_FIELDS: [&str; 3] = ["id", "timestamp", "message"];
const MESSAGE_TYPES: [&str; 2] = ["DATA_MESSAGE", "CONTROL_MESSAGE"];

type Read<T> = Result<T, String>;

/// Reads a LogsData document with [`Reader`]; a document that is not UTF-8 fails as such, wherever else it fails, as
/// in sonic-rs, which checks the whole of it before reading. Checking it only when reading failed is enough: reading
/// succeeds only where every byte has been checked — structure by the grammar, which admits only ASCII outside
/// strings, and string text as the reader takes it ([`Reader::string`], [`Reader::skip_value`], the unescaped buffer).
fn read_logs_data(json: &[u8]) -> Read<Document<'_>> {
    Reader::new(json)?.logs_data().map_err(|reason| utf8_first(json, reason))
}

/// The reason reading `json` failed, as sonic-rs would give it: that it is not UTF-8, if it is not.
fn utf8_first(json: &[u8], reason: String) -> String {
    match std::str::from_utf8(json) {
        Err(e) => format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        Ok(_) => reason,
    }
}

/// Reads LogsData by hand: for this one fixed shape that is much cheaper than a generic deserializer, and it puts
/// every unescaped string in one buffer (see [`Payload::batch`]).
///
/// It accepts exactly the documents `sonic_rs::from_slice::<LogBatch>` accepts with the serde derives, which the
/// tests hold it to — sonic-rs and serde quirks included: a struct may also come as an array of its fields in
/// order, `messageType` also as `{"DATA_MESSAGE":null}`, a timestamp of `-0` is a float and refused, and in a
/// value that is skipped (an unknown field) `\u` takes any four bytes unchecked.
struct Reader<'a> {
    /// Not checked for UTF-8 as a whole: each string is checked where it is taken, the unescaped buffer at the end,
    /// so the bytes of a payload (nearly all in escaped messages) are checked once rather than twice.
    json: &'a [u8],
    pos: usize,
    unescaped: Vec<u8>,
}

impl<'a> Reader<'a> {
    fn new(json: &'a [u8]) -> Read<Reader<'a>> {
        if json.len() > u32::MAX as usize {
            return Err(format!("{} bytes: sonic-rs refuses documents of 4 GiB or more", json.len()));
        }
        Ok(Reader { json, pos: 0, unescaped: Vec::new() })
    }

    fn fail<T>(&self, what: &str) -> Read<T> {
        Err(format!("{what} at byte {}", self.pos))
    }

    fn logs_data(mut self) -> Read<Document<'a>> {
        let (mut message_type, mut owner, mut log_group, mut log_stream) = (None, None, None, None);
        let (mut subscription_filters, mut log_events) = (None, None);
        let mut field = |r: &mut Self, field| match field {
            Some(0) => r.once(&mut message_type, BATCH_FIELDS[0], Self::message_type),
            Some(1) => r.once(&mut owner, BATCH_FIELDS[1], Self::string_value),
            Some(2) => r.once(&mut log_group, BATCH_FIELDS[2], Self::string_value),
            Some(3) => r.once(&mut log_stream, BATCH_FIELDS[3], Self::string_value),
            Some(4) => r.once(&mut subscription_filters, BATCH_FIELDS[4], |r| r.array(Self::string_value)),
            Some(5) => r.once(&mut log_events, BATCH_FIELDS[5], |r| r.array(Self::log_event)),
            _ => r.skip_value(),
        };
        self.record(&BATCH_FIELDS, &mut field)?;
        if self.json[self.pos..].iter().any(|b| !is_space(*b)) {
            return self.fail("trailing characters");
        }
        let Some(message_type) = message_type else { return Err("missing field `messageType`".into()) };
        let none = Text::Json("");
        let batch = RawBatch {
            message_type,
            owner: owner.unwrap_or(none),
            log_group: log_group.unwrap_or(none),
            log_stream: log_stream.unwrap_or(none),
            subscription_filters: subscription_filters.unwrap_or_default(),
            log_events: log_events.unwrap_or_default(),
        };
        // Every string is copied whole, escapes as whole characters: this fails only on a document that is not UTF-8.
        let unescaped = String::from_utf8(self.unescaped).map_err(|_| NOT_UTF8.to_owned())?;
        Ok(Document { batch, unescaped })
    }

    fn log_event(&mut self) -> Read<RawEvent<'a>> {
        let (start, unescaped) = (self.pos, self.unescaped.len());
        if let Some(event) = self.log_event_as_written()? {
            return Ok(event);
        }
        self.pos = start;
        self.unescaped.truncate(unescaped);
        let (mut id, mut timestamp, mut message) = (None, None, None);
        self.record(&EVENT_FIELDS, |r, field| match field {
            Some(0) => r.once(&mut id, EVENT_FIELDS[0], Self::string_value),
            Some(1) => r.once(&mut timestamp, EVENT_FIELDS[1], Self::timestamp),
            Some(2) => r.once(&mut message, EVENT_FIELDS[2], Self::string_value),
            _ => r.skip_value(),
        })?;
        let Some(timestamp) = timestamp else { return self.fail("missing field `timestamp`") };
        let Some(message) = message else { return self.fail("missing field `message`") };
        Ok(RawEvent { id: id.unwrap_or(Text::Json("")), timestamp, message })
    }

    /// A log event laid out byte for byte as CloudWatch writes it, `{"id":"…","timestamp":…,"message":"…"}`, which
    /// needs none of the general reader's bookkeeping. `None` where it is laid out otherwise, for the general reader
    /// to read from the start; an error only where that would fail too.
    fn log_event_as_written(&mut self) -> Read<Option<RawEvent<'a>>> {
        if !self.skip(br#"{"id":""#) {
            return Ok(None);
        }
        let id = self.string()?;
        if !self.skip(br#","timestamp":"#) {
            return Ok(None);
        }
        let timestamp = self.timestamp()?;
        if !self.skip(br#","message":""#) {
            return Ok(None);
        }
        let message = self.string()?;
        Ok(self.skip(b"}").then_some(RawEvent { id, timestamp, message }))
    }

    /// Reads `bytes` if they come next, as they stand.
    fn skip(&mut self, bytes: &[u8]) -> bool {
        let found = self.json[self.pos..].starts_with(bytes);
        if found {
            self.pos += bytes.len();
        }
        found
    }

    /// A struct's fields, `field` reading the value of each (with its index in `fields`, `None` for an unknown
    /// key): from an object, or from an array of the fields in order, shorter or not, which serde reads too.
    fn record(&mut self, fields: &[&str], mut field: impl FnMut(&mut Self, Option<usize>) -> Read<()>) -> Read<()> {
        match self.peek()? {
            b'{' => {
                self.pos += 1;
                if self.peek()? == b'}' {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    if self.peek()? != b'"' {
                        return self.fail("expected a key");
                    }
                    self.pos += 1;
                    let key = self.key(fields)?;
                    self.expect(b':')?;
                    field(self, key)?;
                    match self.peek()? {
                        b',' => self.pos += 1,
                        b'}' => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return self.fail("expected `,` or `}`"),
                    }
                }
            }
            b'[' => {
                self.pos += 1;
                let mut first = true;
                for index in 0..fields.len() {
                    if !self.next_element(&mut first)? {
                        break;
                    }
                    field(self, Some(index))?;
                }
                self.expect(b']')
            }
            _ => self.fail("expected an object"),
        }
    }

    /// Reads a field's value into its slot, refusing a second one as serde does.
    fn once<T>(&mut self, slot: &mut Option<T>, name: &str, read: impl FnOnce(&mut Self) -> Read<T>) -> Read<()> {
        if slot.is_some() {
            return self.fail(&format!("duplicate field `{name}`"));
        }
        *slot = Some(read(self)?);
        Ok(())
    }

    fn array<T>(&mut self, mut element: impl FnMut(&mut Self) -> Read<T>) -> Read<Vec<T>> {
        self.expect(b'[')?;
        let mut items = Vec::new();
        let mut first = true;
        while self.next_element(&mut first)? {
            items.push(element(self)?);
        }
        self.expect(b']')?;
        Ok(items)
    }

    /// Whether another element follows in an array whose `[` is read, reading the `,` before it.
    fn next_element(&mut self, first: &mut bool) -> Read<bool> {
        match self.peek()? {
            b']' => Ok(false),
            b',' if !*first => {
                self.pos += 1;
                Ok(true)
            }
            _ if *first => {
                *first = false;
                Ok(true)
            }
            _ => self.fail("expected `,` or `]`"),
        }
    }

    /// `"DATA_MESSAGE"`, or the externally tagged form serde also takes for a unit variant: `{"DATA_MESSAGE":null}`.
    fn message_type(&mut self) -> Read<MessageType> {
        let tagged = self.peek()? == b'{';
        if tagged {
            self.pos += 1;
        }
        if self.peek()? != b'"' {
            return self.fail("expected a string");
        }
        self.pos += 1;
        let variant = match self.key(&MESSAGE_TYPES)? {
            Some(0) => MessageType::Data,
            Some(_) => MessageType::Control,
            None => return self.fail("unknown variant of messageType, expected `DATA_MESSAGE` or `CONTROL_MESSAGE`"),
        };
        if tagged {
            self.expect(b':')?;
            if self.peek()? != b'n' {
                return self.fail("expected null");
            }
            self.literal("null")?;
            self.expect(b'}')?;
        }
        Ok(variant)
    }

    /// An `i64` as sonic-rs reads one: an integer in range. A fraction, an exponent or `-0` make a float, which an
    /// `i64` refuses.
    fn timestamp(&mut self) -> Read<i64> {
        let negative = self.peek()? == b'-';
        let start = self.pos + usize::from(negative);
        let mut end = start;
        let mut magnitude = 0u64;
        while let Some(digit @ b'0'..=b'9') = self.json.get(end) {
            // Wraps only past nineteen digits, which fail below.
            magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(digit - b'0'));
            end += 1;
        }
        let value = match (end - start, self.json[start..].first(), self.json.get(end)) {
            (0, ..) => return self.fail("expected an integer timestamp"),
            (2.., Some(b'0'), _) => return self.fail("invalid number"),
            (_, _, Some(b'.' | b'e' | b'E')) | (20.., ..) => None,
            (1, Some(b'0'), _) if negative => None,
            _ if negative => (magnitude <= 1 << 63).then(|| 0i64.wrapping_sub_unsigned(magnitude)),
            _ => i64::try_from(magnitude).ok(),
        };
        let Some(value) = value else { return self.fail("timestamp is not an i64 integer") };
        self.pos = end;
        Ok(value)
    }

    fn string_value(&mut self) -> Read<Text<'a>> {
        if self.peek()? != b'"' {
            return self.fail("expected a string");
        }
        self.pos += 1;
        self.string()
    }

    /// A key whose `"` is read, as the index of the name it matches in `names`.
    fn key(&mut self, names: &[&str]) -> Read<Option<usize>> {
        // The usual key is one of the names as it stands, which a comparison settles without scanning it.
        let rest = &self.json[self.pos..];
        for (index, name) in names.iter().enumerate() {
            if rest.get(name.len()) == Some(&b'"') && rest.starts_with(name.as_bytes()) {
                self.pos += name.len() + 1;
                return Ok(Some(index));
            }
        }
        Ok(match self.string()? {
            Text::Json(key) => names.iter().position(|name| *name == key),
            Text::Unescaped(start, end) => {
                let key = &self.unescaped[start..end];
                // Cut from the buffer, the key would escape its check there.
                if std::str::from_utf8(key).is_err() {
                    return Err(NOT_UTF8.into());
                }
                let found = names.iter().position(|name| name.as_bytes() == key);
                self.unescaped.truncate(start);
                found
            }
        })
    }

    /// A string whose `"` is read, copied onto the buffer, unescaped. Even a string without escapes is copied, not
    /// borrowed: the buffer is checked for UTF-8 once, in bulk, where a borrowed string would be checked on its own,
    /// which costs more than the copy for the short strings (event ids) that have no escapes.
    fn string(&mut self) -> Read<Text<'a>> {
        let start = self.pos;
        let stop = find_stop(self.json, start);
        if self.unescaped.capacity() == 0 {
            // Unescaping never lengthens text, so the rest of the document bounds the buffer; the chunk is room for
            // `unescape`'s overshoot.
            self.unescaped.reserve(self.json.len() - start + CHUNK);
        }
        let from = self.unescaped.len();
        match self.json.get(stop) {
            Some(b'"') => {
                self.unescaped.extend_from_slice(&self.json[start..stop]);
                self.pos = stop + 1;
            }
            Some(b'\\') => {
                self.unescaped.extend_from_slice(&self.json[start..stop]);
                self.pos = unescape(self.json, stop, &mut self.unescaped)
                    .map_err(|(at, what)| format!("{what} at byte {at}"))?;
            }
            Some(_) => return Err(format!("control character in a string at byte {stop}")),
            None => return Err(format!("unterminated string at byte {stop}")),
        }
        Ok(Text::Unescaped(from, self.unescaped.len()))
    }

    /// Skips the value of an unknown field, checked as strictly as sonic-rs checks one: all of JSON, except that a
    /// string's `\u` takes any four bytes. Iterative: sonic-rs recurses, so an unknown value nested deeply enough
    /// overflowed the stack and aborted the process, where this reads it.
    fn skip_value(&mut self) -> Read<()> {
        let start = self.pos;
        // The closing bracket of each container the value is inside.
        let mut open = Vec::new();
        loop {
            match self.peek()? {
                b'{' => {
                    self.pos += 1;
                    if self.peek()? == b'}' {
                        self.pos += 1;
                    } else {
                        self.skip_key()?;
                        open.push(b'}');
                        continue;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    if self.peek()? == b']' {
                        self.pos += 1;
                    } else {
                        open.push(b']');
                        continue;
                    }
                }
                b'"' => {
                    self.pos += 1;
                    self.skip_string()?;
                }
                b'-' | b'0'..=b'9' => self.skip_number()?,
                b't' => self.literal("true")?,
                b'f' => self.literal("false")?,
                b'n' => self.literal("null")?,
                _ => return self.fail("expected a value"),
            }
            // A value is done: close what it ends, until a `,` asks for the next.
            loop {
                let Some(&close) = open.last() else {
                    // Nothing skipped is taken, so nothing else checks its strings.
                    return match std::str::from_utf8(&self.json[start..self.pos]) {
                        Ok(_) => Ok(()),
                        Err(_) => Err(NOT_UTF8.into()),
                    };
                };
                match self.peek()? {
                    b',' => {
                        self.pos += 1;
                        if close == b'}' {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b if b == close => {
                        self.pos += 1;
                        open.pop();
                    }
                    _ => return self.fail("expected `,` or the end of an object or array"),
                }
            }
        }
    }

    /// A key in a skipped object, and its `:`.
    fn skip_key(&mut self) -> Read<()> {
        if self.peek()? != b'"' {
            return self.fail("expected a key");
        }
        self.pos += 1;
        self.skip_string()?;
        self.expect(b':')
    }

    /// A string whose `"` is read, in a skipped value.
    fn skip_string(&mut self) -> Read<()> {
        loop {
            self.pos = find_stop(self.json, self.pos);
            match self.json.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => match self.json.get(self.pos + 1) {
                    // sonic-rs skips `u` and the four bytes after it when at least six bytes are left from `u`.
                    Some(b'u') if self.json.len() - self.pos > 6 => self.pos += 6,
                    Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.pos += 2,
                    Some(b'u') | None => return self.fail("unterminated string"),
                    Some(_) => return self.fail("invalid escape"),
                },
                Some(_) => return self.fail("control character in a string"),
                None => return self.fail("unterminated string"),
            }
        }
    }

    fn skip_number(&mut self) -> Read<()> {
        let digits = |json: &[u8], at: usize| json[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let json = self.json;
        let mut at = self.pos + usize::from(json[self.pos] == b'-');
        match json.get(at) {
            Some(b'0') => at += 1,
            Some(b'1'..=b'9') => at += digits(json, at),
            _ => return self.fail("invalid number"),
        }
        if json.get(at) == Some(&b'.') {
            at += 1;
            match digits(json, at) {
                0 => return self.fail("invalid number"),
                n => at += n,
            }
        }
        if matches!(json.get(at), Some(b'e' | b'E')) {
            at += 1;
            if matches!(json.get(at), Some(b'+' | b'-')) {
                at += 1;
            }
            match digits(json, at) {
                0 => return self.fail("invalid number"),
                n => at += n,
            }
        }
        self.pos = at;
        Ok(())
    }

    fn literal(&mut self, word: &str) -> Read<()> {
        if !self.json[self.pos..].starts_with(word.as_bytes()) {
            return self.fail("invalid literal");
        }
        self.pos += word.len();
        Ok(())
    }

    /// The next byte that is not whitespace, left unread.
    fn peek(&mut self) -> Read<u8> {
        while let Some(&b) = self.json.get(self.pos) {
            if !is_space(b) {
                return Ok(b);
            }
            self.pos += 1;
        }
        self.fail("unexpected end of the document")
    }

    fn expect(&mut self, byte: u8) -> Read<()> {
        if self.peek()? != byte {
            return self.fail(&format!("expected `{}`", char::from(byte)));
        }
        self.pos += 1;
        Ok(())
    }
}

/// What reading says of text that is not UTF-8; [`read_logs_data`] puts where in its place.
const NOT_UTF8: &str = "invalid UTF-8";

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

const CHUNK: usize = 16;

/// Where reading a string failed, and why.
type Fault = (usize, &'static str);

/// What a one-character escape stands for, by the character after the `\`; 0 for `u` and for no escape at all.
const UNESCAPED: [u8; 256] = {
    let mut table = [0; 256];
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'/' as usize] = b'/';
    table[b'b' as usize] = 0x08;
    table[b'f' as usize] = 0x0c;
    table[b'n' as usize] = b'\n';
    table[b'r' as usize] = b'\r';
    table[b't' as usize] = b'\t';
    table
};

/// Unescapes a string from the `\` at `pos` through its closing `"` onto `out`: returns the position after the `"`.
fn unescape(json: &[u8], mut pos: usize, out: &mut Vec<u8>) -> Result<usize, Fault> {
    loop {
        match json.get(pos) {
            Some(b'"') => return Ok(pos + 1),
            Some(b'\\') => match json.get(pos + 1).map(|&c| UNESCAPED[usize::from(c)]) {
                Some(0) => pos += unicode_escape(json, pos, out)?,
                Some(byte) => {
                    out.push(byte);
                    pos += 2;
                }
                None => return Err((pos, "unterminated string")),
            },
            Some(_) => return Err((pos, "control character in a string")),
            None => return Err((pos, "unterminated string")),
        }
        // On to the next stop. Runs between escapes are short (a JSON line is full of `\"`): copying a whole chunk
        // and cutting it back beats a copy of the exact length.
        loop {
            let Some(chunk) = json.get(pos..pos + CHUNK) else {
                let stop = find_stop(json, pos);
                out.extend_from_slice(&json[pos..stop]);
                pos = stop;
                break;
            };
            out.extend_from_slice(chunk);
            if let Some(at) = first_stop(chunk) {
                out.truncate(out.len() - CHUNK + at);
                pos += at;
                break;
            }
            pos += CHUNK;
        }
    }
}

/// `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, from its `\` at `at` onto `out`: returns how many bytes it takes.
/// A lone or reversed surrogate fails, as in sonic-rs (which could substitute U+FFFD, but not by default) and
/// serde_json.
fn unicode_escape(json: &[u8], at: usize, out: &mut Vec<u8>) -> Result<usize, Fault> {
    if json.get(at + 1) != Some(&b'u') {
        return Err((at, "invalid escape"));
    }
    let hex = |from: usize| {
        let digits = json.get(from..from + 4)?;
        digits.iter().try_fold(0, |n, d| Some(n << 4 | char::from(*d).to_digit(16)?))
    };
    let Some(unit) = hex(at + 2) else { return Err((at, "invalid \\u escape")) };
    let (code, read) = match unit {
        0xD800..=0xDBFF => {
            let low = match json.get(at + 6..at + 8) {
                Some(b"\\u") => hex(at + 8),
                _ => None,
            };
            match low {
                Some(low @ 0xDC00..=0xDFFF) => (0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00), 12),
                _ => return Err((at, "unpaired surrogate in a \\u escape")),
            }
        }
        0xDC00..=0xDFFF => return Err((at, "unpaired surrogate in a \\u escape")),
        _ => (unit, 6),
    };
    let Some(c) = char::from_u32(code) else { return Err((at, "invalid \\u escape")) };
    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
    Ok(read)
}

/// Where the first stop (see [`first_stop`]) is in `json` from `from`, or `json.len()`.
fn find_stop(json: &[u8], mut from: usize) -> usize {
    while let Some(chunk) = json.get(from..from + CHUNK) {
        if let Some(at) = first_stop(chunk) {
            return from + at;
        }
        from += CHUNK;
    }
    from + json[from..].iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(json.len() - from)
}

/// Where the first byte that ends a run of plain string text is in `chunk`: `"`, `\` or a control character.
/// Eight bytes at a time, as std has no portable SIMD and `unsafe` is out.
fn first_stop(chunk: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    for (index, eight) in chunk.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(eight.try_into().unwrap_or_default());
        // A byte's high bit is set when it is `"` or `\` (xor makes it 0, so minus one borrows) or below 0x20.
        // A borrow can flag the byte above a flagged one too, so only the lowest flag is sure.
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        let stops = (quote.wrapping_sub(ONES) | backslash.wrapping_sub(ONES) | word.wrapping_sub(ONES * 0x20))
            & !word
            & (ONES * 0x80);
        if stops != 0 {
            return Some(index * 8 + stops.trailing_zeros() as usize / 8);
        }
    }
    None
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

    /// How [`Payload::batch`] and the reference — sonic-rs with the serde derives, what `batch` used to be — differ
    /// on a document, if they do.
    fn differs_from_sonic(json: &[u8]) -> Option<String> {
        let payload = Payload::new(Origin::Raw, json.to_vec());
        let ours = payload.batch();
        let reference = sonic_rs::from_slice::<LogBatch<'_>>(json);
        match (&ours, &reference) {
            (Ok(ours), Ok(reference)) if ours == reference => None,
            (Err(DecodeError::LogsData { reason, .. }), Ok(reference))
                if reason == "logGroup is empty"
                    && reference.message_type == MessageType::Data
                    && reference.log_group.is_empty() =>
            {
                None
            }
            (Err(_), Err(_)) => None,
            _ => Some(format!("{:?}:\n  ours {ours:?}\n  sonic-rs {reference:?}", String::from_utf8_lossy(json))),
        }
    }

    /// One JSON string value read the way `batch` reads a message.
    fn read_string(json: &[u8]) -> Result<String, String> {
        let mut reader = Reader::new(json)?;
        let mut read = || {
            let text = reader.string_value()?;
            if reader.json[reader.pos..].iter().any(|b| !is_space(*b)) {
                return reader.fail("trailing characters");
            }
            Ok(match text {
                Text::Json(s) => s.to_owned(),
                Text::Unescaped(start, end) => {
                    String::from_utf8(reader.unescaped[start..end].to_vec()).map_err(|_| NOT_UTF8.to_owned())?
                }
            })
        };
        read().map_err(|reason| utf8_first(json, reason))
    }

    /// Every character as `\uXXXX`, astral ones as a surrogate pair.
    fn escape_all(s: &str) -> String {
        let units: Vec<String> = s.encode_utf16().map(|u| format!("\\u{u:04x}")).collect();
        format!("\"{}\"", units.concat())
    }

    #[test]
    fn fixtures_read_as_sonic_reads_them() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/events");
        let mut payloads = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let content = std::fs::read(entry.unwrap().path()).unwrap();
            for (_, event) in captured_events(&content) {
                for record in decode_records(event, &DecodeOptions::default()).unwrap().records {
                    let payload = record.payload.unwrap();
                    assert_eq!(differs_from_sonic(&payload.json), None);
                    payloads += 1;
                }
            }
        }
        assert!(payloads > 20, "{payloads} payloads");
    }

    #[test]
    fn edge_cases_read_as_sonic_reads_them() {
        let event = |e: &str| format!(r#"{{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{e}]}}"#);
        let field = |f: &str| format!(r#"{{"messageType":"DATA_MESSAGE","logGroup":"g",{f}}}"#);
        let message = |m: &str| event(&format!(r#"{{"id":"1","timestamp":1,"message":{m}}}"#));
        let timestamp = |t: &str| event(&format!(r#"{{"timestamp":{t},"message":""}}"#));
        let mut cases: Vec<String> = [
            LOGS_DATA,
            "",
            "   ",
            "null",
            "\"DATA_MESSAGE\"",
            "{}",
            r#"{"messageType":"DATA_MESSAGE"}"#,
            r#"{"messageType":"CONTROL_MESSAGE"}"#,
            r#"{"messageType":"data_message","logGroup":"g"}"#,
            r#"{"messageType":"DATA\u005fMESSAGE","logGroup":"g"}"#,
            r#"{"messageType":{"DATA_MESSAGE":null},"logGroup":"g"}"#,
            r#"{"messageType": { "CONTROL_MESSAGE" : null } }"#,
            r#"{"messageType":{"DATA_MESSAGE":1},"logGroup":"g"}"#,
            r#"{"messageType":{"DATA_MESSAGE":null,"x":1},"logGroup":"g"}"#,
            r#"{"messageType":{},"logGroup":"g"}"#,
            r#"{"messageType":1,"logGroup":"g"}"#,
            r#"{"messageType":null,"logGroup":"g"}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","owner":"a","owner":"b"}"#,
            r#"{"messageType":"DATA_MESSAGE","messageType":"DATA_MESSAGE","logGroup":"g"}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","x":1,"x":2}"#,
            r#"{"messageType":"DATA_MESSAGE","log\u0047roup":"g","\u006fwner":"\/o"}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g\\\/\"\b\f\n\r\t"}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g"} "#,
            "{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\"}\n\t\r x",
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g"}{}"#,
            "\u{feff}{\"messageType\":\"DATA_MESSAGE\",\"logGroup\":\"g\"}",
            " {\n \"messageType\" :\t\"DATA_MESSAGE\" ,\r\n \"logGroup\" : \"g\" , \"logEvents\" : [ { \"timestamp\" : 1 , \"message\" : \"m\" } ] } ",
            r#"["DATA_MESSAGE","o","g","s",["f"],[["1",5,"m"],{"timestamp":6,"message":"n"}]]"#,
            r#"["DATA_MESSAGE"]"#,
            r#"["CONTROL_MESSAGE","o"]"#,
            "[]",
            r#"["DATA_MESSAGE","o","g","s",[],[],1]"#,
            r#"["DATA_MESSAGE",]"#,
            r#"[,"DATA_MESSAGE"]"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","subscriptionFilters":["a","b"]}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","subscriptionFilters":["a",]}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","subscriptionFilters":[1]}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","subscriptionFilters":null}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":null}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":{}}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g",}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g",,"owner":"o"}"#,
            r#"{"messageType":"DATA_MESSAGE" "logGroup":"g"}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup" "g"}"#,
            r#"{"messageType":"DATA_MESSAGE","logGroup":"g""#,
            r#"{"messageType":"DATA_MESSAGE",1:"g"}"#,
            r#"{"messageType":"DATA_MESSAGE",logGroup:"g"}"#,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for e in [
            r#"{"id":"1","timestamp":1,"message":"m"}"#,
            r#"{"timestamp":1,"message":"m"}"#,
            r#"{"id":"1","message":"m"}"#,
            r#"{"id":"1","timestamp":1}"#,
            r#"{"id":"1","id":"2","timestamp":1,"message":"m"}"#,
            r#"{"id":1,"timestamp":1,"message":"m"}"#,
            r#"{"id":null,"timestamp":1,"message":"m"}"#,
            r#"{"id":"1","timestamp":1,"message":null}"#,
            r#"["1",5,"m"]"#,
            r#"["1",5]"#,
            r#"[]"#,
            r#"["1",5,"m",1]"#,
            r#"[5,"m"]"#,
            r#"{"id":"1","timestamp":1,"message":"m","x":{"y":[1,{"z":null}]}}"#,
            r#"{}"#,
            r#"null"#,
        ] {
            cases.push(event(e));
        }
        for t in [
            "0",
            "-0",
            "-1",
            "7",
            "-7",
            "01",
            "-01",
            "1.0",
            "1e3",
            "1E3",
            "1.",
            ".5",
            "-",
            "--1",
            "+1",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "18446744073709551616",
            "123456789012345678901",
            "1700000000000",
            "\"1\"",
            "null",
            "true",
            " 1 ",
            "1x",
            "0x10",
        ] {
            cases.push(timestamp(t));
        }
        for m in [
            r#""""#,
            r#""plain""#,
            r#""a\"b\\c\/d\be\ff\ng\rh\ti""#,
            r#""\u0000\u001f\u007f\u0080\u07ff\u0800\uffff""#,
            r#""\ud83d\ude00 \uD83D\uDE00""#,
            r#""\ud800""#,
            r#""\ud800x""#,
            r#""\ud800\u0041""#,
            r#""\ud800\ud800""#,
            r#""\udc00""#,
            r#""\udc00\ud800""#,
            r#""\ud800\udbff""#,
            r#""\ud800\uzzzz""#,
            r#""\u12""#,
            r#""\u12g4""#,
            r#""\uD83D\uDE0""#,
            r#""\x""#,
            r#""\U0041""#,
            r#""\'""#,
            r#""\"#,
            r#""abc"#,
            "\"a\u{1}b\"",
            "\"a\tb\"",
            "\"tab\\\tb\"",
            "\"a\u{7f}b\"",
            "\"é ü 日本 😀\\n\"",
            "\"0123456789abcdef0123456789abcdef\\\"0123456789abcdef\\n\"",
            r#"1"#,
            r#"null"#,
        ] {
            cases.push(message(m));
        }
        for f in [
            r#""x":1.5e-3"#,
            r#""x":-0.0"#,
            r#""x":01"#,
            r#""x":1."#,
            r#""x":.5"#,
            r#""x":-"#,
            r#""x":1e"#,
            r#""x":1e+"#,
            r#""x":1E-7"#,
            r#""x":123456789012345678901234567890"#,
            r#""x":true"#,
            r#""x":tru"#,
            r#""x":nul"#,
            r#""x":nullx"#,
            r#""x":falsey"#,
            r#""x":[]"#,
            r#""x":[1,]"#,
            r#""x":[,1]"#,
            r#""x":[1 2]"#,
            r#""x":{}"#,
            r#""x":{"a":1,}"#,
            r#""x":{"a" 1}"#,
            r#""x":{1:2}"#,
            r#""x":{"a":[{"b":{}}]}"#,
            r#""x":[[[[]]]]"#,
            r#""x":[[[[]]]"#,
            r#""x":"\uZZZZ""#,
            r#""x":"\u"ab""#,
            r#""x":"\ud800""#,
            r#""x":"\x""#,
            r#""x":{"\uZZZZ":1}"#,
            r#""\uZZZZ":1"#,
            r#""\ud800":1"#,
            "\"x\":\"a\u{1}b\"",
            "\"x\":\"é\"",
            r#""x":"#,
            r#""x""#,
            r#""x":}"#,
        ] {
            cases.push(field(f));
        }
        // sonic-rs skips an ignored value recursively: nesting this deep overflows its stack, not ours.
        let deep = |value: String| {
            Payload::new(Origin::Raw, field(&format!(r#""x":{value}"#)).into_bytes()).batch().map(|_| ())
        };
        assert!(deep(format!("{}1{}", "[{\"a\":".repeat(100_000), "}]".repeat(100_000))).is_ok());
        assert!(deep("[".repeat(100_000)).is_err());
        let mut bytes: Vec<Vec<u8>> = cases.into_iter().map(String::into_bytes).collect();
        for invalid in [&b"\xff"[..], b"\xc3", b"\xed\xa0\x80", b"\xc3\x28"] {
            for doc in [message(r#""aXb""#), field(r#""x":"aXb""#), field(r#""aXb":1"#)] {
                let (before, after) = doc.split_once('X').unwrap();
                bytes.push([before.as_bytes(), invalid, after.as_bytes()].concat());
            }
            bytes.push([message(r#""a""#).as_bytes(), invalid].concat());
        }
        let failures: Vec<String> = bytes.iter().filter_map(|json| differs_from_sonic(json)).collect();
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_lone_surrogate_fails_and_names_it() {
        let json = br#"{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{"timestamp":1,"message":"\ud800"}]}"#;
        let err = Payload::new(Origin::Raw, json.to_vec()).batch().unwrap_err().to_string();
        assert!(err.starts_with("payload: inflated data is not CloudWatch Logs data: unpaired surrogate"), "{err}");
        assert!(sonic_rs::from_slice::<LogBatch<'_>>(json).is_err());
    }

    #[test]
    fn messages_borrow_one_buffer_and_a_second_read_matches_the_first() {
        let payload = Payload::new(Origin::Raw, LOGS_DATA.as_bytes().to_vec());
        let first = payload.batch().unwrap();
        assert!(matches!(first.log_events[0].message, Cow::Borrowed(_)));
        assert!(matches!(first.log_events[1].message, Cow::Borrowed("say \"hi\"\n")));
        assert_eq!(payload.batch().unwrap(), first);
    }

    fn soup_piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let fixed = [
            &b"\\"[..],
            b"\"",
            b"\\\"",
            b"\\\\",
            b"\\/",
            b"\\n",
            b"\\u",
            b"\\u00",
            b"\\u0041",
            b"\\ud83d",
            b"\\ude00",
            b"\\uD800",
            b"\\uDBFF\\uDFFF",
            b"\\ud83d\\ude00",
            b"\x00",
            b"\x1f",
            b"\x7f",
            b"\xc3\xa9",
            b"\xe6\x97\xa5",
            b"\xf0\x9f\x98\x80",
            b"\xff",
            b"\xc3",
            b"\xed\xa0\x80",
            b"0123456789abcdef",
        ];
        prop_oneof![
            proptest::sample::select(fixed.to_vec()).prop_map(<[u8]>::to_vec),
            "[0-9a-fA-FxuUnrtbf\\\\/\" ]{1,4}".prop_map(String::into_bytes),
            proptest::num::u8::ANY.prop_map(|b| vec![b]),
        ]
    }

    fn base_document() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::sample::select(vec![
            LOGS_DATA.to_string(),
            r#"["DATA_MESSAGE","o","g","s",["f"],[["1",5,"m\n"],{"timestamp":-6,"message":"n\u00e9"}]]"#.to_string(),
            r#"{"logEvents":[{"x":{"a":[1.5,-2e3,"\uzzzz",true,null]},"message":"a\"b","timestamp":1,"id":"i"}],"messageType":{"DATA_MESSAGE":null},"logGroup":"g\/h"}"#.to_string(),
            " {\n \"messageType\" :\t\"CONTROL_MESSAGE\" ,\r\n \"logEvents\" : [ { \"timestamp\" : 0 , \"message\" : \"\\ud83d\\ude00\" } ] } ".to_string(),
        ])
    }

    /// `base` with each of [`mutation`]'s edits applied in turn.
    fn mutated(base: String, mutations: Vec<(proptest::sample::Index, usize, Vec<u8>)>) -> Vec<u8> {
        let mut json = base.into_bytes();
        for (at, removed, inserted) in mutations {
            let at = at.index(json.len() + 1);
            let removed = removed.min(json.len() - at);
            json.splice(at..at + removed, inserted);
        }
        json
    }

    fn mutation() -> impl proptest::strategy::Strategy<Value = (proptest::sample::Index, usize, Vec<u8>)> {
        use proptest::prelude::*;
        let pieces = [
            &b"{"[..],
            b"}",
            b"[",
            b"]",
            b"\"",
            b":",
            b",",
            b" ",
            b"\n",
            b"-",
            b"0",
            b"1",
            b".",
            b"e",
            b"null",
            b"true",
            b"\"x\"",
            b"{\"a\":1}",
            b"[1,2]",
            b"\\",
            b"\\u",
            b"\\ud800",
            b"\xff",
            b"\x01",
            b"\"id\":\"1\",",
            b"\"message\":\"m\",",
            b"\"timestamp\":2,",
            b"\"owner\":\"o\",",
            b"\"messageType\":\"DATA_MESSAGE\",",
        ];
        (
            any::<proptest::sample::Index>(),
            0..3usize,
            prop_oneof![proptest::sample::select(pieces.to_vec()).prop_map(<[u8]>::to_vec), soup_piece()],
        )
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        #[test]
        fn any_string_round_trips(s in proptest::prelude::any::<String>()) {
            proptest::prop_assert_eq!(read_string(sonic_rs::to_string(&s).unwrap().as_bytes()), Ok(s.clone()));
            proptest::prop_assert_eq!(read_string(escape_all(&s).as_bytes()), Ok(s.clone()));
            let doc = format!(
                r#"{{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{{"timestamp":1,"message":{}}}]}}"#,
                sonic_rs::to_string(&s).unwrap()
            );
            let payload = Payload::new(Origin::Raw, doc.into_bytes());
            proptest::prop_assert_eq!(&payload.batch().unwrap().log_events[0].message, &s);
        }

        #[test]
        fn any_string_soup_reads_as_sonic_reads_it(
            pieces in proptest::collection::vec(soup_piece(), 0..24),
        ) {
            let json = [&b"\""[..], &pieces.concat(), b"\""].concat();
            let reference = sonic_rs::from_slice::<String>(&json).map_err(|e| e.to_string());
            if let Ok(text) = std::str::from_utf8(&json) {
                let from_str = sonic_rs::from_str::<String>(text).map_err(|e| e.to_string());
                proptest::prop_assert_eq!(from_str.is_ok(), reference.is_ok());
            }
            match (read_string(&json), reference) {
                (Ok(ours), Ok(reference)) => proptest::prop_assert_eq!(ours, reference),
                (Err(_), Err(_)) => {}
                (ours, reference) => proptest::prop_assert!(
                    false, "{:?}: ours {ours:?}, sonic-rs {reference:?}", String::from_utf8_lossy(&json)
                ),
            }
            if let Some(diff) = differs_from_sonic(
                &[&br#"{"messageType":"DATA_MESSAGE","logGroup":"g","x":"#[..], &json, b"}"].concat()
            ) {
                proptest::prop_assert!(false, "as an ignored value: {diff}");
            }
        }

        #[test]
        fn mutated_documents_read_as_sonic_reads_them(
            base in base_document(),
            mutations in proptest::collection::vec(mutation(), 1..4),
        ) {
            let json = mutated(base, mutations);
            if let Some(diff) = differs_from_sonic(&json) {
                proptest::prop_assert!(false, "{diff}");
            }
        }

        /// The reader checks UTF-8 only where it takes text, and the whole document only when reading failed: a
        /// document that is not UTF-8 still fails as such, wherever the bad byte is and whatever else is broken.
        #[test]
        fn text_that_is_not_utf8_fails_as_such(
            base in base_document(),
            bad in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), proptest::sample::select(vec![
                    &b"\xff"[..], b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc3\xa9",
                ])),
                1..3,
            ),
            mutations in proptest::collection::vec(mutation(), 0..2),
        ) {
            let mut json = mutated(base, mutations);
            for (at, bytes) in bad {
                let at = at.index(json.len() + 1);
                json.splice(at..at, bytes.iter().copied());
            }
            let ours = Payload::new(Origin::Raw, json.clone()).batch().map(|_| ());
            match std::str::from_utf8(&json) {
                Err(e) => {
                    let reason = format!("invalid UTF-8 at byte {}", e.valid_up_to());
                    proptest::prop_assert!(
                        matches!(&ours, Err(DecodeError::LogsData { reason: r, .. }) if *r == reason),
                        "{:?}: {ours:?}", String::from_utf8_lossy(&json)
                    );
                }
                Ok(_) => {
                    if let Some(diff) = differs_from_sonic(&json) {
                        proptest::prop_assert!(false, "{diff}");
                    }
                }
            }
        }

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
