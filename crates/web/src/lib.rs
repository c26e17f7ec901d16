//! The server: dashboard pages, accounts and workspaces, the JSON API and live intake, over
//! any store that implements [`Store`] and [`Accounts`].

pub mod api;
pub mod auth;
pub mod conversations;
pub mod data;
pub mod error;
pub mod format;
pub mod i18n;
pub mod intake;
pub mod live;
pub mod metrics;
pub mod overview;
pub mod pages;
pub mod session_store;
pub mod settings;
pub mod state;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use servicemeter_store::{Accounts, Store};
use tokio::net::TcpListener;
use tower_governor::GovernorLayer;
use tower_governor::governor::GovernorConfigBuilder;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::error::{WebError, html_errors, json_errors};
use crate::session_store::StoreSessions;
use crate::state::{AppState, Clock};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Mark the session cookie `Secure` (set when users reach the server over HTTPS, e.g.
    /// behind a TLS-terminating proxy).
    pub secure_cookies: bool,
    /// Sign-in attempts allowed in a burst per client address, then one per `login_refill`.
    pub login_burst: u32,
    pub login_refill: Duration,
    /// How often open dashboards check for new data.
    pub live_interval: Duration,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            login_burst: 10,
            login_refill: Duration::from_secs(6),
            live_interval: Duration::from_secs(2),
        }
    }
}

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "servicemeter_session";

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/style.css"),
    )
}

async fn live_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/live.js"),
    )
}

/// The OpenAPI document of the API (`static/openapi.json`).
pub const OPENAPI_JSON: &str = include_str!("../static/openapi.json");

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../static/icon.svg"),
    )
}

async fn healthz() -> &'static str {
    "ok"
}

async fn not_found() -> WebError {
    WebError::NotFound
}

/// Every route, over a store.
pub fn router<S>(state: AppState<S>, config: &ServerConfig) -> Router
where
    S: Store + Accounts + 'static,
{
    let sessions = SessionManagerLayer::new(StoreSessions::new(state.store.clone()))
        .with_name(SESSION_COOKIE)
        .with_secure(config.secure_cookies)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_expiry(Expiry::OnInactivity(time::Duration::days(7)));
    let login_limit = GovernorConfigBuilder::default()
        .period(config.login_refill)
        .burst_size(config.login_burst)
        .finish()
        .expect("valid rate limit");
    let login_limit = GovernorLayer::new(login_limit)
        .error_handler(|_| WebError::TooManyRequests.into_response());

    let api = Router::new()
        .route("/openapi.json", get(openapi))
        .route("/workspaces", get(api::workspaces::<S>))
        .route("/workspaces/{workspace}/report", get(api::report::<S>))
        .route("/workspaces/{workspace}/facts", get(api::facts::<S>))
        .route(
            "/workspaces/{workspace}/conversations",
            get(conversations::list_api::<S>),
        )
        .route(
            "/workspaces/{workspace}/conversations/{id}",
            get(conversations::detail_api::<S>),
        )
        .route("/records", post(api::records::<S>))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(intake::MAX_BODY_BYTES))
        .layer(middleware::map_response(json_errors));

    let pages = Router::new()
        .route("/", get(pages::home::<S>))
        .route(
            "/login",
            get(pages::login_page::<S>).post(pages::login::<S>.layer(login_limit)),
        )
        .route("/logout", post(pages::logout))
        .route(
            "/setup",
            get(pages::setup_page::<S>).post(pages::setup::<S>),
        )
        .route("/lang", post(pages::set_lang))
        .route("/w/{workspace}", get(overview::overview::<S>))
        .route("/w/{workspace}/live", get(live::events::<S>))
        .route("/w/{workspace}/agents/{agent}", get(overview::agent::<S>))
        .route("/w/{workspace}/settings", get(settings::show::<S>))
        .route(
            "/w/{workspace}/settings/hours",
            post(settings::save_hours::<S>),
        )
        .route(
            "/w/{workspace}/settings/holidays",
            post(settings::save_holidays::<S>),
        )
        .route(
            "/w/{workspace}/settings/targets",
            post(settings::save_targets::<S>),
        )
        .route(
            "/w/{workspace}/settings/agents",
            post(settings::save_agents::<S>),
        )
        .route(
            "/w/{workspace}/settings/config",
            post(settings::save_toml::<S>),
        )
        .route(
            "/w/{workspace}/settings/members",
            post(settings::save_member::<S>),
        )
        .route(
            "/w/{workspace}/settings/tokens",
            post(settings::save_token::<S>),
        )
        .route(
            "/w/{workspace}/settings/webhook",
            post(settings::rotate_webhook_secret::<S>),
        )
        .route(
            "/w/{workspace}/conversations",
            get(conversations::list_page::<S>),
        )
        .route(
            "/w/{workspace}/conversations/{id}",
            get(conversations::detail_page::<S>),
        )
        .fallback(not_found)
        .layer(middleware::map_response(html_errors));

    let hooks = Router::new()
        .route("/{workspace}/records", post(webhooks::records::<S>))
        .route(
            "/{workspace}/chatwoot/{token}",
            post(webhooks::chatwoot::<S>),
        )
        .layer(DefaultBodyLimit::max(intake::MAX_BODY_BYTES))
        .layer(middleware::map_response(json_errors));

    let metrics = state.metrics.clone();
    Router::new()
        .nest("/api/v1", api)
        .nest("/hooks", hooks)
        .merge(pages)
        .route("/healthz", get(healthz))
        .route("/static/style.css", get(stylesheet))
        .route("/static/live.js", get(live_script))
        .route("/static/icon.svg", get(icon))
        .route("/favicon.ico", get(icon))
        .route(
            "/metrics",
            get(metrics::exposition).with_state(metrics.clone()),
        )
        .route_layer(middleware::from_fn_with_state(
            metrics,
            metrics::count_requests,
        ))
        .layer(middleware::from_fn(auth::refuse_cross_site))
        .layer(sessions)
        .with_state(state)
}

/// A bound server, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the address of the configuration (port 0: any free port).
    pub async fn build<S>(
        config: ServerConfig,
        store: Arc<S>,
        clock: Clock,
    ) -> anyhow::Result<Application>
    where
        S: Store + Accounts + 'static,
    {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let mut state = AppState::new(store, clock);
        state.live_interval = config.live_interval;
        Ok(Application {
            listener,
            router: router(state, &config),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until `shutdown` completes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        Ok(())
    }
}
