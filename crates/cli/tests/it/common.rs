//! Helpers shared by the command-line tests: fixture paths, and a temporary data directory to
//! run the real binary against.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The path of a file in tests/fixtures.
pub fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// A temporary directory with a data directory `data` in it, and arguments every command of
/// the test gets (e.g. a `--config`).
pub struct Workspace {
    pub dir: tempfile::TempDir,
    always: Vec<String>,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().unwrap(),
            always: Vec::new(),
        }
    }

    /// Every command gets `--config FILE`.
    pub fn with_config(file: &str) -> Workspace {
        Workspace {
            always: vec!["--config".into(), file.into()],
            ..Workspace::new()
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_servicemeter"))
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(&self.always)
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("SERVICEMETER_DATA_DIR")
            .env_remove("SERVICEMETER_WORKSPACE")
            .env_remove("SERVICEMETER_DATABASE_URL")
            .env_remove("SERVICEMETER_DATABASE_URL")
            .output()
            .unwrap()
    }

    /// Standard output of a command that must succeed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// Facts rows by conversation id.
    pub fn facts(&self) -> std::collections::BTreeMap<String, Value> {
        self.ok(&["facts", "--format", "jsonl"])
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["conversation"].as_str().unwrap().to_string(), v)
            })
            .collect()
    }

    /// Writes a file into the temporary directory.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Runs the binary with `args` and `input` on its standard input.
pub fn run_with_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_servicemeter"))
        .args(args)
        .env_remove("SERVICEMETER_DATA_DIR")
        .env_remove("SERVICEMETER_WORKSPACE")
        .env_remove("SERVICEMETER_DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// The URL of a fresh schema in the test PostgreSQL database.
pub fn postgres_url() -> String {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(servicemeter_store::test_support::fresh_postgres_url())
}
