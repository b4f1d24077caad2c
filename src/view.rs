//! A terminal waterfall of Lambda invocations and the spans under them, the X-Ray console's trace view as text.
//!
//! An invocation is a span carrying `faas.invocation_id` and `faas.coldstart`, as the assembler writes them.
//! Every other span hangs under the invocation it descends from (by `parent_span_id`), or, when its ancestry
//! leaves the batch, under the invocation whose request id it carries (spans printed by the function itself),
//! else the invocation of its trace whose window holds it, else the same function's invocation running then. Invocation bars share one timeline, the window of every
//! invocation shown; a child's bar is drawn on its invocation's window, clamped to it.
//!
//! Everything printed from the telemetry is untrusted log text: control characters (terminal escapes among them)
//! are replaced and only the first line of a message is shown.

use crate::telemetry::{attr, AnyValue, Span, SpanId, Status, Telemetry, TraceId, UnixNanos};
use crate::time::format_rfc3339_ms;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// How [`waterfall`] draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaterfallOptions {
    /// Cells in every timeline bar; at least 1, at most 1024.
    pub width: usize,
    /// ANSI colours: red for errors, yellow for cold starts.
    pub color: bool,
    /// Draw at most this many invocations, the earliest; the rest are counted on a last line.
    pub max_invocations: Option<usize>,
    /// Draw at most this many spans under one invocation; the rest are counted.
    pub max_children: Option<usize>,
}

impl Default for WaterfallOptions {
    fn default() -> Self {
        WaterfallOptions { width: 40, color: false, max_invocations: None, max_children: None }
    }
}

const MAX_WIDTH: usize = 1024;
const TIME_WIDTH: usize = 24;
const REQUEST_ID_WIDTH: usize = 8;
const MIN_NAME_WIDTH: usize = 8;
const MAX_NAME_WIDTH: usize = 40;
const MAX_MESSAGE: usize = 100;
/// Beyond this depth children stop moving right, so a runaway chain cannot push the bars off the screen.
const MAX_INDENT: usize = 12;

const RED: &str = "\x1b[31m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// One span and where it came from.
struct Entry<'a> {
    span: &'a Span,
    /// `faas.invocation_id` when the span is an invocation.
    invocation_id: Option<&'a AnyValue>,
    /// The request a non-invocation span was printed during, when its line said.
    request_id: Option<&'a str>,
    function: &'a str,
}

