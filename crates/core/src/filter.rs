//! Which conversations a page, a list or a report covers besides its period: channels, teams,
//! agents and tags. Several values of one kind are alternatives (chat or e-mail); kinds
//! together all apply (chat or e-mail, and team Retouren). The filter bar, the drill-down
//! lists, the API and the CLI's `report` use this one definition.

use crate::report::{NO_TEAM, UNASSIGNED, UNTAGGED};
use crate::table::{FactTable, NO_NAME};

/// At most this many values per kind (a URL with more is refused, see docs/server.md).
pub const MAX_VALUES: usize = 50;

/// A filter: empty lists mean "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub channels: Vec<String>,
    /// Team names; `(no team)` for conversations without one.
    pub teams: Vec<String>,
    /// Agent names as the reports show them; `(unassigned)` for conversations without one.
    pub agents: Vec<String>,
    /// Tags; `(untagged)` for conversations without tags. A conversation with any of them.
    pub tags: Vec<String>,
}

/// Why a filter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {reason}")]
pub struct FilterError {
    /// `channel`, `team`, `agent` or `tag`.
    pub kind: &'static str,
    pub reason: String,
}

impl Filter {
    /// Whether it lets every conversation through.
    pub fn is_empty(&self) -> bool {
        self.channels.is_empty()
            && self.teams.is_empty()
            && self.agents.is_empty()
            && self.tags.is_empty()
    }

    /// The lists with their kinds, in the order of the filter bar.
    pub fn kinds(&self) -> [(&'static str, &[String]); 4] {
        [
            ("channel", &self.channels),
            ("team", &self.teams),
            ("agent", &self.agents),
            ("tag", &self.tags),
        ]
    }

    /// The filter with values trimmed, empty ones dropped, duplicates removed and each list
    /// sorted (so that equal filters are equal), or what is wrong with it.
    pub fn normalized(self) -> Result<Filter, FilterError> {
        let clean = |kind: &'static str, values: Vec<String>| {
            let mut values: Vec<String> = values
                .into_iter()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            values.sort();
            values.dedup();
            if values.len() > MAX_VALUES {
                return Err(FilterError {
                    kind,
                    reason: format!("{} values; at most {MAX_VALUES}", values.len()),
                });
            }
            if let Some(long) = values
                .iter()
                .find(|v| v.len() > crate::limits::MAX_NAME_BYTES)
            {
                return Err(FilterError {
                    kind,
                    reason: format!(
                        "'{}…' is longer than {} bytes",
                        long.chars().take(20).collect::<String>(),
                        crate::limits::MAX_NAME_BYTES
                    ),
                });
            }
            Ok(values)
        };
        Ok(Filter {
            channels: clean("channel", self.channels)?
                .into_iter()
                .map(|c| c.to_lowercase())
                .collect(),
            teams: clean("team", self.teams)?,
            agents: clean("agent", self.agents)?,
            tags: clean("tag", self.tags)?,
        })
    }

    /// The filter resolved against a table's names, to test rows quickly.
    pub fn rows_of<'t>(&self, table: &'t FactTable) -> RowFilter<'t> {
        // A name the table does not hold matches nothing; the "none" label matches NO_NAME.
        let indexes = |values: &[String], none: &str| -> Option<Vec<u32>> {
            if values.is_empty() {
                return None;
            }
            let mut found: Vec<u32> = values
                .iter()
                .filter_map(|v| {
                    if v == none {
                        Some(NO_NAME)
                    } else {
                        table.name_index_of(v)
                    }
                })
                .collect();
            found.sort_unstable();
            Some(found)
        };
        RowFilter {
            table,
            channels: indexes(&self.channels, ""),
            teams: indexes(&self.teams, NO_TEAM),
            agents: indexes(&self.agents, UNASSIGNED),
            tags: indexes(&self.tags, UNTAGGED),
        }
    }
}

/// A [`Filter`] resolved against one table.
pub struct RowFilter<'t> {
    table: &'t FactTable,
    channels: Option<Vec<u32>>,
    teams: Option<Vec<u32>>,
    agents: Option<Vec<u32>>,
    tags: Option<Vec<u32>>,
}

