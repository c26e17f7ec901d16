//! Zendesk: the incremental ticket export (cursor based), each changed ticket's audits, the
//! users they name, and the satisfaction ratings given since the last run. One batch is one page
//! of the ticket export with everything it needs, so that each batch can be stored with its
//! cursor in one transaction.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use servicemeter_import::sources::json_pages::{Page, id_of};

use crate::SyncError;
use crate::client::{Client, RetryPolicy, basic, query_value};

/// The name of this source in the stored cursors.
pub const SOURCE: &str = "zendesk";

/// Where a run stopped: the ticket export's cursor and the time (Unix seconds) from which
/// satisfaction ratings are fetched next.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Cursor {
    pub tickets: Option<String>,
    pub ratings_since: i64,
}

impl Cursor {
    pub fn parse(text: &str) -> Cursor {
        let v: Value = serde_json::from_str(text).unwrap_or_default();
        Cursor {
            tickets: v["tickets"].as_str().map(str::to_string),
            ratings_since: v["ratings_since"].as_i64().unwrap_or(0),
        }
    }

    pub fn to_text(&self) -> String {
        json!({"tickets": self.tickets, "ratings_since": self.ratings_since}).to_string()
    }
}

/// One page of changed tickets with their audits, users and (first batch of a run) ratings.
pub struct Batch {
    pub pages: Vec<Page>,
    pub tickets: usize,
    /// The cursor to store with this batch.
    pub cursor: Cursor,
    /// No more changes after this batch.
    pub done: bool,
}

/// A Zendesk account.
#[derive(Debug, Clone)]
pub struct Zendesk {
    client: Client,
    base: String,
}

fn page(name: &str, value: Value) -> Page {
    Page {
        name: name.to_string(),
        kind_hint: String::new(),
        value,
    }
}

impl Zendesk {
    /// `base` like `https://acme.zendesk.com`; `email` and `token` an API token's owner and
    /// value.
    pub fn new(
        base: &str,
        email: &str,
        token: &str,
        retry: RetryPolicy,
    ) -> Result<Zendesk, SyncError> {
        Ok(Zendesk {
            client: Client::new(base, basic(&format!("{email}/token"), token), retry)?,
            base: base.trim_end_matches('/').to_string(),
        })
    }

    /// Follows `next_page` links from `url`, collecting each page.
    async fn all_pages(&self, url: String, pages: &mut Vec<Page>) -> Result<Vec<Value>, SyncError> {
        let mut next = Some(url);
        let mut values = Vec::new();
        while let Some(url) = next {
            let value = self.client.get_json(&url).await?;
            next = value["next_page"].as_str().map(str::to_string);
            pages.push(page(&url, value.clone()));
            values.push(value);
        }
        Ok(values)
    }

    /// The batch after `cursor`. `run_started` (Unix seconds) becomes the next run's start for
    /// ratings; ratings are fetched in the first batch of a run only.
    pub async fn next_batch(
        &self,
        cursor: &Cursor,
        first_of_run: bool,
        run_started: i64,
    ) -> Result<Batch, SyncError> {
        let mut pages = Vec::new();
        let url = match &cursor.tickets {
            Some(c) => format!(
                "{}/api/v2/incremental/tickets/cursor.json?cursor={}",
                self.base,
                query_value(c)
            ),
            None => format!(
                "{}/api/v2/incremental/tickets/cursor.json?start_time=0",
                self.base
            ),
        };
        let tickets_page = self.client.get_json(&url).await?;
        let tickets = tickets_page["tickets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut user_ids = BTreeSet::new();
        for t in &tickets {
            user_ids.extend(id_of(&t["requester_id"]));
            user_ids.extend(id_of(&t["assignee_id"]));
            let id = id_of(&t["id"]).ok_or_else(|| SyncError::NotJson {
                url: url.clone(),
                reason: "a ticket without an id".into(),
            })?;
            let audits = self
                .all_pages(
                    format!("{}/api/v2/tickets/{id}/audits.json", self.base),
                    &mut pages,
                )
                .await?;
            for a in audits
                .iter()
                .flat_map(|p| p["audits"].as_array().cloned().unwrap_or_default())
            {
                user_ids.extend(id_of(&a["author_id"]));
                for e in a["events"].as_array().cloned().unwrap_or_default() {
                    user_ids.extend(id_of(&e["author_id"]));
                    if e["field_name"].as_str() == Some("assignee_id") {
                        user_ids.extend(id_of(&e["value"]));
                    }
                }
            }
        }
        let ids: Vec<String> = user_ids
            .iter()
            .filter(|&&i| i > 0)
            .map(i64::to_string)
            .collect();
        for chunk in ids.chunks(100) {
            let url = format!(
                "{}/api/v2/users/show_many.json?ids={}",
                self.base,
                chunk.join(",")
            );
            let users = self.client.get_json(&url).await?;
            pages.push(page(&url, users));
        }
        let mut next = cursor.clone();
        if first_of_run {
            let url = format!(
                "{}/api/v2/satisfaction_ratings.json?start_time={}",
                self.base, cursor.ratings_since
            );
            self.all_pages(url, &mut pages).await?;
            next.ratings_since = run_started;
        }
        let done = tickets_page["end_of_stream"].as_bool().unwrap_or(true);
        if let Some(after) = tickets_page["after_cursor"].as_str() {
            next.tickets = Some(after.to_string());
        }
        pages.push(page(&url, json!({"tickets": tickets})));
        Ok(Batch {
            pages,
            tickets: tickets.len(),
            cursor: next,
            done,
        })
    }
}
