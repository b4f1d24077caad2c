//! OTLP/HTTP: traces, metrics and logs to `/v1/*`, protobuf (default) or JSON, gzip, per the OTLP specification.

use super::batch::{self, Batch};
use super::config::{Compression, OtlpConfig, OtlpTarget, Protocol};
use super::http::{Request, Response};
use super::retry::{parse_retry_after, Outcome};
use super::{otlp_json, otlp_proto, Backend, Signal};
use crate::telemetry::Telemetry;
use std::cell::RefCell;
use std::time::{Duration, SystemTime};

/// The OTLP exporter of one signal: each signal has its own endpoint, headers, protocol and timeout.
#[derive(Debug, Clone)]
pub struct Otlp {
    signal: Signal,
    target: OtlpTarget,
    max_batch_items: usize,
    max_batch_bytes: usize,
    gzip_level: i32,
}

impl Otlp {
    /// The exporter for `signal`, when the configuration gives it an endpoint.
    pub fn for_signal(config: &OtlpConfig, signal: Signal) -> Option<Self> {
        Some(Otlp {
            signal,
            target: config.target(signal)?.clone(),
            max_batch_items: config.max_batch_items,
            max_batch_bytes: config.max_batch_bytes,
            gzip_level: config.gzip_level,
        })
    }

    pub fn signal(&self) -> Signal {
        self.signal
    }

    fn request_with(
        &self,
        body: Vec<u8>,
        content_type: &'static str,
        content_encoding: Option<&'static str>,
        raw_len: usize,
    ) -> Request {
        Request {
            url: self.target.url.clone(),
            content_type,
            content_encoding,
            headers: self.target.headers.clone(),
            body: body.into(),
            raw_len,
        }
    }
}

thread_local! {
    /// The protobuf of the request being built, before gzip.
    static ENCODED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Encodes `batch` into `raw` (cleared first) and gzips it: the body and the encoded length.
fn gzip_encoded(t: &Telemetry, batch: &Batch, raw: &mut Vec<u8>, level: i32) -> (Vec<u8>, usize) {
    raw.clear();
    otlp_proto::encode_batch_into(t, batch, raw);
    (super::gzip::gzip(raw, level), raw.len())
}

impl Backend for Otlp {
    type Batch = Batch;

    fn name(&self) -> &str {
        "otlp"
    }

    fn batches(&self, t: &Telemetry, signal: Signal) -> Vec<Batch> {
        if signal != self.signal {
            return Vec::new();
        }
        batch::plan(t, signal, self.max_batch_items)
    }

    fn items(&self, batch: &Batch) -> usize {
        batch.items()
    }

    fn request(&self, t: &Telemetry, batch: &Batch) -> Request {
        let target = &self.target;
        let (raw, content_type) = match target.protocol {
            // Written from the batch's slices of the telemetry: no batch is ever copied out.
            Protocol::Protobuf if target.compression == Compression::Gzip => {
                // Into a buffer kept across requests, which gzip reads: no request grows a fresh one.
                let (body, raw_len) = ENCODED.with(|cell| match cell.try_borrow_mut() {
                    Ok(mut raw) => gzip_encoded(t, batch, &mut raw, self.gzip_level),
                    Err(_) => gzip_encoded(t, batch, &mut Vec::new(), self.gzip_level),
                });
                return self.request_with(body, "application/x-protobuf", Some("gzip"), raw_len);
            }
            Protocol::Protobuf => (otlp_proto::encode_batch(t, batch), "application/x-protobuf"),
            // Most deliveries fit one request: then the telemetry is encoded as it stands, without a copy.
            Protocol::Json if batch.is_whole(t) => (otlp_json::encode(t, batch.signal), "application/json"),
            Protocol::Json => (otlp_json::encode(&batch.materialize(t), batch.signal), "application/json"),
        };
        let raw_len = raw.len();
        let (body, content_encoding) = match target.compression {
            Compression::Gzip => (super::gzip::gzip(&raw, self.gzip_level), Some("gzip")),
            Compression::None => (raw, None),
        };
        self.request_with(body, content_type, content_encoding, raw_len)
    }

    fn max_body_bytes(&self) -> usize {
        self.max_batch_bytes
    }

    fn split(&self, batch: Batch) -> Result<(Batch, Batch), Batch> {
        batch.split()
    }

    fn classify(&self, signal: Signal, r: &Response) -> Outcome {
        classify(signal, r, SystemTime::now())
    }

    fn timeout(&self) -> Duration {
        self.target.timeout
    }
}

/// The OTLP/HTTP response rules: 2xx is success (maybe partial), 429/502/503/504 are retryable with the server's
/// `Retry-After` or `RetryInfo`, 413 means split, and every other status is final.
pub fn classify(signal: Signal, r: &Response, now: SystemTime) -> Outcome {
    let json = r.content_type.as_deref().is_some_and(|c| c.contains("json"));
    match r.status {
        200..=299 => {
            let partial = if json {
                otlp_proto::partial_success_json(signal, &r.body)
            } else {
                otlp_proto::partial_success(signal, &r.body)
            };
            match partial {
                Some(p) => Outcome::Delivered { rejected: p.rejected, message: Some(p.error_message) },
                None => Outcome::Delivered { rejected: 0, message: None },
            }
        }
        429 | 502 | 503 | 504 => {
            let after = r.retry_after.as_deref().and_then(|v| parse_retry_after(v, now)).or_else(|| {
                if json {
                    otlp_proto::retry_delay_json(&r.body)
                } else {
                    otlp_proto::retry_delay(&r.body)
                }
            });
            Outcome::Retry { after, reason: status_reason(r, json) }
        }
        413 => Outcome::TooLarge { reason: status_reason(r, json) },
        _ => Outcome::Permanent { reason: status_reason(r, json) },
    }
}

/// `HTTP 400 Bad Request: <the server's Status message>`.
fn status_reason(r: &Response, json: bool) -> String {
    let canonical = reqwest::StatusCode::from_u16(r.status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    let detail = if json { otlp_proto::status_message_json(&r.body) } else { otlp_proto::status_message(&r.body) }
        .or_else(|| std::str::from_utf8(&r.body).ok().map(|s| s.trim().chars().take(200).collect()))
        .filter(|s| !s.is_empty());
    match detail {
        Some(d) => format!("HTTP {} {canonical}: {d}", r.status),
        None => format!("HTTP {} {canonical}", r.status),
    }
}
