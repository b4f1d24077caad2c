//! Environment → [`Config`], validated once at start-up, with errors that name the variable.

use crate::decode::{DecodeOptions, DEFAULT_MAX_INFLATED_BYTES};
use std::collections::HashMap;

/// Lambda's public on-demand prices (us-east-1, first tier), used when no price is configured.
pub const DEFAULT_PRICE_X86_64_GB_SECOND: f64 = 0.000_016_666_7;
pub const DEFAULT_PRICE_ARM64_GB_SECOND: f64 = 0.000_013_333_4;
pub const DEFAULT_PRICE_PER_REQUEST: f64 = 0.000_000_2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    X86_64,
    Arm64,
}

impl Arch {
    fn parse(s: &str) -> Option<Arch> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x86_64" | "x86-64" | "amd64" | "x86" => Some(Arch::X86_64),
            "arm64" | "aarch64" | "graviton" => Some(Arch::Arm64),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }
}

/// What an invocation costs, for `aws.lambda.estimated_cost`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    pub x86_64_gb_second: f64,
    pub arm64_gb_second: f64,
    pub per_request: f64,
    /// The architecture assumed for functions not named in `function_arch`: REPORT lines don't say.
    pub default_arch: Arch,
    pub function_arch: HashMap<String, Arch>,
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            x86_64_gb_second: DEFAULT_PRICE_X86_64_GB_SECOND,
            arm64_gb_second: DEFAULT_PRICE_ARM64_GB_SECOND,
            per_request: DEFAULT_PRICE_PER_REQUEST,
            default_arch: Arch::X86_64,
            function_arch: HashMap::new(),
        }
    }
}

impl Pricing {
    pub fn arch_of(&self, function: &str) -> Arch {
        self.function_arch.get(function).copied().unwrap_or(self.default_arch)
    }

    /// USD for one invocation: billed GB-seconds at the architecture's price plus the request charge.
    pub fn invocation_cost(&self, arch: Arch, billed_ms: f64, memory_mb: u64) -> f64 {
        let gb_s = billed_ms / 1000.0 * memory_mb as f64 / 1024.0;
        let price = match arch {
            Arch::X86_64 => self.x86_64_gb_second,
            Arch::Arm64 => self.arm64_gb_second,
        };
        gb_s * price + self.per_request
    }
}

