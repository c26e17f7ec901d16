//! Importers: exports of helpdesks, phone systems and spreadsheets translated into canonical
//! records (the JSON objects of docs/format.md). The translated records then go through the
//! same parser, validation and import pipeline as any JSON Lines file — there is no second way
//! into the store.

pub mod calls;
pub mod chatwoot;
pub mod freshdesk;
pub mod gorgias;
pub mod helpscout;
pub mod intercom;
pub mod json_pages;
pub mod mapped_csv;
pub mod phone_csv;
pub mod twitter;
pub mod zendesk;

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use serde_json::Value;
use servicemeter_core::Conversation;

use crate::parse_record;

/// The sources `import --source` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The Customer Support on Twitter CSV.
    Twitter,
    /// Call records in the call-centre research format (`vru+line, call_id, …`).
    CallCenter,
    /// Zendesk API JSON pages: tickets, audits, users, satisfaction ratings.
    Zendesk,
    /// Freshdesk API JSON pages: tickets, conversations, agents, contacts, ratings.
    Freshdesk,
    /// Intercom conversations with their parts.
    Intercom,
    /// Help Scout conversations with threads, and happiness ratings.
    HelpScout,
    /// Chatwoot API JSON: conversations, messages, CSAT responses.
    Chatwoot,
    /// Gorgias API JSON: tickets, messages, satisfaction surveys.
    Gorgias,
    /// Any CSV of messages, with a mapping file (`--mapping`).
    Csv,
    /// servicemeter's generic call-record CSV.
    Calls,
}

impl Source {
    pub const ALL: [(&'static str, Source); 10] = [
        ("twitter", Source::Twitter),
        ("callcenter", Source::CallCenter),
        ("zendesk", Source::Zendesk),
        ("freshdesk", Source::Freshdesk),
        ("intercom", Source::Intercom),
        ("helpscout", Source::HelpScout),
        ("chatwoot", Source::Chatwoot),
        ("gorgias", Source::Gorgias),
        ("csv", Source::Csv),
        ("calls", Source::Calls),
    ];

    pub fn parse(name: &str) -> Result<Source, String> {
        Source::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
            .ok_or_else(|| {
                let names: Vec<&str> = Source::ALL.iter().map(|(n, _)| *n).collect();
                format!(
                    "'{name}' is not a source; use one of: jsonl, {}",
                    names.join(", ")
                )
            })
    }

    /// File name endings read from a directory.
    fn extensions(self) -> &'static [&'static str] {
        match self {
            Source::Twitter | Source::CallCenter | Source::Csv | Source::Calls => &["csv"],
            Source::Zendesk
            | Source::Freshdesk
            | Source::Intercom
            | Source::HelpScout
            | Source::Chatwoot
            | Source::Gorgias => &["json"],
        }
    }
}

/// What a translation may need besides the files.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// For timestamps without an offset.
    pub timezone: TimeZone,
    /// Whether the user gave `--timezone`. Vendors that document their offset-less times as UTC
    /// (Gorgias) read them as UTC unless it was given; then in `timezone`.
    pub timezone_given: bool,
    /// Twitter: name the agent after the sign-off at the end of a brand's reply (`^JK`,
    /// `-Becky`) as "brand JK", instead of the brand alone.
    pub twitter_signoff_agents: bool,
    /// CSV: the mapping file.
    pub mapping: Option<PathBuf>,
}

impl Default for SourceOptions {
    fn default() -> SourceOptions {
        SourceOptions {
            timezone: TimeZone::get("Europe/Amsterdam").expect("bundled"),
            timezone_given: false,
            twitter_signoff_agents: false,
            mapping: None,
        }
    }
}

/// A source record that could not be translated, or whose translation is not a valid
/// canonical record: the file, the place in it (a line, a record), the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct SourceError {
    pub file: String,
    /// `line 12`, `tickets[3]`, … (empty when the whole file is meant).
    pub place: String,
    pub field: String,
    pub reason: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.place.is_empty(), self.field.is_empty()) {
            (true, true) => write!(f, "{}: {}", self.file, self.reason),
            (true, false) => write!(f, "{}: field `{}`: {}", self.file, self.field, self.reason),
            (false, true) => write!(f, "{}: {}: {}", self.file, self.place, self.reason),
            (false, false) => write!(
                f,
                "{}: {}: field `{}`: {}",
                self.file, self.place, self.field, self.reason
            ),
        }
    }
}

