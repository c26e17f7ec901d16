//! Background jobs: a queue per workspace in the `jobs` table and the worker that runs them.
//!
//! A job is queued (with a time it may run from), claimed by one worker for a lease, then done;
//! a failure puts it back with a backoff until its attempts are used up, and then it is dead,
//! with the error kept. On PostgreSQL workers claim with `FOR UPDATE SKIP LOCKED`, so any
//! number of server processes share the queue; a worker that dies leaves its job to be claimed
//! again when the lease ends. On SQLite the same table serves the one process.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use sqlx::Row;

use crate::sql::{Pool, on_pool};
use crate::storage::Storage;
use crate::{StoreError, WorkspaceId};

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Running,
    Done,
    /// Failed `max_attempts` times; waits for someone to look (and maybe retry).
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }

    fn parse(text: &str) -> Result<JobState, StoreError> {
        Ok(match text {
            "queued" => JobState::Queued,
            "running" => JobState::Running,
            "done" => JobState::Done,
            "dead" => JobState::Dead,
            other => return Err(StoreError::Invalid(format!("job state {other:?}"))),
        })
    }
}

/// A stored job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub workspace: WorkspaceId,
    pub id: i64,
    /// What to do, e.g. [`RECOMPUTE`].
    pub kind: String,
    pub payload: String,
    pub dedupe_key: Option<String>,
    pub state: JobState,
    pub attempts: i64,
    pub max_attempts: i64,
    /// UTC ms: not run before.
    pub run_after: i64,
    pub locked_until: Option<i64>,
    pub worker: Option<String>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    /// How far it is, as last written by the worker running it (whatever its process):
    /// units done of a total (0 when unknown).
    pub progress_done: i64,
    pub progress_total: i64,
}

/// A job to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    /// While a queued job with this key exists in the workspace, no second one is queued.
    pub dedupe_key: Option<String>,
    pub run_after: i64,
    pub max_attempts: u32,
}

/// The kind of job that recomputes a workspace's facts with its stored configuration.
pub const RECOMPUTE: &str = "recompute";

/// The kind of job that applies a workspace's retention setting (daily, scheduled by the
/// worker for workspaces that have one).
pub const RETENTION: &str = "retention";

/// The kind of job that syncs one helpdesk account of a workspace (its payload is the
/// source); the worker queues one per [`crate::SyncAccount`], `every_minutes` after the last
/// run ended.
pub const SYNC: &str = "sync";

/// The dedupe key of the scheduled sync of `source`.
pub fn sync_key(source: &str) -> String {
    format!("{SYNC}:{source}")
}

/// How often the worker looks which workspaces need scheduled jobs queued.
const SCHEDULE_EVERY_MS: i64 = 10 * 60 * 1000;

/// A workspace's stored configuration, for a job (gone or unreadable: the job's error).
async fn stored_config<S: crate::Store>(
    store: &S,
    workspace: WorkspaceId,
) -> Result<servicemeter_core::WorkspaceConfig, String> {
    let found = store
        .workspaces()
        .await
        .map_err(|e| error_text(&e))?
        .into_iter()
        .find(|w| w.id == workspace)
        .ok_or("the workspace is gone")?;
    servicemeter_core::WorkspaceConfig::from_toml(found.config_toml.as_deref().unwrap_or_default())
        .map_err(|e| format!("the stored configuration: {e}"))
}

