//! The subscriber's invocation payloads (CloudTrail event, CloudFormation custom resource, on-demand action) and the
//! custom resource's response document.

use crate::subscribe::engine::{clip, Counts, Cursor};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};
use sonic_rs::JsonValueTrait;
use std::time::Duration;

/// The `PhysicalResourceId` the backfill resource reports when the request carries none (on Create). Stable, so an
/// Update is never taken for a replacement, which would make CloudFormation delete the "old" resource.
pub const PHYSICAL_RESOURCE_ID: &str = "logship-backfill";
/// CloudFormation takes a response of at most 4096 bytes; the reason is the only part that can grow.
const MAX_REASON_LEN: usize = 1024;
/// How long CloudFormation waits for a custom resource's response when the resource sets no `ServiceTimeout`
/// (also the most it may set). Past it the operation fails, and a failed Delete leaves the stack stuck: a Delete
/// whose removal takes several invocations has this long, in all, to answer.
pub const CLOUDFORMATION_WAIT: Duration = Duration::from_secs(3600);
/// Kept back from that wait for a continuation's time in Lambda's asynchronous queue and for the response itself.
const RESPONSE_SLACK: Duration = Duration::from_secs(60);

/// What an invocation asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// A CloudTrail `CreateLogGroup` event from EventBridge: subscribe that group.
    CreateLogGroup {
        group: String,
    },
    /// A CloudTrail event that asks for nothing: a failed call, or another API call a broad rule let through.
    Ignore {
        reason: String,
    },
    CustomResource(CustomResourceRequest),
    /// `{"action":"backfill"}`, or its continuation with a cursor.
    Backfill {
        cursor: Option<Cursor>,
        /// A custom resource request the run must answer when it ends (see [`ResponseContext`]).
        respond: Option<ResponseContext>,
    },
    /// `{"action":"unsubscribe"}`: remove logship's filters, or continue doing so.
    Unsubscribe {
        cursor: Option<Cursor>,
        respond: Option<ResponseContext>,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RequestError {
    #[error("the invocation payload is not JSON: {0}")]
    NotJson(String),
    #[error(
        "unrecognised invocation payload: expected a CloudTrail CreateLogGroup event from EventBridge \
         (\"source\":\"aws.logs\"), a CloudFormation custom resource request (\"RequestType\"), \
         {{\"action\":\"backfill\"}} or {{\"action\":\"unsubscribe\"}}"
    )]
    Unrecognised,
    #[error("unknown action {0:?}: expected \"backfill\" or \"unsubscribe\"")]
    UnknownAction(String),
    #[error("malformed {what}: {reason}")]
    Malformed { what: &'static str, reason: String },
}

/// The keys that tell the payloads apart.
#[derive(Deserialize)]
struct Probe {
    source: Option<String>,
    #[serde(rename = "detail-type")]
    detail_type: Option<String>,
    #[serde(rename = "RequestType")]
    request_type: Option<IgnoredAny>,
    action: Option<String>,
}

