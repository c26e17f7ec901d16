//! Any CSV with one row per message, described by a small TOML mapping file: which column holds
//! the conversation id, the time (and its format and time zone), the author's role (values
//! mapped to customer, agent, bot, note — or derived from whether the agent column is filled),
//! the agent, channel, text, tags, subject and customer. See docs/importers.md.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::{SourceError, Translated, Translation, local_to_rfc3339, put_contact, read_csv_with};

/// How the author's role is found.
#[derive(Debug, Clone, PartialEq)]
enum AuthorRule {
    /// Values of the author column → roles.
    Values(BTreeMap<String, String>),
    /// A filled agent column = agent, an empty one = customer.
    AgentColumn,
}

/// A parsed mapping file.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    columns: BTreeMap<String, String>,
    /// `None`: RFC 3339 with offsets.
    time_format: Option<String>,
    timezone: Option<TimeZone>,
    author: AuthorRule,
    default_channel: Option<String>,
    tag_separator: String,
    delimiter: u8,
}

const COLUMN_KEYS: [&str; 12] = [
    "conversation",
    "timestamp",
    "author",
    "agent",
    "channel",
    "text",
    "tags",
    "subject",
    "customer",
    "customer_email",
    "customer_name",
    "customer_language",
];

fn problem(file: &str, key: &str, reason: impl Into<String>) -> SourceError {
    SourceError::new(file, "", key, reason)
}

impl Mapping {
    /// Reads and checks a mapping file; an error names the key.
    pub fn read(path: &Path) -> Result<Mapping, SourceError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| SourceError::new(&file, "", "", format!("cannot read: {e}")))?;
        let root: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            problem(&file, "(toml)", e.to_string().trim_end().replace('\n', " "))
        })?;
        for key in root.keys() {
            if !["columns", "timestamp", "author", "defaults"].contains(&key.as_str()) {
                return Err(problem(
                    &file,
                    key,
                    "unknown key; known: columns, timestamp, author, defaults",
                ));
            }
        }
        let string = |v: &toml::Value, key: &str| -> Result<String, SourceError> {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| problem(&file, key, "must be a string"))
        };
        let mut columns = BTreeMap::new();
        let table = root
            .get("columns")
            .and_then(toml::Value::as_table)
            .ok_or_else(|| problem(&file, "columns", "missing: name the CSV columns"))?;
        for (key, v) in table {
            if !COLUMN_KEYS.contains(&key.as_str()) {
                return Err(problem(
                    &file,
                    &format!("columns.{key}"),
                    format!("unknown column role; known: {}", COLUMN_KEYS.join(", ")),
                ));
            }
            columns.insert(key.clone(), string(v, &format!("columns.{key}"))?);
        }
        for required in ["conversation", "timestamp"] {
            if !columns.contains_key(required) {
                return Err(problem(&file, &format!("columns.{required}"), "missing"));
            }
        }
        let (mut time_format, mut timezone) = (None, None);
        if let Some(t) = root.get("timestamp").and_then(toml::Value::as_table) {
            for (key, v) in t {
                let path = format!("timestamp.{key}");
                match key.as_str() {
                    "format" => {
                        let f = string(v, &path)?;
                        time_format = (f != "rfc3339").then_some(f);
                    }
                    "timezone" => {
                        let name = string(v, &path)?;
                        timezone = Some(TimeZone::get(&name).map_err(|_| {
                            problem(
                                &file,
                                &path,
                                format!("'{name}' is not a known IANA time zone"),
                            )
                        })?);
                    }
                    _ => {
                        return Err(problem(
                            &file,
                            &path,
                            "unknown key; known: format, timezone",
                        ));
                    }
                }
            }
        }
        let author = match root.get("author") {
            None => {
                if !columns.contains_key("agent") {
                    return Err(problem(
                        &file,
                        "author",
                        "missing: map the author column's values, or name an agent column (a filled agent column = agent)",
                    ));
                }
                AuthorRule::AgentColumn
            }
            Some(v) => {
                let t = v
                    .as_table()
                    .ok_or_else(|| problem(&file, "author", "must be a table"))?;
                if t.get("derive").and_then(toml::Value::as_str) == Some("agent-column") {
                    AuthorRule::AgentColumn
                } else {
                    if !columns.contains_key("author") {
                        return Err(problem(
                            &file,
                            "columns.author",
                            "missing: [author] maps the values of this column",
                        ));
                    }
                    let mut values = BTreeMap::new();
                    for (value, role) in t {
                        let path = format!("author.{value}");
                        let role = string(role, &path)?;
                        if !["customer", "agent", "bot", "note"].contains(&role.as_str()) {
                            return Err(problem(
                                &file,
                                &path,
                                format!("'{role}' is not customer, agent, bot or note"),
                            ));
                        }
                        values.insert(value.clone(), role);
                    }
                    AuthorRule::Values(values)
                }
            }
        };
        let (mut default_channel, mut tag_separator, mut delimiter) = (None, ";".to_string(), b',');
        if let Some(t) = root.get("defaults").and_then(toml::Value::as_table) {
            for (key, v) in t {
                let path = format!("defaults.{key}");
                match key.as_str() {
                    "channel" => default_channel = Some(string(v, &path)?),
                    "tag_separator" => tag_separator = string(v, &path)?,
                    "delimiter" => {
                        let d = string(v, &path)?;
                        delimiter = match d.as_bytes() {
                            [b] if b.is_ascii() => *b,
                            _ => {
                                return Err(problem(
                                    &file,
                                    &path,
                                    "must be one character such as \",\" or \";\"",
                                ));
                            }
                        };
                    }
                    _ => {
                        return Err(problem(
                            &file,
                            &path,
                            "unknown key; known: channel, tag_separator, delimiter",
                        ));
                    }
                }
            }
        }
        if !columns.contains_key("channel") && default_channel.is_none() {
            return Err(problem(
                &file,
                "defaults.channel",
                "missing: name a channel column or a default channel",
            ));
        }
        Ok(Mapping {
            columns,
            time_format,
            timezone,
            author,
            default_channel,
            tag_separator,
            delimiter,
        })
    }
}

