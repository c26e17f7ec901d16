//! Guessing what a file is when it does not read as canonical JSON Lines: a CSV, a JSON
//! array, or a helpdesk's export, so that the error can name the likely `--source`. Also the
//! closest known name to a mistyped one.

use std::io::Read;
use std::path::Path;

/// How much of a file is looked at.
const SNIFF_BYTES: usize = 64 * 1024;

/// Keys or header columns that give a source away, most specific first.
const JSON_SIGNS: &[(&str, &[&str])] = &[
    ("zendesk", &["\"audits\"", "\"ticket_audits\"", "\"via\""]),
    (
        "gorgias",
        &["\"from_agent\"", "\"body_text\"", "\"sent_datetime\""],
    ),
    ("intercom", &["\"conversation_parts\"", "\"part_type\""]),
    (
        "helpscout",
        &["\"_embedded\"", "\"closedBy\"", "\"mailboxId\""],
    ),
    (
        "chatwoot",
        &["\"message_type\"", "\"inbox_id\"", "\"account_id\""],
    ),
    (
        "freshdesk",
        &["\"requester_id\"", "\"responder_id\"", "\"incoming\""],
    ),
    ("zendesk", &["\"requester_id\"", "\"assignee_id\""]),
];

/// The likely `--source` of a file that is not canonical JSON Lines, with what gave it away;
/// `None` when nothing points anywhere.
pub fn likely_source(path: &Path) -> Option<(String, String)> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)
        .ok()?;
    likely_source_of(&head)
}

/// [`likely_source`] over the first bytes of a file.
pub fn likely_source_of(head: &[u8]) -> Option<(String, String)> {
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with('{') || text.starts_with('[') {
        for (source, signs) in JSON_SIGNS {
            if let Some(sign) = signs.iter().find(|s| text.contains(*s)) {
                return Some((
                    source.to_string(),
                    format!("it is JSON with {sign}, like a {source} export"),
                ));
            }
        }
        if text.starts_with('[') {
            return Some((
                "jsonl".into(),
                "it is one JSON array; canonical records go one object per line (JSON Lines)"
                    .into(),
            ));
        }
        return None;
    }
    let header = text.lines().next().unwrap_or("").to_ascii_lowercase();
    let columns: Vec<&str> = header
        .split([',', ';', '\t'])
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    if columns.len() < 2 {
        return None;
    }
    let has = |name: &str| columns.contains(&name);
    if has("tweet_id") && has("inbound") {
        return Some((
            "twitter".into(),
            "its header has tweet_id and inbound, like the Twitter support CSV".into(),
        ));
    }
    if has("vru+line") && has("call_id") {
        return Some((
            "callcenter".into(),
            "its header has vru+line and call_id, like the call-centre CSV".into(),
        ));
    }
    if has("queued_at") && has("call_id") {
        return Some((
            "calls".into(),
            "its header has call_id and queued_at, like servicemeter's call-record CSV".into(),
        ));
    }
    Some((
        "csv".into(),
        "it looks like a CSV (a header line with several columns); describe its columns in a mapping file and give --source csv --mapping FILE".into(),
    ))
}

/// The known name closest to `name` (by edit distance, at most a third of its letters off),
/// for "did you mean".
pub fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&name, k), *k))
        .filter(|(d, k)| *d <= (k.len().max(name.len()) / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = if ca == *cb {
                diagonal
            } else {
                1 + diagonal.min(above).min(row[j])
            };
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(head: &str, expect: Option<&str>) {
        assert_eq!(
            likely_source_of(head.as_bytes()).map(|(s, _)| s).as_deref(),
            expect,
            "{head}"
        );
    }

    #[test]
    fn guesses_sources_from_the_first_bytes() {
        check(
            "{\"tickets\":[{\"id\":1,\"via\":{\"channel\":\"email\"}}]}",
            Some("zendesk"),
        );
        check("{\"audits\":[]}", Some("zendesk"));
        check(
            "[{\"id\":1,\"requester_id\":2,\"responder_id\":3}]",
            Some("freshdesk"),
        );
        check(
            "{\"type\":\"conversation\",\"conversation_parts\":{}}",
            Some("intercom"),
        );
        check(
            "[{\"id\":1,\"from_agent\":false,\"messages\":[]}]",
            Some("gorgias"),
        );
        check(
            "{\"payload\":[{\"id\":1,\"inbox_id\":2}]}",
            Some("chatwoot"),
        );
        check("{\"_embedded\":{\"conversations\":[]}}", Some("helpscout"));
        check("[{\"a\":1}]", Some("jsonl"));
        check("{\"a\":1}", None);
        check(
            "\u{feff}tweet_id,author_id,inbound,created_at\n",
            Some("twitter"),
        );
        check("vru+line,call_id,customer_id\n", Some("callcenter"));
        check("call_id,queued_at,answered_at\n", Some("calls"));
        check("ticket;from;sent\n", Some("csv"));
        check("hello\n", None);
    }

    #[test]
    fn closest_names() {
        let known = ["zendesk", "freshdesk", "intercom", "helpscout", "jsonl"];
        assert_eq!(closest("zendsk", &known), Some("zendesk"));
        assert_eq!(closest("Help-Scout", &known), Some("helpscout"));
        assert_eq!(closest("json", &known), Some("jsonl"));
        assert_eq!(closest("salesforce", &known), None);
    }
}
