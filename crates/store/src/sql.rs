//! The two SQL backends: connection pools to the embedded SQLite file or to PostgreSQL, their
//! migrations, and [`WriteTx`] in SQL that both databases run unchanged (`$N` parameters,
//! `RETURNING`, `ON CONFLICT`, no `MAX()+1`).
//!
//! The SQL is written once; [`on_pool!`] and [`on_tx!`] compile each body for both drivers.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, QueryBuilder, Row, Sqlite, Transaction};

use crate::backend::{BodyRow, Counter, SegmentInfo, StoredBody, WriteTx};
use crate::engine::BODY_VERSION;
use crate::{ImportSummary, StoreError, WorkspaceId};

/// The PostgreSQL notification channel on which a committed change of a workspace's facts or
/// configuration is announced (payload: the workspace id), and a change of users, memberships
/// or sessions ([`ACCOUNTS_CHANGED`]).
pub(crate) const DATA_CHANNEL: &str = "servicemeter_data";

/// The payload announcing a change of users, memberships or sessions.
pub(crate) const ACCOUNTS_CHANGED: &str = "accounts";

/// File name of the embedded database inside the data directory.
pub const DATABASE_FILE: &str = "servicemeter.db";

/// Rows per multi-row statement on SQLite (8 parameters each: well inside its limit).
const ROWS_PER_STATEMENT: usize = 500;

/// Rows per statement on PostgreSQL, where a batch's columns travel as arrays.
const POSTGRES_ROWS_PER_STATEMENT: usize = 5_000;

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// The embedded SQLite file in a data directory.
    Embedded(PathBuf),
    /// A PostgreSQL database (`postgres://` or `postgresql://` URL).
    Postgres(String),
}

impl Location {
    /// A database URL when given (it must be PostgreSQL's), else the embedded store in
    /// `data_dir`.
    pub fn new(database_url: Option<&str>, data_dir: &Path) -> Result<Location, StoreError> {
        match database_url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Ok(Location::Embedded(data_dir.to_path_buf())),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Location::Postgres(url.to_string()))
            }
            Some(url) => Err(StoreError::Invalid(format!(
                "database URL {:?}: only postgres:// URLs are supported (leave it out for the \
                 embedded store in the data directory)",
                redact(url)
            ))),
        }
    }

    /// For messages: the directory, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            Location::Embedded(dir) => dir.display().to_string(),
            Location::Postgres(url) => redact(url),
        }
    }
}

/// A URL with the password (between `:` and `@` of the authority) replaced.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            if userinfo.contains(':') {
                format!("{scheme}://{user}:***@{host}{path}")
            } else {
                format!("{scheme}://{userinfo}@{host}{path}")
            }
        }
        None => url.to_string(),
    }
}

/// A connection pool of one of the backends.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool and `DB` to its database type.
macro_rules! on_pool {
    ($pool:expr, $p:ident => $body:expr) => {
        match $pool {
            $crate::sql::Pool::Sqlite($p) => {
                #[allow(dead_code)]
                type DB = sqlx::Sqlite;
                $body
            }
            $crate::sql::Pool::Postgres($p) => {
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                $body
            }
        }
    };
}

/// Runs `$body` with `$t` bound to the concrete transaction and `DB` to its database type.
macro_rules! on_tx {
    ($tx:expr, $t:ident => $body:expr) => {
        match $tx {
            $crate::sql::Tx::Sqlite($t) => {
                #[allow(dead_code)]
                type DB = sqlx::Sqlite;
                $body
            }
            $crate::sql::Tx::Postgres($t) => {
                #[allow(dead_code)]
                type DB = sqlx::Postgres;
                $body
            }
        }
    };
}

pub(crate) use {on_pool, on_tx};

/// A transaction of one of the backends.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(Box::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Migration(Box::new(e))
    }
}

