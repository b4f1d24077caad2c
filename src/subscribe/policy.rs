//! Environment → [`Policy`], validated once at cold start, with errors that name the variable.

use crate::export::retry::RetryPolicy;
use crate::subscribe::{FilterSpec, Tags};
use std::collections::BTreeSet;

/// The filter name logship puts on every group: fixed, so a re-run updates its own filter instead of adding one.
pub const DEFAULT_FILTER_NAME: &str = "logship";
pub const DEFAULT_INCLUDE_PREFIX: &str = "/aws/lambda/";
/// CloudWatch Logs allows two subscription filters per log group.
pub const MAX_FILTERS_PER_GROUP: usize = 2;
/// PutSubscriptionFilter's limits on a filter name and pattern.
const MAX_FILTER_NAME_LEN: usize = 512;
const MAX_FILTER_PATTERN_LEN: usize = 1024;

/// Where the subscription filters deliver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The shipper function. `function` is its name without a version or alias qualifier.
    Lambda { arn: String, function: String },
    /// A Kinesis data stream the shipper reads; CloudWatch Logs needs a role to write to it.
    Kinesis { arn: String },
}

impl Destination {
    /// A Lambda function ARN (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`) or a Kinesis stream ARN
    /// (`arn:aws:kinesis:REGION:ACCOUNT:stream/NAME`).
    pub fn parse(arn: &str) -> Result<Destination, &'static str> {
        let arn = arn.trim();
        let mut parts = arn.splitn(6, ':');
        let (Some("arn"), Some(partition), Some(service), Some(region), Some(account), Some(resource)) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected an ARN: arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE");
        };
        if !partition.starts_with("aws") || region.is_empty() || account.len() != 12 {
            return Err("expected an ARN with a partition, a region and a 12-digit account");
        }
        if !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err("expected an ARN with a partition, a region and a 12-digit account");
        }
        match service {
            "lambda" => {
                let function = resource
                    .strip_prefix("function:")
                    .and_then(|rest| rest.split(':').next())
                    .filter(|name| !name.is_empty())
                    .ok_or("expected a Lambda function ARN (…:function:NAME)")?;
                Ok(Destination::Lambda { arn: arn.to_owned(), function: function.to_owned() })
            }
            "kinesis" => match resource.strip_prefix("stream/") {
                Some(name) if !name.is_empty() => Ok(Destination::Kinesis { arn: arn.to_owned() }),
                _ => Err("expected a Kinesis stream ARN (…:stream/NAME)"),
            },
            _ => Err("expected the ARN of a Lambda function or a Kinesis stream"),
        }
    }

    pub fn arn(&self) -> &str {
        match self {
            Destination::Lambda { arn, .. } | Destination::Kinesis { arn } => arn,
        }
    }

    /// The group Lambda writes the destination function's own logs to by default: subscribing it would feed the
    /// shipper its own output, for ever.
    pub fn default_log_group(&self) -> Option<String> {
        match self {
            Destination::Lambda { function, .. } => Some(format!("/aws/lambda/{function}")),
            Destination::Kinesis { .. } => None,
        }
    }
}

/// A tag a group must carry: `key=value`, or a bare `key` that any value satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFilter {
    pub key: String,
    pub value: Option<String>,
}

impl TagFilter {
    pub fn matches(&self, tags: &Tags) -> bool {
        match (tags.get(&self.key), &self.value) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(have), Some(want)) => have == want,
        }
    }
}

/// Which groups get logship's filter, and the filter itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub filter_name: String,
    pub destination: Destination,
    /// The role CloudWatch Logs assumes to write to a Kinesis destination.
    pub role_arn: Option<String>,
    /// Empty: every event.
    pub filter_pattern: String,
    /// A group is included when its name starts with one of these; `/` or an empty prefix includes every group.
    pub include_prefixes: Vec<String>,
    pub exclude_prefixes: Vec<String>,
    /// A group must match every one of these; empty means no tag condition (and no tag look-ups).
    pub include_tags: Vec<TagFilter>,
    /// Groups never subscribed whatever the prefixes say: the subscriber's own group and the configured ones. The
    /// destination function's default group is always added to these by [`Policy::is_protected`].
    pub own_log_groups: BTreeSet<String>,
    /// Foreign filters a group may already carry before there is no room for ours.
    pub max_filters: usize,
    /// On stack deletion, delete the filters logship made.
    pub remove_on_delete: bool,
    /// Throttled calls are retried on this schedule (the project's one backoff policy), bounded by the deadline.
    pub retry: RetryPolicy,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("{var} is required: {reason}")]
    Missing { var: &'static str, reason: &'static str },
    #[error("{var}={value:?}: {reason}")]
    Invalid { var: &'static str, value: String, reason: &'static str },
}

