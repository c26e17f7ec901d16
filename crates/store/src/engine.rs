//! The ingest engine, the same for every backend: merging records into stored conversations,
//! normalising, computing facts, writing and compacting fact segments, and recomputing them
//! after a configuration change or when they were computed under other fact rules.
//!
//! It talks to a database only through [`WriteTx`]; it decides the parallelism of the fact
//! computation ([`Threads`], chosen by whoever opens the store) and runs it off the async
//! workers (`spawn_blocking`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use servicemeter_core::facts::{FACTS_VERSION, compute_all_facts};
use servicemeter_core::model::SurveyKind;
use servicemeter_core::surveys::{answers_to_follow_up, follow_up_due};
use servicemeter_core::{Calendars, Conversation, ConversationFacts};

use crate::backend::{BodyRow, Counter, StoredBody, WriteTx};
use crate::jobs::JobProgress;
use crate::segments::{NewestMerge, SEGMENT_ROWS, Segment};
use crate::{BatchOutcome, ImportSummary, StoreError};

/// The encoding of stored conversation bodies: postcard of
/// [`servicemeter_core::Conversation`]. Version 2 added the customer's e-mail address, name and
/// language to the header and reasons and source to survey answers; version 1 bodies are read
/// through [`body_v1`] and written as version 2 the next time they change. A body of another
/// version is refused with a clear error (a newer servicemeter wrote it).
pub const BODY_VERSION: i64 = 2;

/// Bodies read at a time when every conversation's facts are recomputed.
const RECOMPUTE_PAGE: u32 = 10_000;

/// How many threads compute facts (at least 1); the caller that opens the store decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Threads(usize);

impl Threads {
    pub fn new(n: usize) -> Threads {
        Threads(n.max(1))
    }

    /// One per core.
    pub fn all_cores() -> Threads {
        Threads::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }

    pub fn get(self) -> usize {
        self.0
    }
}

/// A body in the current encoding.
pub fn encode_body(conversation: &Conversation) -> Vec<u8> {
    postcard::to_stdvec(conversation).expect("conversations serialize")
}

/// Reads a stored body.
pub fn decode_body(body: &StoredBody) -> Result<Conversation, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        conversation: body.id.clone(),
        reason,
    };
    if body.version == 1 {
        return postcard::from_bytes::<body_v1::Conversation>(&body.bytes)
            .map(Conversation::from)
            .map_err(|e| corrupt(e.to_string()));
    }
    if body.version != BODY_VERSION {
        return Err(corrupt(format!(
            "it is stored in body version {}, this build reads version {BODY_VERSION} (was it \
             written by a newer servicemeter?)",
            body.version
        )));
    }
    postcard::from_bytes(&body.bytes).map_err(|e| corrupt(e.to_string()))
}

/// The shapes of body version 1, read into today's model (the new fields empty).
mod body_v1 {
    use serde::Deserialize;
    use servicemeter_core::model::{self, Channel, Event, Message, Score, SurveyKind};

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct Header {
        channel: Channel,
        created_at: i64,
        customer: Option<String>,
        agent: Option<String>,
        team: Option<String>,
        tags: Vec<String>,
        subject: Option<String>,
    }

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct Survey {
        at: i64,
        kind: SurveyKind,
        score: Score,
        comment: Option<String>,
    }

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct Conversation {
        id: String,
        header: Option<Header>,
        messages: Vec<Message>,
        events: Vec<Event>,
        surveys: Vec<Survey>,
    }

