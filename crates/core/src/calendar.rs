//! Business-hours calendar: weekly opening hours, holidays and time zones, and the time that a
//! service desk was open between two instants.
//!
//! A [`BusinessCalendar`] turns local opening hours into UTC intervals one year at a time
//! (lazily, cached, safe to share between threads) and answers
//! [`BusinessCalendar::open_millis_between`] with two binary searches. Local times that do not
//! exist (the hour skipped when daylight-saving time starts) resolve to the later instant, and
//! a day that has 23 or 25 hours gets 23 or 25 hours of "00:00-24:00".

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

use crate::time::{MAX_YEAR, MIN_YEAR};

/// One opening interval in local time, in minutes since midnight (`end` may be 1440 = 24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct OpenRange {
    pub start_minute: u16,
    pub end_minute: u16,
}

/// Days of the week in the order used by [`WeekSchedule`]: Monday first.
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Opening hours for one week: for each day (Monday first) the sorted, non-overlapping ranges.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WeekSchedule {
    pub days: [Vec<OpenRange>; 7],
}

/// Why a day's opening hours could not be read (English here; the web renders each case in
/// the reader's language).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("'{0}' is not a time range; write HH:MM-HH:MM, e.g. 09:00-17:30")]
    NotRange(String),
    #[error("'{0}' is not a time of day (HH:MM, 00:00–23:59)")]
    NotStart(String),
    #[error("'{0}' is not a time of day (HH:MM, 00:00–24:00)")]
    NotEnd(String),
    #[error("range '{0}' ends before it starts")]
    Backwards(String),
    #[error("ranges overlap in '{0}'")]
    Overlap(String),
}

fn parse_clock(text: &str, allow_24: bool) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let h: u16 = h.parse().ok()?;
    let m: u16 = m.parse().ok()?;
    if m > 59 || h > 24 || (h == 24 && (m != 0 || !allow_24)) {
        return None;
    }
    Some(h * 60 + m)
}

impl WeekSchedule {
    /// Open all day, every day.
    pub fn always_open() -> WeekSchedule {
        let all = vec![OpenRange {
            start_minute: 0,
            end_minute: 1440,
        }];
        WeekSchedule {
            days: std::array::from_fn(|_| all.clone()),
        }
    }

    /// Parses one day's value: `"09:00-17:30"`, `"10:00-12:00, 13:00-16:00"`, `"closed"`
    /// or `"00:00-24:00"` (open all day).
    pub fn parse_day(text: &str) -> Result<Vec<OpenRange>, ScheduleError> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("closed") || trimmed.is_empty() {
            return Ok(Vec::new());
        }
        let mut ranges = Vec::new();
        for part in trimmed.split(',') {
            let (from, to) = part
                .split_once('-')
                .ok_or_else(|| ScheduleError::NotRange(part.trim().to_string()))?;
            let start = parse_clock(from, false)
                .ok_or_else(|| ScheduleError::NotStart(from.trim().to_string()))?;
            let end = parse_clock(to, true)
                .ok_or_else(|| ScheduleError::NotEnd(to.trim().to_string()))?;
            if end <= start {
                return Err(ScheduleError::Backwards(part.trim().to_string()));
            }
            ranges.push(OpenRange {
                start_minute: start,
                end_minute: end,
            });
        }
        ranges.sort();
        for pair in ranges.windows(2) {
            if pair[1].start_minute < pair[0].end_minute {
                return Err(ScheduleError::Overlap(trimmed.to_string()));
            }
        }
        Ok(ranges)
    }

    /// Open minutes in a normal (non-DST-switch) week.
    pub fn weekly_open_minutes(&self) -> u32 {
        self.days
            .iter()
            .flatten()
            .map(|r| u32::from(r.end_minute - r.start_minute))
            .sum()
    }

    /// Ranges for a weekday.
    pub fn day(&self, weekday: Weekday) -> &[OpenRange] {
        &self.days[weekday.to_monday_zero_offset() as usize]
    }
}

impl fmt::Display for OpenRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start_minute / 60,
            self.start_minute % 60,
            self.end_minute / 60,
            self.end_minute % 60
        )
    }
}

/// Built-in public-holiday calendars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HolidayCalendar {
    /// Dutch public holidays (see [`dutch_holidays`]).
    Netherlands,
}

impl HolidayCalendar {
    /// Parses the configuration name (`"NL"`).
    pub fn parse(name: &str) -> Option<HolidayCalendar> {
        match name.to_ascii_uppercase().as_str() {
            "NL" => Some(HolidayCalendar::Netherlands),
            _ => None,
        }
    }
}

/// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm.
pub fn easter_sunday(year: i16) -> Date {
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, month as i8, day as i8).expect("Easter is a valid date")
}

/// Dutch public holidays on which a service desk is normally closed: Nieuwjaarsdag, Eerste en
/// Tweede Paasdag, Koningsdag (27 April, or the 26th when the 27th is a Sunday; before 2014
/// Koninginnedag on 30 April, or the 29th when that is a Sunday), Bevrijdingsdag (5 May) in
/// lustrum years (every fifth year, 2020, 2025, …), Hemelvaartsdag, Eerste en Tweede Pinksterdag,
/// Eerste en Tweede Kerstdag. Goede Vrijdag is not included: most employers stay open.
pub fn dutch_holidays(year: i16) -> Vec<Date> {
    let easter = easter_sunday(year);
    let plus = |days: i32| {
        easter
            .checked_add(jiff::Span::new().days(days))
            .expect("in range")
    };
    let date = |m: i8, d: i8| Date::new(year, m, d).expect("valid date");
    let mut days = vec![
        date(1, 1),
        easter,
        plus(1),
        plus(39),
        plus(49),
        plus(50),
        date(12, 25),
        date(12, 26),
    ];
    let kings = if year >= 2014 {
        let d = date(4, 27);
        if d.weekday() == Weekday::Sunday {
            date(4, 26)
        } else {
            d
        }
    } else {
        let d = date(4, 30);
        if d.weekday() == Weekday::Sunday {
            date(4, 29)
        } else {
            d
        }
    };
    days.push(kings);
    if year % 5 == 0 {
        days.push(date(5, 5));
    }
    days.sort();
    days
}

/// Closed days: explicit local dates plus an optional built-in calendar.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    pub dates: BTreeSet<Date>,
    pub calendar: Option<HolidayCalendar>,
}

impl Holidays {
    /// All closed dates of one year, sorted.
    pub fn in_year(&self, year: i16) -> BTreeSet<Date> {
        let mut set: BTreeSet<Date> = self
            .dates
            .iter()
            .filter(|d| d.year() == year)
            .copied()
            .collect();
        if let Some(HolidayCalendar::Netherlands) = self.calendar {
            set.extend(dutch_holidays(year));
        }
        set
    }

    /// Whether a local date is a holiday.
    pub fn contains(&self, date: Date) -> bool {
        self.dates.contains(&date)
            || match self.calendar {
                Some(HolidayCalendar::Netherlands) => dutch_holidays(date.year()).contains(&date),
                None => false,
            }
    }
}

/// Open intervals of one local calendar year, as UTC milliseconds with running totals.
#[derive(Debug)]
struct YearTable {
    start: i64,
    end: i64,
    intervals: Vec<(i64, i64)>,
    /// `before[i]` = open milliseconds in `intervals[..i]`.
    before: Vec<i64>,
}

impl YearTable {
    /// Open milliseconds in `[self.start, t)`.
    fn open_before(&self, t: i64) -> i64 {
        let t = t.clamp(self.start, self.end);
        let i = self.intervals.partition_point(|&(s, _)| s <= t);
        if i == 0 {
            return 0;
        }
        let (s, e) = self.intervals[i - 1];
        self.before[i - 1] + (t.min(e) - s)
    }
}

/// The UTC calendar year of an instant (Howard Hinnant's days-to-civil).
fn utc_year(millis: i64) -> i16 {
    let z = millis.div_euclid(86_400_000) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    year.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16
}

/// Opening hours of one channel in one time zone, with holidays: answers "how long was the
/// desk open between these instants?".
pub struct BusinessCalendar {
    tz: TimeZone,
    week: WeekSchedule,
    holidays: Arc<Holidays>,
    years: Vec<OnceLock<YearTable>>,
}

impl fmt::Debug for BusinessCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BusinessCalendar")
            .field("tz", &self.tz.iana_name())
            .field("week", &self.week)
            .finish()
    }
}

fn local_midnight(tz: &TimeZone, date: Date) -> i64 {
    date.to_datetime(Time::midnight())
        .to_zoned_datetime(tz.clone())
        .expect("dates in range convert")
        .timestamp()
        .as_millisecond()
}

