//! `feeledger export --format tiles`, `feeledger restore` and `feeledger
//! rebuild`: reading the key files and the data directory's layout, calling
//! `feeledger-backup` (which does the work and documents the backup
//! format and the recovery path), and printing what it did.

use anyhow::Result;
use feeledger_audit::tiles::{TileSource, WITNESSES_FILE};
use feeledger_backup::{RestoreTarget, Step};
use feeledger_ledgerdir::{DataDir, KeyFile, KeyFileIo as _};
use feeledger_store::Store;
use std::path::Path;

/// `feeledger export --format tiles --out DIR`: writes a backup into `out`,
/// which must not exist (or be empty).
pub fn export_tiles(store: &Store, out: &Path) -> Result<()> {
    let exported = feeledger_backup::export_tiles(store, out)?;
    println!(
        "wrote a backup of {} entries to {}: {} tile files",
        exported.size,
        out.display(),
        exported.files
    );
    println!("checkpoint: size {} root {}", exported.size, exported.root);
    println!("log key:    {}", exported.log_key);
    for bad in &exported.dropped {
        println!(
            "dropped:    {bad}; not copied into the backup (`feeledger verify` names it in the store; `feeledger rebuild` drops it there)"
        );
    }
    if let Some(damage) = exported.store_damage {
        eprintln!(
            "warning: {damage}; the backup holds the hashes of the entries (which give the signed root), but the store is damaged: run `feeledger verify --data DIR` and `feeledger rebuild --data DIR`"
        );
    }
    Ok(())
}

/// `feeledger restore --from BACKUP --data NEWDIR --log-key KEYFILE`:
/// BACKUP is a directory, or `s3://BUCKET/PREFIX`, a bucket the server's
/// mirror (`serve --mirror`) writes, read with the usual `AWS_*`
/// environment variables.
pub fn restore(from: &str, data: &Path, key_path: &Path) -> Result<()> {
    let key = KeyFile::read(key_path)?;
    let vkey = key.verifier_key();
    let dd = DataDir::new(data);
    let bucket;
    let source = if feeledger_mirror::is_bucket_url(from) {
        bucket = feeledger_mirror::BucketFiles::open(from)?;
        TileSource::Files(&bucket)
    } else {
        TileSource::Dir(Path::new(from))
    };
    let target = RestoreTarget {
        from: source,
        data,
        store_dir: &dd.store_path(),
        key_file: &dd.log_key_path(),
        key_given: key_path,
        signer: &key.signer,
    };
    let restored = feeledger_backup::restore(&target, |path| Ok(key.write_new(path)?))?;
    let size = restored.checkpoint.size;
    let lines = &restored.lines;
    println!(
        "restored {size} entries from {from} into {}",
        data.display()
    );
    println!("root:       {}", restored.root);
    println!(
        "checkpoint: size {size}, the backup's own; cosigned by: {}",
        if lines.verified.is_empty() {
            "nobody yet".to_string()
        } else {
            lines.verified.join(", ")
        }
    );
    for u in &lines.unverified {
        println!(
            "unverified: a cosignature line by {} (key id {}), neither a role key at size {size} nor a witness in {WITNESSES_FILE}; kept, not counted",
            u.name, u.key_id
        );
    }
    if let Some(bad) = lines.failure(size) {
        println!(
            "WARNING:    {bad}. The backup's checkpoint is kept as it is, so `feeledger verify` fails on it; `feeledger rebuild --data {}` drops the bad line(s)",
            data.display()
        );
    }
    println!(
        "log key:    copied to {} (mode 0600)",
        dd.log_key_path().display()
    );
    println!(
        "check it:   feeledger verify --data {} --log-key '{vkey}'",
        data.display()
    );
    Ok(())
}

/// `feeledger rebuild --data DIR`: the recovery path of `feeledger-backup`.
pub fn rebuild(data: &Path) -> Result<()> {
    let dd = DataDir::new(data);
    let key = dd.log_key()?;
    // One bar per audit: the old store's, then the rebuilt one's.
    let mut bar: Option<crate::audit::Bar> = None;
    let mut step = |s: Step| match s {
        Step::Audit(p) => bar.get_or_insert_with(crate::audit::Bar::styled).update(p),
        Step::AuditDone => {
            if let Some(b) = bar.take() {
                b.finish();
            }
        }
    };
    let Some(damage) = feeledger_backup::find_damage(data, &dd.store_path(), &mut step)? else {
        // The full audit passed: there is nothing a rebuild would repair,
        // and no copy of a healthy store to keep.
        println!("the store is healthy; nothing to rebuild (it passes the full audit `feeledger verify --data` runs)");
        return Ok(());
    };
    println!("damage found: {damage} (the first found; a rebuild replaces all derived data)");
    let stamp = crate::inspect::format_time_ms(crate::clock::now_ms()).replace(':', "");
    let outcome =
        feeledger_backup::rebuild(data, &dd.store_path(), &key.signer, &stamp, &mut step)?;
    let store = dd.open()?;
    println!(
        "rebuilt from {} entries: Merkle node tiles, indexes, totals, body ids, reversal links and the state snapshot",
        store.size()
    );
    println!("root:       {}", store.root());
    println!("checkpoint: {}", outcome.checkpoint);
    if outcome.cosigned > 0 {
        println!(
            "kept:       {} cosigned checkpoint(s) with their cosignatures",
            outcome.cosigned
        );
    }
    for note in &outcome.notes {
        println!("note:       {note}");
    }
    println!("verified:   the rebuilt store passes the audit");
    println!(
        "the old store is kept in {}; remove it when you are satisfied",
        outcome.damaged.display()
    );
    Ok(())
}
