//! The embedded SQLite store (one file in the data directory, WAL, synchronous=FULL).

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use servicemeter_core::facts::compute_all_facts;
use servicemeter_core::{Calendars, Conversation, FactTable};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, Transaction};

use crate::segments::{NewestMerge, SEGMENT_ROWS, Segment};
use crate::{
    BatchOutcome, ImportSession, ImportSummary, Store, StoreError, Workspace, WorkspaceCounts,
    WorkspaceId,
};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "servicemeter.db";

/// Creates an empty file readable and writable by its owner only (0600), unless it exists.
fn create_private(path: &Path) -> std::io::Result<()> {
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

/// Rows per multi-row statement.
const ROWS_PER_STATEMENT: usize = 500;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// One writer at a time in this process (SQLite has one writer per database); writers in
    /// other processes wait on SQLite's busy timeout.
    writer: Arc<tokio::sync::Mutex<()>>,
}

impl SqliteStore {
    /// Opens (creating when needed) the store in a data directory and runs migrations.
    pub async fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        SqliteStore::open_with(data_dir, 4).await
    }

    /// [`SqliteStore::open`] with a number of pooled connections.
    pub async fn open_with(
        data_dir: &Path,
        max_connections: u32,
    ) -> Result<SqliteStore, StoreError> {
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
        Ok(SqliteStore {
            pool,
            writer: Arc::default(),
        })
    }

    /// Checkpoints the write-ahead log and closes every connection (the WAL file is then
    /// folded into the database, so the next open reads one file).
    pub async fn close(self) -> Result<(), StoreError> {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        self.pool.close().await;
        Ok(())
    }

    /// Number of fact segments of a workspace and the rows they hold (outdated rows included).
    pub async fn segment_stats(&self, workspace: WorkspaceId) -> Result<(u64, u64), StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(row_count), 0) FROM fact_segments WHERE workspace_id = ?",
        )
        .bind(workspace.0)
        .fetch_one(&self.pool)
        .await?;
        let segments: i64 = row.try_get(0)?;
        let rows: i64 = row.try_get(1)?;
        Ok((segments as u64, rows as u64))
    }

    /// The connection pool (for other crates' tables later).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn encode(conversation: &Conversation) -> Vec<u8> {
    postcard::to_stdvec(conversation).expect("conversations serialize")
}

fn decode(id: &str, body: &[u8]) -> Result<Conversation, StoreError> {
    postcard::from_bytes(body).map_err(|e| StoreError::Corrupt {
        conversation: id.to_string(),
        reason: e.to_string(),
    })
}

/// Stored conversations of a batch: body and ordinal by id.
async fn load_existing(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
    ids: &[&str],
) -> Result<HashMap<String, (u32, Conversation)>, StoreError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT conversation_id, ordinal, body FROM conversations WHERE workspace_id = ",
        );
        query.push_bind(workspace.0);
        query.push(" AND conversation_id IN (");
        let mut separated = query.separated(", ");
        for id in chunk {
            separated.push_bind(id.to_string());
        }
        separated.push_unseparated(")");
        let rows = query.build().fetch_all(&mut *conn).await?;
        for row in rows {
            let id: String = row.try_get(0)?;
            let ordinal: i64 = row.try_get(1)?;
            let body: Vec<u8> = row.try_get(2)?;
            let conversation = decode(&id, &body)?;
            found.insert(id, (ordinal as u32, conversation));
        }
    }
    Ok(found)
}

async fn write_conversations(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
    conversations: &[(u32, Conversation)],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in conversations.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO conversations (workspace_id, conversation_id, ordinal, has_header, body, updated_at) ",
        );
        query.push_values(chunk, |mut row, (ordinal, c)| {
            row.push_bind(workspace.0)
                .push_bind(c.id.clone())
                .push_bind(i64::from(*ordinal))
                .push_bind(c.header.is_some())
                .push_bind(encode(c))
                .push_bind(now);
        });
        query.push(
            " ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET \
             has_header = excluded.has_header, body = excluded.body, updated_at = excluded.updated_at",
        );
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn next_segment_id(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(MAX(segment_id) + 1, 0) FROM fact_segments WHERE workspace_id = ?",
    )
    .bind(workspace.0)
    .fetch_one(&mut *conn)
    .await?)
}

