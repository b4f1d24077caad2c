//! The text prefixes Lambda's managed runtimes write before an application's line, split off the message.
//!
//! Each shape below is what the runtime's own logging code writes in the text log format (the runtime interface
//! clients for Node.js, Python, Java, .NET and Ruby; Go's `log` package, since the Go runtime adds nothing):
//!
//! | runtime | shape |
//! | --- | --- |
//! | Node.js | `2024-03-01T12:00:00.123Z\t<request id>\tINFO\tmessage` (`undefined` as id during init; very old runtimes print no level) |
//! | .NET 6+ | `2024-03-01T12:00:00.123Z\t<request id>\tinfo\tmessage` (`trce dbug info warn fail crit`; empty id during init; `LambdaLogger.Log` prints no level) |
//! | Python | `[INFO]\t2024-03-01T12:00:00.123Z\t<request id>\tmessage` (empty id during init), and `[ERROR] Type: message` for an error the runtime reports |
//! | Java | log4j2 `LambdaAppender` with the documented `%d{yyyy-MM-dd HH:mm:ss} %X{AWSRequestId} %-5p %c{1} - %m` (`%c{1}:%L` too), and `LambdaLogger`'s `[INFO] message` |
//! | Ruby | `I, [2024-03-01T12:00:00.123456 #8]  INFO <request id> -- <progname>: message` |
//! | Go | `2024/03/01 12:00:00 message` (`log.LstdFlags`, optionally with microseconds) |
//!
//! Everything is a byte scan over the borrowed line; nothing allocates. A line that only looks like a shape halfway
//! is not stripped at all, so Lambda's own platform lines (`START RequestId: …`, the space-separated
//! `<time> <request id> Task timed out …`) and JSON lines pass through untouched.

use crate::telemetry::UnixNanos;
use crate::time::parse_timestamp;

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

/// Splits a runtime's prefix off `line`, or `None` when the line carries no prefix this module knows.
pub fn strip(line: &str) -> Option<Prefix<'_>> {
    match line.as_bytes().first()? {
        b'0'..=b'9' => tabbed(line).or_else(|| log4j(line)).or_else(|| go_log(line)),
        b'[' => python(line).or_else(|| bracketed_level(line)),
        b'D' | b'I' | b'W' | b'E' | b'F' | b'A' => ruby(line),
        _ => None,
    }
}

/// Node.js and .NET: `<ISO time>\t<request id>\t[<level>\t]<message>`.
fn tabbed(line: &str) -> Option<Prefix<'_>> {
    let b = line.as_bytes();
    // Cheap shape check first so long untabbed lines are not scanned for a tab.
    if b.get(4) != Some(&b'-') || b.get(10) != Some(&b'T') {
        return None;
    }
    in_invocation(line).or_else(|| tabbed_in_any_width(line))
}

/// [`tabbed_in_any_width`] for the line every invocation's logging prints: a millisecond time and a request id,
/// each the width it always has and followed by a tab, read where they stand instead of searched for.
fn in_invocation(line: &str) -> Option<Prefix<'_>> {
    const TIME: usize = "2024-03-01T12:00:00.123Z".len();
    const ID_END: usize = TIME + 1 + 36;
    let b = line.as_bytes();
    if b.get(TIME) != Some(&b'\t') || b.get(ID_END) != Some(&b'\t') {
        return None;
    }
    // A time that parses and a request id hold no tab, so these two tabs are the line's first.
    let time_ns = parse_timestamp(&line[..TIME])?;
    let id = &line[TIME + 1..ID_END];
    if !is_request_id(id) {
        return None;
    }
    let rest = &line[ID_END + 1..];
    let (runtime, level, message) = match level_word(rest) {
        Some((runtime, word, message)) => (runtime, Some(word), message),
        None => (Runtime::Node, None, rest),
    };
    Some(Prefix { runtime, time_ns: Some(time_ns), request_id: Some(id), level, message })
}

