//! Parsing on all cores with results in input order: the input is cut into chunks of lines,
//! worker threads parse them, and the caller sees the chunks in order. Plain files can be read
//! by the workers themselves, each its own byte range; stdin and `.gz` are read by one thread.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, Read};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, mpsc};

use servicemeter_core::Conversation;
use servicemeter_core::limits::MAX_LINE_BYTES;

use crate::{FieldError, Input, InputError, parse_record};

/// Bytes per chunk handed to a worker (whole lines; a longer line makes a longer chunk).
pub const CHUNK_BYTES: usize = 2 << 20;

/// One non-blank line as a worker sees it.
#[derive(Debug)]
pub struct LineInput<'a> {
    /// Index of the file in the list given.
    pub file: usize,
    /// 1-based line number within its chunk: add the count the sink receives with the chunk
    /// to get the line number in the file.
    pub line: u64,
    /// Byte offset of the line in the (decompressed) input.
    pub offset: u64,
    /// The line without its line ending; an error when it is not UTF-8.
    pub text: Result<&'a str, FieldError>,
}

impl LineInput<'_> {
    /// The record on this line (see [`parse_record`]).
    pub fn parse(&self) -> Result<Conversation, FieldError> {
        match &self.text {
            Ok(text) => parse_record(text),
            Err(e) => Err(e.clone()),
        }
    }

    /// The line's text for a rejects file (empty when it is not UTF-8).
    pub fn text_or_empty(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }
}

/// The UTF-8 byte-order mark.
pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Where a chunk's bytes come from.
enum Source {
    /// Whole lines already read, starting at `offset` of the input.
    Bytes { bytes: Vec<u8>, offset: u64 },
    /// Lines starting in `start..end` of a plain file, read by the worker.
    Range {
        file: Arc<File>,
        start: u64,
        end: u64,
        len: u64,
    },
}

struct Work {
    seq: u64,
    file: usize,
    source: Source,
}

/// The non-blank lines of a chunk, parsed one by one.
struct Lines<'a> {
    file: usize,
    rest: &'a [u8],
    line: u64,
    offset: u64,
    /// Line endings left in `rest` (for `size_hint`, so callers can reserve once).
    endings: usize,
}

impl<'a> Lines<'a> {
    fn new(file: usize, rest: &'a [u8], line: u64, offset: u64) -> Lines<'a> {
        Lines {
            file,
            rest,
            line,
            offset,
            endings: memchr::memchr_iter(b'\n', rest).count(),
        }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = LineInput<'a>;

    fn next(&mut self) -> Option<LineInput<'a>> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let end = memchr::memchr(b'\n', self.rest).map_or(self.rest.len(), |p| p + 1);
            let raw: &'a [u8] = &self.rest[..end];
            self.rest = &self.rest[end..];
            self.endings = self.endings.saturating_sub(1);
            let this_offset = self.offset;
            let this_line = self.line;
            self.offset += raw.len() as u64;
            self.line += 1;
            let mut trimmed = raw
                .strip_suffix(b"\n")
                .map(|r| r.strip_suffix(b"\r").unwrap_or(r))
                .unwrap_or(raw);
            if this_offset == 0 {
                // A byte-order mark at the start of a file (as some editors write) is no text.
                trimmed = trimmed.strip_prefix(UTF8_BOM).unwrap_or(trimmed);
            }
            if trimmed.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let text = std::str::from_utf8(trimmed).map_err(|e| FieldError {
                field: "(input)".into(),
                reason: format!("line is not UTF-8 text: {e}"),
            });
            return Some(LineInput {
                file: self.file,
                line: this_line,
                offset: this_offset,
                text,
            });
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.endings + usize::from(!self.rest.is_empty())))
    }
}