impl RowFilter<'_> {
    /// Whether row `i` passes.
    pub fn keeps(&self, i: usize) -> bool {
        let t = self.table;
        let has = |set: &Option<Vec<u32>>, v: u32| set.as_ref().is_none_or(|s| s.contains(&v));
        has(&self.channels, t.channel_index(i))
            && has(&self.teams, t.team_index(i))
            && has(&self.agents, t.agent_index(i))
            && self.tags.as_ref().is_none_or(|wanted| {
                let tags = t.tags(i);
                if tags.is_empty() {
                    wanted.contains(&NO_NAME)
                } else {
                    tags.iter().any(|tag| wanted.contains(tag))
                }
            })
    }

    /// Whether every row passes.
    pub fn keeps_all(&self) -> bool {
        self.channels.is_none()
            && self.teams.is_none()
            && self.agents.is_none()
            && self.tags.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ConversationFacts;

    fn row(
        id: &str,
        channel: &str,
        team: Option<&str>,
        agent: Option<&str>,
        tags: &[&str],
    ) -> ConversationFacts {
        ConversationFacts {
            conversation: id.into(),
            channel: channel.into(),
            agent: agent.map(str::to_string),
            team: team.map(str::to_string),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: 0,
            start: 0,
            numbers: crate::facts::one_customer_message(),
        }
    }

    fn kept(filter: Filter) -> Vec<String> {
        let table = FactTable::from_facts(&[
            row(
                "1",
                "chat",
                Some("Retouren"),
                Some("Anna"),
                &["retour", "vip"],
            ),
            row("2", "email", Some("Retouren"), None, &[]),
            row("3", "email", None, Some("Bob"), &["levering"]),
            row("4", "phone", Some("Sales"), Some("Anna"), &["vip"]),
        ]);
        let rows = filter.normalized().unwrap();
        let rows = rows.rows_of(&table);
        (0..table.len())
            .filter(|&i| rows.keeps(i))
            .map(|i| table.conversation(i).to_string())
            .collect()
    }

    fn f(channels: &[&str], teams: &[&str], agents: &[&str], tags: &[&str]) -> Filter {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
        Filter {
            channels: v(channels),
            teams: v(teams),
            agents: v(agents),
            tags: v(tags),
        }
    }

    #[test]
    fn values_of_one_kind_are_alternatives_and_kinds_all_apply() {
        assert_eq!(kept(f(&[], &[], &[], &[])), ["1", "2", "3", "4"]);
        assert_eq!(kept(f(&["chat", "Email"], &[], &[], &[])), ["1", "2", "3"]);
        assert_eq!(kept(f(&["email"], &["Retouren"], &[], &[])), ["2"]);
        assert_eq!(kept(f(&[], &["(no team)"], &[], &[])), ["3"]);
        assert_eq!(kept(f(&[], &[], &["(unassigned)", "Bob"], &[])), ["2", "3"]);
        // Any of the tags.
        assert_eq!(kept(f(&[], &[], &[], &["retour", "levering"])), ["1", "3"]);
        assert_eq!(kept(f(&[], &[], &[], &["(untagged)"])), ["2"]);
        assert_eq!(kept(f(&[], &[], &["Anna"], &["vip"])), ["1", "4"]);
        // A name nobody has matches nothing.
        assert!(kept(f(&["fax"], &[], &[], &[])).is_empty());
    }

    #[test]
    fn normalized_filters_are_equal_and_bounded() {
        let a = f(&[" chat ", "email", "chat", ""], &[], &[], &[])
            .normalized()
            .unwrap();
        let b = f(&["email", "chat"], &[], &[], &[]).normalized().unwrap();
        assert_eq!(a, b);
        assert!(f(&[], &[], &[], &[]).normalized().unwrap().is_empty());
        let many: Vec<String> = (0..=MAX_VALUES).map(|i| format!("t{i}")).collect();
        let err = Filter {
            tags: many,
            ..Filter::default()
        }
        .normalized()
        .unwrap_err();
        assert_eq!(err.kind, "tag");
        assert!(err.reason.contains("at most 50"), "{err}");
    }
}