/// Renders the invocations in `telemetry` as a waterfall, grouped by function.
pub fn waterfall(telemetry: &Telemetry, opts: &WaterfallOptions) -> String {
    let entries: Vec<Entry<'_>> = telemetry
        .resources
        .iter()
        .flat_map(|r| {
            r.spans.iter().map(move |span| {
                let function = [&span.attributes, &r.resource.attributes]
                    .into_iter()
                    .find_map(|a| attr(a, "faas.name").and_then(AnyValue::as_str))
                    .unwrap_or(&span.name);
                let request = attr(&span.attributes, "faas.invocation_id");
                let is_invocation = attr(&span.attributes, "faas.coldstart").is_some();
                Entry {
                    span,
                    invocation_id: request.filter(|_| is_invocation),
                    request_id: request.filter(|_| !is_invocation).and_then(AnyValue::as_str),
                    function,
                }
            })
        })
        .collect();

    // Invocations in display order: start time, then request id, then span id.
    let mut invocations: Vec<usize> = (0..entries.len()).filter(|&i| entries[i].invocation_id.is_some()).collect();
    if invocations.is_empty() {
        let spans = entries.len();
        return format!("no invocations ({spans} span{})\n", plural(spans));
    }
    invocations.sort_by(|&a, &b| {
        let e = |i: usize| &entries[i];
        let key = |i: usize| (e(i).span.start_ns, e(i).invocation_id.and_then(AnyValue::as_str), e(i).span.span_id);
        key(a).cmp(&key(b))
    });
    let children = assign_children(&entries, &invocations);

    let total = invocations.len();
    let shown = opts.max_invocations.map_or(total, |m| m.min(total));
    let shown_positions = 0..shown;
    let width = opts.width.clamp(1, MAX_WIDTH);
    let paint = Paint { on: opts.color };
    let mut out = String::new();

    if shown == 0 {
        let _ = writeln!(out, "{total} invocation{} not shown", plural(total));
        return out;
    }
    let window_start = shown_positions.clone().map(|p| entries[invocations[p]].span.start_ns).min().unwrap_or(0);
    let window_end = shown_positions.clone().map(|p| end_of(entries[invocations[p]].span)).max().unwrap_or(0);

    // Lay out every shown row first so the name column fits the longest label.
    let mut groups: BTreeMap<&str, Vec<Row<'_>>> = BTreeMap::new();
    for p in shown_positions {
        let inv = &entries[invocations[p]];
        let mut rows = vec![Row::Span { entry: inv, depth: 0 }];
        tree_rows(&entries, &children[p], opts.max_children, &mut rows);
        groups.entry(inv.function).or_default().extend(rows);
    }
    let name_width = groups
        .values()
        .flatten()
        .map(|row| match row {
            Row::Span { entry, depth } => label(entry, *depth).chars().count(),
            Row::More { .. } => 0,
        })
        .max()
        .unwrap_or(0)
        .clamp(MIN_NAME_WIDTH, MAX_NAME_WIDTH);

    let _ = writeln!(
        out,
        "{shown} invocation{} from {} to {} ({} ms)",
        plural(shown),
        format_rfc3339_ms(window_start),
        format_rfc3339_ms(window_end),
        ms(window_end.saturating_sub(window_start)),
    );
    for (function, rows) in &groups {
        let count = rows.iter().filter(|r| matches!(r, Row::Span { depth: 0, .. })).count();
        let _ = writeln!(out, "\n{} ({count} invocation{})", paint.wrap(BOLD, &clean(function, 200)), plural(count));
        let mut invocation_window = (window_start, window_end);
        for row in rows {
            let line = match row {
                Row::Span { entry, depth: 0 } => {
                    invocation_window = (entry.span.start_ns, end_of(entry.span));
                    invocation_line(entry, (window_start, window_end), name_width, width, paint)
                }
                Row::Span { entry, depth } => child_line(entry, *depth, invocation_window, name_width, width, paint),
                Row::More { depth, count } => {
                    format!("  {:TIME_WIDTH$}  {}… {count} more span{}", "", indent(*depth), plural(*count))
                }
            };
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    if shown < total {
        let _ = writeln!(out, "\n… {} more invocation{} not shown", total - shown, plural(total - shown));
    }
    // A beeline or OpenTelemetry SDK that starts its own trace id shares no trace with any invocation; say so
    // rather than let those spans vanish silently.
    let owned: usize = children.iter().map(Vec::len).sum();
    let orphans = entries.len().saturating_sub(total + owned);
    if orphans > 0 {
        let _ = writeln!(out, "\n{orphans} span{} in traces without an invocation not shown", plural(orphans));
    }
    out
}

enum Row<'a> {
    /// Depth 0 is the invocation itself.
    Span {
        entry: &'a Entry<'a>,
        depth: usize,
    },
    More {
        depth: usize,
        count: usize,
    },
}

/// For each invocation (by position in `invocations`), the other spans of its trace it owns.
fn assign_children(entries: &[Entry<'_>], invocations: &[usize]) -> Vec<Vec<usize>> {
    let mut position = vec![None; entries.len()];
    for (p, &i) in invocations.iter().enumerate() {
        position[i] = Some(p);
    }
    let mut by_id: HashMap<(TraceId, SpanId), usize> = HashMap::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        by_id.entry((e.span.trace_id, e.span.span_id)).or_insert(i);
    }
    let mut by_trace: HashMap<TraceId, Vec<usize>> = HashMap::new();
    let mut by_request: HashMap<&str, usize> = HashMap::new();
    let mut by_function: HashMap<&str, Vec<usize>> = HashMap::new();
    for (p, &i) in invocations.iter().enumerate() {
        by_trace.entry(entries[i].span.trace_id).or_default().push(p);
        by_function.entry(entries[i].function).or_default().push(p);
        if let Some(id) = entries[i].invocation_id.and_then(AnyValue::as_str) {
            by_request.entry(id).or_insert(p);
        }
    }
    // When a span's ancestry leaves the batch: the invocation whose request printed it, else the invocation of its
    // trace whose window holds its start, else the trace's first invocation.
    let fallback = |i: usize| -> Option<usize> {
        if let Some(p) = entries[i].request_id.and_then(|r| by_request.get(r)) {
            return Some(*p);
        }
        let span = entries[i].span;
        let holds = |p: &usize| {
            let inv = entries[invocations[*p]].span;
            (inv.start_ns..=end_of(inv)).contains(&span.start_ns)
        };
        match by_trace.get(&span.trace_id) {
            Some(candidates) => candidates.iter().copied().find(holds).or_else(|| candidates.first().copied()),
            // A trace of its own with no request id (a Go beeline prints no prefix): the same function's
            // invocation that was running when it started.
            None => by_function.get(entries[i].function)?.iter().copied().find(holds),
        }
    };

    // Walk each span up its parents until an invocation or an already resolved span; every span on the way gets
    // the same answer, so the whole pass is linear even for long chains, and cycles end at the first repeat.
    const UNSEEN: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![UNSEEN; entries.len()];
    let mut owner: Vec<Option<usize>> = vec![None; entries.len()];
    let mut path = Vec::new();
    for start in 0..entries.len() {
        if position[start].is_some() || state[start] == DONE {
            continue;
        }
        let mut cur = start;
        let found = loop {
            if let Some(p) = position[cur] {
                break Some(p);
            }
            match state[cur] {
                DONE => break owner[cur],
                ON_PATH => break None,
                _ => {}
            }
            state[cur] = ON_PATH;
            path.push(cur);
            let span = entries[cur].span;
            match span.parent_span_id.and_then(|p| by_id.get(&(span.trace_id, p))).copied() {
                Some(next) if next != cur => cur = next,
                _ => break None,
            }
        };
        for &i in &path {
            owner[i] = found.or_else(|| fallback(i));
            state[i] = DONE;
        }
        path.clear();
    }

    let mut children = vec![Vec::new(); invocations.len()];
    for (i, o) in owner.iter().enumerate() {
        if let Some(p) = *o {
            children[p].push(i);
        }
    }
    children
}

/// The spans under one invocation, depth first, each level in start order.
fn tree_rows<'a>(entries: &'a [Entry<'a>], kids: &[usize], max: Option<usize>, rows: &mut Vec<Row<'a>>) {
    let mut kids = kids.to_vec();
    kids.sort_by_key(|&i| (entries[i].span.start_ns, entries[i].span.span_id));
    let mut local: HashMap<SpanId, usize> = HashMap::with_capacity(kids.len());
    for (k, &i) in kids.iter().enumerate() {
        local.entry(entries[i].span.span_id).or_insert(k);
    }
    let mut below = vec![Vec::new(); kids.len()];
    let mut roots = Vec::new();
    for (k, &i) in kids.iter().enumerate() {
        match entries[i].span.parent_span_id.and_then(|p| local.get(&p)).copied() {
            Some(parent) if parent != k => below[parent].push(k),
            _ => roots.push(k),
        }
    }

    let limit = max.unwrap_or(usize::MAX);
    let mut drawn = 0;
    let mut visited = vec![false; kids.len()];
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&k| (k, 1)).collect();
    // Spans caught in a parent cycle are reachable from no root; each is drawn from the earliest one.
    let mut next_unvisited = 0;
    while let Some((k, depth)) = stack.pop().or_else(|| {
        while next_unvisited < kids.len() && visited[next_unvisited] {
            next_unvisited += 1;
        }
        (next_unvisited < kids.len()).then_some((next_unvisited, 1))
    }) {
        if visited[k] {
            continue;
        }
        visited[k] = true;
        if drawn == limit {
            rows.push(Row::More { depth: 1, count: kids.len() - drawn });
            return;
        }
        drawn += 1;
        rows.push(Row::Span { entry: &entries[kids[k]], depth });
        stack.extend(below[k].iter().rev().filter(|&&c| !visited[c]).map(|&c| (c, depth + 1)));
    }
}

