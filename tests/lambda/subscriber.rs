//! The subscriber bootstrap under the emulator, against moto: backfill, a new group, the custom resource, bad config.
//!
//! Each test makes its own corner of the shared moto ([`Account`]): the shipper function (PutSubscriptionFilter to
//! a Lambda destination needs it to exist), a foreign destination, and log groups, all named after the test's
//! unique function name and deleted when the test ends, however it ends. What the tests check is what CloudWatch
//! Logs (moto) holds afterwards, read with the SDK, besides what each invocation answered.

use crate::bootstrap::{Binary, Bootstrap};
use crate::emulator::{Emulator, Function, Invocation};
use crate::fault_server::{FaultServer, Reply, Seen};
use crate::http::{request, split_url, Message};
use crate::proxy::Proxy;
use crate::{fixture, moto};
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_lambda::primitives::Blob;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::time::Duration;

/// The function timeout: far more than any run here needs, so no run hands on to a continuation.
const TIMEOUT: Duration = Duration::from_secs(30);
/// How long a test waits for the emulator's answer to an invocation.
const WAIT: Duration = Duration::from_secs(60);

/// A subscription filter as DescribeSubscriptionFilters reports it: (name, destination ARN, pattern).
type Filter = (String, String, String);

/// The smallest valid zip archive (an empty one): moto stores a function's code without running it.
const EMPTY_ZIP: &[u8] = b"PK\x05\x06\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0";

/// A test's resources in the shared moto, named after `name` (the test's unique function name); deleted on drop.
struct Account {
    rt: tokio::runtime::Runtime,
    endpoint: String,
    logs: aws_sdk_cloudwatchlogs::Client,
    lambda: aws_sdk_lambda::Client,
    name: String,
    /// The shipper function's ARN: `NAME-shipper`.
    shipper: String,
    /// Another function, the destination of filters that are not logship's: `NAME-foreign`.
    foreign: String,
    /// Made so far, for the clean-up: log groups, functions, the role.
    groups: RefCell<Vec<String>>,
    functions: Vec<String>,
    role: Option<String>,
}

