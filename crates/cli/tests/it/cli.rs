//! Drives the real `servicemeter` binary against temporary data directories and the fixtures
//! in tests/fixtures (hand-computed expectations are in the comments).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{Workspace, fixture, run_with_stdin};

/// `facts --format jsonl` straight from a fixture, with the fixture configuration.
fn facts_of_fixture(ws: &Workspace, name: &str) -> String {
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "facts",
        "--format",
        "jsonl",
        "--input",
        &fixture(name),
    ])
}

fn rows(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn facts_match_hand_computed_values() {
    let ws = Workspace::new();
    let facts = rows(&facts_of_fixture(&ws, "nested.jsonl"));
    assert_eq!(facts.len(), 4);
    let c1 = &facts[0];
    assert_eq!(c1["conversation"], "c1");
    // Customer 08:30, desk opens 09:00, Anna replies 09:20: 50 min on the clock, 20 open.
    assert_eq!(c1["first_response_seconds"], 3000.0);
    assert_eq!(c1["first_response_business_seconds"], 1200.0);
    assert_eq!(c1["resolution_seconds"], 5400.0);
    assert_eq!(c1["resolution_business_seconds"], 3600.0);
    assert_eq!(c1["one_touch"], true);
    assert_eq!(c1["agent"], "Anna");
    assert_eq!(c1["team"], "Webshop", "the record's team is kept");
    let c2 = &facts[1];
    assert_eq!(c2["team"], serde_json::Value::Null);
    assert_eq!(c2["channel"], "chat");
    assert_eq!(c2["agent"], "Bob");
    assert_eq!(c2["first_response_seconds"], 90.0);
    assert_eq!(c2["reopens"], 1);
    assert_eq!(c2["first_resolution_seconds"], 300.0);
    assert_eq!(c2["resolution_seconds"], 2400.0);
    assert_eq!(c2["agent_turns"], 2);
    assert_eq!(c2["customer_messages"], 2);
    assert_eq!(c2["agent_messages"], 2);
    assert_eq!(c2["one_touch"], false);
    assert_eq!(c2["csat_score"], 4.0, "the latest answer wins");
    let c3 = &facts[2];
    assert_eq!(c3["inbound"], true);
    assert_eq!(c3["unanswered"], true);
    assert_eq!(c3["first_response_seconds"], Value::Null);
    assert_eq!(c3["agent"], Value::Null);
    let c4 = &facts[3];
    assert_eq!(c4["inbound"], false);
    assert_eq!(c4["resolution_seconds"], 600.0);
    assert_eq!(c4["nps_score"], 10.0);
}

#[test]
fn report_json_contract_with_hand_computed_values() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    let r = ws.json(&["report", "--format", "json"]);
    assert_eq!(r["conversations"], 4);
    let fr = &r["first_response"];
    assert_eq!(fr["count"], 2);
    assert_eq!(fr["unanswered"], 1);
    assert_eq!(fr["median_business_seconds"], 645.0); // (90 + 1200) / 2
    assert_eq!(fr["median_seconds"], 1545.0); // (90 + 3000) / 2
    assert_eq!(fr["mean_business_seconds"], 645.0);
    // p90 of [90, 1200]: 90 + 0.9 × 1110
    assert!((fr["p90_business_seconds"].as_f64().unwrap() - 1089.0).abs() < 1e-9);
    assert_eq!(fr["within_target_pct"], 100.0);
    let res = &r["resolution"];
    assert_eq!(res["resolved"], 3);
    assert_eq!(res["median_business_seconds"], 2400.0); // of 3600, 2400, 600
    assert_eq!(res["reopened_conversations"], 1);
    assert_eq!(res["one_touch"], 2);
    assert_eq!(r["csat"]["responses"], 2);
    assert_eq!(r["csat"]["satisfied_pct"], 100.0);
    assert_eq!(r["csat"]["average"], 4.5);
    assert_eq!(r["nps"]["responses"], 1);
    assert_eq!(r["nps"]["score"], 100.0);
    assert_eq!(r["ces"]["responses"], 0);
    assert_eq!(r["ces"]["average"], Value::Null);
    assert_eq!(r["by_channel"]["email"]["conversations"], 2);
    assert_eq!(
        r["by_channel"]["chat"]["first_response"]["median_seconds"],
        90.0
    );
    assert_eq!(r["by_agent"]["Anna"]["conversations"], 2);
    assert_eq!(r["by_agent"]["(unassigned)"]["conversations"], 1);
}

