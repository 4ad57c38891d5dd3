//! The few file operations a backup, restore and rebuild share.

use crate::BackupError;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Writes a file and syncs it to disk.
pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| BackupError::Create {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let mut file = std::fs::File::create(path).map_err(|source| BackupError::Create {
        path: path.to_path_buf(),
        source,
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| BackupError::Write {
            path: path.to_path_buf(),
            source,
        })
}

/// Syncs a directory, so that the names in it (a rename) are durable.
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Whether `path` is absent or an empty directory.
pub(crate) fn absent_or_empty(path: &Path) -> Result<bool, BackupError> {
    match std::fs::read_dir(path) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(BackupError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Removes a directory left by an earlier run, if there is one.
pub(crate) fn remove_dir_if_any(path: &Path) -> Result<(), BackupError> {
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(|source| BackupError::Remove {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

pub(crate) fn rename(from: &Path, to: &Path) -> Result<(), BackupError> {
    std::fs::rename(from, to).map_err(|source| BackupError::Rename {
        from: from.to_path_buf(),
        to: to.to_path_buf(),
        source,
    })
}