/// Creates an empty file readable and writable by its owner only (0600), unless it exists.
pub(crate) fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// Opens (creating when needed) the embedded store in a data directory; runs migrations.
pub(crate) async fn open_sqlite(
    data_dir: &Path,
    max_connections: u32,
) -> Result<SqlitePool, StoreError> {
    let dir_error = |e: std::io::Error| StoreError::DataDir {
        path: data_dir.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(data_dir).map_err(dir_error)?;
    let file = data_dir.join(DATABASE_FILE);
    // The store holds customers' messages and password hashes: readable by its owner only.
    // SQLite gives its -wal and -shm files the database file's permissions.
    create_private(&file).map_err(dir_error)?;
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(&file)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .pragma("cache_size", "-65536")
        .pragma("temp_store", "memory")
        .busy_timeout(std::time::Duration::from_secs(60));
    let pool = SqlitePoolOptions::new()
        .max_connections(max_connections)
        // A connection still in a transaction (a rollback that failed after a disk-full
        // error, say) is closed instead of going back to the pool, where every later
        // transaction on it would fail.
        .after_release(|conn, _| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
        })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
    Ok(pool)
}

/// Connects to PostgreSQL and runs its migrations (several processes may start at once:
/// sqlx takes an advisory lock around migrations).
pub(crate) async fn open_postgres(url: &str, max_connections: u32) -> Result<PgPool, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|e| StoreError::Invalid(format!("database URL {:?}: {e}", redact(url))))?;
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(std::time::Duration::from_secs(30))
        .after_release(|conn, _| {
            Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
        })
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    Ok(pool)
}

/// A write transaction of one workspace on either backend.
pub struct SqlTx {
    pub(crate) tx: Tx,
    pub(crate) workspace: WorkspaceId,
    /// Held until commit or drop: one writer at a time in this process (SQLite has one writer
    /// per database; on PostgreSQL it only orders this process's writers).
    pub(crate) _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

/// Whether an error is a unique-constraint violation (a taken name or address).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

impl SqlTx {
    /// A transaction that only reads (it is never committed; nothing is locked).
    pub(crate) async fn read(pool: &Pool, workspace: WorkspaceId) -> Result<SqlTx, StoreError> {
        let tx = match pool {
            Pool::Sqlite(p) => Tx::Sqlite(p.begin().await?),
            Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
        };
        Ok(SqlTx {
            tx,
            workspace,
            _writer: None,
        })
    }

    /// A write transaction outside any one workspace (creating workspaces, the first user):
    /// SQLite's write lock, or on PostgreSQL the advisory lock `key` (negative keys: never a
    /// workspace's).
    pub(crate) async fn begin_global(
        pool: &Pool,
        writer: &Arc<tokio::sync::Mutex<()>>,
        key: i64,
    ) -> Result<SqlTx, StoreError> {
        debug_assert!(key < 0);
        SqlTx::begin(pool, writer, WorkspaceId(key)).await
    }

