//! `servicemeter report --format pdf|html|xlsx --output FILE`: the documents hold the figures
//! of the same period's JSON report (the PDF read back with poppler's `pdftotext`, the workbook
//! with a reader crate).

use std::process::Command;

use serde_json::Value;

use crate::common::{Workspace, fixture};

/// A fifth conversation beside the fixture's four: e-mail on Thursday 7 March, answered by
/// Anna after 30 minutes (1 800 business seconds), resolved, and an unhappy CSAT 2 of 5 with a
/// comment and a reason.
const UNHAPPY: &str = r#"{"type":"conversation","id":"c5","channel":"email","created_at":"2024-03-07T10:00:00+01:00","customer":"klant5","messages":[{"at":"2024-03-07T10:00:00+01:00","author":"customer","text":"Waar blijft het?"},{"at":"2024-03-07T10:30:00+01:00","author":"agent","agent":"Anna","text":"Sorry, morgen."}],"events":[{"at":"2024-03-07T11:00:00+01:00","event":"resolved"}],"surveys":[{"at":"2024-03-07T12:00:00+01:00","kind":"csat","score":2,"comment":"Te laat geleverd, geen bericht","reasons":["levertijd"]}]}
"#;

fn pdf_text(path: &std::path::Path) -> String {
    let out = Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian's poppler-utils) is installed by scripts/test");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn pdf_html_and_xlsx_documents_hold_the_json_reports_figures() {
    let ws = Workspace::with_config(&fixture("config.toml"));
    ws.ok(&["import", &fixture("nested.jsonl")]);
    let extra = ws.write("c5.jsonl", UNHAPPY);
    ws.ok(&["import", extra.to_str().unwrap()]);
    let period = ["--from", "2024-03-04", "--to", "2024-03-10"];
    let json: Value = {
        let mut args = vec!["report", "--format", "json"];
        args.extend(period);
        ws.json(&args)
    };
    // By hand: five conversations; first responses (business seconds) c1 1 200 (08:30 before
    // opening at 09:00, answered 09:20), c2 90, c5 1 800 → median 1 200 = "20m 00s"; CSAT 5,
    // 4 and 2 → 2 of 3 satisfied = 66.7 %, under the default target of 85 %.
    assert_eq!(json["conversations"], 5);
    assert_eq!(json["first_response"]["median_business_seconds"], 1200.0);
    assert!((json["csat"]["satisfied_pct"].as_f64().unwrap() - 200.0 / 3.0).abs() < 1e-9);
    assert_eq!(json["targets"]["csat_pct"]["target"], 85.0);

    let pdf = ws.dir.path().join("maart.pdf");
    let mut args = vec![
        "report",
        "--format",
        "pdf",
        "--output",
        pdf.to_str().unwrap(),
    ];
    args.extend(period);
    ws.ok(&args);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    let text = pdf_text(&pdf);
    for expected in [
        "Rapport default",
        "4–10 mrt 2024",
        "Wat aandacht nodig heeft",
        // The CSAT target missed, with its numbers, in the attention list.
        "Klanttevredenheid (CSAT): 66,7% (norm 85,0%)",
        "Kerncijfers",
        "20m 00s",
        "66,7% (3)",
        "85,0% gemist",
        // The channels and agents tables, and the comment with its score, day and conversation.
        "Kanalen",
        "Medewerkers",
        "Anna",
        "Te laat geleverd, geen bericht",
        "Klanttevredenheid (CSAT) 2 / 5 · 7 mrt 2024 · e-mail · c5 · levertijd",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks {expected:?}:\n{text}"
        );
    }
    // Every figure of the JSON report the document lists, as the document writes it.
    let fr = json["first_response"]["within_target_pct"]
        .as_f64()
        .unwrap();
    assert!(
        text.contains(&format!("{fr:.1}%").replace('.', ",")),
        "{text}"
    );
    let resolved = json["resolution"]["resolution_rate_pct"].as_f64().unwrap();
    assert!(
        text.contains(&format!("{resolved:.1}%").replace('.', ",")),
        "{text}"
    );

    // The same document in English as HTML: the figures, the charts inline, no remote images.
    let html = ws.dir.path().join("march.html");
    let mut args = vec![
        "report",
        "--format",
        "html",
        "--lang",
        "en",
        "--output",
        html.to_str().unwrap(),
    ];
    args.extend(period);
    ws.ok(&args);
    let page = std::fs::read_to_string(&html).unwrap();
    for expected in [
        "<html lang=\"en\">",
        "What needs attention",
        "Customer satisfaction (CSAT): 66.7% (target 85.0%)",
        "20m 00s",
        "Te laat geleverd, geen bericht",
    ] {
        assert!(page.contains(expected), "the HTML lacks {expected:?}");
    }
    assert_eq!(page.matches("<svg").count(), 3, "three charts");
    assert!(!page.contains("src=\"http"), "no remote images");

    // The workbook read back equals the CSV of the same report.
    let xlsx = ws.dir.path().join("maart.xlsx");
    let mut args = vec![
        "report",
        "--format",
        "xlsx",
        "--by",
        "channel,tag",
        "--output",
        xlsx.to_str().unwrap(),
    ];
    args.extend(period);
    ws.ok(&args);
    let mut args = vec!["report", "--format", "csv", "--by", "channel,tag"];
    args.extend(period);
    let csv_text = ws.ok(&args);
    let csv_rows: Vec<Vec<String>> = csv::Reader::from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let range = book.worksheet_range("report").unwrap();
    let width = range.width();
    let read: Vec<Vec<String>> = range
        .rows()
        .skip(1)
        .map(|row| {
            let mut cells: Vec<String> = row
                .iter()
                .map(|cell| match cell {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) => format!("{f}"),
                    other => panic!("unexpected cell {other:?}"),
                })
                .collect();
            cells.resize(width, String::new());
            cells
        })
        .collect();
    // Total, previous, 3 channels, 2 tags and the untagged.
    assert_eq!(csv_rows.len(), 8, "{csv_rows:?}");
    assert_eq!(read, csv_rows);
}

#[test]
fn document_formats_need_an_output_file_and_a_known_language() {
    let ws = Workspace::with_config(&fixture("config.toml"));
    ws.ok(&["import", &fixture("nested.jsonl")]);
    let out = ws.run(&["report", "--format", "pdf"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("give --output FILE"), "{said}");
    let out = ws.run(&[
        "report", "--format", "pdf", "--output", "r.pdf", "--lang", "de",
    ]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("--lang de: use nl or en"), "{said}");
    assert!(!ws.dir.path().join("r.pdf").exists());
    // A directory that does not exist: an error naming the file, and nothing left behind.
    let out = ws.run(&["report", "--format", "pdf", "--output", "missing/r.pdf"]);
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("cannot write missing/"), "{said}");
}
