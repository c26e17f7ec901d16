//! Columnar facts: the facts of many conversations in compact columns (names in a dictionary),
//! with a byte encoding for storage. Reports aggregate over a [`FactTable`].

use std::collections::HashMap;

use crate::config::{AgentRules, Targets};
use crate::facts::{ConversationFacts, FactNumbers, SurveyAnswer};
use crate::model::Scale;

const NONE_I64: i64 = i64::MIN;
/// Dictionary index meaning "no name" (no agent).
pub const NO_NAME: u32 = u32::MAX;

const FLAG_INBOUND: u8 = 1;
const FLAG_RESOLVED: u8 = 2;
const FLAG_ONE_TOUCH: u8 = 4;
const FLAG_ANONYMOUS: u8 = 8;

/// "SMF3": with the team (facts version 2) and waiting-since (3) columns.
const MAGIC: &[u8; 4] = b"SMF3";

/// Why bytes could not be decoded as a fact table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fact table encoding is damaged: {0}")]
pub struct DecodeError(pub String);

/// Facts of many conversations, column by column.
#[derive(Debug, Clone)]
pub struct FactTable {
    names: Vec<String>,
    name_index: HashMap<String, u32>,
    /// The last names interned (a cache in front of `name_index`).
    recent: [u32; 4],
    ids: String,
    id_ends: Vec<u32>,
    channel: Vec<u32>,
    agent: Vec<u32>,
    team: Vec<u32>,
    tag_ends: Vec<u32>,
    tag_refs: Vec<u32>,
    created_at: Vec<i64>,
    start: Vec<i64>,
    flags: Vec<u8>,
    first_response: Vec<i64>,
    first_response_business: Vec<i64>,
    resolution: Vec<i64>,
    resolution_business: Vec<i64>,
    first_resolution: Vec<i64>,
    waiting_since: Vec<i64>,
    reopens: Vec<u32>,
    customer_messages: Vec<u32>,
    agent_messages: Vec<u32>,
    agent_turns: Vec<u32>,
    csat: Vec<f64>,
    csat_min: Vec<f64>,
    csat_max: Vec<f64>,
    nps: Vec<f64>,
    ces: Vec<f64>,
    ces_min: Vec<f64>,
    ces_max: Vec<f64>,
}

fn opt_i64(v: Option<i64>) -> i64 {
    v.unwrap_or(NONE_I64)
}

fn get_i64(v: i64) -> Option<i64> {
    (v != NONE_I64).then_some(v)
}

impl Default for FactTable {
    fn default() -> FactTable {
        FactTable {
            names: Vec::new(),
            name_index: HashMap::new(),
            recent: [NO_NAME; 4],
            ids: String::new(),
            id_ends: Vec::new(),
            channel: Vec::new(),
            agent: Vec::new(),
            team: Vec::new(),
            tag_ends: Vec::new(),
            tag_refs: Vec::new(),
            created_at: Vec::new(),
            start: Vec::new(),
            flags: Vec::new(),
            first_response: Vec::new(),
            first_response_business: Vec::new(),
            resolution: Vec::new(),
            resolution_business: Vec::new(),
            first_resolution: Vec::new(),
            waiting_since: Vec::new(),
            reopens: Vec::new(),
            customer_messages: Vec::new(),
            agent_messages: Vec::new(),
            agent_turns: Vec::new(),
            csat: Vec::new(),
            csat_min: Vec::new(),
            csat_max: Vec::new(),
            nps: Vec::new(),
            ces: Vec::new(),
            ces_min: Vec::new(),
            ces_max: Vec::new(),
        }
    }
}

impl FactTable {
    /// An empty table.
    pub fn new() -> FactTable {
        FactTable::default()
    }

