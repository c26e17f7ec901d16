//! Instants as UTC milliseconds: a fast RFC 3339 parser, duration strings and civil-date helpers.
//!
//! Every instant in servicemeter is an `i64` count of milliseconds since 1970-01-01T00:00:00Z.
//! Input timestamps must carry an offset (`Z` or `±hh:mm`): a naive local time is ambiguous and
//! is rejected rather than guessed.

use std::fmt;

/// Earliest year accepted in input timestamps.
pub const MIN_YEAR: i32 = 1970;
/// Latest year accepted in input timestamps.
pub const MAX_YEAR: i32 = 2199;

/// Why a timestamp or duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimeError(pub String);

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Number of days in a month of a year.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(bytes: &[u8], at: usize, count: usize) -> Option<u32> {
    let slice = bytes.get(at..at + count)?;
    let mut value = 0u32;
    for &b in slice {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + u32::from(b - b'0');
    }
    Some(value)
}

/// Parses an RFC 3339 timestamp with offset (`2024-03-31T09:15:00+02:00`, `…Z`,
/// fractional seconds allowed) into UTC milliseconds.
pub fn parse_timestamp(text: &str) -> Result<i64, TimeError> {
    let bad = |why: &str| {
        TimeError(format!(
            "'{text}' is not an RFC 3339 timestamp with offset ({why}); expected e.g. 2024-03-01T09:30:00+01:00"
        ))
    };
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err(bad("too short"));
    }
    let year = digits(b, 0, 4).ok_or_else(|| bad("year"))? as i32;
    if b[4] != b'-' || b[7] != b'-' {
        return Err(bad("date must be YYYY-MM-DD"));
    }
    let month = digits(b, 5, 2).ok_or_else(|| bad("month"))?;
    let day = digits(b, 8, 2).ok_or_else(|| bad("day"))?;
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad("date and time must be separated by T"));
    }
    let hour = digits(b, 11, 2).ok_or_else(|| bad("hour"))?;
    if b[13] != b':' || b[16] != b':' {
        return Err(bad("time must be hh:mm:ss"));
    }
    let minute = digits(b, 14, 2).ok_or_else(|| bad("minute"))?;
    let second = digits(b, 17, 2).ok_or_else(|| bad("second"))?;
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(bad(&format!("year must be {MIN_YEAR}–{MAX_YEAR}")));
    }
    if !(1..=12).contains(&month) {
        return Err(bad("month out of range"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(bad("day out of range"));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad("time out of range"));
    }
    let mut pos = 19;
    let mut millis = 0i64;
    if b.get(pos) == Some(&b'.') {
        pos += 1;
        let start = pos;
        let mut scale = 100;
        while pos < b.len() && b[pos].is_ascii_digit() {
            millis += i64::from(b[pos] - b'0') * scale;
            scale /= 10;
            pos += 1;
        }
        if pos == start {
            return Err(bad("empty fraction"));
        }
    }
    let offset_seconds: i64 = match b.get(pos) {
        Some(b'Z' | b'z') if pos + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if pos + 6 == b.len() && b[pos + 3] == b':' => {
            let oh = digits(b, pos + 1, 2).ok_or_else(|| bad("offset hours"))?;
            let om = digits(b, pos + 4, 2).ok_or_else(|| bad("offset minutes"))?;
            if oh > 23 || om > 59 {
                return Err(bad("offset out of range"));
            }
            let value = i64::from(oh * 3600 + om * 60);
            if sign == b'-' { -value } else { value }
        }
        None => return Err(bad("missing offset")),
        _ => return Err(bad("offset must be Z or ±hh:mm")),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second) - offset_seconds;
    Ok(seconds * 1000 + millis)
}

/// Formats UTC milliseconds as RFC 3339 in UTC (`2024-03-01T08:00:00Z`, with `.mmm` when needed).
pub fn format_utc(millis: i64) -> String {
    let ts = jiff::Timestamp::from_millisecond(millis).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime();
    let ms = millis.rem_euclid(1000);
    if ms == 0 {
        format!("{}Z", dt.strftime("%Y-%m-%dT%H:%M:%S"))
    } else {
        format!("{}.{ms:03}Z", dt.strftime("%Y-%m-%dT%H:%M:%S"))
    }
}

/// A length of time given in configuration, such as `30s`, `90m`, `1h30m` or `2d`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Duration {
    /// Whole seconds.
    pub seconds: i64,
}

impl Duration {
    /// Parses `30s`, `5m`, `1h30m`, `2d` (units d, h, m, s; at least one part).
    pub fn parse(text: &str) -> Result<Duration, TimeError> {
        let bad = || {
            TimeError(format!(
                "'{text}' is not a duration; use whole numbers with units d, h, m, s such as 30s, 5m, 1h30m"
            ))
        };
        let mut total: i64 = 0;
        let mut number: Option<i64> = None;
        let mut parts = 0;
        for ch in text.trim().chars() {
            if let Some(d) = ch.to_digit(10) {
                number = Some(
                    number
                        .unwrap_or(0)
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(d)))
                        .ok_or_else(bad)?,
                );
                continue;
            }
            let unit = match ch {
                'd' => 86_400,
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => return Err(bad()),
            };
            let n = number.take().ok_or_else(bad)?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
            parts += 1;
        }
        if number.is_some() || parts == 0 {
            return Err(bad());
        }
        Ok(Duration { seconds: total })
    }

    /// Milliseconds.
    pub fn millis(self) -> i64 {
        self.seconds * 1000
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.seconds;
        if rest == 0 {
            return write!(f, "0s");
        }
        for (unit, label) in [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")] {
            if rest >= unit {
                write!(f, "{}{label}", rest / unit)?;
                rest %= unit;
            }
        }
        Ok(())
    }
}

/// Renders a number of seconds for people: `45s`, `12m 5s`, `3h 20m`, `2d 4h`.
pub fn human_seconds(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "-".into();
    }
    let s = seconds.round() as i64;
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h {:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d {:02}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_to_the_same_instant() {
        let z = parse_timestamp("2024-03-31T07:00:00Z").unwrap();
        let cest = parse_timestamp("2024-03-31T09:00:00+02:00").unwrap();
        let minus = parse_timestamp("2024-03-31T02:00:00-05:00").unwrap();
        assert_eq!(z, cest);
        assert_eq!(z, minus);
        // 2024-03-31 is day 19813 since the epoch.
        assert_eq!(z, (19_813 * 86_400 + 7 * 3600) * 1000);
    }

    #[test]
    fn parses_fractions() {
        assert_eq!(parse_timestamp("1970-01-01T00:00:01.5Z").unwrap(), 1500);
        assert_eq!(parse_timestamp("1970-01-01T00:00:00.123456Z").unwrap(), 123);
    }

    #[test]
    fn rejects_naive_and_malformed() {
        for bad in [
            "2024-03-31T09:00:00",
            "2024-03-31",
            "2024-02-30T09:00:00Z",
            "2024-03-31T24:00:00Z",
            "2024-03-31T09:00:00+0200",
            "31-03-2024T09:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert!(parse_timestamp(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("30s").unwrap().seconds, 30);
        assert_eq!(Duration::parse("1h30m").unwrap().seconds, 5400);
        assert_eq!(Duration::parse("2d").unwrap().seconds, 172_800);
        assert!(Duration::parse("30").is_err());
        assert!(Duration::parse("h").is_err());
        assert!(Duration::parse("5x").is_err());
        assert_eq!(Duration { seconds: 5400 }.to_string(), "1h30m");
    }

    #[test]
    fn formats_utc() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1500), "1970-01-01T00:00:01.500Z");
    }
}
