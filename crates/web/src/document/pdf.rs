//! The report as a PDF, written in-process (krilla; no browser): A4 pages with the same
//! sections as the e-mail, the charts as vector graphics from the dashboard's SVG, text in the
//! DejaVu Sans the binary carries (so every glyph of Dutch and English text is there), cells
//! that wrap rather than cut, and a footer with the title and the page number.

use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::Metadata;
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, FillRule, Stroke};
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};
use krilla_svg::{SurfaceExt, SvgSettings};

use super::{Document, RenderError, raster};
use crate::table::DataTable;

const PAGE_W: f32 = 595.28;
const PAGE_H: f32 = 841.89;
const MARGIN: f32 = 42.0;
const WIDTH: f32 = PAGE_W - 2.0 * MARGIN;
/// Where the content of a page ends (the footer is below).
const BOTTOM: f32 = PAGE_H - MARGIN - 14.0;

const INK: (u8, u8, u8) = (0x1d, 0x27, 0x33);
const MUTED: (u8, u8, u8) = (0x5d, 0x68, 0x78);
const GREEN: (u8, u8, u8) = (0x1f, 0x7a, 0x3d);
const RED: (u8, u8, u8) = (0xb3, 0x26, 0x1e);
const RULE: (u8, u8, u8) = (0xe3, 0xe7, 0xec);

/// A face to draw with and to measure with.
struct Face {
    font: Font,
    metrics: ttf_parser::Face<'static>,
}

impl Face {
    fn load(bytes: &'static [u8]) -> Result<Face, RenderError> {
        let font = Font::new(bytes.into(), 0)
            .ok_or_else(|| RenderError::Pdf("the carried font cannot be read".into()))?;
        let metrics = ttf_parser::Face::parse(bytes, 0)
            .map_err(|e| RenderError::Pdf(format!("the carried font cannot be read: {e}")))?;
        Ok(Face { font, metrics })
    }

    /// The width of `text` at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let per_em = f32::from(self.metrics.units_per_em());
        let units: u32 = text
            .chars()
            .map(|c| {
                self.metrics
                    .glyph_index(c)
                    .and_then(|g| self.metrics.glyph_hor_advance(g))
                    .map_or(u32::from(self.metrics.units_per_em()) / 2, u32::from)
            })
            .sum();
        units as f32 * size / per_em
    }

    /// `text` broken into lines no wider than `width` (at spaces; a word longer than a line is
    /// broken where it must be).
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split(' ') {
                let candidate = if line.is_empty() {
                    word.to_string()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                // A word wider than the line: as many characters per line as fit.
                let mut rest = word.to_string();
                while self.width(&rest, size) > width && rest.chars().count() > 1 {
                    let mut cut = String::new();
                    for c in rest.chars() {
                        if self.width(&format!("{cut}{c}"), size) > width && !cut.is_empty() {
                            break;
                        }
                        cut.push(c);
                    }
                    rest = rest[cut.len()..].to_string();
                    lines.push(cut);
                }
                line = rest;
            }
            lines.push(line);
        }
        lines
    }
}

fn fill(color: (u8, u8, u8)) -> Fill {
    Fill {
        paint: rgb::Color::new(color.0, color.1, color.2).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// Writes pages, moving down and starting a new page when one is full.
struct Writer<'d> {
    pages: Vec<Vec<Op>>,
    y: f32,
    regular: &'d Face,
    bold: &'d Face,
}

/// What is drawn on a page, kept until the page count is known (for the footer).
enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        color: (u8, u8, u8),
        text: String,
    },
    Line {
        x1: f32,
        x2: f32,
        y: f32,
        color: (u8, u8, u8),
        width: f32,
    },
    Bar {
        rect: (f32, f32, f32, f32),
        color: (u8, u8, u8),
    },
    Chart {
        index: usize,
        x: f32,
        y: f32,
        w: f32,
        h: f32,
    },
}

impl<'d> Writer<'d> {
    fn face(&self, bold: bool) -> &'d Face {
        if bold { self.bold } else { self.regular }
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Makes room for `height` points, on a new page if this one has too little left.
    fn room(&mut self, height: f32) {
        if self.y + height > BOTTOM && self.y > MARGIN {
            self.new_page();
        }
    }

    fn op(&mut self, op: Op) {
        self.pages.last_mut().expect("a page").push(op);
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, bold: bool, color: (u8, u8, u8), text: &str) {
        if !text.is_empty() {
            self.op(Op::Text {
                x,
                y,
                size,
                bold,
                color,
                text: text.to_string(),
            });
        }
    }

