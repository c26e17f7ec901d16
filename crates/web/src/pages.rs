//! The HTML pages: sign-in, first-run setup, the workspace list (with an overview across
//! workspaces) and a workspace's overview. Figures come from the report; pages only format.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::Report;
use servicemeter_core::access::workspace_name_problem;
use servicemeter_core::report::{Period, Summary};
use servicemeter_store::{Accounts, Store};
use tower_sessions::Session;

use crate::auth::{
    Caller, SignedIn, USER_KEY, check_new_password, hash_password_blocking, normalize_email,
    verify_password_blocking, workspace_access,
};
use crate::data::{self, PeriodQuery};
use crate::error::WebError;
use crate::format;
use crate::i18n::{LANG_COOKIE, Lang, Texts};
use crate::state::AppState;

/// Escapes text for HTML outside templates.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn render(template: &impl Template) -> Result<Html<String>, WebError> {
    template
        .render()
        .map(Html)
        .map_err(|e| WebError::Internal(e.into()))
}

/// What every page's frame shows.
pub struct Frame {
    pub t: &'static Texts,
    pub lang: &'static str,
    pub other_lang: &'static str,
    pub other_lang_name: &'static str,
    pub user: Option<String>,
}

impl Frame {
    fn new(lang: Lang, user: Option<String>) -> Frame {
        Frame {
            t: lang.texts(),
            lang: lang.code(),
            other_lang: lang.other().code(),
            other_lang_name: lang.other().texts().language_name,
            user,
        }
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    frame: Frame,
    email: String,
    error: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    frame: Frame,
    email: String,
    workspace: String,
    error: Option<String>,
}

/// A workspace on the home page, with its last 7 days.
struct WorkspaceRow {
    name: String,
    role: &'static str,
    conversations: String,
    first_response: String,
    within_target: String,
    csat: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    workspaces: Vec<WorkspaceRow>,
}

/// Whether a change is good news.
#[derive(Clone, Copy)]
enum Better {
    Higher,
    Lower,
    Neither,
}

/// How a change is written.
#[derive(Clone, Copy)]
enum Change {
    /// Relative, in %.
    Relative,
    /// Percentage points.
    Points,
    /// As a duration.
    Duration,
    /// As a number with decimals.
    Plain(usize),
}

/// One figure of the overview.
pub struct Tile {
    pub label: &'static str,
    pub value: String,
    pub detail: String,
    pub previous: String,
    pub delta: String,
    /// `better`, `worse` or empty.
    pub trend: &'static str,
    /// `met`, `missed` or empty (no target).
    pub status: &'static str,
}

struct TileSpec {
    label: &'static str,
    current: Option<f64>,
    previous: Option<Option<f64>>,
    shown: fn(Option<f64>, Lang) -> String,
    better: Better,
    change: Change,
    detail: String,
    target_met: Option<bool>,
}

fn tile(spec: TileSpec, lang: Lang) -> Tile {
    let (delta, trend) = match (spec.current, spec.previous.flatten()) {
        (Some(now), Some(before)) => {
            let diff = now - before;
            let text = match spec.change {
                Change::Relative if before != 0.0 => {
                    format!("{:+.1}%", diff / before * 100.0)
                }
                Change::Relative => String::new(),
                Change::Points => format!("{:+.1} pt", diff),
                Change::Duration => {
                    let sign = if diff < 0.0 { "−" } else { "+" };
                    format!("{sign}{}", format::duration(Some(diff.abs())))
                }
                Change::Plain(d) => format!("{diff:+.d$}"),
            };
            let text = match lang {
                Lang::Nl => text.replace('.', ","),
                Lang::En => text,
            };
            let trend = match spec.better {
                _ if diff.abs() < 1e-9 => "",
                Better::Higher if diff > 0.0 => "better",
                Better::Lower if diff < 0.0 => "better",
                Better::Neither => "",
                _ => "worse",
            };
            (text, trend)
        }
        _ => (String::new(), ""),
    };
    Tile {
        label: spec.label,
        value: (spec.shown)(spec.current, lang),
        detail: spec.detail,
        previous: spec
            .previous
            .map(|p| (spec.shown)(p, lang))
            .unwrap_or_default(),
        delta,
        trend,
        status: match spec.target_met {
            Some(true) => "met",
            Some(false) => "missed",
            None => "",
        },
    }
}

/// The overview's figures, in order.
fn tiles(report: &Report, lang: Lang) -> Vec<Tile> {
    let t = lang.texts();
    let s = &report.summary;
    let p = report.previous.as_ref().map(|p| &p.summary);
    let prev = |f: fn(&Summary) -> Option<f64>| p.map(f);
    let first_response_met = {
        let checks: Vec<_> = report
            .targets
            .median_first_response_seconds
            .values()
            .filter_map(|c| c.met)
            .collect();
        (!checks.is_empty()).then(|| checks.iter().all(|&m| m))
    };
    let pct = |v, l| format::pct(v, l);
    let specs = vec![
        TileSpec {
            label: t.conversations,
            current: Some(s.conversations as f64),
            previous: prev(|s| Some(s.conversations as f64)),
            shown: |v, _| v.map_or_else(|| "–".into(), |v| format::count(v as u64)),
            better: Better::Neither,
            change: Change::Relative,
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.first_response,
            current: s.first_response.median_business_seconds,
            previous: prev(|s| s.first_response.median_business_seconds),
            shown: |v, _| format::duration(v),
            better: Better::Lower,
            change: Change::Duration,
            detail: format!(
                "{}; {} {}",
                t.median_business,
                format::pct(s.first_response.within_target_pct, lang),
                t.within_target
            ),
            target_met: first_response_met,
        },
        TileSpec {
            label: t.resolution_time,
            current: s.resolution.median_business_seconds,
            previous: prev(|s| s.resolution.median_business_seconds),
            shown: |v, _| format::duration(v),
            better: Better::Lower,
            change: Change::Duration,
            detail: t.median_business.to_string(),
            target_met: None,
        },
        TileSpec {
            label: t.resolution_rate,
            current: s.resolution.resolution_rate_pct,
            previous: prev(|s| s.resolution.resolution_rate_pct),
            shown: pct,
            better: Better::Higher,
            change: Change::Points,
            detail: format!(
                "{} {}",
                t.target,
                format::pct(Some(report.targets.resolution_pct.target), lang)
            ),
            target_met: report.targets.resolution_pct.met,
        },
        TileSpec {
            label: t.reopen_rate,
            current: s.resolution.reopen_rate_pct,
            previous: prev(|s| s.resolution.reopen_rate_pct),
            shown: pct,
            better: Better::Lower,
            change: Change::Points,
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.one_touch,
            current: s.resolution.one_touch_pct,
            previous: prev(|s| s.resolution.one_touch_pct),
            shown: pct,
            better: Better::Higher,
            change: Change::Points,
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.replies_per_conversation,
            current: s.messages.replies_per_conversation,
            previous: prev(|s| s.messages.replies_per_conversation),
            shown: |v, l| format::number(v, 2, l),
            better: Better::Lower,
            change: Change::Plain(2),
            detail: String::new(),
            target_met: None,
        },
        TileSpec {
            label: t.csat,
            current: s.csat.satisfied_pct,
            previous: prev(|s| s.csat.satisfied_pct),
            shown: pct,
            better: Better::Higher,
            change: Change::Points,
            detail: format!("{} {}", format::count(s.csat.responses), t.responses),
            target_met: report.targets.csat_pct.met,
        },
        TileSpec {
            label: t.nps,
            current: s.nps.score,
            previous: prev(|s| s.nps.score),
            shown: |v, _| format::signed(v),
            better: Better::Higher,
            change: Change::Plain(0),
            detail: format!("{} {}", format::count(s.nps.responses), t.responses),
            target_met: None,
        },
        TileSpec {
            label: t.ces,
            current: s.ces.average,
            previous: prev(|s| s.ces.average),
            shown: |v, l| format::number(v, 2, l),
            better: Better::Higher,
            change: Change::Plain(2),
            detail: format!("{} {}", format::count(s.ces.responses), t.responses),
            target_met: None,
        },
    ];
    specs.into_iter().map(|spec| tile(spec, lang)).collect()
}

/// A row of the channels table.
struct ChannelRow {
    name: String,
    conversations: String,
    first_response: String,
    target: String,
    within_target: String,
    status: &'static str,
    resolution_rate: String,
    csat: String,
}

fn channel_rows(report: &Report, lang: Lang) -> Vec<ChannelRow> {
    report
        .by_channel
        .iter()
        .map(|(name, s)| {
            let check = report.targets.median_first_response_seconds.get(name);
            let target = report
                .targets
                .first_response_seconds
                .get(name)
                .copied()
                .unwrap_or(report.targets.first_response_default_seconds);
            ChannelRow {
                name: name.clone(),
                conversations: format::count(s.conversations),
                first_response: format::duration(s.first_response.median_business_seconds),
                target: format::duration(Some(target)),
                within_target: format::pct(s.first_response.within_target_pct, lang),
                status: match check.and_then(|c| c.met) {
                    Some(true) => "met",
                    Some(false) => "missed",
                    None => "",
                },
                resolution_rate: format::pct(s.resolution.resolution_rate_pct, lang),
                csat: format::pct(s.csat.satisfied_pct, lang),
            }
        })
        .collect()
}

/// A preset link above the overview.
struct PresetLink {
    key: &'static str,
    label: &'static str,
    active: bool,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    frame: Frame,
    workspace: String,
    role: &'static str,
    period: String,
    previous_period: String,
    from: String,
    to: String,
    presets: Vec<PresetLink>,
    has_data: bool,
    tiles: Vec<Tile>,
    channels: Vec<ChannelRow>,
}

fn period_label(p: Option<Period>) -> String {
    match p {
        Some(p) if p.from == p.to => p.from.to_string(),
        Some(p) => format!("{} – {}", p.from, p.to),
        None => String::new(),
    }
}

// ---- handlers ----

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
}

