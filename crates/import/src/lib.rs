//! Reading canonical JSON Lines input: files, `.gz` files or stdin, one record per line,
//! streamed with constant memory; errors carry the file, line, field and reason.

pub mod fast;
pub mod file_facts;
pub mod parallel;
pub mod record;
pub mod sniff;
pub mod sources;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use servicemeter_core::Conversation;

pub use file_facts::{FileStats, facts_from_files, facts_from_files_in};
pub use parallel::{FileAccess, LineInput, parse_parallel, parse_parallel_in};
pub use record::{FieldError, parse_record};

/// A bad record (or unreadable input): where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    /// The file name as given (`-` for stdin).
    pub file: String,
    /// 1-based line number; 0 when the file could not be opened.
    pub line: u64,
    /// The field (`messages[2].at`), `(json)` for syntax, `(input)` for I/O.
    pub field: String,
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.reason)
        } else if self.field.starts_with('(') {
            write!(f, "{}:{}: {}", self.file, self.line, self.reason)
        } else {
            write!(
                f,
                "{}:{}: field `{}`: {}",
                self.file, self.line, self.field, self.reason
            )
        }
    }
}

struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One line's outcome.
#[derive(Debug)]
pub struct LineRecord {
    pub line: u64,
    pub result: Result<Conversation, FieldError>,
}

/// An open input: yields one [`LineRecord`] per non-blank line.
pub struct Input {
    name: String,
    reader: Box<dyn BufRead + Send>,
    line: u64,
    buffer: Vec<u8>,
    bytes_read: Arc<AtomicU64>,
    size: Option<u64>,
    /// The text of the last line read (kept for reject files).
    last_line: String,
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Input").field("name", &self.name).finish()
    }
}

impl Input {
    /// Opens a file (`-` = stdin; a name ending in `.gz` is decompressed).
    pub fn open(path: &str) -> Result<Input, InputError> {
        let count = Arc::new(AtomicU64::new(0));
        let open_error = |e: io::Error| InputError {
            file: path.to_string(),
            line: 0,
            field: "(input)".into(),
            reason: format!("cannot open: {e}"),
        };
        let (raw, size): (Box<dyn Read + Send>, Option<u64>) = if path == "-" {
            (Box::new(io::stdin()), None)
        } else {
            let file = File::open(Path::new(path)).map_err(open_error)?;
            let size = file.metadata().ok().map(|m| m.len());
            (Box::new(file), size)
        };
        let counted = CountingReader {
            inner: raw,
            count: count.clone(),
        };
        let reader: Box<dyn BufRead + Send> = if path.ends_with(".gz") {
            Box::new(BufReader::with_capacity(
                1 << 16,
                flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, counted)),
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, counted))
        };
        Ok(Input {
            name: path.to_string(),
            reader,
            line: 0,
            buffer: Vec::with_capacity(4096),
            bytes_read: count,
            size,
            last_line: String::new(),
        })
    }

    /// The name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Size on disk (compressed size for `.gz`), when known.
    pub fn size(&self) -> Option<u64> {
        self.size
    }

    /// A counter of bytes read from disk so far (for progress bars).
    pub fn progress_counter(&self) -> Arc<AtomicU64> {
        self.bytes_read.clone()
    }

    /// The text of the line last returned by [`Input::next_record`].
    pub fn last_line(&self) -> &str {
        &self.last_line
    }

    /// The next record, `Ok(None)` at the end; `Err` when the input cannot be read (an I/O
    /// error or a line that is not UTF-8) — that ends the input.
    pub fn next_record(&mut self) -> Result<Option<LineRecord>, InputError> {
        loop {
            self.buffer.clear();
            let n = (&mut self.reader)
                .take(servicemeter_core::limits::MAX_LINE_BYTES as u64 + 1)
                .read_until(b'\n', &mut self.buffer)
                .map_err(|e| InputError {
                    file: self.name.clone(),
                    line: self.line + 1,
                    field: "(input)".into(),
                    reason: format!("cannot read: {e}"),
                })?;
            if n == 0 {
                return Ok(None);
            }
            self.line += 1;
            if self.buffer.len() > servicemeter_core::limits::MAX_LINE_BYTES
                && self.buffer.last() != Some(&b'\n')
            {
                return Err(InputError {
                    file: self.name.clone(),
                    line: self.line,
                    field: "(input)".into(),
                    reason: format!(
                        "line longer than {} MiB (the limit of one record); split it into records",
                        servicemeter_core::limits::MAX_LINE_BYTES >> 20
                    ),
                });
            }
            let bytes = if self.line == 1 {
                self.buffer
                    .strip_prefix(parallel::UTF8_BOM)
                    .unwrap_or(&self.buffer)
            } else {
                &self.buffer[..]
            };
            let text = match std::str::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    self.last_line = String::from_utf8_lossy(&self.buffer).trim_end().to_string();
                    return Ok(Some(LineRecord {
                        line: self.line,
                        result: Err(FieldError {
                            field: "(input)".into(),
                            reason: format!("line is not UTF-8 text: {e}"),
                        }),
                    }));
                }
            };
            let text = text.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            self.last_line.clear();
            self.last_line.push_str(text);
            return Ok(Some(LineRecord {
                line: self.line,
                result: parse_record(text),
            }));
        }
    }
}

impl InputError {
    /// The error of a record at a line of an input.
    pub fn at(input: &Input, line: u64, error: FieldError) -> InputError {
        InputError {
            file: input.name.clone(),
            line,
            field: error.field,
            reason: error.reason,
        }
    }
}

/// Counts of what was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    pub records: u64,
    pub messages: u64,
    pub events: u64,
    pub surveys: u64,
}

impl ReadCounts {
    /// Adds one record's contents.
    pub fn add(&mut self, c: &Conversation) {
        self.records += 1;
        self.messages += c.messages.len() as u64;
        self.events += c.events.len() as u64;
        self.surveys += c.surveys.len() as u64;
    }
}

/// Reads whole files into memory, grouped and normalized per conversation, for reports
/// straight from files. The first bad record stops it with that record's error.
pub fn read_conversations(
    paths: &[String],
    mut on_input: impl FnMut(&Input),
) -> Result<(Vec<Conversation>, ReadCounts), InputError> {
    let mut by_id: HashMap<String, Conversation> = HashMap::new();
    let mut counts = ReadCounts::default();
    for path in paths {
        let mut input = Input::open(path)?;
        on_input(&input);
        while let Some(record) = input.next_record()? {
            let conversation = record
                .result
                .map_err(|e| InputError::at(&input, record.line, e))?;
            counts.add(&conversation);
            match by_id.get_mut(&conversation.id) {
                Some(existing) => existing.absorb(conversation),
                None => {
                    by_id.insert(conversation.id.clone(), conversation);
                }
            }
        }
    }
    let mut conversations: Vec<Conversation> = by_id.into_values().collect();
    for c in &mut conversations {
        c.normalize();
    }
    conversations.sort_by(|a, b| a.id.cmp(&b.id));
    Ok((conversations, counts))
}
