//! The shipper Lambda: wiring only — configuration and secrets once at cold start, then the library pipeline per event.

// A Lambda's stdout is its CloudWatch log: the summary line is meant to go there.
#![allow(clippy::print_stdout)]

mod common;

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use common::{deadline, now_ms};
use lambda_runtime::tracing::{error, info, warn};
use lambda_runtime::{service_fn, Diagnostic, Error, LambdaEvent};
use logship::config::Config;
use logship::decode::EventKind;
use logship::export::config::ExportConfig;
use logship::export::fanout::Exporters;
use logship::export::http::HttpClient;
use logship::export::Signal;
use logship::pipeline::{process_records, Processed};
use logship::secret::{Secret, SecretResolver};
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::time::Instant;

/// The allocator `logship bench` measures the pipeline with (see Cargo.toml).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What a cold start builds and every invocation reuses: the HTTP client's pool survives between events.
struct Shipper {
    config: Config,
    exporters: Exporters,
    function: String,
    /// Whether Kinesis and SQS batches may hand back their unreadable records (`batchItemFailures`). Only right
    /// when the event source mapping has `ReportBatchItemFailures`; without it Lambda would take the answer as
    /// success for every record, so with this off an unreadable record fails the whole batch instead.
    item_failures: bool,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    common::init_logging();
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => return Err(format!("unknown argument {other:?}: the only one is --check").into()),
    };
    let shipper = cold_start().await.inspect_err(|e| {
        // Lambda shows an init error as the function's error: the clearest report of a bad configuration.
        error!(error = %e, "logship cannot start");
    })?;
    let routes =
        |signal| shipper.exporters.config().routes(signal).iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",");
    info!(
        traces = routes(Signal::Traces),
        metrics = routes(Signal::Metrics),
        logs = routes(Signal::Logs),
        "logship ready"
    );
    if check {
        // `--check`: the whole cold start and nothing else, to validate a configuration or time the start-up.
        return Ok(());
    }
    let shipper = &shipper;
    lambda_runtime::run(service_fn(move |event| handle(shipper, event))).await
}

async fn cold_start() -> Result<Shipper, Error> {
    let config = Config::from_env()?;
    let mut export = ExportConfig::from_env()?;
    if export.needs_secrets() {
        let aws = aws_config::load_from_env().await;
        export.resolve_secrets(&AwsSecrets::new(&aws)).await?;
    }
    let exporters = Exporters::new(export, HttpClient::new()?)?;
    // Logs routed nowhere (`LOGSHIP_LOGS_TO=none`): don't build the records at all.
    let config = Config {
        drop_logs: exporters.config().routes(Signal::Logs).is_empty(),
        render_otlp_bodies: exporters.config().ships_otlp_protobuf(Signal::Logs),
        ..config
    };
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "logship".into());
    let item_failures = match std::env::var("LOGSHIP_REPORT_BATCH_ITEM_FAILURES").as_deref() {
        Err(_) | Ok("true") | Ok("1") => true,
        Ok("false") | Ok("0") => false,
        Ok(other) => return Err(format!("LOGSHIP_REPORT_BATCH_ITEM_FAILURES: {other:?} is not true or false").into()),
    };
    Ok(Shipper { config, exporters, function, item_failures })
}

/// Why an invocation failed, as Lambda reports it (`errorType` is what the on-failure record and the console show).
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// The event, or a record that can't be handed back on its own, could not be read.
    #[error("{0}")]
    Unreadable(String),
    /// Some telemetry was not delivered: the event must come again.
    #[error("{0}")]
    Undelivered(String),
}

impl From<Failure> for Diagnostic {
    fn from(f: Failure) -> Diagnostic {
        let (error_type, error_message) = match f {
            Failure::Unreadable(m) => ("logship.UnreadableEvent", m),
            Failure::Undelivered(m) => ("logship.DeliveryFailed", m),
        };
        Diagnostic { error_type: error_type.into(), error_message }
    }
}