async fn write_segment(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
    segment_id: i64,
    segment: &Segment,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO fact_segments (workspace_id, segment_id, row_count, data) VALUES (?, ?, ?, ?)",
    )
    .bind(workspace.0)
    .bind(segment_id)
    .bind(segment.ordinals.len() as i64)
    .bind(segment.encode())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The live facts of a workspace: its segments read newest first and merged one at a time.
async fn read_facts(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
    start_between: Option<(i64, i64)>,
) -> Result<FactTable, StoreError> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query(
        "SELECT data FROM fact_segments WHERE workspace_id = ? ORDER BY segment_id DESC",
    )
    .bind(workspace.0)
    .fetch(&mut *conn);
    let mut merge = NewestMerge::new(start_between);
    while let Some(row) = rows.try_next().await? {
        let data: &[u8] = row.try_get(0)?;
        merge.add(Segment::decode(data)?);
    }
    Ok(merge.finish().table)
}

/// Writes fact rows as segments of about [`SEGMENT_ROWS`] rows, holding one segment at a time.
struct SegmentWriter {
    workspace: WorkspaceId,
    next_id: i64,
    pending: Segment,
    written: u64,
}

impl SegmentWriter {
    fn new(workspace: WorkspaceId, next_id: i64) -> SegmentWriter {
        SegmentWriter {
            workspace,
            next_id,
            pending: Segment::default(),
            written: 0,
        }
    }

    async fn flush_if_full(&mut self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        if self.pending.ordinals.len() >= SEGMENT_ROWS {
            self.flush(conn).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, conn: &mut SqliteConnection) -> Result<(), StoreError> {
        if self.pending.ordinals.is_empty() {
            return Ok(());
        }
        let segment = std::mem::take(&mut self.pending);
        write_segment(conn, self.workspace, self.next_id, &segment).await?;
        self.next_id += 1;
        self.written += segment.ordinals.len() as u64;
        Ok(())
    }
}

/// Whether the segments hold enough outdated rows (or are many enough) to be worth rewriting:
/// more than a quarter more rows than conversations with facts, or more than 32 segments.
/// Small imports into a large workspace thus only add a segment.
async fn needs_compaction(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT COUNT(*), COALESCE(SUM(row_count), 0) FROM fact_segments WHERE workspace_id = ?",
    )
    .bind(workspace.0)
    .fetch_one(&mut *conn)
    .await?;
    let segments: i64 = row.try_get(0)?;
    let rows: i64 = row.try_get(1)?;
    let live: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM conversations WHERE workspace_id = ? AND has_header = 1",
    )
    .bind(workspace.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(segments > 32 || rows > live + live / 4)
}

/// Rewrites a workspace's segments so that each conversation has one row (its newest) and
/// deleted conversations none, one segment in memory at a time.
async fn compact_segments(
    conn: &mut SqliteConnection,
    workspace: WorkspaceId,
    deleted: &[u32],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT segment_id FROM fact_segments WHERE workspace_id = ? ORDER BY segment_id DESC",
    )
    .bind(workspace.0)
    .fetch_all(&mut *conn)
    .await?;
    let Some(&newest) = ids.first() else {
        return Ok(());
    };
    if ids.len() == 1 && deleted.is_empty() {
        return Ok(());
    }
    let mut merge = NewestMerge::new(None);
    for &ordinal in deleted {
        merge.skip(ordinal);
    }
    let mut next_id = newest + 1;
    for id in &ids {
        let data: Vec<u8> = sqlx::query_scalar(
            "SELECT data FROM fact_segments WHERE workspace_id = ? AND segment_id = ?",
        )
        .bind(workspace.0)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        merge.add(Segment::decode(&data)?);
        if merge.len() >= SEGMENT_ROWS {
            write_segment(conn, workspace, next_id, &merge.take()).await?;
            next_id += 1;
        }
    }
    if !merge.is_empty() {
        write_segment(conn, workspace, next_id, &merge.take()).await?;
    }
    sqlx::query("DELETE FROM fact_segments WHERE workspace_id = ? AND segment_id <= ?")
        .bind(workspace.0)
        .bind(newest)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Folds records of the same conversation within a batch together (first place, later wins).
