//! Placeholder: being written.

use crate::telemetry::UnixNanos;

/// Which managed runtime printed a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Node,
    Python,
    Java,
    DotNet,
    Ruby,
    Go,
}

/// The prefix a managed runtime puts before an application's text line, split off the message.
#[derive(Debug, Clone, PartialEq)]
pub struct Prefix<'a> {
    pub runtime: Runtime,
    pub time_ns: Option<UnixNanos>,
    pub request_id: Option<&'a str>,
    /// The level word exactly as printed (`INFO`, `info`, `I`…).
    pub level: Option<&'a str>,
    /// What follows the prefix.
    pub message: &'a str,
}

pub fn strip(_line: &str) -> Option<Prefix<'_>> {
    None
}
