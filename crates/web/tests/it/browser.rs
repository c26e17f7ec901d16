//! The dashboard in real headless Chromium (driven through chromedriver's WebDriver protocol):
//! sign in, the overview, an agent page and a conversation timeline, on a desktop and a phone
//! width, with screenshots and no errors in the browser console.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/test installs them).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{Value, json};
use servicemeter_core::access::Role;
use servicemeter_store::{Accounts, Store};

struct Driver {
    process: Child,
    base: String,
    session: String,
    http: reqwest::Client,
}

impl Drop for Driver {
    /// Stops chromedriver (the test ends the session first, which closes the browser).
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn find(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_string())
}

impl Driver {
    async fn start() -> Driver {
        let chromedriver = find("SERVICEMETER_CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = find("SERVICEMETER_CHROMIUM", "/usr/bin/chromium");
        assert!(
            std::path::Path::new(&chromedriver).exists()
                && std::path::Path::new(&chromium).exists(),
            "browser test needs {chromium} and {chromedriver}: apt-get install chromium chromium-driver (scripts/test does this)"
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let process = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        tls();
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.json::<Value>()
                    .await
                    .is_ok_and(|v| v["value"]["ready"] == true)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1400"]
            },
            "goog:loggingPrefs": {"browser": "ALL"}
        }}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&caps)
            .json_body()
            .await;
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        Driver {
            process,
            base,
            session,
            http,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let value: Value = request.json_body().await;
        assert!(
            value["value"].get("error").is_none(),
            "{path}: {}",
            value["value"]
        );
        value["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Signs in through the login form and waits for the home page.
    async fn sign_in(&self, app: &TestApp, email: &str) {
        self.go(&app.url("/login")).await;
        self.type_into("input[name=email]", email).await;
        self.type_into("input[name=password]", PASSWORD).await;
        self.click("form[action='/login'] button[type=submit]")
            .await;
        let started = Instant::now();
        while self.url().await != app.url("/") {
            if started.elapsed() > Duration::from_secs(10) {
                let text = self.script("return document.body.innerText").await;
                panic!("{email} is not signed in; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to 10 s for an element (a page that loads after a click).
    async fn wait_for(&self, css: &str) {
        let started = Instant::now();
        let probe = format!(
            "return document.querySelector({}) !== null",
            serde_json::to_string(css).unwrap()
        );
        while self.script(&probe).await != true {
            if started.elapsed() > Duration::from_secs(10) {
                let text = self.script("return document.body.innerText").await;
                panic!("no {css}; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn script(&self, code: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": code, "args": []})),
        )
        .await
    }

    /// Elements wider than the box they sit in, checked in the page: an element whose content
    /// is wider than itself while it does not scroll, or that reaches past its parent's right
    /// edge while the parent does not scroll. Empty when everything fits.
    async fn overflowing(&self) -> Vec<String> {
        let found = self
            .script(
                "const bad = [];\
                 const scrolls = (el) => ['auto', 'scroll', 'hidden'].includes(getComputedStyle(el).overflowX);\
                 for (const el of document.querySelectorAll('main *')) {\
                   if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;\
                   const p = el.parentElement;\
                   if (el.closest('.table-wrap') || el.closest('details:not([open])')) continue;\
                   const r = el.getBoundingClientRect();\
                   if (r.width === 0) continue;\
                   const wide = el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 && !scrolls(el);\
                   const out = p && !scrolls(p) && r.right > p.getBoundingClientRect().right + 1;\
                   if (wide || out) bad.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className);\
                 }\
                 return JSON.stringify(bad);",
            )
            .await;
        serde_json::from_str(found.as_str().unwrap()).unwrap()
    }

    /// axe-core's serious and critical violations on the page (rule, then the elements).
    async fn accessibility_violations(&self) -> Vec<String> {
        let axe = axe_source();
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": format!("{axe}; return null;"), "args": []})),
        )
        .await;
        let found = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({"script":
                    "const done = arguments[arguments.length - 1];\
                     axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(\
                       r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')\
                         .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.map(n => n.target.join(' ')).join(', ')))));",
                    "args": []})),
            )
            .await;
        serde_json::from_str(found.as_str().unwrap()).unwrap()
    }

    async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn screenshot(&self, name: &str) -> PathBuf {
        let data = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = decode_base64(data.as_str().unwrap());
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// A screenshot of the whole page at `width` (the window grown to the page's height, then
    /// back to 1000 px).
    async fn whole_page(&self, width: u32, name: &str) -> PathBuf {
        let height = self
            .script("return document.documentElement.scrollHeight")
            .await
            .as_u64()
            .unwrap_or(1000)
            .clamp(400, 8000) as u32;
        self.resize(width, height + 150).await;
        let shot = self.screenshot(name).await;
        self.resize(width, 1000).await;
        shot
    }

    async fn console_errors(&self) -> Vec<String> {
        let url = format!("{}/session/{}/se/log", self.base, self.session);
        let logs: Value = self
            .http
            .post(url)
            .json(&json!({"type": "browser"}))
            .json_body()
            .await;
        logs["value"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .filter(|e| e["level"] == "SEVERE")
            .map(|e| e["message"].to_string())
            .collect()
    }

    /// Ends the session: chromedriver closes the browser.
    async fn quit(&self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.http.delete(url).send().await;
    }

    async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }
}

/// axe-core from npm (scripts/test installs the pinned version into target/npm), or the file
/// `SERVICEMETER_AXE` names.
fn axe_source() -> String {
    let default =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../npm/node_modules/axe-core/axe.min.js");
    let path = std::env::var("SERVICEMETER_AXE").map_or(default, PathBuf::from);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the accessibility check needs axe-core at {}: {e} (scripts/test installs it with npm)",
            path.display()
        )
    })
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text.bytes().filter(|&c| c != b'=' && c != b'\n').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c) << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    out
}

