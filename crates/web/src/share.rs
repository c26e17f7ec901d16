//! Share links: a read-only dashboard of one workspace for someone without an account (an
//! agency's client), optionally through a saved view, with agents by name only when the
//! administrator allows it, until the link expires or is revoked. Made, listed and revoked on
//! the settings page. The link carries a token signed with the workspace's link secret (its id
//! and expiry, see [`crate::signed`]); the stored row decides whether it still stands.

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::access::Role;
use servicemeter_store::shares::{MAX_LABEL_CHARS, NewShareLink, ShareLink};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Access, SignedIn};
use crate::data::{FilterQuery, PeriodQuery};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::overview::{Chart, PeriodForm, Tile};
use crate::pages::{Frame, render};
use crate::settings::admin_access;
use crate::state::AppState;
use crate::survey_link::{LinkProblem, new_secret};
use crate::table::DataTable;

/// What a share token is for (see [`crate::signed`]).
pub const PURPOSE: &str = "share";
/// The longest a share link may stand.
pub const MAX_DAYS: i64 = 366;

/// A link as the settings page lists it.
pub struct ShareRow {
    pub id: i64,
    pub label: String,
    pub view: String,
    pub agents: bool,
    pub created: String,
    pub expires: String,
    /// The link's path, while it stands.
    pub href: String,
    /// "verlopen" / "ingetrokken" when it no longer stands.
    pub gone: &'static str,
}

/// The settings page's share-link section.
pub struct ShareSection {
    pub rows: Vec<ShareRow>,
    /// The saved views a link may show (value, label).
    pub views: Vec<(String, String)>,
    /// The default expiry date of a new link (in 30 days), YYYY-MM-DD.
    pub default_expiry: String,
}

/// The last day a link works (it stops at the end of it), in words.
fn last_day(link: &ShareLink, tz: &jiff::tz::TimeZone, lang: Lang) -> String {
    jiff::Timestamp::from_millisecond(link.expires_at - 1)
        .map(|ts| crate::format::day(ts.to_zoned_datetime(tz.clone()).date(), lang))
        .unwrap_or_default()
}

fn token(secret: &str, workspace: &str, link: &ShareLink) -> String {
    crate::signed::sign(
        secret,
        PURPOSE,
        workspace,
        &[&link.id.to_string()],
        link.expires_at,
    )
}

/// The section of `access`'s workspace.
pub async fn section<S: Store + Accounts>(
    state: &AppState<S>,
    access: &Access,
    lang: Lang,
) -> Result<ShareSection, WebError> {
    let t = lang.texts();
    let ws = &access.workspace;
    let tz = crate::data::config(ws)?.timezone;
    let secret = state
        .store
        .survey_secret(ws.id, &new_secret().map_err(WebError::Internal)?)
        .await?;
    let now = state.now_millis();
    let rows = state
        .store
        .shares(ws.id)
        .await?
        .into_iter()
        .map(|l| ShareRow {
            id: l.id,
            label: l.label.clone(),
            view: l.view.clone().unwrap_or_default(),
            agents: l.agent_detail,
            created: format!(
                "{} ({})",
                crate::conversations::local_time(l.created_at, &tz),
                l.created_by
            ),
            expires: last_day(&l, &tz, lang),
            href: if l.stands(now) {
                format!("/share/{}/{}", ws.name, token(&secret, &ws.name, &l))
            } else {
                String::new()
            },
            gone: match (l.revoked_at, l.stands(now)) {
                (Some(_), _) => t.share_revoked,
                (None, false) => t.share_expired,
                _ => "",
            },
        })
        .collect();
    let views = state
        .store
        .saved_views(ws.id)
        .await?
        .into_iter()
        .map(|v| (v.name.clone(), v.name))
        .collect();
    let in_a_month = jiff::Timestamp::from_millisecond(now + 30 * 86_400_000)
        .map(|ts| ts.to_zoned_datetime(tz).date().to_string())
        .unwrap_or_default();
    Ok(ShareSection {
        rows,
        views,
        default_expiry: in_a_month,
    })
}

/// The posted form of a new link.
#[derive(Debug, Deserialize)]
pub struct ShareForm {
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub view: String,
    #[serde(default)]
    pub agents: Option<String>,
    #[serde(default)]
    pub expires: String,
    /// Set to revoke link `revoke` instead.
    #[serde(default)]
    pub revoke: Option<i64>,
}

/// `POST /w/{workspace}/settings/shares`: makes a link (or revokes one).
pub async fn save<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<ShareForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let ws = &access.workspace;
    let now = state.now_millis();
    if let Some(id) = form.revoke {
        state.store.revoke_share(ws.id, id, now).await?;
        return Ok(
            Redirect::to(&format!("/w/{name}/settings?saved=shares#shares")).into_response(),
        );
    }
    let label = form.label.trim();
    if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
        return Err(WebError::Invalid {
            nl: format!("Omschrijving: 1 tot {MAX_LABEL_CHARS} tekens"),
            en: format!("Label: 1 to {MAX_LABEL_CHARS} characters"),
        });
    }
    let view = Some(form.view.trim())
        .filter(|v| !v.is_empty())
        .map(String::from);
    if let Some(view) = &view
        && !state
            .store
            .saved_views(ws.id)
            .await?
            .iter()
            .any(|v| v.name == *view)
    {
        return Err(WebError::Invalid {
            nl: format!("Weergave: '{view}' bestaat niet"),
            en: format!("View: '{view}' does not exist"),
        });
    }
    // The end of the chosen day in the workspace's time zone, from today to a year ahead.
    let tz = crate::data::config(ws)?.timezone;
    let bad_date = || WebError::Invalid {
        nl: format!(
            "Geldig tot en met: '{}' is geen datum van vandaag tot over een jaar (JJJJ-MM-DD)",
            form.expires.trim()
        ),
        en: format!(
            "Valid through: '{}' is not a date from today to a year ahead (YYYY-MM-DD)",
            form.expires.trim()
        ),
    };
    let date: jiff::civil::Date = form.expires.trim().parse().map_err(|_| bad_date())?;
    let expires_at = date
        .tomorrow()
        .ok()
        .and_then(|d| {
            tz.to_ambiguous_zoned_datetime(jiff::civil::DateTime::from_parts(
                d,
                jiff::civil::Time::midnight(),
            ))
            .compatible()
            .ok()
        })
        .map(|z| z.timestamp().as_millisecond())
        .ok_or_else(bad_date)?;
    if expires_at <= now || expires_at > now + MAX_DAYS * 86_400_000 {
        return Err(bad_date());
    }
    state
        .store
        .create_share(
            ws.id,
            &NewShareLink {
                label: label.to_string(),
                view,
                agent_detail: form.agents.is_some(),
                created_by: signed_in.user.email.clone(),
                expires_at,
            },
            now,
        )
        .await?;
    Ok(Redirect::to(&format!("/w/{name}/settings?saved=shares#shares")).into_response())
}

