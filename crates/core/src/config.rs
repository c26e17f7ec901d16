//! Workspace configuration: time zone, opening hours per channel, holidays and targets, read
//! from TOML with errors that name the key and what is wrong.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

use crate::alerts::AlertDefinition;
use crate::calendar::{BusinessCalendar, DAY_KEYS, HolidayCalendar, Holidays, WeekSchedule};
use crate::model::{Channel, SurveyKind};
use crate::report_definitions::{
    Attachment, MAX_AGENCY_BYTES, MAX_RECIPIENTS, MAX_REPORTS, Recipient, ReportDefinition,
};
use crate::schedule::Every;
use crate::surveys::{
    MAX_CHANGE_DAYS, MAX_DELAY_SECONDS, MAX_FOLLOW_UP_DAYS, MAX_SURVEY_DAYS, MAX_SURVEY_REASONS,
    MAX_SURVEY_TEXT_BYTES, Reason, SurveyDefinition, SurveySettings, Texts, scales_of,
};
use crate::time::Duration;

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

/// A configuration problem: which key, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    /// Dotted key path, e.g. `opening_hours.chat.mon`; `(toml)` for syntax errors.
    pub key: String,
    pub problem: ConfigProblem,
}

/// What a configuration value should have been, in [`ConfigProblem::Expected`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// `["Test Agent"]`
    NameList,
    /// `[agents]` with aliases, bots and exclude.
    AgentsTable,
    /// `"name in records" = "name shown"`
    AliasTable,
    /// `["2024-04-01"]`
    DateList,
    /// Days and channel tables under `[opening_hours]`.
    DaysAndChannels,
    /// `channel = "duration"`
    ChannelDurations,
    /// `["vip"]`
    TagList,
    /// Any table.
    Table,
    /// `{ nl = "…", en = "…" }`
    TextsTable,
    /// `[{ nl = "Te traag", en = "Too slow" }]`
    ReasonList,
    /// `comment`: a table of texts, or `false`.
    CommentTexts,
    /// `recipients = ["owner@shop.nl", { email = "…", language = "en" }]`
    RecipientList,
    /// `attach = ["pdf", "xlsx"]`
    AttachmentList,
    /// `[[reports]]`
    ReportList,
    /// `[[alerts]]`
    AlertList,
    /// `["lead@shop.nl"]`
    EmailList,
}

/// Why a configuration value was refused. The English text is the `Display`; the web
/// renders every case in the reader's language as well, so each is a case of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigProblem {
    /// The TOML parser's own message (not translated).
    #[error("{0}")]
    Syntax(String),
    #[error("must be a string, found {found}")]
    NotString { found: &'static str },
    #[error("{}", expected_text(*.0))]
    Expected(Expected),
    #[error("must not be empty")]
    Empty,
    /// A key that is not part of its table; `known` lists the keys that are.
    #[error("unknown key; known: {known}")]
    UnknownKey { known: &'static str },
    #[error("unknown day; use mon, tue, wed, thu, fri, sat, sun")]
    UnknownDay,
    #[error(transparent)]
    Hours(#[from] crate::calendar::ScheduleError),
    #[error("must be a number of percent, found {found}")]
    NotPercentNumber { found: &'static str },
    #[error("{number} is not a percentage (0–100)")]
    NotPercent { number: String },
    #[error(
        "'{text}' is not a duration; use whole numbers with units d, h, m, s such as 30s, 5m, 1h30m"
    )]
    NotDuration { text: String },
    #[error("channel '{name}' must be 1–64 letters, digits, '_' or '-'")]
    BadChannel { name: String },
    #[error("'{text}' is not a date (YYYY-MM-DD)")]
    NotDate { text: String },
    #[error("median targets are per channel only")]
    MedianDefault,
    #[error("must be a whole number of months from 1 to {max}")]
    RetentionMonths { max: i64 },
    #[error("a tag of 1 to {max} bytes")]
    TagLength { max: usize },
    #[error("unknown calendar '{name}'; available: NL")]
    UnknownCalendar { name: String },
    #[error("'{name}' is not a known IANA time zone (e.g. Europe/Amsterdam)")]
    UnknownTimeZone { name: String },
    #[error("'{text}' is not a language tag such as nl or en-GB")]
    NotLanguage { text: String },
    #[error("'{text}' is not a colour; write #rrggbb, e.g. #1a7f37")]
    NotColor { text: String },
    #[error("'{text}' is not an https:// address")]
    NotHttpsUrl { text: String },
    #[error("{bytes} bytes; at most {max} are allowed")]
    TooLong { bytes: usize, max: usize },
    #[error("must be a whole number of days from {min} to {max}")]
    Days { min: i64, max: i64 },
    #[error("must be at most {max_days} days")]
    DelayTooLong { max_days: i64 },
    #[error("unknown scale '{name}'; known: {known}")]
    UnknownScale { name: String, known: String },
    #[error("has no text in '{language}', the surveys' language")]
    MissingLanguage { language: String },
    #[error("must be true or false, found {found}")]
    NotBool { found: &'static str },
    #[error("only NPS can be a relationship survey")]
    OnlyNps,
    #[error("at most {max} are allowed")]
    TooMany { max: usize },
    #[error("'{text}' is not an e-mail address")]
    NotEmail { text: String },
    #[error("'{text}' is not a time of day (HH:MM, e.g. 08:00)")]
    NotTimeOfDay { text: String },
    #[error("'{text}' is not one of {known}")]
    NotOneOf { text: String, known: &'static str },
    #[error("'{text}' is not a report name: 1 to 40 lowercase letters, digits and '-'")]
    NotReportName { text: String },
    #[error("'{text}' is used twice")]
    Twice { text: String },
    #[error("is missing")]
    Missing,
    #[error("'{text}': reports are written in nl or en")]
    ReportLanguage { text: String },
    #[error("'{text}' is not an alert name: 1 to 40 lowercase letters, digits and '-'")]
    NotAlertName { text: String },
    #[error("give above or below, not both")]
    AboveAndBelow,
    #[error("must be a number, or a duration such as \"2m\" for times; found {found}")]
    NotThreshold { found: String },
    #[error("'{text}' is longer than a week")]
    WindowTooLong { text: String },
    #[error("needs an e-mail address or a webhook to say it to")]
    NoAudience,
}

fn expected_text(expected: Expected) -> &'static str {
    match expected {
        Expected::NameList => "must be a list of names such as [\"Test Agent\"]",
        Expected::AgentsTable => "must be a table with aliases, bots and exclude",
        Expected::AliasTable => "must be a table of \"name in records\" = \"name shown\"",
        Expected::DateList => "must be a list of dates such as [\"2024-04-01\"]",
        Expected::DaysAndChannels => "must be a table of days and channels",
        Expected::ChannelDurations => "must be a table of channel = \"duration\"",
        Expected::TagList => "must be a list of tags such as [\"vip\"]",
        Expected::Table => "must be a table",
        Expected::TextsTable => {
            "must be a table of language = \"text\", e.g. { nl = \"…\", en = \"…\" }"
        }
        Expected::ReasonList => {
            "must be a list of reasons such as [{ nl = \"Te traag\", en = \"Too slow\" }]"
        }
        Expected::CommentTexts => {
            "must be a table of language = \"text\", or false for no comment question"
        }
        Expected::RecipientList => {
            "must be a list of recipients such as [\"owner@shop.nl\", { email = \"lead@shop.nl\", language = \"en\" }]"
        }
        Expected::AttachmentList => "must be a list such as [\"pdf\", \"xlsx\"]",
        Expected::ReportList => "must be a list of [[reports]] tables",
        Expected::AlertList => "must be a list of [[alerts]] tables",
        Expected::EmailList => "must be a list of addresses such as [\"lead@shop.nl\"]",
    }
}

fn err(key: impl Into<String>, problem: ConfigProblem) -> ConfigError {
    ConfigError {
        key: key.into(),
        problem,
    }
}

fn expected(key: impl Into<String>, what: Expected) -> ConfigError {
    err(key, ConfigProblem::Expected(what))
}

fn unknown(key: impl Into<String>, known: &'static str) -> ConfigError {
    err(key, ConfigProblem::UnknownKey { known })
}

/// Targets that figures are coloured against.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets {
    /// Per-conversation first-response limit (business time) per channel.
    pub first_response: BTreeMap<Channel, Duration>,
    /// Limit for channels not in `first_response`.
    pub first_response_default: Duration,
    /// Median first response (business time) per channel, e.g. chat ≤ 120 s.
    pub median_first_response: BTreeMap<Channel, Duration>,
    /// Minimum share of satisfied CSAT responses, in percent.
    pub csat_pct: f64,
    /// Minimum share of conversations resolved, in percent.
    pub resolution_pct: f64,
}

impl Targets {
    /// The first-response limit of a channel (its own, else the default), in milliseconds.
    pub fn first_response_millis(&self, channel: &str) -> i64 {
        self.first_response
            .iter()
            .find(|(c, _)| c.as_str() == channel)
            .map(|(_, d)| d.millis())
            .unwrap_or(self.first_response_default.millis())
    }
}

impl Default for Targets {
    fn default() -> Targets {
        let ch = |s: &str| Channel::new(s).expect("valid channel");
        Targets {
            first_response: BTreeMap::from([
                (ch("chat"), Duration { seconds: 120 }),
                (ch("phone"), Duration { seconds: 120 }),
                (ch("email"), Duration { seconds: 4 * 3600 }),
            ]),
            first_response_default: Duration { seconds: 4 * 3600 },
            median_first_response: BTreeMap::from([(ch("chat"), Duration { seconds: 120 })]),
            csat_pct: 85.0,
            resolution_pct: 90.0,
        }
    }
}

/// A workspace's configuration, validated.
#[derive(Debug, Clone)]
pub struct WorkspaceConfig {
    pub timezone: TimeZone,
    pub timezone_name: String,
    pub holidays: Arc<Holidays>,
    /// The week used by channels without their own table.
    pub default_week: WeekSchedule,
    /// Weeks that replace the default for one channel.
    pub channel_weeks: BTreeMap<Channel, WeekSchedule>,
    pub targets: Targets,
    pub agents: AgentRules,
    /// `[retention] message_texts_months`: message texts and survey comments older than this
    /// many months are removed (the figures stay). `None`: kept.
    pub retention_months: Option<u32>,
    /// `[topics] segments`: tags that name a kind of customer (`vip`, `b2b`), not a subject:
    /// they are never knowledge-base candidates.
    pub segment_tags: BTreeSet<String>,
    /// `[surveys]`: the surveys servicemeter sends (none unless a kind is configured).
    pub surveys: SurveySettings,
    /// `[[reports]]`: the scheduled reports (docs/reports.md).
    pub reports: Vec<ReportDefinition>,
    /// `[[alerts]]`: the alerts (docs/reports.md).
    pub alerts: Vec<crate::alerts::AlertDefinition>,
}

/// The longest retention one can ask for (a hundred years).
pub const MAX_RETENTION_MONTHS: i64 = 1200;

/// How agent names in the records are read: aliases merge spellings into one display name,
/// bots are accounts whose messages count as bot messages, and excluded agents (test accounts)
/// have their conversations left out of every figure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentRules {
    /// Name in the records → name shown.
    pub aliases: BTreeMap<String, String>,
    /// Names (as in the records) whose agent messages are treated as bot messages.
    pub bots: BTreeSet<String>,
    /// Names (after aliases) whose conversations are left out.
    pub exclude: BTreeSet<String>,
}