/// Evaluates a workspace's alerts at `now` (core's rules over the stored facts), records each
/// step, and queues a send job for every event.
async fn check_alerts<S: crate::Store>(
    store: &S,
    workspace: WorkspaceId,
    now: i64,
) -> Result<(), String> {
    let config = stored_config(store, workspace).await?;
    if config.alerts.is_empty() {
        return Ok(());
    }
    let stored = store
        .facts(workspace, None)
        .await
        .map_err(|e| error_text(&e))?;
    let table = if config.agents.keeps_facts_as_computed() {
        stored
    } else {
        stored.with_agent_rules(&config.agents)
    };
    let overdue = crate::follow_ups::FollowUps::overdue_follow_ups(store, workspace, now)
        .await
        .map_err(|e| error_text(&e))?;
    let states = store
        .alert_states(workspace)
        .await
        .map_err(|e| error_text(&e))?;
    let alerts = config.alerts.clone();
    let calendars = servicemeter_core::Calendars::new(config);
    for alert in &alerts {
        let reading = alert.evaluate(&table, &calendars, now, overdue);
        let before = states.get(&alert.name).map(|s| s.state).unwrap_or_default();
        let (state, event) = servicemeter_core::alerts::step(before, reading);
        let value = match reading {
            servicemeter_core::alerts::Reading::Broken(v)
            | servicemeter_core::alerts::Reading::Kept(v) => Some(v),
            servicemeter_core::alerts::Reading::Unknown => {
                states.get(&alert.name).and_then(|s| s.last_value)
            }
        };
        let id = store
            .record_alert(workspace, &alert.name, state, value, event, now)
            .await
            .map_err(|e| error_text(&e))?;
        if let Some(id) = id {
            tracing::info!(workspace = workspace.0, alert = %alert.name, ?event, "alert");
            let send = NewJob::send(
                crate::alerts::ALERT_SEND,
                id.to_string(),
                crate::alerts::send_key(id),
                now,
            );
            store
                .enqueue(workspace, &send, now)
                .await
                .map_err(|e| error_text(&e))?;
        }
    }
    Ok(())
}

/// Time between two survey-planning (and two report-planning) passes of a workspace.
pub const PLAN_EVERY_MS: i64 = 60 * 1000;

/// The next UTC midnight after `now` (UTC ms): when scheduled daily work runs.
pub fn next_midnight(now: i64) -> i64 {
    const DAY: i64 = 24 * 60 * 60 * 1000;
    (now.div_euclid(DAY) + 1) * DAY
}

/// Attempts of a job before it is dead, unless it says otherwise.
pub const DEFAULT_ATTEMPTS: u32 = 5;

/// How long a claimed job is a worker's before another may take it.
pub const LEASE: Duration = Duration::from_secs(15 * 60);

impl NewJob {
    /// Sends one thing (an invitation, a report copy, an alert event) now; one queued per
    /// `dedupe_key`.
    pub fn send(kind: &str, payload: String, dedupe_key: String, now: i64) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            dedupe_key: Some(dedupe_key),
            run_after: now,
            max_attempts: DEFAULT_ATTEMPTS,
        }
    }

    /// Recomputes the workspace's facts; one queued at a time.
    pub fn recompute(now: i64) -> NewJob {
        NewJob {
            kind: RECOMPUTE.into(),
            payload: String::new(),
            dedupe_key: Some(RECOMPUTE.into()),
            run_after: now,
            max_attempts: DEFAULT_ATTEMPTS,
        }
    }

    /// Syncs the workspace's account of `source` from `run_after` on; one queued at a time.
    pub fn sync(source: &str, run_after: i64) -> NewJob {
        NewJob {
            kind: SYNC.into(),
            payload: source.into(),
            dedupe_key: Some(sync_key(source)),
            run_after,
            max_attempts: DEFAULT_ATTEMPTS,
        }
    }
}

/// Wait before attempt `failures + 1` after `failures` failures: 10 s, 40 s, 160 s, … at most
/// an hour.
pub fn backoff(failures: i64) -> Duration {
    let exponent = failures.clamp(1, 10) as u32 - 1;
    Duration::from_secs((10u64 * 4u64.pow(exponent)).min(3600))
}

const JOB_COLUMNS: &str = "workspace_id, job_id, kind, payload, dedupe_key, state, attempts, \
     max_attempts, run_after, locked_until, worker, last_error, created_at, finished_at, \
     progress_done, progress_total";

