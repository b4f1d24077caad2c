//! Secrets (API keys, auth headers): given directly or as a Secrets Manager / SSM ARN, and never printed.

use std::fmt;

/// A secret value. `Debug` and `Display` print a placeholder, so it cannot leak through a log line or an error.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Where a secret comes from: the value itself, or the ARN of a Secrets Manager secret or SSM parameter that the
/// Lambda binary resolves once at cold start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    Value(Secret),
    Arn(String),
}

impl SecretSource {
    /// A configured value: an ARN of a secret or parameter is a reference, anything else is the secret itself.
    pub fn parse(value: &str) -> SecretSource {
        let v = value.trim();
        if v.starts_with("arn:aws") && (v.contains(":secretsmanager:") || v.contains(":ssm:")) {
            SecretSource::Arn(v.to_owned())
        } else {
            SecretSource::Value(Secret::new(v))
        }
    }
}

/// Looks secrets up by ARN. The Lambda binary implements it with the AWS SDK; the library never calls AWS.
pub trait SecretResolver {
    fn resolve(&self, arn: &str) -> impl std::future::Future<Output = Result<Secret, String>> + Send;
}

/// A resolver for places without AWS access (the CLI, tests): every ARN is an error that says so.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAws;

impl SecretResolver for NoAws {
    async fn resolve(&self, arn: &str) -> Result<Secret, String> {
        Err(format!("{arn} is a secret reference; only the Lambda binary resolves those, give the value itself here"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::new("hcaik_01supersecret");
        assert_eq!(format!("{s} {s:?}"), "<redacted> Secret(<redacted>)");
        let src = SecretSource::parse("hcaik_01supersecret");
        assert!(!format!("{src:?}").contains("supersecret"));
    }

    #[test]
    fn arns_are_references() {
        for arn in [
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:logship/honeycomb-AbCdEf",
            "arn:aws:ssm:eu-west-1:123456789012:parameter/logship/otlp-headers",
        ] {
            assert_eq!(SecretSource::parse(arn), SecretSource::Arn(arn.into()));
        }
        assert!(matches!(SecretSource::parse("arn-like-but-not"), SecretSource::Value(_)));
    }
}
