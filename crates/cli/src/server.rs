//! `servicemeter serve`, and the accounts commands around it: users, workspaces, API tokens.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use servicemeter_core::access::{Role, workspace_name_problem};
use servicemeter_store::{
    Accounts, Membership, Storage, Store, StoreError, Workspace, config_file,
};
use servicemeter_web::auth::{
    check_new_password, hash_password, new_token, normalize_email, token_hash,
};
use servicemeter_web::state::system_clock;
use servicemeter_web::{Application, ServerConfig};

use crate::cli::{GlobalArgs, JobsCommand, ServeArgs, TokenCommand, UserAddArgs, WorkspaceCommand};

async fn open(global: &GlobalArgs) -> Result<Storage> {
    crate::app::open_storage(global).await
}

pub(crate) async fn existing_workspace(store: &Storage, name: &str) -> Result<Workspace> {
    store.find_workspace(name).await?.ok_or_else(|| {
        anyhow!("workspace '{name}' does not exist (see `servicemeter workspace list`)")
    })
}

/// The SMTP server from `--smtp-url` and `--smtp-from` (both or neither).
pub(crate) fn smtp_settings(
    url: Option<&str>,
    from: Option<&str>,
) -> Result<Option<servicemeter_web::mail::SmtpSettings>> {
    match (url, from) {
        (None, None) => Ok(None),
        (Some(url), Some(from)) => servicemeter_web::mail::SmtpSettings::parse(url, from)
            .map(Some)
            .map_err(|e| anyhow!("--smtp-url/--smtp-from: {e}")),
        (Some(_), None) => bail!("--smtp-url needs --smtp-from (the sender of survey mails)"),
        (None, Some(_)) => bail!("--smtp-from needs --smtp-url (the SMTP server)"),
    }
}

/// Serves until Ctrl-C, then closes the store cleanly. `banner` is printed after the address
/// line, with `{address}` replaced by the address bound.
pub async fn serve(
    store: Storage,
    args: &ServeArgs,
    config_dir: Option<std::path::PathBuf>,
    banner: Option<String>,
) -> Result<()> {
    // Log lines on standard error; RUST_LOG narrows or widens them (default: info).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let store = Arc::new(store);
    let smtp = smtp_settings(args.smtp_url.as_deref(), args.smtp_from.as_deref())?;
    let config = ServerConfig {
        listen: args.listen,
        secure_cookies: args.secure_cookies,
        smtp,
        public_url: args.public_url.clone(),
        trusted_proxies: args.trusted_proxies.clone(),
        config_dir,
        ..ServerConfig::default()
    };
    let app = Application::build(config, store.clone(), system_clock()).await?;
    let address = app.local_addr();
    eprintln!("servicemeter listening on http://{address}/ (Ctrl-C stops)");
    if let Some(banner) = banner {
        eprintln!("{}", banner.replace("{address}", &address.to_string()));
    }
    app.run_until(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    eprintln!("stopping");
    if let Ok(store) = Arc::try_unwrap(store) {
        store.close().await?;
    }
    Ok(())
}

/// Reads a new password: twice on a terminal, or one line from standard input.
fn read_new_password() -> Result<String> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    check_new_password(&password).map_err(|e| anyhow!(e))?;
    Ok(password)
}

pub async fn user_add(global: &GlobalArgs, args: UserAddArgs) -> Result<()> {
    let email = normalize_email(&args.email).map_err(|e| anyhow!(e))?;
    let role = if args.admin {
        Role::Admin
    } else {
        Role::parse(&args.role).map_err(|e| anyhow!("--role: {e}"))?
    };
    if let Some(problem) = workspace_name_problem(&global.workspace) {
        bail!("--workspace: {problem}");
    }
    if role == Role::Agent && args.agent_name.is_none() {
        bail!("--agent-name: an agent needs the name the conversations use for them");
    }
    let store = open(global).await?;
    let workspace = store.workspace(&global.workspace).await?;
    let user = match store.user_by_email(&email).await? {
        Some(user) => {
            eprintln!(
                "{email} exists; giving them the role {role} in {}",
                workspace.name
            );
            user.id
        }
        None => {
            let password = read_new_password()?;
            let hash = hash_password(&password)?;
            match store.create_user(&email, &hash, now_millis()).await {
                Ok(id) => id,
                Err(StoreError::Conflict(_)) => bail!("{email} was added at the same time"),
                Err(e) => return Err(e.into()),
            }
        }
    };
    store
        .set_membership(
            workspace.id,
            user,
            &Membership {
                role,
                agent_name: args.agent_name.clone(),
            },
        )
        .await?;
    if args.installation_admin {
        store.set_installation_admin(user, true).await?;
    }
    store.close().await?;
    println!(
        "{email} is {role} in workspace {}{}",
        workspace.name,
        if args.installation_admin {
            " and an installation administrator"
        } else {
            ""
        }
    );
    Ok(())
}

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

