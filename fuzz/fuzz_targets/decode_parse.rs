//! Fuzz target: arbitrary bytes as a whole Lambda event through decode → parse → assemble → OTLP/JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logship::config::Config;
use logship::pipeline::process_event;

fuzz_target!(|data: &[u8]| {
    // An unreadable event is an expected Err; only a readable one has invariants to check.
    if let Ok(out) = process_event(data, &Config::default()) {
        logship_fuzz::check_output(&out);
    }
});
