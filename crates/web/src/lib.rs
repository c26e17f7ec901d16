//! The server: dashboard pages, accounts and workspaces, the JSON API and live intake, over
//! any store that implements [`Store`] and [`Accounts`].

pub mod alert_mail;
pub mod api;
pub mod auth;
pub mod conversations;
pub mod data;
pub mod document;
pub mod error;
pub mod error_page;
pub mod feedback;
pub mod follow_ups;
pub mod format;
pub mod guard;
pub mod i18n;
pub mod intake;
pub mod limiter;
pub mod live;
pub mod mail;
pub mod metrics;
pub mod overview;
pub mod pages;
pub mod report_mail;
pub mod reports_page;
pub mod session_store;
pub mod settings;
pub mod share;
pub mod signed;
pub mod state;
pub mod survey_api;
pub mod survey_link;
pub mod survey_mail;
pub mod survey_page;
pub mod survey_settings;
pub mod table;
pub mod views;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use servicemeter_store::jobs::Worker;
use servicemeter_store::{Accounts, Store};
use tokio::net::TcpListener;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::error::{WebError, json_errors};
use crate::error_page::html_errors;
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
    /// Sign-in attempts allowed in a burst per account (from any address), then one per
    /// `account_refill`.
    pub account_burst: u32,
    pub account_refill: Duration,
    /// Requests to the survey and unsubscribe pages (no sign-in) allowed in a burst per client
    /// address, then one per `survey_refill`.
    pub survey_burst: u32,
    pub survey_refill: Duration,
    /// The address people use to reach the server (`https://stats.example.nl`): the origin
    /// that state-changing requests must come from, and the host (besides loopback names) at
    /// which a first-run setup is answered.
    pub public_url: Option<String>,
    /// Reverse proxies (addresses or networks) whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<String>,
    /// Time a client has to send a request's headers (and an idle connection is kept open).
    pub header_timeout: Duration,
    /// Time a client has to send a request's body.
    pub body_timeout: Duration,
    /// How often open dashboards check for new data.
    pub live_interval: Duration,
    /// The data directory of an embedded store: a saved configuration is copied to its file
    /// there (`servicemeter.toml`, `servicemeter.NAME.toml`), so that the file stays true.
    pub config_dir: Option<std::path::PathBuf>,
    /// Whether this process runs background jobs (any number of processes may).
    pub run_jobs: bool,
    /// How often the jobs worker looks for due jobs when nothing wakes it.
    pub jobs_interval: Duration,
    /// The SMTP server survey invitations go through (none: they are not sent, and their jobs
    /// say so).
    pub smtp: Option<mail::SmtpSettings>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secure_cookies: false,
            login_burst: 10,
            login_refill: Duration::from_secs(6),
            account_burst: 10,
            account_refill: Duration::from_secs(30),
            survey_burst: survey_page::SURVEY_BURST,
            survey_refill: survey_page::SURVEY_REFILL,
            public_url: None,
            trusted_proxies: Vec::new(),
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            live_interval: Duration::from_secs(2),
            config_dir: None,
            run_jobs: true,
            jobs_interval: Duration::from_secs(5),
            smtp: None,
        }
    }
}