pub async fn workspace(global: &GlobalArgs, command: WorkspaceCommand) -> Result<()> {
    let store = open(global).await?;
    match command {
        WorkspaceCommand::Add(args) => {
            if let Some(problem) = workspace_name_problem(&args.name) {
                bail!("{problem}");
            }
            if store.find_workspace(&args.name).await?.is_some() {
                bail!("workspace '{}' exists already", args.name);
            }
            let workspace = store.workspace(&args.name).await?;
            if let Some(path) = &global.config {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read configuration {}", path.display()))?;
                config_file::save(&store, &workspace, &text, global.config_mirror())
                    .await
                    .map_err(|e| anyhow!("{}: {e}", path.display()))?;
            }
            println!("created workspace {}", workspace.name);
        }
        WorkspaceCommand::WebhookSecret(args) => {
            let workspace = existing_workspace(&store, &args.name).await?;
            let secret = match store.webhook_secret(workspace.id).await? {
                Some(secret) if !args.rotate => secret,
                _ => {
                    let secret = servicemeter_web::auth::random_hex(32)?;
                    store.set_webhook_secret(workspace.id, &secret).await?;
                    secret
                }
            };
            println!("secret: {secret}");
            println!("signed records: POST /hooks/{}/records", workspace.name);
            println!(
                "chatwoot:       POST /hooks/{}/chatwoot/{}",
                workspace.name,
                servicemeter_web::webhooks::chatwoot_token(&secret)
            );
        }
        WorkspaceCommand::List => {
            let mut out = std::io::stdout().lock();
            for w in store.workspaces().await? {
                let counts = store.counts(w.id).await?;
                writeln!(out, "{}\t{} conversations", w.name, counts.conversations)?;
            }
        }
    }
    store.close().await?;
    Ok(())
}

pub async fn token(global: &GlobalArgs, command: TokenCommand) -> Result<()> {
    let store = open(global).await?;
    match command {
        TokenCommand::Add(args) => {
            let workspace = existing_workspace(&store, &global.workspace).await?;
            let token = new_token(workspace.id)?;
            let id = store
                .create_token(workspace.id, &args.name, &token_hash(&token), now_millis())
                .await?;
            eprintln!(
                "token {id} of workspace {} ({}); it is shown only now:",
                workspace.name, args.name
            );
            println!("{token}");
        }
        TokenCommand::Revoke(args) => {
            let workspace = existing_workspace(&store, &global.workspace).await?;
            if !store
                .revoke_token(workspace.id, args.id, now_millis())
                .await?
            {
                bail!("workspace {} has no live token {}", workspace.name, args.id);
            }
            println!("revoked token {} of workspace {}", args.id, workspace.name);
        }
        TokenCommand::List(_) => {
            let workspace = existing_workspace(&store, &global.workspace).await?;
            let mut out = std::io::stdout().lock();
            for t in store.tokens(workspace.id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                writeln!(out, "{}\t{}\t{}", t.id, state, t.name)?;
            }
        }
    }
    store.close().await?;
    Ok(())
}

/// `servicemeter jobs list|retry|run`.
pub async fn jobs(global: &GlobalArgs, command: JobsCommand) -> Result<()> {
    use servicemeter_store::jobs::{Jobs, Worker};
    let store = open(global).await?;
    match command {
        JobsCommand::List(args) => {
            let workspace = existing_workspace(&store, &global.workspace).await?;
            let mut out = std::io::stdout().lock();
            for job in store.jobs(workspace.id, args.limit).await? {
                let created = jiff::Timestamp::from_millisecond(job.created_at)
                    .map(|t| t.strftime("%Y-%m-%d %H:%M:%S").to_string())
                    .unwrap_or_default();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}/{}\t{}\t{}",
                    job.id,
                    if job.payload.is_empty() {
                        job.kind
                    } else {
                        format!("{} {}", job.kind, job.payload)
                    },
                    job.state.as_str(),
                    job.attempts,
                    job.max_attempts,
                    created,
                    job.last_error.unwrap_or_default()
                )?;
            }
        }
        JobsCommand::Retry(args) => {
            let workspace = existing_workspace(&store, &global.workspace).await?;
            if !store.retry(workspace.id, args.id, now_millis()).await? {
                bail!(
                    "workspace {} has no failed job {} (or one of its kind is waiting already)",
                    workspace.name,
                    args.id
                );
            }
            println!(
                "job {} of workspace {} is queued again",
                args.id, workspace.name
            );
        }
        JobsCommand::Run => {
            let mut worker = Worker::new(
                Arc::new(store.clone()),
                format!("cli-{}", std::process::id()),
                Arc::new(now_millis),
            );
            servicemeter_sync::run::register(&mut worker, Default::default());
            let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
            let sending = servicemeter_web::survey_mail::Sending {
                smtp: smtp_settings(
                    env("SERVICEMETER_SMTP_URL").as_deref(),
                    env("SERVICEMETER_SMTP_FROM").as_deref(),
                )?,
                public_url: env("SERVICEMETER_PUBLIC_URL"),
            };
            servicemeter_web::register_mail_jobs(&mut worker, sending, Arc::new(now_millis));
            let ran = worker.round().await?;
            println!("ran {ran} jobs");
        }
    }
    store.close().await?;
    Ok(())
}