    impl From<Conversation> for model::Conversation {
        fn from(old: Conversation) -> model::Conversation {
            model::Conversation {
                id: old.id,
                header: old.header.map(|h| model::ConversationHeader {
                    channel: h.channel,
                    created_at: h.created_at,
                    customer: h.customer,
                    agent: h.agent,
                    team: h.team,
                    tags: h.tags,
                    subject: h.subject,
                    customer_email: None,
                    customer_name: None,
                    customer_language: None,
                }),
                messages: old.messages,
                events: old.events,
                surveys: old
                    .surveys
                    .into_iter()
                    .map(|s| model::Survey {
                        at: s.at,
                        kind: s.kind,
                        score: s.score,
                        comment: s.comment,
                        reasons: Vec::new(),
                        source: None,
                    })
                    .collect(),
                deleted: false,
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::backend::StoredBody;

        #[test]
        fn a_version_1_body_reads_with_the_new_fields_empty() {
            let kind = SurveyKind::Csat;
            let old = Conversation {
                id: "c1".into(),
                header: Some(Header {
                    channel: Channel::new("email").unwrap(),
                    created_at: 1_709_539_200_000,
                    customer: Some("jan".into()),
                    agent: Some("Anna".into()),
                    team: None,
                    tags: vec!["retour".into()],
                    subject: Some("Retour".into()),
                }),
                messages: Vec::new(),
                events: Vec::new(),
                surveys: vec![Survey {
                    at: 1_709_539_300_000,
                    kind,
                    score: Score::new(kind, 4.0, kind.default_scale()).unwrap(),
                    comment: Some("Snel".into()),
                }],
            };
            let stored = StoredBody {
                id: "c1".into(),
                ordinal: 1,
                version: 1,
                bytes: postcard::to_stdvec(&old).unwrap(),
            };
            let read = crate::engine::decode_body(&stored).unwrap();
            let header = read.header.as_ref().unwrap();
            assert_eq!(header.customer.as_deref(), Some("jan"));
            assert_eq!(header.tags, ["retour"]);
            assert_eq!(header.subject.as_deref(), Some("Retour"));
            assert_eq!(header.customer_email, None);
            assert_eq!(read.surveys[0].comment.as_deref(), Some("Snel"));
            assert_eq!(read.surveys[0].score.value(), 4.0);
            assert!(read.surveys[0].reasons.is_empty());
            // Written again, it is a version 2 body that reads the same.
            let again = StoredBody {
                id: "c1".into(),
                ordinal: 1,
                version: crate::engine::BODY_VERSION,
                bytes: crate::engine::encode_body(&read),
            };
            assert_eq!(crate::engine::decode_body(&again).unwrap(), read);
            // A version this build does not know is refused, naming it.
            let newer = StoredBody {
                version: 3,
                ..again
            };
            let error = crate::engine::decode_body(&newer).unwrap_err().to_string();
            assert!(error.contains("body version 3"), "{error}");
        }
    }
}

/// Facts of many conversations on `threads` threads, off the async workers. Returns the
/// conversations back with their facts (aligned).
pub async fn compute_facts(
    conversations: Vec<Conversation>,
    calendars: Arc<Calendars>,
    threads: Threads,
) -> Result<(Vec<Conversation>, Vec<Option<ConversationFacts>>), StoreError> {
    if conversations.is_empty() {
        return Ok((conversations, Vec::new()));
    }
    tokio::task::spawn_blocking(move || {
        let facts = facts_on_threads(&conversations, &calendars, threads);
        (conversations, facts)
    })
    .await
    .map_err(|e| StoreError::Database(Box::new(e)))
}

/// Decodes stored bodies and computes their facts (aligned), off the async workers.
async fn facts_of_bodies(
    bodies: Vec<StoredBody>,
    calendars: Arc<Calendars>,
    threads: Threads,
) -> Result<Vec<Option<ConversationFacts>>, StoreError> {
    tokio::task::spawn_blocking(move || {
        let conversations = bodies
            .iter()
            .map(decode_body)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(facts_on_threads(&conversations, &calendars, threads))
    })
    .await
    .map_err(|e| StoreError::Database(Box::new(e)))?
}

/// Splits the work over `threads` scoped threads (the kernel itself is sequential).
fn facts_on_threads(
    conversations: &[Conversation],
    calendars: &Calendars,
    threads: Threads,
) -> Vec<Option<ConversationFacts>> {
    if threads.get() == 1 || conversations.len() < 256 {
        return compute_all_facts(conversations, calendars);
    }
    let chunk = conversations.len().div_ceil(threads.get()).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = conversations
            .chunks(chunk)
            .map(|part| scope.spawn(move || compute_all_facts(part, calendars)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("facts worker panicked"))
            .collect()
    })
}

/// Folds records of the same conversation within a batch together (first place, later wins).
fn merge_duplicates(batch: Vec<Conversation>) -> Vec<Conversation> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(batch.len());
    let mut unique: Vec<Conversation> = Vec::with_capacity(batch.len());
    for c in batch {
        match index.get(&c.id) {
            Some(&i) => unique[i].absorb(c),
            None => {
                index.insert(c.id.clone(), unique.len());
                unique.push(c);
            }
        }
    }
    unique
}

