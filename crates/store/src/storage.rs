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

/// Data versions of workspaces held in memory while a PostgreSQL listener tells this process
/// of every committed change (so a request needs no query to know its cached facts are
/// current). Without a working listener nothing is held and every ask goes to the database.
#[derive(Debug, Default)]
struct Versions {
    held: std::sync::Mutex<std::collections::HashMap<WorkspaceId, i64>>,
    /// Whether the listener is connected and listening: only then are versions held.
    listening: std::sync::atomic::AtomicBool,
    /// Counts forgets: a version read from the database is held only when no change was
    /// announced while it was being read.
    epoch: std::sync::atomic::AtomicU64,
    /// Sign-in look-ups, held under the same listener.
    accounts: crate::held_accounts::HeldAccounts,
}

impl Versions {
    fn forget(&self, workspace: Option<WorkspaceId>) {
        use std::sync::atomic::Ordering;
        let mut held = self.held.lock().expect("versions lock");
        self.epoch.fetch_add(1, Ordering::SeqCst);
        match workspace {
            Some(ws) => {
                held.remove(&ws);
                self.accounts.forget_workspace(ws);
            }
            None => {
                held.clear();
                self.accounts.forget_all();
            }
        }
    }
}

/// Listens for announced changes and makes `versions` forget them; ends when the store is
/// gone. A lost connection forgets everything and stops holding until it listens again.
async fn listen_for_changes(pool: sqlx::PgPool, versions: std::sync::Weak<Versions>) {
    use std::sync::atomic::Ordering;
    loop {
        let listener = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(sql::DATA_CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        }
        .await;
        let Some(shared) = versions.upgrade() else {
            return;
        };
        let mut listener = match listener {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for data changes; asking the database");
                drop(shared);
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                continue;
            }
        };
        shared.forget(None);
        shared.listening.store(true, Ordering::SeqCst);
        drop(shared);
        loop {
            let next =
                tokio::time::timeout(std::time::Duration::from_secs(10), listener.try_recv()).await;
            let Some(shared) = versions.upgrade() else {
                return;
            };
            match next {
                // Quiet: check that the store still exists, then wait again.
                Err(_elapsed) => continue,
                Ok(Ok(Some(notification))) => match notification.payload().parse::<i64>() {
                    Ok(id) => shared.forget(Some(WorkspaceId(id))),
                    Err(_) => shared.forget(None),
                },
                // The connection was lost: notifications may have been missed.
                Ok(Ok(None)) | Ok(Err(_)) => {
                    shared.listening.store(false, Ordering::SeqCst);
                    shared.forget(None);
                    break;
                }
            }
        }
    }
}

/// The store on the embedded SQLite file or on PostgreSQL.
#[derive(Debug, Clone)]
pub struct Storage {
    pub(crate) pool: Pool,
    /// Data versions held in memory (PostgreSQL, while its listener works).
    versions: Option<Arc<Versions>>,
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
        let pool = sql::open_postgres(url, max_connections.max(3)).await?;
        let versions = Arc::new(Versions::default());
        tokio::spawn(listen_for_changes(pool.clone(), Arc::downgrade(&versions)));
        let mut storage = Storage::new(Pool::Postgres(pool));
        storage.versions = Some(versions);
        Ok(storage)
    }

    fn new(pool: Pool) -> Storage {
        Storage {
            pool,
            versions: None,
            writer: Arc::default(),
            threads: Threads::all_cores(),
        }
    }

    /// Whether data versions are served from memory (PostgreSQL with a working listener).
    pub fn holds_versions(&self) -> bool {
        self.versions
            .as_ref()
            .is_some_and(|v| v.listening.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// After this process changed a workspace's facts: its held version is gone at once (the
    /// announcement reaches the other processes).
    fn changed(&self, workspace: WorkspaceId) {
        if let Some(versions) = &self.versions {
            versions.forget(Some(workspace));
        }
    }

    /// Sign-in look-ups held in memory (PostgreSQL, while its listener works).
    pub(crate) fn held_accounts(&self) -> Option<&crate::held_accounts::HeldAccounts> {
        self.versions
            .as_ref()
            .filter(|v| v.listening.load(std::sync::atomic::Ordering::SeqCst))
            .map(|v| &v.accounts)
    }

    /// After this process changed users, memberships or sessions: what it holds is forgotten
    /// at once, and the other processes are told to forget theirs.
    pub(crate) async fn accounts_changed(&self) -> Result<(), StoreError> {
        if let Some(versions) = &self.versions {
            versions.forget(None);
        }
        self.announce(sql::ACCOUNTS_CHANGED).await
    }

    /// Tells every listening process (this one too) to forget what it holds of `what`: a
    /// workspace id, or anything else for everything.
    async fn announce(&self, what: &str) -> Result<(), StoreError> {
        if let Pool::Postgres(p) = &self.pool {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(sql::DATA_CHANNEL)
                .bind(what)
                .execute(p)
                .await?;
        }
        Ok(())
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

    /// Writes a consistent copy of the embedded store to a new file (while it is in use). With
    /// PostgreSQL this is the database server's job (`pg_dump`).
    pub async fn backup(&self, to: &Path) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => crate::backup::backup_sqlite(pool, to).await,
            Pool::Postgres(_) => Err(StoreError::Invalid(
                "backup copies the embedded store; for PostgreSQL use pg_dump (see docs/scaling.md)"
                    .into(),
            )),
        }
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
    pub(crate) async fn stored_calendars(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Calendars, StoreError> {
        let toml: Option<Option<String>> = on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT config_toml FROM workspaces WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_optional(p)
                .await?
        });
        calendars_of(toml.flatten())
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
            facts.add(bodies).await?;
        }
        Ok(facts.finish())
    }
}

