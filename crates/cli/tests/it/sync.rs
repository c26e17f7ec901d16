//! `servicemeter sync zendesk` against a fake Zendesk on 127.0.0.1 that serves the fixtures in
//! the API's shapes: cursor pagination, `next_page` links, a 429 with Retry-After, a 500, and
//! a failure that stops a run halfway (the next run resumes without duplicates).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

const TOKEN: &str = "zd-secret-token-123";

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sources/zendesk")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[derive(Default)]
struct Fake {
    address: Mutex<String>,
    rate_limited_once: AtomicBool,
    failed_once: AtomicBool,
    /// Ticket 102's audits fail every time while set.
    broken: AtomicBool,
    requests: AtomicU32,
    saw_429: AtomicU32,
    saw_500: AtomicU32,
}

type Shared = Arc<Fake>;

fn authorized(headers: &HeaderMap) -> bool {
    // Basic base64("agent@shop.nl/token:zd-secret-token-123")
    let expected = format!(
        "Basic {}",
        "YWdlbnRAc2hvcC5ubC90b2tlbjp6ZC1zZWNyZXQtdG9rZW4tMTIz"
    );
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some(expected.as_str())
}

async fn tickets(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let all = fixture("tickets.json")["tickets"]
        .as_array()
        .unwrap()
        .clone();
    let cursor = q
        .iter()
        .find(|(k, _)| k == "cursor")
        .map(|(_, v)| v.as_str());
    match cursor {
        None => Json(json!({"tickets": [all[0]], "after_cursor": "c1", "end_of_stream": false}))
            .into_response(),
        Some("c1") => {
            if !fake.rate_limited_once.swap(true, Ordering::SeqCst) {
                fake.saw_429.fetch_add(1, Ordering::SeqCst);
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::RETRY_AFTER, "1")],
                    "slow down",
                )
                    .into_response();
            }
            Json(json!({"tickets": [all[1]], "after_cursor": "c2", "end_of_stream": true}))
                .into_response()
        }
        Some(_) => Json(json!({"tickets": [], "after_cursor": "c2", "end_of_stream": true}))
            .into_response(),
    }
}

async fn audits(
    State(fake): State<Shared>,
    headers: HeaderMap,
    UrlPath(file): UrlPath<String>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let id: i64 = file
        .trim_end_matches("audits.json")
        .trim_end_matches('/')
        .parse()
        .unwrap_or(0);
    if id == 102
        && (fake.broken.load(Ordering::SeqCst) || !fake.failed_once.swap(true, Ordering::SeqCst))
    {
        fake.saw_500.fetch_add(1, Ordering::SeqCst);
        return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response();
    }
    let mine: Vec<Value> = fixture("audits.json")["audits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["ticket_id"] == id)
        .cloned()
        .collect();
    // Two pages for ticket 101, linked by next_page.
    let page2 = q.iter().any(|(k, v)| k == "page" && v == "2");
    let address = fake.address.lock().unwrap().clone();
    if id == 101 && !page2 {
        Json(json!({"audits": mine[..3], "next_page": format!("http://{address}/api/v2/tickets/101/audits.json?page=2")})).into_response()
    } else if id == 101 {
        Json(json!({"audits": mine[3..], "next_page": null})).into_response()
    } else {
        Json(json!({"audits": mine, "next_page": null})).into_response()
    }
}

async fn users(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let ids: Vec<i64> = q
        .iter()
        .find(|(k, _)| k == "ids")
        .map(|(_, v)| v.split(',').filter_map(|i| i.parse().ok()).collect())
        .unwrap_or_default();
    let all = fixture("users.json")["users"].as_array().unwrap().clone();
    let found: Vec<Value> = all
        .into_iter()
        .filter(|u| ids.contains(&u["id"].as_i64().unwrap()))
        .collect();
    Json(json!({"users": found})).into_response()
}

async fn ratings(State(fake): State<Shared>, headers: HeaderMap) -> Response {
    fake.requests.fetch_add(1, Ordering::SeqCst);
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    Json(json!({"satisfaction_ratings": fixture("satisfaction_ratings.json")["satisfaction_ratings"], "next_page": null})).into_response()
}

async fn fake_zendesk() -> (SocketAddr, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/api/v2/incremental/tickets/cursor.json", get(tickets))
        .route(
            "/api/v2/tickets/{id}/{file}",
            get(|s, h, UrlPath((id, _file)): UrlPath<(String, String)>, q| {
                audits(s, h, UrlPath(id), q)
            }),
        )
        .route("/api/v2/users/show_many.json", get(users))
        .route("/api/v2/satisfaction_ratings.json", get(ratings))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    *fake.address.lock().unwrap() = address.to_string();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, fake)
}

