//! Fuzz target: one arbitrary UTF-8 log message through `parse_line`, the classifier every format sits behind.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // CloudWatch messages are JSON strings, hence always UTF-8; other bytes never reach the parsers.
    let Ok(message) = std::str::from_utf8(data) else { return };
    let parsed = logship::parse::parse_line(message, 0);
    logship_fuzz::check_parsed_line(message, &parsed);
    // The reader under JSON log bodies accepts exactly what sonic-rs does (which builds the tree elsewhere). Lines
    // are cut at 64 levels before either runs; past that sonic-rs's recursion could overflow the fuzzer's stack.
    if message.bytes().filter(|c| matches!(c, b'{' | b'[')).count() <= 64 {
        let ours = logship::json::validate(message);
        let theirs = sonic_rs::from_str::<logship::telemetry::AnyValue>(message);
        assert_eq!(ours.is_ok(), theirs.is_ok(), "{message:?}: reader {ours:?}, sonic-rs {theirs:?}");
    }
});
