//! Saved views: a period (preset or dates, and what it is compared with) and a filter under a
//! name, shared within the workspace. Any member may save one and open those of others; the
//! one who saved a view and administrators may delete it. The stored query is rebuilt from its
//! parsed parts, so a saved view always opens.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::access::Role;
use servicemeter_store::{Accounts, SavedView, Store};

use crate::auth::{Caller, SignedIn, workspace_access};
use crate::data::{self, FilterQuery, PeriodQuery};
use crate::error::WebError;
use crate::state::AppState;

/// Longest view name, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest stored query, in bytes.
pub const MAX_QUERY_BYTES: usize = 2_000;
/// Most views one workspace keeps.
pub const MAX_VIEWS: usize = 100;

/// A view as the overview lists it.
pub struct ViewLink {
    pub name: String,
    pub href: String,
    /// Whether the reader may delete it.
    pub deletable: bool,
}

/// The saved views of a workspace, as links for this reader.
pub async fn links<S: Store>(
    state: &AppState<S>,
    workspace: &servicemeter_store::Workspace,
    email: &str,
    role: Role,
) -> Result<Vec<ViewLink>, WebError> {
    Ok(state
        .store
        .saved_views(workspace.id)
        .await?
        .into_iter()
        .map(|v| ViewLink {
            href: if v.query.is_empty() {
                format!("/w/{}", workspace.name)
            } else {
                format!("/w/{}?{}", workspace.name, v.query)
            },
            deletable: v.created_by == email || role == Role::Admin,
            name: v.name,
        })
        .collect())
}

/// A view's name: trimmed, 1 to 80 characters, no control characters.
pub fn checked_name(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("name: empty; give the view a name".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("name: longer than {MAX_NAME_CHARS} characters"));
    }
    if name.chars().any(char::is_control) {
        return Err("name: contains a control character".into());
    }
    Ok(name.to_string())
}

/// A view's query, parsed and rebuilt (period, comparison and filter only); what is wrong
/// with it otherwise.
pub fn checked_query(query: &str) -> Result<String, String> {
    if query.len() > MAX_QUERY_BYTES {
        return Err(format!("query: longer than {MAX_QUERY_BYTES} bytes"));
    }
    let period: PeriodQuery =
        serde_urlencoded::from_str(query).map_err(|e| format!("query: {e}"))?;
    // The names must be known (a preset, a comparison), the dates dates.
    period.preset().map_err(|e| e.to_string())?;
    period.against().map_err(|e| e.to_string())?;
    for (name, value) in [("from", &period.from), ("to", &period.to)] {
        if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            v.parse::<jiff::civil::Date>()
                .map_err(|_| format!("{name}: '{v}' is not a date (YYYY-MM-DD)"))?;
        }
    }
    let filter = FilterQuery::parse(Some(query)).map_err(|e| e.to_string())?;
    Ok(data::join_query(&[&period.link(None), &filter.link()]))
}

#[derive(Debug, Deserialize)]
pub struct SaveForm {
    name: String,
    #[serde(default)]
    query: String,
}

/// `POST /w/{workspace}/views`: saves the view (replacing one of the same name), then opens it.
pub async fn save<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path(workspace): Path<String>,
    Form(form): Form<SaveForm>,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &workspace).await?;
    let name = checked_name(&form.name).map_err(WebError::BadRequest)?;
    let query = checked_query(&form.query).map_err(WebError::BadRequest)?;
    let existing = state.store.saved_views(access.workspace.id).await?;
    if existing.len() >= MAX_VIEWS && !existing.iter().any(|v| v.name == name) {
        return Err(WebError::BadRequest(format!(
            "name: this workspace has {MAX_VIEWS} saved views already; delete one first"
        )));
    }
    state
        .store
        .save_view(
            access.workspace.id,
            &SavedView {
                name,
                query: query.clone(),
                created_by: signed_in.user.email.clone(),
                created_at: state.now_millis(),
            },
        )
        .await?;
    let to = if query.is_empty() {
        format!("/w/{workspace}")
    } else {
        format!("/w/{workspace}?{query}")
    };
    Ok(Redirect::to(&to).into_response())
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    name: String,
}

/// `POST /w/{workspace}/views/delete`: deletes a view (its author or an administrator).
pub async fn delete<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path(workspace): Path<String>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &workspace).await?;
    let view = state
        .store
        .saved_views(access.workspace.id)
        .await?
        .into_iter()
        .find(|v| v.name == form.name)
        .ok_or(WebError::NotFound)?;
    if view.created_by != signed_in.user.email && access.role != Role::Admin {
        return Err(WebError::Forbidden);
    }
    state
        .store
        .delete_view(
            access.workspace.id,
            &view.name,
            &signed_in.user.email,
            state.now_millis(),
        )
        .await?;
    Ok(Redirect::to(&format!("/w/{workspace}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_checked_and_rebuilt() {
        assert_eq!(
            checked_query("preset=month&channel=chat&channel=email&compare=year").unwrap(),
            "preset=month&compare=year&channel=chat&channel=email"
        );
        assert_eq!(
            checked_query("from=2024-03-01&to=2024-03-31&tag=vip&page=3").unwrap(),
            "from=2024-03-01&to=2024-03-31&tag=vip"
        );
        assert_eq!(checked_query("").unwrap(), "");
        assert!(
            checked_query("preset=fortnight")
                .unwrap_err()
                .contains("preset")
        );
        assert!(checked_query("from=1-3-2024").unwrap_err().contains("from"));
        assert!(
            checked_query(&"x".repeat(2_001))
                .unwrap_err()
                .contains("2000")
        );
        assert_eq!(checked_name("  Chat  ").unwrap(), "Chat");
        assert!(checked_name(" ").is_err());
        assert!(checked_name(&"é".repeat(81)).is_err());
        assert!(checked_name("a\nb").is_err());
    }
}