/// One subscription, Kinesis or SQS (dead-letter redrive) event. An error fails the invocation, so Lambda retries
/// it and, after its retries, the dead-letter queue keeps it: an unreadable payload or undelivered data is never
/// acknowledged. Kinesis and SQS batches hand back only their unreadable records, as `batchItemFailures`.
async fn handle(shipper: &Shipper, event: LambdaEvent<Box<RawValue>>) -> Result<Value, Failure> {
    let started = Instant::now();
    let request_id = event.context.request_id.clone();
    let processed = process_records(event.payload.get().as_bytes(), &shipper.config).map_err(|e| {
        error!(request_id, error = %e, "unreadable event");
        Failure::Unreadable(e.to_string())
    })?;
    let Processed { kind, output, rejected } = processed;
    for r in &rejected {
        warn!(request_id, record = %r.origin, error = %r.error, "unreadable record handed back to the event source");
    }
    if let Some(r) = rejected.iter().find(|r| !shipper.item_failures || r.origin.item_identifier().is_none()) {
        // Nothing of the batch may count as done when this record can't be handed back on its own.
        return Err(Failure::Unreadable(r.error.to_string()));
    }
    let deadline = deadline(event.context.deadline, shipper.exporters.config().deadline_margin);
    let report = shipper.exporters.export(&output.telemetry, deadline).await;
    println!("{}", logship::summary::emf_line(&shipper.function, &output.stats, &report, started.elapsed(), now_ms()));
    report.into_result().map_err(|e| {
        error!(request_id, error = %e, "delivery failed; the event will be retried");
        Failure::Undelivered(e.to_string())
    })?;
    Ok(match kind {
        EventKind::Kinesis | EventKind::Sqs => {
            let failures: Vec<Value> = rejected
                .iter()
                .filter_map(|r| r.origin.item_identifier())
                .map(|id| serde_json::json!({ "itemIdentifier": id }))
                .collect();
            serde_json::json!({ "batchItemFailures": failures })
        }
        EventKind::AwsLogs | EventKind::Raw => Value::Null,
    })
}

/// Secrets Manager secrets and SSM parameters by ARN, read once at cold start.
struct AwsSecrets {
    secrets: aws_sdk_secretsmanager::Client,
    parameters: aws_sdk_ssm::Client,
}

impl AwsSecrets {
    fn new(aws: &aws_config::SdkConfig) -> Self {
        AwsSecrets { secrets: aws_sdk_secretsmanager::Client::new(aws), parameters: aws_sdk_ssm::Client::new(aws) }
    }
}

impl SecretResolver for AwsSecrets {
    async fn resolve(&self, arn: &str) -> Result<Secret, String> {
        if arn.contains(":secretsmanager:") {
            let out = self
                .secrets
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| format!("GetSecretValue {arn}: {}", DisplayErrorContext(&e)))?;
            out.secret_string().map(Secret::new).ok_or_else(|| format!("{arn} holds no string value"))
        } else {
            let out = self
                .parameters
                .get_parameter()
                .name(arn)
                .with_decryption(true)
                .send()
                .await
                .map_err(|e| format!("GetParameter {arn}: {}", DisplayErrorContext(&e)))?;
            out.parameter().and_then(|p| p.value()).map(Secret::new).ok_or_else(|| format!("{arn} holds no value"))
        }
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
    use crate::fault_server;
    use lambda_runtime::Context;
    use std::collections::HashMap;
    use std::time::Duration;

    fn fixture_path(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
    }

    fn fixture(name: &str) -> Box<RawValue> {
        RawValue::from_string(std::fs::read_to_string(fixture_path(name)).unwrap()).unwrap()
    }

    fn shipper(vars: &[(&str, &str)]) -> Shipper {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let export = ExportConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
        Shipper {
            config: Config::default(),
            exporters: Exporters::new(export, HttpClient::new().unwrap()).unwrap(),
            function: "logship-test".into(),
            item_failures: true,
        }
    }

