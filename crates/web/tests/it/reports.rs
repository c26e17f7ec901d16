//! Scheduled reports end to end: the worker plans a daily report, renders it once and mails
//! it through a real SMTP server (aiosmtpd) to each recipient in their language — HTML with
//! the charts as inline PNG parts, the PDF, CSV and XLSX attached — never twice; the PDF read
//! back holds the figures of the same period's JSON report; one-click unsubscribe stops the
//! next day's copy.

use std::path::Path;
use std::sync::atomic::Ordering;

use serde_json::Value;
use servicemeter_store::jobs::{JobState, Jobs};
use servicemeter_store::reports::{DeliveryState, Reports};
use servicemeter_store::shares::Shares;
use servicemeter_store::{SavedView, Store};

use crate::common::{SHOP_A_CONFIG, fixed_now, spawn_app_with_offset};
use crate::surveys::SmtpServer;

const MINUTE: i64 = 60_000;

/// A daily report at 12:05 over the saved view "Deze week" (this week, as of the send).
const REPORTS: &str = r#"
[[reports]]
name = "dagelijks"
every = "day"
at = "12:05"
view = "Deze week"
attach = ["pdf", "xlsx", "csv"]
recipients = ["eigenaar@shop.nl", { email = "lead@shop.nl", language = "en" }]
"#;

/// Splits a raw message with Python's `email` package (the standard library): a JSON list of
/// its parts in order, each with its type, Content-ID, file name and decoded payload written
/// to `dir`; the top-level headers first.
const PARSE: &str = r#"
import email, json, sys, os
from email import policy
msg = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=policy.default)
out = {"headers": {k: str(v) for k, v in msg.items()}, "parts": []}
for i, part in enumerate(msg.walk()):
    entry = {"type": part.get_content_type(), "cid": part.get("Content-ID"),
             "filename": part.get_filename(), "file": None}
    if not part.is_multipart():
        path = os.path.join(sys.argv[2], "part-%d" % i)
        open(path, "wb").write(part.get_payload(decode=True))
        entry["file"] = path
    out["parts"].append(entry)
print(json.dumps(out))
"#;

struct Parsed {
    headers: Value,
    parts: Vec<Value>,
}

