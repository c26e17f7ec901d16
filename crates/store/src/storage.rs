//! [`Storage`]: the [`Store`] on either SQL backend — the engine's decisions over
//! [`crate::sql`]'s data operations.

use std::path::Path;
use std::sync::Arc;

use servicemeter_core::{Calendars, Conversation, FactTable, WorkspaceConfig};
use sqlx::Row;

use crate::backend::{StoredBody, WriteTx};
use crate::engine::{self, BodyFacts, FactsRead, ImportState, Threads};
use crate::sql::{self, Location, Pool, SqlTx, on_pool};
use crate::{
    BatchOutcome, ImportSession, ImportSummary, Store, StoreError, Workspace, WorkspaceCounts,
    WorkspaceId,
};

/// Advisory lock key (PostgreSQL) for creating workspaces.
const CREATE_WORKSPACE_LOCK: i64 = -1;

/// The store on the embedded SQLite file or on PostgreSQL.
#[derive(Debug, Clone)]
pub struct Storage {
    pub(crate) pool: Pool,
    /// One writer at a time in this process on SQLite (one writer per database); writers in
    /// other processes wait on SQLite's busy timeout.
    pub(crate) writer: Arc<tokio::sync::Mutex<()>>,
    threads: Threads,
}

impl Storage {
    /// Opens (creating and migrating when needed) the store at a location.
    pub async fn open(location: &Location) -> Result<Storage, StoreError> {
        match location {
            Location::Embedded(dir) => Storage::open_embedded(dir).await,
            Location::Postgres(url) => Storage::open_postgres(url, 10).await,
        }
    }

    /// The embedded store in a data directory.
    pub async fn open_embedded(data_dir: &Path) -> Result<Storage, StoreError> {
        Storage::open_embedded_with(data_dir, 4).await
    }

    /// [`Storage::open_embedded`] with a number of pooled connections.
    pub async fn open_embedded_with(
        data_dir: &Path,
        max_connections: u32,
    ) -> Result<Storage, StoreError> {
        let pool = sql::open_sqlite(data_dir, max_connections).await?;
        Ok(Storage::new(Pool::Sqlite(pool)))
    }

    /// The store in a PostgreSQL database.
    pub async fn open_postgres(url: &str, max_connections: u32) -> Result<Storage, StoreError> {
        let pool = sql::open_postgres(url, max_connections).await?;
        Ok(Storage::new(Pool::Postgres(pool)))
    }

    fn new(pool: Pool) -> Storage {
        Storage {
            pool,
            writer: Arc::default(),
            threads: Threads::all_cores(),
        }
    }

    /// The same store computing facts on `threads` threads.
    pub fn with_threads(mut self, threads: Threads) -> Storage {
        self.threads = threads;
        self
    }

    /// "sqlite" or "postgres".
    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection (SQLite: after folding the write-ahead log into the database,
    /// so the next open reads one file).
    pub async fn close(self) -> Result<(), StoreError> {
        match self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&pool)
                    .await?;
                pool.close().await;
            }
            Pool::Postgres(pool) => pool.close().await,
        }
        Ok(())
    }

    /// Number of fact segments of a workspace and the rows they hold (outdated rows included).
    pub async fn segment_stats(&self, workspace: WorkspaceId) -> Result<(u64, u64), StoreError> {
        on_pool!(&self.pool, p => {
            let row = sqlx::query(
                "SELECT COUNT(*), CAST(COALESCE(SUM(row_count), 0) AS BIGINT) FROM fact_segments \
                 WHERE workspace_id = $1",
            )
            .bind(workspace.0)
            .fetch_one(p)
            .await?;
            let segments: i64 = row.try_get(0)?;
            let rows: i64 = row.try_get(1)?;
            Ok((segments as u64, rows as u64))
        })
    }

    /// The workspace's configuration as stored (defaults without one).
    async fn stored_calendars(&self, workspace: WorkspaceId) -> Result<Calendars, StoreError> {
        let toml: Option<Option<String>> = on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT config_toml FROM workspaces WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_optional(p)
                .await?
        });
        let config = match toml.flatten() {
            Some(text) => WorkspaceConfig::from_toml(&text)
                .map_err(|e| StoreError::Invalid(format!("stored configuration: {e}")))?,
            None => WorkspaceConfig::default(),
        };
        Ok(Calendars::new(config))
    }

    /// Facts computed from the bodies, for a reader that met outdated segments (it may not
    /// write; the next write recomputes the segments).
    async fn facts_from_bodies(
        &self,
        workspace: WorkspaceId,
        start_between: Option<(i64, i64)>,
    ) -> Result<FactTable, StoreError> {
        tracing::info!(
            workspace = workspace.0,
            "stored facts were computed under other rules: computing them from the conversations"
        );
        let calendars = Arc::new(self.stored_calendars(workspace).await?);
        let mut facts = BodyFacts::new(calendars, self.threads, start_between);
        let mut tx = SqlTx::read(&self.pool, workspace).await?;
        let mut after = -1i64;
        loop {
            let bodies: Vec<StoredBody> = tx.bodies_after(after, 10_000).await?;
            let Some(last) = bodies.last() else { break };
            after = i64::from(last.ordinal);
            facts.add(&bodies).await?;
        }
        Ok(facts.finish())
    }
}

