//! The data's life cycle: `backup` and `restore` of the embedded store, `erase-customer` (right
//! to erasure), `retention`, the `audit` log, and the `surveys` sent to customers.

use std::io::Write;

use anyhow::{Result, anyhow, bail};
use servicemeter_core::access::workspace_name_problem;
use servicemeter_store::{Location, Store, check_backup, restore_sqlite};

use crate::app::open_storage;
use crate::cli::{
    AuditArgs, BackupArgs, EraseCustomerArgs, GlobalArgs, RestoreArgs, SurveysCommand,
};
use crate::server::existing_workspace;
use crate::sync::command_line_actor;

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `servicemeter backup FILE`.
pub async fn backup(global: &GlobalArgs, args: BackupArgs) -> Result<()> {
    if let Location::Postgres(_) = global.location()? {
        bail!(
            "backup copies the embedded store; for PostgreSQL use pg_dump --format=custom (see docs/scaling.md)"
        );
    }
    if !global
        .data_dir
        .join(servicemeter_store::DATABASE_FILE)
        .exists()
    {
        bail!(
            "there is no store in {} to back up",
            global.data_dir.display()
        );
    }
    let store = open_storage(global).await?;
    store
        .backup(&args.file)
        .await
        .map_err(|e| anyhow!("backup to {}: {e}", args.file.display()))?;
    store.close().await?;
    let summary = check_backup(&args.file).await?;
    println!(
        "backed up {} workspaces with {} conversations to {}",
        summary.workspaces,
        summary.conversations,
        args.file.display()
    );
    Ok(())
}

/// `servicemeter restore FILE [--replace]`.
pub async fn restore(global: &GlobalArgs, args: RestoreArgs) -> Result<()> {
    if let Location::Postgres(_) = global.location()? {
        bail!(
            "restore puts a backup of the embedded store in place; for PostgreSQL use pg_restore"
        );
    }
    let summary = restore_sqlite(&args.file, &global.data_dir, args.replace).await?;
    // Opening applies this build's newer migrations, if any, and checks the result.
    let store = open_storage(global).await?;
    store.close().await?;
    println!(
        "restored {} workspaces with {} conversations from {} into {}",
        summary.workspaces,
        summary.conversations,
        args.file.display(),
        global.data_dir.display()
    );
    Ok(())
}

/// `servicemeter erase-customer ID`.
pub async fn erase_customer(global: &GlobalArgs, args: EraseCustomerArgs) -> Result<()> {
    if let Some(problem) = workspace_name_problem(&global.workspace) {
        bail!("--workspace: {problem}");
    }
    let customer = args.customer.trim();
    if customer.is_empty() {
        bail!("erase-customer: name the customer (the conversations' customer field)");
    }
    let store = open_storage(global).await?;
    let workspace = existing_workspace(&store, &global.workspace).await?;
    let changed = store
        .erase_customer(workspace.id, customer, &command_line_actor(), now_millis())
        .await?;
    store.close().await?;
    println!(
        "workspace {}: erased the personal data of {changed} conversations of {} ({}); the figures are unchanged",
        workspace.name,
        customer,
        servicemeter_store::customer_hash(customer)
    );
    Ok(())
}

/// `servicemeter audit`.
pub async fn audit(global: &GlobalArgs, args: AuditArgs) -> Result<()> {
    let store = open_storage(global).await?;
    let workspace = existing_workspace(&store, &global.workspace).await?;
    let entries = store.audit_log(workspace.id, args.limit).await?;
    store.close().await?;
    let mut out = std::io::stdout().lock();
    for e in entries {
        let at = jiff::Timestamp::from_millisecond(e.at)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        writeln!(out, "{at}\t{}\t{}\t{}", e.actor, e.action, e.detail)?;
    }
    Ok(())
}

/// `servicemeter retention`.
pub async fn retention(global: &GlobalArgs) -> Result<()> {
    let store = open_storage(global).await?;
    let workspace = existing_workspace(&store, &global.workspace).await?;
    let config = servicemeter_core::WorkspaceConfig::from_toml(
        workspace
            .config_toml
            .as_deref()
            .unwrap_or(servicemeter_core::config::DEFAULT_CONFIG_TOML),
    )
    .map_err(|e| anyhow!("stored configuration: {e}"))?;
    let Some(months) = config.retention_months else {
        store.close().await?;
        bail!(
            "workspace {} has no retention setting ([retention] message_texts_months = N in its configuration)",
            workspace.name
        );
    };
    let changed = store
        .apply_retention(workspace.id, &command_line_actor(), now_millis())
        .await?;
    store.close().await?;
    println!(
        "workspace {}: message texts and survey comments older than {months} months removed from {changed} conversations",
        workspace.name
    );
    Ok(())
}

/// `servicemeter surveys plan|list|unsubscribe`.
pub async fn surveys(global: &GlobalArgs, command: SurveysCommand) -> Result<()> {
    use servicemeter_store::surveys::Surveys;
    let store = open_storage(global).await?;
    let workspace = existing_workspace(&store, &global.workspace).await?;
    let time = |millis: i64| {
        jiff::Timestamp::from_millisecond(millis)
            .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    match command {
        SurveysCommand::Plan => {
            let started = std::time::Instant::now();
            let summary = store.plan_surveys(workspace.id, now_millis()).await?;
            println!(
                "workspace {}: {} conversations read, {} invitations planned, {} cancelled ({:.2} s)",
                workspace.name,
                summary.considered,
                summary.planned,
                summary.cancelled,
                started.elapsed().as_secs_f64()
            );
        }
        SurveysCommand::List(args) => {
            let mut out = std::io::stdout().lock();
            for i in store.invitations(workspace.id, args.limit).await? {
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    i.conversation,
                    i.kind.as_str(),
                    i.state.as_str(),
                    time(i.due_at),
                    i.language,
                    i.customer_email.unwrap_or_default(),
                    i.note.unwrap_or_default()
                )?;
            }
        }
        SurveysCommand::Link(args) => {
            let kind = servicemeter_core::model::SurveyKind::parse(&args.kind).map_err(|_| {
                anyhow!(
                    "--kind: '{}' is not a survey; use csat, nps or ces",
                    args.kind
                )
            })?;
            let base = args.public_url.trim();
            if !(base.starts_with("https://") || base.starts_with("http://")) {
                bail!("--public-url: '{base}' is not an http:// or https:// address");
            }
            let issued = servicemeter_web::survey_link::issue(
                &store,
                &workspace,
                &args.conversation,
                kind,
                base,
                now_millis(),
            )
            .await
            .map_err(|e| anyhow!("workspace {}: {e}", workspace.name))?;
            println!("{}", issued.url);
        }
        SurveysCommand::Unsubscribe(args) => {
            let email = servicemeter_core::address::normalize_email(&args.email)
                .ok_or_else(|| anyhow!("'{}' is not an e-mail address", args.email.trim()))?;
            let added = store
                .suppress(workspace.id, &email, "command line", now_millis())
                .await?;
            println!(
                "workspace {}: {email} {}",
                workspace.name,
                if added {
                    "will not be surveyed again"
                } else {
                    "was unsubscribed already"
                }
            );
        }
    }
    store.close().await?;
    Ok(())
}
