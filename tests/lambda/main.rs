//! The Lambda binaries as Lambda runs them: bootstrap processes polling a real Runtime API emulator (cargo-lambda's).
//!
//! `.ci/services.sh` starts the emulator (`cargo-lambda lambda watch --only-lambda-apis`) next to rotel and moto;
//! each test declares a function of its own in it, starts the shipper or the subscriber as that function's
//! bootstrap, invokes it through the emulator's Invoke API, and checks what came back and what it did.
//! [`emulator`] finds the emulator, [`bootstrap`] runs a binary as a bootstrap, [`proxy`] sits between the two (see
//! there for why); [`shipper`] adds the shipper's summary lines. [`invocations`] holds the shipper's tests,
//! [`subscriber`] the subscriber's, against moto.

// A failed unwrap is how a test helper reports a broken fixture or a missing binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bootstrap;
mod emulator;
// The integration tests' scripted HTTP server, shared rather than written twice.
#[allow(dead_code)]
#[path = "../it/fault_server.rs"]
mod fault_server;
mod http;
mod invocations;
mod proxy;
// The rotel log parser of the `it` tests, shared rather than written twice; its own test runs here too.
#[path = "../it/rotel.rs"]
mod rotel;
mod shipper;
mod subscriber;

// Shared with the other integration test binary rather than written twice.
#[allow(dead_code)]
#[path = "../common/fixtures.rs"]
mod common_fixtures;
pub use common_fixtures::{fixture, fixtures};

/// Whether tests that need the services may skip, the rule `Rotel::require` follows too.
pub fn skipping_services() -> bool {
    std::env::var("LOGSHIP_SKIP_SERVICES").is_ok_and(|v| v == "1")
}

/// moto's endpoint, with the rule of `Rotel::require` and `Emulator::require`.
pub fn moto(test: &str) -> Option<String> {
    if let Some(endpoint) = std::env::var("LOGSHIP_TEST_MOTO_ENDPOINT").ok().filter(|s| !s.is_empty()) {
        return Some(endpoint);
    }
    if skipping_services() {
        eprintln!("{test}: skipped: LOGSHIP_SKIP_SERVICES=1 and no moto (LOGSHIP_TEST_MOTO_ENDPOINT unset)");
        return None;
    }
    panic!("{test} needs moto and LOGSHIP_TEST_MOTO_ENDPOINT is not set: start the services (`.ci/services.sh start`)");
}

/// A name no other test, and no other run against the same services, uses: TEST, this process, the clock.
pub fn unique(test: &str) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    // Lambda function names stop at 64 characters: the low 32 bits of the clock are unique enough with the pid.
    format!("logship-{test}-{}-{:08x}", std::process::id(), nanos as u32)
}
