//! Settings of a workspace (administrators only): opening hours per channel, holidays and time
//! zone, targets, agent rules, members and roles, API tokens, the webhook secret, and the whole
//! configuration as TOML. A saved configuration is validated like the command line's and every
//! conversation's facts are recomputed with it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use servicemeter_core::WorkspaceConfig;
use servicemeter_core::access::Role;
use servicemeter_core::calendar::ScheduleError;
use servicemeter_core::config::{ConfigError, ConfigProblem, DEFAULT_CONFIG_TOML, Expected};
use servicemeter_store::config_file::{self, SaveError};
use servicemeter_store::jobs::{JobState, RECOMPUTE, RETENTION, SYNC, sync_key};
use servicemeter_store::{Accounts, Membership, Store, StoreError};

use crate::auth::{
    Access, Caller, SignedIn, check_new_password, hash_password_blocking, new_token,
    normalize_email, random_hex, token_hash, workspace_access,
};
use crate::error::WebError;
use crate::i18n::Lang;
use crate::pages::{Frame, render};
use crate::state::AppState;
use crate::webhooks::chatwoot_token;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A message of the settings page in both languages. Messages of the configuration's own
/// checks (core) name a TOML key, which stays as written, and a reason in the reader's language.
#[derive(Debug, Clone)]
pub(crate) struct Said {
    nl: String,
    en: String,
}

impl Said {
    pub(crate) fn new(nl: impl Into<String>, en: impl Into<String>) -> Said {
        Said {
            nl: nl.into(),
            en: en.into(),
        }
    }

    pub(crate) fn text(&self, lang: Lang) -> &str {
        match lang {
            Lang::Nl => &self.nl,
            Lang::En => &self.en,
        }
    }
}

impl From<String> for Said {
    fn from(message: String) -> Said {
        Said {
            nl: message.clone(),
            en: message,
        }
    }
}

impl From<ConfigError> for Said {
    fn from(error: ConfigError) -> Said {
        Said {
            nl: format!("{}: {}", error.key, config_problem_nl(&error.problem)),
            en: error.to_string(),
        }
    }
}

