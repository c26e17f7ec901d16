//! `servicemeter sync SOURCE`: fetches changes batch by batch; each batch is translated like an
//! export, stored in one transaction together with the cursor after it, so a crash or an error
//! loses nothing and a new run resumes where the last stored batch ended (re-fetching a batch
//! changes nothing: imports are idempotent).

use anyhow::{Context, Result, anyhow, bail};
use servicemeter_core::Calendars;
use servicemeter_import::sources::json_pages::Page;
use servicemeter_import::sources::{
    SourceError, SourceOptions, Translated, freshdesk as freshdesk_source,
    zendesk as zendesk_source,
};
use servicemeter_store::{ImportRun, Store};
use servicemeter_sync::client::RetryPolicy;
use servicemeter_sync::{freshdesk, zendesk};

use crate::cli::{GlobalArgs, SyncArgs};

/// One fetched batch, whatever the source.
struct Batch {
    pages: Vec<Page>,
    tickets: usize,
    cursor: String,
    done: bool,
}

enum Account {
    Zendesk(zendesk::Zendesk),
    Freshdesk(freshdesk::Freshdesk),
}

impl Account {
    fn source(&self) -> &'static str {
        match self {
            Account::Zendesk(_) => zendesk::SOURCE,
            Account::Freshdesk(_) => freshdesk::SOURCE,
        }
    }

    async fn next(
        &self,
        cursor: Option<&str>,
        first: bool,
    ) -> Result<Batch, servicemeter_sync::SyncError> {
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

    /// The batch's records. A ticket that cannot be translated stops the sync like an error
    /// (its first failure), so nothing of this batch is stored; warnings are printed.
    fn translate(&self, pages: &[Page]) -> Result<Vec<Translated>, SourceError> {
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
            eprintln!("warning: {warning}");
        }
        Ok(translation.records)
    }
}

pub async fn sync(global: &GlobalArgs, args: SyncArgs) -> Result<()> {
    let retry = RetryPolicy {
        max_attempts: args.attempts.max(1),
        base_delay: std::time::Duration::from_secs_f64(args.retry_delay.max(0.0)),
        ..RetryPolicy::default()
    };
    let account = match args.source.as_str() {
        "zendesk" => {
            Account::Zendesk(zendesk::Zendesk::from_env(retry).map_err(|e| anyhow!("{e}"))?)
        }
        "freshdesk" => Account::Freshdesk(
            freshdesk::Freshdesk::from_env(retry)
                .map_err(|e| anyhow!("{e}"))?
                .with_page_size(args.page_size),
        ),
        other => bail!(
            "'{other}' cannot be synced; use zendesk or freshdesk (or import exports with import --source)"
        ),
    };
    let source = account.source();
    let opened = crate::app::open_store(global, crate::app::Access::Write).await?;
    let calendars = std::sync::Arc::new(Calendars::new(opened.config.clone()));
    let workspace = opened.workspace.id;
    let mut cursor = opened.store.sync_cursor(workspace, source).await?;
    let (mut batches, mut tickets, mut records) = (0u64, 0usize, 0u64);
    loop {
        let batch = account
            .next(cursor.as_deref(), batches == 0)
            .await
            .context("sync stopped; the batches before this one are stored")?;
        let translated = account
            .translate(&batch.pages)
            .context("sync stopped; the batches before this one are stored")?;
        let session = opened.store.begin_import(workspace).await?;
        let mut run = ImportRun::new(
            session,
            calendars.clone(),
            jiff::Timestamp::now().as_millisecond(),
        );
        for t in &translated {
            let record = t
                .parse()
                .context("sync stopped; nothing of this batch was stored")?;
            run.add(record).await?;
        }
        run.set_sync_cursor(source, &batch.cursor).await?;
        let totals = run.finish(format!("{source} sync")).await?;
        batches += 1;
        tickets += batch.tickets;
        records += totals.records;
        eprintln!(
            "batch {batches}: {} tickets, {} records stored",
            batch.tickets, totals.records
        );
        cursor = Some(batch.cursor);
        if batch.done {
            break;
        }
    }
    let counts = opened.store.counts(workspace).await?;
    opened.store.close().await?;
    println!(
        "synced {source}: {tickets} changed tickets in {batches} batches, {records} records; the workspace holds {} conversations",
        counts.conversations
    );
    Ok(())
}
