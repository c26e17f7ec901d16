//! Facts straight from files (`report --input`), in bounded memory: a conversation whose records
//! sit on one line gets its facts as soon as that line is parsed; only conversations spread over
//! several lines are put together again afterwards, re-reading their lines from disk (or, for
//! stdin and `.gz` inputs that cannot be re-read, from the records kept in memory).

use std::collections::HashMap;
use std::fs::File;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::io::{Read, Seek, SeekFrom};

use servicemeter_core::facts::compute_parts;
use servicemeter_core::model::{normalize_events, normalize_messages, normalize_surveys};
use servicemeter_core::{Calendars, Conversation, FactTable, compute_facts};

use crate::fast::{Scratch, read_conversation_line_in};
use crate::parallel::{CHUNK_BYTES, FileAccess, LineInput, parse_parallel_in};
use crate::{InputError, parse_record};

/// Where a line is, to read it again.
#[derive(Debug, Clone, Copy)]
struct Location {
    file: u32,
    len: u32,
    offset: u64,
}

#[derive(Debug)]
enum Part {
    /// A line of a plain file.
    Line(Location),
    /// A record from an input that cannot be re-read.
    Kept(Box<Conversation>),
}

#[derive(Debug)]
struct Slot {
    id: String,
    /// Row of the facts computed from the first part alone (`NO_ROW` when none, or no longer
    /// valid because more parts came).
    row: u32,
    first: Part,
    more: Vec<Part>,
}

const NO_ROW: u32 = u32::MAX;

/// A parsed line as the workers hand it over.
enum Parsed {
    Bad {
        line: u64,
        field: String,
        reason: String,
    },
    Record {
        /// Hash of the conversation id (see [`id_hash`]).
        hash: u64,
        /// The id, unless the line has a table row, which holds it.
        id: Option<String>,
        part: Part,
        row: u32,
    },
}

/// The hash the workers compute of a conversation id, so that the single-threaded merge
/// neither hashes nor copies ids.
fn id_hash(id: &str) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    id.hash(&mut hasher);
    hasher.finish()
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

/// What the merge knows of a conversation id.
#[derive(Debug, Clone, Copy)]
enum Entry {
    /// Seen on one line so far, whose facts are this row of the table.
    Row(u32),
    /// Index in the slots: seen more than once, or without facts of its own.
    Slot(u32),
}

struct ChunkResult {
    file: usize,
    /// Bytes of the lines in this chunk.
    bytes: u64,
    table: FactTable,
    lines: Vec<Parsed>,
}

/// What was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileStats {
    pub records: u64,
    /// Conversations with records but no conversation record (left out of the facts).
    pub pending: u64,
}

fn rereadable(path: &str) -> bool {
    path != "-" && !path.ends_with(".gz")
}

/// Reads the files and computes every conversation's facts with the same results as merging
/// all records per conversation first. The first bad record stops it with its error.
pub fn facts_from_files(
    paths: &[String],
    calendars: &Calendars,
    threads: usize,
) -> Result<(FactTable, FileStats), InputError> {
    facts_from_files_in(paths, calendars, threads, CHUNK_BYTES)
}

/// [`facts_from_files`] with the chunk size given (small sizes for tests).
pub fn facts_from_files_in(
    paths: &[String],
    calendars: &Calendars,
    threads: usize,
    chunk_bytes: usize,
) -> Result<(FactTable, FileStats), InputError> {
    facts_with_hash(paths, calendars, threads, chunk_bytes, id_hash)
}

