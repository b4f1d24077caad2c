//! logship: CloudWatch Logs subscription events from AWS Lambda in, OpenTelemetry spans, metrics and logs out.
//!
//! The pipeline is `decode → parse → assemble → export`; see ARCHITECTURE.md for the picture.

pub mod assemble;
pub mod config;
pub mod decode;
pub mod export;
pub mod json;
pub mod parse;
pub mod pipeline;
pub mod secret;
pub mod subscribe;
pub mod summary;
pub mod telemetry;
pub mod time;
pub mod view;
