//! What both Lambda binaries share: their own log output as JSON lines, and the invocation's time budget.

use lambda_runtime::tracing::subscriber::filter::LevelFilter;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// JSON lines on stdout (the function's own log group), one object per event with its fields at the top level,
/// so CloudWatch Logs Insights and metric filters read them without parsing text. The level comes from Lambda's
/// advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`), else `RUST_LOG`, else INFO. Lambda stamps every line with
/// its own timestamp, so none is written.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    lambda_runtime::tracing::subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .without_time()
        .with_max_level(level)
        .with_writer(std::io::stdout)
        .init();
}

/// Epoch milliseconds pass 10^12 in September 2001: a smaller "deadline" is no point in time.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The invocation's deadline (epoch milliseconds from the runtime API) less the margin kept for reporting.
/// A runtime API emulator may send the function's timeout instead (cargo-lambda's does); read as a date that would
/// leave no time at all, so it is taken as the time left.
pub fn deadline(deadline_ms: u64, margin: Duration) -> Instant {
    let remaining = if deadline_ms < EPOCH_MS_FLOOR {
        Duration::from_millis(deadline_ms)
    } else {
        Duration::from_millis(deadline_ms.saturating_sub(now_ms()))
    };
    Instant::now() + remaining.saturating_sub(margin)
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_an_epoch_time_or_the_time_left() {
        let margin = Duration::from_millis(500);
        let left = deadline(now_ms() + 10_000, margin) - Instant::now();
        assert!(left > Duration::from_millis(9_000) && left <= Duration::from_millis(9_500), "{left:?}");
        let left = deadline(600_000, margin) - Instant::now();
        assert!(left > Duration::from_millis(599_000) && left <= Duration::from_millis(599_500), "{left:?}");
        assert!(deadline(now_ms() - 1_000, margin) <= Instant::now(), "a passed deadline leaves nothing");
    }
}
