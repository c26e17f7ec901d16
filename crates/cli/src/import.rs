//! `servicemeter import`: parses files on all cores and streams the records, in input order,
//! through the import pipeline, with a progress bar and, with --skip-invalid, a rejects file.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use servicemeter_core::{Calendars, Conversation};
use servicemeter_import::sources::{Source, SourceError, SourceOptions, translate};
use servicemeter_import::{FieldError, FileAccess, Input, InputError, LineInput, parse_parallel};
use servicemeter_store::{ImportRun, ImportTotals, Storage, Store, WorkspaceId};

/// Writes rejected records, creating the file at the first reject.
struct Rejects<'p> {
    path: &'p Path,
    writer: Option<BufWriter<File>>,
}

impl Rejects<'_> {
    fn write(&mut self, error: &InputError, line_text: &str) -> Result<()> {
        self.write_value(serde_json::json!({
            "file": error.file,
            "line": error.line,
            "field": error.field,
            "reason": error.reason,
            "record": line_text,
        }))
    }

    fn write_source(&mut self, error: &SourceError, record: &serde_json::Value) -> Result<()> {
        self.write_value(serde_json::json!({
            "file": error.file,
            "place": error.place,
            "field": error.field,
            "reason": error.reason,
            "record": record,
        }))
    }

    fn write_value(&mut self, record: serde_json::Value) -> Result<()> {
        if self.writer.is_none() {
            let file = File::create(self.path)
                .with_context(|| format!("cannot create rejects file {}", self.path.display()))?;
            self.writer = Some(BufWriter::new(file));
        }
        let writer = self.writer.as_mut().expect("just created");
        serde_json::to_writer(&mut *writer, &record)?;
        writer.write_all(b"\n")?;
        Ok(())
    }

    fn finish(self) -> Result<()> {
        if let Some(mut w) = self.writer {
            w.flush()?;
        }
        Ok(())
    }
}

fn progress_bar(input: &Input) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match input.size() {
        Some(size) => ProgressBar::new(size).with_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg} {spinner} {bytes} {bytes_per_sec}")
                .expect("valid template"),
        ),
    };
    bar.set_message(input.name().to_string());
    Some(bar)
}

/// One parsed line on its way to the store.
struct ParsedLine {
    file: usize,
    line: u64,
    result: Result<Conversation, (FieldError, String)>,
}

/// Why the parsing thread stopped early.
enum ParseStop {
    Input(InputError),
    /// The importing side stopped listening (it hit an error of its own).
    Closed,
}

impl From<InputError> for ParseStop {
    fn from(e: InputError) -> ParseStop {
        ParseStop::Input(e)
    }
}

fn parse_lines(lines: &mut dyn Iterator<Item = LineInput>) -> Vec<ParsedLine> {
    lines
        .map(|l| ParsedLine {
            file: l.file,
            line: l.line,
            result: l.parse().map_err(|e| (e, l.text_or_empty().to_string())),
        })
        .collect()
}

/// Imports files into a workspace; all or nothing unless `skip_invalid`.
pub async fn import_files(
    store: &Storage,
    workspace: WorkspaceId,
    calendars: &Arc<Calendars>,
    files: &[String],
    skip_invalid: bool,
    rejects_path: &Path,
    now: i64,
) -> Result<ImportTotals> {
    let session = store.begin_import(workspace).await?;
    let mut run = ImportRun::new(session, calendars.clone(), now);
    let mut rejects = Rejects {
        path: rejects_path,
        writer: None,
    };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<ParsedLine>>(4);
    let paths = files.to_vec();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parser = std::thread::spawn(move || {
        let progress: RefCell<Option<(ProgressBar, Arc<AtomicU64>)>> = RefCell::new(None);
        let finish_bar = || {
            if let Some((bar, _)) = progress.borrow_mut().take() {
                bar.finish_and_clear();
            }
        };
        let result = parse_parallel(
            &paths,
            FileAccess::Stream,
            threads,
            parse_lines,
            |input| {
                finish_bar();
                *progress.borrow_mut() =
                    progress_bar(input).map(|bar| (bar, input.progress_counter()));
            },
            |mut chunk: Vec<ParsedLine>, lines_before| {
                for parsed in &mut chunk {
                    parsed.line += lines_before;
                }
                if let Some((bar, counter)) = progress.borrow().as_ref() {
                    bar.set_position(counter.load(Ordering::Relaxed));
                }
                sender.blocking_send(chunk).map_err(|_| ParseStop::Closed)
            },
        );
        finish_bar();
        result
    });

    // Files that gave at least one good record, and files already hinted at.
    let mut good_files = std::collections::HashSet::new();
    let mut hinted = std::collections::HashSet::new();
    let outcome = async {
        while let Some(chunk) = receiver.recv().await {
            for parsed in chunk {
                match parsed.result {
                    Ok(conversation) => {
                        good_files.insert(parsed.file);
                        run.add(conversation).await?
                    }
                    Err((field_error, text)) => {
                        let error = InputError {
                            file: files[parsed.file].clone(),
                            line: parsed.line,
                            field: field_error.field,
                            reason: field_error.reason,
                        };
                        // Nothing of this file read yet: perhaps it is not JSON Lines at all.
                        let hint = (!good_files.contains(&parsed.file)
                            && hinted.insert(parsed.file))
                        .then(|| source_hint(&files[parsed.file]))
                        .flatten();
                        if !skip_invalid {
                            let error = anyhow::Error::new(error).context(
                                "import stopped; nothing was stored (use --skip-invalid to store the valid records)",
                            );
                            return Err(match hint {
                                Some(hint) => error.context(hint),
                                None => error,
                            });
                        }
                        if let Some(hint) = hint {
                            eprintln!("note: {hint}");
                        }
                        rejects.write(&error, &text)?;
                        run.reject();
                    }
                }
            }
        }
        Ok(())
    }
    .await;
    drop(receiver);
    let parsed = parser.join().expect("the parsing thread does not panic");
    outcome?;
    match parsed {
        Ok(()) | Err(ParseStop::Closed) => {}
        Err(ParseStop::Input(e)) => {
            return Err(anyhow::Error::new(e).context("import stopped; nothing was stored"));
        }
    }
    rejects.finish()?;
    let sources = files.join(", ");
    Ok(run.finish(sources).await?)
}