impl AgentRules {
    /// The shown name of an agent name from the records.
    pub fn display_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map_or(name, String::as_str)
    }

    /// Whether messages by this name are a bot's.
    pub fn is_bot(&self, name: Option<&str>) -> bool {
        name.is_some_and(|n| self.bots.contains(n))
    }

    /// Whether the rules change nothing after facts are computed (no aliases, no exclusions).
    pub fn keeps_facts_as_computed(&self) -> bool {
        self.aliases.is_empty() && self.exclude.is_empty()
    }
}

fn string_list(value: &toml::Value, path: &str) -> Result<BTreeSet<String>, ConfigError> {
    let items = value
        .as_array()
        .ok_or_else(|| expected(path, Expected::NameList))?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = as_str(item, &format!("{path}[{i}]"))?.trim();
            if name.is_empty() {
                return Err(err(format!("{path}[{i}]"), ConfigProblem::Empty));
            }
            Ok(name.to_string())
        })
        .collect()
}

fn parse_agents(value: &toml::Value) -> Result<AgentRules, ConfigError> {
    let table = value
        .as_table()
        .ok_or_else(|| expected("agents", Expected::AgentsTable))?;
    let mut rules = AgentRules::default();
    for (key, v) in table {
        let path = format!("agents.{key}");
        match key.as_str() {
            "aliases" => {
                let aliases = v
                    .as_table()
                    .ok_or_else(|| expected(&path, Expected::AliasTable))?;
                for (from, to) in aliases {
                    let item = format!("{path}.{from}");
                    let to = as_str(to, &item)?.trim();
                    if to.is_empty() {
                        return Err(err(item, ConfigProblem::Empty));
                    }
                    rules
                        .aliases
                        .insert(from.trim().to_string(), to.to_string());
                }
            }
            "bots" => rules.bots = string_list(v, &path)?,
            "exclude" => rules.exclude = string_list(v, &path)?,
            _ => return Err(unknown(path, "aliases, bots, exclude")),
        }
    }
    Ok(rules)
}

/// The configuration used when none is given: Europe/Amsterdam, Monday–Friday 09:00–17:00,
/// Dutch public holidays, default targets.
pub const DEFAULT_CONFIG_TOML: &str = r#"# servicemeter workspace configuration (built-in default)
timezone = "Europe/Amsterdam"
holiday_calendar = "NL"

[opening_hours]
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
"#;

impl Default for WorkspaceConfig {
    fn default() -> WorkspaceConfig {
        WorkspaceConfig::from_toml(DEFAULT_CONFIG_TOML).expect("built-in config is valid")
    }
}

fn as_str<'a>(value: &'a toml::Value, key: &str) -> Result<&'a str, ConfigError> {
    value.as_str().ok_or_else(|| {
        err(
            key,
            ConfigProblem::NotString {
                found: value.type_str(),
            },
        )
    })
}

fn parse_week(table: &toml::Table, key: &str) -> Result<WeekSchedule, ConfigError> {
    let mut week = WeekSchedule::default();
    for (day_key, value) in table {
        let path = format!("{key}.{day_key}");
        let index = DAY_KEYS
            .iter()
            .position(|d| d == day_key)
            .ok_or_else(|| err(&path, ConfigProblem::UnknownDay))?;
        let text = as_str(value, &path)?;
        week.days[index] = WeekSchedule::parse_day(text).map_err(|e| err(&path, e.into()))?;
    }
    Ok(week)
}

fn channel(name: &str, path: &str) -> Result<Channel, ConfigError> {
    Channel::new(name).map_err(|_| {
        err(
            path,
            ConfigProblem::BadChannel {
                name: name.to_string(),
            },
        )
    })
}

fn parse_percent(value: &toml::Value, key: &str) -> Result<f64, ConfigError> {
    let number = match value {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        other => {
            return Err(err(
                key,
                ConfigProblem::NotPercentNumber {
                    found: other.type_str(),
                },
            ));
        }
    };
    if !(0.0..=100.0).contains(&number) {
        return Err(err(
            key,
            ConfigProblem::NotPercent {
                number: number.to_string(),
            },
        ));
    }
    Ok(number)
}

fn parse_channel_durations(
    table: &toml::Table,
    key: &str,
) -> Result<(BTreeMap<Channel, Duration>, Option<Duration>), ConfigError> {
    let mut map = BTreeMap::new();
    let mut default = None;
    for (name, value) in table {
        let path = format!("{key}.{name}");
        let text = as_str(value, &path)?;
        let duration = Duration::parse(text).map_err(|_| {
            err(
                &path,
                ConfigProblem::NotDuration {
                    text: text.to_string(),
                },
            )
        })?;
        if name == "default" {
            default = Some(duration);
        } else {
            let channel = channel(name, &path)?;
            map.insert(channel, duration);
        }
    }
    Ok((map, default))
}

/// A text of at most [`MAX_SURVEY_TEXT_BYTES`], not empty.
fn survey_text(value: &toml::Value, path: &str) -> Result<String, ConfigError> {
    let text = as_str(value, path)?.trim();
    if text.is_empty() {
        return Err(err(path, ConfigProblem::Empty));
    }
    if text.len() > MAX_SURVEY_TEXT_BYTES {
        return Err(err(
            path,
            ConfigProblem::TooLong {
                bytes: text.len(),
                max: MAX_SURVEY_TEXT_BYTES,
            },
        ));
    }
    Ok(text.to_string())
}

/// `{ nl = "…", en = "…" }`: texts by language tag (normalized).
fn survey_texts(value: &toml::Value, path: &str, what: Expected) -> Result<Texts, ConfigError> {
    let table = value.as_table().ok_or_else(|| expected(path, what))?;
    if table.is_empty() {
        return Err(expected(path, what));
    }
    let mut texts = Texts::new();
    for (language, text) in table {
        let item = format!("{path}.{language}");
        let tag = crate::address::normalize_language(language).ok_or_else(|| {
            err(
                &item,
                ConfigProblem::NotLanguage {
                    text: language.clone(),
                },
            )
        })?;
        texts.insert(tag, survey_text(text, &item)?);
    }
    Ok(texts)
}

