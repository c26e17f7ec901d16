//! `servicemeter sync SOURCE`: fetches changes batch by batch; each batch is translated like an
//! export, stored in one transaction together with the cursor after it, so a crash or an error
//! loses nothing and a new run resumes where the last stored batch ended (re-fetching a batch
//! changes nothing: imports are idempotent).

use anyhow::{Context, Result, anyhow, bail};
use servicemeter_core::Calendars;
use servicemeter_import::sources::zendesk as zendesk_source;
use servicemeter_store::{ImportRun, Store};
use servicemeter_sync::client::RetryPolicy;
use servicemeter_sync::zendesk::{self, Cursor, Zendesk};

use crate::cli::{GlobalArgs, SyncArgs};

pub async fn sync(global: &GlobalArgs, args: SyncArgs) -> Result<()> {
    if args.source != zendesk::SOURCE {
        bail!(
            "'{}' cannot be synced yet; use zendesk (or import exports with import --source)",
            args.source
        );
    }
    let retry = RetryPolicy {
        max_attempts: args.attempts.max(1),
        base_delay: std::time::Duration::from_secs_f64(args.retry_delay.max(0.0)),
        ..RetryPolicy::default()
    };
    let account = Zendesk::from_env(retry).map_err(|e| anyhow!("{e}"))?;
    let opened = crate::app::open_store(global).await?;
    let calendars = Calendars::new(opened.config.clone());
    let workspace = opened.workspace.id;
    let mut cursor = opened
        .store
        .sync_cursor(workspace, zendesk::SOURCE)
        .await?
        .map(|c| Cursor::parse(&c))
        .unwrap_or_default();
    let run_started = jiff::Timestamp::now().as_second();
    let (mut batches, mut tickets, mut records) = (0u64, 0usize, 0u64);
    loop {
        let batch = account
            .next_batch(&cursor, batches == 0, run_started)
            .await
            .context("sync stopped; the batches before this one are stored")?;
        let translated = zendesk_source::translate_pages(&batch.pages)
            .context("sync stopped; the batches before this one are stored")?;
        let session = opened.store.begin_import(workspace).await?;
        let mut run = ImportRun::new(session, &calendars, jiff::Timestamp::now().as_millisecond());
        for t in &translated {
            let record = t
                .parse()
                .context("sync stopped; nothing of this batch was stored")?;
            run.add(record).await?;
        }
        run.set_sync_cursor(zendesk::SOURCE, &batch.cursor.to_text())
            .await?;
        let totals = run.finish("zendesk sync".into()).await?;
        batches += 1;
        tickets += batch.tickets;
        records += totals.records;
        eprintln!(
            "batch {batches}: {} tickets, {} records stored",
            batch.tickets, totals.records
        );
        cursor = batch.cursor;
        if batch.done {
            break;
        }
    }
    let counts = opened.store.counts(workspace).await?;
    opened.store.close().await?;
    println!(
        "synced zendesk: {tickets} changed tickets in {batches} batches, {records} records; the workspace holds {} conversations",
        counts.conversations
    );
    Ok(())
}
