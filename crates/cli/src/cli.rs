//! Command-line arguments.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "servicemeter",
    version,
    about = "Measures how well a customer-service team performs: first response within opening hours, resolution, reopens, CSAT, NPS, CES."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Data directory of the embedded store.
    #[arg(
        long,
        global = true,
        env = "SERVICEMETER_DATA_DIR",
        default_value = "servicemeter-data"
    )]
    pub data_dir: PathBuf,
    /// PostgreSQL database to use instead of the embedded store in the data directory
    /// (postgres://USER:PASSWORD@HOST:PORT/DATABASE; the schema is created or upgraded on first
    /// use). Several `serve` processes may share one database.
    #[arg(
        long,
        global = true,
        env = "SERVICEMETER_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Workspace configuration (TOML) to apply: import, sync and `workspace add` store it
    /// (and rewrite the copy in the data directory); report and facts only read it with
    /// --input, and refuse it when it differs from the stored one (apply it first with
    /// `servicemeter config apply FILE`).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// The workspace (one per webshop or client) that commands read and write.
    #[arg(
        long,
        global = true,
        env = "SERVICEMETER_WORKSPACE",
        default_value = "default"
    )]
    pub workspace: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Import canonical JSON Lines records (files, `.gz`, or `-` for stdin) into the store.
    Import(ImportArgs),
    /// Show KPIs for a period beside the previous period.
    Report(ReportArgs),
    /// One row per conversation with every per-conversation figure.
    Facts(FactsArgs),
    /// Build a demo workspace (a Dutch webshop) in a fresh data directory and show its report.
    Demo(DemoArgs),
    /// Write deterministic realistic records (for trying things out and for benchmarks).
    Generate(GenerateArgs),
    /// Run the web server: dashboard, API and intake for every workspace in the store.
    Serve(ServeArgs),
    /// Manage users (sign-in accounts) and their roles in workspaces.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage workspaces (one per webshop or client).
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Manage API tokens of a workspace.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show or apply a workspace's configuration (the store holds it; the file in the data
    /// directory is a copy that is applied only by `config apply`).
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Fetch what changed in a helpdesk since the last sync (zendesk, freshdesk), through its API;
    /// credentials from the environment (see docs/importers.md). With --every, the server syncs
    /// on a schedule instead.
    Sync(SyncArgs),
    /// Background jobs of a workspace (recomputes after a settings change, ...): list them, try a
    /// failed one again, or run the due ones now without a server.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Write a consistent copy of the embedded store to a new file (also while a server runs).
    /// For PostgreSQL use pg_dump.
    Backup(BackupArgs),
    /// Put a backup in place as the embedded store of --data-dir (stop servers first).
    Restore(RestoreArgs),
    /// Erase a customer's personal data (right to erasure): their name, subjects, message texts
    /// and survey comments leave every conversation of theirs, also records imported later;
    /// the figures keep counting the conversations. Recorded in the audit log.
    EraseCustomer(EraseCustomerArgs),
    /// The audit log of a workspace (erasures, retention), newest first.
    Audit(AuditArgs),
    /// Apply the workspace's retention setting now (`[retention] message_texts_months`): older
    /// message texts and survey comments are removed, the figures stay. A running server does
    /// this every night by itself.
    Retention,
    /// The surveys servicemeter sends (`[surveys]` in the configuration, docs/surveys.md): plan
    /// them now, list the invitations, or unsubscribe an address.
    #[command(subcommand)]
    Surveys(SurveysCommand),
}

#[derive(Debug, Subcommand)]
pub enum SurveysCommand {
    /// Plan the surveys of the conversations changed since the last pass, now (a running
    /// server does this every minute by itself), and print what it did.
    Plan,
    /// The invitations, latest due first: conversation, kind, state, due (UTC), language,
    /// address, note.
    List(SurveysListArgs),
    /// Never survey this address again (the suppression list); its planned invitations are
    /// cancelled.
    Unsubscribe(SurveysUnsubscribeArgs),
    /// Print the signed survey link of a conversation (valid 30 days), for a helpdesk's own
    /// closing message; add ?score=N to preselect a score.
    Link(SurveysLinkArgs),
}

#[derive(Debug, Args)]
pub struct SurveysLinkArgs {
    /// The conversation's id.
    pub conversation: String,
    /// csat, nps or ces.
    #[arg(long, default_value = "csat")]
    pub kind: String,
    /// The address customers reach the server at, e.g. https://stats.example.nl.
    #[arg(long, env = "SERVICEMETER_PUBLIC_URL")]
    pub public_url: String,
}

