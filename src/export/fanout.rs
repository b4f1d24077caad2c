//! Fan-out: every routed (backend, signal) pair delivered concurrently and reported on its own.
//!
//! Pairs never wait for or fail each other: when one backend is down, the others still get their data, and the
//! report says exactly which backend lost what.

use super::config::{ExportConfig, Route};
use super::honeycomb::{Honeycomb, HoneycombError};
use super::http::HttpClient;
use super::otlp::Otlp;
use super::{deliver, stdout, ExportReport, Signal, SignalReport};
use crate::telemetry::Telemetry;
use futures_util::future::join_all;
use std::future::Future;
use std::pin::Pin;
use tokio::time::Instant;

/// The configured backends and the client they share; built once per process.
#[derive(Debug)]
pub struct Exporters {
    client: HttpClient,
    config: ExportConfig,
    otlp: Vec<Otlp>,
    honeycomb: Option<Honeycomb>,
}

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Client(#[from] super::http::ClientError),
    #[error(transparent)]
    Honeycomb(#[from] HoneycombError),
}

type Job<'a> = Pin<Box<dyn Future<Output = SignalReport> + Send + 'a>>;

impl Exporters {
    /// Builds the backends `config` names. Secrets must already be resolved.
    pub fn new(config: ExportConfig, client: HttpClient) -> Result<Exporters, SetupError> {
        let otlp = match &config.otlp {
            Some(o) => Signal::ALL.iter().filter_map(|s| Otlp::for_signal(o, *s)).collect(),
            None => Vec::new(),
        };
        let honeycomb = config.honeycomb.as_ref().map(Honeycomb::new).transpose()?;
        Ok(Exporters { client, config, otlp, honeycomb })
    }

    pub fn config(&self) -> &ExportConfig {
        &self.config
    }

    /// Delivers `t` everywhere it is routed, all pairs at once, within `deadline`.
    pub async fn export(&self, t: &Telemetry, deadline: Instant) -> ExportReport {
        let mut jobs: Vec<Job<'_>> = Vec::new();
        let mut reports = Vec::new();
        for signal in Signal::ALL {
            let items = count(t, signal);
            if items == 0 {
                continue;
            }
            let routes = self.config.routes(signal);
            if routes.is_empty() {
                // Configured to go nowhere: said in the report rather than vanishing.
                reports.push(SignalReport {
                    backend: "none".into(),
                    signal: Some(signal),
                    items,
                    ..SignalReport::default()
                });
            }
            for route in routes {
                match route {
                    Route::Otlp => match self.otlp.iter().find(|o| o.signal() == signal) {
                        Some(o) => {
                            jobs.push(Box::pin(deliver(o, &self.client, &self.config.delivery, t, signal, deadline)))
                        }
                        None => reports.push(unconfigured(*route, signal, items)),
                    },
                    Route::Honeycomb => match &self.honeycomb {
                        Some(h) => {
                            jobs.push(Box::pin(deliver(h, &self.client, &self.config.delivery, t, signal, deadline)))
                        }
                        None => reports.push(unconfigured(*route, signal, items)),
                    },
                    Route::Stdout => reports.push(to_stdout(t, signal, items)),
                }
            }
        }
        reports.extend(join_all(jobs).await);
        ExportReport { signals: reports }
    }
}

/// A route without its backend; configuration validation prevents it, and if it ever happens the data is reported
/// lost rather than quietly skipped.
fn unconfigured(route: Route, signal: Signal, items: u64) -> SignalReport {
    let backend = route.as_str().to_owned();
    let reason = format!("{backend} is routed {signal} but not configured");
    SignalReport {
        failures: vec![super::Failure { backend: backend.clone(), signal, items, reason }],
        backend,
        signal: Some(signal),
        items,
        ..SignalReport::default()
    }
}

fn count(t: &Telemetry, signal: Signal) -> u64 {
    t.resources.iter().map(|r| super::batch::item_count(r, signal) as u64).sum()
}

fn to_stdout(t: &Telemetry, signal: Signal, items: u64) -> SignalReport {
    let mut report = SignalReport { backend: "stdout".into(), signal: Some(signal), items, ..SignalReport::default() };
    let body = super::otlp_json::encode(t, signal);
    let mut out = std::io::stdout().lock();
    match stdout::write_line(&mut out, &body) {
        Ok(()) => {
            report.delivered = items;
            report.requests = 1;
            report.bytes = body.len() as u64 + 1;
        }
        Err(e) => report.failures.push(super::Failure {
            backend: "stdout".into(),
            signal,
            items,
            reason: format!("cannot write: {e}"),
        }),
    }
    report
}