fn invocation_line(
    entry: &Entry<'_>,
    window: (UnixNanos, UnixNanos),
    name_width: usize,
    width: usize,
    paint: Paint,
) -> String {
    let span = entry.span;
    let failed = matches!(span.status, Status::Error(_));
    let cold = matches!(attr(&span.attributes, "faas.coldstart"), Some(AnyValue::Bool(true)))
        || attr(&span.attributes, "faas.coldstart").and_then(AnyValue::as_str) == Some("true");
    let status = match &span.status {
        Status::Error(m) => paint.wrap(RED, &error_text(m)),
        Status::Ok | Status::Unset => "OK".to_owned(),
    };
    format!(
        "  {:TIME_WIDTH$}  {}  {:REQUEST_ID_WIDTH$}  |{}|  {:>10} ms  {}  {status}",
        format_rfc3339_ms(span.start_ns),
        fit(&label(entry, 0), name_width),
        clean(&request_id(entry).chars().take(REQUEST_ID_WIDTH).collect::<String>(), REQUEST_ID_WIDTH),
        paint.wrap(if failed { RED } else { "" }, &bar(span, window, width)),
        ms(duration_of(span)),
        if cold { paint.wrap(YELLOW, "COLD") } else { "    ".to_owned() },
    )
}

fn child_line(
    entry: &Entry<'_>,
    depth: usize,
    window: (UnixNanos, UnixNanos),
    name_width: usize,
    width: usize,
    paint: Paint,
) -> String {
    let span = entry.span;
    let (status, color) = match &span.status {
        Status::Error(m) => (paint.wrap(RED, &error_text(m)), RED),
        Status::Ok | Status::Unset => (String::new(), ""),
    };
    format!(
        "  {:TIME_WIDTH$}  {}  {:REQUEST_ID_WIDTH$}  |{}|  {:>10} ms        {status}",
        "",
        fit(&label(entry, depth), name_width),
        "",
        paint.wrap(color, &bar(span, window, width)),
        ms(duration_of(span)),
    )
}