pub async fn login_page<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
) -> Result<Response, WebError> {
    if state.store.user_count().await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    Ok(render(&LoginPage {
        frame: Frame::new(lang, None),
        email: String::new(),
        error: None,
    })?
    .into_response())
}

pub async fn login<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let email = normalize_email(&form.email).unwrap_or_default();
    let user = state.store.user_by_email(&email).await?;
    // Without a user, verify against a fixed hash anyway so that the answer takes as long.
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let ok = verify_password_blocking(form.password, stored).await;
    match user {
        Some(user) if ok => {
            // A new session id at sign-in: an id planted before cannot be used after.
            session
                .cycle_id()
                .await
                .map_err(|e| WebError::Internal(e.into()))?;
            session
                .insert(USER_KEY, user.id.0)
                .await
                .map_err(|e| WebError::Internal(e.into()))?;
            Ok(Redirect::to("/").into_response())
        }
        _ => {
            tracing::info!(email, "failed sign-in");
            let page = render(&LoginPage {
                frame: Frame::new(lang, None),
                email,
                error: Some(lang.texts().wrong_login),
            })?;
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
    }
}

/// An Argon2id hash of a password nobody types (made once), so that signing in with an
/// unknown address costs as much time as with a known one.
async fn dummy_hash() -> Result<String, WebError> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_try_init(|| hash_password_blocking("\u{0}no user has this password".into()))
        .await
        .cloned()
}

