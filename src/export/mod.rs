//! Backends: every exporter takes [`Telemetry`](crate::telemetry::Telemetry) and never sees AWS wire types.

pub mod otlp_json;
pub mod stdout;