    /// A wrapped paragraph at `indent`.
    fn paragraph(&mut self, text: &str, size: f32, bold: bool, color: (u8, u8, u8), indent: f32) {
        let lead = size * 1.35;
        for line in self.face(bold).wrap(text, size, WIDTH - indent) {
            self.room(lead);
            self.y += lead;
            self.text_at(
                MARGIN + indent,
                self.y - size * 0.3,
                size,
                bold,
                color,
                &line,
            );
        }
    }

    fn heading(&mut self, text: &str) {
        self.heading_before(text, 40.0);
    }

    /// A heading kept on one page with the `next` points that follow it.
    fn heading_before(&mut self, text: &str, next: f32) {
        self.room(34.0 + next);
        self.y += 14.0;
        self.paragraph(text, 13.0, true, INK, 0.0);
        self.y += 4.0;
    }

    /// The widths of a table's columns: each at least its longest word (so that words are not
    /// broken while the table fits), the room left shared by how much more each needs to show
    /// its cells on one line; `weights` favour columns (flags) when room is short.
    fn column_widths(
        &self,
        headers: &[String],
        rows: &[Vec<String>],
        right: &[bool],
        size: f32,
        pad: f32,
    ) -> Vec<f32> {
        let n = headers.len();
        let mut least = vec![0f32; n];
        let mut most = vec![0f32; n];
        // A header may wrap at its spaces; a number never wraps.
        for (i, h) in headers.iter().enumerate() {
            for word in h.split(' ') {
                least[i] = least[i].max(self.bold.width(word, size));
            }
        }
        for row in rows {
            for (i, text) in row.iter().enumerate().take(n) {
                for line in text.split('\n') {
                    let whole = self.regular.width(line, size);
                    most[i] = most[i].max(whole);
                    if right.get(i).copied().unwrap_or(false) {
                        least[i] = least[i].max(whole);
                    }
                    for word in line.split(' ') {
                        least[i] = least[i].max(self.regular.width(word, size));
                    }
                }
            }
        }
        let most: Vec<f32> = most.iter().zip(&least).map(|(m, l)| m.max(*l)).collect();
        let least: Vec<f32> = least.iter().map(|w| w + 2.0 * pad).collect();
        let most: Vec<f32> = most.iter().map(|w| w + 2.0 * pad).collect();
        let (sum_least, sum_most): (f32, f32) = (least.iter().sum(), most.iter().sum());
        if sum_least >= WIDTH {
            return least.iter().map(|w| w / sum_least * WIDTH).collect();
        }
        if sum_most <= WIDTH {
            let extra = (WIDTH - sum_most) / n as f32;
            return most.iter().map(|w| w + extra).collect();
        }
        let room = WIDTH - sum_least;
        let wants: f32 = sum_most - sum_least;
        least
            .iter()
            .zip(&most)
            .map(|(l, m)| l + (m - l) / wants * room)
            .collect()
    }

    /// A table whose cells wrap within their columns; `right[i]` aligns a column to the right.
    fn table(&mut self, headers: &[String], rows: &[Vec<String>], right: &[bool], size: f32) {
        let pad = 3.0;
        let cols = self.column_widths(headers, rows, right, size, pad);
        let lead = size * 1.3;
        let draw_row = |w: &mut Writer, cells: &[String], bold: bool, color: (u8, u8, u8)| {
            let wrapped: Vec<Vec<String>> = cells
                .iter()
                .zip(&cols)
                .map(|(c, width)| w.face(bold).wrap(c, size, width - 2.0 * pad))
                .collect();
            let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1).max(1);
            let height = lines as f32 * lead + 2.0 * pad;
            w.room(height);
            let top = w.y;
            let mut x = MARGIN;
            for (i, cell_lines) in wrapped.iter().enumerate() {
                let width = cols[i];
                for (k, line) in cell_lines.iter().enumerate() {
                    let baseline = top + pad + (k as f32 + 1.0) * lead - size * 0.3;
                    let tx = if right.get(i).copied().unwrap_or(false) {
                        x + width - pad - w.face(bold).width(line, size)
                    } else {
                        x + pad
                    };
                    w.text_at(tx, baseline, size, bold, color, line);
                }
                x += width;
            }
            w.y = top + height;
            w.op(Op::Line {
                x1: MARGIN,
                x2: MARGIN + WIDTH,
                y: w.y,
                color: RULE,
                width: 0.6,
            });
        };
        // The header and the first row stay together.
        self.room(3.0 * lead + 4.0 * pad);
        draw_row(self, headers, true, MUTED);
        for row in rows {
            draw_row(self, row, false, INK);
        }
    }

    fn data_table(&mut self, table: &DataTable) {
        let n = table.headers.len().max(1);
        let right: Vec<bool> = (0..n)
            .map(|i| {
                table
                    .rows
                    .iter()
                    .any(|r| r.cells.get(i).is_some_and(|c| c.num))
            })
            .collect();
        let rows: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|r| {
                r.cells
                    .iter()
                    .map(|c| {
                        let mut text = c.text.clone();
                        for f in &c.flags {
                            if !text.is_empty() {
                                text.push('\n');
                            }
                            text.push_str(f);
                        }
                        text
                    })
                    .collect()
            })
            .collect();
        let headers: Vec<String> = table
            .headers
            .iter()
            .map(|h| super::capitalised(h))
            .collect();
        self.table(&headers, &rows, &right, 7.5);
    }
}