/// The Dutch reason of a configuration problem (the English one is its `Display`).
fn config_problem_nl(problem: &ConfigProblem) -> String {
    match problem {
        ConfigProblem::Syntax(message) => format!("geen geldige TOML ({message})"),
        ConfigProblem::NotString { found } => {
            format!("moet tekst zijn, niet {}", toml_type_nl(found))
        }
        ConfigProblem::Expected(what) => match what {
            Expected::NameList => "moet een lijst met namen zijn, zoals [\"Test Agent\"]",
            Expected::AgentsTable => "moet een tabel zijn met aliases, bots en exclude",
            Expected::AliasTable => {
                "moet een tabel zijn van \"naam in de gegevens\" = \"getoonde naam\""
            }
            Expected::DateList => "moet een lijst met datums zijn, zoals [\"2024-04-01\"]",
            Expected::DaysAndChannels => "moet een tabel met dagen en kanalen zijn",
            Expected::ChannelDurations => "moet een tabel zijn van kanaal = \"duur\"",
            Expected::TagList => "moet een lijst met tags zijn, zoals [\"vip\"]",
            Expected::Table => "moet een tabel zijn",
            Expected::TextsTable => {
                "moet een tabel zijn van taal = \"tekst\", zoals { nl = \"…\", en = \"…\" }"
            }
            Expected::ReasonList => {
                "moet een lijst met redenen zijn, zoals [{ nl = \"Te traag\", en = \"Too slow\" }]"
            }
            Expected::CommentTexts => {
                "moet een tabel zijn van taal = \"tekst\", of false voor geen vraag om commentaar"
            }
            Expected::RecipientList => {
                "moet een lijst met ontvangers zijn, zoals [\"eigenaar@shop.nl\", { email = \"lead@shop.nl\", language = \"en\" }]"
            }
            Expected::AttachmentList => "moet een lijst zijn, zoals [\"pdf\", \"xlsx\"]",
            Expected::ReportList => "moet een lijst met [[reports]]-tabellen zijn",
            Expected::AlertList => "moet een lijst met [[alerts]]-tabellen zijn",
            Expected::EmailList => "moet een lijst met adressen zijn, zoals [\"lead@shop.nl\"]",
        }
        .to_string(),
        ConfigProblem::Empty => "mag niet leeg zijn".to_string(),
        ConfigProblem::UnknownKey { known } => format!("onbekende sleutel; bekend zijn: {known}"),
        ConfigProblem::UnknownDay => {
            "onbekende dag; gebruik mon, tue, wed, thu, fri, sat, sun".to_string()
        }
        ConfigProblem::Hours(hours) => match hours {
            ScheduleError::NotRange(part) => {
                format!("'{part}' is geen tijdvak; schrijf UU:MM-UU:MM, bijvoorbeeld 09:00-17:30")
            }
            ScheduleError::NotStart(text) => {
                format!("'{text}' is geen tijdstip (UU:MM, 00:00–23:59)")
            }
            ScheduleError::NotEnd(text) => {
                format!("'{text}' is geen tijdstip (UU:MM, 00:00–24:00)")
            }
            ScheduleError::Backwards(part) => {
                format!("tijdvak '{part}' eindigt voordat het begint")
            }
            ScheduleError::Overlap(text) => format!("tijdvakken overlappen in '{text}'"),
        },
        ConfigProblem::NotPercentNumber { found } => {
            format!("moet een percentage zijn, niet {}", toml_type_nl(found))
        }
        ConfigProblem::NotPercent { number } => format!("{number} is geen percentage (0–100)"),
        ConfigProblem::NotDuration { text } => format!(
            "'{text}' is geen duur; gebruik hele getallen met d, h, m, s, zoals 30s, 5m, 1h30m"
        ),
        ConfigProblem::BadChannel { name } => {
            format!("kanaal '{name}' moet 1–64 letters, cijfers, '_' of '-' zijn")
        }
        ConfigProblem::NotDate { text } => format!("'{text}' is geen datum (JJJJ-MM-DD)"),
        ConfigProblem::MedianDefault => {
            "doelen voor de mediaan gelden alleen per kanaal".to_string()
        }
        ConfigProblem::RetentionMonths { max } => {
            format!("moet een heel aantal maanden zijn, van 1 tot {max}")
        }
        ConfigProblem::TagLength { max } => format!("een tag van 1 tot {max} bytes"),
        ConfigProblem::UnknownCalendar { name } => {
            format!("onbekende kalender '{name}'; beschikbaar: NL")
        }
        ConfigProblem::UnknownTimeZone { name } => {
            format!("'{name}' is geen bekende IANA-tijdzone (bijvoorbeeld Europe/Amsterdam)")
        }
        ConfigProblem::NotLanguage { text } => {
            format!("'{text}' is geen taalcode zoals nl of en-GB")
        }
        ConfigProblem::NotColor { text } => {
            format!("'{text}' is geen kleur; schrijf #rrggbb, bijvoorbeeld #1a7f37")
        }
        ConfigProblem::NotHttpsUrl { text } => format!("'{text}' is geen https://-adres"),
        ConfigProblem::TooLong { bytes, max } => {
            format!("{bytes} bytes; er mogen er hoogstens {max} zijn")
        }
        ConfigProblem::Days { min, max } => {
            format!("moet een heel aantal dagen zijn, van {min} tot {max}")
        }
        ConfigProblem::DelayTooLong { max_days } => {
            format!("mag hoogstens {max_days} dagen zijn")
        }
        ConfigProblem::UnknownScale { name, known } => {
            format!("onbekende schaal '{name}'; bekend zijn: {known}")
        }
        ConfigProblem::MissingLanguage { language } => {
            format!("heeft geen tekst in '{language}', de taal van de enquêtes")
        }
        ConfigProblem::NotBool { found } => {
            format!("moet true of false zijn, niet {}", toml_type_nl(found))
        }
        ConfigProblem::OnlyNps => "alleen NPS kan een relatie-enquête zijn".to_string(),
        ConfigProblem::TooMany { max } => format!("er mogen er hoogstens {max} zijn"),
        ConfigProblem::NotEmail { text } => format!("'{text}' is geen e-mailadres"),
        ConfigProblem::NotTimeOfDay { text } => {
            format!("'{text}' is geen tijdstip (UU:MM, bijvoorbeeld 08:00)")
        }
        ConfigProblem::NotOneOf { text, known } => format!("'{text}' is niet een van {known}"),
        ConfigProblem::NotReportName { text } => format!(
            "'{text}' is geen rapportnaam: 1 tot 40 kleine letters, cijfers en '-'"
        ),
        ConfigProblem::Twice { text } => format!("'{text}' staat er twee keer in"),
        ConfigProblem::Missing => "ontbreekt".to_string(),
        ConfigProblem::ReportLanguage { text } => {
            format!("'{text}': rapporten zijn er in nl of en")
        }
        ConfigProblem::NotAlertName { text } => format!(
            "'{text}' is geen naam voor een waarschuwing: 1 tot 40 kleine letters, cijfers en '-'"
        ),
        ConfigProblem::AboveAndBelow => "geef above of below, niet allebei".to_string(),
        ConfigProblem::NotThreshold { found } => format!(
            "moet een getal zijn, of voor tijden een duur zoals \"2m\"; gevonden: {found}"
        ),
        ConfigProblem::WindowTooLong { text } => format!("'{text}' is langer dan een week"),
        ConfigProblem::NoAudience => {
            "heeft een e-mailadres of een webhook nodig om het aan te melden".to_string()
        }
    }
}

/// A TOML value type as Dutch words (the TOML parser names them in English).
fn toml_type_nl(found: &str) -> &str {
    match found {
        "string" => "tekst",
        "integer" => "een geheel getal",
        "float" => "een kommagetal",
        "boolean" => "waar/onwaar",
        "datetime" => "een datum en tijd",
        "array" => "een lijst",
        "table" => "een tabel",
        other => other,
    }
}

pub(crate) async fn admin_access<S: Store + Accounts>(
    state: &AppState<S>,
    signed_in: &SignedIn,
    name: &str,
) -> Result<Access, WebError> {
    let access =
        workspace_access(&*state.store, &Caller::User(signed_in.user.clone()), name).await?;
    if !access.role.can_administer() {
        return Err(WebError::Forbidden);
    }
    Ok(access)
}

pub(crate) fn config_text(access: &Access) -> String {
    access
        .workspace
        .config_toml
        .clone()
        .unwrap_or_else(|| DEFAULT_CONFIG_TOML.to_string())
}

pub(crate) fn parse_table(text: &str) -> toml::Table {
    text.parse().unwrap_or_default()
}

/// One week of opening hours as written (empty = closed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct WeekRow {
    channel: String,
    days: Vec<(String, String)>,
}

/// The configuration forms' fields as the page shows them. Saving a form compares what was
/// posted with these and edits only the keys whose field changed, so that a form posted back
/// unchanged changes nothing and the TOML keeps its comments, order and number types.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ConfigForms {
    weeks: Vec<WeekRow>,
    timezone: String,
    nl_holidays: bool,
    holidays: String,
    first_response_targets: String,
    median_targets: String,
    csat_pct: String,
    resolution_pct: String,
    aliases: String,
    bots: String,
    exclude: String,
}

