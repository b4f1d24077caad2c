//! The subscriber Lambda: wiring only — the policy once at cold start, the AWS SDK behind the library's `LogsApi`,
//! and one handler for CreateLogGroup events, the CloudFormation backfill resource and on-demand runs.

// The handler's future nests the SDK's deep futures inside the engine's; its layout needs more than the default 128.
#![recursion_limit = "256"]

mod common;

use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::config::timeout::TimeoutConfig;
use aws_sdk_cloudwatchlogs::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::InvocationType;
use common::now_ms;
use lambda_runtime::tracing::{error, info, warn};
use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use logship::subscribe::{
    backfill, remove, subscribe_group, ApiError, ApiErrorKind, BackfillReport, Counts, Cursor, CustomResourceRequest,
    FilterSpec, GroupOutcome, GroupPage, LogGroup, LogsApi, Policy, PolicyError, Request, RequestType, ResponseContext,
    Status, SubscriptionFilter, Tags,
};
use serde_json::{json, Value};
use std::future::Future;
use std::time::Duration;
use tokio::time::Instant;

/// A chain of continuations longer than this is stopped: each link is a full invocation, so this many means
/// something keeps it from finishing.
const MAX_INVOCATIONS: u32 = 100;
/// One CloudWatch Logs call may take this long before it is abandoned (and retried by the engine).
const CALL_TIMEOUT: Duration = Duration::from_secs(5);
/// The most an invocation keeps back from its deadline for the group in flight, the response and the continuation.
const MAX_MARGIN: Duration = Duration::from_secs(20);

/// Hands a run's continuation payload to a new invocation of this function, which picks it up where this one
/// stopped. A seam so the handler can be tested without AWS: a test keeps the payload and runs it itself.
trait ContinueLater {
    fn continue_later(&self, payload: String) -> impl Future<Output = Result<(), String>> + Send;
}

/// The Lambda way: this function invokes itself asynchronously, so this invocation ends without waiting.
struct SelfInvoke {
    lambda: aws_sdk_lambda::Client,
    /// This function (`AWS_LAMBDA_FUNCTION_NAME`).
    function: Option<String>,
}

impl ContinueLater for SelfInvoke {
    async fn continue_later(&self, payload: String) -> Result<(), String> {
        let function = self.function.as_deref().ok_or("AWS_LAMBDA_FUNCTION_NAME is not set")?;
        self.lambda
            .invoke()
            .function_name(function)
            .invocation_type(InvocationType::Event)
            .payload(Blob::new(payload))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| format!("Invoke {function}: {}", DisplayErrorContext(&e)))
    }
}

/// What a cold start builds and every invocation reuses.
struct Subscriber<C> {
    /// Kept as a result rather than failing the init: a custom resource request must be answered even when the
    /// configuration is wrong, or the stack waits an hour for a response that never comes.
    policy: Result<Policy, PolicyError>,
    logs: AwsLogs,
    next: C,
    http: reqwest::Client,
}

impl<C: ContinueLater> Subscriber<C> {
    fn new(aws: &aws_config::SdkConfig, policy: Result<Policy, PolicyError>, next: C) -> Self {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap_or_default();
        Subscriber { policy, logs: AwsLogs::new(aws), next, http }
    }

    fn policy(&self) -> Result<&Policy, String> {
        self.policy.as_ref().map_err(|e| format!("the subscriber's configuration is invalid: {e}"))
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    common::init_logging();
    let policy = Policy::from_env();
    if let Err(e) = &policy {
        error!(error = %e, "invalid configuration; every request will be refused");
    }
    let aws = aws_config::load_from_env().await;
    let next = SelfInvoke {
        lambda: aws_sdk_lambda::Client::new(&aws),
        function: std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
    };
    let subscriber = Subscriber::new(&aws, policy, next);
    let subscriber = &subscriber;
    lambda_runtime::run(service_fn(move |event| handle(subscriber, event))).await
}

/// Why an invocation failed, as Lambda reports it (`errorType` is what the console, the logs and an asynchronous
/// invocation's on-failure record show). An error makes Lambda retry an asynchronous event.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The payload is none of the subscriber's.
    #[error("{0}")]
    Unrecognised(String),
    /// The configuration read at cold start is invalid: nothing can be done until it is fixed.
    #[error("{0}")]
    InvalidConfig(String),
    /// A new group could not be subscribed, or a backfill's listing failed.
    #[error("{0}")]
    SubscribeFailed(String),
    /// An unsubscribe run's listing failed.
    #[error("{0}")]
    UnsubscribeFailed(String),
    /// The run needed another invocation and did not get one (none could be started, no progress, too many).
    #[error("{0}")]
    ContinuationFailed(String),
    /// CloudFormation's response could not be delivered; the retried invocation tries again.
    #[error("{0}")]
    ResponseNotSent(String),
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        let (error_type, error_message) = match f {
            Failure::Unrecognised(m) => ("logship.UnrecognisedEvent", m),
            Failure::InvalidConfig(m) => ("logship.InvalidConfig", m),
            Failure::SubscribeFailed(m) => ("logship.SubscribeFailed", m),
            Failure::UnsubscribeFailed(m) => ("logship.UnsubscribeFailed", m),
            Failure::ContinuationFailed(m) => ("logship.ContinuationFailed", m),
            Failure::ResponseNotSent(m) => ("logship.ResponseNotSent", m),
        };
        Diagnostic { error_type: error_type.into(), error_message }
    }
}

