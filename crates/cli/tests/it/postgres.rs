//! The binary on PostgreSQL (`--database-url`): the same figures as the embedded store, byte
//! for byte, and clear errors for what only the embedded store has.

use crate::common::{Workspace, postgres_url};

/// The demo's data in the embedded store (built by `servicemeter demo`) and imported into
/// PostgreSQL: reports and facts must be identical.
#[test]
fn reports_and_facts_are_identical_on_postgres_and_sqlite() {
    let ws = Workspace::new();
    ws.ok(&["demo"]);
    let records = ws.data_dir().join("demo-conversations.jsonl");
    let config = ws.data_dir().join("servicemeter.toml");
    let url = postgres_url();
    let records = records.to_str().unwrap();
    let config = config.to_str().unwrap();
    let on_postgres = |args: &[&str]| {
        let mut all = vec!["--database-url", url.as_str()];
        all.extend_from_slice(args);
        ws.ok(&all)
    };
    // PostgreSQL imports the file twice, the embedded store (which the demo filled) once more
    // (every record merges into a stored conversation), so merging and compaction run too.
    on_postgres(&["--config", config, "import", records]);
    ws.ok(&["--config", config, "import", records]);
    on_postgres(&["--config", config, "import", records]);
    for args in [
        &["report", "--format", "json"][..],
        &[
            "report",
            "--format",
            "json",
            "--by",
            "channel,agent,tag,week",
        ][..],
        &["report", "--from", "2024-02-01", "--to", "2024-02-29"][..],
    ] {
        let sqlite = ws.ok(args);
        let postgres = on_postgres(args);
        assert!(sqlite.len() > 1000, "{args:?}: a real report");
        assert_eq!(postgres, sqlite, "{args:?}");
    }
    let sorted = |text: String| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let facts_sqlite = sorted(ws.ok(&["facts", "--format", "jsonl"]));
    let facts_postgres = sorted(on_postgres(&["facts", "--format", "jsonl"]));
    assert_eq!(facts_sqlite.len(), 4000);
    assert_eq!(facts_postgres, facts_sqlite);
    // The embedded store and the configuration copies of the demo's three shops are in the
    // data directory; the PostgreSQL commands wrote no copy of their own.
    let mut files: Vec<String> = std::fs::read_dir(ws.data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".toml"))
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "servicemeter.bloemenhuis.toml",
            "servicemeter.fietsplaats.toml",
            "servicemeter.toml"
        ]
    );
}

#[test]
fn postgres_commands_say_what_is_wrong() {
    let ws = Workspace::new();
    // Not a PostgreSQL URL: refused, with the password left out of the message.
    let out = ws.run(&["--database-url", "mysql://root:hunter2@db/x", "report"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("only postgres:// URLs"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    // Nothing listens there: the place is named, the password is not.
    let out = ws.run(&[
        "--database-url",
        "postgres://sm:hunter2@127.0.0.1:1/none",
        "report",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot open the store in postgres://sm:***@127.0.0.1:1/none"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    // A workspace that does not exist is named; reading creates none.
    let url = postgres_url();
    let out = ws.run(&["--database-url", &url, "--workspace", "shop", "report"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("workspace 'shop' does not exist"), "{err}");
    let list = ws.ok(&["--database-url", &url, "workspace", "list"]);
    assert!(!list.contains("shop"), "{list}");
    // `config apply` has no file beside a PostgreSQL store to fall back on.
    let out = ws.run(&["--database-url", &url, "config", "apply"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("name the file to apply"), "{err}");
    // With a file it is stored in the database, and no copy is written anywhere.
    let file = ws.write("shop.toml", "timezone = \"Europe/Amsterdam\"\n");
    ws.ok(&[
        "--database-url",
        &url,
        "--workspace",
        "shop",
        "config",
        "apply",
        file.to_str().unwrap(),
    ]);
    let shown = ws.ok(&[
        "--database-url",
        &url,
        "--workspace",
        "shop",
        "config",
        "show",
    ]);
    assert_eq!(shown, "timezone = \"Europe/Amsterdam\"\n");
    assert!(!ws.data_dir().exists());
}
