//! Charts as self-contained SVG (styles inside), drawn on the server so that the dashboard,
//! e-mail and PDF reports show the same pictures: bars, lines with a target, an hour-by-weekday
//! heatmap, and a conversation's timeline with closed hours shaded.

use std::fmt::Write;

/// Escapes text for SVG/XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "text{font:11px system-ui,sans-serif;fill:#5d6878}\
.bar{fill:#2456a6}.bar.alt{fill:#8aa6d6}.axis{stroke:#c5ccd6;stroke-width:1}\
.grid{stroke:#eef0f3;stroke-width:1}.line{fill:none;stroke:#2456a6;stroke-width:2}\
.line.alt{stroke:#9aa3af;stroke-dasharray:5 3}.dot{fill:#2456a6}.dot.alt{fill:#9aa3af}.target{stroke:#b3261e;stroke-width:1;stroke-dasharray:4 3}\
.closed{fill:#eceef2}.open{fill:#e6f4ea}.cell{stroke:#fff;stroke-width:1}\
.openmark{fill:none;stroke:#1f7a3d;stroke-width:1.5}.customer{fill:#2456a6}\
.agent{fill:#1f7a3d}.other{fill:#9aa3af}.event{fill:#b36b00}.survey{fill:#7a3db3}\
.clock{stroke-width:6;stroke-linecap:butt}.clock.fr{stroke:#2456a6}.clock.res{stroke:#1f7a3d}";

/// An SVG picture being drawn.
pub struct Svg {
    out: String,
}

fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

impl Svg {
    /// A picture of `width` × `height` units that scales to its container; `title` is what
    /// screen readers and hovering say.
    pub fn new(width: f64, height: f64, title: &str) -> Svg {
        let mut out = String::new();
        let _ = write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" \
             role=\"img\" aria-label=\"{t}\" preserveAspectRatio=\"xMidYMid meet\">\
             <title>{t}</title><style>{STYLE}</style>",
            w = num(width),
            h = num(height),
            t = escape(title),
        );
        Svg { out }
    }

    fn tip(&mut self, tooltip: Option<&str>) {
        match tooltip {
            Some(t) => {
                let _ = write!(self.out, "><title>{}</title>", escape(t));
            }
            None => self.out.push('>'),
        }
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str, tooltip: Option<&str>) {
        let _ = write!(
            self.out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"{}\"",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            escape(class)
        );
        self.tip(tooltip);
        self.out.push_str("</rect>");
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"{}\"/>",
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            escape(class)
        );
    }

    pub fn polyline(&mut self, points: &[(f64, f64)], class: &str) {
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{},{}", num(*x), num(*y)))
            .collect();
        let _ = write!(
            self.out,
            "<polyline points=\"{}\" class=\"{}\"/>",
            pts.join(" "),
            escape(class)
        );
    }

    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, class: &str, tooltip: Option<&str>) {
        let _ = write!(
            self.out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" class=\"{}\"",
            num(cx),
            num(cy),
            num(r),
            escape(class)
        );
        self.tip(tooltip);
        self.out.push_str("</circle>");
    }

    /// Text; `anchor` is start, middle or end.
    pub fn text(&mut self, x: f64, y: f64, text: &str, anchor: &str) {
        let _ = write!(
            self.out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">{}</text>",
            num(x),
            num(y),
            anchor,
            escape(text)
        );
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// One bar.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub tooltip: String,
}

// Charts are drawn about as wide as they are shown (a third of a desktop page, a phone's
// width), so that 11-unit text reads as about 11 px on both.
const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 46.0;
const BOTTOM: f64 = 22.0;
/// Room above the plot for the axis title and a legend.
const TOP: f64 = 22.0;
/// The conversation timeline is shown full width.
const TIMELINE_WIDTH: f64 = 640.0;

/// What a value axis counts, which decides its round steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    /// Whole things: steps of 1, 2 or 5 times a power of ten, never below 1.
    Count,
    /// Seconds: steps of 1, 5, 15 or 30 seconds or minutes, 1, 2, 4, 8 or 12 hours, days.
    Seconds,
    /// Percentages: steps of 1, 2, 5, 10, 20 or 25 points.
    Percent,
}

/// The top of a value axis and the step between its ticks: round values, at most five steps
/// above zero, the top at least `max`.
pub fn axis_ticks(max: f64, axis: Axis) -> (f64, f64) {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        0.0
    };
    let candidates: Vec<f64> = match axis {
        Axis::Count => (0..12)
            .flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k)))
            .collect(),
        Axis::Seconds => {
            let mut steps = vec![
                1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 1_800.0, 3_600.0, 7_200.0, 14_400.0,
                28_800.0, 43_200.0, 86_400.0, 172_800.0, 604_800.0,
            ];
            steps.extend(
                (1..8).flat_map(|k| [2.0, 5.0, 10.0].map(|m| m * 604_800.0 * 10f64.powi(k - 1))),
            );
            steps
        }
        Axis::Percent => {
            let mut steps = vec![1.0, 2.0, 5.0, 10.0, 20.0, 25.0];
            steps.extend((2..12).flat_map(|k| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(k))));
            steps
        }
    };
    if max == 0.0 {
        return (candidates[0], candidates[0]);
    }
    let step = candidates
        .iter()
        .copied()
        .find(|step| (max / step).ceil() <= 5.0)
        .unwrap_or(*candidates.last().expect("steps"));
    ((max / step).ceil() * step, step)
}

