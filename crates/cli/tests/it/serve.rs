//! The real binary as a server: accounts made on the command line, `serve` on port 0, and the
//! API answering with exactly what `report --format json` prints.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{fixture, run_with_stdin};

/// Runs the binary on a data directory with `stdin`; it must succeed.
fn servicemeter(data_dir: &Path, args: &[&str], stdin: &[u8]) -> std::process::Output {
    let data = data_dir.display().to_string();
    let mut all = vec!["--data-dir", data.as_str()];
    all.extend_from_slice(args);
    let out = run_with_stdin(&all, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test]
async fn served_api_answers_what_the_command_line_prints() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = fixture("config.toml");
    servicemeter(
        &data,
        &["--config", &config, "import", &fixture("nested.jsonl")],
        b"",
    );
    let added = servicemeter(
        &data,
        &["user", "add", "--role", "lead", "Lead@Shop.nl"],
        b"a long enough password\n",
    );
    assert_eq!(
        String::from_utf8_lossy(&added.stdout),
        "lead@shop.nl is lead in workspace default\n"
    );
    let short = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(&data)
        .args(["user", "add", "other@shop.nl"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!short.status.success());
    assert!(
        String::from_utf8_lossy(&short.stderr).contains("password: use at least 10 characters")
    );
    let token_out = servicemeter(&data, &["token", "add", "--name", "sync"], b"");
    let token = String::from_utf8(token_out.stdout)
        .unwrap()
        .trim()
        .to_string();
    assert!(token.starts_with("smt_"), "{token}");

    let cli_report: Value = serde_json::from_slice(
        &servicemeter(
            &data,
            &[
                "report",
                "--format",
                "json",
                "--from",
                "2024-03-04",
                "--to",
                "2024-03-10",
                "--by",
                "tag,day",
            ],
            b"",
        )
        .stdout,
    )
    .unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(&data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("SERVICEMETER_DATA_DIR")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let address = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();

    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let api: Value = client
        .get(format!(
            "http://{address}/api/v1/workspaces/default/report?from=2024-03-04&to=2024-03-10&by=tag,day"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(api, cli_report);
    assert!(api["conversations"].as_u64().unwrap() > 0);

    // The user made on the command line signs in.
    let signed_in = client
        .post(format!("http://{address}/login"))
        .form(&[
            ("email", "lead@shop.nl"),
            ("password", "a long enough password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);

    // Ctrl-C stops it cleanly.
    Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
}

#[tokio::test]
async fn demo_serve_prints_a_sign_in_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let mut server = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "demo",
            "--conversations",
            "300",
            "--serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .env_remove("SERVICEMETER_DATA_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let (mut password, mut workspace_url) = (String::new(), String::new());
    let mut line = String::new();
    while workspace_url.is_empty() {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "demo ended early");
        if let Some(rest) = line.strip_prefix("sign in as demo@servicemeter.local with password ") {
            password = rest.trim().to_string();
        }
        if let Some(rest) = line.strip_prefix("the demo workspace: ") {
            workspace_url = rest.trim().to_string();
        }
    }
    assert!(
        !workspace_url.contains(":0/"),
        "the bound port, not 0: {workspace_url}"
    );
    let base = workspace_url.trim_end_matches("/w/default").to_string();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let signed_in = client
        .post(format!("{base}/login"))
        .form(&[
            ("email", "demo@servicemeter.local"),
            ("password", password.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 303);
    // Data ends yesterday: the default period (last 7 days) has conversations.
    let page = client
        .get(&workspace_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!page.contains("Geen gesprekken in deze periode."), "{page}");
    // The home page (agency view) holds the demo's three shops, and the demo's sign-in may
    // create workspaces.
    let home = client
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for shop in ["default", "fietsplaats", "bloemenhuis"] {
        assert!(
            home.contains(&format!("href=\"/w/{shop}\"")),
            "{shop}: {home}"
        );
    }
    assert!(home.contains("action=\"/workspaces\""), "{home}");

    // A change saved on the web sticks: the next command-line report does not undo it (the
    // store is the one source of truth), and the file beside the store follows it.
    let stored = String::from_utf8(servicemeter(&data, &["config", "show"], b"").stdout).unwrap();
    assert!(stored.contains("csat_pct = 85"), "{stored}");
    let changed = stored.replace("csat_pct = 85", "csat_pct = 70");
    let saved = client
        .post(format!("{base}/w/default/settings/config"))
        .form(&[("toml", changed.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 303);
    // The server's worker recomputes in the background; `jobs list` shows it done.
    let mut listed = String::new();
    for _ in 0..200 {
        listed = String::from_utf8(servicemeter(&data, &["jobs", "list"], b"").stdout).unwrap();
        if listed.contains("\trecompute\tdone\t1/5\t") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(listed.starts_with("1\trecompute\tdone\t1/5\t"), "{listed}");
    let report: Value =
        serde_json::from_slice(&servicemeter(&data, &["report", "--format", "json"], b"").stdout)
            .unwrap();
    assert!(report["conversations"].as_u64().unwrap() > 0);
    let after = String::from_utf8(servicemeter(&data, &["config", "show"], b"").stdout).unwrap();
    assert_eq!(after, changed);
    assert_eq!(
        std::fs::read_to_string(data.join("servicemeter.toml")).unwrap(),
        changed
    );
    Command::new("kill")
        .args(["-INT", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(server.wait().unwrap().success());
}
