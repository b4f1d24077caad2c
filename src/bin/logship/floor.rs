//! The floor: what any shipper must do just to read a delivery — envelope JSON, base64, gunzip, LogsData JSON.
//!
//! Written with the crates directly rather than through `logship::decode`, so the yardstick does not move when the
//! pipeline does: when the pipeline's own reading gets cheaper, the floor must not follow, or `floor / end-to-end`
//! would hide the gain. `benches/pipeline.rs` includes this file too, so both benchmarks read against one floor.

use base64::Engine as _;
use serde::Deserialize;
use std::borrow::Cow;

/// Envelope of an `awslogs` or Kinesis event, borrowed whole.
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

/// The LogsData document as the obvious serde reader would take it: a copy of `decode::LogBatch` on purpose.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub struct LogsData<'a> {
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
    pub log_events: Vec<LogsDataEvent<'a>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
pub struct LogsDataEvent<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    timestamp: i64,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// Why the floor could not read an event; the pipeline would have refused it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreadable {
    Base64,
    Gzip,
    LogsData,
}

/// The base64 payloads of one event (`awslogs.data`, or each `Records[].kinesis.data`); none for a raw gzip or a
/// plain LogsData event.
pub fn base64_payloads(raw: &[u8]) -> Vec<Cow<'_, str>> {
    match sonic_rs::from_slice::<Envelope<'_>>(raw) {
        Ok(Envelope { awslogs: Some(a), .. }) => vec![a.data],
        Ok(Envelope { records, .. }) => records.into_iter().map(|r| r.kinesis.data).collect(),
        Err(_) => Vec::new(),
    }
}

/// The gzip members of one event, decoded straight from the borrowed envelope as a lean reader would.
pub fn gzip_members(raw: &[u8]) -> Result<Vec<Cow<'_, [u8]>>, Unreadable> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(vec![Cow::Borrowed(raw)]);
    }
    base64_payloads(raw).iter().map(|data| unbase64(data).map(Cow::Owned)).collect()
}

/// The engine and trimming the decoder uses.
pub fn unbase64(data: &str) -> Result<Vec<u8>, Unreadable> {
    base64::engine::general_purpose::STANDARD.decode(data.trim()).map_err(|_| Unreadable::Base64)
}

/// Bare libdeflate into a buffer sized from the gzip trailer: what `inflate_capped` does minus its checks.
pub fn gunzip(gz: &[u8]) -> Result<Vec<u8>, Unreadable> {
    let isize_le: [u8; 4] = gz.get(gz.len().saturating_sub(4)..).and_then(|t| t.try_into().ok()).unwrap_or_default();
    let mut out = vec![0u8; u32::from_le_bytes(isize_le) as usize];
    let n = libdeflater::Decompressor::new().gzip_decompress(gz, &mut out).map_err(|_| Unreadable::Gzip)?;
    out.truncate(n);
    Ok(out)
}

/// Parses one inflated LogsData document.
pub fn logs_data(json: &[u8]) -> Result<LogsData<'_>, Unreadable> {
    sonic_rs::from_slice(json).map_err(|_| Unreadable::LogsData)
}

/// Reads one event to the floor: every gzip member inflated and its LogsData parsed. Returns the log events read.
pub fn read(raw: &[u8]) -> Result<usize, Unreadable> {
    let mut events = 0;
    for gz in gzip_members(raw)? {
        let json = gunzip(&gz)?;
        events += logs_data(&json)?.log_events.len();
    }
    Ok(events)
}
