//! The "Customer Support on Twitter" CSV: `tweet_id, author_id, inbound, created_at, text,
//! response_tweet_id, in_response_to_tweet_id` (an unnamed index column may come first).
//!
//! A conversation is a thread: a tweet whose parent is not in the file, and every tweet that
//! answers it, directly or further down. Inbound tweets are the customer's; outbound tweets are
//! the brand's (the agent side).

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::{SourceError, SourceOptions, Translated, read_csv};

struct Tweet {
    line: u64,
    id: String,
    author: String,
    inbound: bool,
    at: String,
    at_millis: i64,
    text: String,
    parent: Option<String>,
}

/// `3.0` (how the data set writes parent ids) → `3`.
fn tweet_id(text: &str) -> String {
    let t = text.trim();
    t.strip_suffix(".0").unwrap_or(t).to_string()
}

/// `Tue Oct 31 22:10:47 +0000 2017` → UTC milliseconds.
fn twitter_time(text: &str) -> Result<i64, String> {
    jiff::Timestamp::strptime("%a %b %d %H:%M:%S %z %Y", text.trim())
        .map(|t| t.as_millisecond())
        .map_err(|_| format!("'{text}' is not a time like 'Tue Oct 31 22:10:47 +0000 2017'"))
}

/// The sign-off at the end of a brand's reply: `^JK`, `-Becky`, `- KC` (1–20 letters).
pub fn signoff(text: &str) -> Option<&str> {
    let t = text.trim_end();
    let cut = t.rfind(['^', '-'])?;
    let name = t[cut + 1..].trim_start();
    let letters = name.chars().all(|c| c.is_alphabetic());
    let before_ok =
        cut == 0 || t[..cut].ends_with(char::is_whitespace) || t.as_bytes()[cut] == b'^';
    (letters && (1..=20).contains(&name.chars().count()) && before_ok).then_some(name)
}

pub fn translate(path: &Path, options: &SourceOptions) -> Result<Vec<Translated>, SourceError> {
    let csv = read_csv(path)?;
    let [
        id_col,
        author_col,
        inbound_col,
        at_col,
        text_col,
        _responses,
        parent_col,
    ] = csv.columns([
        "tweet_id",
        "author_id",
        "inbound",
        "created_at",
        "text",
        "response_tweet_id",
        "in_response_to_tweet_id",
    ])?;
    let err = |line: u64, field: &str, reason: String| {
        SourceError::new(&csv.name, format!("line {line}"), field, reason)
    };
    let mut tweets = Vec::with_capacity(csv.rows.len());
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (line, row) in &csv.rows {
        let line = *line;
        let id = tweet_id(&row[id_col]);
        if id.is_empty() {
            return Err(err(line, "tweet_id", "empty".into()));
        }
        let inbound = match row[inbound_col].trim() {
            "True" | "true" => true,
            "False" | "false" => false,
            other => {
                return Err(err(
                    line,
                    "inbound",
                    format!("'{other}' is not True or False"),
                ));
            }
        };
        let at_millis = twitter_time(&row[at_col]).map_err(|r| err(line, "created_at", r))?;
        let at = servicemeter_core::time::format_utc(at_millis);
        let parent = Some(tweet_id(&row[parent_col])).filter(|p| !p.is_empty());
        if by_id.insert(id.clone(), tweets.len()).is_some() {
            return Err(err(line, "tweet_id", format!("{id} appears twice")));
        }
        tweets.push(Tweet {
            line,
            id,
            author: row[author_col].trim().to_string(),
            inbound,
            at,
            at_millis,
            text: row[text_col].to_string(),
            parent,
        });
    }
    // The root of each tweet: follow parents while they are in the file.
    let mut roots: Vec<Option<usize>> = vec![None; tweets.len()];
    for start in 0..tweets.len() {
        let mut path = Vec::new();
        let mut at = start;
        let root = loop {
            if let Some(root) = roots[at] {
                break root;
            }
            path.push(at);
            match tweets[at].parent.as_ref().and_then(|p| by_id.get(p)) {
                Some(&parent) if !path.contains(&parent) => at = parent,
                // No parent in the file (or a loop): this tweet starts the thread.
                _ => break at,
            }
        };
        for i in path {
            roots[i] = Some(root);
        }
    }
    let mut threads: Vec<(usize, Vec<usize>)> = Vec::new();
    let mut thread_of: HashMap<usize, usize> = HashMap::new();
    for (i, root) in roots.iter().enumerate() {
        let root = root.expect("every tweet has a root");
        let t = *thread_of.entry(root).or_insert_with(|| {
            threads.push((root, Vec::new()));
            threads.len() - 1
        });
        threads[t].1.push(i);
    }
    let mut out = Vec::new();
    for (root, members) in threads {
        let first = &tweets[root];
        let conversation = format!("tw-{}", first.id);
        let place = format!("line {}", first.line);
        let earliest = members
            .iter()
            .map(|&i| tweets[i].at_millis)
            .min()
            .map(servicemeter_core::time::format_utc)
            .expect("a thread has its root");
        let mut header = json!({
            "type": "conversation",
            "id": conversation,
            "channel": "social",
            "created_at": earliest,
        });
        if let Some(customer) = members
            .iter()
            .map(|&i| &tweets[i])
            .find(|t| t.inbound)
            .map(|t| t.author.clone())
        {
            header["customer"] = Value::from(customer);
        }
        out.push(Translated {
            file: csv.name.clone(),
            place,
            record: header,
        });
        for &i in &members {
            let t = &tweets[i];
            let mut message = json!({
                "type": "message",
                "conversation": conversation,
                "id": format!("tw-{}", t.id),
                "at": t.at,
                "author": if t.inbound { "customer" } else { "agent" },
                "text": t.text,
            });
            if !t.inbound {
                let agent = match signoff(&t.text).filter(|_| options.twitter_signoff_agents) {
                    Some(initials) => format!("{} {initials}", t.author),
                    None => t.author.clone(),
                };
                message["agent"] = Value::from(agent);
            }
            out.push(Translated {
                file: csv.name.clone(),
                place: format!("line {}", t.line),
                record: message,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_offs_are_found_only_at_the_end() {
        assert_eq!(signoff("Please DM us. ^JK"), Some("JK"));
        assert_eq!(signoff("We are sorry. -Becky"), Some("Becky"));
        assert_eq!(signoff("Thanks - KC"), Some("KC"));
        assert_eq!(signoff("a well-known issue"), None);
        assert_eq!(signoff("no sign-off here."), None);
        assert_eq!(signoff("call 555-1234"), None);
    }

    #[test]
    fn twitter_times_read_their_offset() {
        let t = twitter_time("Tue Oct 31 22:10:47 +0200 2017").unwrap();
        assert_eq!(
            servicemeter_core::time::format_utc(t),
            "2017-10-31T20:10:47Z"
        );
        assert!(twitter_time("31-10-2017").is_err());
        assert_eq!(tweet_id("3.0"), "3");
    }
}