/// An import in progress: one write transaction and the engine's state.
pub struct StorageImport {
    tx: SqlTx,
    state: ImportState,
    threads: Threads,
}

impl ImportSession for StorageImport {
    async fn apply(
        &mut self,
        batch: Vec<Conversation>,
        calendars: &Arc<Calendars>,
        now: i64,
    ) -> Result<BatchOutcome, StoreError> {
        engine::apply(
            &mut self.tx,
            &mut self.state,
            batch,
            calendars,
            self.threads,
            now,
        )
        .await
    }

    async fn set_sync_cursor(
        &mut self,
        source: &str,
        cursor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        self.tx.set_sync_cursor(source, cursor, now).await
    }

    async fn commit(self, summary: ImportSummary) -> Result<(), StoreError> {
        engine::commit(self.tx, self.state, summary).await
    }
}

/// A `workspaces` row read by `SELECT workspace_id, name, config_toml`.
pub(crate) fn read_workspace<R: Row>(row: &R) -> Result<Workspace, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(Workspace {
        id: WorkspaceId(row.try_get(0)?),
        name: row.try_get(1)?,
        config_toml: row.try_get(2)?,
    })
}

impl Store for Storage {
    type Import<'a> = StorageImport;

    async fn sync_cursor(
        &self,
        workspace: WorkspaceId,
        source: &str,
    ) -> Result<Option<String>, StoreError> {
        on_pool!(&self.pool, p => {
            Ok(sqlx::query_scalar(
                "SELECT cursor FROM sync_cursors WHERE workspace_id = $1 AND source = $2",
            )
            .bind(workspace.0)
            .bind(source)
            .fetch_optional(p)
            .await?)
        })
    }