impl Account {
    fn new(endpoint: &str, name: &str) -> Account {
        let aws = aws_config::SdkConfig::builder()
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudwatchlogs::config::SharedCredentialsProvider::new(Credentials::new(
                "testing", "testing", None, None, "test",
            )))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let mut account = Account {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
            endpoint: endpoint.to_owned(),
            logs: aws_sdk_cloudwatchlogs::Client::new(&aws),
            lambda: aws_sdk_lambda::Client::new(&aws),
            name: name.to_owned(),
            shipper: String::new(),
            foreign: String::new(),
            groups: RefCell::default(),
            functions: Vec::new(),
            role: None,
        };
        // Recorded as each is made, so a failure half-way still cleans up what exists.
        let role = format!("{name}-role");
        let created = account.iam(&format!(
            "Action=CreateRole&RoleName={role}&AssumeRolePolicyDocument=%7B%22Version%22%3A%222012-10-17%22%7D"
        ));
        account.role = Some(role);
        let role_arn = created
            .split("<Arn>")
            .nth(1)
            .and_then(|s| s.split("</Arn>").next())
            .unwrap_or_else(|| panic!("CreateRole in moto: {created}"))
            .to_owned();
        for suffix in ["shipper", "foreign"] {
            let function = format!("{name}-{suffix}");
            let create = account
                .lambda
                .create_function()
                .function_name(&function)
                .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
                .handler("bootstrap")
                .role(&role_arn)
                .code(aws_sdk_lambda::types::FunctionCode::builder().zip_file(Blob::new(EMPTY_ZIP)).build())
                .send();
            let out = account.rt.block_on(create).unwrap_or_else(|e| panic!("CreateFunction {function}: {e:?}"));
            account.functions.push(function);
            let arn = out.function_arn().unwrap().to_owned();
            if suffix == "shipper" {
                account.shipper = arn;
            } else {
                account.foreign = arn;
            }
        }
        account
    }

    fn iam(&self, params: &str) -> String {
        let answer = iam(&self.endpoint, params).unwrap_or_else(|e| panic!("IAM {params} in moto: {e}"));
        assert_eq!(answer.status(), 200, "IAM {params} in moto: {}", answer.body_text());
        answer.body_text()
    }

    /// The default log group of a function of this account (`/aws/lambda/NAME-SUFFIX`).
    fn group(&self, suffix: &str) -> String {
        format!("/aws/lambda/{}-{suffix}", self.name)
    }

    fn create_group(&self, group: &str) {
        self.groups.borrow_mut().push(group.to_owned());
        let create = self.logs.create_log_group().log_group_name(group).send();
        self.rt.block_on(create).unwrap_or_else(|e| panic!("CreateLogGroup {group}: {e:?}"));
    }

    fn put_filter(&self, group: &str, filter: &str, destination: &str) {
        let put = self
            .logs
            .put_subscription_filter()
            .log_group_name(group)
            .filter_name(filter)
            .filter_pattern("")
            .destination_arn(destination)
            .send();
        self.rt.block_on(put).unwrap_or_else(|e| panic!("PutSubscriptionFilter {group} {filter}: {e:?}"));
    }

    /// A group's filters, by name.
    fn filters(&self, group: &str) -> Vec<Filter> {
        let describe = self.logs.describe_subscription_filters().log_group_name(group).send();
        let out = self.rt.block_on(describe).unwrap_or_else(|e| panic!("DescribeSubscriptionFilters {group}: {e:?}"));
        let mut filters: Vec<Filter> = out
            .subscription_filters()
            .iter()
            .map(|f| {
                let field = |v: Option<&str>| v.unwrap_or_default().to_owned();
                (field(f.filter_name()), field(f.destination_arn()), field(f.filter_pattern()))
            })
            .collect();
        filters.sort();
        filters
    }

    /// Every group whose name starts with `prefix`, through all of DescribeLogGroups' pages.
    fn groups_under(&self, prefix: &str) -> Vec<String> {
        let mut groups = Vec::new();
        let mut token = None;
        loop {
            let list = self.logs.describe_log_groups().log_group_name_prefix(prefix).set_next_token(token).send();
            let page = self.rt.block_on(list).unwrap_or_else(|e| panic!("DescribeLogGroups {prefix}: {e:?}"));
            groups.extend(page.log_groups().iter().filter_map(|g| g.log_group_name()).map(str::to_owned));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                return groups;
            }
        }
    }

    /// logship's filter as the subscriber puts it: named `logship`, to the shipper, every event.
    fn ours(&self) -> Filter {
        ("logship".to_owned(), self.shipper.clone(), String::new())
    }

    fn foreign_filter(&self, name: &str) -> Filter {
        (name.to_owned(), self.foreign.clone(), String::new())
    }
}

impl Drop for Account {
    /// Best effort, and quiet about what is already gone: a leftover is uniquely named and harms no other run.
    fn drop(&mut self) {
        for group in self.groups.borrow().iter() {
            let _ = self.rt.block_on(self.logs.delete_log_group().log_group_name(group).send());
        }
        for function in &self.functions {
            let _ = self.rt.block_on(self.lambda.delete_function().function_name(function).send());
        }
        if let Some(role) = &self.role {
            let _ = iam(&self.endpoint, &format!("Action=DeleteRole&RoleName={role}"));
        }
    }
}

/// An IAM Query-protocol call: the build has no IAM SDK crate, and moto's CreateFunction wants its role to exist.
/// moto routes by the service in the credential scope, and checks no signature.
fn iam(endpoint: &str, params: &str) -> std::io::Result<Message> {
    let auth =
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0";
    let headers = [("Authorization", auth), ("Content-Type", "application/x-www-form-urlencoded")];
    let body = format!("Version=2010-05-08&{params}");
    request(split_url(endpoint).0, "POST", "/", &headers, body.as_bytes(), Duration::from_secs(10))
}

/// Stands in for the presigned S3 URL CloudFormation hands a custom resource: the integration tests' scripted server,
/// answering 200. It records a request before answering it, so once an invocation has returned, every response it
/// sent is here.
struct ResponseUrl(FaultServer);

impl ResponseUrl {
    fn start() -> ResponseUrl {
        ResponseUrl(FaultServer::always(Reply::status(200)))
    }

