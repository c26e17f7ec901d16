//! Freshdesk: tickets changed since the last run (`updated_since`, oldest first, with stats and
//! requester), each one's conversations, the agents, and satisfaction ratings created since
//! the last run. One batch is one page of tickets with what it needs.

use serde_json::{Value, json};
use servicemeter_import::sources::json_pages::{Page, id_of};

use crate::SyncError;
use crate::client::{Client, RetryPolicy, basic, query_value};

/// The name of this source in the stored cursors.
pub const SOURCE: &str = "freshdesk";
/// Tickets per page (Freshdesk's maximum).
pub const PER_PAGE: usize = 100;

/// Where a run stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Tickets updated at or after this instant come next (RFC 3339).
    pub updated_since: String,
    /// The page within `updated_since` (more than a page of tickets can share one instant).
    pub page: u32,
    /// Ratings created at or after this instant come next.
    pub ratings_since: String,
}

impl Default for Cursor {
    fn default() -> Cursor {
        Cursor {
            updated_since: "1970-01-01T00:00:00Z".into(),
            page: 1,
            ratings_since: "1970-01-01T00:00:00Z".into(),
        }
    }
}

impl Cursor {
    pub fn parse(text: &str) -> Cursor {
        let v: Value = serde_json::from_str(text).unwrap_or_default();
        let d = Cursor::default();
        Cursor {
            updated_since: v["updated_since"]
                .as_str()
                .map_or(d.updated_since, str::to_string),
            page: v["page"].as_u64().map_or(1, |p| p as u32),
            ratings_since: v["ratings_since"]
                .as_str()
                .map_or(d.ratings_since, str::to_string),
        }
    }

    pub fn to_text(&self) -> String {
        json!({"updated_since": self.updated_since, "page": self.page, "ratings_since": self.ratings_since})
            .to_string()
    }
}

pub struct Batch {
    pub pages: Vec<Page>,
    pub tickets: usize,
    pub cursor: Cursor,
    pub done: bool,
}

#[derive(Debug)]
pub struct Freshdesk {
    client: Client,
    base: String,
    per_page: usize,
    /// The agents pages of this run: every batch needs them to name authors and responders.
    agents: std::sync::Mutex<Vec<Page>>,
}

fn page(name: &str, kind: &str, value: Value) -> Page {
    Page {
        name: name.to_string(),
        kind_hint: kind.to_string(),
        value,
    }
}

impl Freshdesk {
    /// `base` like `https://acme.freshdesk.com`; `api_key` a Freshdesk API key.
    pub fn new(base: &str, api_key: &str, retry: RetryPolicy) -> Result<Freshdesk, SyncError> {
        Ok(Freshdesk {
            client: Client::new(base, basic(api_key, "X"), retry)?,
            base: base.trim_end_matches('/').to_string(),
            per_page: PER_PAGE,
            agents: std::sync::Mutex::default(),
        })
    }

    /// Asks for `n` items per page instead of 100.
    pub fn with_page_size(mut self, n: usize) -> Freshdesk {
        self.per_page = n.clamp(1, PER_PAGE);
        self
    }

    /// Every page of a list endpoint (`page=1, 2, …` until a short page).
    async fn all(&self, url: &str, kind: &str, pages: &mut Vec<Page>) -> Result<(), SyncError> {
        for n in 1u32.. {
            let separator = if url.contains('?') { '&' } else { '?' };
            let address = format!("{url}{separator}per_page={}&page={n}", self.per_page);
            let value = self.client.get_json(&address).await?;
            let count = value.as_array().map_or(0, Vec::len);
            pages.push(page(&address, kind, value));
            if count < self.per_page {
                break;
            }
        }
        Ok(())
    }

    pub async fn next_batch(
        &self,
        cursor: &Cursor,
        first_of_run: bool,
        run_started: &str,
    ) -> Result<Batch, SyncError> {
        let mut pages = Vec::new();
        let url = format!(
            "{}/api/v2/tickets?updated_since={}&include=stats,requester&order_by=updated_at&order_type=asc&per_page={}&page={}",
            self.base,
            query_value(&cursor.updated_since),
            self.per_page,
            cursor.page
        );
        let tickets = self.client.get_json(&url).await?;
        let list = tickets.as_array().cloned().unwrap_or_default();
        for t in &list {
            let id = id_of(&t["id"]).ok_or_else(|| SyncError::NotJson {
                url: url.clone(),
                reason: "a ticket without an id".into(),
            })?;
            self.all(
                &format!("{}/api/v2/tickets/{id}/conversations", self.base),
                "conversations",
                &mut pages,
            )
            .await?;
        }
        let mut next = cursor.clone();
        if first_of_run {
            let mut agents = Vec::new();
            self.all(
                &format!("{}/api/v2/agents", self.base),
                "agents",
                &mut agents,
            )
            .await?;
            *self.agents.lock().expect("agents lock") = agents;
            self.all(
                &format!(
                    "{}/api/v2/surveys/satisfaction_ratings?created_since={}",
                    self.base,
                    query_value(&cursor.ratings_since)
                ),
                "satisfaction_ratings",
                &mut pages,
            )
            .await?;
            next.ratings_since = run_started.to_string();
        }
        pages.extend(self.agents.lock().expect("agents lock").iter().cloned());
        let done = list.len() < self.per_page;
        if let Some(last) = list.last().and_then(|t| t["updated_at"].as_str()) {
            if last == cursor.updated_since {
                next.page = cursor.page + 1;
            } else {
                next.updated_since = last.to_string();
                next.page = 1;
            }
        }
        pages.push(page(&url, "tickets", Value::from(list.clone())));
        Ok(Batch {
            pages,
            tickets: list.len(),
            cursor: next,
            done,
        })
    }
}
