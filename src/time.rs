//! Timestamp parsing for the shapes Lambda runtimes print, without a date-time dependency.

use crate::telemetry::UnixNanos;

/// Parses an RFC 3339 / ISO 8601 timestamp (`2024-03-01T12:00:00.123Z`, `…+02:00`, `…T12:00:00Z`) and the
/// looser runtime shapes: a space instead of `T` (Java's log4j pattern), `/` date separators (Go's `log`),
/// and no zone at all (Ruby's Logger), which Lambda prints in UTC. Returns `None` for anything else.
pub fn parse_timestamp(s: &str) -> Option<UnixNanos> {
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
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
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
