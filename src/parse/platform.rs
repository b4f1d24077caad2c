//! Lambda's text platform lines: START, END, REPORT (+XRAY), INIT_START, INIT_REPORT, RESTORE_*, timeouts, runtime exits.
//!
//! Fields are tab-separated in CloudWatch, but copies from the console and some tools turn tabs into spaces, so
//! fields are found by their labels rather than by splitting on tabs.

use super::{Ctx, Format, InitStart, Item, ParseError, PhaseReport, PlatformRecord, Report, Tracing};
use crate::telemetry::{AnyValue, SpanId, TraceId};

const FORMAT: Format = Format::Platform;

/// `REPORT` labels, longest first so `Billed Duration` is not read as `Duration`.
const REPORT_LABELS: [&str; 9] = [
    "Billed Restore Duration",
    "Restore Duration",
    "Billed Duration",
    "Max Memory Used",
    "Init Duration",
    "Memory Size",
    "Error Type",
    "Duration",
    "Status",
];
const START_LABELS: [&str; 2] = ["RequestId", "Version"];
const XRAY_LABELS: [&str; 3] = ["TraceId", "SegmentId", "Sampled"];
const INIT_START_LABELS: [&str; 2] = ["Runtime Version ARN", "Runtime Version"];
const PHASE_REPORT_LABELS: [&str; 5] = ["Restore Duration", "Init Duration", "Error Type", "Phase", "Status"];
const NOTICE_LABELS: [&str; 4] = ["Name", "State", "Events", "Types"];

/// `INIT_RUNTIME_DONE`, the longest keyword.
const MAX_KEYWORD: usize = 17;

pub fn parse(line: &str, ctx: &Ctx<'_>) -> Result<Option<Vec<Item>>, ParseError> {
    let time_ns = ctx.observed_ns;
    let item = |record| Item::Platform { time_ns, record };
    let bytes = line.as_bytes();
    // Every keyword is an upper-case word and a timeout line opens with its timestamp, so the first byte turns
    // away JSON, MONITORING and most text before anything is searched.
    match bytes.first() {
        Some(b'0'..=b'9') => return Ok(timeout(line).map(|record| vec![item(record)])),
        Some(b'E' | b'I' | b'L' | b'R' | b'S' | b'T' | b'X') => {}
        _ => return Ok(None),
    }
    // A first word longer than any keyword is no keyword, however long the line runs on.
    let head = &bytes[..bytes.len().min(MAX_KEYWORD + 1)];
    let (keyword, rest) = match head.iter().position(|c| matches!(*c, b' ' | b'\t')) {
        Some(i) => (&line[..i], &line[i + 1..]),
        None if bytes.len() <= MAX_KEYWORD => (line, ""),
        None => return Ok(None),
    };
    let record = match keyword {
        "START" => start(rest)?,
        "END" => PlatformRecord::End { request_id: request_id(rest)?.to_owned() },
        "REPORT" => return report(rest).map(|r| Some(vec![item(PlatformRecord::Report(r))])),
        "XRAY" => PlatformRecord::Notice { kind: "XRAY".into(), message: AnyValue::Str(line.to_owned()) },
        "INIT_START" => PlatformRecord::InitStart(init_start(rest)),
        "RESTORE_START" => PlatformRecord::RestoreStart(init_start(rest)),
        "INIT_REPORT" => PlatformRecord::InitReport(phase_report(rest, "Init Duration")?),
        "RESTORE_REPORT" => PlatformRecord::RestoreReport(phase_report(rest, "Restore Duration")?),
        "EXTENSION" | "TELEMETRY" | "LOGS" | "INIT_RUNTIME_DONE" => notice(keyword, rest),
        "RequestId:" => runtime_error(rest)?,
        // A timeout line opens with a digit, so a line led by a letter is not one.
        _ => return Ok(None),
    };
    Ok(Some(vec![item(record)]))
}

fn start(rest: &str) -> Result<PlatformRecord, ParseError> {
    let [request_id, version] = fields_of(rest, &START_LABELS, b' ').values;
    let request_id = request_id.filter(|v| !v.is_empty());
    let request_id = request_id.ok_or_else(|| ParseError::new(FORMAT, "START without RequestId"))?;
    Ok(PlatformRecord::Start {
        request_id: request_id.to_owned(),
        version: version.filter(|v| !v.is_empty()).map(str::to_owned),
        tracing: None,
    })
}

/// `RequestId: <id>` at the start of `rest`, as END and REPORT begin.
fn request_id(rest: &str) -> Result<&str, ParseError> {
    lambda_request_id(rest).map_or_else(|| request_id_in_any_spacing(rest), Ok)
}