#[derive(Deserialize)]
struct CloudTrailEvent {
    detail: CloudTrailDetail,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudTrailDetail {
    event_name: String,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    request_parameters: Option<LogGroupParameters>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogGroupParameters {
    log_group_name: Option<String>,
}

#[derive(Deserialize, Serialize)]
struct ActionRequest {
    action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cursor: Option<Cursor>,
    /// Absent from on-demand runs, and from every continuation written before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    respond: Option<ResponseContext>,
}

impl Request {
    pub fn parse(payload: &[u8]) -> Result<Request, RequestError> {
        let probe: Probe = match sonic_rs::from_slice(payload) {
            Ok(probe) => probe,
            // JSON, but not an object: none of ours.
            Err(_) if sonic_rs::from_slice::<IgnoredAny>(payload).is_ok() => return Err(RequestError::Unrecognised),
            Err(e) => return Err(RequestError::NotJson(e.to_string())),
        };
        let malformed = |what| move |e: sonic_rs::Error| RequestError::Malformed { what, reason: e.to_string() };
        if probe.request_type.is_some() {
            let req: CustomResourceRequest =
                sonic_rs::from_slice(payload).map_err(malformed("CloudFormation custom resource request"))?;
            return Ok(Request::CustomResource(req));
        }
        if let Some(action) = probe.action {
            let req: ActionRequest = sonic_rs::from_slice(payload).map_err(malformed("action request"))?;
            return match action.as_str() {
                "backfill" => Ok(Request::Backfill { cursor: req.cursor, respond: req.respond }),
                "unsubscribe" => Ok(Request::Unsubscribe { cursor: req.cursor, respond: req.respond }),
                _ => Err(RequestError::UnknownAction(action)),
            };
        }
        if probe.source.as_deref() == Some("aws.logs") && probe.detail_type.as_deref() == Some(CLOUDTRAIL) {
            let event: CloudTrailEvent = sonic_rs::from_slice(payload).map_err(malformed("CloudTrail event"))?;
            let d = event.detail;
            if d.event_name != "CreateLogGroup" {
                return Ok(Request::Ignore { reason: format!("{} is not CreateLogGroup", d.event_name) });
            }
            if let Some(code) = d.error_code {
                return Ok(Request::Ignore { reason: format!("CreateLogGroup failed ({code})") });
            }
            let group = d.request_parameters.and_then(|p| p.log_group_name).filter(|g| !g.is_empty());
            return match group {
                Some(group) => Ok(Request::CreateLogGroup { group }),
                None => Err(RequestError::Malformed {
                    what: "CloudTrail event",
                    reason: "detail.requestParameters.logGroupName is missing".into(),
                }),
            };
        }
        Err(RequestError::Unrecognised)
    }

    /// The payload that continues a backfill (or removal) from `cursor` in a new invocation; with `respond`, the
    /// custom resource request that the invocation ending the run answers.
    pub fn continuation(unsubscribe: bool, cursor: &Cursor, respond: Option<&ResponseContext>) -> String {
        let action = if unsubscribe { "unsubscribe" } else { "backfill" };
        let req = ActionRequest { action: action.to_owned(), cursor: Some(cursor.clone()), respond: respond.cloned() };
        sonic_rs::to_string(&req).unwrap_or_default()
    }
}

const CLOUDTRAIL: &str = "AWS API Call via CloudTrail";

/// A CloudFormation custom resource request (the backfill resource).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomResourceRequest {
    pub request_type: RequestType,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    /// Absent on Create; on Update and Delete, what the last response said.
    #[serde(default)]
    pub physical_resource_id: Option<String>,
    #[serde(default)]
    pub resource_type: Option<String>,
    /// The template's properties; the subscriber reads its settings from the environment, so these only serve to
    /// make CloudFormation send an Update (a changed `Version`, say) when a new backfill is wanted.
    #[serde(default)]
    pub resource_properties: Option<sonic_rs::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestType {
    Create,
    Update,
    Delete,
    /// Anything else still gets an answer (FAILED), or the stack would wait an hour for one.
    Other(String),
}

impl<'de> Deserialize<'de> for RequestType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(match s.as_str() {
            "Create" => RequestType::Create,
            "Update" => RequestType::Update,
            "Delete" => RequestType::Delete,
            _ => RequestType::Other(s),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Success,
    Failed,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResponseBody<'a> {
    status: Status,
    reason: &'a str,
    physical_resource_id: &'a str,
    stack_id: &'a str,
    request_id: &'a str,
    logical_resource_id: &'a str,
    data: ResponseData,
}

/// Flat name-value pairs (CloudFormation takes no nesting in `Data`); readable with `Fn::GetAtt`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ResponseData {
    subscribed: u64,
    updated: u64,
    already_subscribed: u64,
    removed: u64,
    skipped: u64,
    failed: u64,
    /// "false" when a continuation goes on in the background.
    complete: &'static str,
}

impl CustomResourceRequest {
    /// The JSON body to PUT to `ResponseURL`. `reason` is cut to keep the body within CloudFormation's 4 KB.
    pub fn response(&self, status: Status, reason: &str, counts: &Counts, complete: bool) -> String {
        self.response_context(None).response(status, reason, counts, complete)
    }

    /// What another invocation needs to answer this request, with the time by which it must stop continuing
    /// (see [`CustomResourceRequest::respond_by_ms`]).
    pub fn response_context(&self, respond_by_ms: Option<u64>) -> ResponseContext {
        ResponseContext {
            response_url: self.response_url.clone(),
            stack_id: self.stack_id.clone(),
            request_id: self.request_id.clone(),
            logical_resource_id: self.logical_resource_id.clone(),
            physical_resource_id: self.physical_resource_id.clone(),
            respond_by_ms,
        }
    }

    /// How long CloudFormation waits for the response: the resource's `ServiceTimeout` property (seconds, which
    /// CloudFormation hands over with the other properties), else [`CLOUDFORMATION_WAIT`].
    pub fn service_timeout(&self) -> Duration {
        let property = self.resource_properties.as_ref().and_then(|p| p.get("ServiceTimeout"));
        let seconds = property.and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())));
        seconds.map_or(CLOUDFORMATION_WAIT, |s| Duration::from_secs(s.max(1)).min(CLOUDFORMATION_WAIT))
    }

    /// The last moment (epoch milliseconds) a run answering this request, received at `received_ms`, may start
    /// another invocation of `link` (the function's time per invocation): that invocation still answers before
    /// CloudFormation stops waiting. `received_ms` itself when no continuation fits.
    pub fn respond_by_ms(&self, received_ms: u64, link: Duration) -> u64 {
        let spare = self.service_timeout().saturating_sub(link).saturating_sub(RESPONSE_SLACK);
        received_ms.saturating_add(u64::try_from(spare.as_millis()).unwrap_or(u64::MAX))
    }
}

