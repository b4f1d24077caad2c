//! Golden end-to-end tests: every bundled fixture through `logship replay`, output pinned.
//!
//! Small fixtures pin the whole OTLP/JSON output (pretty-printed so a diff reads); the large ones pin their
//! stats and a digest of the output, so an optimisation that changes one byte of output fails here.

use std::process::Command;

fn replay(path: &std::path::Path, extra: &[&str]) -> (String, String, bool) {
    let out = Command::new(env!("CARGO_BIN_EXE_logship"))
        .arg("replay")
        .arg(path)
        .args(extra)
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args(["--region", "eu-west-1"])
        .output()
        .expect("logship runs");
    (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap(), out.status.success())
}

fn pretty(otlp_lines: &str) -> String {
    otlp_lines
        .lines()
        .map(|l| {
            let v: sonic_rs::Value = sonic_rs::from_str(l).expect("each line is JSON");
            sonic_rs::to_string_pretty(&v).unwrap()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// FNV-1a, enough to notice any change in output.
fn digest(s: &str) -> String {
    let h = s.bytes().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3));
    format!("{h:016x}")
}

const LARGE: &[&str] = &["big-1mib", "typical-1000", "json-format-1000"];

#[test]
fn every_fixture_replays_to_its_golden_output() {
    for path in crate::fixtures("events") {
        let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let (stdout, stderr, ok) = replay(&path, &["--stats"]);
        assert!(ok, "{name}: {stderr}");
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_suffix(name.clone());
        settings.set_prepend_module_to_snapshot(false);
        settings.bind(|| {
            if LARGE.contains(&name.as_str()) {
                insta::assert_snapshot!(
                    "large",
                    format!("{stderr}\nbytes {} digest {}", stdout.len(), digest(&stdout))
                );
            } else {
                insta::assert_snapshot!("stats", stderr);
                insta::assert_snapshot!("otlp", pretty(&stdout));
            }
        });
    }
}

#[test]
fn waterfall_of_the_node_fixture() {
    let path = crate::fixtures("events").into_iter().find(|p| p.ends_with("node-text.json")).expect("node fixture");
    let (stdout, stderr, ok) = replay(&path, &["--view", "waterfall", "--color", "never"]);
    assert!(ok, "{stderr}");
    insta::assert_snapshot!(stdout);
}
