//! Survey invitations in the store: planning them from the conversations that changed (core's
//! rule over each conversation's body and facts, written with statements that never undo a
//! sent invitation), the suppression list, and reading them back. SQL both backends run.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use servicemeter_core::Calendars;
use servicemeter_core::model::SurveyKind;
use servicemeter_core::surveys::{
    Asked, DAY_MILLIS, Decision, LATE_AFTER_MILLIS, LastAsked, MAX_DELAY_SECONDS, SurveySubject,
    plan,
};
use sqlx::Row;

use crate::backend::{StoredBody, WriteTx};
use crate::sql::{SqlTx, on_pool, on_tx};
use crate::storage::Storage;
use crate::{StoreError, WorkspaceId};

/// The job that plans a workspace's surveys (queued by the worker about every minute while
/// surveys are switched on).
pub const SURVEY_PLAN: &str = "survey-plan";

/// The job that sends one invitation (queued by the planning job once it is due; its handler
/// lives where the mail is written, in the server).
pub const SURVEY_SEND: &str = "survey-send";

/// The dedupe key of an invitation's send job: one queued per conversation and kind.
pub fn send_key(conversation: &str, kind: SurveyKind) -> String {
    format!("{SURVEY_SEND}:{}:{conversation}", kind.as_str())
}

/// What a send job names: the invitation (as JSON: conversation ids may hold anything).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SendPayload {
    pub conversation: String,
    pub kind: SurveyKind,
}

/// What [`Surveys::begin_sending`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// Now `sending`: send it, then [`Surveys::end_sending`].
    Claimed(Invitation),
    /// It was `sending` already: an earlier attempt stopped between starting and recording
    /// the send. It is now `unknown` and is not sent again.
    Interrupted,
    /// Nothing to send (cancelled, sent, not due, or gone).
    Nothing,
}

/// Conversations read at a time while planning.
const PLAN_PAGE: i64 = 10_000;

/// Planning reads again the conversations changed in this long before where it stopped: a
/// write that committed late (its clock read before the last pass) is not missed, and
/// planning the same conversation twice gives the same invitation.
pub const PLAN_OVERLAP_MILLIS: i64 = 120_000;

/// Where an invitation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InvitationState {
    /// Waiting for its due time.
    Planned,
    /// Not sent: the conversation was reopened, or a rule now leaves it out (the note says).
    Cancelled,
    /// Claimed by a sender; the message may be on its way.
    Sending,
    Sent,
    /// A send was interrupted after it began: it may or may not have gone out, and is never
    /// sent again.
    Unknown,
    /// Sending failed on every attempt (the note holds the last error); a retry of its job
    /// from the jobs list tries again.
    Failed,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Planned => "planned",
            InvitationState::Cancelled => "cancelled",
            InvitationState::Sending => "sending",
            InvitationState::Sent => "sent",
            InvitationState::Unknown => "unknown",
            InvitationState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<InvitationState> {
        Some(match text {
            "planned" => InvitationState::Planned,
            "cancelled" => InvitationState::Cancelled,
            "sending" => InvitationState::Sending,
            "sent" => InvitationState::Sent,
            "unknown" => InvitationState::Unknown,
            "failed" => InvitationState::Failed,
            _ => return None,
        })
    }
}

/// One conversation's invitation to one kind of survey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub conversation: String,
    pub kind: SurveyKind,
    pub state: InvitationState,
    pub customer_email: Option<String>,
    /// The language it is (to be) written in.
    pub language: String,
    pub due_at: i64,
    pub planned_at: i64,
    pub sent_at: Option<i64>,
    pub answered_at: Option<i64>,
    /// Why it was cancelled, or the last sending error.
    pub note: Option<String>,
}

/// What one planning pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PlanSummary {
    /// Conversations read (changed since the last pass).
    pub considered: u64,
    /// Invitations planned or moved (new, re-planned after a reopen, or another due time).
    pub planned: u64,
    /// Planned invitations cancelled.
    pub cancelled: u64,
}