fn sync(data: &Path, address: SocketAddr) -> Output {
    Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(data)
        .arg("--config")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/always-open.toml"))
        .args([
            "sync",
            "zendesk",
            "--retry-delay",
            "0.05",
            "--attempts",
            "3",
        ])
        .env("ZENDESK_URL", format!("http://{address}"))
        .env("ZENDESK_EMAIL", "agent@shop.nl")
        .env("ZENDESK_API_TOKEN", TOKEN)
        .env_remove("SERVICEMETER_DATA_DIR")
        .output()
        .unwrap()
}

fn facts(data: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(data)
        .args(["facts", "--format", "jsonl"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_pages_through_rate_limits_and_errors() {
    let (address, fake) = fake_zendesk().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = tokio::task::spawn_blocking({
        let data = data.clone();
        move || sync(&data, address)
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("synced zendesk: 2 changed tickets in 2 batches"),
        "{stdout}"
    );
    assert_eq!(fake.saw_429.load(Ordering::SeqCst), 1);
    assert_eq!(fake.saw_500.load(Ordering::SeqCst), 1);
    assert!(
        !stdout.contains(TOKEN) && !stderr.contains(TOKEN),
        "the token is never printed"
    );
    let rows = facts(&data);
    let t101 = rows.iter().find(|f| f["conversation"] == "zd-101").unwrap();
    // The same facts as importing the exported pages (tests/sources.rs).
    assert_eq!(t101["first_response_seconds"], 1200.5);
    assert_eq!(t101["reopens"], 1);
    assert_eq!(t101["resolution_seconds"], 4500.0);
    assert_eq!(t101["agent"], "Bob");
    assert_eq!(t101["csat_score"], 2.0);
    assert!(
        rows.iter()
            .any(|f| f["conversation"] == "zd-102" && f["unanswered"] == true)
    );

    // A second run asks only for what changed after the stored cursor: nothing.
    let before = fake.requests.load(Ordering::SeqCst);
    let again = tokio::task::spawn_blocking({
        let data = data.clone();
        move || sync(&data, address)
    })
    .await
    .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 changed tickets in 1 batches"));
    // One ticket page and one ratings page.
    assert_eq!(fake.requests.load(Ordering::SeqCst) - before, 2);
    assert_eq!(facts(&data), rows);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_fails_halfway_resumes_without_duplicates() {
    let (address, fake) = fake_zendesk().await;
    fake.broken.store(true, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = tokio::task::spawn_blocking({
        let data = data.clone();
        move || sync(&data, address)
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("sync stopped; the batches before this one are stored"),
        "{stderr}"
    );
    assert!(stderr.contains("still failed after 3 attempts"), "{stderr}");
    assert!(!stderr.contains(TOKEN));
    let first = facts(&data);
    let ids: Vec<&Value> = first.iter().map(|f| &f["conversation"]).collect();
    assert_eq!(ids, ["zd-101"], "the first batch is stored");

    fake.broken.store(false, Ordering::SeqCst);
    let out = tokio::task::spawn_blocking({
        let data = data.clone();
        move || sync(&data, address)
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 changed tickets in 1 batches"));
    let all = facts(&data);
    assert_eq!(all.len(), 2);
    let t101 = all.iter().find(|f| f["conversation"] == "zd-101").unwrap();
    assert_eq!(
        t101,
        first
            .iter()
            .find(|f| f["conversation"] == "zd-101")
            .unwrap()
    );
}

fn servicemeter(data: &Path, args: &[&str], address: SocketAddr, token: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env("ZENDESK_URL", format!("http://{address}"))
        .env("ZENDESK_EMAIL", "agent@shop.nl")
        .env("ZENDESK_API_TOKEN", token)
        .env_remove("SERVICEMETER_DATA_DIR")
        .output()
        .unwrap()
}

/// `sync zendesk --every 60` stores the account; the worker (`jobs run`, as in a server) syncs
/// it at once and not again before the hour; a refused token fails the job with the vendor's
/// answer and never the token; `--unschedule` stops it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_sync_runs_as_a_job() {
    let (address, _fake) = fake_zendesk().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = move |args: &'static [&'static str], token: &'static str| {
        let data = data.clone();
        async move {
            let out =
                tokio::task::spawn_blocking(move || servicemeter(&data, args, address, token))
                    .await
                    .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    let (ok, _, stderr) = run(&["sync", "zendesk", "--every", "5"], TOKEN).await;
    assert!(!ok);
    assert!(
        stderr.contains("every: between 15 and 1440 minutes"),
        "{stderr}"
    );

    let (ok, stdout, stderr) = run(&["sync", "zendesk", "--every", "60"], TOKEN).await;
    assert!(ok, "{stderr}");
    assert!(stdout.contains("every 60 minutes"), "{stdout}");
    assert!(
        facts(&dir.path().join("data")).is_empty(),
        "nothing synced yet"
    );

    let (ok, stdout, stderr) = run(&["jobs", "run"], TOKEN).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "ran 1 jobs");
    let rows = facts(&dir.path().join("data"));
    let t101 = rows.iter().find(|f| f["conversation"] == "zd-101").unwrap();
    // The same facts as a `sync` from the command line (above).
    assert_eq!(t101["first_response_seconds"], 1200.5);
    assert_eq!(t101["agent"], "Bob");
    assert_eq!(t101["csat_score"], 2.0);
    assert_eq!(rows.len(), 2);
    let (_, list, _) = run(&["jobs", "list"], TOKEN).await;
    assert!(list.contains("\tsync zendesk\tdone\t1/5\t"), "{list}");
    // The next run is due an hour after this one ended.
    let (_, stdout, _) = run(&["jobs", "run"], TOKEN).await;
    assert_eq!(stdout.trim(), "ran 0 jobs");

    // A refused token: the job fails with Zendesk's answer and is tried again later.
    const WRONG: &str = "wrong-token-456";
    let (ok, _, stderr) = run(&["sync", "zendesk", "--every", "60"], WRONG).await;
    assert!(ok, "{stderr}");
    let (ok, stdout, stderr) = run(&["jobs", "run"], WRONG).await;
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "ran 1 jobs");
    let (_, list, stderr) = run(&["jobs", "list"], WRONG).await;
    let failed = list.lines().next().unwrap();
    assert!(failed.contains("\tsync zendesk\tqueued\t1/5\t"), "{list}");
    assert!(failed.contains("answered 401"), "{list}");
    assert!(!list.contains(WRONG) && !stderr.contains(WRONG));
    let (_, audit, _) = run(&["audit"], WRONG).await;
    assert_eq!(audit.matches("sync-schedule").count(), 2, "{audit}");
    assert!(!audit.contains(WRONG) && !audit.contains(TOKEN));

    let (ok, stdout, _) = run(&["sync", "zendesk", "--unschedule"], WRONG).await;
    assert!(ok);
    assert!(stdout.contains("no longer synced"), "{stdout}");
    let (ok, _, stderr) = run(&["sync", "zendesk", "--unschedule"], WRONG).await;
    assert!(!ok);
    assert!(stderr.contains("is not synced on a schedule"), "{stderr}");
}

#[test]
fn missing_credentials_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["sync", "zendesk"])
        .env_remove("ZENDESK_URL")
        .env_remove("ZENDESK_EMAIL")
        .env_remove("ZENDESK_API_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ZENDESK_URL is not set"));
}

fn freshdesk_fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sources/freshdesk")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[derive(Default)]
struct FakeDesk {
    rate_limited_once: AtomicBool,
    failed_once: AtomicBool,
    saw_429: AtomicU32,
    saw_500: AtomicU32,
}

fn page_of(items: Vec<Value>, q: &[(String, String)]) -> Vec<Value> {
    let get = |k: &str, d: usize| {
        q.iter()
            .find(|(n, _)| n == k)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(d)
    };
    let (per, page) = (get("per_page", 30), get("page", 1));
    items.into_iter().skip((page - 1) * per).take(per).collect()
}

fn freshdesk_authorized(headers: &HeaderMap) -> bool {
    // Basic base64("fd-key:X")
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        == Some("Basic ZmQta2V5Olg=")
}

async fn fake_freshdesk() -> (SocketAddr, Arc<FakeDesk>) {
    let fake: Arc<FakeDesk> = Arc::default();
    let tickets_route = |State(fake): State<Arc<FakeDesk>>,
                         headers: HeaderMap,
                         Query(q): Query<Vec<(String, String)>>| async move {
        if !freshdesk_authorized(&headers) {
            return StatusCode::UNAUTHORIZED.into_response();
        }
        if !fake.rate_limited_once.swap(true, Ordering::SeqCst) {
            fake.saw_429.fetch_add(1, Ordering::SeqCst);
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                "",
            )
                .into_response();
        }
        let since: jiff::Timestamp = q
            .iter()
            .find(|(k, _)| k == "updated_since")
            .unwrap()
            .1
            .parse()
            .unwrap();
        let mut all: Vec<Value> = freshdesk_fixture("tickets.json")["tickets"]
            .as_array()
            .unwrap()
            .clone();
        for t in &mut all {
            let requester = if t["requester_id"] == 11 {
                "Jan"
            } else {
                "Kim"
            };
            t["requester"] = json!({"id": t["requester_id"], "name": requester});
        }
        let at = |t: &Value| {
            t["updated_at"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .unwrap()
        };
        all.retain(|t| at(t) >= since);
        all.sort_by_key(at);
        Json(Value::from(page_of(all, &q))).into_response()
    };
    let conversations_route =
        |State(fake): State<Arc<FakeDesk>>,
         headers: HeaderMap,
         UrlPath(id): UrlPath<i64>,
         Query(q): Query<Vec<(String, String)>>| async move {
            if !freshdesk_authorized(&headers) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            if id == 201 && !fake.failed_once.swap(true, Ordering::SeqCst) {
                fake.saw_500.fetch_add(1, Ordering::SeqCst);
                return StatusCode::BAD_GATEWAY.into_response();
            }
            let all = if id == 201 {
                freshdesk_fixture("conversations-201.json")
                    .as_array()
                    .unwrap()
                    .clone()
            } else {
                Vec::new()
            };
            Json(Value::from(page_of(all, &q))).into_response()
        };
    let list = |name: &'static str| {
        move |headers: HeaderMap, Query(q): Query<Vec<(String, String)>>| async move {
            if !freshdesk_authorized(&headers) {
                return StatusCode::UNAUTHORIZED.into_response();
            }
            Json(Value::from(page_of(
                freshdesk_fixture(name).as_array().unwrap().clone(),
                &q,
            )))
            .into_response()
        }
    };
    let app = Router::new()
        .route("/api/v2/tickets", get(tickets_route))
        .route(
            "/api/v2/tickets/{id}/conversations",
            get(conversations_route),
        )
        .route("/api/v2/agents", get(list("agents.json")))
        .route(
            "/api/v2/surveys/satisfaction_ratings",
            get(list("satisfaction_ratings.json")),
        )
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (address, fake)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freshdesk_sync_pages_tickets_and_conversations() {
    let (address, fake) = fake_freshdesk().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let run = {
        let data = data.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_servicemeter"))
                .arg("--data-dir")
                .arg(&data)
                .arg("--config")
                .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/always-open.toml"))
                // One ticket per page: several batches, the same instant twice, conversations
                // over several pages.
                .args([
                    "sync",
                    "freshdesk",
                    "--retry-delay",
                    "0.05",
                    "--page-size",
                    "1",
                ])
                .env("FRESHDESK_URL", format!("http://{address}"))
                .env("FRESHDESK_API_KEY", "fd-key")
                .env_remove("SERVICEMETER_DATA_DIR")
                .output()
                .unwrap()
        }
    };
    let out = tokio::task::spawn_blocking(run.clone()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(!stdout.contains("fd-key") && !stderr.contains("fd-key"));
    assert_eq!(fake.saw_429.load(Ordering::SeqCst), 1);
    assert_eq!(fake.saw_500.load(Ordering::SeqCst), 1);
    let rows = facts(&data);
    assert_eq!(rows.len(), 3);
    let t = rows.iter().find(|f| f["conversation"] == "fd-201").unwrap();
    // The same facts as importing the exported pages (tests/sources.rs).
    assert_eq!(t["first_response_seconds"], 3600.0);
    assert_eq!(t["resolution_seconds"], 14400.0);
    assert_eq!(t["agent"], "Piet");
    assert_eq!(t["agent_turns"], 2);
    assert_eq!(t["csat_score"], 6.0);
    assert!(
        rows.iter()
            .any(|f| f["conversation"] == "fd-202" && f["unanswered"] == true)
    );
    // Again: nothing new, nothing doubled.
    let out = tokio::task::spawn_blocking(run).await.unwrap();
    assert!(out.status.success());
    assert_eq!(facts(&data), rows);
}
