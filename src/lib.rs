//! logship: CloudWatch Logs subscription events from AWS Lambda in, OpenTelemetry spans, metrics and logs out.
//!
//! The pipeline is `decode → parse → assemble → export`; see ARCHITECTURE.md for the picture.

pub mod parse;
pub mod telemetry;
pub mod time;
