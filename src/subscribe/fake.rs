//! An in-memory CloudWatch Logs for the engine's tests: paginated groups, filters with the two-filter limit, tags,
//! and scripted failures per call.

use crate::subscribe::{
    ApiError, ApiErrorKind, FilterSpec, GroupPage, LogGroup, LogsApi, Policy, SubscriptionFilter, Tags,
};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

pub const SHIPPER: &str = "arn:aws:lambda:eu-west-1:123456789012:function:logship-shipper";

/// A policy delivering to [`SHIPPER`], with `vars` over that; retries are quick so tests don't wait.
pub fn policy(vars: &[(&str, &str)]) -> Policy {
    let mut map: HashMap<String, String> = HashMap::new();
    map.insert("LOGSHIP_DESTINATION_ARN".into(), SHIPPER.into());
    for (k, v) in vars {
        map.insert(k.to_string(), v.to_string());
    }
    let mut p = Policy::from_lookup(|k| map.get(k).cloned()).unwrap();
    p.retry.initial_backoff = std::time::Duration::from_millis(1);
    p.retry.max_backoff = std::time::Duration::from_millis(2);
    p
}

pub fn filter(name: &str, destination: &str, pattern: &str) -> SubscriptionFilter {
    SubscriptionFilter {
        name: name.into(),
        destination_arn: destination.into(),
        filter_pattern: pattern.into(),
        role_arn: None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    List,
    Describe,
    Put,
    Delete,
    Tags,
}

#[derive(Debug, Default)]
struct Group {
    tags: Tags,
    filters: Vec<SubscriptionFilter>,
}

#[derive(Debug, Default)]
struct State {
    groups: BTreeMap<String, Group>,
    /// Errors to answer, in order, for (operation, group or prefix); "" matches any.
    failures: HashMap<(Op, String), VecDeque<ApiError>>,
    calls: Vec<(Op, String)>,
}

#[derive(Debug)]
pub struct FakeLogs {
    state: Mutex<State>,
    page_size: usize,
}

impl FakeLogs {
    pub fn new(page_size: usize) -> FakeLogs {
        FakeLogs { state: Mutex::new(State::default()), page_size }
    }

    pub fn add_group(&self, name: &str, tags: &[(&str, &str)], filters: Vec<SubscriptionFilter>) {
        let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.state.lock().unwrap().groups.insert(name.into(), Group { tags, filters });
    }

    /// Answers the next `times` calls of `op` on `target` (a group, or a prefix for `List`; "" for any) with `err`.
    pub fn fail(&self, op: Op, target: &str, err: ApiError, times: usize) {
        let mut s = self.state.lock().unwrap();
        let queue = s.failures.entry((op, target.into())).or_default();
        queue.extend(std::iter::repeat_n(err, times));
    }

    pub fn filters(&self, group: &str) -> Vec<SubscriptionFilter> {
        self.state.lock().unwrap().groups.get(group).map(|g| g.filters.clone()).unwrap_or_default()
    }

    pub fn calls(&self, op: Op) -> usize {
        self.state.lock().unwrap().calls.iter().filter(|(o, _)| *o == op).count()
    }

    pub fn calls_on(&self, op: Op, target: &str) -> usize {
        self.state.lock().unwrap().calls.iter().filter(|(o, t)| *o == op && t == target).count()
    }

    fn enter(&self, op: Op, target: &str) -> Result<std::sync::MutexGuard<'_, State>, ApiError> {
        let mut s = self.state.lock().unwrap();
        s.calls.push((op, target.into()));
        for key in [(op, target.to_owned()), (op, String::new())] {
            if let Some(err) = s.failures.get_mut(&key).and_then(VecDeque::pop_front) {
                return Err(err);
            }
        }
        Ok(s)
    }
}

fn not_found() -> ApiError {
    ApiError::new(ApiErrorKind::NotFound, "ResourceNotFoundException: The specified log group does not exist.")
}

fn arn(name: &str) -> String {
    format!("arn:aws:logs:eu-west-1:123456789012:log-group:{name}")
}

impl LogsApi for FakeLogs {
    async fn list_groups(&self, prefix: Option<&str>, next_token: Option<&str>) -> Result<GroupPage, ApiError> {
        let s = self.enter(Op::List, prefix.unwrap_or(""))?;
        let names: Vec<&String> = s
            .groups
            .keys()
            .filter(|n| prefix.is_none_or(|p| n.starts_with(p)))
            .filter(|n| next_token.is_none_or(|t| n.as_str() >= t))
            .take(self.page_size + 1)
            .collect();
        let next_token = names.get(self.page_size).map(|n| n.to_string());
        let groups = names.iter().take(self.page_size).map(|n| LogGroup { name: n.to_string(), arn: arn(n) }).collect();
        Ok(GroupPage { groups, next_token })
    }

    async fn describe_filters(&self, group: &str) -> Result<Vec<SubscriptionFilter>, ApiError> {
        let s = self.enter(Op::Describe, group)?;
        s.groups.get(group).map(|g| g.filters.clone()).ok_or_else(not_found)
    }

    async fn put_filter(&self, group: &str, spec: &FilterSpec) -> Result<(), ApiError> {
        let mut s = self.enter(Op::Put, group)?;
        let g = s.groups.get_mut(group).ok_or_else(not_found)?;
        let new = SubscriptionFilter {
            name: spec.name.clone(),
            destination_arn: spec.destination_arn.clone(),
            filter_pattern: spec.filter_pattern.clone(),
            role_arn: spec.role_arn.clone(),
        };
        // As CloudWatch Logs does: a filter of the same name is replaced, a new one must fit in two.
        if let Some(existing) = g.filters.iter_mut().find(|f| f.name == spec.name) {
            *existing = new;
        } else if g.filters.len() >= 2 {
            return Err(ApiError::new(ApiErrorKind::LimitExceeded, "LimitExceededException: Resource limit exceeded."));
        } else {
            g.filters.push(new);
        }
        Ok(())
    }

    async fn delete_filter(&self, group: &str, filter_name: &str) -> Result<(), ApiError> {
        let mut s = self.enter(Op::Delete, group)?;
        let g = s.groups.get_mut(group).ok_or_else(not_found)?;
        let before = g.filters.len();
        g.filters.retain(|f| f.name != filter_name);
        if g.filters.len() == before {
            return Err(not_found());
        }
        Ok(())
    }

    async fn list_tags(&self, group_arn: &str) -> Result<Tags, ApiError> {
        let name = group_arn.split_once(":log-group:").map_or("", |(_, n)| n).to_owned();
        let s = self.enter(Op::Tags, &name)?;
        s.groups.get(&name).map(|g| g.tags.clone()).ok_or_else(not_found)
    }
}
