//! Alerts in the store: each alert's state between evaluations (quiet or firing, since when,
//! the last value read) and its history — every time it fired or recovered — with when its
//! message was mailed and posted, so that a retried send repeats neither. The `alert-check`
//! job evaluates the workspace's `[[alerts]]` (core decides) and records the steps here; an
//! `alert-send` job per event says it. SQL both backends run.

use std::collections::BTreeMap;

use servicemeter_core::alerts::{AlertEvent, AlertState};
use sqlx::Row;

use crate::backend::WriteTx;
use crate::sql::{SqlTx, on_pool, on_tx};
use crate::storage::Storage;
use crate::{StoreError, WorkspaceId};

/// The job that evaluates a workspace's alerts (queued by the worker about every minute while
/// it has `[[alerts]]`, and when data arrives).
pub const ALERT_CHECK: &str = "alert-check";

/// The job that says one event (mail and webhook; its handler lives in the server); its
/// payload is the event id.
pub const ALERT_SEND: &str = "alert-send";

/// The dedupe key of an event's send job.
pub fn send_key(event: i64) -> String {
    format!("{ALERT_SEND}:{event}")
}

/// An alert's stored state.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredAlertState {
    pub state: AlertState,
    /// Since when (UTC ms).
    pub since: i64,
    pub last_value: Option<f64>,
    pub checked_at: i64,
}

/// One step of an alert's history.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertHistory {
    pub id: i64,
    pub alert: String,
    /// Fired or recovered, with the value read.
    pub event: AlertEvent,
    pub at: i64,
    pub mailed_at: Option<i64>,
    pub posted_at: Option<i64>,
}

/// Which of an event's channels went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Said {
    Mailed,
    Posted,
}

fn state_text(state: AlertState) -> &'static str {
    match state {
        AlertState::Quiet => "quiet",
        AlertState::Firing => "firing",
    }
}

fn read_history<R: Row>(row: &R) -> Result<AlertHistory, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    f64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get(2)?;
    let value: f64 = row.try_get(3)?;
    Ok(AlertHistory {
        id: row.try_get(0)?,
        alert: row.try_get(1)?,
        event: match kind.as_str() {
            "fired" => AlertEvent::Fired(value),
            "recovered" => AlertEvent::Recovered(value),
            other => return Err(StoreError::Invalid(format!("alert event {other:?}"))),
        },
        at: row.try_get(4)?,
        mailed_at: row.try_get(5)?,
        posted_at: row.try_get(6)?,
    })
}

const HISTORY_COLUMNS: &str = "event_id, alert, kind, value, at, mailed_at, posted_at";

/// The alert side of the store.
pub trait Alerts: Send + Sync {
    /// Every alert's stored state, by name.
    fn alert_states(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<BTreeMap<String, StoredAlertState>, StoreError>> + Send;

    /// Records an evaluation of `alert`: its new state and last value, and the event it caused
    /// (in the same transaction); returns the event's id.
    fn record_alert(
        &self,
        workspace: WorkspaceId,
        alert: &str,
        state: AlertState,
        value: Option<f64>,
        event: Option<AlertEvent>,
        now: i64,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// The history, newest first, at most `limit`.
    fn alert_history(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<AlertHistory>, StoreError>> + Send;

    fn alert_event(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> impl Future<Output = Result<Option<AlertHistory>, StoreError>> + Send;

    /// Notes that an event's message went out on one channel.
    fn alert_said(
        &self,
        workspace: WorkspaceId,
        id: i64,
        said: Said,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl Alerts for Storage {
    async fn alert_states(
        &self,
        workspace: WorkspaceId,
    ) -> Result<BTreeMap<String, StoredAlertState>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT alert, state, since, last_value, checked_at FROM alert_states \
                 WHERE workspace_id = $1",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| {
                let state: String = r.try_get(1)?;
                Ok((
                    r.try_get(0)?,
                    StoredAlertState {
                        state: if state == "firing" {
                            AlertState::Firing
                        } else {
                            AlertState::Quiet
                        },
                        since: r.try_get(2)?,
                        last_value: r.try_get(3)?,
                        checked_at: r.try_get(4)?,
                    },
                ))
            })
            .collect()
        })
    }

    async fn record_alert(
        &self,
        workspace: WorkspaceId,
        alert: &str,
        state: AlertState,
        value: Option<f64>,
        event: Option<AlertEvent>,
        now: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let id = on_tx!(&mut tx.tx, t => {
            // `since` moves only when the state changes.
            sqlx::query(
                "INSERT INTO alert_states (workspace_id, alert, state, since, last_value, \
                 checked_at) VALUES ($1, $2, $3, $4, $5, $4) \
                 ON CONFLICT (workspace_id, alert) DO UPDATE SET \
                 since = CASE WHEN alert_states.state = excluded.state THEN alert_states.since \
                 ELSE excluded.since END, \
                 state = excluded.state, last_value = excluded.last_value, \
                 checked_at = excluded.checked_at",
            )
            .bind(workspace.0)
            .bind(alert)
            .bind(state_text(state))
            .bind(now)
            .bind(value)
            .execute(&mut **t)
            .await?;
            match event {
                None => None,
                Some(event) => {
                    let (kind, value) = match event {
                        AlertEvent::Fired(v) => ("fired", v),
                        AlertEvent::Recovered(v) => ("recovered", v),
                    };
                    let next: i64 = sqlx::query_scalar(
                        "UPDATE workspace_state SET next_alert_event = next_alert_event + 1 \
                         WHERE workspace_id = $1 RETURNING next_alert_event",
                    )
                    .bind(workspace.0)
                    .fetch_one(&mut **t)
                    .await?;
                    sqlx::query(
                        "INSERT INTO alert_events (workspace_id, event_id, alert, kind, value, at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(workspace.0)
                    .bind(next - 1)
                    .bind(alert)
                    .bind(kind)
                    .bind(value)
                    .bind(now)
                    .execute(&mut **t)
                    .await?;
                    Some(next - 1)
                }
            }
        });
        tx.commit().await?;
        Ok(id)
    }

    async fn alert_history(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> Result<Vec<AlertHistory>, StoreError> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM alert_events WHERE workspace_id = $1 \
             ORDER BY event_id DESC LIMIT $2"
        );
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?
                .iter()
                .map(read_history)
                .collect()
        })
    }

    async fn alert_event(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> Result<Option<AlertHistory>, StoreError> {
        let sql = format!(
            "SELECT {HISTORY_COLUMNS} FROM alert_events WHERE workspace_id = $1 AND event_id = $2"
        );
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(id)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_history)
                .transpose()
        })
    }

    async fn alert_said(
        &self,
        workspace: WorkspaceId,
        id: i64,
        said: Said,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = match said {
            Said::Mailed => {
                "UPDATE alert_events SET mailed_at = $3 WHERE workspace_id = $1 AND event_id = $2"
            }
            Said::Posted => {
                "UPDATE alert_events SET posted_at = $3 WHERE workspace_id = $1 AND event_id = $2"
            }
        };
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        on_tx!(&mut tx.tx, t => {
            sqlx::query(sql)
                .bind(workspace.0)
                .bind(id)
                .bind(now)
                .execute(&mut **t)
                .await?;
        });
        tx.commit().await
    }
}