/// [`request_id_in_any_spacing`] for Lambda's own `RequestId: <id>` with a printable ASCII id, read on bytes;
/// `None` for anything else, an id holding a colon included.
fn lambda_request_id(rest: &str) -> Option<&str> {
    let after = rest.strip_prefix("RequestId: ")?;
    let b = after.as_bytes();
    let len = printable_run(b, 0, b'!');
    // The ASCII bytes `char::is_whitespace` takes.
    let ends = b.get(len).is_none_or(|c| matches!(*c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r'));
    (len > 0 && ends).then(|| &after[..len])
}

fn request_id_in_any_spacing(rest: &str) -> Result<&str, ParseError> {
    rest.trim_start()
        .strip_prefix("RequestId:")
        .map(|r| r.trim_start().split(|c: char| c.is_whitespace()).next().unwrap_or(""))
        .filter(|id| !id.is_empty())
        .ok_or_else(|| ParseError::new(FORMAT, "missing RequestId"))
}

/// A REPORT log event: the REPORT line and, on traced functions, the XRAY line after it in the same event.
fn report(rest: &str) -> Result<Report, ParseError> {
    let (request_id, fields, after) = match tabbed_report(rest) {
        Some(parts) => parts,
        None => report_parts(rest)?,
    };
    let xray_line = after.and_then(|x| x.trim_start().strip_prefix("XRAY"));
    // Named in REPORT_LABELS order: a slip would read one measure as another.
    let [billed_restore, restore, billed, max_memory, init, memory_size, error_type, duration, status] = fields.values;
    let ms = |label: &str, raw| measure(label, raw, "ms");
    let mb = |label: &str, raw| -> Result<Option<u64>, ParseError> {
        measure(label, raw, "MB")?
            .map(|v| if v >= 0.0 && v.fract() == 0.0 { Ok(v as u64) } else { Err(bad(label, &v.to_string())) })
            .transpose()
    };
    let duration_ms = ms("Duration", duration)?.ok_or_else(|| ParseError::new(FORMAT, "REPORT without Duration"))?;
    Ok(Report {
        request_id: request_id.to_owned(),
        duration_ms,
        billed_duration_ms: ms("Billed Duration", billed)?,
        memory_size_mb: mb("Memory Size", memory_size)?,
        max_memory_used_mb: mb("Max Memory Used", max_memory)?,
        init_duration_ms: ms("Init Duration", init)?,
        restore_duration_ms: ms("Restore Duration", restore)?,
        billed_restore_duration_ms: ms("Billed Restore Duration", billed_restore)?,
        status: status.filter(|s| !s.is_empty()).map(str::to_owned),
        error_type: error_type.filter(|s| !s.is_empty()).map(str::to_owned),
        tracing: xray_line.map(xray),
    })
}

/// The request id, the labelled fields and what follows the first newline, read from a REPORT event in any
/// spacing.
type ReportParts<'a> = (&'a str, Fields<'a, 9>, Option<&'a str>);

fn report_parts(rest: &str) -> Result<ReportParts<'_>, ParseError> {
    let (report_line, after) = match rest.split_once('\n') {
        Some((r, x)) => (r, Some(x)),
        None => (rest, None),
    };
    Ok((request_id(report_line)?, labelled(report_line, &REPORT_LABELS), after))
}

/// [`report_parts`] for REPORT exactly as Lambda writes it: `RequestId: <id>\t`, then the fields as
/// [`laid_out`] reads them, then maybe a newline and the XRAY line; `None` for any other layout.
fn tabbed_report(rest: &str) -> Option<ReportParts<'_>> {
    const ID_AT: usize = "RequestId: ".len();
    if !rest.starts_with("RequestId: ") {
        return None;
    }
    let b = rest.as_bytes();
    // Without whitespace the id is what request_id reads; without a colon no label ends in it, and none ends at
    // `RequestId:` either.
    let id_end = printable_run(b, ID_AT, b'!');
    if id_end == ID_AT || b.get(id_end) != Some(&b'\t') {
        return None;
    }
    let (fields, end) = laid_out(rest, id_end + 1, &REPORT_LABELS, b'\t')?;
    Some((&rest[ID_AT..id_end], fields, rest.get(end + 1..)))
}

