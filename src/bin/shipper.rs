//! The shipper Lambda: wiring only — configuration and secrets once at cold start, then the library pipeline per event.

// A Lambda's stdout is its CloudWatch log: the summary and init errors are meant to go there.
#![allow(clippy::print_stdout)]

use aws_sdk_secretsmanager::error::DisplayErrorContext;
use lambda_runtime::{service_fn, Error, LambdaEvent};
use logship::config::Config;
use logship::export::config::ExportConfig;
use logship::export::fanout::Exporters;
use logship::export::http::HttpClient;
use logship::pipeline::process_event;
use logship::secret::{Secret, SecretResolver};
use serde_json::value::RawValue;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// What a cold start builds and every invocation reuses: the HTTP client's pool survives between events.
struct Shipper {
    config: Config,
    exporters: Exporters,
    function: String,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let shipper = cold_start().await.map_err(|e| {
        // An init error is the clearest report of a bad configuration: Lambda shows it as the function's error.
        println!("{}", serde_json::json!({ "level": "ERROR", "message": format!("logship cannot start: {e}") }));
        e
    })?;
    let shipper = &shipper;
    lambda_runtime::run(service_fn(move |event| handle(shipper, event))).await
}

async fn cold_start() -> Result<Shipper, Error> {
    let config = Config::from_env()?;
    let mut export = ExportConfig::from_env()?;
    let aws = aws_config::load_from_env().await;
    export.resolve_secrets(&AwsSecrets::new(&aws)).await?;
    let exporters = Exporters::new(export, HttpClient::new()?)?;
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "logship".into());
    Ok(Shipper { config, exporters, function })
}

/// One subscription or Kinesis event. An error fails the invocation, so Lambda retries it and, after its retries,
/// the on-failure destination keeps it: an unreadable payload or undelivered data is never acknowledged.
async fn handle(shipper: &Shipper, event: LambdaEvent<Box<RawValue>>) -> Result<(), Error> {
    let started = Instant::now();
    let output = process_event(event.payload.get().as_bytes(), &shipper.config)?;
    let deadline = deadline(event.context.deadline, shipper.exporters.config().deadline_margin);
    let report = shipper.exporters.export(&output.telemetry, deadline).await;
    println!("{}", logship::summary::emf_line(&shipper.function, &output.stats, &report, started.elapsed(), now_ms()));
    report.into_result()?;
    Ok(())
}

/// The invocation's deadline (epoch milliseconds from the runtime API) less the margin kept for reporting.
fn deadline(deadline_ms: u64, margin: Duration) -> Instant {
    let remaining = Duration::from_millis(deadline_ms.saturating_sub(now_ms()));
    Instant::now() + remaining.saturating_sub(margin)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
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

    fn fixture(name: &str) -> Box<RawValue> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
        RawValue::from_string(std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn shipper(vars: &[(&str, &str)]) -> Shipper {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let export = ExportConfig::from_lookup(|k| vars.get(k).cloned()).unwrap();
        Shipper {
            config: Config::default(),
            exporters: Exporters::new(export, HttpClient::new().unwrap()).unwrap(),
            function: "logship-test".into(),
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
        handle(&s, event(fixture("events/node-text.json"), Duration::from_secs(10))).await.unwrap();
        handle(&s, event(fixture("events/kinesis.json"), Duration::from_secs(10))).await.unwrap();
        let mut requests: Vec<String> = server.seen().iter().map(|r| r.path.clone()).collect();
        requests.sort();
        assert_eq!(requests, ["/v1/logs", "/v1/logs", "/v1/metrics", "/v1/metrics", "/v1/traces", "/v1/traces"]);
    }

    #[tokio::test]
    async fn an_unreadable_payload_fails_the_invocation_naming_the_step() {
        let s = shipper(&[]);
        let err = handle(&s, event(fixture("bad/not-gzip.json"), Duration::from_secs(10))).await.unwrap_err();
        assert!(err.to_string().contains("awslogs.data: not gzip data"), "{err}");
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
                std::env::var("LOGSHIP_SKIP_SERVICES").is_ok(),
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