#[test]
fn nested_and_flat_shuffled_forms_give_identical_results() {
    let ws = Workspace::new();
    assert_eq!(
        facts_of_fixture(&ws, "nested.jsonl"),
        facts_of_fixture(&ws, "flat.jsonl")
    );
}

#[test]
fn report_from_files_equals_report_from_store() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("flat.jsonl")]);
    for args in [
        vec!["report", "--format", "json", "--by", "tag,day,week,month"],
        vec![
            "report",
            "--format",
            "json",
            "--from",
            "2024-03-05",
            "--to",
            "2024-03-06",
        ],
    ] {
        let from_store = ws.json(&args);
        let mut file_args = vec!["--config", config.as_str()];
        file_args.extend(args.iter().copied());
        let nested = fixture("nested.jsonl");
        file_args.extend(["--input", nested.as_str()]);
        let from_file = ws.json(&file_args);
        assert_eq!(from_store, from_file, "{args:?}");
    }
    let facts_store = ws.ok(&["facts", "--format", "csv"]);
    let facts_file = ws.ok(&[
        "--config",
        &config,
        "facts",
        "--format",
        "csv",
        "--input",
        &fixture("nested.jsonl"),
    ]);
    assert_eq!(facts_store, facts_file);
}

#[test]
fn import_is_idempotent() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    let first = ws.ok(&["facts", "--format", "jsonl"]);
    let again = ws.ok(&["import", &fixture("nested.jsonl")]);
    assert!(again.contains("(0 new, 4 updated)"), "{again}");
    ws.ok(&["import", &fixture("flat.jsonl")]);
    assert_eq!(ws.ok(&["facts", "--format", "jsonl"]), first);
    let report = ws.json(&["report", "--format", "json"]);
    assert_eq!(report["conversations"], 4);
}

#[test]
fn a_record_with_the_same_id_updates_it() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    let update = ws.dir.path().join("update.jsonl");
    std::fs::write(
        &update,
        concat!(
            r#"{"type":"message","conversation":"c1","id":"m2","at":"2024-03-04T09:05:00+01:00","author":"agent","agent":"Anna"}"#,
            "\n",
            r#"{"type":"conversation","id":"c3","channel":"whatsapp","created_at":"2024-03-05T16:30:00+01:00"}"#,
            "\n"
        ),
    )
    .unwrap();
    ws.ok(&["import", update.to_str().unwrap()]);
    let facts = rows(&ws.ok(&["facts", "--format", "jsonl"]));
    // m2 moved from 09:20 to 09:05: 5 open minutes after 09:00.
    assert_eq!(facts[0]["first_response_business_seconds"], 300.0);
    assert_eq!(facts[0]["agent_messages"], 1);
    assert_eq!(facts[2]["channel"], "whatsapp");
}

#[test]
fn bad_input_names_file_line_and_field_and_stores_nothing() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    let before = ws.ok(&["facts", "--format", "jsonl"]);
    let out = ws.run(&["import", &fixture("bad.jsonl")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "bad.jsonl:4: field `messages[0].at`: '2024-03-07 10:05' is not an RFC 3339 timestamp"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    // c9 (line 1) and the message for c1 (line 2) were valid but must not be stored.
    assert_eq!(ws.ok(&["facts", "--format", "jsonl"]), before);
}

#[test]
fn skip_invalid_stores_the_valid_records_and_writes_rejects() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    let rejects = ws.dir.path().join("rejects.jsonl");
    let out = ws.ok(&[
        "import",
        "--skip-invalid",
        "--rejects",
        rejects.to_str().unwrap(),
        &fixture("bad.jsonl"),
    ]);
    assert!(out.contains("rejected 2 records"), "{out}");
    let rejected = rows(&std::fs::read_to_string(&rejects).unwrap());
    assert_eq!(rejected.len(), 2);
    assert_eq!(rejected[0]["line"], 4);
    assert_eq!(rejected[0]["field"], "messages[0].at");
    assert_eq!(rejected[1]["line"], 5);
    assert_eq!(rejected[1]["field"], "author");
    assert!(rejected[1]["record"].as_str().unwrap().contains("robot"));
    let facts = rows(&ws.ok(&["facts", "--format", "jsonl"]));
    assert_eq!(facts.len(), 5, "c9 was added");
    // c1 got a customer message on 7 March after being resolved: an implicit reopen.
    assert_eq!(facts[0]["reopens"], 1);
    assert_eq!(facts[0]["resolved"], false);
}

