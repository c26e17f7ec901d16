//! The report as HTML that renders in real mail clients — tables for layout, inline styles, no
//! scripts, no remote images (charts as inline PNG parts named by `cid:`, or as the SVG itself
//! in a browser) — and as plain text for the e-mail's text part.

use std::fmt::Write;

use servicemeter_report::svg::escape;

use super::Document;
use crate::table::DataTable;

/// How the charts are included.
pub enum Charts<'a> {
    /// The SVG inside the page (a browser, a saved file).
    Svg,
    /// `<img src="cid:…">` with these content ids, one per chart (an e-mail with the PNG parts
    /// beside it).
    Cid(&'a [String]),
}

const FONT: &str = "font-family:Arial,Helvetica,sans-serif;color:#1d2733";
const MUTED: &str = "color:#5d6878";
const CELL: &str =
    "padding:4px 8px;border-bottom:1px solid #e3e7ec;text-align:left;vertical-align:top";
const NUM: &str = "padding:4px 8px;border-bottom:1px solid #e3e7ec;text-align:right;vertical-align:top;white-space:nowrap";
const HEAD: &str =
    "padding:4px 8px;border-bottom:2px solid #c5ccd6;text-align:left;font-size:12px;color:#5d6878";

fn status_style(status: &str) -> &'static str {
    match status {
        "met" => "color:#1f7a3d;font-weight:bold",
        "missed" => "color:#b3261e;font-weight:bold",
        _ => "",
    }
}

fn trend_style(trend: &str) -> &'static str {
    match trend {
        "better" => "color:#1f7a3d",
        "worse" => "color:#b3261e",
        _ => "color:#5d6878",
    }
}

fn heading(out: &mut String, text: &str) {
    let _ = write!(
        out,
        "<h2 style=\"font-size:18px;margin:28px 0 8px;{FONT}\">{}</h2>",
        escape(text)
    );
}

/// Opens a region that scrolls sideways on its own when its table is wider than a phone (the
/// page around it does not); reachable by keyboard, named for screen readers.
fn scroll_region(out: &mut String, name: &str) {
    let _ = write!(
        out,
        "<div role=\"region\" tabindex=\"0\" aria-label=\"{}\" style=\"overflow-x:auto;max-width:100%\">",
        escape(name)
    );
}

