//! Fuzz target: one arbitrary UTF-8 log message through `parse_line`, the classifier every format sits behind.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // CloudWatch messages are JSON strings, hence always UTF-8; other bytes never reach the parsers.
    let Ok(message) = std::str::from_utf8(data) else { return };
    let parsed = logship::parse::parse_line(message, 0);
    logship_fuzz::check_parsed_line(message, &parsed);
});
