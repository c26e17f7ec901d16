//! The settings page's survey parts (administrators): which kinds are asked, on what scale,
//! when and how often, with the brand — written into the `[surveys]` TOML like the other
//! forms (only changed keys; questions, reasons and exclusions stay in the TOML) — and the
//! workspace's own SMTP server for the survey mail, whose password is never shown again, with
//! a test message to the administrator.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use lettre::message::{Mailbox, Message};
use serde::Deserialize;
use servicemeter_core::WorkspaceConfig;
use servicemeter_core::model::SurveyKind;
use servicemeter_core::surveys::{SurveyDefinition, scales_of};
use servicemeter_store::{Accounts, Store};

use crate::auth::SignedIn;
use crate::error::WebError;
use crate::i18n::{Lang, Texts};
use crate::mail::{Security, SmtpSettings};
use crate::settings::{
    Said, admin_access, answer, change_config, config_text, parse_table, put, same_field, section,
    set_percent, set_text,
};
use crate::state::AppState;

/// One kind's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KindForm {
    pub key: &'static str,
    pub label: &'static str,
    pub enabled: bool,
    /// Form value, label, chosen.
    pub scales: Vec<(&'static str, &'static str, bool)>,
    pub delay: String,
    pub throttle_days: String,
    pub sample_pct: String,
    /// NPS only (relationship NPS); empty: off.
    pub every_days: String,
    pub is_nps: bool,
}

/// The survey form's fields as the page shows them (raw TOML values where written, else the
/// values in force).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SurveyForms {
    pub brand: String,
    pub logo_url: String,
    pub color: String,
    pub language: String,
    pub change_days: String,
    pub follow_up_days: String,
    pub anonymous: bool,
    pub kinds: Vec<KindForm>,
}

fn scale_label(name: &str, t: &Texts) -> &'static str {
    match name {
        "stars" => t.scale_stars,
        "faces" => t.scale_faces,
        "ten" => t.scale_ten,
        "nps" => t.scale_nps,
        _ => t.scale_ces,
    }
}

fn kind_label(kind: SurveyKind, t: &Texts) -> &'static str {
    match kind {
        SurveyKind::Csat => t.csat,
        SurveyKind::Nps => t.nps,
        SurveyKind::Ces => t.ces,
    }
}

impl SurveyForms {
    pub(crate) fn of(text: &str, lang: Lang) -> SurveyForms {
        let t = lang.texts();
        let root = parse_table(text);
        let effective = WorkspaceConfig::from_toml(text).unwrap_or_default().surveys;
        let raw = root.get("surveys").and_then(toml::Value::as_table);
        let raw_text = |table: Option<&toml::Table>, key: &str| {
            table
                .and_then(|t| t.get(key))
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
        };
        let kinds = [SurveyKind::Csat, SurveyKind::Nps, SurveyKind::Ces]
            .into_iter()
            .map(|kind| {
                let table = raw
                    .and_then(|r| r.get(kind.as_str()))
                    .and_then(toml::Value::as_table);
                let shown = effective
                    .kinds
                    .get(&kind)
                    .cloned()
                    .unwrap_or_else(|| SurveyDefinition::with_defaults(kind));
                let scale = raw_text(table, "scale").unwrap_or(shown.scale.as_str().to_string());
                KindForm {
                    key: kind.as_str(),
                    label: kind_label(kind, t),
                    enabled: effective.kinds.contains_key(&kind),
                    scales: scales_of(kind)
                        .iter()
                        .map(|c| (c.as_str(), scale_label(c.as_str(), t), c.as_str() == scale))
                        .collect(),
                    delay: raw_text(table, "delay").unwrap_or_else(|| shown.delay.to_string()),
                    throttle_days: raw_text(table, "throttle_days")
                        .unwrap_or_else(|| shown.throttle_days.to_string()),
                    sample_pct: raw_text(table, "sample_pct")
                        .unwrap_or_else(|| crate::settings::percent_text(shown.sample_pct)),
                    every_days: raw_text(table, "every_days").unwrap_or_default(),
                    is_nps: kind == SurveyKind::Nps,
                }
            })
            .collect();
        SurveyForms {
            brand: raw_text(raw, "brand").unwrap_or_default(),
            logo_url: raw_text(raw, "logo_url").unwrap_or_default(),
            color: raw_text(raw, "color").unwrap_or_default(),
            language: raw_text(raw, "language").unwrap_or_else(|| effective.language.clone()),
            change_days: raw_text(raw, "change_days")
                .unwrap_or_else(|| effective.change_days.to_string()),
            follow_up_days: raw_text(raw, "follow_up_days")
                .unwrap_or_else(|| effective.follow_up_days.to_string()),
            anonymous: effective.anonymous,
            kinds,
        }
    }
}

