//! One sync run of a helpdesk account into a workspace, shared by `servicemeter sync` and the
//! scheduled `sync` job: batches are fetched after the stored cursor, translated like an
//! export and stored each in one transaction together with the cursor after it, so a crash or
//! an error loses nothing and the next run resumes where the last stored batch ended
//! (re-fetching a batch changes nothing: imports are idempotent).

use std::sync::Arc;

use servicemeter_core::Calendars;
use servicemeter_import::sources::json_pages::Page;
use servicemeter_import::sources::{
    SourceError, SourceOptions, Translated, freshdesk as freshdesk_source,
    zendesk as zendesk_source,
};
use servicemeter_store::jobs::{Job, JobProgress, Worker};
use servicemeter_store::{ImportRun, Store, StoreError, SyncAccount, WorkspaceId};

use crate::client::{RetryPolicy, account_origin};
use crate::{SyncError, freshdesk, zendesk};

/// Sources that can be synced.
pub const SOURCES: [&str; 2] = [zendesk::SOURCE, freshdesk::SOURCE];

/// Bounds of a scheduled sync's interval, in minutes.
pub const EVERY_MINUTES: std::ops::RangeInclusive<u32> = 15..=1440;

/// Longest account address, login and secret accepted.
const MAX_URL: usize = 300;
const MAX_LOGIN: usize = 254;
const MAX_SECRET: usize = 512;

/// A helpdesk account's client, whatever the source.
pub enum Account {
    Zendesk(zendesk::Zendesk),
    Freshdesk(freshdesk::Freshdesk),
}

/// One fetched batch.
struct Batch {
    pages: Vec<Page>,
    tickets: usize,
    cursor: String,
    done: bool,
}

/// What a run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTotals {
    pub batches: u64,
    pub tickets: u64,
    pub records: u64,
}

/// What a run tells while it goes.
#[derive(Debug)]
pub enum RunEvent<'a> {
    /// A ticket was translated with a warning (it is stored).
    Warning(&'a str),
    /// A batch was stored.
    Stored {
        batch: u64,
        tickets: usize,
        records: u64,
    },
}

