//! Runs the plan against CloudWatch Logs: one new group, a deadline-bounded backfill that hands back a cursor, and
//! removal. Throttling is retried with the project's backoff; one group failing never stops a run.

use crate::subscribe::plan::{self, Action, Removal, SkipReason};
use crate::subscribe::{ApiError, ApiErrorKind, LogGroup, LogsApi, Policy, Tags};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use tokio::time::Instant;

/// How many error messages and filter-limited group names a report keeps: enough to act on, small enough for a
/// log line and a CloudFormation response (4 KB in all).
pub const MAX_EXAMPLES: usize = 5;
/// An error message kept in a report is cut to this many bytes.
const MAX_MESSAGE_LEN: usize = 200;

/// What happened to one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupOutcome {
    Subscribed,
    Updated,
    AlreadySubscribed,
    Removed,
    Skipped(SkipReason),
    /// A call failed for good (or kept being throttled); the message names the call.
    Failed(String),
}

impl fmt::Display for GroupOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupOutcome::Subscribed => f.write_str("subscribed"),
            GroupOutcome::Updated => f.write_str("updated"),
            GroupOutcome::AlreadySubscribed => f.write_str("already subscribed"),
            GroupOutcome::Removed => f.write_str("removed"),
            GroupOutcome::Skipped(reason) => write!(f, "skipped ({})", reason.key()),
            GroupOutcome::Failed(message) => write!(f, "failed: {message}"),
        }
    }
}

/// A run's tally, carried across re-invocations in the [`Cursor`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    pub subscribed: u64,
    pub updated: u64,
    pub already_subscribed: u64,
    pub removed: u64,
    /// Per [`SkipReason::key`].
    pub skipped: BTreeMap<String, u64>,
    pub failed: u64,
    /// The first few failures, `group: message`.
    pub failures: Vec<String>,
    /// The first few groups left alone because they already carry the maximum number of foreign filters.
    pub filter_limited: Vec<String>,
}

impl Counts {
    pub fn record(&mut self, group: &str, outcome: &GroupOutcome) {
        match outcome {
            GroupOutcome::Subscribed => self.subscribed += 1,
            GroupOutcome::Updated => self.updated += 1,
            GroupOutcome::AlreadySubscribed => self.already_subscribed += 1,
            GroupOutcome::Removed => self.removed += 1,
            GroupOutcome::Skipped(reason) => {
                *self.skipped.entry(reason.key().to_owned()).or_default() += 1;
                if matches!(reason, SkipReason::FilterLimit { .. }) && self.filter_limited.len() < MAX_EXAMPLES {
                    self.filter_limited.push(group.to_owned());
                }
            }
            GroupOutcome::Failed(message) => {
                self.failed += 1;
                if self.failures.len() < MAX_EXAMPLES {
                    self.failures.push(clip(&format!("{group}: {message}"), MAX_MESSAGE_LEN));
                }
            }
        }
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Groups looked at so far.
    pub fn total(&self) -> u64 {
        self.subscribed + self.updated + self.already_subscribed + self.removed + self.skipped_total() + self.failed
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subscribed {}, updated {}, already subscribed {}, removed {}, skipped {}, failed {}",
            self.subscribed,
            self.updated,
            self.already_subscribed,
            self.removed,
            self.skipped_total(),
            self.failed
        )?;
        if let Some(first) = self.failures.first() {
            write!(f, " (first failure: {first})")?;
        }
        Ok(())
    }
}

/// Where a run stopped, to continue from in another invocation: the include prefix being listed, the
/// DescribeLogGroups token of the page being worked on, how many groups of that page are done, and the tally.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Cursor {
    /// Index into [`Policy::list_prefixes`].
    pub prefix: usize,
    /// The token that lists the current page; `None` for a prefix's first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// Groups of the current page already done.
    pub offset: usize,
    pub counts: Counts,
    /// Invocations the run has taken so far, so a chain of continuations can be bounded.
    pub invocations: u32,
}

impl Cursor {
    /// Whether both point at the same group (counts aside): a run that hands back its starting point made no
    /// progress, and continuing it would loop.
    pub fn same_position(&self, other: &Cursor) -> bool {
        (self.prefix, &self.next_token, self.offset) == (other.prefix, &other.next_token, other.offset)
    }
}

