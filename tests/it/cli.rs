//! The CLI's contract: exit codes, error messages naming the failing step, and output placement.

use std::io::Write;
use std::process::{Command, Stdio};

fn logship(args: &[&str], stdin: Option<&[u8]>) -> (String, String, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_logship"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("logship runs");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.code().unwrap_or(-1))
}

#[test]
fn bad_payloads_fail_with_the_step_that_failed() {
    let cases = [
        ("not-base64.json", "awslogs.data: not valid base64"),
        ("not-gzip.json", "awslogs.data: not gzip data"),
        ("bomb.json", "exceeds the 16777216-byte cap"),
        ("not-json.json", "inflated data is not CloudWatch Logs data"),
        ("wrong-shape.json", "body is not a CloudWatch Logs subscription event"),
    ];
    let dir = crate::fixtures("bad");
    for (file, want) in cases {
        let path = dir.iter().find(|p| p.ends_with(file)).unwrap_or_else(|| panic!("fixtures/bad/{file} missing"));
        let (stdout, stderr, code) = logship(&["replay", path.to_str().unwrap()], None);
        assert_eq!(code, 1, "{file}: {stderr}");
        assert!(stderr.contains(want), "{file}: {stderr:?} should say {want:?}");
        assert!(stderr.contains(file), "{file}: the error names the file: {stderr:?}");
        assert!(stdout.is_empty(), "{file}: nothing on stdout");
    }
}

#[test]
fn a_bad_event_does_not_stop_the_good_ones() {
    let good = crate::fixtures("events").into_iter().find(|p| p.ends_with("node-text.json")).unwrap();
    let bad = crate::fixtures("bad").into_iter().find(|p| p.ends_with("not-gzip.json")).unwrap();
    let (stdout, stderr, code) = logship(&["replay", bad.to_str().unwrap(), good.to_str().unwrap()], None);
    assert_eq!(code, 1);
    assert!(stderr.contains("not-gzip.json"));
    assert_eq!(stdout.lines().count(), 3, "spans, metrics and logs of the good event");
}

#[test]
fn reads_stdin_and_json_lines_of_events() {
    let one = crate::awslogs_event(
        r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/lambda/a","logStream":"2026/11/01/[$LATEST]ab","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1793534400000,"message":"hello\n"}]}"#,
    );
    let mut two = one.clone();
    two.push(b'\n');
    two.extend_from_slice(&one);
    two.push(b'\n');
    let (stdout, stderr, code) = logship(&["replay", "-", "--stats"], Some(&two));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout.lines().count(), 2, "one logs request per event");
    assert!(stdout.lines().all(|l| l.starts_with(r#"{"resourceLogs":"#)));
    assert!(stderr.contains("events 2"), "{stderr}");
}

#[test]
fn output_file_gets_otlp_while_stdout_shows_the_waterfall() {
    let good = crate::fixtures("events").into_iter().find(|p| p.ends_with("node-text.json")).unwrap();
    let dir = std::env::temp_dir().join(format!("logship-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("out.jsonl");
    let (stdout, stderr, code) = logship(
        &["replay", good.to_str().unwrap(), "--view", "waterfall", "--color", "never", "-o", file.to_str().unwrap()],
        None,
    );
    assert_eq!(code, 0, "{stderr}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.lines().count(), 3);
    assert!(!stdout.contains("resourceSpans"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_file_is_a_clear_error() {
    let (_, stderr, code) = logship(&["replay", "/nonexistent/event.json"], None);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read /nonexistent/event.json"), "{stderr}");
}