#[test]
fn changing_the_configuration_recomputes_the_facts() {
    let ws = Workspace::new();
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "import",
        &fixture("nested.jsonl"),
    ]);
    // `--config` on an import stored the configuration and wrote the copy beside the store.
    let copy = ws.data_dir().join("servicemeter.toml");
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        std::fs::read_to_string(fixture("config.toml")).unwrap()
    );
    // Reading commands write nothing to the store.
    let db = ws.data_dir().join("servicemeter.db");
    let stamp = |p: &Path| {
        let m = std::fs::metadata(p).unwrap();
        (m.modified().unwrap(), m.len())
    };
    let db_before = stamp(&db);
    let before = rows(&ws.ok(&["facts", "--format", "jsonl"]));
    assert_eq!(before[0]["first_response_business_seconds"], 1200.0);
    ws.ok(&["report", "--format", "json"]);
    ws.ok(&["config", "show"]);
    assert_eq!(stamp(&db), db_before);
    // Nor does one given another configuration: it refuses it.
    let out = ws.run(&[
        "--config",
        &fixture("always-open.toml"),
        "facts",
        "--format",
        "jsonl",
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("differs from the stored configuration")
            && stderr.contains("servicemeter config apply"),
        "{stderr}"
    );
    assert_eq!(stamp(&db), db_before);
    // `config apply` says what changed and recomputes.
    let applied = ws.ok(&["config", "apply", &fixture("always-open.toml")]);
    assert!(
        applied.contains("recomputed the facts of 4 conversations"),
        "{applied}"
    );
    assert!(applied.contains("~ opening_hours.mon"), "{applied}");
    let facts = rows(&ws.ok(&["facts", "--format", "jsonl"]));
    assert_eq!(facts[0]["first_response_business_seconds"], 3000.0);
    // The configuration is now stored, and the copy rewritten.
    assert_eq!(
        std::fs::read_to_string(&copy).unwrap(),
        std::fs::read_to_string(fixture("always-open.toml")).unwrap()
    );
    // A hand edit of the copy is not in force until applied: report says so and keeps the
    // stored configuration.
    std::fs::write(
        &copy,
        std::fs::read_to_string(fixture("config.toml")).unwrap(),
    )
    .unwrap();
    let out = ws.run(&["facts", "--format", "jsonl"]);
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not in force"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let facts = rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(facts[0]["first_response_business_seconds"], 3000.0);
    let applied = ws.ok(&["config", "apply"]);
    assert!(
        applied.contains("recomputed the facts of 4 conversations"),
        "{applied}"
    );
    let facts = rows(&ws.ok(&["facts", "--format", "jsonl"]));
    assert_eq!(facts[0]["first_response_business_seconds"], 1200.0);
    assert_eq!(
        ws.ok(&["config", "show"]),
        std::fs::read_to_string(fixture("config.toml")).unwrap()
    );
    let again = ws.ok(&["config", "apply"]);
    assert!(again.contains("no change"), "{again}");
}