fn as_bool(value: &toml::Value, path: &str) -> Result<bool, ConfigError> {
    value.as_bool().ok_or_else(|| {
        err(
            path,
            ConfigProblem::NotBool {
                found: value.type_str(),
            },
        )
    })
}

fn survey_days(value: &toml::Value, path: &str, min: i64) -> Result<i64, ConfigError> {
    days_between(value, path, min, MAX_SURVEY_DAYS)
}

fn days_between(value: &toml::Value, path: &str, min: i64, max: i64) -> Result<i64, ConfigError> {
    value
        .as_integer()
        .filter(|d| (min..=max).contains(d))
        .ok_or_else(|| err(path, ConfigProblem::Days { min, max }))
}

fn parse_survey_kind(
    kind: SurveyKind,
    value: &toml::Value,
    path: &str,
) -> Result<Option<SurveyDefinition>, ConfigError> {
    let table = value
        .as_table()
        .ok_or_else(|| expected(path, Expected::Table))?;
    let mut definition = SurveyDefinition::with_defaults(kind);
    let mut enabled = true;
    for (key, v) in table {
        let item = format!("{path}.{key}");
        match key.as_str() {
            "enabled" => enabled = as_bool(v, &item)?,
            "scale" => {
                let name = as_str(v, &item)?.trim();
                let choices = scales_of(kind);
                definition.scale =
                    *choices.iter().find(|c| c.as_str() == name).ok_or_else(|| {
                        err(
                            &item,
                            ConfigProblem::UnknownScale {
                                name: name.to_string(),
                                known: choices
                                    .iter()
                                    .map(|c| c.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", "),
                            },
                        )
                    })?;
            }
            "question" => definition.question = survey_texts(v, &item, Expected::TextsTable)?,
            "comment" => {
                definition.comment = match v {
                    toml::Value::Boolean(false) => Texts::new(),
                    _ => survey_texts(v, &item, Expected::CommentTexts)?,
                };
            }
            "reasons" => {
                let items = v
                    .as_array()
                    .ok_or_else(|| expected(&item, Expected::ReasonList))?;
                if items.len() > MAX_SURVEY_REASONS {
                    return Err(err(
                        &item,
                        ConfigProblem::TooMany {
                            max: MAX_SURVEY_REASONS,
                        },
                    ));
                }
                definition.reasons = items
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        survey_texts(r, &format!("{item}[{i}]"), Expected::ReasonList)
                            .map(|labels| Reason { labels })
                    })
                    .collect::<Result<_, _>>()?;
            }
            "delay" => {
                let text = as_str(v, &item)?;
                let delay = Duration::parse(text).map_err(|_| {
                    err(
                        &item,
                        ConfigProblem::NotDuration {
                            text: text.to_string(),
                        },
                    )
                })?;
                if delay.seconds > MAX_DELAY_SECONDS {
                    return Err(err(
                        &item,
                        ConfigProblem::DelayTooLong {
                            max_days: MAX_DELAY_SECONDS / 86_400,
                        },
                    ));
                }
                definition.delay = delay;
            }
            "throttle_days" => definition.throttle_days = survey_days(v, &item, 0)?,
            "every_days" => {
                if kind != SurveyKind::Nps {
                    return Err(err(&item, ConfigProblem::OnlyNps));
                }
                definition.every_days = Some(survey_days(v, &item, 1)?);
            }
            "sample_pct" => definition.sample_pct = parse_percent(v, &item)?,
            "exclude_channels" => {
                definition.exclude_channels = string_list(v, &item)?
                    .into_iter()
                    .map(|name| channel(&name, &item).map(|c| c.as_str().to_string()))
                    .collect::<Result<_, _>>()?;
            }
            "exclude_tags" => definition.exclude_tags = string_list(v, &item)?,
            "exclude_agents" => definition.exclude_agents = string_list(v, &item)?,
            _ => {
                return Err(unknown(
                    item,
                    "enabled, scale, question, comment, reasons, delay, throttle_days, every_days, sample_pct, exclude_channels, exclude_tags, exclude_agents",
                ));
            }
        }
    }
    Ok(enabled.then_some(definition))
}

fn parse_surveys(value: &toml::Value) -> Result<SurveySettings, ConfigError> {
    let table = value
        .as_table()
        .ok_or_else(|| expected("surveys", Expected::Table))?;
    let mut settings = SurveySettings::off();
    let mut kinds = Vec::new();
    for (key, v) in table {
        let path = format!("surveys.{key}");
        match key.as_str() {
            "brand" => settings.brand = Some(survey_text(v, &path)?),
            "logo_url" => {
                let text = as_str(v, &path)?.trim();
                let host = text.strip_prefix("https://").unwrap_or_default();
                if host.is_empty()
                    || text.len() > 2_000
                    || text
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || "\"'<>".contains(c))
                {
                    return Err(err(
                        &path,
                        ConfigProblem::NotHttpsUrl {
                            text: text.to_string(),
                        },
                    ));
                }
                settings.logo_url = Some(text.to_string());
            }
            "color" => {
                let text = as_str(v, &path)?.trim();
                let hex = text.strip_prefix('#').unwrap_or_default();
                if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
                    return Err(err(
                        &path,
                        ConfigProblem::NotColor {
                            text: text.to_string(),
                        },
                    ));
                }
                settings.color = Some(text.to_lowercase());
            }
            "language" => {
                let text = as_str(v, &path)?;
                settings.language = crate::address::normalize_language(text).ok_or_else(|| {
                    err(
                        &path,
                        ConfigProblem::NotLanguage {
                            text: text.to_string(),
                        },
                    )
                })?;
            }
            "change_days" => {
                settings.change_days = days_between(v, &path, 0, MAX_CHANGE_DAYS)?;
            }
            "anonymous" => settings.anonymous = as_bool(v, &path)?,
            "follow_up_days" => {
                settings.follow_up_days = days_between(v, &path, 1, MAX_FOLLOW_UP_DAYS)?;
            }
            "csat" | "nps" | "ces" => {
                let kind = SurveyKind::parse(key).expect("a survey kind");
                kinds.push((kind, parse_survey_kind(kind, v, &path)?, path));
            }
            _ => {
                return Err(unknown(
                    path,
                    "brand, logo_url, color, language, change_days, anonymous, follow_up_days, \
                     csat, nps, ces",
                ));
            }
        }
    }
    // Every text a customer may be shown exists in the surveys' language.
    for (kind, definition, path) in kinds {
        let Some(definition) = definition else {
            continue;
        };
        let language = settings.language.clone();
        let missing = |key: String| {
            err(
                key,
                ConfigProblem::MissingLanguage {
                    language: language.clone(),
                },
            )
        };
        if !definition.question.contains_key(&language) {
            return Err(missing(format!("{path}.question")));
        }
        if !definition.comment.is_empty() && !definition.comment.contains_key(&language) {
            return Err(missing(format!("{path}.comment")));
        }
        for (i, reason) in definition.reasons.iter().enumerate() {
            if !reason.labels.contains_key(&language) {
                return Err(missing(format!("{path}.reasons[{i}]")));
            }
        }
        settings.kinds.insert(kind, definition);
    }
    Ok(settings)
}

fn parse_recipient(value: &toml::Value, path: &str) -> Result<Recipient, ConfigError> {
    let email_of = |text: &str, key: &str| {
        crate::address::normalize_email(text).ok_or_else(|| {
            err(
                key,
                ConfigProblem::NotEmail {
                    text: text.to_string(),
                },
            )
        })
    };
    // "a@b.nl", or { email = "a@b.nl", language = "en", timezone = "America/New_York" }.
    if let toml::Value::String(text) = value {
        return Ok(Recipient {
            email: email_of(text, path)?,
            language: "nl".into(),
            timezone: None,
        });
    }
    let table = value
        .as_table()
        .ok_or_else(|| expected(path, Expected::RecipientList))?;
    let mut email = None;
    let mut language = "nl".to_string();
    let mut timezone = None;
    for (key, v) in table {
        let item = format!("{path}.{key}");
        match key.as_str() {
            "email" => email = Some(email_of(as_str(v, &item)?, &item)?),
            "language" => {
                let text = as_str(v, &item)?;
                let tag = crate::address::normalize_language(text).ok_or_else(|| {
                    err(
                        &item,
                        ConfigProblem::NotLanguage {
                            text: text.to_string(),
                        },
                    )
                })?;
                let primary = crate::address::primary_language(&tag);
                if primary != "nl" && primary != "en" {
                    return Err(err(
                        &item,
                        ConfigProblem::ReportLanguage {
                            text: text.to_string(),
                        },
                    ));
                }
                language = primary.to_string();
            }
            "timezone" => {
                let name = as_str(v, &item)?.trim();
                let zone = TimeZone::get(name).map_err(|_| {
                    err(
                        &item,
                        ConfigProblem::UnknownTimeZone {
                            name: name.to_string(),
                        },
                    )
                })?;
                timezone = Some((name.to_string(), zone));
            }
            _ => return Err(unknown(item, "email, language, timezone")),
        }
    }
    Ok(Recipient {
        email: email.ok_or_else(|| err(format!("{path}.email"), ConfigProblem::Missing))?,
        language,
        timezone,
    })
}

