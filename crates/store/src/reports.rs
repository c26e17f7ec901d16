//! Scheduled reports in the store: planning each recipient's copies from the workspace's
//! `[[reports]]` (core decides when one is due), the copies with their state (sent once: a
//! copy interrupted while sending is never sent again), the files each was sent with (the
//! archive), and the addresses that unsubscribed. SQL both backends run.

use servicemeter_core::WorkspaceConfig;
use servicemeter_core::periods::Period;
use sqlx::Row;

use crate::backend::WriteTx;
use crate::sql::{SqlTx, on_pool, on_tx};
use crate::storage::Storage;
use crate::{StoreError, WorkspaceId};

/// The job that plans a workspace's report copies (queued by the worker about every minute
/// while it has `[[reports]]`).
pub const REPORT_PLAN: &str = "report-plan";

/// The job that renders and sends one copy (its handler lives where mail is written, in the
/// server); its payload is the delivery id.
pub const REPORT_SEND: &str = "report-send";

/// The dedupe key of a copy's send job.
pub fn send_key(delivery: i64) -> String {
    format!("{REPORT_SEND}:{delivery}")
}

/// Why a copy exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryReason {
    /// Its schedule came due.
    Schedule,
    /// Someone asked to send it now.
    Now,
    /// A copy of an earlier one, sent again with its files.
    Resend,
}

impl DeliveryReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryReason::Schedule => "schedule",
            DeliveryReason::Now => "now",
            DeliveryReason::Resend => "resend",
        }
    }

    fn parse(text: &str) -> Result<DeliveryReason, StoreError> {
        Ok(match text {
            "schedule" => DeliveryReason::Schedule,
            "now" => DeliveryReason::Now,
            "resend" => DeliveryReason::Resend,
            other => return Err(StoreError::Invalid(format!("delivery reason {other:?}"))),
        })
    }
}

/// Where a copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Planned,
    Sending,
    Sent,
    /// Its last attempt failed (the error is its note).
    Failed,
    /// Interrupted between starting and recording the send: not sent again.
    Unknown,
    /// Not sent: the recipient unsubscribed.
    Skipped,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Planned => "planned",
            DeliveryState::Sending => "sending",
            DeliveryState::Sent => "sent",
            DeliveryState::Failed => "failed",
            DeliveryState::Unknown => "unknown",
            DeliveryState::Skipped => "skipped",
        }
    }

    fn parse(text: &str) -> Result<DeliveryState, StoreError> {
        Ok(match text {
            "planned" => DeliveryState::Planned,
            "sending" => DeliveryState::Sending,
            "sent" => DeliveryState::Sent,
            "failed" => DeliveryState::Failed,
            "unknown" => DeliveryState::Unknown,
            "skipped" => DeliveryState::Skipped,
            other => return Err(StoreError::Invalid(format!("delivery state {other:?}"))),
        })
    }
}

/// One copy of a report for one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub report: String,
    pub recipient: String,
    /// `nl` or `en`.
    pub language: String,
    /// When it is (or was) due, UTC ms.
    pub due_at: i64,
    /// The period it covers.
    pub period: Period,
    pub reason: DeliveryReason,
    /// The copy a resend repeats.
    pub resends: Option<i64>,
    pub state: DeliveryState,
    pub note: Option<String>,
    pub sent_at: Option<i64>,
    pub created_at: i64,
    pub created_by: Option<String>,
}

/// A copy to add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub report: String,
    pub recipient: String,
    pub language: String,
    pub due_at: i64,
    pub period: Period,
    pub reason: DeliveryReason,
    pub resends: Option<i64>,
    pub created_by: Option<String>,
}

