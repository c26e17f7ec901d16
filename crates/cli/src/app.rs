//! The commands: workspace and configuration handling around the store, and each subcommand.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use servicemeter_core::access::workspace_name_problem;
use servicemeter_core::config::{DEFAULT_CONFIG_TOML, config_changes};
use servicemeter_core::filter::Filter;
use servicemeter_core::periods::{self, Against, Preset};
use servicemeter_core::report::{GroupBy, ReportOptions, resolve_period};
use servicemeter_core::time::{MAX_YEAR, MIN_YEAR};
use servicemeter_core::{Calendars, FactTable, WorkspaceConfig};
use servicemeter_import::sources::{Source, SourceOptions};
use servicemeter_report::parallel::build_report_on;
use servicemeter_report::{FactsFormat, ReportFormat, write_facts, write_report};
use servicemeter_store::follow_ups::FollowUps;
use servicemeter_store::{
    Accounts, DATABASE_FILE, Location, Storage, Store, Workspace, config_file,
};

use crate::cli::{
    Cli, Command, ConfigCommand, DemoArgs, FactsArgs, FactsFormatArg, GenerateArgs, GlobalArgs,
    ImportArgs, ReportArgs, ReportFormatArg,
};

/// The workspace of the demo.
const CLI_WORKSPACE: &str = "default";
/// The database file inside the data directory.
/// Marks a directory made by `servicemeter demo` (so that it may be replaced).
const DEMO_MARKER: &str = ".servicemeter-demo";

fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Import(args) => runtime()?.block_on(import(&cli.global, args)),
        Command::Report(args) => runtime()?.block_on(report(&cli.global, args)),
        Command::Facts(args) => runtime()?.block_on(facts(&cli.global, args)),
        Command::Demo(args) => runtime()?.block_on(demo(&cli.global, args)),
        Command::Generate(args) => generate(args),
        Command::Serve(args) => runtime()?.block_on(async {
            let store = open_storage(&cli.global).await?;
            let mirror = cli.global.config_mirror().map(Path::to_path_buf);
            crate::server::serve(store, &args, mirror, None).await
        }),
        Command::Config(command) => runtime()?.block_on(config(&cli.global, command)),
        Command::User(crate::cli::UserCommand::Add(args)) => {
            runtime()?.block_on(crate::server::user_add(&cli.global, args))
        }
        Command::Workspace(command) => {
            runtime()?.block_on(crate::server::workspace(&cli.global, command))
        }
        Command::Token(command) => runtime()?.block_on(crate::server::token(&cli.global, command)),
        Command::Sync(args) => runtime()?.block_on(crate::sync::sync(&cli.global, args)),
        Command::Jobs(command) => runtime()?.block_on(crate::server::jobs(&cli.global, command)),
        Command::Backup(args) => runtime()?.block_on(crate::lifecycle::backup(&cli.global, args)),
        Command::Restore(args) => runtime()?.block_on(crate::lifecycle::restore(&cli.global, args)),
        Command::EraseCustomer(args) => {
            runtime()?.block_on(crate::lifecycle::erase_customer(&cli.global, args))
        }
        Command::Audit(args) => runtime()?.block_on(crate::lifecycle::audit(&cli.global, args)),
        Command::Retention => runtime()?.block_on(crate::lifecycle::retention(&cli.global)),
        Command::Surveys(command) => {
            runtime()?.block_on(crate::lifecycle::surveys(&cli.global, command))
        }
    }
}

fn parse_config(text: &str, source: &str) -> Result<WorkspaceConfig> {
    WorkspaceConfig::from_toml(text).map_err(|e| anyhow!("{source}: {e}"))
}

fn read_config_file(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read configuration {}", path.display()))
}

/// An open store with its workspace and configuration.
pub struct Opened {
    pub store: Storage,
    pub workspace: Workspace,
    pub config: WorkspaceConfig,
}

/// Whether a command may change the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// `report`, `facts`, `config show`: the store must exist and nothing is written.
    Read,
    /// `import`, `sync`: the store and workspace are created when missing, and `--config` is
    /// applied.
    Write,
}