/// What an import remembers between its batches.
#[derive(Debug, Default)]
pub struct ImportState {
    /// Ordinals of conversations deleted in this import: their fact rows are dropped when it
    /// commits.
    deleted: Vec<u32>,
    /// Ids deleted in this import: a deletion wins over every record of the same import, also
    /// records in later batches.
    deleted_ids: HashSet<String>,
    /// Whether the stored segments were checked for facts of another version (and the
    /// erased customers read).
    versions_checked: bool,
    /// Hashes of the customers whose data was erased: their records are erased on arrival.
    erased: HashSet<String>,
    /// Fact rows not written yet: written as a segment once it holds [`SEGMENT_ROWS`], when a
    /// conversation comes a second time (a segment holds one row per conversation), and at
    /// the commit. So a large import writes full segments and needs no compaction after.
    pending: Segment,
    pending_ordinals: HashSet<u32>,
}

/// What stands in a conversation's customer field once the customer's data was erased: the
/// marker and the hash of their id, so that records without a conversation record arriving
/// later are erased too.
pub const ERASED_PREFIX: &str = "erased:";

/// The hash under which an erased customer is remembered (never the id itself).
pub fn customer_hash(customer: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(customer.as_bytes());
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Erases a conversation's personal data when its customer was erased (or it was before).
/// A conversation's customer as the customer search finds it: lowercased; '' when it names
/// none or its customer was erased (the marker left then is not a name).
pub fn customer_key(conversation: &Conversation) -> String {
    match conversation
        .header
        .as_ref()
        .and_then(|h| h.customer.as_deref())
    {
        Some(customer) if !customer.starts_with(ERASED_PREFIX) => customer.to_lowercase(),
        _ => String::new(),
    }
}

/// Stores the customer key of every conversation stored before keys were (a store from an
/// earlier version), a page of bodies at a time. Returns how many were filled.
pub async fn fill_customer_keys<T: WriteTx>(tx: &mut T) -> Result<u64, StoreError> {
    let mut filled = 0u64;
    let mut after = -1i64;
    loop {
        let bodies = tx
            .bodies_without_customer_key(after, RECOMPUTE_PAGE)
            .await?;
        let Some(last) = bodies.last() else { break };
        after = i64::from(last.ordinal);
        let keys = tokio::task::spawn_blocking(move || {
            bodies
                .iter()
                .map(|body| Ok((body.ordinal, customer_key(&decode_body(body)?))))
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
        .map_err(|e| StoreError::Invalid(format!("reading customers: {e}")))??;
        filled += keys.len() as u64;
        tx.set_customer_keys(&keys).await?;
    }
    Ok(filled)
}

fn erase_if_erased(conversation: &mut Conversation, erased: &HashSet<String>) -> bool {
    let Some(customer) = conversation
        .header
        .as_ref()
        .and_then(|h| h.customer.as_deref())
    else {
        return false;
    };
    let hash = match customer.strip_prefix(ERASED_PREFIX) {
        Some(hash) => hash.to_string(),
        None => customer_hash(customer),
    };
    if !customer.starts_with(ERASED_PREFIX) && !erased.contains(&hash) {
        return false;
    }
    conversation.erase_personal_data();
    if let Some(header) = &mut conversation.header {
        header.customer = Some(format!("{ERASED_PREFIX}{hash}"));
    }
    true
}

/// Merges a batch of partial conversations into the stored ones, stores them and their facts.
pub async fn apply<T: WriteTx>(
    tx: &mut T,
    state: &mut ImportState,
    batch: Vec<Conversation>,
    calendars: &Arc<Calendars>,
    threads: Threads,
    now: i64,
) -> Result<BatchOutcome, StoreError> {
    if !state.versions_checked {
        state.versions_checked = true;
        if has_outdated_segments(tx).await? {
            rebuild_segments(tx, calendars, threads, None).await?;
        }
        state.erased = tx.erased_customers().await?.into_iter().collect();
    }
    let batch = merge_duplicates(batch);
    let ids: Vec<&str> = batch.iter().map(|c| c.id.as_str()).collect();
    let mut existing: HashMap<String, (u32, Conversation)> = HashMap::new();
    for body in tx.load_bodies(&ids).await? {
        let conversation = decode_body(&body)?;
        existing.insert(body.id, (body.ordinal, conversation));
    }
    let mut outcome = BatchOutcome::default();
    // Change of the number of conversations with a conversation record.
    let mut live_delta = 0i64;
    // Ordinal of each merged conversation; new ones get theirs from the counter below.
    let mut ordinals: Vec<Option<u32>> = Vec::with_capacity(batch.len());
    let mut merged = Vec::with_capacity(batch.len());
    // The answers each merged conversation just received (kind, time), for follow-ups.
    let mut arrived: Vec<Vec<(SurveyKind, i64)>> = Vec::with_capacity(batch.len());
    for partial in batch {
        if partial.deleted || state.deleted_ids.contains(&partial.id) {
            if partial.deleted {
                state.deleted_ids.insert(partial.id.clone());
            }
            // Gone from the helpdesk: removed here too, whatever else came for it.
            if let Some((ordinal, stored)) = existing.remove(&partial.id) {
                tx.delete_body(&partial.id).await?;
                state.deleted.push(ordinal);
                outcome.deleted_conversations += 1;
                live_delta -= i64::from(stored.header.is_some());
            }
            continue;
        }
        let answers: Vec<(SurveyKind, i64)> =
            partial.surveys.iter().map(|s| (s.kind, s.at)).collect();
        let (ordinal, mut conversation) = match existing.remove(&partial.id) {
            Some((ordinal, mut stored)) => {
                outcome.updated_conversations += 1;
                live_delta -= i64::from(stored.header.is_some());
                stored.absorb(partial);
                (Some(ordinal), stored)
            }
            None => {
                outcome.new_conversations += 1;
                (None, partial)
            }
        };
        live_delta += i64::from(conversation.header.is_some());
        conversation.normalize();
        erase_if_erased(&mut conversation, &state.erased);
        if let Some(problem) = servicemeter_core::limits::conversation_problem(&conversation) {
            return Err(StoreError::Limit(problem));
        }
        ordinals.push(ordinal);
        merged.push(conversation);
        arrived.push(answers);
    }
    for (conversation, answers) in merged.iter().zip(&arrived) {
        if answers.is_empty() {
            continue;
        }
        let channel = conversation
            .header
            .as_ref()
            .map(|h| h.channel.as_str())
            .unwrap_or_default();
        for (kind, at) in answers_to_follow_up(conversation, answers, now) {
            let due = follow_up_due(calendars, channel, at);
            tx.open_follow_up(&conversation.id, kind, at, due, now)
                .await?;
        }
    }
    let new = ordinals.iter().filter(|o| o.is_none()).count() as u32;
    let mut next_new = if new > 0 {
        tx.allocate(Counter::Ordinal, new).await?
    } else {
        0
    };
    let ordinals: Vec<u32> = ordinals
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                next_new += 1;
                (next_new - 1) as u32
            })
        })
        .collect();
    let (merged, facts) = compute_facts(merged, calendars.clone(), threads).await?;
    for (ordinal, f) in ordinals.iter().zip(&facts) {
        match f {
            Some(f) => {
                if !state.pending_ordinals.insert(*ordinal) {
                    // Its earlier row stays in the segment written now; this one is newer.
                    write_pending(tx, state).await?;
                    state.pending_ordinals.insert(*ordinal);
                }
                state.pending.ordinals.push(*ordinal);
                state.pending.table.push(f);
                if state.pending.ordinals.len() >= SEGMENT_ROWS {
                    write_pending(tx, state).await?;
                }
            }
            None => outcome.pending_conversations += 1,
        }
    }
    let rows: Vec<BodyRow> = ordinals
        .into_iter()
        .zip(merged)
        .map(|(ordinal, c)| BodyRow {
            bytes: encode_body(&c),
            has_header: c.header.is_some(),
            customer_key: customer_key(&c),
            id: c.id,
            ordinal,
        })
        .collect();
    tx.upsert_bodies(&rows, now).await?;
    if live_delta != 0 {
        tx.count_live(live_delta, false).await?;
    }
    Ok(outcome)
}