/// A file a copy is sent with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFile {
    /// `mail.html`, `mail.txt`, `page.html`, `chart-1.png`, `report.pdf`, `report.xlsx`, …
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What [`Reports::begin_delivery`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BeginDelivery {
    /// Now `sending`: send it, then [`Reports::end_delivery`].
    Claimed(Delivery),
    /// It was `sending` already: an earlier attempt stopped between starting and recording
    /// the send. It is now `unknown` and is not sent again.
    Interrupted,
    /// Nothing to send (sent, skipped, failed for good, or gone).
    Nothing,
}

const DELIVERY_COLUMNS: &str = "delivery_id, report, recipient, language, due_at, period_from, \
     period_to, reason, resends, state, note, sent_at, created_at, created_by";

fn read_delivery<R: Row>(row: &R) -> Result<Delivery, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let date = |i: usize| -> Result<jiff::civil::Date, StoreError> {
        let text: String = row.try_get(i)?;
        text.parse()
            .map_err(|_| StoreError::Invalid(format!("report period date {text:?}")))
    };
    let reason: String = row.try_get(7)?;
    let state: String = row.try_get(9)?;
    Ok(Delivery {
        id: row.try_get(0)?,
        report: row.try_get(1)?,
        recipient: row.try_get(2)?,
        language: row.try_get(3)?,
        due_at: row.try_get(4)?,
        period: Period::new(date(5)?, date(6)?),
        reason: DeliveryReason::parse(&reason)?,
        resends: row.try_get(8)?,
        state: DeliveryState::parse(&state)?,
        note: row.try_get(10)?,
        sent_at: row.try_get(11)?,
        created_at: row.try_get(12)?,
        created_by: row.try_get(13)?,
    })
}

fn read_file<R: Row>(row: &R) -> Result<ReportFile, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Vec<u8>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok(ReportFile {
        name: row.try_get(0)?,
        content_type: row.try_get(1)?,
        bytes: row.try_get(2)?,
    })
}