/// The fields of `rest` when it is all laid out as Lambda writes it, else what [`labelled`] finds.
fn fields_of<'a, const N: usize>(rest: &'a str, labels: &[&'static str; N], separator: u8) -> Fields<'a, N> {
    match laid_out(rest, 0, labels, separator) {
        Some((fields, end)) if end == rest.len() => fields,
        _ => labelled(rest, labels),
    }
}

/// [`labelled`] for fields exactly as Lambda writes them: from `at`, past spaces, `Label: value` after
/// `Label: value`, `separator` between them (a tab, or in START a space), up to the end of `rest` or a newline,
/// whose position comes back with the fields. Each label is matched where a field starts, not searched for.
///
/// The two agree when the text before `at` holds no colon a label ends at, as the callers see to: values hold
/// no colon, so every colon a label ends at is one of the fields' own. A field's label follows a tab, or spaces
/// when no label holds one, so no longer label ends at its colon; the labels it ends with as a word come after it
/// in every label list; and a label seen twice, which would leave its second colon to those, sends the line to
/// [`labelled`].
fn laid_out<'a, const N: usize>(
    rest: &'a str,
    at: usize,
    labels: &[&'static str; N],
    separator: u8,
) -> Option<(Fields<'a, N>, usize)> {
    // `Init` ending one value and `Duration: ` starting the next would be `Init Duration: ` to `labelled`.
    if separator == b' ' && labels.iter().any(|l| l.contains(' ')) {
        return None;
    }
    let b = rest.as_bytes();
    let mut at = run(b, at, |c| c == b' ');
    let mut fields = Fields::default();
    let mut seen = 0u16;
    loop {
        let i = labels.iter().position(|l| {
            l.as_bytes().first() == b.get(at)
                && b.get(at..at + l.len()) == Some(l.as_bytes())
                && b.get(at + l.len()) == Some(&b':')
        })?;
        if seen & (1 << i) != 0 {
            return None;
        }
        seen |= 1 << i;
        let start = run(b, at + labels[i].len() + 1, |c| c == b' ');
        // Between tabs a value holds spaces (`193.51 ms`), so trimming spaces is all `str::trim` would do.
        let end = printable_run(b, start, if separator == b' ' { b'!' } else { b' ' });
        fields.push(i, rest[start..end].trim_ascii_end());
        at = end + 1;
        match b.get(end) {
            None | Some(b'\n') => return Some((fields, end)),
            Some(&c) if c == separator => {
                if matches!(b.get(at), None | Some(b'\n')) {
                    return Some((fields, at));
                }
            }
            Some(_) => return None,
        }
    }
}

/// The end of the run of bytes from `from` that `keep` accepts.
fn run(b: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    from + b.get(from..).map_or(0, |r| r.iter().position(|c| !keep(*c)).unwrap_or(r.len()))
}

/// The end of the run of printable ASCII from `from` that holds no colon and nothing below `lowest` (`!` to
/// stop at spaces too, ` ` to take them), eight bytes at a time: ids and values are tens of bytes.
fn printable_run(b: &[u8], mut from: usize, lowest: u8) -> usize {
    const ONES: u64 = u64::from_le_bytes([1; 8]);
    const HIGH: u64 = ONES * 0x80;
    // The high bit of each byte below `n`, exact up to the first such byte (a borrow only runs upwards).
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGH;
    let equal = |x: u64, c: u8| below(x ^ (ONES * u64::from(c)), 1);
    while let Some(Ok(chunk)) = b.get(from..from + 8).map(<[u8; 8]>::try_from) {
        let x = u64::from_le_bytes(chunk);
        let stop = below(x, lowest) | equal(x, b':') | equal(x, 0x7f) | (x & HIGH);
        if stop != 0 {
            return from + (stop.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    run(b, from, |c| (lowest..0x7f).contains(&c) && c != b':')
}

/// `XRAY TraceId: 1-… SegmentId: … Sampled: true`; an unreadable id is left out rather than failing the report.
fn xray(line: &str) -> Tracing {
    let [trace_id, segment_id, sampled] = fields_of(line, &XRAY_LABELS, b'\t').values;
    Tracing {
        trace_id: trace_id.and_then(TraceId::from_xray),
        segment_id: segment_id.and_then(SpanId::from_hex),
        parent_id: None,
        sampled: sampled.and_then(|s| s.parse().ok()),
    }
}

fn init_start(rest: &str) -> InitStart {
    let [arn, version] = labelled(rest, &INIT_START_LABELS).values;
    InitStart {
        runtime_version: version.map(str::to_owned),
        runtime_version_arn: arn.map(str::to_owned),
        ..InitStart::default()
    }
}

fn phase_report(rest: &str, duration_label: &str) -> Result<PhaseReport, ParseError> {
    let fields = labelled(rest, &PHASE_REPORT_LABELS);
    let duration = PHASE_REPORT_LABELS.iter().position(|l| *l == duration_label).and_then(|i| fields.values[i]);
    let [_, _, error_type, phase, status] = fields.values;
    Ok(PhaseReport {
        duration_ms: measure(duration_label, duration, "ms")?,
        phase: phase.map(str::to_owned),
        status: status.map(str::to_owned),
        error_type: error_type.map(str::to_owned),
        initialization_type: None,
    })
}

fn notice(kind: &str, rest: &str) -> PlatformRecord {
    let fields = labelled(rest, &NOTICE_LABELS);
    let message = if fields.len == 0 {
        AnyValue::Str(rest.trim().to_owned())
    } else {
        AnyValue::Map(
            fields
                .in_line_order(&NOTICE_LABELS)
                .map(|(k, v)| crate::telemetry::KeyValue::new(k.to_string(), v))
                .collect(),
        )
    };
    PlatformRecord::Notice { kind: kind.to_owned(), message }
}

/// `RequestId: <id> Error: Runtime exited with error: signal: killed` (and a `Runtime.ExitError` line after it).
fn runtime_error(rest: &str) -> Result<PlatformRecord, ParseError> {
    let rest = rest.trim_start();
    let (id, message) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let message = message.trim();
    if id.is_empty() || !message.starts_with("Error") {
        return Err(ParseError::new(FORMAT, "RequestId line without an error"));
    }
    // The Lambda runtime reports the OOM killer's SIGKILL this way; newer runtimes also name it outright.
    let out_of_memory = message.contains("signal: killed") || message.contains("OutOfMemory");
    Ok(PlatformRecord::RuntimeError { request_id: Some(id.to_owned()), message: message.to_owned(), out_of_memory })
}

/// `2024-03-01T12:00:03.012Z 8f5c… Task timed out after 3.00 seconds`.
fn timeout(line: &str) -> Option<PlatformRecord> {
    let mut parts = line.splitn(3, [' ', '\t']);
    let ts = parts.next()?;
    let id = parts.next()?;
    let what = parts.next()?.strip_prefix("Task timed out after ")?;
    crate::time::parse_timestamp(ts)?;
    let after_s = what.trim().trim_end_matches("seconds").trim().parse().ok()?;
    Some(PlatformRecord::Timeout { request_id: id.to_owned(), after_s })
}

/// The labelled fields of one line, for a list of `N` labels; no line kind has more than sixteen.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Fields<'a, const N: usize> {
    /// Each label's value, in the order of the label list.
    values: [Option<&'a str>; N],
    /// Indices into the label list in the order the labels stand in the line; the first `len` are set.
    order: [usize; N],
    len: usize,
}

impl<const N: usize> Default for Fields<'_, N> {
    fn default() -> Self {
        Fields { values: [None; N], order: [0; N], len: 0 }
    }
}

impl<'a, const N: usize> Fields<'a, N> {
    fn push(&mut self, label: usize, value: &'a str) {
        self.values[label] = Some(value);
        self.order[self.len] = label;
        self.len += 1;
    }

    fn in_line_order(&self, labels: &'static [&'static str; N]) -> impl Iterator<Item = (&'static str, &'a str)> + '_ {
        self.order[..self.len].iter().filter_map(move |&i| Some((labels[i], self.values[i]?)))
    }
}

/// Colons a line may have a label end at before [`labelled`] leaves it to [`labelled_by_search`].
const MAX_CANDIDATES: usize = 16;

/// Splits `rest` into labelled fields by finding each known label (`Label: `) at a word boundary: what
/// [`labelled_by_search`] finds, found from the colons instead of by searching for every label.
///
/// A label found there is followed by a colon and holds none, so two labels overlap exactly when they end at the
/// same colon; and no label overlaps itself, so the search skipping past a miss skips no later match. Each label
/// therefore takes the first colon it ends at that no label before it in the list took.
fn labelled<'a, const N: usize>(rest: &'a str, labels: &[&'static str; N]) -> Fields<'a, N> {
    let b = rest.as_bytes();
    // Each colon some label ends at, with the set of those labels.
    let mut candidates = [(0usize, 0u16); MAX_CANDIDATES];
    let mut n = 0;
    let mut from = 0;
    while let Some(colon) = b[from..].iter().position(|c| *c == b':').map(|i| i + from) {
        from = colon + 1;
        let mut ending = 0u16;
        for (i, label) in labels.iter().enumerate() {
            if ends_at(b, colon, label.as_bytes()) {
                ending |= 1 << i;
            }
        }
        if ending != 0 {
            let Some(slot) = candidates.get_mut(n) else {
                return Fields::from_search(rest, labels);
            };
            *slot = (colon, ending);
            n += 1;
        }
    }
    let candidates = &candidates[..n];
    let mut owner = [usize::MAX; MAX_CANDIDATES];
    for i in 0..N {
        if let Some(k) = (0..n).find(|&k| candidates[k].1 & (1 << i) != 0 && owner[k] == usize::MAX) {
            owner[k] = i;
        }
    }
    let mut fields = Fields::default();
    // The label whose value is being read, and where that value starts.
    let mut open: Option<(usize, usize)> = None;
    for (&(colon, _), &i) in candidates.iter().zip(&owner) {
        if i == usize::MAX {
            continue;
        }
        if let Some((j, start)) = open {
            fields.push(j, trim(&rest[start..colon - labels[i].len()]));
        }
        open = Some((i, colon + 1));
    }
    if let Some((j, start)) = open {
        fields.push(j, trim(&rest[start..]));
    }
    fields
}

/// Whether `label` ends at `colon`, starting a word.
fn ends_at(b: &[u8], colon: usize, label: &[u8]) -> bool {
    let Some(start) = colon.checked_sub(label.len()) else { return false };
    b[colon - 1] == label[label.len() - 1]
        && &b[start..colon] == label
        && (start == 0 || b[start - 1].is_ascii_whitespace())
}

/// `str::trim`, settled on bytes when what ASCII whitespace leaves is bounded by ASCII that is no whitespace.
fn trim(s: &str) -> &str {
    let t = s.trim_ascii();
    match (t.as_bytes().first(), t.as_bytes().last()) {
        (Some(a), Some(z)) if a.is_ascii() && *a != 0x0b && z.is_ascii() && *z != 0x0b => t,
        (None, _) => t,
        _ => s.trim(),
    }
}

impl<'a, const N: usize> Fields<'a, N> {
    fn from_search(rest: &'a str, labels: &[&'static str; N]) -> Self {
        let mut fields = Fields::default();
        for (label, value) in labelled_by_search(rest, labels) {
            if let Some(i) = labels.iter().position(|l| *l == label) {
                fields.push(i, value);
            }
        }
        fields
    }
}

/// Splits `rest` into `(label, value)` pairs by finding each known label (`Label: `) at a word boundary.
fn labelled_by_search<'a>(rest: &'a str, labels: &[&'static str]) -> Vec<(&'static str, &'a str)> {
    let bytes = rest.as_bytes();
    let mut found: Vec<(usize, usize, &'static str)> = Vec::with_capacity(labels.len());
    for label in labels {
        let mut from = 0;
        while let Some(pos) = find(&rest[from..], label).map(|p| p + from) {
            let end = pos + label.len();
            let at_boundary = pos == 0 || bytes[pos - 1].is_ascii_whitespace();
            let has_colon = bytes.get(end) == Some(&b':');
            let overlaps = found.iter().any(|(s, e, _)| pos < *e && end > *s);
            if at_boundary && has_colon && !overlaps {
                found.push((pos, end + 1, label));
                break;
            }
            from = end;
        }
    }
    found.sort_unstable_by_key(|(start, _, _)| *start);
    let mut out = Vec::with_capacity(found.len());
    for (i, (_, value_start, label)) in found.iter().enumerate() {
        let value_end = found.get(i + 1).map_or(rest.len(), |(next, _, _)| *next);
        out.push((*label, rest[*value_start..value_end].trim()));
    }
    out
}

/// `hay.find(needle)`, led by a memchr for the needle's first character: the labels are short and a line has few
/// candidates, so this beats building a two-way searcher for each label of each line.
fn find(hay: &str, needle: &str) -> Option<usize> {
    let first = needle.chars().next()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.find(first) {
        let at = from + i;
        if hay.get(at..)?.starts_with(needle) {
            return Some(at);
        }
        from = at + first.len_utf8();
    }
    None
}

/// A `102.25 ms` / `128 MB` value; present but unreadable is an error.
fn measure(label: &str, raw: Option<&str>, unit: &str) -> Result<Option<f64>, ParseError> {
    let Some(raw) = raw else { return Ok(None) };
    let number = raw.strip_suffix(unit).unwrap_or(raw);
    // A plain decimal between ASCII whitespace needs neither `str::trim` nor the float parser.
    let value = match decimal(number.trim_ascii()) {
        Some(v) => Some(v),
        None => number.trim().parse::<f64>().ok(),
    };
    value.filter(|v| v.is_finite() && *v >= 0.0).map(Some).ok_or_else(|| bad(label, raw))
}

/// `str::parse::<f64>` for plain decimals (`193.51`, `1024`): digits, optionally a point and more digits. With
/// at most 2^53 as the digits' integer and at most 22 of them after the point, both that integer and the power
/// of ten are exact doubles, so one division rounds correctly, as the parser does; anything else is `None`.
fn decimal(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Nineteen digits always fit a u64.
    if b.len() > 19 {
        return None;
    }
    let mut mantissa = 0u64;
    let mut point = None;
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' if point.is_none() && i > 0 => point = Some(i),
            _ => return None,
        }
    }
    let fraction = match point {
        Some(p) if p + 1 == b.len() => return None,
        Some(p) => b.len() - p - 1,
        None if b.is_empty() => return None,
        None => 0,
    };
    if mantissa > 1 << 53 {
        return None;
    }
    Some(mantissa as f64 / POWERS_OF_TEN.get(fraction)?)
}