#[derive(Debug, Args)]
pub struct SurveysListArgs {
    /// How many invitations.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct SurveysUnsubscribeArgs {
    /// The customer's e-mail address.
    pub email: String,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The new file to write (it must not exist).
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A file made by `servicemeter backup`.
    pub file: PathBuf,
    /// Overwrite the store that is in --data-dir.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct EraseCustomerArgs {
    /// The customer as the conversations name them (the `customer` field).
    pub customer: String,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// How many entries, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// The newest jobs: number, kind, state, attempts, created (UTC), last error.
    List(JobsListArgs),
    /// Queue a failed job again with fresh attempts.
    Retry(JobsRetryArgs),
    /// Run every due job of every workspace once, then stop (a running `serve` does this by
    /// itself).
    Run,
}

#[derive(Debug, Args)]
pub struct JobsListArgs {
    /// How many jobs, newest first.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

#[derive(Debug, Args)]
pub struct JobsRetryArgs {
    /// The job's number (see `servicemeter jobs list`).
    pub id: i64,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the stored configuration.
    Show,
    /// Store a configuration file (default: the workspace's file in the data directory),
    /// print what changed, and recompute every conversation's figures.
    Apply(ConfigApplyArgs),
}

#[derive(Debug, Args)]
pub struct ConfigApplyArgs {
    /// The TOML file [default: servicemeter.toml, or servicemeter.NAME.toml for another
    /// workspace, in the data directory].
    pub file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The helpdesk: zendesk or freshdesk.
    pub source: String,
    /// Seconds before the first retry after a server error (doubled each time).
    #[arg(long, default_value_t = 1.0)]
    pub retry_delay: f64,
    /// Attempts per request before giving up.
    #[arg(long, default_value_t = 6)]
    pub attempts: u32,
    /// Freshdesk: tickets per request (at most 100).
    #[arg(long, default_value_t = 100)]
    pub page_size: usize,
    /// Instead of syncing now, store the account (credentials from the environment, as for a
    /// run) and let the server sync it every MINUTES (15 to 1440), the first time at once.
    #[arg(long, value_name = "MINUTES", conflicts_with = "unschedule")]
    pub every: Option<u32>,
    /// Stop the server's scheduled sync of this source (its cursor stays).
    #[arg(long)]
    pub unschedule: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Mark the session cookie Secure (when users reach the server over HTTPS, e.g. through
    /// a TLS-terminating proxy).
    #[arg(long)]
    pub secure_cookies: bool,
    /// The address people use to reach the server, e.g. https://stats.example.nl: forms must
    /// come from it, and a first-run setup is answered there (and at loopback names).
    #[arg(long, env = "SERVICEMETER_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The SMTP server survey invitations go through: smtp://user:password@host:587
    /// (STARTTLS), smtps://user:password@host:465 (TLS), or smtp://host:port?tls=none for a
    /// server on this machine. Best given in the environment (it holds the password).
    #[arg(long, env = "SERVICEMETER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of survey invitations, e.g. "Schoenwinkel <klantenservice@shop.nl>".
    #[arg(long, env = "SERVICEMETER_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// A reverse proxy (address or network, e.g. 10.0.0.0/8) whose X-Forwarded-For names the
    /// client; may be given several times.
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user (or give an existing user a role in another workspace). The password is
    /// asked for on a terminal, or read as one line from standard input.
    Add(UserAddArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// E-mail address (the sign-in name).
    pub email: String,
    /// Shorthand for --role admin.
    #[arg(long)]
    pub admin: bool,
    /// Role in the workspace: admin, lead, agent or viewer.
    #[arg(long, default_value = "viewer")]
    pub role: String,
    /// For agents: their name in the conversations.
    #[arg(long)]
    pub agent_name: Option<String>,
    /// Also make the user an installation administrator (may create workspaces in the web
    /// pages; the user `/setup` made is one).
    #[arg(long)]
    pub installation_admin: bool,
}

#[derive(Debug, Subcommand)]
pub enum WorkspaceCommand {
    /// Create a workspace; --config stores its configuration.
    Add(WorkspaceAddArgs),
    /// List the workspaces.
    List,
    /// Print the workspace's webhook secret and addresses (made on first use; --rotate makes a
    /// new one and the old one stops working).
    WebhookSecret(WebhookSecretArgs),
}

#[derive(Debug, Args)]
pub struct WebhookSecretArgs {
    #[arg(default_value = "default")]
    pub name: String,
    #[arg(long)]
    pub rotate: bool,
}

#[derive(Debug, Args)]
pub struct WorkspaceAddArgs {
    /// Name (lowercase letters, digits and dashes; used in web addresses).
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a workspace and print it (only this once).
    Add(TokenAddArgs),
    /// Revoke a token by its number.
    Revoke(TokenRevokeArgs),
    /// List a workspace's tokens.
    List(TokenListArgs),
}

#[derive(Debug, Args)]
pub struct TokenAddArgs {
    /// What the token is for (e.g. "helpdesk sync").
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    pub id: i64,
}

#[derive(Debug, Args)]
pub struct TokenListArgs {}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import (`-` = stdin; names ending in `.gz` are decompressed).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Store the valid records and write the rejected ones, with reasons, to --rejects.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Where --skip-invalid writes rejected records (JSON Lines).
    #[arg(long, default_value = "servicemeter-rejects.jsonl")]
    pub rejects: PathBuf,
    /// The format of the files: jsonl (canonical records), twitter, callcenter, zendesk,
    /// freshdesk, intercom, helpscout, chatwoot, gorgias, calls (generic call records), csv (with
    /// --mapping). A directory
    /// stands for the files in it.
    #[arg(long, default_value = "jsonl")]
    pub source: String,
    /// Time zone of timestamps without an offset [default: the workspace's].
    #[arg(long)]
    pub timezone: Option<String>,
    /// Twitter: name agents after the sign-off of a brand's reply ("sprintcare JK").
    #[arg(long)]
    pub twitter_signoff_agents: bool,
    /// CSV: the mapping file that names the columns (docs/importers.md).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ReportFormatArg {
    Table,
    Json,
    Csv,
    /// The report document as an HTML page (charts inline as SVG); needs --output.
    Html,
    /// The report document as a PDF; needs --output.
    Pdf,
    /// The CSV's rows as an XLSX workbook; needs --output.
    Xlsx,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum FactsFormatArg {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// First day (local date, inclusive) of conversations by start.
    #[arg(long)]
    pub from: Option<jiff::civil::Date>,
    /// Last day (local date, inclusive).
    #[arg(long)]
    pub to: Option<jiff::civil::Date>,
    /// A named period instead of --from/--to: today, yesterday, 7d, 30d, 90d, week,
    /// last-week, month, last-month, quarter, last-quarter, year, last-year. A period that is
    /// still running is compared with the same elapsed part of the one before.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// What the period is compared with: `previous` (the previous calendar month, quarter
    /// or year for those periods, else the days before) or `year` (a year earlier).
    #[arg(long, default_value = "previous")]
    pub compare: String,
    /// Only these channels (repeat for several: any of them).
    #[arg(long = "channel")]
    pub channels: Vec<String>,
    /// Only these teams; `(no team)` for conversations without one.
    #[arg(long = "team")]
    pub teams: Vec<String>,
    /// Only these agents; `(unassigned)` for conversations without one.
    #[arg(long = "agent")]
    pub agents: Vec<String>,
    /// Only conversations with any of these tags; `(untagged)` for none.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Breakdowns, comma-separated: channel, agent, team, tag, day, week, month.
    #[arg(long, value_delimiter = ',')]
    pub by: Vec<String>,
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormatArg,
    /// Write to this file instead of standard output (needed by html, pdf and xlsx). The file
    /// appears whole or not at all.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// The language of the html and pdf documents: nl or en.
    #[arg(long, default_value = "nl")]
    pub lang: String,
    /// Compute straight from these files instead of the store.
    #[arg(long)]
    pub input: Vec<String>,
}

#[derive(Debug, Args)]
pub struct FactsArgs {
    #[arg(long, value_enum, default_value = "csv")]
    pub format: FactsFormatArg,
    /// Compute straight from these files instead of the store.
    #[arg(long)]
    pub input: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of conversations of the main shop (the two smaller shops get 900 and 1 600
    /// per 4 000 of it).
    #[arg(long, default_value_t = 4000)]
    pub conversations: u64,
    /// Random seed (same seed, same data).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Then serve the demo workspace (data up to today) with a printed sign-in.
    #[arg(long)]
    pub serve: bool,
    /// Address for --serve.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Number of conversations.
    #[arg(long, default_value_t = 1000)]
    pub conversations: u64,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// First local date of arrivals.
    #[arg(long, default_value = "2024-02-01")]
    pub from: jiff::civil::Date,
    /// Number of days arrivals are spread over.
    #[arg(long, default_value_t = 90)]
    pub days: i64,
    /// Output file (`.gz` compresses); standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also write the shop's workspace configuration to this file.
    #[arg(long)]
    pub config_out: Option<PathBuf>,
    /// Which demo shop: default (fashion), fietsplaats (bicycles) or bloemenhuis (flowers).
    #[arg(long, default_value = "default")]
    pub shop: String,
}