/// Finishes an import: compacts the segments when worth it (always after deletions), records
/// the import, counts a new data version and commits.
pub async fn commit<T: WriteTx>(
    mut tx: T,
    mut state: ImportState,
    summary: ImportSummary,
) -> Result<(), StoreError> {
    write_pending(&mut tx, &mut state).await?;
    let plan = if state.deleted.is_empty() {
        compaction(&mut tx).await?
    } else {
        Compaction::Full
    };
    match plan {
        Compaction::Nothing => {}
        Compaction::Full => compact_segments(&mut tx, &state.deleted).await?,
        Compaction::Newest(n) => compact_newest(&mut tx, n).await?,
    }
    let import = tx.allocate(Counter::Import, 1).await?;
    tx.record_import(import, &summary).await?;
    tx.bump_data_version().await?;
    tx.commit().await
}

/// Stores a new configuration and recomputes every conversation's facts with it, in the one
/// transaction; returns the number of conversations with facts.
pub async fn replace_config<T: WriteTx>(
    mut tx: T,
    config_toml: &str,
    calendars: &Arc<Calendars>,
    threads: Threads,
) -> Result<u64, StoreError> {
    tx.set_config(config_toml).await?;
    let written = rebuild_segments(&mut tx, calendars, threads, None).await?;
    tx.bump_data_version().await?;
    tx.commit().await?;
    Ok(written)
}