/// The report as PDF bytes.
pub fn pdf(doc: &Document) -> Result<Vec<u8>, RenderError> {
    let t = doc.lang.texts();
    let regular = Face::load(raster::regular_font())?;
    let bold = Face::load(raster::bold_font())?;
    let charts: Vec<resvg::usvg::Tree> = doc
        .charts
        .iter()
        .map(|c| raster::tree(&c.caption, &c.svg))
        .collect::<Result<_, _>>()?;
    let mut w = Writer {
        pages: Vec::new(),
        y: MARGIN,
        regular: &regular,
        bold: &bold,
    };
    w.new_page();

    if let Some(agency) = &doc.agency {
        w.paragraph(
            &format!("{} {agency}", t.report_prepared_by),
            9.0,
            false,
            MUTED,
            0.0,
        );
    }
    w.paragraph(&doc.title, 20.0, true, INK, 0.0);
    w.paragraph(&doc.period, 12.0, false, INK, 0.0);
    if !doc.compared.is_empty() {
        w.paragraph(&doc.compared, 9.5, false, MUTED, 0.0);
    }

    w.heading(t.report_attention);
    if doc.attention.is_empty() {
        w.paragraph(t.report_attention_none, 10.0, false, GREEN, 0.0);
    }
    for a in &doc.attention {
        // The item's first line on the page its bullet is on.
        w.room(13.5);
        let before = w.y;
        w.paragraph(a, 10.0, false, INK, 12.0);
        w.op(Op::Bar {
            rect: (MARGIN + 3.0, before + 6.5, 3.5, 3.5),
            color: RED,
        });
    }

    w.heading(t.report_figures);
    let headers: Vec<String> = [t.figure, t.value, t.report_status, t.previous, t.change]
        .map(String::from)
        .to_vec();
    let rows: Vec<Vec<String>> = doc
        .figures
        .iter()
        .map(|f| {
            let target = match (f.target.is_empty(), f.status_text.is_empty()) {
                (true, _) => String::new(),
                (false, true) => f.target.clone(),
                (false, false) => format!("{} {}", f.target, f.status_text),
            };
            vec![
                super::capitalised(f.label),
                f.value.clone(),
                target,
                f.previous.clone(),
                f.change.clone(),
            ]
        })
        .collect();
    w.table(&headers, &rows, &[false, true, true, true, true], 9.5);

    // The charts two by two, at about two thirds of their drawn size.
    let gap = 14.0;
    let width = (WIDTH - gap) / 2.0;
    let height_of = |tree: &resvg::usvg::Tree| width * tree.size().height() / tree.size().width();
    let first_row = charts.iter().take(2).map(height_of).fold(0.0, f32::max);
    w.heading_before(t.report_charts, first_row + 20.0);
    for (pair, trees) in charts.chunks(2).enumerate() {
        let height = trees.iter().map(height_of).fold(0.0, f32::max);
        w.room(height + 20.0);
        let top = w.y;
        for (k, tree) in trees.iter().enumerate() {
            let index = pair * 2 + k;
            let x = MARGIN + k as f32 * (width + gap);
            let caption = &doc.charts[index].caption;
            w.text_at(x, top + 10.0, 8.5, true, INK, caption);
            w.op(Op::Chart {
                index,
                x,
                y: top + 16.0,
                w: width,
                h: width * tree.size().height() / tree.size().width(),
            });
        }
        w.y = top + 16.0 + height + 8.0;
    }

    for section in &doc.sections {
        w.heading(&section.caption);
        w.data_table(&section.table);
    }

    w.heading(t.report_highlights);
    if doc.quotes.is_empty() {
        w.paragraph(t.report_highlights_none, 10.0, false, MUTED, 0.0);
    }
    for q in &doc.quotes {
        w.room(40.0);
        let top = w.y;
        w.paragraph(&format!("“{}”", q.comment), 10.0, false, INK, 10.0);
        let mut about = q.about.clone();
        if !q.reasons.is_empty() {
            about.push_str(&format!(" · {}", q.reasons));
        }
        w.paragraph(&about, 8.0, false, MUTED, 10.0);
        if w.y > top {
            w.op(Op::Bar {
                rect: (MARGIN + 2.0, top + 3.0, 2.0, w.y - top - 2.0),
                color: RED,
            });
        }
        w.y += 6.0;
    }
    w.y += 12.0;
    w.paragraph(
        &format!("{} · {} {}", t.report_footer, t.report_made, doc.made),
        8.0,
        false,
        MUTED,
        0.0,
    );

    // Now that the pages are known: draw them, each with its footer.
    let mut pdf = krilla::Document::new();
    pdf.set_metadata(
        Metadata::new()
            .title(doc.title.clone())
            .language(doc.lang.code().to_string())
            .creator("servicemeter".to_string()),
    );
    let count = w.pages.len();
    let size = Size::from_wh(PAGE_W, PAGE_H).expect("A4");
    for (number, ops) in w.pages.iter().enumerate() {
        let mut page = pdf.start_page_with(PageSettings::new(size));
        let mut surface = page.surface();
        for op in ops {
            draw(&mut surface, op, &regular, &bold, &charts);
        }
        let footer = format!("{} · {}", doc.title, doc.period);
        let y = PAGE_H - MARGIN + 6.0;
        draw(
            &mut surface,
            &Op::Text {
                x: MARGIN,
                y,
                size: 7.5,
                bold: false,
                color: MUTED,
                text: footer,
            },
            &regular,
            &bold,
            &charts,
        );
        let numbered = format!("{} / {count}", number + 1);
        draw(
            &mut surface,
            &Op::Text {
                x: PAGE_W - MARGIN - regular.width(&numbered, 7.5),
                y,
                size: 7.5,
                bold: false,
                color: MUTED,
                text: numbered,
            },
            &regular,
            &bold,
            &charts,
        );
        surface.finish();
        page.finish();
    }
    pdf.finish().map_err(|e| RenderError::Pdf(format!("{e:?}")))
}

