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

use std::path::{Path, PathBuf};

/// The bundled fixtures of one folder, sorted so snapshot order is stable.
pub fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {}", root.display());
    files
}

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
