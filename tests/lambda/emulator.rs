//! The Runtime API emulator `.ci/services.sh` runs (cargo-lambda 1.9.2, `watch --only-lambda-apis`), as it
//! announces itself in `LOGSHIP_TEST_LAMBDA_*`, and the functions a test declares in it.
//!
//! The emulator takes invocations only for functions that are binaries of its (stub) project, and finds those in
//! the project's `src/bin/` afresh for a name it does not know: [`Emulator::function`] writes `NAME.rs` there
//! (`LOGSHIP_TEST_LAMBDA_FUNCTIONS`) and [`Function`]'s drop deletes it. A name of its own per test keeps tests,
//! and test runs sharing one emulator, from picking up each other's invocations.

use crate::http::{request, split_url, Message};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Emulator {
    /// `http://127.0.0.1:PORT/.rt`: function NAME's Runtime API is this + `/NAME`.
    runtime_api: String,
    /// `http://127.0.0.1:PORT/2015-03-31/functions`: NAME is invoked at this + `/NAME/invocations`.
    invoke_url: String,
    functions: PathBuf,
    log: Option<PathBuf>,
}

impl Emulator {
    /// `None` when the services are not running (the variables are unset).
    pub fn from_env() -> Option<Emulator> {
        let var = |k: &str| std::env::var(k).ok().filter(|s| !s.is_empty());
        Some(Emulator {
            runtime_api: var("LOGSHIP_TEST_LAMBDA_RUNTIME_API")?.trim_end_matches('/').to_owned(),
            invoke_url: var("LOGSHIP_TEST_LAMBDA_INVOKE_URL")?.trim_end_matches('/').to_owned(),
            functions: PathBuf::from(var("LOGSHIP_TEST_LAMBDA_FUNCTIONS")?),
            log: var("LOGSHIP_TEST_LAMBDA_LOG").map(PathBuf::from),
        })
    }

    /// For a test that needs the emulator: the handle, or `None` (the test returns) when `LOGSHIP_SKIP_SERVICES=1`.
    /// Otherwise a missing emulator fails the test, so a CI run without services cannot pass by testing nothing.
    pub fn require(test: &str) -> Option<Emulator> {
        if let Some(emulator) = Emulator::from_env() {
            return Some(emulator);
        }
        if crate::skipping_services() {
            eprintln!("{test}: skipped: LOGSHIP_SKIP_SERVICES=1 and no Lambda emulator (LOGSHIP_TEST_LAMBDA_RUNTIME_API unset)");
            return None;
        }
        panic!(
            "{test} needs the Lambda runtime API emulator, and LOGSHIP_TEST_LAMBDA_RUNTIME_API / \
             LOGSHIP_TEST_LAMBDA_INVOKE_URL / LOGSHIP_TEST_LAMBDA_FUNCTIONS are not set.\n\
             Start the services (`make services` or `.ci/services.sh start`) and export the variables they print:\n\
             \x20   eval \"$(.ci/services.sh start)\"\n\
             or run the tests inside them:  .ci/services.sh run cargo test --features lambda --test lambda\n\
             or skip tests that need them:  LOGSHIP_SKIP_SERVICES=1 cargo test"
        );
    }

    /// Declares a new function in the emulator, named after `test` and unique.
    pub fn function(&self, test: &str) -> Function {
        let name = crate::unique(test);
        let file = self.functions.join(format!("{name}.rs"));
        std::fs::write(
            &file,
            format!("// Declared by the lambda test {test} (pid {}); never built.\n", std::process::id()),
        )
        .unwrap_or_else(|e| {
            panic!("cannot declare function {name} in {}: {e} (is the emulator's project there?)", file.display())
        });
        Function { name, file, emulator: self.clone() }
    }
}

/// A function declared in the emulator; undeclared again when dropped.
#[derive(Debug)]
pub struct Function {
    pub name: String,
    file: PathBuf,
    emulator: Emulator,
}

impl Function {
    /// What its bootstrap gets as `AWS_LAMBDA_RUNTIME_API`: `http://127.0.0.1:PORT/.rt/NAME`.
    pub fn runtime_api(&self) -> String {
        format!("{}/{}", self.emulator.runtime_api, self.name)
    }

    /// Invokes it synchronously (`RequestResponse`) with `payload`, waiting at most `timeout` for the answer.
    pub fn invoke(&self, payload: &[u8], timeout: Duration) -> Invocation {
        let (authority, base) = split_url(&self.emulator.invoke_url);
        let path = format!("{base}/{}/invocations", self.name);
        let started = Instant::now();
        let answer = request(authority, "POST", &path, &[("Content-Type", "application/json")], payload, timeout)
            .unwrap_or_else(|e| {
                panic!(
                    "invoking {} through the emulator at {authority}: {e} (emulator log: {})",
                    self.name,
                    self.emulator.log.as_ref().map_or("unknown".into(), |l| l.display().to_string())
                )
            });
        Invocation { answer, took: started.elapsed() }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// What the Invoke API answered.
#[derive(Debug)]
pub struct Invocation {
    pub answer: Message,
    pub took: Duration,
}

impl Invocation {
    pub fn status(&self) -> u16 {
        self.answer.status()
    }

    pub fn body(&self) -> String {
        self.answer.body_text()
    }

    /// The function's error as the runtime reported it: `(errorType, errorMessage)`.
    pub fn error(&self) -> Option<(String, String)> {
        let v: serde_json::Value = serde_json::from_slice(&self.answer.body).ok()?;
        let field = |k: &str| v.get(k).and_then(|m| m.as_str()).map(str::to_owned);
        Some((field("errorType")?, field("errorMessage")?))
    }
}