impl SourceError {
    pub fn new(
        file: &str,
        place: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> SourceError {
        SourceError {
            file: file.to_string(),
            place: place.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A translated canonical record and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub file: String,
    pub place: String,
    pub record: Value,
}

impl Translated {
    /// The record through the canonical parser: the same validation as a JSON Lines import.
    pub fn parse(&self) -> Result<Conversation, SourceError> {
        parse_record(&self.record.to_string()).map_err(|e| SourceError {
            file: self.file.clone(),
            place: self.place.clone(),
            field: e.field,
            reason: e.reason,
        })
    }
}

/// What a translation gives: the canonical records, and the source records that could not be
/// translated (rows of a CSV with a bad value, a ticket without an id). Failures stop an import
/// unless it skips invalid records, like records the canonical parser refuses. Warnings are
/// problems that did not stop anything (e.g. a comment by a user who is not in the users pages,
/// whose role was worked out otherwise): to be shown, never a reject.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    pub records: Vec<Translated>,
    pub failures: Vec<SourceError>,
    pub warnings: Vec<SourceError>,
}

/// Collects the records of sources whose conversations are assembled from several items (a
/// ticket, its audits, its ratings): a conversation with a failure is rejected whole — none of
/// its records is kept — while the other conversations go on.
#[derive(Debug, Default)]
pub(crate) struct PerConversation {
    records: Vec<(String, Translated)>,
    failures: Vec<(Option<String>, SourceError)>,
    warnings: Vec<SourceError>,
}

impl PerConversation {
    /// A record of conversation `conversation`.
    pub fn record(&mut self, conversation: &str, file: &str, place: &str, record: Value) {
        self.records.push((
            conversation.to_string(),
            Translated {
                file: file.to_string(),
                place: place.to_string(),
                record,
            },
        ));
    }

    /// A failure; with the conversation it belongs to (when known), that conversation's other
    /// records are dropped too.
    pub fn fail(&mut self, conversation: Option<&str>, error: SourceError) {
        self.failures
            .push((conversation.map(str::to_string), error));
    }

    pub fn warn(&mut self, warning: SourceError) {
        self.warnings.push(warning);
    }

    pub fn finish(self) -> Translation {
        let failed: std::collections::HashSet<&str> = self
            .failures
            .iter()
            .filter_map(|(c, _)| c.as_deref())
            .collect();
        let records = self
            .records
            .iter()
            .filter(|(c, _)| !failed.contains(c.as_str()))
            .map(|(_, t)| t.clone())
            .collect();
        Translation {
            records,
            failures: self.failures.into_iter().map(|(_, e)| e).collect(),
            warnings: self.warnings,
        }
    }
}

/// Translates rows one by one: a row's error is a failure of its own, the other rows go on.
pub(crate) fn per_row<R>(
    rows: &[(u64, R)],
    mut one: impl FnMut(&u64, &R) -> Result<Option<Translated>, SourceError>,
) -> Translation {
    let mut out = Translation::default();
    for (line, row) in rows {
        match one(line, row) {
            Ok(Some(t)) => out.records.push(t),
            Ok(None) => {}
            Err(e) => out.failures.push(e),
        }
    }
    out
}

/// The files to read: each path as given, or a directory's files with the source's endings
/// (sorted by name).
pub fn files_of(source: Source, paths: &[PathBuf]) -> Result<Vec<PathBuf>, SourceError> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| SourceError::new(&path.display().to_string(), "", "", e.to_string()))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| source.extensions().contains(&e))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(SourceError::new(
                    &path.display().to_string(),
                    "",
                    "",
                    format!(
                        "no .{} files in this directory",
                        source.extensions().join(" or .")
                    ),
                ));
            }
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

