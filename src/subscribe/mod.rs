//! The subscriber: which log groups get logship's subscription filter, and the engine that puts it there.
//!
//! `policy` is the configuration (and the loop guard no setting can lift), `plan` the pure decision per group,
//! `engine` the backfill / one-group / removal runs over the [`LogsApi`] seam, and `request` the invocation
//! payloads and the CloudFormation response. The AWS SDK and `lambda_runtime` stay in `src/bin/subscriber.rs`.

pub mod engine;
pub mod plan;
pub mod policy;
pub mod request;

pub use engine::{backfill, remove, subscribe_group, BackfillReport, Counts, Cursor, GroupOutcome, RunError};
pub use plan::{plan, plan_removal, screen, Action, Removal, SkipReason};
pub use policy::{Destination, Policy, PolicyError, TagFilter};
pub use request::{CustomResourceRequest, Request, RequestError, RequestType, ResponseContext, Status};

use std::collections::BTreeMap;
use std::future::Future;

/// A log group as DescribeLogGroups lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroup {
    pub name: String,
    /// Without the trailing `:*` of the legacy `arn` field: the form ListTagsForResource takes.
    pub arn: String,
}

/// One page of DescribeLogGroups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupPage {
    pub groups: Vec<LogGroup>,
    pub next_token: Option<String>,
}

/// A subscription filter already on a group, as DescribeSubscriptionFilters reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionFilter {
    pub name: String,
    pub destination_arn: String,
    pub filter_pattern: String,
    pub role_arn: Option<String>,
}

/// What PutSubscriptionFilter is asked to create or update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSpec {
    pub name: String,
    pub filter_pattern: String,
    pub destination_arn: String,
    /// Only for destinations CloudWatch Logs must assume a role to write to (Kinesis); never for Lambda.
    pub role_arn: Option<String>,
}

/// A log group's tags.
pub type Tags = BTreeMap<String, String>;

/// How the engine treats a failed call; the AWS implementation maps error codes with [`ApiErrorKind::from_code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiErrorKind {
    /// The request rate was too high: retried with backoff.
    Throttled,
    /// `LimitExceededException`: a rate limit from a describe or list call, the two-filter limit from
    /// PutSubscriptionFilter. The engine reads it by the call it came from.
    LimitExceeded,
    /// The log group (or filter) does not exist (any more).
    NotFound,
    /// The service could not answer now (unavailable, a conflicting concurrent update, a timeout): retried.
    Unavailable,
    /// Anything else: access denied, invalid parameters. Not retried.
    Other,
}

impl ApiErrorKind {
    /// The kind of a CloudWatch Logs error code (`ThrottlingException`, `LimitExceededException`, …).
    pub fn from_code(code: &str) -> ApiErrorKind {
        match code {
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded" => {
                ApiErrorKind::Throttled
            }
            "LimitExceededException" => ApiErrorKind::LimitExceeded,
            "ResourceNotFoundException" => ApiErrorKind::NotFound,
            "ServiceUnavailableException" | "ServiceUnavailable" | "OperationAbortedException" | "InternalFailure" => {
                ApiErrorKind::Unavailable
            }
            _ => ApiErrorKind::Other,
        }
    }
}

/// A failed CloudWatch Logs call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub kind: ApiErrorKind,
    /// The error code and message as the service gave them; printed as they are.
    pub message: String,
}

impl ApiError {
    pub fn new(kind: ApiErrorKind, message: impl Into<String>) -> ApiError {
        ApiError { kind, message: message.into() }
    }
}

/// The CloudWatch Logs calls the subscriber makes. The Lambda binary implements it with the AWS SDK; tests with an
/// in-memory fake. Every call is made once: retrying is the engine's job, with the project's one backoff policy.
pub trait LogsApi {
    /// One page of DescribeLogGroups, optionally by name prefix.
    fn list_groups(
        &self,
        prefix: Option<&str>,
        next_token: Option<&str>,
    ) -> impl Future<Output = Result<GroupPage, ApiError>> + Send;

    /// DescribeSubscriptionFilters of one group (a group has at most two).
    fn describe_filters(&self, group: &str) -> impl Future<Output = Result<Vec<SubscriptionFilter>, ApiError>> + Send;

    /// PutSubscriptionFilter: creates the filter, or replaces the one of the same name.
    fn put_filter(&self, group: &str, filter: &FilterSpec) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// DeleteSubscriptionFilter.
    fn delete_filter(&self, group: &str, filter_name: &str) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The tags of a log group, by its ARN (ListTagsForResource).
    fn list_tags(&self, group_arn: &str) -> impl Future<Output = Result<Tags, ApiError>> + Send;
}

#[cfg(test)]
pub(crate) mod fake;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_map_to_what_the_engine_does_with_them() {
        let cases = [
            ("ThrottlingException", ApiErrorKind::Throttled),
            ("LimitExceededException", ApiErrorKind::LimitExceeded),
            ("ResourceNotFoundException", ApiErrorKind::NotFound),
            ("ServiceUnavailableException", ApiErrorKind::Unavailable),
            ("OperationAbortedException", ApiErrorKind::Unavailable),
            ("AccessDeniedException", ApiErrorKind::Other),
            ("InvalidParameterException", ApiErrorKind::Other),
        ];
        for (code, kind) in cases {
            assert_eq!(ApiErrorKind::from_code(code), kind, "{code}");
        }
    }
}