    async fn data_version(&self, workspace: WorkspaceId) -> Result<i64, StoreError> {
        let version: Option<i64> = on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT data_version FROM workspace_state WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_optional(p)
                .await?
        });
        Ok(version.unwrap_or(0))
    }

    async fn workspaces(&self) -> Result<Vec<Workspace>, StoreError> {
        on_pool!(&self.pool, p => {
            let rows =
                sqlx::query("SELECT workspace_id, name, config_toml FROM workspaces ORDER BY name")
                    .fetch_all(p)
                    .await?;
            rows.iter().map(read_workspace).collect()
        })
    }

    async fn workspace(&self, name: &str) -> Result<Workspace, StoreError> {
        if let Some(found) = crate::Accounts::find_workspace(self, name).await? {
            return Ok(found);
        }
        let mut tx = SqlTx::begin_global(&self.pool, &self.writer, CREATE_WORKSPACE_LOCK).await?;
        let id = create_workspace(&mut tx, name, 0).await?;
        tx.commit().await?;
        crate::Accounts::find_workspace(self, name)
            .await?
            .filter(|w| w.id == id)
            .ok_or_else(|| StoreError::Invalid(format!("workspace {name} vanished")))
    }

    async fn replace_config(
        &self,
        workspace: WorkspaceId,
        config_toml: &str,
        calendars: &Arc<Calendars>,
    ) -> Result<u64, StoreError> {
        let tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        engine::replace_config(tx, config_toml, calendars, self.threads).await
    }

    async fn store_config(
        &self,
        workspace: WorkspaceId,
        config_toml: &str,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        tx.set_config(config_toml).await?;
        tx.commit().await
    }

    async fn recompute(
        &self,
        workspace: WorkspaceId,
        progress: &crate::jobs::JobProgress,
    ) -> Result<u64, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        // The configuration as stored when the write lock was taken: a later change queues
        // another recompute.
        let toml: Option<String> = sql::on_tx!(&mut tx.tx, t => {
            sqlx::query_scalar("SELECT config_toml FROM workspaces WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_one(&mut **t)
                .await?
        });
        let config = match toml {
            Some(text) => WorkspaceConfig::from_toml(&text)
                .map_err(|e| StoreError::Invalid(format!("stored configuration: {e}")))?,
            None => WorkspaceConfig::default(),
        };
        engine::recompute(
            tx,
            &Arc::new(Calendars::new(config)),
            self.threads,
            progress,
        )
        .await
    }

    async fn begin_import(&self, workspace: WorkspaceId) -> Result<StorageImport, StoreError> {
        Ok(StorageImport {
            tx: SqlTx::begin(&self.pool, &self.writer, workspace).await?,
            state: ImportState::default(),
            threads: self.threads,
        })
    }

    async fn facts(
        &self,
        workspace: WorkspaceId,
        start_between: Option<(i64, i64)>,
    ) -> Result<FactTable, StoreError> {
        use futures_util::TryStreamExt;
        let mut read = FactsRead::new(start_between);
        on_pool!(&self.pool, p => {
            let mut rows = sqlx::query(
                "SELECT facts_version, data FROM fact_segments WHERE workspace_id = $1 \
                 ORDER BY segment_id DESC",
            )
            .bind(workspace.0)
            .fetch(p);
            while let Some(row) = rows.try_next().await? {
                // Decoding and merging a segment (65 536 rows) is CPU work: off the async
                // workers. The row moves along, so its bytes are not copied.
                let (back, more) = tokio::task::spawn_blocking(move || {
                    let more = (|| {
                        let version: i64 = row.try_get(0)?;
                        let data: &[u8] = row.try_get(1)?;
                        read.add(version, data)
                    })();
                    (read, more)
                })
                .await
                .map_err(|e| StoreError::Database(Box::new(e)))?;
                read = back;
                if !more? {
                    break;
                }
            }
        });
        match read.finish() {
            Some(table) => Ok(table),
            None => self.facts_from_bodies(workspace, start_between).await,
        }
    }

    async fn start_range(&self, workspace: WorkspaceId) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(self.facts(workspace, None).await?.start_range())
    }

    async fn conversation(
        &self,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let row: Option<(i64, Vec<u8>)> = on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT body_version, body FROM conversations \
                 WHERE workspace_id = $1 AND conversation_id = $2",
            )
            .bind(workspace.0)
            .bind(id)
            .fetch_optional(p)
            .await?
        });
        row.map(|(version, bytes)| {
            engine::decode_body(&StoredBody {
                id: id.to_string(),
                ordinal: 0,
                version,
                bytes,
            })
        })
        .transpose()
    }

    async fn counts(&self, workspace: WorkspaceId) -> Result<WorkspaceCounts, StoreError> {
        on_pool!(&self.pool, p => {
            let row = sqlx::query(
                "SELECT COUNT(*), (SELECT COUNT(*) FROM conversations \
                 WHERE workspace_id = $1 AND has_header) FROM conversations WHERE workspace_id = $1",
            )
            .bind(workspace.0)
            .fetch_one(p)
            .await?;
            let conversations: i64 = row.try_get(0)?;
            let with_facts: i64 = row.try_get(1)?;
            Ok(WorkspaceCounts {
                conversations: conversations as u64,
                with_facts: with_facts as u64,
            })
        })
    }
}

/// Creates a workspace (when its name is free) with its state row, inside a write transaction
/// that holds [`CREATE_WORKSPACE_LOCK`]; returns its id.
pub(crate) async fn create_workspace(
    tx: &mut SqlTx,
    name: &str,
    now: i64,
) -> Result<WorkspaceId, StoreError> {
    sql::on_tx!(&mut tx.tx, t => {
        sqlx::query(
            "INSERT INTO workspaces (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now)
        .execute(&mut **t)
        .await?;
        let id: i64 = sqlx::query_scalar("SELECT workspace_id FROM workspaces WHERE name = $1")
            .bind(name)
            .fetch_one(&mut **t)
            .await?;
        sqlx::query(
            "INSERT INTO workspace_state (workspace_id) VALUES ($1) ON CONFLICT (workspace_id) DO NOTHING",
        )
        .bind(id)
        .execute(&mut **t)
        .await?;
        Ok(WorkspaceId(id))
    })
}