/// Largest form body of the pages (bytes).
pub const MAX_FORM_BYTES: usize = 256 * 1024;

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
        .route(
            "/workspaces/{workspace}/conversations/{id}/survey-link",
            get(conversations::survey_link_api::<S>),
        )
        .route(
            "/workspaces/{workspace}/surveys",
            get(survey_api::get::<S>).put(survey_api::put::<S>),
        )
        .route("/records", post(api::records::<S>))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(intake::MAX_BODY_BYTES))
        .layer(middleware::map_response(json_errors));

    let pages = Router::new()
        .route("/", get(pages::home::<S>))
        .route("/workspaces", post(pages::create_workspace::<S>))
        .route(
            "/login",
            get(pages::login_page::<S>).post(pages::login::<S>),
        )
        .route("/logout", post(pages::logout))
        .route(
            "/setup",
            get(pages::setup_page::<S>).post(pages::setup::<S>),
        )
        .route("/lang", post(pages::set_lang::<S>))
        .merge(
            Router::new()
                .route(
                    "/s/{workspace}/{token}",
                    get(survey_page::show::<S>).post(survey_page::answer::<S>),
                )
                .route(
                    "/u/{workspace}/{token}",
                    get(survey_mail::unsubscribe_form::<S>).post(survey_mail::unsubscribe::<S>),
                )
                .route("/share/{workspace}/{token}", get(share::show::<S>))
                .route(
                    "/ru/{workspace}/{token}",
                    get(report_mail::unsubscribe_form::<S>).post(report_mail::unsubscribe::<S>),
                )
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    survey_page::limit::<S>,
                )),
        )
        .route("/w/{workspace}", get(overview::overview::<S>))
        .route("/w/{workspace}/live", get(live::events::<S>))
        .route("/w/{workspace}/agents/{agent}", get(overview::agent::<S>))
        .route("/w/{workspace}/teams/{team}", get(overview::team::<S>))
        .route("/w/{workspace}/export/{table}", get(overview::export::<S>))
        .route("/w/{workspace}/feedback", get(feedback::page::<S>))
        .route(
            "/w/{workspace}/follow-ups",
            get(follow_ups::page::<S>).post(follow_ups::save::<S>),
        )
        .route("/w/{workspace}/views", post(views::save::<S>))
        .route("/w/{workspace}/views/delete", post(views::delete::<S>))
        .route("/w/{workspace}/settings", get(settings::show::<S>))
        .route("/w/{workspace}/settings/shares", post(share::save::<S>))
        .route(
            "/w/{workspace}/reports",
            get(reports_page::show::<S>).post(reports_page::save::<S>),
        )
        .route(
            "/w/{workspace}/reports/{report}/preview",
            get(reports_page::preview::<S>),
        )
        .route(
            "/w/{workspace}/reports/{report}/send",
            post(reports_page::send_now::<S>),
        )
        .route(
            "/w/{workspace}/reports/{report}/delete",
            post(reports_page::delete::<S>),
        )
        .route(
            "/w/{workspace}/reports/archive/{id}",
            get(reports_page::archived::<S>),
        )
        .route(
            "/w/{workspace}/reports/archive/{id}/resend",
            post(reports_page::resend::<S>),
        )
        .route(
            "/w/{workspace}/reports/archive/{id}/{file}",
            get(reports_page::archived_named::<S>),
        )
        .route(
            "/w/{workspace}/settings/hours",
            post(settings::save_hours::<S>),
        )
        .route(
            "/w/{workspace}/settings/holidays",
            post(settings::save_holidays::<S>),
        )
        .route(
            "/w/{workspace}/settings/surveys",
            post(survey_settings::save_surveys::<S>),
        )
        .route(
            "/w/{workspace}/settings/mail",
            post(survey_settings::save_mail::<S>),
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
            "/w/{workspace}/settings/jobs",
            post(settings::retry_job::<S>),
        )
        .route(
            "/w/{workspace}/settings/sync",
            post(settings::save_sync::<S>),
        )
        .route(
            "/w/{workspace}/settings/sync/remove",
            post(settings::remove_sync::<S>),
        )
        .route(
            "/w/{workspace}/settings/erase",
            post(settings::erase_customer::<S>),
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
        // Forms are small; a settings page's TOML is the largest.
        .layer(DefaultBodyLimit::max(MAX_FORM_BYTES))
        .layer(middleware::from_fn(html_errors));

    let hooks = Router::new()
        .route("/{workspace}/records", post(webhooks::records::<S>))
        .route(
            "/{workspace}/chatwoot/{token}",
            post(webhooks::chatwoot::<S>),
        )
        .layer(DefaultBodyLimit::max(webhooks::MAX_BODY_BYTES))
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
        .layer(middleware::from_fn_with_state(
            state.site.clone(),
            guard::refuse_cross_site,
        ))
        .layer(sessions)
        .layer(middleware::from_fn(guard::security_headers))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            config.body_timeout,
        ))
        .with_state(state)
}

/// A bound server, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    purge_sessions: Box<dyn Fn() -> futures_util::future::BoxFuture<'static, ()> + Send + Sync>,
    /// The background-jobs worker, when this process runs one, and how to stop it.
    worker: Option<futures_util::future::BoxFuture<'static, ()>>,
    stop_worker: Arc<tokio::sync::Notify>,
}