fn value_text(v: &toml::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn lines_of_table(table: Option<&toml::Value>) -> Option<String> {
    table.and_then(toml::Value::as_table).map(|t| {
        t.iter()
            .map(|(k, v)| format!("{k} = {}", value_text(v)))
            .collect::<Vec<_>>()
            .join("\n")
    })
}

fn lines_of_list(list: Option<&toml::Value>) -> String {
    list.and_then(toml::Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

/// Durations per channel as `channel = duration` lines, with `default` last.
fn duration_lines(
    map: &std::collections::BTreeMap<
        servicemeter_core::model::Channel,
        servicemeter_core::time::Duration,
    >,
    default: Option<servicemeter_core::time::Duration>,
) -> String {
    map.iter()
        .map(|(c, d)| format!("{} = {d}", c.as_str()))
        .chain(default.map(|d| format!("default = {d}")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A percentage as TOML would write it: `85`, `92.5`.
pub(crate) fn percent_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

impl ConfigForms {
    /// The fields of a configuration text. Targets that the text leaves out show the values
    /// the dashboard applies (the built-in defaults).
    fn of(text: &str) -> ConfigForms {
        let root = parse_table(text);
        let effective = WorkspaceConfig::from_toml(text).unwrap_or_default();
        let hours = root.get("opening_hours").and_then(toml::Value::as_table);
        let day_text = |table: Option<&toml::Table>, day: &str| {
            table
                .and_then(|t| t.get(day))
                .and_then(toml::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let mut weeks = vec![WeekRow {
            channel: "default".into(),
            days: DAYS
                .iter()
                .map(|d| (d.to_string(), day_text(hours, d)))
                .collect(),
        }];
        if let Some(hours) = hours {
            for (channel, v) in hours {
                if let Some(t) = v.as_table() {
                    weeks.push(WeekRow {
                        channel: channel.clone(),
                        days: DAYS
                            .iter()
                            .map(|d| (d.to_string(), day_text(Some(t), d)))
                            .collect(),
                    });
                }
            }
        }
        // An empty row to add a channel's own week.
        weeks.push(WeekRow {
            channel: String::new(),
            days: DAYS
                .iter()
                .map(|d| (d.to_string(), String::new()))
                .collect(),
        });
        let targets = root.get("targets").and_then(toml::Value::as_table);
        let target = |key: &str| targets.and_then(|t| t.get(key));
        let shown = &effective.targets;
        let agents = root.get("agents").and_then(toml::Value::as_table);
        ConfigForms {
            weeks,
            timezone: effective.timezone_name.clone(),
            nl_holidays: root
                .get("holiday_calendar")
                .and_then(toml::Value::as_str)
                .is_some_and(|c| c.eq_ignore_ascii_case("NL")),
            holidays: lines_of_list(root.get("holidays")),
            first_response_targets: lines_of_table(target("first_response")).unwrap_or_else(|| {
                duration_lines(&shown.first_response, Some(shown.first_response_default))
            }),
            median_targets: lines_of_table(target("median_first_response"))
                .unwrap_or_else(|| duration_lines(&shown.median_first_response, None)),
            csat_pct: target("csat_pct")
                .map(value_text)
                .unwrap_or_else(|| percent_text(shown.csat_pct)),
            resolution_pct: target("resolution_pct")
                .map(value_text)
                .unwrap_or_else(|| percent_text(shown.resolution_pct)),
            aliases: lines_of_table(agents.and_then(|a| a.get("aliases"))).unwrap_or_default(),
            bots: lines_of_list(agents.and_then(|a| a.get("bots"))),
            exclude: lines_of_list(agents.and_then(|a| a.get("exclude"))),
        }
    }
}

/// A short fingerprint of a configuration text. Each configuration form carries the one of the
/// text it was drawn from, so that a form from a page loaded before someone else saved a change
/// is refused instead of quietly undoing that change (its fields are compared with what the
/// page showed, and rows are matched by position).
pub(crate) fn config_version(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The refusal of a form drawn from another configuration than the stored one (`None` when it
/// is the same, or when the form does not say).
fn stale(access: &Access, posted: Option<&str>) -> Option<Said> {
    let posted = posted.filter(|v| !v.is_empty())?;
    (posted != config_version(&config_text(access))).then(|| {
        Said::new(
            "de instellingen zijn gewijzigd sinds deze pagina werd geladen (door een andere beheerder of de opdrachtregel); er is niets opgeslagen — laad de pagina opnieuw en maak de wijziging nog eens",
            "the configuration changed since this page was loaded (another administrator or the command line saved it); nothing was saved — reload the page and make the change again",
        )
    })
}

/// A text field as compared: lines trimmed, blank lines dropped, line ends unified (browsers
/// send CRLF from a textarea).
pub(crate) fn same_field(posted: &str, shown: &str) -> bool {
    fn clean(text: &str) -> Vec<&str> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect()
    }
    clean(posted) == clean(shown)
}

struct MemberRow {
    email: String,
    /// The role's name (the form's value).
    role: &'static str,
    /// The role in the reader's language.
    role_label: &'static str,
    agent_name: String,
    is_self: bool,
}

struct TokenRow {
    id: i64,
    name: String,
    created: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    frame: Frame,
    workspace: String,
    saved: String,
    error: String,
    new_token: String,
    day_names: Vec<(&'static str, &'static str)>,
    forms: ConfigForms,
    config_version: String,
    agents_seen: String,
    members: Vec<MemberRow>,
    /// Form value, label in the reader's language, chosen.
    roles: Vec<(&'static str, &'static str, bool)>,
    tokens: Vec<TokenRow>,
    webhook_secret: String,
    chatwoot_path: String,
    toml: String,
    /// Set while a recompute of this workspace is queued or running: what the banner says.
    recomputing: String,
    jobs: Vec<JobRow>,
    /// Said after an erasure.
    erased: String,
    audit: Vec<AuditRow>,
    syncs: Vec<SyncRow>,
    sync_sources: &'static [&'static str],
    surveys: crate::survey_settings::SurveyForms,
    mail: crate::survey_settings::MailForm,
    shares: crate::share::ShareSection,
}

/// A scheduled helpdesk sync as the settings page lists it (never its secret).
struct SyncRow {
    source: String,
    url: String,
    login: String,
    every: u32,
    /// The state of its newest run and when it ended (or may start).
    last: String,
}

/// An audit-log entry as the settings page lists it.
struct AuditRow {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

/// A background job as the settings page lists it.
struct JobRow {
    id: i64,
    kind: String,
    state: &'static str,
    attempts: String,
    created: String,
    error: String,
    dead: bool,
}

/// Jobs listed on the settings page.
const JOBS_SHOWN: u32 = 20;

#[derive(Debug, Default, Deserialize)]
pub struct SettingsQuery {
    saved: Option<String>,
}

/// What the page says besides the settings: what was saved, what went wrong, a token to copy
/// once, and the TOML text to show instead of the stored one (after a refused edit).
#[derive(Default)]
struct Notes {
    saved: String,
    error: String,
    new_token: String,
    toml: Option<String>,
    erased: String,
}

async fn page<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    signed_in: &SignedIn,
    access: &Access,
    notes: Notes,
) -> Result<SettingsPage, WebError> {
    let Notes {
        saved,
        error,
        new_token,
        toml: toml_override,
        erased,
    } = notes;
    let text = config_text(access);
    let forms = ConfigForms::of(&text);
    let surveys = crate::survey_settings::SurveyForms::of(&text, lang);
    let facts = crate::data::facts(state, &access.workspace).await?;
    let mut seen: Vec<&str> = (0..facts.len())
        .map(|i| facts.agent_index(i))
        .filter(|&a| a != servicemeter_core::table::NO_NAME)
        .map(|a| facts.name(a))
        .collect();
    seen.sort_unstable();
    seen.dedup();
    let members = state
        .store
        .members(access.workspace.id)
        .await?
        .into_iter()
        .map(|(u, m)| MemberRow {
            is_self: u.id == signed_in.user.id,
            email: u.email,
            role: m.role.as_str(),
            role_label: lang.texts().role(m.role),
            agent_name: m.agent_name.unwrap_or_default(),
        })
        .collect();
    let tz = data_tz(access);
    let tokens = state
        .store
        .tokens(access.workspace.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id,
            name: t.name,
            created: crate::conversations::local_time(t.created_at, &tz),
            live: t.revoked_at.is_none(),
        })
        .collect();
    let secret = state
        .store
        .webhook_secret(access.workspace.id)
        .await?
        .unwrap_or_default();
    let stored_jobs = state.store.jobs(access.workspace.id, JOBS_SHOWN).await?;
    let recomputing = stored_jobs
        .iter()
        .find(|j| j.kind == RECOMPUTE && matches!(j.state, JobState::Queued | JobState::Running))
        .map(|j| {
            let t = Frame::new(lang, None).t;
            // This process's own count, else what the worker (of any process) last wrote.
            let (done, total) = state
                .jobs_progress
                .of(access.workspace.id, j.id)
                .unwrap_or((j.progress_done as u64, j.progress_total as u64));
            match (done.min(total) * 100).checked_div(total) {
                Some(percent) => format!("{} ({percent} %)", t.recomputing),
                None => t.recomputing.to_string(),
            }
        })
        .unwrap_or_default();
    let t = Frame::new(lang, None).t;
    let jobs = stored_jobs
        .into_iter()
        .map(|j| JobRow {
            id: j.id,
            kind: match j.kind.as_str() {
                RECOMPUTE => t.job_recompute.to_string(),
                RETENTION => t.job_retention.to_string(),
                SYNC => format!("{} ({})", t.job_sync, j.payload),
                _ => j.kind,
            },
            state: job_state_text(t, j.state),
            attempts: format!("{}/{}", j.attempts, j.max_attempts),
            created: crate::conversations::local_time(j.created_at, &tz),
            error: j.last_error.unwrap_or_default(),
            dead: j.state == JobState::Dead,
        })
        .collect();
    let mut syncs = Vec::new();
    for account in state.store.sync_accounts(access.workspace.id).await? {
        let last = match state
            .store
            .latest(access.workspace.id, &sync_key(&account.source))
            .await?
        {
            None => t.sync_never.to_string(),
            Some(job) => format!(
                "{} {}",
                job_state_text(t, job.state),
                crate::conversations::local_time(job.finished_at.unwrap_or(job.run_after), &tz)
            ),
        };
        syncs.push(SyncRow {
            source: account.source,
            url: account.url,
            login: account.login,
            every: account.every_minutes,
            last,
        });
    }
    let audit = state
        .store
        .audit_log(access.workspace.id, JOBS_SHOWN)
        .await?
        .into_iter()
        .map(|e| AuditRow {
            at: crate::conversations::local_time(e.at, &tz),
            actor: e.actor,
            action: e.action,
            detail: e.detail,
        })
        .collect();
    Ok(SettingsPage {
        frame: Frame::new(lang, Some(signed_in.user.email.clone())),
        workspace: access.workspace.name.clone(),
        saved,
        error,
        new_token,
        day_names: DAYS
            .iter()
            .copied()
            .zip(lang.weekdays().iter().copied())
            .collect(),
        config_version: config_version(&text),
        forms,
        agents_seen: seen.join(", "),
        members,
        // The least privilege first and chosen: a slip of the hand gives too little.
        roles: [Role::Viewer, Role::Agent, Role::Lead, Role::Admin]
            .iter()
            .map(|r| (r.as_str(), lang.texts().role(*r), *r == Role::Viewer))
            .collect(),
        tokens,
        webhook_secret: secret.clone(),
        chatwoot_path: if secret.is_empty() {
            String::new()
        } else {
            format!(
                "/hooks/{}/chatwoot/{}",
                access.workspace.name,
                chatwoot_token(&secret)
            )
        },
        toml: toml_override.unwrap_or(text),
        recomputing,
        jobs,
        erased,
        audit,
        syncs,
        sync_sources: &servicemeter_sync::run::SOURCES,
        surveys,
        mail: crate::survey_settings::MailForm::of(state, access.workspace.id).await?,
        shares: crate::share::section(state, access, lang).await?,
    })
}

fn job_state_text(t: &crate::i18n::Texts, state: JobState) -> &'static str {
    match state {
        JobState::Queued => t.job_queued,
        JobState::Running => t.job_running,
        JobState::Done => t.job_done,
        JobState::Dead => t.job_dead,
    }
}

fn data_tz(access: &Access) -> jiff::tz::TimeZone {
    crate::data::config(&access.workspace)
        .map(|c| c.timezone)
        .unwrap_or(jiff::tz::TimeZone::UTC)
}

pub async fn show<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let notes = Notes {
        saved: query.saved.unwrap_or_default(),
        ..Notes::default()
    };
    let page = page(&state, lang, &signed_in, &access, notes).await?;
    Ok(render(&page)?.into_response())
}

/// Validates and stores a configuration text, queues the recompute of every conversation's
/// facts as a background job (the page answers at once and shows it), and rewrites the
/// configuration file beside an embedded store.
async fn save_config<S: Store + Accounts>(
    state: &AppState<S>,
    access: &Access,
    text: &str,
) -> Result<Result<(), Said>, WebError> {
    match config_file::save_in_background(
        &*state.store,
        &access.workspace,
        text,
        state.config_dir.as_deref(),
        state.now_millis(),
    )
    .await
    {
        Ok(saved) => {
            if saved.changed {
                state.jobs_wake.notify_one();
            }
            Ok(Ok(()))
        }
        Err(SaveError::Invalid(error)) => Ok(Err(error.into())),
        Err(SaveError::Store(e)) => Err(e.into()),
        Err(e @ SaveError::File { .. }) => Err(WebError::Internal(e.into())),
    }
}

pub(crate) async fn answer<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    signed_in: &SignedIn,
    access: &Access,
    section: &str,
    outcome: Result<(), Said>,
    toml_text: Option<String>,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!(
            "/w/{}/settings?saved={section}#{section}",
            access.workspace.name
        ))
        .into_response()),
        Err(error) => {
            // Reload the workspace so the page shows what is stored, beside the error.
            let notes = Notes {
                error: error.text(lang).to_string(),
                toml: toml_text,
                ..Notes::default()
            };
            let page = page(state, lang, signed_in, access, notes).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

/// `key = value` lines as pairs, in order; the first bad line is the error.
fn pairs(text: &str, field: &str) -> Result<Vec<(String, String)>, Said> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or_else(|| {
            Said::new(
                format!("{field}, regel {}: schrijf naam = waarde", i + 1),
                format!("{field}, line {}: write name = value", i + 1),
            )
        })?;
        let key = k.trim().trim_matches('"').to_string();
        let value = v.trim().trim_matches('"').to_string();
        if key.is_empty() || value.is_empty() {
            return Err(Said::new(
                format!("{field}, regel {}: schrijf naam = waarde", i + 1),
                format!("{field}, line {}: write name = value", i + 1),
            ));
        }
        out.retain(|(k, _)| *k != key);
        out.push((key, value));
    }
    Ok(out)
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// The table under `key` in `parent`, created (without a header of its own until it holds
/// keys) when missing.
pub(crate) fn section<'a>(
    parent: &'a mut dyn toml_edit::TableLike,
    key: &str,
) -> Result<&'a mut dyn toml_edit::TableLike, Said> {
    if parent.get(key).is_none() {
        let mut table = toml_edit::Table::new();
        table.set_implicit(true);
        parent.insert(key, toml_edit::Item::Table(table));
    }
    parent
        .get_mut(key)
        .and_then(toml_edit::Item::as_table_like_mut)
        .ok_or_else(|| {
            Said::new(
                format!("{key}: is in de opgeslagen configuratie geen tabel"),
                format!("{key}: is not a table in the stored configuration"),
            )
        })
}

/// Puts a value under a key; a value it replaces passes on its comments and spacing.
pub(crate) fn put(
    table: &mut dyn toml_edit::TableLike,
    key: &str,
    value: impl Into<toml_edit::Value>,
) {
    let mut value: toml_edit::Value = value.into();
    if let Some(old) = table.get(key).and_then(toml_edit::Item::as_value) {
        *value.decor_mut() = old.decor().clone();
    }
    table.insert(key, toml_edit::Item::Value(value));
}

/// Sets a string, leaving an equal value (and its comments) as it is.
pub(crate) fn set_text(table: &mut dyn toml_edit::TableLike, key: &str, text: &str) {
    if table.get(key).and_then(toml_edit::Item::as_str) != Some(text) {
        put(table, key, text);
    }
}

/// Replaces a table's `key = "value"` entries by `pairs`: equal entries are kept as written,
/// others set, entries not given removed; no pairs removes the table.
fn set_pairs(
    parent: &mut dyn toml_edit::TableLike,
    key: &str,
    pairs: &[(String, String)],
) -> Result<(), Said> {
    if pairs.is_empty() {
        parent.remove(key);
        return Ok(());
    }
    let table = section(parent, key)?;
    let stale: Vec<String> = table
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !pairs.iter().any(|(p, _)| p == k))
        .collect();
    for k in stale {
        table.remove(&k);
    }
    for (k, v) in pairs {
        set_text(table, k, v);
    }
    Ok(())
}