/// A custom resource request's return address, carried in the continuation payload (`"respond"`) of a run the
/// request is waiting on: the invocation that ends the run sends the one response. Named as in the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResponseContext {
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_resource_id: Option<String>,
    /// Epoch milliseconds after which no further invocation is started: the run answers instead, complete or not,
    /// because CloudFormation fails the operation once its wait is over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond_by_ms: Option<u64>,
}

impl ResponseContext {
    /// Whether the run must answer now rather than continue.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.respond_by_ms.is_some_and(|t| now_ms >= t)
    }

    /// The JSON body to PUT to `ResponseURL`. `reason` is cut to keep the body within CloudFormation's 4 KB.
    pub fn response(&self, status: Status, reason: &str, counts: &Counts, complete: bool) -> String {
        let reason = clip(reason, MAX_REASON_LEN);
        let body = ResponseBody {
            status,
            reason: &reason,
            physical_resource_id: self
                .physical_resource_id
                .as_deref()
                .filter(|id| !id.is_empty())
                .unwrap_or(PHYSICAL_RESOURCE_ID),
            stack_id: &self.stack_id,
            request_id: &self.request_id,
            logical_resource_id: &self.logical_resource_id,
            data: ResponseData {
                subscribed: counts.subscribed,
                updated: counts.updated,
                already_subscribed: counts.already_subscribed,
                removed: counts.removed,
                skipped: counts.skipped_total(),
                failed: counts.failed,
                complete: if complete { "true" } else { "false" },
            },
        };
        sonic_rs::to_string(&body).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscribe::engine::GroupOutcome;
    use crate::subscribe::SkipReason;

    fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/subscriber").join(name);
        std::fs::read(path).unwrap()
    }

    fn custom(name: &str) -> CustomResourceRequest {
        match Request::parse(&fixture(name)).unwrap() {
            Request::CustomResource(req) => req,
            other => panic!("{name}: {other:?}"),
        }
    }

    #[test]
    fn cloudtrail_create_log_group() {
        assert_eq!(
            Request::parse(&fixture("create-log-group.json")).unwrap(),
            Request::CreateLogGroup { group: "/aws/lambda/checkout-api".into() }
        );
        assert_eq!(
            Request::parse(&fixture("create-log-group-failed.json")).unwrap(),
            Request::Ignore { reason: "CreateLogGroup failed (ResourceAlreadyExistsException)".into() }
        );
        let other = String::from_utf8(fixture("create-log-group.json"))
            .unwrap()
            .replace("\"CreateLogGroup\"", "\"DeleteLogGroup\"");
        assert_eq!(
            Request::parse(other.as_bytes()).unwrap(),
            Request::Ignore { reason: "DeleteLogGroup is not CreateLogGroup".into() }
        );
    }

    #[test]
    fn custom_resource_requests() {
        let create = custom("custom-resource-create.json");
        assert_eq!(create.request_type, RequestType::Create);
        assert_eq!(create.logical_resource_id, "Backfill");
        assert_eq!(create.physical_resource_id, None);
        assert!(create.response_url.starts_with("https://") && create.response_url.contains("X-Amz-Signature="));
        assert_eq!(
            create.stack_id,
            "arn:aws:cloudformation:eu-west-1:123456789012:stack/logship/5b0bd1a0-b7c4-11ef-8f4a-0a8e1c3d5f71"
        );
        assert_eq!(create.resource_type.as_deref(), Some("Custom::LogshipBackfill"));

        let update = custom("custom-resource-update.json");
        assert_eq!(update.request_type, RequestType::Update);
        assert_eq!(update.physical_resource_id.as_deref(), Some(PHYSICAL_RESOURCE_ID));

        let delete = custom("custom-resource-delete.json");
        assert_eq!(delete.request_type, RequestType::Delete);
        assert_eq!(delete.request_id, "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d");

        let odd =
            String::from_utf8(fixture("custom-resource-create.json")).unwrap().replace("\"Create\"", "\"Import\"");
        match Request::parse(odd.as_bytes()).unwrap() {
            Request::CustomResource(req) => assert_eq!(req.request_type, RequestType::Other("Import".into())),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn on_demand_actions_and_their_continuations() {
        assert_eq!(
            Request::parse(br#"{"action":"backfill"}"#).unwrap(),
            Request::Backfill { cursor: None, respond: None }
        );
        assert_eq!(
            Request::parse(br#"{"action":"unsubscribe"}"#).unwrap(),
            Request::Unsubscribe { cursor: None, respond: None }
        );

        let mut cursor =
            Cursor { prefix: 1, next_token: Some("tok/1".into()), offset: 7, invocations: 3, ..Cursor::default() };
        cursor.counts.record("/aws/lambda/a", &GroupOutcome::Subscribed);
        cursor.counts.record("/aws/lambda/b", &GroupOutcome::Skipped(SkipReason::FilterLimit { existing: 2 }));
        let payload = Request::continuation(false, &cursor, None);
        assert!(
            payload.starts_with(r#"{"action":"backfill","cursor":{"prefix":1,"next_token":"tok/1","offset":7,"#),
            "{payload}"
        );
        assert!(!payload.contains("respond"), "without a request to answer the payload is as before: {payload}");
        assert_eq!(
            Request::parse(payload.as_bytes()).unwrap(),
            Request::Backfill { cursor: Some(cursor.clone()), respond: None }
        );
        let payload = Request::continuation(true, &cursor, None);
        assert_eq!(
            Request::parse(payload.as_bytes()).unwrap(),
            Request::Unsubscribe { cursor: Some(cursor), respond: None }
        );
    }

    /// A Delete whose removal continues carries its return address; the continuation answers exactly as the
    /// Delete's own invocation would have.
    #[test]
    fn a_continuation_carries_the_request_it_must_answer() {
        let delete = custom("custom-resource-delete.json");
        let respond = delete.response_context(Some(1_790_000_000_000));
        let mut cursor =
            Cursor { prefix: 0, next_token: Some("tok".into()), offset: 3, invocations: 2, ..Cursor::default() };
        cursor.counts.record("/aws/lambda/a", &GroupOutcome::Removed);
        cursor.counts.record("/aws/lambda/b", &GroupOutcome::Removed);

        let payload = Request::continuation(true, &cursor, Some(&respond));
        let value: sonic_rs::Value = sonic_rs::from_str(&payload).unwrap();
        assert_eq!(value["respond"]["ResponseURL"].as_str(), Some(delete.response_url.as_str()));
        assert_eq!(value["respond"]["StackId"].as_str(), Some(delete.stack_id.as_str()));
        assert_eq!(value["respond"]["RequestId"].as_str(), Some("a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d"));
        assert_eq!(value["respond"]["LogicalResourceId"].as_str(), Some("Backfill"));
        assert_eq!(value["respond"]["PhysicalResourceId"].as_str(), Some(PHYSICAL_RESOURCE_ID));
        assert_eq!(value["respond"]["RespondByMs"].as_u64(), Some(1_790_000_000_000));
        let parsed = Request::parse(payload.as_bytes()).unwrap();
        assert_eq!(parsed, Request::Unsubscribe { cursor: Some(cursor.clone()), respond: Some(respond) });

        let Request::Unsubscribe { respond: Some(carried), .. } = parsed else { panic!("{parsed:?}") };
        assert_eq!(
            carried.response(Status::Success, "done", &cursor.counts, true),
            delete.response(Status::Success, "done", &cursor.counts, true)
        );

        // Only the return address is required: a Create has no PhysicalResourceId yet.
        let minimal = br#"{"action":"unsubscribe","respond":{"ResponseURL":"https://r","StackId":"s","RequestId":"q","LogicalResourceId":"l"}}"#;
        let Request::Unsubscribe { cursor: None, respond: Some(r) } = Request::parse(minimal).unwrap() else {
            panic!("not an unsubscribe with a response context")
        };
        assert_eq!((r.physical_resource_id, r.respond_by_ms), (None, None));
        let err = Request::parse(br#"{"action":"unsubscribe","respond":{"StackId":"s"}}"#).unwrap_err();
        assert!(err.to_string().starts_with("malformed action request"), "{err}");
    }

    #[test]
    fn the_response_budget_is_cloudformations_wait_less_one_invocation() {
        let delete = custom("custom-resource-delete.json");
        assert_eq!(delete.service_timeout(), CLOUDFORMATION_WAIT);
        let link = Duration::from_secs(300);
        let by = delete.respond_by_ms(1_000_000, link);
        assert_eq!(by, 1_000_000 + (3600 - 300 - 60) * 1000);
        let context = delete.response_context(Some(by));
        assert!(!context.expired(by - 1) && context.expired(by));
        assert!(!delete.response_context(None).expired(u64::MAX), "no budget, never expired");

        let with = |timeout: &str| {
            let mut req = delete.clone();
            req.resource_properties = Some(sonic_rs::from_str(&format!(r#"{{"ServiceTimeout":{timeout}}}"#)).unwrap());
            req
        };
        assert_eq!(with("\"900\"").service_timeout(), Duration::from_secs(900), "properties arrive as strings");
        assert_eq!(with("600").service_timeout(), Duration::from_secs(600));
        assert_eq!(with("86400").service_timeout(), CLOUDFORMATION_WAIT, "CloudFormation allows no more");
        assert_eq!(with("\"soon\"").service_timeout(), CLOUDFORMATION_WAIT);
        assert_eq!(with("\"300\"").respond_by_ms(1_000_000, link), 1_000_000, "no room for a continuation");
    }

    #[test]
    fn anything_else_is_a_clear_error() {
        let cases: [(&[u8], &str); 7] = [
            (b"not json", "not JSON"),
            (b"[1,2]", "unrecognised invocation payload"),
            (br#"{"awslogs":{"data":"H4sI"}}"#, "unrecognised invocation payload"),
            (br#"{"source":"aws.ec2","detail-type":"AWS API Call via CloudTrail","detail":{}}"#, "unrecognised"),
            (br#"{"action":"resubscribe"}"#, "unknown action \"resubscribe\""),
            (br#"{"action":"backfill","cursor":{"prefix":"x"}}"#, "malformed action request"),
            (
                br#"{"source":"aws.logs","detail-type":"AWS API Call via CloudTrail","detail":{"eventName":"CreateLogGroup"}}"#,
                "logGroupName is missing",
            ),
        ];
        for (payload, want) in cases {
            let err = Request::parse(payload).unwrap_err().to_string();
            assert!(err.contains(want), "{}: {err}", String::from_utf8_lossy(payload));
        }
        let err = Request::parse(br#"{"RequestType":"Create"}"#).unwrap_err().to_string();
        assert!(err.starts_with("malformed CloudFormation custom resource request"), "{err}");
    }

    #[test]
    fn custom_resource_response_document() {
        let mut counts = Counts::default();
        for (group, outcome) in [
            ("/aws/lambda/a", GroupOutcome::Subscribed),
            ("/aws/lambda/b", GroupOutcome::Subscribed),
            ("/aws/lambda/c", GroupOutcome::Updated),
            ("/aws/lambda/d", GroupOutcome::AlreadySubscribed),
            ("/aws/lambda/e", GroupOutcome::Skipped(SkipReason::FilterLimit { existing: 2 })),
            ("/aws/lambda/logship-shipper", GroupOutcome::Skipped(SkipReason::OwnGroup)),
            ("/aws/lambda/f", GroupOutcome::Failed("PutSubscriptionFilter: AccessDeniedException: no".into())),
        ] {
            counts.record(group, &outcome);
        }
        let create = custom("custom-resource-create.json");
        let body = create.response(Status::Success, &counts.to_string(), &counts, true);
        let value: sonic_rs::Value = sonic_rs::from_str(&body).unwrap();
        insta::assert_snapshot!("success_with_counts", sonic_rs::to_string_pretty(&value).unwrap());

        let update = custom("custom-resource-update.json");
        let body = update.response(Status::Failed, "LOGSHIP_DESTINATION_ARN is required", &Counts::default(), true);
        let value: sonic_rs::Value = sonic_rs::from_str(&body).unwrap();
        insta::assert_snapshot!("failed_on_bad_config", sonic_rs::to_string_pretty(&value).unwrap());
    }

    #[test]
    fn the_response_stays_within_4_kb() {
        let req = custom("custom-resource-create.json");
        let body = req.response(Status::Failed, &"é".repeat(10_000), &Counts::default(), false);
        assert!(body.len() < 4096, "{}", body.len());
        assert!(body.contains("\"Complete\":\"false\""));
    }
}