impl GlobalArgs {
    /// Where the store is: `--database-url`, else the embedded store in `--data-dir`.
    pub(crate) fn location(&self) -> Result<Location> {
        Ok(Location::new(self.database_url.as_deref(), &self.data_dir)?)
    }

    /// Where the copy of each workspace's configuration is kept: the data directory of the
    /// embedded store. With PostgreSQL the configuration lives in the database only (several
    /// servers on several machines share it).
    pub(crate) fn config_mirror(&self) -> Option<&Path> {
        match self.database_url.as_deref().map(str::trim) {
            Some(url) if !url.is_empty() => None,
            _ => Some(&self.data_dir),
        }
    }
}

/// Opens the store at `--database-url` or in `--data-dir` (creating or migrating it).
pub(crate) async fn open_storage(global: &GlobalArgs) -> Result<Storage> {
    let location = global.location()?;
    Storage::open(&location)
        .await
        .with_context(|| format!("cannot open the store in {}", location.describe()))
}

/// Opens the store and the workspace of `--workspace`. The stored configuration is in force
/// (the built-in default when none is stored). For writing commands, `--config` is applied
/// first (stored, recomputed, and copied to the file in the data directory); a store that holds
/// no configuration yet takes the data directory's file when there is one, else the default.
/// Reading commands never write: they refuse a `--config` that differs from the stored one.
/// A hand-edited file in the data directory is never applied silently; a note says so.
pub(crate) async fn open_store(global: &GlobalArgs, access: Access) -> Result<Opened> {
    if let Some(problem) = workspace_name_problem(&global.workspace) {
        bail!("--workspace: {problem}");
    }
    let mirror = global.config_mirror();
    if let Some(dir) = mirror
        && access == Access::Read
        && !dir.join(DATABASE_FILE).exists()
    {
        bail!(
            "there is no store in {} (import data first, or give --data-dir / SERVICEMETER_DATA_DIR, or --database-url)",
            dir.display()
        );
    }
    let store = open_storage(global).await?;
    let place = global.location()?.describe();
    let workspace = match access {
        Access::Write => store.workspace(&global.workspace).await?,
        Access::Read => store
            .find_workspace(&global.workspace)
            .await?
            .ok_or_else(|| {
                anyhow!(
                    "workspace '{}' does not exist in {place} (see `servicemeter workspace list`)",
                    global.workspace,
                )
            })?,
    };
    let file = mirror.map(|dir| config_file::path_of(dir, &workspace.name));
    let given = match &global.config {
        Some(path) => Some((read_config_file(path)?, path.display().to_string())),
        None if access == Access::Write && workspace.config_toml.is_none() => match &file {
            Some(file) if file.exists() => {
                Some((read_config_file(file)?, file.display().to_string()))
            }
            _ => Some((
                DEFAULT_CONFIG_TOML.to_string(),
                "the default configuration".into(),
            )),
        },
        None => None,
    };
    let workspace = match (given, access) {
        (Some((text, source)), Access::Write) => {
            let saved = config_file::save(&store, &workspace, &text, mirror)
                .await
                .map_err(|e| anyhow!("{source}: {e}"))?;
            if saved.recomputed > 0 {
                eprintln!(
                    "configuration changed ({source}): recomputed the facts of {} conversations",
                    saved.recomputed
                );
            }
            store.workspace(&global.workspace).await?
        }
        (Some((text, source)), Access::Read) => {
            parse_config(&text, &source)?;
            if workspace.config_toml.as_deref() != Some(text.as_str()) {
                bail!(
                    "{source} differs from the stored configuration of workspace '{}', and this command only reads; apply it first with `servicemeter config apply {source}`",
                    workspace.name
                );
            }
            workspace
        }
        (None, _) => workspace,
    };
    let text = workspace
        .config_toml
        .clone()
        .unwrap_or_else(|| DEFAULT_CONFIG_TOML.to_string());
    if global.config.is_none()
        && let Some(file) = &file
        && let Ok(on_disk) = std::fs::read_to_string(file)
        && on_disk != text
    {
        eprintln!(
            "note: {} differs from the stored configuration and is not in force; `servicemeter config apply` applies it",
            file.display()
        );
    }
    let config = parse_config(&text, "stored configuration")?;
    Ok(Opened {
        store,
        workspace,
        config,
    })
}