/// Sets an array of strings (removed when empty), unless it holds exactly these already.
fn set_list(table: &mut dyn toml_edit::TableLike, key: &str, items: &[String]) {
    if items.is_empty() {
        table.remove(key);
        return;
    }
    let current: Option<Vec<&str>> = table
        .get(key)
        .and_then(toml_edit::Item::as_array)
        .map(|a| a.iter().filter_map(toml_edit::Value::as_str).collect());
    if current.as_deref() == Some(&items.iter().map(String::as_str).collect::<Vec<_>>()[..]) {
        return;
    }
    let array: toml_edit::Array = items.iter().map(String::as_str).collect();
    put(table, key, array);
}

/// A percentage field: empty removes the key (the default applies), whole numbers stay
/// integers.
pub(crate) fn set_percent(
    table: &mut dyn toml_edit::TableLike,
    key: &str,
    text: &str,
    field: &str,
) -> Result<(), Said> {
    let text = text.trim().trim_end_matches('%').trim().replace(',', ".");
    if text.is_empty() {
        table.remove(key);
        return Ok(());
    }
    if let Ok(whole) = text.parse::<i64>() {
        put(table, key, whole);
        return Ok(());
    }
    let number = text.parse::<f64>().map_err(|_| {
        Said::new(
            format!("{field}: '{text}' is geen getal"),
            format!("{field}: '{text}' is not a number"),
        )
    })?;
    put(table, key, number);
    Ok(())
}

