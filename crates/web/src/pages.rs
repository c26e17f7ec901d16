//! The HTML pages: sign-in, first-run setup, the workspace list (with an overview across
//! workspaces) and a workspace's overview. Figures come from the report; pages only format.

use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::access::workspace_name_problem;
use servicemeter_core::headline::Figure;
use servicemeter_store::{Accounts, Store};
use tower_sessions::Session;

use crate::auth::{
    SignedIn, hash_password_blocking, normalize_email, start_session, verify_password_blocking,
};
use crate::data::{self, PeriodQuery};
use crate::error::WebError;
use crate::format;
use crate::guard::Site;
use crate::i18n::{LANG_COOKIE, Lang, Texts};
use crate::state::AppState;

pub(crate) fn render(template: &impl Template) -> Result<Html<String>, WebError> {
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
    pub fn new(lang: Lang, user: Option<String>) -> Frame {
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

/// A workspace on the home page (the agency view): its headline figures with their targets
/// and changes, a small trend, and how many targets it misses.
struct WorkspaceCard {
    name: String,
    role: &'static str,
    tiles: Vec<crate::overview::Tile>,
    /// Targets missed in the period.
    missed: usize,
    /// Figures that got worse.
    worse: usize,
    /// "2 doelen gemist", "alle doelen gehaald", or empty without targets to check.
    attention: String,
    trend_svg: String,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    frame: Frame,
    /// The period form and what the period is compared with (none without workspaces).
    form: Option<(crate::overview::PeriodForm, &'static str)>,
    workspaces: Vec<WorkspaceCard>,
    /// An installation administrator sees the form to create a workspace.
    can_create: bool,
    new_name: String,
    error: Option<&'static str>,
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
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    let email = normalize_email(&form.email).unwrap_or_default();
    // Both limits count every attempt: per client address (behind trusted proxies, the
    // address they name) and per account, whichever address it comes from.
    let now = std::time::Instant::now();
    let client = state.site.client_key(peer.ip(), &headers);
    // An attempt refused for its address does not use up the account's attempts.
    let allowed = state.login_by_address.allow(&client, now)
        && state
            .login_by_account
            .allow(&email.to_ascii_lowercase(), now);
    if !allowed {
        tracing::info!(email, %client, "sign-in refused: too many attempts");
        return Err(WebError::TooManyRequests);
    }
    let user = state.store.user_by_email(&email).await?;
    // Without a user, verify against a fixed hash anyway so that the answer takes as long.
    let stored = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().await?,
    };
    let ok = verify_password_blocking(form.password, stored).await;
    match user {
        Some(user) if ok => {
            start_session(&state, &session, user.id).await?;
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
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if !state.site.setup_host_allowed(&headers) {
        return Err(setup_refused());
    }
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

/// A first-run setup reached by a name that is neither this machine nor the public address.
fn setup_refused() -> WebError {
    WebError::BadRequest(
        "the first administrator is set up at http://127.0.0.1 (or localhost) on this machine, or at the address given with --public-url".into(),
    )
}

pub async fn setup<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<SetupForm>,
) -> Result<Response, WebError> {
    if !state.site.setup_host_allowed(&headers) {
        return Err(setup_refused());
    }
    if state.store.user_count().await? > 0 {
        return Err(WebError::NotFound);
    }
    let workspace_name = form.workspace.trim().to_string();
    let problem =
        crate::auth::form_problem(&form.email, Some(&form.password), lang).or_else(|| {
            workspace_name_problem(&workspace_name)
                .map(|_| lang.texts().workspace_name_invalid.to_string())
        });
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
    let Some((user, _)) = state
        .store
        .create_first_user(&email, &hash, &workspace_name, state.now_millis())
        .await?
    else {
        return Err(WebError::NotFound);
    };
    start_session(&state, &session, user).await?;
    Ok(Redirect::to(&format!("/w/{workspace_name}")).into_response())
}

#[derive(Deserialize)]
pub struct LangForm {
    lang: String,
}

/// The path of a referring address of this site, to go back to; `None` for another site's
/// address or anything a browser could read as one (`//host`, `/\host`).
fn same_site_path(referer: &str, headers: &HeaderMap, site: &Site) -> Option<String> {
    let path = match referer.split_once("://") {
        Some((_, rest)) => {
            let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if !site.is_own_address(host, headers) {
                return None;
            }
            if path.is_empty() { "/" } else { path }
        }
        None => referer,
    };
    let safe = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control);
    safe.then(|| path.to_string())
}

/// Keeps a chosen language in a cookie and goes back (to a page of this site only).
pub async fn set_lang<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    headers: HeaderMap,
    Form(form): Form<LangForm>,
) -> Response {
    let lang = Lang::parse(&form.lang).unwrap_or(Lang::Nl);
    let back = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| same_site_path(r, &headers, &state.site))
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
    axum::extract::Query(query): axum::extract::Query<PeriodQuery>,
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
    let page = home_page(&state, lang, &signed_in, query, String::new(), None).await?;
    Ok(render(&page)?.into_response())
}

/// The home page: every workspace of the user, the one that needs attention first.
async fn home_page<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    signed_in: &SignedIn,
    query: PeriodQuery,
    new_name: String,
    error: Option<&'static str>,
) -> Result<HomePage, WebError> {
    use crate::overview::{TileSpec, tile};
    let t = lang.texts();
    let query = query.or_last_7_days();
    let trend_query = PeriodQuery {
        preset: Some("90d".into()),
        ..PeriodQuery::default()
    };
    let mut workspaces = Vec::new();
    let mut form = None;
    for (workspace, membership) in state.store.memberships_of(signed_in.user.id).await? {
        let filter = Default::default();
        let (report, _) = data::report(state, &workspace, &query, &filter, &[]).await?;
        if form.is_none() {
            // The period is the same for every workspace; filters are a workspace's own.
            let mut period_form = crate::overview::PeriodForm::new(
                "/".into(),
                &query,
                &report,
                &report,
                &filter,
                servicemeter_core::access::Role::Viewer,
                lang,
            );
            period_form.filters.clear();
            form = Some((period_form, crate::overview::compared_word(&report, lang)));
        }
        let spec = |figure, label: &'static str| TileSpec {
            label,
            figure,
            detail: String::new(),
        };
        let tiles: Vec<_> = [
            spec(Figure::Conversations, t.conversations),
            spec(Figure::FirstResponseWithinTarget, t.within_target_title),
            spec(Figure::FirstResponseMedian, t.first_response),
            spec(Figure::ResolutionRate, t.resolution_rate),
            spec(Figure::Csat, t.csat),
        ]
        .into_iter()
        .map(|s| tile(s, &report, lang, None))
        .collect();
        let checked: Vec<bool> = [
            Figure::FirstResponseMedian,
            Figure::ResolutionRate,
            Figure::Csat,
        ]
        .iter()
        .filter_map(|f| f.target(&report.targets).and_then(|s| s.met))
        .collect();
        let missed = checked.iter().filter(|met| !**met).count();
        let worse = tiles.iter().filter(|tile| tile.trend == "worse").count();
        let attention = match missed {
            _ if checked.is_empty() => String::new(),
            0 => t.all_targets_met.to_string(),
            1 => format!("1 {}", t.target_missed_one),
            n => format!("{n} {}", t.targets_missed),
        };
        let (trend_report, _) = data::report(
            state,
            &workspace,
            &trend_query,
            &filter,
            &[servicemeter_core::report::GroupBy::Week],
        )
        .await?;
        let points: Vec<(Option<f64>, String)> =
            crate::overview::series(&trend_report, crate::overview::Grain::Week)
                .into_iter()
                .map(|(week, summary)| {
                    let value = summary.and_then(|s| Figure::FirstResponseWithinTarget.value(s));
                    let answered = summary.map_or(0, |s| s.first_response.count);
                    let tip = format!("{week}: {} (n={answered})", format::pct(value, lang));
                    (value, tip)
                })
                .collect();
        let trend_svg =
            servicemeter_report::svg::sparkline(t.within_target_weekly, &points, 100.0, None);
        workspaces.push(WorkspaceCard {
            name: workspace.name,
            role: t.role(membership.role),
            tiles,
            missed,
            worse,
            attention,
            trend_svg,
        });
    }
    // What needs attention first: more missed targets, then more figures that got worse.
    workspaces.sort_by(|a, b| {
        (b.missed, b.worse)
            .cmp(&(a.missed, a.worse))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(HomePage {
        frame: Frame::new(lang, Some(signed_in.user.email.clone())),
        form,
        workspaces,
        can_create: signed_in.user.installation_admin,
        new_name,
        error,
    })
}

#[derive(Deserialize)]
pub struct NewWorkspaceForm {
    name: String,
}

/// An installation administrator creates a workspace (and becomes its administrator).
pub async fn create_workspace<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Form(form): Form<NewWorkspaceForm>,
) -> Result<Response, WebError> {
    if !signed_in.user.installation_admin {
        return Err(WebError::Forbidden);
    }
    let name = form.name.trim().to_string();
    let problem = if workspace_name_problem(&name).is_some() {
        Some(lang.texts().workspace_name_invalid)
    } else {
        match state
            .store
            .create_workspace_with_admin(&name, signed_in.user.id, state.now_millis())
            .await
        {
            Ok(_) => None,
            Err(servicemeter_store::StoreError::Conflict(_)) => Some(lang.texts().workspace_taken),
            Err(e) => return Err(e.into()),
        }
    };
    if let Some(problem) = problem {
        let page = home_page(
            &state,
            lang,
            &signed_in,
            PeriodQuery::default(),
            name,
            Some(problem),
        )
        .await?;
        return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
    }
    tracing::info!(workspace = %name, user = %signed_in.user.email, "workspace created");
    Ok(Redirect::to(&format!("/w/{name}")).into_response())
}