fn parse_report(value: &toml::Value, path: &str) -> Result<ReportDefinition, ConfigError> {
    let table = value
        .as_table()
        .ok_or_else(|| expected(path, Expected::Table))?;
    let mut name = None;
    let mut every_text: Option<(String, String)> = None;
    let mut weekday = None;
    let mut day = None;
    let mut at: Time = Time::constant(8, 0, 0, 0);
    let mut recipients = None;
    let mut view = None;
    let mut attachments = vec![Attachment::Pdf];
    let mut agent_detail = true;
    let mut agency = None;
    for (key, v) in table {
        let item = format!("{path}.{key}");
        match key.as_str() {
            "name" => {
                name = Some(item_name(v, &item, |text| ConfigProblem::NotReportName {
                    text,
                })?);
            }
            "every" => every_text = Some((as_str(v, &item)?.trim().to_string(), item)),
            "weekday" => {
                let text = as_str(v, &item)?.trim();
                weekday = Some(
                    DAY_KEYS
                        .iter()
                        .position(|d| *d == text)
                        .map(|i| WEEKDAYS[i])
                        .ok_or_else(|| err(&item, ConfigProblem::UnknownDay))?,
                );
            }
            "day" => day = Some(days_between(v, &item, 1, 31)? as i8),
            "at" => {
                let text = as_str(v, &item)?.trim();
                at = parse_time_of_day(text).ok_or_else(|| {
                    err(
                        &item,
                        ConfigProblem::NotTimeOfDay {
                            text: text.to_string(),
                        },
                    )
                })?;
            }
            "recipients" => {
                let items = v
                    .as_array()
                    .ok_or_else(|| expected(&item, Expected::RecipientList))?;
                if items.len() > MAX_RECIPIENTS {
                    return Err(err(
                        &item,
                        ConfigProblem::TooMany {
                            max: MAX_RECIPIENTS,
                        },
                    ));
                }
                let mut list: Vec<Recipient> = Vec::new();
                for (i, r) in items.iter().enumerate() {
                    let at = format!("{item}[{i}]");
                    let recipient = parse_recipient(r, &at)?;
                    if list.iter().any(|o| o.email == recipient.email) {
                        return Err(err(
                            at,
                            ConfigProblem::Twice {
                                text: recipient.email,
                            },
                        ));
                    }
                    list.push(recipient);
                }
                if list.is_empty() {
                    return Err(err(&item, ConfigProblem::Empty));
                }
                recipients = Some(list);
            }
            "view" => {
                let text = as_str(v, &item)?.trim();
                if text.is_empty() {
                    return Err(err(&item, ConfigProblem::Empty));
                }
                view = Some(text.to_string());
            }
            "attach" => {
                let items = v
                    .as_array()
                    .ok_or_else(|| expected(&item, Expected::AttachmentList))?;
                let mut list = Vec::new();
                for (i, a) in items.iter().enumerate() {
                    let at = format!("{item}[{i}]");
                    let text = as_str(a, &at)?.trim();
                    let attachment = Attachment::parse(text).ok_or_else(|| {
                        err(
                            &at,
                            ConfigProblem::NotOneOf {
                                text: text.to_string(),
                                known: "pdf, csv, xlsx",
                            },
                        )
                    })?;
                    if list.contains(&attachment) {
                        return Err(err(at, ConfigProblem::Twice { text: text.into() }));
                    }
                    list.push(attachment);
                }
                attachments = list;
            }
            "agents" => agent_detail = as_bool(v, &item)?,
            "agency" => {
                let text = as_str(v, &item)?.trim();
                if text.is_empty() {
                    return Err(err(&item, ConfigProblem::Empty));
                }
                if text.len() > MAX_AGENCY_BYTES {
                    return Err(err(
                        &item,
                        ConfigProblem::TooLong {
                            bytes: text.len(),
                            max: MAX_AGENCY_BYTES,
                        },
                    ));
                }
                agency = Some(text.to_string());
            }
            _ => {
                return Err(unknown(
                    item,
                    "name, every, weekday, day, at, recipients, view, attach, agents, agency",
                ));
            }
        }
    }
    let (every_text, every_path) =
        every_text.ok_or_else(|| err(format!("{path}.every"), ConfigProblem::Missing))?;
    let every = match every_text.as_str() {
        "day" => Every::Day,
        "week" => Every::Week(weekday.unwrap_or(Weekday::Monday)),
        "month" => Every::Month(day.unwrap_or(1)),
        other => {
            return Err(err(
                every_path,
                ConfigProblem::NotOneOf {
                    text: other.to_string(),
                    known: "day, week, month",
                },
            ));
        }
    };
    // A weekday only for a weekly report, a day only for a monthly one: said, not ignored.
    if weekday.is_some() && !matches!(every, Every::Week(_)) {
        return Err(err(
            format!("{path}.weekday"),
            ConfigProblem::NotOneOf {
                text: every_text.clone(),
                known: "week (a weekday is for weekly reports)",
            },
        ));
    }
    if day.is_some() && !matches!(every, Every::Month(_)) {
        return Err(err(
            format!("{path}.day"),
            ConfigProblem::NotOneOf {
                text: every_text,
                known: "month (a day is for monthly reports)",
            },
        ));
    }
    Ok(ReportDefinition {
        name: name.ok_or_else(|| err(format!("{path}.name"), ConfigProblem::Missing))?,
        every,
        at,
        recipients: recipients
            .ok_or_else(|| err(format!("{path}.recipients"), ConfigProblem::Missing))?,
        view,
        attachments,
        agent_detail,
        agency,
    })
}