/// Reads `start - 1 .. end` of a file (the byte before tells whether `start` begins a line)
/// and on past `end` to the end of the last line that starts before `end`. Returns the slice
/// of lines that start in `start..end`, its offset and first relative line number, and the
/// number of line endings in `start..end` itself.
fn read_range<'b>(
    file: &File,
    start: u64,
    end: u64,
    len: u64,
    buffer: &'b mut Vec<u8>,
) -> std::io::Result<(&'b [u8], u64, u64, u64)> {
    let from = start.saturating_sub(1);
    buffer.clear();
    buffer.resize((end - from) as usize, 0);
    file.read_exact_at(buffer, from)?;
    let mut at = end;
    // Complete the last line (up to the line length limit).
    if end < len && buffer.last() != Some(&b'\n') {
        let mut piece = [0u8; 65_536];
        loop {
            if at - end > MAX_LINE_BYTES as u64 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the line that goes on at byte {end} is longer than {} MiB (the limit of one record)",
                        MAX_LINE_BYTES >> 20
                    ),
                ));
            }
            let n = file.read_at(&mut piece, at)?;
            if n == 0 {
                break;
            }
            match memchr::memchr(b'\n', &piece[..n]) {
                Some(p) => {
                    buffer.extend_from_slice(&piece[..=p]);
                    break;
                }
                None => {
                    buffer.extend_from_slice(&piece[..n]);
                    at += n as u64;
                }
            }
        }
    }
    let own = (start - from) as usize..(end - from) as usize;
    let newlines = memchr::memchr_iter(b'\n', &buffer[own.clone()]).count() as u64;
    // Skip the tail of a line that began in an earlier range.
    let (first, first_line) = if start == 0 || buffer[0] == b'\n' {
        (own.start, 1)
    } else {
        match memchr::memchr(b'\n', &buffer[own.clone()]) {
            Some(p) => (own.start + p + 1, 2),
            None => (own.end, 1),
        }
    };
    // Lines starting at or after `end` belong to the next range.
    let slice = if first >= own.end {
        &buffer[own.end..own.end]
    } else {
        &buffer[first..]
    };
    Ok((slice, from + first as u64, first_line, newlines))
}

/// How [`parse_parallel`] reads plain files (stdin and `.gz` are always read by one thread).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileAccess {
    /// One thread reads and hands out chunks (with a progress counter per input).
    Stream,
    /// Each worker reads its own byte range with positioned reads.
    Ranges,
}

/// Reads `paths` in order, parses their lines on `threads` workers (the lines of each chunk
/// go through `per_chunk` on the worker), and calls `sink` with every chunk's result, in input
/// order, together with the number of lines of its file before the chunk. `on_input` sees
/// each input that is streamed once it is open. Stops at the first error of `sink`.
pub fn parse_parallel<U, E>(
    paths: &[String],
    access: FileAccess,
    threads: usize,
    per_chunk: impl Fn(&mut dyn Iterator<Item = LineInput>) -> U + Sync,
    on_input: impl FnMut(&Input),
    sink: impl FnMut(U, u64) -> Result<(), E>,
) -> Result<(), E>
where
    U: Send,
    E: From<InputError>,
{
    parse_parallel_in(
        paths,
        access,
        threads,
        CHUNK_BYTES,
        per_chunk,
        on_input,
        sink,
    )
}

