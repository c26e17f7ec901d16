//! The embedded SQLite store (one file in the data directory, WAL, synchronous=FULL).

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use servicemeter_core::facts::SurveyAnswer;
use servicemeter_core::model::Scale;
use servicemeter_core::{Calendars, Conversation, ConversationFacts, compute_facts};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{QueryBuilder, Row, Sqlite, Transaction};

use crate::{
    BatchOutcome, ImportSession, ImportSummary, Store, StoreError, Workspace, WorkspaceCounts,
    WorkspaceId,
};

/// File name of the database inside the data directory.
pub const DATABASE_FILE: &str = "servicemeter.db";

/// Rows per multi-row statement (26 columns × 400 rows stays below SQLite's 32 766 parameters).
const ROWS_PER_STATEMENT: usize = 400;

/// The SQLite store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating when needed) the store in a data directory and runs migrations.
    pub async fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|e| StoreError::DataDir {
            path: data_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(data_dir.join(DATABASE_FILE))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore { pool })
    }

    /// The connection pool (for other crates' tables later).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn encode(conversation: &Conversation) -> Vec<u8> {
    serde_json::to_vec(conversation).expect("conversations serialize")
}

fn decode(id: &str, body: &[u8]) -> Result<Conversation, StoreError> {
    serde_json::from_slice(body).map_err(|e| StoreError::Corrupt {
        conversation: id.to_string(),
        reason: e.to_string(),
    })
}

async fn load_existing(
    tx: &mut Transaction<'static, Sqlite>,
    workspace: WorkspaceId,
    ids: &[&str],
) -> Result<HashMap<String, Conversation>, StoreError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT conversation_id, body FROM conversations WHERE workspace_id = ",
        );
        query.push_bind(workspace.0);
        query.push(" AND conversation_id IN (");
        let mut separated = query.separated(", ");
        for id in chunk {
            separated.push_bind(id.to_string());
        }
        separated.push_unseparated(")");
        let rows = query.build().fetch_all(&mut **tx).await?;
        for row in rows {
            let id: String = row.try_get(0)?;
            let body: Vec<u8> = row.try_get(1)?;
            let conversation = decode(&id, &body)?;
            found.insert(id, conversation);
        }
    }
    Ok(found)
}

async fn write_conversations(
    tx: &mut Transaction<'static, Sqlite>,
    workspace: WorkspaceId,
    conversations: &[Conversation],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in conversations.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO conversations (workspace_id, conversation_id, has_header, body, updated_at) ",
        );
        query.push_values(chunk, |mut row, c| {
            row.push_bind(workspace.0)
                .push_bind(c.id.clone())
                .push_bind(c.header.is_some())
                .push_bind(encode(c))
                .push_bind(now);
        });
        query.push(
            " ON CONFLICT (workspace_id, conversation_id) DO UPDATE SET \
             has_header = excluded.has_header, body = excluded.body, updated_at = excluded.updated_at",
        );
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

async fn write_facts(
    tx: &mut Transaction<'static, Sqlite>,
    workspace: WorkspaceId,
    facts: &[ConversationFacts],
) -> Result<(), StoreError> {
    for chunk in facts.chunks(ROWS_PER_STATEMENT) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT OR REPLACE INTO conversation_facts (workspace_id, conversation_id, channel, agent, tags, \
             created_at, start_at, inbound, first_response_ms, first_response_business_ms, resolved, \
             resolution_ms, resolution_business_ms, first_resolution_ms, reopens, customer_messages, \
             agent_messages, agent_turns, one_touch, csat_score, csat_min, csat_max, nps_score, \
             ces_score, ces_min, ces_max) ",
        );
        query.push_values(chunk, |mut row, f| {
            row.push_bind(workspace.0)
                .push_bind(f.conversation.clone())
                .push_bind(f.channel.clone())
                .push_bind(f.agent.clone())
                .push_bind(serde_json::to_string(&f.tags).expect("tags serialize"))
                .push_bind(f.created_at)
                .push_bind(f.start)
                .push_bind(f.inbound)
                .push_bind(f.first_response_millis)
                .push_bind(f.first_response_business_millis)
                .push_bind(f.resolved)
                .push_bind(f.resolution_millis)
                .push_bind(f.resolution_business_millis)
                .push_bind(f.first_resolution_millis)
                .push_bind(i64::from(f.reopens))
                .push_bind(i64::from(f.customer_messages))
                .push_bind(i64::from(f.agent_messages))
                .push_bind(i64::from(f.agent_turns))
                .push_bind(f.one_touch)
                .push_bind(f.csat.map(|a| a.score))
                .push_bind(f.csat.map(|a| a.scale.min))
                .push_bind(f.csat.map(|a| a.scale.max))
                .push_bind(f.nps.map(|a| a.score))
                .push_bind(f.ces.map(|a| a.score))
                .push_bind(f.ces.map(|a| a.scale.min))
                .push_bind(f.ces.map(|a| a.scale.max));
        });
        query.build().execute(&mut **tx).await?;
    }
    Ok(())
}

const FACT_COLUMNS: &str = "conversation_id, channel, agent, tags, created_at, start_at, inbound, \
    first_response_ms, first_response_business_ms, resolved, resolution_ms, resolution_business_ms, \
    first_resolution_ms, reopens, customer_messages, agent_messages, agent_turns, one_touch, \
    csat_score, csat_min, csat_max, nps_score, ces_score, ces_min, ces_max";