/// Lets `change` edit every stored conversation of the workspace (all of them, record or not),
/// a page at a time, decoding and encoding on a blocking thread (CPU work), and stores those it
/// changed. Returns how many.
async fn rewrite_all<T: WriteTx>(
    tx: &mut T,
    now: i64,
    change: impl Fn(&mut Conversation) -> bool + Send + Sync + 'static,
) -> Result<u64, StoreError> {
    let change = Arc::new(change);
    let mut changed = 0u64;
    let mut after = -1i64;
    loop {
        let bodies = tx.all_bodies_after(after, RECOMPUTE_PAGE).await?;
        let Some(last) = bodies.last() else { break };
        after = i64::from(last.ordinal);
        let change = change.clone();
        let rows = tokio::task::spawn_blocking(move || {
            let mut rows = Vec::new();
            for body in &bodies {
                let mut conversation = decode_body(body)?;
                if change(&mut conversation) {
                    rows.push(BodyRow {
                        id: conversation.id.clone(),
                        ordinal: body.ordinal,
                        has_header: conversation.header.is_some(),
                        bytes: encode_body(&conversation),
                        customer_key: customer_key(&conversation),
                    });
                }
            }
            Ok::<_, StoreError>(rows)
        })
        .await
        .map_err(|e| StoreError::Database(Box::new(e)))??;
        changed += rows.len() as u64;
        tx.upsert_bodies(&rows, now).await?;
    }
    Ok(changed)
}