impl Parsed {
    fn of(raw: &str, dir: &Path) -> Parsed {
        let file = dir.join("message.eml");
        std::fs::write(&file, raw).unwrap();
        let out = std::process::Command::new("python3")
            .args(["-c", PARSE])
            .arg(&file)
            .arg(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        Parsed {
            headers: v["headers"].clone(),
            parts: v["parts"].as_array().unwrap().clone(),
        }
    }

    fn header(&self, name: &str) -> &str {
        self.headers[name].as_str().unwrap_or_default()
    }

    fn types(&self) -> Vec<&str> {
        self.parts
            .iter()
            .map(|p| p["type"].as_str().unwrap())
            .collect()
    }

    fn part(&self, kind: &str) -> &Value {
        self.parts
            .iter()
            .find(|p| p["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} part"))
    }

    fn bytes(&self, part: &Value) -> Vec<u8> {
        std::fs::read(part["file"].as_str().unwrap()).unwrap()
    }

    fn text(&self, kind: &str) -> String {
        String::from_utf8(self.bytes(self.part(kind))).unwrap()
    }
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

fn xlsx_rows(bytes: &[u8]) -> Vec<Vec<String>> {
    use calamine::{Data, Reader};
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let range = book.worksheet_range("report").unwrap();
    let width = range.width();
    range
        .rows()
        .map(|row| {
            let mut cells: Vec<String> = row
                .iter()
                .map(|c| match c {
                    Data::Empty => String::new(),
                    Data::String(s) => s.clone(),
                    Data::Float(f) => format!("{f}"),
                    other => panic!("unexpected cell {other:?}"),
                })
                .collect();
            cells.resize(width, String::new());
            cells
        })
        .collect()
}

/// Waits until the workspace's latest report planning pass has run at or after `since`
/// (test-clock ms).
async fn planned_after(app: &crate::common::TestApp, since: i64) {
    for _ in 0..400 {
        if let Some(job) = app
            .store
            .latest(app.shop_a.id, servicemeter_store::reports::REPORT_PLAN)
            .await
            .unwrap()
            && job.state == JobState::Done
            && job.finished_at.is_some_and(|at| at >= since)
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no report planning pass after {since}");
}

/// A server that sends through a real SMTP server (aiosmtpd) and runs its jobs every 100 ms,
/// with the clock moved on by the returned counter.
async fn mailing_app() -> (
    SmtpServer,
    crate::common::TestApp,
    std::sync::Arc<std::sync::atomic::AtomicI64>,
) {
    let smtp = SmtpServer::start().await;
    let settings = servicemeter_web::mail::SmtpSettings::parse(
        &format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
        "Servicedesk <rapport@shop.nl>",
    )
    .unwrap();
    let (app, offset) = spawn_app_with_offset(servicemeter_web::ServerConfig {
        smtp: Some(settings),
        public_url: Some("https://meter.example.nl".into()),
        jobs_interval: std::time::Duration::from_millis(100),
        ..servicemeter_web::ServerConfig::default()
    })
    .await;
    (smtp, app, offset)
}

/// Waits until no report is being sent (the planning passes keep coming back every minute).
async fn sends_settled(app: &crate::common::TestApp) {
    for _ in 0..400 {
        let jobs = app.store.jobs(app.shop_a.id, 100).await.unwrap();
        if jobs
            .iter()
            .filter(|j| j.kind == servicemeter_store::reports::REPORT_SEND)
            .all(|j| matches!(j.state, JobState::Done | JobState::Dead))
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("reports still being sent after 10 s");
}

#[tokio::test]
async fn a_daily_report_is_mailed_once_per_recipient_with_charts_and_attachments() {
    let (smtp, app, offset) = mailing_app().await;
    let start = fixed_now().as_millisecond();
    app.store
        .save_view(
            app.shop_a.id,
            &SavedView {
                name: "Deze week".into(),
                query: "preset=week".into(),
                created_by: "admin@shop.nl".into(),
                created_at: start,
            },
        )
        .await
        .unwrap();
    app.use_config(&format!("{SHOP_A_CONFIG}{REPORTS}")).await;
    // The first pass (Wednesday 12:00 in Amsterdam) starts the schedule: nothing is sent.
    planned_after(&app, start).await;
    assert!(
        app.store
            .deliveries(app.shop_a.id, None, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // 12:06: the next pass plans the 12:05 copies and sends them.
    offset.store(6 * MINUTE, Ordering::SeqCst);
    let raw = smtp.messages(2).await;
    let dir = tempfile::tempdir().unwrap();
    let mails: Vec<Parsed> = raw
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let d = dir.path().join(format!("m{i}"));
            std::fs::create_dir(&d).unwrap();
            Parsed::of(r, &d)
        })
        .collect();
    let to = |m: &Parsed| m.header("To").to_string();
    let dutch = mails
        .iter()
        .find(|m| to(m).contains("eigenaar@shop.nl"))
        .unwrap();
    let english = mails
        .iter()
        .find(|m| to(m).contains("lead@shop.nl"))
        .unwrap();

    // Headers: the sender, the subject with the period (this week until the send at 12:05),
    // one-click unsubscribe.
    assert_eq!(dutch.header("From"), "Servicedesk <rapport@shop.nl>");
    assert_eq!(
        dutch.header("Subject"),
        "Rapport shop-a: 4–6 mrt 2024, tot 12:05"
    );
    assert_eq!(
        english.header("Subject"),
        "Report shop-a: 4–6 Mar 2024, until 12:05"
    );
    assert_eq!(
        dutch.header("List-Unsubscribe-Post"),
        "List-Unsubscribe=One-Click"
    );
    let unsubscribe = dutch
        .header("List-Unsubscribe")
        .trim_matches(['<', '>'])
        .to_string();
    assert!(
        unsubscribe.starts_with("https://meter.example.nl/ru/shop-a/"),
        "{unsubscribe}"
    );

    // The structure: text and HTML (with its three charts as related PNG parts), then the
    // PDF, the workbook and the CSV.
    assert_eq!(
        dutch.types(),
        [
            "multipart/mixed",
            "multipart/alternative",
            "text/plain",
            "multipart/related",
            "text/html",
            "image/png",
            "image/png",
            "image/png",
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "text/csv",
        ]
    );
    let html = dutch.text("text/html");
    for i in 1..=3 {
        assert!(html.contains(&format!("src=\"cid:chart-{i}\"")), "{html}");
        let png = dutch
            .parts
            .iter()
            .find(|p| p["cid"] == format!("<chart-{i}>"))
            .unwrap_or_else(|| panic!("no part with Content-ID chart-{i}"));
        assert_eq!(png_size(&dutch.bytes(png)).0, 1344);
    }
    assert!(!html.contains("src=\"http"), "no remote images");
    assert!(html.contains("Wat aandacht nodig heeft"), "{html}");
    assert!(html.contains(&unsubscribe.replace('&', "&amp;")));
    assert!(english.text("text/html").contains("What needs attention"));
    assert!(dutch.text("text/plain").contains("Kerncijfers"));

    // The PDF holds the figures of the same period's JSON report.
    let token = app.token(&app.shop_a).await;
    let json: Value = crate::common::client()
        .get(app.url("/api/v1/workspaces/shop-a/report?preset=week"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // (The API's clock is 12:06, the report's 12:05: the same conversations.)
    assert_eq!(json["conversations"], 3);
    assert_eq!(json["first_response"]["median_business_seconds"], 645.0);
    assert_eq!(json["csat"]["satisfied_pct"], 50.0);
    let pdf_part = dutch.part("application/pdf");
    assert_eq!(
        pdf_part["filename"].as_str(),
        Some("rapport-shop-a-2024-03-04.pdf")
    );
    let pdf_path = dir.path().join("report.pdf");
    std::fs::write(&pdf_path, dutch.bytes(pdf_part)).unwrap();
    let text = String::from_utf8(
        std::process::Command::new("pdftotext")
            .arg(&pdf_path)
            .arg("-")
            .output()
            .expect("pdftotext (poppler-utils; scripts/test installs it)")
            .stdout,
    )
    .unwrap();
    for expected in [
        "Rapport shop-a",
        "4–6 mrt 2024, tot 12:05",
        "10m 45s",
        "50,0% (2)",
        "Klanttevredenheid (CSAT): 50,0% (norm 85,0%)",
        "Duurde veel te lang <b>echt</b>",
    ] {
        assert!(
            text.contains(expected),
            "the PDF lacks {expected:?}:\n{text}"
        );
    }
    // Its pages as pictures, kept to look at (target/report-pages).
    let pages = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/report-pages");
    std::fs::create_dir_all(&pages).unwrap();
    let status = std::process::Command::new("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&pdf_path)
        .arg(pages.join("mailed"))
        .status()
        .unwrap();
    assert!(status.success());

    // The workbook read back equals the CSV beside it.
    let xlsx = xlsx_rows(
        &dutch
            .bytes(dutch.part("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    );
    let csv_text = dutch.text("text/csv");
    let csv_rows: Vec<Vec<String>> = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv_text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(xlsx, csv_rows);
    assert_eq!(
        csv_rows[1][..3],
        ["total", "2024-03-04..2024-03-06T12:05", "3"]
    );

    // Both copies sent once, their files kept; a later pass sends nothing more.
    let copies = app
        .store
        .deliveries(app.shop_a.id, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(copies.len(), 2);
    assert!(copies.iter().all(|c| c.state == DeliveryState::Sent));
    let files = app
        .store
        .report_files(app.shop_a.id, copies[0].id)
        .await
        .unwrap();
    assert!(files.iter().any(|f| f.name == "page.html"));
    offset.store(9 * MINUTE, Ordering::SeqCst);
    planned_after(&app, start + 9 * MINUTE).await;
    sends_settled(&app).await;
    assert_eq!(smtp.messages(2).await.len(), 2);

    // One-click unsubscribe (RFC 8058): the next day only the lead gets a copy.
    let r = crate::common::client()
        .post(unsubscribe.replace("https://meter.example.nl", &app.url("")))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        app.store.report_unsubscribes(app.shop_a.id).await.unwrap(),
        [("dagelijks".to_string(), "eigenaar@shop.nl".to_string())]
    );
    let tomorrow = 24 * 60 * MINUTE + 6 * MINUTE;
    offset.store(tomorrow, Ordering::SeqCst);
    smtp.messages(3).await;
    planned_after(&app, start + tomorrow).await;
    sends_settled(&app).await;
    let all = smtp.messages(3).await;
    assert_eq!(all.len(), 3);
    assert_eq!(
        all.iter()
            .filter(|m| m.contains("To: eigenaar@shop.nl"))
            .count(),
        1
    );
}

/// A workspace's configuration as stored, parsed.
async fn stored_config(app: &crate::common::TestApp) -> servicemeter_core::WorkspaceConfig {
    let ws = app.store.workspace("shop-a").await.unwrap();
    servicemeter_core::WorkspaceConfig::from_toml(ws.config_toml.as_deref().unwrap_or_default())
        .unwrap()
}

#[tokio::test]
async fn an_administrator_defines_previews_sends_and_resends_a_report() {
    use crate::common::Fetch;
    use servicemeter_core::access::Role;
    use servicemeter_core::report_definitions::Attachment;
    use servicemeter_core::schedule::Every;

    let (smtp, app, _offset) = mailing_app().await;
    app.use_config(SHOP_A_CONFIG).await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    let admin = app.signed_in("admin@shop.nl").await;
    let lead = app.signed_in("lead@shop.nl").await;
    lead.get(app.url("/w/shop-a/reports")).answered(403).await;

    let page = admin.get(app.url("/w/shop-a/reports")).answered(200).await;
    assert!(page.contains("Nog geen rapporten"), "{page}");
    let version = crate::common::forms(&page)
        .into_iter()
        .find(|(action, _)| action == "/w/shop-a/reports")
        .and_then(|(_, fields)| fields.into_iter().find(|(k, _)| k == "version"))
        .map(|(_, v)| v)
        .expect("the form carries the configuration's version");
    let form = |recipients: &str| {
        vec![
            ("version", version.clone()),
            ("name", "weekly".to_string()),
            ("every", "week".to_string()),
            ("weekday", "tue".to_string()),
            ("day", String::new()),
            ("at", "07:30".to_string()),
            ("recipients", recipients.to_string()),
            ("view", String::new()),
            ("attach", "pdf".to_string()),
            ("attach", "xlsx".to_string()),
            ("agents", "on".to_string()),
            ("agency", "Bureau Klantwijs".to_string()),
        ]
    };

    // A bad address: said with its key, in Dutch, the form kept, nothing stored.
    let refused = admin
        .post(app.url("/w/shop-a/reports"))
        .form(&form("geen-adres"))
        .answered(400)
        .await;
    assert!(
        refused
            .contains("reports[0].recipients[0].email: &#39;geen-adres&#39; is geen e-mailadres"),
        "{refused}"
    );
    assert!(refused.contains(">geen-adres</textarea>"));
    assert!(stored_config(&app).await.reports.is_empty());

    // Saved: the configuration holds it as the form said.
    let saved = admin
        .post(app.url("/w/shop-a/reports"))
        .form(&form("eigenaar@shop.nl\nlead@shop.nl en America/New_York"))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    let config = stored_config(&app).await;
    let [weekly] = &config.reports[..] else {
        panic!("{:?}", config.reports)
    };
    assert_eq!(weekly.every, Every::Week(jiff::civil::Weekday::Tuesday));
    assert_eq!(weekly.at.strftime("%H:%M").to_string(), "07:30");
    assert_eq!(weekly.attachments, [Attachment::Pdf, Attachment::Xlsx]);
    assert_eq!(weekly.agency.as_deref(), Some("Bureau Klantwijs"));
    assert_eq!(weekly.recipients.len(), 2);
    assert_eq!(weekly.recipients[1].language, "en");
    let page = admin.get(app.url("/w/shop-a/reports")).answered(200).await;
    assert!(page.contains("wekelijks, dinsdag, om 07:30"), "{page}");
    assert!(
        page.contains("lead@shop.nl (en), America/New_York"),
        "{page}"
    );

    // The preview: the document of the week before (Tuesday 6 March's schedule covers 26
    // February – 3 March), as HTML and as PDF, mailed to no one.
    let preview = admin
        .get(app.url("/w/shop-a/reports/weekly/preview"))
        .answered(200)
        .await;
    assert!(preview.contains("Rapport shop-a"), "{preview}");
    assert!(preview.contains("26 feb – 3 mrt 2024"), "{preview}");
    assert!(preview.contains("Opgesteld door Bureau Klantwijs"));
    assert_eq!(preview.matches("<svg").count(), 3);
    let english = admin
        .get(app.url("/w/shop-a/reports/weekly/preview?lang=en"))
        .answered(200)
        .await;
    assert!(english.contains("Prepared by Bureau Klantwijs"));
    let pdf = admin
        .get(app.url("/w/shop-a/reports/weekly/preview?format=pdf"))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    admin
        .get(app.url("/w/shop-a/reports/nothing/preview"))
        .answered(400)
        .await;

    // Send now: a copy to each recipient, in the archive once sent.
    let sent = admin
        .post(app.url("/w/shop-a/reports/weekly/send"))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 303);
    assert_eq!(sent.headers()["location"], "/w/shop-a/reports?queued=2");
    let mails = smtp.messages(2).await;
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: Rapport shop-a: 26 feb"))
    );
    assert!(
        mails
            .iter()
            .any(|m| m.contains("Subject: Report shop-a: 26 Feb"))
    );
    sends_settled(&app).await;
    let copies = app
        .store
        .deliveries(app.shop_a.id, None, 0, 10)
        .await
        .unwrap();
    assert_eq!(copies.len(), 2);
    assert!(copies.iter().all(|c| c.state == DeliveryState::Sent));
    let page = admin.get(app.url("/w/shop-a/reports")).answered(200).await;
    assert_eq!(page.matches("nu verstuurd").count(), 2, "{page}");
    // Opened as sent, its PDF downloaded.
    let owner = copies
        .iter()
        .find(|c| c.recipient == "eigenaar@shop.nl")
        .unwrap();
    let opened = admin
        .get(app.url(&format!("/w/shop-a/reports/archive/{}", owner.id)))
        .answered(200)
        .await;
    assert!(opened.contains("Rapport shop-a"));
    let pdf = admin
        .get(app.url(&format!(
            "/w/shop-a/reports/archive/{}/rapport-shop-a-2024-02-26.pdf",
            owner.id
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF-"));
    lead.get(app.url(&format!("/w/shop-a/reports/archive/{}", owner.id)))
        .answered(403)
        .await;

    // Sent again: the same files to the same address, a third message.
    let again = admin
        .post(app.url(&format!("/w/shop-a/reports/archive/{}/resend", owner.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 303);
    let mails = smtp.messages(3).await;
    let to_owner: Vec<&String> = mails
        .iter()
        .filter(|m| m.contains("To: eigenaar@shop.nl"))
        .collect();
    assert_eq!(to_owner.len(), 2);
    sends_settled(&app).await;
    let resent = &app
        .store
        .deliveries(app.shop_a.id, None, 0, 1)
        .await
        .unwrap()[0];
    assert_eq!(
        (resent.resends, resent.state),
        (Some(owner.id), DeliveryState::Sent)
    );

    // Deleted: gone from the configuration; the archive stays.
    let deleted = admin
        .post(app.url("/w/shop-a/reports/weekly/delete"))
        .form(&[("version", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 303);
    assert!(stored_config(&app).await.reports.is_empty());
    assert_eq!(
        app.store
            .deliveries(app.shop_a.id, None, 0, 10)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn a_share_link_shows_the_dashboard_signed_out_until_it_expires_or_is_revoked() {
    use crate::common::Fetch;
    use servicemeter_core::access::Role;

    let (app, offset) = spawn_app_with_offset(servicemeter_web::ServerConfig::default()).await;
    app.use_config(SHOP_A_CONFIG).await;
    app.add_user("admin@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    app.store
        .save_view(
            app.shop_a.id,
            &SavedView {
                name: "Alleen chat".into(),
                query: "preset=week&channel=chat".into(),
                created_by: "admin@shop.nl".into(),
                created_at: 0,
            },
        )
        .await
        .unwrap();
    let admin = app.signed_in("admin@shop.nl").await;
    let lead = app.signed_in("lead@shop.nl").await;
    lead.post(app.url("/w/shop-a/settings/shares"))
        .form(&[("label", "Klant"), ("expires", "2024-03-20")])
        .answered(403)
        .await;

    // Refused with the field named: no label, a date in the past, an unknown view.
    for (fields, said) in [
        (
            vec![("label", ""), ("expires", "2024-03-20")],
            "Omschrijving",
        ),
        (
            vec![("label", "Klant"), ("expires", "2024-03-01")],
            "Geldig tot",
        ),
        (
            vec![
                ("label", "Klant"),
                ("expires", "2024-03-20"),
                ("view", "Geen"),
            ],
            "Weergave: &#39;Geen&#39; bestaat niet",
        ),
    ] {
        let body = admin
            .post(app.url("/w/shop-a/settings/shares"))
            .form(&fields)
            .answered(400)
            .await;
        assert!(body.contains(said), "{said}: {body}");
    }
    // Two links: the whole dashboard until 20 March without agents, and the chat view with
    // agents by name until 8 March.
    for fields in [
        vec![("label", "Klant Schoenwinkel"), ("expires", "2024-03-20")],
        vec![
            ("label", "Maandoverleg"),
            ("expires", "2024-03-08"),
            ("view", "Alleen chat"),
            ("agents", "on"),
        ],
    ] {
        let r = admin
            .post(app.url("/w/shop-a/settings/shares"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
    }
    let settings = admin.get(app.url("/w/shop-a/settings")).answered(200).await;
    let links: Vec<String> = settings
        .split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.starts_with("/share/shop-a/"))
        .map(String::from)
        .collect();
    assert_eq!(links.len(), 2, "{settings}");
    assert!(settings.contains("Klant Schoenwinkel") && settings.contains("Maandoverleg"));
    // Newest first: the chat view, then the whole dashboard.
    let (chat, whole) = (&links[0], &links[1]);

    // Signed out: the figures of the whole workspace, no agent by name, no way further in.
    let visitor = crate::common::client();
    let page = visitor.get(app.url(whole)).answered(200).await;
    assert!(page.contains("Klant Schoenwinkel"), "{page}");
    assert!(page.contains("id=\"tiles\"") || page.contains("class=\"tiles\""));
    assert!(
        page.contains("10m 45s"),
        "the week's median first response: {page}"
    );
    for hidden in ["Anna", "Bob", "/w/shop-a", "download"] {
        assert!(!page.contains(hidden), "{hidden} on a shared page: {page}");
    }
    // The chat view with agents: one conversation (a2, Bob's), Bob named.
    let page = visitor.get(app.url(chat)).answered(200).await;
    assert!(page.contains("Bob"), "{page}");
    assert!(page.contains("1m 30s"), "a2's first response: {page}");
    assert!(!page.contains("Anna"), "Anna answered e-mail only: {page}");

    // A changed token is refused; so is the link once expired (the chat link on 9 March) or
    // revoked (the whole one).
    // (Its last hex digit changed to another one.)
    let last = if whole.ends_with('0') { '1' } else { '0' };
    let tampered = format!("{}{last}", &whole[..whole.len() - 1]);
    let body = visitor.get(app.url(&tampered)).answered(404).await;
    assert!(body.contains("klopt niet"), "{body}");
    offset.store(3 * 24 * 60 * MINUTE, Ordering::SeqCst);
    let body = visitor.get(app.url(chat)).answered(410).await;
    assert!(body.contains("werkt niet meer"), "{body}");
    visitor.get(app.url(whole)).answered(200).await;
    let id = app
        .store
        .shares(app.shop_a.id)
        .await
        .unwrap()
        .into_iter()
        .find(|l| l.label == "Klant Schoenwinkel")
        .unwrap()
        .id;
    let r = admin
        .post(app.url("/w/shop-a/settings/shares"))
        .form(&[("revoke", id.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    visitor.get(app.url(whole)).answered(410).await;
    let settings = admin.get(app.url("/w/shop-a/settings")).answered(200).await;
    assert!(settings.contains("ingetrokken") && settings.contains("verlopen"));
}

/// A local HTTP server that keeps the JSON bodies posted to `/hook` (an incoming webhook).
async fn webhook_receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    use axum::routing::post;
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(body);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn posted(got: &std::sync::Arc<std::sync::Mutex<Vec<Value>>>, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let now = got.lock().unwrap().clone();
        if now.len() >= n {
            return now;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} webhook posts arrived");
}

#[tokio::test]
async fn an_alert_fires_once_recovers_and_fires_again_by_webhook_and_mail() {
    let (smtp, app, offset) = mailing_app().await;
    let (hook, got) = webhook_receiver().await;
    // shop-a's a3 (e-mail, Tuesday 16:30) has waited past its hour since Wednesday 09:30.
    app.use_config(&format!(
        "{SHOP_A_CONFIG}
[[alerts]]
name = \"te-laat\"
watch = \"overdue\"
above = 0
email = [\"lead@shop.nl\"]
webhook = \"{hook}\"
"
    ))
    .await;
    let bodies = posted(&got, 1).await;
    assert_eq!(
        bodies[0],
        serde_json::json!({
            "text": "*Waarschuwing: te-laat*\nGesprekken wachten langer dan hun norm: 1 — regel boven 0 · shop-a"
        })
    );
    let mails = smtp.messages(1).await;
    assert!(
        mails[0].contains("Subject: Waarschuwing: te-laat"),
        "{}",
        mails[0]
    );

    // Answered at 11:00: the next check (a minute on) says it recovered.
    crate::common::import(
        &app.store,
        &app.shop_a,
        &[r#"{"type":"conversation","id":"a3","channel":"email","created_at":"2024-03-05T16:30:00+01:00","messages":[{"at":"2024-03-06T11:00:00+01:00","author":"agent","agent":"Anna"}]}"#],
    )
    .await;
    offset.store(61_000, Ordering::SeqCst);
    let bodies = posted(&got, 2).await;
    assert_eq!(
        bodies[1]["text"],
        "*Weer in orde: te-laat*\nGesprekken wachten langer dan hun norm: 0 — regel boven 0 · shop-a"
    );
    // A new e-mail from 09:00, unanswered: it fires again.
    crate::common::import(
        &app.store,
        &app.shop_a,
        &[r#"{"type":"conversation","id":"a4","channel":"email","created_at":"2024-03-06T09:00:00+01:00","messages":[{"at":"2024-03-06T09:00:00+01:00","author":"customer","text":"Hallo?"}]}"#],
    )
    .await;
    offset.store(122_000, Ordering::SeqCst);
    let bodies = posted(&got, 3).await;
    assert!(
        bodies[2]["text"]
            .as_str()
            .unwrap()
            .starts_with("*Waarschuwing: te-laat*")
    );
    assert_eq!(smtp.messages(3).await.len(), 3);
    // Still broken a minute later: nothing more is said.
    offset.store(183_000, Ordering::SeqCst);
    let start = fixed_now().as_millisecond();
    for _ in 0..200 {
        let latest = app
            .store
            .latest(app.shop_a.id, servicemeter_store::alerts::ALERT_CHECK)
            .await
            .unwrap()
            .unwrap();
        if latest.state == JobState::Done && latest.finished_at.unwrap() >= start + 183_000 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(got.lock().unwrap().len(), 3);
    // The history: fired, recovered, fired — each posted and mailed once.
    use servicemeter_core::alerts::AlertEvent;
    use servicemeter_store::alerts::Alerts;
    let history = app.store.alert_history(app.shop_a.id, 10).await.unwrap();
    assert_eq!(
        history.iter().rev().map(|h| h.event).collect::<Vec<_>>(),
        [
            AlertEvent::Fired(1.0),
            AlertEvent::Recovered(0.0),
            AlertEvent::Fired(1.0)
        ]
    );
    assert!(
        history
            .iter()
            .all(|h| h.posted_at.is_some() && h.mailed_at.is_some())
    );
    // The reports page lists the alert, firing, and its history.
    use crate::common::Fetch;
    app.add_user(
        "admin@shop.nl",
        &app.shop_a,
        servicemeter_core::access::Role::Admin,
        None,
    )
    .await;
    let page = app
        .signed_in("admin@shop.nl")
        .await
        .get(app.url("/w/shop-a/reports"))
        .answered(200)
        .await;
    assert!(
        page.contains("Gesprekken wachten langer dan hun norm boven 0"),
        "{page}"
    );
    assert!(page.contains("overschreden"), "{page}");
    assert_eq!(
        page.matches("Gesprekken wachten langer dan hun norm: 1 — regel boven 0")
            .count(),
        2,
        "{page}"
    );
    assert!(page.contains("Gesprekken wachten langer dan hun norm: 0 — regel boven 0"));
}