/// `HH:MM` (00:00 to 23:59).
fn parse_time_of_day(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

/// The name of a report or an alert (see [`crate::report_definitions::is_report_name`]).
fn item_name(
    value: &toml::Value,
    key: &str,
    problem: fn(String) -> ConfigProblem,
) -> Result<String, ConfigError> {
    let text = as_str(value, key)?.trim();
    if !crate::report_definitions::is_report_name(text) {
        return Err(err(key, problem(text.to_string())));
    }
    Ok(text.to_string())
}

fn parse_alert(value: &toml::Value, path: &str) -> Result<AlertDefinition, ConfigError> {
    use crate::alerts::{AlertRule, Breaks, MAX_WINDOW_MINUTES, Watched, WebhookFormat};
    let table = value
        .as_table()
        .ok_or_else(|| expected(path, Expected::Table))?;
    let mut name = None;
    let mut watched = None;
    let mut threshold: Option<(Breaks, toml::Value, String)> = None;
    let mut window_minutes = 60;
    let mut min_answers = 0;
    let mut channel_name = None;
    let mut always = false;
    let mut language = "nl".to_string();
    let mut emails = Vec::new();
    let mut webhook = None;
    let mut format = WebhookFormat::Slack;
    for (key, v) in table {
        let item = format!("{path}.{key}");
        match key.as_str() {
            "name" => {
                name = Some(item_name(v, &item, |text| ConfigProblem::NotAlertName {
                    text,
                })?);
            }
            "watch" => {
                let text = as_str(v, &item)?.trim();
                watched = Some(Watched::parse(text).ok_or_else(|| {
                    err(
                        &item,
                        ConfigProblem::NotOneOf {
                            text: text.to_string(),
                            known: "a headline figure (first_response_median, csat, …), overdue, longest_wait, follow_ups_overdue",
                        },
                    )
                })?);
            }
            "above" | "below" => {
                if threshold.is_some() {
                    return Err(err(&item, ConfigProblem::AboveAndBelow));
                }
                let breaks = if key == "above" {
                    Breaks::Above
                } else {
                    Breaks::Below
                };
                threshold = Some((breaks, v.clone(), item));
            }
            "window" => {
                let text = as_str(v, &item)?;
                let d = Duration::parse(text).map_err(|_| {
                    err(
                        &item,
                        ConfigProblem::NotDuration {
                            text: text.to_string(),
                        },
                    )
                })?;
                let minutes = d.seconds / 60;
                if minutes > MAX_WINDOW_MINUTES {
                    return Err(err(
                        &item,
                        ConfigProblem::WindowTooLong {
                            text: text.to_string(),
                        },
                    ));
                }
                if minutes < 1 {
                    return Err(err(
                        &item,
                        ConfigProblem::NotDuration {
                            text: text.to_string(),
                        },
                    ));
                }
                window_minutes = minutes;
            }
            "min_answers" => min_answers = days_between(v, &item, 0, 100_000)? as u64,
            "channel" => {
                let text = as_str(v, &item)?;
                channel_name = Some(channel(text, &item)?.as_str().to_string());
            }
            "always" => always = as_bool(v, &item)?,
            "language" => {
                let text = as_str(v, &item)?.trim();
                let primary = crate::address::normalize_language(text)
                    .map(|t| crate::address::primary_language(&t).to_string());
                match primary.as_deref() {
                    Some("nl") | Some("en") => language = primary.expect("matched"),
                    _ => {
                        return Err(err(
                            &item,
                            ConfigProblem::ReportLanguage {
                                text: text.to_string(),
                            },
                        ));
                    }
                }
            }
            "email" => {
                let items = v
                    .as_array()
                    .ok_or_else(|| expected(&item, Expected::EmailList))?;
                for (i, e) in items.iter().enumerate() {
                    let at = format!("{item}[{i}]");
                    let text = as_str(e, &at)?;
                    let email = crate::address::normalize_email(text).ok_or_else(|| {
                        err(
                            &at,
                            ConfigProblem::NotEmail {
                                text: text.to_string(),
                            },
                        )
                    })?;
                    if emails.contains(&email) {
                        return Err(err(at, ConfigProblem::Twice { text: email }));
                    }
                    emails.push(email);
                }
                if emails.len() > MAX_RECIPIENTS {
                    return Err(err(
                        &item,
                        ConfigProblem::TooMany {
                            max: MAX_RECIPIENTS,
                        },
                    ));
                }
            }
            "webhook" => {
                let text = as_str(v, &item)?.trim();
                let host = text
                    .strip_prefix("https://")
                    .or_else(|| {
                        text.strip_prefix("http://").filter(|rest| {
                            crate::address::is_loopback_host(rest.split('/').next().unwrap_or(""))
                        })
                    })
                    .unwrap_or_default();
                if host.is_empty()
                    || text.len() > 2_000
                    || text.chars().any(|c| c.is_whitespace() || c.is_control())
                {
                    return Err(err(
                        &item,
                        ConfigProblem::NotHttpsUrl {
                            text: text.to_string(),
                        },
                    ));
                }
                webhook = Some(text.to_string());
            }
            "webhook_format" => {
                let text = as_str(v, &item)?.trim();
                format = match text {
                    "slack" => WebhookFormat::Slack,
                    "teams" => WebhookFormat::Teams,
                    other => {
                        return Err(err(
                            &item,
                            ConfigProblem::NotOneOf {
                                text: other.to_string(),
                                known: "slack, teams",
                            },
                        ));
                    }
                };
            }
            _ => {
                return Err(unknown(
                    item,
                    "name, watch, above, below, window, min_answers, channel, always, language, email, webhook, webhook_format",
                ));
            }
        }
    }
    let name = name.ok_or_else(|| err(format!("{path}.name"), ConfigProblem::Missing))?;
    let watched = watched.ok_or_else(|| err(format!("{path}.watch"), ConfigProblem::Missing))?;
    let (breaks, value, item) =
        threshold.ok_or_else(|| err(format!("{path}.above"), ConfigProblem::Missing))?;
    // A number in the figure's unit; for times also a duration ("2m").
    let is_time = matches!(watched, Watched::LongestWait)
        || matches!(watched, Watched::Figure(f) if f.kind() == crate::headline::Kind::Duration);
    let threshold = match &value {
        toml::Value::Integer(n) => *n as f64,
        toml::Value::Float(x) if x.is_finite() => *x,
        toml::Value::String(text) if is_time => {
            Duration::parse(text)
                .map_err(|_| {
                    err(
                        &item,
                        ConfigProblem::NotThreshold {
                            found: text.to_string(),
                        },
                    )
                })?
                .seconds as f64
        }
        other => {
            return Err(err(
                &item,
                ConfigProblem::NotThreshold {
                    found: other.to_string(),
                },
            ));
        }
    };
    if emails.is_empty() && webhook.is_none() {
        return Err(err(format!("{path}.email"), ConfigProblem::NoAudience));
    }
    Ok(AlertDefinition {
        name,
        rule: AlertRule {
            watched,
            breaks,
            threshold,
            window_minutes,
            min_answers,
        },
        channel: channel_name,
        always,
        language,
        emails,
        webhook: webhook.map(|url| (url, format)),
    })
}

fn parse_alerts(value: &toml::Value) -> Result<Vec<AlertDefinition>, ConfigError> {
    let items = value
        .as_array()
        .ok_or_else(|| expected("alerts", Expected::AlertList))?;
    if items.len() > crate::alerts::MAX_ALERTS {
        return Err(err(
            "alerts",
            ConfigProblem::TooMany {
                max: crate::alerts::MAX_ALERTS,
            },
        ));
    }
    let mut alerts: Vec<AlertDefinition> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("alerts[{i}]");
        let alert = parse_alert(item, &path)?;
        if alerts.iter().any(|a| a.name == alert.name) {
            return Err(err(
                format!("{path}.name"),
                ConfigProblem::Twice { text: alert.name },
            ));
        }
        alerts.push(alert);
    }
    Ok(alerts)
}

fn parse_reports(value: &toml::Value) -> Result<Vec<ReportDefinition>, ConfigError> {
    let items = value
        .as_array()
        .ok_or_else(|| expected("reports", Expected::ReportList))?;
    if items.len() > MAX_REPORTS {
        return Err(err("reports", ConfigProblem::TooMany { max: MAX_REPORTS }));
    }
    let mut reports: Vec<ReportDefinition> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("reports[{i}]");
        let report = parse_report(item, &path)?;
        if reports.iter().any(|r| r.name == report.name) {
            return Err(err(
                format!("{path}.name"),
                ConfigProblem::Twice { text: report.name },
            ));
        }
        reports.push(report);
    }
    Ok(reports)
}

