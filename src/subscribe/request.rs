//! The subscriber's invocation payloads (CloudTrail event, CloudFormation custom resource, on-demand action) and the
//! custom resource's response document.

use crate::subscribe::engine::{clip, Counts, Cursor};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer, Serialize};

/// The `PhysicalResourceId` the backfill resource reports when the request carries none (on Create). Stable, so an
/// Update is never taken for a replacement, which would make CloudFormation delete the "old" resource.
pub const PHYSICAL_RESOURCE_ID: &str = "logship-backfill";
/// CloudFormation takes a response of at most 4096 bytes; the reason is the only part that can grow.
const MAX_REASON_LEN: usize = 1024;

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
    },
    /// `{"action":"unsubscribe"}`: remove logship's filters, or continue doing so.
    Unsubscribe {
        cursor: Option<Cursor>,
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
                "backfill" => Ok(Request::Backfill { cursor: req.cursor }),
                "unsubscribe" => Ok(Request::Unsubscribe { cursor: req.cursor }),
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

    /// The payload that continues a backfill (or removal) from `cursor` in a new invocation.
    pub fn continuation(unsubscribe: bool, cursor: &Cursor) -> String {
        let action = if unsubscribe { "unsubscribe" } else { "backfill" };
        let req = ActionRequest { action: action.to_owned(), cursor: Some(cursor.clone()) };
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
        assert_eq!(Request::parse(br#"{"action":"backfill"}"#).unwrap(), Request::Backfill { cursor: None });
        assert_eq!(Request::parse(br#"{"action":"unsubscribe"}"#).unwrap(), Request::Unsubscribe { cursor: None });

        let mut cursor =
            Cursor { prefix: 1, next_token: Some("tok/1".into()), offset: 7, invocations: 3, ..Cursor::default() };
        cursor.counts.record("/aws/lambda/a", &GroupOutcome::Subscribed);
        cursor.counts.record("/aws/lambda/b", &GroupOutcome::Skipped(SkipReason::FilterLimit { existing: 2 }));
        let payload = Request::continuation(false, &cursor);
        assert!(
            payload.starts_with(r#"{"action":"backfill","cursor":{"prefix":1,"next_token":"tok/1","offset":7,"#),
            "{payload}"
        );
        assert_eq!(Request::parse(payload.as_bytes()).unwrap(), Request::Backfill { cursor: Some(cursor.clone()) });
        let payload = Request::continuation(true, &cursor);
        assert_eq!(Request::parse(payload.as_bytes()).unwrap(), Request::Unsubscribe { cursor: Some(cursor) });
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
