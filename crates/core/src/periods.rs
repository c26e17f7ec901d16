//! Periods and what they are compared with: named presets (today, last 7 days, this month,
//! last quarter…), the previous period or the same period a year earlier, and a period that is
//! still running compared with the same elapsed part of the one it is compared with ("today
//! until 13:30 against yesterday until 13:30"). Local wall-clock time throughout, so a
//! comparison across a daylight-saving switch compares the same hours of the day.
//!
//! The caller passes "now" (core has no clock); without it nothing is cut.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, ToSpan};
use serde::Serialize;

use crate::select::{name_of, value_of};

/// Local dates, both inclusive; a period that is still running ends at `until` on its last
/// day instead of at midnight after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Period {
    pub from: Date,
    pub to: Date,
    /// The (exclusive) local time on `to` where a running period ends for now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Time>,
}

impl Period {
    /// Whole days from `from` to `to`, both inclusive.
    pub fn new(from: Date, to: Date) -> Period {
        Period {
            from,
            to,
            until: None,
        }
    }

    /// Number of days, counting both ends (a running last day counts).
    pub fn days(self) -> i32 {
        (self.to - self.from).get_days() + 1
    }

    /// Local start: midnight at the beginning of `from`.
    pub fn start(self) -> DateTime {
        self.from.to_datetime(Time::midnight())
    }

    /// Local end, exclusive: `until` on `to`, or midnight after `to`.
    pub fn end(self) -> DateTime {
        match self.until {
            Some(t) => self.to.to_datetime(t),
            None => self
                .to
                .tomorrow()
                .expect("date in range")
                .to_datetime(Time::midnight()),
        }
    }

    /// The period from `start` to `end` (exclusive); `end` at midnight means whole days.
    /// `None` when `end` is not after `start`.
    pub fn between(start: DateTime, end: DateTime) -> Option<Period> {
        if end <= start {
            return None;
        }
        let from = start.date();
        Some(if end.time() == Time::midnight() {
            Period::new(from, end.date().yesterday().ok()?)
        } else {
            Period {
                from,
                to: end.date(),
                until: Some(end.time()),
            }
        })
    }

    /// Whether it ends before its last day does (it is still running).
    pub fn running(self) -> bool {
        self.until.is_some()
    }

    /// The period of equal length just before this one, ending at the same time of day.
    pub fn previous(self) -> Period {
        Shift::Days(self.days()).back(self)
    }

    /// This period cut at `now` (local): what of it has happened. A period that has not begun
    /// or that is over stays as it is. `now` is rounded up to the whole minute, so the cut
    /// reads "until 13:30" and everything up to now is in.
    pub fn cut_at(self, now: DateTime) -> Period {
        let now = round_up_to_minute(now);
        if now <= self.start() || now >= self.end() {
            return self;
        }
        Period::between(self.start(), now).expect("now is after the start")
    }

    /// `[start, end)` in UTC milliseconds, through the time zone (a day with a daylight-saving
    /// switch has 23 or 25 hours; a wall-clock time that does not exist moves forward).
    pub fn bounds(self, tz: &TimeZone) -> (i64, i64) {
        let instant = |dt: DateTime| {
            dt.to_zoned_datetime(tz.clone())
                .expect("date in range")
                .timestamp()
                .as_millisecond()
        };
        (instant(self.start()), instant(self.end()))
    }
}

/// "2026-12-01 to 2026-12-05", and " until 13:30" while it runs.
impl std::fmt::Display for Period {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} to {}", self.from, self.to)?;
        if let Some(t) = self.until {
            write!(f, " until {}", t.strftime("%H:%M"))?;
        }
        Ok(())
    }
}

impl Period {
    /// A compact key: "2026-12-01..2026-12-05", "2026-12-01..2026-12-05T13:30" while it runs.
    pub fn key(self) -> String {
        match self.until {
            Some(t) => format!("{}..{}T{}", self.from, self.to, t.strftime("%H:%M")),
            None => format!("{}..{}", self.from, self.to),
        }
    }
}

fn round_up_to_minute(t: DateTime) -> DateTime {
    let floor = t
        .with()
        .second(0)
        .subsec_nanosecond(0)
        .build()
        .expect("valid time");
    if floor == t {
        t
    } else {
        floor.checked_add(1.minute()).expect("date in range")
    }
}