/// The level word that opens `rest` before a tab, the runtime that prints it, and the message after the tab.
fn level_word(rest: &str) -> Option<(Runtime, &str, &str)> {
    // Every level word is four or five letters, so a tab at either width is the first tab a word could end at.
    let b = rest.as_bytes();
    let len = [4, 5].into_iter().find(|&n| b.get(n) == Some(&b'\t'))?;
    let word = &rest[..len];
    let runtime = match word {
        "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL" => Runtime::Node,
        "trce" | "dbug" | "info" | "warn" | "fail" | "crit" => Runtime::DotNet,
        _ => return None,
    };
    Some((runtime, word, &rest[len + 1..]))
}

fn tabbed_in_any_width(line: &str) -> Option<Prefix<'_>> {
    let (time, rest) = line.split_once('\t')?;
    let time_ns = parse_timestamp(time)?;
    let (id, rest) = rest.split_once('\t')?;
    // Node prints the JavaScript `undefined` before the first invocation, .NET an empty string.
    let (request_id, default_runtime) = match id {
        "undefined" => (None, Runtime::Node),
        "" => (None, Runtime::DotNet),
        id if is_request_id(id) => (Some(id), Runtime::Node),
        _ => return None,
    };
    let leveled = rest.split_once('\t').and_then(|(word, message)| {
        let runtime = match word {
            "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL" => Runtime::Node,
            "trce" | "dbug" | "info" | "warn" | "fail" | "crit" => Runtime::DotNet,
            _ => return None,
        };
        Some((runtime, Some(word), message))
    });
    // Without a level the two runtimes print the same thing; Node's old runtimes are the commoner source.
    let (runtime, level, message) = leveled.unwrap_or((default_runtime, None, rest));
    Some(Prefix { runtime, time_ns: Some(time_ns), request_id, level, message })
}

/// Python's logging handler: `[<LEVEL>]\t<ISO time>\t<request id or nothing>\t<message>`.
fn python(line: &str) -> Option<Prefix<'_>> {
    let rest = line.strip_prefix('[')?;
    // Level names are short (`CRITICAL` is the longest standard one); a custom one may hold a space (`Level 5`).
    let close = rest.bytes().take(24).position(|c| c == b']')?;
    let level = rest.get(..close)?;
    if level.is_empty() || !level.bytes().all(|c| c.is_ascii_alphanumeric() || c == b' ' || c == b'_') {
        return None;
    }
    let rest = rest.get(close + 1..)?.strip_prefix('\t')?;
    if rest.as_bytes().get(10) != Some(&b'T') {
        return None;
    }
    let (time, rest) = rest.split_once('\t')?;
    let time_ns = parse_timestamp(time)?;
    let (id, message) = rest.split_once('\t')?;
    let request_id = match id {
        "" => None,
        id if is_request_id(id) => Some(id),
        _ => return None,
    };
    Some(Prefix { runtime: Runtime::Python, time_ns: Some(time_ns), request_id, level: Some(level), message })
}

/// `[<LEVEL>] <message>`: Java's `LambdaLogger` when given a level, and the error line the Python runtime writes
/// for an import failure or an unhandled exception (`[ERROR] Runtime.ImportModuleError: …`, then a traceback).
fn bracketed_level(line: &str) -> Option<Prefix<'_>> {
    let rest = line.strip_prefix('[')?;
    let (level, message) = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        .into_iter()
        .find_map(|word| rest.strip_prefix(word)?.strip_prefix("] ").map(|message| (word, message)))?;
    // Python's error line always carries a traceback header (it is printed even for an empty stack), and the
    // runtime's own error types start with `Runtime.`; Java's `LambdaLogger` writes neither.
    let python =
        level == "ERROR" && (message.starts_with("Runtime.") || message.contains("Traceback (most recent call last):"));
    let runtime = if python { Runtime::Python } else { Runtime::Java };
    Some(Prefix { runtime, time_ns: None, request_id: None, level: Some(level), message })
}