const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

fn bad(label: &str, raw: &str) -> ParseError {
    ParseError::new(FORMAT, format!("{label} is not a number: {raw:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    const RID: &str = "6f7f0961-8a8b-4a5b-9d3c-2e1f0a9b8c7d";

    fn one(line: &str) -> PlatformRecord {
        let ctx = Ctx { observed_ns: 42, prefix: None, render_otlp: false };
        match parse(line, &ctx) {
            Ok(Some(mut items)) if items.len() == 1 => match items.remove(0) {
                Item::Platform { time_ns: 42, record } => record,
                other => panic!("not a platform item: {other:?}"),
            },
            other => panic!("{line:?} parsed to {other:?}"),
        }
    }

    fn err(line: &str) -> String {
        match parse(line, &Ctx { observed_ns: 0, prefix: None, render_otlp: false }) {
            Err(e) => e.reason,
            other => panic!("{line:?} should be malformed, got {other:?}"),
        }
    }

    #[test]
    fn start_and_end() {
        assert_eq!(
            one(&format!("START RequestId: {RID} Version: $LATEST")),
            PlatformRecord::Start { request_id: RID.into(), version: Some("$LATEST".into()), tracing: None }
        );
        assert_eq!(
            one(&format!("START RequestId: {RID}\tVersion: 12")),
            PlatformRecord::Start { request_id: RID.into(), version: Some("12".into()), tracing: None }
        );
        assert_eq!(one(&format!("END RequestId: {RID}")), PlatformRecord::End { request_id: RID.into() });
    }

    #[test]
    fn report_variants() {
        let cases: Vec<(String, Report)> = vec![
            (
                format!("REPORT RequestId: {RID}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 66 MB\t"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 102.25,
                    billed_duration_ms: Some(103.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(66),
                    ..Report::default()
                },
            ),
            (
                // Console copies turn the tabs into spaces.
                format!("REPORT RequestId: {RID} Duration: 2.43 ms Billed Duration: 3 ms Memory Size: 1024 MB Max Memory Used: 80 MB Init Duration: 176.42 ms"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 2.43,
                    billed_duration_ms: Some(3.0),
                    memory_size_mb: Some(1024),
                    max_memory_used_mb: Some(80),
                    init_duration_ms: Some(176.42),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tStatus: timeout"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 3000.0,
                    billed_duration_ms: Some(3000.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(70),
                    status: Some("timeout".into()),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 812.90 ms\tBilled Duration: 813 ms\tMemory Size: 128 MB\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 812.9,
                    billed_duration_ms: Some(813.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(128),
                    status: Some("error".into()),
                    error_type: Some("Runtime.OutOfMemory".into()),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 20.91 ms\tBilled Duration: 21 ms\tMemory Size: 2048 MB\tMax Memory Used: 141 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 140 ms\t"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 20.91,
                    billed_duration_ms: Some(21.0),
                    memory_size_mb: Some(2048),
                    max_memory_used_mb: Some(141),
                    restore_duration_ms: Some(474.16),
                    billed_restore_duration_ms: Some(140.0),
                    ..Report::default()
                },
            ),
            (
                format!("REPORT RequestId: {RID}\tDuration: 1.50 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\tMax Memory Used: 60 MB\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t\n"),
                Report {
                    request_id: RID.into(),
                    duration_ms: 1.5,
                    billed_duration_ms: Some(2.0),
                    memory_size_mb: Some(128),
                    max_memory_used_mb: Some(60),
                    tracing: Some(Tracing {
                        trace_id: TraceId::from_hex("5759e988bd862e3fe1be46a994272793"),
                        segment_id: SpanId::from_hex("53995c3f42cd8ad8"),
                        parent_id: None,
                        sampled: Some(true),
                    }),
                    ..Report::default()
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(one(&line), PlatformRecord::Report(want), "{line}");
        }
    }

    #[test]
    fn init_restore_and_notices() {
        assert_eq!(
            one("INIT_START Runtime Version: nodejs:20.v13\tRuntime Version ARN: arn:aws:lambda:eu-west-1::runtime:0f2c"),
            PlatformRecord::InitStart(InitStart {
                runtime_version: Some("nodejs:20.v13".into()),
                runtime_version_arn: Some("arn:aws:lambda:eu-west-1::runtime:0f2c".into()),
                ..InitStart::default()
            })
        );
        assert_eq!(
            one("INIT_REPORT Init Duration: 10000.40 ms\tPhase: init\tStatus: timeout"),
            PlatformRecord::InitReport(PhaseReport {
                duration_ms: Some(10000.4),
                phase: Some("init".into()),
                status: Some("timeout".into()),
                ..PhaseReport::default()
            })
        );
        assert_eq!(
            one("INIT_REPORT Init Duration: 1203.91 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ExitError"),
            PlatformRecord::InitReport(PhaseReport {
                duration_ms: Some(1203.91),
                phase: Some("invoke".into()),
                status: Some("error".into()),
                error_type: Some("Runtime.ExitError".into()),
                ..PhaseReport::default()
            })
        );
        assert_eq!(
            one("RESTORE_REPORT Restore Duration: 571.67 ms"),
            PlatformRecord::RestoreReport(PhaseReport { duration_ms: Some(571.67), ..PhaseReport::default() })
        );
        assert!(
            matches!(one("RESTORE_START Runtime Version: java:21.v12\tRuntime Version ARN: arn:x"), PlatformRecord::RestoreStart(s) if s.runtime_version.as_deref() == Some("java:21.v12"))
        );
        assert!(matches!(
            one("EXTENSION\tName: datadog-agent\tState: Ready\tEvents: [INVOKE,SHUTDOWN]"),
            PlatformRecord::Notice { kind, .. } if kind == "EXTENSION"
        ));
    }

    #[test]
    fn timeouts_and_runtime_exits() {
        assert_eq!(
            one(&format!("2024-03-01T12:00:03.012Z {RID} Task timed out after 3.00 seconds")),
            PlatformRecord::Timeout { request_id: RID.into(), after_s: 3.0 }
        );
        assert_eq!(
            one(&format!("RequestId: {RID} Error: Runtime exited with error: signal: killed\nRuntime.ExitError")),
            PlatformRecord::RuntimeError {
                request_id: Some(RID.into()),
                message: "Error: Runtime exited with error: signal: killed\nRuntime.ExitError".into(),
                out_of_memory: true,
            }
        );
        assert!(matches!(
            one(&format!("RequestId: {RID} Error: Runtime exited with error: exit status 1")),
            PlatformRecord::RuntimeError { out_of_memory: false, .. }
        ));
    }

    #[test]
    fn not_platform_lines() {
        let ctx = Ctx { observed_ns: 0, prefix: None, render_otlp: false };
        for line in [
            "STARTED the server",
            "Task timed out after 3.00 seconds",
            "2024-03-01T12:00:03.012Z\tabc\tINFO\tTask timed out after 3.00 seconds",
            "REPORTS are ready",
            "hello",
            "",
        ] {
            assert_eq!(parse(line, &ctx), Ok(None), "{line:?}");
        }
    }

    #[test]
    fn malformed_platform_lines() {
        assert_eq!(err("REPORT RequestId: abc\tBilled Duration: 3 ms"), "REPORT without Duration");
        assert_eq!(err("REPORT RequestId: abc\tDuration: fast ms"), "Duration is not a number: \"fast ms\"");
        assert_eq!(err("REPORT Duration: 3 ms"), "missing RequestId");
        assert_eq!(err("START RequestId:"), "START without RequestId");
        assert_eq!(err("END"), "missing RequestId");
        assert_eq!(
            err("REPORT RequestId: abc\tDuration: 1 ms\tMemory Size: 1.5 MB"),
            "Memory Size is not a number: \"1.5\""
        );
    }

    #[test]
    fn snapshot_of_a_cold_traced_invocation() {
        let lines = [
            "INIT_START Runtime Version: python:3.12.v36\tRuntime Version ARN: arn:aws:lambda:us-east-1::runtime:e7c1\n".to_owned(),
            format!("START RequestId: {RID} Version: $LATEST\n"),
            format!("END RequestId: {RID}\n"),
            format!("REPORT RequestId: {RID}\tDuration: 245.10 ms\tBilled Duration: 246 ms\tMemory Size: 512 MB\tMax Memory Used: 91 MB\tInit Duration: 480.22 ms\t\nXRAY TraceId: 1-6724f2c0-3b5a1e0d9c8f7a6b5e4d3c2b\tSegmentId: 1a2b3c4d5e6f7081\tSampled: true\t\n"),
        ];
        let parsed: Vec<_> = lines.iter().map(|l| crate::parse::parse_line(l, 1_700_000_000_000_000_000)).collect();
        insta::assert_debug_snapshot!(parsed);
    }

    proptest::proptest! {
        #[test]
        fn find_is_str_find(hay in "[a-cé D:]{0,40}", needle in "[a-cé D:]{1,4}") {
            proptest::prop_assert_eq!(find(&hay, &needle), hay.find(needle.as_str()));
        }

        #[test]
        fn never_panics(line in "\\PC{0,200}") {
            let _ = parse(&line, &Ctx { observed_ns: 0, prefix: None, render_otlp: false });
        }

        #[test]
        fn report_duration_round_trips(ms in 0u32..900_000_000, id in "[a-f0-9-]{8,36}") {
            let d = f64::from(ms) / 100.0;
            let line = format!("REPORT RequestId: {id}\tDuration: {d:.2} ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 1 MB\t");
            let record = one(&line);
            proptest::prop_assert!(matches!(record, PlatformRecord::Report(r) if (r.duration_ms - d).abs() < 1e-9 && r.request_id == id));
        }
    }

    /// What `labelled` and `tabbed_report` take for granted about the label lists.
    #[test]
    fn label_lists_hold_what_the_readers_rely_on() {
        for labels in LISTS {
            assert!(labels.len() <= 16, "{labels:?}");
            for (i, label) in labels.iter().enumerate() {
                // Letters and spaces: no colon inside, nothing `tabbed_report` would not read as part of a label.
                assert!(!label.is_empty() && label.bytes().all(|c| c.is_ascii_alphabetic() || c == b' '), "{label}");
                assert_eq!(label.trim(), *label);
                // No occurrence of a label overlaps another of itself.
                assert!((1..label.len()).all(|n| !label.ends_with(&label[..n])), "{label}");
                for (j, other) in labels.iter().enumerate() {
                    // A label another one ends with, as a word, comes after it: the longer is read first.
                    if j != i && other.ends_with(&format!(" {label}")) {
                        assert!(j < i, "{other} must come before {label}");
                    }
                }
            }
        }
        // A REPORT's own `RequestId:` is no label's colon.
        assert!(REPORT_LABELS.iter().all(|l| !"RequestId".ends_with(l)));
    }

    #[test]
    fn decimals() {
        for s in ["0", "7", "193.51", "0.00", "007.50", "1024", "9007199254740992", "1234567.12345678"] {
            assert_eq!(decimal(s).map(f64::to_bits), Some(s.parse::<f64>().unwrap().to_bits()), "{s}");
        }
        for s in ["", ".", "1.", ".5", "1.2.3", "-1", "+1", "1e3", "1 ", "9007199254740993", "12345678901234567890"] {
            assert_eq!(decimal(s), None, "{s}");
        }
    }

    #[test]
    fn the_fast_paths_take_lambdas_own_lines() {
        let rest = format!("RequestId: {RID}\tDuration: 193.51 ms\tBilled Duration: 587 ms\tMemory Size: 1024 MB\tMax Memory Used: 99 MB\tInit Duration: 393.16 ms\t\nXRAY TraceId: 1-6ae73a28-328089d95142a85f7fed4f9e\tSegmentId: 794ee375a661bc07\tSampled: true\t\n");
        assert!(tabbed_report(&rest).is_some());
        assert_eq!(tabbed_report(&rest).map(Ok), Some(report_parts(&rest)));
        assert_eq!(lambda_request_id(&format!("RequestId: {RID}")), Some(RID));
        // Between spaces, a value's last word and the next label can make a longer label.
        let spaced = "Billed Restore Duration: 0 Restore Duration:  Init Duration: 0 ";
        assert_eq!(laid_out(spaced, 0, &REPORT_LABELS, b' '), None);
        assert_eq!(labelled(spaced, &REPORT_LABELS).values[4], Some("0"));
        // Too many colons where labels end: the search takes over.
        let many = "Name: a ".repeat(MAX_CANDIDATES + 1);
        assert_eq!(labelled(&many, &NOTICE_LABELS), Fields::from_search(&many, &NOTICE_LABELS));
        assert_eq!(labelled(&many, &NOTICE_LABELS).values[0], Some(many["Name: ".len()..].trim()));
    }

    const LISTS: [&[&str]; 6] =
        [&REPORT_LABELS, &START_LABELS, &XRAY_LABELS, &INIT_START_LABELS, &PHASE_REPORT_LABELS, &NOTICE_LABELS];

    /// Where `laid_out` reads a line, with either separator, it reads what `labelled_by_search` does up to the
    /// newline it stops at.
    fn check_laid_out<const N: usize>(
        line: &str,
        labels: &[&'static str; N],
    ) -> Result<(), proptest::test_runner::TestCaseError> {
        for separator in [b'\t', b' '] {
            if let Some((fields, end)) = laid_out(line, 0, labels, separator) {
                proptest::prop_assert!(end == line.len() || line.as_bytes()[end] == b'\n', "{line:?}");
                proptest::prop_assert_eq!(fields, Fields::from_search(&line[..end], labels), "{:?}", line);
            }
        }
        Ok(())
    }

    /// Words that make up platform lines and their near misses, for lines that stress the label readers.
    fn token() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let labels: Vec<&str> =
            [&REPORT_LABELS[..], &START_LABELS, &XRAY_LABELS, &INIT_START_LABELS, &PHASE_REPORT_LABELS, &NOTICE_LABELS]
                .concat();
        prop_oneof![
            4 => proptest::sample::select(labels).prop_map(str::to_owned),
            1 => proptest::sample::select(vec!["Billed", "Memory", "Restore", "Duration:", "Id", "RequestId", "ARN"])
                .prop_map(str::to_owned),
            3 => proptest::sample::select(vec![":", ": ", " ", "\t", "\n", "  ", "\u{a0}", "\u{b}", "\u{85}", "é"])
                .prop_map(str::to_owned),
            2 => "[a-z0-9.:]{1,6}",
        ]
    }

    /// Fields laid out nearly as Lambda writes them, `labels` in any order, with now and then a flaw: a repeated
    /// or near-miss label, odd spacing, a value Lambda never writes.
    fn nearly_laid_out(
        labels: &'static [&'static str],
        separator: &'static str,
    ) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let n = labels.len();
        let near_misses = vec!["Durations", "Memory", "RequestId", "", "Init  Duration", "Version ARN"];
        let flaw = proptest::option::weighted(
            0.2,
            (0..=n, prop_oneof![proptest::sample::select(labels.to_vec()), proptest::sample::select(near_misses)]),
        );
        // Between spaces Lambda writes no value with a space in it.
        let unit = if separator == " " { "" } else { " ms" };
        let value = prop_oneof![
            6 => (0u32..10_000_000, 0usize..4)
                .prop_map(move |(n, places)| format!("{:.*}{unit}", places, f64::from(n) / 100.0)),
            6 => "[a-f0-9-]{1,36}|\\$LATEST|true|timeout|Runtime\\.OutOfMemory|nodejs20\\.v13",
            1 => proptest::sample::select(vec!["", "1.5 MB", "fast ms", "a:b", "1e3 ms", "-1 ms", "é ms", "3 ms\u{b}", "x\u{7f}", " 3 ms "])
                .prop_map(str::to_owned),
        ];
        let colon = prop_oneof![20 => Just(": "), 1 => proptest::sample::select(vec![":", ":  ", ": \t", " : "])];
        let gap = prop_oneof![
            20 => Just(separator),
            1 => proptest::sample::select(vec!["\t", " ", "\t\t", "  ", "\n", "", "\t "])
        ];
        let picked = proptest::sample::subsequence(labels.to_vec(), 0..=n).prop_shuffle();
        (picked, flaw, proptest::collection::vec((colon, value, gap), n + 1)).prop_map(|(mut picked, flaw, parts)| {
            if let Some((at, word)) = flaw {
                picked.insert(at.min(picked.len()), word);
            }
            picked.iter().zip(parts).map(|(l, (c, v, g))| format!("{l}{c}{v}{g}")).collect::<String>()
        })
    }

    proptest::proptest! {
        #[test]
        fn labelled_is_labelled_by_search(tokens in proptest::collection::vec(token(), 0..40)) {
            let line = tokens.concat();
            proptest::prop_assert_eq!(labelled(&line, &REPORT_LABELS), Fields::from_search(&line, &REPORT_LABELS));
            proptest::prop_assert_eq!(labelled(&line, &START_LABELS), Fields::from_search(&line, &START_LABELS));
            proptest::prop_assert_eq!(labelled(&line, &XRAY_LABELS), Fields::from_search(&line, &XRAY_LABELS));
            proptest::prop_assert_eq!(
                labelled(&line, &INIT_START_LABELS),
                Fields::from_search(&line, &INIT_START_LABELS)
            );
            proptest::prop_assert_eq!(
                labelled(&line, &PHASE_REPORT_LABELS),
                Fields::from_search(&line, &PHASE_REPORT_LABELS)
            );
            proptest::prop_assert_eq!(labelled(&line, &NOTICE_LABELS), Fields::from_search(&line, &NOTICE_LABELS));
        }

        #[test]
        fn tabbed_report_agrees_with_report_parts(
            id in "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}|[a-f0-9-]{0,36}|[a-z :é]{1,8}",
            gap in proptest::sample::select(vec!["\t", "\t", "\t", " ", "\t "]),
            fields in nearly_laid_out(&REPORT_LABELS, "\t"),
            end in proptest::sample::select(vec!["", "\t", "\n", "\r\n", "\n\n"]),
            xray in proptest::option::of("XRAY TraceId: 1-[0-9a-f]{8}-[0-9a-f]{24}\tSegmentId: [0-9a-f]{16}\tSampled: (true|false)\t"),
        ) {
            let rest = format!("RequestId: {id}{gap}{fields}{end}{}", xray.as_deref().unwrap_or(""));
            if let Some(parts) = tabbed_report(&rest) {
                proptest::prop_assert_eq!(Ok(parts), report_parts(&rest));
            }
        }

        #[test]
        fn laid_out_is_labelled(
            (lead, fields, end) in (0..LISTS.len(), proptest::bool::ANY).prop_flat_map(|(list, tabs)| (
                proptest::sample::select(vec!["", "", "", " ", "  ", "\t"]),
                nearly_laid_out(LISTS[list], if tabs { "\t" } else { " " }),
                proptest::sample::select(vec!["", "", "", "\t", " ", "\n", "\nXRAY a: b"]),
            )),
        ) {
            let line = format!("{lead}{fields}{end}");
            check_laid_out(&line, &REPORT_LABELS)?;
            check_laid_out(&line, &START_LABELS)?;
            check_laid_out(&line, &XRAY_LABELS)?;
            check_laid_out(&line, &INIT_START_LABELS)?;
            check_laid_out(&line, &PHASE_REPORT_LABELS)?;
            check_laid_out(&line, &NOTICE_LABELS)?;
        }

        #[test]
        fn tabbed_report_takes_every_lambda_layout(
            id in "[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}",
            labels in proptest::sample::subsequence(REPORT_LABELS.to_vec(), 1..=9),
            values in proptest::collection::vec(0u32..100_000_000, 9),
            trailing_tab in proptest::bool::ANY,
        ) {
            let mut rest = format!("RequestId: {id}");
            for (label, value) in labels.iter().zip(&values) {
                let value = match *label {
                    "Memory Size" | "Max Memory Used" => format!("{value} MB"),
                    "Status" => "timeout".to_owned(),
                    "Error Type" => "Runtime.ExitError".to_owned(),
                    _ => format!("{:.2} ms", f64::from(*value) / 100.0),
                };
                rest.push_str(&format!("\t{label}: {value}"));
            }
            if trailing_tab {
                rest.push('\t');
            }
            let parts = tabbed_report(&rest);
            proptest::prop_assert!(parts.is_some(), "{rest:?}");
            proptest::prop_assert_eq!(parts.map(Ok), Some(report_parts(&rest)));
        }

        #[test]
        fn printable_run_is_a_byte_scan(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![0x20u8..0x7f, proptest::sample::select(vec![b':', b'\t', 0x7f, 0x80, 0xff, 0, b'!'])],
                0..40,
            ),
            from in 0usize..40,
        ) {
            for lowest in [b' ', b'!'] {
                let scanned = run(&bytes, from, |c| (lowest..0x7f).contains(&c) && c != b':');
                proptest::prop_assert_eq!(printable_run(&bytes, from, lowest), scanned);
            }
        }

        #[test]
        fn lambda_request_id_is_request_id_in_any_spacing(
            rest in "(RequestId: ?)?[ -~\t\n\u{b}\u{c}\r\u{a0}\u{85}é]{0,12}",
        ) {
            if let Some(id) = lambda_request_id(&rest) {
                proptest::prop_assert_eq!(Ok(id), request_id_in_any_spacing(&rest));
            }
        }

        #[test]
        fn decimal_is_str_parse(
            s in "[0-9]{0,20}(\\.[0-9]{0,20})?|[0-9]{1,3}\\.[0-9]{1,3}|[0-9 .e+-]{0,6}",
            bits in proptest::num::u64::ANY,
        ) {
            if let Some(v) = decimal(&s) {
                proptest::prop_assert_eq!(Some(v.to_bits()), s.parse::<f64>().ok().map(f64::to_bits), "{:?}", s);
            }
            // Doubles printed as Rust prints them, near the exactness bound included.
            let d = f64::from_bits(bits).abs();
            for s in [format!("{d}"), format!("{:.2}", d % 1e6), format!("{}", (bits >> 11) as f64 / 1e4)] {
                if let Some(v) = decimal(&s) {
                    proptest::prop_assert_eq!(Some(v.to_bits()), s.parse::<f64>().ok().map(f64::to_bits), "{:?}", s);
                }
            }
        }

        /// The first byte settles what the split on the first space would have: a line this parser passes on has
        /// no keyword and is no timeout.
        #[test]
        fn lines_passed_on_hold_no_keyword(
            head in proptest::sample::select(vec![
                "START", "END", "REPORT", "XRAY", "INIT_START", "RESTORE_START", "INIT_REPORT", "RESTORE_REPORT",
                "EXTENSION", "TELEMETRY", "LOGS", "INIT_RUNTIME_DONE", "RequestId:", "2024-03-01T12:00:03.012Z",
                "MONITORING|1", "{", "", "INIT_RUNTIME_DONE_", "STARTED", " START",
            ]),
            separator in proptest::sample::select(vec![" ", "\t", "", "x", "\n"]),
            tail in "\\PC{0,30}",
        ) {
            let line = format!("{head}{separator}{tail}");
            let ctx = Ctx { observed_ns: 0, prefix: None, render_otlp: false };
            if parse(&line, &ctx) == Ok(None) {
                let keyword = line.split_once([' ', '\t']).map_or(line.as_str(), |(k, _)| k);
                let keywords = [
                    "START", "END", "REPORT", "XRAY", "INIT_START", "RESTORE_START", "INIT_REPORT", "RESTORE_REPORT",
                    "EXTENSION", "TELEMETRY", "LOGS", "INIT_RUNTIME_DONE", "RequestId:",
                ];
                proptest::prop_assert!(!keywords.contains(&keyword), "{line:?}");
                proptest::prop_assert!(timeout(&line).is_none(), "{line:?}");
            }
        }

        /// `classify` asks no JSON format about a line opening with printable ASCII that opens no JSON value.
        #[test]
        fn json_formats_pass_on_lines_opening_with_other_ascii(
            first in proptest::strategy::Strategy::prop_filter(0x21u8..0x7f, "opens a JSON value", |c| {
                !b"{[\"-0123456789".contains(c)
            }),
            tail in "\\PC{0,40}|\\{\"_aws\":\\{\\},\"type\":\"platform.start\",\"trace.trace_id\":\"1\"\\}",
        ) {
            let line = format!("{}{tail}", char::from(first));
            let ctx = Ctx { observed_ns: 0, prefix: None, render_otlp: false };
            proptest::prop_assert_eq!(crate::parse::json_platform::parse(&line, &ctx), Ok(None));
            proptest::prop_assert_eq!(crate::parse::emf::parse(&line, &ctx), Ok(None));
            proptest::prop_assert_eq!(crate::parse::beeline::parse(&line, &ctx), Ok(None));
            proptest::prop_assert_eq!(crate::parse::json_log::parse(&line, &ctx), Ok(None));
        }
    }
}
