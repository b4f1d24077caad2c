//! Backends and the one delivery loop they share: batch, send concurrently, retry, split, and report every loss.
//!
//! A backend ([`Backend`]) only plans batches within its limits, encodes a request and classifies a response;
//! [`deliver`] does the rest the same way for all of them. Exporters take [`Telemetry`] and never see AWS types.

pub mod batch;
pub mod config;
pub mod fanout;
pub mod gzip;
pub mod honeycomb;
pub mod http;
pub mod otlp;
pub mod otlp_json;
pub mod otlp_proto;
pub mod retry;
pub mod stdout;

use crate::telemetry::Telemetry;
use futures_util::stream::{self, StreamExt};
use http::{HttpClient, Request, Response};
pub use otlp_json::Signal;
use retry::{Outcome, RetryPolicy};
use std::fmt;
use tokio::time::{Duration, Instant};

/// What a backend must say; everything else is shared.
pub trait Backend: Sync {
    /// A batch of this backend's items, planned from one [`Telemetry`].
    type Batch: Send;

    /// Its name in reports and errors (`otlp`, `honeycomb`).
    fn name(&self) -> &str;
    /// Batches of `signal`'s items within the backend's item limits; none when it doesn't take the signal.
    fn batches(&self, t: &Telemetry, signal: Signal) -> Vec<Self::Batch>;
    fn items(&self, batch: &Self::Batch) -> usize;
    /// The request for `batch`. Bodies over [`Backend::max_body_bytes`] are split before sending.
    fn request(&self, t: &Telemetry, batch: &Self::Batch) -> Request;
    /// The uncompressed size a request body may have.
    fn max_body_bytes(&self) -> usize;
    /// Halves a batch; `Err` hands back one that holds a single item.
    fn split(&self, batch: Self::Batch) -> Result<(Self::Batch, Self::Batch), Self::Batch>;
    fn classify(&self, signal: Signal, response: &Response) -> Outcome;
    /// The per-request timeout (the deadline caps it further).
    fn timeout(&self) -> Duration;
}

/// How the shared loop behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub retry: RetryPolicy,
    /// Requests in flight at once, per backend.
    pub concurrency: usize,
}

impl Default for Delivery {
    fn default() -> Self {
        Delivery { retry: RetryPolicy::default(), concurrency: 4 }
    }
}

/// Items that did not reach a backend, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub backend: String,
    pub signal: Signal,
    pub items: u64,
    pub reason: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} {} not delivered: {}",
            self.backend,
            self.signal,
            self.items,
            unit(self.signal),
            self.reason
        )
    }
}

fn unit(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "spans",
        Signal::Metrics => "metrics",
        Signal::Logs => "log records",
    }
}

/// What one backend did with one signal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignalReport {
    pub backend: String,
    pub signal: Option<Signal>,
    pub items: u64,
    pub delivered: u64,
    /// Accepted by the transport but refused by the backend (partial success); retrying cannot help.
    pub rejected: u64,
    pub rejections: Vec<String>,
    pub requests: u64,
    /// Request bodies as sent (compressed when compression is on), retries included.
    pub bytes: u64,
    pub retries: u64,
    pub failures: Vec<Failure>,
}

/// Every backend's report for one export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportReport {
    pub signals: Vec<SignalReport>,
}

impl ExportReport {
    /// What `backend` did with `signal`.
    pub fn get(&self, backend: &str, signal: Signal) -> Option<&SignalReport> {
        self.signals.iter().find(|s| s.backend == backend && s.signal == Some(signal))
    }

    pub fn failures(&self) -> impl Iterator<Item = &Failure> {
        self.signals.iter().flat_map(|s| s.failures.iter())
    }

    pub fn requests(&self) -> u64 {
        self.signals.iter().map(|s| s.requests).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.signals.iter().map(|s| s.bytes).sum()
    }

    pub fn retries(&self) -> u64 {
        self.signals.iter().map(|s| s.retries).sum()
    }

    pub fn rejected(&self) -> u64 {
        self.signals.iter().map(|s| s.rejected).sum()
    }

    /// `Err` when anything was not delivered: the caller fails so the event is delivered again.
    pub fn into_result(self) -> Result<ExportReport, ExportError> {
        let failures: Vec<Failure> = self.failures().cloned().collect();
        if failures.is_empty() {
            Ok(self)
        } else {
            Err(ExportError { failures, report: self })
        }
    }
}

/// Data that could not be delivered; Display names every backend and what it lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ExportError {
    pub failures: Vec<Failure>,
    pub report: ExportReport,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("delivery failed: ")?;
        for (i, failure) in self.failures.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{failure}")?;
        }
        Ok(())
    }
}

/// Running totals of one backend × signal.
#[derive(Debug, Default)]
struct Tally {
    delivered: u64,
    rejected: u64,
    rejections: Vec<String>,
    requests: u64,
    bytes: u64,
    retries: u64,
    failed: Vec<(u64, String)>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.delivered += o.delivered;
        self.rejected += o.rejected;
        self.rejections.extend(o.rejections);
        self.requests += o.requests;
        self.bytes += o.bytes;
        self.retries += o.retries;
        self.failed.extend(o.failed);
    }
}