/// The report side of the store.
pub trait Reports: Send + Sync {
    /// Plans the copies due by `now` of every recipient of every report in `config` (see
    /// [`servicemeter_core::report_definitions::ReportDefinition::due_between`]): a recipient
    /// seen for the first time starts at `now` (no report of the past); one who unsubscribed
    /// is passed over. Returns the ids of the copies planned now (each unique per report,
    /// recipient and send time: planning twice plans once).
    fn plan_reports(
        &self,
        workspace: WorkspaceId,
        config: &WorkspaceConfig,
        now: i64,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// The planned copies due by `now`, earliest first, at most `limit` (each gets a send job).
    fn due_deliveries(
        &self,
        workspace: WorkspaceId,
        now: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<i64>, StoreError>> + Send;

    /// Adds a copy (send now, resend); returns its id.
    fn add_delivery(
        &self,
        workspace: WorkspaceId,
        delivery: &NewDelivery,
        now: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    fn delivery(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> impl Future<Output = Result<Option<Delivery>, StoreError>> + Send;

    /// The copies, newest first (of one report, or all), at most `limit` after `offset`.
    fn deliveries(
        &self,
        workspace: WorkspaceId,
        report: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// Records the period a copy's document covers (its saved view's, when that has one).
    fn set_delivery_period(
        &self,
        workspace: WorkspaceId,
        id: i64,
        period: Period,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a copy's files (replacing any it had), in one transaction.
    fn put_report_files(
        &self,
        workspace: WorkspaceId,
        id: i64,
        files: &[ReportFile],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A copy's files, by name.
    fn report_files(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> impl Future<Output = Result<Vec<ReportFile>, StoreError>> + Send;

    /// One file of a copy.
    fn report_file(
        &self,
        workspace: WorkspaceId,
        id: i64,
        name: &str,
    ) -> impl Future<Output = Result<Option<ReportFile>, StoreError>> + Send;

    /// Marks a planned (or failed, when its job is tried again) copy `sending`, committed before any mail goes out; a
    /// copy whose recipient unsubscribed becomes `skipped`. See [`BeginDelivery`].
    fn begin_delivery(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> impl Future<Output = Result<BeginDelivery, StoreError>> + Send;

    /// Records how a send ended: `sent`; or on an error back to `planned` (or `failed` on the
    /// last attempt) with the error as its note.
    fn end_delivery(
        &self,
        workspace: WorkspaceId,
        id: i64,
        outcome: Result<(), &str>,
        last_attempt: bool,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Unsubscribes `email` (normalised by the caller) from `report`; false when it was
    /// already. Its planned copies of the report are skipped in the same transaction.
    fn unsubscribe_report(
        &self,
        workspace: WorkspaceId,
        report: &str,
        email: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The (report, address) pairs that unsubscribed.
    fn report_unsubscribes(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Vec<(String, String)>, StoreError>> + Send;
}

/// Inserts a copy with the next id; `None` when a scheduled copy for the same report,
/// recipient and time exists.
async fn insert_delivery(
    tx: &mut SqlTx,
    workspace: WorkspaceId,
    d: &NewDelivery,
    now: i64,
) -> Result<Option<i64>, StoreError> {
    on_tx!(&mut tx.tx, t => {
        if d.reason == DeliveryReason::Schedule {
            let exists: Option<i64> = sqlx::query_scalar(
                "SELECT delivery_id FROM report_deliveries WHERE workspace_id = $1 \
                 AND report = $2 AND recipient = $3 AND due_at = $4 AND reason = 'schedule'",
            )
            .bind(workspace.0)
            .bind(d.report.as_str())
            .bind(d.recipient.as_str())
            .bind(d.due_at)
            .fetch_optional(&mut **t)
            .await?;
            if exists.is_some() {
                return Ok(None);
            }
        }
        let next: i64 = sqlx::query_scalar(
            "UPDATE workspace_state SET next_report_delivery = next_report_delivery + 1 \
             WHERE workspace_id = $1 RETURNING next_report_delivery",
        )
        .bind(workspace.0)
        .fetch_one(&mut **t)
        .await?;
        let id = next - 1;
        sqlx::query(
            "INSERT INTO report_deliveries (workspace_id, delivery_id, report, recipient, \
             language, due_at, period_from, period_to, reason, resends, state, created_at, \
             created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'planned', $11, $12)",
        )
        .bind(workspace.0)
        .bind(id)
        .bind(d.report.as_str())
        .bind(d.recipient.as_str())
        .bind(d.language.as_str())
        .bind(d.due_at)
        .bind(d.period.from.to_string())
        .bind(d.period.to.to_string())
        .bind(d.reason.as_str())
        .bind(d.resends)
        .bind(now)
        .bind(d.created_by.as_deref())
        .execute(&mut **t)
        .await?;
        Ok(Some(id))
    })
}

impl Reports for Storage {
    async fn plan_reports(
        &self,
        workspace: WorkspaceId,
        config: &WorkspaceConfig,
        now: i64,
    ) -> Result<Vec<i64>, StoreError> {
        if config.reports.is_empty() {
            return Ok(Vec::new());
        }
        let cursors: Vec<(String, String, i64)> = on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT report, recipient, planned_until FROM report_cursors \
                 WHERE workspace_id = $1",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)))
            .collect::<Result<_, StoreError>>()?
        });
        let unsubscribed = self.report_unsubscribes(workspace).await?;
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let mut planned = Vec::new();
        for definition in &config.reports {
            for recipient in &definition.recipients {
                let cursor = cursors
                    .iter()
                    .find(|(r, e, _)| *r == definition.name && *e == recipient.email)
                    .map(|(_, _, at)| *at);
                let due = cursor.and_then(|after| {
                    definition.due_between(recipient, &config.timezone, after, now)
                });
                if cursor.is_some() && due.is_none() {
                    continue;
                }
                let passed_over = unsubscribed
                    .iter()
                    .any(|(r, e)| *r == definition.name && *e == recipient.email);
                if let Some(due) = due
                    && !passed_over
                {
                    let schedule = definition.schedule_for(recipient, &config.timezone);
                    let copy = NewDelivery {
                        report: definition.name.clone(),
                        recipient: recipient.email.clone(),
                        language: recipient.language.clone(),
                        due_at: due,
                        period: schedule.period_of(due),
                        reason: DeliveryReason::Schedule,
                        resends: None,
                        created_by: None,
                    };
                    if let Some(id) = insert_delivery(&mut tx, workspace, &copy, now).await? {
                        planned.push(id);
                    }
                }
                on_tx!(&mut tx.tx, t => {
                    sqlx::query(
                        "INSERT INTO report_cursors (workspace_id, report, recipient, \
                         planned_until) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (workspace_id, report, recipient) DO UPDATE SET \
                         planned_until = excluded.planned_until \
                         WHERE report_cursors.planned_until < excluded.planned_until",
                    )
                    .bind(workspace.0)
                    .bind(definition.name.as_str())
                    .bind(recipient.email.as_str())
                    .bind(now)
                    .execute(&mut **t)
                    .await?;
                });
            }
        }
        tx.commit().await?;
        Ok(planned)
    }

    async fn due_deliveries(
        &self,
        workspace: WorkspaceId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<i64>, StoreError> {
        on_pool!(&self.pool, p => {
            let ids: Vec<i64> = sqlx::query_scalar(
                "SELECT delivery_id FROM report_deliveries WHERE workspace_id = $1 \
                 AND state = 'planned' AND due_at <= $2 ORDER BY due_at, delivery_id LIMIT $3",
            )
            .bind(workspace.0)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?;
            Ok(ids)
        })
    }

    async fn add_delivery(
        &self,
        workspace: WorkspaceId,
        delivery: &NewDelivery,
        now: i64,
    ) -> Result<i64, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let id = insert_delivery(&mut tx, workspace, delivery, now)
            .await?
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "a scheduled copy of {} for {} at {} exists",
                    delivery.report, delivery.recipient, delivery.due_at
                ))
            })?;
        tx.commit().await?;
        Ok(id)
    }

    async fn delivery(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> Result<Option<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM report_deliveries WHERE workspace_id = $1 \
             AND delivery_id = $2"
        );
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(id)
                .fetch_optional(p)
                .await?
                .as_ref()
                .map(read_delivery)
                .transpose()
        })
    }

    async fn deliveries(
        &self,
        workspace: WorkspaceId,
        report: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM report_deliveries WHERE workspace_id = $1 \
             AND ($2 = '' OR report = $2) ORDER BY delivery_id DESC LIMIT $3 OFFSET $4"
        );
        on_pool!(&self.pool, p => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace.0)
                .bind(report.unwrap_or(""))
                .bind(i64::from(limit))
                .bind(i64::from(offset))
                .fetch_all(p)
                .await?
                .iter()
                .map(read_delivery)
                .collect()
        })
    }