/// Erases a customer's personal data from every conversation whose customer they are, remembers
/// them (by hash) so that later records of theirs are erased on arrival, writes the audit entry
/// and commits. The facts do not change. Returns the conversations changed.
pub async fn erase_customer<T: WriteTx>(
    mut tx: T,
    customer: &str,
    actor: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let hash = customer_hash(customer);
    tx.add_erased_customer(&hash, now).await?;
    let erased: HashSet<String> = [hash.clone()].into();
    let customer = customer.to_string();
    let ids = Arc::new(std::sync::Mutex::new(Vec::new()));
    let found = ids.clone();
    let changed = rewrite_all(&mut tx, now, move |conversation| {
        let theirs = conversation
            .header
            .as_ref()
            .is_some_and(|h| h.customer.as_deref() == Some(customer.as_str()));
        let erased = theirs && erase_if_erased(conversation, &erased);
        if erased {
            found
                .lock()
                .expect("erased ids")
                .push(conversation.id.clone());
        }
        erased
    })
    .await?;
    let ids = std::mem::take(&mut *ids.lock().expect("erased ids"));
    tx.forget_survey_traces(&ids).await?;
    tx.audit(&crate::AuditEntry {
        at: now,
        actor: actor.to_string(),
        action: "erase-customer".into(),
        detail: format!("customer {hash}: personal data of {changed} conversations erased"),
    })
    .await?;
    tx.bump_data_version().await?;
    tx.commit().await?;
    Ok(changed)
}