    /// Shaped like the real one: a path and a signature in the query, which the PUT must carry unchanged.
    fn url(&self) -> String {
        format!("{}/cfn-response?X-Amz-Signature=abc", self.0.url)
    }

    fn seen(&self) -> Vec<Seen> {
        self.0.seen()
    }
}

fn start(function: &Function, env: &[(&str, &str)]) -> Bootstrap {
    Bootstrap::start(Binary::Subscriber, function, TIMEOUT, env)
}

/// Answered 200; the invocation's result.
#[track_caller]
fn succeeded(inv: &Invocation, subscriber: &Bootstrap) -> Value {
    assert_eq!(inv.status(), 200, "the invocation failed: {}\n{}", inv.body(), subscriber.output());
    serde_json::from_str(&inv.body()).unwrap_or_else(|e| panic!("{e}: {:?}", inv.body()))
}

/// `fixtures/subscriber/create-log-group.json`, CloudTrail's record of `group` being created.
fn create_log_group_event(group: &str) -> Vec<u8> {
    let mut event: Value = serde_json::from_slice(&fixture("subscriber/create-log-group.json")).unwrap();
    event["detail"]["requestParameters"]["logGroupName"] = Value::from(group);
    serde_json::to_vec(&event).unwrap()
}

/// A custom resource request of `fixtures/subscriber/NAME` that CloudFormation wants answered at `response_url`.
fn custom_resource_request(name: &str, response_url: &str) -> Vec<u8> {
    let mut req: Value = serde_json::from_slice(&fixture(&format!("subscriber/{name}"))).unwrap();
    req["ResponseURL"] = Value::from(response_url);
    serde_json::to_vec(&req).unwrap()
}

/// The subscriber's CloudWatch Logs calls of one kind, as a recording proxy saw them.
fn calls(proxy: &Proxy, operation: &str) -> usize {
    let target = format!("Logs_20140328.{operation}");
    proxy.seen().iter().filter(|s| s.target.as_deref() == Some(target.as_str())).count()
}