/// [`parse_parallel`] with the chunk size given (small sizes for tests).
#[allow(clippy::too_many_arguments)]
pub fn parse_parallel_in<U, E>(
    paths: &[String],
    access: FileAccess,
    threads: usize,
    chunk_bytes: usize,
    per_chunk: impl Fn(&mut dyn Iterator<Item = LineInput>) -> U + Sync,
    mut on_input: impl FnMut(&Input),
    mut sink: impl FnMut(U, u64) -> Result<(), E>,
) -> Result<(), E>
where
    U: Send,
    E: From<InputError>,
{
    let threads = threads.max(1);
    let chunk_bytes = chunk_bytes.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<Work>(threads * 2);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        // Each result: sequence, file, line endings in the chunk, the caller's value.
        let (done_tx, done_rx) = mpsc::channel::<(u64, Result<(usize, u64, U), InputError>)>();
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let free_tx = free_tx.clone();
            let work_rx = &work_rx;
            let per_chunk = &per_chunk;
            scope.spawn(move || {
                let mut buffer = Vec::new();
                loop {
                    let next = work_rx.lock().expect("work queue").recv();
                    let Ok(work) = next else { break };
                    let result = match work.source {
                        Source::Bytes { bytes, offset } => {
                            let newlines = memchr::memchr_iter(b'\n', &bytes).count() as u64;
                            let mut lines = Lines::new(work.file, &bytes, 1, offset);
                            let value = per_chunk(&mut lines);
                            // Hand the buffer back for reuse: fresh buffers cost page faults.
                            let _ = free_tx.send(bytes);
                            Ok((work.file, newlines, value))
                        }
                        Source::Range {
                            file,
                            start,
                            end,
                            len,
                        } => match read_range(&file, start, end, len, &mut buffer) {
                            Ok((slice, offset, line, newlines)) => {
                                let mut lines = Lines::new(work.file, slice, line, offset);
                                Ok((work.file, newlines, per_chunk(&mut lines)))
                            }
                            Err(e) => Err(InputError {
                                file: paths[work.file].clone(),
                                line: 0,
                                field: "(input)".into(),
                                reason: format!("cannot read: {e}"),
                            }),
                        },
                    };
                    if done_tx.send((work.seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        type Done<U> = Result<(usize, u64, U), InputError>;
        let mut pending: BTreeMap<u64, Done<U>> = BTreeMap::new();
        let mut next_out = 0u64;
        let mut current_file = usize::MAX;
        let mut lines_before = 0u64;
        let mut deliver = |pending: &mut BTreeMap<u64, Done<U>>,
                           next_out: &mut u64,
                           sink: &mut dyn FnMut(U, u64) -> Result<(), E>|
         -> Result<(), E> {
            while let Some(done) = pending.remove(next_out) {
                *next_out += 1;
                let (file, newlines, value) = done?;
                if file != current_file {
                    current_file = file;
                    lines_before = 0;
                }
                sink(value, lines_before)?;
                lines_before += newlines;
            }
            Ok(())
        };

        let mut seq = 0u64;
        let result = (|| -> Result<(), E> {
            for (file, path) in paths.iter().enumerate() {
                if access == FileAccess::Ranges && path != "-" && !path.ends_with(".gz") {
                    let opened = File::open(path).map_err(|e| InputError {
                        file: path.clone(),
                        line: 0,
                        field: "(input)".into(),
                        reason: format!("cannot open: {e}"),
                    })?;
                    let len = opened.metadata().map(|m| m.len()).unwrap_or(0);
                    let shared = Arc::new(opened);
                    let mut start = 0;
                    while start < len {
                        let end = (start + chunk_bytes as u64).min(len);
                        work_tx
                            .send(Work {
                                seq,
                                file,
                                source: Source::Range {
                                    file: shared.clone(),
                                    start,
                                    end,
                                    len,
                                },
                            })
                            .expect("workers outlive the reader");
                        seq += 1;
                        start = end;
                        while let Ok((s, done)) = done_rx.try_recv() {
                            pending.insert(s, done);
                        }
                        deliver(&mut pending, &mut next_out, &mut sink)?;
                    }
                    continue;
                }
                let mut input = Input::open(path)?;
                on_input(&input);
                let mut offset = 0u64;
                // Line endings of this input handed out so far (for the line of an error).
                let mut lines_read = 0u64;
                let mut carry: Vec<u8> = Vec::new();
                let read_error = |e: std::io::Error| InputError {
                    file: path.clone(),
                    line: 0,
                    field: "(input)".into(),
                    reason: format!("cannot read: {e}"),
                };
                loop {
                    // Fill a block, cut it after its last line ending, and carry the rest
                    // over to the next block.
                    let mut bytes = free_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(chunk_bytes));
                    bytes.clear();
                    bytes.append(&mut carry);
                    let mut at_end = false;
                    while bytes.len() < chunk_bytes {
                        let start = bytes.len();
                        bytes.resize(chunk_bytes, 0);
                        let n = input.reader.read(&mut bytes[start..]).map_err(read_error)?;
                        bytes.truncate(start + n);
                        if n == 0 {
                            at_end = true;
                            break;
                        }
                    }
                    if !at_end {
                        match memchr::memrchr(b'\n', &bytes) {
                            Some(last) => {
                                carry.extend_from_slice(&bytes[last + 1..]);
                                bytes.truncate(last + 1);
                            }
                            // A line longer than a block: read on to its end, up to the
                            // line length limit.
                            None => {
                                let room = (MAX_LINE_BYTES + 1).saturating_sub(bytes.len());
                                (&mut input.reader)
                                    .take(room as u64)
                                    .read_until(b'\n', &mut bytes)
                                    .map_err(read_error)?;
                                if bytes.len() > MAX_LINE_BYTES && bytes.last() != Some(&b'\n') {
                                    return Err(E::from(InputError {
                                        file: path.clone(),
                                        line: lines_read + 1,
                                        field: "(input)".into(),
                                        reason: format!(
                                            "line longer than {} MiB (the limit of one record); split it into records",
                                            MAX_LINE_BYTES >> 20
                                        ),
                                    }));
                                }
                            }
                        }
                    }
                    if bytes.is_empty() {
                        break;
                    }
                    lines_read += memchr::memchr_iter(b'\n', &bytes).count() as u64;
                    let len = bytes.len() as u64;
                    work_tx
                        .send(Work {
                            seq,
                            file,
                            source: Source::Bytes { bytes, offset },
                        })
                        .expect("workers outlive the reader");
                    seq += 1;
                    offset += len;
                    while let Ok((s, done)) = done_rx.try_recv() {
                        pending.insert(s, done);
                    }
                    deliver(&mut pending, &mut next_out, &mut sink)?;
                }
            }
            Ok(())
        })();
        drop(work_tx);
        if result.is_err() {
            // Let the workers finish what they hold; their results are dropped.
            while done_rx.recv().is_ok() {}
            return result;
        }
        while next_out < seq {
            let (s, done) = done_rx.recv().expect("a worker delivers every chunk");
            pending.insert(s, done);
            deliver(&mut pending, &mut next_out, &mut sink)?;
        }
        Ok(())
    })
}