    /// Begins a write transaction holding the workspace's write lock.
    pub(crate) async fn begin(
        pool: &Pool,
        writer: &Arc<tokio::sync::Mutex<()>>,
        workspace: WorkspaceId,
    ) -> Result<SqlTx, StoreError> {
        match pool {
            Pool::Sqlite(p) => {
                let guard = writer.clone().lock_owned().await;
                // IMMEDIATE: SQLite's write lock from the start.
                let tx = p.begin_with("BEGIN IMMEDIATE").await?;
                Ok(SqlTx {
                    tx: Tx::Sqlite(tx),
                    workspace,
                    _writer: Some(guard),
                })
            }
            Pool::Postgres(p) => {
                let mut tx = p.begin().await?;
                // Writers of one workspace, in any process, take turns; other workspaces
                // proceed. Released with the transaction.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(workspace.0)
                    .execute(&mut *tx)
                    .await?;
                // Every statement of a write is a keyed lookup, but the planner's statistics
                // do not count the rows this transaction inserted: after the first batch of a
                // large import into a new workspace it would scan the whole table for each
                // look-up of 500 ids (measured: 0.1-0.4 s each, against milliseconds).
                sqlx::query("SET LOCAL enable_seqscan = off")
                    .execute(&mut *tx)
                    .await?;
                Ok(SqlTx {
                    tx: Tx::Postgres(tx),
                    workspace,
                    _writer: None,
                })
            }
        }
    }
}

impl SqlTx {
    /// Up to `limit` bodies with an ordinal above `after`, by ordinal; only those with a
    /// conversation record when `with_header_only`.
    async fn page_of_bodies(
        &mut self,
        after: i64,
        limit: u32,
        which: BodyPage,
    ) -> Result<Vec<StoredBody>, StoreError> {
        let ws = self.workspace.0;
        let sql = match which {
            BodyPage::WithRecord => {
                "SELECT conversation_id, ordinal, body_version, body FROM conversations \
                 WHERE workspace_id = $1 AND has_header AND ordinal > $2 ORDER BY ordinal LIMIT $3"
            }
            BodyPage::All => {
                "SELECT conversation_id, ordinal, body_version, body FROM conversations \
                 WHERE workspace_id = $1 AND ordinal > $2 ORDER BY ordinal LIMIT $3"
            }
            BodyPage::WithoutCustomerKey => {
                "SELECT conversation_id, ordinal, body_version, body FROM conversations \
                 WHERE workspace_id = $1 AND customer_key IS NULL AND ordinal > $2 \
                 ORDER BY ordinal LIMIT $3"
            }
        };
        on_tx!(&mut self.tx, t => {
            let rows = sqlx::query(sql)
                .bind(ws)
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(&mut **t)
                .await?;
            rows.iter()
                .map(|row| {
                    Ok(StoredBody {
                        id: row.try_get(0)?,
                        ordinal: row.try_get::<i64, _>(1)? as u32,
                        version: row.try_get(2)?,
                        bytes: row.try_get(3)?,
                    })
                })
                .collect()
        })
    }
}

/// Which bodies a page of bodies holds.
#[derive(Debug, Clone, Copy)]
enum BodyPage {
    /// Those with a conversation record (the ones with facts).
    WithRecord,
    All,
    /// Those stored before customer keys were.
    WithoutCustomerKey,
}

/// The statement that takes `$1` numbers from a counter of workspace `$2` and returns the
/// counter after.
fn allocate_sql(counter: Counter) -> &'static str {
    match counter {
        Counter::Ordinal => {
            "UPDATE workspace_state SET next_ordinal = next_ordinal + $1 WHERE workspace_id = $2 \
             RETURNING next_ordinal"
        }
        Counter::Segment => {
            "UPDATE workspace_state SET next_segment = next_segment + $1 WHERE workspace_id = $2 \
             RETURNING next_segment"
        }
        Counter::Import => {
            "UPDATE workspace_state SET next_import = next_import + $1 WHERE workspace_id = $2 \
             RETURNING next_import"
        }
        Counter::Audit => {
            "UPDATE workspace_state SET next_audit = next_audit + $1 WHERE workspace_id = $2 \
             RETURNING next_audit"
        }
    }
}

impl WriteTx for SqlTx {
    fn workspace(&self) -> WorkspaceId {
        self.workspace
    }