/// Sends every item of `signal` to `backend`: batches concurrently, each retried, split on 413, within `deadline`.
pub async fn deliver<B: Backend>(
    backend: &B,
    client: &HttpClient,
    delivery: &Delivery,
    t: &Telemetry,
    signal: Signal,
    deadline: Instant,
) -> SignalReport {
    let batches = backend.batches(t, signal);
    let items: u64 = batches.iter().map(|b| backend.items(b) as u64).sum();
    let mut tally = Tally::default();
    let mut results = stream::iter(batches)
        .map(|b| deliver_batch(backend, client, delivery, t, signal, deadline, b))
        .buffer_unordered(delivery.concurrency.max(1));
    while let Some(t) = results.next().await {
        tally.merge(t);
    }
    let name = backend.name().to_owned();
    let failures = merge_failures(&name, signal, tally.failed);
    SignalReport {
        backend: name,
        signal: Some(signal),
        items,
        delivered: tally.delivered,
        rejected: tally.rejected,
        rejections: tally.rejections,
        requests: tally.requests,
        bytes: tally.bytes,
        retries: tally.retries,
        failures,
    }
}

/// One failure per distinct reason, so a hundred batches lost to one outage read as one line.
fn merge_failures(backend: &str, signal: Signal, failed: Vec<(u64, String)>) -> Vec<Failure> {
    let mut out: Vec<Failure> = Vec::new();
    for (items, reason) in failed {
        match out.iter_mut().find(|f| f.reason == reason) {
            Some(f) => f.items += items,
            None => out.push(Failure { backend: backend.to_owned(), signal, items, reason }),
        }
    }
    out
}

/// The next request of `todo` (a stack, next batch last) within the backend's body limit: a batch whose body is
/// over it is halved and its halves pushed back, so the limit holds without planning by size up front.
fn next_request<B: Backend>(backend: &B, t: &Telemetry, todo: &mut Vec<B::Batch>) -> Option<(B::Batch, Request)> {
    while let Some(batch) = todo.pop() {
        let request = backend.request(t, &batch);
        if request.raw_len <= backend.max_body_bytes() {
            return Some((batch, request));
        }
        match backend.split(batch) {
            Ok((a, b)) => {
                todo.push(b);
                todo.push(a);
            }
            // A single item over the limit still goes: the backend's own answer is the clearest report.
            Err(single) => return Some((single, request)),
        }
    }
    None
}

/// Every request [`deliver`] would send for `signal`'s items of `t`, first attempts only, in its order for one
/// request in flight: planned, encoded, compressed and split exactly as delivery does, with no network.
///
/// This is the seam `logship bench` times: the real encoding path, not a copy of it.
pub fn requests<'a, B: Backend>(
    backend: &'a B,
    t: &'a Telemetry,
    signal: Signal,
) -> impl Iterator<Item = Request> + 'a {
    backend.batches(t, signal).into_iter().flat_map(move |first| {
        let mut todo = vec![first];
        std::iter::from_fn(move || next_request(backend, t, &mut todo).map(|(_, request)| request))
    })
}

/// The shortest attempt worth starting: below this the request cannot finish before the deadline.
const MIN_ATTEMPT: Duration = Duration::from_millis(50);

async fn deliver_batch<B: Backend>(
    backend: &B,
    client: &HttpClient,
    delivery: &Delivery,
    t: &Telemetry,
    signal: Signal,
    deadline: Instant,
    first: B::Batch,
) -> Tally {
    let mut tally = Tally::default();
    let mut todo = vec![first];
    while let Some((batch, request)) = next_request(backend, t, &mut todo) {
        let items = backend.items(&batch) as u64;
        let mut attempt: u32 = 0;
        let mut last_reason = String::new();
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < MIN_ATTEMPT {
                let why =
                    if last_reason.is_empty() { "no time left before the deadline".to_owned() } else { last_reason };
                tally.failed.push((items, format!("{why}; deadline reached after {attempt} attempts")));
                break;
            }
            attempt += 1;
            tally.requests += 1;
            tally.bytes += request.body.len() as u64;
            let outcome = match client.send(&request, backend.timeout().min(remaining)).await {
                Ok(response) => backend.classify(signal, &response),
                Err(e) => Outcome::Retry { after: None, reason: e.to_string() },
            };
            match outcome {
                Outcome::Delivered { rejected, message } => {
                    let rejected = rejected.min(items);
                    tally.delivered += items - rejected;
                    tally.rejected += rejected;
                    if let Some(m) = message.filter(|m| !m.is_empty()) {
                        tally.rejections.push(m);
                    }
                    break;
                }
                Outcome::TooLarge { reason } => {
                    // The backend's limit is lower than ours: halve and resend, down to single items.
                    match backend.split(batch) {
                        Ok((a, b)) => {
                            todo.push(b);
                            todo.push(a);
                        }
                        Err(_) => tally.failed.push((items, reason)),
                    }
                    break;
                }
                Outcome::Permanent { reason } => {
                    tally.failed.push((items, reason));
                    break;
                }
                Outcome::Retry { after, reason } => {
                    if attempt >= delivery.retry.max_attempts {
                        tally.failed.push((items, format!("{reason} (gave up after {attempt} attempts)")));
                        break;
                    }
                    let delay = delivery.retry.delay(attempt - 1, after);
                    if Instant::now() + delay + MIN_ATTEMPT > deadline {
                        tally.failed.push((
                            items,
                            format!("{reason}; the next attempt (in {} ms) would pass the deadline", delay.as_millis()),
                        ));
                        break;
                    }
                    last_reason = reason;
                    tally.retries += 1;
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
    tally
}
