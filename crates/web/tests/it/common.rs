//! Test helpers: a server on port 0 over a temporary store with a fixed clock, a small data set
//! whose figures are worked out by hand, and HTTP clients that keep cookies.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use servicemeter_core::access::Role;
use servicemeter_core::{Calendars, WorkspaceConfig};
use servicemeter_import::parse_record;
use servicemeter_store::{Accounts, ImportRun, Membership, Storage, Store, UserId, Workspace};
use servicemeter_web::auth::{hash_password, new_token, token_hash};
use servicemeter_web::{Application, ServerConfig};

/// Configuration of shop-a: Amsterdam, weekdays 09:00–17:00, chat answered within 2 minutes,
/// everything else within an hour.
pub const SHOP_A_CONFIG: &str = r#"
timezone = "Europe/Amsterdam"
[opening_hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
[targets.first_response]
chat = "2m"
default = "1h"
"#;

/// Three conversations in the week of Monday 4 March 2024:
/// - a1 (email): customer 08:30, Anna 09:20 → first response 50 min calendar, 20 min = 1200 s
///   within opening hours (09:00 opens); resolved; CSAT 5 (satisfied).
/// - a2 (chat): customer 10:00, Bob 10:01:30 → 90 s; resolved 10:05, the customer writes again
///   10:10 (implicit reopen), Bob 10:11, resolved 10:12; CSAT 2 (not satisfied).
/// - a3 (email): customer Tuesday 16:30 with a `<script>` in the text; unanswered.
///
/// So: 3 conversations, 2 first responses with business median (90 + 1200) / 2 = 645 s =
/// "10m 45s", both within target (100 %), 1 unanswered, resolved 2 of 3 (66.7 %), reopened 1 of
/// 3 (33.3 %), CSAT 1 of 2 satisfied (50 %).
pub const SHOP_A_RECORDS: &[&str] = &[
    r#"{"type":"conversation","id":"a1","channel":"email","created_at":"2024-03-04T08:30:00+01:00","tags":["levering"],"messages":[{"at":"2024-03-04T08:30:00+01:00","author":"customer","text":"Waar is mijn pakket?"},{"at":"2024-03-04T09:20:00+01:00","author":"agent","agent":"Anna","text":"Het komt morgen."}],"events":[{"at":"2024-03-04T09:30:00+01:00","event":"resolved"}],"surveys":[{"at":"2024-03-04T10:00:00+01:00","kind":"csat","score":5}]}"#,
    r#"{"type":"conversation","id":"a2","channel":"chat","created_at":"2024-03-04T10:00:00+01:00","team":"Retouren","tags":["retour"],"messages":[{"at":"2024-03-04T10:00:00+01:00","author":"customer","text":"Retour?"},{"at":"2024-03-04T10:01:30+01:00","author":"agent","agent":"Bob","text":"Ja hoor."},{"at":"2024-03-04T10:10:00+01:00","author":"customer","text":"Nog een vraag"},{"at":"2024-03-04T10:11:00+01:00","author":"agent","agent":"Bob","text":"Graag gedaan."}],"events":[{"at":"2024-03-04T10:05:00+01:00","event":"resolved"},{"at":"2024-03-04T10:12:00+01:00","event":"resolved"}],"surveys":[{"at":"2024-03-04T11:00:00+01:00","kind":"csat","score":2,"comment":"Duurde veel te lang <b>echt</b>"}]}"#,
    r#"{"type":"conversation","id":"a3","channel":"email","created_at":"2024-03-05T16:30:00+01:00","messages":[{"at":"2024-03-05T16:30:00+01:00","author":"customer","text":"Hallo <script>alert('x')</script> iemand?"}]}"#,
];

pub const SHOP_B_RECORDS: &[&str] = &[
    r#"{"type":"conversation","id":"b1","channel":"phone","created_at":"2024-03-04T11:00:00+01:00","messages":[{"at":"2024-03-04T11:00:00+01:00","author":"customer"},{"at":"2024-03-04T11:00:30+01:00","author":"agent","agent":"Cor"}]}"#,
];

pub const PASSWORD: &str = "correct horse battery";

/// Wednesday 6 March 2024, 12:00 in Amsterdam.
pub fn fixed_now() -> jiff::Timestamp {
    "2024-03-06T11:00:00Z".parse().unwrap()
}

pub struct TestApp {
    pub address: SocketAddr,
    pub store: Arc<Storage>,
    pub shop_a: Workspace,
    pub shop_b: Workspace,
    _dir: tempfile::TempDir,
}

pub async fn import(store: &Storage, workspace: &Workspace, records: &[&str]) {
    let config =
        WorkspaceConfig::from_toml(workspace.config_toml.as_deref().unwrap_or(SHOP_A_CONFIG))
            .unwrap();
    let calendars = Arc::new(Calendars::new(config));
    let session = store.begin_import(workspace.id).await.unwrap();
    let mut run = ImportRun::new(session, calendars, 0);
    for line in records {
        run.add(parse_record(line).unwrap()).await.unwrap();
    }
    run.finish("test".into()).await.unwrap();
}

/// The store the server tests run against: the embedded one in `dir`, or with
/// `SERVICEMETER_TEST_BACKEND=postgres` a fresh schema of the test PostgreSQL database.
pub async fn open_store(dir: &std::path::Path) -> Storage {
    if servicemeter_store::test_support::postgres_selected() {
        let url = servicemeter_store::test_support::fresh_postgres_url().await;
        Storage::open_postgres(&url, 8).await.unwrap()
    } else {
        Storage::open_embedded(dir).await.unwrap()
    }
}

/// A server with two workspaces (shop-a with the records above, shop-b with one) and no
/// users yet.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(ServerConfig::default()).await
}

