//! Rendering of reports and facts: an 80-column terminal table, CSV, JSON, JSON Lines, and SVG
//! charts. Renders what core computed; never recomputes a figure.

pub mod parallel;
pub mod svg;

use std::io::{self, Write};

use servicemeter_core::headline::{Figure, Kind, Unit};
use servicemeter_core::periods::Against;
use servicemeter_core::report::{GroupBy, Report, Summary, TargetCheck};
use servicemeter_core::time::human_seconds;
use servicemeter_core::{ConversationFacts, FactsRow};

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
}

/// Output formats of `facts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactsFormat {
    Csv,
    Jsonl,
}

/// Writes a report in a format; `by` lists the breakdowns to show (table and CSV).
pub fn write_report(
    out: &mut dyn Write,
    report: &Report,
    format: ReportFormat,
    by: &[GroupBy],
) -> io::Result<()> {
    match format {
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            writeln!(out)
        }
        ReportFormat::Table => write_table(out, report, by),
        ReportFormat::Csv => write_csv(out, report, by),
    }
}

fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1}%"))
}

fn dur(v: Option<f64>) -> String {
    v.map_or("-".into(), human_seconds)
}

fn num(v: Option<f64>, decimals: usize) -> String {
    v.map_or("-".into(), |v| format!("{v:.decimals$}"))
}

fn signed(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:+.0}"))
}

/// The summary's lines: each headline figure (value, kind and direction from
/// `core::headline`) with its English label.
const LINES: [(Figure, &str); 14] = [
    (Figure::Conversations, "Conversations"),
    (
        Figure::FirstResponseMedian,
        "First response, median (open hours)",
    ),
    (Figure::FirstResponseP90, "First response, p90 (open hours)"),
    (
        Figure::FirstResponseCalendarMedian,
        "First response, median (clock)",
    ),
    (
        Figure::FirstResponseWithinTarget,
        "First responses within target",
    ),
    (Figure::Unanswered, "Unanswered"),
    (Figure::ResolutionRate, "Resolved"),
    (
        Figure::ResolutionTimeMedian,
        "Resolution time, median (open hours)",
    ),
    (Figure::ReopenRate, "Reopened"),
    (Figure::OneTouch, "One-touch (of resolved)"),
    (
        Figure::RepliesPerConversation,
        "Agent replies per conversation",
    ),
    (Figure::Csat, "CSAT satisfied"),
    (Figure::Nps, "NPS"),
    (Figure::Ces, "CES average"),
];

/// The columns of a breakdown table: a headline figure, its header and width.
const BREAKDOWN: [(Figure, &str, usize); 8] = [
    (Figure::Conversations, "conv", 7),
    (Figure::FirstResponseMedian, "1st resp", 9),
    (Figure::FirstResponseWithinTarget, "target", 7),
    (Figure::ResolutionRate, "resolved", 8),
    (Figure::ReopenRate, "reopen", 7),
    (Figure::Csat, "CSAT", 6),
    (Figure::Nps, "NPS", 4),
    (Figure::TurnsPerConversation, "turns", 5),
];

fn show(kind: Kind, v: Option<f64>) -> String {
    match kind {
        Kind::Count => v.map_or("-".into(), |v| count(v as u64)),
        Kind::Duration => dur(v),
        Kind::Percent => pct(v),
        Kind::Decimal(n) => num(v, usize::from(n)),
        Kind::Score => signed(v),
    }
}

/// The change as the core computes it (from the shown values), written for the terminal.
fn change(figure: Figure, now: &Summary, before: &Summary) -> String {
    let Some(c) = figure.change(now, Some(before)) else {
        return String::new();
    };
    let a = c.amount;
    match c.unit {
        Unit::Relative if a == 0.0 => "0.0%".into(),
        Unit::Relative => format!("{a:+.1}%"),
        Unit::Seconds if a == 0.0 => human_seconds(0.0),
        Unit::Seconds if a > 0.0 => format!("+{}", human_seconds(a)),
        Unit::Seconds => format!("-{}", human_seconds(-a)),
        Unit::Points if a == 0.0 => "0.0 pt".into(),
        Unit::Points => format!("{a:+.1} pt"),
        Unit::Plain(n) if a == 0.0 => format!("{:.*}", usize::from(n), 0.0),
        Unit::Plain(n) => format!("{a:+.*}", usize::from(n)),
    }
}

