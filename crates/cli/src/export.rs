//! `feeledger export`: hledger, CSV and JSON.

use anyhow::{bail, Result};
use feeledger_store::Store;
use std::path::Path;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Hledger,
    Csv,
    Json,
}

pub fn run(_store: &Store, _format: ExportFormat, _out: Option<&Path>) -> Result<()> {
    bail!("export is being written")
}