/// `width` cells with the span's share of `window` filled: never empty, clamped to the window.
fn bar(span: &Span, (window_start, window_end): (UnixNanos, UnixNanos), width: usize) -> String {
    let length = window_end.saturating_sub(window_start);
    let (first, last) = if length == 0 {
        (0, 1)
    } else {
        let cell = |t: UnixNanos, round_up: bool| -> usize {
            let scaled = u128::from(t.saturating_sub(window_start).min(length)) * width as u128;
            let cell = if round_up { scaled.div_ceil(u128::from(length)) } else { scaled / u128::from(length) };
            usize::try_from(cell).unwrap_or(width)
        };
        let first = cell(span.start_ns, false).min(width - 1);
        (first, cell(end_of(span), true).clamp(first + 1, width))
    };
    (0..width).map(|i| if (first..last).contains(&i) { '█' } else { '·' }).collect()
}

fn label(entry: &Entry<'_>, depth: usize) -> String {
    format!("{}{}", indent(depth), clean(&entry.span.name, MAX_NAME_WIDTH))
}

fn indent(depth: usize) -> String {
    "  ".repeat(depth.min(MAX_INDENT))
}

/// Pads or cuts to exactly `width` characters.
fn fit(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return format!("{text:width$}");
    }
    let mut cut: String = text.chars().take(width.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The first line of untrusted text, control characters blanked, at most `max` characters.
fn clean(text: &str, max: usize) -> String {
    let line = text.trim_start().split(['\n', '\r']).next().unwrap_or("");
    let mut out: String = line.chars().take(max).map(|c| if c.is_control() { ' ' } else { c }).collect();
    if line.chars().nth(max).is_some() {
        out.pop();
        out.push('…');
    }
    out
}

fn error_text(message: &str) -> String {
    let message = clean(message, MAX_MESSAGE);
    if message.trim().is_empty() {
        "ERROR".to_owned()
    } else {
        format!("ERROR: {message}")
    }
}

fn request_id(entry: &Entry<'_>) -> String {
    match entry.invocation_id {
        Some(AnyValue::Str(s)) => s.clone(),
        Some(AnyValue::Int(i)) => i.to_string(),
        _ => "-".to_owned(),
    }
}

/// A span's end, never before its start.
fn end_of(span: &Span) -> UnixNanos {
    span.end_ns.max(span.start_ns)
}

fn duration_of(span: &Span) -> UnixNanos {
    span.end_ns.saturating_sub(span.start_ns)
}

fn ms(ns: UnixNanos) -> String {
    format!("{:.2}", ns as f64 / 1e6)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// ANSI colouring that is a no-op when colour is off.
#[derive(Debug, Clone, Copy)]
struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.on && !code.is_empty() {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::{KeyValue, Resource, ResourceTelemetry, SpanKind};
    use proptest::prelude::*;

    /// 2024-03-01T12:00:00Z
    const BASE: UnixNanos = 1_709_294_400_000_000_000;
    const MS: UnixNanos = 1_000_000;

    fn span(trace: u8, id: u8, parent: Option<u8>, name: &str, start_ms: u64, dur_ms: u64) -> Span {
        Span {
            trace_id: TraceId([trace; 16]),
            span_id: SpanId([id; 8]),
            parent_span_id: parent.map(|p| SpanId([p; 8])),
            name: name.to_owned(),
            kind: SpanKind::Internal,
            start_ns: BASE + start_ms * MS,
            end_ns: BASE + (start_ms + dur_ms) * MS,
            attributes: vec![],
            status: Status::Unset,
        }
    }

    fn invocation(trace: u8, id: u8, function: &str, request_id: &str, start_ms: u64, dur_ms: u64, cold: bool) -> Span {
        let mut s = span(trace, id, Some(0xee), function, start_ms, dur_ms);
        s.kind = SpanKind::Server;
        s.attributes = vec![
            KeyValue::new("faas.invocation_id", request_id),
            KeyValue::new("faas.coldstart", cold),
            KeyValue::new("faas.name", function),
        ];
        s
    }

    fn resource(function: &str, spans: Vec<Span>) -> ResourceTelemetry {
        ResourceTelemetry {
            resource: Resource { attributes: vec![KeyValue::new("faas.name", function)] },
            spans,
            metrics: vec![],
            logs: vec![],
        }
    }

    fn scene() -> Telemetry {
        let mut db = span(1, 12, Some(11), "db.query", 300, 400);
        db.status = Status::Error("Error: connect ETIMEDOUT 10.0.3.17:3306".into());
        let mut timeout = invocation(2, 20, "orders-api", "c6af9ac6-7b61-11e6-9a41-93e812345678", 2000, 3000, false);
        timeout.status = Status::Error("Task timed out after 3.00 seconds".into());
        Telemetry {
            resources: vec![
                resource(
                    "orders-api",
                    vec![
                        // Listed out of order on purpose: the view sorts.
                        db,
                        timeout,
                        invocation(1, 10, "orders-api", "8f5c1c4e-2b2a-4b4e-9d8e-0a1b2c3d4e5f", 0, 1200, true),
                        span(1, 11, Some(0xee), "handler", 50, 1100),
                        span(1, 13, Some(11), "render", 800, 250),
                    ],
                ),
                resource(
                    "thumbnailer",
                    vec![
                        invocation(3, 30, "thumbnailer", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", 1000, 300, false),
                        span(3, 31, Some(0x77), "s3.GetObject", 1010, 120),
                        // An async send that outlives the invocation: drawn to the window's edge.
                        span(3, 32, Some(30), "sqs.SendMessage", 1290, 60),
                        // A trace of its own that starts after every invocation: nothing to hang under.
                        span(9, 90, None, "late.job", 9000, 280),
                    ],
                ),
            ],
        }
    }

    #[test]
    fn snapshot_of_two_functions() {
        insta::assert_snapshot!("waterfall", waterfall(&scene(), &WaterfallOptions::default()));
    }

    #[test]
    fn spans_printed_during_an_invocation_hang_under_it() {
        let inv = invocation(1, 1, "search", "req-a", 0, 100, false);
        let mut beeline = span(9, 2, None, "handler", 10, 50);
        beeline.attributes.push(KeyValue::new("faas.invocation_id", "req-a"));
        let t = Telemetry { resources: vec![resource("search", vec![inv, beeline])] };
        let out = waterfall(&t, &WaterfallOptions { color: false, ..WaterfallOptions::default() });
        assert!(out.contains("handler"), "{out}");
        assert!(!out.contains("not shown"), "{out}");
        assert!(out.starts_with("1 invocation "), "{out}");
        // No request id and a trace of its own: the function's invocation running when it started.
        let inv = invocation(1, 1, "geo", "req-b", 0, 100, false);
        let go = span(7, 3, None, "mmdb.lookup", 20, 5);
        let t = Telemetry { resources: vec![resource("geo", vec![inv, go])] };
        let out = waterfall(&t, &WaterfallOptions { color: false, ..WaterfallOptions::default() });
        assert!(out.contains("mmdb.lookup") && !out.contains("not shown"), "{out}");
    }

    #[test]
    fn empty_input_says_so() {
        assert_eq!(waterfall(&Telemetry::default(), &WaterfallOptions::default()), "no invocations (0 spans)\n");
        let only_children = Telemetry { resources: vec![resource("f", vec![span(1, 1, None, "x", 0, 1)])] };
        assert_eq!(waterfall(&only_children, &WaterfallOptions::default()), "no invocations (1 span)\n");
    }

    #[test]
    fn color_only_when_asked() {
        let plain = waterfall(&scene(), &WaterfallOptions::default());
        assert!(!plain.contains('\x1b'));
        let colored = waterfall(&scene(), &WaterfallOptions { color: true, ..WaterfallOptions::default() });
        assert!(colored.contains(&format!("{RED}ERROR: Task timed out after 3.00 seconds{RESET}")));
        assert!(colored.contains(&format!("{YELLOW}COLD{RESET}")));
    }

    #[test]
    fn caps_are_counted() {
        let opts = WaterfallOptions { max_invocations: Some(1), max_children: Some(1), ..WaterfallOptions::default() };
        let out = waterfall(&scene(), &opts);
        assert!(out.starts_with("1 invocation from 2024-03-01T12:00:00.000Z to 2024-03-01T12:00:01.200Z"), "{out}");
        assert!(out.contains("… 2 more spans"), "{out}");
        assert!(
            out.ends_with("… 2 more invocations not shown\n\n1 span in traces without an invocation not shown\n"),
            "{out}"
        );
        assert!(!out.contains("thumbnailer"), "{out}");
        let none = WaterfallOptions { max_invocations: Some(0), ..WaterfallOptions::default() };
        assert_eq!(waterfall(&scene(), &none), "3 invocations not shown\n");
    }

    #[test]
    fn untrusted_text_cannot_drive_the_terminal() {
        let mut inv = invocation(1, 1, "f\x1b[2Jx", "r\x1b]0;pwned\x07", 0, 10, false);
        inv.status = Status::Error("line one\x1b[31m\nat frame two".into());
        let out = waterfall(&Telemetry { resources: vec![resource("f", vec![inv])] }, &WaterfallOptions::default());
        assert!(!out.contains('\x1b') && !out.contains('\x07'), "{out:?}");
        assert!(out.contains("ERROR: line one [31m") && !out.contains("frame two"), "{out}");
    }

    #[test]
    fn parent_cycles_and_zero_windows_still_draw() {
        let a = span(1, 2, Some(3), "a", 0, 0);
        let b = span(1, 3, Some(2), "b", 0, 0);
        let inv = invocation(1, 1, "f", "r", 0, 0, false);
        let out = waterfall(
            &Telemetry { resources: vec![resource("f", vec![a, b, inv])] },
            &WaterfallOptions { width: 4, ..WaterfallOptions::default() },
        );
        assert_eq!(out.matches("|█···|").count(), 3, "{out}");
        // Both are drawn, b under a, since the earliest span of a cycle is where drawing starts.
        let rows: Vec<&str> = out.lines().skip(4).collect();
        assert_eq!(rows.len(), 2, "{out}");
        assert!(rows[0].trim_start().starts_with("a ") && rows[1].trim_start().starts_with("b "), "{out}");
        let name_at = |l: &str| l.find(char::is_alphabetic);
        assert!(name_at(rows[1]) > name_at(rows[0]), "{out}");
    }

    /// The bars of every drawn line: exactly `width` cells, at least one filled.
    fn bars(out: &str) -> Vec<&str> {
        out.lines().filter_map(|l| l.split('|').nth(1)).collect()
    }

    proptest! {
        #[test]
        fn never_panics_and_bars_hold_their_width(
            times in prop::collection::vec((any::<u64>(), any::<u64>(), 0u8..4, prop::option::of(0u8..12), any::<bool>()), 0..40),
            width in 0usize..200,
            max_invocations in prop::option::of(0usize..10),
            max_children in prop::option::of(0usize..10),
        ) {
            let spans: Vec<Span> = times
                .iter()
                .enumerate()
                .map(|(i, &(start_ns, end_ns, trace, parent, is_invocation))| {
                    let mut s = span(trace, i as u8, parent, "s", 0, 0);
                    s.start_ns = start_ns;
                    s.end_ns = end_ns;
                    if is_invocation {
                        s.attributes.push(KeyValue::new("faas.invocation_id", format!("req-{i}")));
                        s.attributes.push(KeyValue::new("faas.coldstart", false));
                    }
                    s
                })
                .collect();
            let t = Telemetry { resources: vec![resource("f", spans)] };
            let opts = WaterfallOptions { width, color: false, max_invocations, max_children };
            let out = waterfall(&t, &opts);
            prop_assert!(out.ends_with('\n'));
            for b in bars(&out) {
                prop_assert_eq!(b.chars().count(), width.clamp(1, MAX_WIDTH));
                prop_assert!(b.contains('█'), "{}", out);
            }
        }
    }

    #[test]
    fn huge_counts_stay_linear() {
        // One invocation over a 20 000-deep parent chain: no recursion, no quadratic walk.
        let mut spans = vec![invocation(1, 0, "f", "r", 0, 10, false)];
        spans.extend((1..20_000u32).map(|i| {
            let mut s = span(1, 0, None, "c", 0, 1);
            s.span_id = SpanId((u64::from(i)).to_be_bytes());
            s.parent_span_id = Some(SpanId((u64::from(i) - 1).to_be_bytes()));
            s
        }));
        let out = waterfall(&Telemetry { resources: vec![resource("f", spans)] }, &WaterfallOptions::default());
        assert_eq!(out.lines().count(), 3 + 20_000);
    }
}
