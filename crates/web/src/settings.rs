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
use servicemeter_core::access::Role;
use servicemeter_core::config::DEFAULT_CONFIG_TOML;
use servicemeter_core::{Calendars, WorkspaceConfig};
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

async fn admin_access<S: Store + Accounts>(
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

fn config_text(access: &Access) -> String {
    access
        .workspace
        .config_toml
        .clone()
        .unwrap_or_else(|| DEFAULT_CONFIG_TOML.to_string())
}

fn parse_table(text: &str) -> toml::Table {
    text.parse().unwrap_or_default()
}

/// One week of opening hours as written (empty = closed).
struct WeekRow {
    channel: String,
    days: Vec<(String, String)>,
}

struct MemberRow {
    email: String,
    role: &'static str,
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
    weeks: Vec<WeekRow>,
    day_names: Vec<(&'static str, &'static str)>,
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
    agents_seen: String,
    members: Vec<MemberRow>,
    roles: Vec<&'static str>,
    tokens: Vec<TokenRow>,
    webhook_secret: String,
    chatwoot_path: String,
    toml: String,
}

fn lines_of_table(table: Option<&toml::Value>) -> String {
    table
        .and_then(toml::Value::as_table)
        .map(|t| {
            t.iter()
                .map(|(k, v)| {
                    format!(
                        "{k} = {}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
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
    } = notes;
    let text = config_text(access);
    let root = parse_table(&text);
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
    let target_value = |key: &str| {
        targets
            .and_then(|t| t.get(key))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    let agents = root.get("agents").and_then(toml::Value::as_table);
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
            created: jiff::Timestamp::from_millisecond(t.created_at)
                .map(|ts| {
                    ts.to_zoned_datetime(tz.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_default(),
            live: t.revoked_at.is_none(),
        })
        .collect();
    let secret = state
        .store
        .webhook_secret(access.workspace.id)
        .await?
        .unwrap_or_default();
    Ok(SettingsPage {
        frame: Frame::new(lang, Some(signed_in.user.email.clone())),
        workspace: access.workspace.name.clone(),
        saved,
        error,
        new_token,
        weeks,
        day_names: DAYS
            .iter()
            .copied()
            .zip(lang.weekdays().iter().copied())
            .collect(),
        timezone: root
            .get("timezone")
            .and_then(toml::Value::as_str)
            .unwrap_or("Europe/Amsterdam")
            .to_string(),
        nl_holidays: root
            .get("holiday_calendar")
            .and_then(toml::Value::as_str)
            .is_some_and(|c| c.eq_ignore_ascii_case("NL")),
        holidays: lines_of_list(root.get("holidays")),
        first_response_targets: lines_of_table(targets.and_then(|t| t.get("first_response"))),
        median_targets: lines_of_table(targets.and_then(|t| t.get("median_first_response"))),
        csat_pct: target_value("csat_pct"),
        resolution_pct: target_value("resolution_pct"),
        aliases: lines_of_table(agents.and_then(|a| a.get("aliases"))),
        bots: lines_of_list(agents.and_then(|a| a.get("bots"))),
        exclude: lines_of_list(agents.and_then(|a| a.get("exclude"))),
        agents_seen: seen.join(", "),
        members,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
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
    })
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

/// Validates and stores a configuration text, recomputing every conversation's facts.
async fn save_config<S: Store + Accounts>(
    state: &AppState<S>,
    access: &Access,
    text: &str,
) -> Result<Result<(), String>, WebError> {
    let config = match WorkspaceConfig::from_toml(text) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    state
        .store
        .replace_config(access.workspace.id, text, &Calendars::new(config))
        .await?;
    Ok(Ok(()))
}

async fn answer<S: Store + Accounts>(
    state: &AppState<S>,
    lang: Lang,
    signed_in: &SignedIn,
    access: &Access,
    section: &str,
    outcome: Result<(), String>,
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
                error,
                toml: toml_text,
                ..Notes::default()
            };
            let page = page(state, lang, signed_in, access, notes).await?;
            Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response())
        }
    }
}

fn toml_string(text: &str) -> toml::Value {
    toml::Value::String(text.trim().to_string())
}

/// `key = value` lines into a table of strings; the first bad line is the error.
fn pairs(text: &str, field: &str) -> Result<toml::Table, String> {
    let mut table = toml::Table::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .ok_or_else(|| format!("{field}, line {}: write name = value", i + 1))?;
        let key = k.trim().trim_matches('"').to_string();
        let value = v.trim().trim_matches('"').to_string();
        if key.is_empty() || value.is_empty() {
            return Err(format!("{field}, line {}: write name = value", i + 1));
        }
        table.insert(key, toml::Value::String(value));
    }
    Ok(table)
}

fn list(text: &str) -> toml::Value {
    toml::Value::Array(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(toml_string)
            .collect(),
    )
}

/// Applies a change to the stored configuration's TOML and saves it.
async fn change_config<S: Store + Accounts>(
    state: &AppState<S>,
    access: &Access,
    change: impl FnOnce(&mut toml::Table) -> Result<(), String>,
) -> Result<Result<(), String>, WebError> {
    let mut root = parse_table(&config_text(access));
    if let Err(e) = change(&mut root) {
        return Ok(Err(e));
    }
    let text = toml::to_string(&root).map_err(|e| WebError::Internal(e.into()))?;
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
    // Fields: week.<n>.channel and week.<n>.<day>.
    let mut weeks: std::collections::BTreeMap<usize, (String, toml::Table)> = Default::default();
    for (key, value) in &fields {
        let mut parts = key.splitn(3, '.');
        let (Some("week"), Some(n), Some(what)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let Ok(n) = n.parse::<usize>() else { continue };
        let entry = weeks.entry(n).or_default();
        if what == "channel" {
            entry.0 = value.trim().to_lowercase();
        } else if DAYS.contains(&what) && !value.trim().is_empty() {
            entry.1.insert(what.to_string(), toml_string(value));
        }
    }
    let outcome = change_config(&state, &access, |root| {
        let mut hours = toml::Table::new();
        for (_, (channel, days)) in weeks {
            match channel.as_str() {
                "default" => hours.extend(days),
                "" if days.is_empty() => {}
                "" => return Err("opening_hours: a week needs a channel name".into()),
                channel => {
                    hours.insert(channel.to_string(), toml::Value::Table(days));
                }
            }
        }
        root.insert("opening_hours".into(), toml::Value::Table(hours));
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "hours", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct HolidaysForm {
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
    let outcome = change_config(&state, &access, |root| {
        root.insert("timezone".into(), toml_string(&form.timezone));
        if form.nl.is_some() {
            root.insert("holiday_calendar".into(), toml_string("NL"));
        } else {
            root.remove("holiday_calendar");
        }
        root.insert("holidays".into(), list(&form.holidays));
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "holidays", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TargetsForm {
    first_response: String,
    median_first_response: String,
    csat_pct: String,
    resolution_pct: String,
}

fn percent(text: &str, field: &str) -> Result<Option<toml::Value>, String> {
    let text = text.trim().trim_end_matches('%').trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>()
        .map(|v| Some(toml::Value::Float(v)))
        .map_err(|_| format!("{field}: '{text}' is not a number"))
}

pub async fn save_targets<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<TargetsForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let outcome = change_config(&state, &access, |root| {
        let mut targets = toml::Table::new();
        targets.insert(
            "first_response".into(),
            toml::Value::Table(pairs(&form.first_response, "targets.first_response")?),
        );
        let median = pairs(&form.median_first_response, "targets.median_first_response")?;
        if !median.is_empty() {
            targets.insert("median_first_response".into(), toml::Value::Table(median));
        }
        if let Some(v) = percent(&form.csat_pct, "targets.csat_pct")? {
            targets.insert("csat_pct".into(), v);
        }
        if let Some(v) = percent(&form.resolution_pct, "targets.resolution_pct")? {
            targets.insert("resolution_pct".into(), v);
        }
        root.insert("targets".into(), toml::Value::Table(targets));
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "targets", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AgentsForm {
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
    let outcome = change_config(&state, &access, |root| {
        let mut agents = toml::Table::new();
        agents.insert(
            "aliases".into(),
            toml::Value::Table(pairs(&form.aliases, "agents.aliases")?),
        );
        agents.insert("bots".into(), list(&form.bots));
        agents.insert("exclude".into(), list(&form.exclude));
        root.insert("agents".into(), toml::Value::Table(agents));
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "agents", outcome, None).await
}

/// Missing fields read as empty, so that access is checked before the form.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfigForm {
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
    let outcome = save_config(&state, &access, &form.toml).await?;
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
    let outcome: Result<(), String> = async {
        let email = normalize_email(&form.email)?;
        let existing = state
            .store
            .user_by_email(&email)
            .await
            .map_err(|e| e.to_string())?;
        if form.remove.is_some() {
            let user = existing.ok_or_else(|| format!("email: {email} is not a member"))?;
            if user.id == signed_in.user.id {
                return Err("email: you cannot remove yourself".into());
            }
            state
                .store
                .remove_membership(access.workspace.id, user.id)
                .await
                .map_err(|e| e.to_string())?;
            return Ok(());
        }
        let role = Role::parse(&form.role).map_err(|e| format!("role: {e}"))?;
        let agent_name = form.agent_name.trim();
        if role == Role::Agent && agent_name.is_empty() {
            return Err(
                "agent_name: an agent needs the name the conversations use for them".into(),
            );
        }
        let user = match existing {
            Some(user) => {
                if user.id == signed_in.user.id && role != Role::Admin {
                    return Err("role: you cannot take away your own administrator role".into());
                }
                user.id
            }
            None => {
                check_new_password(&form.password)?;
                let hash = hash_password_blocking(form.password.clone())
                    .await
                    .map_err(|e| e.to_string())?;
                match state
                    .store
                    .create_user(&email, &hash, state.now_millis())
                    .await
                {
                    Ok(id) => id,
                    Err(StoreError::Conflict(_)) => {
                        return Err(format!("email: {email} was just added"));
                    }
                    Err(e) => return Err(e.to_string()),
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
            .map_err(|e| e.to_string())
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
            Err("name: say what the token is for".into()),
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
