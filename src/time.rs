//! Timestamp parsing for the shapes Lambda runtimes print, without a date-time dependency.

use crate::telemetry::UnixNanos;

/// Parses an RFC 3339 / ISO 8601 timestamp (`2024-03-01T12:00:00.123Z`, `…+02:00`, `…T12:00:00Z`) and the
/// looser runtime shapes: a space instead of `T` (Java's log4j pattern), `/` date separators (Go's `log`),
/// and no zone at all (Ruby's Logger), which Lambda prints in UTC. Returns `None` for anything else.
pub fn parse_timestamp(s: &str) -> Option<UnixNanos> {
    // Nearly every Lambda runtime line and platform event carries exactly this shape, and this runs per line.
    if let Ok(b) = <&[u8; 24]>::try_from(s.as_bytes()) {
        if let Some(ns) = parse_utc_millis(b) {
            return ns;
        }
    }
    parse_timestamp_general(s)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` read eight bytes at a time: `None` when `b` is not exactly that shape (the
/// general parser decides), otherwise what [`parse_timestamp_general`] returns for it.
fn parse_utc_millis(b: &[u8; 24]) -> Option<Option<UnixNanos>> {
    // XOR with the template turns digits into 0..=9 and matching separators into 0; adding 0x76 to a digit
    // byte (0x7f to a separator byte) sets its top bit exactly when it was out of range. A carry out of a
    // byte only happens when that byte already failed, so it cannot hide a failure.
    const TEMPLATE: [u64; 3] =
        [u64::from_le_bytes(*b"0000-00-"), u64::from_le_bytes(*b"00T00:00"), u64::from_le_bytes(*b":00.000Z")];
    const ADD: [u64; 3] = [0x7f76_767f_7676_7676, 0x7676_7f76_767f_7676, 0x7f76_7676_7f76_767f];
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = |i: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i * 8..i * 8 + 8]);
        u64::from_le_bytes(w) ^ TEMPLATE[i]
    };
    let (w0, w1, w2) = (word(0), word(1), word(2));
    if ((w0 | w0.wrapping_add(ADD[0])) | (w1 | w1.wrapping_add(ADD[1])) | (w2 | w2.wrapping_add(ADD[2]))) & HIGH != 0 {
        return None;
    }
    // Byte k of `v * 10 + (v >> 8)` is the two-digit number at bytes k, k+1: every byte is at most 9 and
    // separators are 0, so nothing carries.
    let pairs = |v: u64| v.wrapping_mul(10) + (v >> 8);
    let byte = |v: u64, k: u32| ((v >> (8 * k)) & 0xff) as u32;
    let (p0, p1, p2) = (pairs(w0), pairs(w1), pairs(w2));
    let year = byte(p0, 0) * 100 + byte(p0, 2);
    let month = byte(p0, 5);
    let day = byte(p1, 0);
    let hour = byte(p1, 3);
    let minute = byte(p1, 6);
    let second = byte(p2, 1);
    let millis = byte(w2, 4) * 100 + byte(p2, 5);
    if !valid_date_time(year, month, day, hour, minute, second) {
        return Some(None);
    }
    let days = days_from_civil(i64::from(year), month, day);
    let secs = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(
        u64::try_from(secs).ok().and_then(|s| s.checked_mul(1_000_000_000)?.checked_add(u64::from(millis) * 1_000_000)),
    )
}

/// Whether the fields name a real instant (a leap second's 60 allowed), the check both readers make.
fn valid_date_time(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> bool {
    (1..=12).contains(&month)
        && day != 0
        && day <= days_in_month(year, month)
        && hour <= 23
        && minute <= 59
        && second <= 60
}

/// Every shape [`parse_timestamp`] accepts, byte by byte.
fn parse_timestamp_general(s: &str) -> Option<UnixNanos> {
    let b = s.as_bytes();
    if b.len() < 19 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let sep = b[4];
    if !(sep == b'-' || sep == b'/') || b[7] != sep {
        return None;
    }
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    if !(b[10] == b'T' || b[10] == b' ' || b[10] == b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !valid_date_time(year, month, day, hour, minute, second) {
        return None;
    }
    let mut i = 19;
    let mut nanos: u64 = 0;
    if i < b.len() && (b[i] == b'.' || b[i] == b',') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    let offset_s: i64 = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (h, m) = match rest.len() {
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                2 => (digits(rest, 0, 2)?, 0),
                _ => return None,
            };
            let off = (h * 3600 + m * 60) as i64;
            if sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year as i64, month, day);
    let secs = days * 86_400 + (hour * 3600 + minute * 60 + second) as i64 - offset_s;
    u64::try_from(secs).ok()?.checked_mul(1_000_000_000)?.checked_add(nanos)
}

/// Parses epoch time given as a number: seconds, milliseconds, microseconds or nanoseconds, told apart by
/// magnitude (anything after 2001-09-09 in seconds has 10 digits).
pub fn from_epoch_number(v: f64) -> Option<UnixNanos> {
    if !v.is_finite() || v <= 0.0 {
        return None;
    }
    let ns = if v < 1e11 {
        v * 1e9
    } else if v < 1e14 {
        v * 1e6
    } else if v < 1e17 {
        v * 1e3
    } else {
        v
    };
    (ns < 1.8e19).then_some(ns as u64)
}

/// Epoch time given as whole units plus the decimal digits after the point (`frac`, digits only), in
/// seconds, milliseconds, microseconds or nanoseconds told apart by magnitude as
/// [`from_epoch_number`] does, but in integers: through `f64`, a millisecond timestamp lands
/// tens of nanoseconds off. Digits finer than a nanosecond are dropped; zero and overflow are `None`.
pub fn from_epoch_digits(whole: u64, frac: &str) -> Option<UnixNanos> {
    let (scale, digits) = match whole {
        0..100_000_000_000 => (1_000_000_000, 9),
        100_000_000_000..100_000_000_000_000 => (1_000_000, 6),
        100_000_000_000_000..100_000_000_000_000_000 => (1_000, 3),
        _ => (1, 0),
    };
    let mut sub: u64 = 0;
    let mut taken = 0;
    for b in frac.bytes().take(digits) {
        sub = sub * 10 + u64::from(b.wrapping_sub(b'0'));
        taken += 1;
    }
    for _ in taken..digits {
        sub *= 10;
    }
    whole.checked_mul(scale)?.checked_add(sub).filter(|ns| *ns > 0)
}

/// Epoch time written as a decimal string (`1489795335`, `1489795335.5`, `1489795335123`): exact for plain
/// decimals, through `f64` for anything else `f64` reads (`1.489795335e9`).
pub fn from_epoch_str(s: &str) -> Option<UnixNanos> {
    // One pass for the plain decimals every MONITORING line carries; up to 19 digits cannot overflow a u64.
    let b = s.as_bytes();
    let mut whole: u64 = 0;
    let mut i = 0;
    while i < b.len() && i < 19 && b[i].is_ascii_digit() {
        whole = whole * 10 + u64::from(b[i] - b'0');
        i += 1;
    }
    if i > 0 {
        if i == b.len() {
            return from_epoch_digits(whole, "");
        }
        if b[i] == b'.' && b[i + 1..].iter().all(u8::is_ascii_digit) {
            return from_epoch_digits(whole, &s[i + 1..]);
        }
    }
    from_epoch_str_general(s)
}

/// Every shape [`from_epoch_str`] accepts.
fn from_epoch_str_general(s: &str) -> Option<UnixNanos> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let plain = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !whole.is_empty() && plain(whole) && plain(frac) {
        return whole.parse().ok().and_then(|w| from_epoch_digits(w, frac));
    }
    s.parse().ok().and_then(from_epoch_number)
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<u32> {
    b.get(at..at + n)?.iter().try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

fn is_leap(y: u32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats nanoseconds since the epoch as RFC 3339 with milliseconds, for human views.
pub fn format_rfc3339_ms(ns: UnixNanos) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let ms = (ns / 1_000_000) % 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Inverse of days_from_civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z", sod / 3600, sod % 3600 / 60, sod % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Mostly years that fit u64 nanoseconds (1970..=2554), with the century years where the leap rules
    /// differ (2000, 2100, 2400) and every fourth year as often as any others, and now and then any year.
    fn year() -> impl Strategy<Value = u32> {
        prop_oneof![
            4 => 1969..=2555u32,
            2 => (19..=26u32).prop_map(|c| c * 100),
            2 => (492..=639u32).prop_map(|k| k * 4),
            1 => 0..=9999u32,
        ]
    }

    /// A field that is mostly in range, else on or past an edge of it.
    fn field(valid: std::ops::RangeInclusive<u32>, edges: &[u32]) -> impl Strategy<Value = u32> {
        prop_oneof![4 => valid, 1 => prop::sample::select(edges.to_vec()), 1 => 0..=99u32]
    }

    /// Dates and times in the fast path's exact shape, each field now and then at or past its range.
    fn millis_shape() -> impl Strategy<Value = String> {
        (
            year(),
            field(1..=12, &[0, 1, 2, 12, 13]),
            field(1..=28, &[0, 1, 28, 29, 30, 31, 32]),
            field(0..=23, &[0, 23, 24, 25]),
            field(0..=59, &[0, 59, 60]),
            field(0..=59, &[0, 59, 60, 61]),
            0..=999u32,
        )
            .prop_map(|(y, mo, d, h, mi, s, ms)| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z"))
    }

    /// The exact shape with one byte changed: a bit flipped (a near miss of a digit or separator), or swapped
    /// for a separator, digit or letter some other shape uses.
    fn near_shape() -> impl Strategy<Value = String> {
        let swap = prop_oneof![
            (0..7u32).prop_map(|bit| Err(1u8 << bit)),
            prop::sample::select(b"0123456789-/:.,TtZz +\t\x7f".to_vec()).prop_map(Ok),
            (0u8..0x80).prop_map(Ok),
        ];
        (millis_shape(), 0..24usize, swap).prop_map(|(s, at, c)| {
            let mut b = s.into_bytes();
            b[at] = match c {
                Err(flip) => b[at] ^ flip,
                Ok(c) => c,
            };
            String::from_utf8(b).expect("ASCII in, ASCII out")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4096))]

        #[test]
        fn fast_timestamps_agree_with_the_general_parser(s in millis_shape()) {
            prop_assert!(parse_utc_millis(s.as_bytes().try_into().unwrap()).is_some(), "{s} took the slow path");
            prop_assert_eq!(parse_timestamp(&s), parse_timestamp_general(&s), "{}", s);
        }

        #[test]
        fn near_timestamps_agree_with_the_general_parser(s in near_shape()) {
            prop_assert_eq!(parse_timestamp(&s), parse_timestamp_general(&s), "{}", s);
        }

        #[test]
        fn any_string_parses_as_the_general_parser_does(
            s in prop_oneof![any::<String>(), "[0-9:.TZ\\-é ]{18,26}", "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}.{0,3}"]
        ) {
            prop_assert_eq!(parse_timestamp(&s), parse_timestamp_general(&s), "{}", s);
        }

        #[test]
        fn epoch_strings_agree_with_the_general_reader(
            s in prop_oneof![
                "[0-9]{0,22}",
                "[0-9]{0,22}\\.[0-9]{0,12}",
                "[0-9.eE+\\- ]{0,24}",
                (0..=u64::MAX).prop_map(|n| n.to_string()),
                any::<String>(),
            ]
        ) {
            prop_assert_eq!(from_epoch_str(&s), from_epoch_str_general(&s), "{}", s);
        }
    }

    #[test]
    fn reads_every_runtime_shape() {
        let base = 1_709_294_400_000_000_000u64; // 2024-03-01T12:00:00Z
        let cases = [
            ("2024-03-01T12:00:00Z", Some(base)),
            ("2024-03-01T12:00:00.123Z", Some(base + 123_000_000)),
            ("2024-03-01T12:00:00.123456789Z", Some(base + 123_456_789)),
            ("2024-03-01T12:00:00.1234567891Z", Some(base + 123_456_789)),
            ("2024-03-01T14:00:00+02:00", Some(base)),
            ("2024-03-01T11:30:00-0030", Some(base)),
            ("2024-03-01 12:00:00", Some(base)),
            ("2024/03/01 12:00:00", Some(base)),
            ("2024-03-01T12:00:00.123456", Some(base + 123_456_000)),
            ("2024-03-01 12:00:00,500", Some(base + 500_000_000)),
            ("2024-02-30T12:00:00Z", None),
            ("2024-03-01T12:00:00.Z", None),
            ("2024-03-01T12:00:00Zjunk", None),
            ("not a time at all", None),
            ("", None),
        ];
        for (s, want) in cases {
            assert_eq!(parse_timestamp(s), want, "{s}");
        }
    }

    #[test]
    fn epoch_numbers_by_magnitude() {
        let ns = 1_709_294_400_000_000_000u64;
        assert_eq!(from_epoch_number(1_709_294_400.0), Some(ns));
        assert_eq!(from_epoch_number(1_709_294_400_000.0), Some(ns));
        assert_eq!(from_epoch_number(1_709_294_400_000_000.0), Some(ns));
        assert_eq!(from_epoch_number(-1.0), None);
    }

    #[test]
    fn epochs_convert_exactly() {
        assert_eq!(from_epoch_digits(1_489_795_335, ""), Some(1_489_795_335_000_000_000));
        assert_eq!(from_epoch_digits(1_489_795_335, "5"), Some(1_489_795_335_500_000_000));
        assert_eq!(from_epoch_digits(1_489_795_335_123, ""), Some(1_489_795_335_123_000_000));
        assert_eq!(from_epoch_digits(1_489_795_335_123_456, "7"), Some(1_489_795_335_123_456_700));
        assert_eq!(from_epoch_digits(1_489_795_335_123_456_789, "9"), Some(1_489_795_335_123_456_789));
        assert_eq!(from_epoch_digits(0, ""), None);
        assert_eq!(from_epoch_digits(0, "5"), Some(500_000_000));
        assert_eq!(from_epoch_digits(u64::MAX, ""), Some(u64::MAX));
        // Past u64 nanoseconds (the year 2554) is not a time, in any unit.
        assert_eq!(from_epoch_digits(99_999_999_999_999, ""), None);
        assert_eq!(from_epoch_digits(18_000_000_000_000_000, ""), Some(18_000_000_000_000_000_000));
    }

    #[test]
    fn epoch_strings_are_exact() {
        assert_eq!(from_epoch_str("1489795335123"), Some(1_489_795_335_123_000_000));
        assert_eq!(from_epoch_str("1489795335.25"), Some(1_489_795_335_250_000_000));
        assert_eq!(from_epoch_str("1.489795335e9"), Some(1_489_795_335_000_000_000));
        assert_eq!(from_epoch_str("soon"), None);
    }

    #[test]
    fn formats_round_trip() {
        let ns = parse_timestamp("2024-02-29T23:59:59.999Z");
        assert_eq!(ns.map(format_rfc3339_ms).as_deref(), Some("2024-02-29T23:59:59.999Z"));
        assert_eq!(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
    }
}