/// `servicemeter config show|apply`.
async fn config(global: &GlobalArgs, command: ConfigCommand) -> Result<()> {
    match command {
        ConfigCommand::Show => {
            let opened = open_store(global, Access::Read).await?;
            let text = opened
                .workspace
                .config_toml
                .clone()
                .unwrap_or_else(|| DEFAULT_CONFIG_TOML.to_string());
            opened.store.close().await?;
            print!("{text}");
        }
        ConfigCommand::Apply(args) => {
            let mirror = global.config_mirror();
            let path = match args.file.or_else(|| global.config.clone()) {
                Some(path) => path,
                None => match mirror {
                    Some(dir) => config_file::path_of(dir, &global.workspace),
                    None => bail!(
                        "with --database-url there is no configuration file beside the store: name the file to apply"
                    ),
                },
            };
            let text = read_config_file(&path)?;
            let source = path.display().to_string();
            parse_config(&text, &source)?;
            if let Some(problem) = workspace_name_problem(&global.workspace) {
                bail!("--workspace: {problem}");
            }
            let store = open_storage(global).await?;
            let workspace = store.workspace(&global.workspace).await?;
            let old = workspace
                .config_toml
                .clone()
                .unwrap_or_else(|| DEFAULT_CONFIG_TOML.to_string());
            let saved = config_file::save(&store, &workspace, &text, mirror)
                .await
                .map_err(|e| anyhow!("{source}: {e}"))?;
            store.close().await?;
            let changes = config_changes(&old, &text);
            let mut out = io::stdout().lock();
            if changes.is_empty() {
                writeln!(
                    out,
                    "workspace {}: no change in the configuration{}",
                    global.workspace,
                    if saved.changed {
                        " (only comments or layout)"
                    } else {
                        ""
                    }
                )?;
            } else {
                writeln!(out, "workspace {}: applied {source}", global.workspace)?;
                for line in changes {
                    writeln!(out, "  {line}")?;
                }
                writeln!(
                    out,
                    "recomputed the facts of {} conversations",
                    saved.recomputed
                )?;
            }
        }
    }
    Ok(())
}

fn group_by(names: &[String]) -> Result<Vec<GroupBy>> {
    names
        .iter()
        .filter(|n| !n.trim().is_empty())
        .map(|n| {
            GroupBy::parse(n).ok_or_else(|| {
                anyhow!("--by: '{n}' is not a breakdown; use channel, agent, team, tag, day, week, month")
            })
        })
        .collect()
}

fn day_label(millis: i64, config: &WorkspaceConfig) -> String {
    servicemeter_core::report::local_date(millis, &config.timezone).to_string()
}

