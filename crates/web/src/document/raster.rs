//! The dashboard's SVG charts as PNG pictures for e-mail (mail clients show no SVG and no
//! remote images) and as parsed trees for the PDF, with the fonts the binary carries (DejaVu
//! Sans), so that a chart reads the same on every machine whatever fonts it has installed.

use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::RenderError;

/// The family the charts' text is drawn in.
pub const FONT_FAMILY: &str = "DejaVu Sans";

/// Regular DejaVu Sans, as the binary carries it.
pub fn regular_font() -> &'static [u8] {
    dejavu::sans::regular()
}

/// Bold DejaVu Sans.
pub fn bold_font() -> &'static [u8] {
    dejavu::sans::bold()
}

fn fonts() -> Arc<usvg::fontdb::Database> {
    static FONTS: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let mut db = usvg::fontdb::Database::new();
            db.load_font_data(regular_font().to_vec());
            db.load_font_data(bold_font().to_vec());
            db.set_sans_serif_family(FONT_FAMILY);
            Arc::new(db)
        })
        .clone()
}

/// A chart's SVG parsed, its text laid out in the carried fonts. `name` says which chart in
/// an error.
pub fn tree(name: &str, svg: &str) -> Result<usvg::Tree, RenderError> {
    let options = usvg::Options {
        fontdb: fonts(),
        font_family: FONT_FAMILY.to_string(),
        ..usvg::Options::default()
    };
    // The page's charts scale to their container (width="100%"); here the viewBox decides.
    let svg = svg.replacen(" width=\"100%\"", "", 1);
    usvg::Tree::from_str(&svg, &options).map_err(|e| RenderError::Svg(name.into(), e.to_string()))
}

/// A chart as a PNG `width` pixels wide (the height keeps its proportions).
pub fn png(name: &str, svg: &str, width: u32) -> Result<Vec<u8>, RenderError> {
    let tree = tree(name, svg)?;
    let size = tree.size();
    let scale = width as f32 / size.width();
    let height = (size.height() * scale).ceil().max(1.0) as u32;
    let mut pixmap =
        tiny_skia::Pixmap::new(width, height).ok_or_else(|| RenderError::Raster(name.into()))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap
        .encode_png()
        .map_err(|_| RenderError::Raster(name.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_becomes_a_png_of_the_asked_width_with_its_text_drawn() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 200 100\" width=\"100%\">\
                   <style>text{font:11px system-ui,sans-serif;fill:#000}.bar{fill:#2456a6}</style>\
                   <rect x=\"10\" y=\"10\" width=\"50\" height=\"80\" class=\"bar\"/>\
                   <text x=\"100\" y=\"50\">Gesprekken</text></svg>";
        let bytes = png("test", svg, 600).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        let picture = tiny_skia::Pixmap::decode_png(&bytes).unwrap();
        assert_eq!((picture.width(), picture.height()), (600, 300));
        // The bar (scaled ×3: x 30–180, y 30–270) is drawn in its class's colour.
        let at = |x: u32, y: u32| picture.pixel(x, y).unwrap();
        let bar = at(100, 150);
        assert_eq!((bar.red(), bar.green(), bar.blue()), (0x24, 0x56, 0xa6));
        // The text is drawn: dark pixels right of x = 300 on its line (y ≈ 150).
        let dark = (300..600)
            .flat_map(|x| (120..160).map(move |y| (x, y)))
            .filter(|&(x, y)| at(x, y).red() < 100)
            .count();
        assert!(dark > 50, "{dark} dark pixels: the label was not drawn");
        // Outside the bar and the text: white.
        assert_eq!(at(5, 5).red(), 255);
    }

    #[test]
    fn broken_svg_is_named() {
        let e = png("volume", "<svg", 100).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("chart volume is not drawable SVG"),
            "{e}"
        );
    }
}
