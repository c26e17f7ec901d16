//! For the test suites of every crate: a fresh, empty PostgreSQL store per test, and the
//! backend the server and command-line tests run against.
//!
//! `SERVICEMETER_TEST_DATABASE_URL` names the PostgreSQL database the tests may write to
//! (scripts/test creates a throwaway one per run); without it, the local server's `postgres`
//! database. Each test gets a schema of its own in it, so tests run in parallel and never see
//! each other's rows. `SERVICEMETER_TEST_BACKEND=postgres` makes the suites that support it run
//! against PostgreSQL instead of the embedded store.

use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::Connection;

/// The database the tests write to.
pub fn test_database_url() -> String {
    std::env::var("SERVICEMETER_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// Whether the suites run against PostgreSQL (`SERVICEMETER_TEST_BACKEND=postgres`).
pub fn postgres_selected() -> bool {
    std::env::var("SERVICEMETER_TEST_BACKEND").is_ok_and(|b| b.eq_ignore_ascii_case("postgres"))
}

/// A URL of a new, empty schema in the test database (the store migrates it when opened).
/// Panics with what to do when PostgreSQL cannot be reached.
pub async fn fresh_postgres_url() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let base = test_database_url();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let schema = format!(
        "t{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        nanos
    );
    let mut conn = sqlx::PgConnection::connect(&base)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is not reachable at {base} ({e}); start it (scripts/test does) or set \
             SERVICEMETER_TEST_DATABASE_URL"
            )
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut conn)
        .await
        .expect("create a test schema");
    conn.close().await.ok();
    let separator = if base.contains('?') { '&' } else { '?' };
    format!("{base}{separator}options[search_path]={schema}")
}