fn read_job<R: Row>(row: &R) -> Result<Job, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let state: String = row.try_get(5)?;
    Ok(Job {
        workspace: WorkspaceId(row.try_get(0)?),
        id: row.try_get(1)?,
        kind: row.try_get(2)?,
        payload: row.try_get(3)?,
        dedupe_key: row.try_get(4)?,
        state: JobState::parse(&state)?,
        attempts: row.try_get(6)?,
        max_attempts: row.try_get(7)?,
        run_after: row.try_get(8)?,
        locked_until: row.try_get(9)?,
        worker: row.try_get(10)?,
        last_error: row.try_get(11)?,
        created_at: row.try_get(12)?,
        finished_at: row.try_get(13)?,
        progress_done: row.try_get(14)?,
        progress_total: row.try_get(15)?,
    })
}

/// The queue.
pub trait Jobs: Send + Sync {
    /// Queues a job; `None` when a queued job with the same dedupe key exists.
    fn enqueue(
        &self,
        workspace: WorkspaceId,
        job: &NewJob,
        now: i64,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Takes the workspace's next due job (or one whose worker's lease ran out) for `worker`
    /// until `now + lease`.
    fn claim(
        &self,
        workspace: WorkspaceId,
        worker: &str,
        now: i64,
        lease: Duration,
    ) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send;