/// Everything the pipeline needs to know about where it runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// The shipper's own region (`AWS_REGION`), reported as `cloud.region`: subscriptions never cross regions.
    pub region: Option<String>,
    pub pricing: Pricing,
    pub max_inflated_bytes: Option<usize>,
    /// No log record is built: set by the caller when logs are routed nowhere (`LOGSHIP_LOGS_TO=none`), so a
    /// spans-and-metrics shipper doesn't pay for records it would throw away. App lines are still read for what
    /// they say about spans (handler errors) and metrics.
    pub drop_logs: bool,
    /// JSON log bodies are rendered as OTLP/protobuf in the walk that checks them: set by the caller when logs
    /// go out over OTLP/protobuf, so the encoder copies each body instead of walking it a second time.
    pub render_otlp_bodies: bool,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error("{var}={value:?} is not a number")]
    NotANumber { var: &'static str, value: String },
    #[error("{var}={value:?}: {reason}")]
    Invalid { var: &'static str, value: String, reason: &'static str },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests need not touch the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let mut pricing = Pricing::default();
        let price = |var: &'static str, default: f64| -> Result<f64, ConfigError> {
            match get(var) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|p| p.is_finite() && *p >= 0.0)
                    .ok_or(ConfigError::NotANumber { var, value: v }),
            }
        };
        pricing.x86_64_gb_second = price("LOGSHIP_PRICE_X86_64_GB_SECOND", pricing.x86_64_gb_second)?;
        pricing.arm64_gb_second = price("LOGSHIP_PRICE_ARM64_GB_SECOND", pricing.arm64_gb_second)?;
        pricing.per_request = price("LOGSHIP_PRICE_PER_REQUEST", pricing.per_request)?;
        if let Some(v) = get("LOGSHIP_ARCHITECTURE") {
            pricing.default_arch = Arch::parse(&v).ok_or(ConfigError::Invalid {
                var: "LOGSHIP_ARCHITECTURE",
                value: v,
                reason: "expected x86_64 or arm64",
            })?;
        }
        if let Some(v) = get("LOGSHIP_FUNCTION_ARCHITECTURES") {
            for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let invalid =
                    |reason| ConfigError::Invalid { var: "LOGSHIP_FUNCTION_ARCHITECTURES", value: v.clone(), reason };
                let (name, arch) = pair.split_once('=').ok_or_else(|| invalid("expected function=arch pairs"))?;
                let arch = Arch::parse(arch).ok_or_else(|| invalid("architecture must be x86_64 or arm64"))?;
                pricing.function_arch.insert(name.trim().to_owned(), arch);
            }
        }
        let max_inflated_bytes = match get("LOGSHIP_MAX_INFLATED_BYTES") {
            None => None,
            Some(v) => Some(
                v.trim()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or(ConfigError::NotANumber { var: "LOGSHIP_MAX_INFLATED_BYTES", value: v })?,
            ),
        };
        let region = get("AWS_REGION").or_else(|| get("AWS_DEFAULT_REGION")).filter(|r| !r.trim().is_empty());
        Ok(Config { region, pricing, max_inflated_bytes, drop_logs: false, render_otlp_bodies: false })
    }

    pub fn decode_options(&self) -> DecodeOptions {
        DecodeOptions { max_inflated_bytes: self.max_inflated_bytes.unwrap_or(DEFAULT_MAX_INFLATED_BYTES) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_are_public_prices() {
        let c = Config::from_lookup(env(&[])).unwrap();
        assert_eq!(c.pricing, Pricing::default());
        assert_eq!(c.region, None);
        assert_eq!(c.decode_options().max_inflated_bytes, 16 * 1024 * 1024);
        // 1 GB for 1 s on x86_64 plus one request.
        let cost = c.pricing.invocation_cost(Arch::X86_64, 1000.0, 1024);
        assert!((cost - (0.000_016_666_7 + 0.000_000_2)).abs() < 1e-15);
    }

    #[test]
    fn reads_and_validates_every_variable() {
        let c = Config::from_lookup(env(&[
            ("AWS_REGION", "eu-west-1"),
            ("LOGSHIP_ARCHITECTURE", "arm64"),
            ("LOGSHIP_FUNCTION_ARCHITECTURES", "legacy=x86_64, api = arm64"),
            ("LOGSHIP_PRICE_ARM64_GB_SECOND", "0.00001"),
            ("LOGSHIP_MAX_INFLATED_BYTES", "1048576"),
        ]))
        .unwrap();
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.pricing.arch_of("legacy"), Arch::X86_64);
        assert_eq!(c.pricing.arch_of("api"), Arch::Arm64);
        assert_eq!(c.pricing.arch_of("other"), Arch::Arm64);
        assert_eq!(c.pricing.arm64_gb_second, 0.00001);
        assert_eq!(c.max_inflated_bytes, Some(1_048_576));
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: [(&str, &str); 4] = [
            ("LOGSHIP_PRICE_X86_64_GB_SECOND", "cheap"),
            ("LOGSHIP_ARCHITECTURE", "sparc"),
            ("LOGSHIP_FUNCTION_ARCHITECTURES", "fn:arm64"),
            ("LOGSHIP_MAX_INFLATED_BYTES", "-1"),
        ];
        for (var, value) in cases {
            let err = Config::from_lookup(env(&[(var, value)])).unwrap_err().to_string();
            assert!(err.starts_with(var), "{err}");
        }
    }
}