/// The listing itself failed, so the run could not go on (access denied, say). The groups before it are counted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("DescribeLogGroups ({prefix}) failed: {error}")]
pub struct RunError {
    pub prefix: String,
    pub error: ApiError,
}

/// The end of one invocation's share of a backfill or removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillReport {
    pub counts: Counts,
    /// Where to continue when the deadline came first; `None` when every prefix was listed to its end.
    pub next: Option<Cursor>,
    /// Why the run stopped early; `counts` has what was done before.
    pub error: Option<RunError>,
}

impl BackfillReport {
    pub fn complete(&self) -> bool {
        self.next.is_none() && self.error.is_none()
    }
}

/// The retry loop ran into the deadline: the work is left for a later invocation, not counted as failed.
struct OutOfTime;

/// Calls `op` until it succeeds, fails with an error `retryable` rejects, or runs out of attempts; waits between
/// attempts with the project's backoff. A wait that would end past the deadline is not started.
async fn retrying<T, F, Fut>(
    policy: &Policy,
    deadline: Instant,
    retryable: fn(ApiErrorKind) -> bool,
    mut op: F,
) -> Result<Result<T, ApiError>, OutOfTime>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut retry = 0;
    loop {
        let err = match op().await {
            Ok(v) => return Ok(Ok(v)),
            Err(e) => e,
        };
        if !retryable(err.kind) || retry + 1 >= policy.retry.max_attempts {
            return Ok(Err(err));
        }
        let wait = policy.retry.backoff(retry);
        if Instant::now() + wait >= deadline {
            return Err(OutOfTime);
        }
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

/// Reads (describe, list) and deletes: `LimitExceededException` there is a rate limit.
fn retry_read(kind: ApiErrorKind) -> bool {
    matches!(kind, ApiErrorKind::Throttled | ApiErrorKind::Unavailable | ApiErrorKind::LimitExceeded)
}

/// PutSubscriptionFilter: `LimitExceededException` is the filter limit, which waiting does not lift.
fn retry_put(kind: ApiErrorKind) -> bool {
    matches!(kind, ApiErrorKind::Throttled | ApiErrorKind::Unavailable)
}

/// A failed call as a group's outcome: a vanished group is skipped, anything else failed, naming the call.
fn failed(call: &str, err: &ApiError) -> GroupOutcome {
    if err.kind == ApiErrorKind::NotFound {
        GroupOutcome::Skipped(SkipReason::Gone)
    } else {
        GroupOutcome::Failed(format!("{call}: {err}"))
    }
}

async fn subscribe_one<A: LogsApi>(
    api: &A,
    policy: &Policy,
    group: &LogGroup,
    deadline: Instant,
) -> Result<GroupOutcome, OutOfTime> {
    if let Some(reason) = plan::screen(&group.name, policy) {
        return Ok(GroupOutcome::Skipped(reason));
    }
    let tags = if policy.include_tags.is_empty() {
        Tags::new()
    } else {
        match retrying(policy, deadline, retry_read, || api.list_tags(&group.arn)).await? {
            Ok(tags) => tags,
            Err(e) => return Ok(failed("ListTagsForResource", &e)),
        }
    };
    let filters = match retrying(policy, deadline, retry_read, || api.describe_filters(&group.name)).await? {
        Ok(filters) => filters,
        Err(e) => return Ok(failed("DescribeSubscriptionFilters", &e)),
    };
    let done = match plan::plan(&group.name, &tags, &filters, policy) {
        Action::Subscribe => GroupOutcome::Subscribed,
        Action::Update => GroupOutcome::Updated,
        Action::AlreadySubscribed => return Ok(GroupOutcome::AlreadySubscribed),
        Action::Skip(reason) => return Ok(GroupOutcome::Skipped(reason)),
    };
    let spec = policy.filter_spec();
    match retrying(policy, deadline, retry_put, || api.put_filter(&group.name, &spec)).await? {
        Ok(()) => Ok(done),
        // Another filter arrived since DescribeSubscriptionFilters: the group is full, and stays someone else's.
        Err(e) if e.kind == ApiErrorKind::LimitExceeded => {
            let existing = filters.iter().filter(|f| f.name != policy.filter_name).count();
            Ok(GroupOutcome::Skipped(SkipReason::FilterLimit { existing }))
        }
        Err(e) => Ok(failed("PutSubscriptionFilter", &e)),
    }
}

async fn remove_one<A: LogsApi>(
    api: &A,
    policy: &Policy,
    group: &LogGroup,
    deadline: Instant,
) -> Result<GroupOutcome, OutOfTime> {
    let filters = match retrying(policy, deadline, retry_read, || api.describe_filters(&group.name)).await? {
        Ok(filters) => filters,
        Err(e) => return Ok(failed("DescribeSubscriptionFilters", &e)),
    };
    match plan::plan_removal(&filters, policy) {
        Removal::Keep(reason) => Ok(GroupOutcome::Skipped(reason)),
        Removal::Delete => {
            match retrying(policy, deadline, retry_read, || api.delete_filter(&group.name, &policy.filter_name)).await?
            {
                Ok(()) => Ok(GroupOutcome::Removed),
                Err(e) => Ok(failed("DeleteSubscriptionFilter", &e)),
            }
        }
    }
}

/// Subscribes one group by name (a CreateLogGroup event). The loop guard and the prefixes are applied before any
/// call, so an event for the subscriber's own group costs nothing.
pub async fn subscribe_group<A: LogsApi>(api: &A, policy: &Policy, name: &str, deadline: Instant) -> GroupOutcome {
    if let Some(reason) = plan::screen(name, policy) {
        return GroupOutcome::Skipped(reason);
    }
    let out_of_time = || GroupOutcome::Failed("kept being throttled until the deadline".into());
    // Tags are read by ARN, which the event does not carry: DescribeLogGroups by the exact name finds it, first
    // (a name sorts before every longer name it prefixes).
    let arn = if policy.include_tags.is_empty() {
        String::new()
    } else {
        match retrying(policy, deadline, retry_read, || api.list_groups(Some(name), None)).await {
            Err(OutOfTime) => return out_of_time(),
            Ok(Err(e)) => return failed("DescribeLogGroups", &e),
            Ok(Ok(page)) => match page.groups.into_iter().find(|g| g.name == name) {
                Some(g) => g.arn,
                None => return GroupOutcome::Skipped(SkipReason::Gone),
            },
        }
    };
    let group = LogGroup { name: name.to_owned(), arn };
    subscribe_one(api, policy, &group, deadline).await.unwrap_or_else(|OutOfTime| out_of_time())
}

/// Subscribes every included group, from `cursor` (`Cursor::default()` to start), until done or the deadline.
pub async fn backfill<A: LogsApi>(api: &A, policy: &Policy, cursor: Cursor, deadline: Instant) -> BackfillReport {
    run(api, policy, cursor, deadline, Mode::Subscribe).await
}

/// Deletes logship's filters from every included group (stack deletion, `{"action":"unsubscribe"}`).
pub async fn remove<A: LogsApi>(api: &A, policy: &Policy, cursor: Cursor, deadline: Instant) -> BackfillReport {
    run(api, policy, cursor, deadline, Mode::Remove).await
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Subscribe,
    Remove,
}

/// Lists each prefix page by page and works through the groups one at a time (CloudWatch Logs' per-account rates
/// are a few calls a second, so going wider would only buy throttling). At least one group is done per invocation
/// before the deadline is looked at, so a chain of continuations always moves forward.
async fn run<A: LogsApi>(api: &A, policy: &Policy, cursor: Cursor, deadline: Instant, mode: Mode) -> BackfillReport {
    let prefixes = policy.list_prefixes();
    let mut cur = cursor;
    let mut progressed = false;
    let stop = |cur: Cursor| {
        let mut next = cur;
        next.invocations += 1;
        BackfillReport { counts: next.counts.clone(), next: Some(next), error: None }
    };
    while let Some(prefix) = prefixes.get(cur.prefix) {
        if progressed && Instant::now() >= deadline {
            return stop(cur);
        }
        let token = cur.next_token.clone();
        let page = match retrying(policy, deadline, retry_read, || api.list_groups(prefix.as_deref(), token.as_deref()))
            .await
        {
            Err(OutOfTime) => return stop(cur),
            Ok(Ok(page)) => page,
            Ok(Err(error)) => {
                let prefix = prefix.clone().unwrap_or_else(|| "every group".into());
                return BackfillReport { counts: cur.counts, next: None, error: Some(RunError { prefix, error }) };
            }
        };
        for group in page.groups.iter().skip(cur.offset) {
            if progressed && Instant::now() >= deadline {
                return stop(cur);
            }
            let outcome = match mode {
                Mode::Subscribe => subscribe_one(api, policy, group, deadline).await,
                Mode::Remove => remove_one(api, policy, group, deadline).await,
            };
            let Ok(outcome) = outcome else { return stop(cur) };
            cur.counts.record(&group.name, &outcome);
            cur.offset += 1;
            progressed = true;
        }
        cur.offset = 0;
        match page.next_token {
            Some(token) => cur.next_token = Some(token),
            None => {
                cur.prefix += 1;
                cur.next_token = None;
            }
        }
    }
    BackfillReport { counts: cur.counts, next: None, error: None }
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscribe::fake::{filter, policy, FakeLogs, Op, SHIPPER};
    use std::time::Duration;

    const OTHER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:datadog-forwarder";

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn throttled() -> ApiError {
        ApiError::new(ApiErrorKind::Throttled, "ThrottlingException: Rate exceeded")
    }

    /// 120 plain groups (three pages of 50) and one of each other case, under the default prefix, plus groups
    /// outside it.
    fn account() -> FakeLogs {
        let api = FakeLogs::new(50);
        for i in 0..120 {
            api.add_group(&format!("/aws/lambda/fn-{i:03}"), &[], vec![]);
        }
        api.add_group("/aws/lambda/full", &[], vec![filter("a", OTHER, ""), filter("b", OTHER, "ERROR")]);
        api.add_group("/aws/lambda/stale", &[], vec![filter("logship", OTHER, "")]);
        api.add_group("/aws/lambda/done", &[], vec![filter("logship", SHIPPER, "")]);
        api.add_group("/aws/lambda/logship-shipper", &[], vec![]);
        api.add_group("/aws/lambda/logship-subscriber", &[], vec![]);
        api.add_group("/aws/lambda/test-x", &[], vec![]);
        api.add_group("/ecs/web", &[], vec![]);
        api
    }

    fn account_policy() -> Policy {
        policy(&[
            ("LOGSHIP_EXCLUDE_PREFIXES", "/aws/lambda/test-"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/logship-subscriber"),
        ])
    }

    fn expected_first_run() -> Counts {
        let mut c = Counts { subscribed: 120, updated: 1, already_subscribed: 1, ..Counts::default() };
        c.skipped =
            [("filter_limit", 1), ("own_group", 2), ("excluded", 1)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
        c.filter_limited = vec!["/aws/lambda/full".into()];
        c
    }

    #[tokio::test]
    async fn backfill_paginates_and_applies_every_decision() {
        let api = account();
        let p = account_policy();
        let report = backfill(&api, &p, Cursor::default(), later()).await;
        assert!(report.complete(), "{report:?}");
        assert_eq!(report.counts, expected_first_run());
        assert_eq!(api.calls(Op::List), 3, "three pages of 50");
        assert_eq!(api.filters("/aws/lambda/fn-119"), [filter("logship", SHIPPER, "")]);
        assert_eq!(api.filters("/aws/lambda/stale"), [filter("logship", SHIPPER, "")]);
        assert_eq!(api.filters("/aws/lambda/full"), [filter("a", OTHER, ""), filter("b", OTHER, "ERROR")]);
        for untouched in
            ["/aws/lambda/logship-shipper", "/aws/lambda/logship-subscriber", "/aws/lambda/test-x", "/ecs/web"]
        {
            assert!(api.filters(untouched).is_empty(), "{untouched}");
        }
        // Own groups cost no call at all.
        assert_eq!(api.calls(Op::Describe), 123);

        let again = backfill(&api, &p, Cursor::default(), later()).await;
        assert_eq!((again.counts.subscribed, again.counts.updated, again.counts.already_subscribed), (0, 0, 122));
        assert_eq!(api.calls(Op::Put), 121, "a re-run makes no PutSubscriptionFilter call");
    }

    #[tokio::test]
    async fn throttling_is_retried_then_succeeds() {
        let api = account();
        api.fail(Op::List, "/aws/lambda/", throttled(), 2);
        api.fail(Op::Describe, "/aws/lambda/fn-007", throttled(), 3);
        api.fail(Op::Put, "/aws/lambda/fn-008", throttled(), 1);
        let rate = ApiError::new(ApiErrorKind::LimitExceeded, "LimitExceededException: Rate exceeded");
        api.fail(Op::Describe, "/aws/lambda/fn-009", rate, 2);
        let report = backfill(&api, &account_policy(), Cursor::default(), later()).await;
        assert!(report.complete());
        assert_eq!(report.counts, expected_first_run());
        assert_eq!(api.calls(Op::List), 5);
    }

    #[tokio::test]
    async fn put_limit_exceeded_is_the_filter_limit_not_a_rate() {
        let api = FakeLogs::new(50);
        api.add_group("/aws/lambda/raced", &[], vec![filter("a", OTHER, "")]);
        api.fail(
            Op::Put,
            "/aws/lambda/raced",
            ApiError::new(ApiErrorKind::LimitExceeded, "Resource limit exceeded."),
            1,
        );
        let report = backfill(&api, &policy(&[]), Cursor::default(), later()).await;
        assert_eq!(report.counts.skipped.get("filter_limit"), Some(&1));
        assert_eq!(report.counts.filter_limited, ["/aws/lambda/raced"]);
        assert_eq!(api.calls(Op::Put), 1, "not retried");
    }

    #[tokio::test]
    async fn a_failing_group_does_not_stop_the_run() {
        let api = account();
        let denied = ApiError::new(ApiErrorKind::Other, "AccessDeniedException: not authorized");
        api.fail(Op::Put, "/aws/lambda/fn-010", denied, 1);
        api.fail(Op::Describe, "/aws/lambda/fn-011", throttled(), 100);
        api.fail(Op::Describe, "/aws/lambda/fn-012", ApiError::new(ApiErrorKind::NotFound, "gone"), 1);
        let report = backfill(&api, &account_policy(), Cursor::default(), later()).await;
        assert!(report.complete());
        assert_eq!(report.counts.subscribed, 117);
        assert_eq!(report.counts.failed, 2);
        assert_eq!(report.counts.skipped.get("gone"), Some(&1));
        assert_eq!(
            report.counts.failures,
            [
                "/aws/lambda/fn-010: PutSubscriptionFilter: AccessDeniedException: not authorized",
                "/aws/lambda/fn-011: DescribeSubscriptionFilters: ThrottlingException: Rate exceeded",
            ]
        );
        // Bounded attempts: the throttled group was tried max_attempts times, no more.
        assert_eq!(api.calls_on(Op::Describe, "/aws/lambda/fn-011"), 10);
    }

    /// A deadline already passed: each invocation does one group and hands back a cursor; resuming from each
    /// cursor (through its JSON form, as the re-invocation carries it) ends with the totals of one long run.
    #[tokio::test]
    async fn deadline_cursor_resume_reaches_the_same_totals() {
        let api = account();
        let p = account_policy();
        let mut cursor = Cursor::default();
        let mut invocations = 0;
        let report = loop {
            invocations += 1;
            assert!(invocations < 1000, "no progress");
            let report = backfill(&api, &p, cursor.clone(), Instant::now()).await;
            match report.next {
                Some(next) => {
                    assert!(!next.same_position(&cursor), "every invocation moves forward");
                    let json = sonic_rs::to_string(&next).unwrap();
                    cursor = sonic_rs::from_str(&json).unwrap();
                }
                None => break report,
            }
        };
        assert!(report.complete());
        assert_eq!(report.counts, expected_first_run());
        assert_eq!(invocations, 126, "one group per invocation");
        assert_eq!(cursor.invocations, 125);
        assert_eq!(api.calls(Op::Put), 121, "no group was done twice");
    }

    #[tokio::test]
    async fn throttled_past_the_deadline_leaves_the_group_for_the_next_invocation() {
        let api = account();
        let p = account_policy();
        api.fail(Op::Describe, "/aws/lambda/done", throttled(), 1);
        // The first group ("done") is throttled and the deadline has passed: nothing counted, cursor at the start.
        let first = backfill(&api, &p, Cursor::default(), Instant::now()).await;
        let next = first.next.unwrap();
        assert!(next.same_position(&Cursor::default()));
        assert_eq!(next.counts.total(), 0);
        let rest = backfill(&api, &p, next, later()).await;
        assert_eq!(rest.counts, expected_first_run());
    }

    #[tokio::test]
    async fn a_listing_that_fails_stops_the_run_with_what_was_done() {
        let api = account();
        let mut p = account_policy();
        p.include_prefixes = vec!["/aws/lambda/".into(), "/ecs/".into()];
        api.fail(Op::List, "/ecs/", ApiError::new(ApiErrorKind::Other, "AccessDeniedException: no"), 1);
        let report = backfill(&api, &p, Cursor::default(), later()).await;
        assert!(!report.complete());
        assert_eq!(report.counts.subscribed, 120);
        assert_eq!(report.error.unwrap().to_string(), "DescribeLogGroups (/ecs/) failed: AccessDeniedException: no");
    }

    #[tokio::test]
    async fn every_prefix_is_listed() {
        let api = account();
        let mut p = account_policy();
        p.include_prefixes = vec!["/ecs/".into(), "/aws/lambda/fn-1".into()];
        let report = backfill(&api, &p, Cursor::default(), later()).await;
        assert_eq!(report.counts.subscribed, 21, "fn-100..fn-119 and /ecs/web");
        assert_eq!(report.counts.total(), 21);
    }

    #[tokio::test]
    async fn one_new_group() {
        let api = account();
        let p = account_policy();
        assert_eq!(subscribe_group(&api, &p, "/aws/lambda/fn-000", later()).await, GroupOutcome::Subscribed);
        assert_eq!(subscribe_group(&api, &p, "/aws/lambda/fn-000", later()).await, GroupOutcome::AlreadySubscribed);
        assert_eq!(
            subscribe_group(&api, &p, "/aws/lambda/logship-subscriber", later()).await,
            GroupOutcome::Skipped(SkipReason::OwnGroup)
        );
        assert_eq!(
            subscribe_group(&api, &p, "/aws/lambda/nope", later()).await,
            GroupOutcome::Skipped(SkipReason::Gone)
        );
        assert_eq!(api.calls(Op::Describe), 3, "the own group cost no call");
    }

    #[tokio::test]
    async fn one_new_group_with_tag_filters() {
        let api = FakeLogs::new(50);
        api.add_group("/aws/lambda/api", &[("team", "obs")], vec![]);
        api.add_group("/aws/lambda/api-web", &[("team", "web")], vec![]);
        let p = policy(&[("LOGSHIP_INCLUDE_TAGS", "team=obs")]);
        assert_eq!(subscribe_group(&api, &p, "/aws/lambda/api", later()).await, GroupOutcome::Subscribed);
        assert_eq!(
            subscribe_group(&api, &p, "/aws/lambda/api-web", later()).await,
            GroupOutcome::Skipped(SkipReason::TagsDoNotMatch)
        );
        assert_eq!(api.calls(Op::Tags), 2);
        let report = backfill(&api, &p, Cursor::default(), later()).await;
        assert_eq!(report.counts.already_subscribed, 1);
        assert_eq!(report.counts.skipped.get("tags_do_not_match"), Some(&1));
    }

    #[tokio::test]
    async fn removal_deletes_only_ours() {
        let api = account();
        let p = account_policy();
        backfill(&api, &p, Cursor::default(), later()).await;
        api.add_group("/aws/lambda/theirs", &[], vec![filter("logship", OTHER, ""), filter("x", SHIPPER, "")]);
        let report = remove(&api, &p, Cursor::default(), later()).await;
        assert!(report.complete());
        assert_eq!(report.counts.removed, 122);
        assert_eq!(report.counts.skipped.get("other_destination"), Some(&1), "theirs");
        assert!(api.filters("/aws/lambda/fn-000").is_empty());
        assert_eq!(api.filters("/aws/lambda/full").len(), 2);
        assert_eq!(api.filters("/aws/lambda/theirs").len(), 2);
    }

    #[test]
    fn counts_keep_a_few_short_examples() {
        let mut c = Counts::default();
        for i in 0..10 {
            c.record(&format!("g{i}"), &GroupOutcome::Failed("x".repeat(500)));
            c.record(&format!("g{i}"), &GroupOutcome::Skipped(SkipReason::FilterLimit { existing: 2 }));
        }
        assert_eq!(c.failed, 10);
        assert_eq!(c.failures.len(), MAX_EXAMPLES);
        assert!(c.failures.iter().all(|f| f.len() <= MAX_MESSAGE_LEN + '…'.len_utf8()));
        assert_eq!(c.filter_limited.len(), MAX_EXAMPLES);
        assert_eq!(c.total(), 20);
        assert_eq!(clip("héllo", 2), "h…");
    }
}