fn facts_from_row(row: &SqliteRow) -> Result<ConversationFacts, StoreError> {
    let answer = |score: Option<f64>, min: Option<f64>, max: Option<f64>| {
        score.map(|score| SurveyAnswer {
            score,
            scale: Scale {
                min: min.unwrap_or(0.0),
                max: max.unwrap_or(10.0),
            },
        })
    };
    let conversation: String = row.try_get(0)?;
    let tags_json: String = row.try_get(3)?;
    let tags = serde_json::from_str(&tags_json).map_err(|e| StoreError::Corrupt {
        conversation: conversation.clone(),
        reason: format!("tags: {e}"),
    })?;
    let count = |i: usize| -> Result<u32, StoreError> { Ok(row.try_get::<i64, _>(i)? as u32) };
    Ok(ConversationFacts {
        channel: row.try_get(1)?,
        agent: row.try_get(2)?,
        tags,
        created_at: row.try_get(4)?,
        start: row.try_get(5)?,
        inbound: row.try_get(6)?,
        first_response_millis: row.try_get(7)?,
        first_response_business_millis: row.try_get(8)?,
        resolved: row.try_get(9)?,
        resolution_millis: row.try_get(10)?,
        resolution_business_millis: row.try_get(11)?,
        first_resolution_millis: row.try_get(12)?,
        reopens: count(13)?,
        customer_messages: count(14)?,
        agent_messages: count(15)?,
        agent_turns: count(16)?,
        one_touch: row.try_get(17)?,
        csat: answer(row.try_get(18)?, row.try_get(19)?, row.try_get(20)?),
        nps: answer(row.try_get(21)?, Some(0.0), Some(10.0)),
        ces: answer(row.try_get(22)?, row.try_get(23)?, row.try_get(24)?),
        conversation,
    })
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
    workspace: WorkspaceId,
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
        let mut merged = Vec::with_capacity(batch.len());
        for partial in batch {
            let conversation = match existing.remove(&partial.id) {
                Some(mut stored) => {
                    outcome.updated_conversations += 1;
                    stored.absorb(partial);
                    stored
                }
                None => {
                    outcome.new_conversations += 1;
                    partial
                }
            };
            merged.push(conversation);
        }
        let mut facts = Vec::with_capacity(merged.len());
        for conversation in &mut merged {
            conversation.normalize();
            match &conversation.header {
                Some(header) => facts.push(
                    compute_facts(conversation, calendars.for_channel(header.channel.as_str()))
                        .expect("header present"),
                ),
                None => outcome.pending_conversations += 1,
            }
        }
        write_conversations(&mut self.tx, self.workspace, &merged, now).await?;
        write_facts(&mut self.tx, self.workspace, &facts).await?;
        Ok(outcome)
    }

    async fn commit(mut self, summary: ImportSummary) -> Result<(), StoreError> {
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
        self.tx.commit().await?;
        Ok(())
    }
}

impl Store for SqliteStore {
    type Import<'a> = SqliteImport;

    async fn workspace(&self, name: &str) -> Result<Workspace, StoreError> {
        let read = |row: SqliteRow| -> Result<Workspace, StoreError> {
            Ok(Workspace {
                id: WorkspaceId(row.try_get(0)?),
                name: row.try_get(1)?,
                config_toml: row.try_get(2)?,
            })
        };
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
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE workspaces SET config_toml = ? WHERE workspace_id = ?")
            .bind(config_toml)
            .bind(workspace.0)
            .execute(&mut *tx)
            .await?;
        let mut after = String::new();
        let mut recomputed = 0u64;
        loop {
            let rows = sqlx::query(
                "SELECT conversation_id, body FROM conversations \
                 WHERE workspace_id = ? AND has_header = 1 AND conversation_id > ? \
                 ORDER BY conversation_id LIMIT 2000",
            )
            .bind(workspace.0)
            .bind(&after)
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                break;
            }
            let mut facts = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: String = row.try_get(0)?;
                let body: Vec<u8> = row.try_get(1)?;
                let conversation = decode(&id, &body)?;
                let channel = conversation
                    .header
                    .as_ref()
                    .map(|h| h.channel.as_str().to_string())
                    .unwrap_or_default();
                if let Some(f) = compute_facts(&conversation, calendars.for_channel(&channel)) {
                    facts.push(f);
                }
                after = id;
            }
            recomputed += facts.len() as u64;
            write_facts(&mut tx, workspace, &facts).await?;
        }
        tx.commit().await?;
        Ok(recomputed)
    }

    async fn begin_import(&self, workspace: WorkspaceId) -> Result<SqliteImport, StoreError> {
        let tx = self.pool.begin().await?;
        Ok(SqliteImport { tx, workspace })
    }

    async fn facts(
        &self,
        workspace: WorkspaceId,
        start_between: Option<(i64, i64)>,
    ) -> Result<Vec<ConversationFacts>, StoreError> {
        let (from, to) = start_between.unwrap_or((i64::MIN, i64::MAX));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {FACT_COLUMNS} FROM conversation_facts \
             WHERE workspace_id = ? AND start_at >= ? AND start_at < ? ORDER BY conversation_id"
        )))
        .bind(workspace.0)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(facts_from_row).collect()
    }

    async fn start_range(&self, workspace: WorkspaceId) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(start_at), MAX(start_at) FROM conversation_facts WHERE workspace_id = ?",
        )
        .bind(workspace.0)
        .fetch_one(&self.pool)
        .await?;
        let min: Option<i64> = row.try_get(0)?;
        let max: Option<i64> = row.try_get(1)?;
        Ok(min.zip(max))
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
        let conversations: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM conversations WHERE workspace_id = ?")
                .bind(workspace.0)
                .fetch_one(&self.pool)
                .await?;
        let with_facts: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM conversation_facts WHERE workspace_id = ?")
                .bind(workspace.0)
                .fetch_one(&self.pool)
                .await?;
        Ok(WorkspaceCounts {
            conversations: conversations as u64,
            with_facts: with_facts as u64,
        })
    }
}