impl WorkspaceConfig {
    /// Parses and validates a configuration.
    pub fn from_toml(text: &str) -> Result<WorkspaceConfig, ConfigError> {
        let root: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            err(
                "(toml)",
                ConfigProblem::Syntax(e.to_string().trim_end().replace('\n', " ")),
            )
        })?;
        let mut timezone_name = "Europe/Amsterdam".to_string();
        let mut holiday_dates = BTreeSet::new();
        let mut holiday_calendar = None;
        let mut default_week = None;
        let mut channel_weeks = BTreeMap::new();
        let mut targets = Targets::default();
        let mut agents = AgentRules::default();
        let mut retention_months = None;
        let mut segment_tags = BTreeSet::new();
        let mut surveys = SurveySettings::off();
        let mut reports = Vec::new();
        let mut alerts = Vec::new();

        for (key, value) in &root {
            match key.as_str() {
                "timezone" => timezone_name = as_str(value, key)?.to_string(),
                "holiday_calendar" => {
                    let name = as_str(value, key)?;
                    holiday_calendar = Some(HolidayCalendar::parse(name).ok_or_else(|| {
                        err(
                            key,
                            ConfigProblem::UnknownCalendar {
                                name: name.to_string(),
                            },
                        )
                    })?);
                }
                "holidays" => {
                    let items = value
                        .as_array()
                        .ok_or_else(|| expected(key, Expected::DateList))?;
                    for (i, item) in items.iter().enumerate() {
                        let path = format!("holidays[{i}]");
                        let text = as_str(item, &path)?;
                        let date: Date = text.parse().map_err(|_| {
                            err(
                                &path,
                                ConfigProblem::NotDate {
                                    text: text.to_string(),
                                },
                            )
                        })?;
                        holiday_dates.insert(date);
                    }
                }
                "opening_hours" => {
                    let table = value
                        .as_table()
                        .ok_or_else(|| expected(key, Expected::DaysAndChannels))?;
                    let mut days = toml::Table::new();
                    for (sub, v) in table {
                        if let Some(channel_table) = v.as_table() {
                            let path = format!("opening_hours.{sub}");
                            let channel = channel(sub, &path)?;
                            channel_weeks.insert(channel, parse_week(channel_table, &path)?);
                        } else {
                            days.insert(sub.clone(), v.clone());
                        }
                    }
                    default_week = Some(parse_week(&days, "opening_hours")?);
                }
                "targets" => {
                    let table = value
                        .as_table()
                        .ok_or_else(|| expected(key, Expected::Table))?;
                    for (sub, v) in table {
                        let path = format!("targets.{sub}");
                        match sub.as_str() {
                            "first_response" => {
                                let t = v
                                    .as_table()
                                    .ok_or_else(|| expected(&path, Expected::ChannelDurations))?;
                                let (map, default) = parse_channel_durations(t, &path)?;
                                targets.first_response = map;
                                if let Some(d) = default {
                                    targets.first_response_default = d;
                                }
                            }
                            "median_first_response" => {
                                let t = v
                                    .as_table()
                                    .ok_or_else(|| expected(&path, Expected::ChannelDurations))?;
                                let (map, default) = parse_channel_durations(t, &path)?;
                                if default.is_some() {
                                    return Err(err(
                                        format!("{path}.default"),
                                        ConfigProblem::MedianDefault,
                                    ));
                                }
                                targets.median_first_response = map;
                            }
                            "csat_pct" => targets.csat_pct = parse_percent(v, &path)?,
                            "resolution_pct" => targets.resolution_pct = parse_percent(v, &path)?,
                            _ => {
                                return Err(unknown(
                                    path,
                                    "first_response, median_first_response, csat_pct, resolution_pct",
                                ));
                            }
                        }
                    }
                }
                "agents" => agents = parse_agents(value)?,
                "surveys" => surveys = parse_surveys(value)?,
                "reports" => reports = parse_reports(value)?,
                "alerts" => alerts = parse_alerts(value)?,
                "retention" => {
                    let table = value
                        .as_table()
                        .ok_or_else(|| expected(key, Expected::Table))?;
                    for (sub, v) in table {
                        let path = format!("retention.{sub}");
                        if sub != "message_texts_months" {
                            return Err(unknown(path, "message_texts_months"));
                        }
                        let months = v
                            .as_integer()
                            .filter(|m| (1..=MAX_RETENTION_MONTHS).contains(m))
                            .ok_or_else(|| {
                                err(
                                    &path,
                                    ConfigProblem::RetentionMonths {
                                        max: MAX_RETENTION_MONTHS,
                                    },
                                )
                            })?;
                        retention_months = Some(months as u32);
                    }
                }
                "topics" => {
                    let table = value
                        .as_table()
                        .ok_or_else(|| expected(key, Expected::Table))?;
                    for (sub, v) in table {
                        let path = format!("topics.{sub}");
                        if sub != "segments" {
                            return Err(unknown(path, "segments"));
                        }
                        let items = v
                            .as_array()
                            .ok_or_else(|| expected(&path, Expected::TagList))?;
                        for (i, item) in items.iter().enumerate() {
                            let tag = as_str(item, &format!("{path}[{i}]"))?.trim();
                            if tag.is_empty() || tag.len() > crate::limits::MAX_TAG_BYTES {
                                return Err(err(
                                    format!("{path}[{i}]"),
                                    ConfigProblem::TagLength {
                                        max: crate::limits::MAX_TAG_BYTES,
                                    },
                                ));
                            }
                            segment_tags.insert(tag.to_string());
                        }
                    }
                }
                _ => {
                    return Err(unknown(
                        key,
                        "timezone, holidays, holiday_calendar, opening_hours, targets, agents, retention, topics, surveys, reports, alerts",
                    ));
                }
            }
        }
        let timezone = TimeZone::get(&timezone_name).map_err(|_| {
            err(
                "timezone",
                ConfigProblem::UnknownTimeZone {
                    name: timezone_name.clone(),
                },
            )
        })?;
        let default_week = default_week.unwrap_or_else(|| {
            let mut week = WeekSchedule::default();
            for d in 0..5 {
                week.days[d] = WeekSchedule::parse_day("09:00-17:00").expect("valid");
            }
            week
        });
        Ok(WorkspaceConfig {
            timezone,
            timezone_name,
            holidays: Arc::new(Holidays {
                dates: holiday_dates,
                calendar: holiday_calendar,
            }),
            default_week,
            channel_weeks,
            targets,
            agents,
            segment_tags,
            surveys,
            reports,
            alerts,
            retention_months,
        })
    }

    /// The instant before which message texts are removed under the retention setting, at
    /// `now` (UTC ms): the same local time `retention_months` months earlier.
    pub fn retention_cutoff(&self, now: i64) -> Option<i64> {
        let months = self.retention_months?;
        let now = jiff::Timestamp::from_millisecond(now).ok()?;
        let local = now.to_zoned_datetime(self.timezone.clone());
        let earlier = local
            .checked_sub(jiff::Span::new().months(i64::from(months)))
            .ok()?;
        Some(earlier.timestamp().as_millisecond())
    }

    /// The weekly schedule that applies to a channel.
    pub fn week_for(&self, channel: &Channel) -> &WeekSchedule {
        self.channel_weeks
            .get(channel)
            .unwrap_or(&self.default_week)
    }
}

/// Business calendars for every channel of a workspace, built lazily and shared.
#[derive(Debug)]
pub struct Calendars {
    config: WorkspaceConfig,
    default: BusinessCalendar,
    per_channel: BTreeMap<Channel, BusinessCalendar>,
}

impl Calendars {
    /// Calendars for a configuration.
    pub fn new(config: WorkspaceConfig) -> Calendars {
        let default = BusinessCalendar::new(
            config.timezone.clone(),
            config.default_week.clone(),
            config.holidays.clone(),
        );
        let per_channel = config
            .channel_weeks
            .iter()
            .map(|(channel, week)| {
                (
                    channel.clone(),
                    BusinessCalendar::new(
                        config.timezone.clone(),
                        week.clone(),
                        config.holidays.clone(),
                    ),
                )
            })
            .collect();
        Calendars {
            config,
            default,
            per_channel,
        }
    }

    /// The calendar of a channel.
    pub fn for_channel(&self, channel: &str) -> &BusinessCalendar {
        self.per_channel
            .iter()
            .find(|(c, _)| c.as_str() == channel)
            .map(|(_, cal)| cal)
            .unwrap_or(&self.default)
    }

    /// The configuration these calendars were built from.
    pub fn config(&self) -> &WorkspaceConfig {
        &self.config
    }
}

/// What differs between two configuration texts, one line per key in dotted form:
/// `+ key = value` (added), `- key = value` (removed), `~ key: old → new` (changed). Comments
/// and layout are not compared. A text that does not parse counts as empty.
pub fn config_changes(old: &str, new: &str) -> Vec<String> {
    fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => flatten(&path, inner, out),
                other => {
                    out.insert(path, other.to_string());
                }
            }
        }
    }
    let keys = |text: &str| {
        let mut out = BTreeMap::new();
        if let Ok(table) = text.parse::<toml::Table>() {
            flatten("", &table, &mut out);
        }
        out
    };
    let (before, after) = (keys(old), keys(new));
    let mut lines = Vec::new();
    for (key, value) in &before {
        match after.get(key) {
            None => lines.push(format!("- {key} = {value}")),
            Some(v) if v != value => lines.push(format!("~ {key}: {value} → {v}")),
            Some(_) => {}
        }
    }
    for (key, value) in &after {
        if !before.contains_key(key) {
            lines.push(format!("+ {key} = {value}"));
        }
    }
    lines.sort_by(|a, b| a[2..].cmp(&b[2..]));
    lines
}

#[cfg(test)]
mod tests {
    #[test]
    fn agent_rules_are_read_and_checked() {
        let config = WorkspaceConfig::from_toml(
            r#"
[agents]
bots = ["Chatbot"]
exclude = ["Test Agent"]
[agents.aliases]
"anna.b" = "Anna Bakker"
"#,
        )
        .unwrap();
        assert_eq!(config.agents.display_name("anna.b"), "Anna Bakker");
        assert_eq!(config.agents.display_name("Bob"), "Bob");
        assert!(config.agents.is_bot(Some("Chatbot")));
        assert!(!config.agents.is_bot(None));
        assert!(config.agents.exclude.contains("Test Agent"));
        for (text, key, reason) in [
            ("[agents]\nbots = \"x\"", "agents.bots", "must be a list"),
            (
                "[agents]\nexclude = [\" \"]",
                "agents.exclude[0]",
                "must not be empty",
            ),
            ("[agents]\nnames = []", "agents.names", "unknown key"),
            ("[agents.aliases]\nx = 1", "agents.aliases.x", ""),
        ] {
            let e = WorkspaceConfig::from_toml(text).unwrap_err();
            assert_eq!(e.key, key, "{text}");
            assert!(
                e.problem.to_string().contains(reason),
                "{text}: {}",
                e.problem
            );
        }
    }

    use super::*;