fn merge_duplicates(batch: Vec<Conversation>) -> Vec<Conversation> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(batch.len());
    let mut unique: Vec<Conversation> = Vec::with_capacity(batch.len());
    for c in batch {
        match index.get(&c.id) {
            Some(&i) => unique[i].absorb(c),
            None => {
                index.insert(c.id.clone(), unique.len());
                unique.push(c);
            }
        }
    }
    unique
}

/// An import in progress on SQLite (one transaction).
pub struct SqliteImport {
    tx: Transaction<'static, Sqlite>,
    /// Held until the import commits or is dropped.
    _writer: tokio::sync::OwnedMutexGuard<()>,
    workspace: WorkspaceId,
    next_ordinal: u32,
    next_segment: i64,
    /// Ordinals of conversations deleted in this import: their fact rows are dropped when it
    /// commits.
    deleted: Vec<u32>,
    /// Ids deleted in this import: a deletion wins over every record of the same import, also
    /// records in later batches.
    deleted_ids: std::collections::HashSet<String>,
}

impl ImportSession for SqliteImport {
    async fn apply(
        &mut self,
        batch: Vec<Conversation>,
        calendars: &Calendars,
        now: i64,
    ) -> Result<BatchOutcome, StoreError> {
        let batch = merge_duplicates(batch);
        let ids: Vec<&str> = batch.iter().map(|c| c.id.as_str()).collect();
        let mut existing = load_existing(&mut self.tx, self.workspace, &ids).await?;
        let mut outcome = BatchOutcome::default();
        let mut ordinals = Vec::with_capacity(batch.len());
        let mut merged = Vec::with_capacity(batch.len());
        for partial in batch {
            if partial.deleted || self.deleted_ids.contains(&partial.id) {
                if partial.deleted {
                    self.deleted_ids.insert(partial.id.clone());
                }
                // Gone from the helpdesk: removed here too, whatever else came for it.
                if let Some((ordinal, _)) = existing.remove(&partial.id) {
                    sqlx::query(
                        "DELETE FROM conversations WHERE workspace_id = ? AND conversation_id = ?",
                    )
                    .bind(self.workspace.0)
                    .bind(&partial.id)
                    .execute(&mut *self.tx)
                    .await?;
                    self.deleted.push(ordinal);
                    outcome.deleted_conversations += 1;
                }
                continue;
            }
            let (ordinal, mut conversation) = match existing.remove(&partial.id) {
                Some((ordinal, mut stored)) => {
                    outcome.updated_conversations += 1;
                    stored.absorb(partial);
                    (ordinal, stored)
                }
                None => {
                    outcome.new_conversations += 1;
                    let ordinal = self.next_ordinal;
                    self.next_ordinal += 1;
                    (ordinal, partial)
                }
            };
            conversation.normalize();
            if let Some(problem) = servicemeter_core::limits::conversation_problem(&conversation) {
                return Err(StoreError::Limit(problem));
            }
            ordinals.push(ordinal);
            merged.push(conversation);
        }
        let facts = compute_all_facts(&merged, calendars);
        let mut segment = Segment::default();
        for (ordinal, f) in ordinals.iter().zip(&facts) {
            match f {
                Some(f) => {
                    segment.ordinals.push(*ordinal);
                    segment.table.push(f);
                }
                None => outcome.pending_conversations += 1,
            }
        }
        let rows: Vec<(u32, Conversation)> = ordinals.into_iter().zip(merged).collect();
        write_conversations(&mut self.tx, self.workspace, &rows, now).await?;
        if !segment.ordinals.is_empty() {
            write_segment(&mut self.tx, self.workspace, self.next_segment, &segment).await?;
            self.next_segment += 1;
        }
        Ok(outcome)
    }

