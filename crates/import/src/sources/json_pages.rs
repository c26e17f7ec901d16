//! Reading API JSON pages saved as files: each file holds an object with arrays under known
//! keys, a bare array whose kind its file name gives, or a single object of one kind; items
//! come back with their file and place (`conversations[3]`) for errors.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;

use super::SourceError;

/// Items of one kind: file, place, the item.
pub type Items = Vec<(String, String, Value)>;

/// A page: its name (a file's path, or the address it was fetched from), the name that tells
/// a bare array's kind (a file name), and its JSON.
#[derive(Debug, Clone)]
pub struct Page {
    pub name: String,
    pub kind_hint: String,
    pub value: Value,
}

/// Reads files as pages.
pub fn load(files: &[PathBuf]) -> Result<Vec<Page>, SourceError> {
    files
        .iter()
        .map(|path| {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| SourceError::new(&name, "", "", format!("cannot read: {e}")))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                SourceError::new(
                    &name,
                    format!("line {}", e.line()),
                    "",
                    format!("not JSON: {e}"),
                )
            })?;
            let kind_hint = path
                .file_name()
                .and_then(|f| f.to_str())
                .unwrap_or("")
                .to_string();
            Ok(Page {
                name,
                kind_hint,
                value,
            })
        })
        .collect()
}

/// The items of `kinds` in `files`. `single` names the kind of a file that is one object with
/// a `type` field equal to that kind's singular (e.g. an Intercom `"type": "conversation"`).
pub fn read(
    files: &[PathBuf],
    kinds: &[&'static str],
    single: Option<(&str, &'static str)>,
) -> Result<HashMap<&'static str, Items>, SourceError> {
    classify(&load(files)?, kinds, single)
}

/// The items of `kinds` in pages (see [`read`]).
pub fn classify(
    pages: &[Page],
    kinds: &[&'static str],
    single: Option<(&str, &'static str)>,
) -> Result<HashMap<&'static str, Items>, SourceError> {
    let mut by_kind: HashMap<&'static str, Items> = HashMap::new();
    for page in pages {
        let name = page.name.clone();
        let value = &page.value;
        let file_name = page.kind_hint.as_str();
        let mut found = false;
        if let Some((type_value, kind)) = single
            && value["type"].as_str() == Some(type_value)
        {
            by_kind.entry(kind).or_default().push((
                name.clone(),
                kind.trim_end_matches('s').to_string(),
                value.clone(),
            ));
            continue;
        }
        for &kind in kinds {
            let items = match value {
                Value::Array(items) if file_name.starts_with(kind) => items.clone(),
                Value::Object(map) => match map.get(kind) {
                    Some(Value::Array(items)) => items.clone(),
                    Some(_) => return Err(SourceError::new(&name, kind, "", "must be an array")),
                    None => continue,
                },
                _ => continue,
            };
            found = true;
            let entry = by_kind.entry(kind).or_default();
            for (i, item) in items.into_iter().enumerate() {
                entry.push((name.clone(), format!("{kind}[{i}]"), item));
            }
        }
        if !found {
            return Err(SourceError::new(
                &name,
                "",
                "",
                format!(
                    "holds none of {} (a bare array needs a file name starting with one of them)",
                    kinds.join(", ")
                ),
            ));
        }
    }
    Ok(by_kind)
}

/// A number or a numeric string.
pub fn id_of(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

/// An id as text (numbers and strings alike).
pub fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-empty string field.
pub fn text<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v[field].as_str().filter(|s| !s.is_empty())
}

/// Unix seconds (a number or numeric string) as RFC 3339.
pub fn unix_time(v: &Value) -> Option<String> {
    let seconds = v
        .as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))?;
    Some(servicemeter_core::time::format_utc(
        seconds.checked_mul(1000)?,
    ))
}