    const EXAMPLE: &str = r#"
timezone = "Europe/Amsterdam"
holidays = ["2024-04-01", "2024-04-27"]

[opening_hours]
mon = "09:00-17:30"
fri = "09:00-17:00"
sat = "10:00-12:00, 13:00-16:00"
sun = "closed"

[opening_hours.chat]
mon = "08:00-22:00"

[targets]
csat_pct = 80
resolution_pct = 92.5

[targets.first_response]
chat = "30s"
email = "1h"
default = "4h"
"#;

    #[test]
    fn parses_the_documented_example() {
        let config = WorkspaceConfig::from_toml(EXAMPLE).unwrap();
        assert_eq!(config.timezone_name, "Europe/Amsterdam");
        assert_eq!(config.holidays.dates.len(), 2);
        assert_eq!(config.default_week.days[0][0].end_minute, 17 * 60 + 30);
        assert!(
            config.default_week.days[1].is_empty(),
            "missing day is closed"
        );
        assert_eq!(config.default_week.days[5].len(), 2);
        let chat = Channel::new("chat").unwrap();
        assert_eq!(config.week_for(&chat).days[0][0].start_minute, 8 * 60);
        assert!(
            config.week_for(&chat).days[4].is_empty(),
            "channel table replaces the whole week"
        );
        assert_eq!(config.targets.first_response_millis("chat"), 30_000);
        assert_eq!(
            config.targets.first_response_millis("social"),
            4 * 3600 * 1000
        );
        assert_eq!(config.targets.csat_pct, 80.0);
        assert_eq!(config.targets.resolution_pct, 92.5);
    }

    #[test]
    fn errors_name_the_key() {
        let cases = [
            (
                "[opening_hours]\nsat = \"10:00-25:00\"",
                "opening_hours.sat",
            ),
            (
                "[opening_hours.chat]\nfunday = \"10:00-12:00\"",
                "opening_hours.chat.funday",
            ),
            ("timezone = \"Mars/Olympus\"", "timezone"),
            ("holidays = [\"2024-13-01\"]", "holidays[0]"),
            (
                "[targets.first_response]\nchat = \"fast\"",
                "targets.first_response.chat",
            ),
            ("[targets]\ncsat_pct = 120", "targets.csat_pct"),
            ("colour = \"blue\"", "colour"),
            ("holiday_calendar = \"XX\"", "holiday_calendar"),
            ("timezone = ", "(toml)"),
        ];
        for (text, key) in cases {
            let e = WorkspaceConfig::from_toml(text).unwrap_err();
            assert_eq!(e.key, key, "for {text:?}: {e}");
        }
    }

    #[test]
    fn surveys_are_read_with_their_defaults() {
        use crate::surveys::ScaleChoice;
        let config = WorkspaceConfig::from_toml(
            r##"
[surveys]
brand = "Fietsplaats"
logo_url = "https://fietsplaats.example/logo.png"
color = "#1A7F37"
language = "nl"

[surveys.csat]
scale = "faces"
delay = "2h"
exclude_channels = ["Phone"]
exclude_tags = ["spam"]
reasons = [{ nl = "Te traag", en = "Too slow" }, { nl = "Niet opgelost" }]

[surveys.nps]
every_days = 90
comment = false
question = { nl = "Zou je Fietsplaats aanraden?", en = "Would you recommend Fietsplaats?", de_DE = "Würden Sie uns empfehlen?" }

[surveys.ces]
enabled = false
"##,
        )
        .unwrap();
        let surveys = &config.surveys;
        assert_eq!(surveys.brand.as_deref(), Some("Fietsplaats"));
        assert_eq!(surveys.color.as_deref(), Some("#1a7f37"));
        assert_eq!(
            surveys.kinds.keys().copied().collect::<Vec<_>>(),
            [SurveyKind::Csat, SurveyKind::Nps]
        );
        let csat = &surveys.kinds[&SurveyKind::Csat];
        assert_eq!(csat.scale, ScaleChoice::Faces);
        assert_eq!(csat.delay.seconds, 7_200);
        assert_eq!(csat.throttle_days, 30);
        assert_eq!(csat.sample_pct, 100.0);
        assert!(csat.exclude_channels.contains("phone"));
        assert_eq!(csat.reasons.len(), 2);
        assert_eq!(csat.reasons[1].labels["nl"], "Niet opgelost");
        assert_eq!(
            csat.question,
            crate::surveys::default_question(SurveyKind::Csat)
        );
        let nps = &surveys.kinds[&SurveyKind::Nps];
        assert_eq!(nps.every_days, Some(90));
        assert_eq!(nps.quiet_days(), 90);
        assert!(nps.comment.is_empty());
        assert_eq!(nps.question["de-de"], "Würden Sie uns empfehlen?");
        // No [surveys]: nothing is asked; answers can be changed for 7 days, follow-ups are
        // due after 2 working days.
        let default = WorkspaceConfig::default().surveys;
        assert!(default.kinds.is_empty());
        assert_eq!((default.change_days, default.follow_up_days), (7, 2));
        assert!(default.anonymous);
        let no = WorkspaceConfig::from_toml("[surveys]\nanonymous = false").unwrap();
        assert!(!no.surveys.anonymous);
        let set = WorkspaceConfig::from_toml("[surveys]\nchange_days = 0\nfollow_up_days = 5")
            .unwrap()
            .surveys;
        assert_eq!((set.change_days, set.follow_up_days), (0, 5));
        // A bare kind table asks with every default.
        let bare = WorkspaceConfig::from_toml("[surveys.csat]").unwrap();
        assert_eq!(
            bare.surveys.kinds[&SurveyKind::Csat],
            crate::surveys::SurveyDefinition::with_defaults(SurveyKind::Csat)
        );
    }