    async fn set_sync_cursor(
        &mut self,
        source: &str,
        cursor: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sync_cursors (workspace_id, source, cursor, updated_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (workspace_id, source) DO UPDATE SET cursor = excluded.cursor, \
             updated_at = excluded.updated_at",
        )
        .bind(self.workspace.0)
        .bind(source)
        .bind(cursor)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn commit(mut self, summary: ImportSummary) -> Result<(), StoreError> {
        if !self.deleted.is_empty() || needs_compaction(&mut self.tx, self.workspace).await? {
            compact_segments(&mut self.tx, self.workspace, &self.deleted).await?;
        }
        sqlx::query(
            "INSERT INTO imports (workspace_id, import_id, finished_at, sources, records, conversations, rejected) \
             VALUES (?1, (SELECT COALESCE(MAX(import_id), 0) + 1 FROM imports WHERE workspace_id = ?1), ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(self.workspace.0)
        .bind(summary.finished_at)
        .bind(summary.sources)
        .bind(summary.records as i64)
        .bind(summary.conversations as i64)
        .bind(summary.rejected as i64)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE workspaces SET data_version = data_version + 1 WHERE workspace_id = ?")
            .bind(self.workspace.0)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// A `workspaces` row read by `SELECT workspace_id, name, config_toml`.
pub(crate) fn read_workspace(row: &SqliteRow) -> Result<Workspace, StoreError> {
    Ok(Workspace {
        id: WorkspaceId(row.try_get(0)?),
        name: row.try_get(1)?,
        config_toml: row.try_get(2)?,
    })
}

impl Store for SqliteStore {
    type Import<'a> = SqliteImport;

    async fn sync_cursor(
        &self,
        workspace: WorkspaceId,
        source: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT cursor FROM sync_cursors WHERE workspace_id = ? AND source = ?",
        )
        .bind(workspace.0)
        .bind(source)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn data_version(&self, workspace: WorkspaceId) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT data_version FROM workspaces WHERE workspace_id = ?")
                .bind(workspace.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
    }

    async fn workspaces(&self) -> Result<Vec<Workspace>, StoreError> {
        let rows =
            sqlx::query("SELECT workspace_id, name, config_toml FROM workspaces ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(read_workspace).collect()
    }

    async fn workspace(&self, name: &str) -> Result<Workspace, StoreError> {
        let read = |row: SqliteRow| read_workspace(&row);
        let select = "SELECT workspace_id, name, config_toml FROM workspaces WHERE name = ?";
        if let Some(row) = sqlx::query(select)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
        {
            return read(row);
        }
        sqlx::query(
            "INSERT INTO workspaces (workspace_id, name, created_at) \
             VALUES ((SELECT COALESCE(MAX(workspace_id), 0) + 1 FROM workspaces), ?, 0) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .execute(&self.pool)
        .await?;
        read(sqlx::query(select).bind(name).fetch_one(&self.pool).await?)
    }

    async fn replace_config(
        &self,
        workspace: WorkspaceId,
        config_toml: &str,
        calendars: &Calendars,
    ) -> Result<u64, StoreError> {
        let _writer = self.writer.lock().await;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query("UPDATE workspaces SET config_toml = ? WHERE workspace_id = ?")
            .bind(config_toml)
            .bind(workspace.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM fact_segments WHERE workspace_id = ?")
            .bind(workspace.0)
            .execute(&mut *tx)
            .await?;
        let mut writer = SegmentWriter::new(workspace, 0);
        let mut after = -1i64;
        loop {
            let rows = sqlx::query(
                "SELECT conversation_id, ordinal, body FROM conversations \
                 WHERE workspace_id = ? AND has_header = 1 AND ordinal > ? \
                 ORDER BY ordinal LIMIT 10000",
            )
            .bind(workspace.0)
            .bind(after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut ordinals = Vec::with_capacity(rows.len());
            let mut conversations = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: String = row.try_get(0)?;
                let ordinal: i64 = row.try_get(1)?;
                let body: &[u8] = row.try_get(2)?;
                conversations.push(decode(&id, body)?);
                ordinals.push(ordinal as u32);
                after = ordinal;
            }
            for (ordinal, f) in ordinals
                .into_iter()
                .zip(compute_all_facts(&conversations, calendars))
            {
                if let Some(f) = f {
                    writer.pending.ordinals.push(ordinal);
                    writer.pending.table.push(&f);
                }
            }
            writer.flush_if_full(&mut tx).await?;
        }
        writer.flush(&mut tx).await?;
        sqlx::query("UPDATE workspaces SET data_version = data_version + 1 WHERE workspace_id = ?")
            .bind(workspace.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(writer.written)
    }

    async fn begin_import(&self, workspace: WorkspaceId) -> Result<SqliteImport, StoreError> {
        let writer = self.writer.clone().lock_owned().await;
        // IMMEDIATE: the write lock from the start, so ordinals read here stay unique.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let next_ordinal: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(ordinal) + 1, 0) FROM conversations WHERE workspace_id = ?",
        )
        .bind(workspace.0)
        .fetch_one(&mut *tx)
        .await?;
        let next_segment = next_segment_id(&mut tx, workspace).await?;
        Ok(SqliteImport {
            tx,
            _writer: writer,
            workspace,
            next_ordinal: next_ordinal as u32,
            next_segment,
            deleted: Vec::new(),
            deleted_ids: Default::default(),
        })
    }

    async fn facts(
        &self,
        workspace: WorkspaceId,
        start_between: Option<(i64, i64)>,
    ) -> Result<FactTable, StoreError> {
        let mut conn = self.pool.acquire().await?;
        read_facts(&mut conn, workspace, start_between).await
    }

    async fn start_range(&self, workspace: WorkspaceId) -> Result<Option<(i64, i64)>, StoreError> {
        Ok(self.facts(workspace, None).await?.start_range())
    }

    async fn conversation(
        &self,
        workspace: WorkspaceId,
        id: &str,
    ) -> Result<Option<Conversation>, StoreError> {
        let row = sqlx::query(
            "SELECT body FROM conversations WHERE workspace_id = ? AND conversation_id = ?",
        )
        .bind(workspace.0)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(row) => {
                let body: Vec<u8> = row.try_get(0)?;
                Ok(Some(decode(id, &body)?))
            }
            None => Ok(None),
        }
    }

    async fn counts(&self, workspace: WorkspaceId) -> Result<WorkspaceCounts, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*), COALESCE(SUM(has_header), 0) FROM conversations WHERE workspace_id = ?",
        )
        .bind(workspace.0)
        .fetch_one(&self.pool)
        .await?;
        let conversations: i64 = row.try_get(0)?;
        let with_facts: i64 = row.try_get(1)?;
        Ok(WorkspaceCounts {
            conversations: conversations as u64,
            with_facts: with_facts as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_database_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        store.workspace("default").await.unwrap();
        let mode = std::fs::metadata(dir.path().join(DATABASE_FILE))
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
        let store = SqliteStore::open_with(dir.path(), 1).await.unwrap();
        {
            let mut tx = store.pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
            // End the transaction behind sqlx's back; the rollback on drop then fails.
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        }
        for _ in 0..3 {
            let workspace = store.workspace("default").await.unwrap();
            let mut import = store.begin_import(workspace.id).await.unwrap();
            import
                .apply(Vec::new(), &Calendars::new(Default::default()), 0)
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
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let workspace = store.workspace("default").await.unwrap();
        let calendars = Calendars::new(Default::default());
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
}