/// How a chart's value axis reads: what it counts (its round steps), its title, and how a
/// value is written.
pub struct ValueAxis<'a> {
    pub kind: Axis,
    pub title: &'a str,
    pub format: &'a dyn Fn(f64) -> String,
}

fn y_axis(svg: &mut Svg, top: f64, step: f64, axis: &ValueAxis) {
    let format = axis.format;
    svg.text(2.0, 12.0, axis.title, "start");
    let plot_h = HEIGHT - BOTTOM - TOP;
    let steps = (top / step).round() as i32;
    for k in 0..=steps {
        let v = step * f64::from(k);
        let y = TOP + plot_h - plot_h * v / top;
        svg.line(LEFT, y, WIDTH, y, if k == 0 { "axis" } else { "grid" });
        svg.text(LEFT - 4.0, y + 4.0, &format(v), "end");
    }
}

/// A chart with nothing to show says so instead of drawing an axis of zeros.
fn empty_chart(title: &str, empty: &str) -> String {
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    svg.line(LEFT, HEIGHT - BOTTOM, WIDTH, HEIGHT - BOTTOM, "axis");
    svg.text((LEFT + WIDTH) / 2.0, HEIGHT / 2.0, empty, "middle");
    svg.finish()
}

fn label_every(n: usize) -> usize {
    n.div_ceil(7).max(1)
}

/// Bars with labels under them (every few when there are many) and a value axis of round
/// steps; `empty` is said instead when every bar is zero.
pub fn bar_chart(title: &str, bars: &[Bar], axis: &ValueAxis, empty: &str) -> String {
    let highest = bars.iter().map(|b| b.value).fold(0.0, f64::max);
    if highest <= 0.0 {
        return empty_chart(title, empty);
    }
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    let (max, step) = axis_ticks(highest, axis.kind);
    y_axis(&mut svg, max, step, axis);
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / bars.len().max(1) as f64;
    let every = label_every(bars.len());
    for (i, bar) in bars.iter().enumerate() {
        let h = plot_h * bar.value / max;
        let x = LEFT + slot * i as f64;
        svg.rect(
            x + slot * 0.15,
            TOP + plot_h - h,
            slot * 0.7,
            h,
            "bar",
            Some(&bar.tooltip),
        );
        if i % every == 0 {
            svg.text(x + slot / 2.0, HEIGHT - 6.0, &bar.label, "middle");
        }
    }
    svg.finish()
}

/// One line of a line chart: its name (in the legend when there are several), a value per
/// label (`None`: a gap), the hover of each point, and its style (`line` or `line alt`).
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<Option<f64>>,
    pub tips: Vec<String>,
    pub class: &'a str,
}

