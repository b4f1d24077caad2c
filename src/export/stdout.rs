//! The default sink: OTLP/JSON export requests, one per line, as the Collector's file exporter writes them.
//!
//! The Collector's `otlpjsonfile` receiver reads this format back, so a replay can be fed to any Collector.

use super::otlp_json::{encode, Signal};
use crate::telemetry::Telemetry;
use std::io::{self, Write};

/// Writes one line per signal present in `t` (traces, metrics, logs, in that order); returns the bytes written.
pub fn write_lines<W: Write>(out: &mut W, t: &Telemetry) -> io::Result<u64> {
    let mut bytes = 0;
    for signal in Signal::ALL {
        if signal.present_in(t) {
            let body = encode(t, signal);
            write_line(out, &body)?;
            bytes += body.len() as u64 + 1;
        }
    }
    Ok(bytes)
}

/// One export request as one line; the request is written whole or not at all as far as one `write_all` allows.
pub fn write_line<W: Write>(out: &mut W, body: &[u8]) -> io::Result<()> {
    out.write_all(body)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{AnyValue, LogRecord, ResourceTelemetry};

    #[test]
    fn one_line_per_present_signal() {
        let mut out = Vec::new();
        assert_eq!(write_lines(&mut out, &Telemetry::default()).unwrap(), 0);
        let t = Telemetry {
            resources: vec![ResourceTelemetry {
                logs: vec![LogRecord {
                    time_ns: 1,
                    observed_ns: 1,
                    severity: None,
                    body: AnyValue::Str("x".into()),
                    attributes: vec![],
                    trace_id: None,
                    span_id: None,
                }],
                ..ResourceTelemetry::default()
            }],
        };
        let n = write_lines(&mut out, &t).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(n as usize, text.len());
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("{\"resourceLogs\":["));
    }
}
