//! Batching shared by every backend: one signal's items cut into batches by count, and halved when a body is too big.
//!
//! A [`Batch`] names runs of items inside the [`Telemetry`] it was planned from instead of copying them, so the
//! common case — everything fits in one request — encodes the telemetry as it is.

use super::otlp_json::Signal;
use crate::telemetry::{ResourceTelemetry, Telemetry};

/// A run of one resource's items of the batch's signal: `resource`'s items `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub resource: usize,
    pub start: usize,
    pub end: usize,
}

impl Slice {
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Items of one signal, in delivery order, that go out in one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub signal: Signal,
    pub slices: Vec<Slice>,
}

/// How many items of `signal` a resource holds: spans, metric data points, or log records.
pub fn item_count(r: &ResourceTelemetry, signal: Signal) -> usize {
    match signal {
        Signal::Traces => r.spans.len(),
        Signal::Metrics => r.metrics.len(),
        Signal::Logs => r.logs.len(),
    }
}

impl Batch {
    pub fn items(&self) -> usize {
        self.slices.iter().map(Slice::len).sum()
    }

    /// Whether this batch is every item of its signal in `t`, so `t` itself can be encoded.
    pub fn is_whole(&self, t: &Telemetry) -> bool {
        let mut want = t.resources.iter().enumerate().filter(|(_, r)| item_count(r, self.signal) > 0);
        let mut got = self.slices.iter();
        loop {
            match (want.next(), got.next()) {
                (None, None) => return true,
                (Some((i, r)), Some(s)) if s.resource == i && s.start == 0 && s.end == item_count(r, self.signal) => {}
                _ => return false,
            }
        }
    }

    /// Halves the batch by item count; `Err` gives it back when it holds a single item.
    pub fn split(self) -> Result<(Batch, Batch), Batch> {
        let total = self.items();
        if total < 2 {
            return Err(self);
        }
        let mut left_budget = total / 2;
        let (mut left, mut right) = (Vec::new(), Vec::new());
        for s in self.slices {
            if left_budget == 0 {
                right.push(s);
            } else if s.len() <= left_budget {
                left_budget -= s.len();
                left.push(s);
            } else {
                let cut = s.start + left_budget;
                left.push(Slice { end: cut, ..s });
                right.push(Slice { start: cut, ..s });
                left_budget = 0;
            }
        }
        Ok((Batch { signal: self.signal, slices: left }, Batch { signal: self.signal, slices: right }))
    }

    /// A copy of just this batch's items, with their resources. Only needed when a signal takes several batches.
    pub fn materialize(&self, t: &Telemetry) -> Telemetry {
        let mut out = Telemetry::default();
        for s in &self.slices {
            let Some(r) = t.resources.get(s.resource) else { continue };
            let mut part = ResourceTelemetry { resource: r.resource.clone(), ..ResourceTelemetry::default() };
            match self.signal {
                Signal::Traces => part.spans = r.spans.get(s.start..s.end).unwrap_or_default().to_vec(),
                Signal::Metrics => part.metrics = r.metrics.get(s.start..s.end).unwrap_or_default().to_vec(),
                Signal::Logs => part.logs = r.logs.get(s.start..s.end).unwrap_or_default().to_vec(),
            }
            out.resources.push(part);
        }
        out
    }
}

/// Cuts `signal`'s items of `t` into batches of at most `max_items` (at least 1), keeping their order.
pub fn plan(t: &Telemetry, signal: Signal, max_items: usize) -> Vec<Batch> {
    let max_items = max_items.max(1);
    let mut batches = Vec::new();
    let mut current = Batch { signal, slices: Vec::new() };
    let mut room = max_items;
    for (resource, r) in t.resources.iter().enumerate() {
        let mut start = 0;
        let n = item_count(r, signal);
        while start < n {
            let take = room.min(n - start);
            current.slices.push(Slice { resource, start, end: start + take });
            start += take;
            room -= take;
            if room == 0 {
                batches.push(std::mem::replace(&mut current, Batch { signal, slices: Vec::new() }));
                room = max_items;
            }
        }
    }
    if !current.slices.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{AnyValue, LogRecord};
    use proptest::prelude::*;

    fn telemetry(sizes: &[usize]) -> Telemetry {
        let log = |i: usize| LogRecord {
            time_ns: i as u64,
            observed_ns: 0,
            severity: None,
            body: AnyValue::Int(i as i64),
            attributes: vec![],
            trace_id: None,
            span_id: None,
        };
        let mut n = 0;
        Telemetry {
            resources: sizes
                .iter()
                .map(|&k| ResourceTelemetry {
                    logs: (0..k)
                        .map(|_| {
                            n += 1;
                            log(n)
                        })
                        .collect(),
                    ..ResourceTelemetry::default()
                })
                .collect(),
        }
    }

    /// The body of every log, in batch order.
    fn bodies(t: &Telemetry, batches: &[Batch]) -> Vec<AnyValue> {
        batches.iter().flat_map(|b| b.materialize(t).resources).flat_map(|r| r.logs).map(|l| l.body).collect()
    }

    #[test]
    fn one_batch_when_everything_fits() {
        let t = telemetry(&[3, 0, 2]);
        let batches = plan(&t, Signal::Logs, 10);
        assert_eq!(batches.len(), 1);
        assert!(batches[0].is_whole(&t));
        assert_eq!(batches[0].items(), 5);
        assert!(plan(&t, Signal::Traces, 10).is_empty());
        assert!(!plan(&t, Signal::Logs, 4)[0].is_whole(&t));
    }

    #[test]
    fn a_single_item_cannot_split() {
        let t = telemetry(&[1]);
        let b = plan(&t, Signal::Logs, 10).remove(0);
        assert_eq!(b.clone().split(), Err(b));
    }

    proptest! {
        /// Nothing lost, nothing duplicated, order kept, no batch over the cap.
        #[test]
        fn plan_keeps_every_item_once(sizes in prop::collection::vec(0usize..40, 0..8), max in 1usize..25) {
            let t = telemetry(&sizes);
            let batches = plan(&t, Signal::Logs, max);
            let all: Vec<AnyValue> = t.resources.iter().flat_map(|r| r.logs.iter().map(|l| l.body.clone())).collect();
            prop_assert_eq!(bodies(&t, &batches), all);
            for b in &batches {
                prop_assert!(b.items() >= 1 && b.items() <= max);
                prop_assert!(b.slices.iter().all(|s| !s.is_empty()));
            }
        }

        /// Halving repeatedly still yields every item exactly once, in order, down to single items.
        #[test]
        fn split_halves_without_loss(sizes in prop::collection::vec(0usize..30, 1..6)) {
            let t = telemetry(&sizes);
            let all: Vec<AnyValue> = t.resources.iter().flat_map(|r| r.logs.iter().map(|l| l.body.clone())).collect();
            let mut done = Vec::new();
            let mut todo = plan(&t, Signal::Logs, usize::MAX);
            while let Some(b) = todo.pop() {
                match b.split() {
                    Ok((l, r)) => {
                        prop_assert!(l.items().abs_diff(r.items()) <= 1);
                        todo.push(r);
                        todo.push(l);
                    }
                    Err(single) => done.push(single),
                }
            }
            prop_assert!(done.iter().all(|b| b.items() == 1));
            prop_assert_eq!(bodies(&t, &done), all);
        }
    }
}