    /// Marks a claimed job done; false when `worker` no longer holds it.
    fn complete(
        &self,
        workspace: WorkspaceId,
        id: i64,
        worker: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records a failure of a claimed job: queued again after [`backoff`], or dead once its
    /// attempts are used up. Returns the new state (`None` when `worker` no longer holds it).
    fn fail(
        &self,
        workspace: WorkspaceId,
        id: i64,
        worker: &str,
        error: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<JobState>, StoreError>> + Send;

    /// A dead job queued again with fresh attempts; false when there is no dead job `id`.
    fn retry(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The workspace's newest jobs first, at most `limit`.
    fn jobs(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Job>, StoreError>> + Send;

    /// Writes how far a claimed job is, for every process to show; false when `worker` no
    /// longer holds it.
    fn report_progress(
        &self,
        workspace: WorkspaceId,
        id: i64,
        worker: &str,
        done: u64,
        total: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The newest job with `dedupe_key`, whatever its state.
    fn latest(
        &self,
        workspace: WorkspaceId,
        dedupe_key: &str,
    ) -> impl Future<Output = Result<Option<Job>, StoreError>> + Send;
}

/// Claims on SQLite (one writer: the statement itself is the lock).
const CLAIM_SQLITE: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
     locked_until = $3, worker = $4 \
     WHERE workspace_id = $1 AND job_id = (SELECT job_id FROM jobs WHERE workspace_id = $1 \
     AND ((state = 'queued' AND run_after <= $2) OR (state = 'running' AND locked_until < $2)) \
     ORDER BY run_after, job_id LIMIT 1) \
     RETURNING workspace_id, job_id, kind, payload, dedupe_key, state, attempts, max_attempts, \
     run_after, locked_until, worker, last_error, created_at, finished_at, progress_done, \
     progress_total";

/// Claims on PostgreSQL: rows other workers hold are skipped, not waited for.
const CLAIM_POSTGRES: &str = "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
     locked_until = $3, worker = $4 \
     WHERE workspace_id = $1 AND job_id = (SELECT job_id FROM jobs WHERE workspace_id = $1 \
     AND ((state = 'queued' AND run_after <= $2) OR (state = 'running' AND locked_until < $2)) \
     ORDER BY run_after, job_id LIMIT 1 FOR UPDATE SKIP LOCKED) \
     RETURNING workspace_id, job_id, kind, payload, dedupe_key, state, attempts, max_attempts, \
     run_after, locked_until, worker, last_error, created_at, finished_at, progress_done, \
     progress_total";

impl Jobs for Storage {
    async fn enqueue(
        &self,
        workspace: WorkspaceId,
        job: &NewJob,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let next: i64 = sqlx::query_scalar(
                "UPDATE workspace_state SET next_job = next_job + 1 WHERE workspace_id = $1 \
                 RETURNING next_job",
            )
            .bind(workspace.0)
            .fetch_one(&mut *tx)
            .await?;
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (workspace_id, job_id, kind, payload, dedupe_key, state, \
                 max_attempts, run_after, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'queued', $6, $7, $8) \
                 ON CONFLICT (workspace_id, dedupe_key) WHERE dedupe_key IS NOT NULL AND \
                 state = 'queued' DO NOTHING RETURNING job_id",
            )
            .bind(workspace.0)
            .bind(next - 1)
            .bind(job.kind.as_str())
            .bind(job.payload.as_str())
            .bind(job.dedupe_key.as_deref())
            .bind(i64::from(job.max_attempts.max(1)))
            .bind(job.run_after)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(id)
        })
    }

    async fn claim(
        &self,
        workspace: WorkspaceId,
        worker: &str,
        now: i64,
        lease: Duration,
    ) -> Result<Option<Job>, StoreError> {
        let until = now + lease.as_millis() as i64;
        let sql = match self.pool {
            Pool::Sqlite(_) => CLAIM_SQLITE,
            Pool::Postgres(_) => CLAIM_POSTGRES,
        };
        on_pool!(&self.pool, p => {
            sqlx::query(sql)
                .bind(workspace.0)
                .bind(now)
                .bind(until)
                .bind(worker)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_job)
                .transpose()
        })
    }

    async fn complete(
        &self,
        workspace: WorkspaceId,
        id: i64,
        worker: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        on_pool!(&self.pool, p => {
            let done = sqlx::query(
                "UPDATE jobs SET state = 'done', finished_at = $1, locked_until = NULL \
                 WHERE workspace_id = $2 AND job_id = $3 AND state = 'running' AND worker = $4",
            )
            .bind(now)
            .bind(workspace.0)
            .bind(id)
            .bind(worker)
            .execute(p)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn fail(
        &self,
        workspace: WorkspaceId,
        id: i64,
        worker: &str,
        error: &str,
        now: i64,
    ) -> Result<Option<JobState>, StoreError> {
        // Errors are kept for people to read: bounded.
        let error: String = error.chars().take(2000).collect();
        on_pool!(&self.pool, p => {
            let mut tx = p.begin().await?;
            let row: Option<(i64, i64, Option<String>)> = sqlx::query_as(
                "SELECT attempts, max_attempts, dedupe_key FROM jobs WHERE workspace_id = $1 \
                 AND job_id = $2 AND state = 'running' AND worker = $3",
            )
            .bind(workspace.0)
            .bind(id)
            .bind(worker)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((attempts, max_attempts, dedupe_key)) = row else {
                return Ok(None);
            };
            // A job queued with the same key since this one started will do the work: this one
            // ends here (dead, with its error) instead of being queued a second time.
            let superseded: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM jobs WHERE workspace_id = $1 AND dedupe_key = $2 \
                 AND state = 'queued'",
            )
            .bind(workspace.0)
            .bind(dedupe_key.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            let state = if attempts >= max_attempts || superseded > 0 {
                JobState::Dead
            } else {
                JobState::Queued
            };
            let run_after = now + backoff(attempts).as_millis() as i64;
            sqlx::query(
                "UPDATE jobs SET state = $1, last_error = $2, run_after = $3, locked_until = NULL, \
                 finished_at = $4 WHERE workspace_id = $5 AND job_id = $6",
            )
            .bind(state.as_str())
            .bind(error.as_str())
            .bind(run_after)
            .bind((state == JobState::Dead).then_some(now))
            .bind(workspace.0)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(state))
        })
    }

    async fn retry(&self, workspace: WorkspaceId, id: i64, now: i64) -> Result<bool, StoreError> {
        on_pool!(&self.pool, p => {
            let done = sqlx::query(
                "UPDATE jobs SET state = 'queued', attempts = 0, run_after = $1, finished_at = NULL \
                 WHERE workspace_id = $2 AND job_id = $3 AND state = 'dead'",
            )
            .bind(now)
            .bind(workspace.0)
            .bind(id)
            .execute(p)
            .await;
            match done {
                Ok(done) => Ok(done.rows_affected() > 0),
                // A job of the same kind is queued already: that one will do.
                Err(e) if crate::sql::is_unique_violation(&e) => Ok(false),
                Err(e) => Err(e.into()),
            }
        })
    }

    async fn jobs(&self, workspace: WorkspaceId, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 ORDER BY job_id DESC LIMIT $2"
        );
        on_pool!(&self.pool, p => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?;
            rows.iter().map(read_job).collect()
        })
    }

    async fn report_progress(
        &self,
        workspace: WorkspaceId,
        id: i64,
        worker: &str,
        done: u64,
        total: u64,
    ) -> Result<bool, StoreError> {
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        on_pool!(&self.pool, p => {
            let done = sqlx::query(
                "UPDATE jobs SET progress_done = $1, progress_total = $2 WHERE workspace_id = $3 \
                 AND job_id = $4 AND state = 'running' AND worker = $5",
            )
            .bind(count(done))
            .bind(count(total))
            .bind(workspace.0)
            .bind(id)
            .bind(worker)
            .execute(p)
            .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn latest(
        &self,
        workspace: WorkspaceId,
        dedupe_key: &str,
    ) -> Result<Option<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE workspace_id = $1 AND dedupe_key = $2 \
             ORDER BY job_id DESC LIMIT 1"
        );
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(dedupe_key)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_job)
                .transpose()
        })
    }
}