#[test]
fn a_backfill_through_the_binary_subscribes_exactly_the_groups_it_should() {
    const TEST: &str = "a_backfill_through_the_binary_subscribes_exactly_the_groups_it_should";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let Some(moto) = moto(TEST) else { return };
    let function = emulator.function("sub-backfill");
    let m = Account::new(&moto, &function.name);

    // Every group this test makes starts with the subscriber's own group name, which is the include prefix: the
    // backfill lists exactly these, and the own group is in the listing for the loop guard to refuse.
    let own = format!("/aws/lambda/{}", function.name);
    // 52 plain groups and 6 others: 58, past moto's (and CloudWatch Logs') 50 groups per DescribeLogGroups page.
    let plain: Vec<String> = (0..52).map(|i| m.group(&format!("g-{i:02}"))).collect();
    let (excluded, also_own, full, one_foreign) =
        (m.group("excluded-0"), m.group("also-own"), m.group("full"), m.group("one-foreign"));
    let shipper_group = m.group("shipper");
    for g in plain.iter().chain([&own, &excluded, &also_own, &full, &one_foreign, &shipper_group]) {
        m.create_group(g);
    }
    m.put_filter(&full, "datadog", &m.foreign);
    m.put_filter(&full, "sumo", &m.foreign);
    m.put_filter(&one_foreign, "datadog", &m.foreign);

    // The subscriber's CloudWatch Logs calls go through a recording proxy, to count pages and puts.
    let aws = Proxy::start(split_url(&moto).0, None);
    let excluded_prefix = m.group("excluded-");
    let mut subscriber = start(
        &function,
        &[
            ("AWS_ENDPOINT_URL", &aws.url()),
            ("LOGSHIP_DESTINATION_ARN", &m.shipper),
            ("LOGSHIP_INCLUDE_PREFIXES", &own),
            ("LOGSHIP_EXCLUDE_PREFIXES", &excluded_prefix),
            ("LOGSHIP_OWN_LOG_GROUPS", &also_own),
        ],
    );
    assert!(aws.seen().is_empty(), "init calls no AWS API: {:?}", aws.seen());

    let result = succeeded(&function.invoke(br#"{"action":"backfill"}"#, WAIT), &subscriber);
    let subscribed = plain.len() as u64 + 1;
    assert_eq!(
        result,
        json!({
            "counts": {
                "subscribed": subscribed, "updated": 0, "already_subscribed": 0, "removed": 0, "failed": 0,
                // The subscriber's own group, the one named in LOGSHIP_OWN_LOG_GROUPS and the shipper's.
                "skipped": { "excluded": 1, "filter_limit": 1, "own_group": 3 },
                "failures": [], "filter_limited": [full],
            },
            "complete": true,
            "continued": false,
            "error": null,
        }),
        "{}",
        subscriber.output()
    );
    assert_eq!(calls(&aws, "DescribeLogGroups"), 2, "both pages listed: {:?}", aws.seen());
    assert_eq!(calls(&aws, "PutSubscriptionFilter"), subscribed as usize);
    assert!(aws.seen().iter().all(|s| s.status == 200), "{:?}", aws.seen());
    assert!(!aws.seen().iter().any(|s| s.path.contains("/functions/")), "no continuation was invoked");

    // What CloudWatch Logs holds now: logship's filter on exactly the plain groups and the one with room left.
    let all = m.groups_under(&own);
    assert_eq!(all.len(), 58, "{all:?}");
    let held: BTreeMap<&String, Vec<Filter>> = all.iter().map(|g| (g, m.filters(g))).collect();
    let with_ours: BTreeSet<&String> = held.iter().filter(|(_, f)| f.contains(&m.ours())).map(|(g, _)| *g).collect();
    assert_eq!(with_ours, plain.iter().chain([&one_foreign]).collect());
    for g in &plain {
        assert_eq!(held[g], [m.ours()], "{g}");
    }
    assert_eq!(held[&one_foreign], [m.foreign_filter("datadog"), m.ours()]);
    assert_eq!(held[&full], [m.foreign_filter("datadog"), m.foreign_filter("sumo")], "never clobbered");
    for g in [&own, &also_own, &shipper_group, &excluded] {
        assert!(held[g].is_empty(), "{g} must not be subscribed: {:?}", held[g]);
    }

    // The same warm process runs it again: nothing to put.
    let puts = calls(&aws, "PutSubscriptionFilter");
    let result = succeeded(&function.invoke(br#"{"action":"backfill"}"#, WAIT), &subscriber);
    let c = &result["counts"];
    assert_eq!((&c["subscribed"], &c["already_subscribed"], &c["failed"]), (&json!(0), &json!(subscribed), &json!(0)));
    assert_eq!(calls(&aws, "PutSubscriptionFilter"), puts, "a re-run puts nothing");

    // On-demand removal takes logship's filters off and leaves everyone else's.
    let result = succeeded(&function.invoke(br#"{"action":"unsubscribe"}"#, WAIT), &subscriber);
    let c = &result["counts"];
    assert_eq!((&c["removed"], &c["failed"], &result["complete"]), (&json!(subscribed), &json!(0), &json!(true)));
    assert!(all.iter().all(|g| !m.filters(g).contains(&m.ours())), "no logship filter is left");
    assert_eq!(m.filters(&one_foreign), [m.foreign_filter("datadog")]);
    assert_eq!(m.filters(&full).len(), 2);

    assert!(subscriber.is_running(), "{}", subscriber.output());
    let runtime = subscriber.runtime_calls();
    let posted = |end: &str| runtime.iter().filter(|c| c.method == "POST" && c.path.ends_with(end)).count();
    assert_eq!((posted("/response"), posted("/error")), (3, 0), "{runtime:?}");
}

#[test]
fn a_new_group_is_subscribed_from_its_cloudtrail_event_but_never_the_subscribers_own() {
    const TEST: &str = "a_new_group_is_subscribed_from_its_cloudtrail_event_but_never_the_subscribers_own";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let Some(moto) = moto(TEST) else { return };
    let function = emulator.function("sub-event");
    let m = Account::new(&moto, &function.name);
    // No include prefix: the default (`/aws/lambda/`) takes every group here, so only the loop guard stops one.
    // Its CloudWatch Logs calls go through a recording proxy, to see when it makes none.
    let aws = Proxy::start(split_url(&moto).0, None);
    let subscriber = start(&function, &[("AWS_ENDPOINT_URL", &aws.url()), ("LOGSHIP_DESTINATION_ARN", &m.shipper)]);

    let new = m.group("new");
    m.create_group(&new);
    let result = succeeded(&function.invoke(&create_log_group_event(&new), WAIT), &subscriber);
    assert_eq!(result, json!({ "group": new, "outcome": "subscribed" }));
    assert_eq!(m.filters(&new), [m.ours()]);
    assert_eq!(calls(&aws, "PutSubscriptionFilter"), 1, "{:?}", aws.seen());
    let before = aws.seen().len();

    // The subscriber's own group (`AWS_LAMBDA_LOG_GROUP_NAME`, as Lambda sets it) and the shipper's are created
    // the same way when each function first logs; subscribing either would loop its output back to the shipper.
    for own in [format!("/aws/lambda/{}", function.name), m.group("shipper")] {
        m.create_group(&own);
        let result = succeeded(&function.invoke(&create_log_group_event(&own), WAIT), &subscriber);
        assert_eq!(result, json!({ "group": own, "outcome": "skipped (own_group)" }));
        assert!(m.filters(&own).is_empty(), "{own}: {:?}", m.filters(&own));
    }
    assert_eq!(aws.seen().len(), before, "the loop guard refuses by name, before any call: {:?}", aws.seen());
}

#[test]
fn the_custom_resource_backfills_on_create_and_removes_on_delete_answering_each_once() {
    const TEST: &str = "the_custom_resource_backfills_on_create_and_removes_on_delete_answering_each_once";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let Some(moto) = moto(TEST) else { return };
    let function = emulator.function("sub-cfn");
    let m = Account::new(&moto, &function.name);
    let groups: Vec<String> = (0..3).map(|i| m.group(&format!("fn-{i}"))).collect();
    let full = m.group("full");
    for g in groups.iter().chain([&full]) {
        m.create_group(g);
    }
    m.put_filter(&full, "a", &m.foreign);
    m.put_filter(&full, "b", &m.foreign);
    let prefix = m.group("");
    let subscriber = start(
        &function,
        &[("AWS_ENDPOINT_URL", &moto), ("LOGSHIP_DESTINATION_ARN", &m.shipper), ("LOGSHIP_INCLUDE_PREFIXES", &prefix)],
    );
    let cfn = ResponseUrl::start();
    let stack = "arn:aws:cloudformation:eu-west-1:123456789012:stack/logship/5b0bd1a0-b7c4-11ef-8f4a-0a8e1c3d5f71";

    let create = custom_resource_request("custom-resource-create.json", &cfn.url());
    let result = succeeded(&function.invoke(&create, WAIT), &subscriber);
    assert_eq!(result["status"], "Success", "{result}");
    let seen = cfn.seen();
    assert_eq!(seen.len(), 1, "exactly one response, sent before the invocation ended: {seen:?}");
    assert_eq!((seen[0].method.as_str(), seen[0].path.as_str()), ("PUT", "/cfn-response?X-Amz-Signature=abc"));
    assert_eq!(seen[0].header("content-type"), Some(""), "the presigned URL is signed for an empty Content-Type");
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "Status": "SUCCESS",
            "Reason": "subscribed 3, updated 0, already subscribed 0, removed 0, skipped 1, failed 0",
            "PhysicalResourceId": "logship-backfill",
            "StackId": stack,
            "RequestId": "7c1e2a44-0c8f-4d3e-9b71-3f5a0e6d2c18",
            "LogicalResourceId": "Backfill",
            "Data": { "Subscribed": 3, "Updated": 0, "AlreadySubscribed": 0, "Removed": 0, "Skipped": 1, "Failed": 0,
                      "Complete": "true" }
        })
    );
    for g in &groups {
        assert_eq!(m.filters(g), [m.ours()], "{g}");
    }

    let delete = custom_resource_request("custom-resource-delete.json", &cfn.url());
    let result = succeeded(&function.invoke(&delete, WAIT), &subscriber);
    assert_eq!(result["status"], "Success", "{result}");
    let seen = cfn.seen();
    assert_eq!(seen.len(), 2, "one more response, the Delete's: {seen:?}");
    assert_eq!((seen[1].method.as_str(), seen[1].path.as_str()), ("PUT", "/cfn-response?X-Amz-Signature=abc"));
    let body: Value = serde_json::from_slice(&seen[1].body).unwrap();
    assert_eq!(
        body,
        json!({
            "Status": "SUCCESS",
            "Reason": "subscribed 0, updated 0, already subscribed 0, removed 3, skipped 1, failed 0",
            "PhysicalResourceId": "logship-backfill",
            "StackId": stack,
            "RequestId": "a8b2c4d6-e8f0-4a1b-9c3d-5e7f9a1b3c5d",
            "LogicalResourceId": "Backfill",
            "Data": { "Subscribed": 0, "Updated": 0, "AlreadySubscribed": 0, "Removed": 3, "Skipped": 1, "Failed": 0,
                      "Complete": "true" }
        })
    );
    for g in &groups {
        assert!(m.filters(g).is_empty(), "{g}: {:?}", m.filters(g));
    }
    assert_eq!(m.filters(&full), [m.foreign_filter("a"), m.foreign_filter("b")], "only logship's filters go");
}

#[test]
fn without_a_destination_every_request_is_refused_by_name_and_the_process_serves_on() {
    const TEST: &str = "without_a_destination_every_request_is_refused_by_name_and_the_process_serves_on";
    let Some(emulator) = Emulator::require(TEST) else { return };
    let function = emulator.function("sub-badconf");
    // Nothing listens there: should the subscriber call AWS at all, the call fails rather than reaching anything.
    let nowhere = format!("http://{}", TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap());
    let mut subscriber = start(&function, &[("AWS_ENDPOINT_URL", &nowhere)]);
    // Init does not fail (a custom resource request must still be answered); it says why every request will be.
    subscriber.wait_for_json("the invalid-configuration log line", |lines| {
        lines.iter().any(|l| {
            l["level"] == "ERROR"
                && l["message"] == "invalid configuration; every request will be refused"
                && l["error"].as_str().is_some_and(|e| e.contains("LOGSHIP_DESTINATION_ARN is required"))
        })
    });

    let group = format!("/aws/lambda/{}-new", function.name);
    let refused =
        [br#"{"action":"backfill"}"#.to_vec(), br#"{"action":"unsubscribe"}"#.to_vec(), create_log_group_event(&group)];
    for payload in &refused {
        let inv = function.invoke(payload, WAIT);
        assert_eq!(inv.status(), 500, "expected a failed invocation: {}\n{}", inv.body(), subscriber.output());
        let (kind, message) = inv.error().unwrap_or_else(|| panic!("not a Lambda error report: {:?}", inv.body()));
        assert_eq!(kind, "logship.InvalidConfig", "{}", String::from_utf8_lossy(payload));
        assert!(message.contains("LOGSHIP_DESTINATION_ARN is required"), "{message}");
    }

    // Still serving: a custom resource Create is answered (FAILED, with the reason) and the invocation succeeds.
    let cfn = ResponseUrl::start();
    let create = custom_resource_request("custom-resource-create.json", &cfn.url());
    let result = succeeded(&function.invoke(&create, WAIT), &subscriber);
    assert_eq!(result["status"], "Failed", "{result}");
    let seen = cfn.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        (&body["Status"], &body["RequestId"]),
        (&json!("FAILED"), &json!("7c1e2a44-0c8f-4d3e-9b71-3f5a0e6d2c18"))
    );
    assert!(body["Reason"].as_str().is_some_and(|r| r.contains("LOGSHIP_DESTINATION_ARN is required")), "{body}");

    assert!(subscriber.is_running(), "{}", subscriber.output());
    let runtime = subscriber.runtime_calls();
    let posted = |end: &str| runtime.iter().filter(|c| c.method == "POST" && c.path.ends_with(end)).count();
    assert_eq!((posted("/error"), posted("/response")), (3, 1), "one process answered all four: {runtime:?}");
    assert!(!runtime.iter().any(|c| c.path.contains("/init/")), "init did not fail: {runtime:?}");
}
