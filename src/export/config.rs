//! Exporter configuration from the environment: the OpenTelemetry `OTEL_EXPORTER_OTLP_*` variables every OTel user
//! knows, Honeycomb's settings, per-signal routing and the delivery knobs, validated once.

use super::retry::RetryPolicy;
use super::{Delivery, Signal};
use crate::secret::{Secret, SecretResolver, SecretSource};
use std::time::Duration;

/// The OTel default for `OTEL_EXPORTER_OTLP_TIMEOUT`.
const DEFAULT_OTLP_TIMEOUT: Duration = Duration::from_secs(10);
/// gRPC's default message cap, which most OTLP receivers also apply to HTTP bodies.
pub const DEFAULT_OTLP_MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;
/// The OpenTelemetry Collector batch processor's default batch size.
pub const DEFAULT_OTLP_MAX_BATCH_ITEMS: usize = 8192;
pub const DEFAULT_HONEYCOMB_URL: &str = "https://api.honeycomb.io";
/// Level 1, which ISA-L serves from 16 KiB up (`gzip::FAST_LEVEL`). Measured with `logship bench` on the bundled
/// batches: 2–2.3× faster than libdeflate's level 1 for 2–4% more bytes, and about 5× faster than libdeflate's level
/// 6 for 5–11% more; libdeflate's levels 2 and 3 cost 55–70% of its level 6 and save at most 1% over its level 1.
pub const DEFAULT_GZIP_LEVEL: i32 = super::gzip::FAST_LEVEL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Protobuf,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    None,
}

/// Where one signal goes over OTLP/HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpTarget {
    pub url: String,
    pub headers: Vec<(String, Secret)>,
    pub compression: Compression,
    pub timeout: Duration,
    pub protocol: Protocol,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OtlpConfig {
    pub traces: Option<OtlpTarget>,
    pub metrics: Option<OtlpTarget>,
    pub logs: Option<OtlpTarget>,
    /// `LOGSHIP_OTLP_HEADERS_SECRET`: more headers (`k=v,…`) kept in Secrets Manager or SSM, added to every signal.
    pub secret_headers: Option<SecretSource>,
    pub max_batch_items: usize,
    pub max_batch_bytes: usize,
    pub gzip_level: i32,
}