fn table(out: &mut String, caption: &str, table: &DataTable) {
    scroll_region(out, caption);
    out.push_str(
        "<table role=\"table\" cellpadding=\"0\" cellspacing=\"0\" \
         style=\"border-collapse:collapse;width:100%;font-size:13px\"><thead><tr>",
    );
    for (i, h) in table.headers.iter().enumerate() {
        // Flag columns have no numbers; the first names the row.
        let _ = write!(
            out,
            "<th scope=\"col\" style=\"{HEAD}{}\">{}</th>",
            if i > 0
                && table
                    .rows
                    .iter()
                    .any(|r| r.cells.get(i).is_some_and(|c| c.num))
            {
                ";text-align:right"
            } else {
                ""
            },
            escape(&super::capitalised(h))
        );
    }
    out.push_str("</tr></thead><tbody>");
    for row in &table.rows {
        out.push_str("<tr>");
        for (i, cell) in row.cells.iter().enumerate() {
            let mut text = escape(&cell.text);
            for flag in &cell.flags {
                if !text.is_empty() {
                    text.push_str("<br>");
                }
                let _ = write!(text, "⚑ {}", escape(flag));
            }
            let style = if cell.num { NUM } else { CELL };
            if i == 0 {
                let _ = write!(
                    out,
                    "<th scope=\"row\" style=\"{style};font-weight:normal\">{text}</th>"
                );
            } else {
                let _ = write!(out, "<td style=\"{style}\">{text}</td>");
            }
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
}

/// The report as an HTML document; `unsubscribe` adds the recipient's unsubscribe link at the
/// bottom.
pub fn html(doc: &Document, charts: Charts, unsubscribe: Option<(&str, &str)>) -> String {
    let t = doc.lang.texts();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title></head>\
         <body style=\"margin:0;padding:0;background:#f4f6f8\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"background:#f4f6f8\"><tr><td align=\"center\" style=\"padding:16px 8px\">\
         <table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" style=\"width:100%;max-width:720px;table-layout:fixed;background:#ffffff;border-radius:6px\"><tr><td style=\"padding:24px 16px;{FONT}\"><main>",
        doc.lang.code(),
        escape(&doc.title)
    );
    if let Some(agency) = &doc.agency {
        let _ = write!(
            out,
            "<p style=\"margin:0 0 4px;font-size:12px;{MUTED}\">{} {}</p>",
            escape(t.report_prepared_by),
            escape(agency)
        );
    }
    let _ = write!(
        out,
        "<h1 style=\"font-size:24px;margin:0 0 4px\">{}</h1>\
         <p style=\"margin:0;font-size:15px\">{}</p>",
        escape(&doc.title),
        escape(&doc.period)
    );
    if !doc.compared.is_empty() {
        let _ = write!(
            out,
            "<p style=\"margin:2px 0 0;font-size:13px;{MUTED}\">{}</p>",
            escape(&doc.compared)
        );
    }

    heading(&mut out, t.report_attention);
    if doc.attention.is_empty() {
        let _ = write!(
            out,
            "<p style=\"margin:0;color:#1f7a3d\">{}</p>",
            escape(t.report_attention_none)
        );
    } else {
        out.push_str("<ul style=\"margin:0;padding-left:20px\">");
        for a in &doc.attention {
            let _ = write!(out, "<li style=\"margin:2px 0\">{}</li>", escape(a));
        }
        out.push_str("</ul>");
    }

    heading(&mut out, t.report_figures);
    scroll_region(&mut out, t.report_figures);
    out.push_str(
        "<table role=\"table\" cellpadding=\"0\" cellspacing=\"0\" \
         style=\"border-collapse:collapse;width:100%;font-size:14px\"><thead><tr>",
    );
    for (h, right) in [
        (t.figure, false),
        (t.value, true),
        (t.report_status, true),
        (t.previous, true),
        (t.change, true),
    ] {
        let _ = write!(
            out,
            "<th scope=\"col\" style=\"{HEAD}{}\">{}</th>",
            if right { ";text-align:right" } else { "" },
            escape(h)
        );
    }
    out.push_str("</tr></thead><tbody>");
    for f in &doc.figures {
        let target = if f.target.is_empty() {
            String::new()
        } else if f.status.is_empty() {
            escape(&f.target)
        } else {
            format!(
                "{} <span style=\"{}\">{}</span>",
                escape(&f.target),
                status_style(f.status),
                escape(f.status_text)
            )
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\" style=\"{CELL};font-weight:normal\">{}</th>\
             <td style=\"{NUM};font-weight:bold\">{}</td><td style=\"{NUM}\">{target}</td>\
             <td style=\"{NUM};{MUTED}\">{}</td><td style=\"{NUM};{}\">{}</td></tr>",
            escape(&super::capitalised(f.label)),
            escape(&f.value),
            escape(&f.previous),
            trend_style(f.trend),
            escape(&f.change),
        );
    }
    out.push_str("</tbody></table></div>");

    heading(&mut out, t.report_charts);
    for (i, chart) in doc.charts.iter().enumerate() {
        let _ = write!(
            out,
            "<p style=\"margin:12px 0 4px;font-size:13px;font-weight:bold\">{}</p>",
            escape(&chart.caption)
        );
        match &charts {
            Charts::Svg => out.push_str(&chart.svg),
            Charts::Cid(ids) => {
                if let Some(id) = ids.get(i) {
                    let _ = write!(
                        out,
                        "<img src=\"cid:{}\" width=\"672\" alt=\"{}\" \
                         style=\"display:block;width:100%;max-width:672px;height:auto;border:0\">",
                        escape(id),
                        escape(&chart.caption)
                    );
                }
            }
        }
    }

    for section in &doc.sections {
        heading(&mut out, &section.caption);
        table(&mut out, &section.caption, &section.table);
    }

    heading(&mut out, t.report_highlights);
    if doc.quotes.is_empty() {
        let _ = write!(
            out,
            "<p style=\"margin:0;{MUTED}\">{}</p>",
            escape(t.report_highlights_none)
        );
    }
    for q in &doc.quotes {
        let _ = write!(
            out,
            "<blockquote style=\"margin:8px 0;padding:6px 12px;border-left:3px solid #b3261e;background:#fbf4f3\">\
             <p style=\"margin:0\">{}</p><p style=\"margin:4px 0 0;font-size:12px;{MUTED}\">{}</p>",
            escape(&q.comment),
            escape(&q.about)
        );
        if !q.reasons.is_empty() {
            let _ = write!(
                out,
                "<p style=\"margin:2px 0 0;font-size:12px;{MUTED}\">{}</p>",
                escape(&q.reasons)
            );
        }
        out.push_str("</blockquote>");
    }

    let _ = write!(
        out,
        "<p style=\"margin:28px 0 0;font-size:12px;{MUTED}\">{} · {} {}</p>",
        escape(t.report_footer),
        escape(t.report_made),
        escape(&doc.made)
    );
    if let Some((label, href)) = unsubscribe {
        let _ = write!(
            out,
            "<p style=\"margin:8px 0 0;font-size:12px\"><a href=\"{}\" style=\"color:#5d6878\">{}</a></p>",
            escape(href),
            escape(label)
        );
    }
    out.push_str("</main></td></tr></table></td></tr></table></body></html>");
    out
}

/// The report as plain text (the e-mail's text part): the same figures, attention list and
/// comments, without charts and tables.
pub fn text(doc: &Document, unsubscribe: Option<(&str, &str)>) -> String {
    let t = doc.lang.texts();
    let mut out = String::new();
    if let Some(agency) = &doc.agency {
        let _ = writeln!(out, "{} {agency}", t.report_prepared_by);
    }
    let _ = writeln!(out, "{}\n{}", doc.title, doc.period);
    if !doc.compared.is_empty() {
        let _ = writeln!(out, "{}", doc.compared);
    }
    let _ = writeln!(out, "\n{}", t.report_attention);
    if doc.attention.is_empty() {
        let _ = writeln!(out, "{}", t.report_attention_none);
    }
    for a in &doc.attention {
        let _ = writeln!(out, "- {a}");
    }
    let _ = writeln!(out, "\n{}", t.report_figures);
    for f in &doc.figures {
        let mut line = format!("- {}: {}", f.label, f.value);
        if !f.target.is_empty() {
            line.push_str(&format!(" ({} {}", t.target, f.target));
            if !f.status_text.is_empty() {
                line.push_str(&format!(", {}", f.status_text));
            }
            line.push(')');
        }
        if !f.previous.is_empty() {
            line.push_str(&format!("; {} {}", t.previous.to_lowercase(), f.previous));
            if !f.change.is_empty() {
                line.push_str(&format!(" ({})", f.change));
            }
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "\n{}", t.report_highlights);
    if doc.quotes.is_empty() {
        let _ = writeln!(out, "{}", t.report_highlights_none);
    }
    for q in &doc.quotes {
        let _ = writeln!(out, "- \"{}\" ({})", q.comment, q.about);
    }
    let _ = writeln!(
        out,
        "\n{} · {} {}",
        t.report_footer, t.report_made, doc.made
    );
    if let Some((label, href)) = unsubscribe {
        let _ = writeln!(out, "{label}: {href}");
    }
    out
}