/// How far running jobs are, in this process: (done, total) per workspace and job.
#[derive(Debug, Default)]
pub struct Progress {
    running: Mutex<HashMap<(WorkspaceId, i64), Arc<JobProgress>>>,
}

/// One job's counters, updated by its handler.
#[derive(Debug, Default)]
pub struct JobProgress {
    pub done: AtomicU64,
    pub total: AtomicU64,
}

impl Progress {
    /// (done, total) of a job running in this process.
    pub fn of(&self, workspace: WorkspaceId, id: i64) -> Option<(u64, u64)> {
        let running = self.running.lock().expect("progress lock");
        running.get(&(workspace, id)).map(|p| {
            (
                p.done.load(Ordering::Relaxed),
                p.total.load(Ordering::Relaxed),
            )
        })
    }

    fn start(&self, workspace: WorkspaceId, id: i64) -> Arc<JobProgress> {
        let progress = Arc::new(JobProgress::default());
        self.running
            .lock()
            .expect("progress lock")
            .insert((workspace, id), progress.clone());
        progress
    }

    fn end(&self, workspace: WorkspaceId, id: i64) {
        self.running
            .lock()
            .expect("progress lock")
            .remove(&(workspace, id));
    }
}

/// Runs one kind of job: `Err` is the failure's message (kept with the job).
pub type Handler<S> = Arc<
    dyn Fn(Arc<S>, Job, Arc<JobProgress>) -> BoxFuture<'static, Result<(), String>> + Send + Sync,
>;

/// The worker: claims due jobs of every workspace and runs their handlers, one at a time.
pub struct Worker<S> {
    store: Arc<S>,
    name: String,
    handlers: HashMap<String, Handler<S>>,
    progress: Arc<Progress>,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    /// Wakes the worker before its next round (a job was queued in this process).
    wake: Arc<tokio::sync::Notify>,
    /// Time between rounds when nothing wakes it.
    pub interval: Duration,
    /// How often a running job's progress is written to the store.
    pub progress_interval: Duration,
    /// When scheduled jobs were last queued (UTC ms).
    last_schedule: Mutex<Option<i64>>,
}