/// How far back the period to compare with lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shift {
    /// This many days earlier.
    Days(i32),
    /// This many calendar months earlier (a day that the earlier month lacks, such as 31
    /// March in February, becomes the end of that month).
    Months(i32),
}

impl Shift {
    /// `period` moved back: its start and its end (exclusive) each moved back in local
    /// wall-clock time. A running period's end that falls on a day the earlier month lacks
    /// is the end of that month: all of February is the elapsed part before 31 March 13:30.
    pub fn back(self, period: Period) -> Period {
        let (start, end) = (period.start(), period.end());
        let (start, end) = match self {
            Shift::Days(n) => {
                let span = Span::new().days(n);
                (start - span, end - span)
            }
            Shift::Months(n) => {
                let span = Span::new().months(n);
                let moved = end - span;
                let end = if moved.day() != end.day() {
                    // Clamped into a shorter month: up to the end of that month.
                    moved
                        .date()
                        .last_of_month()
                        .tomorrow()
                        .expect("date in range")
                        .to_datetime(Time::midnight())
                } else {
                    moved
                };
                (start - span, end)
            }
        };
        Period::between(start, end).expect("a shifted period keeps its order")
    }
}

/// What a period is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Against {
    /// The period before it: the previous calendar month, quarter or year for those presets,
    /// the period of equal length before it otherwise.
    #[default]
    Previous,
    /// The same dates a year earlier.
    YearEarlier,
}

impl Against {
    pub const ALL: [(&'static str, Against); 2] = [
        ("previous", Against::Previous),
        ("year", Against::YearEarlier),
    ];

    pub fn parse(name: &str) -> Option<Against> {
        value_of(&Against::ALL, name)
    }

    pub fn name(self) -> &'static str {
        name_of(&Against::ALL, self)
    }
}

/// A period and the one it is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Compared {
    pub period: Period,
    pub against: Against,
    /// The period compared with, cut like `period` when that is still running.
    pub comparison: Period,
}

impl Compared {
    /// `period` against the period of equal length before it.
    pub fn with_previous(period: Period) -> Compared {
        Compared {
            period,
            against: Against::Previous,
            comparison: period.previous(),
        }
    }

    /// `period` against `against`; `shift` is how far back the previous period lies (see
    /// [`Preset::shift`]; days of equal length for a custom period).
    pub fn new(period: Period, shift: Shift, against: Against) -> Compared {
        let shift = match against {
            Against::Previous => shift,
            Against::YearEarlier => Shift::Months(12),
        };
        Compared {
            period,
            against,
            comparison: shift.back(period),
        }
    }
}

/// The named periods, relative to now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    Today,
    Yesterday,
    /// The last 7 days, today included.
    Last7Days,
    Last30Days,
    Last90Days,
    /// Monday up to now.
    ThisWeek,
    LastWeek,
    ThisMonth,
    LastMonth,
    ThisQuarter,
    LastQuarter,
    ThisYear,
    LastYear,
}

impl Preset {
    pub const ALL: [(&'static str, Preset); 13] = [
        ("today", Preset::Today),
        ("yesterday", Preset::Yesterday),
        ("7d", Preset::Last7Days),
        ("30d", Preset::Last30Days),
        ("90d", Preset::Last90Days),
        ("week", Preset::ThisWeek),
        ("last-week", Preset::LastWeek),
        ("month", Preset::ThisMonth),
        ("last-month", Preset::LastMonth),
        ("quarter", Preset::ThisQuarter),
        ("last-quarter", Preset::LastQuarter),
        ("year", Preset::ThisYear),
        ("last-year", Preset::LastYear),
    ];

    pub fn parse(name: &str) -> Option<Preset> {
        value_of(&Preset::ALL, name)
    }

    pub fn name(self) -> &'static str {
        name_of(&Preset::ALL, self)
    }