    async fn load_bodies(&mut self, ids: &[&str]) -> Result<Vec<StoredBody>, StoreError> {
        let ws = self.workspace.0;
        let mut found = Vec::new();
        match &mut self.tx {
            Tx::Postgres(t) => {
                // One look-up per id through the primary key, whatever the planner's
                // statistics say: with `IN (...)` it scanned the workspace's whole range of
                // another index while a large import was not yet in its statistics.
                let ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
                let rows = sqlx::query(
                    "SELECT c.conversation_id, c.ordinal, c.body_version, c.body \
                     FROM unnest($2::text[]) AS ids(id) CROSS JOIN LATERAL ( \
                     SELECT conversation_id, ordinal, body_version, body FROM conversations \
                     WHERE workspace_id = $1 AND conversation_id = ids.id) c",
                )
                .bind(ws)
                .bind(ids)
                .fetch_all(&mut **t)
                .await?;
                for row in rows {
                    found.push(StoredBody {
                        id: row.try_get(0)?,
                        ordinal: row.try_get::<i64, _>(1)? as u32,
                        version: row.try_get(2)?,
                        bytes: row.try_get(3)?,
                    });
                }
            }
            Tx::Sqlite(t) => {
                for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<Sqlite>::new(
                        "SELECT conversation_id, ordinal, body_version, body FROM conversations \
                         WHERE workspace_id = ",
                    );
                    query.push_bind(ws);
                    query.push(" AND conversation_id IN (");
                    let mut separated = query.separated(", ");
                    for id in chunk {
                        separated.push_bind(id.to_string());
                    }
                    separated.push_unseparated(")");
                    for row in query.build().fetch_all(&mut **t).await? {
                        found.push(StoredBody {
                            id: row.try_get(0)?,
                            ordinal: row.try_get::<i64, _>(1)? as u32,
                            version: row.try_get(2)?,
                            bytes: row.try_get(3)?,
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    async fn bodies_after(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredBody>, StoreError> {
        self.page_of_bodies(after, limit, BodyPage::WithRecord)
            .await
    }

    async fn all_bodies_after(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredBody>, StoreError> {
        self.page_of_bodies(after, limit, BodyPage::All).await
    }

    async fn bodies_without_customer_key(
        &mut self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<StoredBody>, StoreError> {
        self.page_of_bodies(after, limit, BodyPage::WithoutCustomerKey)
            .await
    }

    async fn set_customer_keys(&mut self, keys: &[(u32, String)]) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            for (ordinal, key) in keys {
                sqlx::query(
                    "UPDATE conversations SET customer_key = $1 \
                     WHERE workspace_id = $2 AND ordinal = $3",
                )
                .bind(key.as_str())
                .bind(ws)
                .bind(i64::from(*ordinal))
                .execute(&mut **t)
                .await?;
            }
            Ok(())
        })
    }

    async fn erased_customers(&mut self) -> Result<Vec<String>, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            Ok(sqlx::query_scalar(
                "SELECT customer_hash FROM erased_customers WHERE workspace_id = $1",
            )
            .bind(ws)
            .fetch_all(&mut **t)
            .await?)
        })
    }

    async fn open_follow_up(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        answered_at: i64,
        due_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            // A later unhappy answer reopens a finished follow-up with its new due date.
            sqlx::query(
                "INSERT INTO follow_ups (workspace_id, conversation_id, kind, status, note, \
                 answered_at, due_at, updated_at) VALUES ($1, $2, $3, 'new', '', $4, $5, $6) \
                 ON CONFLICT (workspace_id, conversation_id, kind) DO UPDATE SET \
                 status = CASE WHEN excluded.answered_at > follow_ups.answered_at \
                 AND follow_ups.status = 'done' THEN 'new' ELSE follow_ups.status END, \
                 due_at = CASE WHEN excluded.answered_at > follow_ups.answered_at \
                 AND follow_ups.status = 'done' THEN excluded.due_at ELSE follow_ups.due_at END, \
                 answered_at = CASE WHEN excluded.answered_at > follow_ups.answered_at \
                 THEN excluded.answered_at ELSE follow_ups.answered_at END",
            )
            .bind(ws)
            .bind(conversation)
            .bind(kind.as_str())
            .bind(answered_at)
            .bind(due_at)
            .bind(now)
            .execute(&mut **t)
            .await?;
        });
        Ok(())
    }

    async fn mark_answered(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        language: &str,
        at: i64,
        anonymous: bool,
    ) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "INSERT INTO survey_invitations (workspace_id, conversation_id, kind, state, \
                 language, due_at, planned_at, answered_at) \
                 VALUES ($1, $2, $3, 'sent', $4, $5, $5, $5) \
                 ON CONFLICT (workspace_id, conversation_id, kind) DO UPDATE SET \
                 answered_at = COALESCE(survey_invitations.answered_at, excluded.answered_at), \
                 customer_email = CASE WHEN $6 THEN NULL \
                 ELSE survey_invitations.customer_email END, \
                 note = CASE WHEN survey_invitations.state = 'planned' THEN 'answered' \
                 ELSE survey_invitations.note END, \
                 state = CASE WHEN survey_invitations.state = 'planned' THEN 'cancelled' \
                 ELSE survey_invitations.state END",
            )
            .bind(ws)
            .bind(conversation)
            .bind(kind.as_str())
            .bind(language)
            .bind(at)
            .bind(anonymous)
            .execute(&mut **t)
            .await?;
        });
        Ok(())
    }

    async fn forget_survey_traces(&mut self, conversations: &[String]) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            for conversation in conversations {
                sqlx::query("DELETE FROM follow_ups WHERE workspace_id = $1 AND conversation_id = $2")
                    .bind(ws)
                    .bind(conversation.as_str())
                    .execute(&mut **t)
                    .await?;
                sqlx::query(
                    "UPDATE survey_invitations SET customer_email = NULL, \
                     note = CASE WHEN state = 'planned' THEN 'erased' ELSE note END, \
                     state = CASE WHEN state = 'planned' THEN 'cancelled' ELSE state END \
                     WHERE workspace_id = $1 AND conversation_id = $2",
                )
                .bind(ws)
                .bind(conversation.as_str())
                .execute(&mut **t)
                .await?;
            }
        });
        Ok(())
    }

    async fn add_erased_customer(&mut self, hash: &str, now: i64) -> Result<bool, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            let done = sqlx::query(
                "INSERT INTO erased_customers (workspace_id, customer_hash, erased_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (workspace_id, customer_hash) DO NOTHING",
            )
            .bind(ws)
            .bind(hash)
            .bind(now)
            .execute(&mut **t)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn remember_delivery(
        &mut self,
        signature: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query("DELETE FROM webhook_deliveries WHERE workspace_id = $1 AND seen_until < $2")
                .bind(ws)
                .bind(now)
                .execute(&mut **t)
                .await?;
            let done = sqlx::query(
                "INSERT INTO webhook_deliveries (workspace_id, signature, seen_until) \
                 VALUES ($1, $2, $3) ON CONFLICT (workspace_id, signature) DO NOTHING",
            )
            .bind(ws)
            .bind(signature)
            .bind(until)
            .execute(&mut **t)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn audit(&mut self, entry: &crate::AuditEntry) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        let id = self.allocate(Counter::Audit, 1).await?;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "INSERT INTO audit_log (workspace_id, entry_id, at, actor, action, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(ws)
            .bind(id)
            .bind(entry.at)
            .bind(entry.actor.as_str())
            .bind(entry.action.as_str())
            .bind(entry.detail.as_str())
            .execute(&mut **t)
            .await?;
            Ok(())
        })
    }

    async fn upsert_bodies(&mut self, rows: &[BodyRow], now: i64) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        match &mut self.tx {
            Tx::Postgres(t) => {
                // The whole batch in one statement, its columns as arrays: no per-row
                // parameters to bind and plan.
                for chunk in rows.chunks(POSTGRES_ROWS_PER_STATEMENT) {
                    let ids: Vec<&str> = chunk.iter().map(|r| r.id.as_str()).collect();
                    let ordinals: Vec<i64> = chunk.iter().map(|r| i64::from(r.ordinal)).collect();
                    let headers: Vec<bool> = chunk.iter().map(|r| r.has_header).collect();
                    let bodies: Vec<&[u8]> = chunk.iter().map(|r| r.bytes.as_slice()).collect();
                    let customers: Vec<&str> =
                        chunk.iter().map(|r| r.customer_key.as_str()).collect();
                    sqlx::query(
                        "INSERT INTO conversations (workspace_id, conversation_id, ordinal, \
                         has_header, body_version, body, updated_at, customer_key) \
                         SELECT $1, u.id, u.ordinal, u.has_header, $2, u.body, $3, u.customer \
                         FROM unnest($4::text[], $5::bigint[], $6::boolean[], $7::bytea[], \
                         $8::text[]) AS u(id, ordinal, has_header, body, customer) \
                         ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET \
                         has_header = excluded.has_header, body_version = excluded.body_version, \
                         body = excluded.body, updated_at = excluded.updated_at, \
                         customer_key = excluded.customer_key",
                    )
                    .bind(ws)
                    .bind(BODY_VERSION)
                    .bind(now)
                    .bind(ids)
                    .bind(ordinals)
                    .bind(headers)
                    .bind(bodies)
                    .bind(customers)
                    .execute(&mut **t)
                    .await?;
                }
            }
            Tx::Sqlite(t) => {
                for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                    let mut query = QueryBuilder::<Sqlite>::new(
                        "INSERT INTO conversations (workspace_id, conversation_id, ordinal, \
                         has_header, body_version, body, updated_at, customer_key) ",
                    );
                    query.push_values(chunk, |mut row, r| {
                        row.push_bind(ws)
                            .push_bind(r.id.as_str())
                            .push_bind(i64::from(r.ordinal))
                            .push_bind(r.has_header)
                            .push_bind(BODY_VERSION)
                            .push_bind(r.bytes.as_slice())
                            .push_bind(now)
                            .push_bind(r.customer_key.as_str());
                    });
                    query.push(
                        " ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET \
                         has_header = excluded.has_header, body_version = excluded.body_version, \
                         body = excluded.body, updated_at = excluded.updated_at, \
                         customer_key = excluded.customer_key",
                    );
                    query.build().execute(&mut **t).await?;
                }
            }
        }
        Ok(())
    }

    async fn delete_body(&mut self, id: &str) -> Result<bool, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query("DELETE FROM follow_ups WHERE workspace_id = $1 AND conversation_id = $2")
                .bind(ws)
                .bind(id)
                .execute(&mut **t)
                .await?;
            let done = sqlx::query(
                "DELETE FROM conversations WHERE workspace_id = $1 AND conversation_id = $2",
            )
            .bind(ws)
            .bind(id)
            .execute(&mut **t)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn allocate(&mut self, counter: Counter, n: u32) -> Result<i64, StoreError> {
        let ws = self.workspace.0;
        let sql = allocate_sql(counter);
        let n = i64::from(n);
        on_tx!(&mut self.tx, t => {
            let next: i64 = sqlx::query_scalar(sql).bind(n).bind(ws).fetch_one(&mut **t).await?;
            Ok(next - n)
        })
    }

    async fn segments(&mut self) -> Result<Vec<SegmentInfo>, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            let rows = sqlx::query(
                "SELECT segment_id, row_count, facts_version FROM fact_segments \
                 WHERE workspace_id = $1 ORDER BY segment_id DESC",
            )
            .bind(ws)
            .fetch_all(&mut **t)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(SegmentInfo {
                        id: row.try_get(0)?,
                        rows: row.try_get(1)?,
                        version: row.try_get(2)?,
                    })
                })
                .collect()
        })
    }

    async fn segment_data(&mut self, id: i64) -> Result<Vec<u8>, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            Ok(sqlx::query_scalar(
                "SELECT data FROM fact_segments WHERE workspace_id = $1 AND segment_id = $2",
            )
            .bind(ws)
            .bind(id)
            .fetch_one(&mut **t)
            .await?)
        })
    }

    async fn insert_segment(
        &mut self,
        id: i64,
        rows: i64,
        version: i64,
        data: &[u8],
    ) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "INSERT INTO fact_segments (workspace_id, segment_id, row_count, facts_version, \
                 data) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(ws)
            .bind(id)
            .bind(rows)
            .bind(version)
            .bind(data)
            .execute(&mut **t)
            .await?;
            Ok(())
        })
    }

    async fn delete_segments(&mut self, first: i64, last: i64) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "DELETE FROM fact_segments WHERE workspace_id = $1 AND segment_id >= $2 \
                 AND segment_id <= $3",
            )
            .bind(ws)
            .bind(first)
            .bind(last)
            .execute(&mut **t)
            .await?;
            Ok(())
        })
    }

    async fn live_conversations(&mut self) -> Result<i64, StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            Ok(sqlx::query_scalar(
                "SELECT live_conversations FROM workspace_state WHERE workspace_id = $1",
            )
            .bind(ws)
            .fetch_one(&mut **t)
            .await?)
        })
    }

    async fn count_live(&mut self, delta: i64, exact: bool) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        let sql = if exact {
            "UPDATE workspace_state SET live_conversations = $1 WHERE workspace_id = $2"
        } else {
            "UPDATE workspace_state SET live_conversations = live_conversations + $1 \
             WHERE workspace_id = $2"
        };
        on_tx!(&mut self.tx, t => {
            sqlx::query(sql).bind(delta).bind(ws).execute(&mut **t).await?;
            Ok(())
        })
    }

    async fn set_config(&mut self, toml: &str) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query("UPDATE workspaces SET config_toml = $1 WHERE workspace_id = $2")
                .bind(toml)
                .bind(ws)
                .execute(&mut **t)
                .await?;
            Ok(())
        })
    }

    async fn set_sync_cursor(
        &mut self,
        source: &str,
        cursor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "INSERT INTO sync_cursors (workspace_id, source, cursor, updated_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, source) DO UPDATE SET \
                 cursor = excluded.cursor, updated_at = excluded.updated_at",
            )
            .bind(ws)
            .bind(source)
            .bind(cursor)
            .bind(now)
            .execute(&mut **t)
            .await?;
            Ok(())
        })
    }

    async fn record_import(&mut self, id: i64, summary: &ImportSummary) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "INSERT INTO imports (workspace_id, import_id, finished_at, sources, records, \
                 conversations, rejected) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ws)
            .bind(id)
            .bind(summary.finished_at)
            .bind(summary.sources.as_str())
            .bind(summary.records as i64)
            .bind(summary.conversations as i64)
            .bind(summary.rejected as i64)
            .execute(&mut **t)
            .await?;
            Ok(())
        })
    }

    async fn bump_data_version(&mut self) -> Result<(), StoreError> {
        let ws = self.workspace.0;
        on_tx!(&mut self.tx, t => {
            sqlx::query(
                "UPDATE workspace_state SET data_version = data_version + 1 WHERE workspace_id = $1",
            )
            .bind(ws)
            .execute(&mut **t)
            .await?;
        });
        if let Tx::Postgres(t) = &mut self.tx {
            // Delivered to every listening process when (and only if) the transaction
            // commits: their caches of the data version forget this workspace's.
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(DATA_CHANNEL)
                .bind(ws.to_string())
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self.tx {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_and_redaction() {
        let dir = Path::new("/data");
        assert_eq!(
            Location::new(None, dir).unwrap(),
            Location::Embedded(dir.into())
        );
        assert_eq!(
            Location::new(Some("  "), dir).unwrap(),
            Location::Embedded(dir.into())
        );
        let pg = Location::new(Some("postgres://sm:secret@db:5432/sm"), dir).unwrap();
        assert_eq!(pg.describe(), "postgres://sm:***@db:5432/sm");
        let err = Location::new(Some("mysql://root:pw@db/x"), dir).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("only postgres:// URLs"), "{text}");
        assert!(!text.contains("pw"), "{text}");
        assert_eq!(redact("postgresql://db/sm"), "postgresql://db/sm");
        assert_eq!(redact("postgres://sm@db/sm"), "postgres://sm@db/sm");
    }
}
