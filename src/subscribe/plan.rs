//! The pure decision per log group: its name, tags and existing filters against the policy → what to do.

use crate::subscribe::{Policy, SubscriptionFilter, Tags};
use serde::{Deserialize, Serialize};

/// What a backfill or a CreateLogGroup event does to one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// No logship filter yet and room for one: PutSubscriptionFilter.
    Subscribe,
    /// logship's filter is there but delivers elsewhere or with another pattern or role: PutSubscriptionFilter
    /// replaces it in place (same name).
    Update,
    /// logship's filter is there as the policy wants it: no call.
    AlreadySubscribed,
    Skip(SkipReason),
}

/// Why a group was left alone. Counted per kind ([`SkipReason::key`]) in the run's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    /// The loop guard: the subscriber's or the shipper's own group.
    OwnGroup,
    NotIncluded,
    Excluded,
    TagsDoNotMatch,
    /// The group already has the maximum number of filters, none of them logship's: never clobbered.
    FilterLimit {
        existing: usize,
    },
    /// Another filter on the group already delivers to logship's destination: a second one would deliver every
    /// line twice.
    SameDestination,
    /// The group was deleted while the run was looking at it.
    Gone,
    /// Removal: the group has no filter of logship's name.
    NotSubscribed,
    /// Removal: a filter of logship's name delivers somewhere else, so it is not ours to delete.
    OtherDestination,
}

impl SkipReason {
    /// The name a reason is counted and logged under.
    pub fn key(self) -> &'static str {
        match self {
            SkipReason::OwnGroup => "own_group",
            SkipReason::NotIncluded => "not_included",
            SkipReason::Excluded => "excluded",
            SkipReason::TagsDoNotMatch => "tags_do_not_match",
            SkipReason::FilterLimit { .. } => "filter_limit",
            SkipReason::SameDestination => "same_destination",
            SkipReason::Gone => "gone",
            SkipReason::NotSubscribed => "not_subscribed",
            SkipReason::OtherDestination => "other_destination",
        }
    }
}

/// The decisions a group's name alone settles, in order: the loop guard first, so no prefix can reach a protected
/// group. The engine asks this before it spends a call on tags or filters.
pub fn screen(group: &str, policy: &Policy) -> Option<SkipReason> {
    if policy.is_protected(group) {
        Some(SkipReason::OwnGroup)
    } else if !policy.includes(group) {
        Some(SkipReason::NotIncluded)
    } else if policy.excludes(group) {
        Some(SkipReason::Excluded)
    } else {
        None
    }
}

/// What to do with one group. `tags` matter only when the policy has tag filters (pass an empty map otherwise);
/// `filters` are the group's current subscription filters.
pub fn plan(group: &str, tags: &Tags, filters: &[SubscriptionFilter], policy: &Policy) -> Action {
    if let Some(reason) = screen(group, policy) {
        return Action::Skip(reason);
    }
    if !policy.include_tags.iter().all(|t| t.matches(tags)) {
        return Action::Skip(SkipReason::TagsDoNotMatch);
    }
    let spec = policy.filter_spec();
    match filters.iter().find(|f| f.name == policy.filter_name) {
        Some(ours) => {
            let role = ours.role_arn.as_deref().filter(|r| !r.is_empty());
            if ours.destination_arn == spec.destination_arn
                && ours.filter_pattern == spec.filter_pattern
                && role == spec.role_arn.as_deref()
            {
                Action::AlreadySubscribed
            } else {
                Action::Update
            }
        }
        None if filters.iter().any(|f| f.destination_arn == spec.destination_arn) => {
            Action::Skip(SkipReason::SameDestination)
        }
        None if filters.len() >= policy.max_filters => {
            Action::Skip(SkipReason::FilterLimit { existing: filters.len() })
        }
        None => Action::Subscribe,
    }
}

