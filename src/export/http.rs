//! The HTTP transport every backend shares: one pooled client per process, bounded response reads.

use crate::secret::Secret;
use std::time::Duration;

/// Responses are read only this far: status bodies are small, and a misbehaving server must not balloon memory.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// One request, ready to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub url: String,
    pub content_type: &'static str,
    /// `Content-Encoding`, when the body is compressed.
    pub content_encoding: Option<&'static str>,
    /// Backend headers (API keys among them): sent marked sensitive, never printed.
    pub headers: Vec<(String, Secret)>,
    /// Shared, so a retry resends it without a copy.
    pub body: bytes::Bytes,
    /// The body's size before compression, which is what receivers' limits are about.
    pub raw_len: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Response {
    pub status: u16,
    pub retry_after: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Failures below HTTP: all of them are worth a retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    #[error("timed out")]
    Timeout,
    #[error("cannot connect: {0}")]
    Connect(String),
    #[error("{0}")]
    Other(String),
}

#[derive(Debug, thiserror::Error)]
#[error("cannot build the HTTP client: {0}")]
pub struct ClientError(String);

/// Reused across invocations: a Lambda keeps its connections warm between events.
#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

impl HttpClient {
    pub fn new() -> Result<Self, ClientError> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("logship/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(50))
            .tcp_nodelay(true)
            .build()
            .map_err(|e| ClientError(e.to_string()))?;
        Ok(HttpClient { inner })
    }

    pub async fn send(&self, req: &Request, timeout: Duration) -> Result<Response, TransportError> {
        let mut builder = self
            .inner
            .post(&req.url)
            .timeout(timeout)
            .header(reqwest::header::CONTENT_TYPE, req.content_type)
            .body(req.body.clone());
        if let Some(encoding) = req.content_encoding {
            builder = builder.header(reqwest::header::CONTENT_ENCODING, encoding);
        }
        for (name, value) in &req.headers {
            let mut v = reqwest::header::HeaderValue::from_str(value.expose())
                .map_err(|_| TransportError::Other(format!("header {name} has a value HTTP cannot carry")))?;
            v.set_sensitive(true);
            builder = builder.header(name.as_str(), v);
        }
        let mut resp = builder.send().await.map_err(|e| transport_error(&e))?;
        let header = |name| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let retry_after = header(reqwest::header::RETRY_AFTER);
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while body.len() < MAX_RESPONSE_BYTES {
            match resp.chunk().await {
                Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(MAX_RESPONSE_BYTES - body.len())]),
                Ok(None) => break,
                // The status is what matters; a body cut short only loses detail.
                Err(_) => break,
            }
        }
        Ok(Response { status, retry_after, content_type, body })
    }
}

/// reqwest's errors can carry the URL but never headers, so they are safe to report.
fn transport_error(e: &reqwest::Error) -> TransportError {
    if e.is_timeout() {
        TransportError::Timeout
    } else if e.is_connect() {
        TransportError::Connect(root_cause(e))
    } else {
        TransportError::Other(root_cause(e))
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        msg = format!("{msg}: {s}");
        source = s.source();
    }
    msg
}
