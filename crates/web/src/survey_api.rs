//! The survey definitions through the API, in the shape of the configuration's `[surveys]`
//! table as JSON: `GET /api/v1/workspaces/{ws}/surveys` gives the settings in force (every
//! default filled in; a kind that is off as `{"enabled": false}`), and `PUT` (administrators)
//! replaces the `[surveys]` part of the configuration with the body, checked by the same rules
//! as the TOML (an error names the key, e.g. `surveys.csat.delay`). What GET gives, PUT takes.
//! The body may be as large as the API takes; the configuration's own limits (texts of 500
//! bytes, 12 reasons) apply inside it.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Map, Value, json};
use servicemeter_core::model::SurveyKind;
use servicemeter_core::surveys::{SurveyDefinition, SurveySettings, Texts};
use servicemeter_store::config_file::{self, SaveError};
use servicemeter_store::{Accounts, Store};

use crate::auth::{Caller, workspace_access};
use crate::error::WebError;
use crate::state::AppState;

/// Texts per language as a JSON object.
fn texts(texts: &Texts) -> Value {
    Value::Object(
        texts
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn definition_json(d: &SurveyDefinition) -> Value {
    let mut out = json!({
        "enabled": true,
        "scale": d.scale.as_str(),
        "question": texts(&d.question),
        "comment": if d.comment.is_empty() { Value::Bool(false) } else { texts(&d.comment) },
        "reasons": d.reasons.iter().map(|r| texts(&r.labels)).collect::<Vec<_>>(),
        "delay": d.delay.to_string(),
        "throttle_days": d.throttle_days,
        "sample_pct": d.sample_pct,
        "exclude_channels": d.exclude_channels,
        "exclude_tags": d.exclude_tags,
        "exclude_agents": d.exclude_agents,
    });
    if let Some(days) = d.every_days {
        out["every_days"] = days.into();
    }
    out
}

/// The settings in force as the `[surveys]` table reads them.
pub fn settings_json(s: &SurveySettings) -> Value {
    let mut out = Map::new();
    for (key, value) in [
        ("brand", &s.brand),
        ("logo_url", &s.logo_url),
        ("color", &s.color),
    ] {
        if let Some(v) = value {
            out.insert(key.into(), Value::String(v.clone()));
        }
    }
    out.insert("language".into(), s.language.clone().into());
    out.insert("change_days".into(), s.change_days.into());
    out.insert("anonymous".into(), s.anonymous.into());
    out.insert("follow_up_days".into(), s.follow_up_days.into());
    for kind in [SurveyKind::Csat, SurveyKind::Nps, SurveyKind::Ces] {
        out.insert(
            kind.as_str().into(),
            s.kinds
                .get(&kind)
                .map_or_else(|| json!({"enabled": false}), definition_json),
        );
    }
    Value::Object(out)
}

/// `GET /api/v1/workspaces/{workspace}/surveys`.
pub async fn get<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Json<Value>, WebError> {
    let access = workspace_access(&*state.store, &caller, &name).await?;
    let config = crate::data::config(&access.workspace)?;
    Ok(Json(settings_json(&config.surveys)))
}

/// Drops `null`s (a key that GET leaves unset may come back as null): TOML has none.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The stored configuration with its `[surveys]` part replaced by `surveys` (the rest of the
/// text, its comments and order, stays as written).
fn replaced(config: &str, surveys: Value) -> Result<String, WebError> {
    let Value::Object(_) = surveys else {
        return Err(WebError::BadRequest(
            "surveys: the body must be an object like GET returns".into(),
        ));
    };
    let value = toml::Value::try_from(without_nulls(surveys))
        .map_err(|e| WebError::BadRequest(format!("surveys: {e}")))?;
    let mut wrapper = toml::Table::new();
    wrapper.insert("surveys".into(), value);
    let text =
        toml::to_string(&wrapper).map_err(|e| WebError::BadRequest(format!("surveys: {e}")))?;
    let new: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| WebError::Internal(anyhow::anyhow!("surveys as TOML: {e}")))?;
    let mut doc: toml_edit::DocumentMut = config
        .parse()
        .map_err(|e| WebError::BadRequest(format!("the stored configuration: {e}")))?;
    doc.remove("surveys");
    if let Some(item) = new.get("surveys") {
        doc.insert("surveys", item.clone());
    }
    Ok(doc.to_string())
}

/// `PUT /api/v1/workspaces/{workspace}/surveys`: replaces the survey definitions; answers with
/// the settings now in force.
pub async fn put<S: Store + Accounts>(
    State(state): State<AppState<S>>,
    caller: Caller,
    Path(name): Path<String>,
    Json(body): Json<Value>,
) -> Result<Json<Value>, WebError> {
    let access = workspace_access(&*state.store, &caller, &name).await?;
    if !access.role.can_administer() {
        return Err(WebError::Forbidden);
    }
    let current = access
        .workspace
        .config_toml
        .clone()
        .unwrap_or_else(|| servicemeter_core::config::DEFAULT_CONFIG_TOML.to_string());
    let text = replaced(&current, body)?;
    match config_file::save_in_background(
        &*state.store,
        &access.workspace,
        &text,
        state.config_dir.as_deref(),
        state.now_millis(),
    )
    .await
    {
        Ok(saved) => {
            if saved.changed {
                state.jobs_wake.notify_one();
            }
        }
        Err(SaveError::Invalid(error)) => return Err(WebError::BadRequest(error.to_string())),
        Err(SaveError::Store(e)) => return Err(e.into()),
        Err(e @ SaveError::File { .. }) => return Err(WebError::Internal(e.into())),
    }
    let config = servicemeter_core::WorkspaceConfig::from_toml(&text)
        .map_err(|e| WebError::Internal(e.into()))?;
    Ok(Json(settings_json(&config.surveys)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_get_gives_put_takes_and_the_rest_of_the_text_stays() {
        let config = "# Shop\ntimezone = \"Europe/Amsterdam\" # here\n\n[surveys]\nbrand = \"Oud\"\n[surveys.nps]\n";
        let settings = servicemeter_core::WorkspaceConfig::from_toml(
            "[surveys]\nbrand = \"Fiets\"\n[surveys.csat]\nscale = \"faces\"\ndelay = \"2h\"\nreasons = [{ nl = \"Te traag\" }]\n[surveys.nps]\nevery_days = 90\ncomment = false\n",
        )
        .unwrap()
        .surveys;
        let json = settings_json(&settings);
        assert_eq!(json["csat"]["scale"], "faces");
        assert_eq!(json["csat"]["delay"], "2h");
        assert_eq!(json["nps"]["comment"], false);
        assert_eq!(json["ces"], json!({"enabled": false}));
        let text = replaced(config, json.clone()).unwrap();
        assert!(
            text.starts_with("# Shop\ntimezone = \"Europe/Amsterdam\" # here\n"),
            "{text}"
        );
        let again = servicemeter_core::WorkspaceConfig::from_toml(&text)
            .unwrap()
            .surveys;
        assert_eq!(again, settings);
        assert_eq!(settings_json(&again), json);
        // Nulls are left out; anything but an object is refused.
        let text = replaced(config, json!({"brand": null, "csat": {"scale": "ten"}})).unwrap();
        let read = servicemeter_core::WorkspaceConfig::from_toml(&text)
            .unwrap()
            .surveys;
        assert_eq!(read.brand, None);
        assert_eq!(read.kinds[&SurveyKind::Csat].scale.as_str(), "ten");
        assert!(!read.kinds.contains_key(&SurveyKind::Nps));
        assert!(replaced(config, json!([1])).is_err());
    }
}