#[tokio::test]
async fn a_lead_signs_in_and_audits_a_figure_in_chromium() {
    let app = spawn_app().await;
    app.add_user("lead@shop.nl", &app.shop_a, Role::Lead, None)
        .await;
    app.add_user("lead@shop.nl", &app.shop_b, Role::Admin, None)
        .await;
    let driver = Driver::start().await;
    driver.sign_in(&app, "lead@shop.nl").await;

    driver
        .go(&app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .await;
    let conversations = driver
        .script("return document.querySelector('#tiles .tile .value').textContent")
        .await;
    assert_eq!(conversations, "3");
    let charts = driver
        .script("return document.querySelectorAll('.charts svg').length")
        .await;
    assert_eq!(charts, 5);
    // The check finds an element wider than its container…
    driver
        .script("document.querySelector('main').insertAdjacentHTML('beforeend', '<p id=\"probe\" style=\"width: 3000px\">wide</p>'); return null;")
        .await;
    assert_eq!(driver.overflowing().await, ["p#probe."]);
    driver
        .script("document.getElementById('probe').remove(); return null;")
        .await;
    // …and the overview has none.
    assert_eq!(
        driver.overflowing().await,
        Vec::<String>::new(),
        "overview at 1400 px"
    );
    let open_now = driver
        .script("return document.querySelector('#backlog .tile .value').textContent")
        .await;
    assert_eq!(open_now, "1", "a3 waits now");
    let overview = driver.screenshot("overview").await;

    // The filter bar: open "Kanaal", tick e-mail, show. Every tile follows (a1 and a3 are the
    // e-mails), and the URL holds the filter so that the link gives the view again.
    driver.click("#filters details.filter summary").await;
    driver.click("input[name=channel][value=email]").await;
    let filtered_shot = driver.screenshot("overview-filter-open").await;
    driver.click("form.period button[type=submit]").await;
    let started = Instant::now();
    while !driver.url().await.contains("channel=email") {
        if started.elapsed() > Duration::from_secs(10) {
            panic!("the filter was not submitted: {}", driver.url().await);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let filtered = driver
        .script("return document.querySelector('#tiles .tile .value').textContent")
        .await;
    assert_eq!(filtered, "2");
    let filtered_url = driver.url().await;
    // The channels table's download, fetched by the page, holds the rows on screen.
    let same = driver
        .script(
            "const a = document.querySelector('a[data-table=channels]');\
             const x = new XMLHttpRequest(); x.open('GET', a.href, false); x.send();\
             const csv = x.responseText.replace(/^\\uFEFF/, '').trim().split('\\r\\n');\
             const shown = Array.from(document.querySelectorAll('#channels tr')).map(tr =>\
               Array.from(tr.children).map(td => td.innerText.trim().replaceAll('\\u202F', '')).join(a.dataset.sep || ','));\
             return JSON.stringify([csv, shown]);",
        )
        .await;
    let (csv, shown): (Vec<String>, Vec<String>) =
        serde_json::from_str(same.as_str().unwrap()).unwrap();
    assert_eq!(csv.len(), 2, "header and the e-mail row: {csv:?}");
    assert_eq!(csv, shown);
    let overview_filtered = driver.screenshot("overview-filtered").await;
    driver
        .go(&app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .await;
    driver.go(&filtered_url).await;
    let again = driver
        .script("return document.querySelector('#tiles .tile .value').textContent")
        .await;
    assert_eq!(again, "2", "the link reproduces the view");
    // Saved under a name, then reopened from its link on the plain overview.
    driver
        .type_into("form.save-view input[name=name]", "E-mail deze week")
        .await;
    driver.click("form.save-view button[type=submit]").await;
    // The save answers with the overview again, its views listed; wait for it before leaving
    // (leaving at once could cancel the post on a busy machine).
    let started = Instant::now();
    while driver
        .script("return document.querySelector('#views a') !== null")
        .await
        != true
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the view was not saved"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    driver
        .go(&app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .await;
    driver.click("#views a").await;
    let started = Instant::now();
    while !driver.url().await.contains("channel=email") {
        if started.elapsed() > Duration::from_secs(10) {
            panic!("the saved view did not open: {}", driver.url().await);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let from_view = driver
        .script("return document.querySelector('#tiles .tile .value').textContent")
        .await;
    assert_eq!(from_view, "2", "the saved view gives the filtered figures");
    let saved_view = driver.screenshot("overview-saved-view").await;
    driver
        .go(&app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .await;

    // The feedback page, reached from the navigation with the period kept.
    driver.click("header nav a[href*='/feedback']").await;
    assert!(
        driver
            .url()
            .await
            .contains("/w/shop-a/feedback?from=2024-03-04")
    );
    let answers = driver
        .script("return document.querySelectorAll('#answer-list li').length")
        .await;
    assert_eq!(answers, 2, "a1 and a2 answered CSAT");
    let fits = driver
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "the feedback page fits 1400 px");
    assert_eq!(
        driver.overflowing().await,
        Vec::<String>::new(),
        "feedback at 1400 px"
    );
    let feedback_shot = driver.screenshot("feedback").await;
    driver
        .go(&app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .await;

    // Click through to the agent page from the agents table.
    driver.click("#agents a[href*='/agents/Anna']").await;
    assert!(driver.url().await.contains("/w/shop-a/agents/Anna"));
    let agent = driver.screenshot("agent").await;

    driver.go(&app.url("/w/shop-a/conversations/a1")).await;
    let marks = driver
        .script("return document.querySelectorAll('figure.timeline svg circle').length")
        .await;
    assert_eq!(marks, 4, "two messages, one event, one survey");
    let timeline = driver.screenshot("conversation").await;

    // Settings as an administrator (of shop-b, which has no configuration of its own yet): a
    // real browser posts the opening-hours form, and the new Saturday hours are stored.
    driver.go(&app.url("/w/shop-b/settings")).await;
    driver
        .type_into("input[name='week.0.sat']", "10:00-14:00")
        .await;
    driver
        .click("form[action='/w/shop-b/settings/hours'] button[type=submit]")
        .await;
    let started = Instant::now();
    while !driver.url().await.contains("saved=hours") {
        if started.elapsed() > Duration::from_secs(10) {
            let text = driver.script("return document.body.innerText").await;
            panic!("the hours were not saved; the page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored = app
        .store
        .find_workspace("shop-b")
        .await
        .unwrap()
        .unwrap()
        .config_toml
        .unwrap();
    let config = servicemeter_core::WorkspaceConfig::from_toml(&stored).unwrap();
    assert_eq!(
        servicemeter_core::config::config_changes(
            servicemeter_core::config::DEFAULT_CONFIG_TOML,
            &stored
        ),
        vec!["+ opening_hours.sat = \"10:00-14:00\"".to_string()]
    );
    assert!(!config.default_week.days[5].is_empty());
    let settings = driver.screenshot("settings").await;
    // The recompute ran as a background job; the page lists it.
    app.jobs_settled(&app.shop_b).await;
    driver.go(&app.url("/w/shop-b/settings#jobs")).await;
    let jobs_text = driver
        .script("return document.getElementById('jobs').innerText")
        .await;
    let jobs_text = jobs_text.as_str().unwrap_or_default().to_string();
    assert!(jobs_text.contains("recompute the figures"), "{jobs_text}");
    let settings_jobs = driver.screenshot("settings-jobs").await;
    driver.go(&app.url("/w/shop-b/settings#erase")).await;
    let settings_erase = driver.screenshot("settings-erase").await;
    // A helpdesk sync scheduled through the form.
    driver.go(&app.url("/w/shop-b/settings#sync")).await;
    driver
        .type_into("input[name='url']", "https://shop-b.zendesk.com")
        .await;
    driver
        .type_into("input[name='login']", "agent@shop-b.nl")
        .await;
    driver.type_into("input[name='secret']", "zd-token").await;
    driver
        .click("form[action='/w/shop-b/settings/sync'] button[type=submit]")
        .await;
    let started = Instant::now();
    while !driver.url().await.contains("saved=sync") {
        if started.elapsed() > Duration::from_secs(10) {
            let text = driver.script("return document.body.innerText").await;
            panic!("the sync was not scheduled; the page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let scheduled = app.store.sync_accounts(app.shop_b.id).await.unwrap();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(
        (scheduled[0].url.as_str(), scheduled[0].every_minutes),
        ("https://shop-b.zendesk.com", 60)
    );
    let settings_sync = driver.screenshot("settings-sync").await;

    // A phone: the page does not scroll sideways (wide tables scroll inside their box).
    driver.resize(390, 844).await;
    driver
        .go(&app.url("/w/shop-a?from=2024-03-04&to=2024-03-10"))
        .await;
    let fits = driver
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true);
    let phone = driver.screenshot("overview-phone").await;
    driver
        .go(&app.url("/w/shop-a/feedback?from=2024-03-04&to=2024-03-10"))
        .await;
    let fits = driver
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "the feedback page fits a phone");
    assert_eq!(
        driver.overflowing().await,
        Vec::<String>::new(),
        "feedback at 390 px"
    );
    let feedback_phone = driver.screenshot("feedback-phone").await;
    driver.go(&filtered_url).await;
    driver.click("#filters details.filter summary").await;
    let fits = driver
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "the open filter fits a phone");
    assert_eq!(
        driver.overflowing().await,
        Vec::<String>::new(),
        "overview at 390 px"
    );
    let phone_filtered = driver.screenshot("overview-filtered-phone").await;
    driver.go(&app.url("/w/shop-b/settings")).await;
    let fits = driver
        .script("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    assert_eq!(fits, true, "the settings page fits a phone");
    let settings_phone = driver.screenshot("settings-phone").await;
    driver.go(&app.url("/w/shop-b/settings#jobs")).await;
    let settings_jobs_phone = driver.screenshot("settings-jobs-phone").await;
    driver.go(&app.url("/w/shop-b/settings#erase")).await;
    let settings_erase_phone = driver.screenshot("settings-erase-phone").await;
    driver.go(&app.url("/w/shop-b/settings#sync")).await;
    let settings_sync_phone = driver.screenshot("settings-sync-phone").await;

    let errors = driver.console_errors().await;
    driver.quit().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    for path in [
        overview,
        filtered_shot,
        overview_filtered,
        saved_view,
        feedback_shot,
        feedback_phone,
        phone_filtered,
        agent,
        timeline,
        phone,
        settings,
        settings_phone,
        settings_jobs,
        settings_jobs_phone,
        settings_erase,
        settings_erase_phone,
        settings_sync,
        settings_sync_phone,
    ] {
        assert!(
            std::fs::metadata(&path).unwrap().len() > 5_000,
            "{}",
            path.display()
        );
        eprintln!("screenshot: {}", path.display());
    }
}

/// Every page, in Dutch and in English, at 1400 px and at 390 px: no element wider than its
/// container (checked in the page), no serious or critical accessibility violation (axe-core,
/// run in the page), a screenshot of each.
#[tokio::test]
async fn every_page_fits_and_passes_the_accessibility_check_in_both_languages() {
    let app = spawn_app().await;
    let owner = app
        .add_user("owner@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    app.add_user("owner@shop.nl", &app.shop_b, Role::Viewer, None)
        .await;
    app.store.set_installation_admin(owner, true).await.unwrap();
    let driver = Driver::start().await;
    driver.sign_in(&app, "owner@shop.nl").await;
    // The check sees a violation when there is one: an image without a text alternative.
    driver
        .script("document.querySelector('main').insertAdjacentHTML('beforeend', '<img id=\"probe\" src=\"data:image/gif;base64,R0lGODlhAQABAAAAACw=\">'); return null;")
        .await;
    let found = driver.accessibility_violations().await;
    assert!(
        found.iter().any(|v| v.starts_with("image-alt (critical)")),
        "{found:?}"
    );
    let week = "from=2024-03-04&to=2024-03-10";
    let pages = [
        ("home", "/".to_string()),
        ("overview", format!("/w/shop-a?{week}")),
        ("feedback", format!("/w/shop-a/feedback?{week}")),
        ("conversations", format!("/w/shop-a/conversations?{week}")),
        ("conversation", "/w/shop-a/conversations/a2".to_string()),
        ("agent", format!("/w/shop-a/agents/Anna?{week}")),
        ("team", format!("/w/shop-a/teams/Retouren?{week}")),
        ("settings", "/w/shop-a/settings".to_string()),
        ("follow-ups", "/w/shop-a/follow-ups".to_string()),
        ("not-found", "/w/shop-a/conversations/no-such".to_string()),
    ];
    let mut shots = Vec::new();
    let mut problems = Vec::new();
    for lang in ["nl", "en"] {
        driver
            .script(&format!(
                "document.cookie = 'lang={lang}; path=/'; return null;"
            ))
            .await;
        for width in [1400, 390] {
            driver.resize(width, 1000).await;
            for (name, path) in &pages {
                driver.go(&app.url(path)).await;
                let shown_lang = driver.script("return document.documentElement.lang").await;
                assert_eq!(shown_lang, lang, "{name}");
                let wide = driver.overflowing().await;
                if !wide.is_empty() {
                    problems.push(format!("{name} {lang} {width}px too wide: {wide:?}"));
                }
                let fits = driver
                    .script("return document.documentElement.scrollWidth <= window.innerWidth")
                    .await;
                if fits != true {
                    problems.push(format!("{name} {lang} {width}px scrolls sideways"));
                }
                let violations = driver.accessibility_violations().await;
                if !violations.is_empty() {
                    problems.push(format!("{name} {lang} {width}px: {violations:?}"));
                }
                shots.push(
                    driver
                        .whole_page(width, &format!("page-{name}-{lang}-{width}"))
                        .await,
                );
            }
        }
    }
    let errors = driver.console_errors().await;
    driver.quit().await;
    assert!(problems.is_empty(), "{problems:#?}");
    // The not-found page is an error on purpose; nothing else may log one.
    let errors: Vec<_> = errors.iter().filter(|e| !e.contains("404")).collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
    for path in shots {
        assert!(
            std::fs::metadata(&path).unwrap().len() > 5_000,
            "{}",
            path.display()
        );
    }
}

/// The text of the overview's CSAT tile.
async fn csat_tile(driver: &Driver) -> String {
    driver
        .script(
            "return [...document.querySelectorAll('#tiles article')]\
               .map(a => a.innerText).find(t => t.includes('CSAT')) || ''",
        )
        .await
        .as_str()
        .unwrap()
        .to_string()
}

/// Layout, accessibility and a screenshot of the current page at both widths.
async fn check_page(driver: &Driver, name: &str, problems: &mut Vec<String>) {
    for width in [1400, 390] {
        driver.resize(width, 1000).await;
        let wide = driver.overflowing().await;
        if !wide.is_empty() {
            problems.push(format!("{name} {width}px too wide: {wide:?}"));
        }
        let violations = driver.accessibility_violations().await;
        if !violations.is_empty() {
            problems.push(format!("{name} {width}px: {violations:?}"));
        }
        let shot = driver.whole_page(width, &format!("{name}-{width}")).await;
        assert!(std::fs::metadata(&shot).unwrap().len() > 5_000);
    }
    driver.resize(1400, 1000).await;
}

#[tokio::test]
async fn a_customer_answers_from_the_mail_in_chromium_and_the_dashboard_counts_it() {
    let smtp = crate::surveys::SmtpServer::start().await;
    let settings = servicemeter_web::mail::SmtpSettings::parse(
        &format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
        "Klantenservice <klantenservice@shop.nl>",
    )
    .unwrap();
    let (app, offset) = spawn_app_with_offset(servicemeter_web::ServerConfig {
        smtp: Some(settings),
        public_url: Some("https://enquete.schoenwinkel.example".into()),
        jobs_interval: Duration::from_millis(100),
        ..servicemeter_web::ServerConfig::default()
    })
    .await;
    let text = format!("{SHOP_A_CONFIG}{}", crate::surveys::SURVEY_CONFIG);
    app.use_config(&text).await;
    app.add_user("owner@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let shop_a = app.store.workspace("shop-a").await.unwrap();
    // Resolved Wednesday 10:00, asked an hour later: due at the (fixed) clock's noon.
    import(
        &app.store,
        &shop_a,
        &[r#"{"type":"conversation","id":"m1","channel":"email","created_at":"2024-03-06T08:00:00Z","customer":"k-9","customer_email":"sanne@example.nl","customer_name":"Sanne","customer_language":"nl","messages":[{"at":"2024-03-06T08:00:00Z","author":"customer"},{"at":"2024-03-06T08:30:00Z","author":"agent","agent":"Anna"}],"events":[{"at":"2024-03-06T09:00:00Z","event":"resolved"}]}"#],
    )
    .await;
    // The worker may have planned before m1 arrived; its next pass is a minute later.
    offset.store(61_000, std::sync::atomic::Ordering::SeqCst);
    let mail = crate::surveys::unfold(&smtp.messages(1).await.remove(0));
    assert!(mail.contains("Hallo Sanne,"), "{mail}");
    let two = mail
        .split("https://enquete.schoenwinkel.example")
        .skip(1)
        .filter_map(|rest| rest.split(['\r', '\n', '"', '<', '>', ' ']).next())
        .find(|path| path.starts_with("/s/shop-a/") && path.ends_with("?score=2"))
        .expect("the link of score 2")
        .to_string();

    let driver = Driver::start().await;
    let mut problems = Vec::new();
    // Before: a1 satisfied, a2 not: 50 % of 2.
    driver.sign_in(&app, "owner@shop.nl").await;
    driver
        .script("document.cookie = 'lang=nl; path=/'; return null;")
        .await;
    let week = "from=2024-03-04&to=2024-03-10";
    driver.go(&app.url(&format!("/w/shop-a?{week}"))).await;
    let before = csat_tile(&driver).await;
    assert!(before.contains("50,0%"), "{before}");

    // The customer opens the link from the mail: the page in Dutch with score 2 chosen.
    driver.go(&app.url(&two)).await;
    let chosen = driver
        .script("return document.querySelector('input[name=score]:checked').value")
        .await;
    assert_eq!(chosen, "2");
    let question = driver
        .script("return document.querySelector('h1').innerText")
        .await;
    assert_eq!(
        question,
        "Hoe tevreden ben je over hoe we je geholpen hebben?"
    );
    check_page(&driver, "survey-page", &mut problems).await;
    // A reason and a comment, then the one button.
    driver.click("input[name=reason][value='0']").await;
    driver
        .type_into(
            "textarea[name=comment]",
            "Het pakket kwam een week te laat.",
        )
        .await;
    driver.click("form button[type=submit]").await;
    let started = Instant::now();
    while !driver.url().await.contains("thanks=1") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no thanks page"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let thanks = driver.script("return document.body.innerText").await;
    assert!(
        thanks
            .as_str()
            .unwrap()
            .contains("Bedankt voor je antwoord!"),
        "{thanks}"
    );
    check_page(&driver, "survey-thanks", &mut problems).await;

    // The dashboard counts it: 1 of 3 satisfied.
    driver.go(&app.url(&format!("/w/shop-a?{week}"))).await;
    let after = csat_tile(&driver).await;
    assert!(after.contains("33,3%"), "{after}");
    // The comment is in the feedback list, and the answer in the follow-up inbox.
    driver
        .go(&app.url(&format!("/w/shop-a/feedback?{week}&unhappy=1")))
        .await;
    let feedback = driver.script("return document.body.innerText").await;
    assert!(
        feedback
            .as_str()
            .unwrap()
            .contains("Het pakket kwam een week te laat."),
        "{feedback}"
    );
    driver.go(&app.url("/w/shop-a/follow-ups")).await;
    let inbox = driver
        .script("return document.querySelector('#f-csat-m1').innerText")
        .await;
    let inbox = inbox.as_str().unwrap();
    assert!(
        inbox.contains("Het pakket kwam een week te laat.") && inbox.contains("Te traag"),
        "{inbox}"
    );
    check_page(&driver, "follow-ups", &mut problems).await;
    let errors = driver.console_errors().await;
    driver.quit().await;
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(errors.is_empty(), "console errors: {errors:?}");
}

#[tokio::test]
async fn an_administrator_creates_previews_sends_and_opens_a_report_in_chromium() {
    let smtp = crate::surveys::SmtpServer::start().await;
    let settings = servicemeter_web::mail::SmtpSettings::parse(
        &format!("smtp://127.0.0.1:{}?tls=none", smtp.port),
        "Rapporten <rapport@shop.nl>",
    )
    .unwrap();
    let (app, offset) = spawn_app_with_offset(servicemeter_web::ServerConfig {
        smtp: Some(settings),
        public_url: Some("https://meter.schoenwinkel.example".into()),
        jobs_interval: Duration::from_millis(100),
        ..servicemeter_web::ServerConfig::default()
    })
    .await;
    app.use_config(SHOP_A_CONFIG).await;
    app.add_user("owner@shop.nl", &app.shop_a, Role::Admin, None)
        .await;
    let driver = Driver::start().await;
    driver.sign_in(&app, "owner@shop.nl").await;
    // The administrator reads Dutch.
    driver
        .script("document.cookie = 'lang=nl; path=/'; return null;")
        .await;
    let mut problems = Vec::new();

    // The page from the navigation; the form fills in a weekly report.
    driver.go(&app.url("/w/shop-a")).await;
    driver.click("nav a[href='/w/shop-a/reports']").await;
    driver.wait_for("#report-form").await;
    check_page(&driver, "reports-empty", &mut problems).await;
    driver
        .type_into("#report-form input[name=name]", "maandag")
        .await;
    driver
        .type_into(
            "#report-form textarea[name=recipients]",
            "eigenaar@shop.nl\nlead@shop.nl en",
        )
        .await;
    driver
        .click("#report-form input[name=attach][value=xlsx]")
        .await;
    driver.click("#report-form button[type=submit]").await;
    driver.wait_for("#report-maandag").await;
    let listed = driver
        .script("return document.querySelector('#report-maandag').innerText")
        .await;
    let listed = listed.as_str().unwrap();
    assert!(listed.contains("wekelijks, maandag, om 08:00"), "{listed}");
    assert!(listed.contains("lead@shop.nl (en)"), "{listed}");
    check_page(&driver, "reports", &mut problems).await;

    // The preview: the document in the browser, the week before Wednesday 6 March.
    driver.click("#report-maandag a[href$='/preview']").await;
    let started = Instant::now();
    while !driver.url().await.ends_with("/preview") {
        assert!(started.elapsed() < Duration::from_secs(10), "no preview");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = driver.script("return document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(text.contains("Rapport shop-a"), "{text}");
    assert!(text.contains("26 feb – 3 mrt 2024"), "{text}");
    assert_eq!(
        driver
            .script("return document.querySelectorAll('svg').length")
            .await,
        3
    );
    check_page(&driver, "report-preview", &mut problems).await;

    // Send now: two copies go out, and the archive shows them sent.
    driver.go(&app.url("/w/shop-a/reports")).await;
    driver
        .click("#report-maandag form[action$='/send'] button")
        .await;
    driver.wait_for("p.notice").await;
    assert_eq!(smtp.messages(2).await.len(), 2);
    let started = Instant::now();
    loop {
        driver.go(&app.url("/w/shop-a/reports")).await;
        let sent = driver
            .script(
                "return [...document.querySelectorAll('#report-archive tbody tr')]\
                   .filter(r => r.innerText.includes('verstuurd') && r.querySelector('a')).length",
            )
            .await;
        if sent == 2 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the archive does not show two sent copies"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    check_page(&driver, "reports-archive", &mut problems).await;
    // Opened from the archive: the copy as it was sent.
    driver
        .click("#report-archive tbody tr a[href*='/reports/archive/']")
        .await;
    let started = Instant::now();
    while !driver.url().await.contains("/reports/archive/") {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no archived copy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let text = driver.script("return document.body.innerText").await;
    assert!(
        text.as_str().unwrap().contains("Kerncijfers")
            || text.as_str().unwrap().contains("Headline figures")
    );
    check_page(&driver, "report-archived", &mut problems).await;

    // A share link for the client, made on the settings page, valid until Friday 8 March.
    driver.go(&app.url("/w/shop-a/settings#shares")).await;
    driver.wait_for("#share-form").await;
    driver
        .type_into("#share-form input[name=label]", "Klant Schoenwinkel")
        .await;
    driver
        .script(
            "document.querySelector('#share-form input[name=expires]').value = '2024-03-08'; \
             return null;",
        )
        .await;
    driver.click("#share-form button[type=submit]").await;
    driver.wait_for("#share-list a.share-link").await;
    let link = driver
        .script("return document.querySelector('#share-list a.share-link').href")
        .await;
    let link = link.as_str().unwrap().to_string();
    // Signed out, the client sees the dashboard read-only, without agents.
    driver.click("form[action='/logout'] button").await;
    driver.wait_for("form[action='/login']").await;
    driver.go(&link).await;
    driver.wait_for("#share-note").await;
    let text = driver.script("return document.body.innerText").await;
    let text = text.as_str().unwrap();
    assert!(text.contains("Klant Schoenwinkel"), "{text}");
    assert!(!text.contains("Anna") && !text.contains("Bob"), "{text}");
    check_page(&driver, "shared", &mut problems).await;
    // Saturday 9 March: the link no longer works.
    offset.store(3 * 24 * 3_600_000, std::sync::atomic::Ordering::SeqCst);
    driver.go(&link).await;
    driver.wait_for("p.error").await;
    let said = driver
        .script("return document.querySelector('p.error').innerText")
        .await;
    assert!(said.as_str().unwrap().contains("werkt niet meer"), "{said}");
    check_page(&driver, "shared-expired", &mut problems).await;
    let errors = driver.console_errors().await;
    driver.quit().await;
    assert!(problems.is_empty(), "{problems:#?}");
    // The expired link answers 410 on purpose; nothing else may log an error.
    let errors: Vec<_> = errors.iter().filter(|e| !e.contains("410")).collect();
    assert!(errors.is_empty(), "console errors: {errors:?}");
}