struct Line {
    label: &'static str,
    now: String,
    before: String,
    change: String,
}

fn summary_lines(now: &Summary, before: Option<&Summary>) -> Vec<Line> {
    let cell = |figure: Figure, s: &Summary| {
        let value = show(figure.kind(), figure.value(s));
        match figure.responses(s) {
            Some(n) => format!("{value} (n={n})"),
            None => value,
        }
    };
    LINES
        .iter()
        .map(|&(figure, label)| Line {
            label,
            now: cell(figure, now),
            before: before.map(|b| cell(figure, b)).unwrap_or_default(),
            change: before.map(|b| change(figure, now, b)).unwrap_or_default(),
        })
        .collect()
}

fn check_mark(check: &TargetCheck) -> &'static str {
    match check.met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "no data",
    }
}

fn write_table(out: &mut dyn Write, report: &Report, by: &[GroupBy]) -> io::Result<()> {
    match report.period {
        Some(p) => writeln!(
            out,
            "servicemeter report  {p} ({} days, {})",
            p.days(),
            report.timezone
        )?,
        None => writeln!(out, "servicemeter report  all data ({})", report.timezone)?,
    }
    writeln!(out)?;
    let previous = report.previous.as_ref();
    let lines = summary_lines(&report.summary, previous.map(|p| &p.summary));
    if let Some(prev) = previous {
        let what = match prev.against {
            Against::Previous => "previous period",
            Against::YearEarlier => "a year earlier",
        };
        writeln!(out, "compared with {what}: {}", prev.period)?;
        writeln!(out)?;
        writeln!(
            out,
            "{:<37} {:>13} {:>13} {:>12}",
            "", "this period", "previous", "change"
        )?;
        for l in &lines {
            writeln!(
                out,
                "{:<37} {:>13} {:>13} {:>12}",
                l.label, l.now, l.before, l.change
            )?;
        }
    } else {
        for l in &lines {
            writeln!(out, "{:<37} {:>13}", l.label, l.now)?;
        }
    }

    writeln!(out)?;
    writeln!(out, "Targets")?;
    let t = &report.targets;
    writeln!(
        out,
        "  CSAT satisfied >= {:.0}%: {:<9} resolved >= {:.0}%: {}",
        t.csat_pct.target,
        check_mark(&t.csat_pct),
        t.resolution_pct.target,
        check_mark(&t.resolution_pct)
    )?;
    for (channel, check) in &t.median_first_response_seconds {
        writeln!(
            out,
            "  median first response {channel} <= {}: {} ({})",
            human_seconds(check.target),
            check_mark(check),
            dur(check.actual)
        )?;
    }

    let mut shown = by.to_vec();
    if shown.is_empty() {
        shown = vec![GroupBy::Channel];
    }
    for group in shown {
        let Some(rows) = report.breakdown(group) else {
            continue;
        };
        writeln!(out)?;
        let title = match group {
            GroupBy::Channel => "channel",
            GroupBy::Agent => "agent",
            GroupBy::Team => "team",
            GroupBy::Tag => "tag",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
        };
        write!(out, "{:<16}", format!("By {title}"))?;
        for (_, header, width) in BREAKDOWN {
            write!(out, " {header:>width$}")?;
        }
        writeln!(out)?;
        for (key, s) in rows {
            let name: String = if key.chars().count() > 16 {
                key.chars().take(15).chain(['…']).collect()
            } else {
                key.clone()
            };
            write!(out, "{name:<16}")?;
            for (figure, _, width) in BREAKDOWN {
                write!(out, " {:>width$}", show(figure.kind(), figure.value(s)))?;
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

/// An I/O error from the CSV writer, keeping its kind (a closed pipe stays a closed pipe).
fn io_error(error: csv::Error) -> io::Error {
    match error.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

const CSV_HEADER: [&str; 29] = [
    "group",
    "key",
    "conversations",
    "first_response_count",
    "unanswered",
    "first_response_median_business_seconds",
    "first_response_p90_business_seconds",
    "first_response_mean_business_seconds",
    "first_response_median_seconds",
    "first_response_within_target",
    "first_response_within_target_pct",
    "resolved",
    "resolution_rate_pct",
    "resolution_median_business_seconds",
    "resolution_median_seconds",
    "reopened_conversations",
    "reopen_rate_pct",
    "one_touch",
    "one_touch_pct",
    "replies_per_conversation",
    "agent_turns_per_conversation",
    "csat_responses",
    "csat_satisfied_pct",
    "csat_average",
    "nps_responses",
    "nps_score",
    "ces_responses",
    "ces_average",
    "ces_net",
];

fn opt(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

fn csv_row(group: &str, key: &str, s: &Summary) -> Vec<String> {
    vec![
        group.to_string(),
        key.to_string(),
        s.conversations.to_string(),
        s.first_response.count.to_string(),
        s.first_response.unanswered.to_string(),
        opt(s.first_response.median_business_seconds),
        opt(s.first_response.p90_business_seconds),
        opt(s.first_response.mean_business_seconds),
        opt(s.first_response.median_seconds),
        s.first_response.within_target.to_string(),
        opt(s.first_response.within_target_pct),
        s.resolution.resolved.to_string(),
        opt(s.resolution.resolution_rate_pct),
        opt(s.resolution.median_business_seconds),
        opt(s.resolution.median_seconds),
        s.resolution.reopened_conversations.to_string(),
        opt(s.resolution.reopen_rate_pct),
        s.resolution.one_touch.to_string(),
        opt(s.resolution.one_touch_pct),
        opt(s.messages.replies_per_conversation),
        opt(s.messages.agent_turns_per_conversation),
        s.csat.responses.to_string(),
        opt(s.csat.satisfied_pct),
        opt(s.csat.average),
        s.nps.responses.to_string(),
        opt(s.nps.score),
        s.ces.responses.to_string(),
        opt(s.ces.average),
        opt(s.ces.net),
    ]
}

/// The rows of the report's CSV (after its header): the total, the period compared with, then
/// each breakdown of `by`. The XLSX workbook holds the same rows.
fn csv_rows(report: &Report, by: &[GroupBy]) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let key = report.period.map_or("all".to_string(), |p| p.key());
    rows.push(csv_row("total", &key, &report.summary));
    if let Some(prev) = &report.previous {
        let key = prev.period.key();
        rows.push(csv_row("previous", &key, &prev.summary));
    }
    for group in by {
        if let Some(breakdown) = report.breakdown(*group) {
            let name = group.field().trim_start_matches("by_");
            for (k, s) in breakdown {
                rows.push(csv_row(name, k, s));
            }
        }
    }
    rows
}

fn write_csv(out: &mut dyn Write, report: &Report, by: &[GroupBy]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER).map_err(io_error)?;
    for row in csv_rows(report, by) {
        w.write_record(row).map_err(io_error)?;
    }
    w.flush()?;
    Ok(())
}

/// The report as an XLSX workbook: one sheet, `report`, with the CSV's header and rows; the
/// group and key as text, every figure as a number (an empty cell where the CSV is empty), so
/// that the workbook read back equals the CSV.
pub fn xlsx_report(report: &Report, by: &[GroupBy]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("report")?;
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, name) in CSV_HEADER.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *name, &bold)?;
    }
    for (r, row) in csv_rows(report, by).iter().enumerate() {
        let r = r as u32 + 1;
        for (col, cell) in row.iter().enumerate() {
            let col = col as u16;
            if col < 2 {
                sheet.write_string(r, col, cell)?;
            } else if !cell.is_empty() {
                let value: f64 = cell.parse().map_err(|_| {
                    rust_xlsxwriter::XlsxError::ParameterError(format!(
                        "{} is not a number: {cell}",
                        CSV_HEADER[usize::from(col)]
                    ))
                })?;
                sheet.write_number(r, col, value)?;
            }
        }
    }
    sheet.set_freeze_panes(1, 2)?;
    book.save_to_buffer()
}

const FACTS_HEADER: [&str; 22] = [
    "conversation",
    "channel",
    "agent",
    "team",
    "tags",
    "start",
    "inbound",
    "first_response_seconds",
    "first_response_business_seconds",
    "unanswered",
    "resolved",
    "resolution_seconds",
    "resolution_business_seconds",
    "first_resolution_seconds",
    "reopens",
    "customer_messages",
    "agent_messages",
    "agent_turns",
    "one_touch",
    "csat_score",
    "nps_score",
    "ces_score",
];

/// Writes one row per conversation.
pub fn write_facts(
    out: &mut dyn Write,
    facts: &[ConversationFacts],
    format: FactsFormat,
) -> io::Result<()> {
    match format {
        FactsFormat::Jsonl => {
            let mut out = io::BufWriter::new(out);
            for f in facts {
                serde_json::to_writer(&mut out, &FactsRow::new(f))?;
                out.write_all(b"\n")?;
            }
            out.flush()
        }
        FactsFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(FACTS_HEADER).map_err(io_error)?;
            for f in facts {
                let r = FactsRow::new(f);
                w.write_record([
                    r.conversation.to_string(),
                    r.channel.to_string(),
                    r.agent.unwrap_or_default().to_string(),
                    r.team.unwrap_or_default().to_string(),
                    r.tags.join(";"),
                    r.start,
                    r.inbound.to_string(),
                    opt(r.first_response_seconds),
                    opt(r.first_response_business_seconds),
                    r.unanswered.to_string(),
                    r.resolved.to_string(),
                    opt(r.resolution_seconds),
                    opt(r.resolution_business_seconds),
                    opt(r.first_resolution_seconds),
                    r.reopens.to_string(),
                    r.customer_messages.to_string(),
                    r.agent_messages.to_string(),
                    r.agent_turns.to_string(),
                    r.one_touch.to_string(),
                    opt(r.csat_score),
                    opt(r.nps_score),
                    opt(r.ces_score),
                ])
                .map_err(io_error)?;
            }
            w.flush()?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(1234567), "1 234 567");
        assert_eq!(count(999), "999");
        assert_eq!(count(0), "0");
    }

    #[test]
    fn the_workbook_read_back_equals_the_csv() {
        use calamine::{Data, Reader};
        let table = crate::parallel::tests::table(500);
        let config = servicemeter_core::WorkspaceConfig::default();
        let by = [GroupBy::Channel, GroupBy::Tag, GroupBy::Week];
        let period = Some(servicemeter_core::report::Period::new(
            "2024-02-01".parse().unwrap(),
            "2024-02-07".parse().unwrap(),
        ));
        let report = servicemeter_core::build_report(&table, &config, period, &by);
        let mut csv_bytes = Vec::new();
        write_report(&mut csv_bytes, &report, ReportFormat::Csv, &by).unwrap();
        let csv_rows: Vec<Vec<String>> = csv::Reader::from_reader(csv_bytes.as_slice())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect();
        // Total, previous, 3 channels, the tag and its absence, and weeks.
        assert!(csv_rows.len() >= 7, "{csv_rows:?}");

        let bytes = xlsx_report(&report, &by).unwrap();
        let mut book: calamine::Xlsx<_> =
            calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("report").unwrap();
        let read: Vec<Vec<String>> = range
            .rows()
            .map(|row| {
                row.iter()
                    .map(|cell| match cell {
                        Data::Empty => String::new(),
                        Data::String(s) => s.clone(),
                        Data::Float(f) => format!("{f}"),
                        Data::Int(i) => format!("{i}"),
                        other => panic!("unexpected cell {other:?}"),
                    })
                    .collect()
            })
            .collect();
        assert_eq!(read[0], CSV_HEADER.map(String::from).to_vec());
        // A row read back may end early where its last cells are empty.
        let padded: Vec<Vec<String>> = read[1..]
            .iter()
            .map(|row| {
                let mut row = row.clone();
                row.resize(CSV_HEADER.len(), String::new());
                row
            })
            .collect();
        assert_eq!(padded, csv_rows);
        // Figures are numbers in the workbook, not text.
        assert!(matches!(range.get((1, 2)), Some(Data::Float(_))));
    }
}