#[derive(askama::Template)]
#[template(path = "shared.html")]
struct SharedPage {
    frame: Frame,
    workspace: String,
    label: String,
    expires: String,
    form: PeriodForm,
    period: String,
    previous_period: String,
    compared_word: &'static str,
    has_data: bool,
    tiles: Vec<Tile>,
    charts: Vec<Chart>,
    channels: DataTable,
    agents: Option<DataTable>,
    teams: Option<DataTable>,
    topics: DataTable,
}

/// A table with no links and no download (a shared page leads nowhere else).
fn plain(mut table: DataTable) -> DataTable {
    table.csv_href.clear();
    for row in &mut table.rows {
        for cell in &mut row.cells {
            cell.href.clear();
        }
    }
    table
}

fn refused(lang: Lang, status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(crate::survey_mail::page_shell(
            lang,
            "servicemeter",
            &format!(
                "<p class=\"error\" role=\"alert\">{}</p>",
                servicemeter_report::svg::escape(message)
            ),
        )),
    )
        .into_response()
}

/// `GET /share/{workspace}/{token}`: the dashboard, read-only, without signing in.
pub async fn show<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    Path((name, token)): Path<(String, String)>,
    Query(requested): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let t = lang.texts();
    let broken = || refused(lang, StatusCode::NOT_FOUND, t.share_broken);
    let Some(workspace) = state.store.find_workspace(&name).await? else {
        return Ok(broken());
    };
    let secret = state
        .store
        .survey_secret(workspace.id, &new_secret().map_err(WebError::Internal)?)
        .await?;
    let now = state.now_millis();
    let (fields, expires_at) = match crate::signed::verify(&secret, PURPOSE, &name, &token, now) {
        Ok(found) => found,
        Err(LinkProblem::Expired) => return Ok(refused(lang, StatusCode::GONE, t.share_gone)),
        Err(_) => return Ok(broken()),
    };
    let Some(link) = fields
        .first()
        .and_then(|id| id.parse::<i64>().ok())
        .map(|id| state.store.share(workspace.id, id))
    else {
        return Ok(broken());
    };
    let Some(link) = link.await? else {
        return Ok(broken());
    };
    if link.expires_at != expires_at {
        return Ok(broken());
    }
    if !link.stands(now) {
        return Ok(refused(lang, StatusCode::GONE, t.share_gone));
    }
    // The view's filter always; its period unless the visitor chose one.
    let (view_query, filter) = match &link.view {
        Some(view) => {
            let stored = state
                .store
                .saved_views(workspace.id)
                .await?
                .into_iter()
                .find(|v| v.name == *view);
            match stored {
                Some(v) => (
                    serde_urlencoded::from_str::<PeriodQuery>(&v.query).unwrap_or_default(),
                    FilterQuery::parse(Some(&v.query))?,
                ),
                None => return Ok(refused(lang, StatusCode::GONE, t.share_gone)),
            }
        }
        None => (PeriodQuery::default(), FilterQuery::default()),
    };
    let query = if requested.is_empty() {
        view_query
    } else {
        requested
    };
    let access = Access {
        workspace: workspace.clone(),
        role: Role::Viewer,
        agent_name: None,
    };
    let page =
        crate::overview::overview_page(&state, lang, "", String::new(), &access, query, filter)
            .await?;
    let path = format!("/share/{name}/{token}");
    let mut form = page.form;
    form.action = path;
    form.filters.clear();
    form.filtered = false;
    form.unfiltered_href.clear();
    form.hidden.clear();
    let shared = SharedPage {
        frame: Frame::new(lang, None),
        workspace: workspace.name.clone(),
        label: link.label.clone(),
        expires: last_day(&link, &crate::data::config(&workspace)?.timezone, lang),
        form,
        period: page.period,
        previous_period: page.previous_period,
        compared_word: page.compared_word,
        has_data: page.has_data,
        tiles: page
            .tiles
            .into_iter()
            .map(|mut tile| {
                tile.href.clear();
                tile
            })
            .collect(),
        charts: page.charts,
        channels: plain(page.channels),
        agents: link.agent_detail.then(|| plain(page.agents)),
        teams: link.agent_detail.then(|| plain(page.teams)),
        topics: plain(page.topics),
    };
    let mut response = render(&shared)?.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, "no-store".parse().expect("a value"));
    headers.insert("x-robots-tag", "noindex".parse().expect("a value"));
    headers.insert(
        header::REFERRER_POLICY,
        "no-referrer".parse().expect("a value"),
    );
    Ok(response)
}
