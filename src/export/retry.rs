//! Retry shared by every backend: exponential backoff with full jitter, `Retry-After`, and a deadline that wins.

use std::time::{Duration, SystemTime};

/// What a backend made of one response; the delivery loop acts on it the same way for every backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Accepted. `rejected` items were refused for good (OTLP partial success, Honeycomb per-event errors).
    Delivered { rejected: u64, message: Option<String> },
    /// Worth another try, not before `after` when the server said so.
    Retry { after: Option<Duration>, reason: String },
    /// The body was too big (413): split the batch and send the halves.
    TooLarge { reason: String },
    /// Sending again cannot help (400, 401, 403…).
    Permanent { reason: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// The cap of the first backoff; each attempt doubles it.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts per request, the first included; the deadline usually ends retrying first.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (0 for the first retry): uniformly random up to the exponential cap
    /// ("full jitter"), so many shippers retrying one backend spread out instead of arriving together.
    pub fn backoff(&self, retry: u32) -> Duration {
        let cap = self
            .initial_backoff
            .saturating_mul(1u32.checked_shl(retry.min(31)).unwrap_or(u32::MAX))
            .min(self.max_backoff);
        let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }

    /// The wait before the next attempt: the server's word when it gave one, else the jittered backoff.
    pub fn delay(&self, retry: u32, server: Option<Duration>) -> Duration {
        server.unwrap_or_else(|| self.backoff(retry))
    }
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3). A date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_by_the_doubling_cap() {
        let p = RetryPolicy::default();
        for retry in 0..40 {
            let cap = (p.initial_backoff * 2u32.saturating_pow(retry.min(20))).min(p.max_backoff);
            for _ in 0..50 {
                assert!(p.backoff(retry) <= cap, "retry {retry}");
            }
        }
        // Full jitter really varies.
        let draws: std::collections::HashSet<Duration> = (0..50).map(|_| p.backoff(5)).collect();
        assert!(draws.len() > 10);
    }

    #[test]
    fn server_delay_wins() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(3, Some(Duration::from_secs(7))), Duration::from_secs(7));
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
