//! When a scheduled report goes out: daily, weekly on a weekday or monthly on a day, at a
//! local time in the recipient's time zone. The wall-clock time is kept across the
//! daylight-saving switches (a Monday 08:00 report stays at 08:00), a time that does not exist
//! that night moves forward by the gap, one that occurs twice is sent at its first occurrence,
//! and a day of the month that a month lacks (the 31st in April) is that month's last day.
//! Pure: callers pass "now".

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;

use crate::periods::{Period, Preset};

/// How often a report is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Every {
    Day,
    /// On this weekday.
    Week(Weekday),
    /// On this day of the month (1–31; the last day of shorter months).
    Month(i8),
}

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleProblem {
    #[error("day of the month {0} is not from 1 to 31")]
    DayOfMonth(i8),
}

/// A report's schedule: how often, at which local time, in which time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportSchedule {
    every: Every,
    at: Time,
    zone: TimeZone,
}

impl ReportSchedule {
    pub fn new(every: Every, at: Time, zone: TimeZone) -> Result<ReportSchedule, ScheduleProblem> {
        if let Every::Month(day) = every
            && !(1..=31).contains(&day)
        {
            return Err(ScheduleProblem::DayOfMonth(day));
        }
        Ok(ReportSchedule { every, at, zone })
    }

    /// Whether a report is sent on this local date.
    fn sends_on(&self, date: Date) -> bool {
        match self.every {
            Every::Day => true,
            Every::Week(weekday) => date.weekday() == weekday,
            Every::Month(day) => date.day() == day.min(date.days_in_month()),
        }
    }

    /// The instant (UTC ms) of the report on a local date: its wall-clock time, moved forward
    /// over a gap, the earlier of two when the clock goes back.
    fn instant_on(&self, date: Date) -> i64 {
        let local = DateTime::from_parts(date, self.at);
        self.zone
            .to_ambiguous_zoned_datetime(local)
            .compatible()
            .expect("dates in range convert")
            .timestamp()
            .as_millisecond()
    }

    /// The first send strictly after `after` (UTC ms).
    pub fn next_after(&self, after: i64) -> i64 {
        let start = self
            .zone
            .to_datetime(Timestamp::from_millisecond(after).expect("a time in range"))
            .date();
        // A month holds every schedule's day; one more covers the date `after` falls on.
        let mut date = start.yesterday().unwrap_or(start);
        for _ in 0..40 {
            if self.sends_on(date) {
                let at = self.instant_on(date);
                if at > after {
                    return at;
                }
            }
            date = date.tomorrow().expect("date in range");
        }
        unreachable!("every schedule sends within 40 days")
    }

    /// The period a report sent at `sent` (UTC ms) covers: the previous whole day, week
    /// (Monday to Sunday) or month, in the schedule's time zone.
    pub fn period_of(&self, sent: i64) -> Period {
        let today = self
            .zone
            .to_datetime(Timestamp::from_millisecond(sent).expect("a time in range"))
            .date();
        let preset = match self.every {
            Every::Day => Preset::Yesterday,
            Every::Week(_) => Preset::LastWeek,
            Every::Month(_) => Preset::LastMonth,
        };
        preset.period(today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_utc, parse_timestamp};

    fn amsterdam() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap()
    }

    fn schedule(every: Every, at: &str) -> ReportSchedule {
        ReportSchedule::new(every, at.parse().unwrap(), amsterdam()).unwrap()
    }

    /// The next `n` sends after `from`, in UTC.
    fn sends(s: &ReportSchedule, from: &str, n: usize) -> Vec<String> {
        let mut at = parse_timestamp(from).unwrap();
        (0..n)
            .map(|_| {
                at = s.next_after(at);
                format_utc(at)
            })
            .collect()
    }