/// For a file that does not read as canonical records: which `--source` it looks like.
fn source_hint(file: &str) -> Option<String> {
    if file == "-" {
        return None;
    }
    let (source, why) = servicemeter_import::sniff::likely_source(Path::new(file))?;
    Some(if source == "jsonl" {
        format!("{file} is not JSON Lines: {why}")
    } else {
        format!("{file} is not servicemeter's JSON Lines: {why}; import it with --source {source}")
    })
}

/// Imports the exports of a source (translated into canonical records, then parsed and stored
/// like any import); all or nothing unless `skip_invalid`.
#[allow(clippy::too_many_arguments)]
pub async fn import_source(
    store: &Storage,
    workspace: WorkspaceId,
    calendars: &Arc<Calendars>,
    source: Source,
    paths: &[String],
    options: &SourceOptions,
    skip_invalid: bool,
    rejects_path: &Path,
    now: i64,
) -> Result<ImportTotals> {
    let paths: Vec<std::path::PathBuf> = paths.iter().map(std::path::PathBuf::from).collect();
    let translation = translate(source, &paths, options)
        .map_err(|e| anyhow::Error::new(e).context("import stopped; nothing was stored"))?;
    if let (Some(first), false) = (translation.failures.first(), skip_invalid) {
        return Err(anyhow::Error::new(first.clone()).context(
            "import stopped; nothing was stored (use --skip-invalid to store the valid records)",
        ));
    }
    // What the export lacked but could be read around (an author who is not in the users
    // pages, say): said once each, never a reason to stop.
    for warning in &translation.warnings {
        eprintln!("warning: {warning}");
    }
    let translated = translation.records;
    let bar = std::io::stderr().is_terminal().then(|| {
        ProgressBar::new(translated.len() as u64).with_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} records eta {eta}")
                .expect("valid template")
                .progress_chars("=> "),
        )
    });
    let session = store.begin_import(workspace).await?;
    let mut run = ImportRun::new(session, calendars.clone(), now);
    let mut rejects = Rejects {
        path: rejects_path,
        writer: None,
    };
    for failure in &translation.failures {
        rejects.write_source(failure, &serde_json::Value::Null)?;
        run.reject();
    }
    // Parsed first, so that a conversation with one bad record is left out whole (not stored
    // half) when invalid records are skipped.
    let parsed: Vec<_> = translated.iter().map(|t| t.parse()).collect();
    let conversation_of = |t: &servicemeter_import::sources::Translated| {
        t.record["conversation"]
            .as_str()
            .or(t.record["id"].as_str())
            .map(str::to_string)
    };
    let mut refused = std::collections::HashSet::new();
    for (t, result) in translated.iter().zip(&parsed) {
        if let Err(error) = result {
            if !skip_invalid {
                return Err(anyhow::Error::new(error.clone()).context(
                    "import stopped; nothing was stored (use --skip-invalid to store the valid records)",
                ));
            }
            rejects.write_source(error, &t.record)?;
            run.reject();
            refused.extend(conversation_of(t));
        }
    }
    for (i, (t, result)) in translated.iter().zip(parsed).enumerate() {
        if let Ok(record) = result
            && !refused.contains(&record.id)
        {
            run.add(record).await?;
        }
        if let Some(bar) = &bar
            && i % 1000 == 0
        {
            bar.set_position(i as u64);
        }
        let _ = t;
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    rejects.finish()?;
    let sources: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    Ok(run.finish(sources.join(", ")).await?)
}
