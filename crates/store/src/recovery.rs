//! Mending what sled 0.34 cannot recover from by itself after a crash.
//!
//! sled writes a snapshot of its page table as `snap.<lsn>.generating`,
//! syncs it, then renames it to `snap.<lsn>`. When opening, it takes the
//! highest-sorting file that starts with `snap.` — including a
//! `.generating` one. A process killed between the create and the rename
//! leaves an empty or partial `.generating` file that sorts last, and every
//! later open fails with "Read corrupted data" (sled issues #1387, #1527).
//! The kill test (`sigkill_during_appends_loses_nothing_acknowledged`) hit
//! this (how often: docs/performance.md, "Figures cited from code").
//!
//! A `.generating` file is by construction unfinished: sled renames it
//! before using it. Removing it leaves sled the previous finished snapshot,
//! or none, and sled replays its log from there, as it does after any
//! crash. Nothing the log holds is lost, so nothing acknowledged is lost.
//!
//! Only a process holding the directory's lock may remove one, because a
//! running sled could be writing it. sled locks its `db` file through fs2
//! (`flock`; `LockFileEx` on Windows) on Linux, macOS and Windows only;
//! this takes the same lock, removes, and releases it before sled opens.
//! If another process holds it, nothing is touched and the open reports
//! the lock as before. Where sled takes no lock, a live sled cannot be
//! told apart, so nothing is removed there.

use std::fs;
use std::io;
use std::path::Path;

use fs2::FileExt;

const SNAPSHOT_PREFIX: &str = "snap.";
const UNFINISHED_SUFFIX: &str = ".generating";

/// Whether a live sled (of another process, or one not yet shut down in
/// this one) holds the lock of the sled directory `dir`. Told by the kind
/// of error the lock call gives, which is what fs2 documents for a lock
/// held elsewhere; sled's own error for it keeps only a text.
///
/// # Errors
/// If the lock file exists but cannot be opened or locked for another
/// reason.
pub(crate) fn lock_is_held(dir: &Path) -> io::Result<bool> {
    if !cfg!(any(windows, target_os = "linux", target_os = "macos")) {
        return Ok(false);
    }
    let lock_file = match fs::OpenOptions::new().read(true).open(dir.join("db")) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    match lock_file.try_lock_exclusive() {
        // Dropping the file releases the lock at once.
        Ok(()) => Ok(false),
        Err(e) if e.kind() == fs2::lock_contended_error().kind() => Ok(true),
        Err(e) => Err(e),
    }
}

/// Removes unfinished sled snapshots from `dir`, if no process holds its
/// lock.
///
/// # Errors
/// If the directory cannot be read or a file cannot be removed.
pub(crate) fn remove_unfinished_snapshots(dir: &Path) -> io::Result<()> {
    if !cfg!(any(windows, target_os = "linux", target_os = "macos")) {
        return Ok(());
    }
    let lock_path = dir.join("db");
    let lock_file = match fs::OpenOptions::new().read(true).open(&lock_path) {
        Ok(file) => file,
        // No sled database here yet: nothing to mend.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if lock_file.try_lock_exclusive().is_err() {
        // A live sled owns the directory; its snapshot may be in progress.
        // sled's open then fails, and `lock_is_held` tells why.
        return Ok(());
    }
    for dir_entry in fs::read_dir(dir)? {
        let path = dir_entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with(SNAPSHOT_PREFIX) && name.ends_with(UNFINISHED_SUFFIX) {
            fs::remove_file(&path).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "removing the unfinished sled snapshot {}: {e}",
                        path.display()
                    ),
                )
            })?;
        }
    }
    // Dropping the file releases the lock for sled.
    drop(lock_file);
    Ok(())
}