pub async fn logout(session: Session) -> Result<Response, WebError> {
    session
        .flush()
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(Redirect::to("/login").into_response())
}

#[derive(Deserialize)]
pub struct SetupForm {
    email: String,
    password: String,
    workspace: String,
}

pub async fn setup_page<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
) -> Result<Response, WebError> {
    if state.store.user_count().await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(render(&SetupPage {
        frame: Frame::new(lang, None),
        email: String::new(),
        workspace: "default".into(),
        error: None,
    })?
    .into_response())
}

pub async fn setup<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if state.store.user_count().await? > 0 {
        return Err(WebError::NotFound);
    }
    let workspace_name = form.workspace.trim().to_string();
    let problem = normalize_email(&form.email)
        .err()
        .or_else(|| check_new_password(&form.password).err())
        .or_else(|| workspace_name_problem(&workspace_name));
    if let Some(problem) = problem {
        let page = render(&SetupPage {
            frame: Frame::new(lang, None),
            email: form.email.clone(),
            workspace: workspace_name,
            error: Some(problem),
        })?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let email = normalize_email(&form.email).expect("checked");
    let hash = hash_password_blocking(form.password).await?;
    let workspace = state.store.workspace(&workspace_name).await?;
    let Some(user) = state
        .store
        .create_first_user(&email, &hash, workspace.id, state.now_millis())
        .await?
    else {
        return Err(WebError::NotFound);
    };
    session
        .cycle_id()
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    session
        .insert(USER_KEY, user.0)
        .await
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(Redirect::to(&format!("/w/{workspace_name}")).into_response())
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
}