/// log4j2's `LambdaAppender` with the pattern AWS documents: `%d{yyyy-MM-dd HH:mm:ss} %X{AWSRequestId} %-5p
/// %c{1} - %m%n`. The request id is empty outside an invocation, and patterns without it or with milliseconds
/// are common variations, so they are read too. The logger (`%c{1} - `, or `%c{1}:%L - `) stays in the message:
/// [`Prefix`] has nowhere else to keep it, and dropping it would lose it.
fn log4j(line: &str) -> Option<Prefix<'_>> {
    let b = line.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[10] != b' ' {
        return None;
    }
    let end = fraction_end(b, 19);
    if b.get(end) != Some(&b' ') {
        return None;
    }
    let time_ns = parse_timestamp(line.get(..end)?)?;
    let rest = line.get(end + 1..)?;
    let (request_id, rest) = match rest.split_once(' ') {
        Some(("", after)) => (None, after),
        Some((id, after)) if is_request_id(id) => (Some(id), after),
        // No `%X{AWSRequestId}` in the pattern: the level comes straight after the time.
        _ => (None, rest),
    };
    let (level, message) = left_aligned_level(rest)?;
    Some(Prefix { runtime: Runtime::Java, time_ns: Some(time_ns), request_id, level: Some(level), message })
}

/// `%-5p `: the level padded with spaces to five characters, then the pattern's own space.
fn left_aligned_level(s: &str) -> Option<(&str, &str)> {
    let word = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].into_iter().find(|w| s.starts_with(w))?;
    let pad = 5usize.saturating_sub(word.len()) + 1;
    let spaces = s.get(word.len()..word.len() + pad)?;
    if !spaces.bytes().all(|c| c == b' ') {
        return None;
    }
    Some((word, s.get(word.len() + pad..)?))
}

/// Go's `log` package with its default flags: `2024/03/01 12:00:00 message`, or `…12:00:00.123456` with
/// `log.Lmicroseconds`. Lambda runs in UTC, so the local time it prints is UTC.
fn go_log(line: &str) -> Option<Prefix<'_>> {
    let b = line.as_bytes();
    if b.len() < 20 || b[4] != b'/' || b[10] != b' ' {
        return None;
    }
    let end = fraction_end(b, 19);
    if b.get(end) != Some(&b' ') {
        return None;
    }
    let time_ns = parse_timestamp(line.get(..end)?)?;
    let message = line.get(end + 1..)?;
    Some(Prefix { runtime: Runtime::Go, time_ns: Some(time_ns), request_id: None, level: None, message })
}

/// Ruby's `Logger` as the Lambda runtime formats it:
/// `%<sev>s, [%<datetime>s #%<process>d] %<severity>5s %<request_id>s -- %<progname>s: %<msg>s`.
/// Ruby's stock format (no request id) is read as well. A progname, when there is one, stays in the message
/// (`billing: card declined`) for the same reason log4j's logger does.
fn ruby(line: &str) -> Option<Prefix<'_>> {
    let letter = *line.as_bytes().first()?;
    let rest = line.get(1..)?.strip_prefix(", [")?;
    let hash = rest.bytes().take(48).position(|c| c == b'#')?;
    // Older Rubies put a space after the time themselves, so there may be two before `#`.
    let time_ns = parse_timestamp(rest.get(..hash)?.trim_end_matches(' '))?;
    let rest = rest.get(hash + 1..)?;
    let pid_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if pid_len == 0 {
        return None;
    }
    // `%5s` right-aligns the severity, so up to four spaces precede it.
    let rest = rest.get(pid_len..)?.strip_prefix("] ")?.trim_start_matches(' ');
    let level_len = rest.bytes().take_while(u8::is_ascii_uppercase).count();
    let level = rest.get(..level_len)?;
    if !matches!(level, "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL" | "ANY") || level.as_bytes()[0] != letter {
        return None;
    }
    let rest = rest.get(level_len..)?.strip_prefix(' ')?;
    let (request_id, rest) = if let Some(after) = rest.strip_prefix("-- ") {
        (None, after)
    } else if let Some(after) = rest.strip_prefix(" -- ") {
        // The Lambda format with no request id yet (during init).
        (None, after)
    } else {
        let (id, after) = rest.split_once(' ')?;
        if !is_request_id(id) {
            return None;
        }
        (Some(id), after.strip_prefix("-- ")?)
    };
    let message = rest.strip_prefix(": ").unwrap_or(rest);
    Some(Prefix { runtime: Runtime::Ruby, time_ns: Some(time_ns), request_id, level: Some(level), message })
}