/// A text key: empty removes it (the default applies).
fn set_or_remove(table: &mut dyn toml_edit::TableLike, key: &str, text: &str) {
    let text = text.trim();
    if text.is_empty() {
        table.remove(key);
    } else {
        set_text(table, key, text);
    }
}

/// A whole number key: empty removes it; the configuration's own check says what is allowed.
fn set_number(
    table: &mut dyn toml_edit::TableLike,
    key: &str,
    text: &str,
    field: &str,
) -> Result<(), Said> {
    let text = text.trim();
    if text.is_empty() {
        table.remove(key);
        return Ok(());
    }
    let n = text.parse::<i64>().map_err(|_| {
        Said::new(
            format!("{field}: '{text}' is geen heel getal"),
            format!("{field}: '{text}' is not a whole number"),
        )
    })?;
    put(table, key, n);
    Ok(())
}

/// `POST /w/{workspace}/settings/surveys`.
pub async fn save_surveys<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let field = |key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let version = field("version").to_string();
    let shown = SurveyForms::of(&config_text(&access), lang);
    let outcome = change_config(&state, &access, Some(&version), |doc| {
        let top: [(&str, &str); 6] = [
            ("brand", &shown.brand),
            ("logo_url", &shown.logo_url),
            ("color", &shown.color),
            ("language", &shown.language),
            ("change_days", &shown.change_days),
            ("follow_up_days", &shown.follow_up_days),
        ];
        let top_changed: Vec<&str> = top
            .iter()
            .filter(|(key, was)| !same_field(field(key), was))
            .map(|(key, _)| *key)
            .collect();
        let kinds_changed = shown.kinds.iter().any(|k| {
            let on = field(&format!("{}.enabled", k.key)) == "1";
            on != k.enabled
                || (on
                    && [
                        ("scale", k.scales.iter().find(|s| s.2).map_or("", |s| s.0)),
                        ("delay", &k.delay),
                        ("throttle_days", &k.throttle_days),
                        ("sample_pct", &k.sample_pct),
                        ("every_days", &k.every_days),
                    ]
                    .iter()
                    .any(|(key, was)| {
                        let posted = field(&format!("{}.{key}", k.key));
                        (*key != "every_days" || k.is_nps) && !same_field(posted, was)
                    }))
        });
        let anonymous = field("anonymous") == "1";
        if top_changed.is_empty() && !kinds_changed && anonymous == shown.anonymous {
            return Ok(());
        }
        let surveys = section(doc.as_table_mut(), "surveys")?;
        if anonymous != shown.anonymous {
            put(surveys, "anonymous", anonymous);
        }
        for key in top_changed {
            let path = format!("surveys.{key}");
            match key {
                "change_days" | "follow_up_days" => set_number(surveys, key, field(key), &path)?,
                _ => set_or_remove(surveys, key, field(key)),
            }
        }
        for k in &shown.kinds {
            let prefix = k.key;
            let on = field(&format!("{prefix}.enabled")) == "1";
            if !on {
                if k.enabled
                    && let Some(table) = surveys
                        .get_mut(prefix)
                        .and_then(toml_edit::Item::as_table_like_mut)
                {
                    // Switched off: kept as written, with `enabled = false`.
                    put(table, "enabled", false);
                }
                continue;
            }
            if surveys.get(prefix).is_none() {
                // A new `[surveys.csat]` is written even while it is empty.
                surveys.insert(prefix, toml_edit::Item::Table(toml_edit::Table::new()));
            }
            let table = section(surveys, prefix)?;
            table.remove("enabled");
            let posted = |key: &str| field(&format!("{prefix}.{key}")).to_string();
            let was_scale = k.scales.iter().find(|s| s.2).map_or("", |s| s.0);
            if !same_field(&posted("scale"), was_scale) {
                set_or_remove(table, "scale", &posted("scale"));
            }
            if !same_field(&posted("delay"), &k.delay) {
                set_or_remove(table, "delay", &posted("delay"));
            }
            if !same_field(&posted("throttle_days"), &k.throttle_days) {
                set_number(
                    table,
                    "throttle_days",
                    &posted("throttle_days"),
                    &format!("surveys.{prefix}.throttle_days"),
                )?;
            }
            if !same_field(&posted("sample_pct"), &k.sample_pct) {
                set_percent(
                    table,
                    "sample_pct",
                    &posted("sample_pct"),
                    &format!("surveys.{prefix}.sample_pct"),
                )?;
            }
            if k.is_nps && !same_field(&posted("every_days"), &k.every_days) {
                set_number(
                    table,
                    "every_days",
                    &posted("every_days"),
                    &format!("surveys.{prefix}.every_days"),
                )?;
            }
        }
        Ok(())
    })
    .await?;
    answer(&state, lang, &signed_in, &access, "surveys", outcome, None).await
}

