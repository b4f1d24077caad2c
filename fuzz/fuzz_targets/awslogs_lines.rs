//! Fuzz target: fuzzed log lines wrapped in a real gzip+base64 `awslogs` event, so every input reaches the parsers
//! and the assembler through the decoder instead of dying at the envelope.
#![no_main]

use libfuzzer_sys::fuzz_target;
use logship::config::Config;
use logship::parse::parse_line;
use logship::pipeline::process_event;
use logship::telemetry::ms_to_ns;
use logship_fuzz::{awslogs_event, check_output, check_parsed_line, split_records};

fuzz_target!(|data: &[u8]| {
    let lines = split_records(data);
    let event = awslogs_event(&lines);
    let out = match process_event(&event, &Config::default()) {
        Ok(out) => out,
        Err(e) => panic!("a well-formed awslogs event of {} lines was rejected: {e}", lines.len()),
    };
    assert_eq!(out.stats.batches, 1, "{:?}", out.stats);
    assert_eq!(out.stats.lines, lines.len() as u64, "lines in ≠ lines counted: {:?}", out.stats);
    check_output(&out);
    for line in &lines {
        check_parsed_line(&line.message, &parse_line(&line.message, ms_to_ns(line.timestamp_ms)));
    }
});