/// [`facts_from_files_in`] with the id hash given (tests make every id collide).
fn facts_with_hash(
    paths: &[String],
    calendars: &Calendars,
    threads: usize,
    chunk_bytes: usize,
    id_hash: fn(&str) -> u64,
) -> Result<(FactTable, FileStats), InputError> {
    let rereadable: Vec<bool> = paths.iter().map(|p| rereadable(p)).collect();
    let per_chunk = |lines: &mut dyn Iterator<Item = LineInput>| {
        let mut scratch = Scratch::default();
        // Reserve once: vectors grown by doubling here are freed by another thread, and the
        // allocator then takes fresh (zeroed) pages for the next chunk.
        let rows = lines.size_hint().1.unwrap_or(0);
        let mut table = FactTable::new();
        table.reserve_rows(rows, rows * 16, rows * 2);
        let mut result = ChunkResult {
            file: 0,
            bytes: 0,
            table,
            lines: Vec::with_capacity(rows),
        };
        for input in lines {
            result.file = input.file;
            result.bytes += input.text_or_empty().len() as u64 + 1;
            let location = Part::Line(Location {
                file: input.file as u32,
                len: input.text_or_empty().len() as u32,
                offset: input.offset,
            });
            // The common case: a whole conversation on one line, read without copying.
            if rereadable[input.file]
                && let Ok(text) = input.text
                && let Some(mut view) = read_conversation_line_in(text, &mut scratch)
            {
                normalize_messages(&mut view.messages);
                normalize_events(&mut view.events);
                normalize_surveys(&mut view.surveys);
                let parts = compute_parts(
                    view.created_at,
                    view.agent,
                    &view.messages,
                    &view.events,
                    &view.surveys,
                    calendars.for_channel(view.channel),
                    &calendars.config().agents,
                );
                let row = result.table.len() as u32;
                result.table.push_parts(
                    view.id,
                    view.channel,
                    parts.agent,
                    view.team,
                    view.tags.iter().copied(),
                    view.created_at,
                    parts.start,
                    &parts.numbers,
                );
                result.lines.push(Parsed::Record {
                    hash: id_hash(view.id),
                    id: None,
                    part: location,
                    row,
                });
                scratch.recycle(view);
                continue;
            }
            let mut conversation = match input.parse() {
                Ok(c) => c,
                Err(e) => {
                    result.lines.push(Parsed::Bad {
                        line: input.line,
                        field: e.field,
                        reason: e.reason,
                    });
                    continue;
                }
            };
            if !rereadable[input.file] {
                let id = std::mem::take(&mut conversation.id);
                result.lines.push(Parsed::Record {
                    hash: id_hash(&id),
                    id: Some(id),
                    part: Part::Kept(Box::new(conversation)),
                    row: NO_ROW,
                });
                continue;
            }
            let mut row = NO_ROW;
            if conversation.header.is_some() {
                conversation.normalize();
                if let Some(f) = compute_facts(&conversation, calendars) {
                    row = result.table.len() as u32;
                    result.table.push(&f);
                }
            }
            result.lines.push(Parsed::Record {
                hash: id_hash(&conversation.id),
                id: (row == NO_ROW).then_some(conversation.id),
                part: location,
                row,
            });
        }
        result
    };

    // Most files hold about one conversation per line: size the table and the index from the
    // first chunk's density, so that neither is copied while it grows.
    let total_bytes: u64 = paths
        .iter()
        .zip(&rereadable)
        .filter(|(_, plain)| **plain)
        .filter_map(|(p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    // Facts computed per line go straight into the one table; rows of conversations that turn
    // out to have more parts are marked dead in `alive` and left out at the end.
    let mut table = FactTable::new();
    let mut alive: Vec<bool> = Vec::new();
    let mut row_locations: Vec<Location> = Vec::new();
    let mut index: HashMap<u64, Entry, BuildHasherDefault<PassThrough>> = HashMap::default();
    // Ids whose hash equals that of another id in `index` (practically never).
    let mut overflow: HashMap<String, u32> = HashMap::new();
    let mut slots: Vec<Slot> = Vec::new();
    let mut stats = FileStats::default();
    parse_parallel_in(
        paths,
        FileAccess::Ranges,
        threads,
        chunk_bytes,
        per_chunk,
        |_| {},
        |chunk: ChunkResult, lines_before: u64| -> Result<(), InputError> {
            if index.capacity() == 0 && total_bytes > 0 && chunk.bytes > 0 {
                let scale = total_bytes as f64 * 1.05 / chunk.bytes as f64;
                index.reserve((chunk.lines.len() as f64 * scale) as usize);
                let rows = (chunk.table.len() as f64 * scale) as usize;
                table.reserve(rows, &chunk.table);
                alive.reserve(rows);
                row_locations.reserve(rows);
            }
            let base = table.len() as u32;
            table.extend_from(&chunk.table, 0..chunk.table.len());
            alive.resize(table.len(), true);
            drop(chunk.table);
            for parsed in chunk.lines {
                match parsed {
                    Parsed::Bad {
                        line,
                        field,
                        reason,
                    } => {
                        return Err(InputError {
                            file: paths[chunk.file].clone(),
                            line: lines_before + line,
                            field,
                            reason,
                        });
                    }
                    Parsed::Record {
                        hash,
                        id,
                        part,
                        row,
                    } => {
                        stats.records += 1;
                        let row = if row == NO_ROW { NO_ROW } else { base + row };
                        if row != NO_ROW {
                            let Part::Line(location) = part else {
                                unreachable!("only re-readable lines have rows")
                            };
                            debug_assert_eq!(row_locations.len(), row as usize);
                            row_locations.push(location);
                        }
                        let id_text = |id: &Option<String>| -> String {
                            match id {
                                Some(id) => id.clone(),
                                None => table.conversation(row as usize).to_string(),
                            }
                        };
                        let same_id = |entry: Entry, slots: &[Slot]| {
                            let known = match entry {
                                Entry::Row(r) => table.conversation(r as usize),
                                Entry::Slot(k) => slots[k as usize].id.as_str(),
                            };
                            match &id {
                                Some(id) => known == id,
                                None => known == table.conversation(row as usize),
                            }
                        };
                        let found = match index.get(&hash) {
                            None => None,
                            Some(&entry) if same_id(entry, &slots) => Some(entry),
                            Some(_) => {
                                let text = id_text(&id);
                                match overflow.get(&text) {
                                    Some(&k) => Some(Entry::Slot(k)),
                                    None => {
                                        overflow.insert(text.clone(), slots.len() as u32);
                                        slots.push(Slot {
                                            id: text,
                                            row,
                                            first: part,
                                            more: Vec::new(),
                                        });
                                        continue;
                                    }
                                }
                            }
                        };
                        match found {
                            None if row != NO_ROW => {
                                index.insert(hash, Entry::Row(row));
                            }
                            None => {
                                index.insert(hash, Entry::Slot(slots.len() as u32));
                                slots.push(Slot {
                                    id: id_text(&id),
                                    row,
                                    first: part,
                                    more: Vec::new(),
                                });
                            }
                            Some(Entry::Row(first_row)) => {
                                // A second part: both rows are no longer the facts.
                                alive[first_row as usize] = false;
                                if row != NO_ROW {
                                    alive[row as usize] = false;
                                }
                                index.insert(hash, Entry::Slot(slots.len() as u32));
                                slots.push(Slot {
                                    id: table.conversation(first_row as usize).to_string(),
                                    row: NO_ROW,
                                    first: Part::Line(row_locations[first_row as usize]),
                                    more: vec![part],
                                });
                            }
                            Some(Entry::Slot(k)) => {
                                let slot = &mut slots[k as usize];
                                for r in [slot.row, row] {
                                    if r != NO_ROW {
                                        alive[r as usize] = false;
                                    }
                                }
                                slot.row = NO_ROW;
                                slot.more.push(part);
                            }
                        }
                    }
                }
            }
            Ok(())
        },
    )?;
    drop(index);
    drop(overflow);

    // Conversations that need their parts put together again.
    let mut files: Vec<Option<File>> = paths.iter().map(|_| None).collect();
    let mut rebuilt: Vec<servicemeter_core::ConversationFacts> = Vec::new();
    let mut buffer = Vec::new();
    for slot in slots {
        let id = slot.id;
        if slot.row != NO_ROW {
            continue;
        }
        let single_line = slot.more.is_empty() && matches!(slot.first, Part::Line(_));
        if single_line {
            // One line without a conversation record: nothing to compute.
            stats.pending += 1;
            continue;
        }
        let mut conversation = Conversation::new(id);
        for part in std::iter::once(slot.first).chain(slot.more) {
            match part {
                Part::Kept(c) => conversation.absorb(*c),
                Part::Line(loc) => {
                    let path = &paths[loc.file as usize];
                    let read_error = |e: std::io::Error| InputError {
                        file: path.clone(),
                        line: 0,
                        field: "(input)".into(),
                        reason: format!("cannot read again: {e}"),
                    };
                    let file = match &mut files[loc.file as usize] {
                        Some(f) => f,
                        slot @ None => slot.insert(File::open(path).map_err(read_error)?),
                    };
                    file.seek(SeekFrom::Start(loc.offset)).map_err(read_error)?;
                    buffer.resize(loc.len as usize, 0);
                    file.read_exact(&mut buffer).map_err(read_error)?;
                    let text = std::str::from_utf8(&buffer).map_err(|_| InputError {
                        file: path.clone(),
                        line: 0,
                        field: "(input)".into(),
                        reason: "the file changed while it was read".into(),
                    })?;
                    let record = parse_record(text).map_err(|e| InputError {
                        file: path.clone(),
                        line: 0,
                        field: e.field,
                        reason: format!("{} (the file changed while it was read)", e.reason),
                    })?;
                    conversation.absorb(record);
                }
            }
        }
        conversation.normalize();
        match &conversation.header {
            Some(_) => rebuilt.extend(compute_facts(&conversation, calendars)),
            None => stats.pending += 1,
        }
    }
    if alive.iter().any(|a| !a) {
        let all = table;
        table = FactTable::new();
        table.reserve(all.len(), &all);
        table.extend_from(&all, (0..all.len()).filter(|&i| alive[i]));
    }
    for f in &rebuilt {
        table.push(f);
    }
    Ok((table, stats))
}

#[cfg(test)]
mod tests {
    use super::*;
    use servicemeter_core::WorkspaceConfig;
    use servicemeter_demo::{DEMO_CONFIG, GeneratorOptions, generate_lines};

    /// Ids whose hashes are equal are still told apart: with every hash the same, the facts
    /// equal those of the real hash, also for conversations spread over several lines.
    #[test]
    fn colliding_id_hashes_change_nothing() {
        let mut lines = generate_lines(&GeneratorOptions {
            conversations: 30,
            seed: 5,
            ..GeneratorOptions::default()
        });
        // A conversation sent twice, surveys for others on lines of their own, and a record
        // of a conversation that never gets its conversation record.
        lines.push(lines[3].clone());
        for i in [1, 7, 7] {
            let id: serde_json::Value = serde_json::from_str(&lines[i]).unwrap();
            lines.push(format!(
                r#"{{"type":"survey","conversation":{},"at":"2024-12-01T10:00:00Z","kind":"nps","score":{i}}}"#,
                id["id"]
            ));
        }
        lines.push(r#"{"type":"message","conversation":"nobody","at":"2024-12-01T10:00:00Z","author":"customer"}"#.into());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mixed.jsonl");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let paths = vec![path.display().to_string()];
        let calendars = Calendars::new(WorkspaceConfig::from_toml(DEMO_CONFIG).unwrap());
        let facts = |hash: fn(&str) -> u64, chunk_bytes: usize| {
            let (table, stats) = facts_with_hash(&paths, &calendars, 2, chunk_bytes, hash).unwrap();
            let mut facts = table.to_facts();
            facts.sort_by(|a, b| a.conversation.cmp(&b.conversation));
            (facts, stats)
        };
        let (expected, stats) = facts(id_hash, CHUNK_BYTES);
        assert_eq!(expected.len(), 30);
        assert_eq!(stats.pending, 1);
        assert_eq!(stats.records, lines.len() as u64);
        let nps: Vec<_> = expected
            .iter()
            .filter_map(|f| f.nps.map(|a| a.score))
            .collect();
        assert!(nps.contains(&1.0) && nps.contains(&7.0), "{nps:?}");
        for chunk_bytes in [CHUNK_BYTES, 300] {
            assert_eq!(facts(|_| 42, chunk_bytes), (expected.clone(), stats));
        }
    }
}