    /// The names, for messages.
    pub fn names() -> String {
        Preset::ALL
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The whole period on the local date `today` (not cut at now).
    pub fn period(self, today: Date) -> Period {
        let days_back = |n: i64| today.checked_sub(n.days()).expect("date in range");
        let monday = days_back(i64::from(today.weekday().to_monday_zero_offset()));
        let quarter_start = today
            .with()
            .month((today.month() - 1) / 3 * 3 + 1)
            .day(1)
            .build()
            .expect("valid date");
        let year_start = today.first_of_year();
        let before = |d: Date| d.yesterday().expect("date in range");
        let (from, to) = match self {
            Preset::Today => (today, today),
            Preset::Yesterday => (before(today), before(today)),
            Preset::Last7Days => (days_back(6), today),
            Preset::Last30Days => (days_back(29), today),
            Preset::Last90Days => (days_back(89), today),
            Preset::ThisWeek => (monday, today),
            Preset::LastWeek => (
                monday.checked_sub(7.days()).expect("date in range"),
                before(monday),
            ),
            Preset::ThisMonth => (today.first_of_month(), today),
            Preset::LastMonth => {
                let to = before(today.first_of_month());
                (to.first_of_month(), to)
            }
            Preset::ThisQuarter => (quarter_start, today),
            Preset::LastQuarter => {
                let to = before(quarter_start);
                (
                    to.checked_sub(2.months())
                        .expect("date in range")
                        .first_of_month(),
                    to,
                )
            }
            Preset::ThisYear => (year_start, today),
            Preset::LastYear => {
                let to = before(year_start);
                (to.first_of_year(), to)
            }
        };
        Period::new(from, to)
    }

    /// How far back its previous period lies: calendar months, quarters and years for
    /// those presets, whole weeks for weeks, its own length otherwise.
    pub fn shift(self) -> Shift {
        match self {
            Preset::Today | Preset::Yesterday => Shift::Days(1),
            Preset::Last7Days | Preset::ThisWeek | Preset::LastWeek => Shift::Days(7),
            Preset::Last30Days => Shift::Days(30),
            Preset::Last90Days => Shift::Days(90),
            Preset::ThisMonth | Preset::LastMonth => Shift::Months(1),
            Preset::ThisQuarter | Preset::LastQuarter => Shift::Months(3),
            Preset::ThisYear | Preset::LastYear => Shift::Months(12),
        }
    }

    /// The preset at `now` (local), cut at now when it is still running, against `against`.
    pub fn compared(self, now: DateTime, against: Against) -> Compared {
        let period = self.period(now.date()).cut_at(now);
        Compared::new(period, self.shift(), against)
    }
}

/// A custom period (whole days) at `now`: cut at now when it reaches it, compared with the
/// period before it — the calendar months before when it is whole calendar months (1–30 April
/// against 1–31 March, a quarter against the quarter before), else the days of equal length
/// before — or the same dates a year earlier. Without `now` (a report of past data) nothing is
/// cut.
pub fn custom(period: Period, now: Option<DateTime>, against: Against) -> Compared {
    let shift = whole_months(period).map_or(Shift::Days(period.days()), Shift::Months);
    let period = match now {
        Some(now) => period.cut_at(now),
        None => period,
    };
    Compared::new(period, shift, against)
}

/// How many calendar months a period is when it is whole ones (from a 1st to a month's last
/// day).
fn whole_months(period: Period) -> Option<i32> {
    let (from, to) = (period.from, period.to);
    (from.day() == 1 && to == to.last_of_month()).then(|| {
        (i32::from(to.year()) - i32::from(from.year())) * 12
            + i32::from(to.month() - from.month())
            + 1
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn at(d: Date, h: i8, m: i8) -> DateTime {
        d.to_datetime(time(h, m, 0, 0))
    }

    fn p(from: Date, to: Date, until: Option<(i8, i8)>) -> Period {
        Period {
            from,
            to,
            until: until.map(|(h, m)| time(h, m, 0, 0)),
        }
    }

    /// `(preset, now, against)` → expected period and comparison, by hand.
    fn check(preset: &str, now: DateTime, against: Against, expect: (Period, Period)) {
        let c = Preset::parse(preset).unwrap().compared(now, against);
        assert_eq!(
            (c.period, c.comparison),
            expect,
            "{preset} at {now} against {against:?}"
        );
    }

    #[test]
    fn running_periods_are_compared_with_the_same_elapsed_part() {
        use Against::*;
        let now = date(2026, 12, 5).to_datetime(time(13, 29, 12, 0));
        let d = |m, day| date(2026, m, day);
        let until = Some((13, 30));
        // Today until 13:30 (rounded up to the minute) against yesterday until 13:30.
        check(
            "today",
            now,
            Previous,
            (p(d(12, 5), d(12, 5), until), p(d(12, 4), d(12, 4), until)),
        );
        // Yesterday is over: whole days.
        check(
            "yesterday",
            now,
            Previous,
            (p(d(12, 4), d(12, 4), None), p(d(12, 3), d(12, 3), None)),
        );
        // The last 7 days, today's part included, against the 7 days before at the same time.
        check(
            "7d",
            now,
            Previous,
            (
                p(d(11, 29), d(12, 5), until),
                p(d(11, 22), d(11, 28), until),
            ),
        );
        // 5 December 2026 is a Saturday: this week is Monday 30 November up to now.
        check(
            "week",
            now,
            Previous,
            (
                p(d(11, 30), d(12, 5), until),
                p(d(11, 23), d(11, 28), until),
            ),
        );
        check(
            "last-week",
            now,
            Previous,
            (p(d(11, 23), d(11, 29), None), p(d(11, 16), d(11, 22), None)),
        );
        // This month against the same part of November.
        check(
            "month",
            now,
            Previous,
            (p(d(12, 1), d(12, 5), until), p(d(11, 1), d(11, 5), until)),
        );
        // Last month is the calendar month November, against all of October (31 days).
        check(
            "last-month",
            now,
            Previous,
            (p(d(11, 1), d(11, 30), None), p(d(10, 1), d(10, 31), None)),
        );
        check(
            "quarter",
            now,
            Previous,
            (p(d(10, 1), d(12, 5), until), p(d(7, 1), d(9, 5), until)),
        );
        check(
            "last-quarter",
            now,
            Previous,
            (p(d(7, 1), d(9, 30), None), p(d(4, 1), d(6, 30), None)),
        );
        check(
            "year",
            now,
            Previous,
            (
                p(d(1, 1), d(12, 5), until),
                p(date(2025, 1, 1), date(2025, 12, 5), until),
            ),
        );
        check(
            "last-year",
            now,
            Previous,
            (
                p(date(2025, 1, 1), date(2025, 12, 31), None),
                p(date(2024, 1, 1), date(2024, 12, 31), None),
            ),
        );
    }

    #[test]
    fn every_period_can_be_compared_with_a_year_earlier() {
        use Against::YearEarlier;
        let now = at(date(2026, 12, 5), 9, 0);
        check(
            "today",
            now,
            YearEarlier,
            (
                p(date(2026, 12, 5), date(2026, 12, 5), Some((9, 0))),
                p(date(2025, 12, 5), date(2025, 12, 5), Some((9, 0))),
            ),
        );
        check(
            "last-month",
            now,
            YearEarlier,
            (
                p(date(2026, 11, 1), date(2026, 11, 30), None),
                p(date(2025, 11, 1), date(2025, 11, 30), None),
            ),
        );
        // February of a leap year against the February before it (28 days).
        check(
            "last-month",
            at(date(2024, 3, 10), 12, 0),
            YearEarlier,
            (
                p(date(2024, 2, 1), date(2024, 2, 29), None),
                p(date(2023, 2, 1), date(2023, 2, 28), None),
            ),
        );
        // A custom period compares with the same dates a year earlier.
        let march = Period::new(date(2026, 3, 2), date(2026, 3, 8));
        let c = custom(march, Some(now), YearEarlier);
        assert_eq!(
            c.comparison,
            Period::new(date(2025, 3, 2), date(2025, 3, 8))
        );
    }

    #[test]
    fn calendar_months_of_different_lengths() {
        use Against::Previous;
        // 31 March 13:30 of a running month: February has no 31st, so all of February is the
        // elapsed part.
        check(
            "month",
            at(date(2026, 3, 31), 13, 30),
            Previous,
            (
                p(date(2026, 3, 1), date(2026, 3, 31), Some((13, 30))),
                p(date(2026, 2, 1), date(2026, 2, 28), None),
            ),
        );
        // 30 January, last month: December has 31 days, all of them.
        check(
            "last-month",
            at(date(2026, 1, 30), 8, 0),
            Previous,
            (
                p(date(2025, 12, 1), date(2025, 12, 31), None),
                p(date(2025, 11, 1), date(2025, 11, 30), None),
            ),
        );
        // 29 February in a leap year against 29 January at the same time.
        check(
            "month",
            at(date(2024, 2, 29), 10, 0),
            Previous,
            (
                p(date(2024, 2, 1), date(2024, 2, 29), Some((10, 0))),
                p(date(2024, 1, 1), date(2024, 1, 29), Some((10, 0))),
            ),
        );
    }

    #[test]
    fn daylight_saving_months_keep_the_wall_clock() {
        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        let hours = |p: Period| {
            let (a, b) = p.bounds(&tz);
            (b - a) as f64 / 3_600_000.0
        };
        // March 2026 has 31 days and loses an hour on Sunday 29 March: 743 hours.
        let march = Period::new(date(2026, 3, 1), date(2026, 3, 31));
        assert_eq!(hours(march), 743.0);
        // October 2026 gains one on Sunday 25 October: 745 hours.
        assert_eq!(
            hours(Period::new(date(2026, 10, 1), date(2026, 10, 31))),
            745.0
        );
        // Today until 13:30 on the switch day is 13.5 hours of wall clock but 12.5 real
        // hours; the day before until 13:30 is 13.5 real hours. Both start at local midnight.
        let c = Preset::Today.compared(at(date(2026, 3, 29), 13, 30), Against::Previous);
        assert_eq!(hours(c.period), 12.5);
        assert_eq!(hours(c.comparison), 13.5);
        let (start, _) = c.period.bounds(&tz);
        // Midnight in Amsterdam on 29 March (winter time) is 23:00 UTC the day before.
        assert_eq!(
            start,
            jiff::Timestamp::from_second(1_774_738_800)
                .unwrap()
                .as_millisecond()
        );
        // The day after the switch, compared with the switch day until 13:30.
        let c = Preset::Today.compared(at(date(2026, 3, 30), 13, 30), Against::Previous);
        assert_eq!(hours(c.comparison), 12.5);
    }

    #[test]
    fn custom_periods() {
        let now = at(date(2026, 12, 5), 13, 30);
        // A period in the past: the same number of days before it.
        let c = custom(
            Period::new(date(2026, 11, 10), date(2026, 11, 16)),
            Some(now),
            Against::Previous,
        );
        assert_eq!(
            c.comparison,
            Period::new(date(2026, 11, 3), date(2026, 11, 9))
        );
        // A period reaching today is cut at now; its comparison at the same hour.
        let c = custom(
            Period::new(date(2026, 12, 1), date(2026, 12, 31)),
            Some(now),
            Against::Previous,
        );
        assert_eq!(
            c.period,
            p(date(2026, 12, 1), date(2026, 12, 5), Some((13, 30)))
        );
        // It is all of December: compared with November up to the same day and minute.
        assert_eq!(
            c.comparison,
            p(date(2026, 11, 1), date(2026, 11, 5), Some((13, 30)))
        );
        // Whole calendar months against the months before them, not the days of equal length:
        // April (30 days) against all of March (31), February of a leap year against January,
        // a quarter against the quarter before; one day short of a month: equal days.
        let before = |from: Date, to: Date| {
            custom(Period::new(from, to), None, Against::Previous).comparison
        };
        assert_eq!(
            before(date(2024, 4, 1), date(2024, 4, 30)),
            Period::new(date(2024, 3, 1), date(2024, 3, 31))
        );
        assert_eq!(
            before(date(2024, 2, 1), date(2024, 2, 29)),
            Period::new(date(2024, 1, 1), date(2024, 1, 31))
        );
        assert_eq!(
            before(date(2024, 4, 1), date(2024, 6, 30)),
            Period::new(date(2024, 1, 1), date(2024, 3, 31))
        );
        assert_eq!(
            before(date(2023, 12, 1), date(2024, 1, 31)),
            Period::new(date(2023, 10, 1), date(2023, 11, 30))
        );
        assert_eq!(
            before(date(2024, 4, 2), date(2024, 4, 30)),
            Period::new(date(2024, 3, 4), date(2024, 4, 1))
        );
        // Without now nothing is cut.
        let whole = Period::new(date(2026, 12, 1), date(2026, 12, 31));
        assert_eq!(custom(whole, None, Against::Previous).period, whole);
        // At exactly midnight nothing of today has happened: the last 7 days end with
        // yesterday, whole, against the 7 days before.
        let midnight = at(date(2026, 12, 5), 0, 0);
        let c = Preset::Last7Days.compared(midnight, Against::Previous);
        assert_eq!(c.period, Period::new(date(2026, 11, 29), date(2026, 12, 4)));
        assert_eq!(
            c.comparison,
            Period::new(date(2026, 11, 22), date(2026, 11, 27))
        );
    }

    #[test]
    fn names_round_trip() {
        for (name, preset) in Preset::ALL {
            assert_eq!(Preset::parse(name), Some(preset));
            assert_eq!(preset.name(), name);
        }
        assert_eq!(Against::parse("year"), Some(Against::YearEarlier));
        assert_eq!(Preset::parse("fortnight"), None);
    }
}