/// One invocation. The result is the counts; an error makes Lambda retry an asynchronous event (a CreateLogGroup
/// event whose group failed, an on-demand run whose listing failed).
async fn handle<C: ContinueLater>(
    s: &Subscriber<C>,
    event: LambdaEvent<Box<serde_json::value::RawValue>>,
) -> Result<Value, Failure> {
    let end = common::deadline(event.context.deadline, Duration::ZERO);
    // The invocation's whole time, and the part of it the work may use: a quarter is kept back (at most
    // MAX_MARGIN) for the group in flight, the response and the continuation.
    let link = end.saturating_duration_since(Instant::now());
    let deadline = end - (link / 4).min(MAX_MARGIN);
    let request = Request::parse(event.payload.get().as_bytes()).map_err(|e| {
        error!(error = %e, "unrecognised invocation");
        Failure::Unrecognised(e.to_string())
    })?;
    match request {
        Request::CustomResource(req) => custom_resource(s, &req, deadline, link).await,
        Request::CreateLogGroup { group } => {
            let policy = s.policy().map_err(Failure::InvalidConfig)?;
            let outcome = subscribe_group(&s.logs, policy, &group, deadline).await;
            if let GroupOutcome::Failed(_) = &outcome {
                error!(group = %group, outcome = %outcome, "CreateLogGroup");
                return Err(Failure::SubscribeFailed(format!("{group}: {outcome}")));
            }
            info!(group = %group, outcome = %outcome, "CreateLogGroup");
            Ok(json!({ "group": group, "outcome": outcome.to_string() }))
        }
        Request::Ignore { reason } => {
            info!(reason = %reason, "event ignored");
            Ok(json!({ "ignored": reason }))
        }
        Request::Backfill { cursor, respond } => {
            on_demand(s, false, cursor.unwrap_or_default(), respond.as_ref(), deadline).await
        }
        Request::Unsubscribe { cursor, respond } => {
            on_demand(s, true, cursor.unwrap_or_default(), respond.as_ref(), deadline).await
        }
    }
}

/// `{"action":"backfill"|"unsubscribe"}` and their continuations. A continuation that carries a custom resource
/// request to answer (`respond`: a Delete that outlived its first invocation) answers it when the run ends here,
/// however it ends, and then succeeds unless the response could not be sent: a retry would answer twice.
async fn on_demand<C: ContinueLater>(
    s: &Subscriber<C>,
    unsubscribe: bool,
    cursor: Cursor,
    respond: Option<&ResponseContext>,
    deadline: Instant,
) -> Result<Value, Failure> {
    let policy = match (s.policy(), respond) {
        (Ok(policy), _) => policy,
        (Err(e), None) => return Err(Failure::InvalidConfig(e)),
        (Err(e), Some(context)) => {
            let status = if unsubscribe { Status::Success } else { Status::Failed };
            let reason = format!("{e}; {}", cursor.counts);
            return answer(s, context, status, reason, &cursor.counts, false).await;
        }
    };
    let (report, continued) = run(s, policy, unsubscribe, cursor, respond, deadline).await;
    match respond {
        Some(_) if continued == Ok(true) => Ok(report_json(&report, &continued)),
        Some(context) => {
            let (status, reason) = verdict(unsubscribe, &report, &continued);
            answer(s, context, status, reason, &report.counts, finished(&report, &continued)).await
        }
        None => match (&report.error, &continued) {
            (Some(e), _) if unsubscribe => Err(Failure::UnsubscribeFailed(e.to_string())),
            (Some(e), _) => Err(Failure::SubscribeFailed(e.to_string())),
            (None, Err(e)) => Err(Failure::ContinuationFailed(e.clone())),
            (None, Ok(_)) => Ok(report_json(&report, &continued)),
        },
    }
}

/// A backfill or removal from `cursor`, continued in a new invocation when the deadline comes first; a
/// continuation carries `respond` along. `Ok(true)`: a continuation was started; `Err`: one was needed and could
/// not be.
async fn run<C: ContinueLater>(
    s: &Subscriber<C>,
    policy: &Policy,
    unsubscribe: bool,
    cursor: Cursor,
    respond: Option<&ResponseContext>,
    deadline: Instant,
) -> (BackfillReport, Result<bool, String>) {
    let start = cursor.clone();
    let report = if unsubscribe {
        remove(&s.logs, policy, cursor, deadline).await
    } else {
        backfill(&s.logs, policy, cursor, deadline).await
    };
    let continued = match &report.next {
        None => Ok(false),
        // First: once CloudFormation stops waiting it fails the operation, however far the run got.
        Some(_) if respond.is_some_and(|r| r.expired(now_ms())) => {
            Err("CloudFormation's wait for the response is nearly over, so the run stops here (groups not reached \
             keep logship's filter)"
                .to_owned())
        }
        Some(next) if next.invocations >= MAX_INVOCATIONS => {
            Err(format!("stopped after {MAX_INVOCATIONS} invocations without finishing"))
        }
        Some(next) if next.same_position(&start) => Err("no group could be done before the deadline".to_owned()),
        Some(next) => s.next.continue_later(Request::continuation(unsubscribe, next, respond)).await.map(|()| true),
    };
    let action = if unsubscribe { "unsubscribe" } else { "backfill" };
    let error = report.error.as_ref().map(ToString::to_string).or_else(|| continued.as_ref().err().cloned());
    let (complete, more) = (report.complete(), continued == Ok(true));
    // Numbers as numbers, so Logs Insights can sum them; the lists (a few examples each) as JSON text.
    let c = &report.counts;
    let (skipped, failures, filter_limited) = (json!(c.skipped), json!(c.failures), json!(c.filter_limited));
    macro_rules! report {
        ($level:ident) => {
            $level!(
                action,
                subscribed = c.subscribed,
                updated = c.updated,
                already_subscribed = c.already_subscribed,
                removed = c.removed,
                skipped_total = c.skipped.values().sum::<u64>(),
                skipped = %skipped,
                failed = c.failed,
                failures = %failures,
                filter_limited = %filter_limited,
                complete,
                continued = more,
                error,
                "{action}"
            )
        };
    }
    if error.is_some() || c.failed > 0 {
        report!(error);
    } else {
        report!(info);
    }
    (report, continued)
}