#[test]
fn reading_commands_need_a_store_and_create_nothing() {
    let ws = Workspace::new();
    for command in [&["report"][..], &["facts"][..], &["config", "show"][..]] {
        let out = ws.run(command);
        assert!(!out.status.success(), "{command:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("there is no store in"), "{stderr}");
        assert!(
            !ws.data_dir().exists(),
            "{command:?} created the data directory"
        );
    }
}

#[test]
fn workspaces_are_chosen_by_name() {
    let ws = Workspace::new();
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "--workspace",
        "bakkerij",
        "import",
        &fixture("nested.jsonl"),
    ]);
    assert!(ws.data_dir().join("servicemeter.bakkerij.toml").exists());
    let out = ws.run(&["report"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("workspace 'default' does not exist"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_str(
        &String::from_utf8(
            Command::new(env!("CARGO_BIN_EXE_servicemeter"))
                .args(["--data-dir", ws.data_dir().to_str().unwrap()])
                .args(["report", "--format", "json"])
                .env("SERVICEMETER_WORKSPACE", "bakkerij")
                .env_remove("SERVICEMETER_DATA_DIR")
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(r["conversations"], 4);
    let out = ws.run(&["--workspace", "Bakkerij!", "report"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--workspace"));
}

#[test]
fn files_in_another_format_get_a_hint() {
    let ws = Workspace::new();
    let csv = ws.dir.path().join("tweets.csv");
    std::fs::write(
        &csv,
        "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n1,a,True,Tue Oct 31 22:10:47 +0000 2017,hi,,\n",
    )
    .unwrap();
    let out = ws.run(&["import", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("import it with --source twitter"),
        "{stderr}"
    );
    let zendesk = ws.dir.path().join("tickets.json");
    std::fs::write(&zendesk, "{\n  \"audits\": []\n}\n").unwrap();
    let out = ws.run(&["import", zendesk.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--source zendesk"), "{stderr}");
    let out = ws.run(&["import", "--source", "zendsk", zendesk.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("did you mean zendesk?"), "{stderr}");
}

#[test]
fn config_errors_name_the_file_and_key() {
    let ws = Workspace::new();
    let bad = ws.dir.path().join("bad.toml");
    std::fs::write(&bad, "[opening_hours]\nsat = \"10:00-25:00\"\n").unwrap();
    let out = ws.run(&[
        "--config",
        bad.to_str().unwrap(),
        "import",
        &fixture("nested.jsonl"),
    ]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml: opening_hours.sat: '25:00'"),
        "{stderr}"
    );
}

#[test]
fn gzip_and_stdin_inputs() {
    let ws = Workspace::new();
    let gz = ws.dir.path().join("nested.jsonl.gz");
    let mut encoder = flate2_writer(&gz);
    encoder
        .write_all(&std::fs::read(fixture("nested.jsonl")).unwrap())
        .unwrap();
    encoder.finish().unwrap();
    let config = fixture("config.toml");
    let from_gz = ws.ok(&[
        "--config",
        &config,
        "facts",
        "--format",
        "jsonl",
        "--input",
        gz.to_str().unwrap(),
    ]);
    let data_dir = ws.data_dir();
    let out = run_with_stdin(
        &[
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--config",
            &config,
            "import",
            "-",
        ],
        &std::fs::read(fixture("flat.jsonl")).unwrap(),
    );
    assert!(out.status.success());
    assert_eq!(ws.ok(&["facts", "--format", "jsonl"]), from_gz);
}

fn flate2_writer(path: &Path) -> GzFile {
    GzFile(Some(flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    )))
}

struct GzFile(Option<flate2::write::GzEncoder<std::fs::File>>);

impl GzFile {
    fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.0.as_mut().unwrap().write_all(bytes)
    }
    fn finish(mut self) -> std::io::Result<()> {
        self.0.take().unwrap().finish().map(|_| ())
    }
}

#[test]
fn period_report_shows_the_previous_period() {
    let ws = Workspace::new();
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "import",
        &fixture("nested.jsonl"),
    ]);
    let r = ws.json(&[
        "report",
        "--format",
        "json",
        "--from",
        "2024-03-05",
        "--to",
        "2024-03-06",
    ]);
    assert_eq!(r["period"]["from"], "2024-03-05");
    assert_eq!(r["conversations"], 2); // c3 and c4
    assert_eq!(r["previous"]["period"]["from"], "2024-03-03");
    assert_eq!(r["previous"]["period"]["to"], "2024-03-04");
    assert_eq!(r["previous"]["conversations"], 2); // c1 and c2
    let csv = ws.ok(&["report", "--format", "csv", "--by", "channel"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("group,key,conversations,"));
    assert!(lines[1].starts_with("total,all,4,2,1,645,"), "{}", lines[1]);
    assert_eq!(lines.len(), 1 + 1 + 3);
}

#[test]
fn demo_builds_a_workspace_and_its_table_fits_80_columns() {
    let ws = Workspace::new();
    let out = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .args(["demo", "--conversations", "600"])
        .current_dir(ws.dir.path())
        .env_remove("SERVICEMETER_DATA_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("imported 600 records"), "{text}");
    assert!(text.contains("By agent"));
    assert!(text.contains("Jesse Bos"));
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
    assert!(
        ws.dir
            .path()
            .join("servicemeter-demo/servicemeter.db")
            .exists()
    );
    // Running it again replaces the old demo.
    let again = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .args(["demo", "--conversations", "100"])
        .current_dir(ws.dir.path())
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("holds 100 conversations"));
}

#[test]
fn demo_refuses_to_overwrite_a_foreign_directory() {
    let ws = Workspace::new();
    let dir = ws.dir.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("precious.txt"), "keep").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .args(["--data-dir", dir.to_str().unwrap(), "demo"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(dir.join("precious.txt").exists());
}

#[test]
fn report_from_a_bad_file_names_file_line_and_field() {
    let ws = Workspace::new();
    let out = ws.run(&["report", "--input", &fixture("bad.jsonl")]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl:4: field `messages[0].at`"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no report is printed");
}

#[test]
fn report_from_stdin_equals_report_from_the_file() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    let from_file = ws.ok(&[
        "--config",
        &config,
        "report",
        "--format",
        "json",
        "--input",
        &fixture("flat.jsonl"),
    ]);
    let out = run_with_stdin(
        &[
            "--config", &config, "report", "--format", "json", "--input", "-",
        ],
        &std::fs::read(fixture("flat.jsonl")).unwrap(),
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), from_file);
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::{BufRead, BufReader};
    let ws = Workspace::new();
    let file = ws.dir.path().join("many.jsonl");
    ws.ok(&[
        "generate",
        "--conversations",
        "3000",
        "--output",
        file.to_str().unwrap(),
    ]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .args(["facts", "--input", file.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("conversation,channel,agent"));
    // stdout is closed here; the rest of the output meets a closed pipe.
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn report_dates_are_checked() {
    let ws = Workspace::new();
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "import",
        &fixture("nested.jsonl"),
    ]);
    for (args, message) in [
        (
            vec!["report", "--from", "9999-12-30", "--to", "9999-12-31"],
            "--from 9999-12-30 is outside the years 1970–2199",
        ),
        (
            vec!["report", "--from", "2024-03-05", "--to", "2024-03-04"],
            "--to 2024-03-04 is before --from 2024-03-05",
        ),
    ] {
        let out = ws.run(&args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

/// Agent rules in the configuration: an alias merges Bob into Anna, an excluded agent's
/// conversations leave every figure; the store and the file path agree.
#[test]
fn agent_rules_merge_and_exclude_in_both_paths() {
    let ws = Workspace::new();
    let base = std::fs::read_to_string(fixture("config.toml")).unwrap();
    let plain: Value = ws.json(&[
        "--config",
        &fixture("config.toml"),
        "report",
        "--format",
        "json",
        "--input",
        &fixture("nested.jsonl"),
    ]);
    let count =
        |r: &Value, agent: &str| r["by_agent"][agent]["conversations"].as_u64().unwrap_or(0);
    let (anna, bob, total) = (
        count(&plain, "Anna"),
        count(&plain, "Bob"),
        plain["conversations"].as_u64().unwrap(),
    );
    assert!(anna > 0 && bob > 0, "{plain}");

    let merged = ws.dir.path().join("merged.toml");
    std::fs::write(
        &merged,
        format!("{base}\n[agents.aliases]\nBob = \"Anna\"\n"),
    )
    .unwrap();
    let by_file: Value = ws.json(&[
        "--config",
        merged.to_str().unwrap(),
        "report",
        "--format",
        "json",
        "--input",
        &fixture("nested.jsonl"),
    ]);
    assert_eq!(count(&by_file, "Anna"), anna + bob);
    assert!(by_file["by_agent"].get("Bob").is_none());
    ws.ok(&[
        "--config",
        merged.to_str().unwrap(),
        "import",
        &fixture("nested.jsonl"),
    ]);
    let by_store: Value = ws.json(&["report", "--format", "json"]);
    assert_eq!(by_store, by_file);

    let excluded = ws.dir.path().join("excluded.toml");
    std::fs::write(
        &excluded,
        format!("{base}\n[agents]\nexclude = [\"Anna\"]\n"),
    )
    .unwrap();
    ws.ok(&["config", "apply", excluded.to_str().unwrap()]);
    let without: Value = ws.json(&["report", "--format", "json"]);
    assert_eq!(without["conversations"].as_u64().unwrap(), total - anna);
    assert!(without["by_agent"].get("Anna").is_none());
}

/// `jobs run` does the queued work without a server; `jobs list` and `jobs retry` show and
/// requeue jobs; errors name the job.
#[test]
fn jobs_are_listed_run_and_retried_from_the_command_line() {
    let ws = Workspace::new();
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "import",
        &fixture("nested.jsonl"),
    ]);
    assert_eq!(ws.ok(&["jobs", "list"]), "", "no jobs yet");
    assert_eq!(ws.ok(&["jobs", "run"]), "ran 0 jobs\n");
    let out = ws.run(&["jobs", "retry", "7"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("workspace default has no failed job 7"),
        "{err}"
    );
    let out = ws.run(&["--workspace", "nope", "jobs", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("workspace 'nope' does not exist"));
}

/// `backup` copies the store; `restore` puts it back (only with --replace over a store, only a
/// real backup); the figures are those of the moment of the backup.
#[test]
fn backup_and_restore_the_embedded_store() {
    let ws = Workspace::new();
    ws.ok(&[
        "--config",
        &fixture("config.toml"),
        "import",
        &fixture("nested.jsonl"),
    ]);
    let at_backup = ws.ok(&["report", "--format", "json"]);
    let file = ws.dir.path().join("backup.db");
    let out = ws.ok(&["backup", file.to_str().unwrap()]);
    assert!(out.starts_with("backed up 1 workspaces with "), "{out}");
    let refused = ws.run(&["backup", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("exists already"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // More data after the backup.
    let more = ws.dir.path().join("more.jsonl");
    ws.ok(&[
        "generate",
        "--conversations",
        "40",
        "--output",
        more.to_str().unwrap(),
    ]);
    ws.ok(&["import", more.to_str().unwrap()]);
    assert_ne!(ws.ok(&["report", "--format", "json"]), at_backup);

    let refused = ws.run(&["restore", file.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("give --replace"));
    let not_a_backup = ws.write("notes.txt", "just some text\n");
    let refused = ws.run(&["restore", "--replace", not_a_backup.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(
        err.contains("notes.txt is not a servicemeter backup"),
        "{err}"
    );
    // Nothing was touched by the refusals.
    assert_ne!(ws.ok(&["report", "--format", "json"]), at_backup);

    let out = ws.ok(&["restore", "--replace", file.to_str().unwrap()]);
    assert!(out.starts_with("restored 1 workspaces with "), "{out}");
    assert_eq!(ws.ok(&["report", "--format", "json"]), at_backup);

    // PostgreSQL has its own tools; said before connecting anywhere.
    let out = ws.run(&[
        "--database-url",
        "postgres://nobody@127.0.0.1:1/none",
        "backup",
        "x.db",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use pg_dump"));
}

/// `erase-customer` through the binary: texts and the customer leave, the facts stay, the
/// audit log says who and what (by hash).
#[test]
fn a_customer_is_erased_and_the_audit_log_says_so() {
    let ws = Workspace::new();
    let file = ws.write(
        "c.jsonl",
        concat!(
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2024-03-04T09:00:00Z","customer":"jan@example.nl","subject":"Bestelling","messages":[{"at":"2024-03-04T09:00:00Z","author":"customer","text":"Mijn adres is Dorpsstraat 1"},{"at":"2024-03-04T09:30:00Z","author":"agent","agent":"Anna","text":"Dag Jan"}]}"#,
            "\n",
            r#"{"type":"conversation","id":"c2","channel":"chat","created_at":"2024-03-04T10:00:00Z","customer":"piet@example.nl","messages":[{"at":"2024-03-04T10:00:00Z","author":"customer","text":"Hoi"}]}"#,
            "\n"
        ),
    );
    ws.ok(&["import", file.to_str().unwrap()]);
    let facts_before = ws.ok(&["facts", "--format", "jsonl"]);
    let out = ws.ok(&["erase-customer", "jan@example.nl"]);
    assert!(
        out.contains("erased the personal data of 1 conversations of jan@example.nl (sha256:"),
        "{out}"
    );
    assert_eq!(ws.ok(&["facts", "--format", "jsonl"]), facts_before);
    let audit = ws.ok(&["audit"]);
    let lines: Vec<&str> = audit.lines().collect();
    assert_eq!(lines.len(), 1, "{audit}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert!(
        fields[1].starts_with("command line (system user "),
        "{audit}"
    );
    assert_eq!(fields[2], "erase-customer");
    assert!(fields[3].starts_with("customer sha256:"), "{audit}");
    assert!(fields[3].ends_with(": personal data of 1 conversations erased"));
    assert!(!audit.contains("jan@"));
    let out = ws.run(&["erase-customer", " "]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name the customer"));
}

/// `retention` applies the workspace's setting at once; without one it says what to set.
#[test]
fn retention_removes_old_texts_on_request() {
    let ws = Workspace::new();
    let file = ws.write(
        "c.jsonl",
        concat!(
            r#"{"type":"conversation","id":"c1","channel":"email","created_at":"2020-03-04T09:00:00Z","messages":[{"at":"2020-03-04T09:00:00Z","author":"customer","text":"oud"}]}"#,
            "\n"
        ),
    );
    ws.ok(&["import", file.to_str().unwrap()]);
    let out = ws.run(&["retention"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no retention setting"));
    let config = ws.write(
        "keep.toml",
        "timezone = \"UTC\"\n[retention]\nmessage_texts_months = 12\n",
    );
    ws.ok(&["config", "apply", config.to_str().unwrap()]);
    let facts = ws.ok(&["facts", "--format", "jsonl"]);
    let out = ws.ok(&["retention"]);
    assert_eq!(
        out,
        "workspace default: message texts and survey comments older than 12 months removed from 1 conversations\n"
    );
    assert_eq!(ws.ok(&["facts", "--format", "jsonl"]), facts);
    assert!(ws.ok(&["audit"]).contains("\tretention\t"));
}

/// `--compare year` compares with the same dates a year earlier; a named period of the past
/// (`last-year`, counted from today) is a whole calendar year against the year before; bad
/// names are refused with the choices.
#[test]
fn report_compares_with_a_year_earlier_and_takes_named_periods() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    // 4–6 March 2025 has nothing; the same dates in 2024 hold all four conversations.
    let r = ws.json(&[
        "report",
        "--from",
        "2025-03-04",
        "--to",
        "2025-03-06",
        "--compare",
        "year",
        "--format",
        "json",
    ]);
    assert_eq!(r["conversations"], 0);
    assert_eq!(r["previous"]["against"], "year_earlier");
    assert_eq!(r["previous"]["period"]["from"], "2024-03-04");
    assert_eq!(r["previous"]["period"]["to"], "2024-03-06");
    assert_eq!(r["previous"]["conversations"], 4);
    let table = ws.ok(&[
        "report",
        "--from",
        "2025-03-04",
        "--to",
        "2025-03-06",
        "--compare",
        "year",
    ]);
    assert!(
        table.contains("compared with a year earlier: 2024-03-04 to 2024-03-06"),
        "{table}"
    );
    // Last year, whatever today is: 1 January to 31 December, against the year before.
    let r = ws.json(&["report", "--period", "last-year", "--format", "json"]);
    let year: i64 = r["period"]["from"].as_str().unwrap()[..4].parse().unwrap();
    assert_eq!(r["period"]["from"], format!("{year}-01-01"));
    assert_eq!(r["period"]["to"], format!("{year}-12-31"));
    assert_eq!(
        r["previous"]["period"]["from"],
        format!("{}-01-01", year - 1)
    );
    assert_eq!(r["previous"]["period"]["to"], format!("{}-12-31", year - 1));
    assert!(r["period"].get("until").is_none(), "last year is over");

    let out = ws.run(&["report", "--period", "fortnight"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--period fortnight") && err.contains("last-quarter"),
        "{err}"
    );
    let out = ws.run(&["report", "--compare", "decade"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("--compare decade"));
    let out = ws.run(&["report", "--period", "month", "--from", "2024-03-01"]);
    assert!(
        !out.status.success(),
        "--period and --from exclude each other"
    );
}

/// `report --channel/--team/--agent/--tag` filter every figure; several values of one kind are
/// alternatives. The fixture: c1 e-mail (team Webshop), c2 chat, c3 e-mail, c4 phone.
#[test]
fn report_filters_by_channel_team_agent_and_tag() {
    let ws = Workspace::new();
    let config = fixture("config.toml");
    ws.ok(&["--config", &config, "import", &fixture("nested.jsonl")]);
    let r = ws.json(&["report", "--channel", "email", "--format", "json"]);
    assert_eq!(r["conversations"], 2);
    assert_eq!(r["by_channel"].as_object().unwrap().len(), 1);
    let r = ws.json(&[
        "report",
        "--channel",
        "email",
        "--channel",
        "chat",
        "--format",
        "json",
    ]);
    assert_eq!(r["conversations"], 3);
    let r = ws.json(&[
        "report", "--team", "Webshop", "--by", "team", "--format", "json",
    ]);
    assert_eq!(r["conversations"], 1);
    assert_eq!(r["by_team"]["Webshop"]["conversations"], 1);
    let r = ws.json(&["report", "--agent", "(unassigned)", "--format", "json"]);
    assert_eq!(r["conversations"], 1);
}

/// `surveys plan`, `list`, `link` and `unsubscribe` on conversations resolved two hours ago
/// (planning compares with the real clock).
#[test]
fn surveys_are_planned_listed_linked_and_unsubscribed_from_the_command_line() {
    let now = jiff::Timestamp::now().as_millisecond();
    let at = |millis: i64| servicemeter_core::time::format_utc(millis);
    let hour = 3_600_000;
    let conversation = |id: &str, email: &str| {
        format!(
            r#"{{"type":"conversation","id":"{id}","channel":"email","created_at":"{}","customer_email":"{email}","messages":[{{"at":"{}","author":"customer"}},{{"at":"{}","author":"agent","agent":"Anna"}}],"events":[{{"at":"{}","event":"resolved"}}]}}"#,
            at(now - 3 * hour),
            at(now - 3 * hour),
            at(now - 150 * 60_000),
            at(now - 2 * hour)
        )
    };
    let d = Workspace::new();
    let config = d.write(
        "servicemeter.toml",
        "[opening_hours]\nmon = \"00:00-24:00\"\ntue = \"00:00-24:00\"\nwed = \"00:00-24:00\"\n\
         thu = \"00:00-24:00\"\nfri = \"00:00-24:00\"\nsat = \"00:00-24:00\"\nsun = \"00:00-24:00\"\n\
         [surveys.csat]\n",
    );
    let records = d.write(
        "records.jsonl",
        &[
            conversation("c1", "jan@example.nl"),
            conversation("c2", "piet@example.nl"),
        ]
        .join("\n"),
    );
    d.ok(&[
        "--config",
        config.to_str().unwrap(),
        "import",
        records.to_str().unwrap(),
    ]);
    let planned = d.ok(&["surveys", "plan"]);
    assert!(
        planned.contains("2 conversations read, 2 invitations planned, 0 cancelled"),
        "{planned}"
    );
    let list = d.ok(&["surveys", "list"]);
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{list}");
    // Resolved two hours ago, asked an hour after: due an hour ago, in Dutch.
    let due = jiff::Timestamp::from_millisecond((now - hour).div_euclid(1000) * 1000)
        .unwrap()
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert_eq!(rows[0][..5], ["c1", "csat", "planned", due.as_str(), "nl"]);
    assert_eq!(rows[0][5], "jan@example.nl");

    let url = d.ok(&[
        "surveys",
        "link",
        "c1",
        "--public-url",
        "https://stats.example.nl/",
    ]);
    assert!(
        url.starts_with("https://stats.example.nl/s/default/"),
        "{url}"
    );
    let refused = |args: &[&str], says: &str| {
        let out = d.run(args);
        assert!(!out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(text.contains(says), "{args:?}: {text}");
    };
    refused(
        &["surveys", "link", "c9", "--public-url", "https://x.nl"],
        "no conversation c9",
    );
    refused(
        &[
            "surveys",
            "link",
            "c1",
            "--kind",
            "nps",
            "--public-url",
            "https://x.nl",
        ],
        "[surveys.nps]",
    );
    refused(
        &["surveys", "link", "c1", "--public-url", "stats.example.nl"],
        "--public-url: 'stats.example.nl' is not an http:// or https:// address",
    );

    let out = d.ok(&["surveys", "unsubscribe", " Piet@Example.nl "]);
    assert!(
        out.contains("piet@example.nl will not be surveyed again"),
        "{out}"
    );
    let list = d.ok(&["surveys", "list"]);
    assert!(
        list.lines()
            .any(|l| l.starts_with("c2\tcsat\tcancelled\t") && l.ends_with("unsubscribed")),
        "{list}"
    );
    refused(
        &["surveys", "unsubscribe", "piet"],
        "'piet' is not an e-mail address",
    );
}