fn local_instant(tz: &TimeZone, date: Date, minute: u16) -> i64 {
    if minute >= 1440 {
        return local_midnight(tz, date.tomorrow().expect("in range"));
    }
    let time = Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).expect("valid time");
    date.to_datetime(time)
        .to_zoned_datetime(tz.clone())
        .expect("dates in range convert")
        .timestamp()
        .as_millisecond()
}

impl BusinessCalendar {
    /// A calendar for one weekly schedule in a time zone with holidays.
    pub fn new(tz: TimeZone, week: WeekSchedule, holidays: Arc<Holidays>) -> BusinessCalendar {
        let years = (MIN_YEAR - 1..=MAX_YEAR + 1)
            .map(|_| OnceLock::new())
            .collect();
        BusinessCalendar {
            tz,
            week,
            holidays,
            years,
        }
    }

    /// The time zone.
    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The weekly schedule.
    pub fn week(&self) -> &WeekSchedule {
        &self.week
    }

    /// The holidays.
    pub fn holidays(&self) -> &Holidays {
        &self.holidays
    }

    fn year_table(&self, year: i16) -> &YearTable {
        let index = (i32::from(year) - (MIN_YEAR - 1)) as usize;
        self.years[index].get_or_init(|| self.build_year(year))
    }

    fn build_year(&self, year: i16) -> YearTable {
        let first = Date::new(year, 1, 1).expect("valid");
        let next = Date::new(year + 1, 1, 1).expect("valid");
        let closed = self.holidays.in_year(year);
        let mut intervals = Vec::with_capacity(400);
        let mut day = first;
        while day < next {
            if !closed.contains(&day) {
                for range in self.week.day(day.weekday()) {
                    let s = local_instant(&self.tz, day, range.start_minute);
                    let e = local_instant(&self.tz, day, range.end_minute);
                    if e > s {
                        intervals.push((s, e));
                    }
                }
            }
            day = day.tomorrow().expect("in range");
        }
        let mut before = Vec::with_capacity(intervals.len());
        let mut total = 0;
        for &(s, e) in &intervals {
            before.push(total);
            total += e - s;
        }
        YearTable {
            start: local_midnight(&self.tz, first),
            end: local_midnight(&self.tz, next),
            intervals,
            before,
        }
    }

    fn local_year(&self, t: i64) -> i16 {
        // The UTC year is the local year or one off (offsets are under a day); the cached
        // year tables know exactly where each local year starts and ends.
        let lo = (MIN_YEAR - 1) as i16;
        let hi = (MAX_YEAR + 1) as i16;
        let year = utc_year(t).clamp(lo, hi);
        let table = self.year_table(year);
        if t < table.start && year > lo {
            year - 1
        } else if t >= table.end && year < hi {
            year + 1
        } else {
            year
        }
    }

    /// Milliseconds within opening hours in `[from, to)`; 0 when `to <= from`.
    pub fn open_millis_between(&self, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        let first = self.local_year(from);
        let last = self.local_year(to);
        (first..=last)
            .map(|year| {
                let table = self.year_table(year);
                table.open_before(to) - table.open_before(from)
            })
            .sum()
    }

    /// Whether the desk is open at an instant.
    pub fn is_open_at(&self, t: i64) -> bool {
        self.open_millis_between(t, t + 1) == 1
    }

    /// The first instant at or after `t` when the desk is open, looking up to `horizon_days`
    /// ahead; `None` when it stays closed that long.
    pub fn next_open_at(&self, t: i64, horizon_days: i64) -> Option<i64> {
        self.open_intervals(t, t + horizon_days * 86_400_000)
            .first()
            .map(|&(s, _)| s)
    }

    /// The instant at which `open_millis` of opening hours have passed since `from` (a reply
    /// given after that much working time), always inside or at the end of an open interval
    /// (`from` itself when the desk is open and `open_millis <= 0`). `None` when the desk stays
    /// closed too long (the search looks `horizon_days` ahead of each step).
    pub fn after_open_millis(&self, from: i64, open_millis: i64, horizon_days: i64) -> Option<i64> {
        let mut left = open_millis.max(0);
        let mut at = from;
        let window = horizon_days.max(1) * 86_400_000;
        loop {
            let intervals = self.open_intervals(at, at + window);
            if intervals.is_empty() {
                return None;
            }
            for (start, end) in intervals {
                if left <= end - start {
                    return Some(start + left);
                }
                left -= end - start;
                at = end;
            }
        }
    }