    #[test]
    fn survey_errors_name_the_key() {
        let cases = [
            (
                "[surveys]
brandt = \"x\"",
                "surveys.brandt",
            ),
            (
                "[surveys]
color = \"green\"",
                "surveys.color",
            ),
            (
                "[surveys]
logo_url = \"http://x.nl/l.png\"",
                "surveys.logo_url",
            ),
            (
                "[surveys]
language = \"Dutch\"",
                "surveys.language",
            ),
            (
                "[surveys.csat]
scale = \"nps\"",
                "surveys.csat.scale",
            ),
            (
                "[surveys.csat]
delay = \"31d\"",
                "surveys.csat.delay",
            ),
            (
                "[surveys.csat]
delay = \"soon\"",
                "surveys.csat.delay",
            ),
            (
                "[surveys]
change_days = 91",
                "surveys.change_days",
            ),
            (
                "[surveys]
follow_up_days = 0",
                "surveys.follow_up_days",
            ),
            (
                "[surveys.csat]
throttle_days = -1",
                "surveys.csat.throttle_days",
            ),
            (
                "[surveys.csat]
every_days = 90",
                "surveys.csat.every_days",
            ),
            (
                "[surveys.csat]
sample_pct = 101",
                "surveys.csat.sample_pct",
            ),
            (
                "[surveys.csat]
enabled = \"yes\"",
                "surveys.csat.enabled",
            ),
            (
                "[surveys.csat]
exclude_channels = [\"e mail\"]",
                "surveys.csat.exclude_channels",
            ),
            (
                "[surveys.csat]
question = { english = \"How?\" }",
                "surveys.csat.question.english",
            ),
            (
                "[surveys.csat]
question = { en = \"How?\" }",
                "surveys.csat.question",
            ),
            (
                "[surveys.csat]
question = {}",
                "surveys.csat.question",
            ),
            (
                "[surveys.csat]
question = { nl = \" \" }",
                "surveys.csat.question.nl",
            ),
            (
                "[surveys.csat]
reasons = [{ en = \"Slow\" }]",
                "surveys.csat.reasons[0]",
            ),
            (
                "[surveys.csat]
reasons = \"slow\"",
                "surveys.csat.reasons",
            ),
            (
                "[surveys.csat]
comment = true",
                "surveys.csat.comment",
            ),
            (
                "[surveys.csat]
mood = 1",
                "surveys.csat.mood",
            ),
        ];
        for (text, key) in cases {
            let e = WorkspaceConfig::from_toml(text).unwrap_err();
            assert_eq!(e.key, key, "for {text:?}: {e}");
        }
        let long = format!("[surveys]\nbrand = \"{}\"", "x".repeat(501));
        let e = WorkspaceConfig::from_toml(&long).unwrap_err();
        assert_eq!(
            e.to_string(),
            "surveys.brand: 501 bytes; at most 500 are allowed"
        );
    }

    #[test]
    fn default_config_is_valid() {
        let config = WorkspaceConfig::default();
        assert_eq!(config.default_week.weekly_open_minutes(), 5 * 8 * 60);
        assert_eq!(config.holidays.calendar, Some(HolidayCalendar::Netherlands));
    }

    #[test]
    fn config_changes_name_each_key() {
        let old = "# hours\ntimezone = \"Europe/Amsterdam\"\n[opening_hours]\nmon = \"09:00-17:00\"\nsat = \"10:00-12:00\"\n[targets]\ncsat_pct = 80\n";
        let new = "timezone = \"Europe/Amsterdam\"\n[opening_hours]\nmon = \"08:00-17:00\"\n[targets]\ncsat_pct = 80\nresolution_pct = 90\n";
        assert_eq!(
            config_changes(old, new),
            vec![
                "~ opening_hours.mon: \"09:00-17:00\" → \"08:00-17:00\"",
                "- opening_hours.sat = \"10:00-12:00\"",
                "+ targets.resolution_pct = 90",
            ]
        );
        assert!(config_changes(old, old).is_empty());
    }
}

#[cfg(test)]
mod retention_tests {
    use super::*;

    #[test]
    fn retention_months_and_their_cutoff() {
        let config = WorkspaceConfig::from_toml(
            "timezone = \"Europe/Amsterdam\"\n[retention]\nmessage_texts_months = 3\n",
        )
        .unwrap();
        assert_eq!(config.retention_months, Some(3));
        // 2024-07-15 14:00 in Amsterdam (summer time) → 2024-04-15 14:00 (also summer time).
        let now = "2024-07-15T12:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let expected = "2024-04-15T12:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(config.retention_cutoff(now), Some(expected));
        // Across the switch to summer time: 2024-05-01 12:00 CEST back 3 months is
        // 2024-02-01 12:00 CET, an hour later in UTC terms than the same UTC clock time.
        let now = "2024-05-01T10:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        let expected = "2024-02-01T11:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_millisecond();
        assert_eq!(config.retention_cutoff(now), Some(expected));
        assert_eq!(WorkspaceConfig::default().retention_months, None);
        assert_eq!(WorkspaceConfig::default().retention_cutoff(now), None);
    }

    #[test]
    fn bad_retention_names_the_key() {
        for (text, key) in [
            (
                "[retention]\nmessage_texts_months = 0\n",
                "retention.message_texts_months",
            ),
            (
                "[retention]\nmessage_texts_months = 1201\n",
                "retention.message_texts_months",
            ),
            (
                "[retention]\nmessage_texts_months = \"24\"\n",
                "retention.message_texts_months",
            ),
            ("[retention]\ntexts = 3\n", "retention.texts"),
            ("retention = 3\n", "retention"),
            ("[topics]\nsegments = \"vip\"\n", "topics.segments"),
            ("[topics]\nsegments = [\"\"]\n", "topics.segments[0]"),
            ("[topics]\nvip = true\n", "topics.vip"),
        ] {
            let e = WorkspaceConfig::from_toml(text).unwrap_err().to_string();
            assert!(e.starts_with(key), "{text}: {e}");
        }
    }

    #[test]
    fn reports_are_read_with_their_defaults() {
        let config = WorkspaceConfig::from_toml(
            r#"
[[reports]]
name = "weekly"
every = "week"
recipients = ["Eigenaar@Shop.nl", { email = "lead@shop.nl", language = "en-GB", timezone = "America/New_York" }]

[[reports]]
name = "klant-maand"
every = "month"
day = 31
at = "07:30"
view = "Chat"
attach = ["xlsx", "pdf", "csv"]
agents = false
agency = "Bureau Klantwijs"
recipients = [{ email = "klant@example.nl" }]
"#,
        )
        .unwrap();
        let [weekly, monthly] = &config.reports[..] else {
            panic!("{:?}", config.reports)
        };
        assert_eq!(weekly.every, Every::Week(Weekday::Monday));
        assert_eq!(weekly.at, Time::constant(8, 0, 0, 0));
        assert_eq!(weekly.attachments, [Attachment::Pdf]);
        assert!(weekly.agent_detail);
        assert_eq!(weekly.recipients[0].email, "eigenaar@shop.nl");
        assert_eq!(weekly.recipients[0].language, "nl");
        assert_eq!(weekly.recipients[0].timezone, None);
        assert_eq!(weekly.recipients[1].language, "en");
        assert_eq!(
            weekly.recipients[1]
                .timezone
                .as_ref()
                .map(|(n, _)| n.as_str()),
            Some("America/New_York")
        );
        assert_eq!(monthly.every, Every::Month(31));
        assert_eq!(monthly.at, Time::constant(7, 30, 0, 0));
        assert_eq!(monthly.view.as_deref(), Some("Chat"));
        assert_eq!(
            monthly.attachments,
            [Attachment::Xlsx, Attachment::Pdf, Attachment::Csv]
        );
        assert!(!monthly.agent_detail);
        assert_eq!(monthly.agency.as_deref(), Some("Bureau Klantwijs"));
        assert!(WorkspaceConfig::default().reports.is_empty());
    }

    #[test]
    fn report_errors_name_the_key() {
        let base = "name = \"w\"\nevery = \"week\"\nrecipients = [\"a@b.nl\"]\n";
        let cases = [
            (
                "reports = 3",
                "reports",
                "must be a list of [[reports]] tables",
            ),
            (
                "[[reports]]\nevery = \"week\"\nrecipients = [\"a@b.nl\"]",
                "reports[0].name",
                "is missing",
            ),
            (
                "[[reports]]\nname = \"w\"\nrecipients = [\"a@b.nl\"]",
                "reports[0].every",
                "is missing",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"",
                "reports[0].recipients",
                "is missing",
            ),
            (
                "[[reports]]\nname = \"Week\"\nevery = \"week\"\nrecipients = [\"a@b.nl\"]",
                "reports[0].name",
                "'Week' is not a report name: 1 to 40 lowercase letters, digits and '-'",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"fortnight\"\nrecipients = [\"a@b.nl\"]",
                "reports[0].every",
                "'fortnight' is not one of day, week, month",
            ),
            (
                &format!("[[reports]]\n{base}weekday = \"maandag\""),
                "reports[0].weekday",
                "unknown day; use mon, tue, wed, thu, fri, sat, sun",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"month\"\nday = 32\nrecipients = [\"a@b.nl\"]",
                "reports[0].day",
                "must be a whole number of days from 1 to 31",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"day\"\nday = 3\nrecipients = [\"a@b.nl\"]",
                "reports[0].day",
                "'day' is not one of month (a day is for monthly reports)",
            ),
            (
                &format!("[[reports]]\n{base}at = \"8:00\""),
                "reports[0].at",
                "'8:00' is not a time of day (HH:MM, e.g. 08:00)",
            ),
            (
                &format!("[[reports]]\n{base}at = \"24:00\""),
                "reports[0].at",
                "'24:00' is not a time of day (HH:MM, e.g. 08:00)",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"\nrecipients = [\"eigenaar\"]",
                "reports[0].recipients[0]",
                "'eigenaar' is not an e-mail address",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"\nrecipients = []",
                "reports[0].recipients",
                "must not be empty",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"\nrecipients = [\"a@b.nl\", \"A@b.nl\"]",
                "reports[0].recipients[1]",
                "'a@b.nl' is used twice",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"\nrecipients = [{ email = \"a@b.nl\", language = \"de\" }]",
                "reports[0].recipients[0].language",
                "'de': reports are written in nl or en",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"\nrecipients = [{ email = \"a@b.nl\", timezone = \"Mars/Olympus\" }]",
                "reports[0].recipients[0].timezone",
                "'Mars/Olympus' is not a known IANA time zone (e.g. Europe/Amsterdam)",
            ),
            (
                "[[reports]]\nname = \"w\"\nevery = \"week\"\nrecipients = [{ mail = \"a@b.nl\" }]",
                "reports[0].recipients[0].mail",
                "unknown key; known: email, language, timezone",
            ),
            (
                &format!("[[reports]]\n{base}attach = [\"docx\"]"),
                "reports[0].attach[0]",
                "'docx' is not one of pdf, csv, xlsx",
            ),
            (
                &format!("[[reports]]\n{base}agents = \"no\""),
                "reports[0].agents",
                "must be true or false, found string",
            ),
            (
                &format!("[[reports]]\n{base}colour = 1"),
                "reports[0].colour",
                "unknown key; known: name, every, weekday, day, at, recipients, view, attach, agents, agency",
            ),
            (
                &format!("[[reports]]\n{base}\n[[reports]]\n{base}"),
                "reports[1].name",
                "'w' is used twice",
            ),
        ];
        for (text, key, message) in cases {
            let e = WorkspaceConfig::from_toml(text).unwrap_err();
            assert_eq!(
                (e.key.as_str(), e.problem.to_string().as_str()),
                (key, message),
                "{text}"
            );
        }
    }
}
