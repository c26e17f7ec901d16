//! Tables as the pages show them and as their CSV downloads give them: one model, so that a
//! download holds the same rows and figures as the screen. CSV that opens in Dutch Excel: a `;`
//! separator and a UTF-8 byte-order mark by default for Dutch readers (numbers already carry a
//! decimal comma there), `,` for English; both can be chosen.

use crate::error::WebError;
use crate::i18n::Lang;

/// A cell: its text as shown, an optional link, whether it holds a number (right-aligned), and
/// flags (agents' coaching notes, shown with a marker).
#[derive(Debug, Clone, Default)]
pub struct Cell {
    pub text: String,
    pub href: String,
    pub num: bool,
    pub flags: Vec<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            ..Cell::default()
        }
    }

    pub fn num(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            num: true,
            ..Cell::default()
        }
    }

    pub fn link(text: impl Into<String>, href: String) -> Cell {
        Cell {
            text: text.into(),
            href,
            ..Cell::default()
        }
    }

    /// The text written to a CSV cell: a number without its thousands separators (so that a
    /// spreadsheet reads it as a number), flags after the text.
    fn csv(&self) -> String {
        let mut text = if self.num {
            self.text.replace('\u{202f}', "")
        } else {
            self.text.clone()
        };
        for f in &self.flags {
            if !text.is_empty() {
                text.push_str(" | ");
            }
            text.push_str(f);
        }
        text
    }
}

/// A row and its class (`team`, `flagged`, `met`, …).
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub class: String,
    pub cells: Vec<Cell>,
}

/// A table: its element id, column headers, rows, and where its CSV is downloaded.
#[derive(Debug, Clone, Default)]
pub struct DataTable {
    pub id: &'static str,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
    /// The download link (empty: no download).
    pub csv_href: String,
}

/// How a CSV file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    pub separator: u8,
    pub bom: bool,
}

impl CsvOptions {
    /// From `sep` (`semicolon` or `comma`) and `bom` (`1` or `0`); the defaults follow the
    /// reader's language: `;` for Dutch, `,` for English, with a byte-order mark for both.
    pub fn parse(sep: Option<&str>, bom: Option<&str>, lang: Lang) -> Result<CsvOptions, WebError> {
        let separator = match sep.map(str::trim).filter(|s| !s.is_empty()) {
            None => match lang {
                Lang::Nl => b';',
                Lang::En => b',',
            },
            Some("semicolon" | ";") => b';',
            Some("comma" | ",") => b',',
            Some(other) => {
                return Err(WebError::BadRequest(format!(
                    "sep: '{other}' is not one of semicolon, comma"
                )));
            }
        };
        let bom = match bom.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("1") => true,
            Some("0") => false,
            Some(other) => {
                return Err(WebError::BadRequest(format!(
                    "bom: '{other}' is not 1 or 0"
                )));
            }
        };
        Ok(CsvOptions { separator, bom })
    }
}

impl DataTable {
    /// The table as CSV: the headers, then one line per row, cells as shown.
    pub fn to_csv(&self, options: CsvOptions) -> Vec<u8> {
        let mut out = Vec::new();
        if options.bom {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        {
            let mut w = csv::WriterBuilder::new()
                .delimiter(options.separator)
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut out);
            w.write_record(&self.headers).expect("writing to memory");
            for row in &self.rows {
                w.write_record(row.cells.iter().map(Cell::csv))
                    .expect("writing to memory");
            }
            w.flush().expect("writing to memory");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_for_dutch_excel() {
        let table = DataTable {
            id: "t",
            headers: vec!["Kanaal".into(), "Gesprekken".into(), "Opgelost".into()],
            rows: vec![Row {
                class: String::new(),
                cells: vec![
                    Cell::text("e-mail; web"),
                    Cell::num("1\u{202f}234"),
                    Cell::num("85,3%"),
                ],
            }],
            csv_href: String::new(),
        };
        let nl = CsvOptions::parse(None, None, Lang::Nl).unwrap();
        assert_eq!(
            String::from_utf8(table.to_csv(nl)).unwrap(),
            "\u{feff}Kanaal;Gesprekken;Opgelost\r\n\"e-mail; web\";1234;85,3%\r\n"
        );
        let en = CsvOptions::parse(None, Some("0"), Lang::En).unwrap();
        assert_eq!(
            String::from_utf8(table.to_csv(en)).unwrap(),
            "Kanaal,Gesprekken,Opgelost\r\ne-mail; web,1234,\"85,3%\"\r\n"
        );
        assert!(CsvOptions::parse(Some("tab"), None, Lang::Nl).is_err());
    }
}