/// [`spawn_app`] whose server runs no background jobs (another process's worker would).
pub async fn spawn_app_without_jobs() -> TestApp {
    spawn_app_with(ServerConfig {
        run_jobs: false,
        ..ServerConfig::default()
    })
    .await
}

pub async fn spawn_app_with(config: ServerConfig) -> TestApp {
    spawn_app_with_clock(config, Arc::new(fixed_now)).await
}

/// [`spawn_app_with`] with the fixed clock moved on by the milliseconds the test stores in the
/// returned counter.
pub async fn spawn_app_with_offset(
    config: ServerConfig,
) -> (TestApp, Arc<std::sync::atomic::AtomicI64>) {
    let offset = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let read = offset.clone();
    let app = spawn_app_with_clock(
        config,
        Arc::new(move || {
            fixed_now()
                .checked_add(jiff::SignedDuration::from_millis(
                    read.load(std::sync::atomic::Ordering::SeqCst),
                ))
                .unwrap()
        }),
    )
    .await;
    (app, offset)
}

/// [`spawn_app_with`] with a clock of the test's own.
pub async fn spawn_app_with_clock(
    mut config: ServerConfig,
    clock: servicemeter_web::state::Clock,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(dir.path()).await;
    let a = store.workspace("shop-a").await.unwrap();
    let config_a = WorkspaceConfig::from_toml(SHOP_A_CONFIG).unwrap();
    store
        .replace_config(a.id, SHOP_A_CONFIG, &Arc::new(Calendars::new(config_a)))
        .await
        .unwrap();
    let shop_a = store.workspace("shop-a").await.unwrap();
    import(&store, &shop_a, SHOP_A_RECORDS).await;
    let shop_b = store.workspace("shop-b").await.unwrap();
    import(&store, &shop_b, SHOP_B_RECORDS).await;
    let store = Arc::new(store);
    config.listen = "127.0.0.1:0".parse().unwrap();
    let app = Application::build(config, store.clone(), clock)
        .await
        .unwrap();
    let address = app.local_addr();
    tokio::spawn(app.run_until(std::future::pending()));
    TestApp {
        address,
        store,
        shop_a,
        shop_b,
        _dir: dir,
    }
}

