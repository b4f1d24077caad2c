//! Integration tests: one binary, a module per topic.

// A failed unwrap is how a test helper reports a broken fixture or a missing binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod fault_server;
mod faults;
mod golden;
mod honeycomb;
mod otlp_e2e;
mod properties;
mod rotel;

// Shared with the other integration test binary rather than written twice.
#[allow(dead_code)]
#[path = "../common/fixtures.rs"]
mod common_fixtures;
pub use common_fixtures::fixtures;

/// Base64 of gzip, the way CloudWatch Logs wraps a LogsData document.
pub fn awslogs_event(logs_data: &str) -> Vec<u8> {
    use base64::Engine as _;
    let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::default());
    let mut gz = vec![0; c.gzip_compress_bound(logs_data.len())];
    let n = c.gzip_compress(logs_data.as_bytes(), &mut gz).unwrap();
    gz.truncate(n);
    let b64 = base64::engine::general_purpose::STANDARD.encode(gz);
    format!(r#"{{"awslogs":{{"data":"{b64}"}}}}"#).into_bytes()
}