impl OtlpConfig {
    pub fn target(&self, signal: Signal) -> Option<&OtlpTarget> {
        match signal {
            Signal::Traces => self.traces.as_ref(),
            Signal::Metrics => self.metrics.as_ref(),
            Signal::Logs => self.logs.as_ref(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct HoneycombConfig {
    pub api_url: String,
    pub api_key: SecretSource,
    /// Events that don't name their dataset (beeline events do) go here; without it, to their `service.name`.
    pub dataset: Option<String>,
    pub gzip_level: i32,
    pub timeout: Duration,
}

/// The backends a signal is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Otlp,
    Honeycomb,
    Stdout,
}

impl Route {
    pub fn as_str(self) -> &'static str {
        match self {
            Route::Otlp => "otlp",
            Route::Honeycomb => "honeycomb",
            Route::Stdout => "stdout",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExportConfig {
    pub otlp: Option<OtlpConfig>,
    pub honeycomb: Option<HoneycombConfig>,
    pub traces: Vec<Route>,
    pub metrics: Vec<Route>,
    pub logs: Vec<Route>,
    pub delivery: Delivery,
    /// Kept back from the Lambda deadline for reporting and the failure itself.
    pub deadline_margin: Duration,
}

impl ExportConfig {
    pub fn routes(&self, signal: Signal) -> &[Route] {
        match signal {
            Signal::Traces => &self.traces,
            Signal::Metrics => &self.metrics,
            Signal::Logs => &self.logs,
        }
    }

    /// Whether `signal` goes out as OTLP/protobuf (then the pipeline renders JSON log bodies that way as it reads
    /// them: `Config::render_otlp_bodies`).
    pub fn ships_otlp_protobuf(&self, signal: Signal) -> bool {
        self.routes(signal).contains(&Route::Otlp)
            && self.otlp.as_ref().and_then(|o| o.target(signal)).is_some_and(|t| t.protocol == Protocol::Protobuf)
    }

    /// Whether anything goes over the network (otherwise the stdout sink takes everything).
    pub fn has_network_backends(&self) -> bool {
        self.otlp.is_some() || self.honeycomb.is_some()
    }

    pub fn from_env() -> Result<ExportConfig, ExportConfigError> {
        ExportConfig::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<ExportConfig, ExportConfigError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let gzip_level = number(&get, "LOGSHIP_GZIP_LEVEL", DEFAULT_GZIP_LEVEL as u64, 0, 12)? as i32;
        let otlp = otlp(&get, gzip_level)?;
        let honeycomb = match get("LOGSHIP_HONEYCOMB_API_KEY") {
            None => None,
            Some(key) => Some(HoneycombConfig {
                api_url: get("LOGSHIP_HONEYCOMB_API_URL").unwrap_or_else(|| DEFAULT_HONEYCOMB_URL.to_owned()),
                api_key: SecretSource::parse(&key),
                dataset: get("LOGSHIP_HONEYCOMB_DATASET"),
                gzip_level,
                timeout: Duration::from_millis(number(&get, "LOGSHIP_HONEYCOMB_TIMEOUT", 10_000, 1, 900_000)?),
            }),
        };
        let route = |var: &'static str, signal: Signal| -> Result<Vec<Route>, ExportConfigError> {
            let configured = |r: Route| match r {
                Route::Otlp => otlp.as_ref().is_some_and(|o| o.target(signal).is_some()),
                Route::Honeycomb => honeycomb.is_some(),
                Route::Stdout => true,
            };
            match get(var) {
                None => {
                    let mut routes: Vec<Route> = [Route::Otlp, Route::Honeycomb]
                        .into_iter()
                        .filter(|r| configured(*r) && !(*r == Route::Honeycomb && signal == Signal::Metrics))
                        .collect();
                    if routes.is_empty() && otlp.is_none() && honeycomb.is_none() {
                        routes.push(Route::Stdout);
                    }
                    Ok(routes)
                }
                Some(list) => {
                    let mut routes = Vec::new();
                    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        let invalid = |reason: String| ExportConfigError::Invalid { var, value: list.clone(), reason };
                        let r = match name {
                            "otlp" => Route::Otlp,
                            "honeycomb" => Route::Honeycomb,
                            "stdout" => Route::Stdout,
                            "none" => continue,
                            other => {
                                return Err(invalid(format!(
                                    "unknown backend {other:?} (otlp, honeycomb, stdout, none)"
                                )))
                            }
                        };
                        if r == Route::Honeycomb && signal == Signal::Metrics {
                            return Err(invalid("Honeycomb's events API takes spans and logs, not metrics".into()));
                        }
                        if !configured(r) {
                            return Err(invalid(format!("{name} is not configured for {signal}")));
                        }
                        if !routes.contains(&r) {
                            routes.push(r);
                        }
                    }
                    Ok(routes)
                }
            }
        };
        let traces = route("LOGSHIP_TRACES_TO", Signal::Traces)?;
        let metrics = route("LOGSHIP_METRICS_TO", Signal::Metrics)?;
        let logs = route("LOGSHIP_LOGS_TO", Signal::Logs)?;
        let delivery = Delivery {
            retry: RetryPolicy {
                initial_backoff: Duration::from_millis(number(
                    &get,
                    "LOGSHIP_RETRY_INITIAL_BACKOFF_MS",
                    100,
                    1,
                    60_000,
                )?),
                max_backoff: Duration::from_millis(number(&get, "LOGSHIP_RETRY_MAX_BACKOFF_MS", 5_000, 1, 300_000)?),
                max_attempts: number(&get, "LOGSHIP_RETRY_MAX_ATTEMPTS", 10, 1, 1000)? as u32,
            },
            concurrency: number(&get, "LOGSHIP_EXPORT_CONCURRENCY", 4, 1, 256)? as usize,
        };
        let deadline_margin = Duration::from_millis(number(&get, "LOGSHIP_DEADLINE_MARGIN_MS", 1_000, 0, 60_000)?);
        Ok(ExportConfig { otlp, honeycomb, traces, metrics, logs, delivery, deadline_margin })
    }

    /// Whether any setting names a Secrets Manager or SSM ARN, so start-up has AWS calls to make (and a cold start
    /// without them needn't build an SDK configuration at all).
    pub fn needs_secrets(&self) -> bool {
        let otlp = self.otlp.as_ref().is_some_and(|o| matches!(o.secret_headers, Some(SecretSource::Arn(_))));
        let honeycomb = self.honeycomb.as_ref().is_some_and(|h| matches!(h.api_key, SecretSource::Arn(_)));
        otlp || honeycomb
    }

    /// Replaces every secret reference with its value, once, at start-up.
    pub async fn resolve_secrets<R: SecretResolver>(&mut self, resolver: &R) -> Result<(), ExportConfigError> {
        if let Some(otlp) = self.otlp.as_mut() {
            if let Some(source) = otlp.secret_headers.take() {
                let secret = resolve(resolver, source, "LOGSHIP_OTLP_HEADERS_SECRET").await?;
                let headers = parse_headers("LOGSHIP_OTLP_HEADERS_SECRET", secret.expose())?;
                for target in [&mut otlp.traces, &mut otlp.metrics, &mut otlp.logs].into_iter().flatten() {
                    merge_headers(&mut target.headers, headers.clone());
                }
            }
        }
        if let Some(hc) = self.honeycomb.as_mut() {
            let key = resolve(resolver, hc.api_key.clone(), "LOGSHIP_HONEYCOMB_API_KEY").await?;
            hc.api_key = SecretSource::Value(key);
        }
        Ok(())
    }
}

async fn resolve<R: SecretResolver>(
    resolver: &R,
    source: SecretSource,
    var: &'static str,
) -> Result<Secret, ExportConfigError> {
    match source {
        SecretSource::Value(v) => Ok(v),
        SecretSource::Arn(arn) => {
            resolver.resolve(&arn).await.map_err(|reason| ExportConfigError::Secret { var, reason })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportConfigError {
    #[error("{var}={value:?}: {reason}")]
    Invalid { var: &'static str, value: String, reason: String },
    /// Header values are secrets: the error names the variable and the header, never the value.
    #[error("{var}: {reason}")]
    Headers { var: &'static str, reason: String },
    #[error("{var}: cannot resolve the secret: {reason}")]
    Secret { var: &'static str, reason: String },
}

fn number(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ExportConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v.parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or_else(|| {
            ExportConfigError::Invalid { var, value: v, reason: format!("expected a whole number from {min} to {max}") }
        }),
    }
}

fn otlp(get: &impl Fn(&str) -> Option<String>, gzip_level: i32) -> Result<Option<OtlpConfig>, ExportConfigError> {
    let base = get("OTEL_EXPORTER_OTLP_ENDPOINT");
    let secret_headers = get("LOGSHIP_OTLP_HEADERS_SECRET").map(|v| SecretSource::parse(&v));
    let general_headers = match get("OTEL_EXPORTER_OTLP_HEADERS") {
        Some(h) => parse_headers("OTEL_EXPORTER_OTLP_HEADERS", &h)?,
        None => Vec::new(),
    };
    let protocol = |var: &'static str, default: Protocol| -> Result<Protocol, ExportConfigError> {
        match get(var).as_deref() {
            None => Ok(default),
            Some("http/protobuf") => Ok(Protocol::Protobuf),
            Some("http/json") => Ok(Protocol::Json),
            Some(other) => Err(ExportConfigError::Invalid {
                var,
                value: other.to_owned(),
                reason: "logship speaks OTLP/HTTP: use http/protobuf or http/json".into(),
            }),
        }
    };
    let compression = |var: &'static str, default: Compression| -> Result<Compression, ExportConfigError> {
        match get(var).as_deref() {
            None => Ok(default),
            Some("gzip") => Ok(Compression::Gzip),
            Some("none") => Ok(Compression::None),
            Some(other) => {
                Err(ExportConfigError::Invalid { var, value: other.to_owned(), reason: "expected gzip or none".into() })
            }
        }
    };
    let default_protocol = protocol("OTEL_EXPORTER_OTLP_PROTOCOL", Protocol::Protobuf)?;
    // The OTel default is no compression; a shipper sending whole batches over the internet gzips by default.
    let default_compression = compression("OTEL_EXPORTER_OTLP_COMPRESSION", Compression::Gzip)?;
    let default_timeout =
        number(get, "OTEL_EXPORTER_OTLP_TIMEOUT", DEFAULT_OTLP_TIMEOUT.as_millis() as u64, 1, 900_000)?;
    let mut targets = [None, None, None];
    for (slot, signal) in targets.iter_mut().zip(Signal::ALL) {
        let (endpoint_var, headers_var, protocol_var, compression_var, timeout_var, path) = match signal {
            Signal::Traces => (
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
                "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION",
                "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
                "v1/traces",
            ),
            Signal::Metrics => (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL",
                "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION",
                "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT",
                "v1/metrics",
            ),
            Signal::Logs => (
                "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL",
                "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION",
                "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT",
                "v1/logs",
            ),
        };
        // A signal-specific endpoint is used as given; the general one gets the signal's path appended (OTel spec).
        let url = match (get(endpoint_var), base.as_deref()) {
            (Some(url), _) => check_url(endpoint_var, url)?,
            (None, Some(base)) => {
                let base = check_url("OTEL_EXPORTER_OTLP_ENDPOINT", base.to_owned())?;
                format!("{}/{path}", base.trim_end_matches('/'))
            }
            (None, None) => continue,
        };
        let mut headers = general_headers.clone();
        if let Some(h) = get(headers_var) {
            merge_headers(&mut headers, parse_headers(headers_var, &h)?);
        }
        *slot = Some(OtlpTarget {
            url,
            headers,
            compression: compression(compression_var, default_compression)?,
            timeout: Duration::from_millis(number(get, timeout_var, default_timeout, 1, 900_000)?),
            protocol: protocol(protocol_var, default_protocol)?,
        });
    }
    let [traces, metrics, logs] = targets;
    if traces.is_none() && metrics.is_none() && logs.is_none() {
        if secret_headers.is_some() {
            return Err(ExportConfigError::Invalid {
                var: "LOGSHIP_OTLP_HEADERS_SECRET",
                value: "<secret>".into(),
                reason: "set OTEL_EXPORTER_OTLP_ENDPOINT too".into(),
            });
        }
        return Ok(None);
    }
    Ok(Some(OtlpConfig {
        traces,
        metrics,
        logs,
        secret_headers,
        max_batch_items: number(get, "LOGSHIP_OTLP_MAX_BATCH_ITEMS", DEFAULT_OTLP_MAX_BATCH_ITEMS as u64, 1, 1_000_000)?
            as usize,
        max_batch_bytes: number(
            get,
            "LOGSHIP_OTLP_MAX_BATCH_BYTES",
            DEFAULT_OTLP_MAX_BATCH_BYTES as u64,
            1024,
            1 << 30,
        )? as usize,
        gzip_level,
    }))
}

fn check_url(var: &'static str, url: String) -> Result<String, ExportConfigError> {
    if (url.starts_with("http://") || url.starts_with("https://")) && reqwest::Url::parse(&url).is_ok() {
        Ok(url)
    } else {
        Err(ExportConfigError::Invalid { var, value: url, reason: "expected an http:// or https:// URL".into() })
    }
}

/// `k1=v1,k2=v2` with percent-encoded values, as the OTel spec defines `OTEL_EXPORTER_OTLP_HEADERS`.
pub fn parse_headers(var: &'static str, list: &str) -> Result<Vec<(String, Secret)>, ExportConfigError> {
    let mut out = Vec::new();
    for (i, pair) in list.split(',').map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        let Some((k, v)) = pair.split_once('=') else {
            return Err(ExportConfigError::Headers { var, reason: format!("entry {} has no '='", i + 1) });
        };
        let key = k.trim();
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            return Err(ExportConfigError::Headers {
                var,
                reason: format!("entry {} has an invalid header name", i + 1),
            });
        }
        let value = percent_decode(v.trim())
            .ok_or_else(|| ExportConfigError::Headers { var, reason: format!("{key}: invalid percent-encoding") })?;
        out.push((key.to_ascii_lowercase(), Secret::new(value)));
    }
    Ok(out)
}

/// Later headers replace earlier ones of the same name: signal-specific settings win over general ones.
fn merge_headers(into: &mut Vec<(String, Secret)>, more: Vec<(String, Secret)>) {
    for (k, v) in more {
        into.retain(|(existing, _)| *existing != k);
        into.push((k, v));
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn nothing_configured_means_stdout() {
        let c = ExportConfig::from_lookup(env(&[])).unwrap();
        assert!(!c.has_network_backends());
        for s in Signal::ALL {
            assert_eq!(c.routes(s), [Route::Stdout]);
        }
    }

    #[test]
    fn the_general_endpoint_gets_signal_paths() {
        let c = ExportConfig::from_lookup(env(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318/")])).unwrap();
        let o = c.otlp.as_ref().unwrap();
        assert_eq!(o.traces.as_ref().unwrap().url, "http://127.0.0.1:4318/v1/traces");
        assert_eq!(o.metrics.as_ref().unwrap().url, "http://127.0.0.1:4318/v1/metrics");
        assert_eq!(o.logs.as_ref().unwrap().url, "http://127.0.0.1:4318/v1/logs");
        let t = o.traces.as_ref().unwrap();
        assert_eq!(
            (t.protocol, t.compression, t.timeout),
            (Protocol::Protobuf, Compression::Gzip, Duration::from_secs(10))
        );
        assert_eq!(c.traces, [Route::Otlp]);
        assert_eq!(c.metrics, [Route::Otlp]);
    }

    #[test]
    fn signal_settings_win() {
        let c = ExportConfig::from_lookup(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector.example:4318"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "https://traces.example/custom/path"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "x-team=a%20b,api-key=general"),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", "api-key=logs"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            ("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "none"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
        ]))
        .unwrap();
        let o = c.otlp.unwrap();
        let (t, m, l) = (o.traces.unwrap(), o.metrics.unwrap(), o.logs.unwrap());
        assert_eq!(t.url, "https://traces.example/custom/path");
        assert_eq!((t.protocol, m.protocol), (Protocol::Json, Protocol::Protobuf));
        assert_eq!(t.compression, Compression::None);
        assert_eq!(t.timeout, Duration::from_millis(2500));
        let hdr = |h: &[(String, Secret)], k: &str| h.iter().find(|(n, _)| n == k).map(|(_, v)| v.expose().to_owned());
        assert_eq!(hdr(&t.headers, "x-team").as_deref(), Some("a b"));
        assert_eq!(hdr(&t.headers, "api-key").as_deref(), Some("general"));
        assert_eq!(hdr(&l.headers, "api-key").as_deref(), Some("logs"));
        assert_eq!(l.headers.len(), 2);
    }

    #[test]
    fn routing_across_backends() {
        let c = ExportConfig::from_lookup(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("LOGSHIP_HONEYCOMB_API_KEY", "hcaik_secret"),
            ("LOGSHIP_TRACES_TO", "honeycomb"),
        ]))
        .unwrap();
        assert_eq!(c.traces, [Route::Honeycomb]);
        assert_eq!(c.metrics, [Route::Otlp]);
        assert_eq!(c.logs, [Route::Otlp, Route::Honeycomb]);
        assert!(!format!("{c:?}").contains("hcaik_secret"), "secrets never reach Debug output");
    }

    #[test]
    fn errors_name_the_variable_and_never_the_secret() {
        let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
            (vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318")], "OTEL_EXPORTER_OTLP_ENDPOINT"),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")],
                "OTEL_EXPORTER_OTLP_PROTOCOL",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd")],
                "OTEL_EXPORTER_OTLP_COMPRESSION",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_TIMEOUT", "soon")],
                "OTEL_EXPORTER_OTLP_TIMEOUT",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_HEADERS", "api-key:topsecret")],
                "OTEL_EXPORTER_OTLP_HEADERS",
            ),
            (
                vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), ("OTEL_EXPORTER_OTLP_HEADERS", "k=%zz-topsecret")],
                "OTEL_EXPORTER_OTLP_HEADERS",
            ),
            (
                vec![("LOGSHIP_METRICS_TO", "honeycomb"), ("LOGSHIP_HONEYCOMB_API_KEY", "topsecret")],
                "LOGSHIP_METRICS_TO",
            ),
            (vec![("LOGSHIP_TRACES_TO", "otlp")], "LOGSHIP_TRACES_TO"),
            (vec![("LOGSHIP_TRACES_TO", "datadog")], "LOGSHIP_TRACES_TO"),
            (vec![("LOGSHIP_EXPORT_CONCURRENCY", "0")], "LOGSHIP_EXPORT_CONCURRENCY"),
            (vec![("LOGSHIP_GZIP_LEVEL", "13")], "LOGSHIP_GZIP_LEVEL"),
        ];
        for (vars, want) in cases {
            let err = ExportConfig::from_lookup(env(&vars)).unwrap_err().to_string();
            assert!(err.starts_with(want), "{err}");
            assert!(!err.contains("topsecret"), "{err}");
        }
    }

    #[test]
    fn secret_references_resolve_once() {
        struct Fake;
        impl SecretResolver for Fake {
            async fn resolve(&self, arn: &str) -> Result<Secret, String> {
                match arn {
                    a if a.contains("otlp") => Ok(Secret::new("authorization=Bearer%20t0ken")),
                    a if a.contains("honeycomb") => Ok(Secret::new("hcaik_resolved")),
                    _ => Err("no such secret".into()),
                }
            }
        }
        let mut c = ExportConfig::from_lookup(env(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318"),
            ("LOGSHIP_OTLP_HEADERS_SECRET", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:otlp-AbC"),
            ("LOGSHIP_HONEYCOMB_API_KEY", "arn:aws:ssm:eu-west-1:123456789012:parameter/honeycomb"),
        ]))
        .unwrap();
        futures_util::FutureExt::now_or_never(c.resolve_secrets(&Fake)).unwrap().unwrap();
        let t = c.otlp.as_ref().unwrap().traces.as_ref().unwrap();
        assert_eq!(t.headers[0].0, "authorization");
        assert_eq!(t.headers[0].1.expose(), "Bearer t0ken");
        assert_eq!(c.honeycomb.unwrap().api_key, SecretSource::Value(Secret::new("hcaik_resolved")));

        let mut bad = ExportConfig::from_lookup(env(&[(
            "LOGSHIP_HONEYCOMB_API_KEY",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:missing",
        )]))
        .unwrap();
        let err = futures_util::FutureExt::now_or_never(bad.resolve_secrets(&Fake)).unwrap().unwrap_err();
        assert_eq!(err.to_string(), "LOGSHIP_HONEYCOMB_API_KEY: cannot resolve the secret: no such secret");
    }
}