/// The mail part as the page shows it (never the password).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MailForm {
    /// The workspace has its own server.
    pub own: bool,
    pub host: String,
    pub port: String,
    /// `starttls`, `tls` or `none`.
    pub security: &'static str,
    pub username: String,
    pub has_password: bool,
    pub from: String,
    /// Without its own server: the installation's host, or empty when there is none.
    pub installation_host: String,
}

impl MailForm {
    pub(crate) async fn of<S: Store>(
        state: &AppState<S>,
        workspace: servicemeter_store::WorkspaceId,
    ) -> Result<MailForm, WebError> {
        let installation_host = state
            .installation_smtp
            .as_ref()
            .map(|s| s.host.clone())
            .unwrap_or_default();
        let Some((url, sender)) = state.store.workspace_smtp(workspace).await? else {
            return Ok(MailForm {
                security: "starttls",
                port: "587".into(),
                installation_host,
                ..MailForm::default()
            });
        };
        let smtp = SmtpSettings::parse(&url, &sender)
            .map_err(|e| WebError::Internal(anyhow::anyhow!("stored SMTP settings: {e}")))?;
        Ok(MailForm {
            own: true,
            host: smtp.host.clone(),
            port: smtp.port.to_string(),
            security: security_key(smtp.security),
            username: smtp.username.clone().unwrap_or_default(),
            has_password: smtp.has_password(),
            from: smtp.from.clone(),
            installation_host,
        })
    }
}