/// The backfill resource. Every path ends in a response to CloudFormation, sent here or, for a Delete that needs
/// more invocations, by the invocation that ends the removal.
async fn custom_resource<C: ContinueLater>(
    s: &Subscriber<C>,
    req: &CustomResourceRequest,
    deadline: Instant,
    link: Duration,
) -> Result<Value, Failure> {
    let none = Counts::default();
    let (status, reason, counts, complete) = match (&req.request_type, s.policy()) {
        (RequestType::Other(kind), _) => (Status::Failed, format!("unsupported RequestType {kind:?}"), none, true),
        (RequestType::Delete, Err(e)) => (Status::Success, format!("nothing removed: {e}"), none, true),
        (RequestType::Delete, Ok(p)) if !p.remove_on_delete => {
            (Status::Success, "filters kept (LOGSHIP_REMOVE_ON_DELETE=false)".to_owned(), none, true)
        }
        (RequestType::Create | RequestType::Update, Err(e)) => (Status::Failed, e, none, true),
        (request_type, Ok(policy)) => {
            let unsubscribe = *request_type == RequestType::Delete;
            // CloudFormation deletes this function and its role as soon as a Delete is answered, which would end a
            // removal going on in the background and leave filters behind. So a Delete is answered only when its
            // removal is done: each continuation carries the request's return address, and the invocation that
            // ends the chain answers. The budget is CloudFormation's wait for a response (an hour unless the
            // resource sets ServiceTimeout): no continuation is started that could not answer within it. Create
            // and Update answer at once with the counts so far and continue in the background; the function stays.
            let respond = unsubscribe.then(|| req.response_context(Some(req.respond_by_ms(now_ms(), link))));
            let (report, continued) = run(s, policy, unsubscribe, Cursor::default(), respond.as_ref(), deadline).await;
            if respond.is_some() && continued == Ok(true) {
                info!(request_id = %req.request_id, "Delete continues in another invocation, which will answer");
                return Ok(report_json(&report, &continued));
            }
            let (status, reason) = verdict(unsubscribe, &report, &continued);
            let complete = finished(&report, &continued);
            (status, reason, report.counts, complete)
        }
    };
    answer(s, &req.response_context(None), status, reason, &counts, complete).await
}

/// The response to a run's custom resource request: SUCCESS when the run worked (groups that failed are counted in
/// `Data`), FAILED only when a backfill could not run. A Delete always answers SUCCESS: a FAILED delete leaves a
/// stack that can be neither deleted nor rolled back.
fn verdict(unsubscribe: bool, report: &BackfillReport, continued: &Result<bool, String>) -> (Status, String) {
    let mut reason = report.counts.to_string();
    if let Some(e) = &report.error {
        reason = format!("{e}; {reason}");
    }
    match continued {
        Ok(true) => reason.push_str("; continuing in the background"),
        Err(e) => reason = format!("could not continue in the background: {e}; {reason}"),
        Ok(false) => {}
    }
    let could_not_run = report.error.is_some() || continued.is_err();
    let status = if could_not_run && !unsubscribe { Status::Failed } else { Status::Success };
    (status, reason)
}

/// Whether the run is over and did everything it set out to.
fn finished(report: &BackfillReport, continued: &Result<bool, String>) -> bool {
    *continued == Ok(false) && report.error.is_none()
}

/// Sends the one response to a custom resource request; the invocation's result says what was sent.
async fn answer<C: ContinueLater>(
    s: &Subscriber<C>,
    to: &ResponseContext,
    status: Status,
    reason: String,
    counts: &Counts,
    complete: bool,
) -> Result<Value, Failure> {
    let body = to.response(status, &reason, counts, complete);
    send_response(s, &to.response_url, body).await?;
    Ok(json!({ "status": format!("{status:?}"), "reason": reason, "counts": counts }))
}

/// PUTs the response to the presigned S3 URL, retrying a few times: without it the stack hangs until its timeout.
async fn send_response<C: ContinueLater>(s: &Subscriber<C>, url: &str, body: String) -> Result<(), Failure> {
    let retry = logship::export::retry::RetryPolicy { max_attempts: 4, ..Default::default() };
    let mut attempt = 0;
    loop {
        // The URL is signed for an empty Content-Type: any other value fails the signature.
        let sent = s.http.put(url).header(reqwest::header::CONTENT_TYPE, "").body(body.clone()).send().await;
        let error = match sent {
            Ok(r) if r.status().is_success() => {
                info!(status = r.status().as_u16(), "custom resource response sent");
                return Ok(());
            }
            Ok(r) => format!("HTTP {}", r.status()),
            Err(e) => e.to_string(),
        };
        attempt += 1;
        if attempt >= retry.max_attempts {
            error!(error = %error, attempts = attempt, "custom resource response not sent");
            return Err(Failure::ResponseNotSent(format!("custom resource response not sent: {error}")));
        }
        warn!(error = %error, attempt, "custom resource response failed; retrying");
        tokio::time::sleep(retry.backoff(attempt - 1)).await;
    }
}

fn report_json(report: &BackfillReport, continued: &Result<bool, String>) -> Value {
    json!({
        "counts": report.counts,
        "complete": report.complete(),
        "continued": continued.as_ref().ok().copied().unwrap_or(false),
        "error": report.error.as_ref().map(ToString::to_string).or_else(|| continued.as_ref().err().cloned()),
    })
}

/// CloudWatch Logs through the AWS SDK. The SDK's own retries are off: the engine retries with the project's
/// backoff and knows which `LimitExceededException` is worth waiting for.
struct AwsLogs {
    client: aws_sdk_cloudwatchlogs::Client,
}

impl AwsLogs {
    fn new(aws: &aws_config::SdkConfig) -> Self {
        let config = aws_sdk_cloudwatchlogs::config::Builder::from(aws)
            .retry_config(RetryConfig::disabled())
            .timeout_config(TimeoutConfig::builder().operation_attempt_timeout(CALL_TIMEOUT).build())
            .build();
        AwsLogs { client: aws_sdk_cloudwatchlogs::Client::from_conf(config) }
    }
}

/// An SDK error as the engine sees it: a service error by its code, a timeout or dropped connection as
/// `Unavailable` (worth retrying), anything else (credentials, a request that could not be built) as `Other`.
fn api_error<E, R>(call: &str, err: &SdkError<E, R>) -> ApiError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ServiceError(service) => {
            let e = service.err();
            let code = e.code().unwrap_or("Unknown");
            ApiError::new(ApiErrorKind::from_code(code), format!("{code}: {}", e.message().unwrap_or_default()))
        }
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ApiError::new(ApiErrorKind::Unavailable, format!("{call}: {}", DisplayErrorContext(err)))
        }
        _ => ApiError::new(ApiErrorKind::Other, format!("{call}: {}", DisplayErrorContext(err))),
    }
}