    #[test]
    fn a_monday_report_stays_at_eight_across_both_switches() {
        // Clocks go forward on Sunday 31 March 2024 and back on Sunday 27 October 2024:
        // 08:00 is 07:00 UTC in winter and 06:00 UTC in summer.
        let monday = schedule(Every::Week(Weekday::Monday), "08:00");
        assert_eq!(
            sends(&monday, "2024-03-20T12:00:00Z", 3),
            [
                "2024-03-25T07:00:00Z",
                "2024-04-01T06:00:00Z",
                "2024-04-08T06:00:00Z"
            ]
        );
        assert_eq!(
            sends(&monday, "2024-10-20T12:00:00Z", 2),
            ["2024-10-21T06:00:00Z", "2024-10-28T07:00:00Z"]
        );
        // Exactly at a send time: the next one.
        assert_eq!(
            sends(&monday, "2024-03-25T07:00:00Z", 1),
            ["2024-04-01T06:00:00Z"]
        );
    }

    #[test]
    fn a_time_the_night_skips_moves_forward_and_a_doubled_one_is_sent_once() {
        // 02:30 does not exist on 31 March 2024 (02:00 → 03:00): sent at 03:30 CEST.
        let daily = schedule(Every::Day, "02:30");
        assert_eq!(
            sends(&daily, "2024-03-30T12:00:00Z", 3),
            [
                "2024-03-31T01:30:00Z",
                "2024-04-01T00:30:00Z",
                "2024-04-02T00:30:00Z"
            ]
        );
        // 02:30 happens twice on 27 October 2024: the first (CEST, 00:30 UTC), once.
        assert_eq!(
            sends(&daily, "2024-10-26T12:00:00Z", 2),
            ["2024-10-27T00:30:00Z", "2024-10-28T01:30:00Z"]
        );
    }

    #[test]
    fn month_ends_and_leap_years() {
        let last = schedule(Every::Month(31), "07:00");
        assert_eq!(
            sends(&last, "2024-01-15T00:00:00Z", 5),
            [
                "2024-01-31T06:00:00Z",
                "2024-02-29T06:00:00Z",
                "2024-03-31T05:00:00Z",
                "2024-04-30T05:00:00Z",
                "2024-05-31T05:00:00Z"
            ]
        );
        let first = schedule(Every::Month(1), "08:00");
        assert_eq!(
            sends(&first, "2023-12-31T23:30:00Z", 2),
            // 00:30 local on 1 January: that day's 08:00 is still to come.
            ["2024-01-01T07:00:00Z", "2024-02-01T07:00:00Z"]
        );
        assert_eq!(
            sends(
                &schedule(Every::Month(30), "07:00"),
                "2023-02-01T00:00:00Z",
                2
            ),
            ["2023-02-28T06:00:00Z", "2023-03-30T05:00:00Z"]
        );
        assert_eq!(
            ReportSchedule::new(Every::Month(32), Time::midnight(), amsterdam()),
            Err(ScheduleProblem::DayOfMonth(32))
        );
    }

    #[test]
    fn each_report_covers_the_previous_day_week_or_month() {
        let sent = parse_timestamp("2024-04-01T06:00:00Z").unwrap(); // Monday 08:00 CEST
        let d = |s: &str| s.parse::<Date>().unwrap();
        let period = |every| schedule(every, "08:00").period_of(sent);
        assert_eq!(
            period(Every::Day),
            Period::new(d("2024-03-31"), d("2024-03-31"))
        );
        assert_eq!(
            period(Every::Week(Weekday::Monday)),
            Period::new(d("2024-03-25"), d("2024-03-31"))
        );
        assert_eq!(
            period(Every::Month(1)),
            Period::new(d("2024-03-01"), d("2024-03-31"))
        );
        // Sent at 00:30 local on 1 January (23:30 UTC the day before): last year's December.
        let new_year = parse_timestamp("2023-12-31T23:30:00Z").unwrap();
        assert_eq!(
            schedule(Every::Month(1), "00:30").period_of(new_year),
            Period::new(d("2023-12-01"), d("2023-12-31"))
        );
    }
}
