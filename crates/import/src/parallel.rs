//! Parsing on all cores with results in input order: the reading thread cuts the input into
//! chunks of whole lines, worker threads parse them, and the caller sees the chunks in order.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::sync::mpsc;

use servicemeter_core::Conversation;

use crate::{FieldError, Input, InputError, parse_record};

/// Bytes per chunk handed to a worker (whole lines; a longer line makes a longer chunk).
const CHUNK_BYTES: usize = 2 << 20;

/// One non-blank line as a worker sees it.
#[derive(Debug)]
pub struct LineInput<'a> {
    /// Index of the file in the list given.
    pub file: usize,
    /// 1-based line number.
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

struct Work {
    seq: u64,
    file: usize,
    first_line: u64,
    offset: u64,
    bytes: Vec<u8>,
}

/// The non-blank lines of a chunk, parsed one by one.
struct Lines<'a> {
    work: &'a Work,
    rest: &'a [u8],
    line: u64,
    offset: u64,
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
            let this_offset = self.offset;
            let this_line = self.line;
            self.offset += raw.len() as u64;
            self.line += 1;
            let trimmed = raw
                .strip_suffix(b"\n")
                .map(|r| r.strip_suffix(b"\r").unwrap_or(r))
                .unwrap_or(raw);
            if trimmed.iter().all(|b| b.is_ascii_whitespace()) {
                continue;
            }
            let text = std::str::from_utf8(trimmed).map_err(|e| FieldError {
                field: "(input)".into(),
                reason: format!("line is not UTF-8 text: {e}"),
            });
            return Some(LineInput {
                file: self.work.file,
                line: this_line,
                offset: this_offset,
                text,
            });
        }
    }
}

fn parse_chunk<U>(
    work: &Work,
    per_chunk: &(impl Fn(&mut dyn Iterator<Item = LineInput>) -> U + Sync),
) -> U {
    let mut lines = Lines {
        work,
        rest: &work.bytes,
        line: work.first_line,
        offset: work.offset,
    };
    per_chunk(&mut lines)
}

/// Reads `paths` in order, parses their lines on `threads` workers (the lines of each chunk
/// go through `per_chunk` on the worker), and calls `sink` with every chunk's result in input
/// order. `on_input` sees each input once it is open. Stops at the first error of `sink`.
pub fn parse_parallel<U, E>(
    paths: &[String],
    threads: usize,
    per_chunk: impl Fn(&mut dyn Iterator<Item = LineInput>) -> U + Sync,
    mut on_input: impl FnMut(&Input),
    mut sink: impl FnMut(U) -> Result<(), E>,
) -> Result<(), E>
where
    U: Send,
    E: From<InputError>,
{
    let threads = threads.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<Work>(threads * 2);
    let work_rx = std::sync::Mutex::new(work_rx);
    let (free_tx, free_rx) = mpsc::channel::<Vec<u8>>();
    std::thread::scope(|scope| {
        let (done_tx, done_rx) = mpsc::channel::<(u64, U)>();
        for _ in 0..threads {
            let done_tx = done_tx.clone();
            let free_tx = free_tx.clone();
            let work_rx = &work_rx;
            let per_chunk = &per_chunk;
            scope.spawn(move || {
                loop {
                    let next = work_rx.lock().expect("work queue").recv();
                    let Ok(work) = next else { break };
                    let result = parse_chunk(&work, per_chunk);
                    // Hand the buffer back for reuse: fresh 2 MiB buffers cost page faults.
                    let _ = free_tx.send(work.bytes);
                    if done_tx.send((work.seq, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);

        let mut pending: BTreeMap<u64, U> = BTreeMap::new();
        let mut next_out = 0u64;
        let deliver = |pending: &mut BTreeMap<u64, U>,
                       next_out: &mut u64,
                       sink: &mut dyn FnMut(U) -> Result<(), E>|
         -> Result<(), E> {
            while let Some(chunk) = pending.remove(next_out) {
                *next_out += 1;
                sink(chunk)?;
            }
            Ok(())
        };

        let mut seq = 0u64;
        let result = (|| -> Result<(), E> {
            for (file, path) in paths.iter().enumerate() {
                let mut input = Input::open(path)?;
                on_input(&input);
                let mut line = 1u64;
                let mut offset = 0u64;
                let mut carry: Vec<u8> = Vec::new();
                let read_error = |line: u64, e: std::io::Error| InputError {
                    file: path.clone(),
                    line,
                    field: "(input)".into(),
                    reason: format!("cannot read: {e}"),
                };
                loop {
                    // Fill a block, cut it after its last line ending, and carry the rest
                    // over to the next block.
                    let mut bytes = free_rx
                        .try_recv()
                        .unwrap_or_else(|_| Vec::with_capacity(CHUNK_BYTES));
                    bytes.clear();
                    bytes.append(&mut carry);
                    let mut at_end = false;
                    while bytes.len() < CHUNK_BYTES {
                        let start = bytes.len();
                        bytes.resize(CHUNK_BYTES, 0);
                        let n = input
                            .reader
                            .read(&mut bytes[start..])
                            .map_err(|e| read_error(line, e))?;
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
                            // A line longer than a block: read on to its end.
                            None => {
                                input
                                    .reader
                                    .read_until(b'\n', &mut bytes)
                                    .map_err(|e| read_error(line, e))?;
                            }
                        }
                    }
                    if bytes.is_empty() {
                        break;
                    }
                    let lines = memchr::memchr_iter(b'\n', &bytes).count() as u64
                        + u64::from(bytes.last() != Some(&b'\n'));
                    let len = bytes.len() as u64;
                    work_tx
                        .send(Work {
                            seq,
                            file,
                            first_line: line,
                            offset,
                            bytes,
                        })
                        .expect("workers outlive the reader");
                    seq += 1;
                    line += lines;
                    offset += len;
                    while let Ok((s, chunk)) = done_rx.try_recv() {
                        pending.insert(s, chunk);
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
            let (s, chunk) = done_rx.recv().expect("a worker delivers every chunk");
            pending.insert(s, chunk);
            deliver(&mut pending, &mut next_out, &mut sink)?;
        }
        Ok(())
    })
}