/// What stack deletion or `{"action":"unsubscribe"}` does to one group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// DeleteSubscriptionFilter of logship's filter name.
    Delete,
    Keep(SkipReason),
}

/// Deletes only a filter of logship's name, and only when it delivers to logship's destination: a filter of the
/// same name pointing elsewhere belongs to someone else (another logship stack, say).
pub fn plan_removal(filters: &[SubscriptionFilter], policy: &Policy) -> Removal {
    match filters.iter().find(|f| f.name == policy.filter_name) {
        None => Removal::Keep(SkipReason::NotSubscribed),
        Some(f) if f.destination_arn != policy.destination.arn() => Removal::Keep(SkipReason::OtherDestination),
        Some(_) => Removal::Delete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subscribe::fake::{filter, policy, SHIPPER};

    const OTHER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:datadog-forwarder";

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn every_decision() {
        let p = policy(&[
            ("LOGSHIP_EXCLUDE_PREFIXES", "/aws/lambda/test-"),
            ("LOGSHIP_OWN_LOG_GROUPS", "/logship/shipper"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/logship-subscriber"),
        ]);
        let ours = filter("logship", SHIPPER, "");
        let cases: Vec<(&str, &str, Vec<SubscriptionFilter>, Action)> = vec![
            ("fresh group", "/aws/lambda/api", vec![], Action::Subscribe),
            ("one foreign filter leaves room", "/aws/lambda/api", vec![filter("dd", OTHER, "")], Action::Subscribe),
            (
                "two foreign filters: skipped, never clobbered",
                "/aws/lambda/api",
                vec![filter("dd", OTHER, ""), filter("es", OTHER, "ERROR")],
                Action::Skip(SkipReason::FilterLimit { existing: 2 }),
            ),
            ("ours as wanted", "/aws/lambda/api", vec![ours.clone()], Action::AlreadySubscribed),
            (
                "ours next to a foreign one",
                "/aws/lambda/api",
                vec![filter("dd", OTHER, ""), ours],
                Action::AlreadySubscribed,
            ),
            ("ours to another destination", "/aws/lambda/api", vec![filter("logship", OTHER, "")], Action::Update),
            ("ours with another pattern", "/aws/lambda/api", vec![filter("logship", SHIPPER, "ERROR")], Action::Update),
            (
                "ours and another at the limit still updates in place",
                "/aws/lambda/api",
                vec![filter("dd", OTHER, ""), filter("logship", OTHER, "")],
                Action::Update,
            ),
            (
                "a foreign filter already delivers to the shipper",
                "/aws/lambda/api",
                vec![filter("hand-made", SHIPPER, "")],
                Action::Skip(SkipReason::SameDestination),
            ),
            ("subscriber's own group", "/aws/lambda/logship-subscriber", vec![], Action::Skip(SkipReason::OwnGroup)),
            ("shipper's default group", "/aws/lambda/logship-shipper", vec![], Action::Skip(SkipReason::OwnGroup)),
            ("configured own group", "/logship/shipper", vec![], Action::Skip(SkipReason::OwnGroup)),
            ("outside the prefixes", "/ecs/web", vec![], Action::Skip(SkipReason::NotIncluded)),
            ("excluded", "/aws/lambda/test-api", vec![], Action::Skip(SkipReason::Excluded)),
        ];
        for (why, group, filters, want) in cases {
            assert_eq!(plan(group, &Tags::new(), &filters, &p), want, "{why}");
        }
    }

    #[test]
    fn a_role_matters_only_for_kinesis() {
        let lambda = policy(&[("LOGSHIP_SUBSCRIPTION_ROLE_ARN", "arn:aws:iam::123456789012:role/r")]);
        let mut with_role = filter("logship", SHIPPER, "");
        with_role.role_arn = Some("arn:aws:iam::123456789012:role/r".into());
        // A Lambda destination takes no role: a filter carrying one is rewritten without it.
        assert_eq!(plan("/aws/lambda/a", &Tags::new(), &[with_role.clone()], &lambda), Action::Update);
        assert_eq!(
            plan("/aws/lambda/a", &Tags::new(), &[filter("logship", SHIPPER, "")], &lambda),
            Action::AlreadySubscribed
        );

        let stream = "arn:aws:kinesis:eu-west-1:123456789012:stream/logs";
        let kinesis = policy(&[
            ("LOGSHIP_DESTINATION_ARN", stream),
            ("LOGSHIP_SUBSCRIPTION_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ]);
        let mut ours = with_role;
        ours.destination_arn = stream.into();
        assert_eq!(plan("/aws/lambda/a", &Tags::new(), &[ours.clone()], &kinesis), Action::AlreadySubscribed);
        ours.role_arn = Some("arn:aws:iam::123456789012:role/old".into());
        assert_eq!(plan("/aws/lambda/a", &Tags::new(), &[ours], &kinesis), Action::Update);
    }

    #[test]
    fn tag_filters_must_all_match() {
        let p = policy(&[("LOGSHIP_INCLUDE_TAGS", "team=obs,logship")]);
        let cases = [
            (tags(&[("team", "obs"), ("logship", "")]), Action::Subscribe),
            (tags(&[("team", "obs"), ("logship", "yes"), ("env", "prod")]), Action::Subscribe),
            (tags(&[("team", "obs")]), Action::Skip(SkipReason::TagsDoNotMatch)),
            (tags(&[("team", "web"), ("logship", "yes")]), Action::Skip(SkipReason::TagsDoNotMatch)),
            (Tags::new(), Action::Skip(SkipReason::TagsDoNotMatch)),
        ];
        for (t, want) in cases {
            assert_eq!(plan("/aws/lambda/a", &t, &[], &p), want, "{t:?}");
        }
    }

    /// A hostile configuration: every group included, the own groups named as include prefixes, nothing excluded.
    #[test]
    fn the_loop_guard_cannot_be_configured_away() {
        let p = policy(&[
            ("LOGSHIP_DESTINATION_ARN", "arn:aws:lambda:eu-west-1:123456789012:function:logship-shipper:live"),
            ("LOGSHIP_INCLUDE_PREFIXES", "/,/aws/lambda/logship-shipper,/aws/lambda/logship-subscriber,/logship/"),
            ("LOGSHIP_EXCLUDE_PREFIXES", ""),
            ("LOGSHIP_OWN_LOG_GROUPS", "/logship/shipper-custom"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/logship-subscriber"),
        ]);
        for group in ["/aws/lambda/logship-shipper", "/aws/lambda/logship-subscriber", "/logship/shipper-custom"] {
            assert_eq!(screen(group, &p), Some(SkipReason::OwnGroup), "{group}");
            assert_eq!(plan(group, &Tags::new(), &[], &p), Action::Skip(SkipReason::OwnGroup), "{group}");
        }
        // Only the exact groups: neighbours with a shared prefix are ordinary groups.
        assert_eq!(plan("/aws/lambda/logship-shipper-2", &Tags::new(), &[], &p), Action::Subscribe);
        assert_eq!(plan("other", &Tags::new(), &[], &p), Action::Subscribe);
    }

    #[test]
    fn removal_deletes_only_our_filter_to_our_destination() {
        let p = policy(&[]);
        let cases = [
            (vec![], Removal::Keep(SkipReason::NotSubscribed)),
            (vec![filter("dd", SHIPPER, "")], Removal::Keep(SkipReason::NotSubscribed)),
            (vec![filter("logship", OTHER, "")], Removal::Keep(SkipReason::OtherDestination)),
            (vec![filter("dd", OTHER, ""), filter("logship", SHIPPER, "ERROR")], Removal::Delete),
        ];
        for (filters, want) in cases {
            assert_eq!(plan_removal(&filters, &p), want, "{filters:?}");
        }
    }
}
