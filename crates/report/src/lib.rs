//! Rendering of reports and facts: an 80-column terminal table, CSV, JSON and JSON Lines.
//! Renders what core computed; never recomputes a figure.

use std::io::{self, Write};

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

fn change_pct_points(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!("{:+.1} pt", a - b),
        _ => String::new(),
    }
}

fn change_relative(now: f64, before: f64) -> String {
    if before == 0.0 {
        String::new()
    } else {
        format!("{:+.1}%", (now - before) * 100.0 / before)
    }
}

fn change_seconds(now: Option<f64>, before: Option<f64>) -> String {
    match (now, before) {
        (Some(a), Some(b)) if a >= b => format!("+{}", human_seconds(a - b)),
        (Some(a), Some(b)) => format!("-{}", human_seconds(b - a)),
        _ => String::new(),
    }
}

fn change_plain(now: Option<f64>, before: Option<f64>, decimals: usize) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!("{:+.decimals$}", a - b),
        _ => String::new(),
    }
}

struct Line {
    label: &'static str,
    now: String,
    before: String,
    change: String,
}

fn summary_lines(now: &Summary, before: Option<&Summary>) -> Vec<Line> {
    let b = before;
    let mut lines = Vec::new();
    let mut push = |label, now: String, before: String, change: String| {
        lines.push(Line {
            label,
            now,
            before,
            change,
        })
    };
    let get = |f: &dyn Fn(&Summary) -> String| b.map(f).unwrap_or_default();
    push(
        "Conversations",
        count(now.conversations),
        get(&|s| count(s.conversations)),
        b.map(|s| change_relative(now.conversations as f64, s.conversations as f64))
            .unwrap_or_default(),
    );
    let fr = |s: &Summary| s.first_response.clone();
    push(
        "First response, median (open hours)",
        dur(now.first_response.median_business_seconds),
        get(&|s| dur(fr(s).median_business_seconds)),
        b.map(|s| {
            change_seconds(
                now.first_response.median_business_seconds,
                fr(s).median_business_seconds,
            )
        })
        .unwrap_or_default(),
    );
    push(
        "First response, p90 (open hours)",
        dur(now.first_response.p90_business_seconds),
        get(&|s| dur(fr(s).p90_business_seconds)),
        b.map(|s| {
            change_seconds(
                now.first_response.p90_business_seconds,
                fr(s).p90_business_seconds,
            )
        })
        .unwrap_or_default(),
    );
    push(
        "First response, median (clock)",
        dur(now.first_response.median_seconds),
        get(&|s| dur(fr(s).median_seconds)),
        b.map(|s| change_seconds(now.first_response.median_seconds, fr(s).median_seconds))
            .unwrap_or_default(),
    );
    push(
        "First responses within target",
        pct(now.first_response.within_target_pct),
        get(&|s| pct(fr(s).within_target_pct)),
        b.map(|s| {
            change_pct_points(
                now.first_response.within_target_pct,
                fr(s).within_target_pct,
            )
        })
        .unwrap_or_default(),
    );
    push(
        "Unanswered",
        count(now.first_response.unanswered),
        get(&|s| count(s.first_response.unanswered)),
        String::new(),
    );
    push(
        "Resolved",
        pct(now.resolution.resolution_rate_pct),
        get(&|s| pct(s.resolution.resolution_rate_pct)),
        b.map(|s| {
            change_pct_points(
                now.resolution.resolution_rate_pct,
                s.resolution.resolution_rate_pct,
            )
        })
        .unwrap_or_default(),
    );
    push(
        "Resolution time, median (open hours)",
        dur(now.resolution.median_business_seconds),
        get(&|s| dur(s.resolution.median_business_seconds)),
        b.map(|s| {
            change_seconds(
                now.resolution.median_business_seconds,
                s.resolution.median_business_seconds,
            )
        })
        .unwrap_or_default(),
    );
    push(
        "Reopened",
        pct(now.resolution.reopen_rate_pct),
        get(&|s| pct(s.resolution.reopen_rate_pct)),
        b.map(|s| change_pct_points(now.resolution.reopen_rate_pct, s.resolution.reopen_rate_pct))
            .unwrap_or_default(),
    );
    push(
        "One-touch (of resolved)",
        pct(now.resolution.one_touch_pct),
        get(&|s| pct(s.resolution.one_touch_pct)),
        b.map(|s| change_pct_points(now.resolution.one_touch_pct, s.resolution.one_touch_pct))
            .unwrap_or_default(),
    );
    push(
        "Agent replies per conversation",
        num(now.messages.replies_per_conversation, 2),
        get(&|s| num(s.messages.replies_per_conversation, 2)),
        b.map(|s| {
            change_plain(
                now.messages.replies_per_conversation,
                s.messages.replies_per_conversation,
                2,
            )
        })
        .unwrap_or_default(),
    );
    let csat = |s: &Summary| format!("{} (n={})", pct(s.csat.satisfied_pct), s.csat.responses);
    push(
        "CSAT satisfied",
        csat(now),
        get(&csat),
        b.map(|s| change_pct_points(now.csat.satisfied_pct, s.csat.satisfied_pct))
            .unwrap_or_default(),
    );
    let nps = |s: &Summary| format!("{} (n={})", signed(s.nps.score), s.nps.responses);
    push(
        "NPS",
        nps(now),
        get(&nps),
        b.map(|s| change_plain(now.nps.score, s.nps.score, 0))
            .unwrap_or_default(),
    );
    let ces = |s: &Summary| format!("{} (n={})", num(s.ces.average, 2), s.ces.responses);
    push(
        "CES average",
        ces(now),
        get(&ces),
        b.map(|s| change_plain(now.ces.average, s.ces.average, 2))
            .unwrap_or_default(),
    );
    lines
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
            "servicemeter report  {} to {} ({} days, {})",
            p.from,
            p.to,
            p.days(),
            report.timezone
        )?,
        None => writeln!(out, "servicemeter report  all data ({})", report.timezone)?,
    }
    writeln!(out)?;
    let previous = report.previous.as_ref();
    let lines = summary_lines(&report.summary, previous.map(|p| &p.summary));
    if let Some(prev) = previous {
        writeln!(
            out,
            "previous period: {} to {}",
            prev.period.from, prev.period.to
        )?;
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
            GroupBy::Tag => "tag",
            GroupBy::Day => "day",
            GroupBy::Week => "week",
            GroupBy::Month => "month",
        };
        writeln!(
            out,
            "{:<16} {:>6} {:>9} {:>7} {:>8} {:>7} {:>6} {:>5} {:>5}",
            format!("By {title}"),
            "conv",
            "1st resp",
            "target",
            "resolved",
            "reopen",
            "CSAT",
            "NPS",
            "turns"
        )?;
        for (key, s) in rows {
            let name: String = if key.chars().count() > 16 {
                key.chars().take(15).chain(['…']).collect()
            } else {
                key.clone()
            };
            writeln!(
                out,
                "{:<16} {:>6} {:>9} {:>7} {:>8} {:>7} {:>6} {:>5} {:>5}",
                name,
                count(s.conversations),
                dur(s.first_response.median_business_seconds),
                pct(s.first_response.within_target_pct),
                pct(s.resolution.resolution_rate_pct),
                pct(s.resolution.reopen_rate_pct),
                s.csat
                    .satisfied_pct
                    .map_or("-".into(), |v| format!("{v:.0}%")),
                signed(s.nps.score),
                num(s.messages.agent_turns_per_conversation, 1),
            )?;
        }
    }
    Ok(())
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

fn write_csv(out: &mut dyn Write, report: &Report, by: &[GroupBy]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    let key = report
        .period
        .map_or("all".to_string(), |p| format!("{}..{}", p.from, p.to));
    w.write_record(csv_row("total", &key, &report.summary))?;
    if let Some(prev) = &report.previous {
        let key = format!("{}..{}", prev.period.from, prev.period.to);
        w.write_record(csv_row("previous", &key, &prev.summary))?;
    }
    for group in by {
        if let Some(rows) = report.breakdown(*group) {
            let name = group.field().trim_start_matches("by_");
            for (k, s) in rows {
                w.write_record(csv_row(name, k, s))?;
            }
        }
    }
    w.flush()?;
    Ok(())
}

const FACTS_HEADER: [&str; 21] = [
    "conversation",
    "channel",
    "agent",
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
            w.write_record(FACTS_HEADER)?;
            for f in facts {
                let r = FactsRow::new(f);
                w.write_record([
                    r.conversation.to_string(),
                    r.channel.to_string(),
                    r.agent.unwrap_or_default().to_string(),
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
                ])?;
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
}