/// Translates every file of a source into canonical records, in file order. The first
/// problem stops it with its place.
pub fn translate(
    source: Source,
    paths: &[PathBuf],
    options: &SourceOptions,
) -> Result<Translation, SourceError> {
    let files = files_of(source, paths)?;
    // Sources whose records refer to each other across files read them all at once.
    // A file that cannot be read at all is an error; a conversation that cannot be translated
    // is a failure of its own (a reject with --skip-invalid), the others go on.
    match source {
        Source::Zendesk => return zendesk::translate(&files, options),
        Source::Freshdesk => return freshdesk::translate(&files, options),
        Source::Intercom => return intercom::translate(&files, options),
        Source::HelpScout => return helpscout::translate(&files, options),
        Source::Chatwoot => return chatwoot::translate(&files, options),
        Source::Gorgias => return gorgias::translate(&files, options),
        _ => {}
    }
    let whole = |records: Vec<Translated>| Translation {
        records,
        ..Translation::default()
    };
    let mapping = match (source, &options.mapping) {
        (Source::Csv, Some(path)) => Some(mapped_csv::Mapping::read(path)?),
        (Source::Csv, None) => {
            return Err(SourceError::new(
                "--mapping",
                "",
                "",
                "the csv source needs a mapping file (see docs/importers.md)",
            ));
        }
        _ => None,
    };
    let mut out = Translation::default();
    for file in files {
        let part = match source {
            Source::Twitter => whole(twitter::translate(&file, options)?),
            Source::CallCenter => calls::translate(&file, options)?,
            Source::Calls => phone_csv::translate(&file, options)?,
            Source::Csv => mapped_csv::translate(
                &file,
                mapping.as_ref().expect("read above"),
                &options.timezone,
            )?,
            Source::Zendesk
            | Source::Freshdesk
            | Source::Intercom
            | Source::HelpScout
            | Source::Chatwoot
            | Source::Gorgias => unreachable!("read above"),
        };
        out.records.extend(part.records);
        out.failures.extend(part.failures);
        out.warnings.extend(part.warnings);
    }
    Ok(out)
}

/// Reads a CSV file's header and rows; rows come with their 1-based line numbers (the header
/// is line 1; quoted fields with line breaks make later rows start further down). Only a line
/// feed ends a row: a bare carriage return inside a text stays in the text, and the carriage
/// return of CRLF line ends is dropped.
pub(crate) struct CsvFile {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
}

pub(crate) fn read_csv(path: &Path) -> Result<CsvFile, SourceError> {
    read_csv_with(path, b',')
}

/// [`read_csv`] with another field delimiter (`;` in many European spreadsheet exports).
pub(crate) fn read_csv_with(path: &Path, delimiter: u8) -> Result<CsvFile, SourceError> {
    let name = path.display().to_string();
    let data = std::fs::read(path)
        .map_err(|e| SourceError::new(&name, "", "", format!("cannot read: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_reader(data.as_slice());
    let clean = |record: &csv::StringRecord| -> Vec<String> {
        let n = record.len();
        record
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if i + 1 == n {
                    f.strip_suffix('\r').unwrap_or(f).to_string()
                } else {
                    f.to_string()
                }
            })
            .collect()
    };
    let header: Vec<String> = clean(
        reader
            .headers()
            .map_err(|e| SourceError::new(&name, "line 1", "", format!("not CSV: {e}")))?,
    )
    .into_iter()
    .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
    .collect();
    // Line numbers from the bytes before each record (the reader's own count is off by one
    // after CRLF line ends).
    let (mut counted_to, mut line) = (0usize, 1u64);
    let mut line_at = |byte: usize| {
        let upto = (byte + 1).min(data.len());
        if upto > counted_to {
            line += memchr::memchr_iter(b'\n', &data[counted_to..upto]).count() as u64;
            counted_to = upto;
        }
        line
    };
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let place = e.position().map_or_else(String::new, |p| {
                format!("line {}", line_at(p.byte() as usize))
            });
            SourceError::new(&name, place, "", format!("not CSV: {e}"))
        })?;
        let at = record.position().map_or(0, |p| p.byte() as usize);
        rows.push((line_at(at), clean(&record)));
    }
    Ok(CsvFile { name, header, rows })
}