/// Applies a change to the stored configuration's TOML document (comments, order and number
/// types of untouched keys stay as they were) and saves it when anything changed — unless the
/// form was drawn from another configuration than the stored one (`version`, see [`stale`]).
pub(crate) async fn change_config<S: Store + Accounts>(
    state: &AppState<S>,
    access: &Access,
    version: Option<&str>,
    change: impl FnOnce(&mut toml_edit::DocumentMut) -> Result<(), Said>,
) -> Result<Result<(), Said>, WebError> {
    if let Some(error) = stale(access, version) {
        return Ok(Err(error));
    }
    let before = config_text(access);
    let mut doc: toml_edit::DocumentMut = match before.parse() {
        Ok(doc) => doc,
        Err(e) => {
            return Ok(Err(Said::new(
                format!("(toml): geen geldige TOML ({e})"),
                format!("(toml): {e}"),
            )));
        }
    };
    if let Err(e) = change(&mut doc) {
        return Ok(Err(e));
    }
    let text = doc.to_string();
    if text == before {
        // Nothing changed: nothing is stored (a new workspace keeps no configuration of its
        // own, and the defaults stay in force).
        return Ok(Ok(()));
    }
    save_config(state, access, &text).await
}

pub async fn save_hours<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let version = fields
        .iter()
        .find(|(k, _)| k == "version")
        .map(|(_, v)| v.clone());
    let shown = ConfigForms::of(&config_text(&access)).weeks;
    // Fields: week.<row>.channel and week.<row>.<day>, rows as the page numbered them.
    let mut posted: Vec<WeekRow> = shown
        .iter()
        .map(|row| WeekRow {
            channel: row.channel.clone(),
            days: row
                .days
                .iter()
                .map(|(d, _)| (d.clone(), String::new()))
                .collect(),
        })
        .collect();
    for (key, value) in &fields {
        let mut parts = key.splitn(3, '.');
        let (Some("week"), Some(n), Some(what)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Some(row) = n.parse::<usize>().ok().and_then(|n| posted.get_mut(n)) else {
            continue;
        };
        if what == "channel" {
            row.channel = value.trim().to_lowercase();
        } else if let Some(day) = row.days.iter_mut().find(|(d, _)| d == what) {
            day.1 = value.trim().to_string();
        }
    }
    let outcome = change_config(&state, &access, version.as_deref(), |doc| {
        let hours = section(doc.as_table_mut(), "opening_hours")?;
        for (i, (was, now)) in shown.iter().zip(&posted).enumerate() {
            if was == now {
                continue;
            }
            let set_days = |table: &mut dyn toml_edit::TableLike| {
                for ((day, old), (_, new)) in was.days.iter().zip(&now.days) {
                    if old != new || was.channel != now.channel {
                        if new.is_empty() {
                            table.remove(day);
                        } else {
                            set_text(table, day, new);
                        }
                    }
                }
            };
            if i == 0 {
                set_days(hours);
                continue;
            }
            let has_days = now.days.iter().any(|(_, v)| !v.is_empty());
            if now.channel.is_empty() {
                if was.channel.is_empty() && has_days {
                    return Err(Said::new(
                        "opening_hours: een week heeft een kanaalnaam nodig",
                        "opening_hours: a week needs a channel name",
                    ));
                }
                hours.remove(&was.channel);
                continue;
            }
            if now.channel == "default" {
                return Err(Said::new(
                    "opening_hours: 'default' is de eerste rij; geef het kanaal een naam",
                    "opening_hours: 'default' is the first row; name the channel",
                ));
            }
            if now.channel != was.channel {
                if hours.get(&now.channel).is_some() {
                    return Err(Said::new(
                        format!(
                            "opening_hours.{}: dit kanaal heeft al een week",
                            now.channel
                        ),
                        format!(
                            "opening_hours.{}: this channel has a week already",
                            now.channel
                        ),
                    ));
                }
                let moved = if was.channel.is_empty() {
                    None
                } else {
                    hours.remove(&was.channel)
                };
                let mut table = match moved {
                    Some(toml_edit::Item::Table(t)) => t,
                    _ => toml_edit::Table::new(),
                };
                table.set_implicit(false);
                hours.insert(&now.channel, toml_edit::Item::Table(table));
            }
            set_days(section(hours, &now.channel)?);
        }
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "hours", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HolidaysForm {
    version: String,
    timezone: String,
    nl: Option<String>,
    holidays: String,
}

pub async fn save_holidays<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<HolidaysForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let shown = ConfigForms::of(&config_text(&access));
    let outcome = change_config(&state, &access, Some(&form.version), |doc| {
        let root = doc.as_table_mut();
        if form.timezone.trim() != shown.timezone {
            set_text(root, "timezone", form.timezone.trim());
        }
        if form.nl.is_some() != shown.nl_holidays {
            if form.nl.is_some() {
                set_text(root, "holiday_calendar", "NL");
            } else {
                root.remove("holiday_calendar");
            }
        }
        if !same_field(&form.holidays, &shown.holidays) {
            set_list(root, "holidays", &lines(&form.holidays));
        }
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "holidays", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TargetsForm {
    version: String,
    first_response: String,
    median_first_response: String,
    csat_pct: String,
    resolution_pct: String,
}

pub async fn save_targets<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<TargetsForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let shown = ConfigForms::of(&config_text(&access));
    let outcome = change_config(&state, &access, Some(&form.version), |doc| {
        let first = (!same_field(&form.first_response, &shown.first_response_targets))
            .then(|| pairs(&form.first_response, "targets.first_response"))
            .transpose()?;
        let median = (!same_field(&form.median_first_response, &shown.median_targets))
            .then(|| pairs(&form.median_first_response, "targets.median_first_response"))
            .transpose()?;
        let csat = !same_field(&form.csat_pct, &shown.csat_pct);
        let resolution = !same_field(&form.resolution_pct, &shown.resolution_pct);
        if first.is_none() && median.is_none() && !csat && !resolution {
            return Ok(());
        }
        let targets = section(doc.as_table_mut(), "targets")?;
        if let Some(first) = first {
            set_pairs(targets, "first_response", &first)?;
        }
        if let Some(median) = median {
            set_pairs(targets, "median_first_response", &median)?;
        }
        if csat {
            set_percent(targets, "csat_pct", &form.csat_pct, "targets.csat_pct")?;
        }
        if resolution {
            set_percent(
                targets,
                "resolution_pct",
                &form.resolution_pct,
                "targets.resolution_pct",
            )?;
        }
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "targets", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AgentsForm {
    version: String,
    aliases: String,
    bots: String,
    exclude: String,
}

pub async fn save_agents<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<AgentsForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let shown = ConfigForms::of(&config_text(&access));
    let outcome = change_config(&state, &access, Some(&form.version), |doc| {
        let aliases = (!same_field(&form.aliases, &shown.aliases))
            .then(|| pairs(&form.aliases, "agents.aliases"))
            .transpose()?;
        let bots = !same_field(&form.bots, &shown.bots);
        let exclude = !same_field(&form.exclude, &shown.exclude);
        if aliases.is_none() && !bots && !exclude {
            return Ok(());
        }
        let agents = section(doc.as_table_mut(), "agents")?;
        if let Some(aliases) = aliases {
            set_pairs(agents, "aliases", &aliases)?;
        }
        if bots {
            set_list(agents, "bots", &lines(&form.bots));
        }
        if exclude {
            set_list(agents, "exclude", &lines(&form.exclude));
        }
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "agents", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfigForm {
    version: String,
    toml: String,
}

pub async fn save_toml<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<ConfigForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    // A textarea posts CRLF line ends; the stored text keeps the LF it was written with.
    let text = form.toml.replace("\r\n", "\n");
    // A stale form's text comes back on the page with the error, so the edit is not lost.
    let outcome = if let Some(error) = stale(&access, Some(&form.version)) {
        Err(error)
    } else if text == config_text(&access) {
        Ok(())
    } else {
        save_config(&state, &access, &text).await?
    };
    answer(
        &state,
        lang,
        &signed_in,
        &access,
        "toml",
        outcome,
        Some(form.toml),
    )
    .await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct MemberForm {
    email: String,
    role: String,
    agent_name: String,
    password: String,
    remove: Option<String>,
}

pub async fn save_member<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<MemberForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let outcome: Result<(), Said> = async {
        let email = normalize_email(&form.email).map_err(|en| {
            Said::new(
                crate::auth::form_problem(&form.email, None, Lang::Nl).unwrap_or_default(),
                en,
            )
        })?;
        let existing = state
            .store
            .user_by_email(&email)
            .await
            .map_err(|e| Said::from(e.to_string()))?;
        if form.remove.is_some() {
            let user = existing.ok_or_else(|| {
                Said::new(
                    format!("e-mail: {email} is geen lid"),
                    format!("email: {email} is not a member"),
                )
            })?;
            if user.id == signed_in.user.id {
                return Err(Said::new(
                    "e-mail: je kunt jezelf niet verwijderen",
                    "email: you cannot remove yourself",
                ));
            }
            state
                .store
                .remove_membership(access.workspace.id, user.id)
                .await
                .map_err(|e| Said::from(e.to_string()))?;
            return Ok(());
        }
        let role = Role::parse(&form.role).map_err(|e| {
            Said::new(
                format!("rol: '{}' is geen rol (admin, lead, agent, viewer)", form.role),
                format!("role: {e}"),
            )
        })?;
        let agent_name = form.agent_name.trim();
        if role == Role::Agent && agent_name.is_empty() {
            return Err(Said::new(
                "naam als medewerker: een medewerker heeft de naam nodig die de gesprekken gebruiken",
                "agent_name: an agent needs the name the conversations use for them",
            ));
        }
        let user = match existing {
            Some(user) => {
                if user.id == signed_in.user.id && role != Role::Admin {
                    return Err(Said::new(
                        "rol: je kunt je eigen beheerdersrol niet afnemen",
                        "role: you cannot take away your own administrator role",
                    ));
                }
                user.id
            }
            None => {
                check_new_password(&form.password).map_err(|en| {
                    Said::new(
                        crate::auth::form_problem(&email, Some(&form.password), Lang::Nl)
                            .unwrap_or_default(),
                        en,
                    )
                })?;
                let hash = hash_password_blocking(form.password.clone())
                    .await
                    .map_err(|e| Said::from(e.to_string()))?;
                match state
                    .store
                    .create_user(&email, &hash, state.now_millis())
                    .await
                {
                    Ok(id) => id,
                    Err(StoreError::Conflict(_)) => {
                        return Err(Said::new(
                            format!("e-mail: {email} is zojuist toegevoegd"),
                            format!("email: {email} was just added"),
                        ));
                    }
                    Err(e) => return Err(e.to_string().into()),
                }
            }
        };
        state
            .store
            .set_membership(
                access.workspace.id,
                user,
                &Membership {
                    role,
                    agent_name: (!agent_name.is_empty()).then(|| agent_name.to_string()),
                },
            )
            .await
            .map_err(|e| Said::from(e.to_string()))
    }
    .await;
    answer(&state, lang, &signed_in, &access, "members", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    revoke: Option<i64>,
}

pub async fn save_token<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    if let Some(id) = form.revoke {
        state
            .store
            .revoke_token(access.workspace.id, id, state.now_millis())
            .await?;
        return answer(&state, lang, &signed_in, &access, "tokens", Ok(()), None).await;
    }
    let label = form.name.trim();
    if label.is_empty() {
        return answer(
            &state,
            lang,
            &signed_in,
            &access,
            "tokens",
            Err(Said::new(
                "naam: zeg waar de token voor is",
                "name: say what the token is for",
            )),
            None,
        )
        .await;
    }
    let token = new_token(access.workspace.id)?;
    state
        .store
        .create_token(
            access.workspace.id,
            label,
            &token_hash(&token),
            state.now_millis(),
        )
        .await?;
    // Shown once, on this answer; only its hash is kept.
    let notes = Notes {
        saved: "tokens".into(),
        new_token: token,
        ..Notes::default()
    };
    let page = page(&state, lang, &signed_in, &access, notes).await?;
    Ok(render(&page)?.into_response())
}

pub async fn rotate_webhook_secret<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let secret = random_hex(32)?;
    state
        .store
        .set_webhook_secret(access.workspace.id, &secret)
        .await?;
    answer(&state, lang, &signed_in, &access, "webhook", Ok(()), None).await
}

#[derive(Debug, Deserialize)]
pub struct JobForm {
    retry: i64,
}

/// Queues a failed (dead) job again with fresh attempts.
pub async fn retry_job<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<JobForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let retried = state
        .store
        .retry(access.workspace.id, form.retry, state.now_millis())
        .await?;
    if retried {
        state.jobs_wake.notify_one();
    }
    let outcome = if retried {
        Ok(())
    } else {
        Err(Said::new(
            format!(
                "taak {}: alleen een mislukte taak kan opnieuw (of er wacht er al een van dezelfde soort)",
                form.retry
            ),
            format!(
                "job {}: only a failed job can be tried again (or one of its kind is waiting already)",
                form.retry
            ),
        ))
    };
    answer(&state, lang, &signed_in, &access, "jobs", outcome, None).await
}

#[derive(Debug, Deserialize)]
pub struct EraseForm {
    customer: String,
    confirm: String,
}

/// Erases a customer's personal data (right to erasure), recorded in the audit log with the
/// administrator who did it.
pub async fn erase_customer<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<EraseForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let customer = form.customer.trim();
    let problem = if customer.is_empty() {
        Some(Said::new(
            "klant: zeg van wie de gegevens gewist moeten worden",
            "customer: say whose data to erase",
        ))
    } else if customer != form.confirm.trim() {
        Some(Said::new(
            "bevestiging: typ de klant precies zoals hierboven om te bevestigen",
            "confirm: type the customer exactly as above to confirm",
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return answer(
            &state,
            lang,
            &signed_in,
            &access,
            "erase",
            Err(problem),
            None,
        )
        .await;
    }
    let changed = state
        .store
        .erase_customer(
            access.workspace.id,
            customer,
            &signed_in.user.email,
            state.now_millis(),
        )
        .await?;
    let notes = Notes {
        erased: Frame::new(lang, None)
            .t
            .erased_note
            .replace("{n}", &changed.to_string()),
        ..Notes::default()
    };
    let page = page(&state, lang, &signed_in, &access, notes).await?;
    Ok(render(&page)?.into_response())
}

#[derive(Debug, Deserialize)]
pub struct SyncForm {
    source: String,
    url: String,
    #[serde(default)]
    login: String,
    secret: String,
    every: String,
}

/// Schedules (or replaces) the sync of a helpdesk account; its first run is queued at once.
pub async fn save_sync<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<SyncForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let checked = form
        .every
        .trim()
        .parse::<u32>()
        .map_err(|_| {
            Said::new(
                "elke: een heel aantal minuten",
                "every: a whole number of minutes",
            )
        })
        .and_then(|every| {
            servicemeter_sync::run::checked_account(
                &form.source,
                &form.url,
                &form.login,
                &form.secret,
                every,
                state.now_millis(),
            )
            .map_err(Said::from)
        });
    let outcome = match checked {
        Ok(account) => {
            state
                .store
                .set_sync_account(access.workspace.id, &account, &signed_in.user.email)
                .await?;
            state.jobs_wake.notify_one();
            Ok(())
        }
        Err(problem) => Err(problem),
    };
    answer(&state, lang, &signed_in, &access, "sync", outcome, None).await
}

#[derive(Debug, Deserialize)]
pub struct SyncRemoveForm {
    source: String,
}

/// Stops the scheduled sync of a source (its cursor stays, so scheduling it again resumes).
pub async fn remove_sync<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<SyncRemoveForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let removed = state
        .store
        .remove_sync_account(
            access.workspace.id,
            &form.source,
            &signed_in.user.email,
            state.now_millis(),
        )
        .await?;
    let outcome = if removed {
        Ok(())
    } else {
        Err(Said::new(
            format!(
                "bron: {} wordt niet volgens schema gesynchroniseerd",
                form.source
            ),
            format!("source: {} is not synced on a schedule", form.source),
        ))
    };
    answer(&state, lang, &signed_in, &access, "sync", outcome, None).await
}