async fn import(global: &GlobalArgs, args: ImportArgs) -> Result<()> {
    let opened = open_store(global, Access::Write).await?;
    let calendars = std::sync::Arc::new(Calendars::new(opened.config.clone()));
    let totals = if args.source == "jsonl" {
        crate::import::import_files(
            &opened.store,
            opened.workspace.id,
            &calendars,
            &args.files,
            args.skip_invalid,
            &args.rejects,
            now_millis(),
        )
        .await?
    } else {
        let source = Source::parse(&args.source).map_err(|e| {
            let mut known = vec!["jsonl"];
            known.extend(Source::ALL.iter().map(|(n, _)| *n));
            match servicemeter_import::sniff::closest(&args.source, &known) {
                Some(near) => anyhow!("--source: {e}; did you mean {near}?"),
                None => anyhow!("--source: {e}"),
            }
        })?;
        let timezone = match &args.timezone {
            Some(name) => jiff::tz::TimeZone::get(name)
                .map_err(|_| anyhow!("--timezone: '{name}' is not a known IANA time zone"))?,
            None => opened.config.timezone.clone(),
        };
        let options = SourceOptions {
            timezone,
            timezone_given: args.timezone.is_some(),
            twitter_signoff_agents: args.twitter_signoff_agents,
            mapping: args.mapping.clone(),
        };
        crate::import::import_source(
            &opened.store,
            opened.workspace.id,
            &calendars,
            source,
            &args.files,
            &options,
            args.skip_invalid,
            &args.rejects,
            now_millis(),
        )
        .await?
    };
    let counts = opened.store.counts(opened.workspace.id).await?;
    opened.store.close().await?;
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "imported {} records: {} conversations ({} new, {} updated)\n  with {} messages ({} customer, {} agent, {} bot, {} note),\n  {} events, {} surveys",
        totals.records,
        totals.outcome.new_conversations + totals.outcome.updated_conversations,
        totals.outcome.new_conversations,
        totals.outcome.updated_conversations,
        totals.messages,
        totals.messages_by_author[0],
        totals.messages_by_author[1],
        totals.messages_by_author[2],
        totals.messages_by_author[3],
        totals.events,
        totals.surveys
    )?;
    if let Some((a, b)) = totals.created_range {
        writeln!(
            out,
            "conversations created {} to {}",
            day_label(a, &opened.config),
            day_label(b, &opened.config)
        )?;
    }
    if totals.deletions > 0 {
        writeln!(
            out,
            "deleted at the source: {} conversations ({} of them were stored and are removed)",
            totals.deletions, totals.outcome.deleted_conversations
        )?;
    }
    if totals.rejected > 0 {
        writeln!(
            out,
            "rejected {} records; see {}",
            totals.rejected,
            args.rejects.display()
        )?;
    }
    let pending = counts.conversations - counts.with_facts;
    writeln!(
        out,
        "the workspace holds {} conversations{}",
        counts.conversations,
        if pending > 0 {
            format!(" ({pending} without a conversation record yet: not in reports)")
        } else {
            String::new()
        }
    )?;
    Ok(())
}

/// Facts as the configuration's agent rules show them (aliases merged, excluded agents out).
fn shown(table: FactTable, config: &WorkspaceConfig) -> FactTable {
    if config.agents.keeps_facts_as_computed() {
        table
    } else {
        table.with_agent_rules(&config.agents)
    }
}

/// Reads files and computes facts, for `--input` mode.
fn facts_from_files(files: &[String], config: &WorkspaceConfig) -> Result<FactTable> {
    let calendars = Calendars::new(config.clone());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let (table, stats) = servicemeter_import::facts_from_files(files, &calendars, threads)?;
    if stats.pending > 0 {
        eprintln!(
            "note: {} conversations have records but no conversation record; they are left out",
            stats.pending
        );
    }
    Ok(shown(table, config))
}

fn file_mode_config(global: &GlobalArgs) -> Result<WorkspaceConfig> {
    match &global.config {
        Some(path) => parse_config(&read_config_file(path)?, &path.display().to_string()),
        None => Ok(WorkspaceConfig::default()),
    }
}

