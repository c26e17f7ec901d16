//! How figures read on a page, per language (Dutch writes 85,3 %).

use servicemeter_core::headline::{Figure, Kind};
use servicemeter_core::report::Summary;
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
    let v = figure.value(s);
    let shown = match figure.kind() {
        Kind::Count => v.map_or_else(|| "–".into(), |v| count(v as u64)),
        Kind::Duration => duration(v),
        Kind::Percent => pct(v, lang),
        Kind::Decimal(n) => number(v, usize::from(n), lang),
        Kind::Score => signed(v),
    };
    match figure.responses(s) {
        Some(n) => format!("{shown} ({})", count(n)),
        None => shown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