/// Lines through the values that exist (gaps where a value is missing) on a value axis of
/// round steps with its title, with an optional dashed target line and its legend (`target`:
/// value and words), a legend of the lines when there are several, and each point's hover;
/// `empty` is said instead when there is no value at all.
pub fn line_chart(
    title: &str,
    labels: &[String],
    series: &[Series],
    target: Option<(f64, &str)>,
    axis: &ValueAxis,
    empty: &str,
) -> String {
    let values = || {
        series
            .iter()
            .flat_map(|s| s.values.iter().flatten().copied())
    };
    if values().next().is_none() {
        return empty_chart(title, empty);
    }
    let format = axis.format;
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    let max_value = values().chain(target.map(|(t, _)| t)).fold(0.0, f64::max);
    let (max, step) = axis_ticks(max_value, axis.kind);
    y_axis(&mut svg, max, step, axis);
    let plot_h = HEIGHT - BOTTOM - TOP;
    let slot = (WIDTH - LEFT) / labels.len().max(1) as f64;
    let y_of = |v: f64| TOP + plot_h - plot_h * v / max;
    if let Some((t, legend)) = target {
        svg.line(LEFT, y_of(t), WIDTH, y_of(t), "target");
        svg.text(
            WIDTH - 2.0,
            y_of(t) - 3.0,
            &format!("{legend} {}", format(t)),
            "end",
        );
    }
    if series.len() > 1 {
        // The legend, right of the axis title: a short stroke and the name of each line.
        let mut x = WIDTH - 2.0;
        for s in series.iter().rev() {
            svg.text(x, 12.0, s.name, "end");
            x -= 7.0 * s.name.chars().count() as f64 + 4.0;
            svg.line(x - 14.0, 8.0, x, 8.0, s.class);
            x -= 22.0;
        }
    }
    let every = label_every(labels.len());
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 {
            svg.text(
                LEFT + slot * (i as f64 + 0.5),
                HEIGHT - 6.0,
                label,
                "middle",
            );
        }
    }
    for s in series {
        let mut run: Vec<(f64, f64)> = Vec::new();
        for (i, value) in s.values.iter().enumerate() {
            let x = LEFT + slot * (i as f64 + 0.5);
            match value {
                Some(v) => {
                    run.push((x, y_of(*v)));
                    let tip = s.tips.get(i).map(String::as_str).unwrap_or_default();
                    let dot = if s.class.ends_with("alt") {
                        "dot alt"
                    } else {
                        "dot"
                    };
                    svg.circle(x, y_of(*v), 2.5, dot, Some(tip));
                }
                None => {
                    if run.len() > 1 {
                        svg.polyline(&run, s.class);
                    }
                    run.clear();
                }
            }
        }
        if run.len() > 1 {
            svg.polyline(&run, s.class);
        }
    }
    svg.finish()
}

/// A small trend without axes (for a card or a table cell): a line through the values on a
/// scale from 0 to `top`, a dashed line at `target`, each point with a hover (its `tip`).
/// Nothing but a baseline when no value exists.
pub fn sparkline(
    title: &str,
    points: &[(Option<f64>, String)],
    top: f64,
    target: Option<f64>,
) -> String {
    const W: f64 = 160.0;
    const H: f64 = 36.0;
    const PAD: f64 = 4.0;
    let mut svg = Svg::new(W, H, title);
    let top = if top > 0.0 { top } else { 1.0 };
    let y_of = |v: f64| H - PAD - (H - 2.0 * PAD) * (v / top).clamp(0.0, 1.0);
    let slot = (W - 2.0 * PAD) / points.len().max(1) as f64;
    svg.line(PAD, H - PAD, W - PAD, H - PAD, "axis");
    if let Some(t) = target {
        svg.line(PAD, y_of(t), W - PAD, y_of(t), "target");
    }
    let mut run: Vec<(f64, f64)> = Vec::new();
    for (i, (value, tip)) in points.iter().enumerate() {
        let x = PAD + slot * (i as f64 + 0.5);
        match value {
            Some(v) => {
                run.push((x, y_of(*v)));
                svg.circle(x, y_of(*v), 2.0, "dot", Some(tip));
            }
            None => {
                if run.len() > 1 {
                    svg.polyline(&run, "line");
                }
                run.clear();
            }
        }
    }
    if run.len() > 1 {
        svg.polyline(&run, "line");
    }
    svg.finish()
}