async fn report(global: &GlobalArgs, args: ReportArgs) -> Result<()> {
    let by = group_by(&args.by)?;
    let options = ReportOptions {
        from: args.from,
        to: args.to,
    };
    let preset = match args.period.as_deref() {
        None => None,
        Some(name) => Some(Preset::parse(name).ok_or_else(|| {
            anyhow!(
                "--period {name}: not a period; use one of {}",
                Preset::names()
            )
        })?),
    };
    let against = Against::parse(&args.compare)
        .ok_or_else(|| anyhow!("--compare {}: use previous or year", args.compare))?;
    for (flag, date) in [("--from", args.from), ("--to", args.to)] {
        if let Some(date) = date
            && !(MIN_YEAR..=MAX_YEAR).contains(&i32::from(date.year()))
        {
            bail!("{flag} {date} is outside the years {MIN_YEAR}–{MAX_YEAR}");
        }
    }
    if let (Some(from), Some(to)) = (args.from, args.to)
        && to < from
    {
        bail!("--to {to} is before --from {from}");
    }
    let lang = servicemeter_web::i18n::Lang::parse(&args.lang)
        .ok_or_else(|| anyhow!("--lang {}: use nl or en", args.lang))?;
    let document = matches!(
        args.format,
        ReportFormatArg::Html | ReportFormatArg::Pdf | ReportFormatArg::Xlsx
    );
    if document && args.output.is_none() {
        bail!(
            "--format {:?} writes a file: give --output FILE",
            args.format
        );
    }
    // The store stays open for a document: its comments and follow-ups are read too.
    let (facts, config, range, opened) = if !args.input.is_empty() {
        let config = file_mode_config(global)?;
        let facts = facts_from_files(&args.input, &config)?;
        let range = facts.start_range();
        (facts, config, range, None)
    } else {
        let opened = open_store(global, Access::Read).await?;
        let facts = shown(
            opened.store.facts(opened.workspace.id, None).await?,
            &opened.config,
        );
        let range = facts.start_range();
        let config = opened.config.clone();
        (facts, config, range, Some(opened))
    };
    // Periods that reach now are cut there, in the workspace's time zone.
    let now_ts = jiff::Timestamp::now();
    let now = now_ts.to_zoned_datetime(config.timezone.clone()).datetime();
    let compared = match preset {
        Some(preset) => Some(preset.compared(now, against)),
        None => resolve_period(&options, range, &config.timezone)
            .map(|p| periods::custom(p, Some(now), against)),
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let filter = Filter {
        channels: args.channels.clone(),
        teams: args.teams.clone(),
        agents: args.agents.clone(),
        tags: args.tags.clone(),
    }
    .normalized()
    .map_err(|e| anyhow!("--{e}"))?;
    let bytes: Vec<u8> = match args.format {
        ReportFormatArg::Html | ReportFormatArg::Pdf => {
            use servicemeter_web::document;
            let (report, trend, grain) =
                document::reports(threads, &facts, &config, compared, &filter, &by);
            let bounds = report.period.map(|p| p.bounds(&config.timezone));
            let (workspace, highlights, overdue) = match &opened {
                Some(o) => (
                    o.workspace.name.clone(),
                    document::highlights(&o.store, o.workspace.id, &facts, bounds, &filter).await?,
                    o.store
                        .overdue_follow_ups(o.workspace.id, now_ts.as_millisecond())
                        .await?,
                ),
                None => (String::new(), Vec::new(), 0),
            };
            let doc = document::build(
                &document::Inputs {
                    report: &report,
                    trend: &trend,
                    grain,
                    config: &config,
                    workspace: &workspace,
                    agency: None,
                    overdue_follow_ups: overdue,
                    highlights,
                    agent_detail: true,
                    made_at: now_ts.as_millisecond(),
                },
                lang,
            );
            if matches!(args.format, ReportFormatArg::Pdf) {
                document::pdf::pdf(&doc)?
            } else {
                document::html::html(&doc, document::html::Charts::Svg, None).into_bytes()
            }
        }
        ReportFormatArg::Xlsx => {
            let report = build_report_on(threads, &facts, &config, compared, &filter, &by);
            servicemeter_report::xlsx_report(&report, &by)
                .map_err(|e| anyhow!("cannot write the workbook: {e}"))?
        }
        ReportFormatArg::Table | ReportFormatArg::Json | ReportFormatArg::Csv => {
            let report = build_report_on(threads, &facts, &config, compared, &filter, &by);
            let format = match args.format {
                ReportFormatArg::Json => ReportFormat::Json,
                ReportFormatArg::Csv => ReportFormat::Csv,
                _ => ReportFormat::Table,
            };
            if args.output.is_none() {
                let mut out = io::BufWriter::new(io::stdout().lock());
                write_report(&mut out, &report, format, &by)?;
                out.flush()?;
                if let Some(o) = opened {
                    o.store.close().await?;
                }
                return Ok(());
            }
            let mut bytes = Vec::new();
            write_report(&mut bytes, &report, format, &by)?;
            bytes
        }
    };
    if let Some(o) = opened {
        o.store.close().await?;
    }
    let path = args.output.as_deref().expect("checked above");
    write_whole(path, &bytes)?;
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file beside it, so that the file appears whole
/// or not at all.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("--output {}: not a file name", path.display()))?;
    let temporary = dir.join(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    std::fs::write(&temporary, bytes)
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, path).map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        anyhow!("cannot write {}: {e}", path.display())
    })
}