/// The survey side of the store.
pub trait Surveys: Send + Sync {
    /// Plans the surveys of the conversations changed since the last pass (see
    /// docs/surveys.md): an invitation per conversation and kind that core's rule asks,
    /// planned ones cancelled that it no longer asks. Sent invitations are never touched.
    fn plan_surveys(
        &self,
        workspace: WorkspaceId,
        now: i64,
    ) -> impl Future<Output = Result<PlanSummary, StoreError>> + Send;

    /// The workspace's invitations, latest due first, at most `limit`.
    fn invitations(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Invitation>, StoreError>> + Send;

    /// One conversation's invitation of one kind.
    fn invitation(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
    ) -> impl Future<Output = Result<Option<Invitation>, StoreError>> + Send;

    /// The invitations sent in `[from, to)` (UTC ms), and those answered in it through a link
    /// that was not mailed (`sent_at` is `None`): what response rates count.
    fn sent_invitations(
        &self,
        workspace: WorkspaceId,
        from: i64,
        to: i64,
    ) -> impl Future<Output = Result<Vec<Invitation>, StoreError>> + Send;

    /// Adds an address (normalized by the caller) to the suppression list; false when it was
    /// on it already. Its planned invitations are cancelled in the same transaction.
    fn suppress(
        &self,
        workspace: WorkspaceId,
        email: &str,
        reason: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The suppressed addresses.
    fn suppressed(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<BTreeSet<String>, StoreError>> + Send;

    /// Planned invitations due at `now`, earliest first, at most `limit`.
    fn due_invitations(
        &self,
        workspace: WorkspaceId,
        now: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Invitation>, StoreError>> + Send;

    /// Marks a due planned (or failed) invitation `sending`, committed before any mail goes
    /// out; see [`Begin`].
    fn begin_sending(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
        now: i64,
    ) -> impl Future<Output = Result<Begin, StoreError>> + Send;

    /// Records how a send ended: `sent`; or on an error back to `planned` (or `failed` on the
    /// last attempt) with the error as its note.
    fn end_sending(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
        outcome: Result<(), &str>,
        last_attempt: bool,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The workspace's own SMTP server for survey mail: its address (with the password, for
    /// the sender only) and the sender; `None` when it uses the installation's.
    fn workspace_smtp(
        &self,
        workspace: WorkspaceId,
    ) -> impl Future<Output = Result<Option<(String, String)>, StoreError>> + Send;

    /// Sets (or with `None` removes) the workspace's own SMTP server.
    fn set_workspace_smtp(
        &self,
        workspace: WorkspaceId,
        server: Option<(&str, &str)>,
        now: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The secret that signs the workspace's survey links: the stored one, or `fresh` stored
    /// now when there is none yet (the first caller's wins when several race).
    fn survey_secret(
        &self,
        workspace: WorkspaceId,
        fresh: &str,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

fn read_invitation<R: Row>(row: &R) -> Result<Invitation, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let state: String = row.try_get("state")?;
    Ok(Invitation {
        conversation: row.try_get("conversation_id")?,
        kind: SurveyKind::parse(&kind).map_err(|e| StoreError::Invalid(e.to_string()))?,
        state: InvitationState::parse(&state)
            .ok_or_else(|| StoreError::Invalid(format!("invitation state '{state}'")))?,
        customer_email: row.try_get("customer_email")?,
        language: row.try_get("language")?,
        due_at: row.try_get("due_at")?,
        planned_at: row.try_get("planned_at")?,
        sent_at: row.try_get("sent_at")?,
        answered_at: row.try_get("answered_at")?,
        note: row.try_get("note")?,
    })
}

/// One invitation to write as planned.
struct PlanRow {
    conversation: String,
    kind: SurveyKind,
    email: String,
    language: String,
    due_at: i64,
}

/// A page of changed conversations: bodies with their `updated_at`.
struct ChangedPage {
    bodies: Vec<StoredBody>,
    last: Option<(i64, String)>,
}

impl Storage {
    async fn changed_bodies(
        &self,
        workspace: WorkspaceId,
        after: &(i64, String),
    ) -> Result<ChangedPage, StoreError> {
        let rows = on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT conversation_id, ordinal, body_version, body, updated_at FROM conversations \
                 WHERE workspace_id = $1 AND (updated_at > $2 OR (updated_at = $2 AND \
                 conversation_id > $3)) ORDER BY updated_at, conversation_id LIMIT $4",
            )
            .bind(workspace.0)
            .bind(after.0)
            .bind(after.1.as_str())
            .bind(PLAN_PAGE)
            .fetch_all(p)
            .await?
            .iter()
            .map(|row| {
                Ok((
                    StoredBody {
                        id: row.try_get(0)?,
                        ordinal: row.try_get::<i64, _>(1)? as u32,
                        version: row.try_get(2)?,
                        bytes: row.try_get(3)?,
                    },
                    row.try_get::<i64, _>(4)?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?
        });
        let last = rows.last().map(|(b, at)| (*at, b.id.clone()));
        Ok(ChangedPage {
            bodies: rows.into_iter().map(|(b, _)| b).collect(),
            last,
        })
    }

    /// Invitations that count against a customer's quiet days, due since `since`.
    async fn asked_since(
        &self,
        workspace: WorkspaceId,
        since: i64,
    ) -> Result<LastAsked, StoreError> {
        let rows: Vec<(String, String, String, i64)> = on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT customer_email, kind, conversation_id, due_at FROM survey_invitations \
                 WHERE workspace_id = $1 AND state IN ('planned', 'sending', 'sent', 'unknown') \
                 AND customer_email IS NOT NULL AND due_at >= $2",
            )
            .bind(workspace.0)
            .bind(since)
            .fetch_all(p)
            .await?
        });
        let mut last = LastAsked::new();
        for (email, kind, conversation, at) in rows {
            let kind = SurveyKind::parse(&kind).map_err(|e| StoreError::Invalid(e.to_string()))?;
            last.entry((email, kind))
                .or_default()
                .push(Asked { at, conversation });
        }
        Ok(last)
    }

    async fn planned_keys(
        &self,
        workspace: WorkspaceId,
    ) -> Result<HashSet<(String, SurveyKind)>, StoreError> {
        let rows: Vec<(String, String)> = on_pool!(&self.pool, p => {
            sqlx::query_as(
                "SELECT conversation_id, kind FROM survey_invitations \
                 WHERE workspace_id = $1 AND state = 'planned'",
            )
            .bind(workspace.0)
            .fetch_all(p)
            .await?
        });
        rows.into_iter()
            .map(|(c, k)| {
                SurveyKind::parse(&k)
                    .map(|kind| (c, kind))
                    .map_err(|e| StoreError::Invalid(e.to_string()))
            })
            .collect()
    }

    async fn planning_cursor(&self, workspace: WorkspaceId) -> Result<i64, StoreError> {
        let cursor: Option<i64> = on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT planned_through FROM survey_state WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_optional(p)
                .await?
        });
        Ok(cursor.unwrap_or(0))
    }
}

/// Writes planned invitations (new ones, and planned or cancelled ones with new values) and
/// cancels planned ones; returns (planned, cancelled) as the statements counted them.
async fn write_plan(
    tx: &mut SqlTx,
    workspace: WorkspaceId,
    planned: &[PlanRow],
    cancelled: &[(String, SurveyKind, &'static str)],
    now: i64,
) -> Result<(u64, u64), StoreError> {
    let ws = workspace.0;
    let mut planned_rows = 0;
    let mut cancelled_rows = 0;
    on_tx!(&mut tx.tx, t => {
        for chunk in planned.chunks(1_000) {
            let mut query = sqlx::QueryBuilder::<DB>::new(
                "INSERT INTO survey_invitations (workspace_id, conversation_id, kind, state, \
                 customer_email, language, due_at, planned_at) ",
            );
            query.push_values(chunk, |mut row, r| {
                row.push_bind(ws)
                    .push_bind(r.conversation.as_str())
                    .push_bind(r.kind.as_str())
                    .push_bind("planned")
                    .push_bind(r.email.as_str())
                    .push_bind(r.language.as_str())
                    .push_bind(r.due_at)
                    .push_bind(now);
            });
            // Only a planned or cancelled invitation takes new values; one being sent or sent
            // stays as it is (once per conversation and kind).
            query.push(
                " ON CONFLICT (workspace_id, conversation_id, kind) DO UPDATE SET \
                 state = 'planned', customer_email = excluded.customer_email, \
                 language = excluded.language, due_at = excluded.due_at, \
                 planned_at = excluded.planned_at, note = NULL \
                 WHERE survey_invitations.state IN ('planned', 'cancelled') AND \
                 (survey_invitations.state = 'cancelled' \
                 OR survey_invitations.due_at <> excluded.due_at \
                 OR survey_invitations.customer_email <> excluded.customer_email \
                 OR survey_invitations.language <> excluded.language)",
            );
            planned_rows += query.build().execute(&mut **t).await?.rows_affected();
        }
        for (conversation, kind, reason) in cancelled {
            cancelled_rows += sqlx::query(
                "UPDATE survey_invitations SET state = 'cancelled', note = $4 \
                 WHERE workspace_id = $1 AND conversation_id = $2 AND kind = $3 \
                 AND state = 'planned'",
            )
            .bind(ws)
            .bind(conversation.as_str())
            .bind(kind.as_str())
            .bind(*reason)
            .execute(&mut **t)
            .await?
            .rows_affected();
        }
    });
    Ok((planned_rows, cancelled_rows))
}

async fn write_cursor(
    tx: &mut SqlTx,
    workspace: WorkspaceId,
    through: i64,
) -> Result<(), StoreError> {
    on_tx!(&mut tx.tx, t => {
        sqlx::query(
            "INSERT INTO survey_state (workspace_id, planned_through) VALUES ($1, $2) \
             ON CONFLICT (workspace_id) DO UPDATE SET planned_through = excluded.planned_through \
             WHERE survey_state.planned_through < excluded.planned_through",
        )
        .bind(workspace.0)
        .bind(through)
        .execute(&mut **t)
        .await?;
    });
    Ok(())
}

impl Surveys for Storage {
    async fn plan_surveys(
        &self,
        workspace: WorkspaceId,
        now: i64,
    ) -> Result<PlanSummary, StoreError> {
        let calendars = Arc::new(self.stored_calendars(workspace).await?);
        let settings = calendars.config().surveys.clone();
        let mut summary = PlanSummary::default();
        let mut planned_keys = self.planned_keys(workspace).await?;

        // Kinds switched off: their planned invitations are cancelled.
        let off: Vec<(String, SurveyKind, &'static str)> = planned_keys
            .iter()
            .filter(|(_, kind)| !settings.kinds.contains_key(kind))
            .map(|(c, kind)| (c.clone(), *kind, "survey-off"))
            .collect();
        if !off.is_empty() {
            let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
            summary.cancelled += write_plan(&mut tx, workspace, &[], &off, now).await?.1;
            tx.commit().await?;
            for (c, kind, _) in &off {
                planned_keys.remove(&(c.clone(), *kind));
            }
        }
        if settings.kinds.is_empty() {
            return Ok(summary);
        }

        let quiet_days = settings
            .kinds
            .values()
            .map(|d| d.quiet_days())
            .max()
            .unwrap_or(0);
        let since = now - quiet_days * DAY_MILLIS - MAX_DELAY_SECONDS * 1000 - LATE_AFTER_MILLIS;
        let mut last_asked = self.asked_since(workspace, since).await?;
        let suppressed = self.suppressed(workspace).await?;
        let cursor = self.planning_cursor(workspace).await?;
        let mut after = ((cursor - PLAN_OVERLAP_MILLIS).max(0), String::new());
        let mut through = cursor;
        loop {
            let page = self.changed_bodies(workspace, &after).await?;
            let Some(last) = page.last else { break };
            summary.considered += page.bodies.len() as u64;
            let calendars: Arc<Calendars> = calendars.clone();
            let subjects = tokio::task::spawn_blocking(move || {
                page.bodies
                    .iter()
                    .map(|b| {
                        crate::engine::decode_body(b).map(|c| SurveySubject::of(&c, &calendars))
                    })
                    .filter_map(Result::transpose)
                    .collect::<Result<Vec<_>, StoreError>>()
            })
            .await
            .map_err(|e| StoreError::Database(Box::new(e)))??;

            let candidates: Vec<_> = subjects.iter().map(SurveySubject::candidate).collect();
            // What this page decides replaces what was held of its conversations (a cancelled
            // plan of this page must not throttle a later page).
            let deciding: HashSet<&str> = candidates.iter().map(|c| c.conversation).collect();
            for asked in last_asked.values_mut() {
                asked.retain(|a| !deciding.contains(a.conversation.as_str()));
            }
            let by_id: HashMap<&str, &SurveySubject> = subjects
                .iter()
                .map(|s| (s.conversation.as_str(), s))
                .collect();
            let mut to_plan = Vec::new();
            let mut to_cancel = Vec::new();
            for decision in plan(&settings, &candidates, &last_asked, &suppressed, now) {
                let subject = by_id[decision.conversation];
                let key = (decision.conversation.to_string(), decision.kind);
                match decision.decision {
                    Decision::Ask { due_at } => {
                        let email = subject
                            .customer_email
                            .clone()
                            .expect("asked customers have an address");
                        let definition = &settings.kinds[&decision.kind];
                        last_asked
                            .entry((email.clone(), decision.kind))
                            .or_default()
                            .push(Asked {
                                at: due_at,
                                conversation: key.0.clone(),
                            });
                        planned_keys.insert(key.clone());
                        to_plan.push(PlanRow {
                            conversation: key.0,
                            kind: decision.kind,
                            email,
                            language: settings
                                .language_for(definition, subject.customer_language.as_deref()),
                            due_at,
                        });
                    }
                    Decision::Skip(skip) => {
                        if planned_keys.remove(&key) {
                            to_cancel.push((key.0, key.1, skip.as_str()));
                        }
                    }
                }
            }
            let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
            let (planned, cancelled) =
                write_plan(&mut tx, workspace, &to_plan, &to_cancel, now).await?;
            through = through.max(last.0);
            write_cursor(&mut tx, workspace, through).await?;
            tx.commit().await?;
            summary.planned += planned;
            summary.cancelled += cancelled;
            after = last;
        }
        Ok(summary)
    }

    async fn invitations(
        &self,
        workspace: WorkspaceId,
        limit: u32,
    ) -> Result<Vec<Invitation>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT conversation_id, kind, state, customer_email, language, due_at, \
                 planned_at, sent_at, answered_at, note \
                 FROM survey_invitations WHERE workspace_id = $1 \
                 ORDER BY due_at DESC, conversation_id, kind LIMIT $2",
            )
            .bind(workspace.0)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?
            .iter()
            .map(read_invitation)
            .collect()
        })
    }

    async fn invitation(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
    ) -> Result<Option<Invitation>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT conversation_id, kind, state, customer_email, language, due_at, \
                 planned_at, sent_at, answered_at, note \
                 FROM survey_invitations WHERE workspace_id = $1 \
                 AND conversation_id = $2 AND kind = $3",
            )
            .bind(workspace.0)
            .bind(conversation)
            .bind(kind.as_str())
            .fetch_optional(p)
            .await?
            .as_ref()
            .map(read_invitation)
            .transpose()
        })
    }

    async fn sent_invitations(
        &self,
        workspace: WorkspaceId,
        from: i64,
        to: i64,
    ) -> Result<Vec<Invitation>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT conversation_id, kind, state, customer_email, language, due_at, \
                 planned_at, sent_at, answered_at, note \
                 FROM survey_invitations WHERE workspace_id = $1 AND ( \
                 (state = 'sent' AND sent_at >= $2 AND sent_at < $3) \
                 OR (sent_at IS NULL AND answered_at >= $2 AND answered_at < $3))",
            )
            .bind(workspace.0)
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await?
            .iter()
            .map(read_invitation)
            .collect()
        })
    }

    async fn suppress(
        &self,
        workspace: WorkspaceId,
        email: &str,
        reason: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let added = on_tx!(&mut tx.tx, t => {
            let added = sqlx::query(
                "INSERT INTO survey_suppressions (workspace_id, email, reason, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id, email) DO NOTHING",
            )
            .bind(workspace.0)
            .bind(email)
            .bind(reason)
            .bind(now)
            .execute(&mut **t)
            .await?
            .rows_affected();
            sqlx::query(
                "UPDATE survey_invitations SET state = 'cancelled', note = 'unsubscribed' \
                 WHERE workspace_id = $1 AND customer_email = $2 AND state = 'planned'",
            )
            .bind(workspace.0)
            .bind(email)
            .execute(&mut **t)
            .await?;
            added
        });
        tx.commit().await?;
        Ok(added > 0)
    }

    async fn suppressed(&self, workspace: WorkspaceId) -> Result<BTreeSet<String>, StoreError> {
        let rows: Vec<String> = on_pool!(&self.pool, p => {
            sqlx::query_scalar("SELECT email FROM survey_suppressions WHERE workspace_id = $1")
                .bind(workspace.0)
                .fetch_all(p)
                .await?
        });
        Ok(rows.into_iter().collect())
    }

    async fn workspace_smtp(
        &self,
        workspace: WorkspaceId,
    ) -> Result<Option<(String, String)>, StoreError> {
        on_pool!(&self.pool, p => {
            Ok(sqlx::query_as::<_, (String, String)>(
                "SELECT url, sender FROM workspace_smtp WHERE workspace_id = $1",
            )
            .bind(workspace.0)
            .fetch_optional(p)
            .await?)
        })
    }

    async fn set_workspace_smtp(
        &self,
        workspace: WorkspaceId,
        server: Option<(&str, &str)>,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        on_tx!(&mut tx.tx, t => {
            match server {
                Some((url, sender)) => {
                    sqlx::query(
                        "INSERT INTO workspace_smtp (workspace_id, url, sender, updated_at) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (workspace_id) DO UPDATE SET \
                         url = excluded.url, sender = excluded.sender, \
                         updated_at = excluded.updated_at",
                    )
                    .bind(workspace.0)
                    .bind(url)
                    .bind(sender)
                    .bind(now)
                    .execute(&mut **t)
                    .await?;
                }
                None => {
                    sqlx::query("DELETE FROM workspace_smtp WHERE workspace_id = $1")
                        .bind(workspace.0)
                        .execute(&mut **t)
                        .await?;
                }
            }
        });
        tx.commit().await
    }

    async fn survey_secret(
        &self,
        workspace: WorkspaceId,
        fresh: &str,
    ) -> Result<String, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "UPDATE workspaces SET survey_secret = $1 \
                 WHERE workspace_id = $2 AND survey_secret IS NULL",
            )
            .bind(fresh)
            .bind(workspace.0)
            .execute(p)
            .await?;
            let secret: Option<String> = sqlx::query_scalar(
                "SELECT survey_secret FROM workspaces WHERE workspace_id = $1",
            )
            .bind(workspace.0)
            .fetch_one(p)
            .await?;
            secret.ok_or_else(|| StoreError::Invalid("no survey secret was stored".into()))
        })
    }

    async fn due_invitations(
        &self,
        workspace: WorkspaceId,
        now: i64,
        limit: u32,
    ) -> Result<Vec<Invitation>, StoreError> {
        on_pool!(&self.pool, p => {
            sqlx::query(
                "SELECT conversation_id, kind, state, customer_email, language, due_at, \
                 planned_at, sent_at, answered_at, note \
                 FROM survey_invitations WHERE workspace_id = $1 AND state = 'planned' \
                 AND due_at <= $2 ORDER BY due_at, conversation_id, kind LIMIT $3",
            )
            .bind(workspace.0)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(p)
            .await?
            .iter()
            .map(read_invitation)
            .collect()
        })
    }

    async fn begin_sending(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
        now: i64,
    ) -> Result<Begin, StoreError> {
        let Some(invitation) = self.invitation(workspace, conversation, kind).await? else {
            return Ok(Begin::Nothing);
        };
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        let begin = on_tx!(&mut tx.tx, t => {
            match invitation.state {
                InvitationState::Sending => {
                    let changed = sqlx::query(
                        "UPDATE survey_invitations SET state = 'unknown', \
                         note = 'interrupted while sending; not sent again' \
                         WHERE workspace_id = $1 AND conversation_id = $2 AND kind = $3 \
                         AND state = 'sending'",
                    )
                    .bind(workspace.0)
                    .bind(conversation)
                    .bind(kind.as_str())
                    .execute(&mut **t)
                    .await?
                    .rows_affected();
                    if changed == 1 { Begin::Interrupted } else { Begin::Nothing }
                }
                InvitationState::Planned | InvitationState::Failed
                    if invitation.due_at <= now && invitation.customer_email.is_some() =>
                {
                    let changed = sqlx::query(
                        "UPDATE survey_invitations SET state = 'sending', sent_at = $4 \
                         WHERE workspace_id = $1 AND conversation_id = $2 AND kind = $3 \
                         AND state IN ('planned', 'failed')",
                    )
                    .bind(workspace.0)
                    .bind(conversation)
                    .bind(kind.as_str())
                    .bind(now)
                    .execute(&mut **t)
                    .await?
                    .rows_affected();
                    if changed == 1 {
                        Begin::Claimed(Invitation {
                            state: InvitationState::Sending,
                            sent_at: Some(now),
                            ..invitation
                        })
                    } else {
                        Begin::Nothing
                    }
                }
                _ => Begin::Nothing,
            }
        });
        tx.commit().await?;
        Ok(begin)
    }

    async fn end_sending(
        &self,
        workspace: WorkspaceId,
        conversation: &str,
        kind: SurveyKind,
        outcome: Result<(), &str>,
        last_attempt: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = SqlTx::begin(&self.pool, &self.writer, workspace).await?;
        on_tx!(&mut tx.tx, t => {
            match outcome {
                Ok(()) => {
                    sqlx::query(
                        "UPDATE survey_invitations SET state = 'sent', sent_at = $4, note = NULL \
                         WHERE workspace_id = $1 AND conversation_id = $2 AND kind = $3 \
                         AND state = 'sending'",
                    )
                    .bind(workspace.0)
                    .bind(conversation)
                    .bind(kind.as_str())
                    .bind(now)
                    .execute(&mut **t)
                    .await?;
                }
                Err(error) => {
                    sqlx::query(
                        "UPDATE survey_invitations SET state = $4, sent_at = NULL, note = $5 \
                         WHERE workspace_id = $1 AND conversation_id = $2 AND kind = $3 \
                         AND state = 'sending'",
                    )
                    .bind(workspace.0)
                    .bind(conversation)
                    .bind(kind.as_str())
                    .bind(if last_attempt { "failed" } else { "planned" })
                    .bind(error)
                    .execute(&mut **t)
                    .await?;
                }
            }
        });
        tx.commit().await
    }
}