/// Counts per weekday (rows, Monday first) and hour (columns), darker for more; opening hours
/// outlined.
pub fn heatmap(
    title: &str,
    counts: &[[u64; 24]; 7],
    open: &[[bool; 24]; 7],
    day_labels: &[&str; 7],
) -> String {
    let (left, top, cell_w, cell_h) = (36.0, 16.0, 24.0, 20.0);
    let mut svg = Svg::new(left + 24.0 * cell_w + 4.0, top + 7.0 * cell_h + 4.0, title);
    let max = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64;
    for hour in (0..24).step_by(3) {
        svg.text(
            left + cell_w * (hour as f64 + 0.5),
            11.0,
            &format!("{hour:02}"),
            "middle",
        );
    }
    for (day, row) in counts.iter().enumerate() {
        let y = top + cell_h * day as f64;
        svg.text(left - 4.0, y + cell_h * 0.7, day_labels[day], "end");
        for (hour, &n) in row.iter().enumerate() {
            let x = left + cell_w * hour as f64;
            // Lightness from 96 % (none) to 30 % (the busiest hour).
            let lightness = 96.0 - 66.0 * (n as f64 / max);
            let _ = write!(
                svg.out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"cell\" \
                 style=\"fill:hsl(217,60%,{}%)\"><title>{} {:02}:00 {}</title></rect>",
                num(x),
                num(y),
                num(cell_w),
                num(cell_h),
                num(lightness),
                escape(day_labels[day]),
                hour,
                n
            );
            if open[day][hour] {
                svg.rect(
                    x + 1.0,
                    y + 1.0,
                    cell_w - 2.0,
                    cell_h - 2.0,
                    "openmark",
                    None,
                );
            }
        }
    }
    svg.finish()
}

/// What sits on a conversation's timeline.
#[derive(Debug, Clone)]
pub struct Mark {
    /// UTC ms.
    pub at: i64,
    /// customer, agent, other (bot, note), event or survey.
    pub class: &'static str,
    pub tooltip: String,
}