    /// A table of these facts, in order.
    pub fn from_facts<'a>(facts: impl IntoIterator<Item = &'a ConversationFacts>) -> FactTable {
        let mut table = FactTable::new();
        for f in facts {
            table.push(f);
        }
        table
    }

    /// Number of conversations.
    pub fn len(&self) -> usize {
        self.start.len()
    }

    /// No conversations.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }

    /// The dictionary index of a name, adding it when new.
    fn intern(&mut self, name: &str) -> u32 {
        // Rows repeat a few names (channels, agents): compare with the last few first.
        for &i in &self.recent {
            if i != NO_NAME && self.names[i as usize] == name {
                return i;
            }
        }
        let i = self.intern_slow(name);
        self.recent.rotate_right(1);
        self.recent[0] = i;
        i
    }

    fn intern_slow(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.name_index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.name_index.insert(name.to_string(), i);
        i
    }

    /// A dictionary name.
    pub fn name(&self, index: u32) -> &str {
        &self.names[index as usize]
    }

    /// The dictionary index of a name, when the table holds it.
    pub fn name_index_of(&self, name: &str) -> Option<u32> {
        self.name_index.get(name).copied()
    }

    /// Number of dictionary names (channel, agent and tag names together).
    pub fn names_len(&self) -> usize {
        self.names.len()
    }

    /// The first-response target (ms) of every name as a channel, by dictionary index: the
    /// one look-up of a channel's target that reports and drill-downs share.
    pub fn first_response_targets(&self, targets: &Targets) -> Vec<i64> {
        self.names
            .iter()
            .map(|name| targets.first_response_millis(name))
            .collect()
    }

    /// Appends one conversation's facts.
    pub fn push(&mut self, f: &ConversationFacts) {
        self.push_parts(
            &f.conversation,
            &f.channel,
            f.agent.as_deref(),
            f.team.as_deref(),
            f.tags.iter().map(String::as_str),
            f.created_at,
            f.start,
            &f.numbers,
        );
    }

    /// Appends one conversation's facts from borrowed parts.
    #[allow(clippy::too_many_arguments)]
    pub fn push_parts<'a>(
        &mut self,
        conversation: &str,
        channel: &str,
        agent: Option<&str>,
        team: Option<&str>,
        tags: impl IntoIterator<Item = &'a str>,
        created_at: i64,
        start: i64,
        numbers: &FactNumbers,
    ) {
        self.ids.push_str(conversation);
        self.id_ends.push(self.ids.len() as u32);
        let channel = self.intern(channel);
        self.channel.push(channel);
        let agent = agent.map_or(NO_NAME, |a| self.intern(a));
        self.agent.push(agent);
        let team = team.map_or(NO_NAME, |t| self.intern(t));
        self.team.push(team);
        for tag in tags {
            let t = self.intern(tag);
            self.tag_refs.push(t);
        }
        self.tag_ends.push(self.tag_refs.len() as u32);
        self.push_numbers(created_at, start, numbers);
    }

    fn push_numbers(&mut self, created_at: i64, start: i64, n: &FactNumbers) {
        self.created_at.push(created_at);
        self.start.push(start);
        let mut flags = 0;
        if n.inbound {
            flags |= FLAG_INBOUND;
        }
        if n.resolved {
            flags |= FLAG_RESOLVED;
        }
        if n.one_touch {
            flags |= FLAG_ONE_TOUCH;
        }
        if n.anonymous {
            flags |= FLAG_ANONYMOUS;
        }
        self.flags.push(flags);
        self.first_response.push(opt_i64(n.first_response_millis));
        self.first_response_business
            .push(opt_i64(n.first_response_business_millis));
        self.resolution.push(opt_i64(n.resolution_millis));
        self.resolution_business
            .push(opt_i64(n.resolution_business_millis));
        self.first_resolution
            .push(opt_i64(n.first_resolution_millis));
        self.waiting_since.push(opt_i64(n.waiting_since));
        self.reopens.push(n.reopens);
        self.customer_messages.push(n.customer_messages);
        self.agent_messages.push(n.agent_messages);
        self.agent_turns.push(n.agent_turns);
        let survey = |a: Option<SurveyAnswer>| {
            a.map_or((f64::NAN, f64::NAN, f64::NAN), |a| {
                (a.score, a.scale.min, a.scale.max)
            })
        };
        let (s, lo, hi) = survey(n.csat);
        self.csat.push(s);
        self.csat_min.push(lo);
        self.csat_max.push(hi);
        self.nps.push(n.nps.map_or(f64::NAN, |a| a.score));
        let (s, lo, hi) = survey(n.ces);
        self.ces.push(s);
        self.ces_min.push(lo);
        self.ces_max.push(hi);
    }

    /// Makes room for `rows` more rows (and their ids and tags, estimated from `like`).
    pub fn reserve(&mut self, rows: usize, like: &FactTable) {
        let per_row = |total: usize| total.div_ceil(like.len().max(1));
        self.reserve_rows(
            rows,
            rows * per_row(like.ids.len()),
            rows * per_row(like.tag_refs.len()),
        );
    }

    /// Makes room for `rows` more rows with `id_bytes` of ids and `tags` tag references.
    pub fn reserve_rows(&mut self, rows: usize, id_bytes: usize, tags: usize) {
        self.ids.reserve(id_bytes);
        self.tag_refs.reserve(tags);
        for col in [
            &mut self.id_ends,
            &mut self.channel,
            &mut self.agent,
            &mut self.team,
            &mut self.tag_ends,
            &mut self.reopens,
            &mut self.customer_messages,
            &mut self.agent_messages,
            &mut self.agent_turns,
        ] {
            col.reserve(rows);
        }
        self.flags.reserve(rows);
        for col in [
            &mut self.created_at,
            &mut self.start,
            &mut self.first_response,
            &mut self.first_response_business,
            &mut self.resolution,
            &mut self.resolution_business,
            &mut self.first_resolution,
            &mut self.waiting_since,
        ] {
            col.reserve(rows);
        }
        for col in [
            &mut self.csat,
            &mut self.csat_min,
            &mut self.csat_max,
            &mut self.nps,
            &mut self.ces,
            &mut self.ces_min,
            &mut self.ces_max,
        ] {
            col.reserve(rows);
        }
    }

    /// Copies rows of another table to the end of this one (names are mapped between the two
    /// dictionaries once, not per row).
    pub fn extend_from(&mut self, other: &FactTable, rows: impl IntoIterator<Item = usize>) {
        let remap: Vec<u32> = other.names.iter().map(|n| self.intern(n)).collect();
        self.copy_rows(other, rows, &remap, &remap);
    }

    /// This table with agent names as `rules` show them (aliases merged) and without the
    /// conversations of excluded agents. Channel and tag names stay as they are.
    pub fn with_agent_rules(&self, rules: &AgentRules) -> FactTable {
        let mut out = FactTable::new();
        out.reserve(self.len(), self);
        let remap: Vec<u32> = self.names.iter().map(|n| out.intern(n)).collect();
        // Excluded agents map to a marker that drops the row.
        const DROP: u32 = NO_NAME - 1;
        let agent_remap: Vec<u32> = self
            .names
            .iter()
            .map(|n| {
                let shown = rules.display_name(n);
                if rules.exclude.contains(shown) {
                    DROP
                } else {
                    out.intern(shown)
                }
            })
            .collect();
        let kept = (0..self.len()).filter(|&i| {
            let a = self.agent[i];
            a == NO_NAME || agent_remap[a as usize] != DROP
        });
        out.copy_rows(self, kept, &remap, &agent_remap);
        out
    }

    fn copy_rows(
        &mut self,
        other: &FactTable,
        rows: impl IntoIterator<Item = usize>,
        remap: &[u32],
        agent_remap: &[u32],
    ) {
        let map = |i: u32| {
            if i == NO_NAME {
                NO_NAME
            } else {
                remap[i as usize]
            }
        };
        for i in rows {
            self.ids.push_str(other.conversation(i));
            self.id_ends.push(self.ids.len() as u32);
            self.channel.push(map(other.channel[i]));
            let agent = other.agent[i];
            self.agent.push(if agent == NO_NAME {
                NO_NAME
            } else {
                agent_remap[agent as usize]
            });
            self.team.push(map(other.team[i]));
            for &t in other.tags(i) {
                self.tag_refs.push(map(t));
            }
            self.tag_ends.push(self.tag_refs.len() as u32);
            self.created_at.push(other.created_at[i]);
            self.start.push(other.start[i]);
            self.flags.push(other.flags[i]);
            self.first_response.push(other.first_response[i]);
            self.first_response_business
                .push(other.first_response_business[i]);
            self.resolution.push(other.resolution[i]);
            self.resolution_business.push(other.resolution_business[i]);
            self.first_resolution.push(other.first_resolution[i]);
            self.waiting_since.push(other.waiting_since[i]);
            self.reopens.push(other.reopens[i]);
            self.customer_messages.push(other.customer_messages[i]);
            self.agent_messages.push(other.agent_messages[i]);
            self.agent_turns.push(other.agent_turns[i]);
            self.csat.push(other.csat[i]);
            self.csat_min.push(other.csat_min[i]);
            self.csat_max.push(other.csat_max[i]);
            self.nps.push(other.nps[i]);
            self.ces.push(other.ces[i]);
            self.ces_min.push(other.ces_min[i]);
            self.ces_max.push(other.ces_max[i]);
        }
    }

    /// The conversation id of row `i`.
    pub fn conversation(&self, i: usize) -> &str {
        let from = if i == 0 {
            0
        } else {
            self.id_ends[i - 1] as usize
        };
        &self.ids[from..self.id_ends[i] as usize]
    }

    /// Dictionary index of row `i`'s channel.
    pub fn channel_index(&self, i: usize) -> u32 {
        self.channel[i]
    }

    /// Dictionary index of row `i`'s agent, [`NO_NAME`] when unassigned.
    pub fn agent_index(&self, i: usize) -> u32 {
        self.agent[i]
    }

    /// Dictionary index of row `i`'s team, [`NO_NAME`] without one.
    pub fn team_index(&self, i: usize) -> u32 {
        self.team[i]
    }

    /// Dictionary indexes of row `i`'s tags.
    pub fn tags(&self, i: usize) -> &[u32] {
        let from = if i == 0 {
            0
        } else {
            self.tag_ends[i - 1] as usize
        };
        &self.tag_refs[from..self.tag_ends[i] as usize]
    }

    /// Conversation start of row `i` (UTC ms).
    pub fn start(&self, i: usize) -> i64 {
        self.start[i]
    }

    /// The numbers of row `i`.
    pub fn numbers(&self, i: usize) -> FactNumbers {
        let answer = |score: f64, min: f64, max: f64| {
            (!score.is_nan()).then_some(SurveyAnswer {
                score,
                scale: Scale { min, max },
            })
        };
        let flags = self.flags[i];
        FactNumbers {
            anonymous: flags & FLAG_ANONYMOUS != 0,
            inbound: flags & FLAG_INBOUND != 0,
            first_response_millis: get_i64(self.first_response[i]),
            first_response_business_millis: get_i64(self.first_response_business[i]),
            resolved: flags & FLAG_RESOLVED != 0,
            resolution_millis: get_i64(self.resolution[i]),
            resolution_business_millis: get_i64(self.resolution_business[i]),
            first_resolution_millis: get_i64(self.first_resolution[i]),
            reopens: self.reopens[i],
            customer_messages: self.customer_messages[i],
            agent_messages: self.agent_messages[i],
            agent_turns: self.agent_turns[i],
            one_touch: flags & FLAG_ONE_TOUCH != 0,
            csat: answer(self.csat[i], self.csat_min[i], self.csat_max[i]),
            nps: answer(self.nps[i], 0.0, 10.0),
            waiting_since: get_i64(self.waiting_since[i]),
            ces: answer(self.ces[i], self.ces_min[i], self.ces_max[i]),
        }
    }

    /// Row `i` as [`ConversationFacts`].
    pub fn get(&self, i: usize) -> ConversationFacts {
        let n = self.numbers(i);
        ConversationFacts {
            conversation: self.conversation(i).to_string(),
            channel: self.name(self.channel[i]).to_string(),
            agent: match self.agent[i] {
                NO_NAME => None,
                a => Some(self.name(a).to_string()),
            },
            team: match self.team[i] {
                NO_NAME => None,
                t => Some(self.name(t).to_string()),
            },
            tags: self
                .tags(i)
                .iter()
                .map(|&t| self.name(t).to_string())
                .collect(),
            created_at: self.created_at[i],
            start: self.start[i],
            numbers: n,
        }
    }

    /// Every row as [`ConversationFacts`], in table order.
    pub fn to_facts(&self) -> Vec<ConversationFacts> {
        (0..self.len()).map(|i| self.get(i)).collect()
    }

    /// Earliest and latest conversation start.
    pub fn start_range(&self) -> Option<(i64, i64)> {
        let min = self.start.iter().min()?;
        let max = self.start.iter().max()?;
        Some((*min, *max))
    }

    /// Row indexes sorted by conversation id.
    pub fn order_by_conversation(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&a, &b| self.conversation(a).cmp(self.conversation(b)));
        order
    }

    /// Encodes the table as bytes (little-endian columns).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.len() * 170 + self.ids.len());
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, self.len() as u32);
        put_u32(&mut out, self.names.len() as u32);
        for name in &self.names {
            put_bytes(&mut out, name.as_bytes());
        }
        put_bytes(&mut out, self.ids.as_bytes());
        put_u32(&mut out, self.tag_refs.len() as u32);
        for col in [
            &self.id_ends,
            &self.channel,
            &self.agent,
            &self.team,
            &self.tag_ends,
            &self.reopens,
            &self.customer_messages,
            &self.agent_messages,
            &self.agent_turns,
        ] {
            col.iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        self.tag_refs
            .iter()
            .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        out.extend_from_slice(&self.flags);
        for col in [
            &self.created_at,
            &self.start,
            &self.first_response,
            &self.first_response_business,
            &self.resolution,
            &self.resolution_business,
            &self.first_resolution,
            &self.waiting_since,
        ] {
            col.iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        for col in [
            &self.csat,
            &self.csat_min,
            &self.csat_max,
            &self.nps,
            &self.ces,
            &self.ces_min,
            &self.ces_max,
        ] {
            col.iter()
                .for_each(|v| out.extend_from_slice(&v.to_le_bytes()));
        }
        out
    }

    /// Decodes bytes made by [`FactTable::encode`].
    pub fn decode(bytes: &[u8]) -> Result<FactTable, DecodeError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4)? != MAGIC {
            return Err(DecodeError("wrong magic".into()));
        }
        let rows = r.u32()? as usize;
        let name_count = r.u32()? as usize;
        let mut table = FactTable::new();
        for _ in 0..name_count {
            let name = r.string()?;
            table
                .name_index
                .insert(name.clone(), table.names.len() as u32);
            table.names.push(name);
        }
        table.ids = r.string()?;
        let tag_count = r.u32()? as usize;
        table.id_ends = r.u32s(rows)?;
        table.channel = r.u32s(rows)?;
        table.agent = r.u32s(rows)?;
        table.team = r.u32s(rows)?;
        table.tag_ends = r.u32s(rows)?;
        table.reopens = r.u32s(rows)?;
        table.customer_messages = r.u32s(rows)?;
        table.agent_messages = r.u32s(rows)?;
        table.agent_turns = r.u32s(rows)?;
        table.tag_refs = r.u32s(tag_count)?;
        table.flags = r.take(rows)?.to_vec();
        table.created_at = r.i64s(rows)?;
        table.start = r.i64s(rows)?;
        table.first_response = r.i64s(rows)?;
        table.first_response_business = r.i64s(rows)?;
        table.resolution = r.i64s(rows)?;
        table.resolution_business = r.i64s(rows)?;
        table.first_resolution = r.i64s(rows)?;
        table.waiting_since = r.i64s(rows)?;
        table.csat = r.f64s(rows)?;
        table.csat_min = r.f64s(rows)?;
        table.csat_max = r.f64s(rows)?;
        table.nps = r.f64s(rows)?;
        table.ces = r.f64s(rows)?;
        table.ces_min = r.f64s(rows)?;
        table.ces_max = r.f64s(rows)?;
        if r.at != bytes.len() {
            return Err(DecodeError("trailing bytes".into()));
        }
        let names = table.names.len() as u32;
        let ids_len = table.ids.len() as u32;
        let valid = table.channel.iter().all(|&c| c < names)
            && table.agent.iter().all(|&a| a == NO_NAME || a < names)
            && table.team.iter().all(|&t| t == NO_NAME || t < names)
            && table.tag_refs.iter().all(|&t| t < names)
            && table.id_ends.windows(2).all(|w| w[0] <= w[1])
            && table.id_ends.last().is_none_or(|&e| e == ids_len)
            && table.tag_ends.windows(2).all(|w| w[0] <= w[1])
            && table
                .tag_ends
                .last()
                .is_none_or(|&e| e as usize == tag_count)
            && (0..rows).all(|i| table.ids.is_char_boundary(table.id_ends[i] as usize));
        if !valid {
            return Err(DecodeError("index out of range".into()));
        }
        Ok(table)
    }
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_u32(out, bytes.len() as u32);
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| DecodeError("truncated".into()))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| DecodeError("not UTF-8".into()))
    }

    fn u32s(&mut self, n: usize) -> Result<Vec<u32>, DecodeError> {
        Ok(self
            .take(n.checked_mul(4).ok_or_else(|| DecodeError("size".into()))?)?
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect())
    }

    fn i64s(&mut self, n: usize) -> Result<Vec<i64>, DecodeError> {
        Ok(self
            .take(n.checked_mul(8).ok_or_else(|| DecodeError("size".into()))?)?
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }

    fn f64s(&mut self, n: usize) -> Result<Vec<f64>, DecodeError> {
        Ok(self
            .take(n.checked_mul(8).ok_or_else(|| DecodeError("size".into()))?)?
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(id: &str, agent: Option<&str>, tags: &[&str], csat: Option<f64>) -> ConversationFacts {
        ConversationFacts {
            conversation: id.into(),
            channel: "chat".into(),
            agent: agent.map(str::to_string),
            // Anna's conversations are the returns team's.
            team: (agent == Some("Anna")).then(|| "Retouren".to_string()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            created_at: 5,
            start: 10,
            numbers: FactNumbers {
                anonymous: false,
                inbound: true,
                first_response_millis: Some(1000),
                first_response_business_millis: Some(0),
                resolved: true,
                resolution_millis: None,
                resolution_business_millis: Some(7),
                first_resolution_millis: Some(8),
                reopens: 2,
                customer_messages: 3,
                agent_messages: 4,
                agent_turns: 1,
                one_touch: false,
                csat: csat.map(|score| SurveyAnswer {
                    score,
                    scale: Scale { min: 1.0, max: 3.0 },
                }),
                nps: Some(SurveyAnswer {
                    score: 9.0,
                    scale: Scale {
                        min: 0.0,
                        max: 10.0,
                    },
                }),
                waiting_since: None,
                ces: None,
            },
        }
    }

    #[test]
    fn round_trips_through_bytes() {
        let rows = vec![
            facts("a", Some("Anna"), &["retour", "vip"], Some(2.0)),
            facts("bé", None, &[], None),
            facts("c", Some("Anna"), &["vip"], Some(3.0)),
        ];
        let table = FactTable::from_facts(&rows);
        assert_eq!(table.to_facts(), rows);
        let decoded = FactTable::decode(&table.encode()).unwrap();
        assert_eq!(decoded.to_facts(), rows);
        assert_eq!(decoded.names_len(), 5, "chat, Anna, Retouren, retour, vip");
        assert_eq!(decoded.name(decoded.team_index(0)), "Retouren");
        assert_eq!(decoded.team_index(1), NO_NAME);
        let mut copy = FactTable::from_facts(&rows[1..2]);
        copy.extend_from(&decoded, [2, 0]);
        assert_eq!(
            copy.to_facts(),
            vec![rows[1].clone(), rows[2].clone(), rows[0].clone()]
        );
    }

    #[test]
    fn damaged_bytes_are_an_error() {
        let table = FactTable::from_facts(&[facts("a", Some("Anna"), &["x"], None)]);
        let bytes = table.encode();
        assert!(FactTable::decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(FactTable::decode(b"nope").is_err());
        let mut wrong = bytes.clone();
        wrong.push(0);
        assert!(FactTable::decode(&wrong).is_err());
    }

    #[test]
    fn agent_rules_merge_aliases_and_drop_excluded_agents() {
        let table = FactTable::from_facts(&[
            facts("1", Some("anna.b"), &["x"], Some(3.0)),
            facts("2", Some("Anna Bakker"), &[], None),
            facts("3", Some("Test Agent"), &[], None),
            facts("4", None, &[], None),
        ]);
        let mut rules = AgentRules::default();
        rules.aliases.insert("anna.b".into(), "Anna Bakker".into());
        rules.exclude.insert("Test Agent".into());
        let shown = table.with_agent_rules(&rules);
        let rows: Vec<(String, Option<String>)> = shown
            .to_facts()
            .into_iter()
            .map(|f| (f.conversation, f.agent))
            .collect();
        assert_eq!(
            rows,
            [
                ("1".to_string(), Some("Anna Bakker".to_string())),
                ("2".to_string(), Some("Anna Bakker".to_string())),
                ("4".to_string(), None),
            ]
        );
        // Both rows of Anna share one name in the dictionary, so reports group them together.
        assert_eq!(shown.agent_index(0), shown.agent_index(1));
        assert_eq!(shown.get(0).tags, ["x"]);
        assert_eq!(shown.get(0).numbers, table.get(0).numbers);
    }
}