/// Index just past an optional `.123` / `,123` fraction starting at `at`.
fn fraction_end(b: &[u8], at: usize) -> usize {
    match b.get(at) {
        Some(b'.' | b',') => {
            at + 1 + b.get(at + 1..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
        }
        _ => at,
    }
}

/// A Lambda request id: a UUID's 8-4-4-4-12 shape. Letters outside hex are allowed because AWS's published
/// examples anonymise ids that way (`6bc28136-xmpl-4365-…`), and such samples end up in test fixtures.
fn is_request_id(s: &str) -> bool {
    let Ok(b) = <&[u8; 36]>::try_from(s.as_bytes()) else { return false };
    // No early exit: over a fixed length the compiler checks the bytes many at a time.
    b.iter().zip(UUID_DASHES).fold(true, |ok, (c, dash)| ok & if dash { *c == b'-' } else { c.is_ascii_alphanumeric() })
}

/// Where a UUID's dashes stand.
const UUID_DASHES: [bool; 36] = {
    let mut dashes = [false; 36];
    dashes[8] = true;
    dashes[13] = true;
    dashes[18] = true;
    dashes[23] = true;
    dashes
};

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RID: &str = "8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f";
    /// 2024-03-01T12:00:00Z
    const BASE: u64 = 1_709_294_400_000_000_000;

    fn p<'a>(
        runtime: Runtime,
        time_ns: Option<u64>,
        request_id: Option<&'a str>,
        level: Option<&'a str>,
        message: &'a str,
    ) -> Option<Prefix<'a>> {
        Some(Prefix { runtime, time_ns, request_id, level, message })
    }

    #[test]
    fn reads_every_runtime_shape() {
        let ms = |n: u64| Some(BASE + n * 1_000_000);
        let cases: Vec<(String, Option<Prefix<'static>>)> = vec![
            // Node.js
            (
                format!("2024-03-01T12:00:00.123Z\t{RID}\tINFO\thello world"),
                p(Runtime::Node, ms(123), Some(RID), Some("INFO"), "hello world"),
            ),
            (
                format!("2024-03-01T12:00:00.123Z\t{RID}\tWARN\t  indented\tand tabbed  "),
                p(Runtime::Node, ms(123), Some(RID), Some("WARN"), "  indented\tand tabbed  "),
            ),
            (
                format!("2024-03-01T12:00:00.000Z\t{RID}\tFATAL\t"),
                p(Runtime::Node, ms(0), Some(RID), Some("FATAL"), ""),
            ),
            (
                "2024-03-01T12:00:00.001Z\tundefined\tINFO\tloading config".into(),
                p(Runtime::Node, ms(1), None, Some("INFO"), "loading config"),
            ),
            (
                format!("2024-03-01T12:00:00.123Z\t{RID}\tlegacy runtime line"),
                p(Runtime::Node, ms(123), Some(RID), None, "legacy runtime line"),
            ),
            (
                format!(
                    "2024-03-01T12:00:00.123Z\t{RID}\tERROR\tInvoke Error \t{{\"errorType\":\"Error\",\"errorMessage\":\"boom\"}}"
                ),
                p(
                    Runtime::Node,
                    ms(123),
                    Some(RID),
                    Some("ERROR"),
                    "Invoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\"}",
                ),
            ),
            (
                "2024-03-01T12:00:00.123Z\tundefined\tERROR\tUncaught Exception \t{\"errorType\":\"TypeError\"}".into(),
                p(Runtime::Node, ms(123), None, Some("ERROR"), "Uncaught Exception \t{\"errorType\":\"TypeError\"}"),
            ),
            (
                format!("2024-03-01T12:00:00.123Z\t{RID}\tINFO\t{{\"a\":1}}"),
                p(Runtime::Node, ms(123), Some(RID), Some("INFO"), "{\"a\":1}"),
            ),
            // .NET
            (
                format!("2024-03-01T12:00:00.123Z\t{RID}\tinfo\tProcessing order 42"),
                p(Runtime::DotNet, ms(123), Some(RID), Some("info"), "Processing order 42"),
            ),
            (
                format!("2024-03-01T12:00:00.123Z\t{RID}\tfail\tSystem.Exception: boom"),
                p(Runtime::DotNet, ms(123), Some(RID), Some("fail"), "System.Exception: boom"),
            ),
            (
                "2024-03-01T12:00:00.123Z\t\tcrit\tstartup failed".into(),
                p(Runtime::DotNet, ms(123), None, Some("crit"), "startup failed"),
            ),
            ("2024-03-01T12:00:00.123Z\t\tno level".into(), p(Runtime::DotNet, ms(123), None, None, "no level")),
            // Python
            (
                format!("[INFO]\t2024-03-01T12:00:00.123Z\t{RID}\thello"),
                p(Runtime::Python, ms(123), Some(RID), Some("INFO"), "hello"),
            ),
            (
                format!("[WARNING]\t2024-03-01T12:00:00.123Z\t{RID}\t{{'key': 'value'}}"),
                p(Runtime::Python, ms(123), Some(RID), Some("WARNING"), "{'key': 'value'}"),
            ),
            (
                "[CRITICAL]\t2024-03-01T12:00:00.123Z\t\tduring init".into(),
                p(Runtime::Python, ms(123), None, Some("CRITICAL"), "during init"),
            ),
            (
                "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'x'".into(),
                p(
                    Runtime::Python,
                    None,
                    None,
                    Some("ERROR"),
                    "Runtime.ImportModuleError: Unable to import module 'app': No module named 'x'",
                ),
            ),
            (
                "[ERROR] KeyError: 'id'\rTraceback (most recent call last):\r\u{a0}\u{a0}File \"/var/task/app.py\"".into(),
                p(
                    Runtime::Python,
                    None,
                    None,
                    Some("ERROR"),
                    "KeyError: 'id'\rTraceback (most recent call last):\r\u{a0}\u{a0}File \"/var/task/app.py\"",
                ),
            ),
            // Java
            (
                format!("2024-03-01 12:00:00 {RID} INFO  Handler - ENVIRONMENT VARIABLES:"),
                p(Runtime::Java, ms(0), Some(RID), Some("INFO"), "Handler - ENVIRONMENT VARIABLES:"),
            ),
            (
                format!("2024-03-01 12:00:00 {RID} ERROR Hello:23 - log data from log4j err."),
                p(Runtime::Java, ms(0), Some(RID), Some("ERROR"), "Hello:23 - log data from log4j err."),
            ),
            (
                "2024-03-01 12:00:00  WARN  Init - no request yet".into(),
                p(Runtime::Java, ms(0), None, Some("WARN"), "Init - no request yet"),
            ),
            (
                "2024-03-01 12:00:00,250 DEBUG App - with millis, no request id".into(),
                p(Runtime::Java, ms(250), None, Some("DEBUG"), "App - with millis, no request id"),
            ),
            (
                format!("2024-03-01 12:00:00 {RID} INFO  custom pattern without a logger"),
                p(Runtime::Java, ms(0), Some(RID), Some("INFO"), "custom pattern without a logger"),
            ),
            ("[INFO] from LambdaLogger".into(), p(Runtime::Java, None, None, Some("INFO"), "from LambdaLogger")),
            ("[ERROR] java.lang.RuntimeException: boom".into(), {
                p(Runtime::Java, None, None, Some("ERROR"), "java.lang.RuntimeException: boom")
            }),
            // Ruby
            (
                format!("I, [2024-03-01T12:00:00.123456 #8]  INFO {RID} -- : ## EVENT"),
                p(Runtime::Ruby, Some(BASE + 123_456_000), Some(RID), Some("INFO"), "## EVENT"),
            ),
            (
                format!("E, [2024-03-01T12:00:00.000001 #8] ERROR {RID} -- orders: failed: timeout"),
                p(Runtime::Ruby, Some(BASE + 1_000), Some(RID), Some("ERROR"), "orders: failed: timeout"),
            ),
            (
                "W, [2024-03-01T12:00:00.000000 #12]  WARN  -- : before the first request".into(),
                p(Runtime::Ruby, ms(0), None, Some("WARN"), "before the first request"),
            ),
            (
                "D, [2024-03-01T12:00:00.000000 #12] DEBUG -- app: stock Logger format".into(),
                p(Runtime::Ruby, ms(0), None, Some("DEBUG"), "app: stock Logger format"),
            ),
            // Go
            ("2024/03/01 12:00:00 EVENT: {".into(), p(Runtime::Go, ms(0), None, None, "EVENT: {")),
            (
                "2024/03/01 12:00:00.123456 with microseconds".into(),
                p(Runtime::Go, Some(BASE + 123_456_000), None, None, "with microseconds"),
            ),
            ("2024/03/01 12:00:00 ".into(), p(Runtime::Go, ms(0), None, None, "")),
        ];
        for (line, want) in &cases {
            assert_eq!(strip(line), *want, "{line:?}");
        }
    }

    #[test]
    fn leaves_other_lines_alone() {
        let lines = [
            // Lambda platform lines, text format.
            format!("START RequestId: {RID} Version: $LATEST"),
            format!("END RequestId: {RID}"),
            format!("REPORT RequestId: {RID}\tDuration: 2.75 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB"),
            format!("2024-03-01T12:00:03.012Z {RID} Task timed out after 3.00 seconds"),
            format!("RequestId: {RID} Error: Runtime exited with error: signal: killed"),
            "INIT_START Runtime Version: nodejs:20.v13\tRuntime Version ARN: arn:aws:lambda:…".into(),
            "EXTENSION\tName: datadog-agent\tState: Ready\tEvents: [INVOKE, SHUTDOWN]".into(),
            "XRAY TraceId: 1-5e34a614-10bdxmplf1fb44f07bc535a1\tSegmentId: 07f5xmpl2d1f6f85\tSampled: true".into(),
            // JSON and metric lines.
            format!("{{\"timestamp\":\"2024-03-01T12:00:00.123Z\",\"level\":\"INFO\",\"requestId\":\"{RID}\"}}"),
            "[1, 2, 3]".into(),
            "MONITORING|1709294400|1|count|orders.placed|#env:prod".into(),
            // Plain text and near misses.
            "hello world".into(),
            String::new(),
            "2024".into(),
            "2024-03-01T12:00:00.123Z".into(),
            "2024-03-01T12:00:00.123Z\tnot-a-request-id\tINFO\tmessage".into(),
            format!("2024-03-01T12:00:00.123Z\t{RID}"),
            format!("2024-13-01T12:00:00.123Z\t{RID}\tINFO\tbad month"),
            format!("2024-03-01 12:00:00 {RID} NOTICE Handler - unknown level"),
            "2024-03-01 12:00:00 just a sentence with a date".into(),
            "2024/03/01 no time".into(),
            "2024/03/01 12:00:00message".into(),
            "[INFO]\tno time\there".into(),
            "[INFO]\t2024-03-01T12:00:00.123Z\tnot-an-id\tmessage".into(),
            "[INFO]no space".into(),
            "[NOTICE] unknown level".into(),
            "[info] lower case".into(),
            "I, [not a time #8]  INFO -- : x".into(),
            "I, [2024-03-01T12:00:00.123456 #8]  WARN -- : letter and word disagree".into(),
            format!("I, [2024-03-01T12:00:00.123456 #8]  INFO {RID}x -- : long id"),
            "Error: something went wrong".into(),
            "INFO something".into(),
        ];
        for line in &lines {
            assert_eq!(strip(line), None, "{line:?}");
        }
    }

    #[test]
    fn request_ids_are_uuid_shaped() {
        assert!(is_request_id(RID));
        assert!(is_request_id("6bc28136-xmpl-4365-b021-0ce6b2e64ab0"));
        assert!(!is_request_id("8f5c1c4e2b2a4b4e9d8e0a1b2c3d4e5f"));
        assert!(!is_request_id("8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5"));
        assert!(!is_request_id("8f5c1c4e-2b2a-4b4e-9d8e_0a1b2c3d4e5f"));
        assert!(!is_request_id("undefined"));
    }

    /// Every level word the runtimes print maps to an OTel severity rather than "unspecified". Ruby's `ANY`
    /// (`Logger#unknown`) is left out: `Severity::parse` does not know it.
    #[test]
    fn every_printed_level_has_a_severity() {
        let words = [
            "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", // Node.js, Java, Ruby
            "trce", "dbug", "info", "warn", "fail", "crit", // .NET
            "WARNING", "CRITICAL", // Python
            "D", "I", "W", "E", "F", // Ruby's letters
        ];
        for word in words {
            assert_ne!(crate::telemetry::Severity::parse(word).number, 0, "{word}");
        }
    }

    #[test]
    fn snapshot_of_realistic_lines() {
        let lines = [
            "2024-03-01T12:00:00.001Z\tundefined\tINFO\tcold start: loading config",
            "2024-03-01T12:00:00.123Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\tENVIRONMENT VARIABLES\r{\r  \"AWS_REGION\": \"eu-west-1\"\r}",
            "2024-03-01T12:00:00.124Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tWARN\tEvent not processed.",
            "2024-03-01T12:00:00.125Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tERROR\tInvoke Error \t{\"errorType\":\"Error\",\"errorMessage\":\"boom\",\"stack\":[\"Error: boom\",\"    at Runtime.handler (/var/task/index.js:3:9)\"]}",
            "2024-03-01T12:00:00.126Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tINFO\t{\"orderId\":42,\"status\":\"placed\"}",
            "2024-03-01T12:00:00.127Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tdbug\tCache miss for key orders/42",
            "2024-03-01T12:00:00.128Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tfail\tSystem.InvalidOperationException: Sequence contains no elements\n   at System.Linq.ThrowHelper.ThrowNoElementsException()",
            "[INFO]\t2024-03-01T12:00:00.129Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\t## EVENT",
            "[WARNING]\t2024-03-01T12:00:00.130Z\t\tunhandled exception warning during init",
            "[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named 'requests'\rTraceback (most recent call last):",
            "2024-03-01 12:00:01 8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f INFO  Handler - CONTEXT: {\"memoryLimit\": 512}",
            "2024-03-01 12:00:01 8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f TRACE OrderService:118 - entering place()",
            "[FATAL] out of heap",
            "I, [2024-03-01T12:00:02.689856 #8]  INFO 8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f -- : {\"key1\"=>\"value1\"}",
            "F, [2024-03-01T12:00:02.689874 #8] FATAL 8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f -- billing: card declined",
            "2024/03/01 12:00:03 REGION: eu-west-1",
            "2024/03/01 12:00:03.000250 main.go:42: connected",
        ];
        let stripped: Vec<_> = lines.iter().map(|l| strip(l)).collect();
        insta::assert_debug_snapshot!(stripped);
    }

    /// Fragments that start each shape, so random tails explore the parsers' edges rather than plain text.
    fn shaped_line() -> impl Strategy<Value = String> {
        let heads = prop_oneof![
            Just("2024-03-01T12:00:00.123Z\t"),
            Just("2024-03-01T12:00:00.123Z\t8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\t"),
            Just("2024-03-01T12:00:00.123Z\tundefined\tINFO\t"),
            Just("[INFO]\t2024-03-01T12:00:00.123Z\t"),
            Just("[ERROR] "),
            Just("2024-03-01 12:00:00 "),
            Just("2024-03-01 12:00:00 8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f INFO "),
            Just("2024/03/01 12:00:00"),
            Just("I, [2024-03-01T12:00:00.123456 #8] "),
            Just("I, [2024-03-01T12:00:00.123456 #8]  INFO "),
            Just(""),
        ];
        (heads, any::<String>()).prop_map(|(head, tail)| format!("{head}{tail}"))
    }

    /// Node.js lines and their near misses, piece by piece.
    fn node_line() -> impl Strategy<Value = String> {
        let time = prop_oneof![
            4 => Just("2024-03-01T12:00:00.123Z".to_owned()),
            1 => prop::sample::select(vec![
                "2024-13-01T12:00:00.123Z",
                "2024-03-01T12:00:00.12Z",
                "2024-03-01T12:00:00.1234Z",
                "2024-03-01T12:00:00Z\tab",
                "2024-03-01T12:00:00.12\tZ",
                "2024-03-01T12:00:00+0100",
            ])
            .prop_map(str::to_owned),
        ];
        let id = prop_oneof![
            4 => Just(RID.to_owned()),
            2 => "[a-z0-9-]{36}",
            1 => "[a-z0-9\t-]{30,40}",
            1 => prop::sample::select(vec!["undefined", "", "8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f\tx"]).prop_map(str::to_owned),
        ];
        let level = prop_oneof![
            prop::sample::select(vec![
                "INFO\t", "ERROR\t", "warn\t", "crit\t", "INF\t", "INFOS\t", "\t", "", "INFO", "in\tfo\t"
            ])
            .prop_map(str::to_owned),
            "[A-Za-z\t]{0,7}",
        ];
        (time, id, level, any::<String>()).prop_map(|(time, id, level, tail)| format!("{time}\t{id}\t{level}{tail}"))
    }

    proptest! {
        #[test]
        fn in_invocation_is_tabbed_in_any_width(line in node_line()) {
            if let Some(prefix) = in_invocation(&line) {
                prop_assert_eq!(Some(prefix), tabbed_in_any_width(&line));
            }
            prop_assert_eq!(tabbed(&line), tabbed_in_any_width(&line));
        }

        #[test]
        fn is_request_id_is_the_uuid_shape(s in "[a-zA-Z0-9-]{36}|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}|.{34,38}") {
            let b = s.as_bytes();
            let uuid_shaped = b.len() == 36
                && b.iter().enumerate().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) { *c == b'-' } else { c.is_ascii_alphanumeric() }
                });
            prop_assert_eq!(is_request_id(&s), uuid_shaped);
        }
    }

    proptest! {
        #[test]
        fn strip_never_panics_and_keeps_the_message_a_suffix(line in shaped_line()) {
            if let Some(prefix) = strip(&line) {
                prop_assert!(line.ends_with(prefix.message));
                // The message is the line's own tail, not a copy.
                let end = line.as_ptr() as usize + line.len();
                prop_assert_eq!(prefix.message.as_ptr() as usize + prefix.message.len(), end);
            }
        }

        #[test]
        fn strip_never_panics_on_any_string(line in any::<String>()) {
            if let Some(prefix) = strip(&line) {
                prop_assert!(line.ends_with(prefix.message));
            }
        }
    }
}