/// Why a run stopped; the batches before the failing one are stored.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("sync stopped; the batches before this one are stored: {0}")]
    Fetch(#[from] SyncError),
    #[error("sync stopped; nothing of this batch was stored: {0}")]
    Translate(#[from] SourceError),
    #[error("sync stopped: {0}")]
    Store(#[from] StoreError),
}

fn not_blank(name: &str, value: Option<String>) -> Result<String, SyncError> {
    value
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| SyncError::Credentials(format!("{name} is not set")))
}

impl Account {
    /// The client of `source` from its environment variables (`ZENDESK_URL`, `ZENDESK_EMAIL`,
    /// `ZENDESK_API_TOKEN`; `FRESHDESK_URL`, `FRESHDESK_API_KEY`).
    pub fn from_env(source: &str, retry: RetryPolicy) -> Result<Account, SyncError> {
        let var = |name: &str| not_blank(name, std::env::var(name).ok());
        match source {
            zendesk::SOURCE => Ok(Account::Zendesk(zendesk::Zendesk::new(
                &var("ZENDESK_URL")?,
                &var("ZENDESK_EMAIL")?,
                &var("ZENDESK_API_TOKEN")?,
                retry,
            )?)),
            freshdesk::SOURCE => Ok(Account::Freshdesk(freshdesk::Freshdesk::new(
                &var("FRESHDESK_URL")?,
                &var("FRESHDESK_API_KEY")?,
                retry,
            )?)),
            other => Err(unknown_source(other)),
        }
    }

    /// The client of a stored account.
    pub fn of(account: &SyncAccount, retry: RetryPolicy) -> Result<Account, SyncError> {
        match account.source.as_str() {
            zendesk::SOURCE => Ok(Account::Zendesk(zendesk::Zendesk::new(
                &account.url,
                &account.login,
                &account.secret,
                retry,
            )?)),
            freshdesk::SOURCE => Ok(Account::Freshdesk(freshdesk::Freshdesk::new(
                &account.url,
                &account.secret,
                retry,
            )?)),
            other => Err(unknown_source(other)),
        }
    }

    /// Asks for `n` items per page (Freshdesk; Zendesk's pages have their own size).
    pub fn with_page_size(self, n: usize) -> Account {
        match self {
            Account::Freshdesk(f) => Account::Freshdesk(f.with_page_size(n)),
            other => other,
        }
    }

    pub fn source(&self) -> &'static str {
        match self {
            Account::Zendesk(_) => zendesk::SOURCE,
            Account::Freshdesk(_) => freshdesk::SOURCE,
        }
    }

    async fn next(&self, cursor: Option<&str>, first: bool) -> Result<Batch, SyncError> {
        let now = jiff::Timestamp::now();
        Ok(match self {
            Account::Zendesk(z) => {
                let cursor = cursor.map(zendesk::Cursor::parse).unwrap_or_default();
                let b = z.next_batch(&cursor, first, now.as_second()).await?;
                Batch {
                    pages: b.pages,
                    tickets: b.tickets,
                    cursor: b.cursor.to_text(),
                    done: b.done,
                }
            }
            Account::Freshdesk(f) => {
                let cursor = cursor.map(freshdesk::Cursor::parse).unwrap_or_default();
                let started = servicemeter_core::time::format_utc(now.as_millisecond());
                let b = f.next_batch(&cursor, first, &started).await?;
                Batch {
                    pages: b.pages,
                    tickets: b.tickets,
                    cursor: b.cursor.to_text(),
                    done: b.done,
                }
            }
        })
    }

    /// The batch's records. A ticket that cannot be translated stops the run like an error
    /// (its first failure), so nothing of this batch is stored.
    fn translate(
        &self,
        pages: &[Page],
        on_event: &mut dyn FnMut(RunEvent<'_>),
    ) -> Result<Vec<Translated>, SourceError> {
        // Zendesk and Freshdesk times carry their offset: the time zone is not used.
        let options = SourceOptions::default();
        let translation = match self {
            Account::Zendesk(_) => zendesk_source::translate_pages(pages, &options)?,
            Account::Freshdesk(_) => freshdesk_source::translate_pages(pages, &options)?,
        };
        if let Some(first) = translation.failures.into_iter().next() {
            return Err(first);
        }
        for warning in &translation.warnings {
            on_event(RunEvent::Warning(&warning.to_string()));
        }
        Ok(translation.records)
    }
}

fn unknown_source(source: &str) -> SyncError {
    SyncError::Credentials(format!(
        "'{source}' cannot be synced; use {} (or import exports with import --source)",
        SOURCES.join(" or ")
    ))
}

/// A scheduled account as someone typed it, checked: a known source, an HTTPS address (plain
/// HTTP only on this machine), a login for Zendesk, a secret, an interval within
/// [`EVERY_MINUTES`] and every text within its length. The error names the field.
pub fn checked_account(
    source: &str,
    url: &str,
    login: &str,
    secret: &str,
    every_minutes: u32,
    now: i64,
) -> Result<SyncAccount, String> {
    let source = source.trim();
    if !SOURCES.contains(&source) {
        return Err(format!(
            "source: '{source}' cannot be synced; use {}",
            SOURCES.join(" or ")
        ));
    }
    let url = url.trim().trim_end_matches('/');
    if url.chars().count() > MAX_URL {
        return Err(format!("url: at most {MAX_URL} characters"));
    }
    account_origin(url).map_err(|e| format!("url: {e}"))?;
    let login = login.trim();
    if source == zendesk::SOURCE && !login.contains('@') {
        return Err(
            "login: the e-mail address of the agent who owns the API token is needed".into(),
        );
    }
    if login.chars().count() > MAX_LOGIN {
        return Err(format!("login: at most {MAX_LOGIN} characters"));
    }
    let secret = secret.trim();
    if secret.is_empty() {
        return Err("secret: the API token (Zendesk) or API key (Freshdesk) is needed".into());
    }
    if secret.chars().count() > MAX_SECRET || secret.chars().any(char::is_control) {
        return Err(format!(
            "secret: at most {MAX_SECRET} characters, without line breaks"
        ));
    }
    if !EVERY_MINUTES.contains(&every_minutes) {
        return Err(format!(
            "every: between {} and {} minutes",
            EVERY_MINUTES.start(),
            EVERY_MINUTES.end()
        ));
    }
    Ok(SyncAccount {
        source: source.to_string(),
        url: url.to_string(),
        login: if source == zendesk::SOURCE {
            login.to_string()
        } else {
            String::new()
        },
        secret: secret.to_string(),
        every_minutes,
        created_at: now,
    })
}

/// Syncs `account` into `workspace` until the source has no more changes, telling each stored
/// batch and warning to `on_event`.
pub async fn run<S: Store>(
    store: &S,
    workspace: WorkspaceId,
    calendars: Arc<Calendars>,
    account: &Account,
    on_event: &mut (dyn FnMut(RunEvent<'_>) + Send),
) -> Result<RunTotals, RunError> {
    let source = account.source();
    let mut cursor = store.sync_cursor(workspace, source).await?;
    let mut totals = RunTotals::default();
    loop {
        let batch = account.next(cursor.as_deref(), totals.batches == 0).await?;
        let translated = account.translate(&batch.pages, on_event)?;
        let records = translated
            .iter()
            .map(Translated::parse)
            .collect::<Result<Vec<_>, _>>()?;
        let session = store.begin_import(workspace).await?;
        let mut import = ImportRun::new(
            session,
            calendars.clone(),
            jiff::Timestamp::now().as_millisecond(),
        );
        for record in records {
            import.add(record).await?;
        }
        import.set_sync_cursor(source, &batch.cursor).await?;
        let stored = import.finish(format!("{source} sync")).await?;
        totals.batches += 1;
        totals.tickets += batch.tickets as u64;
        totals.records += stored.records;
        on_event(RunEvent::Stored {
            batch: totals.batches,
            tickets: batch.tickets,
            records: stored.records,
        });
        cursor = Some(batch.cursor);
        if batch.done {
            return Ok(totals);
        }
    }
}

/// Lets `worker` run scheduled `sync` jobs: the job's account is read from the store when it
/// starts (one removed meanwhile is nothing to do) and synced with `retry`.
pub fn register<S: Store + 'static>(worker: &mut Worker<S>, retry: RetryPolicy) {
    worker.handle(
        servicemeter_store::jobs::SYNC,
        Arc::new(move |store: Arc<S>, job: Job, progress: Arc<JobProgress>| {
            let retry = retry.clone();
            Box::pin(async move { scheduled_run(&*store, &job, &progress, retry).await })
        }),
    );
}

async fn scheduled_run<S: Store>(
    store: &S,
    job: &Job,
    progress: &JobProgress,
    retry: RetryPolicy,
) -> Result<(), String> {
    let workspace = job.workspace;
    let accounts = store
        .sync_accounts(workspace)
        .await
        .map_err(|e| e.to_string())?;
    let Some(stored) = accounts.into_iter().find(|a| a.source == job.payload) else {
        tracing::info!(workspace = workspace.0, source = %job.payload, "sync no longer scheduled");
        return Ok(());
    };
    let config = store
        .workspaces()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|w| w.id == workspace)
        .and_then(|w| w.config_toml);
    let config = match config {
        Some(text) => servicemeter_core::WorkspaceConfig::from_toml(&text)
            .map_err(|e| format!("the workspace's configuration: {e}"))?,
        None => servicemeter_core::WorkspaceConfig::default(),
    };
    let calendars = Arc::new(Calendars::new(config));
    let account = Account::of(&stored, retry).map_err(|e| e.to_string())?;
    let mut on_event = |event: RunEvent<'_>| match event {
        RunEvent::Warning(text) => {
            tracing::warn!(workspace = workspace.0, source = %stored.source, warning = text, "sync");
        }
        RunEvent::Stored { records, .. } => {
            progress
                .done
                .fetch_add(records, std::sync::atomic::Ordering::Relaxed);
        }
    };
    let totals = run(store, workspace, calendars, &account, &mut on_event)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        workspace = workspace.0,
        source = %stored.source,
        batches = totals.batches,
        tickets = totals.tickets,
        records = totals.records,
        "sync done"
    );
    Ok(())
}
