//! `feeledger export`: where the export goes. The hledger, CSV and JSON
//! writers are `feeledger-report`'s; a tiles backup is `backup.rs`'s.
//!
//! Output goes to a file (written beside it, then renamed, so a failed
//! export leaves no half-written file) or to standard output. From
//! `--url`, the whole ledger is verified against the log key before
//! anything is written (`feeledger_audit::RemoteLedger`). A tiles backup is
//! made only from a data directory.

use crate::remote_ledger::ReadFrom;
use anyhow::{anyhow, bail, Context, Result};
use feeledger_audit::LedgerView;
use feeledger_report::{write_csv, write_hledger, write_json};
use std::io::{BufWriter, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Hledger,
    Csv,
    Json,
    /// A backup: C2SP tlog-tiles files in the directory `--out`.
    Tiles,
}

/// Reads the ledger from `--data` or `--url` and writes its export. A
/// tiles backup from a URL is refused before anything is fetched.
pub fn run_from(from: ReadFrom, format: ExportFormat, out: Option<&Path>) -> Result<()> {
    if matches!(format, ExportFormat::Tiles) && from.is_url() {
        bail!("{TILES_NEED_DATA}");
    }
    run(&*from.open()?, format, out)
}

/// Why a tiles backup cannot be made from a URL.
const TILES_NEED_DATA: &str = "--format tiles needs --data DIR: a backup is made from the data directory; with only a URL, use --format json, csv or hledger";

/// Writes the export of `store` to `out`, or to standard output.
pub fn run(store: &dyn LedgerView, format: ExportFormat, out: Option<&Path>) -> Result<()> {
    if let ExportFormat::Tiles = format {
        let out = out.context("--format tiles needs --out DIR, a new directory for the backup")?;
        let store = store.store().context(TILES_NEED_DATA)?;
        return crate::backup::export_tiles(store, out);
    }
    let write = |w: &mut dyn Write| -> Result<()> {
        match format {
            ExportFormat::Hledger => write_hledger(store, w)?,
            ExportFormat::Csv => write_csv(store, w)?,
            ExportFormat::Json => write_json(store, w)?,
            ExportFormat::Tiles => unreachable!("handled above"),
        }
        Ok(())
    };
    match out {
        None => {
            let mut w = BufWriter::new(std::io::stdout().lock());
            write(&mut w)?;
            w.flush().context("writing to standard output")?;
            Ok(())
        }
        Some(path) => write_file(path, write),
    }
}

/// Writes `path.partial`, then renames it over `path`.
fn write_file(path: &Path, write: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let result = (|| -> Result<()> {
        let file = std::fs::File::create(&partial)
            .with_context(|| format!("cannot create {}", partial.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        let file = w
            .into_inner()
            .map_err(|e| anyhow!("cannot write {}: {}", partial.display(), e.error()))?;
        file.sync_all()
            .with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, path)
            .with_context(|| format!("cannot rename {} to {}", partial.display(), path.display()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result.with_context(|| format!("export to {} failed", path.display()))
}
