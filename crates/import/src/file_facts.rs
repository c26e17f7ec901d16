//! Facts straight from files (`report --input`), in bounded memory: a conversation whose records
//! sit on one line gets its facts as soon as that line is parsed; only conversations spread over
//! several lines are put together again afterwards, re-reading their lines from disk (or, for
//! stdin and `.gz` inputs that cannot be re-read, from the records kept in memory).

use std::collections::HashMap;
use std::fs::File;
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
        id: String,
        part: Part,
        row: u32,
    },
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
                );
                let row = result.table.len() as u32;
                result.table.push_parts(
                    view.id,
                    view.channel,
                    parts.agent,
                    view.tags.iter().copied(),
                    view.created_at,
                    parts.start,
                    &parts.numbers,
                );
                result.lines.push(Parsed::Record {
                    id: view.id.to_string(),
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
                result.lines.push(Parsed::Record {
                    id: std::mem::take(&mut conversation.id),
                    part: Part::Kept(Box::new(conversation)),
                    row: NO_ROW,
                });
                continue;
            }
            let mut row = NO_ROW;
            if conversation.header.is_some() {
                conversation.normalize();
                let channel = conversation.header.as_ref().map(|h| h.channel.clone());
                let calendar = calendars.for_channel(channel.as_ref().expect("header").as_str());
                if let Some(f) = compute_facts(&conversation, calendar) {
                    row = result.table.len() as u32;
                    result.table.push(&f);
                }
            }
            result.lines.push(Parsed::Record {
                id: conversation.id,
                part: location,
                row,
            });
        }
        result
    };

    // Most files hold about one conversation per line: size the map from the first chunk's
    // density to spare it rehashing a million entries several times.
    let total_bytes: u64 = paths
        .iter()
        .zip(&rereadable)
        .filter(|(_, plain)| **plain)
        .filter_map(|(p, _)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let mut slots: HashMap<String, Slot> = HashMap::new();
    // Facts computed per line, chunk by chunk; `alive` marks rows still valid (one per table
    // row, in the order of the tables).
    let mut eager: Vec<FactTable> = Vec::new();
    let mut eager_rows = 0u32;
    let mut alive: Vec<bool> = Vec::new();
    let mut stats = FileStats::default();
    parse_parallel_in(
        paths,
        FileAccess::Ranges,
        threads,
        chunk_bytes,
        per_chunk,
        |_| {},
        |chunk: ChunkResult, lines_before: u64| -> Result<(), InputError> {
            if slots.capacity() == 0 && total_bytes > 0 && chunk.bytes > 0 {
                let estimate = total_bytes as f64 * chunk.lines.len() as f64 / chunk.bytes as f64;
                slots.reserve((estimate * 1.1) as usize);
            }
            let base = eager_rows;
            eager_rows += chunk.table.len() as u32;
            alive.resize(eager_rows as usize, true);
            eager.push(chunk.table);
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
                    Parsed::Record { id, part, row } => {
                        stats.records += 1;
                        let row = if row == NO_ROW { NO_ROW } else { base + row };
                        match slots.get_mut(&id) {
                            None => {
                                slots.insert(
                                    id,
                                    Slot {
                                        row,
                                        first: part,
                                        more: Vec::new(),
                                    },
                                );
                            }
                            Some(slot) => {
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

    // Conversations that need their parts put together again.
    let mut files: Vec<Option<File>> = paths.iter().map(|_| None).collect();
    let mut rebuilt: Vec<servicemeter_core::ConversationFacts> = Vec::new();
    let mut buffer = Vec::new();
    for (id, slot) in slots {
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
            Some(header) => {
                let calendar = calendars.for_channel(header.channel.as_str());
                rebuilt.extend(compute_facts(&conversation, calendar));
            }
            None => stats.pending += 1,
        }
    }
    let mut table = FactTable::new();
    if let Some(first) = eager.first() {
        let alive_rows = alive.iter().filter(|&&a| a).count();
        table.reserve(alive_rows + rebuilt.len(), first);
    }
    let mut base = 0;
    for part in &eager {
        table.extend_from(part, (0..part.len()).filter(|&i| alive[base + i]));
        base += part.len();
    }
    for f in &rebuilt {
        table.push(f);
    }
    Ok((table, stats))
}