    /// The closing time of the `days`-th working day after the local day of `t` (a working day
    /// is a day with opening hours: not closed by the week or a holiday). `None` when fewer
    /// working days fall within a year.
    pub fn working_days_later(&self, t: i64, days: i64) -> Option<i64> {
        let stamp = jiff::Timestamp::from_millisecond(t).ok()?;
        let next_day = self.tz.to_datetime(stamp).date().tomorrow().ok()?;
        let from = local_midnight(&self.tz, next_day);
        let mut counted = 0;
        let mut current: Option<(Date, i64)> = None;
        for (start, end) in self.open_intervals(from, from + 366 * 86_400_000) {
            let day = self
                .tz
                .to_datetime(jiff::Timestamp::from_millisecond(start).ok()?)
                .date();
            match current {
                Some((d, _)) if d == day => current = Some((day, end)),
                Some((_, close)) if counted == days => return Some(close),
                _ => {
                    counted += 1;
                    current = Some((day, end));
                }
            }
        }
        current.filter(|_| counted == days).map(|(_, close)| close)
    }

    /// The open intervals (UTC milliseconds) that overlap `[from, to)`, clipped to it.
    pub fn open_intervals(&self, from: i64, to: i64) -> Vec<(i64, i64)> {
        if to <= from {
            return Vec::new();
        }
        let mut out = Vec::new();
        for year in self.local_year(from)..=self.local_year(to) {
            let table = self.year_table(year);
            let i = table.intervals.partition_point(|&(_, e)| e <= from);
            for &(s, e) in &table.intervals[i..] {
                if s >= to {
                    break;
                }
                out.push((s.max(from), e.min(to)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_timestamp;
    use proptest::prelude::*;

    fn amsterdam() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    fn office_week() -> WeekSchedule {
        let mut week = WeekSchedule::default();
        for d in 0..5 {
            week.days[d] = WeekSchedule::parse_day("09:00-17:00").unwrap();
        }
        week.days[5] = WeekSchedule::parse_day("10:00-12:00, 13:00-16:00").unwrap();
        week
    }

    fn ts(s: &str) -> i64 {
        parse_timestamp(s).unwrap()
    }

    #[test]
    fn parse_day_variants() {
        assert_eq!(WeekSchedule::parse_day("closed").unwrap(), vec![]);
        let split = WeekSchedule::parse_day("13:00-16:00, 10:00-12:00").unwrap();
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].start_minute, 600);
        assert_eq!(
            WeekSchedule::parse_day("00:00-24:00").unwrap()[0].end_minute,
            1440
        );
        assert!(WeekSchedule::parse_day("09:00-25:00").is_err());
        assert!(WeekSchedule::parse_day("17:00-09:00").is_err());
        assert!(WeekSchedule::parse_day("09:00-12:00, 11:00-13:00").is_err());
        assert!(WeekSchedule::parse_day("9-17").is_err());
    }

    #[test]
    fn working_days_later_skips_closed_days_and_holidays() {
        // Office week Mon–Fri 09–17, Sat 10–12 and 13–16, Sunday closed; Dutch holidays.
        let cal = BusinessCalendar::new(
            amsterdam(),
            office_week(),
            Arc::new(Holidays {
                dates: BTreeSet::new(),
                calendar: Some(HolidayCalendar::Netherlands),
            }),
        );
        let check = |at: &str, days: i64, expect: Option<&str>| {
            assert_eq!(
                cal.working_days_later(ts(at), days),
                expect.map(ts),
                "{at} + {days}"
            );
        };
        // Monday 4 March 2024 15:00 → Tuesday, Wednesday: Wednesday 17:00 (CET, +01:00).
        check("2024-03-04T14:00:00Z", 2, Some("2024-03-06T16:00:00Z"));
        // Friday 22 March → Saturday (closes 16:00), Monday: Monday 17:00.
        check("2024-03-22T10:00:00Z", 2, Some("2024-03-25T16:00:00Z"));
        // Thursday 28 March → Good Friday (open), Saturday; Easter Sunday and Monday closed.
        check("2024-03-28T10:00:00Z", 3, Some("2024-04-02T15:00:00Z"));
        // Saturday 30 March evening; the clocks go forward that night: Tuesday 2 April 17:00 CEST.
        check("2024-03-30T18:00:00Z", 1, Some("2024-04-02T15:00:00Z"));
        // Always closed: never due.
        let closed = BusinessCalendar::new(
            amsterdam(),
            WeekSchedule::default(),
            Arc::new(Holidays::default()),
        );
        assert_eq!(
            closed.working_days_later(ts("2024-03-04T14:00:00Z"), 2),
            None
        );
    }

    #[test]
    fn easter_dates() {
        assert_eq!(easter_sunday(2024), Date::new(2024, 3, 31).unwrap());
        assert_eq!(easter_sunday(2025), Date::new(2025, 4, 20).unwrap());
        assert_eq!(easter_sunday(2019), Date::new(2019, 4, 21).unwrap());
    }

    #[test]
    fn dutch_holidays_2024_and_2025() {
        let d = |y, m, day| Date::new(y, m, day).unwrap();
        assert_eq!(
            dutch_holidays(2024),
            vec![
                d(2024, 1, 1),
                d(2024, 3, 31),
                d(2024, 4, 1),
                d(2024, 4, 27),
                d(2024, 5, 9),
                d(2024, 5, 19),
                d(2024, 5, 20),
                d(2024, 12, 25),
                d(2024, 12, 26),
            ]
        );
        // 2025: Koningsdag falls on Sunday 27 April and moves to Saturday the 26th;
        // a lustrum year, so Bevrijdingsdag counts.
        let h = dutch_holidays(2025);
        assert!(h.contains(&d(2025, 4, 26)));
        assert!(!h.contains(&d(2025, 4, 27)));
        assert!(h.contains(&d(2025, 5, 5)));
        assert!(h.contains(&d(2025, 5, 29)));
    }

    #[test]
    fn arrival_when_closed_counts_from_next_opening() {
        let cal = BusinessCalendar::new(amsterdam(), office_week(), Arc::default());
        // Friday 2024-03-01 18:00 CET to Monday 2024-03-04 09:30 CET: Saturday 10-12 and 13-16
        // (5 h) plus Monday 09:00-09:30.
        let open = cal.open_millis_between(
            ts("2024-03-01T18:00:00+01:00"),
            ts("2024-03-04T09:30:00+01:00"),
        );
        assert_eq!(open, (5 * 3600 + 1800) * 1000);
    }

    #[test]
    fn after_open_millis_skips_closed_time() {
        let cal = BusinessCalendar::new(amsterdam(), office_week(), Arc::default());
        let check = |from: &str, minutes: i64, expect: &str| {
            assert_eq!(
                cal.after_open_millis(ts(from), minutes * 60_000, 14),
                Some(ts(expect)),
                "{from} + {minutes} open minutes"
            );
        };
        // Friday 16:50 + 20 min: 10 min on Friday, 10 on Saturday from 10:00.
        check("2024-03-01T16:50:00+01:00", 20, "2024-03-02T10:10:00+01:00");
        // Saturday 11:50 + 20 min: 10 before lunch, 10 after it.
        check("2024-03-02T11:50:00+01:00", 20, "2024-03-02T13:10:00+01:00");
        // Sunday night + 0: the next opening (Monday 09:00).
        check("2024-03-03T23:00:00+01:00", 0, "2024-03-04T09:00:00+01:00");
        // A whole Monday (8 h) from its opening ends at its closing, not on Tuesday.
        check(
            "2024-03-04T09:00:00+01:00",
            8 * 60,
            "2024-03-04T17:00:00+01:00",
        );
        let closed = BusinessCalendar::new(amsterdam(), WeekSchedule::default(), Arc::default());
        assert_eq!(closed.after_open_millis(0, 1, 14), None);
    }

    #[test]
    fn split_shift_lunch_is_not_counted() {
        let cal = BusinessCalendar::new(amsterdam(), office_week(), Arc::default());
        // Saturday 11:30 to 13:30: 30 min before lunch, 30 min after.
        let open = cal.open_millis_between(
            ts("2024-03-02T11:30:00+01:00"),
            ts("2024-03-02T13:30:00+01:00"),
        );
        assert_eq!(open, 3600 * 1000);
    }

    #[test]
    fn holiday_is_closed() {
        let holidays = Arc::new(Holidays {
            dates: BTreeSet::new(),
            calendar: Some(HolidayCalendar::Netherlands),
        });
        let cal = BusinessCalendar::new(amsterdam(), office_week(), holidays);
        // Easter Monday 2024-04-01 is closed: Friday 29 March 16:00 (Good Friday is open) to
        // Tuesday 2 April 10:00 = Fri 1 h + Sat 5 h + Tue 1 h.
        let open = cal.open_millis_between(
            ts("2024-03-29T16:00:00+01:00"),
            ts("2024-04-02T10:00:00+02:00"),
        );
        assert_eq!(open, 7 * 3600 * 1000);
    }

    #[test]
    fn dst_switch_days_are_23_and_25_hours_when_open_all_day() {
        let cal = BusinessCalendar::new(amsterdam(), WeekSchedule::always_open(), Arc::default());
        let spring = cal.open_millis_between(
            ts("2024-03-31T00:00:00+01:00"),
            ts("2024-04-01T00:00:00+02:00"),
        );
        assert_eq!(spring, 23 * 3600 * 1000);
        let autumn = cal.open_millis_between(
            ts("2024-10-27T00:00:00+02:00"),
            ts("2024-10-28T00:00:00+01:00"),
        );
        assert_eq!(autumn, 25 * 3600 * 1000);
    }

    #[test]
    fn opening_hours_follow_local_time_across_dst() {
        let mut week = WeekSchedule::default();
        for d in 0..7 {
            week.days[d] = WeekSchedule::parse_day("09:00-17:00").unwrap();
        }
        let cal = BusinessCalendar::new(amsterdam(), week, Arc::default());
        // Saturday 30 March 16:00 CET to Sunday 31 March 10:00 CEST: 1 h + 1 h.
        let open = cal.open_millis_between(
            ts("2024-03-30T16:00:00+01:00"),
            ts("2024-03-31T10:00:00+02:00"),
        );
        assert_eq!(open, 2 * 3600 * 1000);
        assert!(cal.is_open_at(ts("2024-03-31T07:30:00Z"))); // 09:30 CEST
        assert!(!cal.is_open_at(ts("2024-03-31T06:30:00Z"))); // 08:30 CEST
    }

    #[test]
    fn utc_year_matches_the_calendar() {
        assert_eq!(utc_year(ts("2024-01-01T00:00:00Z")), 2024);
        assert_eq!(utc_year(ts("2023-12-31T23:59:59Z")), 2023);
        assert_eq!(utc_year(ts("2024-02-29T12:00:00Z")), 2024);
        assert_eq!(utc_year(ts("1970-01-01T00:00:00Z")), 1970);
        assert_eq!(utc_year(ts("2199-12-31T23:59:59Z")), 2199);
    }

    #[test]
    fn across_new_year() {
        let cal = BusinessCalendar::new(amsterdam(), WeekSchedule::always_open(), Arc::default());
        let open = cal.open_millis_between(
            ts("2023-12-31T23:00:00+01:00"),
            ts("2024-01-01T01:00:00+01:00"),
        );
        assert_eq!(open, 2 * 3600 * 1000);
    }

    fn instant() -> impl Strategy<Value = i64> {
        // 2019-01-01 .. 2027-01-01
        1_546_300_800_000i64..1_798_761_600_000i64
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn business_time_never_exceeds_calendar_time(a in instant(), len in 0i64..40 * 86_400_000) {
            let cal = BusinessCalendar::new(amsterdam(), office_week(), Arc::new(Holidays { dates: BTreeSet::new(), calendar: Some(HolidayCalendar::Netherlands) }));
            let open = cal.open_millis_between(a, a + len);
            prop_assert!(open >= 0);
            prop_assert!(open <= len);
        }

        #[test]
        fn splitting_an_interval_keeps_the_sum(a in instant(), l1 in 0i64..20 * 86_400_000, l2 in 0i64..20 * 86_400_000) {
            let cal = BusinessCalendar::new(amsterdam(), office_week(), Arc::new(Holidays { dates: BTreeSet::new(), calendar: Some(HolidayCalendar::Netherlands) }));
            let whole = cal.open_millis_between(a, a + l1 + l2);
            let parts = cal.open_millis_between(a, a + l1) + cal.open_millis_between(a + l1, a + l1 + l2);
            prop_assert_eq!(whole, parts);
        }

        #[test]
        fn always_open_equals_calendar_time(a in instant(), len in 0i64..400 * 86_400_000) {
            let cal = BusinessCalendar::new(amsterdam(), WeekSchedule::always_open(), Arc::default());
            prop_assert_eq!(cal.open_millis_between(a, a + len), len);
        }

        #[test]
        fn intervals_sum_to_open_time(a in instant(), len in 0i64..10 * 86_400_000) {
            let cal = BusinessCalendar::new(amsterdam(), office_week(), Arc::default());
            let sum: i64 = cal.open_intervals(a, a + len).iter().map(|(s, e)| e - s).sum();
            prop_assert_eq!(sum, cal.open_millis_between(a, a + len));
        }
    }
}