/// Keeps a chosen language in a cookie and goes back.
pub async fn set_lang(headers: HeaderMap, Form(form): Form<LangForm>) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or(Lang::Nl);
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| {
            // Only back to a path of this site.
            let path = r
                .split_once("://")
                .map_or(r, |(_, rest)| rest.find('/').map_or("/", |i| &rest[i..]));
            path.starts_with('/').then(|| path.to_string())
        })
        .unwrap_or_else(|| "/".into());
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, back),
            (
                header::SET_COOKIE,
                format!(
                    "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
                    lang.code()
                ),
            ),
        ],
    )
        .into_response()
}

pub async fn home<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: Result<SignedIn, WebError>,
) -> Result<Response, WebError> {
    let signed_in = match signed_in {
        Ok(s) => s,
        Err(WebError::Unauthorized) => {
            let to = if state.store.user_count().await? == 0 {
                "/setup"
            } else {
                "/login"
            };
            return Ok(Redirect::to(to).into_response());
        }
        Err(e) => return Err(e),
    };
    let mut workspaces = Vec::new();
    let week = PeriodQuery {
        preset: Some("7d".into()),
        ..PeriodQuery::default()
    };
    for (workspace, membership) in state.store.memberships_of(signed_in.user.id).await? {
        let (report, _) = data::report(&state, &workspace, &week, &[]).await?;
        let s = &report.summary;
        workspaces.push(WorkspaceRow {
            name: workspace.name,
            role: membership.role.as_str(),
            conversations: format::count(s.conversations),
            first_response: format::duration(s.first_response.median_business_seconds),
            within_target: format::pct(s.first_response.within_target_pct, lang),
            csat: format::pct(s.csat.satisfied_pct, lang),
        });
    }
    Ok(render(&HomePage {
        frame: Frame::new(lang, Some(signed_in.user.email)),
        workspaces,
    })?
    .into_response())
}

pub async fn overview<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<PeriodQuery>,
) -> Result<Response, WebError> {
    let caller = Caller::User(signed_in.user.clone());
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let query = if query.is_empty() {
        PeriodQuery {
            preset: Some("7d".into()),
            ..PeriodQuery::default()
        }
    } else {
        query
    };
    let (report, _) = data::report(&state, &access.workspace, &query, &[]).await?;
    let t = lang.texts();
    let active = query.preset.as_deref().unwrap_or("");
    let presets = [
        ("today", t.today),
        ("7d", t.last_7_days),
        ("month", t.this_month),
        ("last-month", t.last_month),
    ]
    .into_iter()
    .map(|(key, label)| PresetLink {
        key,
        label,
        active: key == active,
    })
    .collect();
    Ok(render(&OverviewPage {
        frame: Frame::new(lang, Some(signed_in.user.email)),
        workspace: access.workspace.name.clone(),
        role: access.role.as_str(),
        period: period_label(report.period),
        previous_period: period_label(report.previous.as_ref().map(|p| p.period)),
        from: report
            .period
            .map(|p| p.from.to_string())
            .unwrap_or_default(),
        to: report.period.map(|p| p.to.to_string()).unwrap_or_default(),
        presets,
        has_data: report.summary.conversations > 0,
        tiles: tiles(&report, lang),
        channels: channel_rows(&report, lang),
    })?
    .into_response())
}
