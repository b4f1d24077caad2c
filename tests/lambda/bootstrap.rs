//! A Lambda binary of this crate as a bootstrap child process, in the environment Lambda gives one, output captured.
//!
//! Which file runs is `$LOGSHIP_TEST_<BINARY>_BOOTSTRAP` when set (CI points it at the release `bootstrap` that
//! `cargo lambda build` makes, the artefact that is deployed), else the binary this test target was built with.
//! Its environment is cleared first: nothing of the caller's (`OTEL_*`, `LOGSHIP_*`, AWS profiles or credentials)
//! reaches it, only the variables Lambda sets, dummy credentials, and what the test adds.

use crate::emulator::Function;
use crate::proxy::{Proxy, Seen};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a cold start may take before the test gives up on it (the AWS SDK's config load is the slow part).
const INIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The crate's Lambda binaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binary {
    Shipper,
    Subscriber,
}

impl Binary {
    pub fn name(self) -> &'static str {
        match self {
            Binary::Shipper => "shipper",
            Binary::Subscriber => "subscriber",
        }
    }

    /// The file to run. `env!` takes only a literal, hence one arm per binary.
    pub fn path(self) -> PathBuf {
        let (var, built) = match self {
            Binary::Shipper => ("LOGSHIP_TEST_SHIPPER_BOOTSTRAP", env!("CARGO_BIN_EXE_shipper")),
            Binary::Subscriber => ("LOGSHIP_TEST_SUBSCRIBER_BOOTSTRAP", env!("CARGO_BIN_EXE_subscriber")),
        };
        std::env::var_os(var).filter(|p| !p.is_empty()).map_or_else(|| PathBuf::from(built), PathBuf::from)
    }
}

type Lines = Arc<Mutex<Vec<String>>>;

/// A running bootstrap for one function; killed and reaped when dropped, however the test ends.
#[derive(Debug)]
pub struct Bootstrap {
    binary: Binary,
    child: Child,
    stdout: Lines,
    stderr: Lines,
    /// Between the bootstrap and the emulator, recording its Runtime API calls (see `proxy`).
    runtime: Proxy,
}

impl Bootstrap {
    /// Starts `binary` as the bootstrap of `function`, whose invocations time out after `timeout`, with `env` on top
    /// of Lambda's; returns once init is done (the runtime asked for its first event).
    pub fn start(binary: Binary, function: &Function, timeout: Duration, env: &[(&str, &str)]) -> Bootstrap {
        let api = function.runtime_api();
        let (emulator, path) = crate::http::split_url(&api);
        let runtime = Proxy::start(emulator, Some(timeout));
        let name = function.name.as_str();
        let mut cmd = Command::new(binary.path());
        cmd.env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", format!("{}{path}", runtime.url()))
            .env("AWS_LAMBDA_FUNCTION_NAME", name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}"))
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef")
            .env("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            // What Lambda hands a function is its role's session; dummy here, and never sent anywhere real.
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_SESSION_TOKEN", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("TZ", ":UTC")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start the {} bootstrap {}: {e}", binary.name(), binary.path().display())
        });
        let stdout = collect(child.stdout.take().unwrap());
        let stderr = collect(child.stderr.take().unwrap());
        // Owned before init is awaited, so a failed init still kills the child on the way out.
        let mut bootstrap = Bootstrap { binary, child, stdout, stderr, runtime };
        bootstrap.wait_for_init();
        bootstrap
    }

    fn wait_for_init(&mut self) {
        let deadline = Instant::now() + INIT_TIMEOUT;
        while !self.runtime_calls().iter().any(|s| s.path.ends_with("/runtime/invocation/next")) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the {} exited during init ({status}); {}", self.binary.name(), self.output());
            }
            assert!(
                Instant::now() < deadline,
                "the {} did not finish init in {INIT_TIMEOUT:?}; {}",
                self.binary.name(),
                self.output()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still alive (a Lambda execution environment that can take another event).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Its Runtime API calls so far: `GET …/invocation/next`, `POST …/invocation/ID/response` and so on.
    pub fn runtime_calls(&self) -> Vec<Seen> {
        self.runtime.seen()
    }

    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// The stdout lines that are JSON objects: log lines, EMF summaries, OTLP/JSON export requests.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout().iter().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).collect()
    }

    /// Waits until the JSON lines printed so far satisfy `done`, and returns them: a line is printed before the
    /// invocation's answer is sent, but read from the pipe by another thread, so the answer can arrive first.
    #[track_caller]
    pub fn wait_for_json(&self, what: &str, done: impl Fn(&[serde_json::Value]) -> bool) -> Vec<serde_json::Value> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = self.json_lines();
            if done(&got) {
                return got;
            }
            assert!(Instant::now() < deadline, "no {what} on stdout; {}", self.output());
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Its stdout and stderr so far, for failure messages.
    pub fn output(&self) -> String {
        let name = self.binary.name();
        format!(
            "{name} stdout:\n{}\n{name} stderr:\n{}",
            self.stdout.lock().unwrap().join("\n"),
            self.stderr.lock().unwrap().join("\n")
        )
    }
}

impl Drop for Bootstrap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `pipe` line by line on a thread of its own into a shared list (lines can be megabytes of OTLP/JSON).
fn collect(pipe: impl Read + Send + 'static) -> Lines {
    let lines: Lines = Arc::default();
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}
