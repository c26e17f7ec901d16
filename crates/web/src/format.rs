//! How figures read on a page, per language (Dutch writes 85,3 %).

use servicemeter_core::headline::{Change, Figure, Kind, Trend, Unit};
use servicemeter_core::report::{Period, Summary};
use servicemeter_core::time::human_seconds;

use crate::i18n::Lang;

fn decimal(v: f64, decimals: usize, lang: Lang) -> String {
    let text = format!("{v:.decimals$}");
    match lang {
        Lang::Nl => text.replace('.', ","),
        Lang::En => text,
    }
}

/// A percentage with one decimal, or "–".
pub fn pct(v: Option<f64>, lang: Lang) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{}%", decimal(v, 1, lang)))
}

/// A number with `decimals` decimals, or "–".
pub fn number(v: Option<f64>, decimals: usize, lang: Lang) -> String {
    v.map_or_else(|| "–".into(), |v| decimal(v, decimals, lang))
}

/// A signed whole number (NPS), or "–".
pub fn signed(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |v| format!("{v:+.0}"))
}

/// A duration in seconds as "4m 05s", or "–".
pub fn duration(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), human_seconds)
}

/// A count with thin spaces between thousands.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A headline figure of a summary as the pages show it, with the number of survey answers
/// behind it when it has them.
pub fn figure(figure: Figure, s: &Summary, lang: Lang) -> String {
    let shown = value(figure.kind(), figure.value(s), lang);
    match figure.responses(s) {
        Some(n) => format!("{shown} ({})", count(n)),
        None => shown,
    }
}

/// A period in the reader's language: "5 dec 2026", "20–26 nov 2026", "28 nov – 4 dec 2026",
/// "28 dec 2025 – 3 jan 2026", with ", tot 13:30" while it is still running.
/// A day in the reader's language: "12 mrt 2024".
pub fn day(d: jiff::civil::Date, lang: Lang) -> String {
    let t = lang.texts();
    format!(
        "{} {} {}",
        d.day(),
        t.months[(d.month() - 1) as usize],
        d.year()
    )
}

pub fn period(p: Period, lang: Lang) -> String {
    let t = lang.texts();
    let month = |d: jiff::civil::Date| t.months[(d.month() - 1) as usize];
    let (a, b) = (p.from, p.to);
    let mut text = if a == b {
        day(a, lang)
    } else if (a.year(), a.month()) == (b.year(), b.month()) {
        format!("{}–{} {} {}", a.day(), b.day(), month(b), b.year())
    } else if a.year() == b.year() {
        format!(
            "{} {} – {} {} {}",
            a.day(),
            month(a),
            b.day(),
            month(b),
            b.year()
        )
    } else {
        format!(
            "{} {} {} – {} {} {}",
            a.day(),
            month(a),
            a.year(),
            b.day(),
            month(b),
            b.year()
        )
    };
    if let Some(until) = p.until {
        text.push_str(&format!(", {} {}", t.until, until.strftime("%H:%M")));
    }
    text
}

/// A number of survey answers: "1 reactie", "2 reacties".
pub fn responses(n: u64, lang: Lang) -> String {
    let t = lang.texts();
    format!(
        "{} {}",
        count(n),
        if n == 1 { t.response } else { t.responses }
    )
}

/// A value of a kind of figure, as the pages show it.
pub fn value(kind: Kind, v: Option<f64>, lang: Lang) -> String {
    match kind {
        Kind::Count => v.map_or_else(|| "–".into(), |v| count(v as u64)),
        Kind::Duration => duration(v),
        Kind::Percent => pct(v, lang),
        Kind::Decimal(n) => number(v, usize::from(n), lang),
        Kind::Score => signed(v),
    }
}

/// A change as core computed it, written for the pages: a sign (a real minus), the amount in
/// its unit, a decimal comma in Dutch; and its class, `better`, `worse` or empty.
pub fn change(change: Option<Change>, lang: Lang) -> (String, &'static str) {
    let Some(c) = change else {
        return (String::new(), "");
    };
    let a = c.amount;
    let sign = if a > 0.0 {
        "+"
    } else if a < 0.0 {
        "−"
    } else {
        ""
    };
    let text = match c.unit {
        Unit::Relative => format!("{sign}{:.1}%", a.abs()),
        Unit::Points => format!("{sign}{:.1} pt", a.abs()),
        Unit::Seconds => format!("{sign}{}", duration(Some(a.abs()))),
        Unit::Plain(d) => format!("{sign}{:.*}", usize::from(d), a.abs()),
    };
    let text = match lang {
        Lang::Nl => text.replace('.', ","),
        Lang::En => text,
    };
    let trend = match c.trend {
        Trend::Better => "better",
        Trend::Worse => "worse",
        Trend::Same => "",
    };
    (text, trend)
}

