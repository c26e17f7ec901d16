//! Backups of the embedded store: a consistent copy while it is in use (`VACUUM INTO`), a check
//! that a file is such a copy, and putting one in place. Only ever about one SQLite file (so the
//! whole-file counts here never touch a distributed table); PostgreSQL has pg_dump.

use std::path::Path;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

use crate::StoreError;
use crate::sql::{DATABASE_FILE, create_private};

/// Makes a consistent copy of the embedded store in a new file (`VACUUM INTO`: one read
/// transaction, so a server may go on writing meanwhile). The copy is readable by its owner
/// only.
pub(crate) async fn backup_sqlite(pool: &SqlitePool, to: &Path) -> Result<(), StoreError> {
    if to.exists() {
        return Err(StoreError::Invalid(format!(
            "{} exists already; name a new file",
            to.display()
        )));
    }
    create_private(to).map_err(|e| StoreError::DataDir {
        path: to.display().to_string(),
        reason: e.to_string(),
    })?;
    let done = sqlx::query("VACUUM INTO $1")
        .bind(to.display().to_string())
        .execute(pool)
        .await;
    if let Err(e) = done {
        let _ = std::fs::remove_file(to);
        return Err(e.into());
    }
    Ok(())
}

/// What a backup file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSummary {
    pub workspaces: u64,
    pub conversations: u64,
}

/// Checks that `file` is a backup of the embedded store this build can open: an SQLite database
/// with servicemeter's migrations, none newer than this build's.
pub async fn check_backup(file: &Path) -> Result<BackupSummary, StoreError> {
    let not_a_backup = |reason: String| {
        StoreError::Invalid(format!(
            "{} is not a servicemeter backup: {reason}",
            file.display()
        ))
    };
    if !file.is_file() {
        return Err(not_a_backup("there is no such file".into()));
    }
    let options = SqliteConnectOptions::new()
        .filename(file)
        .read_only(true)
        .immutable(true);
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect_with(&options)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    let ours = sqlx::migrate!("./migrations/sqlite")
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0);
    match newest {
        None => return Err(not_a_backup("it holds no migrations".into())),
        Some(v) if v > ours => {
            return Err(not_a_backup(format!(
                "it was made by a newer servicemeter (schema {v}, this build knows up to {ours})"
            )));
        }
        Some(_) => {}
    }
    let workspaces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM workspaces")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    let conversations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversations")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not_a_backup(e.to_string()))?;
    sqlx::Connection::close(conn).await.ok();
    Ok(BackupSummary {
        workspaces: workspaces as u64,
        conversations: conversations as u64,
    })
}

/// Puts a backup in place as the embedded store of `data_dir` (checked first; an existing store
/// is replaced only when `replace`). No server may be running on that directory.
pub async fn restore_sqlite(
    file: &Path,
    data_dir: &Path,
    replace: bool,
) -> Result<BackupSummary, StoreError> {
    let summary = check_backup(file).await?;
    let io = |path: &Path, e: std::io::Error| StoreError::DataDir {
        path: path.display().to_string(),
        reason: e.to_string(),
    };
    std::fs::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
    let target = data_dir.join(DATABASE_FILE);
    if target.exists() && !replace {
        return Err(StoreError::Invalid(format!(
            "{} holds a store already; give --replace to overwrite it with the backup",
            data_dir.display()
        )));
    }
    // Copied beside the store first, then renamed over it: a failure leaves the old store.
    let incoming = data_dir.join(format!("{DATABASE_FILE}.restoring"));
    let _ = std::fs::remove_file(&incoming);
    create_private(&incoming).map_err(|e| io(&incoming, e))?;
    let copied = (|| {
        let mut from = std::fs::File::open(file)?;
        let mut to = std::fs::OpenOptions::new().write(true).open(&incoming)?;
        std::io::copy(&mut from, &mut to)?;
        to.sync_all()
    })();
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&incoming);
        return Err(io(&incoming, e));
    }
    for leftover in ["-wal", "-shm"] {
        let path = data_dir.join(format!("{DATABASE_FILE}{leftover}"));
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| io(&path, e))?;
        }
    }
    std::fs::rename(&incoming, &target).map_err(|e| io(&target, e))?;
    Ok(summary)
}