async fn facts(global: &GlobalArgs, args: FactsArgs) -> Result<()> {
    let table = if !args.input.is_empty() {
        let config = file_mode_config(global)?;
        facts_from_files(&args.input, &config)?
    } else {
        let opened = open_store(global, Access::Read).await?;
        let table = shown(
            opened.store.facts(opened.workspace.id, None).await?,
            &opened.config,
        );
        opened.store.close().await?;
        table
    };
    let facts: Vec<_> = table
        .order_by_conversation()
        .into_iter()
        .map(|i| table.get(i))
        .collect();
    let format = match args.format {
        FactsFormatArg::Csv => FactsFormat::Csv,
        FactsFormatArg::Jsonl => FactsFormat::Jsonl,
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    write_facts(&mut out, &facts, format)?;
    out.flush()?;
    Ok(())
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).map_or(true, |mut d| d.next().is_none())
}

async fn demo(global: &GlobalArgs, args: DemoArgs) -> Result<()> {
    if global.config_mirror().is_none() {
        eprintln!(
            "note: the demo builds its own embedded store; --database-url / SERVICEMETER_DATABASE_URL is not used"
        );
    }
    // The demo never touches the default data directory: it makes its own.
    let dir: PathBuf = if global.data_dir == Path::new("servicemeter-data") {
        PathBuf::from("servicemeter-demo")
    } else {
        global.data_dir.clone()
    };
    if dir.exists() {
        if dir.join(DEMO_MARKER).exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot clear the old demo in {}", dir.display()))?;
        } else if !is_empty_dir(&dir) {
            bail!(
                "{} exists and is not a demo directory; choose another with --data-dir",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(dir.join(DEMO_MARKER), "made by servicemeter demo\n")?;
    let main_shop = &servicemeter_demo::SHOPS[0];
    let mut options = servicemeter_demo::GeneratorOptions {
        conversations: args.conversations,
        seed: args.seed,
        ..Default::default()
    };
    if args.serve {
        // Served, the demo's data ends yesterday, so that "last 7 days" shows figures.
        let tz = WorkspaceConfig::from_toml(main_shop.config)?.timezone;
        let today = servicemeter_core::report::local_date(now_millis(), &tz);
        options.from = today
            .checked_sub(jiff::Span::new().days(options.days))
            .context("date out of range")?;
    }
    // Three webshops, each in its own workspace (the agency view shows them side by side);
    // the main one is the command line's default workspace.
    for (i, shop) in servicemeter_demo::SHOPS.iter().enumerate() {
        let shop_options = servicemeter_demo::GeneratorOptions {
            conversations: (args.conversations * shop.per_4000 / 4000).max(1),
            seed: args.seed + i as u64,
            shop,
            ..options.clone()
        };
        let config_path = config_file::path_of(&dir, shop.workspace);
        std::fs::write(&config_path, shop.config)?;
        let records_path = if i == 0 {
            dir.join("demo-conversations.jsonl")
        } else {
            dir.join(format!("demo-{}.jsonl", shop.workspace))
        };
        {
            let mut file = io::BufWriter::new(std::fs::File::create(&records_path)?);
            servicemeter_demo::generate(&mut file, &shop_options)?;
            file.flush()?;
        }
        eprintln!(
            "demo workspace {}: {} conversations of {} in {}",
            shop.workspace,
            shop_options.conversations,
            shop.description,
            dir.display()
        );
        let shop_global = GlobalArgs {
            data_dir: dir.clone(),
            database_url: None,
            config: None,
            workspace: shop.workspace.to_string(),
        };
        import(
            &shop_global,
            ImportArgs {
                files: vec![records_path.display().to_string()],
                skip_invalid: false,
                rejects: dir.join("rejects.jsonl"),
                source: "jsonl".into(),
                timezone: None,
                twitter_signoff_agents: false,
                mapping: None,
            },
        )
        .await?;
        println!();
    }
    let demo_global = GlobalArgs {
        data_dir: dir.clone(),
        database_url: None,
        config: None,
        workspace: CLI_WORKSPACE.to_string(),
    };
    let last = options
        .from
        .checked_add(jiff::Span::new().days(options.days - 1))
        .expect("date in range");
    let from = last.first_of_month();
    report(
        &demo_global,
        ReportArgs {
            from: Some(from),
            to: Some(last),
            period: None,
            compare: "previous".into(),
            channels: Vec::new(),
            teams: Vec::new(),
            agents: Vec::new(),
            tags: Vec::new(),
            by: vec!["channel".into(), "agent".into()],
            format: ReportFormatArg::Table,
            output: None,
            lang: "nl".into(),
            input: Vec::new(),
        },
    )
    .await?;
    println!();
    if args.serve {
        return serve_demo(&demo_global, &args).await;
    }
    println!(
        "Try: servicemeter --data-dir {} report --by week,tag",
        dir.display()
    );
    Ok(())
}

/// The demo's sign-in.
const DEMO_EMAIL: &str = "demo@servicemeter.local";

/// Serves the demo workspace with a fresh administrator whose password is printed.
async fn serve_demo(global: &GlobalArgs, args: &DemoArgs) -> Result<()> {
    use servicemeter_store::{Accounts, Membership};
    let opened = open_store(global, Access::Read).await?;
    let password = servicemeter_web::auth::random_hex(9)?;
    let hash = servicemeter_web::auth::hash_password(&password)?;
    let user = opened
        .store
        .create_user(DEMO_EMAIL, &hash, now_millis())
        .await?;
    opened.store.set_installation_admin(user, true).await?;
    // The sign-in sees all three shops (the agency view).
    for shop in &servicemeter_demo::SHOPS {
        let workspace = opened
            .store
            .find_workspace(shop.workspace)
            .await?
            .with_context(|| format!("the demo workspace {} is missing", shop.workspace))?;
        opened
            .store
            .set_membership(
                workspace.id,
                user,
                &Membership {
                    role: servicemeter_core::access::Role::Admin,
                    agent_name: None,
                },
            )
            .await?;
    }
    let serve_args = crate::cli::ServeArgs {
        listen: args.listen,
        secure_cookies: false,
        public_url: None,
        trusted_proxies: Vec::new(),
        smtp_url: None,
        smtp_from: None,
    };
    let banner = format!(
        "sign in as {DEMO_EMAIL} with password {password}\nthe demo workspace: http://{{address}}/w/{CLI_WORKSPACE}"
    );
    crate::server::serve(
        opened.store,
        &serve_args,
        global.config_mirror().map(Path::to_path_buf),
        Some(banner),
    )
    .await
}

fn generate(args: GenerateArgs) -> Result<()> {
    let last = args
        .from
        .checked_add(jiff::Span::new().days(args.days.max(1)))
        .ok()
        .filter(|d| i32::from(d.year()) < MAX_YEAR);
    if i32::from(args.from.year()) < MIN_YEAR || last.is_none() || args.days < 1 {
        bail!(
            "--from {} with --days {} must stay within the years {MIN_YEAR}–{} and cover at least one day",
            args.from,
            args.days,
            MAX_YEAR - 1
        );
    }
    let shop = servicemeter_demo::SHOPS
        .iter()
        .find(|s| s.workspace == args.shop)
        .with_context(|| {
            let names: Vec<&str> = servicemeter_demo::SHOPS
                .iter()
                .map(|s| s.workspace)
                .collect();
            format!(
                "--shop: '{}' is not a demo shop; choose {}",
                args.shop,
                names.join(", ")
            )
        })?;
    let options = servicemeter_demo::GeneratorOptions {
        conversations: args.conversations,
        seed: args.seed,
        from: args.from,
        days: args.days,
        shop,
    };
    if let Some(path) = &args.config_out {
        std::fs::write(path, shop.config)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    let generated = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            if path.extension().is_some_and(|e| e == "gz") {
                let mut encoder = flate2::write::GzEncoder::new(
                    io::BufWriter::new(file),
                    flate2::Compression::fast(),
                );
                let g = servicemeter_demo::generate(&mut encoder, &options)?;
                encoder.finish()?.flush()?;
                g
            } else {
                let mut writer = io::BufWriter::new(file);
                let g = servicemeter_demo::generate(&mut writer, &options)?;
                writer.flush()?;
                g
            }
        }
        None => {
            let mut writer = io::BufWriter::new(io::stdout().lock());
            let g = servicemeter_demo::generate(&mut writer, &options)?;
            writer.flush()?;
            g
        }
    };
    eprintln!(
        "generated {} conversations with {} messages (seed {}, from {})",
        generated.conversations, generated.messages, args.seed, args.from
    );
    Ok(())
}