fn security_key(security: Security) -> &'static str {
    match security {
        Security::StartTls => "starttls",
        Security::Tls => "tls",
        Security::Plain => "none",
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct MailSettingsForm {
    action: String,
    host: String,
    port: String,
    security: String,
    username: String,
    password: String,
    from: String,
}

/// The settings a mail form describes; an empty password keeps the stored one when the host
/// and user name stay the same.
fn settings_of(
    form: &MailSettingsForm,
    stored: Option<&SmtpSettings>,
) -> Result<SmtpSettings, Said> {
    let host = form.host.trim();
    if host.is_empty() || host.contains(['/', '@', '?', ' ', ':']) {
        return Err(Said::new(
            format!("SMTP-server: '{host}' is geen servernaam (bijvoorbeeld smtp.example.nl)"),
            format!("SMTP server: '{host}' is not a server name (for example smtp.example.nl)"),
        ));
    }
    let port = form
        .port
        .trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| {
            Said::new(
                format!("poort: '{}' is geen poort (1–65535)", form.port.trim()),
                format!("port: '{}' is not a port (1–65535)", form.port.trim()),
            )
        })?;
    let (scheme, query) = match form.security.trim() {
        "starttls" => ("smtp", ""),
        "tls" => ("smtps", ""),
        "none" => ("smtp", "?tls=none"),
        other => {
            return Err(Said::new(
                format!("beveiliging: '{other}' is niet starttls, tls of none"),
                format!("security: '{other}' is not starttls, tls or none"),
            ));
        }
    };
    let username = form.username.trim();
    let user = if username.is_empty() {
        String::new()
    } else {
        format!(
            "{}@",
            form_urlencoded::byte_serialize(username.as_bytes()).collect::<String>()
        )
    };
    let from = form.from.trim();
    let smtp = SmtpSettings::parse(&format!("{scheme}://{user}{host}:{port}{query}"), from)
        .map_err(|e| {
            Said::new(
                format!("afzender: '{from}' is geen e-mailadres (Naam <adres@example.nl>)"),
                e,
            )
        })?;
    let password = if form.password.is_empty() {
        stored.and_then(|s| s.password_for(&smtp))
    } else {
        Some(form.password.clone())
    };
    Ok(smtp.with_password(password))
}

/// A short message that shows the settings work.
fn test_message(smtp: &SmtpSettings, to: &str, lang: Lang) -> Result<Message, String> {
    let t = lang.texts();
    let to: Mailbox = to.parse().map_err(|e| format!("'{to}': {e}"))?;
    Message::builder()
        .from(smtp.sender())
        .to(to)
        .subject(t.mail_test_subject)
        .body(format!(
            "{}\n\n{}:{}\n",
            t.mail_test_body, smtp.host, smtp.port
        ))
        .map_err(|e| e.to_string())
}

/// `POST /w/{workspace}/settings/mail`: save, remove or test the workspace's SMTP server.
pub async fn save_mail<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    lang: Lang,
    signed_in: SignedIn,
    Path(name): Path<String>,
    Form(form): Form<MailSettingsForm>,
) -> Result<Response, WebError> {
    let access = admin_access(&state, &signed_in, &name).await?;
    let ws = access.workspace.id;
    let now = state.now_millis();
    let stored = match state.store.workspace_smtp(ws).await? {
        Some((url, sender)) => SmtpSettings::parse(&url, &sender).ok(),
        None => None,
    };
    let outcome: Result<&str, Said> = match form.action.as_str() {
        "remove" => {
            state.store.set_workspace_smtp(ws, None, now).await?;
            Ok("mail")
        }
        "test" => {
            // The settings as stored (or the installation's): what the survey mail uses.
            let smtp =
                crate::survey_mail::smtp_for(&*state.store, ws, state.installation_smtp.as_deref())
                    .await
                    .map_err(|e| WebError::Internal(anyhow::anyhow!(e)))?;
            match smtp {
                None => Err(Said::new(
                    "er is geen SMTP-server ingesteld",
                    "no SMTP server is set up",
                )),
                Some(smtp) => match test_message(&smtp, &signed_in.user.email, lang) {
                    Ok(message) => smtp.send(message).await.map(|_| "mail-test"),
                    Err(e) => Err(e),
                }
                .map_err(|e| Said::new(format!("testbericht: {e}"), format!("test message: {e}"))),
            }
        }
        "save" => match settings_of(&form, stored.as_ref()) {
            Ok(smtp) => {
                state
                    .store
                    .set_workspace_smtp(ws, Some((&smtp.to_url(), &smtp.from)), now)
                    .await?;
                Ok("mail")
            }
            Err(e) => Err(e),
        },
        other => Err(Said::new(
            format!("actie: '{other}' is niet save, test of remove"),
            format!("action: '{other}' is not save, test or remove"),
        )),
    };
    match outcome {
        Ok(saved) => Ok(Redirect::to(&format!(
            "/w/{}/settings?saved={saved}#mail",
            access.workspace.name
        ))
        .into_response()),
        Err(said) => answer(&state, lang, &signed_in, &access, "mail", Err(said), None).await,
    }
}