impl<S: crate::Store + 'static> Worker<S> {
    /// A worker named `name` (shown with the jobs it holds) with the handlers of the store's own
    /// jobs: recompute, retention and survey planning.
    pub fn new(
        store: Arc<S>,
        name: String,
        clock: Arc<dyn Fn() -> i64 + Send + Sync>,
    ) -> Worker<S> {
        let mut worker = Worker {
            store,
            name,
            handlers: HashMap::new(),
            progress: Arc::default(),
            clock,
            wake: Arc::default(),
            interval: Duration::from_secs(5),
            progress_interval: Duration::from_secs(1),
            last_schedule: Mutex::new(None),
        };
        let retention_clock = worker.clock.clone();
        worker.handle(
            RETENTION,
            Arc::new(move |store: Arc<S>, job: Job, _progress| {
                let now = retention_clock();
                Box::pin(async move {
                    store
                        .apply_retention(job.workspace, "background job (retention)", now)
                        .await
                        .map(|_| ())
                        .map_err(|e| error_text(&e))
                })
            }),
        );
        let plan_clock = worker.clock.clone();
        worker.handle(
            crate::surveys::SURVEY_PLAN,
            Arc::new(move |store: Arc<S>, job: Job, _progress| {
                let now = plan_clock();
                Box::pin(async move {
                    let summary =
                        crate::surveys::Surveys::plan_surveys(&*store, job.workspace, now)
                            .await
                            .map_err(|e| error_text(&e))?;
                    tracing::info!(
                        workspace = job.workspace.0,
                        considered = summary.considered,
                        planned = summary.planned,
                        cancelled = summary.cancelled,
                        "surveys planned"
                    );
                    // The invitations that are due now, each its own send job (retried with
                    // backoff, its error in the jobs list); one queued per invitation.
                    let due = crate::surveys::Surveys::due_invitations(
                        &*store,
                        job.workspace,
                        now,
                        1_000,
                    )
                    .await
                    .map_err(|e| error_text(&e))?;
                    for invitation in due {
                        let payload = crate::surveys::SendPayload {
                            conversation: invitation.conversation.clone(),
                            kind: invitation.kind,
                        };
                        let send = NewJob::send(
                            crate::surveys::SURVEY_SEND,
                            serde_json::to_string(&payload).expect("payload"),
                            crate::surveys::send_key(&invitation.conversation, invitation.kind),
                            now,
                        );
                        store
                            .enqueue(job.workspace, &send, now)
                            .await
                            .map_err(|e| error_text(&e))?;
                    }
                    Ok(())
                })
            }),
        );
        let report_clock = worker.clock.clone();
        worker.handle(
            crate::reports::REPORT_PLAN,
            Arc::new(move |store: Arc<S>, job: Job, _progress| {
                let now = report_clock();
                Box::pin(async move {
                    let config = stored_config(&*store, job.workspace).await?;
                    let planned =
                        crate::reports::Reports::plan_reports(&*store, job.workspace, &config, now)
                            .await
                            .map_err(|e| error_text(&e))?;
                    if !planned.is_empty() {
                        tracing::info!(
                            workspace = job.workspace.0,
                            copies = planned.len(),
                            "report copies planned"
                        );
                    }
                    // Every planned copy that is due gets a send job (one queued per copy):
                    // also one whose job was lost, or one sent again after a failure.
                    let due =
                        crate::reports::Reports::due_deliveries(&*store, job.workspace, now, 1_000)
                            .await
                            .map_err(|e| error_text(&e))?;
                    for id in due {
                        let send = NewJob::send(
                            crate::reports::REPORT_SEND,
                            id.to_string(),
                            crate::reports::send_key(id),
                            now,
                        );
                        store
                            .enqueue(job.workspace, &send, now)
                            .await
                            .map_err(|e| error_text(&e))?;
                    }
                    Ok(())
                })
            }),
        );
        let alert_clock = worker.clock.clone();
        worker.handle(
            crate::alerts::ALERT_CHECK,
            Arc::new(move |store: Arc<S>, job: Job, _progress| {
                let now = alert_clock();
                Box::pin(async move { check_alerts(&*store, job.workspace, now).await })
            }),
        );
        worker.handle(
            RECOMPUTE,
            Arc::new(|store: Arc<S>, job: Job, progress: Arc<JobProgress>| {
                Box::pin(async move {
                    store
                        .recompute(job.workspace, &progress)
                        .await
                        .map(|_| ())
                        .map_err(|e| error_text(&e))
                })
            }),
        );
        worker
    }

    /// Runs jobs of `kind` with `handler`.
    pub fn handle(&mut self, kind: &str, handler: Handler<S>) {
        self.handlers.insert(kind.to_string(), handler);
    }

    /// Progress of the jobs this worker runs.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Notified, the worker starts a round at once.
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        self.wake.clone()
    }

    /// Queues scheduled work, at most every 10 minutes: the daily retention job (for the next
    /// UTC midnight) of every workspace with a retention setting, and the next run of every
    /// scheduled sync (`every_minutes` after the last run ended; at once for a new one). One
    /// queued per workspace and kind; nothing new while a run of it is queued or running.
    async fn schedule(&self, workspaces: &[crate::Workspace]) -> Result<(), StoreError> {
        let now = (self.clock)();
        {
            let mut last = self.last_schedule.lock().expect("schedule lock");
            if last.is_some_and(|at| now - at < SCHEDULE_EVERY_MS && now >= at) {
                return Ok(());
            }
            *last = Some(now);
        }
        for workspace in workspaces {
            if let Some(config) = workspace
                .config_toml
                .as_deref()
                .filter(|text| text.contains("retention"))
                .and_then(|text| servicemeter_core::WorkspaceConfig::from_toml(text).ok())
                && config.retention_months.is_some()
            {
                let job = NewJob {
                    kind: RETENTION.into(),
                    payload: String::new(),
                    dedupe_key: Some(RETENTION.into()),
                    run_after: next_midnight(now),
                    max_attempts: DEFAULT_ATTEMPTS,
                };
                self.store.enqueue(workspace.id, &job, now).await?;
            }
            for account in self.store.sync_accounts(workspace.id).await? {
                let last = self
                    .store
                    .latest(workspace.id, &sync_key(&account.source))
                    .await?;
                let run_after = match last {
                    None => now,
                    Some(job) => match (job.state, job.finished_at) {
                        (JobState::Queued | JobState::Running, _) => continue,
                        (_, Some(ended)) => ended + i64::from(account.every_minutes) * 60_000,
                        (_, None) => now,
                    },
                };
                self.store
                    .enqueue(workspace.id, &NewJob::sync(&account.source, run_after), now)
                    .await?;
            }
        }
        Ok(())
    }

    /// Queues the survey planning of every workspace that sends surveys, the report planning
    /// of every workspace with `[[reports]]` and the alert check of every workspace with
    /// `[[alerts]]`, each a minute after its last pass ended (at once for the first); every
    /// round, since invitations, reports and alerts are due at their minute. Nothing new while
    /// one of a kind is queued or running.
    async fn schedule_planning(&self, workspaces: &[crate::Workspace]) -> Result<(), StoreError> {
        let now = (self.clock)();
        for workspace in workspaces {
            let Some(config) = workspace
                .config_toml
                .as_deref()
                .filter(|text| {
                    text.contains("surveys") || text.contains("reports") || text.contains("alerts")
                })
                .and_then(|text| servicemeter_core::WorkspaceConfig::from_toml(text).ok())
            else {
                continue;
            };
            let kinds = [
                (
                    crate::surveys::SURVEY_PLAN,
                    !config.surveys.kinds.is_empty(),
                ),
                (crate::reports::REPORT_PLAN, !config.reports.is_empty()),
                (crate::alerts::ALERT_CHECK, !config.alerts.is_empty()),
            ];
            for (kind, wanted) in kinds {
                if !wanted {
                    continue;
                }
                let run_after = match self.store.latest(workspace.id, kind).await? {
                    None => now,
                    Some(job) => match (job.state, job.finished_at) {
                        (JobState::Queued | JobState::Running, _) => continue,
                        (_, Some(ended)) => ended + PLAN_EVERY_MS,
                        (_, None) => now,
                    },
                };
                let job = NewJob {
                    kind: kind.into(),
                    payload: String::new(),
                    dedupe_key: Some(kind.into()),
                    run_after,
                    max_attempts: DEFAULT_ATTEMPTS,
                };
                self.store.enqueue(workspace.id, &job, now).await?;
            }
        }
        Ok(())
    }

    /// Queues scheduled jobs when it is time, then runs every due job of every workspace once;
    /// returns how many ran.
    pub async fn round(&self) -> Result<u64, StoreError> {
        let mut ran = 0;
        let workspaces = self.store.workspaces().await?;
        self.schedule(&workspaces).await?;
        self.schedule_planning(&workspaces).await?;
        for workspace in workspaces {
            while let Some(job) = self
                .store
                .claim(workspace.id, &self.name, (self.clock)(), LEASE)
                .await?
            {
                ran += 1;
                self.run_one(job).await?;
            }
        }
        Ok(ran)
    }

    async fn run_one(&self, job: Job) -> Result<(), StoreError> {
        let (workspace, id) = (job.workspace, job.id);
        let outcome = match self.handlers.get(&job.kind) {
            None => Err(format!("no worker knows jobs of kind {:?}", job.kind)),
            Some(handler) => {
                let progress = self.progress.start(workspace, id);
                tracing::info!(workspace = workspace.0, job = id, kind = %job.kind, "job started");
                // The handler runs as its own task: a panic is a failure, not the worker's end.
                let mut task = tokio::spawn(handler(self.store.clone(), job, progress.clone()));
                let mut written = (0, 0);
                let outcome = loop {
                    tokio::select! {
                        joined = &mut task => break joined
                            .unwrap_or_else(|e| Err(format!("the job stopped unexpectedly: {e}"))),
                        _ = tokio::time::sleep(self.progress_interval) => {
                            let now = (
                                progress.done.load(Ordering::Relaxed),
                                progress.total.load(Ordering::Relaxed),
                            );
                            if now != written {
                                written = now;
                                if let Err(e) = self
                                    .store
                                    .report_progress(workspace, id, &self.name, now.0, now.1)
                                    .await
                                {
                                    tracing::warn!(error = %error_text(&e), "job progress not written");
                                }
                            }
                        }
                    }
                };
                self.progress.end(workspace, id);
                outcome
            }
        };
        let now = (self.clock)();
        match outcome {
            Ok(()) => {
                self.store.complete(workspace, id, &self.name, now).await?;
                tracing::info!(workspace = workspace.0, job = id, "job done");
            }
            Err(error) => {
                let state = self
                    .store
                    .fail(workspace, id, &self.name, &error, now)
                    .await?;
                tracing::warn!(workspace = workspace.0, job = id, ?state, %error, "job failed");
            }
        }
        Ok(())
    }

    /// Runs rounds until `shutdown` completes: every [`Worker::interval`], or at once when
    /// woken. A round that fails (the database is away) is logged and tried again later.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.round().await {
                tracing::warn!(error = %error_text(&e), "jobs round failed");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

/// An error with its causes, for people.
fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheduled_work_runs_at_the_next_utc_midnight() {
        let day = 86_400_000;
        assert_eq!(next_midnight(0), day);
        assert_eq!(next_midnight(day - 1), day);
        assert_eq!(next_midnight(day), 2 * day);
        assert_eq!(next_midnight(1_709_550_000_000), 1_709_596_800_000);
    }

    #[test]
    fn backoff_grows_fourfold_up_to_an_hour() {
        let secs: Vec<u64> = (1..=7).map(|f| backoff(f).as_secs()).collect();
        assert_eq!(secs, vec![10, 40, 160, 640, 2560, 3600, 3600]);
        assert_eq!(backoff(0).as_secs(), 10);
    }
}