/// How often expired sessions are deleted from the store.
const SESSION_PURGE_INTERVAL: Duration = Duration::from_secs(3600);

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
        let site = guard::Site {
            public: config
                .public_url
                .as_deref()
                .map(guard::PublicOrigin::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--public-url: {e}"))?,
            https: config.secure_cookies,
            proxies: config
                .trusted_proxies
                .iter()
                .map(|p| guard::Network::parse(p))
                .collect::<Result<_, _>>()
                .map_err(|e| anyhow::anyhow!("--trusted-proxy: {e}"))?,
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
        let mut state = AppState::new(store.clone(), clock.clone());
        state.live_interval = config.live_interval;
        state.config_dir = config.config_dir.clone();
        state.site = Arc::new(site);
        state.login_by_address = Arc::new(limiter::Limiter::new(
            config.login_burst,
            config.login_refill,
            100_000,
        ));
        state.login_by_account = Arc::new(limiter::Limiter::new(
            config.account_burst,
            config.account_refill,
            100_000,
        ));
        state.installation_smtp = config.smtp.clone().map(Arc::new);
        state.survey_by_address = Arc::new(limiter::Limiter::new(
            config.survey_burst,
            config.survey_refill,
            100_000,
        ));
        let worker_name = format!(
            "serve-{}-{}",
            std::process::id(),
            auth::random_hex(4).map_err(|e| anyhow::anyhow!("{e}"))?
        );
        let worker_clock = clock.clone();
        let mut worker = Worker::new(
            store.clone(),
            worker_name,
            Arc::new(move || worker_clock().as_millisecond()),
        );
        servicemeter_sync::run::register(&mut worker, Default::default());
        let mail_clock = clock.clone();
        register_mail_jobs(
            &mut worker,
            survey_mail::Sending {
                smtp: config.smtp.clone(),
                public_url: config.public_url.clone(),
            },
            Arc::new(move || mail_clock().as_millisecond()),
        );
        worker.interval = config.jobs_interval;
        state.jobs_progress = worker.progress();
        state.jobs_wake = worker.waker();
        let stop_worker = Arc::new(tokio::sync::Notify::new());
        let worker = config.run_jobs.then(|| {
            let stop = stop_worker.clone();
            Box::pin(worker.run(async move { stop.notified().await }))
                as futures_util::future::BoxFuture<'static, ()>
        });
        let purge_sessions = Box::new(move || {
            let store = store.clone();
            let now = clock().as_second();
            Box::pin(async move {
                match store.delete_expired_sessions(now).await {
                    Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions deleted"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "expired sessions not deleted"),
                }
            }) as futures_util::future::BoxFuture<'static, ()>
        });
        Ok(Application {
            listener,
            router: router(state, &config),
            header_timeout: config.header_timeout,
            purge_sessions,
            worker,
            stop_worker,
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener")
    }

    /// Serves until `shutdown` completes, then lets open requests finish (at most 10 s).
    /// Every connection must send a request's headers within the header timeout, which also
    /// ends idle keep-alive connections; a request's body must come within the body timeout.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        use hyper_util::rt::{TokioIo, TokioTimer};
        use hyper_util::service::TowerToHyperService;
        use tower::ServiceExt;

        let Application {
            listener,
            router,
            header_timeout,
            purge_sessions,
            worker,
            stop_worker,
        } = self;
        let worker = worker.map(tokio::spawn);
        let purge = tokio::spawn(async move {
            let mut every = tokio::time::interval(SESSION_PURGE_INTERVAL);
            loop {
                every.tick().await;
                purge_sessions().await;
            }
        });
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        // HTTP/1 only (all the server speaks): its header timer runs from the moment a
        // connection is open, so one that sends nothing at all is closed too.
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .keep_alive(true);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (stream, remote) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: wait a moment, go on.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
                () = &mut shutdown => break,
            };
            let service = router.clone().map_request(
                move |mut request: axum::http::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(remote));
                    request.map(axum::body::Body::new)
                },
            );
            let connection =
                builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            let connection = graceful.watch(connection);
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
            });
        }
        purge.abort();
        drop(listener);
        if let Some(worker) = worker {
            // A job still running is abandoned after 10 s: its transaction rolls back and its
            // lease runs out, so another worker (or the next start) runs it again.
            stop_worker.notify_one();
            if tokio::time::timeout(Duration::from_secs(10), worker)
                .await
                .is_err()
            {
                tracing::warn!("a background job was still running; it will run again");
            }
        }
        if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("requests still open after 10 s; stopping anyway");
        }
        Ok(())
    }
}

/// Runs the jobs that send mail and messages on `worker` (the server's, and `servicemeter jobs
/// run`): survey invitations, report copies and alerts.
pub fn register_mail_jobs<S: servicemeter_store::Store + servicemeter_store::Accounts + 'static>(
    worker: &mut servicemeter_store::jobs::Worker<S>,
    sending: survey_mail::Sending,
    clock: Arc<dyn Fn() -> i64 + Send + Sync>,
) {
    survey_mail::register(worker, sending.clone(), clock.clone());
    report_mail::register(worker, sending.clone(), clock.clone());
    alert_mail::register(worker, sending, clock);
}
