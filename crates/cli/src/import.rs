//! `servicemeter import`: streams files through the import pipeline with a progress bar and,
//! with --skip-invalid, a rejects file.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use servicemeter_core::Calendars;
use servicemeter_import::{Input, InputError};
use servicemeter_store::{ImportRun, ImportTotals, SqliteStore, Store, WorkspaceId};

/// Writes rejected records, creating the file at the first reject.
struct Rejects<'p> {
    path: &'p Path,
    writer: Option<BufWriter<File>>,
}

impl Rejects<'_> {
    fn write(&mut self, error: &InputError, line_text: &str) -> Result<()> {
        if self.writer.is_none() {
            let file = File::create(self.path)
                .with_context(|| format!("cannot create rejects file {}", self.path.display()))?;
            self.writer = Some(BufWriter::new(file));
        }
        let writer = self.writer.as_mut().expect("just created");
        let record = serde_json::json!({
            "file": error.file,
            "line": error.line,
            "field": error.field,
            "reason": error.reason,
            "record": line_text,
        });
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

/// Imports files into a workspace; all or nothing unless `skip_invalid`.
pub async fn import_files(
    store: &SqliteStore,
    workspace: WorkspaceId,
    calendars: &Calendars,
    files: &[String],
    skip_invalid: bool,
    rejects_path: &Path,
    now: i64,
) -> Result<ImportTotals> {
    let session = store.begin_import(workspace).await?;
    let mut run = ImportRun::new(session, calendars, now);
    let mut rejects = Rejects {
        path: rejects_path,
        writer: None,
    };
    for file in files {
        let mut input = Input::open(file)?;
        let bar = progress_bar(&input);
        let counter = input.progress_counter();
        let mut since_tick = 0u32;
        while let Some(record) = input.next_record()? {
            match record.result {
                Ok(conversation) => run.add(conversation).await?,
                Err(field_error) => {
                    let error = InputError::at(&input, record.line, field_error);
                    if !skip_invalid {
                        return Err(anyhow::Error::new(error).context(
                            "import stopped; nothing was stored (use --skip-invalid to store the valid records)",
                        ));
                    }
                    rejects.write(&error, input.last_line())?;
                    run.reject();
                }
            }
            since_tick += 1;
            if since_tick == 4096 {
                since_tick = 0;
                if let Some(bar) = &bar {
                    bar.set_position(counter.load(Ordering::Relaxed));
                }
            }
        }
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
    }
    rejects.finish()?;
    let sources = files.join(", ");
    Ok(run.finish(sources).await?)
}