/// A conversation on a time axis: open hours light green, closed hours grey, a dot per message,
/// event or survey, and the first-response and resolution clocks as bars under it.
pub fn timeline(
    title: &str,
    (from, to): (i64, i64),
    open: &[(i64, i64)],
    marks: &[Mark],
    clocks: &[(&str, i64, i64, String)],
    axis_labels: &[(i64, String)],
) -> String {
    let (left, right, height) = (8.0, 8.0, 90.0);
    let width = TIMELINE_WIDTH;
    let span = (to - from).max(1) as f64;
    let x_of = |t: i64| left + (width - left - right) * ((t - from) as f64 / span).clamp(0.0, 1.0);
    let mut svg = Svg::new(width, height, title);
    svg.rect(left, 8.0, width - left - right, 30.0, "closed", None);
    for &(a, b) in open {
        svg.rect(x_of(a), 8.0, x_of(b) - x_of(a), 30.0, "open", None);
    }
    for m in marks {
        svg.circle(x_of(m.at), 23.0, 4.0, m.class, Some(&m.tooltip));
    }
    for (k, (class, a, b, tip)) in clocks.iter().enumerate() {
        let y = 48.0 + 9.0 * k as f64;
        let _ = write!(
            svg.out,
            "<line x1=\"{}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" class=\"clock {}\"><title>{}</title></line>",
            num(x_of(*a)),
            num(x_of(*b).max(x_of(*a) + 1.0)),
            escape(class),
            escape(tip)
        );
    }
    for (k, (t, label)) in axis_labels.iter().enumerate() {
        svg.line(x_of(*t), 38.0, x_of(*t), 42.0, "axis");
        // The outermost labels stay inside the picture.
        let anchor = match k {
            0 => "start",
            k if k + 1 == axis_labels.len() => "end",
            _ => "middle",
        };
        svg.text(x_of(*t), height - 4.0, label, anchor);
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_take_round_steps() {
        use Axis::*;
        // Counts: whole steps of 1, 2, 5 × 10ⁿ; one conversation is 0–1, never 0, 0.25, ….
        assert_eq!(axis_ticks(1.0, Count), (1.0, 1.0));
        assert_eq!(axis_ticks(2.0, Count), (2.0, 1.0));
        assert_eq!(axis_ticks(7.0, Count), (8.0, 2.0));
        assert_eq!(axis_ticks(430.0, Count), (500.0, 100.0));
        assert_eq!(axis_ticks(0.0, Count), (1.0, 1.0));
        // Durations: 645 s → 0, 5, 10, 15 min; 9 h → 0, 2, …, 10 h; 50 s → 0, 15, …, 60 s.
        assert_eq!(axis_ticks(645.0, Seconds), (900.0, 300.0));
        assert_eq!(axis_ticks(9.0 * 3600.0, Seconds), (36_000.0, 7_200.0));
        assert_eq!(axis_ticks(50.0, Seconds), (60.0, 15.0));
        // Percentages: 0–100 in steps of 20; 85 → 0–100 as well.
        assert_eq!(axis_ticks(100.0, Percent), (100.0, 20.0));
        assert_eq!(axis_ticks(85.0, Percent), (100.0, 20.0));
        assert_eq!(axis_ticks(12.0, Percent), (15.0, 5.0));
    }

    /// Values land on the 0–`top` scale (36 high, 4 padding: 100 % at y 4, 50 % at y 18),
    /// a gap breaks the line, every point has its hover.
    #[test]
    fn sparkline_scales_and_breaks_at_gaps() {
        let points = [
            (Some(100.0), "W1: 100 %".to_string()),
            (Some(50.0), "W2: 50 % (n=2)".to_string()),
            (None, "W3".to_string()),
            (Some(0.0), "W4: 0 %".to_string()),
        ];
        let svg = sparkline("Binnen doel", &points, 100.0, Some(50.0));
        // Slots of 38 wide: points at x 23, 61 and 137.
        assert!(svg.contains("<circle cx=\"23\" cy=\"4\""), "{svg}");
        assert!(svg.contains("<circle cx=\"61\" cy=\"18\""), "{svg}");
        assert!(svg.contains("<circle cx=\"137\" cy=\"32\""), "{svg}");
        assert!(svg.contains("<polyline points=\"23,4 61,18\""), "{svg}");
        assert_eq!(
            svg.matches("<polyline").count(),
            1,
            "a lone point draws no line"
        );
        assert!(svg.contains("<title>W2: 50 % (n=2)</title>"));
        assert!(svg.contains("y1=\"18\" x2=\"156\" y2=\"18\" class=\"target\""));
    }

    #[test]
    fn empty_charts_say_so() {
        let zero = [Bar {
            label: "ma".into(),
            value: 0.0,
            tooltip: "0".into(),
        }];
        let count = |v: f64| format!("{v}");
        let axis = ValueAxis {
            kind: Axis::Count,
            title: "gesprekken",
            format: &count,
        };
        let svg = bar_chart("Volume", &zero, &axis, "geen gegevens");
        assert!(svg.contains(">geen gegevens</text>"), "{svg}");
        assert!(!svg.contains("class=\"bar\""));
        let none = [Series {
            name: "Anna",
            values: vec![None],
            tips: vec!["ma".into()],
            class: "line",
        }];
        let svg = line_chart(
            "CSAT",
            &["ma".to_string()],
            &none,
            Some((85.0, "norm")),
            &axis,
            "geen gegevens",
        );
        assert!(svg.contains(">geen gegevens</text>"));
    }

    /// Two lines on one axis: the axis title, a legend with both names, every point's own
    /// hover (with its n), and the axis from the higher line (600 s → 0–10 min in steps of 5).
    #[test]
    fn two_lines_share_an_axis_with_title_legend_and_hovers() {
        let minutes = |v: f64| format!("{}m", v / 60.0);
        let axis = ValueAxis {
            kind: Axis::Seconds,
            title: "mediaan (open uren)",
            format: &minutes,
        };
        let labels = ["W10".to_string(), "W11".to_string()];
        let series = [
            Series {
                name: "Anna",
                values: vec![Some(120.0), Some(600.0)],
                tips: vec!["W10: 2m (n = 3)".into(), "W11: 10m (n = 1)".into()],
                class: "line",
            },
            Series {
                name: "Team",
                values: vec![Some(300.0), None],
                tips: vec!["W10: 5m (n = 9)".into(), "W11".into()],
                class: "line alt",
            },
        ];
        let svg = line_chart("Eerste reactie", &labels, &series, None, &axis, "leeg");
        assert!(svg.contains(">mediaan (open uren)</text>"), "{svg}");
        assert!(svg.contains(">Anna</text>") && svg.contains(">Team</text>"));
        assert!(svg.contains("<title>W11: 10m (n = 1)</title>"));
        assert!(svg.contains("<title>W10: 5m (n = 9)</title>"));
        // Ticks 0, 5 and 10 min, the top one at the plot's top (y 22).
        assert!(
            svg.contains("y=\"26\" text-anchor=\"end\">10m</text>"),
            "{svg}"
        );
        assert!(!svg.contains(">15m</text>"), "{svg}");
        // Anna's two points make a line; the team's single point does not.
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert_eq!(svg.matches("class=\"dot alt\"").count(), 1);
    }

    #[test]
    fn bars_are_scaled_to_the_axis_and_text_is_escaped() {
        let bars = vec![
            Bar {
                label: "ma".into(),
                value: 5.0,
                tooltip: "<5>".into(),
            },
            Bar {
                label: "di".into(),
                value: 10.0,
                tooltip: "10".into(),
            },
        ];
        let count = |v: f64| format!("{v}");
        let axis = ValueAxis {
            kind: Axis::Count,
            title: "gesprekken",
            format: &count,
        };
        let svg = bar_chart("Volume & <b>", &bars, &axis, "–");
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(svg.ends_with("</svg>"));
        assert!(svg.contains("<title>Volume &amp; &lt;b&gt;</title>"));
        assert!(svg.contains("<title>&lt;5&gt;</title>"));
        // Plot height 156: the bar of 10 (the axis maximum) is full height, 5 half of it.
        assert!(svg.contains("height=\"156\" class=\"bar\""), "{svg}");
        assert!(svg.contains("height=\"78\" class=\"bar\""), "{svg}");
        assert!(svg.contains(">gesprekken</text>"), "the axis has its title");
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
    }

    #[test]
    fn lines_break_where_values_are_missing() {
        let values = vec![Some(1.0), Some(2.0), None, Some(3.0), Some(4.0)];
        let labels: Vec<String> = (0..values.len()).map(|i| format!("d{i}")).collect();
        let tips = labels.clone();
        let series = [Series {
            name: "trend",
            values,
            tips,
            class: "line",
        }];
        let count = |v: f64| format!("{v}");
        let axis = ValueAxis {
            kind: Axis::Count,
            title: "n",
            format: &count,
        };
        let svg = line_chart("trend", &labels, &series, Some((2.5, "norm")), &axis, "–");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(
            svg.contains(">norm 2.5</text>"),
            "the target line has a legend"
        );
        assert_eq!(svg.matches("class=\"dot\"").count(), 4);
        assert_eq!(svg.matches("class=\"target\"").count(), 1);
    }

    #[test]
    fn heatmap_has_a_cell_per_hour_and_outlines_open_hours() {
        let mut counts = [[0u64; 24]; 7];
        counts[0][9] = 4;
        let mut open = [[false; 24]; 7];
        open[0][9] = true;
        open[0][10] = true;
        let svg = heatmap(
            "arrivals",
            &counts,
            &open,
            &["ma", "di", "wo", "do", "vr", "za", "zo"],
        );
        assert_eq!(svg.matches("class=\"cell\"").count(), 168);
        assert_eq!(svg.matches("class=\"openmark\"").count(), 2);
        assert!(svg.contains("style=\"fill:hsl(217,60%,30%)\"><title>ma 09:00 4</title>"));
    }
}