impl TestApp {
    /// Waits until the workspace has no queued or running job (the server's worker runs them).
    pub async fn jobs_settled(&self, workspace: &Workspace) {
        use servicemeter_store::jobs::{JobState, Jobs};
        for _ in 0..400 {
            let jobs = self.store.jobs(workspace.id, 100).await.unwrap();
            if jobs
                .iter()
                .all(|j| matches!(j.state, JobState::Done | JobState::Dead))
            {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("jobs of {} still waiting after 10 s", workspace.name);
    }

    /// Stores a configuration for shop-a (with its facts recomputed at once).
    pub async fn use_config(&self, text: &str) {
        let calendars = Arc::new(Calendars::new(WorkspaceConfig::from_toml(text).unwrap()));
        self.store
            .replace_config(self.shop_a.id, text, &calendars)
            .await
            .unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Another server on the same store (as another process on one PostgreSQL database):
    /// its address.
    pub async fn second_server(&self) -> SocketAddr {
        let config = ServerConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            run_jobs: false,
            ..ServerConfig::default()
        };
        let app = Application::build(config, self.store.clone(), Arc::new(fixed_now))
            .await
            .unwrap();
        let address = app.local_addr();
        tokio::spawn(app.run_until(std::future::pending()));
        address
    }

    /// Adds a user with a role in a workspace.
    pub async fn add_user(
        &self,
        email: &str,
        workspace: &Workspace,
        role: Role,
        agent_name: Option<&str>,
    ) -> UserId {
        let id = match self.store.user_by_email(email).await.unwrap() {
            Some(u) => u.id,
            None => self
                .store
                .create_user(email, &hash_password(PASSWORD).unwrap(), 0)
                .await
                .unwrap(),
        };
        self.store
            .set_membership(
                workspace.id,
                id,
                &Membership {
                    role,
                    agent_name: agent_name.map(str::to_string),
                },
            )
            .await
            .unwrap();
        id
    }

    /// A new API token of a workspace.
    pub async fn token(&self, workspace: &Workspace) -> String {
        let token = new_token(workspace.id).unwrap();
        self.store
            .create_token(workspace.id, "test", &token_hash(&token), 0)
            .await
            .unwrap();
        token
    }

    /// A client that keeps cookies and does not follow redirects, signed in as `email`.
    pub async fn signed_in(&self, email: &str) -> reqwest::Client {
        let client = client();
        let response = client
            .post(self.url("/login"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 303, "sign-in of {email}");
        client
    }
}

/// TLS for the HTTP client: the workspace builds reqwest with rustls but without a default
/// crypto provider (the sync crate picks ring), so tests install it as the process default.
pub fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub fn client() -> reqwest::Client {
    tls();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The text of an HTML page without tags (whitespace folded), for looking for figures.
pub fn visible_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Sends a request and reads the answer, for tests that only look at the body.
pub trait Fetch {
    fn text_body(self) -> impl std::future::Future<Output = String> + Send;
    fn json_body(self) -> impl std::future::Future<Output = serde_json::Value> + Send;
    /// The body of an answer that must have `status`.
    fn answered(self, status: u16) -> impl std::future::Future<Output = String> + Send;
}

impl Fetch for reqwest::RequestBuilder {
    async fn text_body(self) -> String {
        self.send().await.unwrap().text().await.unwrap()
    }

    async fn answered(self, status: u16) -> String {
        let r = self.send().await.unwrap();
        let got = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(got, status, "{body}");
        body
    }

    async fn json_body(self) -> serde_json::Value {
        self.send().await.unwrap().json().await.unwrap()
    }
}

/// Undoes the HTML escaping of the templates (`&#34;`, `&amp;`, …).
pub fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';') else { break };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// The POST forms of a page: each one's action and the fields a browser would send for it as
/// shown (text inputs, hidden inputs, checked checkboxes, textareas, selected options; buttons
/// are left out).
pub fn forms(html: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<form method=\"post\"") {
        let form = &rest[start..];
        let end = form.find("</form>").expect("a form ends");
        let body = &form[..end];
        let open_end = body.find('>').unwrap();
        let action = attribute(&body[..open_end], "action").unwrap_or_default();
        let mut fields = Vec::new();
        let mut at = 0;
        while let Some(i) = body[at..].find('<') {
            let tag_start = at + i;
            let tag_end = tag_start + body[tag_start..].find('>').unwrap();
            let tag = &body[tag_start..=tag_end];
            at = tag_end + 1;
            if tag.starts_with("<input") {
                let Some(name) = attribute(tag, "name") else {
                    continue;
                };
                let kind = attribute(tag, "type").unwrap_or_else(|| "text".into());
                match kind.as_str() {
                    "checkbox" => {
                        if tag.contains(" checked") {
                            fields.push((name, attribute(tag, "value").unwrap_or("on".into())));
                        }
                    }
                    "submit" | "button" => {}
                    _ => fields.push((name, attribute(tag, "value").unwrap_or_default())),
                }
            } else if tag.starts_with("<textarea") {
                let name = attribute(tag, "name").unwrap();
                let close = body[at..].find("</textarea>").unwrap() + at;
                // As browsers do: one line break right after the opening tag is not content.
                let content = &body[at..close];
                let content = content
                    .strip_prefix("\r\n")
                    .or_else(|| content.strip_prefix('\n'))
                    .unwrap_or(content);
                fields.push((name, unescape(content)));
                at = close;
            } else if tag.starts_with("<select") {
                let name = attribute(tag, "name").unwrap();
                let close = body[at..].find("</select>").unwrap() + at;
                let options = &body[at..close];
                let chosen = options
                    .split("<option")
                    .skip(1)
                    .find(|o| o.contains(" selected"))
                    .or_else(|| options.split("<option").nth(1))
                    .and_then(|o| attribute(&format!(" {o}"), "value"))
                    .unwrap_or_default();
                fields.push((name, chosen));
                at = close;
            }
        }
        out.push((action, fields));
        rest = &form[end..];
    }
    out
}