    async fn set_delivery_period(
        &self,
        workspace: WorkspaceId,
        id: i64,
        period: Period,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        on_tx!(&mut tx.tx, t => {
            sqlx::query(
                "UPDATE report_deliveries SET period_from = $3, period_to = $4 \
                 WHERE workspace_id = $1 AND delivery_id = $2",
            )
            .bind(workspace.0)
            .bind(id)
            .bind(period.from.to_string())
            .bind(period.to.to_string())
            .execute(&mut **t)
            .await?;
        });
        tx.commit().await
    }

    async fn put_report_files(
        &self,
        workspace: WorkspaceId,
        id: i64,
        files: &[ReportFile],
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        on_tx!(&mut tx.tx, t => {
            sqlx::query("DELETE FROM report_files WHERE workspace_id = $1 AND delivery_id = $2")
                .bind(workspace.0)
                .bind(id)
                .execute(&mut **t)
                .await?;
            for f in files {
                sqlx::query(
                    "INSERT INTO report_files (workspace_id, delivery_id, name, content_type, \
                     bytes) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(workspace.0)
                .bind(id)
                .bind(f.name.as_str())
                .bind(f.content_type.as_str())
                .bind(f.bytes.as_slice())
                .execute(&mut **t)
                .await?;
            }
        });
        tx.commit().await
    }

    async fn report_files(
        &self,
        workspace: WorkspaceId,
        id: i64,
    ) -> Result<Vec<ReportFile>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT name, content_type, bytes FROM report_files WHERE workspace_id = $1 \
                 AND delivery_id = $2 ORDER BY name",
            )
            .bind(workspace.0)
            .bind(id)
            .fetch_all(p)
            .await?
            .iter()
            .map(read_file)
            .collect()
        })
    }

    async fn report_file(
        &self,
        workspace: WorkspaceId,
        id: i64,
        name: &str,
    ) -> Result<Option<ReportFile>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT name, content_type, bytes FROM report_files WHERE workspace_id = $1 \
                 AND delivery_id = $2 AND name = $3",
            )
            .bind(workspace.0)
            .bind(id)
            .bind(name)
            .fetch_optional(p)
            .await?
            .as_ref()
            .map(read_file)
            .transpose()
        })
    }

    async fn begin_delivery(
        &self,
        workspace: WorkspaceId,
        id: i64,
        now: i64,
    ) -> Result<BeginDelivery, StoreError> {
        let Some(delivery) = self.delivery(workspace, id).await? else {
            return Ok(BeginDelivery::Nothing);
        };
        let unsubscribed = self
            .report_unsubscribes(workspace)
            .await?
            .iter()
            .any(|(r, e)| *r == delivery.report && *e == delivery.recipient);
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let begin = on_tx!(&mut tx.tx, t => {
            match delivery.state {
                DeliveryState::Sending => {
                    let changed = sqlx::query(
                        "UPDATE report_deliveries SET state = 'unknown', \
                         note = 'interrupted while sending; not sent again' \
                         WHERE workspace_id = $1 AND delivery_id = $2 AND state = 'sending'",
                    )
                    .bind(workspace.0)
                    .bind(id)
                    .execute(&mut **t)
                    .await?
                    .rows_affected();
                    if changed == 1 { BeginDelivery::Interrupted } else { BeginDelivery::Nothing }
                }
                DeliveryState::Planned | DeliveryState::Failed if unsubscribed => {
                    sqlx::query(
                        "UPDATE report_deliveries SET state = 'skipped', note = 'unsubscribed' \
                         WHERE workspace_id = $1 AND delivery_id = $2 \
                         AND state IN ('planned', 'failed')",
                    )
                    .bind(workspace.0)
                    .bind(id)
                    .execute(&mut **t)
                    .await?;
                    BeginDelivery::Nothing
                }
                DeliveryState::Planned | DeliveryState::Failed => {
                    let changed = sqlx::query(
                        "UPDATE report_deliveries SET state = 'sending', sent_at = $3 \
                         WHERE workspace_id = $1 AND delivery_id = $2 \
                         AND state IN ('planned', 'failed')",
                    )
                    .bind(workspace.0)
                    .bind(id)
                    .bind(now)
                    .execute(&mut **t)
                    .await?
                    .rows_affected();
                    if changed == 1 {
                        BeginDelivery::Claimed(Delivery {
                            state: DeliveryState::Sending,
                            sent_at: Some(now),
                            ..delivery
                        })
                    } else {
                        BeginDelivery::Nothing
                    }
                }
                _ => BeginDelivery::Nothing,
            }
        });
        tx.commit().await?;
        Ok(begin)
    }

    async fn end_delivery(
        &self,
        workspace: WorkspaceId,
        id: i64,
        outcome: Result<(), &str>,
        last_attempt: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        on_tx!(&mut tx.tx, t => {
            match outcome {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE report_deliveries SET state = 'sent', sent_at = $3, note = NULL \
                         WHERE workspace_id = $1 AND delivery_id = $2 AND state = 'sending'",
                    )
                    .bind(workspace.0)
                    .bind(id)
                    .bind(now)
                    .execute(&mut **t)
                    .await?;
                }
                Err(error) => {
                    sqlx::query(
                        "UPDATE report_deliveries SET state = $3, sent_at = NULL, note = $4 \
                         WHERE workspace_id = $1 AND delivery_id = $2 AND state = 'sending'",
                    )
                    .bind(workspace.0)
                    .bind(id)
                    .bind(if last_attempt { "failed" } else { "planned" })
                    .bind(error)
                    .execute(&mut **t)
                    .await?;
                }
            }
        });
        tx.commit().await
    }

    async fn unsubscribe_report(
        &self,
        workspace: WorkspaceId,
        report: &str,
        email: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let added = on_tx!(&mut tx.tx, t => {
            let added = sqlx::query(
                "INSERT INTO report_unsubscribes (workspace_id, report, email, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, report, email) DO NOTHING",
            )
            .bind(workspace.0)
            .bind(report)
            .bind(email)
            .bind(now)
            .execute(&mut **t)
            .await?
            .rows_affected()
                == 1;
            sqlx::query(
                "UPDATE report_deliveries SET state = 'skipped', note = 'unsubscribed' \
                 WHERE workspace_id = $1 AND report = $2 AND recipient = $3 AND state = 'planned'",
            )
            .bind(workspace.0)
            .bind(report)
            .bind(email)
            .execute(&mut **t)
            .await?;
            added
        });
        tx.commit().await?;
        Ok(added)
    }

    async fn report_unsubscribes(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Vec<(String, String)>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT report, email FROM report_unsubscribes WHERE workspace_id = $1 \
                 ORDER BY report, email",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
        })
    }
}