impl LogsApi for AwsLogs {
    async fn list_groups(&self, prefix: Option<&str>, next_token: Option<&str>) -> Result<GroupPage, ApiError> {
        let out = self
            .client
            .describe_log_groups()
            .set_log_group_name_prefix(prefix.map(str::to_owned))
            .set_next_token(next_token.map(str::to_owned))
            .send()
            .await
            .map_err(|e| api_error("DescribeLogGroups", &e))?;
        let groups = out
            .log_groups()
            .iter()
            .filter_map(|g| {
                let name = g.log_group_name()?.to_owned();
                // `logGroupArn` is the tagging form; the older `arn` ends in `:*`.
                let arn = g.log_group_arn().or(g.arn().map(|a| a.trim_end_matches(":*")))?.to_owned();
                Some(LogGroup { name, arn })
            })
            .collect();
        Ok(GroupPage { groups, next_token: out.next_token().map(str::to_owned) })
    }

    async fn describe_filters(&self, group: &str) -> Result<Vec<SubscriptionFilter>, ApiError> {
        let out = self
            .client
            .describe_subscription_filters()
            .log_group_name(group)
            .send()
            .await
            .map_err(|e| api_error("DescribeSubscriptionFilters", &e))?;
        Ok(out
            .subscription_filters()
            .iter()
            .map(|f| SubscriptionFilter {
                name: f.filter_name().unwrap_or_default().to_owned(),
                destination_arn: f.destination_arn().unwrap_or_default().to_owned(),
                filter_pattern: f.filter_pattern().unwrap_or_default().to_owned(),
                role_arn: f.role_arn().map(str::to_owned),
            })
            .collect())
    }

    async fn put_filter(&self, group: &str, filter: &FilterSpec) -> Result<(), ApiError> {
        self.client
            .put_subscription_filter()
            .log_group_name(group)
            .filter_name(&filter.name)
            .filter_pattern(&filter.filter_pattern)
            .destination_arn(&filter.destination_arn)
            .set_role_arn(filter.role_arn.clone())
            .send()
            .await
            .map_err(|e| api_error("PutSubscriptionFilter", &e))?;
        info!(group, filter = %filter.name, "subscribed");
        Ok(())
    }

    async fn delete_filter(&self, group: &str, filter_name: &str) -> Result<(), ApiError> {
        self.client
            .delete_subscription_filter()
            .log_group_name(group)
            .filter_name(filter_name)
            .send()
            .await
            .map_err(|e| api_error("DeleteSubscriptionFilter", &e))?;
        info!(group, filter = filter_name, "unsubscribed");
        Ok(())
    }

    /// ListTagsForResource, the current tagging API (ListTagsLogGroup is deprecated).
    async fn list_tags(&self, group_arn: &str) -> Result<Tags, ApiError> {
        let out = self
            .client
            .list_tags_for_resource()
            .resource_arn(group_arn)
            .send()
            .await
            .map_err(|e| api_error("ListTagsForResource", &e))?;
        Ok(out.tags().map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
    }
}

// The integration tests' scripted server, shared rather than written twice.
#[cfg(test)]
#[allow(dead_code)]
#[path = "../../tests/it/fault_server.rs"]
mod fault_server;

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_runtime::Context;
    use serde_json::value::RawValue;
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::{SystemTime, UNIX_EPOCH};

    const SHIPPER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:logship-shipper";

    fn fixture(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/subscriber").join(name);
        std::fs::read_to_string(path).unwrap()
    }

    fn event(payload: &str) -> LambdaEvent<Box<RawValue>> {
        event_until(payload, now_ms() + 120_000)
    }

    /// An invocation with its deadline at `deadline_ms`; `now_ms()` leaves no time, so a run does one group and
    /// hands back a cursor.
    fn event_until(payload: &str, deadline_ms: u64) -> LambdaEvent<Box<RawValue>> {
        let mut context = Context::default();
        context.deadline = deadline_ms;
        LambdaEvent::new(RawValue::from_string(payload.to_owned()).unwrap(), context)
    }

    /// Keeps the continuation payloads instead of invoking anything: the test runs them itself.
    #[derive(Default)]
    struct Kept(Mutex<Vec<String>>);

    impl ContinueLater for Kept {
        async fn continue_later(&self, payload: String) -> Result<(), String> {
            self.0.lock().unwrap().push(payload);
            Ok(())
        }
    }

    impl Kept {
        fn take(&self) -> Vec<String> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    /// An endpoint nothing listens on: every call fails at once.
    fn closed_endpoint() -> String {
        fault_server::closed_url()
    }

    fn lookup(vars: &[(&str, String)]) -> Result<Policy, PolicyError> {
        let map: HashMap<&str, String> = vars.iter().map(|(k, v)| (*k, v.clone())).collect();
        Policy::from_lookup(|k| map.get(k).cloned())
    }

    /// Stands in for the presigned S3 URL: the integration tests' scripted server, answering 200. It records a request
    /// before answering it, so once the handler returns, every response it sent is there.
    struct ResponseUrl {
        server: fault_server::FaultServer,
        read: std::cell::Cell<usize>,
    }

    impl ResponseUrl {
        fn start() -> (String, ResponseUrl) {
            let server = fault_server::FaultServer::always(fault_server::Reply::status(200));
            let url = format!("{}/cfn-response?X-Amz-Signature=abc", server.url);
            (url, ResponseUrl { server, read: std::cell::Cell::new(0) })
        }

        /// The next response not looked at yet, if the handler sent one.
        fn next(&self) -> Option<fault_server::Seen> {
            let seen = self.server.seen().get(self.read.get()).cloned()?;
            self.read.set(self.read.get() + 1);
            Some(seen)
        }
    }

    fn json(put: &fault_server::Seen) -> Value {
        serde_json::from_slice(&put.body).unwrap()
    }

    /// An SDK configuration for an endpoint with dummy credentials: nothing real is ever picked up.
    fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatchlogs::config::SharedCredentialsProvider::new(
                aws_sdk_cloudwatchlogs::config::Credentials::new("testing", "testing", None, None, "test"),
            ))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    fn custom_resource_request(fixture_name: &str, response_url: &str) -> String {
        let mut req: Value = serde_json::from_str(&fixture(fixture_name)).unwrap();
        req["ResponseURL"] = Value::String(response_url.to_owned());
        req.to_string()
    }

