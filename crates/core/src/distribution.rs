//! Distributions for charts: arrivals per weekday and hour (with the opening hours beside them)
//! and first responses per duration bucket.

use jiff::tz::TimeZone;

use crate::calendar::WeekSchedule;
use crate::filter::Filter;
use crate::table::FactTable;

/// Upper bounds (exclusive, seconds) of the first-response buckets; the last bucket is open.
pub const FIRST_RESPONSE_BUCKET_BOUNDS: [i64; 6] = [60, 300, 1800, 3600, 14_400, 86_400];

/// Labels of the buckets, in order.
pub const FIRST_RESPONSE_BUCKET_LABELS: [&str; 7] =
    ["<1m", "1–5m", "5–30m", "30–60m", "1–4h", "4–24h", ">24h"];

fn in_period(table: &FactTable, i: usize, start_between: Option<(i64, i64)>) -> bool {
    start_between.is_none_or(|(from, to)| {
        let s = table.start(i);
        s >= from && s < to
    })
}

/// The rows in the period that pass the filter.
fn counted<'t>(
    table: &'t FactTable,
    start_between: Option<(i64, i64)>,
    filter: &Filter,
) -> impl Iterator<Item = usize> + 't {
    let rows = filter.rows_of(table);
    (0..table.len()).filter(move |&i| in_period(table, i, start_between) && rows.keeps(i))
}

/// First responses (business time) per bucket: bucket `k` holds values below
/// `FIRST_RESPONSE_BUCKET_BOUNDS[k]` and at or above the bound before it.
pub fn first_response_buckets(
    table: &FactTable,
    start_between: Option<(i64, i64)>,
    filter: &Filter,
) -> [u64; 7] {
    let mut counts = [0u64; 7];
    for i in counted(table, start_between, filter) {
        if let Some(ms) = table.numbers(i).first_response_business_millis {
            let seconds = ms / 1000;
            let k = FIRST_RESPONSE_BUCKET_BOUNDS
                .iter()
                .position(|&bound| seconds < bound)
                .unwrap_or(FIRST_RESPONSE_BUCKET_BOUNDS.len());
            counts[k] += 1;
        }
    }
    counts
}

/// Conversation starts per local weekday (Monday = 0) and hour.
pub fn arrivals_by_weekday_hour(
    table: &FactTable,
    start_between: Option<(i64, i64)>,
    filter: &Filter,
    tz: &TimeZone,
) -> [[u64; 24]; 7] {
    let mut grid = [[0u64; 24]; 7];
    for i in counted(table, start_between, filter) {
        let Ok(t) = jiff::Timestamp::from_millisecond(table.start(i)) else {
            continue;
        };
        let local = t.to_zoned_datetime(tz.clone());
        let day = local.weekday().to_monday_zero_offset() as usize;
        grid[day][local.hour() as usize] += 1;
    }
    grid
}

/// Whether the week has any open minute in each weekday's hour (Monday = 0).
pub fn open_hours_grid(week: &WeekSchedule) -> [[bool; 24]; 7] {
    let mut grid = [[false; 24]; 7];
    for (day, ranges) in week.days.iter().enumerate() {
        for range in ranges {
            for (hour, open) in grid[day].iter_mut().enumerate() {
                let (from, to) = (hour as u16 * 60, hour as u16 * 60 + 60);
                if range.start_minute < to && range.end_minute > from {
                    *open = true;
                }
            }
        }
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::{ConversationFacts, FactNumbers};

    fn row(start: &str, first_response_business_s: Option<i64>) -> ConversationFacts {
        let start = start.parse::<jiff::Timestamp>().unwrap().as_millisecond();
        ConversationFacts {
            conversation: format!("c{start}"),
            channel: "chat".into(),
            agent: None,
            team: None,
            tags: vec![],
            created_at: start,
            start,
            numbers: FactNumbers {
                anonymous: false,
                first_response_millis: first_response_business_s.map(|s| s * 1000),
                first_response_business_millis: first_response_business_s.map(|s| s * 1000),
                ..crate::facts::one_customer_message()
            },
        }
    }

    #[test]
    fn buckets_split_at_their_bounds() {
        let table = FactTable::from_facts(&[
            row("2024-03-04T08:00:00Z", Some(0)),
            row("2024-03-04T08:00:00Z", Some(59)),
            row("2024-03-04T08:00:00Z", Some(60)),
            row("2024-03-04T08:00:00Z", Some(3599)),
            row("2024-03-04T08:00:00Z", Some(3600)),
            row("2024-03-04T08:00:00Z", Some(86_400)),
            row("2024-03-04T08:00:00Z", None),
        ]);
        assert_eq!(
            first_response_buckets(&table, None, &Filter::default()),
            [2, 1, 0, 1, 1, 0, 1]
        );
        assert_eq!(
            first_response_buckets(&table, Some((0, 1)), &Filter::default()),
            [0; 7],
            "outside the period"
        );
    }

    #[test]
    fn arrivals_count_in_local_time_across_dst() {
        let tz = TimeZone::get("Europe/Amsterdam").unwrap();
        let table = FactTable::from_facts(&[
            // Monday 4 March 2024 08:30 UTC = 09:30 CET.
            row("2024-03-04T08:30:00Z", None),
            // Sunday 31 March 2024 after the switch: 08:30 UTC = 10:30 CEST.
            row("2024-03-31T08:30:00Z", None),
            row("2024-03-31T08:59:59Z", None),
        ]);
        let grid = arrivals_by_weekday_hour(&table, None, &Filter::default(), &tz);
        assert_eq!(grid[0][9], 1);
        assert_eq!(grid[6][10], 2);
        assert_eq!(grid.iter().flatten().sum::<u64>(), 3);
    }

    #[test]
    fn open_hours_mark_every_touched_hour() {
        let mut week = WeekSchedule::default();
        week.days[0] = WeekSchedule::parse_day("09:00-12:30, 13:00-17:00").unwrap();
        let grid = open_hours_grid(&week);
        let open: Vec<usize> = (0..24).filter(|&h| grid[0][h]).collect();
        assert_eq!(open, [9, 10, 11, 12, 13, 14, 15, 16]);
        assert!(!grid[1].iter().any(|&o| o));
    }
}