/// The calendars of a stored configuration (the defaults without one).
fn calendars_of(stored: Option<String>) -> Result<Calendars, StoreError> {
    let config = match stored {
        Some(text) => WorkspaceConfig::from_toml(&text)
            .map_err(|e| StoreError::Invalid(format!("stored configuration: {e}")))?,
        None => WorkspaceConfig::default(),
    };
    Ok(Calendars::new(config))
}

/// An import in progress: one write transaction and the engine's state.
pub struct StorageImport {
    tx: SqlTx,
    state: ImportState,
    threads: Threads,
    /// The store's held data versions, forgotten for this workspace when the import commits.
    versions: Option<Arc<Versions>>,
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

    async fn remember_delivery(
        &mut self,
        signature: &str,
        now: i64,
        until: i64,
    ) -> Result<bool, StoreError> {
        self.tx.remember_delivery(signature, now, until).await
    }

    async fn mark_answered(
        &mut self,
        conversation: &str,
        kind: servicemeter_core::model::SurveyKind,
        language: &str,
        at: i64,
        anonymous: bool,
    ) -> Result<(), StoreError> {
        self.tx
            .mark_answered(conversation, kind, language, at, anonymous)
            .await
    }

    async fn commit(self, summary: ImportSummary) -> Result<(), StoreError> {
        let workspace = self.tx.workspace();
        engine::commit(self.tx, self.state, summary).await?;
        if let Some(versions) = &self.versions {
            versions.forget(Some(workspace));
        }
        Ok(())
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
        use std::sync::atomic::Ordering;
        let epoch = match &self.versions {
            Some(versions) if versions.listening.load(Ordering::SeqCst) => {
                if let Some(&held) = versions.held.lock().expect("versions lock").get(&workspace) {
                    return Ok(held);
                }
                Some(versions.epoch.load(Ordering::SeqCst))
            }
            _ => None,
        };
        let version: Option<i64> = on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT data_version FROM workspace_state WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_optional(p)
                .await?
        });
        let version = version.unwrap_or(0);
        if let (Some(versions), Some(epoch)) = (&self.versions, epoch) {
            let mut held = versions.held.lock().expect("versions lock");
            // Held only when no change was announced meanwhile (else it may be old already).
            if versions.epoch.load(Ordering::SeqCst) == epoch
                && versions.listening.load(Ordering::SeqCst)
            {
                held.insert(workspace, version);
            }
        }
        Ok(version)
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
        let recomputed = engine::replace_config(tx, config_toml, calendars, self.threads).await?;
        self.changed(workspace);
        Ok(recomputed)
    }

    async fn store_config(
        &self,
        workspace: WorkspaceId,
        config_toml: &str,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        tx.set_config(config_toml).await?;
        tx.commit().await?;
        // The facts stay until the recompute; the workspace (with its configuration) held
        // for sign-in look-ups is old now, here and in other processes.
        self.changed(workspace);
        self.announce(&workspace.0.to_string()).await
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
        let calendars = Arc::new(calendars_of(toml)?);
        let recomputed = engine::recompute(tx, &calendars, self.threads, progress).await?;
        self.changed(workspace);
        Ok(recomputed)
    }

    async fn erase_customer(
        &self,
        workspace: WorkspaceId,
        customer: &str,
        actor: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let changed = engine::erase_customer(tx, customer, actor, now).await?;
        self.changed(workspace);
        Ok(changed)
    }

    async fn apply_retention(
        &self,
        workspace: WorkspaceId,
        actor: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let toml: Option<String> = sql::on_tx!(&mut tx.tx, t => {
            sqlx::query_scalar("SELECT config_toml FROM workspaces WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_one(&mut **t)
                .await?
        });
        let config = calendars_of(toml)?.config().clone();
        let (Some(months), Some(cutoff)) = (config.retention_months, config.retention_cutoff(now))
        else {
            return Ok(0);
        };
        let changed = engine::apply_retention(tx, cutoff, months, actor, now).await?;
        self.changed(workspace);
        Ok(changed)
    }

    async fn audit_log(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> Result<Vec<crate::AuditEntry>, StoreError> {
        let rows: Vec<(i64, String, String, String)> = on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT at, actor, action, detail FROM audit_log WHERE workspace_id = $1 \
                 ORDER BY entry_id DESC LIMIT $2",
            )
            .bind(workspace.0)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(at, actor, action, detail)| crate::AuditEntry {
                at,
                actor,
                action,
                detail,
            })
            .collect())
    }

    async fn begin_import(&self, workspace: WorkspaceId) -> Result<StorageImport, StoreError> {
        Ok(StorageImport {
            tx: SqlTx::begin(&self.pool, &self.writer, workspace).await?,
            state: ImportState::default(),
            threads: self.threads,
            versions: self.versions.clone(),
        })
    }

    async fn facts(
        &self,
        workspace: WorkspaceId,
        start_between: Option<(i64, i64)>,
    ) -> Result<FactTable, StoreError> {
        use futures_util::TryStreamExt;
        let mut read = Some(FactsRead::new(start_between));
        // Decoding and merging a segment (65 536 rows) is CPU work: off the async workers, on
        // a blocking thread, while the next segment arrives (the row moves along, so its bytes
        // are not copied). Segments merge one after the other, newest first.
        let mut merging: Option<tokio::task::JoinHandle<(FactsRead, Result<bool, StoreError>)>> =
            None;
        let join = |e: tokio::task::JoinError| StoreError::Database(Box::new(e));
        on_pool!(&self.pool, p => {
            let mut rows = sqlx::query(
                "SELECT facts_version, data FROM fact_segments WHERE workspace_id = $1 \
                 ORDER BY segment_id DESC",
            )
            .bind(workspace.0)
            .fetch(p);
            while let Some(row) = rows.try_next().await? {
                if let Some(previous) = merging.take() {
                    let (back, more) = previous.await.map_err(join)?;
                    read = Some(back);
                    if !more? {
                        break;
                    }
                }
                let mut next = read.take().expect("the merge is back");
                merging = Some(tokio::task::spawn_blocking(move || {
                    let more = (|| {
                        let version: i64 = row.try_get(0)?;
                        let data: &[u8] = row.try_get(1)?;
                        next.add(version, data)
                    })();
                    (next, more)
                }));
            }
        });
        if let Some(last) = merging.take() {
            let (back, more) = last.await.map_err(join)?;
            more?;
            read = Some(back);
        }
        let read = read.expect("the merge is back");
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

    async fn conversations_of_customer(
        &self,
        workspace: WorkspaceId,
        text: &str,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let text = text.trim().to_lowercase();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        // The text is matched as it is: LIKE's wildcards in it are escaped.
        let mut pattern = String::from("%");
        for c in text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        on_pool!(&self.pool, p => {
            Ok(sqlx::query_scalar(
                "SELECT conversation_id FROM conversations \
                 WHERE workspace_id = $1 AND customer_key LIKE $2 ESCAPE '\\' LIMIT $3",
            )
            .bind(workspace.0)
            .bind(pattern)
            .bind(limit)
            .fetch_all(p)
            .await?)
        })
    }

    async fn saved_views(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<crate::SavedView>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT name, query, created_by, created_at FROM saved_views \
                 WHERE workspace_id = $1 ORDER BY name",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(|(name, query, created_by, created_at)| crate::SavedView {
                name,
                query,
                created_by,
                created_at,
            })
            .collect())
    }

    async fn save_view(
        &self,
        workspace: WorkspaceId,
        view: &crate::SavedView,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        sql::on_tx!(&mut tx.tx, t => {
            sqlx::query(
                "INSERT INTO saved_views (workspace_id, name, query, created_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace_id, name) DO UPDATE SET \
                 query = excluded.query, created_by = excluded.created_by, \
                 created_at = excluded.created_at",
            )
            .bind(workspace.0)
            .bind(view.name.as_str())
            .bind(view.query.as_str())
            .bind(view.created_by.as_str())
            .bind(view.created_at)
            .execute(&mut **t)
            .await?;
        });
        tx.audit(&crate::AuditEntry {
            at: view.created_at,
            actor: view.created_by.clone(),
            action: "view-save".into(),
            detail: format!("{}: {}", view.name, view.query),
        })
        .await?;
        tx.commit().await
    }

    async fn delete_view(
        &self,
        workspace: WorkspaceId,
        name: &str,
        actor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let removed = sql::on_tx!(&mut tx.tx, t => {
            sqlx::query("DELETE FROM saved_views WHERE workspace_id = $1 AND name = $2")
                .bind(workspace.0)
                .bind(name)
                .execute(&mut **t)
                .await?
                .rows_affected()
        });
        if removed == 0 {
            return Ok(false);
        }
        tx.audit(&crate::AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "view-delete".into(),
            detail: name.to_string(),
        })
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn sync_accounts(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<crate::SyncAccount>, StoreError> {
        let rows: Vec<(String, String, String, String, i64, i64)> = on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT source, url, login, secret, every_minutes, created_at FROM sync_accounts \
                 WHERE workspace_id = $1 ORDER BY source",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?
        });
        Ok(rows
            .into_iter()
            .map(
                |(source, url, login, secret, every, created_at)| crate::SyncAccount {
                    source,
                    url,
                    login,
                    secret,
                    every_minutes: u32::try_from(every).unwrap_or(u32::MAX),
                    created_at,
                },
            )
            .collect())
    }

    async fn set_sync_account(
        &self,
        workspace: WorkspaceId,
        account: &crate::SyncAccount,
        actor: &str,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        sql::on_tx!(&mut tx.tx, t => {
            sqlx::query(
                "INSERT INTO sync_accounts (workspace_id, source, url, login, secret, \
                 every_minutes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (workspace_id, source) DO UPDATE SET url = excluded.url, \
                 login = excluded.login, secret = excluded.secret, \
                 every_minutes = excluded.every_minutes, created_at = excluded.created_at",
            )
            .bind(workspace.0)
            .bind(account.source.as_str())
            .bind(account.url.as_str())
            .bind(account.login.as_str())
            .bind(account.secret.as_str())
            .bind(i64::from(account.every_minutes))
            .bind(account.created_at)
            .execute(&mut **t)
            .await?;
            // A run queued for later (of the account before) starts now instead.
            sqlx::query(
                "UPDATE jobs SET run_after = $1 WHERE workspace_id = $2 AND dedupe_key = $3 \
                 AND state = 'queued'",
            )
            .bind(account.created_at)
            .bind(workspace.0)
            .bind(crate::jobs::sync_key(&account.source))
            .execute(&mut **t)
            .await?;
        });
        tx.audit(&crate::AuditEntry {
            at: account.created_at,
            actor: actor.to_string(),
            action: "sync-schedule".into(),
            detail: format!(
                "{} {} every {} minutes",
                account.source, account.url, account.every_minutes
            ),
        })
        .await?;
        tx.commit().await?;
        crate::jobs::Jobs::enqueue(
            self,
            workspace,
            &crate::jobs::NewJob::sync(&account.source, account.created_at),
            account.created_at,
        )
        .await?;
        Ok(())
    }

    async fn remove_sync_account(
        &self,
        workspace: WorkspaceId,
        source: &str,
        actor: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let removed = sql::on_tx!(&mut tx.tx, t => {
            let removed = sqlx::query(
                "DELETE FROM sync_accounts WHERE workspace_id = $1 AND source = $2",
            )
            .bind(workspace.0)
            .bind(source)
            .execute(&mut **t)
            .await?
            .rows_affected();
            // Its queued run goes too; one running now finishes.
            sqlx::query(
                "DELETE FROM jobs WHERE workspace_id = $1 AND dedupe_key = $2 AND state = 'queued'",
            )
            .bind(workspace.0)
            .bind(crate::jobs::sync_key(source))
            .execute(&mut **t)
            .await?;
            removed
        });
        if removed == 0 {
            return Ok(false);
        }
        tx.audit(&crate::AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "sync-unschedule".into(),
            detail: source.to_string(),
        })
        .await?;
        tx.commit().await?;
        Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportRun, test_support};

    fn record(line: &str) -> Conversation {
        // The canonical parser lives in the import crate (a dev-dependency here).
        servicemeter_import::parse_record(line).unwrap()
    }

    fn header(id: &str) -> Conversation {
        record(&format!(
            r#"{{"type":"conversation","id":"{id}","channel":"email","created_at":"2024-03-04T08:00:00Z"}}"#
        ))
    }

    fn message(id: &str) -> Conversation {
        record(&format!(
            r#"{{"type":"message","conversation":"{id}","at":"2024-03-04T09:00:00Z","author":"customer"}}"#
        ))
    }

    fn deletion(id: &str) -> Conversation {
        record(&format!(r#"{{"type":"deletion","conversation":"{id}"}}"#))
    }

    /// The counter of conversations with a record, kept by every write, against a count.
    async fn live_counter_story(store: Storage) {
        let ws = store.workspace("shop").await.unwrap().id;
        let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
        let counter = |store: Storage| async move {
            let counted = {
                let mut tx = SqlTx::read(&store.pool, ws).await.unwrap();
                tx.live_conversations().await.unwrap() as u64
            };
            (counted, store.counts(ws).await.unwrap().with_facts)
        };
        let import = |records: Vec<Conversation>| {
            let store = store.clone();
            let calendars = calendars.clone();
            async move {
                let mut run = ImportRun::new(store.begin_import(ws).await.unwrap(), calendars, 0);
                for r in records {
                    run.add(r).await.unwrap();
                }
                run.finish("test".into()).await.unwrap();
            }
        };
        // a and b with records, c only a message (no record: not counted).
        import(vec![header("a"), header("b"), message("c")]).await;
        assert_eq!(counter(store.clone()).await, (2, 2));
        // c gets its record, a a message (still one), b is deleted.
        import(vec![header("c"), message("a"), deletion("b")]).await;
        assert_eq!(counter(store.clone()).await, (2, 2));
        // A deleted id that never existed, a new conversation without a record.
        import(vec![deletion("zzz"), message("d")]).await;
        assert_eq!(counter(store.clone()).await, (2, 2));
        // A recompute sets it from what it counted.
        store
            .replace_config(ws, "timezone = \"UTC\"\n", &calendars)
            .await
            .unwrap();
        assert_eq!(counter(store.clone()).await, (2, 2));
    }

    #[tokio::test]
    async fn sqlite_live_counter_follows_every_write() {
        let dir = tempfile::tempdir().unwrap();
        live_counter_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
    }

    #[tokio::test]
    async fn postgres_live_counter_follows_every_write() {
        let url = test_support::fresh_postgres_url().await;
        live_counter_story(Storage::open_postgres(&url, 2).await.unwrap()).await;
    }

    #[tokio::test]
    async fn the_database_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = Storage::open_embedded(dir.path()).await.unwrap();
        store.workspace("default").await.unwrap();
        let mode = std::fs::metadata(dir.path().join(crate::sql::DATABASE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        store.close().await.unwrap();
    }

    /// What a disk-full error can leave behind: SQLite ended the transaction itself, the
    /// rollback that follows fails, and the connection still counts as in a transaction. It
    /// must not serve the next transaction (that failed with "begin_with at non-zero
    /// transaction depth" for good).
    #[tokio::test]
    async fn a_connection_left_in_a_transaction_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Storage::open_embedded_with(dir.path(), 1).await.unwrap();
        {
            let Pool::Sqlite(pool) = &store.pool else {
                unreachable!()
            };
            let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            // End the transaction behind sqlx's back; the rollback on drop then fails.
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        }
        for _ in 0..3 {
            let workspace = store.workspace("default").await.unwrap();
            let mut import = store.begin_import(workspace.id).await.unwrap();
            import
                .apply(Vec::new(), &Arc::new(Calendars::new(Default::default())), 0)
                .await
                .unwrap();
            import
                .commit(ImportSummary {
                    sources: "test".into(),
                    records: 0,
                    conversations: 0,
                    rejected: 0,
                    finished_at: 0,
                })
                .await
                .unwrap();
        }
    }

    #[tokio::test]
    async fn a_deletion_wins_over_records_of_later_batches_of_the_same_import() {
        let dir = tempfile::tempdir().unwrap();
        let store = Storage::open_embedded(dir.path()).await.unwrap();
        let workspace = store.workspace("default").await.unwrap();
        let calendars = Arc::new(Calendars::new(Default::default()));
        let header = |id: &str| {
            let mut c = Conversation::new(id);
            c.header = Some(servicemeter_core::model::ConversationHeader {
                channel: servicemeter_core::model::Channel::new("email").unwrap(),
                created_at: 1_709_539_200_000,
                customer: None,
                agent: None,
                team: None,
                tags: Vec::new(),
                subject: None,
                customer_email: None,
                customer_name: None,
                customer_language: None,
            });
            c
        };
        let mut deletion = Conversation::new("c1");
        deletion.deleted = true;
        let mut import = store.begin_import(workspace.id).await.unwrap();
        import
            .apply(vec![header("c1"), header("c2")], &calendars, 0)
            .await
            .unwrap();
        import.apply(vec![deletion], &calendars, 0).await.unwrap();
        // A later batch brings c1 again: the deletion of this import still wins.
        import
            .apply(vec![header("c1")], &calendars, 0)
            .await
            .unwrap();
        import
            .commit(ImportSummary {
                sources: "test".into(),
                records: 4,
                conversations: 2,
                rejected: 0,
                finished_at: 0,
            })
            .await
            .unwrap();
        assert!(
            store
                .conversation(workspace.id, "c1")
                .await
                .unwrap()
                .is_none()
        );
        let facts = store.facts(workspace.id, None).await.unwrap();
        assert_eq!(facts.len(), 1, "only c2 is counted");
    }

    /// Segments computed under other fact rules are derived data: readers compute the facts
    /// from the bodies, the next write replaces the segments. A body of an unknown version is
    /// a clear error, not a misread.
    async fn versions_story(store: Storage) {
        let ws = store.workspace("shop").await.unwrap().id;
        let calendars = Arc::new(Calendars::new(WorkspaceConfig::default()));
        let mut run = ImportRun::new(store.begin_import(ws).await.unwrap(), calendars.clone(), 0);
        for r in [header("a"), message("a"), header("b")] {
            run.add(r).await.unwrap();
        }
        run.finish("test".into()).await.unwrap();
        let facts = |store: Storage| async move {
            let mut rows: Vec<(String, u32)> = store
                .facts(ws, None)
                .await
                .unwrap()
                .to_facts()
                .into_iter()
                .map(|f| (f.conversation.clone(), f.customer_messages))
                .collect();
            rows.sort();
            rows
        };
        let expected = vec![("a".to_string(), 1), ("b".to_string(), 0)];
        assert_eq!(facts(store.clone()).await, expected);
        on_pool!(&store.pool, p => {
            sqlx::query(
                "UPDATE fact_segments SET facts_version = 0, data = $1 WHERE workspace_id = $2",
            )
            .bind(b"not a segment of this build".as_slice())
            .bind(ws.0)
                .execute(p)
                .await
                .unwrap();
        });
        assert_eq!(
            facts(store.clone()).await,
            expected,
            "computed from the bodies"
        );
        let mut run = ImportRun::new(store.begin_import(ws).await.unwrap(), calendars.clone(), 0);
        run.add(message("b")).await.unwrap();
        run.finish("test".into()).await.unwrap();
        let versions: Vec<i64> = on_pool!(&store.pool, p => {
            sqlx::query_scalar("SELECT facts_version FROM fact_segments WHERE workspace_id = $1")
                .bind(ws.0)
                .fetch_all(p)
                .await
                .unwrap()
        });
        assert!(!versions.is_empty());
        assert!(
            versions
                .iter()
                .all(|&v| v == servicemeter_core::facts::FACTS_VERSION)
        );
        let expected = vec![("a".to_string(), 1), ("b".to_string(), 1)];
        assert_eq!(facts(store.clone()).await, expected);

        on_pool!(&store.pool, p => {
            sqlx::query(
                "UPDATE conversations SET body_version = 99 \
                 WHERE workspace_id = $1 AND conversation_id = 'a'",
            )
            .bind(ws.0)
            .execute(p)
                .await
                .unwrap();
        });
        let error = store.conversation(ws, "a").await.unwrap_err().to_string();
        assert!(
            error.contains("stored conversation a cannot be read"),
            "{error}"
        );
        assert!(error.contains("body version 99"), "{error}");
    }

    #[tokio::test]
    async fn sqlite_stored_versions() {
        let dir = tempfile::tempdir().unwrap();
        versions_story(Storage::open_embedded(dir.path()).await.unwrap()).await;
    }

    #[tokio::test]
    async fn postgres_stored_versions() {
        let url = test_support::fresh_postgres_url().await;
        versions_story(Storage::open_postgres(&url, 2).await.unwrap()).await;
    }
}
