//! The shipper bootstrap: a [`Bootstrap`] of the `shipper` binary, and the EMF summary line it prints per invocation.

use crate::bootstrap::{Binary, Bootstrap};
use crate::emulator::Function;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

/// A running shipper bootstrap; everything but the summaries is [`Bootstrap`]'s.
#[derive(Debug)]
pub struct Shipper(Bootstrap);

impl Shipper {
    /// Starts the shipper for `function`, whose invocations time out after `timeout`, with `env` on top of Lambda's;
    /// returns once init is done.
    pub fn start(function: &Function, timeout: Duration, env: &[(&str, &str)]) -> Shipper {
        Shipper(Bootstrap::start(Binary::Shipper, function, timeout, env))
    }

    /// Waits until `n` EMF summary lines are out (one per invocation that got as far as exporting), and returns
    /// them parsed, in order (see [`Bootstrap::wait_for_json`]).
    pub fn wait_for_summaries(&self, n: usize) -> Vec<serde_json::Value> {
        let what = format!("{n} summary lines");
        let lines = self.wait_for_json(&what, |lines| lines.iter().filter(|l| is_summary(l)).count() >= n);
        lines.into_iter().filter(is_summary).collect()
    }
}

fn is_summary(line: &serde_json::Value) -> bool {
    line.get("_aws").is_some()
}

impl Deref for Shipper {
    type Target = Bootstrap;

    fn deref(&self) -> &Bootstrap {
        &self.0
    }
}

impl DerefMut for Shipper {
    fn deref_mut(&mut self) -> &mut Bootstrap {
        &mut self.0
    }
}
