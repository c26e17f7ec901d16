//! The configuration file beside an embedded store: a copy of each workspace's stored
//! configuration that people can read and edit. The store is the one source of truth; the file
//! is rewritten whenever the stored configuration changes (a settings page, `config apply`,
//! `--config`), and a hand-edited file is applied only when asked.

use std::io::Write;
use std::path::{Path, PathBuf};

use servicemeter_core::{Calendars, WorkspaceConfig};

use crate::{Store, StoreError, Workspace};

/// The name of the configuration file of the `default` workspace.
pub const DEFAULT_FILE: &str = "servicemeter.toml";

/// The configuration file of a workspace in a data directory: `servicemeter.toml` for the
/// workspace `default`, `servicemeter.NAME.toml` for any other.
pub fn path_of(dir: &Path, workspace: &str) -> PathBuf {
    if workspace == "default" {
        dir.join(DEFAULT_FILE)
    } else {
        dir.join(format!("servicemeter.{workspace}.toml"))
    }
}

/// Writes a workspace's configuration file whole or not at all (a temporary file renamed over
/// the old one), unless it already holds exactly this text.
pub fn write(dir: &Path, workspace: &str, text: &str) -> std::io::Result<()> {
    let path = path_of(dir, workspace);
    if std::fs::read_to_string(&path).is_ok_and(|current| current == text) {
        return Ok(());
    }
    // A temporary file of this write's own (two saves at once never share one), renamed over
    // the old file in one step.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let temporary = path.with_extension(format!(
        "toml.{}.{}.new",
        std::process::id(),
        WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// Why a configuration was not saved.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The text is not a valid configuration (the message names the key).
    #[error("{0}")]
    Invalid(servicemeter_core::config::ConfigError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Stored, but the file beside the store could not be rewritten.
    #[error("the configuration is stored, but {path} could not be rewritten: {reason}")]
    File { path: String, reason: String },
}

/// What saving a configuration did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Conversations whose facts were recomputed (0 when the text was already stored).
    pub recomputed: u64,
    /// Whether the stored text changed.
    pub changed: bool,
}

/// Validates a configuration, stores it (recomputing every conversation's facts when it
/// differs from the stored one) and rewrites the file beside the store when there is one.
/// This is the one way a configuration is saved, from the command line and the web alike.
pub async fn save<S: Store>(
    store: &S,
    workspace: &Workspace,
    text: &str,
    mirror_dir: Option<&Path>,
) -> Result<Saved, SaveError> {
    let config = WorkspaceConfig::from_toml(text).map_err(SaveError::Invalid)?;
    let changed = workspace.config_toml.as_deref() != Some(text);
    let recomputed = if changed {
        store
            .replace_config(
                workspace.id,
                text,
                &std::sync::Arc::new(Calendars::new(config)),
            )
            .await?
    } else {
        0
    };
    mirror(mirror_dir, workspace, text)?;
    Ok(Saved {
        recomputed,
        changed,
    })
}

/// Rewrites the copy of a workspace's configuration in `dir` (when there is one).
fn mirror(dir: Option<&Path>, workspace: &Workspace, text: &str) -> Result<(), SaveError> {
    let Some(dir) = dir else { return Ok(()) };
    write(dir, &workspace.name, text).map_err(|e| SaveError::File {
        path: path_of(dir, &workspace.name).display().to_string(),
        reason: e.to_string(),
    })
}

/// [`save`] for a server: the configuration is stored at once and every conversation's facts are
/// recomputed by a queued [`crate::jobs::RECOMPUTE`] job (the caller wakes its worker), so the
/// answer does not wait for the recompute.
pub async fn save_in_background<S: Store>(
    store: &S,
    workspace: &Workspace,
    text: &str,
    mirror_dir: Option<&Path>,
    now: i64,
) -> Result<Saved, SaveError> {
    use crate::jobs::NewJob;
    WorkspaceConfig::from_toml(text).map_err(SaveError::Invalid)?;
    let changed = workspace.config_toml.as_deref() != Some(text);
    if changed {
        store.store_config(workspace.id, text).await?;
        // One queued recompute is enough: it reads the configuration stored when it runs.
        store
            .enqueue(workspace.id, &NewJob::recompute(now), now)
            .await?;
    }
    mirror(mirror_dir, workspace, text)?;
    Ok(Saved {
        recomputed: 0,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_per_workspace() {
        let dir = Path::new("/data");
        assert_eq!(
            path_of(dir, "default"),
            Path::new("/data/servicemeter.toml")
        );
        assert_eq!(
            path_of(dir, "bakkerij"),
            Path::new("/data/servicemeter.bakkerij.toml")
        );
    }

    #[test]
    fn write_replaces_whole_and_skips_equal_text() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "default", "a = 1\n").unwrap();
        let path = path_of(dir.path(), "default");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 1\n");
        let before = std::fs::metadata(&path).unwrap().modified().unwrap();
        write(dir.path(), "default", "a = 1\n").unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().modified().unwrap(),
            before
        );
        write(dir.path(), "default", "a = 2\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a = 2\n");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("servicemeter.toml")]);
    }
}