/// Removes message texts and survey comments from before `cutoff` from every conversation of
/// the workspace (retention), records it in the audit log when anything was removed, and
/// commits. The facts do not change. Returns the conversations changed.
pub async fn apply_retention<T: WriteTx>(
    mut tx: T,
    cutoff: i64,
    months: u32,
    actor: &str,
    now: i64,
) -> Result<u64, StoreError> {
    let changed = rewrite_all(&mut tx, now, move |conversation| {
        conversation.remove_texts_before(cutoff)
    })
    .await?;
    if changed > 0 {
        let before = jiff::Timestamp::from_millisecond(cutoff)
            .map(|t| t.to_string())
            .unwrap_or_default();
        tx.audit(&crate::AuditEntry {
            at: now,
            actor: actor.to_string(),
            action: "retention".into(),
            detail: format!(
                "message texts and survey comments before {before} ({months} months) removed from {changed} conversations"
            ),
        })
        .await?;
        tx.bump_data_version().await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Whether some segment was computed under other fact rules than this build's.
async fn has_outdated_segments<T: WriteTx>(tx: &mut T) -> Result<bool, StoreError> {
    Ok(tx
        .segments()
        .await?
        .iter()
        .any(|s| s.version != FACTS_VERSION))
}

/// Writes the import's pending fact rows as a segment and starts a new one.
async fn write_pending<T: WriteTx>(tx: &mut T, state: &mut ImportState) -> Result<(), StoreError> {
    write_segment(tx, &std::mem::take(&mut state.pending)).await?;
    state.pending_ordinals.clear();
    Ok(())
}

/// Writes one segment (nothing when empty) under a new id.
async fn write_segment<T: WriteTx>(tx: &mut T, segment: &Segment) -> Result<(), StoreError> {
    if segment.ordinals.is_empty() {
        return Ok(());
    }
    let id = tx.allocate(Counter::Segment, 1).await?;
    tx.insert_segment(
        id,
        segment.ordinals.len() as i64,
        FACTS_VERSION,
        &segment.encode(),
    )
    .await
}

/// Recomputes every conversation's facts with `calendars` (the stored configuration's),
/// counting into `progress`, and commits.
pub async fn recompute<T: WriteTx>(
    mut tx: T,
    calendars: &Arc<Calendars>,
    threads: Threads,
    progress: &JobProgress,
) -> Result<u64, StoreError> {
    let written = rebuild_segments(&mut tx, calendars, threads, Some(progress)).await?;
    tx.bump_data_version().await?;
    tx.commit().await?;
    Ok(written)
}

/// Replaces every segment of the workspace with facts computed from the stored bodies, one page
/// of bodies and one segment in memory at a time, and fills missing customer keys. Returns the
/// conversations with facts.
pub async fn rebuild_segments<T: WriteTx>(
    tx: &mut T,
    calendars: &Arc<Calendars>,
    threads: Threads,
    progress: Option<&JobProgress>,
) -> Result<u64, StoreError> {
    if let Some(progress) = progress {
        let total = tx.live_conversations().await?;
        progress.total.store(total as u64, Ordering::Relaxed);
        progress.done.store(0, Ordering::Relaxed);
    }
    tx.delete_segments(i64::MIN, i64::MAX).await?;
    let mut pending = Segment::default();
    let mut written = 0u64;
    let mut after = -1i64;
    loop {
        let bodies = tx.bodies_after(after, RECOMPUTE_PAGE).await?;
        let Some(last) = bodies.last() else { break };
        after = i64::from(last.ordinal);
        let ordinals: Vec<u32> = bodies.iter().map(|b| b.ordinal).collect();
        let facts = facts_of_bodies(bodies, calendars.clone(), threads).await?;
        if let Some(progress) = progress {
            progress
                .done
                .fetch_add(facts.len() as u64, Ordering::Relaxed);
        }
        for (ordinal, f) in ordinals.into_iter().zip(facts) {
            if let Some(f) = f {
                pending.ordinals.push(ordinal);
                pending.table.push(&f);
            }
        }
        if pending.ordinals.len() >= SEGMENT_ROWS {
            written += pending.ordinals.len() as u64;
            write_segment(tx, &std::mem::take(&mut pending)).await?;
        }
    }
    written += pending.ordinals.len() as u64;
    write_segment(tx, &pending).await?;
    // Every conversation with a record was counted: the counter is exact again.
    tx.count_live(written as i64, true).await?;
    // A store from before customer keys gets them with its first recompute.
    fill_customer_keys(tx).await?;
    Ok(written)
}

/// What a commit does to the segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compaction {
    Nothing,
    /// Rewrite all: one row per conversation, deleted ones left out.
    Full,
    /// Merge the newest `n` segments (all smaller than [`SEGMENT_ROWS`]) into one.
    Newest(usize),
}

/// Small segments (each import or intake batch adds one) allowed before they are merged.
const SMALL_SEGMENTS: usize = 32;

/// Decides on a compaction: a full rewrite when the segments hold more than a quarter more rows
/// than conversations with facts (outdated rows piled up); else, when more than
/// [`SMALL_SEGMENTS`] small segments follow the large ones, a merge of just those, so that
/// frequent small writes into a large workspace never rewrite all of its facts.
async fn compaction<T: WriteTx>(tx: &mut T) -> Result<Compaction, StoreError> {
    let segments = tx.segments().await?;
    let rows: i64 = segments.iter().map(|s| s.rows).sum();
    let live = tx.live_conversations().await?;
    if segments.len() > 1 && rows > live + live / 4 {
        return Ok(Compaction::Full);
    }
    let small = segments
        .iter()
        .take_while(|s| s.rows < SEGMENT_ROWS as i64)
        .count();
    Ok(if small > SMALL_SEGMENTS {
        Compaction::Newest(small)
    } else {
        Compaction::Nothing
    })
}

/// Merges the newest `n` segments into new ones (newer than every other), then deletes them.
async fn compact_newest<T: WriteTx>(tx: &mut T, n: usize) -> Result<(), StoreError> {
    let segments = tx.segments().await?;
    let run = &segments[..n.min(segments.len())];
    let (Some(newest), Some(oldest)) = (run.first(), run.last()) else {
        return Ok(());
    };
    let mut merge = NewestMerge::new(None);
    for info in run {
        let data = tx.segment_data(info.id).await?;
        merge.add(Segment::decode(&data)?);
        // The rows merged are unique across the run: their order among new segments does
        // not matter, and every new segment is newer than the segments before the run.
        if merge.len() >= SEGMENT_ROWS {
            write_segment(tx, &merge.take()).await?;
        }
    }
    write_segment(tx, &merge.take()).await?;
    tx.delete_segments(oldest.id, newest.id).await
}

/// Rewrites a workspace's segments so that each conversation has one row (its newest) and
/// deleted conversations none, one segment in memory at a time.
async fn compact_segments<T: WriteTx>(tx: &mut T, deleted: &[u32]) -> Result<(), StoreError> {
    let segments = tx.segments().await?;
    let Some(newest) = segments.first().map(|s| s.id) else {
        return Ok(());
    };
    if segments.len() == 1 && deleted.is_empty() {
        return Ok(());
    }
    let mut merge = NewestMerge::new(None);
    for &ordinal in deleted {
        merge.skip(ordinal);
    }
    for info in &segments {
        let data = tx.segment_data(info.id).await?;
        merge.add(Segment::decode(&data)?);
        if merge.len() >= SEGMENT_ROWS {
            write_segment(tx, &merge.take()).await?;
        }
    }
    write_segment(tx, &merge.take()).await?;
    tx.delete_segments(i64::MIN, newest).await
}

/// Reads a workspace's facts from its segments, newest first: [`FactsRead::add`] each segment
/// as it arrives; an outdated one stops the read (the caller then computes from the bodies).
#[derive(Debug)]
pub struct FactsRead {
    merge: NewestMerge,
    outdated: bool,
}

impl FactsRead {
    pub fn new(start_between: Option<(i64, i64)>) -> FactsRead {
        FactsRead {
            merge: NewestMerge::new(start_between),
            outdated: false,
        }
    }

    /// Adds the next (older) segment; false once a segment of other fact rules was met.
    pub fn add(&mut self, version: i64, data: &[u8]) -> Result<bool, StoreError> {
        if version != FACTS_VERSION {
            self.outdated = true;
            return Ok(false);
        }
        self.merge.add(Segment::decode(data)?);
        Ok(true)
    }

    /// The facts, or `None` when the segments were outdated.
    pub fn finish(self) -> Option<servicemeter_core::FactTable> {
        (!self.outdated).then(|| self.merge.finish().table)
    }
}

/// Facts computed from bodies (when the stored segments are outdated and the reader may not
/// write): feed pages of bodies to [`BodyFacts::add`].
pub struct BodyFacts {
    calendars: Arc<Calendars>,
    threads: Threads,
    start_between: Option<(i64, i64)>,
    table: servicemeter_core::FactTable,
}

impl BodyFacts {
    pub fn new(
        calendars: Arc<Calendars>,
        threads: Threads,
        start_between: Option<(i64, i64)>,
    ) -> BodyFacts {
        BodyFacts {
            calendars,
            threads,
            start_between,
            table: servicemeter_core::FactTable::new(),
        }
    }

    pub async fn add(&mut self, bodies: Vec<StoredBody>) -> Result<(), StoreError> {
        let facts = facts_of_bodies(bodies, self.calendars.clone(), self.threads).await?;
        for f in facts.into_iter().flatten() {
            let inside = match self.start_between {
                Some((from, to)) => f.start >= from && f.start < to,
                None => true,
            };
            if inside {
                self.table.push(&f);
            }
        }
        Ok(())
    }

    pub fn finish(self) -> servicemeter_core::FactTable {
        self.table
    }
}