    /// No AWS needed: with a broken configuration nothing is called, and CloudFormation still gets its answer.
    #[tokio::test]
    async fn a_bad_configuration_still_answers_cloudformation() {
        let s = Subscriber::new(&sdk_config(&closed_endpoint()), lookup(&[]), Kept::default());
        let (url, seen) = ResponseUrl::start();

        handle(&s, event(&custom_resource_request("custom-resource-create.json", &url))).await.unwrap();
        let put = seen.next().unwrap();
        assert_eq!((put.method.as_str(), put.path.as_str()), ("PUT", "/cfn-response?X-Amz-Signature=abc"));
        assert_eq!(put.header("content-type"), Some(""), "the presigned URL is signed for an empty Content-Type");
        let body = json(&put);
        assert_eq!(body["Status"], "FAILED");
        assert_eq!(body["PhysicalResourceId"], "logship-backfill");
        assert_eq!(body["RequestId"], "7c1e2a44-0c8f-4d3e-9b71-3f5a0e6d2c18");
        let reason = body["Reason"].as_str().unwrap();
        assert!(reason.contains("LOGSHIP_DESTINATION_ARN is required"), "{reason}");

        // The rollback's Delete must not fail too, or the stack is stuck.
        handle(&s, event(&custom_resource_request("custom-resource-delete.json", &url))).await.unwrap();
        let body = json(&seen.next().unwrap());
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["RequestId"], "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d");