    fn event(payload: Box<RawValue>, within: Duration) -> LambdaEvent<Box<RawValue>> {
        let mut context = Context::default();
        context.deadline = now_ms() + within.as_millis() as u64;
        LambdaEvent::new(payload, context)
    }

    #[tokio::test]
    async fn subscription_and_kinesis_events_are_shipped() {
        let server = fault_server::FaultServer::always(fault_server::Reply::status(200));
        let s = shipper(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &server.url)]);
        let answer = handle(&s, event(fixture("events/node-text.json"), Duration::from_secs(10))).await.unwrap();
        assert_eq!(answer, Value::Null);
        let answer = handle(&s, event(fixture("events/kinesis.json"), Duration::from_secs(10))).await.unwrap();
        assert_eq!(answer, serde_json::json!({ "batchItemFailures": [] }));
        let mut requests: Vec<String> = server.seen().iter().map(|r| r.path.clone()).collect();
        requests.sort();
        assert_eq!(requests, ["/v1/logs", "/v1/logs", "/v1/metrics", "/v1/metrics", "/v1/traces", "/v1/traces"]);
    }

    /// A Kinesis batch whose second record is unreadable: the first is shipped, the second handed back by its
    /// sequence number (Lambda resumes from it), the third left for that retry.
    #[tokio::test]
    async fn kinesis_hands_back_the_first_unreadable_record() {
        let good = std::fs::read_to_string(fixture_path("events/kinesis.json")).unwrap();
        let good: Value = serde_json::from_str(&good).unwrap();
        let mut records = good["Records"].as_array().unwrap().clone();
        records.truncate(2);
        records[1]["kinesis"]["data"] = Value::from("bm90IGd6aXA=");
        records[1]["kinesis"]["sequenceNumber"] =
            Value::from("49590338271490256608559692538361571095921575989136588898");
        let event = RawValue::from_string(serde_json::json!({ "Records": records }).to_string()).unwrap();

        let server = fault_server::FaultServer::always(fault_server::Reply::status(200));
        let s = shipper(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &server.url)]);
        let answer = handle(&s, self::event(event.clone(), Duration::from_secs(10))).await.unwrap();
        assert_eq!(
            answer,
            serde_json::json!({ "batchItemFailures": [
                { "itemIdentifier": "49590338271490256608559692538361571095921575989136588898" }
            ] })
        );
        assert!(!server.seen().is_empty(), "the readable record was shipped");

        // Without ReportBatchItemFailures on the mapping, the whole batch fails instead.
        let strict = Shipper { item_failures: false, ..shipper(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &server.url)]) };
        let err = handle(&strict, self::event(event, Duration::from_secs(10))).await.unwrap_err();
        assert!(matches!(&err, Failure::Unreadable(m) if m.contains("Records[1].kinesis.data")), "{err:?}");
        assert_eq!(Diagnostic::from(err).error_type, "logship.UnreadableEvent");
    }

    /// A redrive from the dead-letter queue: each message is a subscription event; only unreadable ones go back.
    #[tokio::test]
    async fn sqs_redrive_ships_messages_and_hands_back_unreadable_ones() {
        let body = std::fs::read_to_string(fixture_path("events/node-text.json")).unwrap();
        let event = serde_json::json!({ "Records": [
            { "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d", "body": body, "eventSource": "aws:sqs" },
            { "messageId": "2e1424d4-f796-459a-8184-9c92662be6da", "body": "{\"awslogs\":{\"data\":\"??\"}}", "eventSource": "aws:sqs" },
        ]});
        let server = fault_server::FaultServer::always(fault_server::Reply::status(200));
        let s = shipper(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &server.url)]);
        let answer =
            handle(&s, self::event(RawValue::from_string(event.to_string()).unwrap(), Duration::from_secs(10)))
                .await
                .unwrap();
        assert_eq!(
            answer,
            serde_json::json!({ "batchItemFailures": [{ "itemIdentifier": "2e1424d4-f796-459a-8184-9c92662be6da" }] })
        );
        let mut paths: Vec<String> = server.seen().iter().map(|r| r.path.clone()).collect();
        paths.sort();
        assert_eq!(paths, ["/v1/logs", "/v1/metrics", "/v1/traces"]);
    }

    #[tokio::test]
    async fn an_unreadable_payload_fails_the_invocation_naming_the_step() {
        let s = shipper(&[]);
        let err = handle(&s, event(fixture("bad/not-gzip.json"), Duration::from_secs(10))).await.unwrap_err();
        assert!(err.to_string().contains("awslogs.data: not gzip data"), "{err}");
        assert_eq!(Diagnostic::from(err).error_type, "logship.UnreadableEvent");
    }

    #[tokio::test]
    async fn undelivered_data_fails_the_invocation_within_its_deadline() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let s = shipper(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &url), ("LOGSHIP_DEADLINE_MARGIN_MS", "500")]);
        let started = Instant::now();
        let err = handle(&s, event(fixture("events/node-text.json"), Duration::from_secs(2))).await.unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(2), "stopped before the Lambda deadline");
        let msg = err.to_string();
        assert!(matches!(err, Failure::Undelivered(_)), "{err:?}");
        assert!(
            msg.contains("otlp traces: 4 spans not delivered") && msg.contains("otlp logs: 15 log records"),
            "{msg}"
        );
    }

    /// Against a real AWS API emulator (moto server, started by `.ci/services.sh`).
    #[tokio::test]
    async fn secrets_and_parameters_resolve_by_arn() {
        let Ok(endpoint) = std::env::var("LOGSHIP_TEST_MOTO_ENDPOINT") else {
            assert!(
                std::env::var("LOGSHIP_SKIP_SERVICES").is_ok_and(|v| v == "1"),
                "LOGSHIP_TEST_MOTO_ENDPOINT is not set: start the services (`make services` or `.ci/services.sh start`)"
            );
            return;
        };
        let aws = aws_config::SdkConfig::builder()
            .endpoint_url(endpoint)
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_secretsmanager::config::SharedCredentialsProvider::new(
                aws_sdk_secretsmanager::config::Credentials::new("testing", "testing", None, None, "test"),
            ))
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build();
        let resolver = AwsSecrets::new(&aws);
        let name = format!("logship/honeycomb-{}", std::process::id());
        let secret = resolver
            .secrets
            .create_secret()
            .name(&name)
            .secret_string("hcaik_from_secrets_manager")
            .send()
            .await
            .unwrap();
        let param = format!("/logship/otlp-headers-{}", std::process::id());
        resolver
            .parameters
            .put_parameter()
            .name(&param)
            .value("authorization=Bearer%20abc")
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
        let param_arn = format!("arn:aws:ssm:us-east-1:123456789012:parameter{param}");

        let mut export = ExportConfig::from_lookup(|k| match k {
            "OTEL_EXPORTER_OTLP_ENDPOINT" => Some("http://127.0.0.1:4318".into()),
            "LOGSHIP_OTLP_HEADERS_SECRET" => Some(param_arn.clone()),
            "LOGSHIP_HONEYCOMB_API_KEY" => secret.arn().map(str::to_owned),
            _ => None,
        })
        .unwrap();
        export.resolve_secrets(&resolver).await.unwrap();
        let headers = &export.otlp.as_ref().unwrap().traces.as_ref().unwrap().headers;
        assert_eq!(headers[0].0, "authorization");
        assert_eq!(headers[0].1.expose(), "Bearer abc");
        assert_eq!(
            export.honeycomb.unwrap().api_key,
            logship::secret::SecretSource::Value(Secret::new("hcaik_from_secrets_manager"))
        );

        let missing = resolver.resolve("arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf").await;
        assert!(missing.unwrap_err().contains("GetSecretValue"));
    }
}
