//! The JSON API under `/api/v1`: reports and facts with the command line's JSON contract, and
//! the intake of records. Authenticated by session or by a workspace's bearer token.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use servicemeter_core::FactsRow;
use servicemeter_core::access::Role;
use servicemeter_store::{Accounts, Store};

use crate::auth::{Access, Caller, workspace_access};
use crate::data::{self, PeriodQuery};
use crate::error::WebError;
use crate::intake::{self, IntakeOutcome};
use crate::state::AppState;

#[derive(Serialize)]
pub struct WorkspaceEntry {
    name: String,
    role: &'static str,
}

/// The workspaces the caller can use.
pub async fn workspaces<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
) -> Result<Json<Vec<WorkspaceEntry>>, WebError> {
    let entries = match &caller {
        Caller::User(user) => state
            .store
            .memberships_of(user.id)
            .await?
            .into_iter()
            .map(|(w, m)| WorkspaceEntry {
                name: w.name,
                role: m.role.as_str(),
            })
            .collect(),
        Caller::Token { workspace, .. } => state
            .store
            .workspaces()
            .await?
            .into_iter()
            .filter(|w| w.id == *workspace)
            .map(|w| WorkspaceEntry {
                name: w.name,
                role: Role::Lead.as_str(),
            })
            .collect(),
    };
    Ok(Json(entries))
}

#[derive(Deserialize, Default)]
pub struct ReportQuery {
    #[serde(flatten)]
    period: PeriodQuery,
    by: Option<String>,
}

/// The report (`report --format json`). Agents see only their own line among the agents.
pub async fn report<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
    Query(query): Query<ReportQuery>,
    filter: data::FilterQuery,
) -> Result<Response, WebError> {
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let by = data::group_by(query.by.as_deref())?;
    let (report, _) =
        data::report(&state, &access.workspace, &query.period, &filter.0, &by).await?;
    if access.role == Role::Agent {
        let own = access.agent_name.clone().unwrap_or_default();
        let mut own_report = (*report).clone();
        own_report.by_agent.retain(|name, _| *name == own);
        return Ok(Json(own_report).into_response());
    }
    Ok(Json(&*report).into_response())
}

/// Per-conversation facts (`facts --format jsonl`, as one array), by conversation id.
pub async fn facts<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let access = workspace_access(&*state.store, &caller, &name).await?;
    if !access.role.sees_conversations() {
        return Err(WebError::Forbidden);
    }
    let table = data::facts(&state, &access.workspace).await?;
    let mut facts: Vec<_> = table
        .order_by_conversation()
        .into_iter()
        .map(|i| table.get(i))
        .collect();
    if !access.role.sees_all_conversations() {
        let own = access.agent_name.as_deref();
        facts.retain(|f| f.agent.is_some() && f.agent.as_deref() == own);
    }
    let rows: Vec<_> = facts.iter().map(FactsRow::new).collect();
    Ok(Json(rows).into_response())
}

#[derive(Deserialize, Default)]
pub struct RecordsQuery {
    /// For signed-in users (a token names its workspace itself).
    workspace: Option<String>,
}

/// Intake of a batch of records into the token's workspace (or `?workspace=` for a session).
pub async fn records<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Query(query): Query<RecordsQuery>,
    body: String,
) -> Result<(axum::http::StatusCode, Json<IntakeOutcome>), WebError> {
    let access: Access = match (&caller, &query.workspace) {
        (_, Some(name)) => workspace_access(&*state.store, &caller, name).await?,
        (Caller::Token { workspace, .. }, None) => {
            let name = state
                .store
                .workspaces()
                .await?
                .into_iter()
                .find(|w| w.id == *workspace)
                .ok_or(WebError::NotFound)?
                .name;
            workspace_access(&*state.store, &caller, &name).await?
        }
        (Caller::User(_), None) => {
            return Err(WebError::BadRequest(
                "workspace: name the workspace (?workspace=NAME) or use its API token".into(),
            ));
        }
    };
    if !access.role.can_write_records() {
        return Err(WebError::Forbidden);
    }
    let source = match &caller {
        Caller::Token { token_id, .. } => format!("api token {token_id}"),
        Caller::User(user) => format!("api user {}", user.email),
    };
    let outcome = intake::store_batch(&state, &access.workspace, &body, &source, None).await?;
    let status = if outcome.stored == 0 {
        axum::http::StatusCode::BAD_REQUEST
    } else {
        axum::http::StatusCode::OK
    };
    Ok((status, Json(outcome)))
}