struct Row {
    line: u64,
    at_millis: i64,
    at: String,
    author: String,
    cells: BTreeMap<String, String>,
}

pub fn translate(
    path: &Path,
    mapping: &Mapping,
    fallback_tz: &TimeZone,
) -> Result<Translation, SourceError> {
    let csv = read_csv_with(path, mapping.delimiter)?;
    let mut index = BTreeMap::new();
    for (role, column) in &mapping.columns {
        let i = csv.header.iter().position(|h| h == column).ok_or_else(|| {
            SourceError::new(
                &csv.name,
                "line 1",
                column,
                "column missing from the header",
            )
        })?;
        index.insert(role.clone(), (i, column.clone()));
    }
    let tz = mapping
        .timezone
        .clone()
        .unwrap_or_else(|| fallback_tz.clone());
    let mut conversations: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut order = Vec::new();
    let mut failures = Vec::new();
    for (line, record) in &csv.rows {
        // A bad row is a failure of its own; the other rows go on (see `Translation`).
        let one_row = || -> Result<(String, Row), SourceError> {
            let place = format!("line {line}");
            let cell = |role: &str| -> Option<String> {
                index
                    .get(role)
                    .map(|(i, _)| record[*i].trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let column = |role: &str| index.get(role).map(|(_, c)| c.clone()).unwrap_or_default();
            let id = cell("conversation").ok_or_else(|| {
                SourceError::new(&csv.name, &place, column("conversation"), "empty")
            })?;
            let raw_time = cell("timestamp")
                .ok_or_else(|| SourceError::new(&csv.name, &place, column("timestamp"), "empty"))?;
            let at_millis = match &mapping.time_format {
                None => servicemeter_core::time::parse_timestamp(&raw_time).map_err(|e| {
                    SourceError::new(&csv.name, &place, column("timestamp"), e.to_string())
                })?,
                Some(format) => {
                    let local =
                        jiff::civil::DateTime::strptime(format, &raw_time).map_err(|_| {
                            SourceError::new(
                                &csv.name,
                                &place,
                                column("timestamp"),
                                format!("'{raw_time}' does not match the format '{format}'"),
                            )
                        })?;
                    let text = local_to_rfc3339(local, &tz)
                        .map_err(|r| SourceError::new(&csv.name, &place, column("timestamp"), r))?;
                    servicemeter_core::time::parse_timestamp(&text).map_err(|e| {
                        SourceError::new(&csv.name, &place, column("timestamp"), e.to_string())
                    })?
                }
            };
            let author = match &mapping.author {
                AuthorRule::AgentColumn => if cell("agent").is_some() {
                    "agent"
                } else {
                    "customer"
                }
                .to_string(),
                AuthorRule::Values(values) => {
                    let value = cell("author").unwrap_or_default();
                    values.get(&value).cloned().ok_or_else(|| {
                        SourceError::new(
                            &csv.name,
                            &place,
                            column("author"),
                            format!("'{value}' is not mapped in [author]"),
                        )
                    })?
                }
            };
            let cells = mapping
                .columns
                .keys()
                .filter_map(|role| cell(role).map(|v| (role.clone(), v)))
                .collect();
            Ok((
                id,
                Row {
                    line: *line,
                    at_millis,
                    at: servicemeter_core::time::format_utc(at_millis),
                    author,
                    cells,
                },
            ))
        };
        let (id, row) = match one_row() {
            Ok(found) => found,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        if !conversations.contains_key(&id) {
            order.push(id.clone());
        }
        conversations.entry(id).or_default().push(row);
    }
    let mut out = Vec::new();
    for id in order {
        let rows = &conversations[&id];
        let first = rows
            .iter()
            .min_by_key(|r| (r.at_millis, r.line))
            .expect("a conversation has a row");
        let channel = first
            .cells
            .get("channel")
            .cloned()
            .or_else(|| mapping.default_channel.clone())
            .unwrap_or_default();
        let mut tags = BTreeSet::new();
        for r in rows {
            if let Some(t) = r.cells.get("tags") {
                tags.extend(
                    t.split(mapping.tag_separator.as_str())
                        .map(str::trim)
                        .filter(|t| !t.is_empty())
                        .map(str::to_string),
                );
            }
        }
        let mut header = json!({
            "type": "conversation",
            "id": id,
            "channel": channel,
            "created_at": first.at,
            "tags": tags.into_iter().collect::<Vec<_>>(),
        });
        let first_cell = |role: &str| rows.iter().find_map(|r| r.cells.get(role));
        for role in ["subject", "customer"] {
            if let Some(v) = first_cell(role) {
                header[role] = Value::from(v.as_str());
            }
        }
        // The first non-empty address, name and language of the conversation's rows; values
        // that are no address or language tag are left out (like the vendors' importers do).
        let first_filled = |role: &str| {
            rows.iter()
                .filter_map(|r| r.cells.get(role))
                .map(|v| v.trim())
                .find(|v| !v.is_empty())
        };
        put_contact(
            &mut header,
            first_filled("customer_email"),
            first_filled("customer_name"),
            first_filled("customer_language"),
        );
        out.push(Translated {
            file: csv.name.clone(),
            place: format!("line {}", first.line),
            record: header,
        });
        for r in rows {
            let mut message = json!({
                "type": "message",
                "conversation": id,
                "id": format!("{id}-line-{}", r.line),
                "at": r.at,
                "author": r.author,
            });
            if matches!(r.author.as_str(), "agent" | "note")
                && let Some(agent) = r.cells.get("agent")
            {
                message["agent"] = Value::from(agent.as_str());
            }
            if let Some(text) = r.cells.get("text") {
                message["text"] = Value::from(text.as_str());
            }
            out.push(Translated {
                file: csv.name.clone(),
                place: format!("line {}", r.line),
                record: message,
            });
        }
    }
    Ok(Translation {
        records: out,
        failures,
        warnings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::test_support::write_files;

    #[test]
    fn mapped_contact_columns_fill_the_customers_address_name_and_language() {
        let mapping = "[columns]\nconversation = \"Ticket\"\ntimestamp = \"At\"\nauthor = \"From\"\n\
                       channel = \"Channel\"\ncustomer_email = \"Mail\"\ncustomer_name = \"Name\"\n\
                       customer_language = \"Taal\"\n[author]\nKlant = \"customer\"\nAnna = \"agent\"\n";
        let csv = "Ticket,At,From,Channel,Mail,Name,Taal\n\
                   T-1,2024-03-04T08:30:00Z,Klant,email,,,\n\
                   T-1,2024-03-04T09:00:00Z,Anna,email,Jan@Example.nl,Jan,NL\n\
                   T-2,2024-03-04T10:00:00Z,Klant,email,n/a,Piet,Nederlands\n";
        let (_dir, paths) = write_files(&[("mapping.toml", mapping), ("rows.csv", csv)]);
        let mapping = Mapping::read(&paths[0]).unwrap();
        let t = translate(&paths[1], &mapping, &TimeZone::UTC).unwrap();
        let header = |id: &str| {
            t.records
                .iter()
                .map(|r| &r.record)
                .find(|r| r["type"] == "conversation" && r["id"] == id)
                .unwrap()
                .clone()
        };
        // The first filled cells of the conversation's rows.
        let t1 = header("T-1");
        assert_eq!(t1["customer_email"], "jan@example.nl");
        assert_eq!(t1["customer_name"], "Jan");
        assert_eq!(t1["customer_language"], "nl");
        // No address or language tag: left out; the name stays.
        let t2 = header("T-2");
        assert!(t2.get("customer_email").is_none());
        assert!(t2.get("customer_language").is_none());
        assert_eq!(t2["customer_name"], "Piet");
    }
}