        let err = handle(&s, event(&fixture("create-log-group.json"))).await.unwrap_err();
        assert!(err.to_string().contains("LOGSHIP_DESTINATION_ARN is required"), "{err}");
        let err = handle(&s, event(r#"{"awslogs":{"data":""}}"#)).await.unwrap_err();
        assert!(err.to_string().starts_with("unrecognised invocation payload"), "{err}");
        let ignored = handle(&s, event(&fixture("create-log-group-failed.json"))).await.unwrap();
        assert_eq!(ignored["ignored"], "CreateLogGroup failed (ResourceAlreadyExistsException)");
    }

    fn delete_request(response_url: &str) -> CustomResourceRequest {
        let payload = custom_resource_request("custom-resource-delete.json", response_url);
        match Request::parse(payload.as_bytes()).unwrap() {
            Request::CustomResource(req) => req,
            other => panic!("{other:?}"),
        }
    }

    /// No AWS needed: a Delete's continuation that cannot go on answers CloudFormation itself, once, SUCCESS, with
    /// the counts of the whole chain, whichever way it stops. CloudWatch Logs is unreachable and the deadline has
    /// passed, so no invocation gets anything done.
    #[tokio::test]
    async fn a_delete_continuation_that_cannot_go_on_answers_once() {
        let policy = lookup(&[("LOGSHIP_DESTINATION_ARN", SHIPPER.to_owned())]);
        let s = Subscriber::new(&sdk_config(&closed_endpoint()), policy, Kept::default());
        let (url, seen) = ResponseUrl::start();
        let delete = delete_request(&url);
        let mut chain = Cursor { next_token: Some("page-2".into()), offset: 4, invocations: 5, ..Cursor::default() };
        for i in 0..7 {
            chain.counts.record(&format!("/aws/lambda/fn-{i}"), &GroupOutcome::Removed);
        }
        chain.counts.record("/aws/lambda/odd", &GroupOutcome::Failed("AccessDeniedException: no".into()));
        let last_link = Cursor { invocations: MAX_INVOCATIONS - 1, ..chain.clone() };

        let cases = [
            (&chain, Some(1), "CloudFormation's wait for the response is nearly over"),
            (&last_link, None, "stopped after 100 invocations without finishing"),
            (&chain, None, "no group could be done before the deadline"),
        ];
        for (cursor, respond_by_ms, why) in cases {
            let payload = Request::continuation(true, cursor, Some(&delete.response_context(respond_by_ms)));
            let result = handle(&s, event_until(&payload, now_ms())).await.unwrap();
            assert_eq!(result["status"], "Success", "{why}");
            assert!(s.next.take().is_empty(), "{why}: nothing continued");
            let body = json(&seen.next().unwrap());
            assert!(seen.next().is_none(), "{why}: exactly one response");
            let reason = body["Reason"].as_str().unwrap();
            assert!(reason.starts_with(&format!("could not continue in the background: {why}")), "{reason}");
            assert_eq!(body["Status"], "SUCCESS");
            assert_eq!(body["RequestId"], "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d");
            assert_eq!(body["PhysicalResourceId"], "logship-backfill");
            assert_eq!(body["LogicalResourceId"], "Backfill");
            assert_eq!(
                body["Data"],
                json!({ "Subscribed": 0, "Updated": 0, "AlreadySubscribed": 0, "Removed": 7, "Skipped": 0, "Failed": 1, "Complete": "false" })
            );
        }

        // Even a configuration gone bad mid-chain gets the Delete its answer.
        let broken = Subscriber::new(&sdk_config(&closed_endpoint()), lookup(&[]), Kept::default());
        let payload = Request::continuation(true, &chain, Some(&delete.response_context(None)));
        handle(&broken, event(&payload)).await.unwrap();
        let body = json(&seen.next().unwrap());
        assert!(seen.next().is_none(), "exactly one response");
        assert_eq!((&body["Status"], &body["Data"]["Removed"]), (&json!("SUCCESS"), &json!(7)), "{body}");
        assert!(body["Reason"].as_str().unwrap().contains("LOGSHIP_DESTINATION_ARN is required"), "{body}");
    }

    /// Each failure names its `errorType`, the way Lambda reports it.
    #[tokio::test]
    async fn failures_name_their_error_type() {
        let nowhere = sdk_config(&closed_endpoint());
        let broken = Subscriber::new(&nowhere, lookup(&[]), Kept::default());
        let s = Subscriber::new(&nowhere, lookup(&[("LOGSHIP_DESTINATION_ARN", SHIPPER.to_owned())]), Kept::default());
        let unanswerable = custom_resource_request("custom-resource-create.json", &closed_endpoint());
        let cases = [
            (&broken, r#"{"awslogs":{"data":""}}"#.to_owned(), "logship.UnrecognisedEvent", "unrecognised"),
            (&broken, fixture("create-log-group.json"), "logship.InvalidConfig", "LOGSHIP_DESTINATION_ARN"),
            (&broken, r#"{"action":"backfill"}"#.to_owned(), "logship.InvalidConfig", "LOGSHIP_DESTINATION_ARN"),
            (&s, fixture("create-log-group.json"), "logship.SubscribeFailed", "/aws/lambda/checkout-api: failed"),
            (&s, r#"{"action":"unsubscribe"}"#.to_owned(), "logship.ContinuationFailed", "no group could be done"),
            (&broken, unanswerable, "logship.ResponseNotSent", "custom resource response not sent"),
        ];
        for (subscriber, payload, error_type, message) in cases {
            let err = handle(subscriber, event_until(&payload, now_ms())).await.unwrap_err();
            let diagnostic = Diagnostic::from(err);
            assert_eq!(diagnostic.error_type, error_type, "{payload}");
            assert!(diagnostic.error_message.contains(message), "{payload}: {}", diagnostic.error_message);
        }
    }

    /// A moto account for one test: its own name prefix, an IAM role, the shipper function and a foreign one.
    struct Moto {
        endpoint: String,
        aws: aws_config::SdkConfig,
        logs: aws_sdk_cloudwatchlogs::Client,
        id: String,
        shipper: String,
        foreign: String,
    }

    impl Moto {
        /// `None` when moto is not running and the services are skipped on purpose.
        async fn start(test: &str) -> Option<Moto> {
            let Ok(endpoint) = std::env::var("LOGSHIP_TEST_MOTO_ENDPOINT") else {
                assert!(
                    std::env::var("LOGSHIP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
                    "LOGSHIP_TEST_MOTO_ENDPOINT is not set: start the services (`make services` or `.ci/services.sh start`)"
                );
                return None;
            };
            let aws = sdk_config(&endpoint);
            // moto is shared: every name this test makes carries the process id, a clock reading and the test.
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().subsec_nanos();
            let id = format!("lsub{}-{nanos}-{test}", std::process::id());
            let role = create_role(&endpoint, &format!("{id}-role")).await;
            let lambda = aws_sdk_lambda::Client::new(&aws);
            let mut arns = Vec::new();
            for name in [format!("{id}-shipper"), format!("{id}-foreign")] {
                let out = lambda
                    .create_function()
                    .function_name(name)
                    .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
                    .handler("bootstrap")
                    .role(&role)
                    .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build())
                    .send()
                    .await
                    .unwrap();
                arns.push(out.function_arn().unwrap().to_owned());
            }
            let logs = aws_sdk_cloudwatchlogs::Client::new(&aws);
            Some(Moto { endpoint, aws, logs, id, shipper: arns[0].clone(), foreign: arns[1].clone() })
        }

        fn group(&self, name: &str) -> String {
            format!("/aws/lambda/{}-{name}", self.id)
        }

        async fn create_group(&self, name: &str, tags: &[(&str, &str)]) {
            let mut req = self.logs.create_log_group().log_group_name(name);
            for (k, v) in tags {
                req = req.tags(*k, *v);
            }
            req.send().await.unwrap();
        }

        async fn put(&self, group: &str, filter: &str, destination: &str) {
            self.logs
                .put_subscription_filter()
                .log_group_name(group)
                .filter_name(filter)
                .filter_pattern("")
                .destination_arn(destination)
                .send()
                .await
                .unwrap();
        }

        /// (filter name, destination) of a group's filters, by name.
        async fn filters(&self, group: &str) -> Vec<(String, String)> {
            let out = self.logs.describe_subscription_filters().log_group_name(group).send().await.unwrap();
            let mut f: Vec<(String, String)> = out
                .subscription_filters()
                .iter()
                .map(|f| (f.filter_name().unwrap().to_owned(), f.destination_arn().unwrap().to_owned()))
                .collect();
            f.sort();
            f
        }

        /// Deletes what the test made, so the shared moto does not keep growing (a failed test leaves its
        /// uniquely named leftovers, which harm no other run).
        async fn clean_up(self) {
            for prefix in
                [format!("/aws/lambda/{}-", self.id), format!("/custom/{}/", self.id), format!("/other/{}/", self.id)]
            {
                loop {
                    let page = self.logs.describe_log_groups().log_group_name_prefix(&prefix).send().await.unwrap();
                    if page.log_groups().is_empty() {
                        break;
                    }
                    for g in page.log_groups() {
                        self.logs.delete_log_group().log_group_name(g.log_group_name().unwrap()).send().await.unwrap();
                    }
                }
            }
            let lambda = aws_sdk_lambda::Client::new(&self.aws);
            for arn in [&self.shipper, &self.foreign] {
                lambda.delete_function().function_name(arn).send().await.unwrap();
            }
            iam(&self.endpoint, &format!("Action=DeleteRole&RoleName={}-role", self.id)).await;
        }

        fn subscriber(&self, vars: &[(&str, String)]) -> Subscriber<Kept> {
            let mut all = vec![("LOGSHIP_DESTINATION_ARN", self.shipper.clone())];
            all.extend(vars.iter().cloned());
            Subscriber::new(&self.aws, lookup(&all), Kept::default())
        }
    }

    /// The smallest valid zip archive (an empty one): moto stores the code without running it.
    const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

    /// An IAM Query-protocol call: there is no IAM SDK crate in the build for the role moto's CreateFunction wants
    /// to exist. moto routes by the service in the credential scope.
    async fn iam(endpoint: &str, params: &str) -> String {
        reqwest::Client::new()
            .post(endpoint)
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("Version=2010-05-08&{params}"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    async fn create_role(endpoint: &str, name: &str) -> String {
        let policy = "%7B%22Version%22%3A%222012-10-17%22%7D";
        let xml = iam(endpoint, &format!("Action=CreateRole&RoleName={name}&AssumeRolePolicyDocument={policy}")).await;
        let arn = xml.split("<Arn>").nth(1).and_then(|s| s.split("</Arn>").next()).unwrap_or_else(|| panic!("{xml}"));
        arn.to_owned()
    }

    fn counts(result: &Value) -> Counts {
        serde_json::from_value(result["counts"].clone()).unwrap()
    }

    /// Against a real AWS API emulator (moto server, started by `.ci/services.sh`): a backfill over three pages of
    /// groups and every kind of group, what CloudWatch Logs holds afterwards, a CreateLogGroup event, an idempotent
    /// re-run, and unsubscribe.
    #[tokio::test]
    async fn backfill_event_rerun_and_unsubscribe_against_moto() {
        let Some(m) = Moto::start("backfill").await else { return };
        let plain: Vec<String> = (0..120).map(|i| m.group(&format!("g-{i:03}"))).collect();
        for g in &plain {
            m.create_group(g, &[]).await;
        }
        let custom: Vec<String> = (0..3).map(|i| format!("/custom/{}/app-{i}", m.id)).collect();
        let (full, stale, done, one_foreign) =
            (m.group("full"), m.group("stale"), m.group("done"), m.group("one-foreign"));
        let (shipper_group, subscriber_group, own_custom) =
            (m.group("shipper"), m.group("subscriber"), m.group("shipper-custom"));
        let excluded = [m.group("excluded-0"), m.group("excluded-1")];
        let outside = format!("/other/{}/x", m.id);
        for g in custom.iter().chain(&excluded).chain([&full, &stale, &done, &one_foreign, &outside]) {
            m.create_group(g, &[]).await;
        }
        for g in [&shipper_group, &subscriber_group, &own_custom] {
            m.create_group(g, &[]).await;
        }
        m.put(&full, "datadog", &m.foreign).await;
        m.put(&full, "sumo", &m.foreign).await;
        m.put(&stale, "logship", &m.foreign).await;
        m.put(&done, "logship", &m.shipper).await;
        m.put(&one_foreign, "datadog", &m.foreign).await;

        let s = m.subscriber(&[
            ("LOGSHIP_INCLUDE_PREFIXES", format!("/aws/lambda/{}-,/custom/{}/", m.id, m.id)),
            ("LOGSHIP_EXCLUDE_PREFIXES", m.group("excluded-")),
            ("LOGSHIP_OWN_LOG_GROUPS", own_custom.clone()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", subscriber_group.clone()),
        ]);
        let result = handle(&s, event(r#"{"action":"backfill"}"#)).await.unwrap();
        assert_eq!(result["complete"], true);
        let c = counts(&result);
        assert_eq!((c.subscribed, c.updated, c.already_subscribed, c.failed), (124, 1, 1, 0), "{c:?}");
        let skipped: Vec<(&str, u64)> = c.skipped.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(skipped, [("excluded", 2), ("filter_limit", 1), ("own_group", 3)]);
        assert_eq!(c.filter_limited, std::slice::from_ref(&full));

        let ours = ("logship".to_owned(), m.shipper.clone());
        for g in plain.iter().chain(&custom).chain([&stale, &done]) {
            assert_eq!(m.filters(g).await, std::slice::from_ref(&ours), "{g}");
        }
        assert_eq!(m.filters(&one_foreign).await, [("datadog".to_owned(), m.foreign.clone()), ours.clone()]);
        assert_eq!(
            m.filters(&full).await,
            [("datadog".to_owned(), m.foreign.clone()), ("sumo".to_owned(), m.foreign.clone())],
            "a full group is never clobbered"
        );
        for g in excluded.iter().chain([&shipper_group, &subscriber_group, &own_custom, &outside]) {
            assert!(m.filters(g).await.is_empty(), "{g} must not be subscribed");
        }

        // A new group arrives through CloudTrail and EventBridge.
        let new = m.group("new-from-event");
        m.create_group(&new, &[]).await;
        let payload = fixture("create-log-group.json").replace("/aws/lambda/checkout-api", &new);
        let result = handle(&s, event(&payload)).await.unwrap();
        assert_eq!(result["outcome"], "subscribed");
        assert_eq!(m.filters(&new).await, std::slice::from_ref(&ours));
        // The subscriber's own group being created is skipped before any call.
        let payload = fixture("create-log-group.json").replace("/aws/lambda/checkout-api", &subscriber_group);
        let result = handle(&s, event(&payload)).await.unwrap();
        assert_eq!(result["outcome"], "skipped (own_group)");
        assert!(m.filters(&subscriber_group).await.is_empty());

        // A re-run changes nothing.
        let c = counts(&handle(&s, event(r#"{"action":"backfill"}"#)).await.unwrap());
        assert_eq!((c.subscribed, c.updated, c.already_subscribed, c.failed), (0, 0, 127, 0), "{c:?}");

        // Unsubscribe removes logship's filters and nothing else.
        let c = counts(&handle(&s, event(r#"{"action":"unsubscribe"}"#)).await.unwrap());
        assert_eq!((c.removed, c.failed), (127, 0), "{c:?}");
        for g in plain.iter().chain(&custom).chain([&stale, &done, &new]) {
            assert!(m.filters(g).await.is_empty(), "{g}");
        }
        assert_eq!(m.filters(&one_foreign).await, [("datadog".to_owned(), m.foreign.clone())]);
        assert_eq!(m.filters(&full).await.len(), 2);
        m.clean_up().await;
    }

    /// The CloudFormation resource: Create backfills and answers SUCCESS with the counts; Delete removes and answers.
    #[tokio::test]
    async fn custom_resource_create_and_delete_against_moto() {
        let Some(m) = Moto::start("cfn").await else { return };
        let groups: Vec<String> = (0..4).map(|i| m.group(&format!("fn-{i}"))).collect();
        for g in &groups {
            m.create_group(g, &[]).await;
        }
        let full = m.group("full");
        m.create_group(&full, &[]).await;
        m.put(&full, "a", &m.foreign).await;
        m.put(&full, "b", &m.foreign).await;
        let s = m.subscriber(&[("LOGSHIP_INCLUDE_PREFIXES", format!("/aws/lambda/{}-", m.id))]);
        let (url, seen) = ResponseUrl::start();

        let result = handle(&s, event(&custom_resource_request("custom-resource-create.json", &url))).await.unwrap();
        assert_eq!(result["status"], "Success");
        let put = seen.next().unwrap();
        assert_eq!(put.method, "PUT");
        assert_eq!(put.header("content-type"), Some(""));
        let body = json(&put);
        assert_eq!(
            body,
            json!({
                "Status": "SUCCESS",
                "Reason": "subscribed 4, updated 0, already subscribed 0, removed 0, skipped 1, failed 0",
                "PhysicalResourceId": "logship-backfill",
                "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/logship/5b0bd1a0-b7c4-11ef-8f4a-0a8e1c3d5f71",
                "RequestId": "7c1e2a44-0c8f-4d3e-9b71-3f5a0e6d2c18",
                "LogicalResourceId": "Backfill",
                "Data": { "Subscribed": 4, "Updated": 0, "AlreadySubscribed": 0, "Removed": 0, "Skipped": 1, "Failed": 0, "Complete": "true" }
            })
        );
        for g in &groups {
            assert_eq!(m.filters(g).await, [("logship".to_owned(), m.shipper.clone())], "{g}");
        }

        handle(&s, event(&custom_resource_request("custom-resource-delete.json", &url))).await.unwrap();
        let body = json(&seen.next().unwrap());
        assert_eq!(body["Status"], "SUCCESS");
        assert_eq!(body["RequestId"], "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d");
        assert_eq!(body["Data"]["Removed"], 4);
        for g in &groups {
            assert!(m.filters(g).await.is_empty(), "{g}");
        }
        assert_eq!(m.filters(&full).await.len(), 2);
        m.clean_up().await;
    }

    /// A Delete whose removal outlives its invocation leaves the answer to the chain: no response until the
    /// continuation that finishes sends exactly one SUCCESS with the whole chain's counts. Every invocation but
    /// the last has no time left, so each removes one group and hands on.
    #[tokio::test]
    async fn a_delete_that_outlives_its_invocation_answers_once_done_against_moto() {
        let Some(m) = Moto::start("chain").await else { return };
        let groups: Vec<String> = (0..4).map(|i| m.group(&format!("fn-{i}"))).collect();
        for g in &groups {
            m.create_group(g, &[]).await;
            m.put(g, "logship", &m.shipper).await;
        }
        let foreign = m.group("z-foreign");
        m.create_group(&foreign, &[]).await;
        m.put(&foreign, "datadog", &m.foreign).await;
        let s = m.subscriber(&[("LOGSHIP_INCLUDE_PREFIXES", format!("/aws/lambda/{}-", m.id))]);
        let (url, seen) = ResponseUrl::start();

        let delete = custom_resource_request("custom-resource-delete.json", &url);
        let result = handle(&s, event_until(&delete, now_ms())).await.unwrap();
        assert_eq!(result["continued"], true, "{result}");
        assert!(seen.next().is_none(), "a Delete still removing filters must not answer");
        let payloads = s.next.take();
        assert_eq!(payloads.len(), 1, "{payloads:?}");
        let first: Value = serde_json::from_str(&payloads[0]).unwrap();
        assert_eq!(first["action"], "unsubscribe");
        assert_eq!(first["cursor"]["counts"]["removed"], 1);
        assert_eq!(first["respond"]["ResponseURL"], url.as_str());
        assert_eq!(first["respond"]["RequestId"], "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d");
        assert!(first["respond"]["RespondByMs"].as_u64().unwrap() > now_ms(), "{first}");

        let result = handle(&s, event_until(&payloads[0], now_ms())).await.unwrap();
        assert_eq!(result["continued"], true, "{result}");
        assert!(seen.next().is_none(), "a continuation that continues must not answer");
        let payloads = s.next.take();
        assert_eq!(payloads.len(), 1, "{payloads:?}");
        let second: Value = serde_json::from_str(&payloads[0]).unwrap();
        assert_eq!(second["respond"], first["respond"], "the return address is handed on unchanged");

        let result = handle(&s, event(&payloads[0])).await.unwrap();
        assert_eq!(result["status"], "Success", "{result}");
        assert!(s.next.take().is_empty());
        let put = seen.next().unwrap();
        assert!(seen.next().is_none(), "exactly one response");
        assert_eq!((put.method.as_str(), put.path.as_str()), ("PUT", "/cfn-response?X-Amz-Signature=abc"));
        assert_eq!(
            json(&put),
            json!({
                "Status": "SUCCESS",
                "Reason": "subscribed 0, updated 0, already subscribed 0, removed 4, skipped 1, failed 0",
                "PhysicalResourceId": "logship-backfill",
                "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/logship/5b0bd1a0-b7c4-11ef-8f4a-0a8e1c3d5f71",
                "RequestId": "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d",
                "LogicalResourceId": "Backfill",
                "Data": { "Subscribed": 0, "Updated": 0, "AlreadySubscribed": 0, "Removed": 4, "Skipped": 1, "Failed": 0, "Complete": "true" }
            })
        );
        for g in &groups {
            assert!(m.filters(g).await.is_empty(), "{g}");
        }
        assert_eq!(m.filters(&foreign).await, [("datadog".to_owned(), m.foreign.clone())]);
        m.clean_up().await;
    }

    /// Tag filters read ListTagsForResource by the group ARN DescribeLogGroups gives.
    #[tokio::test]
    async fn tag_filters_against_moto() {
        let Some(m) = Moto::start("tags").await else { return };
        let (obs, web, bare) = (m.group("obs"), m.group("web"), m.group("bare"));
        m.create_group(&obs, &[("team", "obs"), ("env", "prod")]).await;
        m.create_group(&web, &[("team", "web")]).await;
        m.create_group(&bare, &[]).await;
        let s = m.subscriber(&[
            ("LOGSHIP_INCLUDE_PREFIXES", format!("/aws/lambda/{}-", m.id)),
            ("LOGSHIP_INCLUDE_TAGS", "team=obs,env".to_owned()),
        ]);
        let c = counts(&handle(&s, event(r#"{"action":"backfill"}"#)).await.unwrap());
        assert_eq!((c.subscribed, c.skipped.get("tags_do_not_match").copied(), c.failed), (1, Some(2), 0), "{c:?}");
        assert_eq!(m.filters(&obs).await.len(), 1);
        assert!(m.filters(&web).await.is_empty() && m.filters(&bare).await.is_empty());

        let late = m.group("obs-late");
        m.create_group(&late, &[("team", "obs"), ("env", "dev")]).await;
        let payload = fixture("create-log-group.json").replace("/aws/lambda/checkout-api", &late);
        let result = handle(&s, event(&payload)).await.unwrap();
        assert_eq!(result["outcome"], "subscribed");
        m.clean_up().await;
    }
}