impl Policy {
    /// Reads the process environment.
    pub fn from_env() -> Result<Policy, PolicyError> {
        Policy::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `get`, so tests need not touch the process environment. A variable set to an
    /// empty value counts as unset, as an empty CloudFormation parameter usually means "the default".
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Policy, PolicyError> {
        let get = |var: &str| get(var).filter(|v| !v.trim().is_empty());
        let invalid = |var: &'static str, value: &str, reason: &'static str| PolicyError::Invalid {
            var,
            value: value.to_owned(),
            reason,
        };

        let var = "LOGSHIP_DESTINATION_ARN";
        let value = get(var).ok_or(PolicyError::Missing {
            var,
            reason: "the ARN of the shipper function (or of the Kinesis stream it reads)",
        })?;
        let destination = Destination::parse(&value).map_err(|reason| invalid(var, &value, reason))?;

        let var = "LOGSHIP_SUBSCRIPTION_ROLE_ARN";
        let role_arn = match get(var) {
            Some(v) if v.trim().starts_with("arn:") && v.contains(":role/") => Some(v.trim().to_owned()),
            Some(v) => return Err(invalid(var, &v, "expected an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)")),
            None => None,
        };
        if matches!(destination, Destination::Kinesis { .. }) && role_arn.is_none() {
            return Err(PolicyError::Missing {
                var,
                reason: "CloudWatch Logs needs a role to write to a Kinesis destination",
            });
        }

        let var = "LOGSHIP_FILTER_NAME";
        let filter_name = match get(var) {
            None => DEFAULT_FILTER_NAME.to_owned(),
            Some(v) if v.len() > MAX_FILTER_NAME_LEN || v.contains([':', '*']) => {
                return Err(invalid(var, &v, "at most 512 characters, without ':' or '*'"))
            }
            Some(v) => v,
        };

        let var = "LOGSHIP_FILTER_PATTERN";
        let filter_pattern = match get(var) {
            None => String::new(),
            Some(v) if v.len() > MAX_FILTER_PATTERN_LEN => {
                return Err(invalid(var, &v, "a filter pattern has at most 1024 characters"))
            }
            Some(v) => v,
        };

        let include_prefixes = match get("LOGSHIP_INCLUDE_PREFIXES") {
            None => vec![DEFAULT_INCLUDE_PREFIX.to_owned()],
            Some(v) => list(&v),
        };
        let exclude_prefixes = get("LOGSHIP_EXCLUDE_PREFIXES").map(|v| list(&v)).unwrap_or_default();

        let var = "LOGSHIP_INCLUDE_TAGS";
        let mut include_tags = Vec::new();
        if let Some(v) = get(var) {
            for item in list(&v) {
                let (key, value) = match item.split_once('=') {
                    Some((k, val)) => (k.trim(), Some(val.trim().to_owned())),
                    None => (item.as_str(), None),
                };
                if key.is_empty() {
                    return Err(invalid(var, &v, "expected key=value or key items, comma-separated"));
                }
                include_tags.push(TagFilter { key: key.to_owned(), value });
            }
        }

        let mut own_log_groups: BTreeSet<String> =
            get("LOGSHIP_OWN_LOG_GROUPS").map(|v| list(&v)).unwrap_or_default().into_iter().collect();
        if let Some(own) = get("AWS_LAMBDA_LOG_GROUP_NAME") {
            own_log_groups.insert(own.trim().to_owned());
        }

        let var = "LOGSHIP_REMOVE_ON_DELETE";
        let remove_on_delete = match get(var).map(|v| (v.trim().to_ascii_lowercase(), v)) {
            None => true,
            Some((b, _)) if b == "true" => true,
            Some((b, _)) if b == "false" => false,
            Some((_, v)) => return Err(invalid(var, &v, "expected true or false")),
        };

        Ok(Policy {
            filter_name,
            destination,
            role_arn,
            filter_pattern,
            include_prefixes,
            exclude_prefixes,
            include_tags,
            own_log_groups,
            max_filters: MAX_FILTERS_PER_GROUP,
            remove_on_delete,
            retry: RetryPolicy::default(),
        })
    }

    /// The loop guard: the subscriber's own group, the destination function's default group and every configured
    /// own group are never subscribed. Checked before any prefix, so no include setting reaches them.
    pub fn is_protected(&self, group: &str) -> bool {
        self.own_log_groups.contains(group) || self.destination.default_log_group().is_some_and(|g| g == group)
    }

    pub fn includes(&self, group: &str) -> bool {
        self.include_prefixes.iter().any(|p| p.is_empty() || p == "/" || group.starts_with(p.as_str()))
    }

    pub fn excludes(&self, group: &str) -> bool {
        self.exclude_prefixes.iter().any(|p| group.starts_with(p.as_str()))
    }

    /// The DescribeLogGroups name prefixes a backfill lists, in order: `None` (every group) when a prefix is `/` or
    /// empty, and no prefix that another one already covers, so no group is listed twice.
    pub fn list_prefixes(&self) -> Vec<Option<String>> {
        if self.include_prefixes.iter().any(|p| p.is_empty() || p == "/") {
            return vec![None];
        }
        let mut prefixes: Vec<&String> = self.include_prefixes.iter().collect();
        prefixes.sort();
        prefixes.dedup();
        let mut kept: Vec<Option<String>> = Vec::new();
        for p in prefixes {
            // Sorted, so a covering prefix comes before every prefix it covers.
            if !kept.iter().flatten().any(|k| p.starts_with(k.as_str())) {
                kept.push(Some(p.clone()));
            }
        }
        kept
    }

    /// The role PutSubscriptionFilter gets: Kinesis destinations only (a Lambda destination takes none).
    pub fn put_role(&self) -> Option<&str> {
        match self.destination {
            Destination::Kinesis { .. } => self.role_arn.as_deref(),
            Destination::Lambda { .. } => None,
        }
    }

    /// logship's filter as PutSubscriptionFilter creates it.
    pub fn filter_spec(&self) -> FilterSpec {
        FilterSpec {
            name: self.filter_name.clone(),
            filter_pattern: self.filter_pattern.clone(),
            destination_arn: self.destination.arn().to_owned(),
            role_arn: self.put_role().map(str::to_owned),
        }
    }
}

/// A comma-separated list, items trimmed, empty items dropped.
fn list(value: &str) -> Vec<String> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    pub(crate) const SHIPPER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:logship-shipper";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults() {
        let p = Policy::from_lookup(env(&[("LOGSHIP_DESTINATION_ARN", SHIPPER)])).unwrap();
        assert_eq!(p.filter_name, "logship");
        assert_eq!(p.filter_pattern, "");
        assert_eq!(p.include_prefixes, ["/aws/lambda/"]);
        assert!(p.exclude_prefixes.is_empty() && p.include_tags.is_empty() && p.own_log_groups.is_empty());
        assert_eq!(p.max_filters, 2);
        assert!(p.remove_on_delete);
        assert_eq!(p.put_role(), None);
        assert_eq!(p.list_prefixes(), [Some("/aws/lambda/".to_owned())]);
    }

    #[test]
    fn reads_every_variable() {
        let p = Policy::from_lookup(env(&[
            ("LOGSHIP_DESTINATION_ARN", "arn:aws:kinesis:eu-west-1:123456789012:stream/logs"),
            ("LOGSHIP_SUBSCRIPTION_ROLE_ARN", "arn:aws:iam::123456789012:role/cwl-to-kinesis"),
            ("LOGSHIP_FILTER_NAME", "logship-prod"),
            ("LOGSHIP_FILTER_PATTERN", "-\"DEBUG\""),
            ("LOGSHIP_INCLUDE_PREFIXES", "/aws/lambda/, /ecs/ ,"),
            ("LOGSHIP_EXCLUDE_PREFIXES", "/aws/lambda/test-"),
            ("LOGSHIP_INCLUDE_TAGS", "team=obs, logship"),
            ("LOGSHIP_OWN_LOG_GROUPS", "/logship/shipper,/logship/other"),
            ("LOGSHIP_REMOVE_ON_DELETE", "FALSE"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/logship-subscriber"),
        ]))
        .unwrap();
        assert_eq!(p.filter_name, "logship-prod");
        assert_eq!(p.filter_pattern, "-\"DEBUG\"");
        assert_eq!(p.include_prefixes, ["/aws/lambda/", "/ecs/"]);
        assert_eq!(p.exclude_prefixes, ["/aws/lambda/test-"]);
        assert_eq!(
            p.include_tags,
            [
                TagFilter { key: "team".into(), value: Some("obs".into()) },
                TagFilter { key: "logship".into(), value: None }
            ]
        );
        let own: Vec<&str> = p.own_log_groups.iter().map(String::as_str).collect();
        assert_eq!(own, ["/aws/lambda/logship-subscriber", "/logship/other", "/logship/shipper"]);
        assert!(!p.remove_on_delete);
        assert_eq!(p.put_role(), Some("arn:aws:iam::123456789012:role/cwl-to-kinesis"));
        assert_eq!(p.filter_spec().role_arn.as_deref(), Some("arn:aws:iam::123456789012:role/cwl-to-kinesis"));
    }

    #[test]
    fn errors_name_the_variable() {
        let cases: [(&[(&str, &str)], &str); 8] = [
            (&[], "LOGSHIP_DESTINATION_ARN"),
            (&[("LOGSHIP_DESTINATION_ARN", "logship-shipper")], "LOGSHIP_DESTINATION_ARN"),
            (&[("LOGSHIP_DESTINATION_ARN", "arn:aws:sqs:eu-west-1:123456789012:q")], "LOGSHIP_DESTINATION_ARN"),
            (
                &[("LOGSHIP_DESTINATION_ARN", "arn:aws:kinesis:eu-west-1:123456789012:stream/logs")],
                "LOGSHIP_SUBSCRIPTION_ROLE_ARN",
            ),
            (
                &[("LOGSHIP_DESTINATION_ARN", SHIPPER), ("LOGSHIP_SUBSCRIPTION_ROLE_ARN", "cwl")],
                "LOGSHIP_SUBSCRIPTION_ROLE_ARN",
            ),
            (&[("LOGSHIP_DESTINATION_ARN", SHIPPER), ("LOGSHIP_FILTER_NAME", "a:b")], "LOGSHIP_FILTER_NAME"),
            (&[("LOGSHIP_DESTINATION_ARN", SHIPPER), ("LOGSHIP_INCLUDE_TAGS", "=x")], "LOGSHIP_INCLUDE_TAGS"),
            (&[("LOGSHIP_DESTINATION_ARN", SHIPPER), ("LOGSHIP_REMOVE_ON_DELETE", "yes")], "LOGSHIP_REMOVE_ON_DELETE"),
        ];
        for (vars, var) in cases {
            let err = Policy::from_lookup(env(vars)).unwrap_err().to_string();
            assert!(err.starts_with(var), "{vars:?}: {err}");
        }
    }

    #[test]
    fn destinations() {
        let cases = [
            (SHIPPER, Some("/aws/lambda/logship-shipper")),
            (
                "arn:aws:lambda:eu-west-1:123456789012:function:logship-shipper:live",
                Some("/aws/lambda/logship-shipper"),
            ),
            ("arn:aws:lambda:eu-west-1:123456789012:function:logship-shipper:7", Some("/aws/lambda/logship-shipper")),
            ("arn:aws-cn:lambda:cn-north-1:123456789012:function:shipper", Some("/aws/lambda/shipper")),
            ("arn:aws:kinesis:eu-west-1:123456789012:stream/logs", None),
        ];
        for (arn, group) in cases {
            let d = Destination::parse(arn).unwrap();
            assert_eq!(d.arn(), arn);
            assert_eq!(d.default_log_group().as_deref(), group, "{arn}");
        }
        for bad in [
            "arn:aws:lambda:eu-west-1:123456789012:function:",
            "arn:aws:lambda:eu-west-1:1234:function:f",
            "arn:aws:lambda::123456789012:function:f",
            "arn:aws:kinesis:eu-west-1:123456789012:stream/",
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/x",
        ] {
            assert!(Destination::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn list_prefixes_never_lists_a_group_twice() {
        let mut p = Policy::from_lookup(env(&[("LOGSHIP_DESTINATION_ARN", SHIPPER)])).unwrap();
        p.include_prefixes = vec!["/aws/lambda/api-".into(), "/ecs/".into(), "/aws/lambda/".into(), "/ecs/".into()];
        assert_eq!(p.list_prefixes(), [Some("/aws/lambda/".to_owned()), Some("/ecs/".to_owned())]);
        p.include_prefixes.push("/".into());
        assert_eq!(p.list_prefixes(), [None]);
        assert!(p.includes("no-slash-group"));
    }

    #[test]
    fn empty_values_mean_the_default() {
        let p = Policy::from_lookup(env(&[
            ("LOGSHIP_DESTINATION_ARN", SHIPPER),
            ("LOGSHIP_FILTER_NAME", ""),
            ("LOGSHIP_INCLUDE_PREFIXES", " "),
            ("LOGSHIP_REMOVE_ON_DELETE", ""),
        ]))
        .unwrap();
        assert_eq!(p.filter_name, "logship");
        assert_eq!(p.include_prefixes, ["/aws/lambda/"]);
        assert!(p.remove_on_delete);
    }
}
