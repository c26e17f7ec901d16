//! Scheduled reports as a workspace configures them (`[[reports]]`, docs/reports.md): who gets
//! which report when, in which language and time zone, covering which period, with which
//! attachments. Parsed and validated with the rest of the configuration; when each recipient's
//! next report is due comes from [`crate::schedule`].

use jiff::civil::Time;
use jiff::tz::TimeZone;

use crate::schedule::{Every, ReportSchedule};

/// At most this many report definitions per workspace.
pub const MAX_REPORTS: usize = 20;
/// At most this many recipients per report.
pub const MAX_RECIPIENTS: usize = 50;
/// The longest report name.
pub const MAX_REPORT_NAME: usize = 40;
/// The longest agency name.
pub const MAX_AGENCY_BYTES: usize = 100;

/// A file attached to the report's e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Attachment {
    Pdf,
    Csv,
    Xlsx,
}

impl Attachment {
    pub const ALL: [Attachment; 3] = [Attachment::Pdf, Attachment::Csv, Attachment::Xlsx];

    pub fn as_str(self) -> &'static str {
        match self {
            Attachment::Pdf => "pdf",
            Attachment::Csv => "csv",
            Attachment::Xlsx => "xlsx",
        }
    }

    pub fn parse(text: &str) -> Option<Attachment> {
        Attachment::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Someone a report goes to.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipient {
    /// Normalised (lowercase).
    pub email: String,
    /// `nl` or `en`: the languages a report is written in.
    pub language: String,
    /// Their time zone (the report goes out at the schedule's local time there); `None`: the
    /// workspace's.
    pub timezone: Option<(String, TimeZone)>,
}

/// One scheduled report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDefinition {
    /// 1 to [`MAX_REPORT_NAME`] lowercase letters, digits and `-`; unique in the workspace.
    pub name: String,
    pub every: Every,
    /// The local time it goes out.
    pub at: Time,
    pub recipients: Vec<Recipient>,
    /// A saved view of the dashboard whose filter the report uses.
    pub view: Option<String>,
    /// Files attached beside the HTML body (each once; mailed PDF first, then XLSX, then CSV).
    pub attachments: Vec<Attachment>,
    /// Whether agents are named (the agents table and flagged agents).
    pub agent_detail: bool,
    /// The agency that prepares the report, named on it.
    pub agency: Option<String>,
}

impl ReportDefinition {
    /// When `recipient`'s copies go out: the definition's days and time in their time zone
    /// (else `workspace_zone`).
    pub fn schedule_for(&self, recipient: &Recipient, workspace_zone: &TimeZone) -> ReportSchedule {
        let zone = recipient
            .timezone
            .as_ref()
            .map_or_else(|| workspace_zone.clone(), |(_, z)| z.clone());
        ReportSchedule::new(self.every, self.at, zone).expect("validated when parsed")
    }

    /// The last send of `recipient`'s schedule in `(after, now]` (UTC ms), if any: the one to
    /// send now. Earlier ones in the same stretch (a server that was down for days) are
    /// skipped: a report of an old period is not what anyone waits for.
    pub fn due_between(
        &self,
        recipient: &Recipient,
        workspace_zone: &TimeZone,
        after: i64,
        now: i64,
    ) -> Option<i64> {
        let schedule = self.schedule_for(recipient, workspace_zone);
        // Every schedule sends within 31 days: the latest send before `now` is in the last 40.
        let mut at = after.max(now - 40 * 86_400_000);
        let mut due = None;
        loop {
            let next = schedule.next_after(at);
            if next > now {
                return due;
            }
            due = Some(next);
            at = next;
        }
    }
}

/// Whether `name` is a report name.
pub fn is_report_name(name: &str) -> bool {
    (1..=MAX_REPORT_NAME).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.starts_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_utc, parse_timestamp};
    use jiff::civil::Weekday;

    fn definition(every: Every) -> ReportDefinition {
        ReportDefinition {
            name: "weekly".into(),
            every,
            at: "08:00".parse().unwrap(),
            recipients: Vec::new(),
            view: None,
            attachments: vec![Attachment::Pdf],
            agent_detail: true,
            agency: None,
        }
    }

    fn recipient(zone: Option<&str>) -> Recipient {
        Recipient {
            email: "eigenaar@shop.nl".into(),
            language: "nl".into(),
            timezone: zone.map(|z| (z.to_string(), TimeZone::get(z).unwrap())),
        }
    }

    #[test]
    fn the_send_due_now_is_the_latest_in_the_stretch() {
        let amsterdam = TimeZone::get("Europe/Amsterdam").unwrap();
        let weekly = definition(Every::Week(Weekday::Monday));
        let t = |s: &str| parse_timestamp(s).unwrap();
        let due = |r: &Recipient, after: &str, now: &str| {
            weekly
                .due_between(r, &amsterdam, t(after), t(now))
                .map(format_utc)
        };
        let here = recipient(None);
        // Monday 4 March 2024 08:00 in Amsterdam is 07:00 UTC.
        assert_eq!(
            due(&here, "2024-03-04T06:00:00Z", "2024-03-04T07:00:00Z").as_deref(),
            Some("2024-03-04T07:00:00Z")
        );
        // Not yet, and not again once planned.
        assert_eq!(
            due(&here, "2024-03-04T06:00:00Z", "2024-03-04T06:59:59Z"),
            None
        );
        assert_eq!(
            due(&here, "2024-03-04T07:00:00Z", "2024-03-10T12:00:00Z"),
            None
        );
        // Three weeks down: only the latest Monday is sent.
        assert_eq!(
            due(&here, "2024-02-10T00:00:00Z", "2024-03-05T00:00:00Z").as_deref(),
            Some("2024-03-04T07:00:00Z")
        );
        // In New York (UTC−5 on 4 March) the same Monday 08:00 is 13:00 UTC.
        let there = recipient(Some("America/New_York"));
        assert_eq!(
            due(&there, "2024-03-04T07:00:00Z", "2024-03-04T13:00:00Z").as_deref(),
            Some("2024-03-04T13:00:00Z")
        );
        // Two years down with a daily report: the latest morning.
        let daily = definition(Every::Day);
        assert_eq!(
            daily
                .due_between(
                    &here,
                    &amsterdam,
                    t("2022-01-01T00:00:00Z"),
                    t("2024-03-05T12:00:00Z")
                )
                .map(format_utc)
                .as_deref(),
            Some("2024-03-05T07:00:00Z")
        );
    }

    #[test]
    fn report_names() {
        for (name, ok) in [
            ("weekly", true),
            ("klant-a-maand", true),
            ("", false),
            ("Weekly", false),
            ("-x", false),
            ("a b", false),
            (&"x".repeat(41), false),
        ] {
            assert_eq!(is_report_name(name), ok, "{name}");
        }
    }
}