/// A channel's name in the reader's language (the common ones; others as they are named).
pub fn channel(name: &str, lang: Lang) -> String {
    let t = lang.texts();
    match name {
        "email" => t.channel_email,
        "phone" => t.channel_phone,
        "chat" => t.channel_chat,
        "social" => t.channel_social,
        "whatsapp" => t.channel_whatsapp,
        "sms" => t.channel_sms,
        other => other,
    }
    .to_string()
}

/// A tick of a time axis, short: 0, 30s, 5m, 1h 30m, 2d (ticks are round, so nothing is
/// lost).
pub fn axis_duration(seconds: f64) -> String {
    let s = seconds.round() as i64;
    match s {
        0 => "0".into(),
        s if s < 60 => format!("{s}s"),
        s if s < 3600 && s % 60 == 0 => format!("{}m", s / 60),
        s if s < 3600 => format!("{}m {}s", s / 60, s % 60),
        s if s < 86_400 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s < 86_400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// A tick of a percentage axis (whole points): "80%".
pub fn axis_percent(v: f64) -> String {
    format!("{v:.0}%")
}

/// A headline figure's name in a table's row or column, in the reader's language.
pub fn figure_label(figure: Figure, lang: Lang) -> &'static str {
    let t = lang.texts();
    match figure {
        Figure::Conversations => t.conversations,
        Figure::FirstResponseMedian => t.first_response,
        Figure::FirstResponseP90 => t.first_response,
        Figure::FirstResponseCalendarMedian => t.first_response,
        Figure::FirstResponseWithinTarget => t.within_target,
        Figure::Unanswered => t.unanswered_title,
        Figure::ResolutionRate => t.resolution_rate,
        Figure::ResolutionTimeMedian => t.resolution_time,
        Figure::ReopenRate => t.reopen_rate,
        Figure::OneTouch => t.one_touch,
        Figure::RepliesPerConversation => t.replies_per_conversation,
        Figure::TurnsPerConversation => t.turns_per_conversation,
        Figure::Csat => t.csat,
        Figure::Nps => t.nps,
        Figure::Ces => t.ces,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_ticks_are_short() {
        let check = |seconds: f64, expect: &str| assert_eq!(axis_duration(seconds), expect);
        check(0.0, "0");
        check(15.0, "15s");
        check(300.0, "5m");
        check(1200.0, "20m");
        check(90.0, "1m 30s");
        check(7200.0, "2h");
        check(5400.0, "1h 30m");
        check(172_800.0, "2d");
        assert_eq!(axis_percent(80.0), "80%");
    }

    #[test]
    fn figures_read_per_language() {
        assert_eq!(pct(Some(85.25), Lang::Nl), "85,2%");
        assert_eq!(pct(Some(85.26), Lang::En), "85.3%");
        assert_eq!(pct(None, Lang::En), "–");
        assert_eq!(number(Some(1.5), 2, Lang::Nl), "1,50");
        assert_eq!(signed(Some(12.4)), "+12");
        assert_eq!(signed(Some(-3.0)), "-3");
        assert_eq!(duration(Some(245.0)), "4m 05s");
        assert_eq!(count(1234567), "1\u{202f}234\u{202f}567");
        assert_eq!(count(999), "999");
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        let p = |a, b| Period::new(d(a), d(b));
        assert_eq!(
            period(p("2026-11-20", "2026-11-26"), Lang::Nl),
            "20–26 nov 2026"
        );
        assert_eq!(
            period(p("2026-12-05", "2026-12-05"), Lang::En),
            "5 Dec 2026"
        );
        assert_eq!(
            period(p("2026-11-28", "2026-12-04"), Lang::Nl),
            "28 nov – 4 dec 2026"
        );
        assert_eq!(
            period(p("2025-12-28", "2026-01-03"), Lang::En),
            "28 Dec 2025 – 3 Jan 2026"
        );
        let running = Period {
            until: Some(jiff::civil::time(13, 30, 0, 0)),
            ..p("2026-03-01", "2026-03-05")
        };
        assert_eq!(period(running, Lang::Nl), "1–5 mrt 2026, tot 13:30");
    }
}