fn draw(surface: &mut Surface, op: &Op, regular: &Face, bold: &Face, charts: &[resvg::usvg::Tree]) {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold: is_bold,
            color,
            text,
        } => {
            let face = if *is_bold { bold } else { regular };
            surface.set_fill(Some(fill(*color)));
            surface.set_stroke(None);
            surface.draw_text(
                Point::from_xy(*x, *y),
                face.font.clone(),
                *size,
                text,
                false,
                TextDirection::Auto,
            );
        }
        Op::Line {
            x1,
            x2,
            y,
            color,
            width,
        } => {
            let mut path = PathBuilder::new();
            path.move_to(*x1, *y);
            path.line_to(*x2, *y);
            if let Some(path) = path.finish() {
                surface.set_fill(None);
                surface.set_stroke(Some(Stroke {
                    paint: rgb::Color::new(color.0, color.1, color.2).into(),
                    width: *width,
                    ..Stroke::default()
                }));
                surface.draw_path(&path);
                surface.set_stroke(None);
            }
        }
        Op::Bar { rect, color } => {
            if let Some(r) = Rect::from_xywh(rect.0, rect.1, rect.2, rect.3) {
                let mut path = PathBuilder::new();
                path.push_rect(r);
                if let Some(path) = path.finish() {
                    surface.set_stroke(None);
                    surface.set_fill(Some(fill(*color)));
                    surface.draw_path(&path);
                }
            }
        }
        Op::Chart { index, x, y, w, h } => {
            if let (Some(tree), Some(size)) = (charts.get(*index), Size::from_wh(*w, *h)) {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_svg(tree, size, SvgSettings::default());
                surface.pop();
            }
        }
    }
}
