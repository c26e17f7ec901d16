//! `servicemeter sync SOURCE`: one run now ([`servicemeter_sync::run`]), or with `--every` /
//! `--unschedule` the server's scheduled sync of the account is set or stopped.

use anyhow::{Result, anyhow, bail};
use servicemeter_core::Calendars;
use servicemeter_store::Store;
use servicemeter_sync::client::RetryPolicy;
use servicemeter_sync::run::{Account, RunEvent, checked_account};

use crate::cli::{GlobalArgs, SyncArgs};

/// Who is acting from the command line, for the audit log.
pub(crate) fn command_line_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("command line (system user {user})")
}

/// The scheduled account of `source` from the environment variables a run reads.
fn account_from_env(source: &str, every: u32) -> Result<servicemeter_store::SyncAccount> {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let (url, login, secret) = match source {
        servicemeter_sync::zendesk::SOURCE => (
            var("ZENDESK_URL"),
            var("ZENDESK_EMAIL"),
            var("ZENDESK_API_TOKEN"),
        ),
        servicemeter_sync::freshdesk::SOURCE => (
            var("FRESHDESK_URL"),
            String::new(),
            var("FRESHDESK_API_KEY"),
        ),
        _ => (String::new(), String::new(), String::new()),
    };
    checked_account(
        source,
        &url,
        &login,
        &secret,
        every,
        jiff::Timestamp::now().as_millisecond(),
    )
    .map_err(|e| {
        anyhow!(
            "scheduled sync of {source}: {e} (read from the environment, see docs/importers.md)"
        )
    })
}

pub async fn sync(global: &GlobalArgs, args: SyncArgs) -> Result<()> {
    if let Some(every) = args.every {
        let account = account_from_env(&args.source, every)?;
        let opened = crate::app::open_store(global, crate::app::Access::Write).await?;
        opened
            .store
            .set_sync_account(opened.workspace.id, &account, &command_line_actor())
            .await?;
        opened.store.close().await?;
        println!(
            "scheduled: the server syncs {} ({}) every {every} minutes, the first time at once (servicemeter jobs run does it without a server)",
            account.source, account.url
        );
        return Ok(());
    }
    if args.unschedule {
        let opened = crate::app::open_store(global, crate::app::Access::Write).await?;
        let removed = opened
            .store
            .remove_sync_account(
                opened.workspace.id,
                &args.source,
                &command_line_actor(),
                jiff::Timestamp::now().as_millisecond(),
            )
            .await?;
        opened.store.close().await?;
        if !removed {
            bail!(
                "{} is not synced on a schedule in this workspace",
                args.source
            );
        }
        println!("{} is no longer synced on a schedule", args.source);
        return Ok(());
    }
    let retry = RetryPolicy {
        max_attempts: args.attempts.max(1),
        base_delay: std::time::Duration::from_secs_f64(args.retry_delay.max(0.0)),
        ..RetryPolicy::default()
    };
    let account = Account::from_env(&args.source, retry)
        .map_err(|e| anyhow!("{e}"))?
        .with_page_size(args.page_size);
    let source = account.source();
    let opened = crate::app::open_store(global, crate::app::Access::Write).await?;
    let calendars = std::sync::Arc::new(Calendars::new(opened.config.clone()));
    let workspace = opened.workspace.id;
    let mut on_event = |event: RunEvent<'_>| match event {
        RunEvent::Warning(text) => eprintln!("warning: {text}"),
        RunEvent::Stored {
            batch,
            tickets,
            records,
        } => eprintln!("batch {batch}: {tickets} tickets, {records} records stored"),
    };
    let totals =
        servicemeter_sync::run::run(&opened.store, workspace, calendars, &account, &mut on_event)
            .await?;
    let counts = opened.store.counts(workspace).await?;
    opened.store.close().await?;
    println!(
        "synced {source}: {} changed tickets in {} batches, {} records; the workspace holds {} conversations",
        totals.tickets, totals.batches, totals.records, counts.conversations
    );
    Ok(())
}