impl CsvFile {
    /// The index of each required column, or an error naming the first that is missing.
    pub fn columns<const N: usize>(&self, names: [&str; N]) -> Result<[usize; N], SourceError> {
        let mut out = [0; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.header.iter().position(|h| h == name).ok_or_else(|| {
                SourceError::new(&self.name, "line 1", name, "column missing from the header")
            })?;
        }
        Ok(out)
    }
}

/// Puts the customer's e-mail address, name and language into a conversation record's header,
/// each only when the vendor's value is a valid one (an address `core::address` accepts, a
/// language tag such as `nl` or `en-US`): a vendor's odd value — `"Dutch"`, `"unknown"` — is left
/// out rather than refusing the conversation. Empty values are left out too.
pub(crate) fn put_contact(
    header: &mut serde_json::Value,
    email: Option<&str>,
    name: Option<&str>,
    language: Option<&str>,
) {
    use servicemeter_core::address::{normalize_email, normalize_language};
    if let Some(email) = email.and_then(normalize_email) {
        header["customer_email"] = serde_json::Value::from(email);
    }
    if let Some(name) = name
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.len() <= servicemeter_core::limits::MAX_NAME_BYTES)
    {
        header["customer_name"] = serde_json::Value::from(name);
    }
    if let Some(language) = language.and_then(normalize_language) {
        header["customer_language"] = serde_json::Value::from(language);
    }
}

/// A vendor's channel name that servicemeter does not map, as a channel name: lowercase, with
/// anything but letters and digits as `-`.
pub(crate) fn channel_name(other: &str) -> String {
    other
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// A flat CSAT survey record on a vendor's scale `[1, highest]`, with the customer's comment
/// when there is one.
pub(crate) fn csat_survey(
    conversation: &str,
    at: &str,
    score: impl Into<Value>,
    highest: i64,
    comment: Option<&str>,
) -> Value {
    let mut survey = serde_json::json!({
        "type": "survey",
        "conversation": conversation,
        "at": at,
        "kind": "csat",
        "score": score.into(),
        "scale": [1, highest],
    });
    if let Some(comment) = comment {
        survey["comment"] = Value::from(comment);
    }
    survey
}

/// A local date and time in a time zone as an RFC 3339 UTC timestamp.
pub(crate) fn local_to_rfc3339(
    datetime: jiff::civil::DateTime,
    tz: &TimeZone,
) -> Result<String, String> {
    let zoned = datetime.to_zoned_datetime(tz.clone()).map_err(|e| {
        format!(
            "{datetime} is not a time in {}: {e}",
            tz.iana_name().unwrap_or("the time zone")
        )
    })?;
    Ok(servicemeter_core::time::format_utc(
        zoned.timestamp().as_millisecond(),
    ))
}

/// What the importers' unit tests share: fixtures written to files, pages in memory, failures
/// by place and field.
#[cfg(test)]
pub(crate) mod test_support {
    use std::path::PathBuf;

    use super::{SourceError, json_pages::Page};

    /// Writes `(name, text)` files into a new temporary directory (kept while the guard lives).
    pub fn write_files(files: &[(&str, &str)]) -> (tempfile::TempDir, Vec<PathBuf>) {
        let dir = tempfile::tempdir().expect("temp dir");
        let paths = files
            .iter()
            .map(|(name, text)| {
                let path = dir.path().join(name);
                std::fs::write(&path, text).expect("fixture written");
                path
            })
            .collect();
        (dir, paths)
    }

    /// A page in memory whose kind its name tells.
    pub fn page(name: &str, json: &str) -> Page {
        Page {
            name: name.to_string(),
            kind_hint: name.to_string(),
            value: serde_json::from_str(json).expect("fixture is JSON"),
        }
    }

    /// Failures as (place, field), for comparing.
    pub fn places(failures: &[SourceError]) -> Vec<(String, String)> {
        failures
            .iter()
            .map(|f| (f.place.clone(), f.field.clone()))
            .collect()
    }
}
